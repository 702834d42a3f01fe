"""Lookups and encodings of integer inputs."""

import numpy as np

from ...tensor import Tensor

__all__ = ["one_hot"]


def one_hot(target, num_classes=-1):
    """Integer classes (any shape) -> int64 one-hot vectors along a new last axis."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices, got dtype {t.dtype}")
    n = int(t.max()) + 1 if num_classes < 0 else int(num_classes)
    if t.size and (t.min() < 0 or t.max() >= n):
        raise ValueError(f"one_hot: classes must lie in [0, {n - 1}], got values from {t.min()} to {t.max()}")
    return Tensor(np.eye(n, dtype=np.int64)[t])
