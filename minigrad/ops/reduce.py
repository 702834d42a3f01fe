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
from .elementwise import Op, _not_for


def _spread(g, ctx):
    """A reduced gradient, broadcast back over the reduced axes to the input's shape."""
    # task 1.7: sum backward
    return xp.broadcast_to(g.reshape(ctx.kept), ctx.in_shape)
    # end task


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
    nan_shares = False  # amax: a nan maximum gives nan gradients (PyTorch's scale_grad_by_count)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _setup(ctx, x, axes)
        out = ctx.op.pick(x.data, axis=axes, keepdims=True)
        hit = x.data == out
        if ctx.op.nan_shares:  # max(), min(), median(): a nan result shares g among the nans (evenly_distribute)
            hit |= (x.data != x.data) & (out != out)
        with np.errstate(invalid="ignore", divide="ignore"):
            ctx.share = hit / hit.sum(axis=axes, keepdims=True)
        return out if keepdim else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx) * ctx.share.astype(g.dtype)

    cost = per_input_element(1)


class Min(Max):
    """min(x, dims) (amin).   dx = g at the minima; tied minima share g equally."""
    pick = staticmethod(np.min)


class MaxAll(Max):
    """max(x) of every element.   dx = g shared equally by the maxima, or by the nans when the result is nan."""
    name = "max_all"
    nan_shares = True


class MinAll(MaxAll):
    """min(x) of every element.   dx = g shared equally by the minima, or by the nans when the result is nan."""
    name = "min_all"
    pick = staticmethod(np.min)


def _lower_median(data, axis, keepdims):
    """The lower of the two middle values of all of data; nan when a value is nan (sorted last) or data is empty
    (an integer input then gives its smallest value, as PyTorch)."""
    flat = np.sort(data, axis=None)
    if flat.size and flat[-1] == flat[-1]:  # nan sorts last
        value = flat[(flat.size - 1) // 2]
    else:
        value = np.nan if data.dtype.kind == "f" else np.iinfo(data.dtype).min
    return np.full((1,) * data.ndim if keepdims else (), value, data.dtype)


class Median(MaxAll):
    """The lower median of every element (as PyTorch).   dx = g shared equally by the elements equal to it (or by
    the nans when it is nan)."""
    name = "median"
    pick = staticmethod(_lower_median)


def _lower_nanmedian(data, axis, keepdims):
    """The lower of the two middle values of the non-nan values of data (nan when there are none)."""
    flat = np.sort(data, axis=None)
    if data.dtype.kind == "f":
        flat = flat[: flat.size - int(np.count_nonzero(flat != flat))]  # nan sorts last
        if not flat.size:
            return np.full((1,) * data.ndim if keepdims else (), np.nan, data.dtype)
    return _lower_median(flat, None, False).reshape((1,) * data.ndim if keepdims else ())


class Nanmedian(MaxAll):
    """The lower median of the non-nan elements (as PyTorch).   dx = g shared equally by the elements equal to it
    (by the nans when every element is nan)."""
    name = "nanmedian"
    pick = staticmethod(_lower_nanmedian)


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


class Prod(Op):
    """prod(x) over one dim or all.   dx = g prod(x) / x when no x is 0 (PyTorch's formula); otherwise g times the
    product of the other elements, exclusive cumprods from both ends (exact at zeros, and differentiable again)."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        _setup(ctx, x, tuple(range(x.ndim)) if axis is None else (axis,))
        ctx.axis, ctx.zeros = axis, bool((x.data == 0).any())
        ctx.save_for_backward(x)
        return _rounded(np.prod(x.data, axis=ctx.axes, keepdims=keepdim, dtype=compute_dtype(x.dtype)), x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        if not ctx.in_shape:  # a 0-d x is its own product
            return g
        if not ctx.zeros:
            return _spread(g, ctx) * (ctx.output.reshape(ctx.kept) / x)
        if ctx.axis is None:
            return _spread(g, ctx) * _others(x.reshape(-1), 0).reshape(ctx.in_shape)
        return _spread(g, ctx) * _others(x, ctx.axis)

    cost = per_input_element(1)


def _others(x, axis):
    """prod_{i != k} x_i along axis for every k, without a division: the product of the elements before k (an
    exclusive cumprod) times that of those after k (the same from the other end)."""
    from .scan import exclusive_cumprod
    from .shape import Flip
    return exclusive_cumprod(x, axis) * xp.apply(Flip, exclusive_cumprod(xp.apply(Flip, x, (axis,)), axis), (axis,))


class Nansum(Op):
    """sum(x, dims) with nan counted as 0.   dx = g where x is not nan, 0 where it is."""
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        _setup(ctx, x, axes)
        ctx.number = x.data == x.data
        return _rounded(np.nansum(x.data, axis=axes, keepdims=keepdim, dtype=compute_dtype(x.dtype)), x)

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx) * ctx.number

    cost = per_input_element(1)


class All(Op):
    """True where every element over dims is nonzero (uint8 for a uint8 input, as PyTorch); no gradient."""
    test = staticmethod(np.all)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        out = ctx.op.test(x.data, axis=axes, keepdims=keepdim)
        return out.astype(np.uint8) if x.dtype == np.uint8 else out

    cost = per_input_element(1)


class Any(All):
    """True where some element over dims is nonzero (uint8 for a uint8 input, as PyTorch); no gradient."""
    test = staticmethod(np.any)


class CountNonzero(Op):
    """The number of nonzero elements over dims (int64); no gradient."""
    name = "count_nonzero"

    @staticmethod
    def forward(ctx, x, axes):
        return np.asarray(np.count_nonzero(x.data, axis=axes), np.int64)

    cost = per_input_element(1)


# ---- the functions users call ------------------------------------------------------------------
def _reduce_dims(op, x, dim, keepdim, axis, keepdims):
    """The reduced dims and keepdim. An empty list reduces every dim when spelled dim=() (PyTorch's meaning) and
    none when spelled axis=() (NumPy's)."""
    every = axis is None and isinstance(dim, (tuple, list)) and not dim
    dim, keepdim = dim_args(op, dim, keepdim, axis, keepdims)
    return normalize_dims(None if every else dim, x.ndim, op), keepdim


def _floating_input(op, x, dtype):
    """x cast to dtype= when given; otherwise a float (or complex) x as is, and an integer x refused (as PyTorch's
    mean and var: 'could not infer output dtype')."""
    x = lift(x)
    if dtype is not None:
        if np.dtype(dtype).kind not in "fc":
            raise RuntimeError(f"{op}(): dtype= must be a floating point or complex dtype (as in PyTorch), got "
                               f"{np.dtype(dtype)}; for an integer result round afterwards, e.g. x.{op}().round()")
        return x.astype(dtype) if x.data.dtype != np.dtype(dtype) else x
    if x.data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: input dtype must be floating point or complex, got {x.data.dtype} (as in PyTorch); "
                           f"pass dtype= or convert first, e.g. x.float().{op}()")
    return x


def _integers_to_int64(x, dtype):
    """x cast to dtype= when given; bool and integers to int64 (as PyTorch's sum, prod, nansum, cumsum, cumprod)."""
    if dtype is None and x.data.dtype.kind in "biu":
        dtype = np.int64
    return x if dtype is None or x.data.dtype == np.dtype(dtype) else x.astype(dtype)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A001, A002
    """Sum over dim (all dims when None). bool and integer inputs sum in int64 (as PyTorch)."""
    x = _integers_to_int64(lift(input), dtype)
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
    """Variance over dim with Bessel's correction by default (correction=1, as PyTorch; NumPy's default is 0).
    `x.var(False)` is PyTorch's older form var(unbiased): over all dims."""
    x = _floating_input("var", input, None)
    dim, unbiased = _unbiased_first(dim, unbiased)
    axes, keepdim = _reduce_dims("var", x, dim, keepdim, axis, keepdims)
    return Var.apply(x, axes, keepdim, _correction("var", correction, unbiased, ddof))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, ddof=None, axis=None,  # noqa: A002
        keepdims=None):
    """Standard deviation over dim, correction=1 by default (as PyTorch); `x.std(False)` is std(unbiased=False)."""
    x = _floating_input("std", input, None)
    dim, unbiased = _unbiased_first(dim, unbiased)
    axes, keepdim = _reduce_dims("std", x, dim, keepdim, axis, keepdims)
    return Std.apply(x, axes, keepdim, _correction("std", correction, unbiased, ddof))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(var, mean) over dim, as torch.var_mean (a plain tuple; correction=1 by default)."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, (bool, np.bool_)) else dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(std, mean) over dim, as torch.std_mean."""
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, None if isinstance(dim, (bool, np.bool_)) else dim, keepdim))


MinMax = namedtuple("MinMax", ["min", "max"])
MinMax.__doc__ = "(min, max), as PyTorch's torch.return_types.aminmax"


def aminmax(input, *, dim=None, keepdim=False):  # noqa: A002
    """(min, max) over dim (all dims when None), as torch.aminmax; ties share the gradient as in amin and amax."""
    x = lift(input)
    if x.size == 0:
        raise RuntimeError(f"aminmax(): cannot compute the extremes of an empty tensor (shape {x.shape}), as PyTorch")
    return MinMax(amin(x, dim, keepdim), amax(x, dim, keepdim))


def _unbiased_first(dim, unbiased):
    """(dim, unbiased) for PyTorch's two signatures var(dim, unbiased, keepdim) and var(unbiased): a bool in
    dim's place is unbiased."""
    if isinstance(dim, (bool, np.bool_)) and unbiased is None:
        return None, bool(dim)
    return dim, unbiased


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


def take_along(x, dim, indices):
    """x's entries at `indices` along dim (torch.gather; a 0-d x gives its value): the values of max(dim), sort,
    topk, cummax, ... The gradient goes to the picked entries (PyTorch's value_selecting_reduction_backward)."""
    from .shape import Gather, GetItem
    idx = indices.data if isinstance(indices, Tensor) else indices
    return Gather.apply(x, dim, idx) if x.ndim else GetItem.apply(x, ())


def _selected(x, dim, indices, keepdim):
    """ValuesIndices of the entries at `indices` (an int64 tensor with a size-1 dim), squeezed unless keepdim."""
    values = take_along(x, dim, indices)
    if not keepdim and x.ndim:
        from .shape import squeeze
        values, indices = squeeze(values, dim), squeeze(indices, dim)
    return ValuesIndices(values, indices)


def _extreme(op, amax_fn, arg_op, input, dim, keepdim, axis, keepdims):
    """PyTorch's max/min: of everything (dim None), (values, indices) along an int dim, or the elementwise
    maximum/minimum with a tensor. NumPy's spelling (axis=) gives the values only, as numpy.max."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum
        return (maximum if op == "max" else minimum)(input, dim)
    if dim is None:
        if axis is not None:
            return amax_fn(input, axis=axis, keepdim=keepdim, keepdims=keepdims)
        x = lift(input)
        _nonempty(op, x, (), False)
        keep = keepdim if keepdims is None else keepdims  # NumPy's spelling, max(x, keepdims=True)
        return (MaxAll if op == "max" else MinAll).apply(x, tuple(range(x.ndim)), bool(keep))
    x = lift(input)
    d = normalize_dim(dim, x.ndim, op)
    keepdim = keepdim if keepdims is None else keepdims
    _nonempty(op, x, (d,) if x.ndim else (), True)
    return _selected(x, d, arg_op.apply(x, d, True), keepdim)


def max(input, *args, dim=None, keepdim=False, axis=None, keepdims=None, other=None):  # noqa: A001, A002
    """max(x): the largest element; max(x, dim[, keepdim]): (values, indices) along dim, the gradient to the index
    returned; max(x, other) or max(x, other=y) with a tensor: the elementwise maximum; max(x, axis=...): NumPy's,
    the values only."""
    dim, keepdim = _dim_or_other("max", args, dim, keepdim, other)
    return _extreme("max", amax, Argmax, input, dim, keepdim, axis, keepdims)


def min(input, *args, dim=None, keepdim=False, axis=None, keepdims=None, other=None):  # noqa: A001, A002
    """min(x): the smallest element; min(x, dim[, keepdim]): (values, indices) along dim; min(x, other):
    elementwise."""
    dim, keepdim = _dim_or_other("min", args, dim, keepdim, other)
    return _extreme("min", amin, Argmin, input, dim, keepdim, axis, keepdims)


def _dim_or_other(op, args, dim, keepdim, other):
    """PyTorch's overloads of max and min, as (dim, keepdim) for _extreme, where a tensor in dim's place is the
    other operand: a tensor in second place (max(x, y)) or other=y is the elementwise operand; an int there is
    dim, then keepdim; dim= is always a dim, even an integer tensor (max(x, dim=t) reduces, as PyTorch)."""
    if len(args) > 2 or (args and dim is not None) or (len(args) == 2 and keepdim is not False):
        raise TypeError(f"{op}: expected {op}(input), {op}(input, dim, keepdim=False) or {op}(input, other), got "
                        f"{len(args)} positional arguments with dim={dim!r}, keepdim={keepdim!r}")
    if args and isinstance(args[0], Tensor) and len(args) == 1 and other is None:
        return args[0], keepdim
    if args:
        dim, keepdim = args[0], (args[1] if len(args) == 2 else keepdim)
    if other is not None:
        if dim is not None or not isinstance(other, Tensor):
            raise TypeError(f"{op}: other= takes a tensor (the elementwise {op}imum), and no dim with it")
        return other, keepdim
    if isinstance(dim, Tensor):  # a dim given as a tensor: its integer (normalize_dim's rule)
        dim = _tensor_dim(op, dim)
    return dim, keepdim


def _tensor_dim(op, dim):
    if dim.data.dtype.kind not in "iu" or dim.data.size != 1:
        raise TypeError(f"{op}: dim must be an int (or an integer tensor of one element), got {dim!r}")
    return int(dim.data.item())


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
        if np.dtype(dtype).kind not in "fc":
            raise NotImplementedError(f"{op}: not implemented for dtype={np.dtype(dtype)} (as in PyTorch); pass a "
                                      "floating dtype, e.g. dtype=mg.float32")
        return x.astype(dtype) if x.data.dtype != np.dtype(dtype) else x
    return _not_for(op, x, "biu")


def _softmax_dim(op, dim, axis):
    """The dim softmax and log_softmax normalise along: required, as in torch.softmax (no silent default)."""
    if dim is None and axis is None:
        raise TypeError(f"{op}() missing the required argument dim (as torch.{op}): say which dim sums to 1, "
                        f"e.g. x.{op}(dim=-1) for the last one")
    return dim if axis is None else axis


def softmax(input, dim=None, dtype=None, *, axis=None):  # noqa: A002
    """exp(x) / sum(exp(x)) along dim (shifted by the max, so it never overflows). dim is required, as in
    torch.softmax."""
    x = _softmax_input("softmax", input, dtype)
    return Softmax.apply(x, _one_dim("softmax", x, _softmax_dim("softmax", dim, axis)))


def log_softmax(input, dim=None, dtype=None, *, axis=None):  # noqa: A002
    """x - logsumexp(x) along dim (required, as in torch.log_softmax)."""
    x = _softmax_input("log_softmax", input, dtype)
    return LogSoftmax.apply(x, _one_dim("log_softmax", x, _softmax_dim("log_softmax", dim, axis)))


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


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Product over one dim (an int, as PyTorch) or of every element. bool and integer inputs multiply in int64.
    The gradient is exact where the input holds zeros (as PyTorch's)."""
    x = _integers_to_int64(lift(input), dtype)
    dim, keepdim = dim_args("prod", dim, keepdim, axis, keepdims)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod: dim must be one int (as in PyTorch), got {dim!r}; call prod once per dim")
    d = None if dim is None else normalize_dim(dim, x.ndim, "prod")
    return Prod.apply(x, d if x.ndim else None, keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Sum over dim with nan counted as 0; bool and integer inputs sum in int64 (as PyTorch)."""
    x = _integers_to_int64(lift(input), dtype)
    axes, keepdim = _reduce_dims("nansum", x, dim, keepdim, axis, keepdims)
    return Nansum.apply(x, axes, keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):  # noqa: A002
    """Mean over dim of the elements that are not nan (nan where all are); floating inputs only (as PyTorch)."""
    x = _floating_input("nanmean", input, dtype)
    axes, keepdim = _reduce_dims("nanmean", x, dim, keepdim, axis, keepdims)
    count = np.sum(x.data == x.data, axis=axes, keepdims=keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return Nansum.apply(x, axes, keepdim) / Tensor._wrap(count)


def _truth(op, cls, input, dim, keepdim, axis, keepdims):
    x = lift(input)
    dim, keepdim = dim_args(op, dim, keepdim, axis, keepdims)
    return cls.apply(x, normalize_dims(dim, x.ndim, op), keepdim)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001, A002
    """True when every element over dim (all dims when None) is nonzero; bool, or uint8 for uint8 (as PyTorch)."""
    return _truth("all", All, input, dim, keepdim, axis, keepdims)


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001, A002
    """True when some element over dim (all dims when None) is nonzero; bool, or uint8 for uint8 (as PyTorch)."""
    return _truth("any", Any, input, dim, keepdim, axis, keepdims)


def count_nonzero(input, dim=None, *, axis=None):  # noqa: A002
    """The number of nonzero elements over dim (all dims when None or ()), as int64."""
    x = lift(input)
    axes, _ = _reduce_dims("count_nonzero", x, dim, False, axis, None)
    return CountNonzero.apply(x, axes)


def median(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """median(x): the lower of the two middle values of every element (nan if any is nan), its gradient shared by
    the elements equal to it; median(x, dim): (values, indices) along dim (minigrad.ops.sort)."""
    x = _not_for("median", lift(input), "b")
    if dim is not None or axis is not None:
        from .sort import median_along
        return median_along(x, dim if axis is None else axis, bool(keepdim if keepdims is None else keepdims))
    if keepdim is not None or keepdims is not None:
        raise TypeError("median(): keepdim needs a dim (as PyTorch); give one, e.g. median(x, dim=-1, keepdim=True), "
                        "or leave keepdim out for the median of every element")
    return Median.apply(x, tuple(range(x.ndim)), False)


def nanmedian(input, dim=None, keepdim=None, *, axis=None, keepdims=None):  # noqa: A002
    """median ignoring nan: nanmedian(x) is the lower of the two middle values of the non-nan elements (the
    ((k - 1) // 2)-th smallest of the k non-nan values; nan when all are nan), its gradient shared by the elements
    equal to it; nanmedian(x, dim): (values, indices) along dim, the gradient to the selected element. Ties pick the
    element a stable sort puts there; a slice of nans only gives nan at index 0 (PyTorch's index there depends on
    its selection algorithm)."""
    x = _not_for("nanmedian", lift(input), "b")
    if dim is not None or axis is not None:
        from .sort import nanmedian_along
        return nanmedian_along(x, dim if axis is None else axis, bool(keepdim if keepdims is None else keepdims))
    if keepdim is not None or keepdims is not None:
        raise TypeError("nanmedian(): keepdim needs a dim (as PyTorch); give one, e.g. nanmedian(x, dim=-1, "
                        "keepdim=True), or leave keepdim out for the median of every element")
    return Nanmedian.apply(x, tuple(range(x.ndim)), False)


__all__ = ["all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "logsumexp", "log_softmax",
           "max", "mean", "median", "min", "nanmean", "nanmedian", "nansum", "prod", "softmax", "std", "std_mean",
           "sum", "var", "var_mean"]
METHODS = {"sum": sum, "mean": mean, "var": var, "std": std, "max": max, "min": min, "amax": amax, "amin": amin,
           "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "argmax": argmax, "argmin": argmin,
           "prod": prod, "nansum": nansum, "nanmean": nanmean, "all": all, "any": any, "count_nonzero": count_nonzero,
           "median": median, "aminmax": aminmax, "nanmedian": nanmedian}
