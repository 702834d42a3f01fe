"""Distance functions: torch.nn.functional's cosine_similarity and pairwise_distance (PyTorch's formulas, where eps
enters, broadcasting, result dtypes and errors). Both are compositions of minigrad ops, so their gradients of any
order are those of the ops: the same as PyTorch's, including at zero vectors (the 2-norm's gradient there is 0).

As everywhere in minigrad, a Python number is accepted where PyTorch insists on a tensor (it is promoted like any
other operand); the other arguments are checked as PyTorch's argument parser checks them.
"""
import numbers

import numpy as np

from ... import ops
from ...dtypes import result_type
from ...ops._common import lift, normalize_dim
from ...ops.norms import vector_norm
from ...tensor import Tensor

__all__ = ["cosine_similarity", "pairwise_distance"]


def _pair(op, x1, x2):
    """x1 and x2 as Tensors (a Python number takes the dtype it promotes to next to the other operand)."""
    a = x1 if isinstance(x1, Tensor) else lift(x1, like=x2 if isinstance(x2, Tensor) else None)
    b = x2 if isinstance(x2, Tensor) else lift(x2, like=a)
    return a, b


def _real(op, name, value):
    if isinstance(value, str) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: argument '{name}' must be a real number (float), not {type(value).__name__} {value!r}")
    return float(value)


def _clamped_below(n, eps):
    """max(n, eps) in value, with gradient 1 with respect to n everywhere (also where eps is taken).

    PyTorch clamps a clone of the norm in place under no_grad, so the clamp is invisible to autograd: the gradient
    (and the second derivative) flows through the clamped entries as if they were n. Here: n where n >= eps, else
    (n - detach(n)) + eps, which is exactly eps in value and n + constant for autograd."""
    small = n.data < eps
    if not small.any():
        return n
    return ops.where(small, (n - n.detach()) + eps, n)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """The cosine of the angle between x1 and x2 along `dim`, PyTorch's formula (torch.nn.functional.
    cosine_similarity, ATen's Distance.cpp):

        cos = sum_dim( (x1 / max(||x1||_2, eps)) * (x2 / max(||x2||_2, eps)) ),

    each vector divided by its own clamped 2-norm first (so |cos| <= 1 and no overflow in <x1, x2>), eps clamping
    each norm separately. x1 and x2 broadcast first (dim indexes the broadcast shape); their common dtype must be
    floating point (an integer or bool input is converted to it). The clamp is invisible to autograd, as in PyTorch:
    the gradient flows through a clamped norm as through the norm itself. The result has the broadcast shape without
    `dim`.

    Errors (PyTorch's classes): a common dtype that is not floating is a RuntimeError; a negative or nan eps a
    RuntimeError; a dim that is not an int a TypeError; a dim out of range an IndexError."""
    op = "cosine_similarity"
    a, b = _pair(op, x1, x2)
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: argument 'dim' must be an int, not {type(dim).__name__} {dim!r} (one dim: the cosine "
                        "is taken along one dimension)")
    eps = _real(op, "eps", eps)
    if not eps >= 0:
        raise RuntimeError(f"{op}: eps must be non-negative, got: {eps}; pass a small positive eps, e.g. 1e-8")
    dtype = result_type(a, b)
    if dtype.kind != "f":
        raise RuntimeError(f"{op}: expected common dtype to be floating point, yet common dtype is {dtype} (inputs "
                           f"{a.dtype} and {b.dtype}); convert an input first, e.g. x.double()")
    a = a if a.data.dtype.kind in "fc" else a.astype(dtype)
    b = b if b.data.dtype.kind in "fc" else b.astype(dtype)
    if a.shape != b.shape:
        a, b = ops.broadcast_tensors(a, b)
    d = normalize_dim(dim, a.ndim, op)
    na = _clamped_below(vector_norm(a, 2, d, keepdim=True), eps)
    nb = _clamped_below(vector_norm(b, 2, d, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm distance between x1 and x2 along their last dimension, PyTorch's formula (torch.nn.functional.
    pairwise_distance, ATen's Distance.cpp):

        dist = || x1 - x2 + eps ||_p   over the last dim of the broadcast shape,

    eps added to every entry of the difference (so two equal vectors are sqrt(D) eps apart for p = 2). p is any
    real number, as torch.linalg.vector_norm's ord: inf the largest |entry|, -inf the smallest, 0 the count of nonzero
    entries, negative p allowed. x1 and x2 broadcast; keepdim keeps the reduced dim as size 1. The gradient is the
    norm's (0 at a zero difference for p = 2, as PyTorch).

    Errors (PyTorch's classes): p or eps not a real number, or keepdim not a bool, a TypeError; shapes that do not
    broadcast a RuntimeError; inf or negative p over an empty last dim a RuntimeError (the norm has no identity)."""
    op = "pairwise_distance"
    a, b = _pair(op, x1, x2)
    p = _real(op, "p", p)
    eps = _real(op, "eps", eps)
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"{op}: argument 'keepdim' must be bool, not {type(keepdim).__name__} {keepdim!r}")
    dim = max(a.ndim, b.ndim) - 1  # the innermost dim of the broadcast shape (-1 for two 0-d tensors)
    return vector_norm(a - b + eps, p, dim, bool(keepdim))
