"""Signs, rounding and rounded division: PyTorch's plain ops.

These are PyTorch's: sign(0) = 0 (and sign(nan) = 0), round is half to even, and the gradient of sign, sgn,
floor, ceil, trunc, round and of a rounded division is zero (frac's is 1), as torch gives it. The
straight-through versions, whose gradient is a declared surrogate (mg.ste.sign, whose sign(0) = +1, and
mg.ste.round, floor, ceil), live in mg.ste; these ops are named plain_sign, plain_round, plain_floor and
plain_ceil in graphs and traces, so a `mg.ste.surrogates(sign=...)` scope never touches them.
"""
import numpy as np

from . import xp
from ._common import meta, per_element, unbroadcast
from .elementwise import Op, Unary, _binary, _check_broadcast, _not_for, _reflected, lift, own_rule, promote


class Flat(Op):
    """A piecewise-constant op y = f(a, *params): its gradient is zero (zeros, as PyTorch's, not None)."""
    def __init_subclass__(cls, **kwargs):
        cls.backward = own_rule(cls, Flat.backward)
        super().__init_subclass__(**kwargs)

    @staticmethod
    def forward(ctx, a, *params):
        ctx.like = meta(a)
        return ctx.op.f(a.data, *params)

    @staticmethod
    def backward(ctx, g):
        return xp.zeros(*ctx.like, like=g)

    cost = per_element(1)


def _sign(x):
    return x.copy() if x.dtype == np.bool_ else ((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))


def _round(x, decimals=0):
    if decimals == 0 or x.dtype.kind != "f":
        return np.rint(x) if x.dtype.kind == "f" else x.copy()
    scale = x.dtype.type(10.0 ** abs(decimals))  # as PyTorch: x * 10^d, rounded, / 10^d (or / then * for d < 0)
    return np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale


def _keep_integers(ufunc):
    return lambda x: ufunc(x) if x.dtype.kind == "f" else x.copy()


class Sign(Flat):
    """sign(a): -1, 0 or +1; sign(0) = sign(nan) = 0; bool stays bool.   da = 0."""
    name, f = "plain_sign", _sign


class Sgn(Flat):
    """sgn(a): sign(a) for real tensors (a / |a| for complex ones in PyTorch).   da = 0."""
    f = _sign


class Floor(Flat):
    """floor(a).   da = 0."""
    name, f = "plain_floor", _keep_integers(np.floor)


class Ceil(Flat):
    """ceil(a).   da = 0."""
    name, f = "plain_ceil", _keep_integers(np.ceil)


class Trunc(Flat):
    """trunc(a), toward zero.   da = 0."""
    f = _keep_integers(np.trunc)


class Round(Flat):
    """round(a, decimals), half to even.   da = 0."""
    name, f = "plain_round", _round


class Frac(Unary):
    """a - trunc(a) (its sign is a's).   da = g."""
    f = lambda x: x - np.trunc(x)  # noqa: E731
    vjp = lambda g, a: g  # noqa: E731


def _trunc_divide(a, b):
    """a / b rounded toward zero: trunc for floats; for integers the floor, moved up where it is inexact and negative."""
    if a.dtype.kind == "f":
        return np.trunc(a / b)
    q = np.floor_divide(a, b)
    return q + ((q < 0) & (q * b != a))


class DivRounded(Op):
    """a / b rounded toward zero ('trunc') or down ('floor'; Python's // on floats).   da = 0,  db = 0."""
    name = "div_rounded"

    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.like = meta(a), meta(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_trunc_divide if mode == "trunc" else np.floor_divide)(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        return tuple(xp.zeros(*like, like=g) if need else None for like, need in zip(ctx.like, ctx.needs_input_grad))

    cost = per_element(2)


class FloorDivide(DivRounded):
    """a // b (floor). PyTorch has no gradient for it (derivative not implemented): backward is an error."""
    name = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        return DivRounded.forward(ctx, a, b, "floor")

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: its derivative is not implemented (as in PyTorch); for the zero gradient "
                           "of a rounded quotient use div(a, b, rounding_mode='floor')")


class Fmod(Op):
    """a - b trunc(a / b), the sign of a (C's fmod).   da = g,  db = -g trunc(a / b)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.like = meta(a), meta(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.quotient = ctx.op.quotient(a.data, b.data)
            return ctx.op.f(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.like[0]) if need_a else None,
                unbroadcast(-g * ctx.quotient, ctx.like[1]) if need_b else None)

    f, quotient = np.fmod, _trunc_divide
    cost = per_element(2)


class Remainder(Fmod):
    """a - b floor(a / b), the sign of b (Python's %).   da = g,  db = -g floor(a / b)."""
    f, quotient = np.remainder, np.floor_divide


class Copysign(Op):
    """|a| with the sign of b.   da = g copysign(a, b) / a (0 where a = 0),  db = 0 (as PyTorch)."""
    @staticmethod
    def forward(ctx, a, b):
        y = np.copysign(a.data, b.data)
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.ratio = np.where(a.data == 0, 0, y / a.data).astype(y.dtype)
        ctx.like = meta(a), meta(b)
        return y

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * ctx.ratio, ctx.like[0]) if need_a else None,
                xp.zeros(*ctx.like[1], like=g) if need_b else None)

    cost = per_element(1)


# ---- the functions users call ------------------------------------------------------------------
def sign(input):  # noqa: A002
    """-1, 0 or +1 (sign(0) = 0, PyTorch's), zero gradient; mg.ste.sign is the straight-through one (sign(0) = +1)."""
    return Sign.apply(lift(input))


def sgn(input):  # noqa: A002
    """sign(input) for real tensors (PyTorch's sgn extends sign to complex ones), zero gradient."""
    return Sgn.apply(lift(input))


def _rounding(op, name, input):
    return op.apply(_not_for(name, lift(input), "b"))


def floor(input):  # noqa: A002
    """The largest integer <= input; integers are returned as they are; zero gradient (mg.ste.floor: surrogate)."""
    return _rounding(Floor, "floor", input)


def ceil(input):  # noqa: A002
    """The smallest integer >= input; zero gradient (mg.ste.ceil is the straight-through one)."""
    return _rounding(Ceil, "ceil", input)


def trunc(input):  # noqa: A002
    """input rounded toward zero; zero gradient."""
    return _rounding(Trunc, "trunc", input)


def round(input, decimals=0):  # noqa: A001, A002
    """input rounded half to even to `decimals` decimal places (negative: to tens, hundreds, ...); zero gradient
    (mg.ste.round is the straight-through one). Integers only with decimals=0, as PyTorch."""
    x = _not_for("round", lift(input), "b")
    if decimals != 0:
        _not_for("round(decimals)", x, "iu")
    return Round.apply(x, int(decimals))


def frac(input):  # noqa: A002
    """input - trunc(input), its gradient 1; floating tensors only (as PyTorch)."""
    return Frac.apply(_not_for("frac", lift(input), "biu"))


def _integer_operands(op, input, other):
    """The operands promoted; bool refused, and integer division by zero (PyTorch's ZeroDivisionError)."""
    (a, b), dtype = promote(input, other)
    _not_for(op, a, "b")
    if dtype.kind in "iu" and np.any(b.data == 0):
        raise RuntimeError(f"{op}: integer division by zero (ZeroDivisionError, as in PyTorch); floats divide by "
                           "zero to inf or nan")
    _check_broadcast(op, (a, b))
    return a, b


def div_rounded(input, other, rounding_mode):
    """div(input, other, rounding_mode='trunc' | 'floor'): the quotient rounded; integers stay integers."""
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"{rounding_mode!r}")
    return DivRounded.apply(*_integer_operands("div", input, other), rounding_mode)


def floor_divide(input, other):  # noqa: A002
    """input // other, rounded down (Python's //); its gradient is an error, as in PyTorch (div with
    rounding_mode='floor' is the same quotient with a zero gradient)."""
    return FloorDivide.apply(*_integer_operands("floor_divide", input, other))


def fmod(input, other):  # noqa: A002
    """input - other * trunc(input / other): the remainder with input's sign (C's fmod)."""
    return Fmod.apply(*_integer_operands("fmod", input, other))


def remainder(input, other):  # noqa: A002
    """input - other * floor(input / other): the remainder with other's sign (Python's %)."""
    return Remainder.apply(*_integer_operands("remainder", input, other))


def copysign(input, other):  # noqa: A002
    """|input| with other's sign; integers give the default float. No gradient flows to other (zeros)."""
    return _binary(Copysign, input, other, floating=True)


fix = trunc
__all__ = ["ceil", "copysign", "fix", "floor", "floor_divide", "fmod", "frac", "remainder", "round", "sgn", "sign",
           "trunc"]
METHODS = {name: globals()[name] for name in __all__}
METHODS.update({"__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide), "__mod__": remainder,
                "__rmod__": _reflected(remainder)})
