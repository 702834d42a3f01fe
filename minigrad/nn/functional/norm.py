"""Normalisation layers as functions: batch, layer, group, instance, RMS, L_p and local response normalisation.

Layer, group, instance and RMS norm are one op, `Standardize`: standardise x over some axes, then scale and
shift by parameters that broadcast against x,

    xhat = (x - mean) / sqrt(var + eps)     (var biased; centre=False, RMS norm: xhat = x / sqrt(mean(x^2) + eps))
    y = xhat w + b
    dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat)),  dxhat = g w,  inv = 1 / sqrt(var + eps)
         (without the mean(dxhat) term when not centred)
    dw = sum(g xhat), db = sum(g)   (summed over the axes w and b broadcast along)

One op rather than a composition of mean, sub, var, sqrt, div, mul and add: the composition keeps a dozen
temporaries of x's size and runs a dozen ops both ways, the op keeps xhat and inv and runs the closed form.
The layers differ only in which axes they standardise and how the parameters broadcast (group norm views
(N, C, ...) as (N, G, C/G, ...)), so each is a few lines around the one op. Batch norm keeps ops/conv.py's op
(it also updates the running statistics); F.normalize (linalg's vector norm) and local_response_norm (a windowed
sum) are compositions of existing ops, cheap and exact.
"""
import math

import numpy as np

from ...autograd import Cost, no_grad
from ...dtypes import compute_dtype
from ...ops import conv as _conv
from ...ops import xp
from ...ops._common import const, meta, normalize_dim, unbroadcast
from ...ops.norms import vector_norm
from ...ops.elementwise import Op
from ._utils import _floating

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "local_response_norm", "normalize", "rms_norm"]


def _standardized(x, axes, eps, centre):
    """(xhat, inv) of x over axes. The same steps on arrays (forward) and on Tensors (the create_graph rule), so
    both executions of the rule see the same bits."""
    n = math.prod(x.shape[a] for a in axes)
    if centre:
        x = x - x.sum(axis=axes, keepdims=True) / n
    inv = 1.0 / xp.sqrt((x * x).sum(axis=axes, keepdims=True) / n + eps)
    return x * inv, inv


class Standardize(Op):
    """y = xhat w + b, xhat = (x - mean) / sqrt(var + eps) over `axes` (centre=False: x / sqrt(mean(x^2) + eps)).
    dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) with dxhat = g w,  dw = sum(g xhat),  db = sum(g)."""
    name = "standardize"

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, centre):
        with np.errstate(divide="ignore", invalid="ignore"):  # an empty normalised shape gives nan, as PyTorch
            xhat, inv = _standardized(x.data, axes, eps, centre)
        ctx.xhat, ctx.inv, ctx.axes, ctx.eps, ctx.centre = xhat, inv, axes, eps, centre
        ctx.like = tuple(None if p is None else meta(p) for p in (weight, bias))
        ctx.save_for_backward(x, weight)
        out = xhat if weight is None else xhat * weight.data
        return out if bias is None else out + bias.data

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        axes = ctx.axes
        xhat, inv = _standardized(x, axes, ctx.eps, ctx.centre) if xp.is_tensor(g) else (ctx.xhat, ctx.inv)
        dx = None
        if need_x:
            n = math.prod(x.shape[a] for a in axes)
            dxhat = g if weight is None else g * weight
            dx = dxhat - xhat * ((dxhat * xhat).sum(axis=axes, keepdims=True) / n)
            if ctx.centre:
                dx = dx - dxhat.sum(axis=axes, keepdims=True) / n
            dx = dx * inv
        dw = unbroadcast(g * xhat, ctx.like[0]) if need_w else None
        db = unbroadcast(g, ctx.like[1]) if need_b else None
        return dx, dw, db

    @staticmethod
    def cost(ctx, out, x, weight, bias, *args):
        """Per element: mean, centre, square, sum, scale (5 FLOPs; 4 without centring), 1 each for w and b."""
        return Cost(flops=x.size * (4 + args[2] + (weight is not None) + (bias is not None)))


# the same op under each layer's name, so that traces, graphs and backward_rules(layer_norm=...) can tell them apart
class LayerNorm(Standardize):
    """Standardize over the trailing normalized_shape axes."""
    name = "layer_norm"


class GroupNorm(Standardize):
    """Standardize over each group of channels and the spatial axes, x viewed as (N, G, C/G, *spatial)."""
    name = "group_norm"


class InstanceNorm(Standardize):
    """Standardize over the spatial axes of each channel of each sample."""
    name = "instance_norm"


class RMSNorm(Standardize):
    """Standardize without centring (centre=False) over the trailing normalized_shape axes."""
    name = "rms_norm"


def _standardize(op, x, weight, bias, axes, eps, centre=True):
    """op applied to x; float16 computes in float32 and rounds once (as PyTorch's CPU kernels)."""
    half = x.data.dtype == np.float16
    if half:
        x, weight, bias = (None if t is None else t.astype(np.float32) for t in (x, weight, bias))
    y = op.apply(x, weight, bias, tuple(axes), float(eps), centre)
    return y.astype(np.float16) if half else y


def _same_dtype(op, x, *params):
    """PyTorch's kernels refuse parameters of another dtype than the input (a float16 input may have float32
    ones)."""
    for p in params:
        if p is not None and p.data.dtype != x.data.dtype and not (x.data.dtype == np.float16
                                                                   and p.data.dtype == np.float32):
            raise RuntimeError(f"{op}: mixed dtypes: the input is {x.data.dtype} and a parameter {p.data.dtype}; give "
                               f"them one dtype, e.g. weight.astype('{x.data.dtype}')")


def _shape_tuple(op, normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        return (int(normalized_shape),)
    try:
        return tuple(int(n) for n in normalized_shape)
    except TypeError:
        raise TypeError(f"{op}: normalized_shape must be an int or a tuple of ints, got "
                        f"{type(normalized_shape).__name__}") from None


def _trailing_axes(op, x, normalized_shape, weight, bias):
    """The last len(normalized_shape) axes, after checking that x ends with normalized_shape and the parameters have
    exactly that shape (PyTorch's messages)."""
    shape = _shape_tuple(op, normalized_shape)
    k = len(shape)
    if not k or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise RuntimeError(f"{op}: given normalized_shape={list(shape)}, expected an input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got an input of size {list(x.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"{op}: expected {name} to be of the same shape as normalized_shape, but got {name} of "
                               f"shape {list(p.shape)} and normalized_shape = {list(shape)}")
    return tuple(range(x.ndim - k, x.ndim))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Standardise over the last len(normalized_shape) axes (mean and biased variance of each sample), then
    * weight + bias (both of shape normalized_shape): Ba, Kiros & Hinton, "Layer Normalization", 2016."""
    x = _floating(input, "layer_norm")
    axes = _trailing_axes("layer_norm", x, normalized_shape, weight, bias)
    _same_dtype("layer_norm", x, weight, bias)
    return _standardize(LayerNorm, x, weight, bias, axes, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):  # noqa: A002
    """x / sqrt(mean(x^2) + eps) over the last len(normalized_shape) axes, * weight (no centring, no bias): Zhang &
    Sennrich, "Root Mean Square Layer Normalization", NeurIPS 2019. eps=None means PyTorch's default, the machine
    epsilon of the dtype the norm computes in (float32's for float16 and float32 inputs). The result has the
    input's dtype (weight is cast to it)."""
    x = _floating(input, "rms_norm")
    axes = _trailing_axes("rms_norm", x, normalized_shape, weight, None)
    if weight is not None and weight.data.dtype != x.data.dtype:
        weight = weight.astype(x.data.dtype)
    eps = float(np.finfo(compute_dtype(x.data.dtype)).eps) if eps is None else eps
    return _standardize(RMSNorm, x, weight, None, axes, eps, centre=False)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Split the C channels of x (N, C, *) into num_groups groups and standardise each group of each sample, then
    * weight + bias per channel (shape (C,)): Wu & He, "Group Normalization", ECCV 2018."""
    x = _floating(input, "group_norm")
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected at least 2 dimensions for the input tensor but received {x.ndim}")
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    g = int(num_groups)
    if g < 1 or c % g:
        raise RuntimeError(f"group_norm: expected the number of channels in the input to be divisible by num_groups, "
                           f"but got an input of shape {list(x.shape)} and num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"group_norm: expected {name} to be a vector of size equal to the number of channels in "
                               f"the input, but got {name} of shape {list(p.shape)} and input of shape {list(x.shape)}")
    _same_dtype("group_norm", x, weight, bias)
    grouped = (g, c // g) + (1,) * len(spatial)
    params = [None if p is None else p.reshape(grouped) for p in (weight, bias)]
    y = _standardize(GroupNorm, x.reshape((n,) + grouped[:2] + spatial), *params, range(2, 3 + len(spatial)), eps)
    return y.reshape(x.shape)


def _verify_spatial_size(x, op):
    if x.ndim < 3 or math.prod(x.shape[2:]) == 1:
        raise ValueError(f"{op}: expected more than 1 spatial element when training, got an input of size "
                         f"{tuple(x.shape)} (N, C, *spatial)")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,  # noqa: A002
                  momentum=0.1, eps=1e-5):
    """Standardise each channel of each sample of x (N, C, *spatial) over its spatial axes, then * weight + bias per
    channel: Ulyanov, Vedaldi & Lempitsky, "Instance Normalization", 2016.

    With use_input_stats and running stats given, they are updated in place as PyTorch does: r = (1 - momentum) r +
    momentum * (the per-sample statistic averaged over the batch), the variance unbiased. use_input_stats=False
    normalises with the running statistics instead (batch norm in evaluation)."""
    x = _floating(input, "instance_norm")
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    _verify_spatial_size(x, "instance_norm")
    c, spatial = x.shape[1], x.shape[2:]
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if p is not None and p.size != c:
            raise RuntimeError(f"instance_norm: {name} should contain {c} elements (one per channel), not {p.size}")
    _same_dtype("instance_norm", x, weight, bias)
    axes = tuple(range(2, x.ndim))
    if (running_mean is not None or running_var is not None) and x.shape[0]:
        _update_running_stats(x, running_mean, running_var, axes, momentum)
    per_channel = (c,) + (1,) * len(spatial)
    params = [None if p is None else p.reshape(per_channel) for p in (weight, bias)]
    return _standardize(InstanceNorm, x, *params, axes, eps)


def _update_running_stats(x, running_mean, running_var, axes, momentum):
    """r = (1 - momentum) r + momentum * mean over the batch of each sample's statistic (variance unbiased)."""
    data = x.data.astype(compute_dtype(x.data.dtype), copy=False)
    for stat, ddof in ((running_mean, None), (running_var, 1)):
        if stat is not None:
            with no_grad(), np.errstate(divide="ignore", invalid="ignore"):
                value = data.mean(axis=axes) if ddof is None else data.var(axis=axes, ddof=ddof)
                stat.data *= 1 - momentum
                stat.data += (momentum * value.mean(axis=0)).astype(stat.data.dtype, copy=False)
            stat._version[0] += 1


def _channel_axes(x, op):
    if x.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, *), got {x.shape}")
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1) (Ioffe & Szegedy, ICML 2015).

    training: mean and (biased) var of the batch, and running_mean / running_var are updated in place:
    r = (1 - momentum) r + momentum * stat (var unbiased, as PyTorch). Otherwise the running stats are used.
    """
    x = _floating(input, "batch_norm")
    _same_dtype("batch_norm", x, running_mean, running_var, weight, bias)
    axes, shape = _channel_axes(x, "batch_norm")
    if x.ndim == 2:
        shape = None  # (C,) already broadcasts against (N, C)
    w = weight if weight is None or shape is None else weight.reshape(shape)
    b = bias if bias is None or shape is None else bias.reshape(shape)
    if training:
        if x.size // x.shape[1] < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input shape {x.shape}")
        y = _conv.batch_norm(x, w, b, running_mean, running_var, axes, eps, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
        shape = shape or (1, x.shape[1])
        inv = const((1 / np.sqrt(running_var.data + eps)).reshape(shape), x.dtype)
        mean = const(running_mean.data.reshape(shape), x.dtype)
        scale = inv if w is None else w * inv                  # per channel: cheap
        shift = -mean * scale if b is None else b - mean * scale
        y = x * scale + shift
    return y if y.dtype == x.dtype else y.astype(x.dtype)  # a float16 input with float32 parameters stays float16


def normalize(input, p=2.0, dim=1, eps=1e-12):  # noqa: A002
    """x / max(||x||_p, eps) along dim (torch.nn.functional.normalize): each slice scaled to unit L_p norm. The norm
    is linalg.vector_norm, whose gradient is PyTorch's (0 at a zero vector, so a zero slice gets g / eps)."""
    x = _floating(input, "normalize")
    d = normalize_dim(dim, x.ndim, "normalize")
    return x / vector_norm(x, float(p), d, keepdim=True).clamp(min=eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):  # noqa: A002
    """x / (k + alpha / size * sum of x^2 over `size` neighbouring channels)^beta (Krizhevsky et al., "ImageNet
    Classification with Deep Convolutional Neural Networks", NIPS 2012), channels on axis 1, the window zero-padded
    by size // 2 before and (size - 1) // 2 after (as PyTorch)."""
    x = _floating(input, "local_response_norm")
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected a 3-D or higher input (N, C, *), got {x.ndim} dimensions")
    if x.size == 0:
        return x
    c = x.shape[1]
    padded = (x * x).pad(((0, 0), (size // 2, (size - 1) // 2)) + ((0, 0),) * (x.ndim - 2))
    window = padded[:, 0:c]
    for i in range(1, size):  # a loop over the window's offsets, each a slab of the whole tensor
        window = window + padded[:, i:i + c]
    return x / (window * (alpha / size) + k) ** beta
