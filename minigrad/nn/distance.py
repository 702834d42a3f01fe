"""Distance layers: torch.nn's PairwiseDistance and CosineSimilarity (torch.nn.modules.distance), each calling its
mg.nn.functional function (see minigrad/nn/functional/distance.py for the formulas and gradients)."""
from . import functional as F
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p along the last dim: F.pairwise_distance(x1, x2, p, eps, keepdim). The norm degree is
    kept as `self.norm`, as PyTorch names it."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """sum_dim((x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps))): F.cosine_similarity(x1, x2, dim, eps)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
