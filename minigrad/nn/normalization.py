"""Normalisation layers."""

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """Batch normalisation over channel axis 1 (Ioffe & Szegedy 2015), as PyTorch's BatchNorm.

    Training: normalise with the batch's mean and biased variance, and update running_mean / running_var
    (r = (1 - momentum) r + momentum * stat; momentum=None: cumulative average). Eval: use the running stats.
    affine: learnable per-channel weight (1) and bias (0)."""
    dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=np.float32):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            self.bias = Parameter(np.zeros(num_features, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def _check(self, x):
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            want = " or ".join(f"{d}-D" for d in self.dims)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected a {want} input with "
                             f"{self.num_features} channels on axis 1, got shape {tuple(x.shape)}")

    def forward(self, x):
        self._check(x)
        w, b, eps = self.weight, self.bias, self.eps
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            momentum = 1.0 / int(self.num_batches_tracked.data) if self.momentum is None else self.momentum
            return F.batch_norm(x, self.running_mean, self.running_var, w, b, True, momentum, eps)
        if self.training or not self.track_running_stats:
            return F.batch_norm(x, None, None, w, b, training=True, eps=eps)
        return F.batch_norm(x, self.running_mean, self.running_var, w, b, training=False, eps=eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs."""
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) inputs, per channel."""
    dims = (4,)
