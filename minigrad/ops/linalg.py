"""Matrix products with PyTorch's semantics: matmul (numpy.matmul's shapes), mm, mv, bmm, dot, vdot, inner, outer,
the scaled-and-added family (addmm, addmv, baddbmm, addbmm), tensordot, kron, matrix_power and einsum.

dtypes: PyTorch's matrix products do not promote (operands of two dtypes are a RuntimeError) and have no bool kernel
(NotImplementedError). The products PyTorch computes as broadcast multiplications (outer, kron, inner with a 0-d
operand, an einsum pair that sums nothing) promote like `*`.

Costs: one multiply-add is one MAC and two FLOPs, category 'dot'; these equal torch.utils.flop_counter wherever it
counts (mm, bmm, addmm, baddbmm, and the mm/bmm that matmul, tensordot, inner, einsum and matrix_power run). Where it
does not (PyTorch computes dot, vdot, mv, addmv and a forward addbmm with kernels the counter skips), minigrad counts
the same multiply-adds all the same; each docstring says which. Scalings by alpha and beta and the added input are
elementwise ops, counted in their own category (as DESIGN's bias adds).
"""
import math
import operator
import string

import numpy as np

from ..autograd import Cost
from ..tensor import Tensor
from . import reduce, xp
from ._common import array_of, lift, meta, normalize_dim, promote, unbroadcast
from .elementwise import Op, mul
from .shape import GetItem, clone, permute, reshape


def _is_binary(array):
    """True when every entry is -1 or +1: such a product is an XNOR-popcount (BOPs, not FLOPs)."""
    return (array.dtype.kind in "fiu" and array.size > 0 and abs(array.flat[0]) == 1  # cheap early exit
            and bool(np.all(np.abs(array) == 1)))


class Matmul(Op):
    """a @ b.   da = g @ b^T,  db = a^T @ g  (1-D operands get a unit axis; batch axes are summed back)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if a.ndim == 1 else g
        g2 = g2.reshape(g2.shape + (1,)) if b.ndim == 1 else g2
        need_a, need_b = ctx.needs_input_grad
        # task 1.8: matmul backward
        ga = unbroadcast(g2 @ b2.mT, (a2.shape, a.dtype)).reshape(a.shape) if need_a else None
        gb = None
        if need_b and b.ndim == 2 and array_of(b).flags.f_contiguous and not array_of(b).flags.c_contiguous:
            # b is a transposed view (x @ W.T): form db transposed too, so W's gradient is C-ordered like W
            # (mixing memory orders makes every later elementwise op on the gradient many times slower)
            gb = unbroadcast(g2.mT @ a2, (b.shape[::-1], b.dtype)).mT
        elif need_b:
            gb = unbroadcast(a2.mT @ g2, (b2.shape, b.dtype)).reshape(b.shape)
        return ga, gb
        # end task

    @staticmethod
    def cost(ctx, out, a, b):
        """(..., M, K) @ (..., K, N): M K N multiply-adds per batch entry; BOPs when both are +-1."""
        k = a.shape[-1]
        macs = out.size * k
        if _is_binary(a.data) and _is_binary(b.data):
            return Cost(bops=macs, category="dot")
        return Cost(flops=2 * macs, macs=macs, category="dot")


def matmul(input, other):  # noqa: A002
    """input @ other (numpy.matmul's shapes). Both operands need at least one dim and the same dtype (PyTorch
    does not promote in matmul)."""
    a, b = lift(input), lift(other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}; use * "
                           "to multiply by a scalar")
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got {a.data.dtype} and "
                           f"{b.data.dtype}; convert one, e.g. b.to(a.dtype)")
    ka, kb = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    try:
        if ka != kb:
            raise ValueError
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} do not fit: the last dim of the first ({ka}) must "
                           f"equal the {'only' if b.ndim == 1 else 'second-to-last'} dim of the second ({kb}), and "
                           "the batch dims must broadcast") from None
    return Matmul.apply(a, b)


# ---- the BLAS-style family: fixed numbers of dims, no broadcasting, no promotion -------------------------------
_KIND = {1: "a vector (1-D)", 2: "a matrix (2-D)", 3: "a batch of matrices (3-D)"}


def _same_dtype(op, *tensors, bool_first=False):
    """PyTorch's matrix products do not promote (RuntimeError), and have no bool kernel (NotImplementedError; bmm
    looks at its first operand's dtype before it compares dtypes: `bool_first`)."""
    dtypes = [t.data.dtype for t in tensors]
    if any(d != dtypes[0] for d in dtypes) and not (bool_first and dtypes[0] == np.bool_):
        raise RuntimeError(f"{op}: expected all operands to have the same dtype, got {', '.join(map(str, dtypes))} "
                           "(PyTorch's matrix products do not promote); convert one first, e.g. b.to(a.dtype)")
    if dtypes[0] == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as in PyTorch); convert first, e.g. "
                                  "x.float()")


def _operands(op, *others, bool_first=False, **named):
    """The named operands as tensors, each with the number of dims given, of one dtype (also that of `others`)."""
    tensors = []
    for name, (x, ndim) in named.items():
        t = lift(x)
        if t.ndim != ndim:
            raise RuntimeError(f"{op}: {name} must be {_KIND[ndim]}, got a tensor of shape {t.shape}")
        tensors.append(t)
    _same_dtype(op, *others, *tensors, bool_first=bool_first)
    return tensors


def _fit(op, a, b, k_a, k_b):
    if k_a != k_b:
        raise RuntimeError(f"{op}: shapes {a.shape} and {b.shape} cannot be multiplied ({k_a} != {k_b})")


def mm(input, mat2):  # noqa: A002
    """input @ mat2 for two matrices, (n, m) @ (m, p) (no broadcasting, unlike matmul). Cost: 2 n m p FLOPs."""
    a, b = _operands("mm", input=(input, 2), mat2=(mat2, 2))
    _fit("mm", a, b, a.shape[1], b.shape[0])
    return Matmul.apply(a, b)


def bmm(input, mat2):  # noqa: A002
    """Batched matrix product (B, n, m) @ (B, m, p) (the batch sizes must be equal). Cost: 2 B n m p FLOPs."""
    a, b = _operands("bmm", input=(input, 3), mat2=(mat2, 3), bool_first=True)
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ, shapes {a.shape} and {b.shape} (bmm does not broadcast; "
                           "matmul does)")
    _fit("bmm", a, b, a.shape[2], b.shape[1])
    return Matmul.apply(a, b)


def mv(input, vec):  # noqa: A002
    """Matrix-vector product (n, m) @ (m,). Cost: 2 n m FLOPs (torch.utils.flop_counter does not count mv; this
    is the same count as mm's)."""
    a, v = _operands("mv", input=(input, 2), vec=(vec, 1))
    _fit("mv", a, v, a.shape[1], v.shape[0])
    return Matmul.apply(a, v)


def dot(input, tensor):  # noqa: A002 (PyTorch's argument names)
    """Inner product of two vectors of one size. Cost: 2 n FLOPs (torch.utils.flop_counter does not count dot;
    this is the same count as an mm's)."""
    a, b = _operands("dot", input=(input, 1), tensor=(tensor, 1))
    if a.shape != b.shape:
        raise RuntimeError(f"dot: the vectors have different sizes, {a.shape[0]} and {b.shape[0]}")
    return Matmul.apply(a, b)


def vdot(input, other):  # noqa: A002
    """conj(input) . other for two vectors; for real tensors (all minigrad differentiates) this is dot. Complex
    tensors are refused. Cost: dot's."""
    a, b = _operands("vdot", input=(input, 1), other=(other, 1))
    if a.data.dtype.kind == "c":
        raise NotImplementedError("vdot: complex tensors are not supported (minigrad's vdot is for real tensors, "
                                  "where it equals dot)")
    return dot(a, b)


class AddScaled(Op):
    """beta x + alpha y, x broadcast to y's shape; beta = 0 ignores x (nan and inf in it too), as PyTorch's
    addmm family.   dx = beta g (summed back to x's shape),  dy = alpha g."""
    name = "add_scaled"

    @staticmethod
    def forward(ctx, x, y, beta, alpha):
        ctx.like, ctx.beta, ctx.alpha = meta(x), beta, alpha
        out = y.data * alpha if alpha != 1 else np.array(y.data)
        if beta != 0:
            out += x.data * beta if beta != 1 else x.data
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_y = ctx.needs_input_grad[:2]
        return (unbroadcast(g * ctx.beta if ctx.beta != 1 else g, ctx.like) if need_x else None,
                (g * ctx.alpha if ctx.alpha != 1 else g) if need_y else None)

    @staticmethod
    def cost(ctx, out, x, y, beta, alpha):
        """Per output element: a multiply for each factor other than 1, and the addition unless beta = 0
        (elementwise; torch.utils.flop_counter counts none of them)."""
        return Cost(flops=out.size * ((alpha != 1) + (beta not in (0, 1)) + (beta != 0)))


def _add_scaled(op, input, product, beta, alpha):
    """beta input + alpha product, PyTorch's way: input broadcasts to the product's shape (never beyond it) and has
    its dtype; beta = 0 ignores input (its gradient is zero); integer tensors take beta and alpha as integers
    (truncated, as PyTorch), floating ones as Python floats."""
    x = lift(input)
    _same_dtype(op, x, product)
    try:
        fits = x.ndim <= product.ndim and np.broadcast_shapes(x.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: input of shape {x.shape} does not broadcast to the product's shape {product.shape}")
    number = int if product.data.dtype.kind in "iu" else float
    return AddScaled.apply(x, product, number(beta), number(alpha))


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """beta input + alpha (mat1 @ mat2), input broadcast to (n, p); beta = 0 ignores input (nan in it does not
    propagate), as PyTorch. Cost: mm's 2 n m p FLOPs (dot), plus the scalings and the addition (elementwise)."""
    a, b = _operands("addmm", lift(input), mat1=(mat1, 2), mat2=(mat2, 2))
    _fit("addmm", a, b, a.shape[1], b.shape[0])
    return _add_scaled("addmm", input, Matmul.apply(a, b), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):  # noqa: A002
    """beta input + alpha (mat @ vec), input broadcast to (n,); beta = 0 ignores input. Cost: mv's 2 n m FLOPs
    (not counted by torch.utils.flop_counter), plus the scalings and the addition (elementwise)."""
    a, v = _operands("addmv", lift(input), mat=(mat, 2), vec=(vec, 1))
    _fit("addmv", a, v, a.shape[1], v.shape[0])
    return _add_scaled("addmv", input, Matmul.apply(a, v), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta input + alpha bmm(batch1, batch2), input broadcast to (B, n, p); beta = 0 ignores input. Cost: bmm's
    2 B n m p FLOPs (dot), plus the scalings and the addition (elementwise)."""
    _operands("baddbmm", lift(input), batch1=(batch1, 3), batch2=(batch2, 3))
    return _add_scaled("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta input + alpha sum_b batch1[b] @ batch2[b], input broadcast to (n, p); beta = 0 ignores input.
    Computed as one (n, B m) @ (B m, p) product: 2 B n m p FLOPs (dot; torch.utils.flop_counter does not count
    PyTorch's forward addbmm, and counts its gradient as two bmm of this size, as here)."""
    b1, b2 = _operands("addbmm", lift(input), batch1=(batch1, 3), batch2=(batch2, 3))
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError(f"addbmm: batch sizes differ, shapes {b1.shape} and {b2.shape}")
    _fit("addbmm", b1, b2, b1.shape[2], b2.shape[1])
    (nb, n, m), p = b1.shape, b2.shape[2]
    product = Matmul.apply(reshape(permute(b1, (1, 0, 2)), (n, nb * m)), reshape(b2, (nb * m, p)))
    return _add_scaled("addbmm", input, product, beta, alpha)


def outer(input, vec2):  # noqa: A002
    """out[i, j] = input[i] vec2[j] for two vectors: a broadcast multiplication, so dtypes promote (as PyTorch).
    Cost: one FLOP per output element (elementwise; torch.utils.flop_counter does not count it)."""
    a, b = lift(input), lift(vec2)
    for name, t in (("input", a), ("vec2", b)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: {name} must be {_KIND[1]}, got a tensor of shape {t.shape}")
    return mul(reshape(a, (-1, 1)), b)


ger = outer


def kron(input, other):  # noqa: A002
    """The Kronecker product: out[i n + k, j q + l] = input[i, j] other[k, l] (likewise for any number of dims; the
    operand with fewer dims gets leading 1s). A broadcast multiplication, as PyTorch computes it: dtypes promote.
    Cost: one FLOP per output element (elementwise; torch.utils.flop_counter does not count it)."""
    a, b = lift(input), lift(other)
    ndim = max(a.ndim, b.ndim)
    sa, sb = (1,) * (ndim - a.ndim) + a.shape, (1,) * (ndim - b.ndim) + b.shape
    spread_a = reshape(a, [d for n in sa for d in (n, 1)])
    spread_b = reshape(b, [d for n in sb for d in (1, n)])
    return reshape(mul(spread_a, spread_b), [m * n for m, n in zip(sa, sb)])


def _contracted_dims(a, b, dims):
    """tensordot's dims as two lists of non-negative dims (an int n: the last n of a and the first n of b)."""
    if isinstance(dims, (bool, np.bool_)) or not isinstance(dims, (int, np.integer, tuple, list)):
        raise RuntimeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}")
    if isinstance(dims, (int, np.integer)):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims must lie in [0, {min(a.ndim, b.ndim)}] for operands of shapes "
                               f"{a.shape} and {b.shape}, got {dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if len(dims) != 2:
        raise RuntimeError(f"tensordot: dims must be a pair (dims of a, dims of b), got {dims!r}")
    if not all(isinstance(d, (tuple, list)) for d in dims):
        raise TypeError(f"tensordot: dims as a pair must hold two lists of dims (dims of a, dims of b), got {dims!r}")
    da, db = (list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have the same length, got {da} and {db}")
    return [normalize_dim(d, a.ndim, "tensordot") for d in da], [normalize_dim(d, b.ndim, "tensordot") for d in db]


def tensordot(a, b, dims=2):
    """Sum of a * b over the dims `dims` pairs up: an int n (the last n dims of a with the first n of b) or a pair
    of lists (dims of a, dims of b). A size-1 dim paired with a larger one broadcasts (as PyTorch). Computed as
    PyTorch does, one (free of a, contracted) @ (contracted, free of b) product: 2 M K N FLOPs, as
    torch.utils.flop_counter counts it; a full contraction to one number PyTorch computes as a dot product that its
    counter skips, and minigrad counts as the same 2 K."""
    a, b = lift(a), lift(b)
    da, db = _contracted_dims(a, b, dims)
    _same_dtype("tensordot", a, b)
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise RuntimeError(f"tensordot: contracted dims must match, but dim {i} of a has size {a.shape[i]} and "
                               f"dim {j} of b has size {b.shape[j]} (shapes {a.shape} and {b.shape})")
    sum_a = [i for i, j in zip(da, db) if b.shape[j] == 1 and a.shape[i] != 1]  # broadcast dims: summed first
    sum_b = [j for i, j in zip(da, db) if a.shape[i] == 1 and b.shape[j] != 1]
    a = reduce.sum(a, dim=sum_a, keepdim=True, dtype=a.data.dtype) if sum_a else a
    b = reduce.sum(b, dim=sum_b, keepdim=True, dtype=b.data.dtype) if sum_b else b
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    m, k, n = (math.prod(t.shape[i] for i in d) for t, d in ((a, free_a), (a, da), (b, free_b)))
    left, right = reshape(permute(a, free_a + da), (m, k)), reshape(permute(b, db + free_b), (k, n))
    return reshape(Matmul.apply(left, right), [a.shape[i] for i in free_a] + [b.shape[j] for j in free_b])


def inner(input, other):  # noqa: A002
    """out[i.., j..] = sum_k input[i.., k] other[j.., k] (the last dims must match); a 0-d operand multiplies (and
    promotes, as PyTorch). Computed as tensordot(input, other, ([-1], [-1])), so costs are tensordot's (two vectors:
    2 n FLOPs, which torch.utils.flop_counter does not count)."""
    a, b = lift(input), lift(other)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner: the last dims must match, got shapes {a.shape} and {b.shape}")
    return tensordot(a, b, ([-1], [-1]))


def matrix_power(input, n):  # noqa: A002
    """input multiplied by itself n times, for square matrices (..., m, m); n = 0 gives identities (a constant: no
    gradient flows back; PyTorch's is zero). Computed as PyTorch does, by the binary decomposition of n, so its
    matmuls and their costs (2 m^3 FLOPs each per matrix) are PyTorch's. Negative n needs the inverse: refused here.
    """
    a = lift(input)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"matrix_power: input must be a square matrix or a batch of them (..., m, m), got shape "
                           f"{a.shape}")
    n = operator.index(n)
    if n < 0:
        raise NotImplementedError(f"matrix_power: n = {n} < 0 needs the matrix inverse, which this function does not "
                                  "compute; invert the matrix first and raise the inverse to -n")
    if n == 0:
        return Tensor._wrap(np.broadcast_to(np.eye(a.shape[-1], dtype=a.data.dtype), a.shape).copy())
    if n == 1:
        return clone(a)
    _same_dtype("matrix_power", a)  # no bool kernel
    power = result = None
    while n:
        n, bit = divmod(n, 2)
        power = a if power is None else Matmul.apply(power, power)
        if bit:
            result = power if result is None else Matmul.apply(result, power)
    return result


# ---- einsum --------------------------------------------------------------------------------------------------
_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's subscripts, in its order: A-Z, then a-z
_ELLIPSIS = len(_LETTERS)  # the dims an ellipsis covers get labels 52, 53, ... (aligned from the right)


def _groups(la, lb, lout):
    """The labels of a pair, as PyTorch's sumproduct_pair splits them: (batch, left, summed, right)."""
    return ([d for d in lout if d in la and d in lb], [d for d in lout if d in la and d not in lb],
            [d for d in la if d in lb and d not in lout], [d for d in lout if d in lb and d not in la])


def contract(a, la, b, lb, lout):
    """The arrays' einsum for one pair: out[lout] = sum over the labels a and b share and lout lacks of a[la] b[lb]
    (each label once per operand; each label of a or b in lout or in the other). As PyTorch computes a pair: one
    batched product (batch, left, summed) @ (batch, summed, right), its axes then put in lout's order."""
    size = dict(zip(la, a.shape)) | dict(zip(lb, b.shape))
    batch, left, summed, right = _groups(la, lb, lout)

    def flat(x, labels, *groups):
        x = np.transpose(x, [labels.index(d) for group in groups for d in group])
        return x.reshape([math.prod(size[d] for d in group) for group in groups])
    out = np.matmul(flat(a, la, batch, left, summed), flat(b, lb, batch, summed, right))
    out = out.reshape([size[d] for d in batch + left + right])
    return np.transpose(out, [(batch + left + right).index(d) for d in lout])


class Einsum(Op):
    """One pair of an einsum: out[lout] = sum over the labels a and b share and lout lacks of a[la] b[lb].
    da = einsum(g, b -> la),  db = einsum(a, g -> lb)  (each label of a is in lout or in b, so both are einsums)."""
    @staticmethod
    def forward(ctx, a, b, la, lb, lout, via):
        ctx.save_for_backward(a, b)
        ctx.labels = la, lb, lout, via
        return contract(a.data, la, b.data, lb, lout)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        la, lb, lout, via = ctx.labels
        need_a, need_b = ctx.needs_input_grad[:2]
        return (xp.einsum(g, lout, b, lb, la, via) if need_a else None,
                xp.einsum(a, la, g, lout, lb, via) if need_b else None)

    @staticmethod
    def cost(ctx, out, a, b, la, lb, lout, via):
        """As PyTorch computes the pair (`via`): a batched matrix product, one multiply-add for each combination of
        the labels' values (category dot; what torch.utils.flop_counter counts for its bmm), or, when the pair sums
        nothing, a broadcast product, one FLOP per element (elementwise; the counter does not count it). A gradient
        pair is counted as the product it is the gradient of, as PyTorch computes it (bmm: a bmm of the same size)."""
        size = dict(zip(la, a.shape)) | dict(zip(lb, b.shape))
        n = math.prod(size.values())
        return Cost(flops=2 * n, macs=n, category="dot") if via == "bmm" else Cost(flops=n)


def _einsum_args(args):
    """(equation, operands) from einsum's three forms: (equation, *operands), (equation, [operands]) and the
    sublist form (a, [0, 1], b, [1, 2], [0, 2]) (ints in [0, 52) and Ellipsis, as PyTorch)."""
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        return equation, operands

    def letters(sublist):
        for s in sublist:
            if s is not Ellipsis and not (isinstance(s, (int, np.integer)) and 0 <= s < _ELLIPSIS):
                raise ValueError(f"einsum(): subscript {s!r} in a subscript list is not within the valid range "
                                 "[0, 52) (nor Ellipsis)")
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sublist)
    equation = ",".join(letters(s) for s in args[1::2])
    if len(args) % 2:
        return equation + "->" + letters(args[-1]), args[:-1:2]
    return equation, args[::2]


def _subscripts(term, what):
    """The letters of one term of an equation, with Ellipsis for '...' (at most one)."""
    out, i = [], 0
    while i < len(term):
        if term[i] == ".":
            if term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for {what} that is not part of any ellipsis (...)")
            if Ellipsis in out:
                raise RuntimeError(f"einsum(): found a second ellipsis (...) for {what}; at most one is allowed")
            out.append(Ellipsis)
            i += 3
        elif term[i] in _LETTERS:
            out.append(term[i])
            i += 1
        else:
            raise RuntimeError(f"einsum(): invalid subscript {term[i]!r} for {what}; subscripts must be letters in "
                               "[a-zA-Z] (or '...')")
    return out


def _label_name(label):
    return _LETTERS[label] if label < _ELLIPSIS else f"'...' (its dim {label - _ELLIPSIS})"


def _parse(equation, shapes):
    """Labels (ints) for the dims of each operand, and the output's labels."""
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = [_subscripts(t, f"operand {i}") for i, t in enumerate(lhs.split(","))]
    if len(terms) != len(shapes):
        more = "more" if len(shapes) > len(terms) else "fewer"
        raise RuntimeError(f"einsum(): {more} operands were provided ({len(shapes)}) than the equation {equation!r} "
                           f"specifies ({len(terms)})")
    spans = []  # how many dims each operand's ellipsis covers
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term) - (Ellipsis in term)
        if named > len(shape) or (Ellipsis not in term and named != len(shape)):
            raise RuntimeError(f"einsum(): the equation names {named} dims for operand {i}, which has {len(shape)} "
                               f"(shape {tuple(shape)}){'' if Ellipsis in term else ' and no ellipsis (...)'}")
        spans.append(len(shape) - named)
    ell = tuple(range(_ELLIPSIS, _ELLIPSIS + max(spans, default=0)))
    labels = [tuple(d for s in term for d in (ell[len(ell) - k:] if s is Ellipsis else (_LETTERS.index(s),)))
              for term, k in zip(terms, spans)]
    counts = {}
    for lab in labels:
        for d in lab:
            counts[d] = counts.get(d, 0) + 1
    if not arrow:  # implicit: the ellipsis dims, then the labels seen once, in PyTorch's order
        return labels, ell + tuple(sorted(d for d, c in counts.items() if c == 1 and d < _ELLIPSIS))
    out = []
    for s in _subscripts(rhs, "the output"):
        if s is Ellipsis:
            out.extend(ell)
            continue
        d = _LETTERS.index(s)
        if d not in counts or d in out:
            raise RuntimeError(f"einsum(): output subscript {s} "
                               f"{'appears more than once in the output' if d in out else 'appears in no operand'}")
        out.append(d)
    return labels, tuple(out)


def _label_sizes(labels, shapes):
    """Each label's size; sizes other than 1 must agree (size 1 broadcasts), a repeated label's exactly."""
    size = {}
    for i, (lab, shape) in enumerate(zip(labels, shapes)):
        seen = {}
        for d, n in zip(lab, shape):
            if seen.setdefault(d, n) != n:
                raise RuntimeError(f"einsum(): subscript {_label_name(d)} is repeated for operand {i} but the sizes "
                                   f"don't match, {seen[d]} != {n}")
            if size.get(d, 1) not in (1, n) and n != 1:
                raise RuntimeError(f"einsum(): subscript {_label_name(d)} has size {n} for operand {i}, which does not "
                                   f"broadcast with the size {size[d]} seen before")
            size[d] = n if n != 1 else size.get(d, 1)
    return size


def _diagonal(x, labels):
    """x with the diagonal of each repeated label taken, labels in order of first appearance (a getitem with index
    arrays: its gradient scatters back onto the diagonal)."""
    unique = tuple(dict.fromkeys(labels))
    if len(unique) == len(labels):
        return x, labels
    sizes = [x.shape[labels.index(d)] for d in unique]
    axes = [np.arange(n).reshape([-1 if j == k else 1 for j in range(len(sizes))]) for k, n in enumerate(sizes)]
    return GetItem.apply(x, tuple(axes[unique.index(d)] for d in labels)), unique


def _squeezed(x, labels):
    """x without its size-1 dims (their labels broadcast, or have size 1 everywhere)."""
    keep = [i for i, n in enumerate(x.shape) if n != 1]
    if len(keep) == x.ndim:
        return x, labels
    return reshape(x, [x.shape[i] for i in keep]), tuple(labels[i] for i in keep)


def _sum_out(x, labels, needed):
    """x summed over the labels not needed any more (reduce.sum: integers and bools sum to int64, as PyTorch)."""
    dims = [i for i, d in enumerate(labels) if d not in needed]
    if not dims:
        return x, labels
    return reduce.sum(x, dim=dims), tuple(d for d in labels if d in needed)


def _pair(a, la, b, lb, lout):
    """One Einsum op: a batched matrix product when the pair sums a label (one dtype, no bool: PyTorch's bmm), else a
    broadcast product (promotes: PyTorch's mul)."""
    if any(d in lb and d not in lout for d in la):
        _same_dtype("einsum", a, b, bool_first=True)
        return Einsum.apply(a, b, la, lb, lout, "bmm")
    (a, b), _ = promote(a, b)
    return Einsum.apply(a, b, la, lb, lout, "mul")


def einsum(*args):
    """Einstein summation with PyTorch's semantics: einsum("ij,jk->ik", a, b), einsum("ij,jk->ik", [a, b]) or the
    sublist form einsum(a, [0, 1], b, [1, 2], [0, 2]). Subscripts are letters; '...' stands for the dims no letter
    names (they broadcast across operands); a letter repeated in one operand takes the diagonal; a letter missing
    from the output is summed over; without '->' the output is the ellipsis dims, then the letters seen once, in
    alphabetical order (capitals first). Size-1 dims broadcast.

    Computed as PyTorch computes it (with torch.backends.opt_einsum off or absent): diagonals first; one operand
    is summed and permuted; several are contracted from left to right, each pair first summing out the labels only
    it still holds, then one Einsum op: a batched matrix product, or a broadcast product when the pair sums
    nothing. So are the dtype rules (a summing pair needs one dtype, a multiplying pair promotes, a sum gives int64
    for integers) and the costs: each summing pair's bmm, 2 FLOPs per multiply-add (dot), as
    torch.utils.flop_counter counts them; a product that sums nothing, 1 FLOP per element (elementwise), and sums, in
    their own category. The gradient of each pair is an einsum of the same pair (da = einsum(g, b), db = einsum(a,
    g)), of the same cost.
    """
    equation, operands = _einsum_args(args)
    xs = [lift(x) for x in operands]
    labels, out = _parse(equation, [x.shape for x in xs])
    sizes = _label_sizes(labels, [x.shape for x in xs])
    if len(xs) == 1:
        x, lx = _sum_out(*_diagonal(xs[0], labels[0]), set(out))
        return permute(x, [lx.index(d) for d in out])  # a view, as PyTorch's (never the input itself)
    ops = [_squeezed(*_diagonal(x, lab)) for x, lab in zip(xs, labels)]
    order = out + tuple(sorted(set(sizes) - set(out)))  # PyTorch's order of the dims it aligns
    while len(ops) > 1:
        (a, la), (b, lb), rest = ops[0], ops[1], ops[2:]
        keep = set(out).union(*(lr for _, lr in rest))
        a, la = _sum_out(a, la, keep | set(lb))
        b, lb = _sum_out(b, lb, keep | set(la))
        lout = tuple(d for d in order if d in keep and (d in la or d in lb))
        ops = [(_pair(a, la, b, lb, lout), lout)] + rest
    x, shape = ops[0][0], tuple(sizes[d] for d in out)
    return x if x.shape == shape else reshape(x, shape)


__all__ = ["addbmm", "addmm", "addmv", "baddbmm", "bmm", "dot", "einsum", "ger", "inner", "kron", "matmul",
           "matrix_power", "mm", "mv", "outer", "tensordot", "vdot"]
METHODS = {"__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self), "matmul": matmul,
           "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot, "inner": inner, "outer": outer, "ger": ger,
           "addmm": addmm, "addmv": addmv, "baddbmm": baddbmm, "addbmm": addbmm, "kron": kron,
           "matrix_power": matrix_power}
