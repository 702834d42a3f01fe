"""Normalisation layers, as PyTorch's (names, constructor arguments, initialisation, repr): BatchNorm1d/2d/3d,
InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm. The arithmetic is in nn.functional.norm.

Affine parameters start as PyTorch's: weight 1, bias 0. `dtype` is the parameters' and buffers' dtype (float32).
"""
import warnings

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .functional._utils import ShapeError
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d", "LayerNorm", "LocalResponseNorm", "RMSNorm"]


def _affine(module, shape, dtype, weight=True, bias=True):
    """Register `weight` (ones) and `bias` (zeros) of `shape`, or None for those not wanted."""
    module.register_parameter("weight", Parameter(np.ones(shape, dtype)) if weight else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, dtype)) if weight and bias else None)


class _NormBase(Module):
    """What batch and instance norm share: per-channel affine parameters and, when tracked, running statistics
    (running_mean 0, running_var 1, num_batches_tracked 0). A state dict without num_batches_tracked (an older
    checkpoint, or one converted from elsewhere) loads, keeping the count, as PyTorch's."""
    dims = ()
    _optional_state = ("num_batches_tracked",)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=np.float32,
                 *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine(self, self.num_features, dtype, affine, bias)
        stats = track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)) if stats else None)
        self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)) if stats else None)
        self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)) if stats else None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            if self.bias is not None:
                self.bias.data[...] = 0

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalisation over channel axis 1 (Ioffe & Szegedy 2015), as PyTorch's BatchNorm.

    Training: normalise with the batch's mean and biased variance, and update running_mean / running_var
    (r = (1 - momentum) r + momentum * stat, the variance unbiased; momentum=None: the cumulative average
    1 / num_batches_tracked). Eval: use the running stats; with track_running_stats=False, batch statistics
    always. affine: learnable per-channel weight (1) and bias (0)."""

    def _check(self, x):
        """A wrong number of dims is PyTorch's ValueError, a wrong number of channels its RuntimeError."""
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            want = " or ".join(f"{d}-D" for d in self.dims)
            error = ValueError if x.ndim not in self.dims else ShapeError
            raise error(f"{type(self).__name__}({self.num_features}): expected a {want} input with "
                        f"{self.num_features} channels on axis 1, got shape {tuple(x.shape)}")

    def forward(self, x):
        self._check(x)
        w, b, eps = self.weight, self.bias, self.eps
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            momentum = 1.0 / int(self.num_batches_tracked.data) if self.momentum is None else self.momentum
            return F.batch_norm(x, self.running_mean, self.running_var, w, b, True, momentum, eps)
        if self.training or self.running_mean is None:
            return F.batch_norm(x, None, None, w, b, training=True, eps=eps)
        return F.batch_norm(x, self.running_mean, self.running_var, w, b, training=False, eps=eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs."""
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs, per channel."""
    dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm of (N, C, D, H, W) inputs, per channel."""
    dims = (5,)


class _InstanceNorm(_NormBase):
    """Instance normalisation (Ulyanov et al. 2016), as PyTorch's InstanceNorm: each channel of each sample
    standardised over its spatial axes. Defaults differ from batch norm: affine=False, track_running_stats=False.
    With running stats tracked, training updates them (momentum=None means no update, as PyTorch) and eval mode
    normalises with them. An input without the batch axis is accepted (as PyTorch)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 dtype=np.float32, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias=bias)

    def forward(self, x):
        unbatched = self.dims[0]
        if x.ndim not in self.dims:
            raise ValueError(f"{type(self).__name__}: expected {unbatched}D or {unbatched + 1}D input "
                             f"(got {x.ndim}D input)")
        channels = x.shape[x.ndim - unbatched]
        if channels != self.num_features:
            message = (f"{type(self).__name__}({self.num_features}): expected input's size at dim="
                       f"{x.ndim - unbatched} to match num_features ({self.num_features}), but got: {channels}")
            if self.affine:
                raise ValueError(message)
            warnings.warn(message + "; num_features is not used because affine=False", stacklevel=2)
        batched = x.unsqueeze(0) if x.ndim == unbatched else x
        y = F.instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return y.squeeze(0) if x.ndim == unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or (C, L) inputs."""
    dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or (C, H, W) inputs."""
    dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or (C, D, H, W) inputs."""
    dims = (4, 5)


def _normalized_shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)


class LayerNorm(Module):
    """Layer normalisation (Ba et al. 2016) over the last len(normalized_shape) axes, as PyTorch's LayerNorm:
    elementwise_affine adds weight (1) and, with bias=True, bias (0), both of shape normalized_shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float32):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine(self, self.normalized_shape, dtype, elementwise_affine, bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation (Zhang & Sennrich 2019) over the last len(normalized_shape) axes, as
    PyTorch's RMSNorm: x / sqrt(mean(x^2) + eps) * weight (1). eps=None: the machine epsilon of the input's
    (computing) dtype."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=np.float32):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine(self, self.normalized_shape, dtype, elementwise_affine, bias=False)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalisation (Wu & He 2018), as PyTorch's GroupNorm: the num_channels channels of an (N, C, *) input
    split into num_groups groups, each standardised per sample; affine adds per-channel weight (1) and bias (0)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = int(num_groups), int(num_channels), eps, affine
        _affine(self, self.num_channels, dtype, affine, bias)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Local response normalisation across channels (Krizhevsky et al. 2012), as PyTorch's LocalResponseNorm."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
