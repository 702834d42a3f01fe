"""Layer modules and what the op table cannot express: modules against PyTorch's (forward, gradients, running
statistics, default initialisation, repr), in-place updates, errors, costs in the tracer."""
import copy
from collections import OrderedDict
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # these tensors are tiny: PyTorch's thread pool only adds latency (10x here)
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
    assert repr(ours) == repr(theirs)
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
    for layer in (nn.BatchNorm1d(3), nn.BatchNorm1d(3, affine=False).eval()):  # float32 parameters or statistics
        with pytest.raises(RuntimeError, match="batch_norm: mixed dtypes: the input is float64"):
            layer(x.double())
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


# ---- embeddings -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs", [((10, 3), {}), ((10, 3), {"padding_idx": -2, "max_norm": 1.5}),
                                          ((6, 4), {"norm_type": 1.0, "scale_grad_by_freq": True, "padding_idx": 0})])
def test_embedding_module_matches_pytorch(args, kwargs):
    ours = nn.Embedding(*args, **kwargs)
    theirs = torch.nn.Embedding(*args, **kwargs)
    assert repr(ours) == repr(theirs) and ours.padding_idx == theirs.padding_idx
    ours, theirs = twin(ours, theirs)
    idx = np.array([[1, 2, 1], [5, 0, 4]])
    y, want = ours(mg.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(y.numpy(), want.detach().numpy(), rtol=1e-12)
    g = RNG.standard_normal(y.shape)
    y.backward(mg.tensor(g)), want.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    assert_same_state(ours, theirs)  # max_norm renormalised the same rows in place


def test_embedding_default_init_is_standard_normal_with_a_zero_padding_row():
    layer = nn.Embedding(2000, 50, padding_idx=3)
    w = layer.weight.numpy()
    assert w.dtype == np.float32 and np.all(w[3] == 0)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    mg.manual_seed(5)
    a = nn.Embedding(4, 2).weight.numpy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(a, nn.Embedding(4, 2).weight.numpy())
    np.testing.assert_array_equal(nn.Embedding(4, 2, rng=np.random.default_rng(1)).weight.numpy(),
                                  nn.Embedding(4, 2, rng=np.random.default_rng(1)).weight.numpy())


def test_embedding_from_pretrained_shares_and_freezes():
    table = mg.tensor(RNG.standard_normal((4, 3)))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and np.shares_memory(frozen.weight.numpy(), table.numpy())
    assert frozen(mg.tensor([2])).grad_fn is None
    free = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert free.weight.requires_grad and np.all(free.weight.numpy()[1] == table.numpy()[1])  # not zeroed
    free(mg.tensor([1, 2, 2])).sum().backward()
    np.testing.assert_array_equal(free.weight.grad.numpy()[:, 0], [0, 0, 2, 0])
    assert repr(free) == "Embedding(4, 3, padding_idx=1)"
    bag = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert repr(bag) == repr(torch.nn.EmbeddingBag.from_pretrained(torch.zeros(4, 3), mode="sum"))
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(mg.zeros(3))


def test_embedding_max_norm_renormalises_in_place_and_invalidates_saved_weights():
    w = mg.tensor(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]), requires_grad=True)
    before = w.numpy().copy()
    saved = (w * 2).sum()  # Mul saved w for backward
    F.embedding(mg.tensor([0, 1]), w, max_norm=1.0)
    np.testing.assert_allclose(w.numpy()[0], before[0] / (5 + 1e-7))  # renormalised row 0 only (row 2 not looked up)
    np.testing.assert_array_equal(w.numpy()[1:], before[1:])
    with pytest.raises(RuntimeError, match="modified in place"):
        saved.backward()


def test_embedding_errors():
    w = mg.randn(5, 3)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 4\]"):
        F.embedding(mg.tensor([5]), w)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(mg.tensor([-1]), w)
    with pytest.raises(RuntimeError, match="expected indices of an integer dtype"):
        F.embedding(mg.tensor([1.0]), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(mg.tensor([1]), mg.randn(5))
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(NotImplementedError, match="no sparse tensors"):
        nn.Embedding(5, 3, sparse=True)
    with pytest.raises(AssertionError, match="does not match num_embeddings"):
        nn.Embedding(5, 3, _weight=mg.zeros(4, 3))
    with pytest.raises(ValueError, match="does not support scaling the gradient"):
        F.embedding_bag(mg.tensor([[1]]), w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(mg.tensor([[1]]), w, per_sample_weights=mg.ones(1, 1))
    with pytest.raises(RuntimeError, match="offsets must be a 1-D increasing sequence that starts at 0"):
        F.embedding_bag(mg.tensor([1, 2]), w, mg.tensor([1]))
    with pytest.raises(ValueError, match="offsets must be None when the input is 2-D"):
        F.embedding_bag(mg.tensor([[1, 2]]), w, mg.tensor([0]))


def test_embedding_bag_module_matches_pytorch_and_scales_by_frequency_as_documented():
    ours, theirs = twin(nn.EmbeddingBag(6, 3, mode="sum", padding_idx=5), torch.nn.EmbeddingBag(6, 3, mode="sum",
                                                                                                  padding_idx=5))
    assert repr(ours) == repr(theirs)
    idx, off = np.array([1, 5, 2, 2, 4]), np.array([0, 2])
    np.testing.assert_allclose(ours(mg.tensor(idx), mg.tensor(off)).numpy(),
                               theirs(torch.tensor(idx), torch.tensor(off)).detach().numpy(), rtol=1e-12)
    # scale_grad_by_freq: each row's gradient divided by the row's count in the batch (the documented formula;
    # PyTorch's embedding_bag kernel divides some rows by another row's count)
    w = mg.tensor(RNG.standard_normal((5, 2)), requires_grad=True)
    F.embedding_bag(mg.tensor([1, 2, 1, 3, 2, 2]), w, mg.tensor([0, 3]), mode="sum", scale_grad_by_freq=True).sum() \
        .backward()
    np.testing.assert_allclose(w.grad.numpy()[:, 0], [0, 1, 1, 1, 0])
    assert repr(nn.EmbeddingBag(4, 2, max_norm=2.0, norm_type=1.0)) == \
        repr(torch.nn.EmbeddingBag(4, 2, max_norm=2.0, norm_type=1.0))


def test_embedding_is_one_op_whose_gradient_is_a_scatter_add():
    layer = nn.Embedding(7, 4)
    with mg.trace() as tr:
        layer(mg.tensor([[1, 2, 1]])).sum().backward()
    assert [r.name for r in tr.select(phase="forward")] == ["embedding", "sum"]
    assert tr.select(phase="forward", name="embedding")[0].category == "movement"


def test_sinusoidal_positions_are_vaswani_et_als():
    pe = F.sinusoidal_positions(50, 8)
    assert pe.shape == (50, 8) and pe.dtype == np.float32 and not pe.requires_grad
    pos, i = 37, 3
    freq = 10000 ** (-2 * i / 8)
    np.testing.assert_allclose(pe.numpy()[pos, 2 * i], np.sin(pos * freq), rtol=1e-6)
    np.testing.assert_allclose(pe.numpy()[pos, 2 * i + 1], np.cos(pos * freq), rtol=1e-6)
    np.testing.assert_array_equal(pe.numpy()[0], [0, 1] * 4)
    odd = F.sinusoidal_positions(3, 5, dtype=np.float64).numpy()
    assert odd.shape == (3, 5) and odd[2, 4] == np.sin(2 * 10000 ** (-4 / 5))
    # PE[pos + k] is a fixed rotation of PE[pos] in each (sin, cos) pair: the property the paper chose it for
    k, freq = 5, 10000 ** (-2 / 8)
    rot = np.array([[np.cos(k * freq), -np.sin(k * freq)], [np.sin(k * freq), np.cos(k * freq)]])
    np.testing.assert_allclose(pe.numpy()[10, 2:4] @ rot, pe.numpy()[15, 2:4], atol=1e-5)


def test_one_hot_follows_pytorch():
    np.testing.assert_array_equal(F.one_hot(mg.tensor([2, 0]), 4).numpy(), [[0, 0, 1, 0], [1, 0, 0, 0]])
    assert F.one_hot(mg.tensor(np.zeros(0, np.int64)), 3).shape == (0, 3)
    for bad, error, message in [(mg.tensor([1, 2], dtype="int32"), RuntimeError, "dtype int64"),
                                (mg.tensor([1.0]), RuntimeError, "dtype int64"),
                                (mg.tensor([-1]), RuntimeError, "must be non-negative"),
                                (mg.tensor([3]), RuntimeError, r"classes must lie in \[0, 2\]"),
                                (mg.tensor(np.zeros(0, np.int64)), RuntimeError, "cannot infer")]:
        with pytest.raises(error, match=message):
            F.one_hot(bad, 3 if bad.numpy().tolist() == [3] else -1)


# ---- resampling and padding -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs, shape", [
    ("Upsample", {"scale_factor": 2}, (1, 2, 3, 4)),
    ("Upsample", {"size": (5, 3), "mode": "bilinear"}, (1, 2, 3, 4)),
    ("Upsample", {"scale_factor": (1.5, 0.5), "mode": "bicubic", "align_corners": True}, (2, 1, 4, 4)),
    ("Upsample", {"scale_factor": 1.3, "mode": "trilinear", "recompute_scale_factor": True}, (1, 1, 3, 2, 4)),
    ("Upsample", {"size": 7, "mode": "linear"}, (2, 3, 4)),
    ("UpsamplingNearest2d", {"scale_factor": 3}, (1, 1, 2, 2)),
    ("UpsamplingBilinear2d", {"size": (4, 5)}, (1, 2, 3, 3)),
    ("PixelShuffle", {"upscale_factor": 2}, (2, 8, 3, 3)),
    ("PixelUnshuffle", {"downscale_factor": 2}, (2, 1, 4, 6)),
    ("Unflatten", {"dim": 1, "unflattened_size": (2, -1)}, (3, 6, 2)),
    ("Unflatten", {"dim": -1, "unflattened_size": [2, 1, 2]}, (3, 4)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_resampling_modules_match_pytorch(name, kwargs, shape):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    check_module(ours, theirs, shape, steps=1)


def test_interpolate_gradient_is_the_adjoint_and_costs_two_flops_per_tap():
    x = RNG.standard_normal((2, 3, 5, 4))
    g = RNG.standard_normal((2, 3, 9, 7))
    xt = m64(x, True)
    with mg.trace() as tr:
        y = F.interpolate(xt, size=(9, 7), mode="bilinear")
        y.backward(mg.tensor(g))
    np.testing.assert_allclose(np.vdot(y.numpy(), g), np.vdot(x, xt.grad.numpy()), rtol=1e-12)  # <Rx, g> = <x, R'g>
    forward = tr.select(phase="forward", name="resample")
    assert len(forward) == 2  # one op per axis: H (5 -> 9), then W (4 -> 7)
    assert forward[0].flops == 2 * 2 * (2 * 3 * 9 * 4) and forward[1].flops == 2 * 2 * (2 * 3 * 9 * 7)
    with mg.trace() as tr:
        F.interpolate(mg.randn(1, 1, 4, 4), scale_factor=2)
    assert tr.flops() == 0 and [r.category for r in tr.records] == ["movement", "movement"]


def test_interpolate_second_derivatives_flow_and_float16_keeps_its_dtype():
    from minigrad.testing import gradgradcheck
    x = m64(RNG.standard_normal((1, 2, 3, 4)), True)
    assert gradgradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bicubic") ** 2, [x])
    half = F.interpolate(mg.tensor(RNG.standard_normal((1, 1, 3, 3)), dtype="float16"), size=5, mode="bilinear")
    assert half.dtype == np.float16


def test_interpolate_errors_are_pytorchs():
    x = mg.randn(1, 2, 3, 4)
    cases = [({"size": 5, "scale_factor": 2}, ValueError, "only one of size or scale_factor"),
             ({}, ValueError, "either size or scale_factor"),
             ({"size": 5, "recompute_scale_factor": True}, ValueError, "not meaningful with an explicit size"),
             ({"size": 5, "align_corners": True}, ValueError, "align_corners option can only be set"),
             ({"size": 5, "mode": "linear"}, NotImplementedError, "linear mode needs a 3-D input"),
             ({"size": 5, "mode": "trilinear"}, NotImplementedError, "trilinear mode needs a 5-D input"),
             ({"size": (5, 5, 5)}, ValueError, "one size per spatial dimension"),
             ({"size": 5, "mode": "cubic"}, NotImplementedError, "mode must be one of"),
             ({"size": 5, "mode": "bilinear", "antialias": True}, NotImplementedError, "antialias"),
             ({"scale_factor": 0.2}, RuntimeError, "greater than 0"),
             ({"size": 2.5}, TypeError, "size must be an int")]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            F.interpolate(x, **kwargs)
    with pytest.raises(NotImplementedError, match="3-D, 4-D and 5-D"):
        F.interpolate(mg.randn(2, 3), size=4)


def test_pad_negative_amounts_crop_in_every_mode_as_pytorch():
    x = np.arange(24.0).reshape(2, 3, 4)
    for pad_, mode in [((-1, 2), "constant"), ((1, -2, -1, 0), "constant"), ((-1, 2), "reflect"),
                       ((2, -1), "replicate"), ((-1, 2), "circular"), ((3, -1), "circular"), ((1, -3), "reflect")]:
        want = torch.nn.functional.pad(torch.tensor(x), pad_, mode=mode).numpy()
        np.testing.assert_array_equal(F.pad(mg.tensor(x), pad_, mode=mode).numpy(), want, err_msg=f"{pad_} {mode}")


def test_pad_errors_are_pytorchs_classes_and_minigrads_earlier_ones():
    x = mg.ones(1, 3, 4)
    for pad_, kwargs, classes, message in [((1, 2, 3), {}, (RuntimeError, ValueError), "even length"),
                                           ((1,) * 8, {}, (RuntimeError, ValueError), "more than two per dimension"),
                                           ((-3, -2), {}, (RuntimeError, ValueError), "negative size"),
                                           ((4, 0), {"mode": "reflect"}, (RuntimeError, ValueError), "smaller than"),
                                           ((-3, 2), {"mode": "circular"}, (RuntimeError, ValueError), "more than once"),
                                           ((1, 1), {"mode": "mirror"}, (NotImplementedError, ValueError), "mode must"),
                                           ((1, 1), {"mode": "reflect", "value": 1.0}, (RuntimeError,), "no value")]:
        for cls in classes:
            with pytest.raises(cls, match=message):
                F.pad(x, pad_, **kwargs)


def test_pixel_shuffle_places_channels_as_documented_and_unshuffle_inverts_it():
    x = RNG.standard_normal((2, 3 * 4, 2, 5))
    y = F.pixel_shuffle(mg.tensor(x), 2).numpy()
    c, i, j, h, w = 1, 1, 0, 1, 3
    assert y[0, c, h * 2 + i, w * 2 + j] == x[0, c * 4 + i * 2 + j, h, w]
    np.testing.assert_array_equal(F.pixel_unshuffle(mg.tensor(y), 2).numpy(), x)
    for fn, arg, message in [(F.pixel_shuffle, mg.ones(1, 5, 2, 2), "not divisible by 4"),
                             (F.pixel_shuffle, mg.ones(4, 2), "at least 3 dimensions"),
                             (F.pixel_unshuffle, mg.ones(1, 1, 3, 4), r"input.size\(-2\)=3 is not divisible by 2")]:
        with pytest.raises(RuntimeError, match=message):
            fn(arg, 2)
    with pytest.raises(RuntimeError, match="positive upscale_factor"):
        F.pixel_shuffle(mg.ones(1, 4, 2, 2), 0)


def test_unflatten_errors():
    with pytest.raises(RuntimeError, match=r"don't multiply up to the size of dim 1 \(6\)"):
        nn.Unflatten(1, (2, 2))(mg.ones(2, 6))
    with pytest.raises(TypeError, match="must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 6)
    with pytest.raises(IndexError, match="dimension out of range"):
        nn.Unflatten(3, (1, 2))(mg.ones(2, 2))


# ---- containers -------------------------------------------------------------------------------------------------
def names(container):
    return [type(m).__name__ for m in container]


def test_sequential_list_operations_follow_pytorch():
    relu, tanh, sig = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    seq = nn.Sequential(relu, tanh, sig)
    assert seq[-1] is sig and names(seq[::2]) == ["ReLU", "Sigmoid"] and isinstance(seq[1:], nn.Sequential)
    assert list(seq[1:]._modules) == ["1", "2"]  # a slice keeps the names, as PyTorch
    seq.insert(1, nn.GELU()).insert(-1, nn.Identity())
    assert names(seq) == ["ReLU", "GELU", "Tanh", "Identity", "Sigmoid"] and list(seq._modules) == list("01234")
    assert seq.pop(0) is relu and list(seq._modules) == list("0123")
    del seq[1:3]
    assert names(seq) == ["GELU", "Sigmoid"]
    seq[-1] = tanh
    assert names(seq) == ["GELU", "Tanh"] and list(seq._modules) == ["0", "1"]  # replaced in place
    both = seq + nn.Sequential(sig)
    assert isinstance(both, nn.Sequential) and names(both) == ["GELU", "Tanh", "Sigmoid"] and len(seq) == 2
    twice = seq * 2
    assert len(twice) == 4 and twice[0] is twice[2]
    seq += nn.Sequential(relu)
    seq *= 2
    assert names(seq) == ["GELU", "Tanh", "ReLU"] * 2
    assert names(nn.Sequential(relu).extend([tanh, sig])) == ["ReLU", "Tanh", "Sigmoid"]
    named = nn.Sequential(OrderedDict(a=relu, b=tanh))
    del named[0]
    assert list(named._modules) == ["0"]  # renumbered after a deletion, as PyTorch
    x = mg.randn(3, 2)
    np.testing.assert_array_equal(nn.Sequential(relu, tanh)(x).numpy(), np.tanh(np.maximum(x.numpy(), 0)))
    for op, error, message in [(lambda: seq[6], IndexError, "index 6 is out of range"),
                               (lambda: seq.insert(7, relu), IndexError, "out of range"),
                               (lambda: seq.insert(0, 3), TypeError, "not an nn.Module"),
                               (lambda: seq + nn.ModuleList([relu]), ValueError, "only Sequential"),
                               (lambda: seq * 0, ValueError, "Non-positive multiplication factor 0"),
                               (lambda: seq * 1.5, TypeError, "unsupported operand"),
                               (lambda: seq["a"], TypeError, "cannot be interpreted as an integer")]:
        with pytest.raises(error, match=message):
            op()


def test_module_list_operations_and_repr_follow_pytorch():
    layers = nn.ModuleList([nn.ReLU(), nn.Linear(2, 2), nn.Linear(2, 2), nn.Tanh()])
    theirs = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Tanh()])
    assert repr(layers) == repr(theirs)  # '(1-2): 2 x Linear(...)'
    assert repr(nn.ModuleList()) == "ModuleList()"
    assert isinstance(layers[1:3], nn.ModuleList) and list(layers[1:3]._modules) == ["0", "1"]
    assert layers[-1] is layers[3]
    layers.insert(-1, nn.Sigmoid())
    assert names(layers) == ["ReLU", "Linear", "Linear", "Sigmoid", "Tanh"]
    assert [n for n, _ in layers.named_parameters()] == ["1.weight", "1.bias", "2.weight", "2.bias"]
    del layers[0]
    assert next(n for n, _ in layers.named_parameters()) == "0.weight"
    combined = layers + [nn.GELU()]
    assert isinstance(combined, nn.ModuleList) and len(combined) == 5 and len(layers) == 4
    layers += [nn.GELU()]
    layers.extend(nn.ModuleList([nn.ReLU()]))
    assert names(layers)[-2:] == ["GELU", "ReLU"]
    assert isinstance(layers.pop(-1), nn.ReLU) and len(layers) == 5
    layers[0] = nn.Identity()
    assert names(layers)[0] == "Identity" and list(layers._modules) == list("01234")
    assert "0" not in dir(layers)
    for op, error, message in [(lambda: layers[5], IndexError, "index 5 is out of range"),
                               (lambda: layers.extend(3), TypeError, "should be called with an iterable"),
                               (lambda: layers + [3], TypeError, "not an nn.Module")]:
        with pytest.raises(error, match=message):
            op()


def test_module_dict_follows_pytorch():
    relu, tanh = nn.ReLU(), nn.Tanh()
    d = nn.ModuleDict({"b": relu, "a": nn.Linear(2, 1)})
    assert list(d) == ["b", "a"] and "a" in d and len(d) == 2 and d["b"] is relu
    d["b"] = tanh
    assert list(d.keys()) == ["b", "a"] and d["b"] is tanh  # replaced in place
    d.update([("c", relu)])
    d.update(nn.ModuleDict({"d": relu}))
    assert list(d) == ["b", "a", "c", "d"] and [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias"]
    assert d.pop("c") is relu and list(d.values())[-1] is relu and next(iter(d.items())) == ("b", tanh)
    assert repr(nn.ModuleDict({"a": nn.ReLU()})) == repr(torch.nn.ModuleDict({"a": torch.nn.ReLU()}))
    d.clear()
    assert len(d) == 0
    for op, error, message in [(lambda: d.update(3), TypeError, "iterable of key/value pairs, but got int"),
                               (lambda: d.update([("a", relu, 1)]), ValueError, "element #0 has length 3"),
                               (lambda: d.update([3]), TypeError, "element #0 should be Iterable"),
                               (lambda: d.update({"a": 3}), TypeError, "not an nn.Module"),
                               (lambda: d.update({"a.b": relu}), KeyError, "contain '.'"),
                               (lambda: d["missing"], KeyError, "missing")]:
        with pytest.raises(error, match=message):
            op()


def test_parameter_list_and_dict_follow_pytorch():
    w = mg.zeros(2, 3)
    plist = nn.ParameterList([w, nn.Parameter(np.ones(1, np.float32))])
    assert isinstance(plist[0], nn.Parameter) and plist[0].requires_grad and np.shares_memory(plist[0].numpy(),
                                                                                              w.numpy())
    plist.append("not a tensor")
    plist += [mg.ones(4)]
    assert len(plist) == 4 and plist[2] == "not a tensor" and plist[-1].shape == (4,)
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "3"]
    assert isinstance(plist[1:], nn.ParameterList) and len(plist[1:]) == 3
    plist[0] = mg.ones(5)
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "3"] and plist[0].shape == (5,)
    assert repr(plist) == ("ParameterList(\n    (0): Parameter containing: [float32 of size 5]\n"
                           "    (1): Parameter containing: [float32 of size 1]\n    (2): Object of type: str\n"
                           "    (3): Parameter containing: [float32 of size 4]\n)")
    assert repr(nn.ParameterList([mg.zeros(3)])) == "ParameterList(  (0): Parameter containing: [float32 of size 3])"
    assert list(nn.ParameterList([mg.zeros(2)]).state_dict()) == list(torch.nn.ParameterList([torch.zeros(2)])
                                                                      .state_dict())
    pdict = nn.ParameterDict({"w": w, "note": 3})
    # a plain dict is added in sorted key order, as PyTorch's ParameterDict (an OrderedDict keeps its order)
    assert isinstance(pdict["w"], nn.Parameter) and pdict["note"] == 3 and list(pdict) == ["note", "w"]
    assert list(pdict) == list(torch.nn.ParameterDict({"w": torch.zeros(1), "note": 3}))
    assert list(nn.ParameterDict(OrderedDict(w=w, note=3))) == ["w", "note"]
    pdict["b"] = mg.ones(2)
    pdict.update({"w": mg.ones(1)})
    assert list(pdict.keys()) == ["note", "w", "b"] and pdict["w"].shape == (1,)
    assert [n for n, _ in pdict.named_parameters()] == ["w", "b"]
    assert pdict.get("nothing", 7) == 7 and pdict.setdefault("z", mg.ones(3)).shape == (3,)
    assert pdict.popitem()[0] == "z" and pdict.pop("note") == 3 and list(reversed(pdict)) == ["b", "w"]
    merged = pdict | {"extra": mg.ones(1)}
    assert list(merged) == ["w", "b", "extra"] and list(pdict) == ["w", "b"] and merged["w"] is pdict["w"]
    assert list(pdict.fromkeys(["p", "q"], mg.ones(1))) == ["p", "q"]
    assert repr(pdict) == ("ParameterDict(\n    (w): Parameter containing: [float32 of size 1]\n"
                           "    (b): Parameter containing: [float32 of size 2]\n)")
    copy_ = pdict.copy()
    del pdict["w"]
    assert "w" in copy_ and "w" not in pdict and [n for n, _ in pdict.named_parameters()] == ["b"]
    with pytest.raises(KeyError):
        pdict["w"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pdict()
    with pytest.raises(TypeError, match="should be called with an iterable"):
        nn.ParameterList().extend(mg.ones(2))


def test_containers_register_for_optimizers_and_state_dicts():
    model = nn.ModuleDict({"body": nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)]),
                           "scales": nn.ParameterList([mg.ones(2)])})
    assert list(model.state_dict()) == ["body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "scales.0"]
    clone = copy.deepcopy(model)
    clone.load_state_dict(model.state_dict())
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    x = mg.randn(3, 2)
    (model["body"][1](model["body"][0](x)) * model["scales"][0]).sum().backward()
    opt.step()
    assert not np.array_equal(model["scales"][0].numpy(), clone["scales"][0].numpy())


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_a_float16_input_with_float32_parameters_is_float16_as_pytorchs(training):
    x = mg.randn(4, 3, 5).half()
    layer = nn.BatchNorm1d(3).train(training)
    y = layer(x)
    want = torch.nn.functional.batch_norm(torch.from_numpy(x.numpy()), torch.zeros(3), torch.ones(3), torch.ones(3),
                                          torch.zeros(3), training=training)
    assert y.dtype == np.float16 and want.dtype == torch.float16
    np.testing.assert_allclose(y.numpy().astype(np.float32), want.numpy().astype(np.float32), atol=2e-3)
