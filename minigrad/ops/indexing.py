"""Indexing ops: index_select, scatter, masked ops, take_along_dim, nonzero, ...

Most are built from the movement family's getitem (a gather whose gradient scatter-adds), its adjoint
ScatterAdd and index_put, so their gradients and second derivatives come with them; scatter_reduce is an op of
its own, with PyTorch's gradients (ties of amax/amin share the gradient evenly, prod handles zeros).
Integer and bool arguments follow PyTorch: index tensors are int64 (or int32 where PyTorch accepts it), masks
are bool, and the tensor written into keeps its dtype.
"""
import numpy as np

from ..tensor import Tensor
from . import xp
from ._common import array_of, fill_value, lift, movement, normalize_dim
from .elementwise import Op, where
from .shape import Clone, Expand, GetItem, ScatterAdd, _gather_index, broadcast_shapes, gather, index_put


# ---- arguments ------------------------------------------------------------------------------------
def _index(op, index, kinds="iu"):
    """The integer array of an index argument (RuntimeError for any other dtype, as PyTorch)."""
    idx = np.asarray(array_of(index))
    if idx.dtype.kind not in kinds:
        raise RuntimeError(f"{op}: expected an int64 index tensor, got {idx.dtype}")
    return idx


def _mask(op, mask):
    m = np.asarray(array_of(mask))
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op}: only supports boolean masks, but got a mask of dtype {m.dtype}; compare first "
                           "(x > 0) or convert with .bool()")
    return m


def _in_range(op, idx, n, d, negative=False, error=RuntimeError):
    low = -n if negative else 0
    if idx.size and (idx.min() < low or idx.max() >= n):
        bad = idx.min() if idx.min() < low else idx.max()
        raise error(f"{op}: index {bad} is out of bounds for dimension {d} with size {n}")


def _same_dtype(op, x, other, what="source"):
    if other.data.dtype != x.data.dtype:
        raise RuntimeError(f"{op}: self ({x.data.dtype}) and {what} ({other.data.dtype}) must have the same dtype, as "
                           f"in PyTorch; convert one first, e.g. {what}.to(self.dtype)")


def _along(d, idx):
    """The NumPy index that picks positions idx along dim d."""
    return (slice(None),) * d + (idx,)


def _vector_index(op, x, dim, index, negative=False, error=RuntimeError):
    """(dim, 1-D index array) of the index_* ops, checked against x."""
    idx = _index(op, index)
    if idx.ndim > 1:
        raise IndexError(f"{op}: index is supposed to be a vector, got shape {idx.shape}")
    d = normalize_dim(dim, x.ndim, op)
    n = x.shape[d] if x.ndim else 1
    _in_range(op, idx, n, d, negative, error)
    return d, idx.reshape(-1)


# ---- the index_* family: one position per entry of a vector index along one dim ---------------------------
def index_select(input, dim, index):  # noqa: A002
    """The slices of input at positions `index` (a 1-D int tensor) along dim (a copy); the gradient scatter-adds
    back (repeats accumulate)."""
    x = lift(input)
    d, idx = _vector_index("index_select", x, dim, index)
    if not x.ndim:
        if idx.size != 1:
            raise RuntimeError(f"index_select: index to a 0-d tensor can have only 1 value, got {idx.size}")
        return Clone.apply(x)
    return GetItem.apply(x, _along(d, idx))


def _source_fits(op, x, d, idx, source):
    expected = x.shape[:d] + (idx.size,) + x.shape[d + 1:] if x.ndim else (idx.size,)
    if source.shape != expected and not (source.ndim == 0 and idx.size == 1 and not x.ndim):
        raise RuntimeError(f"{op}: source of shape {source.shape} does not fit: with {idx.size} indices along dim {d} "
                           f"of self {x.shape} it needs shape {expected}")


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    """input with alpha * source[..., i, ...] added at input[..., index[i], ...] along dim (repeats accumulate).
    The result keeps input's dtype: alpha is cast to it, as PyTorch (0.5 is 0 for integers, 2 is True for bool)."""
    x, src = lift(input), lift(source)
    d, idx = _vector_index("index_add", x, dim, index)
    _same_dtype("index_add", x, src)
    _source_fits("index_add", x, d, idx, src)
    if x.data.dtype.kind in "biu":
        alpha = x.data.dtype.type(alpha).item()
    if not x.ndim:
        return x + src.reshape(()) * alpha if alpha != 1 else x + src.reshape(())
    added = ScatterAdd.apply(src, _along(d, idx), x.shape)
    return x + (added if alpha == 1 else added * alpha)


def index_copy(input, dim, index, source):  # noqa: A002
    """input with input[..., index[i], ...] = source[..., i, ...] along dim."""
    x, src = lift(input), lift(source)
    d, idx = _vector_index("index_copy", x, dim, index, error=IndexError)
    _same_dtype("index_copy", x, src)
    _source_fits("index_copy", x, d, idx, src)
    return index_put(x, _along(d, idx), src) if x.ndim else index_put(x, (), src.reshape(()))


def index_fill(input, dim, index, value):  # noqa: A002
    """input with every position of `index` along dim set to value (a number or a 0-d tensor, which then gets the
    gradient of every filled element); negative indices count from the end."""
    x = lift(input)
    d, idx = _vector_index("index_fill", x, dim, index, negative=True, error=IndexError)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill: only supports a 0-dimensional value tensor, got shape {value.shape}")
    fill_value("index_fill", value, x.data.dtype)
    if not x.ndim:
        return index_put(x, () if idx.size else np.zeros((), bool), value)
    return index_put(x, _along(d, np.unique(idx % x.shape[d])), value)


# ---- scatter and gather along one dim -----------------------------------------------------------------
def _scatter_index(op, x, dim, index, src=None):
    """(full NumPy index, the part of src that index covers) of the scatter family, checked as PyTorch."""
    idx = _index(op, index)
    d = normalize_dim(dim, x.ndim, op)
    if x.ndim == 0:
        idx = idx.reshape(-1)
    elif idx.ndim != x.ndim:
        raise RuntimeError(f"{op}: index tensor must have the same number of dimensions as self tensor ({x.ndim}), "
                           f"got shape {idx.shape}")
    elif any(i > n for k, (i, n) in enumerate(zip(idx.shape, x.shape)) if k != d) or \
            (src is not None and src.ndim and any(i > n for i, n in zip(idx.shape, src.shape))):
        raise RuntimeError(f"{op}: expected index {list(idx.shape)} to be no larger than self {list(x.shape)} apart "
                           f"from dimension {d} and to be no larger than src "
                           f"{list(src.shape) if src is not None else ''}")
    _in_range(op, idx, x.shape[d] if x.ndim else 1, d)
    if x.ndim == 0:
        return (np.zeros(idx.shape, np.int64),), src if src is None else src.reshape(-1)[:idx.size]
    full = _gather_index(idx, d)
    if src is not None and src.ndim and src.shape != idx.shape:
        src = GetItem.apply(src, tuple(slice(n) for n in idx.shape))
    return full, src


def _unflat(x, op):
    """Run op on a 0-d x as on a 1-element vector (PyTorch's scatter family treats a 0-d tensor so)."""
    return op(x.reshape(1)).reshape(()) if not x.ndim else op(x)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """out = input with out[index[i][j]][j] = src[i][j] (dim 0; likewise for any dim); src may be a number (or
    value=). reduce='add' or 'multiply' combine instead of replacing (PyTorch's deprecated spelling of
    scatter_reduce, which here also has a gradient)."""
    x = lift(input)
    if src is None or not isinstance(src, Tensor):
        value, src = (src if value is None else value), None
        if value is None:
            raise TypeError("scatter: give src (a tensor) or value (a number)")
        fill_value("scatter", value, x.data.dtype)
    else:
        _same_dtype("scatter", x, src, "src")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter: reduce argument must be either add or multiply, got {reduce!r}")
        if src is None:
            src = Tensor._wrap(np.full(_index("scatter", index).shape, value, x.data.dtype))
        return (scatter_add(x, dim, index, src) if reduce == "add"
                else scatter_reduce(x, dim, index, src, "prod"))
    full, src = _scatter_index("scatter", x, dim, index, src)
    return _unflat(x, lambda y: index_put(y, full, value if src is None else src))


def scatter_add(input, dim, index, src):  # noqa: A002
    """out = input with src[i][j] added at out[index[i][j]][j] (dim 0; likewise for any dim; repeats
    accumulate).   dinput = g,  dsrc = g gathered at index."""
    x, s = lift(input), lift(src)
    _same_dtype("scatter_add", x, s, "src")
    full, s = _scatter_index("scatter_add", x, dim, index, s)
    return _unflat(x, lambda y: y + ScatterAdd.apply(s, full, y.shape))


_REDUCTIONS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _identity(reduce, dtype):
    """The value a reduction starts from (0 for sums, 1 for products, the lowest or highest value for amax/amin)."""
    if reduce in ("sum", "mean", "prod"):
        return 1 if reduce == "prod" else 0
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    lowest = -np.inf if dtype.kind == "f" else info.min
    return lowest if reduce == "amax" else (-lowest if dtype.kind == "f" else info.max)


class ScatterReduce(Op):
    """out = x with each src[i][j] reduced into out[index[i][j]][j] (dim 0; likewise for any dim) by sum, prod,
    mean, amax or amin; with include_self=False x's own value at a position that receives src is left out.
    Gradients as PyTorch's: sum dx = g, dsrc = g[index]; mean divides both by the count; amax/amin share g evenly
    among the elements equal to the result; prod: dx = g * (product of the others), zeros included.
    (`full` is the complete NumPy index of the positions, from minigrad.ops.shape._gather_index.)"""
    saves_output = True

    @staticmethod
    def forward(ctx, x, src, full, reduce, include_self=True):
        ctx.full, ctx.reduce, ctx.include_self = full, reduce, include_self
        dtype = x.data.dtype
        hit = np.zeros(x.shape, bool)
        hit[full] = True
        out = np.array(x.data)
        if not include_self:
            out[hit] = _identity(reduce, dtype)
        _REDUCTIONS[reduce].at(out, full, src.data)
        kept = np.asarray(include_self | ~hit)  # where x's own value takes part
        if reduce == "mean":
            count = kept.astype(dtype)
            np.add.at(count, full, 1)
            out = out / count if dtype.kind == "f" else np.floor_divide(out, count)
            ctx.w_self, ctx.w_src = (kept / count).astype(dtype), (1 / count[full]).astype(dtype)
        elif reduce in ("amax", "amin"):
            self_is, src_is = (x.data == out).astype(dtype), (src.data == out[full]).astype(dtype)
            n = np.array(self_is)
            np.add.at(n, full, src_is)
            ctx.w_self, ctx.w_src = self_is / n * kept, src_is / n[full]
        elif reduce == "sum":
            ctx.w_self, ctx.w_src = kept.astype(dtype), None
        else:
            ctx.save_for_backward(x, src)
            ctx.kept = kept.astype(dtype)
            ctx.x_zero = x.data == 0
            src_zero = src.data == 0
            zeros = np.zeros(x.shape, np.int64)
            np.add.at(zeros, full, src_zero)
            ctx.src_zero, ctx.src_single_zero = src_zero, src_zero & (zeros[full] == 1)
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_src = ctx.needs_input_grad[:2]
        if ctx.reduce == "prod":
            return ScatterReduce._prod_rule(ctx, g, need_x, need_src)
        gx = g * ctx.w_self if need_x else None
        gsrc = (g[ctx.full] if ctx.w_src is None else g[ctx.full] * ctx.w_src) if need_src else None
        return gx, gsrc

    @staticmethod
    def _prod_rule(ctx, g, need_x, need_src):
        """PyTorch's: the product of the others, computed without dividing by a zero."""
        x, src = ctx.saved_tensors
        out, full, inc = ctx.output, ctx.full, ctx.include_self
        gx = gsrc = None
        if need_x:
            masked_x = xp.where(ctx.x_zero, 1.0, x)
            gx = g * xp.scatter_reduce(masked_x, src, full, "prod", inc) / masked_x * ctx.kept
        if need_src:
            single = ctx.src_single_zero
            others = xp.scatter_reduce(x, xp.where(single, 1.0, src), full, "prod", inc)
            gsrc = xp.where(single, (g * others)[full], (g * out)[full] / xp.where(ctx.src_zero, 1.0, src))
        return gx, gsrc

    def cost(ctx, out, x, src, *args, **kwargs):
        return movement(ctx, out)._replace(flops=src.size)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):  # noqa: A002
    """out = input with src[i][j] reduced into out[index[i][j]][j] (dim 0; likewise for any dim) by reduce: 'sum',
    'prod', 'mean', 'amax' or 'amin'. include_self=False leaves input's own value out where src lands.
    Integer means round down, as PyTorch's."""
    x, s = lift(input), lift(src)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"scatter_reduce: reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce!r}")
    _same_dtype("scatter_reduce", x, s, "src")
    full, s = _scatter_index("scatter_reduce", x, dim, index, s)
    return _unflat(x, lambda y: ScatterReduce.apply(y, s, full, reduce, bool(include_self)))


def take_along_dim(input, indices, dim=None):  # noqa: A002
    """The values of input at `indices` along dim (input and indices broadcast in the other dims); without dim,
    of the flattened input at the flattened indices."""
    x = lift(input)
    idx = _index("take_along_dim", indices, "i")
    if idx.dtype != np.int64:
        raise RuntimeError(f"take_along_dim: dtype of indices should be int64, got {idx.dtype}")
    if dim is None:
        flat = x.reshape(-1)
        _in_range("take_along_dim", idx, flat.shape[0], 0, negative=True, error=IndexError)
        return GetItem.apply(flat, idx.reshape(-1))
    if idx.ndim != x.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of dimensions, but got "
                           f"{x.ndim} dimensions for input and {idx.ndim} for indices")
    d = normalize_dim(dim, x.ndim, "take_along_dim")
    if not x.ndim:
        return gather(x, 0, idx)
    shape = broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:], idx.shape[:d] + (1,) + idx.shape[d + 1:])
    x_shape, idx_shape = shape[:d] + x.shape[d:d + 1] + shape[d + 1:], shape[:d] + idx.shape[d:d + 1] + shape[d + 1:]
    _in_range("take_along_dim", idx, x.shape[d], d, negative=True, error=IndexError)
    idx = np.where(idx < 0, idx + x.shape[d], idx)  # negatives count from the end here (gather refuses them)
    x = x if x.shape == x_shape else Expand.apply(x, x_shape)
    return gather(x, d, np.broadcast_to(idx, idx_shape))


def take(input, index):  # noqa: A002
    """The elements of the flattened input at `index` (an int64 tensor of any shape, negatives count from the
    end): the result has index's shape."""
    x = lift(input)
    idx = _index("take", index, "i")
    if idx.dtype != np.int64:
        raise RuntimeError(f"take: expected an int64 tensor for index, got {idx.dtype}")
    flat = x.reshape(-1)
    _in_range("take", idx, flat.shape[0], 0, negative=True, error=IndexError)
    return GetItem.apply(flat, idx)


# ---- masks ----------------------------------------------------------------------------------------------
def _broadcast_with_mask(op, x, m):
    shape = broadcast_shapes(x.shape, m.shape)
    return (x if x.shape == shape else Expand.apply(x, shape)), np.broadcast_to(m, shape)


def masked_fill(input, mask, value):  # noqa: A002
    """input with value where mask is True (input and mask broadcast). value is a number or a 0-d tensor (which
    then gets the gradient of every filled element); the result keeps input's dtype."""
    x, m = lift(input), _mask("masked_fill", mask)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, got shape {value.shape}")
    v = lift(fill_value("masked_fill", value, x.data.dtype), x)
    if v.data.dtype != x.data.dtype:
        v = v.astype(x.data.dtype)
    return where(m, v, x)


def masked_select(input, mask):  # noqa: A002
    """The elements of input where mask is True (input and mask broadcast), as a 1-D tensor (a copy)."""
    x, m = _broadcast_with_mask("masked_select", lift(input), _mask("masked_select", mask))
    return GetItem.apply(x, m)


def masked_scatter(input, mask, source):  # noqa: A002
    """input with the positions where mask is True (input and mask broadcast) filled, in order, with the first
    elements of source."""
    x, src = lift(input), lift(source)
    _same_dtype("masked_scatter", x, src)
    x, m = _broadcast_with_mask("masked_scatter", x, _mask("masked_scatter", mask))
    k = int(m.sum())
    if src.size < k:
        raise RuntimeError(f"masked_scatter: the mask has {k} True elements but source has only {src.size}")
    return index_put(x, m, src.reshape(-1)[:k])


# ---- positions ----------------------------------------------------------------------------------------
def nonzero(input, *, as_tuple=False):  # noqa: A002
    """The indices of the non-zero elements: an int64 (count, ndim) tensor, or with as_tuple=True one 1-D tensor
    per dim (a 0-d input counts as 1-D there, as PyTorch)."""
    a = np.asarray(array_of(input))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor._wrap(np.argwhere(a).astype(np.int64))


def argwhere(input):  # noqa: A002
    """nonzero(input): the (count, ndim) indices of the non-zero elements."""
    return nonzero(input)


__all__ = ["argwhere", "index_add", "index_copy", "index_fill", "index_select", "masked_fill", "masked_scatter",
           "masked_select", "nonzero", "scatter", "scatter_add", "scatter_reduce", "take", "take_along_dim"]
METHODS = {name: globals()[name] for name in __all__}
