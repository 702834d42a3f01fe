"""Bitwise and logical ops, the tests isnan, isinf, isfinite, isclose and allclose, and nan_to_num.

Bitwise ops (and & | ^ ~ << >>) take integer and bool tensors, promoted as PyTorch's (bool & bool is bool,
~bool is logical not; shifts refuse bool, and shift counts out of range give 0, or -1 for negative numbers
shifted right, as PyTorch's); floats are refused. Logical ops and tests take any dtype and give bool. None of
these carries a gradient; nan_to_num does (1 where the input is finite, 0 where it was replaced).
"""
import numpy as np

from ..autograd import Function
from ..dtypes import to_float
from ._common import lift, per_element
from .elementwise import Op, _check_broadcast, _not_for, _reflected, promote


class Elementwise(Function):
    """out = ufunc(*arrays), with no gradient: bitwise, logical and test ops."""
    @staticmethod
    def forward(ctx, *tensors):
        return ctx.op.ufunc(*(t.data for t in tensors))

    cost = per_element(1)


def _op(name, ufunc, doc):
    return type(name.title().replace("_", ""), (Elementwise,), {"name": name, "ufunc": staticmethod(ufunc),
                                                                "__doc__": doc})


BitwiseAnd = _op("bitwise_and", np.bitwise_and, "a & b, bit by bit (logical and for bool).")
BitwiseOr = _op("bitwise_or", np.bitwise_or, "a | b, bit by bit (logical or for bool).")
BitwiseXor = _op("bitwise_xor", np.bitwise_xor, "a ^ b, bit by bit (logical xor for bool).")
BitwiseNot = _op("bitwise_not", np.invert, "~a, bit by bit (logical not for bool).")
LeftShift = _op("bitwise_left_shift", np.left_shift, "a << b: a 2^b, 0 when b is negative or too large.")
RightShift = _op("bitwise_right_shift", np.right_shift, "a >> b: floor(a / 2^b), 0 or -1 when b is out of range.")
LogicalAnd = _op("logical_and", np.logical_and, "a != 0 and b != 0.")
LogicalOr = _op("logical_or", np.logical_or, "a != 0 or b != 0.")
LogicalXor = _op("logical_xor", np.logical_xor, "(a != 0) != (b != 0).")
LogicalNot = _op("logical_not", np.logical_not, "a == 0.")
Isnan = _op("isnan", np.isnan, "a is nan.")
Isinf = _op("isinf", np.isinf, "a is +inf or -inf.")
Isfinite = _op("isfinite", np.isfinite, "a is neither inf nor nan.")


class Isclose(Elementwise):
    """|a - b| <= atol + |rtol b| or a == b (nan == nan with equal_nan); integers compare in the default float."""
    @staticmethod
    def forward(ctx, a, b, rtol, atol, equal_nan):
        x, y = a.data, b.data
        close = np.asarray(x == y)
        if equal_nan and x.dtype.kind == "f":
            close |= np.isnan(x) & np.isnan(y)
        if rtol or atol:
            x, y = x.astype(to_float(x.dtype)), y.astype(to_float(y.dtype))
            with np.errstate(invalid="ignore", over="ignore"):
                error = np.abs(x - y)
                close |= np.isfinite(error) & (error <= atol + np.abs(rtol * y))
        return close

    cost = per_element(5)


class NanToNum(Op):
    """a with nan, +inf and -inf replaced by numbers.   da = g where a is finite, else 0 (g times the mask, as
    PyTorch)."""
    name = "nan_to_num"

    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.finite = np.isfinite(a.data)
        return np.nan_to_num(a.data, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.finite

    cost = per_element(1)


# ---- the functions users call ------------------------------------------------------------------
def _bitwise(op, input, other, refuse="fc"):
    (a, b), _ = promote(input, other)
    _not_for(op.name, a, refuse)
    _check_broadcast(op.name, (a, b))
    return op.apply(a, b)


def bitwise_and(input, other): return _bitwise(BitwiseAnd, input, other)  # noqa: A002, E704
def bitwise_or(input, other): return _bitwise(BitwiseOr, input, other)  # noqa: A002, E704
def bitwise_xor(input, other): return _bitwise(BitwiseXor, input, other)  # noqa: A002, E704
def bitwise_left_shift(input, other): return _bitwise(LeftShift, input, other, "bfc")  # noqa: A002, E704
def bitwise_right_shift(input, other): return _bitwise(RightShift, input, other, "bfc")  # noqa: A002, E704


def bitwise_not(input):  # noqa: A002
    return BitwiseNot.apply(_not_for("bitwise_not", lift(input), "fc"))


def _invert(self):
    """~x: bitwise not of an integer tensor, logical not of a bool one (as PyTorch: floats are a TypeError)."""
    if self.data.dtype.kind in "fc":
        raise TypeError(f"~ (operator.invert) is only implemented on integer and bool tensors, this one is "
                        f"{self.data.dtype} (as in PyTorch); for a mask use logical_not()")
    return BitwiseNot.apply(self)


def _logical(op, *operands):
    tensors = [lift(x) for x in operands]
    _check_broadcast(op.name, tensors)
    return op.apply(*tensors)


def logical_and(input, other): return _logical(LogicalAnd, input, other)  # noqa: A002, E704
def logical_or(input, other): return _logical(LogicalOr, input, other)  # noqa: A002, E704
def logical_xor(input, other): return _logical(LogicalXor, input, other)  # noqa: A002, E704
def logical_not(input): return _logical(LogicalNot, input)  # noqa: A002, E704
def isnan(input): return Isnan.apply(lift(input))  # noqa: A002, E704
def isinf(input): return Isinf.apply(lift(input))  # noqa: A002, E704
def isfinite(input): return Isfinite.apply(lift(input))  # noqa: A002, E704


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| <= atol + rtol |other| elementwise (bool), or equal (so inf == inf); nan == nan only with
    equal_nan. input and other must share one dtype (PyTorch does not promote here)."""
    a = lift(input)
    b = lift(other, a)
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(f"isclose: {a.data.dtype} did not match {b.data.dtype} (as in PyTorch, isclose does not "
                           "promote); convert one of them first")
    for what, tolerance in (("rtol", rtol), ("atol", atol)):
        if tolerance < 0:
            raise RuntimeError(f"isclose: {what} must be greater than or equal to zero, but got {tolerance}")
    _check_broadcast("isclose", (a, b))
    return Isclose.apply(a, b, rtol, atol, equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """True when isclose holds everywhere (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """nan, +inf and -inf replaced by nan, posinf and neginf (default: 0 and the dtype's largest and lowest finite
    values); integers and bools are returned as they are."""
    return NanToNum.apply(lift(input), nan, posinf, neginf)


__all__ = ["allclose", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
           "bitwise_xor", "isclose", "isfinite", "isinf", "isnan", "logical_and", "logical_not", "logical_or",
           "logical_xor", "nan_to_num"]
METHODS = {name: globals()[name] for name in __all__}
METHODS.update({
    "__and__": bitwise_and, "__rand__": _reflected(bitwise_and), "__or__": bitwise_or, "__ror__": _reflected(bitwise_or),
    "__xor__": bitwise_xor, "__rxor__": _reflected(bitwise_xor), "__invert__": _invert,
    "__lshift__": bitwise_left_shift, "__rlshift__": _reflected(bitwise_left_shift),
    "__rshift__": bitwise_right_shift, "__rrshift__": _reflected(bitwise_right_shift)})
