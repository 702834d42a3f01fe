"""Normalisation layers as functions."""

import numpy as np

from ...ops._common import const
from ...ops import conv as _conv
from ._utils import _floating

__all__ = ["batch_norm"]


def _channel_axes(x, op):
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"{op}: expected an input of shape (N, C), (N, C, L) or (N, C, H, W), got {x.shape}")
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1) (Ioffe & Szegedy, ICML 2015).

    training: mean and (biased) var of the batch, and running_mean / running_var are updated in place:
    r = (1 - momentum) r + momentum * stat (var unbiased, as PyTorch). Otherwise the running stats are used.
    """
    x = _floating(x, "batch_norm")
    axes, shape = _channel_axes(x, "batch_norm")
    if x.ndim == 2:
        shape = None  # (C,) already broadcasts against (N, C)
    w = weight if weight is None or shape is None else weight.reshape(shape)
    b = bias if bias is None or shape is None else bias.reshape(shape)
    if training:
        if x.size // x.shape[1] < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input shape {x.shape}")
        return _conv.batch_norm(x, w, b, running_mean, running_var, axes, eps, momentum)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
    shape = shape or (1, x.shape[1])
    inv = const((1 / np.sqrt(running_var.data + eps)).reshape(shape), x.dtype)
    mean = const(running_mean.data.reshape(shape), x.dtype)
    scale = inv if w is None else w * inv                  # per channel: cheap
    shift = -mean * scale if b is None else b - mean * scale
    return x * scale + shift
