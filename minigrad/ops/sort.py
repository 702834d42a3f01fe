"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median along a dim, mode, unique.

Each (values, indices) op is an index op (int64, no gradient) followed by `take_along` (torch.gather): the
values are the input's entries at those indices, so the gradient goes to them (PyTorch's
value_selecting_reduction_backward) and can be differentiated again. Sorting is stable (equal elements keep
their order; descending keeps it too) and nan sorts as the largest value, as PyTorch's. Among equal elements
PyTorch leaves unspecified which index topk, kthvalue, median and mode return; minigrad returns the one the
stable sort gives (mode: the last occurrence of the smallest most frequent value, as PyTorch on the CPU).
"""
import numpy as np

from ..tensor import Tensor
from ._common import lift, normalize_dim, per_input_element, promote
from .elementwise import Op, _not_for
from .reduce import ValuesIndices, _selected, take_along


def _argsort(data, axis, descending):
    """The stable sort order along axis; descending keeps equal elements in their order (and nan first)."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    return data.shape[axis] - 1 - np.flip(np.argsort(np.flip(data, axis), axis=axis, kind="stable"), axis)


def _along(values, axis, ndim):
    """values laid along axis of an ndim-dim array (broadcasting over the others)."""
    return np.reshape(values, (-1,) + (1,) * (ndim - axis - 1))


class Argsort(Op):
    """The indices that sort x along dim (the first k of them for topk); int64, no gradient."""
    @staticmethod
    def forward(ctx, x, axis, descending, k=None):
        order = _argsort(x.data, axis, descending)
        return order if k is None else order[(slice(None),) * axis + (slice(0, k),)]

    cost = per_input_element(1)


class Kthvalue(Op):
    """The index of the k-th smallest element along dim (k counts from 1; nan is the largest), kept as a size-1
    dim; int64, no gradient."""
    name = "kthvalue_index"

    @staticmethod
    def position(data, axis, k):
        return np.full(data.shape[:axis] + data.shape[axis + 1:], k - 1)

    @staticmethod
    def forward(ctx, x, axis, k=None):
        order = _argsort(x.data, axis, False)
        return np.take_along_axis(order, np.expand_dims(ctx.op.position(x.data, axis, k), axis), axis)

    cost = per_input_element(1)


class MedianIndex(Kthvalue):
    """The index of the lower median along dim, or of the first nan where there is one (as PyTorch), kept as a
    size-1 dim; int64, no gradient."""
    name = "median_index"

    @staticmethod
    def position(data, axis, k):
        n, nans = data.shape[axis], np.sum(data != data, axis=axis)
        return np.where(nans > 0, n - nans, (n - 1) // 2)


class NanmedianIndex(Kthvalue):
    """The index of the lower median of the non-nan values along dim (index 0 of an all-nan slice), kept as a
    size-1 dim; int64, no gradient."""
    name = "nanmedian_index"

    @staticmethod
    def position(data, axis, k):
        valid = data.shape[axis] - np.sum(data != data, axis=axis)
        return np.maximum(valid - 1, 0) // 2


class ModeIndex(Op):
    """The index of the most frequent value along dim (the smallest of equally frequent ones; its last occurrence,
    as PyTorch on the CPU), kept as a size-1 dim; int64, no gradient."""
    name = "mode_index"

    @staticmethod
    def forward(ctx, x, axis):
        order = np.argsort(x.data, axis=axis, kind="stable")
        ordered = np.take_along_axis(x.data, order, axis)
        position = _along(np.arange(x.shape[axis]), axis, x.ndim)
        lead = (slice(None),) * axis
        first = np.ones(x.shape, bool)  # where a run of equal values starts
        first[lead + (slice(1, None),)] = ordered[lead + (slice(1, None),)] != ordered[lead + (slice(None, -1),)]
        run = position - np.maximum.accumulate(np.where(first, position, 0), axis=axis)  # 0, 1, ... within a run
        return np.take_along_axis(order, np.argmax(run, axis=axis, keepdims=True), axis)

    cost = per_input_element(1)


class Unique(Op):
    """The sorted distinct elements of x (or, as `part`, the inverse indices or the counts): numpy.unique, with
    every nan distinct (as PyTorch); no gradient."""
    @staticmethod
    def forward(ctx, x, dim, part):
        values, inverse, counts = np.unique(x.data, return_inverse=True, return_counts=True, axis=dim,
                                            equal_nan=False)
        if part == "values":
            return values
        return (inverse.reshape(x.shape) if dim is None else inverse.reshape(-1)) if part == "inverse" else counts

    cost = per_input_element(1)


class Searchsorted(Op):
    """For each value, the index where it would be inserted into its row of sorted_sequence to keep it sorted:
    the first i with seq[i] >= value (right: seq[i] > value). PyTorch's binary search, run on every value at
    once (so a nan in the sequence or the values gives PyTorch's index); int64 or int32, no gradient."""
    @staticmethod
    def forward(ctx, seq, values, sorter, right, out_int32):
        sq, v = seq.data, values.data
        n = sq.shape[-1]
        dtype = np.int32 if out_int32 else np.int64
        if n == 0 or v.size == 0:
            return np.zeros(v.shape, dtype)
        rows = sq.reshape(-1, n)                                          # (B, n); B = 1 for a 1-d sequence
        vals = v.reshape(rows.shape[0], -1) if sq.ndim > 1 else v.reshape(1, -1)
        order = None if sorter is None else sorter.data.reshape(rows.shape)
        start = np.zeros(vals.shape, np.int64)
        end = np.full(vals.shape, n, np.int64)
        active = start < end
        while active.any():
            mid = start + (end - start) // 2
            at = np.minimum(mid, n - 1)
            if order is not None:
                at = np.take_along_axis(order, at, axis=1)
            mid_val = np.take_along_axis(rows, at, axis=1)
            go_right = ~(mid_val > vals) if right else ~(mid_val >= vals)
            start = np.where(active & go_right, mid + 1, start)
            end = np.where(active & ~go_right, mid, end)
            active = start < end
        return start.reshape(v.shape).astype(dtype)

    cost = per_input_element(1)


class UniqueConsecutive(Op):
    """The first element (slice along dim) of every run of equal consecutive ones (or, as `part`, the inverse
    indices or the run lengths); nan never equals nan, so each nan starts a run (as PyTorch); no gradient."""
    name = "unique_consecutive"

    @staticmethod
    def forward(ctx, x, dim, part):
        data = x.data.reshape(-1) if dim is None else np.moveaxis(x.data, dim, 0)
        n = data.shape[0]
        rows = data.reshape(n, int(np.prod(data.shape[1:])))
        starts = np.ones(n, bool)
        starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
        if part == "values":
            return data[starts] if dim is None else np.moveaxis(data[starts], 0, dim)
        if part == "inverse":
            inverse = np.cumsum(starts) - 1
            return inverse.reshape(x.shape) if dim is None else inverse
        return np.diff(np.append(np.flatnonzero(starts), n)).astype(np.int64)

    cost = per_input_element(1)


# ---- the functions users call ------------------------------------------------------------------
def _indices(op, x, d, *params):
    """op's int64 indices along dim d (a 0-d x counts as one element; its indices come back 0-d)."""
    if x.ndim:
        return op.apply(x, d, *params)
    return op.apply(x.reshape(1), 0, *params).reshape(())


def _nonempty_dim(op, x, d):
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{op}(): expected reduction dim {d} to have non-zero size (input of shape {x.shape}); there "
                         "is nothing to select")


def sort(input, dim=-1, descending=False, *, stable=False, axis=None):  # noqa: A002
    """(values, indices) of input sorted along dim. Always stable (stable=True is accepted, as PyTorch's); nan
    sorts as the largest value. The gradient goes back to each value's place."""
    x = lift(input)
    d = normalize_dim(dim if axis is None else axis, x.ndim, "sort")
    indices = _indices(Argsort, x, d, bool(descending))
    return ValuesIndices(take_along(x, d, indices), indices)


def argsort(input, dim=-1, descending=False, *, stable=False, axis=None):  # noqa: A002
    """The indices that sort input along dim (stable; nan as the largest value)."""
    x = lift(input)
    return _indices(Argsort, x, normalize_dim(dim if axis is None else axis, x.ndim, "argsort"), bool(descending))


def msort(input):  # noqa: A002
    """input sorted along its first dim (sort(input, dim=0).values)."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True, *, axis=None):  # noqa: A002
    """(values, indices) of the k largest (largest=False: smallest) elements along dim, in sorted order (also when
    sorted=False, which PyTorch leaves unspecified). Equal elements: the first ones in input's order."""
    x = _not_for("topk", lift(input), "b", RuntimeError)
    d = normalize_dim(dim if axis is None else axis, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k out of range: k = {k} for a dim of size {n} (need 0 <= k <= {n})")
    if not x.ndim:  # PyTorch gives the element itself for k = 0 too
        return ValuesIndices(take_along(x, 0, None), Tensor._wrap(np.asarray(0, np.int64)))
    indices = Argsort.apply(x, d, bool(largest), int(k))
    return ValuesIndices(take_along(x, d, indices), indices)


def kthvalue(input, k, dim=-1, keepdim=False, *, axis=None):  # noqa: A002
    """(values, indices) of the k-th smallest element along dim (k from 1; nan counts as the largest)."""
    x = lift(input)
    if x.ndim:  # PyTorch has no bool kernel, but hands a 0-d tensor back as it is
        _not_for("kthvalue", x, "b")
    d = normalize_dim(dim if axis is None else axis, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): dim {d} of shape {x.shape} is empty: there is no k-th value to select (as "
                         "PyTorch)")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}: k = {k}, but the dim has "
                           f"{n} element{'s' if n != 1 else ''} (k counts from 1)")
    return _selected(x, d, _indices(Kthvalue, x, d, int(k)), keepdim)


def median_along(x, dim, keepdim):
    """median(x, dim): (values, indices) of the lower median along dim; nan (at the first nan) where a nan is."""
    d = normalize_dim(dim, x.ndim, "median")
    _nonempty_dim("median", x, d)
    return _selected(x, d, _indices(MedianIndex, x, d), keepdim)


def nanmedian_along(x, dim, keepdim):
    """nanmedian(x, dim): (values, indices) of the lower median of the non-nan values along dim."""
    d = normalize_dim(dim, x.ndim, "nanmedian")
    _nonempty_dim("nanmedian", x, d)
    return _selected(x, d, _indices(NanmedianIndex, x, d), keepdim)


def mode(input, dim=-1, keepdim=False, *, axis=None):  # noqa: A002
    """(values, indices) of the most frequent value along dim: the smallest of equally frequent ones, at its last
    occurrence (as PyTorch on the CPU)."""
    x = lift(input)
    d = normalize_dim(dim if axis is None else axis, x.ndim, "mode")
    _nonempty_dim("mode", x, d)
    return _selected(x, d, _indices(ModeIndex, x, d), keepdim)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements of input, sorted (also when sorted=False, as PyTorch on the CPU); with dim, the
    distinct slices along dim. return_inverse: where each element (slice) went; return_counts: how many of each.
    A tensor, or a tuple when either is asked for; no gradient."""
    x = lift(input)
    d = None if dim is None else normalize_dim(dim, x.ndim, "unique")
    if d is not None and x.ndim == 0:
        raise IndexError("unique: a 0-d tensor has no dim to find distinct slices along; leave dim=None")
    parts = ["values"] + ["inverse"] * bool(return_inverse) + ["counts"] * bool(return_counts)
    out = tuple(Unique.apply(x.detach(), d, part) for part in parts)
    return out if len(out) > 1 else out[0]


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """The indices i where `values` would be inserted into `sorted_sequence` to keep it sorted (torch.searchsorted):
    left (default): seq[i-1] < v <= seq[i];  right=True or side='right': seq[i-1] <= v < seq[i].
    A 1-d sequence serves values of any shape (or a Python number: a 0-d result); an N-d sequence is searched row
    by row: its first N-1 dims must equal those of values. sorter: int64 indices that sort an unsorted sequence
    along its last dim (argsort's). int64 indices (int32 with out_int32=True), no gradient."""
    op = "searchsorted"
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{op}(): side can only be 'left' or 'right' but got {side!r}")
        if right and side == "left":
            raise RuntimeError(f"{op}(): side and right can't be set to opposites, got side='left' while right=True "
                               "(as PyTorch); pass only one of them")
        right = side == "right"
    seq = lift(sorted_sequence)
    scalar = not isinstance(values, Tensor)
    vals = lift(values)
    if seq.ndim == 0:
        raise RuntimeError(f"{op}(): boundaries tensor should be 1 dimension or more, but got a 0-d tensor; make it "
                           "1-d, e.g. seq.reshape(1)")
    if vals.ndim == 0 and seq.ndim != 1:
        raise RuntimeError(f"{op}(): input value can be a scalar only when boundaries tensor dimension is 1, but got "
                           f"a boundaries tensor of shape {seq.shape}; give values of shape {seq.shape[:-1]} + (k,)")
    if seq.ndim > 1 and seq.shape[:-1] != vals.shape[:-1]:
        raise RuntimeError(f"{op}(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
                           f"tensor and input value tensor must match, but got boundaries of shape {seq.shape} and "
                           f"values of shape {vals.shape} (as PyTorch; no broadcasting)")
    (s_cmp, v_cmp), dtype = promote(seq.detach(), vals.detach() if not scalar else values)
    if dtype.kind in "bc":
        raise NotImplementedError(f"{op}(): not implemented for {dtype} (as in PyTorch); convert first, e.g. x.float()")
    if sorter is not None:
        sorter = lift(sorter)
        if sorter.data.dtype != np.int64:
            raise RuntimeError(f"{op}(): sorter must be a tensor of int64 (long) dtype but got {sorter.data.dtype}; "
                               "use argsort's indices, or sorter.long()")
        if sorter.shape != seq.shape:
            raise RuntimeError(f"{op}(): boundary and sorter must have the same size, but got boundaries of shape "
                               f"{seq.shape} and sorter of shape {sorter.shape}")
        if sorter.size and (sorter.data.min() < 0 or sorter.data.max() >= seq.shape[-1]):
            raise RuntimeError(f"{op}(): sorter index out of range: its entries must lie in [0, {seq.shape[-1]}) "
                               f"(the last dim of the boundaries), got [{sorter.data.min()}, {sorter.data.max()}]")
    s_cmp, v_cmp = (t if t.data.dtype == dtype else t.astype(dtype) for t in (s_cmp, v_cmp))
    return Searchsorted.apply(s_cmp, v_cmp, sorter, bool(right), bool(out_int32))


def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The index of the bucket each element of input falls in, given 1-d sorted `boundaries` (torch.bucketize):
    right=False: boundaries[i-1] < x <= boundaries[i];  right=True: boundaries[i-1] <= x < boundaries[i]. It is
    searchsorted(boundaries, input, right=right). int64 indices (int32 with out_int32=True), no gradient."""
    b = lift(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({b.ndim}) (shape "
                           f"{b.shape}); flatten it or use searchsorted for row-wise boundaries")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """input with every run of equal consecutive elements collapsed to one (torch.unique_consecutive; a 1-d result
    for dim=None, as PyTorch flattens first); with dim, runs of equal consecutive slices along dim. return_inverse:
    the run each element (slice) belongs to, of input's shape (of shape (n,) with dim); return_counts: each run's
    length. nan never equals nan, so every nan is its own run. A tensor, or a tuple when either is asked for; no
    gradient (as unique: PyTorch marks the values as requiring grad, then has no derivative)."""
    x = lift(input)
    d = None if dim is None else normalize_dim(dim, x.ndim, "unique_consecutive")
    if d is not None and x.ndim == 0:
        raise IndexError("unique_consecutive: a 0-d tensor has no dim to compare slices along; leave dim=None")
    if d is not None and x.shape[d] > 0 and x.size == 0:
        raise RuntimeError(f"unique_consecutive: input of shape {x.shape} has a 0-sized dim other than dim={d}: "
                           "its slices are empty and cannot be compared (as PyTorch); pick a dim of size 0 or leave "
                           "dim=None")
    parts = ["values"] + ["inverse"] * bool(return_inverse) + ["counts"] * bool(return_counts)
    out = tuple(UniqueConsecutive.apply(x.detach(), d, part) for part in parts)
    return out if len(out) > 1 else out[0]


__all__ = ["argsort", "bucketize", "kthvalue", "mode", "msort", "searchsorted", "sort", "topk", "unique",
           "unique_consecutive"]
METHODS = {"sort": sort, "argsort": argsort, "msort": msort, "topk": topk, "kthvalue": kthvalue, "mode": mode,
           "unique": unique, "unique_consecutive": unique_consecutive}
