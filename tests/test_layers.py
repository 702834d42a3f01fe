"""Layer modules and what the op table cannot express: modules against PyTorch's (forward, gradients, running
statistics, default initialisation, repr), in-place updates, errors, costs in the tracer."""
import copy
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(7)


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, np.float64), requires_grad=grad)


def m64(a, grad=False):
    return mg.tensor(np.asarray(a, np.float64), requires_grad=grad)


def twin(ours, theirs):
    """Make a PyTorch module hold our module's parameters and buffers, in float64 both."""
    ours.double()
    theirs.double()
    state = {k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return ours, theirs


def assert_same_state(ours, theirs, rtol=1e-10):
    mine, want = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(want)
    for k in want:
        np.testing.assert_allclose(mine[k], want[k].numpy(), rtol=rtol, atol=1e-12, err_msg=k)


def check_module(ours, theirs, shape, steps=2, rtol=1e-9):
    """Forward and gradients (input and parameters) of two twin modules on the same inputs, and their state after."""
    for _ in range(steps):
        x = RNG.standard_normal(shape) * 2 + 0.5
        ours_x, theirs_x = m64(x, True), t64(x, True)
        y, want = ours(ours_x), theirs(theirs_x)
        g = RNG.standard_normal(y.shape)
        np.testing.assert_allclose(y.numpy(), want.detach().numpy(), rtol=rtol, atol=1e-10)
        y.backward(mg.tensor(g))
        want.backward(torch.from_numpy(g))
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-7, atol=1e-9)
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=name)
            p.grad, q.grad = None, None


# ---- normalisation ----------------------------------------------------------------------------------------------
NORM_MODULES = [
    ("BatchNorm1d", (3,), {}, (5, 3)),
    ("BatchNorm1d", (3,), {"momentum": None}, (5, 3, 4)),
    ("BatchNorm2d", (3,), {"momentum": 0.3, "affine": False}, (2, 3, 2, 3)),
    ("BatchNorm3d", (2,), {}, (2, 2, 2, 3, 2)),
    ("BatchNorm3d", (2,), {"momentum": None, "bias": False}, (2, 2, 2, 1, 2)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (2, 3, 2, 2)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 5)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "momentum": 0.4}, (2, 3, 2, 3)),
    ("InstanceNorm2d", (3,), {"affine": True}, (3, 2, 3)),  # no batch axis
    ("InstanceNorm3d", (2,), {"affine": True, "bias": False, "track_running_stats": True}, (2, 2, 2, 2, 3)),
    ("InstanceNorm3d", (2,), {"track_running_stats": True, "momentum": None}, (2, 2, 2, 2, 3)),
    ("LayerNorm", (4,), {}, (2, 3, 4)),
    ("LayerNorm", ((3, 4),), {"bias": False, "eps": 1e-3}, (2, 3, 4)),
    ("LayerNorm", ([4],), {"elementwise_affine": False}, (5, 4)),
    ("GroupNorm", (2, 6), {}, (2, 6, 3)),
    ("GroupNorm", (3, 3), {"affine": False, "eps": 1e-3}, (2, 3, 2, 2)),
    ("GroupNorm", (1, 4), {"bias": False}, (3, 4)),
    ("RMSNorm", (4,), {}, (2, 3, 4)),
    ("RMSNorm", ([3, 4],), {"eps": 1e-6, "elementwise_affine": False}, (2, 3, 4)),
    ("LocalResponseNorm", (3,), {"alpha": 0.2, "beta": 0.5, "k": 1.5}, (2, 5, 3)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", NORM_MODULES,
                         ids=[f"{n}-{i}" for i, (n, *_) in enumerate(NORM_MODULES)])
def test_norm_modules_match_pytorch_in_train_and_eval(name, args, kwargs, shape):
    ours, theirs = twin(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs))
    for p in ours.parameters():  # parameters away from their initial values, so that a mix-up shows
        p.data[...] = RNG.standard_normal(p.shape)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    want = repr(theirs).replace(", bias=True", "") if "BatchNorm" in name else repr(theirs)
    assert repr(ours) == want  # (our BatchNorm leaves out PyTorch 2.13's 'bias=True', as earlier releases)
    for mode in (True, False, True):
        ours.train(mode), theirs.train(mode)
        check_module(ours, theirs, shape)
        assert_same_state(ours, theirs)


@pytest.mark.parametrize("name, args, kwargs, shape", NORM_MODULES[:3] + NORM_MODULES[6:8] + NORM_MODULES[12:],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_norm_modules_default_state_and_dtype_are_pytorchs(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert_same_state(ours, theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(p.dtype == np.float32 for p in ours.parameters())
    assert ours(mg.randn(*shape)).dtype == np.float32


def test_batchnorm_cumulative_average_and_untracked_stats_follow_pytorch():
    ours, theirs = twin(nn.BatchNorm1d(2, momentum=None), torch.nn.BatchNorm1d(2, momentum=None))
    xs = [RNG.standard_normal((4, 2)) * (i + 1) for i in range(3)]
    for x in xs:
        ours(m64(x)), theirs(t64(x))
    np.testing.assert_allclose(ours.running_mean.numpy(), np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-12)
    assert_same_state(ours, theirs)
    assert int(ours.num_batches_tracked.item()) == 3
    free = nn.BatchNorm2d(2, track_running_stats=False)
    assert free.running_mean is None and free.num_batches_tracked is None and "running_mean" not in free.state_dict()


def test_instance_norm_updates_running_stats_as_pytorch_and_keeps_them_in_eval():
    rm, rv = m64(RNG.standard_normal(3)), m64(RNG.random(3) + 0.5)
    trm, trv = t64(rm.numpy()), t64(rv.numpy())
    x = RNG.standard_normal((4, 3, 5))
    y = F.instance_norm(m64(x), rm, rv, momentum=0.3)
    want = torch.nn.functional.instance_norm(t64(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)
    y = F.instance_norm(m64(x), rm, rv, use_input_stats=False)
    want = torch.nn.functional.instance_norm(t64(x), trm, trv, use_input_stats=False)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-10)


def test_norm_errors_are_pytorchs_classes_with_clear_messages():
    x = mg.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[3\], expected an input with shape \[\*, 3\]"):
        F.layer_norm(x, (3,))
    with pytest.raises(RuntimeError, match="expected weight to be of the same shape as normalized_shape"):
        F.layer_norm(x, (4,), mg.ones(3))
    with pytest.raises(RuntimeError, match="mixed dtypes"):
        F.layer_norm(x, (4,), mg.ones(4, dtype="float64"))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(x, 2)
    with pytest.raises(RuntimeError, match="a vector of size equal to the number of channels"):
        F.group_norm(x, 3, mg.ones(4))
    with pytest.raises(ValueError, match="num_channels \\(3\\) must be divisible by num_groups \\(2\\)"):
        nn.GroupNorm(2, 3)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(mg.randn(2, 3, 1))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(mg.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="to match num_features \\(3\\), but got: 4"):
        nn.InstanceNorm1d(3, affine=True)(mg.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="num_features is not used because affine=False"):
        nn.InstanceNorm1d(3)(mg.randn(2, 4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm3d\(3\): expected a 5-D input"):
        nn.BatchNorm3d(3)(mg.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="3-D or higher"):
        F.local_response_norm(mg.randn(2, 3), 2)
    with pytest.raises(RuntimeError, match="expected a floating-point input"):
        F.layer_norm(mg.tensor([[1, 2]]), (2,))
    with pytest.raises(IndexError, match="dimension out of range"):
        F.normalize(x, dim=3)
    with pytest.raises(TypeError, match="normalized_shape must be an int or a tuple"):
        F.rms_norm(x, None)


def test_rms_norm_default_eps_is_the_computing_dtypes_machine_epsilon():
    x = np.array([[1e-4, 0.0, 0.0]])
    for dtype in ("float32", "float64"):
        got = F.rms_norm(mg.tensor(x, dtype=dtype), (3,)).numpy()
        want = torch.nn.functional.rms_norm(torch.tensor(x, dtype=getattr(torch, dtype)), (3,)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert abs(got[0, 0] - 3 ** 0.5) < 1e-6  # float64: eps 2.2e-16 is negligible next to mean(x^2) = 3.3e-9
    half = F.rms_norm(mg.tensor(x * 10, dtype="float16"), (3,))
    assert half.dtype == np.float16 and abs(float(half.numpy()[0, 0]) - 1.4863) < 2e-3  # float32's eps, as PyTorch


def test_layer_norm_float16_computes_in_float32_and_keeps_its_dtype():
    x = RNG.standard_normal((3, 8)) * 100
    got = F.layer_norm(mg.tensor(x, dtype="float16", requires_grad=True), (8,))
    want = torch.nn.functional.layer_norm(torch.tensor(x, dtype=torch.float16), (8,))
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.numpy().astype(np.float32), want.numpy().astype(np.float32), atol=2e-3)


def test_normalize_of_a_zero_row_has_pytorchs_gradient():
    x = RNG.standard_normal((3, 4))
    x[1] = 0
    g = RNG.standard_normal((3, 4))
    ours, theirs = m64(x, True), t64(x, True)
    F.normalize(ours, eps=1e-3).backward(mg.tensor(g))
    torch.nn.functional.normalize(theirs, eps=1e-3).backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.grad.numpy()[1], g[1] / 1e-3)  # y = x / eps there, not nan
    # second derivatives: PyTorch's are nan on the zero row, ours 0 (the rule masks the row); elsewhere they agree
    ours = m64(x, True)
    (gx,) = mg.grad(F.normalize(ours), [ours], [mg.tensor(g)], create_graph=True)
    (ggx,) = mg.grad((gx * mg.tensor(g)).sum(), [ours])
    assert np.all(ggx.numpy()[1] == 0) and np.all(np.isfinite(ggx.numpy()))


def test_one_standardize_op_per_norm_with_its_name_and_cost():
    x = mg.randn(4, 6, 5, requires_grad=True)
    layers = [(nn.LayerNorm(5), "layer_norm", 7), (nn.GroupNorm(2, 6), "group_norm", 7),
              (nn.InstanceNorm1d(6), "instance_norm", 5), (nn.RMSNorm(5), "rms_norm", 5)]
    for layer, name, flops_per_element in layers:
        with mg.trace() as tr:
            layer(x).sum().backward()
        forward = tr.select(phase="forward", name=name)
        assert len(forward) == 1 and forward[0].flops == flops_per_element * x.size
        assert [r.name for r in tr.select(phase="forward")] == [name, "sum"] or name == "group_norm"


def test_norm_second_derivatives_flow_through_parameters():
    from minigrad.testing import gradgradcheck
    x, w, b = (m64(RNG.standard_normal(shape), True) for shape in ((3, 4), 4, 4))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (4,), w, b) ** 2, [x, w, b])
    assert gradgradcheck(lambda x, w: F.rms_norm(x, (4,), w) ** 2, [x, w])


def test_norm_modules_deepcopy_and_state_dict_round_trip():
    for layer in (nn.LayerNorm(4), nn.GroupNorm(2, 4), nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
                  nn.RMSNorm(4), nn.BatchNorm3d(4)):
        clone = copy.deepcopy(layer)
        for p in layer.parameters():
            p.data[...] = RNG.standard_normal(p.shape)
        clone.load_state_dict(layer.state_dict())
        x = mg.randn(2, 4, 3, 2, 2) if isinstance(layer, nn.BatchNorm3d) else mg.randn(2, 4, 4)
        layer.eval(), clone.eval()
        np.testing.assert_array_equal(layer(x).numpy(), clone(x).numpy())


def test_instance_norm_without_batch_axis_warns_nothing_when_channels_match():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.InstanceNorm2d(3)(mg.randn(3, 4, 4)).shape == (3, 4, 4)
