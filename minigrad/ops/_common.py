"""Small helpers shared by the op families: promotion of operands, dims, undoing broadcasting, costs."""
import math
import operator

import numpy as np

from ..autograd import Cost
from ..dtypes import result_type
from ..tensor import Tensor, _to_array


def array_of(x):
    """The NumPy array of a Tensor, or x itself: masks and shapes in rules that run on either."""
    return x.data if isinstance(x, Tensor) else x


def meta(t):
    """(shape, dtype) of an input: all a rule needs to shape that input's gradient."""
    return t.data.shape, t.data.dtype


def _is_number(x):
    return isinstance(x, (bool, int, float, complex, np.generic))


def _number(x, dtype):
    """A Python (or NumPy) number as a 0-d array of dtype. An integer outside an integer dtype's range wraps
    around, as PyTorch casts it (a uint8 tensor + 300 adds 44, uint8 < -1 compares with 255)."""
    v = x.item() if isinstance(x, np.generic) else x
    try:
        return np.asarray(v, dtype)
    except OverflowError:
        return np.asarray(v).astype(dtype)


def fill_value(op, value, dtype):
    """value (a number or a 0-d tensor) about to fill a tensor of dtype, checked as PyTorch checks a fill value: one
    the dtype cannot hold is an error, not a silent inf or garbage (masked_fill(mask, -1e9) on float16, nan into an
    integer tensor, 300 into uint8; PyTorch lets an unsigned type take negative integers down to -max, which wrap,
    but no negative float)."""
    v = value.data.item() if isinstance(value, Tensor) else value.item() if isinstance(value, np.generic) else value
    dtype = np.dtype(dtype)
    if isinstance(v, (bool, complex)) or dtype.kind not in "fiu":
        return value
    if dtype.kind == "f":
        bad = math.isfinite(v) and abs(v) > np.finfo(dtype).max
    else:
        info = np.iinfo(dtype)
        if isinstance(v, float):  # a float must lie in the type's range before truncation (-0.5 is no uint8)
            bad = not math.isfinite(v) or not (0 if dtype.kind == "u" else info.min) <= v <= info.max
        else:
            bad = not (-info.max if dtype.kind == "u" else info.min) <= v <= info.max
    if bad:
        hint = (f"; use float('-inf') for a mask, or a value within +-{float(np.finfo(dtype).max):.6g}"
                if dtype.kind == "f" else f"; {dtype} holds {np.iinfo(dtype).min}..{np.iinfo(dtype).max}")
        raise RuntimeError(f"{op}: the value {v!r} cannot be converted to {dtype} without overflow (as in "
                           f"PyTorch){hint}")
    return value


def lift(x, like=None):
    """A Tensor for x. A Python number next to a tensor `like` takes the dtype the pair promotes to
    (so 2.0 next to a float32 tensor is float32, next to an int64 tensor the default float)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and _is_number(x):
        return Tensor._wrap(_number(x, result_type(like, x)))
    return Tensor._wrap(_to_array(x))  # mg.tensor's reading of the data (not the legacy mg.Tensor constructor's)


def promote(*operands):
    """The operands as Tensors of one dtype (PyTorch's promotion, `minigrad.dtypes.result_type`), and that dtype.

    Tensors of another dtype are cast (a differentiable astype, so their gradient comes back in their own
    dtype); numbers become 0-d tensors of that dtype."""
    if len(operands) == 2:  # the common cases first: two tensors of one dtype, a float tensor and a number
        a, b = operands
        if isinstance(a, Tensor):
            if isinstance(b, Tensor):
                if a.data.dtype == b.data.dtype:
                    return operands, a.data.dtype
            elif type(b) in (float, int) and a.data.dtype.kind == "f":
                return (a, Tensor._wrap(np.array(b, a.data.dtype))), a.data.dtype
        elif isinstance(b, Tensor) and type(a) in (float, int) and b.data.dtype.kind == "f":
            return (Tensor._wrap(np.array(a, b.data.dtype)), b), b.data.dtype
    dtype = result_type(*operands)
    out = []
    for x in operands:
        if isinstance(x, Tensor):
            out.append(x if x.data.dtype == dtype else x.astype(dtype))
        elif _is_number(x):
            out.append(Tensor._wrap(_number(x, dtype)))
        else:
            t = Tensor._wrap(_to_array(x))
            out.append(t if t.data.dtype == dtype else t.astype(dtype))
    return out, dtype


def const(array, dtype):
    """A constant tensor (no gradient) holding `array` as `dtype`: masks in backward rules."""
    return Tensor._wrap(np.asarray(array, dtype))


def unbroadcast(g, like):
    """Sum a gradient over the axes broadcasting added, and cast it, to match `like`'s shape and dtype.
    `like` is a tensor or a (shape, dtype) pair from `meta`. Works on arrays and on Tensors."""
    shape, dtype = like if type(like) is tuple else (like.data.shape, like.data.dtype)
    if g.shape != shape:
        # task 1.6: unbroadcast
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
        g = g.sum(axis=axes, keepdims=True).reshape(shape)
        # end task
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


# ---- dims: one normaliser for every dim argument ---------------------------------------------------
def normalize_dim(dim, ndim, op="op"):
    """dim as a non-negative index into ndim dimensions (a 0-d tensor accepts 0 and -1, as PyTorch).
    Out of range: IndexError naming the op, the dim and the tensor's number of dimensions. An integer tensor of one
    element counts as its int (PyTorch reads dims through __index__)."""
    if isinstance(dim, Tensor) and dim.data.dtype.kind in "iu" and dim.data.size == 1:
        dim = int(dim.data.item())
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int (or a tuple of ints), got {type(dim).__name__} {dim!r}")
    dim = operator.index(dim)
    n = ndim if ndim else 1
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim}) "
                         f"for a tensor with {ndim} dimension{'s' if ndim != 1 else ''}")
    return dim % n


def normalize_dims(dim, ndim, op="op"):
    """dim (None: all, an int, a tuple or list of ints) as a sorted tuple of non-negative dims; a repeated dim
    is a RuntimeError (as PyTorch). On a 0-d tensor the result is () whatever dims were named."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if not isinstance(dim, (tuple, list)) else tuple(dim)
    out = [normalize_dim(d, ndim, op) for d in dims]
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dims} names the same dimension more than once")
    return tuple(sorted(out)) if ndim else ()


def dim_args(op, dim, keepdim, axis, keepdims, default=None):
    """Merge PyTorch's (dim, keepdim) and NumPy's (axis, keepdims) spellings of the same arguments."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim= and axis= (the same argument in PyTorch's and NumPy's spelling)")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return (default if dim is None else dim), bool(keepdim)


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
