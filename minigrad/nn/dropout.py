"""Dropout layers."""


from . import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability p while training (scaling the rest by 1/(1-p)); identity in eval.
    The mask comes from `rng` (a numpy Generator) or from the generator seeded by mg.manual_seed."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.rng = p, rng

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"
