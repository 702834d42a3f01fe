"""Norms, with PyTorch's arguments, checks and gradients: torch.norm (here `norm`, also a Tensor method) and the
functions of `mg.linalg`: vector_norm, matrix_norm, norm (linalg's) and svdvals.

Inputs must be floating point (PyTorch raises for integers even with dtype=); `dtype=` casts the input first and
may only widen it. float16 norms accumulate in float32; the norms built on singular values (2, -2, 'nuc') refuse
float16, as PyTorch's. Matrix norms reduce two dims: 'fro' is the vector 2-norm over both, 1 and inf the largest
column and row sums of |A| (-1, -inf the smallest), 2 and -2 the largest and smallest singular value, 'nuc'
their sum.
"""
import math
import numbers

import numpy as np

from ..autograd import Cost
from ..dtypes import compute_dtype, promote_types
from ..tensor import Tensor
from . import xp
from ._common import array_of, kept_shape, lift, normalize_dim, normalize_dims, per_input_element
from .elementwise import Op
from .reduce import _setup, _spread, amax, amin


class VectorNorm(Op):
    """(sum |x|^p)^(1/p) over dims; p = inf: max |x|, -inf: min |x|, 0: the number of nonzeros.
    dx = g sign(x) |x|^(p-1) / norm^(p-1), 0 where the norm is 0 (PyTorch's norm_backward); p = inf or -inf: g
    shared by the elements of largest (smallest) |x|; p = 0: no gradient."""
    name = "vector_norm"
    saves_output = True

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        _setup(ctx, x, axes)
        ctx.p = p
        ctx.save_for_backward(x)
        a = np.abs(x.data.astype(compute_dtype(x.dtype), copy=False))
        reduce = {"axis": axes, "keepdims": keepdim}
        with np.errstate(divide="ignore", over="ignore"):
            if p == math.inf:
                out = a.max(**reduce)
            elif p == -math.inf:
                out = a.min(**reduce)
            elif p == 0:
                out = (a != 0).sum(dtype=a.dtype, **reduce)
            elif p == 1:
                out = a.sum(**reduce)
            elif p == 2:
                out = np.sqrt((a * a).sum(**reduce))
            else:
                out = (a ** p).sum(**reduce) ** (1 / p)
        return np.asarray(out).astype(x.data.real.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        p, g, data = ctx.p, _spread(g, ctx), array_of(x)
        norm = ctx.output.reshape(ctx.kept)
        sign = np.nan_to_num(np.sign(data), nan=0.0)  # PyTorch's sgn(nan) = 0
        if p == 0:
            return None
        if p == 1:
            return g * sign
        if math.isinf(p):
            top = (np.abs(data) == array_of(norm)) | (data != data)
            return g * sign * (top / top.sum(axis=ctx.axes, keepdims=True)).astype(data.dtype)
        at_zero = array_of(norm) == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                return g * xp.where(at_zero, 0.0, x / norm)
            if p < 1:
                return sign * xp.where(data == 0, 0.0, xp.abs(x) ** (p - 1)) * g * norm ** (1 - p)
            scale = xp.where(at_zero, 0.0, g / norm ** (p - 1))
            return (sign * xp.abs(x) ** (p - 1) if p < 2 else x * xp.abs(x) ** (p - 2)) * scale

    cost = per_input_element(2)


def _svd_cost(ctx, out, a, *args):
    """About 4 m n k - 4 k^3 / 3 FLOPs per (m, n) matrix, k = min(m, n) (Golub-Kahan bidiagonalisation)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    return Cost(flops=(a.size // max(m * n, 1)) * (4 * m * n * k - 4 * k ** 3 // 3), category="dot")


class Svdvals(Op):
    """The singular values s of each matrix of A (..., m, n), in descending order.   dA = U diag(g) V^T, with A's
    singular values distinct (and nonzero for a non-square A) as PyTorch assumes."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        ctx.usv = tuple(np.linalg.svd(a.data, full_matrices=False))
        return ctx.usv[1]

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return xp.apply(SvdvalsBackward, g, a, ctx.usv)

    cost = _svd_cost


def _svd_backward(gu, gvh, u, s, vh):
    """dA from the gradients of U and V^T of A's thin SVD (PyTorch's svd_backward, real case, no gradient of S)."""
    m, n = u.shape[-2], vh.shape[-1]
    uhgu, vhgv = u.mT @ gu, vh @ gvh.mT
    s2 = s * s
    gap = s2[..., None, :] - s2[..., :, None]
    k = np.arange(s.shape[-1])
    gap[..., k, k] = 1.0
    inner = ((uhgu - uhgu.mT) * s[..., None, :] + s[..., :, None] * (vhgv - vhgv.mT)) / gap
    if m > n:
        gus = gu / s[..., None, :]
        return (u @ inner + gus - u @ (u.mT @ gus)) @ vh
    if m < n:
        sgvh = gvh / s[..., :, None]
        return u @ (inner @ vh + sgvh - (sgvh @ vh.mT) @ vh)
    return u @ inner @ vh


class SvdvalsBackward(Op):
    """h = U diag(g) V^T, for the SVD A = U diag(s) V^T (svdvals' gradient, an op so it can be differentiated).
    dg = diag(U^T G V);  dA = svd_backward(dU = G V diag(g), dV^T = diag(g) U^T G). Derivatives of order three
    and higher are not implemented."""
    name = "svdvals_backward"

    @staticmethod
    def forward(ctx, g, a, usv):
        u, _, vh = ctx.usv = usv
        ctx.save_for_backward(g)
        return u @ (g.data[..., :, None] * vh)

    @staticmethod
    def backward(ctx, grad):
        if xp.is_tensor(grad):
            raise NotImplementedError("svdvals: derivatives of order three and higher are not implemented (they "
                                      "would differentiate the singular vectors again); use create_graph only up to "
                                      "second derivatives of norms built on singular values")
        g, = ctx.saved_tensors
        u, s, vh = ctx.usv
        gv = grad @ vh.mT
        d_a = _svd_backward(gv * g[..., None, :], g[..., :, None] * (u.mT @ grad), u, s, vh)
        return (u * gv).sum(axis=-2), d_a, None

    cost = per_input_element(4)


# ---- the functions users call ------------------------------------------------------------------
def _norm_input(op, input, dtype, low_precision=True):
    """input checked and cast to dtype= as PyTorch's norms do: floating (or complex) only; dtype= may only widen
    it, within its kind."""
    x = lift(input)
    kind = x.data.dtype.kind
    if kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating point or complex tensor as input, got {x.data.dtype} (as in "
                           "PyTorch, also with dtype=); convert first, e.g. x.float()")
    if not low_precision and x.data.dtype == np.float16:
        raise RuntimeError(f"{op}: low precision dtypes are not supported, got float16 (as in PyTorch); convert first, "
                           "e.g. x.float()")
    if dtype is None:
        return x
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc" or (dtype.kind == "c") != (kind == "c") or promote_types(x.data.dtype, dtype) != dtype:
        raise RuntimeError(f"{op}: dtype={dtype} would not hold the input's {x.data.dtype} without narrowing (or "
                           "changes real to complex); give a dtype at least as wide, of the same kind")
    return x if x.data.dtype == dtype else x.astype(dtype)


def _dims(dim):
    """dim as None or a tuple (an int is a 1-tuple)."""
    return None if dim is None else (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The ord-norm of x over dim (all dims when None or ()): (sum |x|^ord)^(1/ord); inf: max |x|, -inf: min |x|,
    0: the number of nonzero elements."""
    op = "linalg.vector_norm"
    if isinstance(ord, (str, bool)) or not isinstance(ord, numbers.Real):
        raise TypeError(f"{op}: ord must be a number, got {ord!r}; 'fro' and 'nuc' are matrix norms (matrix_norm)")
    x = _norm_input(op, x, dtype)
    dims = _dims(dim)
    axes = normalize_dims(dims or None, x.ndim, op)
    p = float(ord)
    if x.size == 0 and (p < 0 or p == math.inf):
        if not dims:
            raise RuntimeError(f"{op} cannot compute the {p:g} norm on an empty tensor because the operation does not "
                               "have an identity; give a dim whose size is not 0")
        for a in axes:
            if x.shape[a] == 0:
                raise RuntimeError(f"{op} cannot compute the {p:g} norm on the dimension {a} because this dimension is "
                                   "empty and the operation does not have an identity")
    return VectorNorm.apply(x, p, axes, bool(keepdim))


def svdvals(A, *, driver=None):  # noqa: N803 (PyTorch's argument name)
    """The singular values of each matrix of A (..., m, n), in descending order (numpy.linalg.svd)."""
    a = lift(A)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: the input tensor A must have at least 2 dimensions, got shape {a.shape}")
    if a.data.dtype.kind not in "fc" or a.data.dtype == np.float16:
        raise NotImplementedError(f"linalg.svdvals: not implemented for {a.data.dtype} (as in PyTorch); convert first, "
                                  "e.g. A.float()")
    return Svdvals.apply(a)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002, N803
    """The ord-norm of the matrices of A in dims `dim`: 'fro' (default), 'nuc' (sum of singular values), 1 / -1
    (largest / smallest column sum of |A|), inf / -inf (row sums), 2 / -2 (largest / smallest singular value)."""
    op = "linalg.matrix_norm"
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"{op}: Order {ord} not supported; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    a = lift(A)
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got shape {a.shape}")
    a = _norm_input(op, a, dtype, low_precision=ord not in ("nuc", 2, -2))
    dims = _dims(dim)
    if len(dims) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple, got {dim!r}")
    d0, d1 = (normalize_dim(d, a.ndim, op) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different, got ({d0}, {d1})")
    if ord == "fro":
        return vector_norm(a, 2, (d0, d1), keepdim)
    reduced = kept_shape(a.shape, (d0, d1))
    if a.size == 0 and ord in ("nuc", 1, 2, math.inf):  # PyTorch: 0, a constant
        return Tensor._wrap(np.zeros(reduced if keepdim else [n for i, n in enumerate(a.shape) if i not in (d0, d1)],
                                     a.data.dtype))
    if ord in ("nuc", 2, -2):
        s = svdvals(a.permute(*[i for i in range(a.ndim) if i not in (d0, d1)], d0, d1))
        out = s.sum(-1) if ord == "nuc" else (amax if ord > 0 else amin)(s, -1)
        return out.reshape(reduced) if keepdim else out
    if math.isinf(ord):  # rows: sum along the second dim first
        d0, d1 = d1, d0
    sums = vector_norm(a, 1, d0, keepdim)
    return (amax if ord > 0 else amin)(sums, d1 - (not keepdim and d0 < d1), keepdim)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002, N803
    """torch.linalg.norm: a matrix norm when dim has two entries (or A is 2-D, dim is None and ord is given), else a
    vector norm (the 2-norm of every element when ord and dim are None)."""
    a = lift(A)
    dims = _dims(dim)
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2, got {dim!r}")
    if dims is None and ord is not None and a.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{a.ndim}D.")
    if isinstance(ord, str) or (ord is not None and len(dims or range(a.ndim)) == 2):
        return matrix_norm(a, ord, dims or (0, 1), keepdim, dtype=dtype)
    return vector_norm(a, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """torch.norm: the vector p-norm over dim (all dims when None); 'fro' (default) is the 2-norm over at most two
    dims, 'nuc' the nuclear norm of a matrix (mg.linalg has the functions PyTorch recommends instead)."""
    x = lift(input)
    dims = _dims(dim)
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(x, 2, dims, keepdim, dtype=dtype)
        return matrix_norm(x, p, dims if dims is not None else tuple(range(x.ndim)), keepdim, dtype=dtype)
    return vector_norm(x, 2.0 if p is None else p, dims, keepdim, dtype=dtype)


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between every row of x1 (..., P, M) and every row of x2 (..., R, M), torch.cdist:

        out[..., i, j] = || x1[..., i, :] - x2[..., j, :] ||_p        (shape (..., P, R); batch dims broadcast)

    p >= 0: inf the largest |difference|, 0 the number of differing entries. Gradients are PyTorch's: 0 where a
    distance is 0 (p = 2 and p < 1 included), sign(diff) |diff|^(p-1) / dist^(p-1) elsewhere; for p = inf every
    entry whose |difference| equals the distance gets the whole gradient (ties are not split); p = 0 has a zero
    gradient. Second derivatives are available here (PyTorch has none for cdist).

    Deliberate difference: the differences are always computed directly; compute_mode is checked but PyTorch's
    matrix-product shortcut for p = 2 (||a||^2 + ||b||^2 - 2 a.b, used from 25 rows on) is never taken, so results
    can differ from PyTorch's in the last digits there (ours do not lose precision to cancellation).
    Errors (PyTorch's classes): fewer than 2 dims, different numbers of columns, p < 0, non-floating or float16
    inputs, inputs of different dtypes or batch dims that do not broadcast: RuntimeError."""
    op = "cdist"
    a, b = lift(x1), lift(x2)
    for name, t in (("x1", a), ("x2", b)):
        if t.ndim < 2:
            raise RuntimeError(f"{op} only supports at least 2-d tensors (rows of points), {name} has shape {t.shape}; "
                               f"give it a row dim, e.g. {name}.unsqueeze(0)")
    for name, t in (("x1", a), ("x2", b)):
        if t.data.dtype.kind != "f":
            raise RuntimeError(f"{op} only supports floating-point dtypes, {name} is {t.data.dtype}; convert first, "
                               f"e.g. {name}.float()")
        if t.data.dtype == np.float16:
            raise NotImplementedError(f"{op}: not implemented for float16 (as in PyTorch); use {name}.float()")
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(f"{op}: x1 and x2 must have the same dtype (PyTorch does not promote here), got "
                           f"{a.data.dtype} and {b.data.dtype}; convert one, e.g. x2.to(x1.dtype)")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"{op}: x1 and x2 must have the same number of columns, got x1 of shape {a.shape} and x2 "
                           f"of shape {b.shape}")
    if isinstance(p, (bool, str)) or not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: p must be a real number, got {p!r}")
    if not p >= 0:
        raise RuntimeError(f"{op} only supports non-negative p values, got p={p}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{op}: {compute_mode!r} is not a valid value for compute_mode; one of {_CDIST_MODES}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of x1 {a.shape[:-2]} and x2 {b.shape[:-2]} (all but the last two) "
                           "do not broadcast together") from None
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)                  # (..., P, R, M)
    if a.shape[-1] == 0:                                      # no columns: every distance is 0
        return diff.sum(-1)
    p = float(p)
    if p == math.inf:  # PyTorch's rule: the whole gradient to every entry at the maximum (no split among ties)
        size = diff.abs()
        top = amax(size.detach(), dim=-1)
        at_top = size * Tensor._wrap(size.data == np.expand_dims(top.data, -1))
        picked = at_top.sum(-1)
        return top + (picked - picked.detach())               # the value of top, exactly; the gradient of picked
    return vector_norm(diff, p, dim=-1)


__all__ = ["cdist", "norm"]
METHODS = {"norm": norm}
