"""Op-table rows of the elementwise families beyond the core arithmetic (tests/op_table.py has add ... clamp):
trigonometric and hyperbolic (ops/trig.py), exponentials, logarithms and error functions (ops/exp_log.py),
signs, rounding and rounded division (ops/rounding.py), bitwise, logical and tests (ops/logic.py), lerp,
clamp with tensor bounds and div's rounding modes (ops/elementwise.py); and their dtype-table entries."""
import numpy as np
from op_table import BINARY_SHAPES, OpInfo, Sample, binary, fixed, noncontiguous, unary, uniform, well_separated

INTEGERS = tuple(float(k) for k in range(-3, 4))
HALVES = tuple(k + 0.5 for k in range(-3, 3))


def _quotients(rng, shape_a, shape_b):
    """(a, b) with a / b at least 0.2 from an integer: fmod, remainder and rounded quotients are smooth there."""
    b = rng.uniform(0.6, 1.5, shape_b) * rng.choice([-1.0, 1.0], shape_b)
    q = rng.integers(-3, 4, np.broadcast_shapes(shape_a, shape_b)) + rng.uniform(0.2, 0.8, shape_a)
    return q * b, b


def quotient_samples(**kwargs):
    def samples(rng):
        out = [Sample(_quotients(rng, a, b), dict(kwargs), label)
               for (a, b), label in [(((2, 3), (2, 3)), "same"), (((2, 3), (3,)), "broadcast"), (((2, 3), ()), "0-d"),
                                     (((), ()), "0-d-both"), (((0, 3), (3,)), "empty")]]
        a, b = _quotients(rng, (3, 4), (3, 4))
        out.append(Sample((noncontiguous(a), b), dict(kwargs), "noncontig"))
        return out
    return samples


def integer_quotients(rng):
    return [Sample((rng.integers(-9, 10, (2, 3)), rng.choice([-4, -3, -2, 2, 3, 5], (2, 3))), {}, "same"),
            Sample((rng.integers(-9, 10, (2, 3)), np.array(-4)), {}, "0-d")]


def _integers(low, high):
    return lambda rng, shape: rng.integers(low, high, shape)


def integer_pairs(first=None, second=None, bools=True):
    """Integer (and bool) operand pairs for ops without a gradient (integers in [-9, 9] unless given)."""
    first, second = first or _integers(-9, 10), second or _integers(-9, 10)

    def samples(rng):
        out = [Sample((first(rng, a), second(rng, b)), {}, label) for (a, b), label in BINARY_SHAPES]
        if bools:
            out.append(Sample((rng.random((2, 3)) > 0.5, rng.random((3,)) > 0.5), {}, "bool"))
        return out
    return samples


def special_values(rng):
    """Finite values, zeros, nan and infinities."""
    return np.array([[1.5, -0.0, np.nan, np.inf], [-np.inf, 0.0, -2.0, 1e-30]])


def clamp_samples(rng):
    """x, lo, hi from one well-separated draw (no ties); lo > hi on some elements of the last sample."""
    def three(shapes, order=True):
        n = [int(np.prod(s)) for s in shapes]
        v = well_separated(rng, (sum(n),))
        x, lo, hi = np.split(v, np.cumsum(n)[:-1])
        if order:
            lo, hi = lo - 1.1, hi + 1.1  # off the grid: no ties with x
        return tuple(a.reshape(s) for a, s in zip((x, lo, hi), shapes))
    return [Sample(three([(2, 3), (2, 3), (2, 3)]), {}, "same"),
            Sample(three([(2, 3), (3,), (2, 1)]), {}, "broadcast"),
            Sample(three([(), (), ()]), {}, "0-d"),
            Sample(three([(2, 3), (2, 3), (2, 3)], order=False), {}, "lo>hi"),
            Sample((np.array([-1.0, 0.5, 1.0, 2.0]), np.array([-1.0, 0.0, 0.0, 1.0]), np.array([1.0, 1.0, 1.0, 2.0])), {},
                   "ties", False)]


def clamp_one_bound(rng):
    v = well_separated(rng, (9,))
    return [Sample((v[:6].reshape(2, 3), v[6:]), {"which": "min"}, "min"),
            Sample((v[:6].reshape(2, 3), v[6:]), {"which": "max"}, "max"),
            Sample((np.array([0.5, 1.0, 2.0]), np.array([1.0])), {"which": "min"}, "tie", False)]


def _clamp_one(m, x, bound, which):
    return m.clamp(x, **{which: bound})


def lerp_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3)), uniform(rng, (2, 3), -0.5, 1.5)), {}, "tensor-weight"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (3,)), uniform(rng, (2, 1), 0.2, 0.8)), {}, "broadcast"),
            Sample((uniform(rng, ()), uniform(rng, (2,)), uniform(rng, ())), {}, "0-d"),
            Sample((uniform(rng, (0, 3)), uniform(rng, (0, 3)), uniform(rng, (3,))), {}, "empty")]


def round_decimals(rng):
    """Values at least 0.02 (in units of the last kept decimal) from a rounding boundary."""
    def near(decimals, shape):
        k = rng.integers(-300, 300, shape) + rng.uniform(0.1, 0.4, shape) * rng.choice([-1, 1], shape)
        return k * 10.0 ** -decimals
    return [Sample((near(2, (2, 3)),), {"decimals": 2}, "2"), Sample((near(1, (5,)),), {"decimals": 1}, "1"),
            Sample((near(-1, ()),), {"decimals": -1}, "-1"), Sample((near(0, (0,)),), {"decimals": 0}, "0-empty"),
            Sample((np.array([0.125, 0.375, -2.5, 1234.5678]),), {"decimals": 2}, "ties-to-even", False)]


def _kink(values, **kwargs):
    """A sample exactly at kinks or jumps: PyTorch's convention is checked, finite differences are not."""
    return lambda r: ((np.array(values),), kwargs, "at-kinks", False)


def _with_kinks(samples, values, **kwargs):
    def build(rng):
        return samples(rng) + fixed(_kink(values, **kwargs))(rng)
    return build


def _rounded(mode):
    return lambda m, a, b: m.div(a, b, rounding_mode=mode)


def _no_grad(fn):
    return lambda m, *xs, **k: fn(m, *[x.detach() for x in xs], **k)


OPS = [
    # trigonometric and hyperbolic
    OpInfo("tan", lambda m, a: m.tan(a), unary(-1.2, 1.2)),
    OpInfo("asin", lambda m, a: m.asin(a), unary(-0.9, 0.9)),
    OpInfo("acos", lambda m, a: m.acos(a), unary(-0.9, 0.9)),
    OpInfo("atan", lambda m, a: m.atan(a), unary()),
    OpInfo("sinh", lambda m, a: m.sinh(a), unary()),
    OpInfo("cosh", lambda m, a: m.cosh(a), unary()),
    OpInfo("asinh", lambda m, a: m.asinh(a), unary()),
    OpInfo("acosh", lambda m, a: m.acosh(a), unary(1.2, 3.0)),
    OpInfo("atanh", lambda m, a: m.atanh(a), unary(-0.9, 0.9)),
    OpInfo("arc_aliases", lambda m, a: m.arcsin(a) + m.arctan(a) + a.arccos() + m.arctanh(a), unary(-0.9, 0.9)),
    OpInfo("atan2", lambda m, a, b: m.atan2(a, b), binary()),
    OpInfo("add_alpha_bool", lambda m, a, b: (m.add(a, b, alpha=2), m.add(a, b, alpha=0), a.add(b, alpha=True)),
           fixed(lambda r: ((r.random((2, 3)) > 0.5, r.random((3,)) > 0.5), {}, "bool")), grad=False),
    OpInfo("add_alpha_int", lambda m, a, b: (m.add(a, b, alpha=3), m.sub(a, b, alpha=-2), m.add(a, 2.5, alpha=2)),
           fixed(lambda r: ((r.integers(-9, 10, (2, 3)), r.integers(-9, 10, (3,))), {}, "int64")), grad=False),
    OpInfo("pow_int_negative_tensor", lambda m, a, b: (m.pow(a, b), a ** b[:1].reshape(()), 2 ** b),
           fixed(lambda r: ((np.array([-7, -3, -2, -1, 0, 1, 2, 3, 7]), np.array([-1, -2, -3, 0, 2, -1, -2, -3, 1])),
                            {}, "int64"),
                 lambda r: ((np.array([-2, -1, 1, 2], dtype=np.int8), np.array([-3, -2, -1, 3], dtype=np.int8)), {},
                            "int8")), grad=False),
    OpInfo("comparison_functions", lambda m, a, b: (m.eq(a, b), m.ne(a, b), m.lt(a, b), a.le(b), a.gt(b), a.ge(0.5)),
           fixed(lambda r: ((np.array([[1.0, 2.0, 3.0]]), np.array([[1.0], [2.5]])), {}, "broadcast"),
                 lambda r: ((np.array([1, -2, 3]), np.array([1.5, -2.0, 0.0])), {}, "int-float")), grad=False),
    OpInfo("positive", lambda m, a: m.positive(a) * 2 + (+a), unary()),
    OpInfo("small_int_and_python_int_out_of_range", lambda m, a, b: (a + 300, a - 1, a < -1, a == 256, b + 200,
                                                                    b * 1000, a.clamp(min=-1)),  # wraps, as PyTorch
           fixed(lambda r: ((np.array([0, 7, 200], dtype=np.uint8), np.array([-128, 5, 127], dtype=np.int8)), {},
                            "uint8-int8")), grad=False),
    OpInfo("lerp_0d_weight_of_another_dtype", lambda m, a, b, w: m.lerp(a, b, w.to(m.float64 if a.dtype == m.float32
                                                                                    else m.float32)),
           # smooth=False: the weight passes through float32, too coarse for finite differences (PyTorch's checked)
           fixed(lambda r: ((uniform(r, (2, 3)), uniform(r, (3,)), uniform(r, ())), {}, "0-d-weight", False))),
    OpInfo("aliases", lambda m, a, b: (m.absolute(a), a.negative(), m.multiply(a, b), a.subtract(b, alpha=2),
                                       m.greater(a, b), a.less_equal(b), m.not_equal(a, b)), binary()),
    OpInfo("atan2_origin", lambda m, a, b: m.atan2(a, b),  # gradient 0 at (0, 0), not nan; second derivative nan
           fixed(lambda r: ((np.array([0.0, 1.0, 0.0, -0.0]), np.array([0.0, 0.0, -1.0, 0.0])), {}, "origin", False))),
    OpInfo("hypot", lambda m, a, b: m.hypot(a, b), binary()),
    # nan-ignoring max and min: the gradient to input where input >= other (<= for fmin) or other is nan
    OpInfo("fmax", lambda m, a, b: m.fmax(a, b), binary()),
    OpInfo("fmin", lambda m, a, b: a.fmin(b), binary()),
    OpInfo("fmax_nan_and_ties", lambda m, a, b: (m.fmax(a, b), m.fmin(a, b)),
           fixed(lambda r: ((np.array([1.0, np.nan, 2.0, np.nan, 3.0, -1.0]),
                             np.array([np.nan, 1.0, 2.0, np.nan, 1.0, 0.5])), {}, "nan-ties", False),
                 lambda r: ((np.array([[np.nan, 0.5, -0.5]]), np.array([[0.1], [np.nan]])), {}, "nan-broadcast",
                            False))),
    # exponentials, logarithms, powers, error functions
    OpInfo("exp2", lambda m, a: m.exp2(a), unary()),
    OpInfo("expm1", lambda m, a: m.expm1(a), unary()),
    OpInfo("log2", lambda m, a: m.log2(a), unary(0.2, 3.0)),
    OpInfo("log10", lambda m, a: m.log10(a), unary(0.2, 3.0)),
    OpInfo("log1p", lambda m, a: m.log1p(a), unary(-0.8, 2.0)),
    OpInfo("rsqrt", lambda m, a: m.rsqrt(a), unary(0.2, 3.0)),
    OpInfo("reciprocal", lambda m, a: m.reciprocal(a), unary(away=(0.0,))),
    OpInfo("square", lambda m, a: m.square(a), unary()),
    OpInfo("logaddexp", lambda m, a, b: m.logaddexp(a, b), binary()),
    OpInfo("xlogy", lambda m, a, b: m.xlogy(a, b), binary(low2=0.2, high2=3.0)),
    OpInfo("xlogy_scalars", lambda m, a: (m.xlogy(a, 2.5), m.xlogy(2, a.abs() + 0.5), a.xlogy(a.abs() + 0.5)), unary()),
    # 0 where x == 0 (y 0, negative or inf), nan where y is nan; gradients as PyTorch's (x: xlogy(x != 0, y), y: x / y)
    OpInfo("xlogy_zeros_and_nan", lambda m, a, b: m.xlogy(a, b),
           fixed(lambda r: ((np.array([0.0, 0.0, 0.0, 0.0, 1.5, -2.0, 0.0]),
                             np.array([0.0, -1.0, np.inf, np.nan, np.nan, 0.0, 2.0])), {}, "zeros-nan", False))),
    OpInfo("float_power", lambda m, a, b: m.float_power(a, b), binary(low=0.3, high=2.0, low2=-2.0, high2=2.0)),
    OpInfo("xlogy_float_power_in_place", lambda m, a, b: (a.clone().xlogy_(b), a.clone().double().float_power_(b)),
           binary(low=0.3, high=2.0, low2=0.2, high2=2.0,
                  shapes=[(((2, 3), (2, 3)), "same"), (((2, 3), (3,)), "broadcast"), (((), ()), "0-d"),
                          (((0, 3), (3,)), "empty")])),
    OpInfo("float_power_scalars", lambda m, a: (m.float_power(a, 2), a.float_power(-0.5), m.float_power(1.5, a)),
           unary(low=0.3, high=2.0)),
    OpInfo("erfc", lambda m, a: m.erfc(a), unary(-3.0, 3.0)),
    OpInfo("erfinv", lambda m, a: m.erfinv(a), unary(-0.9, 0.9)),
    OpInfo("methods_exp_log", lambda m, a: a.exp2() + a.expm1() + a.log1p() + a.square() + a.erfc() + a.rsqrt(),
           unary(0.2, 0.9)),
    # signs and rounding: zero gradients (frac's is 1), PyTorch's values at 0 and at the ties
    OpInfo("sign", lambda m, a: m.sign(a), _with_kinks(unary(away=(0.0,)), [0.0, -0.0, 2.0, np.nan])),
    OpInfo("sgn", lambda m, a: a.sgn(), _with_kinks(unary(away=(0.0,)), [0.0, -1.5])),
    OpInfo("floor", lambda m, a: m.floor(a), _with_kinks(unary(away=INTEGERS), [-1.0, 0.0, 2.0])),
    OpInfo("ceil", lambda m, a: a.ceil(), _with_kinks(unary(away=INTEGERS), [-1.0, 0.0, 2.0])),
    OpInfo("trunc", lambda m, a: m.trunc(a), _with_kinks(unary(away=INTEGERS), [-1.0, 0.0, 2.0])),
    OpInfo("fix", lambda m, a: a.fix(), unary(away=INTEGERS, shapes=[((2, 3), "2-d")])),
    OpInfo("round", lambda m, a: m.round(a), _with_kinks(unary(away=HALVES), [-2.5, -0.5, 0.5, 1.5, 2.5])),
    OpInfo("round_decimals", lambda m, a, **k: m.round(a, **k), round_decimals),
    OpInfo("frac", lambda m, a: m.frac(a), _with_kinks(unary(away=INTEGERS), [-1.0, 0.0, 2.0])),
    OpInfo("copysign", lambda m, a, b: m.copysign(a, b), binary(away=(0.0,))),
    OpInfo("copysign_scalar", lambda m, a: m.copysign(a, -1.0), unary(away=(0.0,))),
    # at a = 0 PyTorch's second derivative is nan (0/0 in its formula grad * result / self); minigrad's is 0
    OpInfo("copysign_at_0", lambda m, a, b: a.copysign(b),
           fixed(lambda r: ((np.array([0.0, -0.0, 1.5]), np.array([-1.0, 2.0, -0.0])), {}, "zeros", False)),
           gradgrad=False),
    # rounded division and remainders
    OpInfo("fmod", lambda m, a, b: m.fmod(a, b), quotient_samples()),
    OpInfo("remainder", lambda m, a, b: m.remainder(a, b), quotient_samples()),
    OpInfo("mod_operator", lambda m, a, b: a % b, quotient_samples()),
    # PyTorch has no derivative for remainder(number, tensor); minigrad's is the tensor formula (tests/test_elementwise.py)
    OpInfo("rmod_scalar", _no_grad(lambda m, a: 2.5 % a), unary(0.9, 2.0, away=(1.25,)), grad=False),
    OpInfo("integer_quotients", lambda m, a, b: [m.fmod(a, b), m.remainder(a, b), m.div(a, b, rounding_mode="trunc"),
                                                  m.div(a, b, rounding_mode="floor"), a // b, a % b],
           integer_quotients, grad=False),
    OpInfo("fmod_scalar", lambda m, a: m.fmod(a, -1.5), unary(away=(-1.5, 1.5))),
    OpInfo("div_trunc", _rounded("trunc"), quotient_samples()),
    OpInfo("div_floor", _rounded("floor"), quotient_samples()),
    OpInfo("div_floor_zero", _rounded("floor"),
           fixed(lambda r: ((np.array([1.0, -1.0, 0.0, 3.0]), np.array([0.0, 0.0, 0.0, -0.0])), {}, "by-zero", False))),
    OpInfo("floor_divide", _no_grad(lambda m, a, b: m.floor_divide(a, b)), quotient_samples(), grad=False),
    OpInfo("floordiv_operator", _no_grad(lambda m, a, b: a // b), quotient_samples(), grad=False),
    OpInfo("rfloordiv_scalar", _no_grad(lambda m, a: 7 // a), unary(0.5, 2.0), grad=False),
    # lerp, clamp with tensor bounds
    OpInfo("lerp_scalar", lambda m, a, b, **k: m.lerp(a, b, **k), binary(weight=0.3)),
    OpInfo("lerp_scalar_high", lambda m, a, b, **k: a.lerp(b, **k), binary(weight=0.75)),
    OpInfo("lerp_tensor", lambda m, a, b, w: m.lerp(a, b, w), lerp_samples),
    OpInfo("clamp_tensor", lambda m, x, lo, hi: m.clamp(x, min=lo, max=hi), clamp_samples),
    OpInfo("clamp_tensor_one", _clamp_one, clamp_one_bound),
    # bounds larger than x widen the output; PyTorch computes it but its backward fails to sum x's gradient back
    # ("output with shape [] doesn't match the broadcast shape [3]"): the forward only here, the gradient in
    # tests/test_elementwise.py
    OpInfo("clamp_bounds_widen", _no_grad(lambda m, x, lo, hi: m.clamp(x, lo, hi)),
           fixed(lambda r: ((np.array(0.3), np.array([-1.0, 0.5, 1.0]), np.array(0.7)), {}, "widen"),
                 lambda r: ((np.array([0.3, -0.3]), np.array([[-1.0], [0.5], [1.0]]), np.array(0.7)), {}, "rank")),
           grad=False),
    OpInfo("clip_tensor_method", lambda m, x, lo, hi: x.clip(lo, hi), clamp_samples),
    OpInfo("clamp_min_max", lambda m, x, lo, hi: m.clamp_min(x, lo) + x.clamp_max(hi) + m.clamp_min(x, 0.35),
           lambda r: clamp_samples(r)[:2]),
    OpInfo("nan_to_num", lambda m, a, **k: m.nan_to_num(a, **k),
           fixed(lambda r: ((uniform(r, (2, 3)),), {}, "finite"),
                 lambda r: ((special_values(r),), {}, "defaults", False),
                 lambda r: ((special_values(r),), {"nan": 0.5, "posinf": 3.0, "neginf": -3.0}, "given", False))),
    # bitwise and logical ops, tests: no gradient
    OpInfo("bitwise_and", lambda m, a, b: m.bitwise_and(a, b), integer_pairs(), grad=False),
    OpInfo("bitwise_or", lambda m, a, b: a | b, integer_pairs(), grad=False),
    OpInfo("bitwise_xor", lambda m, a, b: a.bitwise_xor(b), integer_pairs(), grad=False),
    OpInfo("bitwise_not", lambda m, a: ~a + m.bitwise_not(a),
           fixed(lambda r: ((r.integers(-9, 10, (2, 3)),), {}, "int64")), grad=False),
    OpInfo("invert_bool", lambda m, a: ~a, fixed(lambda r: ((r.random((2, 3)) > 0.5,), {}, "bool")), grad=False),
    OpInfo("bitwise_scalars", lambda m, a: (a & 6) | (3 ^ a),
           fixed(lambda r: ((r.integers(-9, 10, (2, 3)),), {}, "int64")), grad=False),
    OpInfo("left_shift", lambda m, a, b: a << b, integer_pairs(second=_integers(-2, 70), bools=False), grad=False),
    OpInfo("right_shift", lambda m, a, b: m.bitwise_right_shift(a, b),
           integer_pairs(second=_integers(-2, 70), bools=False), grad=False),
    OpInfo("shift_scalars", lambda m, a: (a >> 1) + (3 << a),
           fixed(lambda r: ((r.integers(0, 9, (2, 3)),), {}, "int64")), grad=False),
    OpInfo("logical_and", lambda m, a, b: m.logical_and(a, b), binary(-1, 1, away=(0.5,)), grad=False),
    OpInfo("logical_or", lambda m, a, b: a.logical_or(b), integer_pairs(_integers(-1, 2), _integers(-1, 2)),
           grad=False),
    OpInfo("logical_xor", lambda m, a, b: m.logical_xor(a, b), integer_pairs(_integers(-1, 2)), grad=False),
    OpInfo("logical_not", lambda m, a: m.logical_not(a),
           fixed(lambda r: ((special_values(r),), {}, "float"), lambda r: ((r.integers(-1, 2, (4,)),), {}, "int")),
           grad=False),
    OpInfo("isnan", lambda m, a: m.isnan(a), fixed(lambda r: ((special_values(r),), {}, "special")), grad=False),
    OpInfo("isinf", lambda m, a: a.isinf(), fixed(lambda r: ((special_values(r),), {}, "special")), grad=False),
    OpInfo("isfinite", lambda m, a: m.isfinite(a),
           fixed(lambda r: ((special_values(r),), {}, "special"), lambda r: ((r.integers(-1, 2, (4,)),), {}, "int")),
           grad=False),
    OpInfo("isclose", lambda m, a, b, **k: m.isclose(a, b, **k),
           fixed(lambda r: ((np.array([1.0, 1.0, np.inf, np.nan, 0.0]), np.array([1.0 + 1e-9, 1.1, np.inf, np.nan, 1e-9])),
                            {}, "defaults"),
                 lambda r: ((np.array([1.0, np.nan, 100.0]), np.array([1.05, np.nan, 101.0])),
                            {"rtol": 0.1, "atol": 0.0, "equal_nan": True}, "tolerances"),
                 lambda r: ((r.integers(0, 5, (2, 3)), r.integers(0, 5, (3,))), {"atol": 1}, "int64")),
           grad=False),
]

def _function(name):
    """lambda m, *operands: m.<name>(*operands)."""
    return lambda m, *xs: getattr(m, name)(*xs)


DTYPE_UNARY = {
    name: _function(name)
    for name in ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "rsqrt", "reciprocal",
                 "square", "exp2", "expm1", "log2", "log10", "log1p", "erfc", "erfinv", "sign", "sgn", "floor", "ceil",
                 "trunc", "round", "frac", "bitwise_not", "logical_not", "isnan", "isinf", "isfinite", "nan_to_num"]
}
DTYPE_UNARY.update({"round_decimals": lambda m, x: m.round(x, decimals=1), "invert": lambda m, x: ~x})
DTYPE_BINARY = {
    name: _function(name)
    for name in ["atan2", "hypot", "logaddexp", "copysign", "fmod", "remainder", "floor_divide", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or",
                 "logical_xor", "isclose"]
}
DTYPE_BINARY.update({
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "floordiv_op": lambda m, a, b: a // b, "mod_op": lambda m, a, b: a % b, "and_op": lambda m, a, b: a & b,
    "lshift_op": lambda m, a, b: a << b, "lerp": lambda m, a, b: m.lerp(a, b, 0.5),
    "xlogy": lambda m, a, b: m.xlogy(a, b), "float_power": lambda m, a, b: m.float_power(a, b),
    "clamp_tensor_min": lambda m, a, b: m.clamp(a, min=b), "clamp_max_fn": lambda m, a, b: m.clamp_max(a, b), "clamp_tensor_both": lambda m, a, b: m.clamp(a, b, b),
})
