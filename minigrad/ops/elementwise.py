"""Elementwise ops. Each: forward on NumPy, backward rule in minigrad ops, cost per element.

Binary ops broadcast like NumPy; `unbroadcast` sums their gradients back to each input's shape.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._common import const, lift, meta, movement, per_element, unbroadcast


def _binary(op, a, b):
    """Apply a two-input op, lifting Python numbers to the dtype of the tensor operand."""
    if not isinstance(a, Tensor):
        a = lift(a, b if isinstance(b, Tensor) else None)
    b = lift(b, a)
    try:
        return op.apply(a, b)
    except ValueError:
        if _broadcasts(a.shape, b.shape):
            raise
        raise ValueError(f"{op.name}: shapes {a.shape} and {b.shape} do not broadcast together; each axis, counted "
                         "from the right, must have equal sizes or size 1 (reshape or unsqueeze one operand)") from None


def _broadcasts(*shapes):
    try:
        np.broadcast_shapes(*shapes)
        return True
    except ValueError:
        return False


class Add(Function):
    """a + b.   da = g,  db = g."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.like = meta(a), meta(b)
        return a.data + b.data

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.like[0]) if need_a else None), (unbroadcast(g, ctx.like[1]) if need_b else None)

    cost = per_element(1)


class Sub(Function):
    """a - b.   da = g,  db = -g."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.like = meta(a), meta(b)
        return a.data - b.data

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.like[0]) if need_a else None), (unbroadcast(-g, ctx.like[1]) if need_b else None)

    cost = per_element(1)


class Mul(Function):
    """a * b.   da = g b,  db = g a."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data * b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * b, a) if need_a else None), (unbroadcast(g * a, b) if need_b else None)

    cost = per_element(1)


class Div(Function):
    """a / b.   da = g / b,  db = -g a / b^2."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data / b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g / b, a) if need_a else None), (unbroadcast(-g * a / (b * b), b) if need_b else None)

    cost = per_element(1)


class Neg(Function):
    """-a.   da = -g."""
    @staticmethod
    def forward(ctx, a):
        return -a.data

    @staticmethod
    def backward(ctx, g):
        return -g

    cost = per_element(1)


class Pow(Function):
    """a ** b.   da = g b a^(b-1),  db = g a^b log(a)  (0 where a = 0 and b >= 0, as PyTorch)."""
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data ** b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(g * b * a ** (b - 1), a) if need_a else None
        gb = None
        if need_b:
            zero_base = (a.data == 0) & (b.data >= 0)
            safe_a = where(zero_base, 1, a)
            gb = unbroadcast(where(zero_base, 0, g * ctx.output * safe_a.log()), b)
        return ga, gb

    cost = per_element(1)


class Exp(Function):
    """exp(a).   da = g exp(a)."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.exp(a.data)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.output

    cost = per_element(1)


class Log(Function):
    """log(a).   da = g / a."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g / a

    cost = per_element(1)


class Sqrt(Function):
    """sqrt(a).   da = g / (2 sqrt(a))."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.sqrt(a.data)

    @staticmethod
    def backward(ctx, g):
        return g / (ctx.output * 2)

    cost = per_element(1)


class Abs(Function):
    """|a|.   da = g sign(a), with sign(0) = 0 (as PyTorch)."""
    @staticmethod
    def forward(ctx, a):
        ctx.sign = np.sign(a.data)
        return np.abs(a.data)

    @staticmethod
    def backward(ctx, g):
        return g * const(ctx.sign, g.dtype)

    cost = per_element(1)


class Sin(Function):
    """sin(a).   da = g cos(a)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * a.cos()

    cost = per_element(1)


class Cos(Function):
    """cos(a).   da = -g sin(a)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return -g * a.sin()

    cost = per_element(1)


class Tanh(Function):
    """tanh(a).   da = g (1 - tanh(a)^2)."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.tanh(a.data)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output
        return g * (1 - y * y)

    cost = per_element(1)


class Sigmoid(Function):
    """s(a) = 1 / (1 + exp(-a)).   da = g s (1 - s)."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        x = a.data
        e = np.exp(-np.abs(x))  # stable for large |x|
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        s = ctx.output
        return g * s * (1 - s)

    cost = per_element(3)


class Relu(Function):
    """max(a, 0).   da = g where a > 0, else 0."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.maximum(a.data, 0)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.output > 0)

    cost = per_element(1)


class LeakyRelu(Function):
    """a if a > 0 else slope a.   da = g (1 or slope)."""
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.slope = np.where(a.data > 0, 1, negative_slope).astype(a.dtype)
        return a.data * ctx.slope

    @staticmethod
    def backward(ctx, g):
        return g * const(ctx.slope, g.dtype)

    cost = per_element(2)


# Numerical Recipes' erfc (Press et al., "Numerical Recipes", 2nd ed., sec. 6.2): fractional error < 1.2e-7.
_ERFC_COEFFS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)


_ERFC_AT_0 = np.exp(np.sum(_ERFC_COEFFS))  # the fit gives 1 - 3e-8 at 0, a jump of erf that breaks gradchecks


def _erf(x):
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = np.zeros_like(t)
    for c in reversed(_ERFC_COEFFS[1:]):
        poly = t * (c + poly)
    erfc = t * np.exp(-z * z + _ERFC_COEFFS[0] + poly) / _ERFC_AT_0  # exact erfc(0) = 1: erf continuous at 0
    return np.where(x >= 0, 1 - erfc, erfc - 1).astype(x.dtype, copy=False)


class Erf(Function):
    """erf(a).   da = g 2/sqrt(pi) exp(-a^2)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _erf(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * (2 / np.sqrt(np.pi)) * (-(a * a)).exp()

    cost = per_element(20)


class Gelu(Function):
    """a Phi(a) (exact, erf) or PyTorch's tanh approximation.   da = g (Phi(a) + a phi(a))."""
    @staticmethod
    def forward(ctx, a, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        x = a.data
        if approximate == "tanh":
            return (0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))).astype(x.dtype, copy=False)
        return (0.5 * x * (1 + _erf(x / np.sqrt(2)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = np.sqrt(2 / np.pi)
            t = (k * (a + 0.044715 * a ** 3)).tanh()
            return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a))
        cdf = 0.5 * (1 + (a / np.sqrt(2)).erf())
        pdf = (-0.5 * a * a).exp() / np.sqrt(2 * np.pi)
        return g * (cdf + a * pdf)

    cost = per_element(8)


class Maximum(Function):
    """max(a, b) elementwise. The gradient goes to the larger input; ties split it half and half."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.like = meta(a), meta(b)
        ctx.share = np.where(a.data > b.data, 1.0, np.where(a.data == b.data, 0.5, 0.0))
        return np.maximum(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        share, (need_a, need_b) = ctx.share, ctx.needs_input_grad
        return (unbroadcast(g * const(share, g.dtype), ctx.like[0]) if need_a else None,
                unbroadcast(g * const(1 - share, g.dtype), ctx.like[1]) if need_b else None)

    cost = per_element(1)


class Minimum(Function):
    """min(a, b) elementwise. The gradient goes to the smaller input; ties split it half and half."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.like = meta(a), meta(b)
        ctx.share = np.where(a.data < b.data, 1.0, np.where(a.data == b.data, 0.5, 0.0))
        return np.minimum(a.data, b.data)

    backward = Maximum.backward
    cost = per_element(1)


class Clip(Function):
    """clip(a, lo, hi).   da = g where lo <= a <= hi (boundaries included, as PyTorch's clamp)."""
    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        x = a.data
        inside = np.ones(x.shape, bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.inside = inside
        return np.clip(x, lo, hi) if (lo is not None or hi is not None) else x.copy()

    @staticmethod
    def backward(ctx, g):
        return g * const(ctx.inside, bool)

    cost = per_element(2)


class Where(Function):
    """cond ? a : b.   da = g where cond,  db = g where not cond."""
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = np.asarray(cond.data if hasattr(cond, "data") else cond, bool)
        ctx.like = meta(a), meta(b)
        return np.where(ctx.cond, a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        zero, mask = const(0, g.dtype), const(ctx.cond, bool)
        _, need_a, need_b = ctx.needs_input_grad
        return (None, unbroadcast(where(mask, g, zero), ctx.like[0]) if need_a else None,
                unbroadcast(where(mask, zero, g), ctx.like[1]) if need_b else None)

    cost = per_element(1)


class Cast(Function):
    """a as another dtype.   da = g cast back to a's dtype."""
    name = "astype"

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype_in = a.dtype
        return a.data.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype_in)

    cost = movement


def _comparison(name, ufunc):
    """A comparison op: a bool tensor that carries no gradient."""
    def forward(ctx, a, b):
        return ufunc(a.data, b.data)
    return type(name.capitalize(), (Function,), {"name": name, "forward": staticmethod(forward),
                                                  "cost": per_element(1), "__doc__": f"a {name} b (bool, no gradient)."})


Eq, Ne, Lt, Le, Gt, Ge = (_comparison(n, f) for n, f in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                                                         ("le", np.less_equal), ("gt", np.greater),
                                                         ("ge", np.greater_equal)])


# ---- the functions users call ------------------------------------------------------------------
def add(a, b): return _binary(Add, a, b)
def sub(a, b): return _binary(Sub, a, b)
def mul(a, b): return _binary(Mul, a, b)
def div(a, b): return _binary(Div, a, b)
def pow(a, b): return _binary(Pow, a, b)  # noqa: A001 (mirrors torch.pow)
def maximum(a, b): return _binary(Maximum, a, b)
def minimum(a, b): return _binary(Minimum, a, b)
def neg(a): return Neg.apply(lift(a))
def exp(a): return Exp.apply(lift(a))
def log(a): return Log.apply(lift(a))
def sqrt(a): return Sqrt.apply(lift(a))
def abs(a): return Abs.apply(lift(a))  # noqa: A001
def sin(a): return Sin.apply(lift(a))
def cos(a): return Cos.apply(lift(a))
def tanh(a): return Tanh.apply(lift(a))
def sigmoid(a): return Sigmoid.apply(lift(a))
def relu(a): return Relu.apply(lift(a))
def erf(a): return Erf.apply(lift(a))
def leaky_relu(a, negative_slope=0.01): return LeakyRelu.apply(lift(a), negative_slope)
def gelu(a, approximate="none"): return Gelu.apply(lift(a), approximate)
def clip(a, min=None, max=None): return Clip.apply(lift(a), min, max)  # noqa: A002 (torch.clamp's names)
def astype(a, dtype): return Cast.apply(lift(a), np.dtype(dtype))


def where(cond, a, b):
    """Elementwise `a if cond else b`; the gradient flows to a where cond holds, to b elsewhere."""
    a = lift(a, b if isinstance(b, Tensor) else None)
    return Where.apply(cond, a, lift(b, a))
