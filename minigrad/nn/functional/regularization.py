"""Dropout."""

import numpy as np

from ...ops._common import const, lift
from ...ops.inplace import update
from ...tensor import default_rng

__all__ = ["dropout"]


def dropout(input, p=0.5, training=True, inplace=False, *, rng=None):  # noqa: A002 (PyTorch's name)
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (Srivastava et al., JMLR 2014);
    identity when not training. inplace=True writes the result into input and returns it (as PyTorch). The mask comes
    from `rng` (keyword only: PyTorch's fourth argument is inplace) or the generator seeded by mg.manual_seed."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not isinstance(inplace, bool):
        raise TypeError(f"dropout: inplace must be a bool, got {type(inplace).__name__}; pass the generator as rng=")
    x = lift(input)
    if not training or p == 0:
        return x
    if inplace:
        return update(x, "dropout_", lambda t: dropout(t, p, training, rng=rng), ())
    if p == 1:
        return x * const(np.zeros(x.shape), x.dtype)
    # task 4.2: dropout
    keep = (rng or default_rng()).random(x.shape) >= p
    return x * const(np.multiply(keep, 1 / (1 - p), dtype=x.dtype), x.dtype)
    # end task
