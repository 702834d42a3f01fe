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
from ._common import lift, normalize_dim, per_input_element
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


__all__ = ["argsort", "kthvalue", "mode", "msort", "sort", "topk", "unique"]
METHODS = {"sort": sort, "argsort": argsort, "msort": msort, "topk": topk, "kthvalue": kthvalue, "mode": mode,
           "unique": unique}
