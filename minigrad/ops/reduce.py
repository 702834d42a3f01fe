"""Reductions and the softmax family. `axis` is None, an int or a tuple; `keepdims` as in NumPy."""
import numpy as np

from ..autograd import Function
from ._common import const, kept_shape, lift, normalize_axes, per_input_element


def _spread(g, ctx):
    """A reduced gradient, broadcast back over the reduced axes to the input's shape."""
    return g.reshape(ctx.kept).expand(ctx.in_shape)


def _setup(ctx, x, axis):
    ctx.axes = normalize_axes(axis, x.ndim)
    ctx.kept, ctx.in_shape = kept_shape(x.shape, ctx.axes), x.shape
    return ctx.axes


class Sum(Function):
    """sum(x, axis).   dx = g broadcast over the summed axes."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return np.sum(x.data, axis=_setup(ctx, x, axis), keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx)

    cost = per_input_element(1)


class Mean(Function):
    """mean(x, axis) = sum / n.   dx = g / n broadcast over the reduced axes."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes = _setup(ctx, x, axis)
        ctx.n = int(np.prod([x.shape[a] for a in axes]))
        return np.mean(x.data, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return _spread(g / ctx.n, ctx)

    cost = per_input_element(1)


class Var(Function):
    """var(x, axis, ddof) = sum((x - mean)^2) / (n - ddof).   dx = g 2 (x - mean) / (n - ddof)."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, ddof=0):
        axes = _setup(ctx, x, axis)
        ctx.save_for_backward(x)
        ctx.divisor = int(np.prod([x.shape[a] for a in axes])) - ddof
        return np.var(x.data, axis=axes, keepdims=keepdims, ddof=ddof)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        centred = x - x.mean(axis=ctx.axes, keepdims=True)
        return _spread(g, ctx) * centred * (2 / ctx.divisor)

    cost = per_input_element(3)


class Max(Function):
    """max(x, axis).   dx = g at the maxima; tied maxima share g equally."""
    pick = staticmethod(np.max)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes = _setup(ctx, x, axis)
        out = ctx.op.pick(x.data, axis=axes, keepdims=True)
        hit = x.data == out
        ctx.share = hit / hit.sum(axis=axes, keepdims=True)
        return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx) * const(ctx.share, g.dtype)

    cost = per_input_element(1)


class Min(Max):
    """min(x, axis).   dx = g at the minima; tied minima share g equally."""
    pick = staticmethod(np.min)


class Logsumexp(Function):
    """log(sum(exp(x), axis)), computed as m + log(sum(exp(x - m))).   dx = g softmax(x)."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes = _setup(ctx, x, axis)
        ctx.save_for_backward(x)
        m = np.max(x.data, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        out = m + np.log(np.sum(np.exp(x.data - m), axis=axes, keepdims=True))
        return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return _spread(g, ctx) * (x - ctx.output.reshape(ctx.kept)).exp()

    cost = per_input_element(3)


class Softmax(Function):
    """s = exp(x - max) / sum(exp(x - max)) along axis.   dx = s (g - sum(g s))."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = axis
        e = np.exp(x.data - np.max(x.data, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)

    @staticmethod
    def backward(ctx, g):
        s = ctx.output
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True))

    cost = per_input_element(4)


class LogSoftmax(Function):
    """x - logsumexp(x) along axis.   dx = g - softmax(x) sum(g)."""
    name = "log_softmax"
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = axis
        shifted = x.data - np.max(x.data, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx, g):
        return g - ctx.output.exp() * g.sum(axis=ctx.axis, keepdims=True)

    cost = per_input_element(4)


class Argmax(Function):
    """Index of the maximum along axis (int64, no gradient)."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return np.argmax(x.data, axis=axis, keepdims=keepdims)

    cost = per_input_element(1)


class Argmin(Function):
    """Index of the minimum along axis (int64, no gradient)."""
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return np.argmin(x.data, axis=axis, keepdims=keepdims)

    cost = per_input_element(1)


def sum(x, axis=None, keepdims=False): return Sum.apply(lift(x), axis, keepdims)  # noqa: A001
def mean(x, axis=None, keepdims=False): return Mean.apply(lift(x), axis, keepdims)
def var(x, axis=None, keepdims=False, ddof=0): return Var.apply(lift(x), axis, keepdims, ddof)
def max(x, axis=None, keepdims=False): return Max.apply(lift(x), axis, keepdims)  # noqa: A001
def min(x, axis=None, keepdims=False): return Min.apply(lift(x), axis, keepdims)  # noqa: A001
def logsumexp(x, axis=None, keepdims=False): return Logsumexp.apply(lift(x), axis, keepdims)
def softmax(x, axis=-1): return Softmax.apply(lift(x), axis)
def log_softmax(x, axis=-1): return LogSoftmax.apply(lift(x), axis)
def argmax(x, axis=None, keepdims=False): return Argmax.apply(lift(x), axis, keepdims)
def argmin(x, axis=None, keepdims=False): return Argmin.apply(lift(x), axis, keepdims)
