"""Reshaping, padding and resampling of images and sequences: flatten, pad, interpolate (upsample), pixel_shuffle
and pixel_unshuffle.

interpolate is separable: each spatial axis in turn goes through one op, `Resample`, that gives every output
position a few taps (input positions and weights: 1 for nearest, 2 for linear, 4 for cubic, a window for area)
computed once from the sizes by PyTorch's formulas. Its gradient is the same op with the adjoint's taps (for each
input position, the outputs that read it), so gradients of any order flow, every pass is a few np.take and
multiply-adds, and the cost is 2 FLOPs per tap, not that of a dense interpolation matrix.
"""
import builtins
import math

import numpy as np

from ... import ops
from ...autograd import Cost
from ...ops import xp
from ...ops._common import lift, normalize_dim
from ...ops.elementwise import Op
from ._utils import _floating

__all__ = ["flatten", "interpolate", "pad", "pixel_shuffle", "pixel_unshuffle", "upsample", "upsample_bilinear",
           "upsample_nearest"]


def flatten(x, start_dim=1, end_dim=-1):
    return ops.flatten(x, start_dim, end_dim)


# ---- pad --------------------------------------------------------------------------------------------------
class _PadError(ValueError, RuntimeError):
    """A bad pad: PyTorch raises RuntimeError, earlier minigrad ValueError; both catch it."""


class _PadModeError(ValueError, NotImplementedError):
    """An unknown mode: PyTorch raises NotImplementedError, earlier minigrad ValueError; both catch it."""


def _source(n, before, after, mode):
    """The input positions the padded axis reads, for numpy.pad's modes: reflect and replicate pad then crop (a
    negative amount crops), circular crops then wraps (as PyTorch)."""
    grow = (builtins.max(before, 0), builtins.max(after, 0))
    crop = slice(builtins.max(-before, 0), n - builtins.max(-after, 0))
    if mode == "wrap":
        kept = np.arange(n)[crop]
        if builtins.max(grow) > kept.size:
            raise _PadError(f"pad: circular padding {(before, after)} wraps around an axis of size {kept.size} more "
                            "than once")
        return np.pad(kept, grow, mode="wrap")
    padded = np.pad(np.arange(n), grow, mode=mode)
    return padded[crop.start:padded.size - (n - crop.stop)]


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # PyTorch's name -> numpy.pad's


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad the last len(pad)/2 axes, PyTorch's convention: pad = (last_before, last_after, second_last_before,
    second_last_after, ...). A negative amount crops that side. mode: 'constant' (with `value`, default 0),
    'reflect', 'replicate' or 'circular' (these take no value). The last three gather each padded axis from the
    positions numpy.pad gives an arange (reflect and replicate pad then crop, circular crops then wraps, as PyTorch),
    so their gradient is getitem's scatter-add (border gradients add into their sources). Unlike PyTorch, any number
    of trailing axes may be padded in every mode."""
    x = lift(input)
    if mode != "constant" and mode not in _PAD_MODES:
        raise _PadModeError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', not {mode!r}")
    if mode != "constant" and value not in (None, 0):
        raise RuntimeError(f"pad: padding mode {mode!r} takes no value argument (got value={value})")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise _PadError(f"pad: pad must have an even length (pairs of before and after), got {pad}")
    if len(pad) // 2 > x.ndim:
        raise _PadError(f"pad: pad has {len(pad)} entries, more than two per dimension of an input of shape {x.shape}")
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        axis = x.ndim - 1 - i
        before, after = pairs[axis] = (pad[2 * i], pad[2 * i + 1])
        if x.shape[axis] + before + after < 0:
            raise _PadError(f"pad: the size {x.shape[axis]} of dimension {axis}, plus the negative padding "
                            f"{(before, after)}, leaves a negative size; crop less")
    if mode == "constant":
        crop = tuple(slice(builtins.max(-b, 0), n - builtins.max(-a, 0)) for (b, a), n in zip(pairs, x.shape))
        if any(s != slice(0, n) for s, n in zip(crop, x.shape)):
            x = x[crop]
        grow = [(builtins.max(b, 0), builtins.max(a, 0)) for b, a in pairs]
        return ops.pad(x, grow, 0.0 if value is None else value) if any(b or a for b, a in grow) else x
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            if mode == "reflect" and builtins.max(before, after) >= x.shape[axis]:
                raise _PadError(f"pad: reflect padding ({before}, {after}) must be smaller than the size "
                                f"{x.shape[axis]} of axis {axis}")
            if mode == "replicate" and not x.shape[axis]:
                raise _PadError(f"pad: replicate padding needs a non-empty axis {axis}, got shape {x.shape}")
            x = x[(slice(None),) * axis + (_source(x.shape[axis], before, after, _PAD_MODES[mode]),)]
    return x


# ---- resampling ---------------------------------------------------------------------------------------------
def _along(weight, axis, ndim):
    """A column of tap weights shaped to broadcast along `axis` of an ndim-dimensional array."""
    return weight.reshape((-1,) + (1,) * (ndim - 1 - axis))


def _gather(x, axis, index, weight):
    """sum_k weight[:, k] x[.., index[:, k], ..] along axis (weight None: every tap weighs 1)."""
    out = np.take(x, index[:, 0], axis=axis)
    if weight is not None:
        out *= _along(weight[:, 0], axis, x.ndim)
    for k in range(1, index.shape[1]):
        term = np.take(x, index[:, k], axis=axis)
        out += term if weight is None else term * _along(weight[:, k], axis, x.ndim)
    return out


def _transposed(index, weight, size):
    """The adjoint's taps: for each of the `size` input positions, the outputs that read it and with which weights,
    padded with taps of weight 0 (weight None when every position is read equally often with weight 1)."""
    k = index.shape[1]
    order = np.argsort(index, axis=None, kind="stable")
    sources, readers = index.ravel()[order], order // k
    counts = np.bincount(sources, minlength=size)
    width = builtins.max(int(counts.max(initial=0)), 1)
    slot = np.arange(sources.size) - np.repeat(np.cumsum(counts) - counts, counts)
    t_index = np.zeros((size, width), np.int64)
    t_index[sources, slot] = readers
    if weight is None and np.all(counts == width):
        return t_index, None
    t_weight = np.zeros((size, width), np.float64 if weight is None else weight.dtype)
    t_weight[sources, slot] = 1 if weight is None else weight.ravel()[order]
    return t_index, t_weight


def _tap_cost(ctx, out, x, axis, taps, adjoint):
    """A multiply and an add per tap of each output; taps of weight 1 (nearest) only move data."""
    index, weight = taps
    return Cost(category="movement") if weight is None else Cost(flops=2 * index.shape[1] * out.size)


class Resample(Op):
    """y[.., o, ..] = sum_k w[o, k] x[.., i[o, k], ..] along one axis: interpolation, each output position o reading
    the taps (i[o, :], w[o, :]).   dx = Resample(g) with the adjoint's taps (for each input position, the outputs
    that read it and their weights), so the op is its own adjoint and gradients of any order flow."""

    @staticmethod
    def forward(ctx, x, axis, taps, adjoint):
        ctx.args = (axis, adjoint, taps)
        index, weight = taps
        return _gather(x.data, axis, index, None if weight is None else weight.astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        return xp.apply(Resample, g, *ctx.args)

    cost = staticmethod(_tap_cost)


def _scale(n_in, n_out, scale, dtype):
    """PyTorch's compute_scales_value: 1 / scale_factor when one was given (and not recomputed), else in / out,
    in `dtype`."""
    return dtype.type(1.0 / scale) if scale is not None and scale > 0 else dtype.type(n_in) / dtype.type(n_out)


def _nearest_taps(n_in, n_out, scale, exact):
    """PyTorch's nearest (floor(o * s), in float32; out = in and out = 2 in exactly) and nearest-exact (floor((o +
    0.5) s), as Pillow and scikit-image)."""
    o = np.arange(n_out)
    if exact:
        src = np.floor(((o + 0.5) * np.float64(_scale(n_in, n_out, scale, np.dtype(np.float32)))).astype(np.float32))
    elif n_out == 2 * n_in:
        src = o >> 1
    else:
        src = np.floor(o.astype(np.float32) * _scale(n_in, n_out, scale, np.dtype(np.float32)))
    return np.minimum(src.astype(np.int64), n_in - 1)[:, None], None


def _source_position(n_in, n_out, scale, align_corners, cubic, dtype):
    """PyTorch's area_pixel_compute_source_index, in the op's computing dtype: align_corners maps the corner pixels'
    centres onto each other (o (in - 1) / (out - 1)), otherwise (o + 0.5) s - 0.5, clamped at 0 unless cubic."""
    o = np.arange(n_out).astype(dtype)
    if align_corners:
        ratio = dtype.type(n_in - 1) / dtype.type(n_out - 1) if n_out > 1 else dtype.type(0)
    else:
        ratio = _scale(n_in, n_out, scale, dtype)
    if align_corners:
        return ratio * o
    src = ratio * (o + dtype.type(0.5)) - dtype.type(0.5)
    return src if cubic else np.maximum(src, dtype.type(0))


def _floor_and_fraction(src, n_in):
    """PyTorch's guard_index_and_lambda: i = min(floor(src), in - 1), t = clamp(src - i, 0, 1)."""
    i = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    return i, np.clip(src - i, 0, 1)


def _linear_taps(n_in, n_out, scale, align_corners, dtype):
    """Two taps: i and i + 1 (i itself at the last pixel), weights 1 - t and t."""
    i, t = _floor_and_fraction(_source_position(n_in, n_out, scale, align_corners, False, dtype), n_in)
    return np.stack([i, i + (i < n_in - 1)], axis=1), np.stack([1 - t, t], axis=1)


def _cubic_taps(n_in, n_out, scale, align_corners, dtype):
    """Four taps i - 1 .. i + 2, clamped to the border (PyTorch's upsample_get_value_bounded), weighted by Keys'
    cubic convolution kernel with A = -0.75 (PyTorch's, as OpenCV's; Keys 1981 has A = -0.5)."""
    i, t = _floor_and_fraction(_source_position(n_in, n_out, scale, align_corners, True, dtype), n_in)
    a = dtype.type(-0.75)

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    weight = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)
    index = np.clip(i[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return index, weight


def _area_taps(n_in, n_out, dtype):
    """Adaptive average pooling's windows [floor(o in / out), ceil((o + 1) in / out)), each tap 1 / its length; the
    shorter windows padded with taps of weight 0 at their last position."""
    o = np.arange(n_out)
    start, end = o * n_in // n_out, -((-(o + 1) * n_in) // n_out)
    k = np.arange(builtins.max((end - start).max(initial=1), 1))
    inside = start[:, None] + k < end[:, None]
    index = np.minimum(start[:, None] + k, end[:, None] - 1)
    return index, np.where(inside, 1 / (end - start)[:, None], 0).astype(dtype)


_SPATIAL = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _output_size(x, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes, scale factors passed on to the kernels) by PyTorch's rules."""
    dim = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise ValueError(f"interpolate: the input has {dim} spatial dimensions {list(x.shape[2:])} and the output "
                             f"size {size} has {len(sizes)}; give one size per spatial dimension of (N, C, d1, ...)")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise TypeError(f"interpolate: size must be an int or a tuple of ints, got {size!r}")
        return [int(s) for s in sizes], [None] * dim
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dim
    if len(scales) != dim:
        raise ValueError(f"interpolate: the input has {dim} spatial dimensions {list(x.shape[2:])} and scale_factor "
                         f"{scale_factor} has {len(scales)}; give one factor per spatial dimension")
    sizes = [math.floor(n * float(s)) for n, s in zip(x.shape[2:], scales)]
    if recompute_scale_factor or mode == "area":
        return sizes, [None] * dim
    return sizes, [float(s) for s in scales]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial axes of an (N, C, d1[, d2[, d3]]) input to `size`, or to floor(d * scale_factor), as
    torch.nn.functional.interpolate.

    mode: 'nearest' (PyTorch's: floor(o * in / out), as OpenCV), 'nearest-exact' (pixel centres: floor((o + 0.5) *
    in / out)), 'linear' (3-D input), 'bilinear' (4-D), 'bicubic' (4-D; Keys' kernel with A = -0.75, border pixels
    repeated, as PyTorch), 'trilinear' (5-D), 'area' (adaptive average pooling). align_corners (the interpolating
    modes only; default False) maps the centres of the corner pixels onto each other. A given scale_factor is used
    in the interpolation as given (1 / scale_factor), unless recompute_scale_factor=True recomputes it from the
    sizes. antialias is not supported."""
    x = _floating(input, "interpolate")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif mode in _SPATIAL:
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(f"interpolate: mode must be one of nearest, nearest-exact, linear, bilinear, "
                                  f"bicubic, trilinear, area; got {mode!r}")
    if not 3 <= x.ndim <= 5:
        raise NotImplementedError(f"interpolate: only 3-D, 4-D and 5-D inputs (N, C, *spatial) are supported, got "
                                  f"{x.ndim}-D")
    if mode in _SPATIAL and x.ndim - 2 != _SPATIAL[mode]:
        raise NotImplementedError(f"interpolate: got a {x.ndim}-D input, but {mode} mode needs a "
                                  f"{_SPATIAL[mode] + 2}-D input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    sizes, scales = _output_size(x, size, scale_factor, recompute_scale_factor, mode)
    if min(sizes) <= 0 or min(x.shape[2:]) <= 0:
        raise RuntimeError(f"interpolate: input and output sizes should be greater than 0, but got input "
                           f"{list(x.shape[2:])} and output {sizes}")
    dtype = np.dtype(np.float32) if x.data.dtype == np.float16 else x.data.dtype
    y = x
    for axis, (n_in, n_out, scale) in enumerate(zip(x.shape[2:], sizes, scales), start=2):
        if n_out == n_in and (mode in ("linear", "bilinear", "trilinear", "area") or mode == "nearest" and x.ndim == 4):
            continue  # a copy, whatever the scale factor (PyTorch's special cases; its 1-D and 3-D nearest have none)
        if mode in ("nearest", "nearest-exact"):
            taps = _nearest_taps(n_in, n_out, scale, mode == "nearest-exact")
        elif mode == "area":
            taps = _area_taps(n_in, n_out, dtype)
        elif mode == "bicubic":
            taps = _cubic_taps(n_in, n_out, scale, align_corners, dtype)
        else:
            taps = _linear_taps(n_in, n_out, scale, align_corners, dtype)
        y = Resample.apply(y, axis, taps, _transposed(*taps, n_in))
    return y if y is not x else x.clone()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """interpolate (PyTorch's deprecated name)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """interpolate with mode='nearest' (PyTorch's deprecated name)."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """interpolate with mode='bilinear' and align_corners=True (PyTorch's deprecated name)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle ------------------------------------------------------------------------------------------
def _factor(factor, op, what):
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool) or factor <= 0:
        raise RuntimeError(f"{op} expects a positive {what}, but got {factor}")
    return int(factor)


def pixel_shuffle(input, upscale_factor):  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r): channel c r^2 + i r + j goes to pixel (h r + i, w r + j) of channel c
    (Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional
    Neural Network", CVPR 2016). A reshape and a permute: its gradient is their inverse."""
    x = lift(input)
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {x.ndim} "
                           "dimension(s)")
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w).permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):  # noqa: A002
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle."""
    x = lift(input)
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {x.ndim} "
                           "dimension(s)")
    *lead, c, h, w = x.shape
    for name, n, d in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({d})={n} is not divisible by {r}")
    k = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r).permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


def unflatten(input, dim, sizes):  # noqa: A002
    """dim of input split into `sizes` (one entry may be -1), as torch.unflatten."""
    x = lift(input)
    d = normalize_dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[d]) or (-1 in sizes and (not known or
                                                                                              x.shape[d] % known)):
        raise RuntimeError(f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                           f"({x.shape[d]}) in the input tensor")
    return x.reshape(*x.shape[:d], *sizes, *x.shape[d + 1:])
