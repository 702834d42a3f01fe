"""Dropout layers."""


from . import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability p while training (scaling the rest by 1/(1-p)); identity in eval.
    inplace=True overwrites the input (as PyTorch). The mask comes from `rng` (a numpy Generator, keyword only:
    PyTorch's second argument is inplace) or from the generator seeded by mg.manual_seed."""

    def __init__(self, p=0.5, inplace=False, *, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        if not isinstance(inplace, bool):
            raise TypeError(f"Dropout: inplace must be a bool, got {type(inplace).__name__}; pass the generator as "
                            "rng=")
        self.p, self.inplace, self.rng = p, inplace, rng

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace, rng=self.rng)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
