"""Pooling."""
import builtins

import numpy as np

from ... import ops
from ...ops._common import const, lift
from ...ops import conv as _conv
from ...ops.conv import _geometry, _pair

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


def _pool_windows(x, kernel_size, stride, padding, dilation, pad_value, op):
    """The pooling windows of x as (C, KH*KW, N, OH, OW), and the output size."""
    x = lift(x)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    stride = kernel_size if stride is None else stride
    k, s, pads, d, (oh, ow) = _geometry(x.shape, kernel_size, stride, padding, dilation, op)
    if max(max(pads[0]), max(pads[1])) > min(k) // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {k}")
    n, c = x.shape[:2]
    cols = _conv.unfold(x, k, s, pads, d, pad_value)
    return cols.reshape(c, k[0] * k[1], n, oh, ow), (k, s, pads, d)


def _ceil_mode_extra(x, kernel_size, stride, padding, dilation, op):
    """Cells to append after the bottom and right edges so that pooling gives ceil_mode's output size:
    ceil((L + 2p - d(k-1) - 1) / s) + 1, less one when the last window would start in the right padding
    (PyTorch's rule)."""
    stride = kernel_size if stride is None else stride
    k, s, pads, d, _ = _geometry(lift(x).shape, kernel_size, stride, padding, dilation, op)
    extra = []
    for a in range(2):
        length, (before, after), span = x.shape[2 + a], pads[a], d[a] * (k[a] - 1) + 1
        n_out = -(-(length + before + after - span) // s[a]) + 1
        if (n_out - 1) * s[a] >= length + before:
            n_out -= 1
        extra.append(builtins.max(0, (n_out - 1) * s[a] + span - (length + before + after)))
    return extra


def _append_cells(x, extra, value):
    return ops.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), value) if any(extra) else x


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over each KH x KW window (padding counts as -inf). The gradient goes to the window's
    maximum (the first one, in row-major window order, when several tie, as PyTorch). ceil_mode keeps
    the last, partial window (PyTorch's output size)."""
    x = lift(x)
    if ceil_mode:
        x = _append_cells(x, _ceil_mode_extra(x, kernel_size, stride, padding, dilation, "max_pool2d"), -np.inf)
    windows, _ = _pool_windows(x, kernel_size, stride, padding, dilation, -np.inf, "max_pool2d")
    return _conv.WindowMax.apply(windows).permute(1, 0, 2, 3)


def _window_counts(length, k, s, pads, n_out, count_pad):
    """How many cells of each window count in an average: those of the input, and of its padding when
    count_pad; never the cells ceil_mode appends after the padding (PyTorch's divisor)."""
    before, after = pads
    cells = np.arange(n_out)[:, None] * s + np.arange(k)[None, :]  # positions in the padded input
    lo, hi = (0, before + length + after) if count_pad else (before, before + length)
    return ((cells >= lo) & (cells < hi)).sum(axis=1)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over each KH x KW window; padded zeros count unless count_include_pad=False. ceil_mode keeps
    the last, partial window and divides it by the cells it really covers (as PyTorch)."""
    x = lift(x)
    extra = _ceil_mode_extra(x, kernel_size, stride, padding, 1, "avg_pool2d") if ceil_mode else [0, 0]
    windows, (k, s, pads, d) = _pool_windows(_append_cells(x, extra, 0.0), kernel_size, stride, padding, 1, 0.0,
                                             "avg_pool2d")
    if not any(extra) and (count_include_pad or pads == ((0, 0), (0, 0))):
        return windows.mean(axis=1).permute(1, 0, 2, 3)
    oh, ow = windows.shape[3:]
    counts = np.outer(*(_window_counts(x.shape[2 + a], k[a], s[a], pads[a], (oh, ow)[a], count_include_pad)
                        for a in range(2)))
    return windows.sum(axis=1).permute(1, 0, 2, 3) / const(counts, x.dtype)


def adaptive_avg_pool2d(x, output_size):
    """Mean pooling to a fixed output size; sizes must divide the input's (the common case, e.g. 1 for
    global average pooling)."""
    x = lift(x)
    oh, ow = _pair(output_size, "output_size", "adaptive_avg_pool2d")
    h, w = x.shape[2:]
    if h % oh or w % ow:
        raise ValueError(f"adaptive_avg_pool2d: output size {(oh, ow)} must divide the input size {(h, w)}")
    return x.reshape(x.shape[0], x.shape[1], oh, h // oh, ow, w // ow).mean(axis=(3, 5))
