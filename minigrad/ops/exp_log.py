"""Exponentials, logarithms, powers and the error functions beyond exp, log, sqrt and erf (PyTorch's names).
Integer and bool inputs compute in the default float, as PyTorch's (square keeps integers: it is pow(x, 2))."""
import numpy as np

from . import special, xp
from ._common import per_element, unbroadcast
from .elementwise import Op, Unary, _binary, _floating, _not_for, meta_of, pow

_LN2, _LN10 = float(np.log(2)), float(np.log(10))
_TWO_OVER_SQRT_PI, _SQRT_PI_OVER_TWO = float(2 / np.sqrt(np.pi)), float(np.sqrt(np.pi) / 2)


class Exp2(Unary):
    """2^a.   da = g 2^a log 2."""
    f, saves_output = np.exp2, True
    vjp = lambda g, y: g * y * _LN2  # noqa: E731


class Expm1(Unary):
    """exp(a) - 1, accurate near 0.   da = g (expm1(a) + 1)."""
    f, saves_output = np.expm1, True
    vjp = lambda g, y: g * (y + 1)  # noqa: E731


class Log2(Unary):
    """log2(a).   da = g / (a log 2)."""
    f = np.log2
    vjp = lambda g, a: g / (a * _LN2)  # noqa: E731


class Log10(Unary):
    """log10(a).   da = g / (a log 10)."""
    f = np.log10
    vjp = lambda g, a: g / (a * _LN10)  # noqa: E731


class Log1p(Unary):
    """log(1 + a), accurate near 0.   da = g / (a + 1)."""
    f = np.log1p
    vjp = lambda g, a: g / (a + 1)  # noqa: E731


class Rsqrt(Unary):
    """1 / sqrt(a).   da = -g rsqrt(a)^3 / 2."""
    f, saves_output = (lambda x: 1 / np.sqrt(x)), True
    vjp = lambda g, y: -0.5 * g * (y * y * y)  # noqa: E731
    cost = per_element(2)


class Reciprocal(Unary):
    """1 / a.   da = -g / a^2 = -g reciprocal(a)^2."""
    f, saves_output = (lambda x: 1 / x), True
    vjp = lambda g, y: -g * (y * y)  # noqa: E731


class Erfc(Unary):
    """1 - erf(a), accurate where erf(a) is near 1.   da = -g 2/sqrt(pi) exp(-a^2)."""
    f = special.erfc
    vjp = lambda g, a: g * -_TWO_OVER_SQRT_PI * xp.exp(-(a * a))  # noqa: E731
    cost = per_element(20)


class Erfinv(Unary):
    """The y with erf(y) = a, on (-1, 1).   da = g sqrt(pi)/2 exp(erfinv(a)^2)."""
    f, saves_output = special.erfinv, True
    vjp = lambda g, y: g * _SQRT_PI_OVER_TWO * xp.exp(y * y)  # noqa: E731
    cost = per_element(60)


class Logaddexp(Op):
    """log(exp(a) + exp(b)), without overflow.   da = g / (1 + exp(b - a)),  db = g / (1 + exp(a - b))."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.logaddexp(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g / (xp.exp(b - a) + 1), meta_of(a)) if need_a else None,
                unbroadcast(g / (xp.exp(a - b) + 1), meta_of(b)) if need_b else None)

    cost = per_element(4)


def xlogy_array(x, y):
    """xlogy on NumPy arrays: x log(y), 0 where x == 0, nan where y is nan (in x and y's common dtype)."""
    dtype = np.result_type(x, y)
    return np.where(np.isnan(y), y, np.where(x == 0, 0, x * np.log(y))).astype(dtype, copy=False)


class Xlogy(Op):
    """x log(y), 0 where x == 0 (even where log(y) is -inf or nan), nan where y is nan. PyTorch's rules:
    dx = xlogy(g, y), but 0 where x == 0 and y <= 0;  dy = g x / y."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xlogy_array(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(xp.where((a == 0) & (b <= 0), 0.0, xp.xlogy(g, b)), meta_of(a)) if need_a else None,
                unbroadcast(g * a / b, meta_of(b)) if need_b else None)

    cost = per_element(4)


def exp2(input): return _floating(Exp2, input)  # noqa: A002, E704
def expm1(input): return _floating(Expm1, input)  # noqa: A002, E704
def log2(input): return _floating(Log2, input)  # noqa: A002, E704
def log10(input): return _floating(Log10, input)  # noqa: A002, E704
def log1p(input): return _floating(Log1p, input)  # noqa: A002, E704
def rsqrt(input): return _floating(Rsqrt, input)  # noqa: A002, E704
def reciprocal(input): return _floating(Reciprocal, input)  # noqa: A002, E704
def erfc(input): return _floating(Erfc, input)  # noqa: A002, E704
def erfinv(input): return _floating(Erfinv, input)  # noqa: A002, E704


def square(input):  # noqa: A002
    """input * input, as pow(input, 2): integers stay integers, bool gives int64 (as PyTorch)."""
    return pow(input, 2)


def logaddexp(input, other):  # noqa: A002
    """log(exp(input) + exp(other)); floating tensors only, as PyTorch."""
    _not_for("logaddexp", (input, other), "biu")
    return _binary(Logaddexp, input, other)


def xlogy(input, other):  # noqa: A002
    """input * log(other), with PyTorch's conventions: 0 where input == 0 (also where other is 0 or negative), nan
    where other is nan. Either argument may be a Python number; integers and bools give the default float."""
    return _binary(Xlogy, input, other, floating=True)


def float_power(input, exponent):  # noqa: A002
    """input ** exponent computed in double precision, as torch.float_power: both operands are cast to float64
    (complex128 when either is complex) and the result keeps that dtype. The gradient comes back to each
    input in its own dtype (through the cast)."""
    from ..tensor import Tensor
    cplx = any(isinstance(x, complex) or isinstance(x, Tensor) and x.data.dtype.kind == "c" for x in (input, exponent))
    dtype = np.complex128 if cplx else np.float64

    def wide(x):
        if isinstance(x, Tensor):
            return x if x.data.dtype == dtype else x.astype(dtype)
        if isinstance(x, (bool, int, float, complex, np.number)):
            return x
        return Tensor._wrap(np.asarray(x, dtype=dtype))
    base, exp = wide(input), wide(exponent)
    if not isinstance(base, Tensor) and not isinstance(exp, Tensor):
        raise TypeError(f"float_power: needs a tensor as input or exponent, got {type(input).__name__} and "
                        f"{type(exponent).__name__}; wrap one, e.g. mg.tensor({input!r})")
    if not isinstance(base, Tensor):
        base = Tensor._wrap(np.asarray(base, dtype=dtype))
    return pow(base, exp)


__all__ = ["erfc", "erfinv", "exp2", "expm1", "log1p", "log2", "log10", "logaddexp", "reciprocal", "rsqrt", "square",
           "float_power", "xlogy"]
METHODS = {name: globals()[name] for name in __all__}
