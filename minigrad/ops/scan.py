"""Scans along a dim: cumsum, cumprod, cummax, cummin, logcumsumexp (PyTorch's arguments and gradients).

Each keeps the shape of its input; a 0-d tensor scans as one element (dim 0 or -1). bool and integer inputs
of cumsum and cumprod scan in int64 (as PyTorch), or in `dtype=` when given; float16 accumulates in float32 and
rounds each output once (as PyTorch on the CPU).
"""
import numpy as np

from ..dtypes import compute_dtype
from . import xp
from ._common import array_of, lift, normalize_dim, per_input_element
from .elementwise import Op, _not_for
from .reduce import ValuesIndices, _integers_to_int64, _rounded, take_along
from .shape import Flip, Pad


def _reversed_cumsum(g, axis):
    """sum_{j >= k} g_j along axis: the adjoint of cumsum."""
    return xp.apply(Flip, xp.apply(Cumsum, xp.apply(Flip, g, (axis,)), axis), (axis,))


class Cumsum(Op):
    """y_j = sum_{i <= j} x_i along dim.   dx_k = sum_{j >= k} g_j (a reversed cumsum of g)."""
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return _rounded(np.cumsum(x.data, axis=axis, dtype=compute_dtype(x.dtype)), x)

    @staticmethod
    def backward(ctx, g):
        return _reversed_cumsum(g, ctx.axis)

    cost = per_input_element(1)


def _shifted(v, axis, fill):
    """v moved one step on along axis (v_{t-1} at t), `fill` at the start."""
    widths = [(0, 0)] * v.ndim
    widths[axis] = (1, 0)
    return xp.apply(Pad, v[(slice(None),) * axis + (slice(None, -1),)], widths, fill)


def exclusive_cumprod(x, axis):
    """prod_{i < k} x_i along axis for every k (1 at the start), without a division."""
    return xp.apply(Cumprod, _shifted(x, axis, 1.0), axis)


def _from_the_end(b, a, axis):
    """u_t = b_t + a_{t+1} u_{t+1} along axis: the linear recurrence run from the last element back."""
    def flip(v):
        return xp.apply(Flip, v, (axis,))
    return flip(xp.apply(LinearRecurrence, flip(b), _shifted(flip(a), axis, 0.0), axis))


class LinearRecurrence(Op):
    """h_t = a_t h_{t-1} + b_t along dim, h_0 = b_0, by recursive doubling: log2(n) vectorised steps and no
    division, so exact with zeros in a.   db = u, the recurrence run from the end on g (u_t = g_t + a_{t+1} u_{t+1});
    da_t = u_t h_{t-1}."""
    name = "linear_recurrence"
    saves_output = True

    @staticmethod
    def forward(ctx, b, a, axis):
        ctx.axis = axis
        ctx.save_for_backward(a)
        h = np.moveaxis(b.data, axis, -1).copy()
        c = np.moveaxis(array_of(a), axis, -1).astype(h.dtype)  # after each step: h_t = h_t' + c_t h_{t-2 step}
        step = 1
        while step < h.shape[-1]:
            h[..., step:] += c[..., step:] * h[..., :-step]
            c[..., step:] *= c[..., :-step]
            step *= 2
        return np.moveaxis(h, -1, axis)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        u = _from_the_end(g, a, ctx.axis)
        return u, (u * _shifted(ctx.output, ctx.axis, 0.0) if ctx.needs_input_grad[1] else None)

    cost = per_input_element(2)


class Cumprod(Op):
    """y_j = prod_{i <= j} x_i along dim.   dx_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i: the reversed cumsum
    of g y over x when no x is 0 (PyTorch's formula); with zeros, L_k R_k without a division: L the exclusive cumprod,
    R_k = g_k + x_{k+1} R_{k+1} (a linear recurrence; exact at zeros, to every order)."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis, ctx.zeros, ctx.single = axis, bool((x.data == 0).any()), x.shape[axis] <= 1
        ctx.save_for_backward(x)
        return _rounded(np.cumprod(x.data, axis=axis, dtype=compute_dtype(x.dtype)), x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        if ctx.single:  # y = x
            return g
        if ctx.zeros:
            return exclusive_cumprod(x, ctx.axis) * _from_the_end(g, x, ctx.axis)
        return _reversed_cumsum(g * ctx.output, ctx.axis) / x

    cost = per_input_element(1)


class Logcumsumexp(Op):
    """y_j = log sum_{i <= j} exp(x_i) along dim (NumPy's logaddexp.accumulate: no overflow, no underflow).
    dx_k = sum_{j >= k} g_j exp(x_k - y_j), summed in log space for g > 0 and g < 0 apart (PyTorch's formula)."""
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis, ctx.single = axis, x.shape[axis] <= 1
        ctx.save_for_backward(x)
        return _rounded(np.logaddexp.accumulate(x.data.astype(compute_dtype(x.dtype), copy=False), axis=axis), x)

    @staticmethod
    def backward(ctx, g):
        if ctx.single:  # y = x
            return g
        x, = ctx.saved_tensors
        y, axis = ctx.output, ctx.axis
        positive, negative = array_of(g) > 0, array_of(g) < 0
        log_g = xp.log(xp.abs(xp.where(positive | negative, g, 1.0)))
        lowest = float(np.finfo(array_of(g).dtype).min)

        def part(mask):  # exp(x_k + log sum_{j >= k} exp(log|g_j| - y_j)) over the g_j of one sign
            terms = xp.apply(Flip, xp.where(mask, log_g, lowest) - y, (axis,))
            return xp.exp(xp.apply(Flip, xp.apply(Logcumsumexp, terms, axis), (axis,)) + x)
        return part(positive) - part(negative)

    cost = per_input_element(3)


class Cumargmax(Op):
    """Index of the running maximum along dim: of the latest element equal to it, or of the latest nan (which then
    stays the maximum), as PyTorch's cummax; int64, no gradient."""
    accumulate = staticmethod(np.maximum.accumulate)

    @staticmethod
    def forward(ctx, x, axis):
        data = x.data
        hit = (data == ctx.op.accumulate(data, axis=axis)) | (data != data)
        position = np.arange(data.shape[axis]).reshape((-1,) + (1,) * (data.ndim - axis - 1))
        return np.maximum.accumulate(np.where(hit, position, 0), axis=axis).astype(np.int64)

    cost = per_input_element(1)


class Cumargmin(Cumargmax):
    """Index of the running minimum along dim (the latest element equal to it, or the latest nan); int64."""
    accumulate = staticmethod(np.minimum.accumulate)


# ---- the functions users call ------------------------------------------------------------------
def _scan(op, name, x, dim):
    """op along dim (a 0-d x scans as one element)."""
    d = normalize_dim(dim, x.ndim, name)
    return op.apply(x, d) if x.ndim else op.apply(x.reshape(1), 0).reshape(())


def cumsum(input, dim, *, dtype=None, axis=None):  # noqa: A002
    """Cumulative sum along dim; bool and integer inputs sum in int64 unless dtype= says otherwise."""
    return _scan(Cumsum, "cumsum", _integers_to_int64(lift(input), dtype), dim if axis is None else axis)


def cumprod(input, dim, *, dtype=None, axis=None):  # noqa: A002
    """Cumulative product along dim; the gradient is exact where the input holds zeros (as PyTorch's), and so are
    its derivatives of every order (O(n log n) along dim, no O(n^2) product table)."""
    return _scan(Cumprod, "cumprod", _integers_to_int64(lift(input), dtype), dim if axis is None else axis)


def logcumsumexp(input, dim, *, axis=None):  # noqa: A002
    """log(cumsum(exp(x))) along dim, without overflow. Floating inputs only (as PyTorch)."""
    x = _not_for("logcumsumexp", lift(input), "biu")
    return _scan(Logcumsumexp, "logcumsumexp", x, dim if axis is None else axis)


def _running_extreme(index_op, name, input, dim):
    """(values, indices) of a running extreme: the indices from index_op, the values input's entries there (so the
    gradient goes to them, as PyTorch's scatter-add)."""
    x = lift(input)
    d = normalize_dim(dim, x.ndim, name)
    indices = _scan(index_op, name, x, d)
    return ValuesIndices(take_along(x, d, indices), indices)


def cummax(input, dim, *, axis=None):  # noqa: A002
    """(values, indices) of the running maximum along dim; the gradient goes to the index of each maximum."""
    return _running_extreme(Cumargmax, "cummax", input, dim if axis is None else axis)


def cummin(input, dim, *, axis=None):  # noqa: A002
    """(values, indices) of the running minimum along dim; the gradient goes to the index of each minimum."""
    return _running_extreme(Cumargmin, "cummin", input, dim if axis is None else axis)


__all__ = ["cummax", "cummin", "cumprod", "cumsum", "logcumsumexp"]
METHODS = {"cumsum": cumsum, "cumprod": cumprod, "cummax": cummax, "cummin": cummin, "logcumsumexp": logcumsumexp}
