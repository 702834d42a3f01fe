"""Lookups and encodings of integer inputs: embedding, embedding_bag, one_hot, and sinusoidal positions.

`Embedding` is one op: the forward picks rows, the rule adds the upstream rows back at their indices (getitem's
scatter-add, `ScatterAdd`), after multiplying each by a constant: 0 for padding_idx, 1/count with
scale_grad_by_freq. Since that rule is itself an op whose rule is a gather, gradients of any order flow.
embedding_bag is a composition: lookups laid out as a (bags, longest bag) table, masked, then summed, averaged
or maxed per bag.
"""
import math

import numpy as np

from ... import ops
from ...autograd import Cost
from ...ops import xp
from ...ops._common import const, lift
from ...ops.elementwise import Op
from ...ops.shape import ScatterAdd
from ...tensor import Tensor

__all__ = ["embedding", "embedding_bag", "one_hot", "sinusoidal_positions"]


class _ClassValueError(ValueError, RuntimeError):
    """A bad class value: PyTorch raises RuntimeError, earlier minigrad ValueError; both catch it."""


def one_hot(tensor, num_classes=-1):
    """int64 class indices (any shape) -> int64 one-hot vectors along a new last axis (num_classes=-1: the
    largest class + 1). As PyTorch: other dtypes, negative classes and classes >= num_classes are errors."""
    t = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if t.dtype != np.int64:
        raise RuntimeError(f"one_hot: expected an index tensor of dtype int64 (PyTorch's LongTensor), got {t.dtype}; "
                           "convert it first, e.g. target.long()")
    if num_classes < 0 and not t.size:
        raise RuntimeError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
    if t.size and t.min() < 0:
        raise _ClassValueError(f"one_hot: class values must be non-negative, got {t.min()}")
    n = int(t.max()) + 1 if num_classes < 0 else int(num_classes)
    if t.size and t.max() >= n:
        raise _ClassValueError(f"one_hot: classes must lie in [0, {n - 1}], got values from {t.min()} to {t.max()}")
    return Tensor(np.eye(n, dtype=np.int64)[t])


class Embedding(Op):
    """out = weight[indices] (one row of weight per index).   dweight = each row of g times its constant `scale`
    (0 at padding_idx, 1/count with scale_grad_by_freq; None: 1), added at its index (scatter-add)."""

    @staticmethod
    def forward(ctx, weight, indices, scale):
        ctx.indices, ctx.scale, ctx.in_shape = indices, scale, weight.shape
        return weight.data[indices]

    @staticmethod
    def backward(ctx, g):
        rows = g if ctx.scale is None else g * ctx.scale.astype(g.dtype, copy=False)
        return xp.apply(ScatterAdd, rows, ctx.indices, ctx.in_shape), None, None

    @staticmethod
    def cost(ctx, out, *args):
        return Cost(category="movement")


def _indices(input, op):  # noqa: A002
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected indices of an integer dtype (int64 or int32), got {idx.dtype}")
    return idx


def _check_rows(idx, n, op):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"{op}: index out of range: indices must lie in [0, {n - 1}] for a weight of {n} rows, got "
                         f"values from {idx.min()} to {idx.max()}")


def _padding_idx(padding_idx, n, op):
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise AssertionError(f"{op}: padding_idx must be within num_embeddings ({n}), got {padding_idx}")
    return padding_idx % n


def _renorm_(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: each row that idx looks up whose norm_type-norm exceeds max_norm is scaled in
    place to norm max_norm (by max_norm / (norm + 1e-7)); no gradient, the weight's version advances."""
    rows = np.unique(idx)
    norms = np.linalg.norm(weight.data[rows].astype(np.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        rows = rows[over]
        weight.data[rows] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(weight.data.dtype)
        weight._version[0] += 1


def _lookup(weight, idx, padding_idx, scale_grad_by_freq, counted=None):
    """Embedding.apply with the per-lookup gradient scale; `counted` (a mask) limits which lookups count."""
    scale = None
    if scale_grad_by_freq:
        valid = idx if counted is None else idx[counted]
        counts = np.bincount(valid.ravel(), minlength=weight.shape[0])
        scale = 1.0 / np.maximum(counts, 1)[idx]
    if padding_idx is not None:
        scale = np.where(idx == padding_idx, 0.0, 1.0 if scale is None else scale)
    return Embedding.apply(weight, idx, None if scale is None else scale[..., None])


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,  # noqa: A002
              sparse=False):
    """Rows of `weight` (num_embeddings, embedding_dim) picked by the integer tensor `input`: shape input.shape +
    (embedding_dim,), as torch.nn.functional.embedding.

    padding_idx: that row gets no gradient (negative counts from the end). max_norm: each row looked up whose
    norm_type-norm exceeds max_norm is first renormalised IN PLACE to max_norm (so a graph that saved `weight`
    before can no longer backward, as in PyTorch). scale_grad_by_freq: each row's gradient is divided by how often
    the row occurs in `input`. sparse=True (a sparse gradient) is not supported: minigrad has no sparse tensors."""
    idx = _indices(input, "embedding")
    weight = lift(weight)
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported; minigrad has no sparse "
                                  "tensors: use sparse=False, whose dense gradient holds the same values")
    n = weight.shape[0]
    padding_idx = _padding_idx(padding_idx, n, "embedding")
    _check_rows(idx, n, "embedding")
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    return _lookup(weight, idx, padding_idx, scale_grad_by_freq)


def _bags(idx, offsets, include_last_offset, op):
    """The lookups of each bag as a (bags, longest) index table and the mask of its real entries."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None when the input is 2-D (one bag per row), as in PyTorch")
        return idx, np.ones(idx.shape, bool)
    if idx.ndim != 1 or offsets is None:
        raise ValueError(f"{op}: expected a 2-D input (bags of equal size), or a 1-D input with 1-D offsets, got an "
                         f"input of shape {idx.shape} and offsets {'None' if offsets is None else 'given'}")
    starts = np.asarray(offsets.data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
    if starts.ndim != 1 or (starts.size and (starts[0] != 0 or np.any(np.diff(starts) < 0) or starts[-1] > idx.size)):
        raise RuntimeError(f"{op}: offsets must be a 1-D increasing sequence that starts at 0 and stays within the "
                           f"input's {idx.size} entries, got {starts.tolist()}")
    ends = np.append(starts[1:], idx.size)
    if include_last_offset:
        starts, ends = starts[:-1], starts[1:]
    lengths = ends - starts
    position = np.arange(lengths.max(initial=0))
    mask = position < lengths[:, None]
    table = np.where(mask, starts[:, None] + position, 0)
    return (idx[table] if idx.size else np.zeros(table.shape, idx.dtype)), mask


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,  # noqa: A002
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings without the intermediate lookups of each bag, as
    torch.nn.functional.embedding_bag: a 2-D input is one bag per row; a 1-D input is cut into bags at `offsets`
    (the start of each; include_last_offset: the last offset is the end of the last bag). Entries equal to
    padding_idx are left out of their bag; an empty bag gives zeros. per_sample_weights (input's shape, mode 'sum'
    only) weigh each entry."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', not {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights is only supported for mode='sum' (got "
                                  f"mode={mode!r}), as in PyTorch")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("embedding_bag: mode 'max' does not support scaling the gradient by the frequency "
                         "(scale_grad_by_freq), as in PyTorch")
    idx = _indices(input, "embedding_bag")
    weight = lift(weight)
    if weight.ndim != 2:
        raise RuntimeError(f"embedding_bag: 'weight' must be 2-D, got shape {weight.shape}")
    if sparse:
        raise NotImplementedError("embedding_bag: sparse=True is not supported; minigrad has no sparse tensors")
    n = weight.shape[0]
    padding_idx = _padding_idx(padding_idx, n, "embedding_bag")
    _check_rows(idx, n, "embedding_bag")
    table, mask = _bags(idx, offsets, include_last_offset, "embedding_bag")
    if padding_idx is not None:
        mask &= table != padding_idx
    if max_norm is not None:
        _renorm_(weight, table[mask], max_norm, norm_type)
    rows = _lookup(weight, table, None, scale_grad_by_freq, mask)              # (bags, longest, dim)
    count = mask.sum(axis=1, keepdims=True)
    if mode == "max":
        if not table.shape[1]:
            return rows.sum(axis=1)  # every bag empty: zeros, still in the graph
        picked = ops.where(const(mask[..., None], bool), rows, -math.inf).amax(axis=1)
        return ops.where(const(count > 0, bool), picked, 0.0)
    scale = mask.astype(weight.data.dtype)
    if per_sample_weights is not None:
        w = lift(per_sample_weights)
        if w.shape != idx.shape or w.data.dtype != weight.data.dtype:
            raise RuntimeError(f"embedding_bag: per_sample_weights must have the input's shape {idx.shape} and the "
                               f"weight's dtype {weight.data.dtype}, got {w.shape} {w.data.dtype}")
        w = w.reshape(table.shape) if idx.ndim == 2 else w[_entry_table(idx, offsets, include_last_offset, mask)]
        bagged = (rows * (w * const(scale, w.dtype))[..., None]).sum(axis=1)
    else:
        bagged = (rows * const(scale[..., None], rows.dtype)).sum(axis=1)
    if mode == "sum":
        return bagged
    return bagged / const(np.maximum(count, 1), rows.dtype)


def _entry_table(idx, offsets, include_last_offset, mask):
    """The position in the 1-D input of each entry of the bag table (0 where the table has no entry)."""
    positions, _ = _bags(np.arange(idx.size), offsets, include_last_offset, "embedding_bag")
    return np.where(mask, positions, 0)


def sinusoidal_positions(length, dim, base=10000.0, dtype=np.float32):
    """The fixed positional encodings of Vaswani et al., "Attention Is All You Need" (NeurIPS 2017), section 3.5:

        PE[pos, 2i] = sin(pos / base^(2i/dim)),   PE[pos, 2i+1] = cos(pos / base^(2i/dim))

    a (length, dim) tensor (no gradient) to add to token embeddings, e.g. `x + sinusoidal_positions(T, D)`. An odd
    dim keeps the last sine column. Learned positions are an nn.Embedding(length, dim) looked up with arange(T)."""
    length, dim = int(length), int(dim)
    if length < 0 or dim < 0:
        raise ValueError(f"sinusoidal_positions: length and dim must be >= 0, got {length} and {dim}")
    frequencies = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    angles = np.arange(length, dtype=np.float64)[:, None] * frequencies
    table = np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(length, -1)[:, :dim]
    return Tensor(table.astype(dtype))
