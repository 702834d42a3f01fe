"""Straight-through estimators: exact forwards, surrogate backwards, choosing the rule, LSQ, PACT."""
import functools
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import ste
from minigrad.testing import check_surrogate, gradcheck, gradgradcheck
from minigrad.testing.surrogate_check import SurrogateCheckError

X7 = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]


def f64(values, requires_grad=False):
    return mg.tensor(values, dtype="float64", requires_grad=requires_grad)


def grad_of(op, values, **kwargs):
    """d sum(op(x)) / dx at x = values, in float64."""
    x = f64(values, requires_grad=True)
    op(x, **kwargs).sum().backward()
    return x.grad.numpy()


def finite_floats(lo=-4.0, hi=4.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def float_arrays(lo=-4.0, hi=4.0, dtype=np.float64):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
                      elements=st.floats(lo, hi, allow_nan=False, width=64 if dtype == np.float64 else 32))


# ---- the exact vectors of the issue ------------------------------------------------------------
def test_sign_forward_vector_and_zero_maps_to_plus_one():
    np.testing.assert_array_equal(ste.sign(f64(X7)).numpy(), [-1, -1, -1, 1, 1, 1, 1])
    np.testing.assert_array_equal(ste.sign(f64([0.0, -0.0])).numpy(), [1, 1])


def test_default_sign_rule_is_clipped_identity_inclusive():
    np.testing.assert_array_equal(grad_of(ste.sign, X7), [0, 1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of(ste.sign, X7, surrogate=ste.Clipped()), [0, 1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of(ste.sign, X7, surrogate=ste.Clipped(inclusive=False)),
                                  [0, 0, 1, 1, 1, 0, 0])


def test_approx_sign_vector():
    np.testing.assert_allclose(grad_of(ste.sign, X7, surrogate=ste.ApproxSign()), [0, 0, 1, 2, 1, 0, 0], atol=1e-12)


def test_swish_sign_vector():
    want = [-0.030340, -0.194992, -0.084622, 5.0, -0.084622, -0.194992, -0.030340]
    np.testing.assert_allclose(grad_of(ste.sign, X7, surrogate=ste.SwishSign(beta=5)), want, atol=5e-7)


def test_swish_sign_matches_the_papers_cosh_formula():
    x = np.linspace(-3, 3, 61)
    b = 5.0
    want = b * (2 - b * x * np.tanh(b * x / 2)) / (1 + np.cosh(b * x))
    np.testing.assert_allclose(ste.SwishSign(beta=b).derivative(f64(x)).numpy(), want, rtol=1e-12, atol=1e-15)


def test_swish_sign_derivative_is_finite_for_huge_inputs():
    d = ste.SwishSign(beta=50).derivative(mg.tensor([-1e4, -80.0, 80.0, 1e4])).numpy()
    assert np.all(np.isfinite(d)) and np.all(np.abs(d) < 1e-6)


def test_heaviside_vector():
    np.testing.assert_array_equal(ste.heaviside(f64(X7)).numpy(), [0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(grad_of(ste.heaviside, X7), [0, 1, 1, 1, 1, 1, 0])


def test_fake_quantize_vector():
    x = f64([-0.06, -0.05, 25.54, 25.55], requires_grad=True)
    y = ste.fake_quantize(x, 0.1, 0, 0, 255)
    np.testing.assert_array_equal(y.numpy(), [0, 0, 25.5, 25.5])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 0])


def test_round_is_half_to_even_with_signed_zero():
    y = ste.round(f64([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])).numpy()
    np.testing.assert_array_equal(y, [-2, -2, -0.0, 0, 2, 2])
    assert np.signbit(y[2]) and not np.signbit(y[3])


def test_round_floor_ceil_pass_the_gradient_straight_through():
    x = [-1.7, -0.5, 0.2, 2.5]
    np.testing.assert_array_equal(ste.floor(f64(x)).numpy(), [-2, -1, 0, 2])
    np.testing.assert_array_equal(ste.ceil(f64(x)).numpy(), [-1, -0.0, 1, 3])
    for op in (ste.round, ste.floor, ste.ceil):
        np.testing.assert_array_equal(grad_of(op, x), [1, 1, 1, 1])
        np.testing.assert_array_equal(grad_of(op, x, surrogate=ste.Zero()), [0, 0, 0, 0])


def test_ternarize_thresholds_map_to_plus_minus_one():
    x = [-0.2, -0.05, -0.04, 0.0, 0.04, 0.05, 0.2]
    np.testing.assert_array_equal(ste.ternarize(f64(x)).numpy(), [-1, -1, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(ste.ternarize(f64(x), threshold=0.1).numpy(), [-1, 0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(grad_of(ste.ternarize, [-2.0, -1.0, 0.0, 1.0, 1.5]), [0, 1, 1, 1, 0])


# ---- properties: every forward is exactly the hard function --------------------------------------
HARD = {
    "sign": (ste.sign, lambda x: np.where(np.sign(x) < 0, -1.0, 1.0)),
    "heaviside": (ste.heaviside, lambda x: np.heaviside(x, 0.0)),
    "round": (ste.round, np.rint),
    "floor": (ste.floor, np.floor),
    "ceil": (ste.ceil, np.ceil),
    "ternarize": (functools.partial(ste.ternarize, threshold=0.3), lambda x: np.sign(x) * (np.abs(x) >= 0.3)),
}


@pytest.mark.parametrize("name", sorted(HARD))
@given(x=float_arrays())
def test_forward_is_the_hard_function(name, x):
    op, hard = HARD[name]
    np.testing.assert_array_equal(op(mg.tensor(x)).numpy(), hard(x))


@pytest.mark.parametrize("name", sorted(HARD))
@given(x=float_arrays(dtype=np.float32))
def test_forward_keeps_float32_and_gradients_too(name, x):
    op, hard = HARD[name]
    t = mg.tensor(x, requires_grad=True)
    y = op(t)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), hard(x).astype(np.float32))
    y.sum().backward()
    assert t.grad.dtype == np.float32


@given(x=float_arrays(-1.5, 2.5), bits=st.integers(1, 8), lo=finite_floats(-1, 0), width=finite_floats(0.5, 2))
def test_quantize_is_dorefa_quantize_k_on_lo_hi(x, bits, lo, width):
    hi = lo + width
    n = 2 ** bits - 1
    y = ste.quantize(mg.tensor(x), bits, lo, hi).numpy()
    levels = (y - lo) / (hi - lo) * n  # y is on the k-bit grid of [lo, hi] ...
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-9)
    assert np.all((y >= lo - 1e-12) & (y <= hi + 1e-12))
    r = (np.clip(x, lo, hi) - lo) / (hi - lo)  # ... and is DoReFa's quantize_k of the clipped input
    np.testing.assert_allclose(y, lo + (hi - lo) * np.round(n * r) / n, rtol=0, atol=1e-12)


def test_quantize_levels_and_rule():
    x = [-0.5, 0.0, 0.1, 0.2, 0.5, 0.9, 1.0, 1.2]
    np.testing.assert_allclose(ste.quantize(f64(x), 2).numpy(), [0, 0, 0, 1 / 3, 2 / 3, 1, 1, 1])
    np.testing.assert_array_equal(grad_of(functools.partial(ste.quantize, bits=2), x), [0, 1, 1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of(functools.partial(ste.quantize, bits=2), x, surrogate=ste.Identity()),
                                  np.ones(8))
    np.testing.assert_array_equal(ste.quantize(f64([-3.0, 3.0]), 1, lo=-1, hi=1).numpy(), [-1, 1])


@given(x=float_arrays(-5, 5))
def test_stochastic_sign_is_binary_and_certain_outside_minus_one_one(x):
    y = ste.stochastic_sign(mg.tensor(x), rng=np.random.default_rng(0)).numpy()
    assert np.all(np.abs(y) == 1)
    assert np.all(y[x >= 1] == 1) and np.all(y[x <= -1] == -1)


def test_stochastic_sign_expectation_is_hardtanh():
    x = np.linspace(-1.5, 1.5, 31)
    n = 20000
    samples = ste.stochastic_sign(mg.tensor(np.tile(x, (n, 1))), rng=np.random.default_rng(1234)).numpy()
    mean = samples.mean(axis=0)
    want = np.clip(x, -1, 1)
    sigma = np.sqrt((1 - want ** 2) / n)  # a mean of n independent +-1 draws
    assert np.all(np.abs(mean - want) <= 5 * sigma + 1e-12), np.max(np.abs(mean - want) / (sigma + 1e-12))


def test_stochastic_sign_follows_the_seed_and_gets_the_clipped_gradient():
    x = f64(np.linspace(-2, 2, 9), requires_grad=True)
    mg.manual_seed(7)
    a = ste.stochastic_sign(x)
    mg.manual_seed(7)
    b = ste.stochastic_sign(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert "stochastic_sign, rule=Clipped(clip=1.0)" in repr(a)
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.abs(np.linspace(-2, 2, 9)) <= 1)


# ---- the surrogate catalogue ----------------------------------------------------------------------
SURROGATES = [ste.Identity(), ste.Clipped(), ste.Clipped(0.5, inclusive=False), ste.ApproxSign(), ste.SwishSign(),
              ste.SwishSign(beta=1.5), ste.Tanh(), ste.Tanh(slope=3), ste.HardSigmoid(), ste.HardSigmoid(slope=4),
              ste.ReLU(), ste.ClippedReLU(), ste.ClippedReLU(clip=2), ste.Zero(),
              ste.Surrogate.from_function(mg.tanh), ste.Surrogate.from_function(lambda x: x * x.sigmoid())]


@pytest.mark.parametrize("surrogate", SURROGATES, ids=repr)
@given(x=st.lists(finite_floats(), min_size=1, max_size=20))
def test_derivative_is_the_finite_difference_of_smooth_away_from_kinks(surrogate, x):
    check_surrogate(None, surrogate, grid=x)


@pytest.mark.parametrize("surrogate", SURROGATES, ids=repr)
@pytest.mark.parametrize("op", ["sign", "heaviside", "round", "floor", "ceil", "ternarize", "stochastic_sign"])
def test_every_surrogate_drives_every_elementwise_op(op, surrogate):
    assert check_surrogate(op, surrogate)


def test_every_catalogue_class_is_tested():
    assert {type(s) for s in SURROGATES} >= set(ste.CATALOGUE)


def _integral(surrogate, half_width=60.0, points=1_200_001):
    x = np.linspace(-half_width, half_width, points)
    d = surrogate.derivative(f64(x)).numpy()
    return float(np.sum((d[1:] + d[:-1]) / 2) * (x[1] - x[0]))


@pytest.mark.parametrize("surrogate", [ste.Clipped(), ste.Clipped(inclusive=False), ste.ApproxSign(), ste.SwishSign(),
                                       ste.SwishSign(beta=1), ste.SwishSign(beta=20), ste.Tanh(), ste.Tanh(slope=0.5),
                                       ste.Tanh(slope=8), ste.Surrogate.from_function(mg.tanh)], ids=repr)
def test_sign_surrogates_integrate_to_the_jump_of_sign(surrogate):
    assert _integral(surrogate) == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize("surrogate", [ste.HardSigmoid(), ste.HardSigmoid(slope=5), ste.ClippedReLU()], ids=repr)
def test_step_surrogates_integrate_to_the_jump_of_heaviside(surrogate):
    assert _integral(surrogate) == pytest.approx(1.0, abs=1e-3)


def test_the_true_gradient_integrates_to_nothing():
    assert _integral(ste.Zero()) == 0.0


def test_every_sign_type_catalogue_entry_is_in_the_integral_tests():
    """Identity (unbounded), ReLU (unbounded) and Zero (the true gradient) are the only exceptions."""
    sign_like = {c for c in ste.CATALOGUE if c.hard == "sign"} - {ste.Zero}
    assert sign_like == {ste.Clipped, ste.ApproxSign, ste.SwishSign, ste.Tanh}
    assert {c for c in ste.CATALOGUE if c.hard == "heaviside"} == {ste.HardSigmoid, ste.ReLU, ste.ClippedReLU}


def test_reprs_show_the_parameters():
    assert repr(ste.Clipped()) == "Clipped(clip=1.0)"
    assert repr(ste.Clipped(0.5, inclusive=False)) == "Clipped(clip=0.5, inclusive=False)"
    assert repr(ste.SwishSign(beta=10)) == "SwishSign(beta=10.0)"
    assert repr(ste.Tanh(2)) == "Tanh(slope=2.0)" and repr(ste.Identity()) == "Identity()"
    assert repr(ste.Surrogate.from_function(mg.tanh)) == "Surrogate.from_function(tanh)"
    assert ste.SwishSign(beta=3).params() == {"beta": 3.0}


def test_tensor_repr_shows_the_bound_rule():
    x = mg.tensor([0.5, -2.0], requires_grad=True)
    assert repr(ste.sign(x)) == "tensor([ 1., -1.], grad_fn=<sign, rule=Clipped(clip=1.0)>)"
    assert "grad_fn=<sign, rule=SwishSign(beta=10.0)>" in repr(ste.sign(x, surrogate=ste.SwishSign(beta=10)))
    assert "grad_fn=<round, rule=Identity()>" in repr(ste.round(x))
    assert "grad_fn=<quantize>" in repr(ste.quantize(x, 2))


def test_bad_parameters_are_refused_with_the_name():
    with pytest.raises(ValueError, match="SwishSign: beta must be a positive number, got -1.0"):
        ste.SwishSign(beta=-1)
    s = ste.Tanh()
    with pytest.raises(ValueError, match="Tanh: slope"):
        s.slope = 0
    with pytest.raises(TypeError, match="Clipped: inclusive must be True or False"):
        ste.Clipped(inclusive="yes")
    with pytest.raises(TypeError, match="clip must be a number"):
        ste.Clipped(clip="wide")


# ---- higher order: smooth surrogates work under create_graph --------------------------------------
def _second_derivative_fd(surrogate, x, eps=1e-5):
    d = lambda v: surrogate.derivative(f64(v)).numpy()  # noqa: E731
    return (d(x + eps) - d(x - eps)) / (2 * eps)


@pytest.mark.parametrize("surrogate", [ste.SwishSign(), ste.Tanh(slope=2), ste.ApproxSign(),
                                       ste.Surrogate.from_function(mg.tanh),
                                       ste.Surrogate.from_function(lambda x: x * x.sigmoid())], ids=repr)
def test_create_graph_gives_the_surrogates_second_derivative(surrogate):
    xs = np.array([-1.3, -0.7, -0.2, 0.3, 0.45, 0.8, 1.7])
    x = f64(xs, requires_grad=True)
    g, = mg.grad(ste.sign(x, surrogate=surrogate).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), surrogate.derivative(f64(xs)).numpy(), rtol=1e-12)
    gg, = mg.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), _second_derivative_fd(surrogate, xs), rtol=1e-6, atol=1e-7)
    assert gradgradcheck(lambda t: ste.sign(t, surrogate=surrogate), [f64(xs, requires_grad=True)])


def test_from_function_derivatives_of_any_order():
    s = ste.Surrogate.from_function(lambda x: x ** 3)
    x = f64([-1.0, 0.5, 2.0], requires_grad=True)
    d1 = s.derivative(x)
    d2, = mg.grad(d1.sum(), x, create_graph=True)
    d3, = mg.grad(d2.sum(), x, create_graph=True)
    d4, = mg.grad(d3.sum(), x, allow_unused=True)
    np.testing.assert_allclose(d1.numpy(), [3, 0.75, 12])
    np.testing.assert_allclose(d2.numpy(), [-6, 3, 12])
    np.testing.assert_allclose(d3.numpy(), [6, 6, 6])
    assert d4 is None or np.all(d4.numpy() == 0)


def test_from_function_refuses_non_elementwise_functions():
    s = ste.Surrogate.from_function(lambda x: x.sum(), name="total")
    with pytest.raises(ValueError, match="must be elementwise"):
        s.derivative(f64([1.0, 2.0]))
    with pytest.raises(TypeError, match="from_function"):
        ste.Surrogate.from_function(3)


# ---- choosing the rule: per call, per scope, by default -------------------------------------------
def _rule_of(op=ste.sign):
    return op(mg.tensor([0.5], requires_grad=True)).grad_fn.rule


def test_scopes_nest_and_restore():
    a, b = ste.ApproxSign(), ste.Tanh(2)
    default = ste.Sign.default_rule
    with ste.surrogates(sign=a):
        assert _rule_of() is a
        with ste.surrogates(sign=b, round=ste.Zero()):
            assert _rule_of() is b
            assert isinstance(_rule_of(ste.round), ste.Zero)
            assert _rule_of(ste.heaviside) is ste.Heaviside.default_rule
        assert _rule_of() is a
        assert _rule_of(ste.round) is ste.Round.default_rule
        c = ste.Clipped(0.25)
        assert ste.sign(mg.tensor([0.5], requires_grad=True), surrogate=c).grad_fn.rule is c  # per call wins
    assert _rule_of() is default


def test_scope_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with ste.surrogates(sign=ste.Zero()):
            1 / 0
    assert _rule_of() is ste.Sign.default_rule


def test_scope_is_per_thread():
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def other():
        seen["before"] = _rule_of()
        entered.set()
        release.wait(5)
        seen["during"] = _rule_of()
        with ste.surrogates(sign=ste.Tanh()):
            seen["own"] = _rule_of()

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(5)
    with ste.surrogates(sign=ste.ApproxSign()):
        release.set()
        thread.join(5)
        assert isinstance(_rule_of(), ste.ApproxSign)  # the other thread's scope did not leak here
    assert seen["before"] is ste.Sign.default_rule
    assert seen["during"] is ste.Sign.default_rule  # nor did this thread's scope leak there
    assert isinstance(seen["own"], ste.Tanh)


def test_the_rule_is_bound_when_the_op_runs():
    x = f64([0.3], requires_grad=True)
    with ste.surrogates(sign=ste.Zero()):
        y = ste.sign(x)
    y.backward()  # outside the scope, yet the rule bound at forward time is used
    assert x.grad.numpy()[0] == 0


def test_set_default_and_restore():
    t = ste.Tanh(slope=2)
    previous = ste.set_default(sign=t)
    try:
        assert _rule_of() is t
        np.testing.assert_allclose(grad_of(ste.sign, [0.0]), [2.0])
    finally:
        ste.set_default(sign=None)
    assert _rule_of() is previous["sign"] and isinstance(previous["sign"], ste.Clipped)
    ste.set_default(**ste.set_default(round=ste.Zero()))  # returns what it replaced
    assert isinstance(_rule_of(ste.round), ste.Identity)


def test_any_rule_function_is_accepted():
    def double(ctx, g):
        return g * 2
    np.testing.assert_array_equal(grad_of(ste.sign, [5.0], surrogate=double), [2.0])
    with ste.surrogates(sign=double):
        np.testing.assert_array_equal(grad_of(ste.sign, [5.0]), [2.0])


def test_choosing_a_rule_badly_is_explained():
    with pytest.raises(KeyError, match="'tanh' is not a straight-through op; the ops are: sign"):
        ste.surrogates(tanh=ste.Tanh())
    with pytest.raises(TypeError, match="pass an instance, e.g. ApproxSign()"):
        ste.surrogates(sign=ste.ApproxSign)
    with pytest.raises(TypeError, match="sign= must be a Surrogate"):
        ste.sign(mg.tensor([1.0]), surrogate="approx")
    with pytest.raises(TypeError, match="surrogates: sign=None"):
        ste.surrogates(sign=None)
    with pytest.raises(KeyError, match="set_default"):
        ste.set_default(signum=ste.Zero())


def test_annealing_takes_effect_without_rebuilding():
    s = ste.SwishSign(beta=2)
    x = f64([0.0], requires_grad=True)
    for beta in (2.0, 4.0, 8.0):
        s.beta = beta
        x.grad = None
        ste.sign(x, surrogate=s).sum().backward()
        assert x.grad.numpy()[0] == pytest.approx(beta)  # SwishSign's derivative at 0 is beta
    h = ste.HardSigmoid(slope=1)
    with ste.surrogates(heaviside=h):
        y = ste.heaviside(x)
        h.slope = 6  # changed between forward and backward: backward reads the current value
    y.backward()
    assert x.grad.numpy()[0] == pytest.approx(8.0 + 3.0)


def test_observers_see_the_bound_rule():
    seen = []

    class Spy:
        def on_op(self, cls, ctx, args, kwargs, result, elapsed):
            seen.append((cls.name, getattr(ctx, "rule", None)))

    s = ste.ApproxSign()
    mg.autograd._observers.append(Spy())
    try:
        ste.sign(mg.tensor([1.0], requires_grad=True), surrogate=s)
    finally:
        mg.autograd._observers.pop()
    assert ("sign", s) in seen


def test_costs_are_one_flop_per_element():
    x = mg.tensor(np.ones((3, 4)))
    for cls in ste.OPS.values():
        assert cls.cost(None, x).flops == 12


# ---- fake_quantize ------------------------------------------------------------------------------
def fake_quantize_formula(x, scale, zero_point, qmin, qmax, axis=None):
    """The documented formula, q = round(x / scale) + zero_point, with 1/scale taken in float32 as PyTorch."""
    scale = np.asarray(scale, np.float32)
    zero_point = np.asarray(zero_point, np.float64)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    q = np.rint(x * (np.float32(1) / scale).astype(x.dtype)) + zero_point
    y = (np.minimum(np.maximum(q, qmin), qmax) - zero_point) * scale.astype(np.float64)
    return y, (qmin <= q) & (q <= qmax)


@given(x=float_arrays(-30, 30), scale=finite_floats(0.01, 1.0), zp=st.integers(-3, 3), signed=st.booleans())
def test_fake_quantize_per_tensor_is_the_formula(x, scale, zp, signed):
    qmin, qmax = (-128, 127) if signed else (0, 255)
    zp = zp if signed else abs(zp)
    t = mg.tensor(x, requires_grad=True)
    y = ste.fake_quantize(t, scale, zp, qmin, qmax)
    want, inside = fake_quantize_formula(x, scale, zp, qmin, qmax)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6, atol=1e-7)  # products formed in float32 as PyTorch
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), inside.astype(float))


@given(x=hnp.arrays(np.float64, (3, 4, 2), elements=finite_floats(-20, 20)), axis=st.sampled_from([0, 1, 2, -1]),
       data=st.data())
def test_fake_quantize_per_channel_is_the_formula(x, axis, data):
    n = x.shape[axis]
    scale = np.array(data.draw(st.lists(finite_floats(0.05, 1.0), min_size=n, max_size=n)))
    zp = np.array(data.draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)))
    t = mg.tensor(x, requires_grad=True)
    y = ste.fake_quantize(t, scale, zp, -16, 15, axis=axis)
    want, inside = fake_quantize_formula(x, scale, zp, -16, 15, axis=axis % 3)
    np.testing.assert_array_equal(y.numpy(), want)
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), inside.astype(float))


def test_fake_quantize_errors_name_the_problem():
    x = mg.randn(2, 3)
    with pytest.raises(ValueError, match="one scale and one zero_point"):
        ste.fake_quantize(x, [0.1, 0.2], 0, 0, 255)
    with pytest.raises(ValueError, match=r"needs scale and zero_point of shape \(3,\)"):
        ste.fake_quantize(x, [0.1, 0.2], [0, 0], 0, 255, axis=1)
    with pytest.raises(ValueError, match="scale must be positive"):
        ste.fake_quantize(x, 0.0, 0, 0, 255)
    with pytest.raises(ValueError, match=r"zero_point must be an integer in \[qmin, qmax\]"):
        ste.fake_quantize(x, 0.1, 300, 0, 255)
    with pytest.raises(ValueError, match="qmin <= qmax"):
        ste.fake_quantize(x, 0.1, 0, 10, 5)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        ste.fake_quantize(x, [0.1], [0], 0, 5, axis=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fake_quantize_matches_torch_bit_for_bit(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for _ in range(20):
        scale, zp = float(rng.uniform(0.005, 0.5)), int(rng.integers(0, 20))
        x = (rng.standard_normal(500) * scale * 80).astype(dtype)
        x[:100] = ((rng.integers(-40, 300, 100) + 0.5) * scale).astype(dtype)  # exact ties
        tx = torch.tensor(x, requires_grad=True)
        ty = torch.fake_quantize_per_tensor_affine(tx, scale, zp, 0, 255)
        ty.sum().backward()
        t = mg.tensor(x, requires_grad=True)
        y = ste.fake_quantize(t, scale, zp, 0, 255)
        y.sum().backward()
        np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
        np.testing.assert_array_equal(t.grad.numpy(), tx.grad.numpy())
        xc = (rng.standard_normal((3, 4, 5)) * 2).astype(dtype)
        sc, zc = rng.uniform(0.01, 0.5, 4).astype(np.float32), rng.integers(-5, 5, 4).astype(np.int32)
        tx = torch.tensor(xc, requires_grad=True)
        ty = torch.fake_quantize_per_channel_affine(tx, torch.tensor(sc), torch.tensor(zc), 1, -16, 15)
        ty.sum().backward()
        t = mg.tensor(xc, requires_grad=True)
        y = ste.fake_quantize(t, sc, zc, -16, 15, axis=1)
        y.sum().backward()
        np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
        np.testing.assert_array_equal(t.grad.numpy(), tx.grad.numpy())


# ---- LSQ and PACT: learnable step and clipping level ------------------------------------------------
def lsq_reference(x, s, bits, signed):
    qn, qp = (2 ** (bits - 1), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
    v = x / s
    return np.round(np.clip(v, -qn, qp)) * s, v, qn, qp


@given(x=float_arrays(-3, 3), s=finite_floats(0.05, 1.0), bits=st.integers(2, 5), signed=st.booleans())
def test_lsq_forward_and_gradients_are_esser_et_al(x, s, bits, signed):
    want, v, qn, qp = lsq_reference(x, s, bits, signed)
    xt, st_ = mg.tensor(x, requires_grad=True), f64(s, requires_grad=True)
    y = ste.lsq(xt, st_, bits, signed)
    np.testing.assert_array_equal(y.numpy(), want)
    g = np.random.default_rng(0).standard_normal(x.shape)
    y.backward(mg.tensor(g))
    inside = (v > -qn) & (v < qp)
    np.testing.assert_array_equal(xt.grad.numpy(), g * inside)
    ds = np.where(v <= -qn, -qn, np.where(v >= qp, qp, np.round(v) - v))
    np.testing.assert_allclose(st_.grad.numpy(), np.sum(g * ds) / np.sqrt(x.size * qp), rtol=1e-9, atol=1e-12)


def test_lsq_step_gradient_is_the_derivative_with_rounding_held_fixed():
    """LSQ's step gradient is what the chain rule gives when round has derivative 1 (the STE): check it against
    finite differences of s -> s * (clip(x/s) + r), where r = round(clip(x/s)) - clip(x/s) is frozen."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, 40)
    step = np.array([0.23])
    v = np.clip(x / step, -8, 7)
    frozen = np.round(v) - v
    assert np.min(np.abs(np.abs(x / step) - 7.5)) > 1e-3  # no point on a clipping boundary

    def relaxed(s):
        return s * (mg.clip(mg.tensor(x) / s, -8, 7) + mg.tensor(frozen))

    s = f64(step, requires_grad=True)
    g = rng.standard_normal(40)
    y = ste.lsq(mg.tensor(x), s, 4, True, grad_scale=1.0)
    np.testing.assert_allclose(y.numpy(), relaxed(step).numpy(), rtol=1e-12)
    y.backward(mg.tensor(g))
    assert gradcheck(relaxed, [f64(step, requires_grad=True)], grad_outputs=[g])
    sr = f64(step, requires_grad=True)
    relaxed(sr).backward(mg.tensor(g))
    np.testing.assert_allclose(s.grad.numpy(), sr.grad.numpy(), rtol=1e-10)


def test_lsq_per_channel_step_and_second_order():
    rng = np.random.default_rng(4)
    x = f64(rng.uniform(-1, 1, (5, 3)), requires_grad=True)
    step = f64([[0.11, 0.13, 0.17]], requires_grad=True)
    y = ste.lsq(x, step, 3, True)
    g = rng.standard_normal((5, 3))
    y.backward(mg.tensor(g))
    v = x.numpy() / step.numpy()
    inside = (v > -4) & (v < 3)
    ds = np.where(v <= -4, -4, np.where(v >= 3, 3, np.round(v) - v))
    np.testing.assert_allclose(step.grad.numpy(), (g * ds).sum(0, keepdims=True) / np.sqrt(5 * 3), rtol=1e-10)
    np.testing.assert_array_equal(x.grad.numpy(), g * inside)
    # the step gradient depends smoothly on x and s (away from rounding points): differentiate it again
    xs = f64(rng.uniform(-0.3, 0.3, 6), requires_grad=True)
    sc = f64([0.1], requires_grad=True)
    assert np.min(np.abs((xs.numpy() / 0.1) % 1 - 0.5)) > 1e-3
    assert gradgradcheck(lambda a, b: ste.lsq(a, b, 4, True), [xs, sc], atol=1e-6)


def test_lsq_and_pact_refuse_bad_arguments():
    with pytest.raises(ValueError, match="lsq: step must be positive"):
        ste.lsq(mg.randn(3), mg.tensor([0.0]), 4, True)
    with pytest.raises(ValueError, match="lsq: bits must be an integer >= 2"):
        ste.lsq(mg.randn(3), mg.tensor(0.1), 1, True)
    with pytest.raises(ValueError, match="does not broadcast"):
        ste.lsq(mg.randn(3), mg.tensor([0.1, 0.2]), 4, True)
    with pytest.raises(ValueError, match="pact: alpha must be positive"):
        ste.pact(mg.randn(3), -1.0, 4)
    with pytest.raises(ValueError, match="quantize: bits must be an integer >= 1, got 0"):
        ste.quantize(mg.randn(3), 0)
    with pytest.raises(ValueError, match="ternarize: threshold"):
        ste.ternarize(mg.randn(3), threshold=-1)


@given(x=float_arrays(-1, 4), alpha=finite_floats(0.2, 3.0), bits=st.integers(1, 6))
def test_pact_forward_and_gradients_are_choi_et_al(x, alpha, bits):
    n = 2 ** bits - 1
    xt, at = mg.tensor(x, requires_grad=True), f64(alpha, requires_grad=True)
    y = ste.pact(xt, at, bits)
    want = np.round(np.clip(x, 0, alpha) * n / alpha) * alpha / n
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-15)
    levels = y.numpy() / alpha * n
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-9)
    g = np.random.default_rng(0).standard_normal(x.shape)
    y.backward(mg.tensor(g))
    np.testing.assert_array_equal(xt.grad.numpy(), g * ((x >= 0) & (x <= alpha)))
    np.testing.assert_allclose(at.grad.numpy(), np.sum(g * (x >= alpha)), rtol=1e-12, atol=1e-12)


def test_pact_alpha_gradient_is_the_derivative_with_rounding_held_fixed():
    """PACT treats y_q = y + (frozen rounding error), y = clip(x, 0, alpha): check against finite differences."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-0.5, 2.0, 30)
    alpha = 1.1
    assert np.min(np.abs(x - alpha)) > 1e-3 and np.min(np.abs(x)) > 1e-3

    def relaxed(a):
        return mg.minimum(mg.tensor(x).relu(), a)  # clip(x, 0, alpha); no ties with alpha, so no split gradient

    a1 = f64(alpha, requires_grad=True)
    a2 = f64(alpha, requires_grad=True)
    g = rng.standard_normal(30)
    ste.pact(mg.tensor(x), a1, 3).backward(mg.tensor(g))
    relaxed(a2).backward(mg.tensor(g))
    np.testing.assert_allclose(a1.grad.numpy(), a2.grad.numpy(), rtol=1e-12)
    assert gradcheck(relaxed, [f64(alpha, requires_grad=True)], grad_outputs=[g])


def test_learnable_quantizers_train_their_parameter():
    """A few SGD steps on the step size (LSQ) and on alpha (PACT) lower a reconstruction loss."""
    x = mg.tensor(np.random.default_rng(6).standard_normal(256))
    cases = [(lambda p: ste.lsq(x, p, 3, True), x, 0.02),   # LSQ should reproduce x itself
             (lambda p: ste.pact(x, p, 2), x.relu(), 0.3)]  # PACT reproduces relu(x), clipped at alpha
    for quantizer, target, start in cases:
        p = mg.tensor([start], requires_grad=True)
        losses = []
        for _ in range(60):
            loss = ((quantizer(p) - target) ** 2).mean()
            losses.append(loss.item())
            p.grad = None
            loss.backward()
            with mg.no_grad():
                p.sub_(p.grad * 0.05)
        assert losses[-1] < 0.6 * losses[0], losses[::10]


# ---- check_surrogate catches what it should ------------------------------------------------------
def test_check_surrogate_catches_a_wrong_derivative():
    class Wrong(ste.Surrogate):
        def smooth(self, x):
            return mg.tanh(x)

        def derivative(self, x):
            return 1 - x.tanh()  # should be 1 - tanh^2

    with pytest.raises(SurrogateCheckError, match=r"Wrong\(\)\.derivative disagrees with the finite-difference"):
        check_surrogate("sign", Wrong())


def test_check_surrogate_catches_an_op_whose_forward_depends_on_the_surrogate():
    def leaky_sign(x, surrogate=None):
        return ste.sign(x, surrogate=surrogate) * (1.0 if surrogate is None else 0.5)

    with pytest.raises(SurrogateCheckError, match="changed the forward"):
        check_surrogate(leaky_sign, ste.Tanh())


def test_check_surrogate_catches_a_wrong_forward_and_a_rule_that_is_not_bound():
    def sign_at_zero_minus_one(x, surrogate=None):
        return mg.where(x.numpy() == 0, -1.0, ste.sign(x, surrogate=surrogate))

    with pytest.raises(SurrogateCheckError, match="not the exact hard function"):
        check_surrogate(sign_at_zero_minus_one, ste.Tanh(), reference=lambda x: np.where(x >= 0, 1.0, -1.0))

    def ignores_surrogate(x, surrogate=None):
        return ste.sign(x)

    with pytest.raises(SurrogateCheckError, match="did not bind the surrogate"):
        check_surrogate(ignores_surrogate, ste.Tanh())


def test_check_surrogate_catches_a_rule_that_is_not_g_times_derivative():
    class Forgetful(ste.Tanh):
        def __call__(self, ctx, g):
            return self.derivative(ctx.saved_tensors[0])  # drops the upstream gradient

    with pytest.raises(SurrogateCheckError, match="is not g \\* derivative"):
        check_surrogate("sign", Forgetful())


def test_check_surrogate_accepts_ops_with_arguments_and_classes():
    assert check_surrogate(functools.partial(ste.quantize, bits=3), ste.ClippedReLU())
    assert check_surrogate(ste.Sign, ste.SwishSign(beta=2))
    with pytest.raises(TypeError, match="pass an instance"):
        check_surrogate("sign", ste.Tanh)
    with pytest.raises(KeyError, match="not a straight-through op"):
        check_surrogate("tanh", ste.Tanh())


# ---- the plot ----------------------------------------------------------------------------------------
def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = ste.plot([ste.Clipped(), ste.SwishSign(beta=5), "round", (ste.heaviside, ste.HardSigmoid()),
                     functools.partial(ste.quantize, bits=2)], path=tmp_path / "s.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert ste.plot(ste.ApproxSign(), path=tmp_path / "one.png") == tmp_path / "one.png"


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        ste.plot([ste.Clipped()], path=tmp_path / "s.png")


def test_plot_refuses_what_it_cannot_draw(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(TypeError, match="cannot plot 3"):
        ste.plot([3], path=tmp_path / "s.png")


def test_a_surrogate_on_an_op_that_saved_nothing_says_what_is_missing():
    class Forgetful(mg.Function):
        default_rule = ste.Tanh()

        @staticmethod
        def forward(ctx, x):
            return np.sign(x.data)

    y = Forgetful.apply(mg.tensor([0.5], requires_grad=True))
    with pytest.raises(RuntimeError, match="saved no input; an op that takes a surrogate must call ctx.save_for"):
        y.backward()


def test_learnable_quantizers_keep_float32():
    x = mg.randn(4, 3, requires_grad=True)
    for op, p in ((lambda p: ste.lsq(x, p, 4, True), mg.tensor([0.1], requires_grad=True)),
                  (lambda p: ste.pact(x, p, 2), mg.tensor(1.0, requires_grad=True))):
        y = op(p)
        assert y.dtype == np.float32
        y.sum().backward()
        assert p.grad.dtype == np.float32 and x.grad.dtype == np.float32
        x.grad = None


@given(p=finite_floats(0.2, 12.0), x=st.lists(finite_floats(), min_size=1, max_size=10))
def test_parametrized_surrogates_stay_right_for_any_parameter(p, x):
    for surrogate in (ste.SwishSign(beta=p), ste.Tanh(slope=p), ste.HardSigmoid(slope=p), ste.Clipped(clip=p),
                      ste.ClippedReLU(clip=p)):
        check_surrogate(None, surrogate, grid=x, rtol=1e-4, atol=1e-5)
