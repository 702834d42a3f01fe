"""`mg.xp`: the array namespace backward rules are written in.

One rule, two executions: each function here is NumPy's on NumPy arrays and minigrad's differentiable op
on Tensors, so a rule such as

    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * xp.cos(a)

runs on plain arrays in the common case (no Tensor, no node, no dispatch per step) and on Tensors under
`create_graph=True`, where every step is recorded and can be differentiated again (HIPS autograd's
vector-Jacobian products work the same way). Operators and the methods both kinds share
(`sum(axis=, keepdims=)`, `mean`, `reshape`, `astype`, `.T`, `.mT`, indexing) need no namespace.

Constants in a rule are Python numbers (weak: they never change a float32 gradient's dtype) or masks of
bool or of the gradient's dtype.
"""
import numpy as np

from ..tensor import Tensor

__all__ = ["exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "abs", "sign", "sigmoid", "relu", "erf", "where",
           "maximum", "minimum", "broadcast_to", "permute_dims", "clip", "apply", "is_tensor",
           "xlogy"]


def is_tensor(*xs):
    """True when the rule runs on Tensors (the create_graph execution)."""
    return any(isinstance(x, Tensor) for x in xs)


def _unary(np_fn, method, doc):
    def fn(x):
        return getattr(x, method)() if isinstance(x, Tensor) else np_fn(x)
    fn.__name__ = fn.__qualname__ = method
    fn.__doc__ = doc
    return fn


exp = _unary(np.exp, "exp", "e^x")
log = _unary(np.log, "log", "natural logarithm")
log1p = _unary(np.log1p, "log1p", "log(1 + x), accurate near 0")
expm1 = _unary(np.expm1, "expm1", "e^x - 1, accurate near 0")
sqrt = _unary(np.sqrt, "sqrt", "square root")
sin = _unary(np.sin, "sin", "sine")
cos = _unary(np.cos, "cos", "cosine")
tanh = _unary(np.tanh, "tanh", "hyperbolic tangent")
abs = _unary(np.abs, "abs", "|x|")  # noqa: A001
sign = _unary(np.sign, "sign", "-1, 0 or +1 (sign(0) = 0, as PyTorch's and NumPy's)")


def relu(x):
    """max(x, 0)."""
    return x.relu() if isinstance(x, Tensor) else np.maximum(x, 0)


def erf(x):
    """The error function (minigrad.ops.special's on arrays)."""
    if isinstance(x, Tensor):
        return x.erf()
    from .special import erf as np_erf
    return np_erf(x)


def sigmoid(x):
    """1 / (1 + e^-x), without overflow."""
    if isinstance(x, Tensor):
        return x.sigmoid()
    e = np.exp(-np.abs(x))                     # e^-|x| <= 1: never overflows
    return np.where(x >= 0, 1, e) / (1 + e)     # 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below


def where(cond, a, b):
    """a where cond, else b (cond: a bool array or tensor)."""
    if is_tensor(a, b):
        from .elementwise import where as mg_where
        return mg_where(cond, a, b)
    return np.where(cond.data if isinstance(cond, Tensor) else cond, a, b)


def maximum(a, b):
    if is_tensor(a, b):
        from .elementwise import maximum as mg_maximum
        return mg_maximum(a, b)
    return np.maximum(a, b)


def minimum(a, b):
    if is_tensor(a, b):
        from .elementwise import minimum as mg_minimum
        return mg_minimum(a, b)
    return np.minimum(a, b)


def xlogy(x, y):
    """x log(y), 0 where x == 0, nan where y is nan (torch.xlogy)."""
    if is_tensor(x, y):
        from .exp_log import xlogy as mg_xlogy
        return mg_xlogy(x, y)
    from .exp_log import xlogy_array
    return xlogy_array(np.asarray(x), np.asarray(y))


def clip(x, lo=None, hi=None):
    return x.clip(lo, hi) if isinstance(x, Tensor) else np.clip(x, lo, hi)


def broadcast_to(x, shape):
    """x broadcast to shape (a read-only view on arrays; `expand` on Tensors)."""
    return x.expand(shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def permute_dims(x, axes):
    """x with its axes reordered (`permute` on Tensors)."""
    return x.permute(*axes) if isinstance(x, Tensor) else np.transpose(x, axes)


def apply(op, x, *params, **kwargs):
    """Run op (a Function of one tensor x and plain parameters) inside a rule: `op.apply` on a Tensor; on an
    array, only its forward, with no node. This is how a rule calls its adjoint op (getitem's rule scatters
    with ScatterAdd, unfold's folds with Fold)."""
    if isinstance(x, Tensor):
        return op.apply(x, *params, **kwargs)
    from ..autograd import UnrecordedNode
    return np.asarray(op.forward(UnrecordedNode(op), Tensor._wrap(np.asarray(x)), *params, **kwargs))


__all__ += ["einsum"]


def einsum(a, la, b, lb, lout, via="bmm"):
    """NumPy's einsum of two operands in its sublist form, np.einsum(a, la, b, lb, lout), for labels that occur
    once per operand, each in lout or in the other operand (minigrad.ops.linalg's pair of an einsum; on Tensors its
    Einsum op, `via` naming how PyTorch computes, and the tracer counts, the product: "bmm" or "mul")."""
    from . import linalg
    if is_tensor(a, b):
        from ._common import lift
        return linalg.Einsum.apply(lift(a), lift(b), tuple(la), tuple(lb), tuple(lout), via)
    return linalg.contract(a, tuple(la), b, tuple(lb), tuple(lout))


__all__ += ["scatter_reduce"]


def scatter_reduce(x, src, index, reduce, include_self=True):
    """x with src reduced into x[index] by reduce ('sum', 'prod', 'mean', 'amax', 'amin'; index: the full NumPy
    index of the positions): minigrad.ops.indexing.ScatterReduce, an op of two tensors."""
    from .indexing import ScatterReduce
    if is_tensor(x, src):
        from ._common import lift
        return ScatterReduce.apply(lift(x), lift(src), index, reduce, include_self)
    from ..autograd import UnrecordedNode
    return np.asarray(ScatterReduce.forward(UnrecordedNode(ScatterReduce), Tensor._wrap(np.asarray(x)),
                                            Tensor._wrap(np.asarray(src)), index, reduce, include_self))


def softmax(x, axis):
    """exp(x) / sum(exp(x)) along axis: minigrad's softmax op on Tensors, its forward on arrays."""
    if isinstance(x, Tensor):
        return x.softmax(axis)
    from .reduce import Softmax
    return apply(Softmax, x, axis)


def log_softmax(x, axis):
    """x - logsumexp(x) along axis: minigrad's log_softmax op on Tensors, its forward on arrays."""
    if isinstance(x, Tensor):
        return x.log_softmax(axis)
    from .reduce import LogSoftmax
    return apply(LogSoftmax, x, axis)


__all__ += ["softmax", "log_softmax"]


__all__ += ["sinh", "cosh", "zeros"]
sinh = _unary(np.sinh, "sinh", "hyperbolic sine")
cosh = _unary(np.cosh, "cosh", "hyperbolic cosine")


def zeros(shape, dtype, like):
    """A zero gradient of this shape and dtype: an array, or a Tensor (a constant) when `like` is one."""
    data = np.zeros(shape, dtype)
    return Tensor._wrap(data) if isinstance(like, Tensor) else data
