"""Ops that move data without arithmetic: reshape, permute, broadcast, index, gather, concat, pad.

The view ops (reshape/view, permute/transpose, expand, basic indexing) return NumPy views where NumPy
can, and a view shares its base's version counter (`Function.view`), so an in-place change through any
alias of a tensor saved for backward is caught.
"""
import builtins
import warnings
import math

import numpy as np

from ..dtypes import result_type
from ..tensor import Tensor
from . import xp
from ._common import lift, meta, movement, normalize_dim, normalize_dims, unbroadcast
from .elementwise import Op


class Reshape(Op):
    """x with a new shape (a view when NumPy can make one).   dx = g reshaped back."""
    view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.data.reshape(shape)
        except ValueError:
            raise RuntimeError(f"reshape: shape {tuple(shape)} is invalid for an input of shape {x.shape} ({x.size} "
                               "elements)") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)

    cost = movement


class View(Reshape):
    """x viewed with a new shape without copying (PyTorch's view: an error when the memory layout does not allow
    it).   dx = g reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return np.reshape(x.data, shape, copy=False)
        except ValueError as e:
            if "copy" not in str(e):
                raise RuntimeError(f"view: shape {tuple(shape)} is invalid for an input of shape {x.shape} "
                                   f"({x.size} elements)") from None
            raise RuntimeError(f"view: the input of shape {x.shape} is not laid out in memory so that it can be "
                               f"viewed as {tuple(shape)} without a copy; use .reshape(...) instead (as PyTorch "
                               "says)") from None


class Permute(Op):
    """x with its axes reordered (a view).   dx = g with the inverse order."""
    view = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x.data, axes)

    @staticmethod
    def backward(ctx, g):
        return xp.permute_dims(g, tuple(np.argsort(ctx.axes)))

    cost = movement


class Expand(Op):
    """x broadcast to `shape` (a read-only view).   dx = g summed over the broadcast axes."""
    view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.like = meta(x)
        try:
            return np.broadcast_to(x.data, shape)
        except ValueError:
            raise RuntimeError(f"expand: the input of shape {x.shape} cannot be expanded to {tuple(shape)}; only "
                               "size-1 dims can grow, and new dims go in front") from None

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.like)

    cost = movement


class Clone(Op):
    """A copy of x with its own memory.   dx = g."""
    @staticmethod
    def forward(ctx, x):
        return np.array(x.data, copy=True)

    @staticmethod
    def backward(ctx, g):
        return g

    cost = movement


def _unique_positions(index):
    """True when no element can be picked twice (basic indexing or one boolean mask), so plain assignment can
    scatter the gradient; otherwise np.add.at accumulates repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) for i in parts):
        return True
    return not isinstance(index, tuple) and isinstance(index, np.ndarray) and index.dtype == bool


class GetItem(Op):
    """x[index] (basic: a view; advanced or boolean: a copy).   dx = g scattered back; repeats accumulate."""
    name = "getitem"
    view = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        try:
            return x.data[index]
        except IndexError as e:
            raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape {x.shape}: {e}") from None

    @staticmethod
    def backward(ctx, g):
        return xp.apply(ScatterAdd, g, ctx.index, ctx.in_shape)

    cost = movement


class ScatterAdd(Op):
    """zeros(shape) with g added at index (the adjoint of getitem).   dg = dout[index]."""
    name = "index_scatter"

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
        return xp.apply(GetItem, g, ctx.index)

    def cost(ctx, out, g, *args):
        return movement(ctx, out) if _unique_positions(ctx.index) else movement(ctx, out)._replace(flops=g.size)


def _gather_index(index, dim):
    """The full NumPy index that picks out[i..] = x[..., index[i..], ...] (index at position dim, the rest
    the coordinates of each entry of index)."""
    grid = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grid[dim] = index
    return tuple(grid)


class IndexPut(Op):
    """x with x[index] = value (value broadcast to the region).   dx = g with the region zeroed;
    dvalue = g[index] summed back to value's shape."""
    name = "index_put"

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.like = index, meta(value)
        out = np.array(x.data)
        out[index] = value.data
        ctx.outside = np.ones(x.shape, bool)
        ctx.outside[index] = False
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_value = ctx.needs_input_grad[:2]
        return (g * ctx.outside if need_x else None,
                unbroadcast(g[ctx.index], ctx.like) if need_value else None)

    cost = movement


class Gather(Op):
    """out[i][j][k] = x[index[i][j][k]][j][k] (dim 0; likewise for any dim), as torch.gather.
    dx = g added at the gathered positions (repeats accumulate)."""
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.full, ctx.in_shape = _gather_index(index, dim), x.shape
        return x.data[ctx.full]

    @staticmethod
    def backward(ctx, g):
        return xp.apply(ScatterAdd, g, ctx.full, ctx.in_shape), None, None

    cost = movement


class Concat(Op):
    """Tensors joined along `axis`.   Each input's gradient is its slice of g."""
    name = "cat"

    @staticmethod
    def forward(ctx, *tensors, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [t.shape[axis] for t in tensors]).tolist()
        return np.concatenate([t.data for t in tensors], axis=axis)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.axis
        return tuple(g[lead + (slice(a, b),)] for a, b in zip(ctx.bounds[:-1], ctx.bounds[1:]))

    cost = movement


class Pad(Op):
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
def _shape_args(shape, keyword=None, op=None, name=None):
    """A shape or dims given as ints (`x.view(2, 3)`), one sequence (`x.view((2, 3))`) or PyTorch's keyword
    (`x.view(size=(2, 3))`)."""
    if keyword is not None:
        if shape:
            raise TypeError(f"{op}: give the {name} either positionally or as {name}=, not both")
        shape = (keyword,)
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def reshape(input, *shape, **kwargs):  # noqa: A002
    """input with a new shape (one entry may be -1); a view when the memory layout allows, else a copy.
    `x.reshape(2, 3)`, `x.reshape((2, 3))` or `x.reshape(shape=(2, 3))`, as PyTorch."""
    return Reshape.apply(lift(input), _shape_args(shape, _keyword("reshape", kwargs, "shape"), "reshape", "shape"))


def view(input, *shape, **kwargs):  # noqa: A002
    """input viewed with a new shape, never a copy (PyTorch's view; use reshape when the layout does not allow
    it). `x.view(2, 3)`, `x.view((2, 3))` or `x.view(size=(2, 3))`. `x.view(dtype)` reinterprets the bytes as
    another dtype (the last dim scales by the ratio of item sizes), as PyTorch; that carries no gradient."""
    if len(shape) == 1 and not kwargs and isinstance(shape[0], (np.dtype, type, str)):
        return _view_as_dtype(lift(input), np.dtype(shape[0]))
    return View.apply(lift(input), _shape_args(shape, _keyword("view", kwargs, "size"), "view", "size"))


def _view_as_dtype(x, dtype):
    if dtype == x.data.dtype:
        return View.apply(x, x.shape)
    try:
        data = x.data.view(dtype)
    except ValueError as e:
        raise RuntimeError(f"view: cannot view a {x.dtype} tensor of shape {x.shape} as {dtype}: {e}") from None
    out = Tensor._wrap(data)
    out._version = x._version  # the same memory: a write through either bumps the version both see
    return out


def _keyword(op, kwargs, name):
    """The one keyword argument PyTorch names for a variadic shape or dims (size=, shape=, dims=), or None."""
    unknown = set(kwargs) - {name}
    if unknown:
        raise TypeError(f"{op}() got an unexpected keyword argument {sorted(unknown)[0]!r} (PyTorch's name is "
                        f"{name}=)")
    return kwargs.get(name)


def permute(input, *dims, **kwargs):  # noqa: A002
    """input with its dims reordered: dims is a permutation of range(ndim) (negative dims count from the end)."""
    x = lift(input)
    dims = _shape_args(dims, _keyword("permute", kwargs, "dims"), "permute", "dims")
    axes = tuple(normalize_dim(d, x.ndim, "permute") for d in dims) if x.ndim else ()
    if len(dims) != builtins.max(x.ndim, len(axes)) or sorted(axes) != list(range(x.ndim)):
        raise RuntimeError(f"permute: dims {tuple(dims)} are not a permutation of the {x.ndim} dims of shape {x.shape}")
    return Permute.apply(x, axes)


def transpose(input, dim0, dim1):  # noqa: A002
    """input with dims dim0 and dim1 swapped (PyTorch's transpose: both dims are required)."""
    x = lift(input)
    if not x.ndim:
        normalize_dim(dim0, 0, "transpose"), normalize_dim(dim1, 0, "transpose")
        return Permute.apply(x, ())
    axes = list(range(x.ndim))
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(x, tuple(axes))


def matrix_transpose(input):  # noqa: A002
    """The last two dims swapped (`.mT`); needs at least 2 dims, as PyTorch."""
    x = lift(input)
    if x.ndim < 2:
        raise RuntimeError(f"mT: tensor.mT is only supported on matrices or batches of matrices; got a {x.ndim}-D tensor "
                           f"of shape {x.shape}")
    return transpose(x, -2, -1)


def expand(input, *shape, **kwargs):  # noqa: A002
    """input broadcast to `shape`; -1 keeps a dim's size (PyTorch's expand; the keyword is size=)."""
    x = lift(input)
    shape = _shape_args(shape, _keyword("expand", kwargs, "size"), "expand", "size")
    lead = len(shape) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the target shape {shape} has fewer dims than the input's shape {x.shape}")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    return Expand.apply(x, shape)


def broadcast_to(input, shape=None, *, size=None):  # noqa: A002
    """input broadcast to `shape` (numpy.broadcast_to's name, and torch.broadcast_to's `size`)."""
    if (shape is None) == (size is None):
        raise TypeError("broadcast_to: give the target shape once, positionally or as size=")
    return expand(input, shape if size is None else size)


def squeeze(input, dim=None, *, axis=None):  # noqa: A002
    """input without its size-1 dims, or only those of dim (an int or a tuple); a named dim whose size is not 1
    is left alone (as PyTorch)."""
    x = lift(input)
    dim = dim if axis is None else axis
    if dim is None:
        return Reshape.apply(x, tuple(n for n in x.shape if n != 1))
    dims = normalize_dims(dim, x.ndim, "squeeze")
    return Reshape.apply(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(input, dim=None, *, axis=None):  # noqa: A002
    """input with a new size-1 dim at position dim (in range [-ndim-1, ndim])."""
    x = lift(input)
    dim = dim if axis is None else axis
    if dim is None:
        raise TypeError("unsqueeze: missing the dim argument (where the new size-1 dim goes)")
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, x.shape[:d] + (1,) + x.shape[d:])


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """input with dims start_dim..end_dim merged into one (a 0-d tensor becomes 1-d)."""
    x = lift(input)
    if x.ndim == 0:
        normalize_dim(start_dim, 0, "flatten"), normalize_dim(end_dim, 0, "flatten")
        return Reshape.apply(x, (1,))
    start, end = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return Reshape.apply(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def clone(input):  # noqa: A002
    """A copy with its own memory; gradients flow through it."""
    return Clone.apply(lift(input))


def contiguous(input):  # noqa: A002
    """input itself when its memory is C-contiguous, else a contiguous copy (as PyTorch)."""
    x = lift(input)
    return x if x.data.flags.c_contiguous else Clone.apply(x)


def _plain_index(index):
    """The index with tensors replaced by their arrays and lists of ints by integer arrays (an empty list selects
    nothing, as in PyTorch: an empty int64 array, not NumPy's float64 one). A list that holds a tensor, a sequence,
    a slice, None or Ellipsis (and fewer than 32 items) is a tuple, one index per dim, as PyTorch reads it:
    x[[[0, 1], [1, 0]]] is x[[0, 1], [1, 0]] (NumPy >= 1.23 would read one (2, 2) array of rows). A uint8 tensor
    is a mask, as in PyTorch (with its deprecation warning); int8 and int16 tensors are refused, as there."""
    if isinstance(index, list) and len(index) < 32 and builtins.any(
            i is None or i is Ellipsis or isinstance(i, (Tensor, np.ndarray, list, tuple, slice)) for i in index):
        index = tuple(index)

    def plain(i):
        tensor = isinstance(i, Tensor)
        if tensor:
            i = i.data
        elif isinstance(i, list):
            return np.asarray(i) if i else np.zeros(0, np.int64)
        if tensor and i.dtype.kind in "iu" and i.dtype not in _INDEX_DTYPES:  # (NumPy arrays: NumPy's reading)
            if i.dtype != np.uint8:
                raise IndexError(f"tensors used as indices must be int64, int32, uint8 or bool tensors (as in "
                                 f"PyTorch), got {i.dtype}; convert it, e.g. index.long()")
            warnings.warn("indexing with a uint8 tensor reads it as a mask, as PyTorch does (deprecated there too); "
                          "use a bool tensor, e.g. index.bool()", UserWarning, stacklevel=4)
            return i.astype(bool)
        return i
    return tuple(plain(i) for i in index) if isinstance(index, tuple) else plain(index)


_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _pytorch_order(index, ndim):
    """PyTorch applies integer indices before advanced ones, NumPy counts them as advanced: x[0, :, [1, 2]] has
    shape (n, 2) in PyTorch and (2, n) in NumPy. Split such an index into (ints, rest), applied one after the
    other; None when the two libraries agree."""
    if not isinstance(index, tuple) or not any(_is_int(i) for i in index) or \
            not any(isinstance(i, np.ndarray) for i in index):
        return None
    consumed = builtins.sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 0 if i is None or
                            i is Ellipsis else 1 for i in index)
    ints, rest = [], []
    for i in index:
        if i is Ellipsis:
            ints.extend([slice(None)] * (ndim - consumed))
            rest.append(i)
        elif _is_int(i):
            ints.append(i)
        elif i is None:
            rest.append(i)
        else:
            ints.extend([slice(None)] * (i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1))
            rest.append(i)
    return tuple(ints), tuple(rest)


def getitem(input, index):  # noqa: A002
    """input[index]: basic (a view), advanced (integer arrays, repeats accumulate in backward) or boolean.
    Integer and array indices together follow PyTorch's placement (integers first)."""
    x = lift(input)
    index = _plain_index(index)
    split = _pytorch_order(index, x.ndim)
    if split is not None:
        return GetItem.apply(GetItem.apply(x, split[0]), split[1])
    return GetItem.apply(x, index)


def index_put(input, index, value, accumulate=False):  # noqa: A002
    """A copy of input with input[index] = value (value broadcasts to the region and takes input's dtype);
    gradients flow to input outside the region and to value inside it. accumulate=True adds value into the
    region instead, repeated positions adding up (torch.index_put's accumulate)."""
    x = lift(input)
    index = _plain_index(index)
    v = lift(value, x)
    if v.data.dtype != x.data.dtype:
        v = v.astype(x.data.dtype)
    region = np.empty(x.shape, bool)[index].shape
    try:
        np.broadcast_shapes(v.shape, region)
    except ValueError:
        raise RuntimeError(f"index_put: a value of shape {v.shape} does not broadcast to the region {region} that "
                           f"index {index!r} selects") from None
    if accumulate:
        return x + ScatterAdd.apply(v if v.shape == region else expand(v, region), index, x.shape)
    return IndexPut.apply(x, v, index)


def gather(input, dim, index):  # noqa: A002
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim 0, likewise for any dim (torch.gather): index has
    input's number of dims and is no larger than input in the other dims."""
    x = lift(input)
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    d = normalize_dim(dim, x.ndim, "gather")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather: index must be an integer tensor, got {idx.dtype}")
    if x.ndim == 0:
        return GetItem.apply(x, ()) if idx.ndim == 0 else x.expand(idx.shape) * 1
    if idx.ndim != x.ndim or any(i > n for k, (i, n) in enumerate(zip(idx.shape, x.shape)) if k != d):
        raise RuntimeError(f"gather: index of shape {idx.shape} does not fit input of shape {x.shape} along dim {d}: "
                           "it needs the input's number of dims and no larger size in the other dims")
    bad = idx[(idx < 0) | (idx >= x.shape[d])] if idx.size else idx[:0]
    if bad.size:  # as PyTorch: negative indices are out of bounds here too
        raise RuntimeError(f"gather: index {bad.flat[0]} is out of bounds for dimension {d} with size {x.shape[d]}; "
                           f"indices must lie in [0, {x.shape[d] - 1}]")
    return Gather.apply(x, d, idx)


def cat(tensors, dim=0, *, axis=None):
    """Tensors joined along an existing dim; dtypes promote as in a binary op. (1-D empty tensors are skipped,
    as PyTorch.)"""
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    if builtins.any(t.ndim == 0 for t in tensors):
        raise RuntimeError("cat: zero-dimensional tensors cannot be concatenated; unsqueeze them or use stack")
    d = normalize_dim(dim if axis is None else axis, tensors[0].ndim, "cat")
    dtype = result_type(*tensors)
    tensors = [t if t.data.dtype == dtype else t.astype(dtype) for t in tensors]
    ref = tensors[0].shape
    for t in tensors:
        if t.ndim != len(ref) or t.shape[:d] + t.shape[d + 1:] != ref[:d] + ref[d + 1:]:
            shapes = ", ".join(str(u.shape) for u in tensors)
            raise RuntimeError(f"cat: shapes {shapes} differ outside dim {d}; all but the joined dim must match")
    return Concat.apply(*tensors, axis=d)


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    """Tensors of one shape joined along a new dim."""
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    if builtins.any(t.shape != tensors[0].shape for t in tensors):
        raise RuntimeError(f"stack: expects each tensor to be equal size, got shapes "
                           f"{', '.join(str(t.shape) for t in tensors)}")
    d = normalize_dim(dim if axis is None else axis, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(tensor, split_size_or_sections=None, dim=0, *, axis=None, split_size=None):
    """Pieces of tensor along dim: of size `split_size_or_sections` each (the last may be smaller), or of the
    listed sizes (PyTorch's split; the method's keyword is split_size=)."""
    if (split_size_or_sections is None) == (split_size is None):
        raise TypeError("split: give the split size (or the list of sizes) once: split(x, 2) or x.split(split_size=2)")
    split_size_or_sections = split_size if split_size_or_sections is None else split_size_or_sections
    x = lift(tensor)
    if x.ndim == 0:
        raise RuntimeError("split: expects a tensor with at least one dimension, this one is 0-d (as PyTorch); "
                           "x.reshape(1) makes it 1-d")
    d = normalize_dim(dim if axis is None else axis, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise RuntimeError(f"split: split size must be positive, got {size}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n or builtins.min(sizes, default=0) < 0:
            raise RuntimeError(f"split: sizes {sizes} must be >= 0 and add up to the size {n} of dim {d}")
    lead = (slice(None),) * d
    bounds = np.cumsum([0] + sizes).tolist()
    return tuple(GetItem.apply(x, lead + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:]))


def t(input):  # noqa: A002
    """The transpose of a matrix; a 0-d or 1-d tensor as it is; more than 2 dims is an error (torch.t)."""
    x = lift(input)
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dims, this one has shape {x.shape}; use x.transpose(d0, d1), "
                           "x.mT or x.permute(...)")
    return transpose(x, 0, -1) if x.ndim == 2 else Permute.apply(x, tuple(range(x.ndim)))


def unbind(input, dim=0):  # noqa: A002
    """The slices of input along dim, that dim removed: a tuple of input.shape[dim] tensors (torch.unbind)."""
    x = lift(input)
    if x.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dim to unbind (as PyTorch)")
    d = normalize_dim(dim, x.ndim, "unbind")
    lead = (slice(None),) * d
    return tuple(GetItem.apply(x, lead + (i,)) for i in range(x.shape[d]))


def pad(input, pad_width, value=0.0):  # noqa: A002
    """input padded with `value`; pad_width as numpy.pad: an int, (before, after), or one pair per axis."""
    return Pad.apply(lift(input), pad_width, value)


def _atleast(op, shape_of, tensors):
    """One tensor: it with at least n dims; several, or one tuple or list of them: a tuple, each so reshaped."""
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) else tensors
    out = []
    for x in items:
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}(): expected tensors (or one tuple of tensors), got {type(x).__name__}; wrap it, "
                            f"e.g. mg.tensor({x!r})")
        new = shape_of(x.shape)
        out.append(x if new == x.shape else reshape(x, new))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim: a 0-d tensor becomes shape (1,); others are returned as they are.
    One tensor gives a tensor; several (or one tuple of them) a tuple. A view: the gradient flows through."""
    return _atleast("atleast_1d", lambda s: s if len(s) >= 1 else (1,), tensors)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims: () -> (1, 1), (n,) -> (1, n) (the new dim in front, as PyTorch and
    NumPy); others as they are. One tensor gives a tensor; several (or one tuple of them) a tuple."""
    return _atleast("atleast_2d", lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + tuple(s), tensors)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1) (PyTorch's and
    NumPy's placement); others as they are. One tensor gives a tensor; several (or one tuple of them) a tuple."""
    def shape_of(s):
        return {0: (1, 1, 1), 1: (1,) + tuple(s) + (1,), 2: tuple(s) + (1,)}.get(len(s), s)
    return _atleast("atleast_3d", shape_of, tensors)


__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to", "cat", "clone", "concat", "concatenate",
           "contiguous", "expand", "flatten", "gather", "getitem", "index_put", "pad", "permute", "reshape", "split",
           "squeeze", "stack", "t", "transpose", "unbind", "unsqueeze", "view"]
METHODS = {"__getitem__": getitem, "reshape": reshape, "view": view, "permute": permute, "transpose": transpose,
           "expand": expand, "broadcast_to": broadcast_to, "squeeze": squeeze, "unsqueeze": unsqueeze,
           "flatten": flatten, "pad": pad, "split": split, "clone": clone, "contiguous": contiguous, "gather": gather,
           "t": t, "unbind": unbind, "index_put": index_put,
           "T": property(lambda self: permute(self, tuple(reversed(range(self.ndim)))), doc="All dims reversed."),
           "mT": property(matrix_transpose, doc="The last two dims swapped (needs at least 2 dims).")}

# The rest of the family (flip, roll, repeat, triangles, diagonals, windows, narrowing, broadcasting) lives in
# ops/movement.py, built on the views above (so it is always imported from here, after them); it joins this
# family's names and methods here.
from . import movement as _rest  # noqa: E402
from .movement import *  # noqa: E402,F401,F403
from .movement import Diagonal, DiagonalScatter, Flip, Repeat, Roll, Tril, Triu, Windows, WindowsAdd  # noqa: E402,F401

__all__ += _rest.__all__
METHODS.update(_rest.METHODS)
