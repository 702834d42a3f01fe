"""Small helpers shared by the op families: lifting numbers to tensors, undoing broadcasting, costs."""
import numpy as np

from ..autograd import Cost
from ..tensor import DEFAULT_FLOAT, Tensor


def meta(t):
    """(shape, dtype) of an input: all a rule needs to shape that input's gradient."""
    return t.data.shape, t.data.dtype


def lift(x, like=None):
    """A Tensor for x. A Python number takes the dtype of `like`, so a float32 graph stays float32."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, np.generic) and x.dtype.kind in "biuf":
        x = x.item()  # a NumPy scalar (np.sqrt(2)) is a number too: it must not upcast a float32 graph
    if like is not None and type(x) in (float, int, bool):
        dtype = like.data.dtype
        if dtype.kind == "f":
            return Tensor._wrap(np.array(x, dtype))
        if dtype.kind == "b" and not isinstance(x, bool) or dtype.kind in "iu" and isinstance(x, float):
            dtype = DEFAULT_FLOAT if isinstance(x, float) else np.dtype(np.int64)
        return Tensor._wrap(np.asarray(x, dtype))
    return Tensor(x)


def const(array, dtype):
    """A constant tensor (no gradient) holding `array` as `dtype`: masks in backward rules."""
    return Tensor._wrap(np.asarray(array, dtype))


def unbroadcast(g, like):
    """Sum a gradient over the axes broadcasting added, and cast it, to match `like`'s shape and dtype.
    `like` is a tensor or a (shape, dtype) pair from `meta`."""
    shape, dtype = like if type(like) is tuple else (like.data.shape, like.data.dtype)
    if g.data.shape != shape:
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
        g = g.sum(axis=axes, keepdims=True).reshape(shape)
    if g.data.dtype != dtype:
        g = g.astype(dtype)
    return g


def normalize_axes(axis, ndim):
    """axis (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    return tuple(sorted(out))


def kept_shape(shape, axes):
    """The shape a reduction over `axes` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# ---- costs: each op declares one of these next to its definition --------------------------------
def per_element(flops):
    """`flops` FLOPs for every element of the output."""
    def cost(ctx, out, *args, **kwargs):
        return Cost(flops=flops * out.size)
    cost.__doc__ = f"{flops} FLOP(s) per output element"
    return cost


def per_input_element(flops):
    """`flops` FLOPs for every element of the first input (reductions)."""
    def cost(ctx, out, x, *args, **kwargs):
        return Cost(flops=flops * x.size, category="reduction")
    cost.__doc__ = f"{flops} FLOP(s) per input element"
    return cost


def movement(ctx, out, *args, **kwargs):
    """Data movement: no arithmetic, only bytes."""
    return Cost(category="movement")
