"""Elementwise ops. Each: forward on NumPy, backward rule in `xp` (arrays or Tensors), cost per element.

Binary ops broadcast like NumPy and promote dtypes like PyTorch (`promote`); `unbroadcast` sums their
gradients back to each input's shape. Floating ops (exp, sqrt, true division, ...) give integer and bool
inputs the default float dtype.
"""
import types

import numpy as np

from ..autograd import Function
from ..dtypes import result_type, to_float
from ..tensor import Tensor
from . import special, xp
from ._common import _is_number, array_of, fill_value, lift, meta, movement, per_element, promote, unbroadcast


class Op(Function):
    """A built-in op: its forward is NumPy only, its rule is written in `xp`, so the rule also runs on plain arrays
    (one rule, two executions)."""
    takes_arrays = True
    numpy_forward = True


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
    try:
        return op.apply(a, b)
    except ValueError:  # NumPy's broadcasting error, said with the op's name and both shapes
        _check_broadcast(op.name, (a, b))
        raise


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
    if not isinstance(a, Tensor):
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
        # task 1.2: mul backward
        return (unbroadcast(g * b, meta_of(a)) if need_a else None), (unbroadcast(g * a, meta_of(b)) if need_b else None)
        # end task

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
        # task 1.5: div backward
        return (unbroadcast(g / b, meta_of(a)) if need_a else None,
                unbroadcast(-g * a / (b * b), meta_of(b)) if need_b else None)
        # end task

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
        if a.data.dtype.kind == "i" and np.any(b.data < 0):
            return _integer_power(a.data, b.data)
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


def _integer_power(a, b):
    """a ** b for integer arrays with negative exponents, as PyTorch computes them: 1 ** b = 1, (-1) ** b = +1 for
    an even b and -1 for an odd one, any other base to a negative power 0 (1 / a truncated)."""
    negative = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(b >= 0, a ** np.maximum(b, 0), negative).astype(a.dtype, copy=False)


def meta_of(x):
    """(shape, dtype) of a saved input, array or Tensor."""
    return x.shape, x.dtype


def opmath(x):
    """x in the dtype PyTorch's CPU kernels compute in: float16 arrays in float32 (round the result back once)."""
    return x.astype(np.float32) if getattr(x, "dtype", None) == np.float16 else x


def own_rule(cls, rule):
    """A shared rule as cls's own function, so graphs and traces name it `Tan.backward`, not the base's."""
    backward = types.FunctionType(rule.__code__, rule.__globals__, "backward", rule.__defaults__, rule.__closure__)
    backward.__qualname__ = f"{cls.__name__}.backward"
    return staticmethod(backward)


class Unary(Op):
    """A one-input op y = f(a) whose gradient is vjp(g, a), or vjp(g, y) with `saves_output = True`: a subclass
    gives f (NumPy) and vjp (in xp) as plain functions, each its formula."""
    def __init_subclass__(cls, **kwargs):
        cls.backward = own_rule(cls, Unary.backward)
        super().__init_subclass__(**kwargs)

    @staticmethod
    def forward(ctx, a):
        op, x = ctx.op, a.data
        if not op.saves_output:
            ctx.save_for_backward(a)
        if x.dtype == np.float16:  # computed in float32 and rounded once, as PyTorch's CPU kernels
            return op.f(x.astype(np.float32)).astype(np.float16)
        return op.f(x)

    @staticmethod
    def backward(ctx, g):
        op = ctx.op
        return op.vjp(g, ctx.output if op.saves_output else ctx.saved_tensors[0])

    cost = per_element(1)


# ---- floating functions -------------------------------------------------------------------------------
class Exp(Unary):
    """exp(a).   da = g exp(a)."""
    f, saves_output = np.exp, True
    vjp = lambda g, y: g * y  # noqa: E731


class Log(Unary):
    """log(a).   da = g / a."""
    f = np.log
    vjp = lambda g, a: g / a  # noqa: E731


class Sqrt(Unary):
    """sqrt(a).   da = g / (2 sqrt(a))."""
    f, saves_output = np.sqrt, True
    vjp = lambda g, y: g / (y * 2)  # noqa: E731


class Abs(Unary):
    """|a|.   da = g sign(a), with sign(0) = 0 (as PyTorch)."""
    f = np.abs
    vjp = lambda g, a: g * np.sign(array_of(a))  # noqa: E731


class Sin(Unary):
    """sin(a).   da = g cos(a)."""
    f = np.sin
    vjp = lambda g, a: g * xp.cos(a)  # noqa: E731


class Cos(Unary):
    """cos(a).   da = -g sin(a)."""
    f = np.cos
    vjp = lambda g, a: -g * xp.sin(a)  # noqa: E731


class Tanh(Unary):
    """tanh(a).   da = g (1 - tanh(a)^2)."""
    f, saves_output = np.tanh, True
    # task 1.3: tanh backward
    vjp = lambda g, y: g * (1 - y * y)  # noqa: E731
    # end task


class Sigmoid(Unary):
    """s(a) = 1 / (1 + exp(-a)).   da = g s (1 - s)."""
    f, saves_output = xp.sigmoid, True
    # task 1.4: sigmoid backward
    vjp = lambda g, s: g * s * (1 - s)  # noqa: E731
    # end task
    cost = per_element(3)


_TWO_OVER_SQRT_PI = float(2 / np.sqrt(np.pi))


class Erf(Unary):
    """erf(a).   da = g 2/sqrt(pi) exp(-a^2)."""
    f = special.erf
    vjp = lambda g, a: g * _TWO_OVER_SQRT_PI * xp.exp(-(a * a))  # noqa: E731
    cost = per_element(20)


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


class Fmax(Op):
    """fmax(a, b) elementwise: the larger, a nan ignored (nan only when both are). PyTorch's rule: the whole
    gradient goes to a where a >= b or b is nan, to b elsewhere (ties go to a, not split).
    da = g [a >= b or isnan(b)],  db = g [not (a >= b or isnan(b))]."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.like = meta(a), meta(b)
        ctx.a_wins = ctx.op.wins(a.data, b.data) | np.isnan(b.data)
        return ctx.op.pick(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(xp.where(ctx.a_wins, g, 0.0), ctx.like[0]) if need_a else None,
                unbroadcast(xp.where(ctx.a_wins, 0.0, g), ctx.like[1]) if need_b else None)

    wins, pick = staticmethod(np.greater_equal), staticmethod(np.fmax)
    cost = per_element(2)


class Fmin(Fmax):
    """fmin(a, b) elementwise: the smaller, a nan ignored. da = g [a <= b or isnan(b)],  db = g elsewhere."""
    wins, pick = staticmethod(np.less_equal), staticmethod(np.fmin)


class Clip(Op):
    """min(max(a, lo), hi); lo and hi are tensors (they broadcast) or None. PyTorch's clamp_backward(_min_max):
    da = g where lo <= a <= hi (boundaries included);  dlo = g where a < lo, if lo < hi;  dhi = g where a > hi,
    or everywhere hi < lo (bounds out of order: the output is hi)."""
    @staticmethod
    def forward(ctx, a, lo, hi):
        x, low, high = a.data, _data(lo), _data(hi)
        out = x if low is None else np.maximum(x, low)
        out = out if high is None else np.minimum(out, high)
        inside = True if low is None else x >= low
        inside = inside if high is None else inside & (x <= high)
        below = None if low is None else (x < low) & (True if high is None else low < high)
        above = None if high is None else (x > high) | (False if low is None else high < low)
        ctx.masks = inside, below, above
        ctx.like = [None if t is None else meta(t) for t in (a, lo, hi)]
        return out

    @staticmethod
    def backward(ctx, g):
        return tuple(unbroadcast(xp.where(mask, g, 0.0), like) if need else None
                     for mask, like, need in zip(ctx.masks, ctx.like, ctx.needs_input_grad))

    cost = per_element(2)


class Lerp(Op):
    """a + w (b - a), as PyTorch computes it (b - (b - a)(1 - w) where |w| >= 0.5, so w = 1 gives b exactly).
    da = g (1 - w),  db = g w,  dw = g (b - a);  w is a tensor or a number."""
    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        x, y, t = opmath(a.data), opmath(b.data), opmath(_data(w))
        return np.where(np.abs(t) < 0.5, x + t * (y - x), y - (y - x) * (1 - t)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        need_a, need_b, need_w = ctx.needs_input_grad
        return (unbroadcast(g * (1 - w), meta_of(a)) if need_a else None,
                unbroadcast(g * w, meta_of(b)) if need_b else None,
                unbroadcast(g * (b - a), meta_of(w)) if need_w else None)

    cost = per_element(4)


def _data(x):
    """The array of a Tensor; a number or None as it is."""
    return x.data if isinstance(x, Tensor) else x


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
def check_alpha(op, dtype, alpha):
    """PyTorch's rule for add's and sub's alpha against the result's dtype: a float alpha needs a floating result
    (int + 0.5 * int is refused, not silently made float), a bool alpha a bool result."""
    if isinstance(alpha, (bool, np.bool_)):
        if dtype != np.bool_:
            raise RuntimeError(f"{op}: alpha={alpha} is a bool, which only a bool result takes (this one is {dtype}), "
                               f"as in PyTorch; pass a number, e.g. alpha={int(alpha)}")
    elif dtype.kind in "biu" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError(f"{op}: alpha={alpha} is a float but the result is {dtype} (PyTorch refuses it too); "
                           f"make the tensors float first (e.g. x.float()) or pass an integer alpha")


def _scaled(op, input, other, alpha):  # noqa: A002
    """alpha * other for add and sub, alpha checked against the result's dtype; in a bool result alpha counts as a
    truth value (True + 2 * True is True, as PyTorch)."""
    dtype = result_type(*(x if isinstance(x, Tensor) or _is_number(x) else lift(x) for x in (input, other)))
    check_alpha(op, dtype, alpha)
    if alpha == 1:
        return other
    return mul(other, bool(alpha) if dtype == np.bool_ else alpha)


def add(input, other, *, alpha=1):  # noqa: A002 (PyTorch's argument names)
    """input + alpha * other."""
    return _binary(Add, input, other if alpha == 1 and type(alpha) is int else _scaled("add", input, other, alpha))


def sub(input, other, *, alpha=1):  # noqa: A002
    """input - alpha * other. Subtraction with a bool operand is refused (as PyTorch: use logical_xor)."""
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError("sub: subtraction with a bool tensor is not supported (as in PyTorch); for masks use "
                           "logical_xor() or the ^ operator, for numbers convert first, e.g. mask.long()")
    return _binary(Sub, input, other if alpha == 1 and type(alpha) is int else _scaled("sub", input, other, alpha))


def _is_bool(x):
    return isinstance(x, (bool, np.bool_)) or isinstance(x, Tensor) and x.data.dtype == np.bool_


def mul(input, other):  # noqa: A002
    return _in_float32(Mul, input, other) if _half_and_number(input, other) else _binary(Mul, input, other)


def div(input, other, *, rounding_mode=None):  # noqa: A002
    """True division: integers give the default float (as PyTorch). rounding_mode='trunc' or 'floor' rounds the
    quotient toward zero or down, keeps integer dtypes, and has a zero gradient (as PyTorch)."""
    if rounding_mode is not None:
        from .rounding import div_rounded
        return div_rounded(input, other, rounding_mode)
    if _half_and_number(input, other):
        return _in_float32(Div, input, other)
    return _binary(Div, input, other, floating=True)


def true_divide(input, other):  # noqa: A002
    return div(input, other)


def maximum(input, other): return _binary(Maximum, input, other)  # noqa: A002, E704
def minimum(input, other): return _binary(Minimum, input, other)  # noqa: A002, E704


def fmax(input, other):  # noqa: A002
    """fmax(input, other) elementwise: max(input, other) where neither is nan, the other one where one is nan, nan
    where both are (C's fmax; maximum propagates nan instead). The gradient goes to input where input >= other or
    other is nan, to other elsewhere (PyTorch's rule: a tie gives it all to input)."""
    if isinstance(input, Tensor) and input.data.dtype.kind == "c" or isinstance(other, Tensor) and \
            other.data.dtype.kind == "c" or isinstance(input, complex) or isinstance(other, complex):
        raise RuntimeError("fmax: not implemented for complex tensors (as in PyTorch); compare real parts instead")
    return _binary(Fmax, input, other)


def fmin(input, other):  # noqa: A002
    """fmin(input, other) elementwise: min(input, other) where neither is nan, the other one where one is nan, nan
    where both are. The gradient goes to input where input <= other or other is nan, to other elsewhere."""
    if isinstance(input, Tensor) and input.data.dtype.kind == "c" or isinstance(other, Tensor) and \
            other.data.dtype.kind == "c" or isinstance(input, complex) or isinstance(other, complex):
        raise RuntimeError("fmin: not implemented for complex tensors (as in PyTorch); compare real parts instead")
    return _binary(Fmin, input, other)


def pow(input, exponent):  # noqa: A001 (mirrors torch.pow)
    """input ** exponent. An integer tensor to a negative Python integer is an error (as PyTorch), and so are
    bools; to a tensor of negative integers it is computed as PyTorch does (1 and -1 keep a magnitude of 1, any
    other base gives 0)."""
    (a, b), dtype = promote(input, exponent)
    if dtype == np.bool_ and isinstance(exponent, Tensor):
        raise NotImplementedError("pow: not implemented for bool tensors (as in PyTorch); convert first, e.g. x.long()")
    if dtype.kind in "iu" and not isinstance(exponent, Tensor) and np.any(b.data < 0):
        raise RuntimeError("pow: integers to negative integer powers are not allowed (as in PyTorch); make the base "
                           "a float tensor, e.g. x.float() ** -1")
    return _binary(Pow, input, exponent)


def neg(input):  # noqa: A002
    a = lift(input)
    if a.data.dtype == np.bool_:
        raise RuntimeError("neg: negation of a bool tensor is not supported (as in PyTorch); to invert a mask use ~ or "
                        "logical_not()")
    return Neg.apply(a)


def positive(input):  # noqa: A002
    """input itself (+x), as torch.positive; a bool tensor is refused, as PyTorch."""
    a = lift(input)
    if a.data.dtype == np.bool_:
        raise RuntimeError("positive: the + operator on a bool tensor is not supported (as in PyTorch)")
    return a


def eq(input, other): return compare(Eq, input, other)  # noqa: A002, E704
def ne(input, other): return compare(Ne, input, other)  # noqa: A002, E704
def lt(input, other): return compare(Lt, input, other)  # noqa: A002, E704
def le(input, other): return compare(Le, input, other)  # noqa: A002, E704
def gt(input, other): return compare(Gt, input, other)  # noqa: A002, E704
def ge(input, other): return compare(Ge, input, other)  # noqa: A002, E704


def equal(input, other):  # noqa: A002
    """True when both have the same shape and equal elements (torch.equal: a Python bool, not a tensor)."""
    a, b = lift(input), lift(other)
    return a.shape == b.shape and bool(np.all(a.data == b.data))


def exp(input): return _floating(Exp, input)  # noqa: A002, E704
def log(input): return _floating(Log, input)  # noqa: A002, E704
def sqrt(input): return _floating(Sqrt, input)  # noqa: A002, E704
def sin(input): return _floating(Sin, input)  # noqa: A002, E704
def cos(input): return _floating(Cos, input)  # noqa: A002, E704
def tanh(input): return _floating(Tanh, input)  # noqa: A002, E704
def sigmoid(input): return _floating(Sigmoid, input)  # noqa: A002, E704
def erf(input): return _floating(Erf, input)  # noqa: A002, E704


def _not_for(op, a, kinds, error=NotImplementedError):
    """Refuse dtypes PyTorch has no kernel for (kinds: NumPy kind letters), with PyTorch's exception type. `a` is a
    tensor, or the operands of a binary op (as a tuple: their promoted dtype is checked)."""
    dtype = result_type(*a) if isinstance(a, tuple) else a.data.dtype
    if dtype.kind in kinds:
        raise error(f"{op}: not implemented for {dtype} tensors (as in PyTorch); convert first, e.g. x.float()")
    return a


def abs(input):  # noqa: A001, A002
    """|input|; integers stay integers."""
    return Abs.apply(_not_for("abs", lift(input), "b"))


def clip(input, min=None, max=None):  # noqa: A001, A002 (torch.clamp's names)
    """input clamped to [min, max]; each bound a number or a tensor that broadcasts (gradients flow to tensor
    bounds too, as PyTorch's). Promotion takes in the bounds: a float bound on an integer tensor gives the default
    float. A bound above the other gives max everywhere, as torch.clamp."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of min and max must be given (as torch.clamp)")
    (a, *bounds), dtype = promote(input, *(b for b in (min, max) if b is not None))
    for b in (min, max):
        if _is_number(b):
            fill_value("clamp", b, dtype)  # a bound the dtype cannot hold is an error (as PyTorch)
    if dtype == np.bool_ and (len(bounds) == 2 or _is_number(min) or _is_number(max)):
        raise NotImplementedError("clamp: not implemented for bool tensors with a number bound or with both bounds "
                                  "(as in PyTorch); convert first, e.g. x.long(), or use logical_and / logical_or")
    lo = bounds.pop(0) if min is not None else None
    hi = bounds.pop(0) if max is not None else None
    _check_broadcast("clamp", [t for t in (a, lo, hi) if t is not None])
    return Clip.apply(a, lo, hi)


clamp = clip


def clamp_min(input, min):  # noqa: A001, A002
    return clip(input, min=min)


def clamp_max(input, max):  # noqa: A001, A002
    return clip(input, max=max)


def astype(input, dtype):  # noqa: A002
    return Cast.apply(lift(input), np.dtype(dtype))


def lerp(input, end, weight):  # noqa: A002
    """input + weight (end - input); weight a number or a tensor. input, end and a tensor weight must share one
    floating dtype (PyTorch does not promote here), except a 0-d weight, which is cast to input's dtype as a
    number would be (as PyTorch); all three broadcast."""
    a = lift(input)
    b, w = lift(end, a), (float(weight) if isinstance(weight, (int, float, np.number)) else lift(weight))
    if isinstance(w, Tensor) and w.ndim == 0 and w.data.dtype.kind in "biuf" and w.data.dtype != a.data.dtype:
        w = w.astype(a.data.dtype)
    for what, t in (("end", b), ("weight", w)):
        if isinstance(t, Tensor) and t.data.dtype != a.data.dtype:
            raise RuntimeError(f"lerp: expected dtype {a.data.dtype} for `{what}` but got dtype {t.data.dtype} (as in "
                               f"PyTorch, lerp does not promote); convert it first, e.g. {what}.to(input.dtype)")
    _not_for("lerp", a, "biu")
    _check_broadcast("lerp", [t for t in (a, b, w) if isinstance(t, Tensor)])
    return Lerp.apply(a, b, w)


def where(condition, input=None, other=None):  # noqa: A002
    """Elementwise `input if condition else other`; the gradient flows to input where condition holds, to
    other elsewhere. input and other promote as in a binary op. With the condition alone: the indices where it
    holds, one index tensor per dim (nonzero(condition, as_tuple=True), as PyTorch)."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
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


def _equality(op):
    """== and != : against something that is not a tensor, an array or a number (None, a string, ...) Python's
    identity comparison decides, as for PyTorch's tensors (x == None is False, x != None is True)."""
    def method(self, other):
        if other is None or isinstance(other, (str, bytes, dict, set)):
            return NotImplemented
        return compare(op, self, other)
    return method


__all__ = ["abs", "add", "astype", "clamp", "clamp_max", "clamp_min", "clip", "cos", "div", "divide", "eq", "equal",
           "erf", "exp", "fmax", "fmin", "ge", "gt", "le", "lerp", "log", "lt", "maximum", "minimum", "mul", "ne",
           "neg", "positive", "pow", "sigmoid", "sin", "sqrt", "sub", "tanh", "true_divide", "where"]
divide = div
# PyTorch's aliases
absolute, negative, multiply, subtract = abs, neg, mul, sub
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
__all__ += ["absolute", "greater", "greater_equal", "less", "less_equal", "multiply", "negative", "not_equal",
            "subtract"]
METHODS = {  # the Tensor's operators and methods from this family
    "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div, "__rtruediv__": _reflected(div),
    "__pow__": pow, "__rpow__": _reflected(pow), "__neg__": neg, "__pos__": positive, "__abs__": abs,
    "__eq__": _equality(Eq), "__ne__": _equality(Ne), "__lt__": _comparison(Lt), "__le__": _comparison(Le),
    "__gt__": _comparison(Gt), "__ge__": _comparison(Ge),
    "add": add, "sub": sub, "mul": mul, "div": div, "divide": div, "true_divide": true_divide, "pow": pow, "neg": neg,
    "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid,
    "erf": erf, "lerp": lerp, "maximum": maximum, "minimum": minimum, "fmax": fmax, "fmin": fmin,
    "clip": clip, "clamp": clip,
    "clamp_min": clamp_min, "clamp_max": clamp_max,
    "absolute": abs, "negative": neg, "multiply": mul, "subtract": sub, "greater": gt, "greater_equal": ge,
    "less": lt, "less_equal": le, "not_equal": ne,
    "astype": astype, "positive": positive, "where": lambda self, condition, other: where(condition, self, other), "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "equal": equal,
}
