"""Movement ops built on the views of ops/shape.py: flip, roll, repeat, tile, repeat_interleave, tril/triu,
diagonal (a view), diag_embed, diag, movedim, swapaxes, unflatten, Tensor.unfold (a view), narrow, select, chunk,
broadcast_tensors, meshgrid, and the *_as methods.

Part of the shape family: shape.py imports this file after its own views and gathers these names and methods. Each op here is either a composition of
shape's views (narrow and select are getitem, movedim a permute, unflatten a reshape, meshgrid an expand: views
sharing their base's version counter, as PyTorch's) or an op with its adjoint beside it (Diagonal and
DiagonalScatter, Windows and WindowsAdd), so second derivatives come for free.
"""
import builtins
import math

import numpy as np

from ..tensor import Tensor
from . import xp
from ._common import array_of, lift, movement, normalize_dim
from .elementwise import Op
from .shape import (Clone, Expand, GetItem, Permute, Reshape, _keyword, _shape_args, cat, expand, reshape, split,
                    transpose, view)


class Flip(Op):
    """x reversed along dims (a copy, as PyTorch's flip).   dx = g flipped back."""
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x.data, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Flip, g, ctx.dims)

    cost = movement


class Roll(Op):
    """x rolled by shifts along dims (dims None: the flattened x, as numpy.roll).   dx = g rolled back."""
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x.data, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Roll, g, tuple(-s for s in ctx.shifts), ctx.dims)

    cost = movement


class Repeat(Op):
    """x tiled reps[i] times along dim i (x has len(reps) dims).   dx = g as (r0, n0, r1, n1, ...) summed over
    the r axes."""
    @staticmethod
    def forward(ctx, x, reps):
        ctx.split = tuple(k for r, n in zip(reps, x.shape) for k in (r, n))
        ctx.in_shape = x.shape
        return np.tile(x.data, reps)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.split).sum(axis=tuple(range(0, len(ctx.split), 2))).reshape(ctx.in_shape)

    cost = movement


class Tril(Op):
    """The lower triangle of the last two dims, on and below diagonal k (a copy).   dx = tril(g, k)."""
    pick = staticmethod(np.tril)

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return ctx.op.pick(x.data, k)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(ctx.op, g, ctx.k)

    cost = movement


class Triu(Tril):
    """The upper triangle of the last two dims, on and above diagonal k (a copy).   dx = triu(g, k)."""
    pick = staticmethod(np.triu)


def _diagonal(a, offset, dim1, dim2):
    """The diagonal `offset` of dims (dim1, dim2) as a view, writable when a is (NumPy's is read-only)."""
    d = np.diagonal(a, offset, dim1, dim2)
    if a.flags.writeable:
        d.flags.writeable = True
    return d


class Diagonal(Op):
    """The diagonal `offset` of dims (dim1, dim2), as a new last dim (a view).   dx = g written back on that
    diagonal of zeros."""
    view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.in_shape, ctx.geometry = x.shape, (offset, dim1, dim2)
        return _diagonal(x.data, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(DiagonalScatter, g, ctx.in_shape, *ctx.geometry)

    cost = movement


class DiagonalScatter(Op):
    """zeros(shape) with the last dim of x written on the diagonal `offset` of dims (dim1, dim2) (diag_embed,
    and the adjoint of diagonal).   dx = the diagonal of g."""
    name = "diagonal_scatter"

    @staticmethod
    def forward(ctx, x, shape, offset, dim1, dim2):
        ctx.geometry = (offset, dim1, dim2)
        out = np.zeros(shape, x.dtype)
        _diagonal(out, offset, dim1, dim2)[...] = x.data
        return out

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Diagonal, g, *ctx.geometry)

    cost = movement


class Windows(Op):
    """Tensor.unfold: the windows of `size` elements, `step` apart, along dim, as a new last dim (a view).
    dx = each window of g added back where it was taken (overlapping windows accumulate)."""
    name = "unfold_windows"
    view = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.in_shape, ctx.geometry = x.shape, (dim, size, step)
        w = np.lib.stride_tricks.sliding_window_view(x.data, size, axis=dim, writeable=x.data.flags.writeable)
        return w[(slice(None),) * dim + (slice(None, None, step),)]

    @staticmethod
    def backward(ctx, g):
        return xp.apply(WindowsAdd, g, ctx.in_shape, *ctx.geometry)

    cost = movement


class WindowsAdd(Op):
    """zeros(shape) with each window of g (windows along dim, as Tensor.unfold makes them) added where it came
    from: the adjoint of Tensor.unfold, a loop over the `size` offsets in a window.   dg = unfold(dout)."""
    name = "unfold_backward"

    @staticmethod
    def forward(ctx, g, shape, dim, size, step):
        ctx.geometry = (dim, size, step)
        out = np.zeros(shape, g.dtype)
        count, lead = g.shape[dim], (slice(None),) * dim
        for k in range(size):
            out[lead + (slice(k, k + step * (count - 1) + 1, step),)] += g.data[..., k]
        return out

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Windows, g, *ctx.geometry)

    def cost(ctx, out, g, *args):
        return movement(ctx, out)._replace(flops=g.size)


# ---- reorder, repeat, triangles and diagonals ------------------------------------------------------
def _int_tuple(v):
    return tuple(int(i) for i in v) if isinstance(v, (tuple, list)) else (int(v),)


def _distinct_dims(op, dims, ndim):
    """dims (an int or a sequence) as non-negative dims; a dim named twice is a RuntimeError, as PyTorch."""
    out = tuple(normalize_dim(d, ndim, op) for d in _int_tuple(dims))
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dims {tuple(dims)} name the same dimension more than once")
    return out


def flip(input, *dims, **kwargs):  # noqa: A002
    """input reversed along dims (a copy, as torch.flip; `x.flip(0, 1)`, `x.flip((0, 1))` or `x.flip(dims=...)`)."""
    x = lift(input)
    dims = _shape_args(dims, _keyword("flip", kwargs, "dims"), "flip", "dims")
    return Flip.apply(x, _distinct_dims("flip", dims, x.ndim) if x.ndim else ())


def roll(input, shifts, dims=None):  # noqa: A002
    """input shifted circularly by shifts along dims (elements leaving one end come back at the other); without
    dims, the flattened input is rolled and the shape restored."""
    x = lift(input)
    shifts = _int_tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one int, got {shifts}")
        return Roll.apply(x, shifts, None)
    dims = tuple(normalize_dim(d, x.ndim, "roll") for d in _int_tuple(dims))
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return Roll.apply(x, shifts, dims if x.ndim else None)


def repeat(input, *sizes):  # noqa: A002
    """input repeated sizes[i] times along dim i (torch's Tensor.repeat, numpy.tile): sizes has at least
    input's number of dims; extra leading sizes add dims. Always a copy."""
    x = lift(input)
    reps = _shape_args(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: {len(reps)} repeat sizes {reps} for a tensor of {x.ndim} dims {x.shape}; give at "
                           "least one per dim (use tile to repeat only the last dims)")
    if builtins.any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeat sizes must be >= 0, got {reps}")
    x = Reshape.apply(x, (1,) * (len(reps) - x.ndim) + x.shape)
    return Repeat.apply(x, reps)


def tile(input, dims):  # noqa: A002
    """input repeated dims[i] times along dim i; fewer dims than input's count from the last (torch.tile)."""
    x = lift(input)
    reps = _int_tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Each element (or slice along dim) repeated repeats times (an int, or a tensor with one count per element);
    without dim, the flattened input. `repeat_interleave(counts)` alone gives arange(len(counts)) repeated."""
    if repeats is None:
        counts = np.asarray(array_of(input))
        return Tensor._wrap(np.repeat(np.arange(counts.size, dtype=np.int64), counts.reshape(-1)))
    x = lift(input)
    if dim is None:
        x, d = Reshape.apply(x, (-1,)), 0
    else:
        d = normalize_dim(dim, x.ndim, "repeat_interleave")
    reps = np.asarray(array_of(repeats)).reshape(-1)
    n = x.shape[d] if x.ndim else 1
    if reps.dtype.kind not in "iu" or reps.size not in (1, n) or (reps < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must be non-negative integers, one or {n} of them (one per "
                           f"element along dim {d}); got {reps.tolist()}")
    index = np.repeat(np.arange(n), reps)
    if output_size is not None and output_size != index.size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} differs from the {index.size} repeats")
    return GetItem.apply(x, (slice(None),) * d + (index,)) if x.ndim else GetItem.apply(x, (None,))[index]


def _triangle(op, input, diagonal):
    x = lift(input)
    if x.ndim < 2:
        raise RuntimeError(f"{op.name}: input tensor must have at least 2 dimensions, got shape {x.shape}")
    return op.apply(x, int(diagonal))


def tril(input, diagonal=0):  # noqa: A002
    """The elements on and below the diagonal `diagonal` of the last two dims; the others 0."""
    return _triangle(Tril, input, diagonal)


def triu(input, diagonal=0):  # noqa: A002
    """The elements on and above the diagonal `diagonal` of the last two dims; the others 0."""
    return _triangle(Triu, input, diagonal)


def _diagonal_dims(op, dim1, dim2, ndim):
    d1, d2 = normalize_dim(dim1, ndim, op), normalize_dim(dim2, ndim, op)
    if d1 == d2:
        raise RuntimeError(f"{op}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    """The diagonal `offset` (> 0 above the main one) of the matrices in dims (dim1, dim2), as a new last dim:
    a view (writes through it reach input)."""
    x = lift(input)
    d1, d2 = _diagonal_dims("diagonal", dim1, dim2, x.ndim)
    return Diagonal.apply(x, int(offset), d1, d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """A new tensor whose matrices in dims (dim1, dim2) hold input's last dim on their diagonal `offset`, zeros
    elsewhere (the inverse of diagonal)."""
    x = lift(input)
    d1, d2 = _diagonal_dims("diag_embed", dim1, dim2, x.ndim + 1)
    n = x.shape[-1] + builtins.abs(int(offset)) if x.ndim else 1
    rest = iter(x.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(x.ndim + 1))
    return DiagonalScatter.apply(x, shape, int(offset), d1, d2)


def diag(input, diagonal=0):  # noqa: A002
    """A 1-D input: the square matrix with it on diagonal `diagonal`. A 2-D input: that diagonal, as a copy."""
    x = lift(input)
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return Clone.apply(Diagonal.apply(x, int(diagonal), 0, 1))
    raise RuntimeError(f"diag: supports 1-D or 2-D tensors, got {x.ndim}-D of shape {x.shape}")


# ---- dims: move, swap, split one, window one ----------------------------------------------------------
def movedim(input, source, destination):  # noqa: A002
    """input with dims source moved to positions destination (ints or sequences of equal length); the other
    dims keep their order."""
    x = lift(input)
    src = _distinct_dims("movedim", source, x.ndim)
    dst = _distinct_dims("movedim", destination, x.ndim)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must name as many dims")
    rest = iter(d for d in range(x.ndim) if d not in src)
    placed = dict(zip(dst, src))
    return Permute.apply(x, tuple(placed[i] if i in placed else next(rest) for i in range(x.ndim)))


moveaxis = movedim


def swapaxes(input, axis0, axis1):  # noqa: A002
    """input with two dims swapped (transpose's alias, as torch.swapaxes and numpy.swapaxes)."""
    return transpose(input, axis0, axis1)


swapdims = swapaxes


def unflatten(input, dim, sizes):  # noqa: A002
    """input with dim split into dims of `sizes` (one may be -1); their product must be dim's size."""
    x = lift(input)
    d = normalize_dim(dim, x.ndim, "unflatten")
    sizes = _int_tuple(sizes)
    known = math.prod(s for s in sizes if s != -1)
    n = x.shape[d]
    if sizes.count(-1) > 1 or (known != n if -1 not in sizes else (known == 0 or n % known)):
        raise RuntimeError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim {d} ({n}) of the "
                           f"input of shape {x.shape}")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return Reshape.apply(x, x.shape[:d] + sizes + x.shape[d + 1:])


def unfold(input, dimension, size, step):  # noqa: A002
    """Tensor.unfold: every window of `size` elements, `step` apart, along `dimension`, as a new last dim (a view:
    dimension's size becomes the window count (n - size) // step + 1)."""
    x = lift(input)
    d = normalize_dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if not x.ndim:
        return Reshape.apply(x, (size,))
    return Windows.apply(x, d, int(size), int(step))


def narrow(input, dim, start, length):  # noqa: A002
    """input[..., start:start + length, ...] along dim (a view); a negative start counts from the end."""
    x = lift(input)
    if not x.ndim:
        raise RuntimeError("narrow: cannot be applied to a 0-dim tensor")
    d = normalize_dim(dim, x.ndim, "narrow")
    n, start, length = x.shape[d], int(array_of(start)), int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dim {d} of size {n}")
    start %= n if n else 1
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n})")
    return GetItem.apply(x, (slice(None),) * d + (slice(start, start + length),))


def select(input, dim, index):  # noqa: A002
    """input[..., index, ...] along dim, that dim removed (a view)."""
    x = lift(input)
    if not x.ndim:
        raise IndexError("select: cannot be applied to a 0-dim tensor")
    d = normalize_dim(dim, x.ndim, "select")
    index = int(array_of(index))
    if not -x.shape[d] <= index < x.shape[d]:
        raise IndexError(f"select: index {index} out of range for tensor of size {list(x.shape)} at dimension {d}")
    return GetItem.apply(x, (slice(None),) * d + (index,))


def chunk(input, chunks, dim=0):  # noqa: A002
    """input split into `chunks` pieces of ceil(n / chunks) along dim (views; the last may be smaller, and there
    may be fewer pieces, as torch.chunk)."""
    x = lift(input)
    if not x.ndim:
        raise RuntimeError("chunk: expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk: expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    if n == 0:
        return tuple(GetItem.apply(x, (slice(None),) * d + (slice(0, 0),)) for _ in range(chunks))
    return split(x, -(-n // chunks), d)


def matrix_trace(input):  # noqa: A002
    """The sum of a matrix's main diagonal (PyTorch's x.trace(); mg.trace is the op tracer, so this is a method
    only). Integer and bool inputs sum in int64, as sum."""
    x = lift(input)
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix (2 dims), got shape {x.shape}; for batches use "
                           "x.diagonal(dim1=-2, dim2=-1).sum(-1)")
    return diagonal(x).sum()


def tensor_split(input, indices_or_sections, dim=0):  # noqa: A002
    """input cut along dim into `indices_or_sections` pieces as equal as can be (the first n % sections one
    longer), or at the listed indices (torch.tensor_split; views)."""
    x = lift(input)
    if not x.ndim:
        raise RuntimeError("tensor_split: expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {k}")
        sizes = [n // k + (i < n % k) for i in range(k)]
        bounds = np.cumsum([0] + sizes).tolist()
    else:
        cuts = [builtins.min(builtins.max(int(i) + (n if i < 0 else 0), 0), n) for i in indices_or_sections]
        bounds = [0] + cuts + [n]
    lead = (slice(None),) * d
    return tuple(GetItem.apply(x, lead + (slice(a, builtins.max(a, b)),)) for a, b in zip(bounds[:-1], bounds[1:]))


def hstack(tensors):
    """Tensors joined along dim 1 (dim 0 when they are 1-D), as torch.hstack."""
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise RuntimeError("hstack expects a non-empty list of tensors")
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Tensors joined along dim 0, 0-d and 1-d ones made rows first (torch.vstack)."""
    tensors = [lift(t) for t in tensors]
    if not tensors:
        raise RuntimeError("vstack expects a non-empty list of tensors")
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def fliplr(input):  # noqa: A002
    """input reversed along dim 1 (needs at least 2 dims, as torch.fliplr)."""
    x = lift(input)
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {x.shape}")
    return flip(x, 1)


def flipud(input):  # noqa: A002
    """input reversed along dim 0 (needs at least 1 dim, as torch.flipud)."""
    x = lift(input)
    if x.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(x, 0)


def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    """The n-th forward difference along dim, out[i] = x[i + 1] - x[i] (n times), after prepend and append are
    joined on (torch.diff); bool inputs give x[i + 1] != x[i]."""
    x = lift(input)
    if not x.ndim:
        raise RuntimeError("diff: expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = normalize_dim(dim, x.ndim, "diff")
    x = cat([t for t in (prepend, x, append) if t is not None], d) if prepend is not None or append is not None else x
    lead = (slice(None),) * d
    for _ in range(n):
        later, earlier = GetItem.apply(x, lead + (slice(1, None),)), GetItem.apply(x, lead + (slice(None, -1),))
        x = later ^ earlier if x.data.dtype == np.bool_ else later - earlier
    return x


# ---- broadcasting ------------------------------------------------------------------------------------
def broadcast_shapes(*shapes):
    """The shape that tensors of `shapes` (tuples, or ints for 1-D) broadcast to."""
    try:
        return np.broadcast_shapes(*(_int_tuple(s) for s in shapes))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {', '.join(str(s) for s in shapes)} do not broadcast together; "
                           "each dim, counted from the right, must have equal sizes or size 1") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape (views; each keeps its dtype)."""
    tensors = [lift(t) for t in _shape_args(tensors)]
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t.shape == shape else Expand.apply(t, shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 0-d or 1-D tensors of one dtype: output i varies along dim i ('ij'; with 'xy' the
    first two dims are swapped, as numpy.meshgrid's default). Each output is a view (expand) of its input."""
    tensors = [lift(t) for t in _shape_args(tensors)]
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if builtins.any(t.ndim > 1 for t in tensors):
        raise RuntimeError("meshgrid: expects 0-D or 1-D tensors, got shapes "
                           f"{', '.join(str(t.shape) for t in tensors)}")
    if len({t.data.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid: expects all tensors to have the same dtype, got "
                           f"{', '.join(str(t.data.dtype) for t in tensors)}")
    order = list(range(len(tensors)))
    if indexing == "xy" and len(order) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(tensors[i].size for i in order)
    grids = []
    for i, t in enumerate(tensors):
        at = order.index(i)
        grids.append(Expand.apply(Reshape.apply(t, tuple(-1 if k == at else 1 for k in range(len(shape)))), shape))
    return tuple(grids)


# ---- Tensor methods that name another tensor's shape --------------------------------------------------
def view_as(input, other):  # noqa: A002
    """input viewed with other's shape (never a copy)."""
    return view(input, lift(other).shape)


def reshape_as(input, other):  # noqa: A002
    """input reshaped to other's shape."""
    return reshape(input, lift(other).shape)


def expand_as(input, other):  # noqa: A002
    """input broadcast to other's shape (a view)."""
    return expand(input, lift(other).shape)


__all__ = ["broadcast_shapes", "broadcast_tensors", "chunk", "diag", "diag_embed", "diagonal", "diff", "flip", "fliplr",
           "flipud", "hstack", "meshgrid", "moveaxis", "movedim", "narrow", "repeat_interleave", "roll", "select",
           "swapaxes", "swapdims", "tensor_split", "tile", "tril", "triu", "unflatten", "vstack"]
METHODS = {"flip": flip, "roll": roll, "repeat": repeat, "tile": tile, "repeat_interleave": repeat_interleave,
           "tril": tril, "triu": triu, "diag": diag, "diagonal": diagonal, "diag_embed": diag_embed,
           "movedim": movedim, "moveaxis": moveaxis, "swapaxes": swapaxes, "swapdims": swapdims,
           "unflatten": unflatten, "unfold": unfold, "narrow": narrow, "select": select, "chunk": chunk,
           "view_as": view_as, "reshape_as": reshape_as, "expand_as": expand_as, "tensor_split": tensor_split,
           "fliplr": fliplr, "flipud": flipud, "diff": diff, "trace": matrix_trace}
