"""Ops that move data without arithmetic: reshape, permute, broadcast, index, concat, pad."""
import builtins

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._common import lift, meta, movement, unbroadcast


class Reshape(Function):
    """x viewed with a new shape.   dx = g reshaped back."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.data.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                             f"into shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)

    cost = movement


class Permute(Function):
    """x with its axes reordered.   dx = g with the inverse order."""
    @staticmethod
    def forward(ctx, x, axes):
        if sorted(a % builtins.max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"permute: {tuple(axes)} is not a permutation of the {x.ndim} axes of shape {x.shape}")
        ctx.axes = axes
        return np.transpose(x.data, axes)

    @staticmethod
    def backward(ctx, g):
        return g.permute(*np.argsort([a % g.ndim for a in ctx.axes]))

    cost = movement


class Expand(Function):
    """x broadcast to `shape` (a read-only view).   dx = g summed over the broadcast axes."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.like = meta(x)
        try:
            return np.broadcast_to(x.data, shape)
        except ValueError:
            raise ValueError(f"expand: cannot broadcast shape {x.shape} to {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.like)

    cost = movement


def _plain_index(index):
    """The index with tensors replaced by their arrays."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def _unique_positions(index):
    """True when no element can be picked twice (basic indexing or one boolean mask), so plain
    assignment can scatter the gradient; otherwise np.add.at accumulates repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) for i in parts):
        return True
    return not isinstance(index, tuple) and isinstance(index, np.ndarray) and index.dtype == bool


class GetItem(Function):
    """x[index] (basic, advanced or boolean).   dx = g scattered back; repeated indices accumulate."""
    name = "getitem"

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        try:
            return np.array(x.data[index]) if _unique_positions(index) else x.data[index]
        except IndexError as e:
            raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape {x.shape}: {e}") from None

    @staticmethod
    def backward(ctx, g):
        return ScatterAdd.apply(g, ctx.index, ctx.in_shape)

    cost = movement


class ScatterAdd(Function):
    """zeros(shape) with g added at index (the adjoint of getitem).   dg = dout[index]."""
    name = "scatter_add"

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        out = np.zeros(shape, g.dtype)
        if _unique_positions(index):
            out[index] = g.data
        else:
            np.add.at(out, index, g.data)
        return out

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, ctx.index)

    def cost(ctx, out, g, *args):
        return movement(ctx, out) if _unique_positions(ctx.index) else movement(ctx, out)._replace(flops=g.size)


class Concat(Function):
    """Tensors joined along `axis`.   Each input's gradient is its slice of g."""
    @staticmethod
    def forward(ctx, *tensors, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [t.shape[axis] for t in tensors])
        try:
            return np.concatenate([t.data for t in tensors], axis=axis)
        except ValueError:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"concat: shapes {shapes} differ outside axis {axis}") from None

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * (ctx.axis % g.ndim)
        return tuple(g[lead + (slice(a, b),)] for a, b in zip(ctx.bounds[:-1], ctx.bounds[1:]))

    cost = movement


class Pad(Function):
    """x padded with a constant; pad_width as numpy.pad's ((before, after), ...).   dx = g cropped."""
    @staticmethod
    def forward(ctx, x, pad_width, value=0.0):
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
        if (widths < 0).any():
            raise ValueError(f"pad: widths must be >= 0, got {pad_width}")
        ctx.crop = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
        return np.pad(x.data, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.crop]

    cost = movement


# ---- the functions users call ------------------------------------------------------------------
def _shape_args(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def reshape(x, *shape):
    """x with a new shape (one entry may be -1)."""
    return Reshape.apply(lift(x), _shape_args(shape))


def permute(x, *axes):
    return Permute.apply(lift(x), _shape_args(axes))


def transpose(x, axis0=-2, axis1=-1):
    """Swap two axes (PyTorch's transpose(dim0, dim1)); by default the last two."""
    x = lift(x)
    axes = list(range(x.ndim))
    axes[axis0], axes[axis1] = axes[axis1], axes[axis0]
    return Permute.apply(x, tuple(axes))


def expand(x, *shape):
    """x broadcast to `shape` (as numpy.broadcast_to; PyTorch's expand)."""
    return Expand.apply(lift(x), _shape_args(shape))


broadcast_to = expand


def squeeze(x, axis=None):
    """x without the size-1 axes (or only `axis`)."""
    x = lift(x)
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axes = {a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)}
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return Reshape.apply(x, shape)


def unsqueeze(x, axis):
    """x with a new size-1 axis at `axis`."""
    x = lift(x)
    axis = axis % (x.ndim + 1)
    return Reshape.apply(x, x.shape[:axis] + (1,) + x.shape[axis:])


def flatten(x, start_dim=0, end_dim=-1):
    """x with axes start_dim..end_dim merged into one (PyTorch's flatten)."""
    x = lift(x)
    if x.ndim == 0:
        return Reshape.apply(x, (1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return Reshape.apply(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def getitem(x, index):
    return GetItem.apply(lift(x), _plain_index(index))


def concat(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    return Concat.apply(*tensors, axis=axis)


cat = concat


def stack(tensors, axis=0):
    """Join tensors along a new axis."""
    return concat([unsqueeze(t, axis) for t in tensors], axis=axis)


def split(x, split_size_or_sections, axis=0):
    """Pieces of x along axis: of size `split_size_or_sections` each (the last may be smaller), or of
    the listed sizes (PyTorch's split)."""
    x = lift(x)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split size must be positive, got {split_size_or_sections}")
        sizes = [builtins.min(split_size_or_sections, n - s) for s in range(0, n, split_size_or_sections)]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {builtins.sum(sizes)}, but axis {axis} has {n}")
    lead = (slice(None),) * (axis % x.ndim)
    bounds = np.cumsum([0] + sizes)
    return tuple(GetItem.apply(x, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds[:-1], bounds[1:]))


def pad(x, pad_width, value=0.0):
    """x padded with `value`; pad_width as numpy.pad: an int, (before, after), or one pair per axis."""
    return Pad.apply(lift(x), pad_width, value)
