"""In-place updates (`p.sub_(g, alpha=lr)`, `x += 1`, `x[i] = v`), with PyTorch's semantics.

Without a graph to record (no grad needed, or inside `mg.no_grad()`, as in an optimizer step) an update
is an op that writes straight into the target's array: no temporary, no copy, and the tracer counts it.

With one (the target, or the value written, requires grad), the update is still made in place, so every
alias sees it, and the history is rewritten as PyTorch's autograd does: the target's `grad_fn` becomes the
op that computed the new value from the old. When the target is a view of a tensor in the graph, the base's
`grad_fn` becomes a `copy_slices` node (the base with the view's region replaced), and the base's live
views are rebuilt from it. Updating a leaf that requires grad, or a view of one, is an error, as in PyTorch.

Every update bumps the target's version counter, which its views share: a node that saved the old value
finds out at backward and says so (see Node.saved_tensors).
"""
import numpy as np

from ..autograd import Cost, Function, is_grad_enabled
from ..tensor import Tensor
from . import xp
from ..dtypes import result_type
from ._common import _is_number, fill_value, lift, movement, per_element
from .elementwise import Op, add, check_alpha, div, mul, sub


class _InPlace(Function):
    """target <- ufunc(target, value), written into target's array (the no-graph path)."""
    ufunc = None
    casting = "same_kind"  # as PyTorch: int_tensor += 0.5 is refused

    @staticmethod
    def forward(ctx, target, value):
        if not target.data.flags.writeable:
            raise RuntimeError(f"{ctx.op.name}: the {target.dtype} tensor of shape {target.shape} is read-only: a "
                               "broadcast view (expand, broadcast_to), whose elements share memory, or a read-only "
                               "array; it cannot be written in place, clone() it first")
        try:
            ctx.op.ufunc(target.data, value.data, out=target.data, casting=ctx.op.casting)
        except (ValueError, TypeError) as e:
            raise RuntimeError(f"{ctx.op.name}: cannot update a {target.dtype} tensor of shape {target.shape} in "
                               f"place with a {value.dtype} value of shape {value.shape}: {e}") from None
        return target.data

    cost = per_element(1)


class AddInPlace(_InPlace):
    """target += value."""
    name, ufunc = "add_", np.add


class SubInPlace(_InPlace):
    """target -= value."""
    name, ufunc = "sub_", np.subtract


_BLOCK = 1 << 15  # elements of alpha * value formed at a time by _ScaledInPlace (128 KB of float32)


class _ScaledInPlace(Function):
    """target <- ufunc(target, alpha * value) in one op, as PyTorch's add_/sub_ kernels take alpha (the no-graph
    path of an optimizer's p.sub_(g, alpha=lr)). alpha * value is formed a block of rows at a time, so, as with
    PyTorch's fused kernel, the update needs no temporary the size of the target; it rounds as the out-of-place
    mul would: a float16 value is scaled in float32 and rounded once (see elementwise._in_float32)."""
    ufunc = None

    @staticmethod
    def forward(ctx, target, value, alpha):
        t = target.data
        try:
            v = value.data if value.shape == t.shape else np.broadcast_to(value.data, t.shape)
            rows = max(1, _BLOCK * len(t) // t.size) if t.ndim and t.size else 1
            if np.may_share_memory(t, v):
                rows = max(len(t), 1)  # value aliases the target: scale all of it before writing (as-if a copy)
            for block in ((slice(i, i + rows),) for i in range(0, len(t), rows)) if t.ndim else [...]:
                _ScaledInPlace._update(ctx.op.ufunc, t[block], v[block], alpha)
        except (ValueError, TypeError) as e:
            raise RuntimeError(f"{ctx.op.name}: cannot update a {target.dtype} tensor of shape {target.shape} in "
                               f"place with alpha * a {value.dtype} value of shape {value.shape}: {e}") from None
        return t

    @staticmethod
    def _update(ufunc, t, v, alpha):
        scaled = (v.astype(np.float32) * alpha).astype(np.float16) if v.dtype == np.float16 else v * alpha
        ufunc(t, scaled, out=t, casting="same_kind")  # scaled is freed on return, before the next block's

    @staticmethod
    def cost(ctx, out, target, value, alpha):
        return Cost(flops=out.size + value.size)  # the multiply, then the update


class AddScaledInPlace(_ScaledInPlace):
    """target += alpha * value."""
    name, ufunc = "add_", np.add


class SubScaledInPlace(_ScaledInPlace):
    """target -= alpha * value."""
    name, ufunc = "sub_", np.subtract


class MulInPlace(_InPlace):
    """target *= value."""
    name, ufunc = "mul_", np.multiply


class DivInPlace(_InPlace):
    """target /= value."""
    name, ufunc = "div_", np.true_divide


def _copy(target, value, out, casting):
    np.copyto(out, value, casting=casting)


class CopyInPlace(_InPlace):
    """target <- value (broadcast, cast within its kind)."""
    name, ufunc = "copy_", staticmethod(_copy)
    cost = movement


class CastInPlace(CopyInPlace):
    """target <- value cast to target's dtype whatever the kinds (copy_ and fill_: 2.7 into an int64 tensor is 2, as
    PyTorch)."""
    name, casting = "copy_", "unsafe"


def rebuild_view(base, steps):
    """The view `steps` make of base (a Tensor, recorded; or an array, a NumPy view)."""
    for cls, params, kwargs in steps:
        base = cls.apply(base, *params, **kwargs) if isinstance(base, Tensor) else xp.apply(cls, base, *params, **kwargs)
    return base


class CopySlices(Op):
    """base with the region that the view `steps` select replaced by value (an in-place change made through a
    view, as PyTorch's CopySlices).   dbase = g outside the region, 0 inside;  dvalue = the region of g."""
    name = "copy_slices"

    @staticmethod
    def forward(ctx, base, value, steps):
        ctx.steps = steps
        out = np.array(base.data)
        ctx.outside = np.ones(out.shape, bool)
        try:
            rebuild_view(ctx.outside, steps)[...] = False
        except ValueError:
            raise RuntimeError("in-place update of a broadcast view (several of its elements share one memory "
                               "location), which cannot be written in place, as in PyTorch; clone() it first") from None
        rebuild_view(out, steps)[...] = value.data
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.outside, rebuild_view(g, ctx.steps), None

    cost = movement


def _needs_graph(target, args):
    return is_grad_enabled() and (target._requires_grad or any(isinstance(a, Tensor) and a._requires_grad
                                                               for a in args))


def update(target, name, out_of_place, args, fast=None):
    """target <- out_of_place(target, *args), in place. `fast(target, *args)` does it without a graph."""
    if not _needs_graph(target, args):
        if fast is not None:
            fast(target, *args)
        else:
            new = out_of_place(target, *args)
            _same_shape(name, new, target)
            CopyInPlace.apply(target, new)
        target._version[0] += 1
        return target
    view = target._view
    if target._requires_grad and target.grad_fn is None:
        raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be changed in place, as in PyTorch (its "
                           "gradient would lose its meaning); do it inside `with mg.no_grad():`, as an optimizer does, "
                           "or use the out-of-place op")
    if view is not None and view[0].grad_fn is None:
        raise RuntimeError(f"{name}: a view of a leaf tensor that requires grad cannot be changed in place, as in "
                           "PyTorch; do it inside `with mg.no_grad():`, or clone() the view first")
    old = Tensor._wrap(np.array(target.data), target._requires_grad, target.grad_fn)
    new = out_of_place(old, *args)
    _same_shape(name, new, target)
    if new.data.dtype != target.data.dtype:
        if not np.can_cast(new.data.dtype, target.data.dtype, "same_kind"):
            raise RuntimeError(f"{name}: result type {new.data.dtype} can't be cast to the desired output type "
                               f"{target.data.dtype} (as in PyTorch); convert the tensor first")
        new = new.astype(target.data.dtype)
    if view is None:
        np.copyto(target.data, new.data)
        target.grad_fn, target._requires_grad = new.grad_fn, True
    else:
        base, steps = view
        new_base = CopySlices.apply(Tensor._wrap(base.data, True, base.grad_fn), new, steps)
        np.copyto(base.data, new_base.data)
        base.grad_fn = new_base.grad_fn
        for alias in list(base._views or ()):
            alias.grad_fn = rebuild_view(base, alias._view[1]).grad_fn
            alias._requires_grad = True
    target._version[0] += 1
    return target


def _same_shape(name, new, target):
    if new.shape != target.shape:
        raise RuntimeError(f"{name}: the result has shape {new.shape} but the tensor changed in place has shape "
                           f"{target.shape}; an in-place op cannot change its target's shape")


def _ufunc_update(op):
    def fast(target, value):
        op.apply(target, lift(value, target))
    return fast


def _alpha_update(t, name, out_of_place, op, scaled_op, other, alpha):
    """t <- out_of_place(t, alpha * other), in place; without a graph, one op (scaled_op) for a float `other`."""
    if t.data.dtype.kind != "f" or isinstance(alpha, (bool, np.bool_)):  # alpha's dtype rule (a float t takes any)
        check_alpha(name, result_type(t, other if isinstance(other, Tensor) or _is_number(other) else lift(other)),
                    alpha)
        if t.data.dtype == np.bool_:
            alpha = bool(alpha)  # in a bool result alpha counts as a truth value
    if alpha == 1:
        return update(t, name, out_of_place, (other,), _ufunc_update(op))

    def fast(target, value, alpha):
        if value.data.dtype.kind == "f" and isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
            scaled_op.apply(target, value, alpha)
        else:
            op.apply(target, lift(value * alpha, target))
    return update(t, name, lambda target, value, alpha: out_of_place(target, value * alpha), (lift(other, t), alpha),
                  fast)


def add_(t, other, *, alpha=1):
    """t += alpha * other, in place."""
    return _alpha_update(t, "add_", add, AddInPlace, AddScaledInPlace, other, alpha)


def sub_(t, other, *, alpha=1):
    """t -= alpha * other, in place."""
    return _alpha_update(t, "sub_", sub, SubInPlace, SubScaledInPlace, other, alpha)


def mul_(t, other):
    """t *= other, in place."""
    return update(t, "mul_", mul, (other,), _ufunc_update(MulInPlace))


def div_(t, other):
    """t /= other, in place."""
    return update(t, "div_", div, (other,), _ufunc_update(DivInPlace))


def _broadcast_value(t, value):
    """value broadcast to t's shape and cast to its dtype (what copy_ writes)."""
    v = lift(value, t)
    v = v.expand(t.shape) if v.shape != t.shape else v * 1
    return v if v.data.dtype == t.data.dtype else v.astype(t.data.dtype)


def copy_(t, src):
    """t <- src, in place (src broadcasts to t's shape and is cast to t's dtype whatever the kinds, as PyTorch)."""
    return update(t, "copy_", _broadcast_value, (src,), _ufunc_update(CastInPlace))


def fill_(t, value):
    """Every element of t <- value (cast to t's dtype, as PyTorch), in place."""
    if not isinstance(value, Tensor):  # a number the dtype cannot hold is an error (a 0-d tensor is cast, as PyTorch)
        fill_value("fill_", value, t.data.dtype)
    return update(t, "fill_", _broadcast_value, (value,), _ufunc_update(CastInPlace))


def zero_(t):
    return fill_(t, 0)


def clamp_(t, min=None, max=None):  # noqa: A002 (torch's names)
    """t <- clip(t, min, max), in place."""
    from .elementwise import clip
    return update(t, "clamp_", lambda x: clip(x, min, max), ())


def setitem(t, index, value):
    """t[index] = value, in place (`index_put_`): the value broadcasts to the indexed region."""
    from .shape import index_put
    return update(t, "setitem", lambda x, v: index_put(x, index, v), (value,), _fast_setitem(index))


def index_put_(t, indices, values, accumulate=False):
    """t[indices] = values (or += with accumulate=True, repeats adding up), in place."""
    from .shape import index_put
    return update(t, "index_put_", lambda x, v: index_put(x, indices, v, accumulate), (values,))


def _fast_setitem(index):
    from .shape import _plain_index

    def fast(t, value):
        v = value.data if isinstance(value, Tensor) else value
        try:
            t.data[_plain_index(index)] = v
        except ValueError as e:  # NumPy's: the value does not broadcast to the region, or nan into integers
            raise RuntimeError(f"setitem: cannot write a value of shape {np.shape(v)} into the region {index!r} of a "
                               f"{t.dtype} tensor of shape {t.shape}: {e}") from None
    return fast


# ---- the indexing family, in place: the out-of-place op, then written back --------------------------------------
def masked_fill_(t, mask, value):
    """t <- value where mask (which broadcasts to t's shape), in place."""
    from .indexing import masked_fill
    return update(t, "masked_fill_", lambda x, v: masked_fill(x, mask, v), (value,))


def masked_scatter_(t, mask, source):
    """The positions of t where mask is True <- the first elements of source, in order, in place."""
    from .indexing import masked_scatter
    return update(t, "masked_scatter_", lambda x, s: masked_scatter(x, mask, s), (source,))


def index_fill_(t, dim, index, value):
    """t[..., index, ...] <- value along dim, in place."""
    from .indexing import index_fill
    return update(t, "index_fill_", lambda x, v: index_fill(x, dim, index, v), (value,))


def index_add_(t, dim, index, source, *, alpha=1):
    """t[..., index[i], ...] += alpha * source[..., i, ...] along dim, in place (repeats accumulate)."""
    from .indexing import index_add
    return update(t, "index_add_", lambda x, s: index_add(x, dim, index, s, alpha=alpha), (source,))


def index_copy_(t, dim, index, source):
    """t[..., index[i], ...] <- source[..., i, ...] along dim, in place."""
    from .indexing import index_copy
    return update(t, "index_copy_", lambda x, s: index_copy(x, dim, index, s), (source,))


def scatter_(t, dim, index, src=None, *, value=None, reduce=None):
    """t[index[i][j]][j] <- src[i][j] (dim 0; likewise for any dim), in place; src may be a number."""
    from .indexing import scatter
    return update(t, "scatter_", lambda x, *s: scatter(x, dim, index, *(s or (src,)), value=value, reduce=reduce),
                   (src,) if isinstance(src, Tensor) else ())


def scatter_add_(t, dim, index, src):
    """t[index[i][j]][j] += src[i][j] (dim 0; likewise for any dim), in place."""
    from .indexing import scatter_add
    return update(t, "scatter_add_", lambda x, s: scatter_add(x, dim, index, s), (src,))


def scatter_reduce_(t, dim, index, src, reduce, *, include_self=True):
    """t with src reduced into t[index[i][j]][j] by reduce, in place (see scatter_reduce)."""
    from .indexing import scatter_reduce
    return update(t, "scatter_reduce_",
                   lambda x, s: scatter_reduce(x, dim, index, s, reduce, include_self=include_self), (src,))


def variant(method, name):
    """The in-place form `name` (x.exp_()) of a Tensor method: t <- method(t, *args), in place."""
    def inplace_method(self, *args, **kwargs):
        return update(self, name, lambda x, *a: method(x, *a, **kwargs), args)
    inplace_method.__name__ = inplace_method.__qualname__ = name
    inplace_method.__doc__ = f"In place: self <- self.{method.__name__}(...)."
    return inplace_method


def float_power_(self, exponent):
    """In place: self <- self.float_power(exponent). As PyTorch, self must already have the result's dtype
    (float64, or complex128 when a complex number is involved): the double-precision result is not rounded back."""
    from .exp_log import float_power
    wide = np.complex128 if self.data.dtype.kind == "c" or isinstance(exponent, complex) or \
        isinstance(exponent, Tensor) and exponent.data.dtype.kind == "c" else np.float64
    if self.data.dtype != wide:
        raise RuntimeError(f"float_power_: the base has dtype {self.data.dtype} but the operation's result requires "
                           f"dtype {np.dtype(wide)} (as PyTorch); use x.float_power(e) or convert x first, e.g. "
                           "x.double()")
    return update(self, "float_power_", float_power, (exponent,))


# PyTorch's in-place variants of Tensor methods (x.sigmoid_()), and the augmented operators that use them
VARIANTS = ("abs", "neg", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "square",
            "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "sigmoid", "relu", "erf", "erfc",
            "floor", "ceil", "round", "trunc", "frac", "sign", "pow", "clip", "fmod", "remainder", "floor_divide",
            "lerp", "atan2", "hypot", "copysign", "nan_to_num", "bitwise_and", "bitwise_or", "bitwise_xor",
            "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or", "logical_xor",
            "logical_not", "maximum", "minimum", "clamp_min", "clamp_max", "xlogy")
OPERATORS = {"__ifloordiv__": "floor_divide_", "__imod__": "remainder_", "__ipow__": "pow_", "__iand__": "bitwise_and_",
             "__ior__": "bitwise_or_", "__ixor__": "bitwise_xor_", "__ilshift__": "bitwise_left_shift_",
             "__irshift__": "bitwise_right_shift_"}

__all__ = []
METHODS = {
    "masked_fill_": masked_fill_, "masked_scatter_": masked_scatter_, "index_fill_": index_fill_,
    "index_add_": index_add_, "index_copy_": index_copy_, "scatter_": scatter_, "scatter_add_": scatter_add_,
    "scatter_reduce_": scatter_reduce_, "index_put_": index_put_,
    # x += y is in place with and without grad (as PyTorch); Python rebinds x to the same tensor
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "copy_": copy_, "fill_": fill_, "zero_": zero_,
    "clamp_": clamp_, "__setitem__": setitem, "float_power_": float_power_,
    "__iadd__": add_, "__isub__": sub_, "__imul__": mul_, "__itruediv__": div_,
}
