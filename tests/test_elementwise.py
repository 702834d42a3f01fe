"""What the op table (tests/op_rows_elementwise.py) cannot express for the elementwise families: erfinv's accuracy,
errors and their classes, gradients PyTorch refuses or cannot take, the plain rounding ops beside mg.ste's, and
costs in the tracer."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.ops import special


# ---- erfinv: accurate to float64 ----------------------------------------------------------------------------
def test_erfinv_is_accurate_to_float64_against_mpmath():
    mpmath = pytest.importorskip("mpmath")  # installed with PyTorch (through sympy)
    mpmath.mp.dps = 40
    y = np.concatenate([np.linspace(-0.999, 0.999, 801), 1 - np.logspace(-16, -1, 60), -(1 - np.logspace(-16, -1, 60)),
                        np.logspace(-300, -1, 40), [0.5, -0.5, 0.4999999999, 0.5000000001]])
    want = np.array([float(mpmath.erfinv(mpmath.mpf(float(v)))) for v in y])
    relative = np.abs(special.erfinv(y) - want) / np.abs(want)
    assert relative.max() < 2e-15, f"worst at y = {y[relative.argmax()]!r}: {relative.max():.2e}"


def test_erf_and_erfc_are_accurate_on_every_branch_mixed_in_one_array():
    """Cephes' three formulas (|x| <= 1, 1 < |x| < 8, |x| >= 8) are each evaluated on their own elements: a shuffled
    array mixing all of them (and the edges) must give what Python's math.erf / math.erfc give element by element."""
    import math
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-30, 30, 2001), [-8.0, -1.0, -0.0, 0.0, 1.0, 8.0, 26.6, 27.0, 5e-300, -5e-300, 2.5]])
    x = x[rng.permutation(len(x))].reshape(-1, 4)
    for fn, exact, rtol in ((special.erf, math.erf, 1e-15), (special.erfc, math.erfc, 1e-13)):
        want = np.vectorize(exact)(x)
        got = fn(x)
        assert got.shape == x.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300)
        assert np.array_equal(np.signbit(got), np.signbit(want))
        for edge, value in ((np.nan, np.nan), (np.inf, exact(np.inf)), (-np.inf, exact(-np.inf))):
            np.testing.assert_array_equal(fn(np.array(edge)), value)
        assert fn(np.zeros((0, 3))).shape == (0, 3) and fn(np.array(0.5)).shape == ()


def test_erfinv_inverts_erf_and_has_its_limits():
    x = np.linspace(-3.0, 3.0, 1001)  # beyond, erf(x) rounds to too few bits for its inverse to recover x
    np.testing.assert_allclose(special.erfinv(special.erf(x)), x, rtol=1e-10, atol=1e-12)
    got = special.erfinv(np.array([1.0, -1.0, 1.5, -2.0, np.nan, 0.0, -0.0]))
    np.testing.assert_array_equal(got[:2], [np.inf, -np.inf])
    assert np.isnan(got[2:5]).all() and got[5] == 0 and np.signbit(got[6])
    assert mg.erfinv(mg.tensor([0.5], dtype="float32")).dtype == np.float32
    assert mg.erfinv(mg.tensor([0, 1])).dtype == np.float32  # integers: the default float


# ---- rounding: the plain ops (PyTorch's) beside the straight-through ones (mg.ste) ----------------------------
def test_plain_sign_has_sign_0_equal_0_and_zero_gradient_even_in_a_surrogate_scope():
    x = mg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    with mg.ste.surrogates(sign=mg.ste.Identity()):
        plain, ste = mg.sign(x), mg.ste.sign(x)
    assert plain.tolist() == [-1.0, 0.0, 1.0] and ste.tolist() == [-1.0, 1.0, 1.0]
    (plain.sum() + ste.sum()).backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]  # all from the straight-through sign; the plain one gives zeros
    assert plain.grad_fn.op.name == "plain_sign" and ste.grad_fn.op.name == "sign"


@pytest.mark.parametrize("plain, ste", [(mg.round, mg.ste.round), (mg.floor, mg.ste.floor), (mg.ceil, mg.ste.ceil)])
def test_plain_rounding_has_a_zero_gradient_the_ste_one_a_surrogate(plain, ste):
    x = mg.tensor([0.4, 1.5, 2.5, -0.6], requires_grad=True)
    g_plain, = mg.grad(plain(x).sum(), x)
    g_ste, = mg.grad(ste(x).sum(), x)
    assert g_plain.tolist() == [0.0] * 4 and g_ste.tolist() == [1.0] * 4
    np.testing.assert_array_equal(plain(x).numpy(), ste(x).numpy())  # same values, round half to even in both


def test_rounding_refuses_what_pytorch_refuses():
    with pytest.raises(NotImplementedError, match="round"):
        mg.round(mg.tensor([1, 2]), decimals=1)
    with pytest.raises(NotImplementedError, match="floor"):
        mg.floor(mg.tensor([True]))
    with pytest.raises(NotImplementedError, match="frac"):
        mg.frac(mg.tensor([1, 2]))
    assert mg.floor(mg.tensor([3, -2])).tolist() == [3, -2] and mg.floor(mg.tensor([3])).dtype == np.int64


# ---- rounded division -----------------------------------------------------------------------------------
def test_floor_divide_has_no_gradient_as_in_pytorch_and_says_what_has_one():
    x = mg.tensor([3.5, -2.0], requires_grad=True)
    y = x // 2
    assert y.tolist() == [1.0, -1.0] and y.requires_grad  # recorded, as PyTorch's NotImplemented node
    with pytest.raises(RuntimeError, match="rounding_mode='floor'"):
        y.sum().backward()
    z = mg.div(x, 2, rounding_mode="floor")
    z.sum().backward()
    assert z.tolist() == [1.0, -1.0] and x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("fn", [lambda a, b: a // b, lambda a, b: a % b, mg.fmod,
                                lambda a, b: mg.div(a, b, rounding_mode="trunc")])
def test_integer_division_by_zero_is_pytorchs_zero_division_error(fn):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(mg.tensor([5, -7]), mg.tensor([2, 0]))
    with np.errstate(all="ignore"):  # floats divide by zero to inf or nan
        assert not np.isfinite(fn(mg.tensor([5.0]), mg.tensor([0.0])).numpy()).any()


def test_rounding_modes_are_checked():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        mg.div(mg.tensor([1.0]), 2, rounding_mode="round")
    assert mg.div(mg.tensor([-7, 7]), 2, rounding_mode="trunc").tolist() == [-3, 3]
    assert mg.div(mg.tensor([-7, 7]), 2, rounding_mode="floor").tolist() == [-4, 3]


def test_number_remainder_tensor_has_the_tensor_formulas_gradient():
    """PyTorch has no derivative for remainder(number, tensor); minigrad's is d(a % b)/db = -floor(a / b)."""
    b = mg.tensor([0.7, 1.1, -0.9], dtype="float64", requires_grad=True)
    (2.5 % b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), -np.floor(2.5 / b.numpy()))


# ---- clamp with tensor bounds -----------------------------------------------------------------------------
def test_clamp_bounds_that_widen_the_output_send_x_the_sum_of_its_gradients():
    x = mg.tensor(0.3, dtype="float64", requires_grad=True)
    lo = mg.tensor([-1.0, 0.5, 1.0], dtype="float64", requires_grad=True)
    hi = mg.tensor(0.7, dtype="float64", requires_grad=True)
    y = mg.clamp(x, lo, hi)
    assert y.tolist() == [0.3, 0.5, 0.7]  # lo > hi in the last place: hi wins, as torch.clamp
    y.backward(mg.tensor([1.0, 2.0, 4.0], dtype="float64"))
    assert x.grad.item() == 1.0 and lo.grad.tolist() == [0.0, 2.0, 0.0] and hi.grad.item() == 4.0


def test_clamp_promotes_with_its_bounds_and_refuses_bools_as_pytorch():
    assert mg.clamp(mg.tensor([1, 5]), min=mg.tensor([2.5])).dtype == np.float32
    assert mg.clamp(mg.tensor([True, False]), min=mg.tensor([True])).tolist() == [True, True]
    with pytest.raises(NotImplementedError):
        mg.clamp(mg.tensor([True]), min=False)
    with pytest.raises(RuntimeError, match="at least one"):
        mg.clamp(mg.tensor([1.0]))


# ---- lerp, hypot, logaddexp: PyTorch's dtype rules ---------------------------------------------------------
def test_lerp_does_not_promote_and_is_exact_at_its_ends():
    with pytest.raises(RuntimeError, match="expected dtype float32 for `end`"):
        mg.lerp(mg.tensor([1.0]), mg.tensor([1.0], dtype="float64"), 0.5)
    with pytest.raises(NotImplementedError):
        mg.lerp(mg.tensor([1]), mg.tensor([2]), 0.5)
    a, b = mg.tensor([0.1, 3.3]), mg.tensor([7.7, -1e-3])
    assert mg.lerp(a, b, 1.0).tolist() == b.tolist() and mg.lerp(a, b, 0.0).tolist() == a.tolist()


# ---- bitwise and logical ops, tests ---------------------------------------------------------------------
def test_bitwise_ops_refuse_floats_with_pytorchs_exception_classes():
    f = mg.tensor([1.5])
    with pytest.raises(TypeError, match="integer and bool"):
        _ = ~f
    for fn in (lambda: f & f, lambda: mg.bitwise_not(f), lambda: f << 1,
               lambda: mg.tensor([True]) << mg.tensor([True])):
        with pytest.raises(NotImplementedError):
            fn()


def test_bool_bitwise_ops_are_logical_and_shifts_follow_pytorch_out_of_range():
    t, f = mg.tensor([True, True]), mg.tensor([True, False])
    assert (t & f).dtype == np.bool_ and (~f).tolist() == [False, True] and (t ^ f).tolist() == [False, True]
    x = mg.tensor([5, -5], dtype="int8")
    assert (x << 9).tolist() == [0, 0] and (x >> 9).tolist() == [0, -1] and (x << -1).tolist() == [0, 0]
    assert (1 << mg.tensor([3])).tolist() == [8] and (6 & mg.tensor([3])).tolist() == [2]


def test_isclose_and_allclose():
    a = mg.tensor([1.0, np.inf, np.nan])
    assert mg.isclose(a, mg.tensor([1.0 + 1e-7, np.inf, np.nan])).tolist() == [True, True, False]
    assert mg.isclose(a, a, equal_nan=True).tolist() == [True, True, True]
    assert mg.allclose(mg.tensor([1.0]), mg.tensor([1.0, 1.0])) is True
    with pytest.raises(RuntimeError, match="did not match"):
        mg.isclose(a, mg.tensor([1.0], dtype="float64"))
    with pytest.raises(RuntimeError, match="rtol must be greater"):
        mg.isclose(a, a, rtol=-1)


def test_nan_to_num_passes_the_gradient_where_the_input_was_finite():
    x = mg.tensor([np.nan, 2.0, -np.inf], requires_grad=True)
    y = mg.nan_to_num(x, nan=1.0)
    assert y.tolist() == [1.0, 2.0, float(np.finfo(np.float32).min)]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


# ---- graphs and costs -----------------------------------------------------------------------------------
def test_each_op_names_its_own_rule_and_declares_its_cost():
    x = mg.tensor(np.linspace(0.1, 0.9, 10), requires_grad=True)
    assert x.tan().grad_fn.rule_name() == "Tan.backward" and mg.floor(x).grad_fn.rule_name() == "Floor.backward"
    with mg.trace() as tr:
        mg.tan(x)
        mg.erfinv(x)
        mg.atan2(x, x)
        mg.clamp(x, x * 0.5, 1.0)
    flops = {r.name: r.flops for r in tr.select(phase="forward")}
    assert flops["tan"] == 10 and flops["erfinv"] == 600 and flops["atan2"] == 80 and flops["clip"] == 20


def test_tensor_methods_and_aliases_exist_where_pytorch_has_them():
    x = mg.tensor([0.5])
    for name in ["tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan", "atan2", "arctan2", "sinh", "cosh", "asinh",
                 "acosh", "atanh", "rsqrt", "reciprocal", "square", "exp2", "expm1", "log2", "log10", "log1p",
                 "logaddexp", "erfc", "erfinv", "lerp", "copysign", "hypot", "sign", "sgn", "floor", "ceil", "trunc",
                 "fix", "round", "frac", "fmod", "remainder", "floor_divide", "bitwise_and", "bitwise_or", "bitwise_xor",
                 "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or", "logical_xor",
                 "logical_not", "isnan", "isinf", "isfinite", "isclose", "allclose", "nan_to_num", "clamp", "clip",
                 "div", "divide", "true_divide", "prelu"]:
        assert callable(getattr(x, name)) and callable(getattr(mg, name)), name
