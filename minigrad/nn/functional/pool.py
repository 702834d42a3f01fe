"""Pooling over 1, 2 and 3 spatial dims, from one N-d implementation.

The windows of max and average pooling are im2col's columns (`mg.ops.conv.unfold`, reshaped to (N, C, K, L)).
Max pooling finds where each window's maximum lies (the window_argmax op, PyTorch's rule: the first maximum, or
the last NaN; those are return_indices' indices) and gathers x there, so its gradient is one scatter-add into x;
average pooling sums each window and divides by PyTorch's divisor. Adaptive pooling gathers PyTorch's windows
[floor(i S / O), ceil((i + 1) S / O)) per dim, any output size (a reshape when O divides S). LP pooling and max
unpooling are PyTorch's compositions. An unbatched input (C, *S) is pooled as a batch of one, as PyTorch.
"""
import math

import numpy as np

from ... import ops
from ...ops import conv as _conv
from ...ops._common import const, lift
from ...ops.conv import ntuple, window
from ...tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d",
           "lp_pool3d"]


def _input(op, nd, x, kinds="fiu"):
    """x with a batch axis, and whether it had one; dtypes outside `kinds` have no kernel (as PyTorch)."""
    x = lift(x)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got shape "
                           f"{tuple(x.shape)}")
    if x.dtype.kind not in kinds:
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} tensors (as PyTorch); convert first, e.g. "
                                  "x.float()")
    batched = x.ndim == nd + 2
    return (x if batched else x.unsqueeze(0)), batched


def _unbatched(out, batched):
    if batched:
        return out
    return tuple(t.squeeze(0) for t in out) if isinstance(out, tuple) else out.squeeze(0)


def _pool_window(op, nd, sizes, kernel_size, stride, padding, dilation, ceil_mode):
    """(window, output size): PyTorch's pooling geometry. ceil_mode keeps a last, partial window unless it would
    start in the right padding; the cells it reaches past the padding are appended to the window's pads."""
    stride = kernel_size if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    win = window(op, kernel_size, stride, padding, dilation, n=nd)
    for span, (pad, _) in zip(win.spans(), win.pads):
        if pad > span // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got padding="
                               f"{padding}, kernel_size={kernel_size} and dilation={dilation}")
    out, extra = [], []
    for size, (pad, _), span, s in zip(sizes, win.pads, win.spans(), win.stride):
        count = (size + 2 * pad - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (count - 1) * s >= size + pad:
            count -= 1
        out.append(count)
        extra.append(max(0, (count - 1) * s + span - (size + 2 * pad)))
    if min(out) < 1:
        raise RuntimeError(f"{op}: given input size {tuple(sizes)}, the calculated output size {tuple(out)} is too "
                           "small")
    return win._replace(pads=tuple((lo, hi + e) for (lo, hi), e in zip(win.pads, extra))), tuple(out)


def _windows(x, win, blocks, pad_value):
    """The pooling windows of x (N, C, *S), as (N, C, K, L)."""
    n, c = x.shape[:2]
    return _conv.unfold(x, win, pad_value, blocks).reshape(n, c, math.prod(win.kernel), math.prod(blocks))


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _positions(win, blocks, sizes):
    """(K, L): the flat input position of every entry of every window (-1 in the padding)."""
    nd, flat, inside = len(sizes), 0, True
    for d, (k, s, dil, (lo, _), b, size) in enumerate(zip(win.kernel, win.stride, win.dilation, win.pads, blocks,
                                                           sizes)):
        pos = np.arange(b)[None, :] * s - lo + np.arange(k)[:, None] * dil          # (K_d, O_d)
        shape = [1] * (2 * nd)
        shape[d], shape[nd + d] = pos.shape
        pos = pos.reshape(shape)
        flat, inside = flat * size + pos, inside & (pos >= 0) & (pos < size)
    flat = np.where(inside, flat, -1)
    return flat.reshape(math.prod(win.kernel), math.prod(blocks))


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):  # noqa: A002
    """The argmax of each window (im2col's columns of x, padded with -inf), then x gathered there."""
    x, batched = _input(op, nd, input, "fiu" if nd > 1 else "f")  # PyTorch's max_pool1d has no integer kernel
    win, blocks = _pool_window(op, nd, x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    windows = _windows(x.detach(), win, blocks, _lowest(x.dtype))
    index = _conv.WindowArgmax.apply(windows, _positions(win, blocks, x.shape[2:]))
    y = _conv.PlaneGather.apply(x, index.data).reshape(x.shape[:2] + blocks)
    return _unbatched((y, index.reshape(y.shape)) if return_indices else y, batched)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """The maximum over each window of a (N, C, L) or (C, L) input, as torch.nn.functional.max_pool1d (padding counts
    as -inf). The gradient goes to the window's first maximum (PyTorch's rule); return_indices also gives its flat
    index in the input (what max_unpool1d takes)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """The maximum over each KH x KW window, as torch.nn.functional.max_pool2d: padding counts as -inf; ceil_mode
    keeps the last, partial window (PyTorch's output size); the gradient goes to the window's first maximum in
    row-major order (a NaN wins, the last one), as PyTorch; return_indices also gives its flat index h * W + w."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """The maximum over each KD x KH x KW window, as torch.nn.functional.max_pool3d (see max_pool2d)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _window_counts(win, blocks, sizes, count_include_pad):
    """PyTorch's divisor of each window, (L,): the cells of the input it covers, and of its padding when
    count_include_pad; never the cells ceil_mode reaches past the padding."""
    counts = 1
    for k, s, (lo, _), b, size in zip(win.kernel, win.stride, win.pads, blocks, sizes):
        start = np.arange(b) * s - lo
        end = np.minimum(start + k, size + lo)                # the symmetric padding ends at size + lo
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts = np.multiply.outer(counts, end - start)
    return np.asarray(counts).reshape(-1)


def _divide(sums, divisor, dtype):
    """sums / divisor in `dtype`; integers divide as PyTorch's integer kernels do (rounding toward zero)."""
    if dtype.kind == "f":
        return sums / (divisor if isinstance(divisor, int) else const(divisor, dtype))
    s = sums.data
    return Tensor((np.abs(s) // divisor * np.sign(s)).astype(dtype))


_BIG_TILE = 16  # windows of at least 16 cells that tile x are averaged by a reshape (smaller ones: by columns, faster)


def _tile_mean(x, kernel, blocks):
    """The mean of each of the blocks[d] x kernel[d] tiles at the start of x (N, C, *S): a reshape and a mean."""
    crop = x[(slice(None),) * 2 + tuple(slice(0, b * k) for b, k in zip(blocks, kernel))]
    tiles = crop.reshape(x.shape[:2] + sum(((b, k) for b, k in zip(blocks, kernel)), ()))
    return tiles.mean(axis=tuple(range(3, 3 + 2 * len(kernel), 2)))


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,  # noqa: A002
              divisor_override=None):
    x, batched = _input(op, nd, input)
    win, blocks = _pool_window(op, nd, x.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)):
            raise TypeError(f"{op}: divisor_override must be an int, got {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
        divisor = int(divisor_override)
    else:
        counts = _window_counts(win, blocks, x.shape[2:], count_include_pad)
        divisor = int(counts[0]) if (counts == counts[0]).all() else counts
    mean = isinstance(divisor, int) and divisor == math.prod(win.kernel) and x.dtype.kind == "f"
    tiles = not any(lo or hi for lo, hi in win.pads) and win.stride == win.kernel
    if mean and tiles and divisor >= _BIG_TILE:  # big windows that tile x: a reshape, no columns
        return _unbatched(_tile_mean(x, win.kernel, blocks), batched)
    windows = _windows(x, win, blocks, 0)
    y = windows.mean(axis=2) if mean else _divide(windows.sum(axis=2), divisor, x.dtype)
    return _unbatched(y.reshape(x.shape[:2] + blocks), batched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    """The mean over each window of a (N, C, L) or (C, L) input, as torch.nn.functional.avg_pool1d: padded zeros
    count unless count_include_pad=False; ceil_mode's last window divides by the cells it really covers."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """The mean over each KH x KW window, as torch.nn.functional.avg_pool2d (see avg_pool1d); divisor_override
    divides every window by that number instead."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """The mean over each KD x KH x KW window, as torch.nn.functional.avg_pool3d (see avg_pool2d)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ---- adaptive pooling --------------------------------------------------------------------------------
def _adaptive_size(op, nd, x, output_size):
    """The output size: PyTorch's output_size with None entries meaning "as the input"."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    if len(sizes) != nd:
        raise RuntimeError(f"{op}: output_size must have {nd} entries, got {output_size!r}")
    out = tuple(int(s) if s is not None else n for s, n in zip(sizes, x.shape[2:]))
    if min(out) < 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0, got {output_size!r}")
    if min(x.shape[2:]) < 1:
        raise RuntimeError(f"{op}: expected an input with non-zero spatial sizes, got shape {tuple(x.shape)}")
    return out


def _adaptive_windows(x, out):
    """x (N, C, *S) gathered into PyTorch's adaptive windows, (N, C, K, L) with K the largest window: per dim,
    window i covers [floor(i S / O), ceil((i + 1) S / O)); entries past a window's end repeat its last cell
    (`valid` (K, L) marks the real ones). Also the flat input index of every entry, (K, L)."""
    taps, valid = [], []
    for size, o in zip(x.shape[2:], out):
        i = np.arange(o)
        start, end = i * size // o, -(-(i + 1) * size // o)
        k = np.arange(max(end - start, default=1))
        taps.append(start[None, :] + np.minimum(k[:, None], end - start - 1))      # (K_d, O_d)
        valid.append(k[:, None] < end - start)
    nd = len(out)
    flat, ok = 0, True
    for d, (tap, size) in enumerate(zip(taps, x.shape[2:])):       # broadcast to (K_1, .., K_nd, O_1, .., O_nd)
        shape = [1] * (2 * nd)
        shape[d], shape[nd + d] = tap.shape
        flat, ok = flat * size + tap.reshape(shape), ok & valid[d].reshape(shape)
    k, length = math.prod(t.shape[0] for t in taps), math.prod(out)
    flat, ok = flat.reshape(k, length), np.broadcast_to(ok, flat.shape).reshape(k, length)
    n, c = x.shape[:2]
    return _conv.PlaneGather.apply(x, flat.reshape(-1)).reshape(n, c, k, length), ok, flat


def _divides(sizes, out):
    return all(o and n % o == 0 for n, o in zip(sizes, out))


def _adaptive_avg_pool(op, nd, input, output_size):  # noqa: A002
    x, batched = _input(op, nd, input, "f")
    out = _adaptive_size(op, nd, x, output_size)
    n, c, sizes = x.shape[0], x.shape[1], x.shape[2:]
    if _divides(sizes, out):  # equal windows: average pooling with kernel = stride = S / O
        kernel = tuple(s // o for s, o in zip(sizes, out))
        return _unbatched(_avg_pool(op, nd, x, kernel, kernel, 0, False, True), batched)
    elif min(out) == 0:
        y = x.reshape(n, c, -1)[:, :, :0].reshape((n, c) + out)
    else:
        windows, valid, _ = _adaptive_windows(x, out)
        sums = (windows * const(valid, x.dtype)).sum(axis=2)
        y = (sums / const(valid.sum(axis=0), x.dtype)).reshape((n, c) + out)
    return _unbatched(y, batched)


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """Mean pooling of a (N, C, L) or (C, L) input to `output_size` windows, as torch.nn.functional
    .adaptive_avg_pool1d: window i covers [floor(i L / O), ceil((i + 1) L / O)) (any O, overlapping windows too)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Mean pooling to a fixed (OH, OW), as torch.nn.functional.adaptive_avg_pool2d (PyTorch's windows per dim,
    see adaptive_avg_pool1d; None keeps that dim's size; 1 is global average pooling)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):  # noqa: A002
    """Mean pooling to a fixed (OD, OH, OW), as torch.nn.functional.adaptive_avg_pool3d."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max_pool(op, nd, input, output_size, return_indices):  # noqa: A002
    x, batched = _input(op, nd, input, "f")
    out = _adaptive_size(op, nd, x, output_size)
    sizes = x.shape[2:]
    if _divides(sizes, out):  # equal windows: max pooling with kernel = stride = S / O
        kernel = tuple(s // o for s, o in zip(sizes, out))
        return _unbatched(_max_pool(op, nd, x, kernel, kernel, 0, 1, False, return_indices), batched)
    if min(out) == 0:
        raise RuntimeError(f"{op}: output_size {out} must be positive")
    windows, _, flat = _adaptive_windows(x.detach(), out)  # a repeated last cell never beats the first maximum
    index = _conv.WindowArgmax.apply(windows, flat)
    y = _conv.PlaneGather.apply(x, index.data).reshape(x.shape[:2] + out)
    return _unbatched((y, index.reshape(y.shape)) if return_indices else y, batched)


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling of a (N, C, L) or (C, L) input to `output_size` windows, as torch.nn.functional
    .adaptive_max_pool1d (PyTorch's windows, see adaptive_avg_pool1d; ties as max_pool1d)."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling to a fixed (OH, OW), as torch.nn.functional.adaptive_max_pool2d."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling to a fixed (OD, OH, OW), as torch.nn.functional.adaptive_max_pool3d."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


# ---- max unpooling and LP pooling --------------------------------------------------------------------
def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):  # noqa: A002
    x, batched = _input(op, nd, input, "f")
    index = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    index = index if batched else index[None]
    if index.shape != x.shape or index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected indices of integers with the input's shape {tuple(x.shape)}, got "
                           f"{index.dtype} of shape {index.shape}")
    win = window(op, kernel_size, kernel_size if stride is None else stride, padding, 1, n=nd)
    default = tuple((i - 1) * s + k - 2 * lo for i, s, k, (lo, _) in zip(x.shape[2:], win.stride, win.kernel, win.pads))
    size = default
    if output_size is not None:
        size = tuple(int(s) for s in output_size)[-nd:] if len(output_size) in (nd + 1, nd + 2) else \
            tuple(int(s) for s in output_size)
        if len(size) != nd:
            raise ValueError(f"{op}: output_size should be a sequence of {nd} or {nd + 2} elements, got {output_size}")
        for d, (want, base, s) in enumerate(zip(size, default, win.stride)):
            if not base - s < want < base + s:
                raise ValueError(f"{op}: invalid output_size {tuple(output_size)} (dim {d} must be between "
                                 f"{base - s} and {base + s})")
    n, c, plane = x.shape[0], x.shape[1], math.prod(size)
    if index.size and (index.min() < 0 or index.max() >= plane):
        bad = index.max() if index.max() >= plane else index.min()
        raise RuntimeError(f"{op}: found an invalid max index {bad} (the output planes have {plane} elements, "
                           f"size {size})")
    y = _conv.MaxUnpool.apply(x.reshape(n, c, -1), index.reshape(n, c, -1), plane)
    return _unbatched(y.reshape((n, c) + size), batched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of max_pool1d, as torch.nn.functional.max_unpool1d: each value goes back to the input
    position `indices` names (max_pool1d's return_indices), zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of max_pool2d, as torch.nn.functional.max_unpool2d (output size (i - 1) s + k - 2 p, or
    output_size)."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """The partial inverse of max_pool3d, as torch.nn.functional.max_unpool3d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


def _lp_pool(op, nd, input, norm_type, kernel_size, stride, ceil_mode):  # noqa: A002
    """PyTorch's composition: (sign(a) relu(|a|) prod(K)) ** (1 / p), a = avg_pool(x ** p); p = inf: max |x|
    (-inf: min |x|)."""
    x = lift(input)
    if norm_type == float("inf"):
        return _max_pool(op, nd, x.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
    if norm_type == -float("inf"):
        return -_max_pool(op, nd, -x.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
    a = _avg_pool(op, nd, x ** norm_type, kernel_size, stride, 0, ceil_mode, True)
    k = math.prod(ntuple(kernel_size, nd, "kernel_size", op))
    a = ops.where(a.data == 0, 0.0, a)  # PyTorch's sign(a) relu(|a|): a, with no gradient where a = 0
    return (a * k) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling, (sum over the window of x^p)^(1/p), as torch.nn.functional.lp_pool1d."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling over KH x KW windows, as torch.nn.functional.lp_pool2d (p = inf: max pooling of |x|)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):  # noqa: A002
    """Power-average pooling over KD x KH x KW windows, as torch.nn.functional.lp_pool3d."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)
