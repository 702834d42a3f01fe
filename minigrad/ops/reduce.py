"""Reductions and the softmax family, with PyTorch's arguments (`dim`, `keepdim`, `dtype`, `correction`) and
NumPy's spellings (`axis`, `keepdims`, `ddof`) accepted for the same things.

Every dim goes through `normalize_dims`; 0-d tensors accept dim 0 and -1; empty tensors give PyTorch's
results (sum 0, mean and var nan, logsumexp -inf, softmax an empty tensor). float16 accumulates in float32
and rounds once, as PyTorch does on the CPU.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from ..dtypes import compute_dtype, to_float
from ..tensor import Tensor
from . import xp
from ._common import array_of, dim_args, kept_shape, lift, normalize_dim, normalize_dims, per_input_element
from .elementwise import Op, _floating, _not_for


def _spread(g, ctx):
    """A reduced gradient, broadcast back over the reduced axes to the input's shape."""
    return xp.broadcast_to(g.reshape(ctx.kept), ctx.in_shape)


def _setup(ctx, x, axes):
    ctx.axes, ctx.kept, ctx.in_shape = axes, kept_shape(x.shape, axes), x.shape


def _count(shape, axes):
    return math.prod(shape[a] for a in axes)


def _rounded(value, x):
    """A result computed in the accumulation dtype, back in x's dtype."""
    return np.asarray(value).astype(x.dtype, copy=False)


class Sum(Op):
    """sum(x, dims).   dx = g broadcast over the summed dims."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _setup(ctx, x, axes)
        return _rounded(np.sum(x.data, axis=axes, keepdims=keepdim, dtype=compute_dtype(x.dtype)), x)

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx)

    cost = per_input_element(1)


class Mean(Op):
    """mean(x, dims) = sum / n (nan for an empty reduction).   dx = g / n broadcast over the reduced dims."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _setup(ctx, x, axes)
        ctx.n = _count(x.shape, axes)
        total = np.sum(x.data, axis=axes, keepdims=keepdim, dtype=compute_dtype(x.dtype))
        return _rounded(total / ctx.n if ctx.n else np.full_like(total, np.nan), x)

    @staticmethod
    def backward(ctx, g):
        return _spread(g / ctx.n, ctx) if ctx.n else _spread(g, ctx)

    cost = per_input_element(1)


def _centred(x, axes):
    return x - x.mean(axis=axes, keepdims=True)


def _var_divisor(n, correction):
    return builtins.max(0, n - correction)


class Var(Op):
    """var(x, dims, correction) = sum((x - mean)^2) / (n - correction), inf or nan when n <= correction (as
    PyTorch).   dx = g 2 (x - mean) / (n - correction)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        _setup(ctx, x, axes)
        ctx.save_for_backward(x)
        ctx.divisor = _var_divisor(_count(x.shape, axes), correction)
        data = x.data.astype(compute_dtype(x.dtype), copy=False)
        squares = np.sum(np.square(_centred(data, axes)), axis=axes, keepdims=keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _rounded(squares / ctx.divisor, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        scale = 2.0 / ctx.divisor if ctx.divisor else math.inf
        return _spread(g, ctx) * _centred(x, ctx.axes) * scale

    cost = per_input_element(3)


class Std(Op):
    """std = sqrt(var(x, dims, correction)).   dx = g (x - mean) / (std (n - correction)), 0 where std = 0 (as
    PyTorch)."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        return np.sqrt(Var.forward(ctx, x, axes, keepdim, correction))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        std = ctx.output.reshape(ctx.kept)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = _spread(g, ctx) * _centred(x, ctx.axes) / (std * ctx.divisor)
        return xp.where(xp.broadcast_to(array_of(std) == 0, ctx.in_shape), 0.0, grad)

    cost = per_input_element(4)


class Max(Op):
    """max(x, dims) (amax).   dx = g at the maxima; tied maxima share g equally (as PyTorch's amax and max())."""
    pick = staticmethod(np.max)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _setup(ctx, x, axes)
        out = ctx.op.pick(x.data, axis=axes, keepdims=True)
        hit = x.data == out
        ctx.share = hit / hit.sum(axis=axes, keepdims=True)
        return out if keepdim else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx) * ctx.share.astype(g.dtype)

    cost = per_input_element(1)


class Min(Max):
    """min(x, dims) (amin).   dx = g at the minima; tied minima share g equally."""
    pick = staticmethod(np.min)


class Logsumexp(Op):
    """log(sum(exp(x), dims)), computed as m + log(sum(exp(x - m))); -inf for an empty reduction.
    dx = g softmax(x)."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _setup(ctx, x, axes)
        ctx.save_for_backward(x)
        data = x.data.astype(compute_dtype(x.dtype), copy=False)
        m = np.max(data, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            out = m + np.log(np.sum(np.exp(data - m), axis=axes, keepdims=True))
        return _rounded(out if keepdim else out.reshape([n for i, n in enumerate(out.shape) if i not in axes]), x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return _spread(g, ctx) * xp.exp(x - ctx.output.reshape(ctx.kept))

    cost = per_input_element(3)


def _shifted(x, axis):
    """x - max(x) along axis, in the accumulation dtype (an empty axis stays empty)."""
    data = x.data.astype(compute_dtype(x.dtype), copy=False)
    return data - np.max(data, axis=axis, keepdims=True, initial=-np.inf) if data.size else data


class Softmax(Op):
    """s = exp(x - max) / sum(exp(x - max)) along dim.   dx = s (g - sum(g s))."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        e = np.exp(_shifted(x, axis))
        return _rounded(e / np.sum(e, axis=axis, keepdims=True), x)

    @staticmethod
    def backward(ctx, g):
        s = ctx.output
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True))

    cost = per_input_element(4)


class LogSoftmax(Op):
    """x - logsumexp(x) along dim.   dx = g - softmax(x) sum(g)."""
    name = "log_softmax"
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        shifted = _shifted(x, axis)
        return _rounded(shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)), x)

    @staticmethod
    def backward(ctx, g):
        return g - xp.exp(ctx.output) * g.sum(axis=ctx.axis, keepdims=True)

    cost = per_input_element(4)


class Argmax(Op):
    """Index of the first maximum along dim (of the flattened tensor when dim is None); int64, no gradient."""
    pick = staticmethod(np.argmax)

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        if x.size == 0 and (axis is None or not x.ndim or x.shape[axis] == 0):
            raise IndexError(f"{ctx.op.name}: cannot reduce an empty dimension (input of shape {x.shape}); "
                             "there is no maximum of nothing")
        if axis is None:
            out = ctx.op.pick(x.data)
            return np.reshape(out, (1,) * x.ndim) if keepdim else out
        return ctx.op.pick(x.data, axis=axis if x.ndim else None, keepdims=keepdim and bool(x.ndim))

    cost = per_input_element(1)


class Argmin(Argmax):
    """Index of the first minimum along dim (of the flattened tensor when dim is None); int64, no gradient."""
    pick = staticmethod(np.argmin)


# ---- the functions users call ------------------------------------------------------------------
def _reduce_dims(op, x, dim, keepdim, axis, keepdims):
    dim, keepdim = dim_args(op, dim, keepdim, axis, keepdims)
    return normalize_dims(dim, x.ndim, op), keepdim


def _floating_input(op, x, dtype):
    """x cast to dtype= when given; otherwise a float (or complex) x as is, and an integer x refused (as PyTorch's
    mean and var: 'could not infer output dtype')."""
    x = lift(x)
    if dtype is not None:
        return x.astype(dtype) if x.data.dtype != np.dtype(dtype) else x
    if x.data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: input dtype must be floating point or complex, got {x.data.dtype} (as in PyTorch); "
                           f"pass dtype= or convert first, e.g. x.float().{op}()")
    return x


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A001, A002
    """Sum over dim (all dims when None). bool and integer inputs sum in int64 (as PyTorch)."""
    x = lift(input)
    if dtype is None and x.data.dtype.kind in "biu":
        dtype = np.int64
    if dtype is not None and x.data.dtype != np.dtype(dtype):
        x = x.astype(dtype)
    axes, keepdim = _reduce_dims("sum", x, dim, keepdim, axis, keepdims)
    return Sum.apply(x, axes, keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Mean over dim (all dims when None); nan when the reduction is empty."""
    x = _floating_input("mean", input, dtype)
    axes, keepdim = _reduce_dims("mean", x, dim, keepdim, axis, keepdims)
    return Mean.apply(x, axes, keepdim)


def _correction(op, correction, unbiased, ddof):
    given = [v for v in (correction, unbiased, ddof) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{op}: give only one of correction=, unbiased= and ddof= (NumPy's name for correction)")
    if unbiased is not None:
        return 1 if unbiased else 0
    value = given[0] if given else 1
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: correction must be a number, got {value!r}")
    return value


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, ddof=None, axis=None,  # noqa: A002
        keepdims=None):
    """Variance over dim with Bessel's correction by default (correction=1, as PyTorch; NumPy's default is 0)."""
    x = _floating_input("var", input, None)
    axes, keepdim = _reduce_dims("var", x, dim, keepdim, axis, keepdims)
    return Var.apply(x, axes, keepdim, _correction("var", correction, unbiased, ddof))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, ddof=None, axis=None,  # noqa: A002
        keepdims=None):
    """Standard deviation over dim, correction=1 by default (as PyTorch)."""
    x = _floating_input("std", input, None)
    axes, keepdim = _reduce_dims("std", x, dim, keepdim, axis, keepdims)
    return Std.apply(x, axes, keepdim, _correction("std", correction, unbiased, ddof))


def _nonempty(op, x, axes, dim_given):
    if x.size == 0:
        if not dim_given:
            raise RuntimeError(f"{op}(): the input is empty (shape {x.shape}) and no dim was given; a maximum of nothing "
                               "is undefined (as in PyTorch): specify dim=")
        for a in axes:
            if x.shape[a] == 0:
                raise IndexError(f"{op}(): dim {a} of the input (shape {x.shape}) has size 0; there is no extreme of "
                                 "nothing")


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Maximum over dim (all dims when None; dim may be a tuple). Tied maxima share the gradient equally."""
    x = lift(input)
    axes, keepdim = _reduce_dims("amax", x, dim, keepdim, axis, keepdims)
    _nonempty("amax", x, axes, dim is not None or axis is not None)
    return Max.apply(x, axes, keepdim)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Minimum over dim (all dims when None; dim may be a tuple). Tied minima share the gradient equally."""
    x = lift(input)
    axes, keepdim = _reduce_dims("amin", x, dim, keepdim, axis, keepdims)
    _nonempty("amin", x, axes, dim is not None or axis is not None)
    return Min.apply(x, axes, keepdim)


ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = "(values, indices), as PyTorch's torch.return_types for max, min, sort, topk, ..."


def _extreme(op, amax_fn, arg_fn, input, dim, keepdim, axis, keepdims):
    """PyTorch's max/min: of everything (dim None), (values, indices) along an int dim, or the elementwise
    maximum/minimum with a tensor. NumPy's spelling (axis=) gives the values only, as numpy.max."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum
        return (maximum if op == "max" else minimum)(input, dim)
    if dim is None:
        return amax_fn(input, axis=axis, keepdim=keepdim, keepdims=keepdims)
    x = lift(input)
    d = normalize_dim(dim, x.ndim, op)
    keepdim = keepdim if keepdims is None else keepdims
    _nonempty(op, x, (d,) if x.ndim else (), True)
    indices = arg_fn(x, d, keepdim=True)
    from .shape import gather, squeeze
    values = gather(x, d, indices) if x.ndim else x * 1
    if not keepdim and x.ndim:
        values, indices = squeeze(values, d), squeeze(indices, d)
    return ValuesIndices(values, indices)


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001, A002
    """max(x): the largest element; max(x, dim): (values, indices) along dim, the gradient to the index
    returned; max(x, other): the elementwise maximum; max(x, axis=...): NumPy's, the values only."""
    return _extreme("max", amax, argmax, input, dim, keepdim, axis, keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001, A002
    """min(x): the smallest element; min(x, dim): (values, indices) along dim; min(x, other): elementwise."""
    return _extreme("min", amin, argmin, input, dim, keepdim, axis, keepdims)


def _one_dim(op, x, dim):
    """An int dim normalised, with NumPy's axis for it (() on a 0-d tensor)."""
    d = normalize_dim(dim, x.ndim, op)
    return d if x.ndim else ()


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """log(sum(exp(x))) over dim (all dims when None), computed without overflow; -inf when empty."""
    x = lift(input)
    if x.data.dtype.kind not in "fc":
        x = x.astype(to_float(x.data.dtype))
    axes, keepdim = _reduce_dims("logsumexp", x, dim, keepdim, axis, keepdims)
    return Logsumexp.apply(x, axes, keepdim)


def _softmax_input(op, input, dtype):
    x = lift(input)
    if dtype is not None:
        return x.astype(dtype) if x.data.dtype != np.dtype(dtype) else x
    return _not_for(op, x, "biu")


def softmax(input, dim=-1, dtype=None, *, axis=None):  # noqa: A002
    """exp(x) / sum(exp(x)) along dim (shifted by the max, so it never overflows)."""
    x = _softmax_input("softmax", input, dtype)
    return Softmax.apply(x, _one_dim("softmax", x, dim if axis is None else axis))


def log_softmax(input, dim=-1, dtype=None, *, axis=None):  # noqa: A002
    """x - logsumexp(x) along dim."""
    x = _softmax_input("log_softmax", input, dtype)
    return LogSoftmax.apply(x, _one_dim("log_softmax", x, dim if axis is None else axis))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Index of the first maximum along dim; of the flattened tensor when dim is None."""
    x = _not_for("argmax", lift(input), "b", RuntimeError)
    dim, keepdim = dim_args("argmax", dim, keepdim, axis, keepdims)
    return Argmax.apply(x, None if dim is None else normalize_dim(dim, x.ndim, "argmax"), keepdim)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A002
    """Index of the first minimum along dim; of the flattened tensor when dim is None."""
    x = _not_for("argmin", lift(input), "b", RuntimeError)
    dim, keepdim = dim_args("argmin", dim, keepdim, axis, keepdims)
    return Argmin.apply(x, None if dim is None else normalize_dim(dim, x.ndim, "argmin"), keepdim)


__all__ = ["amax", "amin", "argmax", "argmin", "logsumexp", "log_softmax", "max", "mean", "min", "softmax", "std", "sum",
           "var"]
METHODS = {"sum": sum, "mean": mean, "var": var, "std": std, "max": max, "min": min, "amax": amax, "amin": amin,
           "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "argmax": argmax, "argmin": argmin}
