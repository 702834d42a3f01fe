"""`mg.linalg`: PyTorch's torch.linalg names for norms and singular values (the ops live in minigrad.ops.norms).

    mg.linalg.vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None)
    mg.linalg.matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None)
    mg.linalg.norm(A, ord=None, dim=None, keepdim=False, *, dtype=None)
    mg.linalg.svdvals(A)
"""
from .ops.norms import linalg_norm as norm
from .ops.norms import matrix_norm, svdvals, vector_norm

__all__ = ["matrix_norm", "norm", "svdvals", "vector_norm"]
