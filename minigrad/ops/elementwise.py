"""Elementwise ops. Each: forward on NumPy, backward rule in `xp` (arrays or Tensors), cost per element.

Binary ops broadcast like NumPy and promote dtypes like PyTorch (`promote`); `unbroadcast` sums their
gradients back to each input's shape. Floating ops (exp, sqrt, true division, ...) give integer and bool
inputs the default float dtype.
"""
import numpy as np

from ..autograd import Function
from ..dtypes import to_float
from ..tensor import Tensor
from . import special, xp
from ._common import array_of, lift, meta, movement, per_element, promote, unbroadcast


class Op(Function):
    """A built-in op: its rule is written in `xp`, so it also runs on plain arrays (one rule, two executions)."""
    takes_arrays = True


def _broadcast_error(op, shapes):
    return RuntimeError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} do not broadcast together; each "
                      "axis, counted from the right, must have equal sizes or size 1 (reshape or unsqueeze one operand)")


def _check_broadcast(op, tensors):
    try:
        np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        raise _broadcast_error(op, [t.shape for t in tensors]) from None


def _binary(op, a, b, floating=False):
    """Apply a two-input op after PyTorch's promotion (true division and the like: to the default float)."""
    (a, b), dtype = promote(a, b)
    if floating and dtype.kind not in "fc":
        dtype = to_float(dtype)
        a, b = a.astype(dtype), b.astype(dtype)
    _check_broadcast(op.name, (a, b))
    return op.apply(a, b)


def _half_and_number(a, b):
    """(the float16 tensor, the number) when one operand is each, else None."""
    for t, n in ((a, b), (b, a)):
        if isinstance(t, Tensor) and t.data.dtype == np.float16 and isinstance(n, (int, float)) \
                and not isinstance(n, bool):
            return t, n
    return None


def _in_float32(op, a, b):
    """A float16 tensor times (or divided by) a Python number, as PyTorch computes it on the CPU: in float32, the
    number not rounded to float16 first (so x * 1e-8 is not 0), the result rounded once."""
    widen = [x.astype(np.float32) if isinstance(x, Tensor) else x for x in (a, b)]
    return _binary(op, *widen, floating=True).astype(np.float16)


def _floating(op, a, *args):
    """Apply a one-input floating op: bool and integer inputs compute in the default float (as PyTorch)."""
    a = lift(a)
    if a.data.dtype.kind not in "fc":
        a = a.astype(to_float(a.data.dtype))
    return op.apply(a, *args)


# ---- arithmetic -----------------------------------------------------------------------------------
class Add(Op):
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


class Sub(Op):
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


class Mul(Op):
    """a * b.   da = g b,  db = g a."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data * b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * b, meta_of(a)) if need_a else None), (unbroadcast(g * a, meta_of(b)) if need_b else None)

    cost = per_element(1)


class Div(Op):
    """a / b.   da = g / b,  db = -g a / b^2."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data / b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g / b, meta_of(a)) if need_a else None,
                unbroadcast(-g * a / (b * b), meta_of(b)) if need_b else None)

    cost = per_element(1)


class Neg(Op):
    """-a.   da = -g."""
    @staticmethod
    def forward(ctx, a):
        return -a.data

    @staticmethod
    def backward(ctx, g):
        return -g

    cost = per_element(1)


class Pow(Op):
    """a ** b.   da = g b a^(b-1),  db = g a^b log(a); at a = 0 both are 0 where b = 0 (da) or b >= 0 (db), as
    PyTorch, instead of 0 * inf."""
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return (a.data ** b.data).astype(a.dtype, copy=False)  # bool ** bool is int8 in NumPy

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            zero_power = (array_of(a) == 0) & (array_of(b) == 0)
            ga = unbroadcast(xp.where(zero_power, 0.0, g * b * a ** (b - 1)), meta_of(a))
        if need_b:
            zero_base = (array_of(a) == 0) & (array_of(b) >= 0)
            safe_a = xp.where(zero_base, 1.0, a)
            gb = unbroadcast(xp.where(zero_base, 0.0, g * ctx.output * xp.log(safe_a)), meta_of(b))
        return ga, gb

    cost = per_element(1)


def meta_of(x):
    """(shape, dtype) of a saved input, array or Tensor."""
    return x.shape, x.dtype


# ---- floating functions -------------------------------------------------------------------------------
class Exp(Op):
    """exp(a).   da = g exp(a)."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.exp(a.data)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.output

    cost = per_element(1)


class Log(Op):
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


class Sqrt(Op):
    """sqrt(a).   da = g / (2 sqrt(a))."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.sqrt(a.data)

    @staticmethod
    def backward(ctx, g):
        return g / (ctx.output * 2)

    cost = per_element(1)


class Abs(Op):
    """|a|.   da = g sign(a), with sign(0) = 0 (as PyTorch)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * np.sign(array_of(a))

    cost = per_element(1)


class Sin(Op):
    """sin(a).   da = g cos(a)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * xp.cos(a)

    cost = per_element(1)


class Cos(Op):
    """cos(a).   da = -g sin(a)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return -g * xp.sin(a)

    cost = per_element(1)


class Tanh(Op):
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


class Sigmoid(Op):
    """s(a) = 1 / (1 + exp(-a)).   da = g s (1 - s)."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return xp.sigmoid(a.data)

    @staticmethod
    def backward(ctx, g):
        s = ctx.output
        return g * s * (1 - s)

    cost = per_element(3)


class Relu(Op):
    """max(a, 0).   da = g where a > 0, else 0."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.maximum(a.data, 0)

    @staticmethod
    def backward(ctx, g):
        return g * (array_of(ctx.output) > 0)

    cost = per_element(1)


class LeakyRelu(Op):
    """a if a > 0 else slope a.   da = g (1 or slope)."""
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.positive, ctx.slope = a.data > 0, negative_slope
        return np.where(ctx.positive, a.data, a.data * negative_slope)

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.positive, g, g * ctx.slope)

    cost = per_element(2)


_TWO_OVER_SQRT_PI = float(2 / np.sqrt(np.pi))
_SQRT_HALF = float(np.sqrt(0.5))
_INV_SQRT_2PI = float(1 / np.sqrt(2 * np.pi))
_SQRT_2_OVER_PI = float(np.sqrt(2 / np.pi))


class Erf(Op):
    """erf(a).   da = g 2/sqrt(pi) exp(-a^2)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return special.erf(a.data)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * _TWO_OVER_SQRT_PI * xp.exp(-(a * a))

    cost = per_element(20)


class Gelu(Op):
    """a Phi(a) (exact, erf) or PyTorch's tanh approximation.   da = g (Phi(a) + a phi(a))."""
    @staticmethod
    def forward(ctx, a, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        x = a.data
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1 + special.erf(x * _SQRT_HALF))

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = _SQRT_2_OVER_PI
            t = xp.tanh(k * (a + 0.044715 * a ** 3))
            return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a))
        cdf = 0.5 * (1 + xp.erf(a * _SQRT_HALF))
        pdf = xp.exp(-0.5 * a * a) * _INV_SQRT_2PI
        return g * (cdf + a * pdf)

    cost = per_element(8)


# ---- comparisons of two inputs --------------------------------------------------------------------
class Maximum(Op):
    """max(a, b) elementwise. The gradient goes to the larger input; ties split it half and half (as PyTorch)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.like = meta(a), meta(b)
        ctx.a_wins, ctx.tie = ctx.op.wins(a.data, b.data), a.data == b.data
        return ctx.op.pick(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        half = g * 0.5
        share_a = xp.where(ctx.tie, half, g * ctx.a_wins)
        share_b = xp.where(ctx.tie, half, g * ~(ctx.a_wins | ctx.tie))
        return (unbroadcast(share_a, ctx.like[0]) if need_a else None,
                unbroadcast(share_b, ctx.like[1]) if need_b else None)

    wins, pick = staticmethod(np.greater), staticmethod(np.maximum)
    cost = per_element(1)


class Minimum(Maximum):
    """min(a, b) elementwise. The gradient goes to the smaller input; ties split it half and half."""
    wins, pick = staticmethod(np.less), staticmethod(np.minimum)


class Clip(Op):
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
        return g * ctx.inside

    cost = per_element(2)


class Where(Op):
    """cond ? a : b.   da = g where cond,  db = g where not cond."""
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond, bool)
        ctx.like = meta(a), meta(b)
        return np.where(ctx.cond, a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        _, need_a, need_b = ctx.needs_input_grad
        return (None, unbroadcast(xp.where(ctx.cond, g, 0.0), ctx.like[0]) if need_a else None,
                unbroadcast(xp.where(ctx.cond, 0.0, g), ctx.like[1]) if need_b else None)

    cost = per_element(1)


class Cast(Op):
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


def compare(op, a, b):
    """a op b after promotion (a bool tensor)."""
    (a, b), _ = promote(a, b)
    _check_broadcast(op.name, (a, b))
    return op.apply(a, b)


# ---- the functions users call ------------------------------------------------------------------
def add(input, other, *, alpha=1):  # noqa: A002 (PyTorch's argument names)
    """input + alpha * other."""
    return _binary(Add, input, other if alpha == 1 else mul(other, alpha))


def sub(input, other, *, alpha=1):  # noqa: A002
    """input - alpha * other. Subtraction with a bool operand is refused (as PyTorch: use logical_xor)."""
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError("sub: subtraction with a bool tensor is not supported (as in PyTorch); for masks use "
                           "logical_xor() or the ^ operator, for numbers convert first, e.g. mask.long()")
    return _binary(Sub, input, other if alpha == 1 else mul(other, alpha))


def _is_bool(x):
    return isinstance(x, (bool, np.bool_)) or isinstance(x, Tensor) and x.data.dtype == np.bool_


def mul(input, other):  # noqa: A002
    return _in_float32(Mul, input, other) if _half_and_number(input, other) else _binary(Mul, input, other)


def div(input, other):  # noqa: A002
    """True division: integers give the default float (as PyTorch)."""
    if _half_and_number(input, other):
        return _in_float32(Div, input, other)
    return _binary(Div, input, other, floating=True)
def maximum(input, other): return _binary(Maximum, input, other)  # noqa: A002, E704
def minimum(input, other): return _binary(Minimum, input, other)  # noqa: A002, E704


def pow(input, exponent):  # noqa: A001 (mirrors torch.pow)
    """input ** exponent. Integers to negative integer powers are an error (as PyTorch), and so are bools."""
    (a, b), dtype = promote(input, exponent)
    if dtype == np.bool_ and isinstance(exponent, Tensor):
        raise NotImplementedError("pow: not implemented for bool tensors (as in PyTorch); convert first, e.g. x.long()")
    if dtype.kind in "iu" and np.any(b.data < 0):
        raise RuntimeError("pow: integers to negative integer powers are not allowed (as in PyTorch); make the base "
                           "a float tensor, e.g. x.float() ** -1")
    return _binary(Pow, input, exponent)


def neg(input):  # noqa: A002
    a = lift(input)
    if a.data.dtype == np.bool_:
        raise RuntimeError("neg: negation of a bool tensor is not supported (as in PyTorch); to invert a mask use ~ or "
                        "logical_not()")
    return Neg.apply(a)


def exp(input): return _floating(Exp, input)  # noqa: A002, E704
def log(input): return _floating(Log, input)  # noqa: A002, E704
def sqrt(input): return _floating(Sqrt, input)  # noqa: A002, E704
def sin(input): return _floating(Sin, input)  # noqa: A002, E704
def cos(input): return _floating(Cos, input)  # noqa: A002, E704
def tanh(input): return _floating(Tanh, input)  # noqa: A002, E704
def sigmoid(input): return _floating(Sigmoid, input)  # noqa: A002, E704
def erf(input): return _floating(Erf, input)  # noqa: A002, E704


def _not_for(op, a, kinds, error=NotImplementedError):
    """Refuse dtypes PyTorch has no kernel for (kinds: NumPy kind letters), with PyTorch's exception type."""
    if a.data.dtype.kind in kinds:
        raise error(f"{op}: not implemented for {a.data.dtype} tensors (as in PyTorch); convert first, e.g. x.float()")
    return a


def abs(input):  # noqa: A001, A002
    """|input|; integers stay integers."""
    return Abs.apply(_not_for("abs", lift(input), "b"))


def relu(input):  # noqa: A002
    """max(input, 0); integers stay integers."""
    return Relu.apply(_not_for("relu", lift(input), "b", RuntimeError))


def leaky_relu(input, negative_slope=0.01):  # noqa: A002
    return LeakyRelu.apply(_not_for("leaky_relu", lift(input), "biu"), negative_slope)


def gelu(input, approximate="none"):  # noqa: A002
    return Gelu.apply(_not_for("gelu", lift(input), "biu"), approximate)


def clip(input, min=None, max=None):  # noqa: A001, A002 (torch.clamp's names)
    """input clamped to [min, max]; a float bound on an integer tensor gives the default float (as PyTorch)."""
    a = lift(input)
    bounds = [v for v in (min, max) if v is not None]
    if not bounds:
        raise ValueError("clip: at least one of min and max must be given (as torch.clamp)")
    dtype = promote(a, *bounds)[1]
    if dtype != a.data.dtype:
        a = a.astype(dtype)
    return Clip.apply(a, min, max)


clamp = clip


def astype(input, dtype):  # noqa: A002
    return Cast.apply(lift(input), np.dtype(dtype))


def where(condition, input, other):  # noqa: A002
    """Elementwise `input if condition else other`; the gradient flows to input where condition holds, to
    other elsewhere. input and other promote as in a binary op."""
    (a, b), dtype = promote(input, other)
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where: condition must be a bool tensor, got {cond.dtype}; compare first (x > 0)")
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise _broadcast_error("where", [cond.shape, a.shape, b.shape]) from None
    out = Where.apply(cond, a, b)
    return out if out.data.dtype == dtype else out.astype(dtype)


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _comparison(op):
    return lambda self, other: compare(op, self, other)


__all__ = ["abs", "add", "astype", "clamp", "clip", "cos", "div", "erf", "exp", "gelu", "leaky_relu", "log", "maximum",
           "minimum", "mul", "neg", "pow", "relu", "sigmoid", "sin", "sqrt", "sub", "tanh", "where"]
METHODS = {  # the Tensor's operators and methods from this family
    "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div, "__rtruediv__": _reflected(div),
    "__pow__": pow, "__rpow__": _reflected(pow), "__neg__": neg, "__abs__": abs,
    "__eq__": _comparison(Eq), "__ne__": _comparison(Ne), "__lt__": _comparison(Lt), "__le__": _comparison(Le),
    "__gt__": _comparison(Gt), "__ge__": _comparison(Ge),
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "exp": exp, "log": log, "sqrt": sqrt,
    "abs": abs, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "erf": erf,
    "leaky_relu": leaky_relu, "gelu": gelu, "maximum": maximum, "minimum": minimum, "clip": clip, "clamp": clip,
    "astype": astype, "float": lambda self: astype(self, "float32"), "double": lambda self: astype(self, "float64"),
}
