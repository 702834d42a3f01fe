"""Ops of the layer library: im2col and col2im, the two data-movement ops that turn a convolution into one
matrix product; the window maximum of max pooling (and its adjoints); batch normalisation in training mode.

`unfold` (im2col) lays every receptive field of an image out as a column:

    x (N, C, H, W)  ->  cols (C*KH*KW, N*OH*OW),
    cols[(c, i, j), (n, p, q)] = xpad[n, c, p*sh + i*dh, q*sw + j*dw]

so that a convolution is `W.reshape(O, C*KH*KW) @ cols` (Chellapilla et al., "High Performance
Convolutional Neural Networks for Document Processing", 2006). `fold` (col2im) is its adjoint: it adds
every column entry back at the pixel it came from. Each is the other's backward, so gradients of any
order flow through them, and the FLOPs of a convolution are those of the matmul (2 per MAC).
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import Cost, is_grad_enabled
from ..dtypes import compute_dtype
from . import xp
from ._common import lift
from .elementwise import Op


def _pair(v, name, op):
    """(a, b) for an int or a pair; a clear error otherwise."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    try:
        a, b = v
        return int(a), int(b)
    except (TypeError, ValueError):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}") from None


def _padding(p, op):
    """((top, bottom), (left, right)) from an int, (ph, pw), or ((top, bottom), (left, right))."""
    if isinstance(p, (tuple, list)) and len(p) == 2 and all(isinstance(e, (tuple, list)) for e in p):
        (t, b), (l, r) = p
        pads = ((int(t), int(b)), (int(l), int(r)))
    else:
        ph, pw = _pair(p, "padding", op)
        pads = ((ph, ph), (pw, pw))
    if min(min(pads[0]), min(pads[1])) < 0:
        raise ValueError(f"{op}: padding must be >= 0, got {p!r}")
    return pads


def output_size(size, kernel, stride, pads, dilation):
    """Output length along one axis: floor((size + pads - dilation (kernel - 1) - 1) / stride) + 1."""
    return (size + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1


def _geometry(shape, kernel_size, stride, padding, dilation, op):
    """Validated geometry: kernel, stride, pads, dilation (pairs) and the output size (OH, OW)."""
    if len(shape) != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")
    k = _pair(kernel_size, "kernel_size", op)
    s = _pair(stride, "stride", op)
    d = _pair(dilation, "dilation", op)
    pads = _padding(padding, op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be >= 1, got {k}, {s}, {d}")
    out = tuple(output_size(shape[2 + a], k[a], s[a], pads[a], d[a]) for a in range(2))
    if min(out) < 1:
        raise ValueError(f"{op}: input of spatial size {tuple(shape[2:])} with padding {pads} is smaller than the "
                         f"(dilated) kernel {tuple(d[a] * (k[a] - 1) + 1 for a in range(2))}; pad it or use a "
                         "smaller kernel")
    return k, s, pads, d, out


class Unfold(Op):
    """im2col: x (N, C, H, W) -> cols (C*KH*KW, N*OH*OW), cols[(c,i,j),(n,p,q)] = xpad[n, c, p sh + i dh, q sw + j dw].
    dx = fold(g) (col2im, the adjoint)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=1, padding=0, dilation=1, pad_value=0.0):
        k, s, pads, d, (oh, ow) = _geometry(x.shape, kernel_size, stride, padding, dilation, "unfold")
        ctx.geometry = (k, s, pads, d)
        ctx.in_shape = x.shape
        data = x.data
        n, c, h, w = x.shape
        if pads != ((0, 0), (0, 0)):
            (top, bottom), (left, right) = pads
            padded = np.full((n, c, h + top + bottom, w + left + right), pad_value, data.dtype)
            padded[:, :, top:top + h, left:left + w] = data
            data = padded
        span = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
        windows = sliding_window_view(data, span, axis=(2, 3))[:, :, ::s[0], ::s[1], ::d[0], ::d[1]]
        cols = np.empty((c, k[0], k[1], n, oh, ow), data.dtype)
        np.copyto(cols, windows.transpose(1, 4, 5, 0, 2, 3))
        return cols.reshape(c * k[0] * k[1], n * oh * ow)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Fold, g, ctx.in_shape, *ctx.geometry)

    @staticmethod
    def cost(ctx, out, x, *args, **kwargs):
        """Data movement: a copy of every receptive field, no arithmetic."""
        return Cost(category="movement")


def _inside(offset, stride, count, size):
    """For kernel offset `offset` (already shifted by the padding): the image positions offset + p * stride,
    p = 0..count-1, that fall inside [0, size), as a slice of the image and the matching slice of p."""
    first = max(0, -(offset // stride)) if offset < 0 else 0
    last = min(count - 1, (size - 1 - offset) // stride)
    if last < first:
        return slice(0, 0), slice(0, 0)
    start = offset + first * stride
    return slice(start, offset + last * stride + 1, stride), slice(first, last + 1)


class Fold(Op):
    """col2im: cols (C*KH*KW, N*OH*OW) -> x (N, C, H, W), adding each entry back where unfold took it.
    dcols = unfold(g). A loop over the KH*KW kernel offsets, each a strided add of a whole slab; entries that
    unfold took from the padding are dropped."""

    @staticmethod
    def forward(ctx, cols, shape, kernel_size, stride=1, padding=0, dilation=1):
        k, s, pads, d, (oh, ow) = _geometry(shape, kernel_size, stride, padding, dilation, "fold")
        ctx.geometry = (k, s, pads, d)
        n, c, h, w = shape
        if cols.shape != (c * k[0] * k[1], n * oh * ow):
            raise ValueError(f"fold: cols of shape {cols.shape} do not fit an image {tuple(shape)} with kernel {k}: "
                             f"expected {(c * k[0] * k[1], n * oh * ow)}")
        out = np.zeros((c, n, h, w), cols.dtype)  # channel-major like the columns: every add reads contiguously
        slabs = cols.data.reshape(c, k[0], k[1], n, oh, ow)
        for i in range(k[0]):
            rows, taps_h = _inside(i * d[0] - pads[0][0], s[0], oh, h)
            for j in range(k[1]):
                cols_, taps_w = _inside(j * d[1] - pads[1][0], s[1], ow, w)
                out[:, :, rows, cols_] += slabs[:, i, j, :, taps_h, taps_w]
        return out.transpose(1, 0, 2, 3)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Unfold, g, *ctx.geometry)

    @staticmethod
    def cost(ctx, out, cols, *args, **kwargs):
        """One add per column entry (overlapping windows accumulate)."""
        return Cost(flops=cols.size, category="movement")


class WindowMax(Op):
    """y = max over axis 1 of pooling windows (C, K, N, OH, OW) -> (C, N, OH, OW).
    dwindows = g at the first maximum of each window, 0 elsewhere (PyTorch's max-pool convention for ties).
    The first maximum is found by a loop over the K window positions (argmax along a middle axis is slow)."""
    name = "window_max"

    @staticmethod
    def forward(ctx, windows):
        w = windows.data
        out = w.max(axis=1)
        found = np.zeros(out.shape, bool)
        first = np.empty(w.shape, bool)
        for k in range(w.shape[1]):
            hit = w[:, k] == out
            np.greater(hit, found, out=first[:, k])  # a maximum, and none before it
            found |= hit
        ctx.first = first
        return out

    @staticmethod
    def backward(ctx, g):
        return xp.apply(WindowScatter, g, ctx.first)

    @staticmethod
    def cost(ctx, out, windows):
        """One comparison per window entry."""
        return Cost(flops=windows.size, category="reduction")


class WindowScatter(Op):
    """g placed at the chosen entry of each window (mask `first`, one True per window), zeros elsewhere: the
    adjoint of WindowMax.   dg = the chosen entries of the upstream gradient."""
    name = "window_scatter"

    @staticmethod
    def forward(ctx, g, first):
        ctx.first = first
        return np.multiply(g.data[:, None], first, dtype=g.dtype)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(WindowPick, g, ctx.first)

    @staticmethod
    def cost(ctx, out, *args):
        return Cost(category="movement")


class WindowPick(Op):
    """The chosen entry of each window (mask `first`, one True per window): the adjoint of WindowScatter."""
    name = "window_pick"

    @staticmethod
    def forward(ctx, windows, first):
        ctx.first = first
        return np.multiply(windows.data, first, dtype=windows.dtype).sum(axis=1)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(WindowScatter, g, ctx.first)

    @staticmethod
    def cost(ctx, out, *args):
        return Cost(category="movement")


def unfold(x, kernel_size, stride=1, padding=0, dilation=1, pad_value=0.0):
    """im2col of a (N, C, H, W) tensor: (C*KH*KW, N*OH*OW) columns, one per output pixel.
    padding: int, (ph, pw) or ((top, bottom), (left, right)); padded entries hold `pad_value`."""
    return Unfold.apply(lift(x), kernel_size, stride, padding, dilation, pad_value)


def fold(cols, output_shape, kernel_size, stride=1, padding=0, dilation=1):
    """col2im, the adjoint of unfold: (C*KH*KW, N*OH*OW) columns summed back into an (N, C, H, W) image."""
    return Fold.apply(lift(cols), tuple(output_shape), kernel_size, stride, padding, dilation)


class BatchNorm(Op):
    """Batch normalisation with batch statistics over `axes` (Ioffe & Szegedy, ICML 2015), in one op:

        xhat = (x - mean) / sqrt(var + eps),   y = xhat w + b       (var biased; w, b broadcast per channel)
        dx = w inv / n (n g - sum g - xhat sum(g xhat)),   dw = sum(g xhat),   db = sum(g)

    with inv = 1 / sqrt(var + eps) and n the count per channel. As PyTorch's, the op also updates the running
    statistics in place when given: r = (1 - momentum) r + momentum stat, the variance unbiased (n / (n - 1)).
    Under create_graph, backward rebuilds xhat and inv from x with minigrad ops, so second derivatives are exact."""
    name = "batch_norm"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, axes, eps, momentum):
        data, dtype = x.data, x.data.dtype
        n = math.prod(data.shape[a] for a in axes)
        acc = compute_dtype(dtype)
        # the same steps, in the same order, as the rule's create_graph path (mean, centre, mean of squares,
        # (var + eps) ** -0.5), so both executions of backward see the same bits
        mean = (np.sum(data, axis=axes, keepdims=True, dtype=acc) / n).astype(dtype, copy=False)
        centred = data - mean
        var = (np.sum(centred * centred, axis=axes, keepdims=True, dtype=acc) / n).astype(dtype, copy=False)
        for stat, value in ((running_mean, mean), (running_var, var * (n / (n - 1)))):
            if stat is not None:
                stat.data *= 1 - momentum
                stat.data += (momentum * value.reshape(-1)).astype(stat.dtype, copy=False)
                stat._version[0] += 1
        inv = (var + np.asarray(eps, dtype)) ** np.asarray(-0.5, dtype)
        xhat = centred
        xhat *= inv
        ctx.axes, ctx.eps, ctx.n, ctx.xhat, ctx.inv = axes, eps, n, xhat, inv
        ctx.shapes = (None if weight is None else weight.shape, None if bias is None else bias.shape)
        ctx.save_for_backward(x, weight)
        out = xhat if weight is None else xhat * weight.data
        return out if bias is None else out + bias.data

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        axes, n = ctx.axes, ctx.n
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if is_grad_enabled():  # create_graph: xhat and inv as functions of x
            centred = x - x.mean(axis=axes, keepdims=True)
            inv = ((centred * centred).mean(axis=axes, keepdims=True) + ctx.eps) ** -0.5
            xhat = centred * inv
        else:
            xhat, inv = ctx.xhat, ctx.inv
        g_sum = g.sum(axis=axes, keepdims=True)
        gx_sum = (g * xhat).sum(axis=axes, keepdims=True)
        gx = None
        if need_x:
            scale = inv * (1.0 / n) if weight is None else weight * inv * (1.0 / n)
            gx = (g * n - g_sum - xhat * gx_sum) * scale
        gw = gx_sum.reshape(ctx.shapes[0]) if need_w else None
        gb = g_sum.reshape(ctx.shapes[1]) if need_b else None
        return gx, gw, gb, None, None  # the running statistics get no gradient

    @staticmethod
    def cost(ctx, out, x, weight, bias, *args):
        """Per element: mean, centre, square, sum, scale (5 FLOPs), plus 1 each for the affine w and b."""
        return Cost(flops=x.size * (5 + (weight is not None) + (bias is not None)))


def batch_norm(x, weight=None, bias=None, running_mean=None, running_var=None, axes=(0,), eps=1e-5, momentum=0.1):
    """Training-mode batch norm of x over `axes` (weight and bias shaped to broadcast, or None), updating the
    running statistics in place when given."""
    return BatchNorm.apply(lift(x), weight, bias, running_mean, running_var, tuple(axes), float(eps), float(momentum))
