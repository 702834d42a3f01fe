"""Activation layers and what the op table (tests/op_rows_activation.py) cannot express: the modules, their
constructor arguments and reprs (PyTorch's strings), in-place calls, errors, PyTorch's gradients at the corners,
PReLU's parameter, the implicit softmax dim, and costs in the tracer."""
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

try:
    import torch
except ImportError:
    torch = None

# (module, its repr in PyTorch 2.13, the functional form it computes)
MODULES = [
    (nn.ReLU(), "ReLU()", F.relu),
    (nn.ReLU(inplace=True), "ReLU(inplace=True)", F.relu),
    (nn.ReLU6(), "ReLU6()", F.relu6),
    (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)", lambda x: F.leaky_relu(x, 0.2)),
    (nn.ELU(), "ELU(alpha=1.0)", F.elu),
    (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)", lambda x: F.elu(x, 0.5)),
    (nn.SELU(), "SELU()", F.selu),
    (nn.CELU(2.0, True), "CELU(alpha=2.0, inplace=True)", lambda x: F.celu(x, 2.0)),
    (nn.SiLU(), "SiLU()", F.silu),
    (nn.Mish(inplace=True), "Mish(inplace=True)", F.mish),
    (nn.GELU("tanh"), "GELU(approximate='tanh')", lambda x: F.gelu(x, approximate="tanh")),
    (nn.Softplus(2, 10), "Softplus(beta=2, threshold=10)", lambda x: F.softplus(x, 2, 10)),
    (nn.Softsign(), "Softsign()", F.softsign),
    (nn.Hardsigmoid(True), "Hardsigmoid()", F.hardsigmoid),
    (nn.Hardswish(), "Hardswish()", F.hardswish),
    (nn.Hardtanh(-2, 3, True), "Hardtanh(min_val=-2, max_val=3, inplace=True)", lambda x: F.hardtanh(x, -2, 3)),
    (nn.LogSigmoid(), "LogSigmoid()", F.logsigmoid),
    (nn.Softmin(1), "Softmin(dim=1)", lambda x: F.softmin(x, 1)),
    (nn.Softmax(0), "Softmax(dim=0)", lambda x: F.softmax(x, 0)),
    (nn.LogSoftmax(1), "LogSoftmax(dim=1)", lambda x: F.log_softmax(x, 1)),
    (nn.GLU(), "GLU(dim=-1)", F.glu),
    (nn.PReLU(), "PReLU(num_parameters=1)", lambda x: F.prelu(x, mg.tensor([0.25]))),
    (nn.Tanh(), "Tanh()", F.tanh),
    (nn.Sigmoid(), "Sigmoid()", F.sigmoid),
]


def _x(seed=0, shape=(3, 4)):
    return np.random.default_rng(seed).uniform(-4, 4, shape).astype(np.float32)


@pytest.mark.parametrize("module, text, fn", MODULES, ids=[m[1] for m in MODULES])
def test_modules_have_pytorchs_repr_and_compute_their_function(module, text, fn):
    assert repr(module) == text
    x = _x()
    got = module(mg.tensor(x)).numpy()
    np.testing.assert_array_equal(got, fn(mg.tensor(x)).numpy())
    if torch is not None:
        twin = eval("torch.nn." + text)  # noqa: S307 (our own constant strings)
        if isinstance(twin, torch.nn.PReLU):
            assert np.allclose(twin.weight.detach().numpy(), module.weight.numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # implicit softmax dims
            want = twin(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", [("relu", {}), ("relu6", {}), ("elu", {"alpha": 0.5}), ("selu", {}),
                                          ("celu", {"alpha": 2.0}), ("leaky_relu", {"negative_slope": 0.1}),
                                          ("silu", {}), ("mish", {}), ("hardsigmoid", {}), ("hardswish", {}),
                                          ("hardtanh", {"min_val": -0.5, "max_val": 2.0})])
def test_inplace_changes_the_input_and_keeps_pytorchs_gradient(name, kwargs):
    x0 = _x(1, (5,)).astype(np.float64)
    x = mg.tensor(x0, requires_grad=True)
    y = x * 1.5
    out = getattr(F, name)(y, inplace=True, **kwargs)
    assert out is y  # in place: the input is changed and returned
    np.testing.assert_array_equal(y.numpy(), getattr(F, name)(mg.tensor(x0) * 1.5, **kwargs).numpy())
    (out * out).sum().backward()
    if torch is not None:
        t = torch.tensor(x0, requires_grad=True)
        ty = t * 1.5
        tout = getattr(torch.nn.functional, name)(ty, inplace=True, **kwargs)
        (tout * tout).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-7)  # hardsigmoid's 1/6: float32 in torch
    with pytest.raises(RuntimeError, match="leaf"):  # as PyTorch: a leaf that requires grad is not changed in place
        getattr(F, name)(mg.tensor(x0, requires_grad=True), inplace=True, **kwargs)


def test_underscore_spellings_are_in_place():
    x = mg.tensor([-1.0, 0.5, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 0.5, 2.0]
    assert F.hardtanh_(x, 0.0, 1.0).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("fn, corners, want", [
    (F.hardtanh, [-1.0, 1.0], [0.0, 0.0]),
    (F.relu6, [0.0, 6.0], [0.0, 0.0]),
    (F.hardsigmoid, [-3.0, 3.0], [0.0, 0.0]),
    (F.hardswish, [-3.0, 3.0], [0.0, 1.0]),
    (F.relu, [0.0], [0.0]),
    (F.elu, [0.0], [1.0]),
    (lambda x: F.elu(x, 0.5), [0.0], [0.5]),
    (F.selu, [0.0], [1.0507009873554805 * 1.6732632423543772]),
    (lambda x: F.celu(x, 2.0), [0.0], [1.0]),
    (lambda x: F.softplus(x, 2.0, 1.0), [0.5], [float(1 / (1 + np.exp(-1.0)))]),
])
def test_gradients_at_the_corners_are_pytorchs(fn, corners, want):
    x = mg.tensor(corners, dtype="float64", requires_grad=True)
    fn(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-15)


def test_hardtanh_excludes_its_corners_where_clamp_and_the_bnn_ste_include_them():
    x = mg.tensor([-1.0, 1.0], requires_grad=True)
    assert mg.grad(F.hardtanh(x).sum(), x)[0].tolist() == [0.0, 0.0]
    assert mg.grad(mg.clamp(x, -1.0, 1.0).sum(), x)[0].tolist() == [1.0, 1.0]
    assert mg.grad(mg.ste.sign(x, surrogate=mg.ste.Clipped(1.0)).sum(), x)[0].tolist() == [1.0, 1.0]


def test_hardtanh_keeps_integers_and_checks_its_bounds():
    assert F.hardtanh(mg.tensor([-5, 0, 5], dtype="int8"), -2.7, 3.9).tolist() == [-2, 0, 3]  # bounds truncated
    with pytest.raises(RuntimeError, match="unsigned"):
        F.hardtanh(mg.tensor([1], dtype="uint8"))
    assert F.relu6(mg.tensor([9], dtype="uint8")).tolist() == [6]
    with pytest.raises(RuntimeError, match="bool"):
        F.hardtanh(mg.tensor([True]))
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(mg.tensor([1.0]), 2.0, 1.0)
    with pytest.raises(AssertionError, match="greater than min_val"):  # nn.Hardtanh asserts, as PyTorch's
        nn.Hardtanh(1.0, 1.0)
    with pytest.warns(FutureWarning, match="min_value"):
        assert repr(nn.Hardtanh(min_value=-2.0)) == "Hardtanh(min_val=-2.0, max_val=1.0)"


def test_errors_name_the_op_and_follow_pytorchs_classes():
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(mg.tensor([1.0]), alpha=0.0)
    with pytest.raises(RuntimeError, match="dimension 0 is size 3"):
        F.glu(mg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="0-d"):
        F.glu(mg.tensor(1.0))
    with pytest.raises(IndexError):
        F.glu(mg.tensor([[1.0, 2.0]]), dim=2)
    with pytest.raises(NotImplementedError, match="elu"):
        F.elu(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="3 channel"):
        F.prelu(mg.ones(2, 3), mg.ones(2))
    with pytest.raises(RuntimeError, match="does not promote"):
        F.prelu(mg.ones(2, 3), mg.ones(3, dtype="float64"))


def test_prelu_learns_one_slope_per_channel():
    m = nn.PReLU(3, init=0.1)
    assert m.weight.shape == (3,) and m.weight.tolist() == pytest.approx([0.1] * 3) and m.weight.requires_grad
    assert [name for name, _ in m.named_parameters()] == ["weight"]
    x = _x(2, (2, 3, 4)).astype(np.float32)
    m(mg.tensor(x)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), np.where(x > 0, 0, x).sum(axis=(0, 2)), rtol=1e-6)
    assert nn.PReLU(dtype="float64").weight.dtype == np.float64


def test_softmax_family_without_dim_picks_pytorchs_implicit_dim_and_warns():
    x = mg.tensor(_x(3, (2, 3)))
    for fn, module in [(F.softmax, nn.Softmax()), (F.log_softmax, nn.LogSoftmax()), (F.softmin, nn.Softmin())]:
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            got = fn(x)
        np.testing.assert_array_equal(got.numpy(), fn(x, 1).numpy())  # 2-d: dim 1, as PyTorch
        with pytest.warns(UserWarning):
            np.testing.assert_array_equal(module(x).numpy(), got.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(F.softmin(x, 0).numpy(), F.softmax(-x, 0).numpy())
        assert F.softmin(x, 0, dtype="float64").dtype == np.float64


def test_silu_has_no_swish_alias():
    """swish is not a PyTorch name (SiLU is); minigrad keeps to PyTorch's names."""
    assert not hasattr(F, "swish") and not hasattr(nn, "Swish")


def test_selu_celu_and_prelu_are_also_top_level_as_in_torch():
    x = mg.tensor([-1.0, 2.0])
    np.testing.assert_array_equal(mg.selu(x).numpy(), F.selu(x).numpy())
    np.testing.assert_array_equal(mg.celu(x, 0.5).numpy(), F.celu(x, 0.5).numpy())
    np.testing.assert_array_equal(x.prelu(mg.tensor([0.3])).numpy(), F.prelu(x, mg.tensor([0.3])).numpy())


def test_activations_declare_their_cost():
    x = mg.tensor(_x(4, (10,)), requires_grad=True)
    with mg.trace() as tr:
        F.elu(x)
        F.silu(x)
        F.hardswish(x)
        F.softplus(x)
    flops = {r.name: r.flops for r in tr.select(phase="forward")}
    assert flops == {"elu": 40, "silu": 50, "hardswish": 40, "softplus": 40}


def test_mish_and_softplus_do_not_overflow():
    x = mg.tensor([-1000.0, 1000.0], dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        y = F.mish(x) + F.softplus(x) + F.logsigmoid(x) + F.silu(x)
        y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [-1000.0, 3000.0])
    assert np.isfinite(x.grad.numpy()).all()
