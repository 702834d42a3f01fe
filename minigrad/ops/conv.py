"""Ops of the layer library, over any number of spatial dims: the sliding windows of convolution and pooling
(im2col `unfold` and its adjoint col2im `fold`), convolution as three bilinear ops, max pooling's argmax and the
gathers around it, max unpooling; and batch normalisation in training mode.

`unfold` (im2col) lays every receptive field of an (N, C, *S) image out as a column, in F.unfold's layout:

    x (N, C, *S)  ->  cols (N, C*prod(K), L),   cols[n, (c, k), l] = xpad[n, c, o(l) * s + k * d]

(k, o(l) and the products per spatial dim; L = prod(OS) windows), so that a convolution is one matrix product
per group, W (G, O/G, C/G*prod(K)) @ cols (Chellapilla et al., "High Performance Convolutional Neural Networks
for Document Processing", 2006), the groups a batch axis of the matmul, already in the (N, O, L) layout of its
output. `fold` (col2im) is its adjoint: it adds every column entry back at the pixel it came from.

`conv` is that product (tap by tap for a depthwise conv, a matmul on a view of x for a 1x1 one); its gradient in x
is `conv_transpose` (at stride 1 a correlation of g with the flipped kernel, else W^T g then col2im) and in W
`conv_weight` (g @ cols^T per sample, summed): three bilinear ops, each the others' backward, so gradients of
every order are exact, and each counts the N O prod(OS) (C/G) prod(K) MACs torch.utils.flop_counter counts. Max
pooling is the argmax of each window (an op with no gradient) and a gather of x there, whose adjoint is a
scatter-add (one np.bincount).
"""
import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd import Cost, UnrecordedNode, is_grad_enabled
from ..dtypes import compute_dtype
from ..tensor import Tensor
from . import xp
from ._common import array_of, lift, movement
from .elementwise import Op
from .linalg import _is_binary


# ---- window geometry --------------------------------------------------------------------------------
def ntuple(v, n, name, op):
    """v as a tuple of n ints: an int (or a one-element sequence) is repeated; PyTorch's errors otherwise."""
    seq = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if not all(isinstance(e, (int, np.integer)) and not isinstance(e, (bool, np.bool_)) for e in seq):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if len(seq) not in (1, n):
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} values to match the "
                           f"{n}-d window, but got {name}={list(seq)}")
    return tuple(int(e) for e in seq) * (n // len(seq))


class Window(NamedTuple):
    """Sliding windows over len(kernel) spatial dims: per dim the kernel size, stride, padding (before, after)
    and dilation."""
    kernel: tuple
    stride: tuple
    pads: tuple
    dilation: tuple

    def spans(self):
        """The extent of a (dilated) window: d (k - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    def blocks(self, sizes):
        """Windows along each dim of an input of spatial `sizes`: floor((size + pads - span) / stride) + 1."""
        return tuple((n + lo + hi - span) // s + 1
                     for n, (lo, hi), span, s in zip(sizes, self.pads, self.spans(), self.stride))


def window(op, kernel_size, stride=1, padding=0, dilation=1, n=None):
    """A validated Window over n spatial dims (default: as many as kernel_size has). padding: an int, n ints, or
    n (before, after) pairs."""
    n = len(kernel_size) if n is None else n
    kernel = ntuple(kernel_size, n, "kernel_size", op)
    stride, dilation = ntuple(stride, n, "stride", op), ntuple(dilation, n, "dilation", op)
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(isinstance(p, (tuple, list)) for p in padding):
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    else:
        pads = tuple((p, p) for p in ntuple(padding, n, "padding", op))
    if min(kernel, default=1) < 1:
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got {kernel}")
    if min(stride, default=1) < 1:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if min(dilation, default=1) < 1:
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got {dilation}")
    if min((p for pair in pads for p in pair), default=0) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding}")
    return Window(kernel, stride, pads, dilation)


def check_fits(op, sizes, win):
    """RuntimeError unless every (padded) spatial size holds at least one window."""
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(sizes, win.pads))
    if any(p < span for p, span in zip(padded, win.spans())):
        raise RuntimeError(f"{op}: input of spatial size {tuple(sizes)}, padded to {padded}, is smaller than the "
                           f"(dilated) kernel {win.spans()}; pad the input or use a smaller kernel")


# ---- the two data-movement kernels -------------------------------------------------------------------
_NC = (slice(None),) * 2  # the batch and channel axes, before the spatial ones


def _padded(data, pads, value):
    if not any(lo or hi for lo, hi in pads):
        return data
    sizes = data.shape[2:]
    out = np.full(data.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(sizes, pads)), value, data.dtype)
    out[_NC + tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, pads))] = data
    return out


def _strided(stride, blocks):
    return tuple(slice(0, s * (b - 1) + 1, s) for s, b in zip(stride, blocks))


def im2col(data, win, pad_value, blocks, by_channel=False):
    """cols (N, C*prod(K), prod(blocks)) of an (N, C, *S) array, or with by_channel (C*prod(K), N*prod(blocks)), the
    batch inside each row (for one matmul over the whole batch); a 1x1 kernel without padding is a reshape (a view
    at stride 1, batch first)."""
    n, c, nd = data.shape[0], data.shape[1], len(win.kernel)
    k, length = math.prod(win.kernel), math.prod(blocks)
    if k == 1 and not any(lo or hi for lo, hi in win.pads):
        pixels = data[_NC + _strided(win.stride, blocks)]
        return pixels.swapaxes(0, 1).reshape(c, n * length) if by_channel else pixels.reshape(n, c, length)
    data = _padded(data, win.pads, pad_value)
    views = sliding_window_view(data, win.spans(), axis=tuple(range(2, 2 + nd)))   # (N, C, *positions, *span)
    views = views[_NC + _strided(win.stride, blocks) + tuple(slice(None, None, d) for d in win.dilation)]
    order = ((1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,)) if by_channel else \
        ((0, 1) + tuple(range(2 + nd, 2 + 2 * nd)))
    cols = np.empty(tuple(views.shape[i] for i in order) + blocks, data.dtype)
    np.copyto(cols, views.transpose(order + tuple(range(2, 2 + nd))))
    return cols.reshape(c * k, n * length) if by_channel else cols.reshape(n, c * k, length)


def _inside(offset, stride, count, size):
    """For a kernel tap at `offset` (already shifted by the padding): the image positions offset + p * stride,
    p = 0..count-1, that fall inside [0, size), as a slice of the image and the matching slice of p."""
    first = -(offset // stride) if offset < 0 else 0
    last = min(count - 1, (size - 1 - offset) // stride)
    if last < first:
        return None
    return slice(offset + first * stride, offset + last * stride + 1, stride), slice(first, last + 1)


def col2im(cols, shape, win, blocks):
    """The (N, C, *S) array that adds every entry of cols (N, C*prod(K), prod(blocks)), or (C*prod(K), N*prod(blocks))
    (by channel), back where im2col took it; entries taken from the padding are dropped. A loop over the prod(K)
    kernel taps, each a strided add of a whole slab."""
    n, c, sizes = shape[0], shape[1], tuple(shape[2:])
    if cols.ndim == 2:
        slabs = np.moveaxis(cols.reshape((c,) + win.kernel + (n,) + tuple(blocks)), 1 + len(sizes), 0)
    else:
        slabs = cols.reshape((n, c) + win.kernel + tuple(blocks))
    if math.prod(win.kernel) == 1 and not any(lo or hi for lo, hi in win.pads) and tuple(blocks) == sizes:
        return slabs.reshape(shape)  # a 1x1 kernel at stride 1: the same pixels
    out = np.zeros(shape, cols.dtype)
    for tap in np.ndindex(*win.kernel):
        parts = [_inside(k * d - lo, s, b, size)
                 for k, d, (lo, _), s, b, size in zip(tap, win.dilation, win.pads, win.stride, blocks, sizes)]
        if None not in parts:
            out[_NC + tuple(p[0] for p in parts)] += \
                slabs[_NC + tap + tuple(p[1] for p in parts)]
    return out


class Unfold(Op):
    """im2col: x (N, C, *S) -> cols (N, C*prod(K), L), cols[n, (c, k), l] = xpad[n, c, o(l) s + k d] (the padding
    holds pad_value), `blocks` windows per dim (default: all that fit); by_channel: cols (C*prod(K), N*L).
    dx = fold(g) (col2im, the adjoint)."""
    view = True  # a 1x1 kernel at stride 1 without padding: a reshape of x

    @staticmethod
    def forward(ctx, x, win, pad_value=0.0, blocks=None, by_channel=False):
        blocks = win.blocks(x.shape[2:]) if blocks is None else tuple(blocks)
        ctx.args = (x.shape, win, blocks)
        return im2col(x.data, win, pad_value, blocks, by_channel)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Fold, g, *ctx.args)

    cost = movement


class Fold(Op):
    """col2im: cols (N, C*prod(K), L), or (C*prod(K), N*L), -> x (N, C, *S), adding each entry back where unfold
    took it (the adjoint of unfold with the same window, `blocks` and layout).   dcols = unfold(g)."""
    view = True  # a 1x1 kernel at stride 1: a reshape of cols

    @staticmethod
    def forward(ctx, cols, shape, win, blocks=None):
        blocks = win.blocks(shape[2:]) if blocks is None else tuple(blocks)
        rows, length = shape[1] * math.prod(win.kernel), math.prod(blocks)
        expected = (rows, shape[0] * length) if cols.ndim == 2 else (shape[0], rows, length)
        if cols.shape != expected:
            raise RuntimeError(f"fold: columns of shape {cols.shape} do not fit an image {tuple(shape)} with kernel "
                               f"{win.kernel} and {blocks} windows: expected {expected}")
        ctx.args = (win, 0.0, blocks, cols.ndim == 2)
        return col2im(cols.data, tuple(shape), win, blocks)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Unfold, g, *ctx.args)

    @staticmethod
    def cost(ctx, out, cols, *args, **kwargs):
        """One add per column entry (overlapping windows accumulate)."""
        return Cost(flops=cols.size, category="movement")


def unfold(x, win, pad_value=0.0, blocks=None):
    """im2col of an (N, C, *S) tensor with Window `win`: (N, C*prod(K), L) columns, one per window."""
    return Unfold.apply(lift(x), win, pad_value, blocks)


def fold(cols, shape, win, blocks=None):
    """col2im, the adjoint of unfold: (N, C*prod(K), L) columns summed back into an image of `shape`."""
    return Fold.apply(lift(cols), tuple(shape), win, blocks)


# ---- convolution: three bilinear ops, each the others' backward ----------------------------------
def _depthwise(weight_shape, groups):
    """One input channel per output channel (C/G = 1, G > 1): computed tap by tap, without columns."""
    return groups > 1 and weight_shape[1] == 1


def uses_columns(weight_shape, groups):
    """Whether a convolution with this weight multiplies im2col's columns (else it runs tap by tap)."""
    return not _depthwise(weight_shape, groups)


def _tap_views(x, win, pad_value, blocks):
    """(views, crop): for every kernel tap (row-major order) the view (N, C, *W) of the padded x that tap multiplies,
    and the index that cuts a (..., *W) result down to (..., *blocks). At stride 1 the rows of a view run on through
    the padding ("wide" rows: each view a contiguous slice of the flattened padded planes, which NumPy loops over
    in one run), so W = (blocks[0], *padded[1:]) and the extra columns are cropped; otherwise W = blocks."""
    nd = len(blocks)
    if any(s != 1 for s in win.stride):
        xpad = _padded(x, win.pads, pad_value)
        views = [xpad[_NC + tuple(slice(k * d, k * d + s * (b - 1) + 1, s)
                                  for k, d, s, b in zip(tap, win.dilation, win.stride, blocks))]
                 for tap in np.ndindex(*win.kernel)]
        return views, (Ellipsis,)
    planes = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], win.pads))
    steps = [math.prod(planes[d + 1:]) for d in range(nd)]
    size = math.prod(planes)
    flat = np.full(x.shape[:2] + (size + sum((span - 1) * st for span, st in zip(win.spans()[1:], steps[1:])),),
                   pad_value, x.dtype)
    flat[..., :size].reshape(x.shape[:2] + planes)[_NC + tuple(slice(lo, lo + n) for n, (lo, _) in
                                                               zip(x.shape[2:], win.pads))] = x
    wide = (blocks[0],) + planes[1:]
    length = math.prod(wide)
    offsets = (sum(k * d * st for k, d, st in zip(tap, win.dilation, steps)) for tap in np.ndindex(*win.kernel))
    views = [flat[..., o:o + length].reshape(x.shape[:2] + wide) for o in offsets]
    return views, (Ellipsis,) + tuple(slice(0, b) for b in blocks[1:])


def _matmul(a, b):
    """a @ b; a contraction of length 1 as a broadcast product (faster than many tiny BLAS calls, same values)."""
    return a * b if a.shape[-1] == 1 else a @ b


_CHUNK_BYTES = 1 << 22


def by_channel(n, length, win):
    """Whether a convolution's columns are laid out (C*K, N*L), the batch folded into one matmul: when each sample
    has few windows (small images), where N small matmuls would waste BLAS; not at L >= 1024, where the transposes
    this layout costs outweigh it, nor for a 1x1 kernel without padding, whose batch-first columns are a view."""
    return n > 1 and length < 1024 and (math.prod(win.kernel) > 1 or any(lo or hi for lo, hi in win.pads))


def _by_chunks(out, bytes_per_sample, fn):
    """out[part] = fn(part) for slices `part` of the batch, each making about 4 MiB of columns: columns that are not
    kept are made a chunk at a time, since a big fresh array costs more than the copy that fills it (its pages are
    new), while a chunk's are reused and stay in cache. Returns out."""
    step = max(1, _CHUNK_BYTES // max(1, bytes_per_sample))
    for start in range(0, out.shape[0], step):
        out[start:start + step] = fn(slice(start, start + step))
    return out


def correlate(x, w, win, groups, pad_value=0.0, cols=None, blocks=None):
    """y (N, O, *OS) = sum_{c, k} w[o, c, k] xpad[n, g(o) C/G + c, o s + k d] (padding holds pad_value), for arrays
    x (N, C, *S) and w (O, C/G, *K): W (G, O/G, C/G*K) @ im2col's cols (N, G, C/G*K, L), the groups a batch axis of
    the matmul; depthwise (C/G = 1), a multiply-add per kernel tap instead. `cols`: im2col(x), when made already
    (else made by chunks of the batch); `blocks`: the first OS windows only (default: all that fit)."""
    n, o = x.shape[0], w.shape[0]
    blocks = win.blocks(x.shape[2:]) if blocks is None else tuple(blocks)
    dtype = np.result_type(x, w)
    if _depthwise(w.shape, groups):
        m, nd = o // groups, len(blocks)
        views, crop = _tap_views(x, win, pad_value, blocks)
        wk = w.reshape((groups, m, -1) + (1,) * nd)
        y = np.empty((n, groups, m) + views[0].shape[2:], dtype)
        term = np.empty_like(y)
        for i, view in enumerate(views):                                 # y += W[:, :, tap] * view, tap by tap
            np.multiply(wk[:, :, i], view[:, :, None], out=term if i else y)
            if i:
                y += term
        return np.ascontiguousarray(y[crop]).reshape((n, o) + blocks)
    rows, length = w.shape[1] * math.prod(win.kernel), math.prod(blocks)
    weights = w.reshape(groups, o // groups, rows)

    def product(cols):                                   # (n', O, L) from (n', C*K, L) or (C*K, n'*L) columns
        if cols.ndim == 2:
            m = cols.shape[1] // max(length, 1)
            return _matmul(weights, cols.reshape(groups, rows, -1)).reshape(o, m, length).swapaxes(0, 1)
        return _matmul(weights, cols.reshape(len(cols), groups, rows, length)).reshape(len(cols), o, length)
    if cols is None:
        cols_bytes, flat = groups * rows * length * dtype.itemsize, by_channel(n, length, win)
        y = _by_chunks(np.empty((n, o, length), dtype), cols_bytes,
                       lambda part: product(im2col(x[part], win, pad_value, blocks, flat)))
    else:
        y = product(cols)
    return y.reshape((n, o) + blocks)


def correlate_weight(x, g, win, groups, pad_value=0.0, cols=None):
    """dW (O, C/G, *K) = sum_{n, l} g[n, o, l] xpad[n, g(o) C/G + c, o(l) s + k d]: the adjoint of correlate in w,
    for arrays x (N, C, *S) and g (N, O, *OS): per sample, g @ cols^T per group (cols made by chunks of the batch
    unless given), then summed over the batch; depthwise, a dot product per tap."""
    n, o, c, blocks = g.shape[0], g.shape[1], x.shape[1], tuple(g.shape[2:])
    k, length = math.prod(win.kernel), math.prod(blocks)
    dtype = np.result_type(x, g)
    if groups > 1 and c == groups:  # depthwise
        m = o // groups
        views, crop = _tap_views(x, win, pad_value, blocks)
        gw = np.zeros((n, groups, m) + views[0].shape[2:], g.dtype)      # g, with zeros in any extra columns
        gw[crop] = g.reshape((n, groups, m) + blocks)
        gw, flat = gw.reshape(n, groups, m, -1), (view.reshape(n, groups, -1) for view in views)
        dw = np.stack([np.einsum("ngml,ngl->gm", gw, view) for view in flat], axis=-1)
        return dw.reshape((o, 1) + win.kernel)
    rows, og = c // groups * k, o // groups

    def products(cols, part):       # (n', G, O/G, C/G*K), one per sample; or their sum, from (C*K, n'*L) columns
        gp = g[part].reshape(-1, groups, og, length)
        if cols.ndim == 2:
            return _matmul(gp.transpose(1, 2, 0, 3).reshape(groups, og, -1), cols.reshape(groups, rows, -1).mT)
        return _matmul(gp, cols.reshape(-1, groups, rows, length).mT)
    shape = (o, c // groups) + win.kernel
    if cols is not None:
        dw = products(cols, slice(None))
        return (dw if cols.ndim == 2 else dw.sum(axis=0)).reshape(shape)
    step = max(1, _CHUNK_BYTES // max(1, groups * rows * length * dtype.itemsize))
    if by_channel(n, length, win):
        parts = (slice(i, i + step) for i in range(0, n, step))
        return sum(products(im2col(x[part], win, pad_value, blocks, True), part) for part in parts).reshape(shape)
    per_sample = _by_chunks(np.empty((n, groups, og, rows), dtype), groups * rows * length * dtype.itemsize,
                            lambda part: products(im2col(x[part], win, pad_value, blocks), part))
    return per_sample.sum(axis=0).reshape(shape)


def _phase(r, kernel, stride, dilation, before):
    """The kernel taps of one dim that reach the outputs y = r + s t of a transposed conv (y + before = o s + k d):
    (taps, their dilation in t, the padding that aligns them), as a stride-1 transposed conv; None if none do."""
    first = next((k for k in range(kernel) if (k * dilation - r - before) % stride == 0), None)
    if first is None:
        return None
    step = stride // math.gcd(dilation, stride)
    return slice(first, kernel, step), step * dilation // stride, -((first * dilation - r - before) // stride)


def correlate_transpose(g, w, win, groups, sizes):
    """dx (N, C, *sizes): the adjoint of correlate in x (zero padding), for arrays g (N, O, *OS) and w (O, C/G, *K).
    At stride 1 a correlation of g with the flipped kernel, channels swapped per group (no col2im). At stride s,
    W^T @ g per group then col2im, by chunks of the batch; or, when each group has one channel of g (the gradient of
    a depthwise conv), one stride-1 correlation per phase r of the output (y = r mod s, per dim), tap by tap: the
    taps k d = r + pad mod s alone reach those outputs."""
    n, o, blocks, nd = g.shape[0], g.shape[1], tuple(g.shape[2:]), len(win.kernel)
    cg, dtype = w.shape[1], np.result_type(g, w)
    if any(s > 1 for s in win.stride) and o == groups:
        out = np.zeros((n, groups * cg) + tuple(sizes), dtype)
        for phase in np.ndindex(*win.stride):
            parts = [_phase(r, k, s, d, lo) for r, k, s, d, (lo, _) in
                     zip(phase, win.kernel, win.stride, win.dilation, win.pads)]
            counts = [len(range(r, size, s)) for r, size, s in zip(phase, sizes, win.stride)]
            if None in parts or 0 in counts:
                continue  # no tap reaches this phase: its outputs stay 0
            taps = w[_NC + tuple(p[0] for p in parts)]
            sub = Window(taps.shape[2:], (1,) * nd, tuple((p[2], p[2]) for p in parts), tuple(p[1] for p in parts))
            out[_NC + tuple(slice(r, None, s) for r, s in zip(phase, win.stride))] = \
                correlate_transpose(g, taps, sub, groups, counts)
        return out
    if any(s > 1 for s in win.stride):
        length, rows = math.prod(blocks), cg * math.prod(win.kernel)
        weights_t = w.reshape(groups, o // groups, rows).mT              # (G, C/G*K, O/G)
        shape = (groups * cg,) + tuple(sizes)

        def part_dx(part):
            cols = _matmul(weights_t, g[part].reshape(-1, groups, o // groups, length))
            return col2im(cols.reshape(-1, groups * rows, length), (len(cols),) + shape, win, blocks)
        return _by_chunks(np.empty((n,) + shape, dtype), groups * rows * length * dtype.itemsize, part_dx)
    flipped = w.reshape((groups, o // groups, cg) + win.kernel)[(slice(None),) * 3 + (slice(None, None, -1),) * nd]
    flipped = flipped.swapaxes(1, 2).reshape((groups * cg, o // groups) + win.kernel)
    before = [span - 1 - lo for span, (lo, _) in zip(win.spans(), win.pads)]
    after = [size - b + lo for size, b, (lo, _) in zip(sizes, blocks, win.pads)]
    crop = tuple(slice(max(0, -a), b - max(0, -z)) for a, z, b in zip(before, after, blocks))
    full = Window(win.kernel, win.stride, tuple((max(0, a), max(0, z)) for a, z in zip(before, after)), win.dilation)
    return correlate(g[_NC + crop], flipped, full, groups)


def _run(op, a, b, *params):
    """Run a partner op of a bilinear op's rule: `op.apply` on Tensors (the create_graph execution), only its
    forward on arrays (as xp.apply, for two tensors)."""
    if xp.is_tensor(a, b):
        return op.apply(lift(a), lift(b), *params)
    return np.asarray(op.forward(UnrecordedNode(op), Tensor._wrap(np.asarray(a)), Tensor._wrap(np.asarray(b)), *params))


def _padding_is_binary(win, pad_value):
    return abs(pad_value) == 1 or not any(lo or hi for lo, hi in win.pads)


def _conv_cost(macs, binary):
    """One MAC (two FLOPs) per product, as torch.utils.flop_counter; BOPs when both operands are +-1."""
    return Cost(bops=macs, category="dot") if binary else Cost(flops=2 * macs, macs=macs, category="dot")


class Conv(Op):
    """y = W * x, the cross-correlation y[n, o] = sum_{c, k} W[o, c, k] xpad[n, g(o) C/G + c, o s + k d] of
    x (N, C, *S) with W (O, C/G, *K) (the padding holds pad_value; `blocks`, the first OS windows only). `cols`,
    im2col(x) if made already (a cache: it gets no gradient, x gets its own).
    dx = conv_transpose(g, W),  dW = conv_weight(x, g)."""
    name = "conv"

    @staticmethod
    def forward(ctx, x, weight, cols, win, groups, pad_value=0.0, blocks=None):
        ctx.args = (win, groups, pad_value)
        ctx.save_for_backward(x, weight, cols)
        return correlate(x.data, weight.data, win, groups, pad_value, array_of(cols), blocks)

    @staticmethod
    def backward(ctx, g):
        x, w, cols = ctx.saved_tensors
        win, groups, pad_value = ctx.args
        need_x, need_w = ctx.needs_input_grad[:2]
        gx = _run(ConvTranspose, g, w, win, groups, x.shape[2:]) if need_x else None
        gw = _run(ConvWeight, x, g, win, groups, pad_value, array_of(cols)) if need_w else None  # columns: a cache
        return gx, gw, None

    @staticmethod
    def cost(ctx, out, x, weight, cols, win, groups, pad_value=0.0, blocks=None):
        """N O prod(OS) (C/G) prod(K) multiply-adds."""
        binary = _is_binary(weight.data) and _is_binary(x.data) and _padding_is_binary(win, pad_value)
        return _conv_cost(out.size * math.prod(weight.shape[1:]), binary)


class ConvTranspose(Op):
    """x = W^T * y, the adjoint of conv in its input (a transposed convolution) of y (N, O, *OS) with W (O, C/G, *K)
    into (N, C, *sizes).   dy = conv(h, W),  dW = conv_weight(h, y)."""
    name = "conv_transpose"

    @staticmethod
    def forward(ctx, y, weight, win, groups, sizes):
        ctx.args = (win, groups)
        ctx.save_for_backward(y, weight)
        return correlate_transpose(y.data, weight.data, win, groups, tuple(sizes))

    @staticmethod
    def backward(ctx, h):
        y, w = ctx.saved_tensors
        win, groups = ctx.args
        need_y, need_w = ctx.needs_input_grad[:2]
        cols = None  # h's columns, made once when both gradients multiply them
        if need_y and need_w and uses_columns(w.shape, groups):
            cols = im2col(array_of(h), win, 0.0, tuple(y.shape[2:]), by_channel(len(y), math.prod(y.shape[2:]), win))
        gy = _run(Conv, h, w, cols, win, groups, 0.0, y.shape[2:]) if need_y else None
        gw = _run(ConvWeight, h, y, win, groups, 0.0, cols) if need_w else None
        return gy, gw

    @staticmethod
    def cost(ctx, out, y, weight, *args):
        """N O prod(OS) (C/G) prod(K) multiply-adds, as the conv it transposes."""
        return _conv_cost(y.size * math.prod(weight.shape[1:]), _is_binary(weight.data) and _is_binary(y.data))


class ConvWeight(Op):
    """dW = x * y, the adjoint of conv in its weight: dW[o, c, k] = sum_{n, l} y[n, o, l] xpad[n, g(o) C/G + c,
    o(l) s + k d] for x (N, C, *S) and y (N, O, *OS) (the padding holds pad_value; `cols`, im2col(x) if made
    already, a plain array).   dx = conv_transpose(y, V),  dy = conv(x, V)."""
    name = "conv_weight"

    @staticmethod
    def forward(ctx, x, y, win, groups, pad_value=0.0, cols=None):
        ctx.args = (win, groups, pad_value)
        ctx.save_for_backward(x, y)
        return correlate_weight(x.data, y.data, win, groups, pad_value, cols)

    @staticmethod
    def backward(ctx, v):
        x, y = ctx.saved_tensors
        win, groups, pad_value = ctx.args
        need_x, need_y = ctx.needs_input_grad[:2]
        gx = _run(ConvTranspose, y, v, win, groups, x.shape[2:]) if need_x else None
        gy = _run(Conv, x, v, None, win, groups, pad_value, y.shape[2:]) if need_y else None
        return gx, gy

    @staticmethod
    def cost(ctx, out, x, y, win, groups, pad_value=0.0, cols=None):
        """N O prod(OS) (C/G) prod(K) multiply-adds, as the conv whose weight gradient it is."""
        binary = _is_binary(x.data) and _is_binary(y.data) and _padding_is_binary(win, pad_value)
        return _conv_cost(y.size * math.prod(out.shape[1:]), binary)


def conv(x, weight, win, groups=1, pad_value=0.0):
    """The cross-correlation of x (N, C, *S) with weight (O, C/G, *K) over Window `win`, no bias. The im2col columns
    come from the unfold op (so a profile sees their memory) and are kept for the weight's gradient."""
    x, weight = lift(x), lift(weight)
    cols = None
    if uses_columns(weight.shape, groups):
        flat = by_channel(x.shape[0], math.prod(win.blocks(x.shape[2:])), win)
        cols = Unfold.apply(x.detach(), win, pad_value, None, flat)
    return Conv.apply(x, weight, cols, win, groups, pad_value)


def conv_transpose(y, weight, win, sizes, groups=1):
    """The transposed convolution of y (N, O, *OS) with weight (O, C/G, *K) into (N, C, *sizes), no bias."""
    return ConvTranspose.apply(lift(y), lift(weight), win, groups, tuple(sizes))


# ---- max pooling: the argmax of each window, then a gather -------------------------------------------
def window_argmax(w):
    """The index along axis -2 of each window's maximum, for windows (..., K, L), as PyTorch's pooling kernels
    choose: the first maximum, or the last NaN of a window holding one. The maximum, then a pass of bool ops per
    window entry (argmax along a middle axis is slow, and knows no such rule for NaN)."""
    best = w.max(axis=-2)
    dtype = np.min_scalar_type(w.shape[-2])
    index, term = np.zeros(best.shape, dtype), np.empty(best.shape, dtype)
    found, hit, first = np.zeros(best.shape, bool), np.empty(best.shape, bool), np.empty(best.shape, bool)
    for k in range(w.shape[-2]):
        np.equal(w[..., k, :], best, out=hit)
        if k:
            np.greater(hit, found, out=first)  # a maximum, and none before it
            index += np.multiply(first, dtype.type(k), out=term)
        found |= hit
    if w.dtype.kind == "f" and np.isnan(best).any():  # a window holding NaN: its last NaN
        for k in range(w.shape[-2]):
            index = np.where(np.isnan(w[..., k, :]), k, index)
    return index


class WindowArgmax(Op):
    """Where each window's maximum lies: for windows (N, C, K, L) and `positions` (K, L), the flat input position of
    each window entry, positions[window_argmax(windows), l] (N, C, L) (an entry in the padding, chosen only when the
    whole window is -inf, becomes the window's first input cell, as PyTorch). No gradient: an index."""
    name = "window_argmax"

    @staticmethod
    def forward(ctx, windows, positions):
        taps = window_argmax(windows.data)
        index = positions[taps, np.arange(positions.shape[1])]
        padding = index < 0
        if padding.any():
            first = positions[np.argmax(positions >= 0, axis=0), np.arange(positions.shape[1])]
            index = np.where(padding, first, index)
        return index

    @staticmethod
    def cost(ctx, out, windows, positions):
        """One comparison per window entry."""
        return Cost(flops=windows.size, category="reduction")


def _plane_positions(index, shape):
    """Positions in the flattened (N, C, P) array of `index`, positions within each (N, C) plane: (N, C, M), or (M,)
    for every plane."""
    n, c, p = shape[0], shape[1], math.prod(shape[2:])
    return ((np.arange(n * c) * p).reshape(n, c, 1) + index).reshape(-1)


class PlaneGather(Op):
    """y[n, c, m] = x[n, c, index[n, c, m]] (each (N, C) plane of x flattened; index (N, C, M), or (M,) for every
    plane): the entries max and adaptive pooling pick.   dx = g added back at index (plane_scatter, the adjoint)."""
    name = "plane_gather"

    @staticmethod
    def forward(ctx, x, index):
        ctx.args = (index, x.shape)
        n, c = x.shape[:2]
        return x.data.reshape(-1)[_plane_positions(index, x.shape)].reshape(n, c, index.shape[-1])

    @staticmethod
    def backward(ctx, g):
        return xp.apply(PlaneScatter, g, *ctx.args)

    cost = movement


class PlaneScatter(Op):
    """zeros(shape) with g (N, C, M) added at index within each (N, C) plane, repeats accumulating: the adjoint of
    plane_gather (one np.bincount).   dg = plane_gather(dout)."""
    name = "plane_scatter"

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        size = math.prod(shape)
        out = np.bincount(_plane_positions(index, shape), weights=g.data.reshape(-1), minlength=size)
        return out.astype(g.dtype, copy=False).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(PlaneGather, g, ctx.index)

    @staticmethod
    def cost(ctx, out, g, *args):
        """One add per entry of g."""
        return Cost(flops=g.size, category="movement")


class MaxUnpool(Op):
    """y (N, C, P) = zeros with y[n, c, index[n, c, i]] = x[n, c, i] (x, index of shape (N, C, I); a repeated index
    keeps the last value, as PyTorch): max pooling's partial inverse.   dx = plane_gather(g, index)."""
    name = "max_unpool"

    @staticmethod
    def forward(ctx, x, index, size):
        n, c = x.shape[:2]
        ctx.index = index
        out = np.zeros(n * c * size, x.dtype)
        out[_plane_positions(index, (n, c, size))] = x.data.reshape(-1)
        return out.reshape(n, c, size)

    @staticmethod
    def backward(ctx, g):
        return xp.apply(PlaneGather, g, ctx.index)

    cost = movement


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
