"""Resampling layers: Upsample, PixelShuffle, PixelUnshuffle, Unfold, Fold."""
from . import functional as F  # noqa: F401
from .module import Module  # noqa: F401

__all__ = []
