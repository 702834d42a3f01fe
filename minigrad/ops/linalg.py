"""Matrix multiplication, with numpy.matmul's rules for 1-D and batched (broadcast) operands."""
import numpy as np

from ..autograd import Cost
from ._common import array_of, lift, unbroadcast
from .elementwise import Op


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
        ga = unbroadcast(g2 @ b2.mT, (a2.shape, a.dtype)).reshape(a.shape) if need_a else None
        gb = None
        if need_b and b.ndim == 2 and array_of(b).flags.f_contiguous and not array_of(b).flags.c_contiguous:
            # b is a transposed view (x @ W.T): form db transposed too, so W's gradient is C-ordered like W
            # (mixing memory orders makes every later elementwise op on the gradient many times slower)
            gb = unbroadcast(g2.mT @ a2, (b.shape[::-1], b.dtype)).mT
        elif need_b:
            gb = unbroadcast(a2.mT @ g2, (b2.shape, b.dtype)).reshape(b.shape)
        return ga, gb

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


__all__ = ["matmul"]
METHODS = {"__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self), "matmul": matmul}
