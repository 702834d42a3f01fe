"""Convolutions over 1, 2 and 3 spatial dims and their transposes, from one N-d implementation, and the sliding
local blocks (F.unfold / F.fold).

A convolution is the op `conv` (minigrad.ops.conv): im2col's columns (the unfold op; a reshape for a 1x1 kernel)
times the weight, one matmul with the groups as a batch axis (no Python loop over groups), or tap by tap for a
depthwise conv. Its gradients are the two other bilinear ops of the family, `conv_transpose` (in the input) and
`conv_weight` (in the weight), so every gradient order is exact and the tracer counts each one's MACs, the
numbers torch.utils.flop_counter gives. A transposed convolution is `conv_transpose` itself. The bias is added
apart (an elementwise op, counted as such). float16 computes in float32 (as PyTorch's CPU kernels accumulate)
and rounds the result once.
"""
import math

import numpy as np

from ...ops import conv as _conv
from ...ops._common import lift
from ...ops.conv import check_fits, ntuple, window

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
           "fold"]


def _operands(op, nd, x, weight, bias):
    """(x with a batch axis, weight, bias, whether x had one), checked as PyTorch checks them."""
    x, weight = lift(x), lift(weight)
    bias = None if bias is None else lift(bias)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got shape "
                           f"{tuple(x.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, *kernel_size), got "
                           f"shape {tuple(weight.shape)}")
    if x.dtype == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as PyTorch); convert first, e.g. x.float()")
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        dtypes = ", ".join(str(t.dtype) for t in (x, weight, bias) if t is not None)
        raise RuntimeError(f"{op}: input, weight and bias must share one dtype, got {dtypes}; convert them first, "
                           "e.g. weight.to(input.dtype)")
    batched = x.ndim == nd + 2
    return (x if batched else x.unsqueeze(0)), weight, bias, batched


def _check_groups(op, groups, channels, per_group, weight, transposed=False):
    """PyTorch's checks that `channels` input channels, the weight and `groups` fit."""
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    if transposed and channels != weight.shape[0]:
        raise RuntimeError(f"{op}: weight of size {tuple(weight.shape)} (in_channels, out_channels/groups, *kernel) "
                           f"expects an input with {weight.shape[0]} channels, but got {channels} channels")
    if weight.shape[0] % groups:
        raise RuntimeError(f"{op}: given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {tuple(weight.shape)}")
    if not transposed and channels != per_group * groups:
        raise RuntimeError(f"{op}: given groups={groups} and weight of size {tuple(weight.shape)}, expected an input "
                           f"with {per_group * groups} channels (groups * weight.shape[1]), but got {channels} "
                           "channels")


def _check_bias(op, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise RuntimeError(f"{op}: expected bias to be 1-D with {channels} elements (one per output channel), but "
                           f"got bias of shape {tuple(bias.shape)}")


def _resolve_padding(op, padding, kernel, stride, dilation):
    """'valid' is 0; 'same' pads d (k - 1) per dim, the odd cell after (stride 1 only, as PyTorch)."""
    if not isinstance(padding, str):
        return padding
    if padding == "valid":
        return 0
    if padding == "same":
        if any(s != 1 for s in ntuple(stride, len(kernel), "stride", op)):
            raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
        totals = (d * (k - 1) for d, k in zip(ntuple(dilation, len(kernel), "dilation", op), kernel))
        return tuple((t // 2, t - t // 2) for t in totals)
    raise RuntimeError(f"{op}: invalid padding string {padding!r}; use an int, a tuple, 'valid' or 'same'")


def _with_bias(y, bias):
    return y if bias is None else y + bias.reshape((1, -1) + (1,) * (y.ndim - 2))


def _in_float32(fn, x, weight, bias):
    """fn(x, weight, bias), computed in float32 when x is float16 (rounded back once)."""
    if x.dtype != np.float16:
        return fn(x, weight, bias)
    widen = [None if t is None else t.astype(np.float32) for t in (x, weight, bias)]
    return fn(*widen).astype(np.float16)


def _convolution(op, nd, input, weight, bias, stride, padding, dilation, groups, pad_value):  # noqa: A002
    x, weight, bias, batched = _operands(op, nd, input, weight, bias)
    _check_groups(op, groups, x.shape[1], weight.shape[1], weight)
    _check_bias(op, bias, weight.shape[0])
    kernel = tuple(weight.shape[2:])
    win = window(op, kernel, stride, _resolve_padding(op, padding, kernel, stride, dilation), dilation)
    check_fits(op, x.shape[2:], win)
    y = _in_float32(lambda x, w, b: _with_bias(_conv.conv(x, w, win, groups, pad_value), b), x, weight, bias)
    return y if batched else y.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, pad_value=0.0):  # noqa: A002
    """1-D cross-correlation, as torch.nn.functional.conv1d: input (N, C, L) or (C, L), weight (O, C/groups, K).
    padding: an int, 'valid', 'same', or minigrad's (before, after) pair; pad_value as conv2d's."""
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups, pad_value)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, pad_value=0.0):  # noqa: A002
    """2-D cross-correlation, as torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W), weight
    (O, C/groups, KH, KW). padding: an int, a pair, 'valid', 'same', or minigrad's ((top, bottom), (left, right)).
    pad_value (minigrad's addition) is the value the padding holds: larq's pad_values, so a binary conv padded with
    1 keeps both matmul operands +-1."""
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups, pad_value)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, pad_value=0.0):  # noqa: A002
    """3-D cross-correlation, as torch.nn.functional.conv3d: input (N, C, D, H, W) or (C, D, H, W), weight
    (O, C/groups, KD, KH, KW); padding and pad_value as conv2d's."""
    return _convolution("conv3d", 3, input, weight, bias, stride, padding, dilation, groups, pad_value)


def transposed_size(op, sizes, win, output_padding):
    """PyTorch's output size of a transposed convolution: (i - 1) s - 2 p + d (k - 1) + 1 + output_padding."""
    extra = ntuple(output_padding, len(sizes), "output_padding", op)
    for e, s, d in zip(extra, win.stride, win.dilation):
        if not 0 <= e < max(s, d):
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or dilation, but got "
                               f"output_padding={extra}, stride={win.stride}, dilation={win.dilation}")
    out = tuple((i - 1) * s - lo - hi + span + e
                for i, s, (lo, hi), span, e in zip(sizes, win.stride, win.pads, win.spans(), extra))
    if min(out, default=1) < 1:
        raise RuntimeError(f"{op}: given input size per channel {tuple(sizes)}, the calculated output size per "
                           f"channel {out} is too small")
    return out


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):  # noqa: A002
    x, weight, bias, batched = _operands(op, nd, input, weight, bias)
    _check_groups(op, groups, x.shape[1], weight.shape[1], weight, transposed=True)
    _check_bias(op, bias, weight.shape[1] * groups)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, not {padding!r} (PyTorch's transposed "
                        "convolutions take no 'same' or 'valid')")
    win = window(op, tuple(weight.shape[2:]), stride, ntuple(padding, nd, "padding", op), dilation)
    sizes = transposed_size(op, x.shape[2:], win, output_padding)
    y = _in_float32(lambda x, w, b: _with_bias(_conv.conv_transpose(x, w, win, sizes, groups), b), x, weight, bias)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """1-D transposed convolution (the gradient of conv1d in its input), as torch.nn.functional.conv_transpose1d:
    input (N, C_in, L) or (C_in, L), weight (C_in, C_out/groups, K)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """2-D transposed convolution, as torch.nn.functional.conv_transpose2d: input (N, C_in, H, W) or
    (C_in, H, W), weight (C_in, C_out/groups, KH, KW); output size (i - 1) s - 2 p + d (k - 1) + 1 + output_padding."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """3-D transposed convolution, as torch.nn.functional.conv_transpose3d: weight (C_in, C_out/groups, KD, KH, KW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def _blocks_input(op, x, ndim):
    x = lift(x)
    if x.ndim not in (ndim - 1, ndim):
        raise RuntimeError(f"{op}: expected a {ndim - 1}-D (unbatched) or {ndim}-D (batched) input, got shape "
                           f"{tuple(x.shape)}")
    return (x if x.ndim == ndim else x.unsqueeze(0)), x.ndim == ndim


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sliding local blocks, as torch.nn.functional.unfold: (N, C, H, W) -> (N, C*KH*KW, L), L = OH*OW (or the
    unbatched (C, H, W) -> (C*KH*KW, L))."""
    x, batched = _blocks_input("unfold", input, 4)
    win = window("unfold", kernel_size, stride, padding, dilation, n=2)
    check_fits("unfold", x.shape[2:], win)
    cols = _conv.unfold(x, win)
    return cols if batched else cols.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """Sum sliding local blocks back into an image, as torch.nn.functional.fold (the adjoint of unfold):
    (N, C*KH*KW, L) -> (N, C, *output_size), or the unbatched (C*KH*KW, L) -> (C, *output_size)."""
    x, batched = _blocks_input("fold", input, 3)
    win = window("fold", kernel_size, stride, padding, dilation, n=2)
    size = ntuple(output_size, 2, "output_size", "fold")
    k = math.prod(win.kernel)
    if x.shape[1] % k:
        raise RuntimeError(f"fold: expected an input of shape (N, C*{'*'.join(map(str, win.kernel))}, L): its dim 1 "
                           f"({x.shape[1]}) must be divisible by the product of kernel_size {win.kernel}")
    blocks = win.blocks(size)
    if min(blocks) < 1 or x.shape[2] != math.prod(blocks):
        counts = " * ".join(map(str, blocks))
        raise RuntimeError(f"fold: output_size={size}, kernel_size={win.kernel}, dilation={win.dilation}, padding="
                           f"{tuple(lo for lo, _ in win.pads)} and stride={win.stride} make {counts} sliding blocks, "
                           f"but the input has {x.shape[2]} (its last dim)")
    y = _conv.fold(x, (x.shape[0], x.shape[1] // k) + size, win)
    return y if batched else y.squeeze(0)
