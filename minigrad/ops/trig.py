"""Trigonometric and hyperbolic functions, their inverses, atan2 and hypot (PyTorch's names and its arc*
aliases). Integer and bool inputs compute in the default float, as PyTorch's."""
import numpy as np

from . import xp
from ._common import per_element, unbroadcast
from .elementwise import Op, Unary, _binary, _floating, _not_for, meta_of


class Tan(Unary):
    """tan(a).   da = g (1 + tan(a)^2)."""
    f, saves_output = np.tan, True
    vjp = lambda g, y: g * (1 + y * y)  # noqa: E731


class Asin(Unary):
    """asin(a).   da = g / sqrt(1 - a^2)."""
    f = np.arcsin
    vjp = lambda g, a: g / xp.sqrt(1 - a * a)  # noqa: E731


class Acos(Unary):
    """acos(a).   da = -g / sqrt(1 - a^2)."""
    f = np.arccos
    vjp = lambda g, a: -g / xp.sqrt(1 - a * a)  # noqa: E731


class Atan(Unary):
    """atan(a).   da = g / (1 + a^2)."""
    f = np.arctan
    vjp = lambda g, a: g / (a * a + 1)  # noqa: E731


class Sinh(Unary):
    """sinh(a).   da = g cosh(a)."""
    f = np.sinh
    vjp = lambda g, a: g * xp.cosh(a)  # noqa: E731


class Cosh(Unary):
    """cosh(a).   da = g sinh(a)."""
    f = np.cosh
    vjp = lambda g, a: g * xp.sinh(a)  # noqa: E731


class Asinh(Unary):
    """asinh(a).   da = g / sqrt(a^2 + 1)."""
    f = np.arcsinh
    vjp = lambda g, a: g / xp.sqrt(a * a + 1)  # noqa: E731


class Acosh(Unary):
    """acosh(a).   da = g / sqrt(a^2 - 1)."""
    f = np.arccosh
    vjp = lambda g, a: g / xp.sqrt(a * a - 1)  # noqa: E731


class Atanh(Unary):
    """atanh(a).   da = g / (1 - a^2)."""
    f = np.arctanh
    vjp = lambda g, a: g / (1 - a * a)  # noqa: E731


class Atan2(Op):
    """atan2(a, b), the angle of the point (b, a).   da = g b / (a^2 + b^2),  db = -g a / (a^2 + b^2);
    at the origin (a = b = 0) both are 0, as PyTorch's (its second derivative there is nan, as PyTorch's)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        r2 = a * a + b * b
        with np.errstate(divide="ignore", invalid="ignore"):
            r = xp.where(r2 == 0, 0.0, g / r2)
        return (unbroadcast(r * b, meta_of(a)) if need_a else None,
                unbroadcast(-r * a, meta_of(b)) if need_b else None)

    cost = per_element(8)


class Hypot(Op):
    """sqrt(a^2 + b^2), without overflow.   da = g a / hypot,  db = g b / hypot."""
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.hypot(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        r = g / ctx.output
        return (unbroadcast(r * a, meta_of(a)) if need_a else None,
                unbroadcast(r * b, meta_of(b)) if need_b else None)

    cost = per_element(4)


def tan(input): return _floating(Tan, input)  # noqa: A002, E704
def asin(input): return _floating(Asin, input)  # noqa: A002, E704
def acos(input): return _floating(Acos, input)  # noqa: A002, E704
def atan(input): return _floating(Atan, input)  # noqa: A002, E704
def sinh(input): return _floating(Sinh, input)  # noqa: A002, E704
def cosh(input): return _floating(Cosh, input)  # noqa: A002, E704
def asinh(input): return _floating(Asinh, input)  # noqa: A002, E704
def acosh(input): return _floating(Acosh, input)  # noqa: A002, E704
def atanh(input): return _floating(Atanh, input)  # noqa: A002, E704


def atan2(input, other):  # noqa: A002
    """The angle of the point (other, input) in (-pi, pi]; integers give the default float."""
    return _binary(Atan2, input, other, floating=True)


def hypot(input, other):  # noqa: A002
    """sqrt(input^2 + other^2); floating tensors only, as PyTorch."""
    _not_for("hypot", (input, other), "biu")
    return _binary(Hypot, input, other)


arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh = asin, acos, atan, atan2, asinh, acosh, atanh

__all__ = ["acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh",
           "atan", "atan2", "atanh", "cosh", "hypot", "sinh", "tan"]
METHODS = {name: globals()[name] for name in __all__}
