"""Matrix multiplication, with numpy.matmul's rules for 1-D and batched (broadcast) operands."""
import numpy as np

from ..autograd import Cost, Function
from ._common import lift, unbroadcast


def _is_binary(array):
    """True when every entry is -1 or +1: such a product is an XNOR-popcount (BOPs, not FLOPs)."""
    return (array.dtype.kind in "fiu" and array.size > 0 and abs(array.flat[0]) == 1  # cheap early exit
            and bool(np.all(np.abs(array) == 1)))


class Matmul(Function):
    """a @ b.   da = g @ b^T,  db = a^T @ g  (1-D operands get a unit axis; batch axes are summed back)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a.data, b.data)
        except ValueError:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first "
                             f"({a.shape[-1] if a.ndim else '-'}) must equal the "
                             f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the second") from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if a.ndim == 1 else g
        g2 = g2.reshape(g2.shape + (1,)) if b.ndim == 1 else g2
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(g2 @ b2.mT, a2).reshape(a.shape) if need_a else None
        if need_b and b.ndim == 2 and b.data.flags.f_contiguous and not b.data.flags.c_contiguous:
            # b is a transposed view (x @ W.T): form db transposed too, so W's gradient is C-ordered like W
            # (mixing memory orders makes every later elementwise op on the gradient many times slower)
            gb = unbroadcast(g2.mT @ a2, (b.shape[::-1], b.dtype)).mT
        else:
            gb = unbroadcast(a2.mT @ g2, b2).reshape(b.shape) if need_b else None
        return ga, gb

    @staticmethod
    def cost(ctx, out, a, b):
        """(..., M, K) @ (..., K, N): M K N multiply-adds per batch entry; BOPs when both are +-1."""
        k = a.shape[-1]
        macs = out.size * k
        if _is_binary(a.data) and _is_binary(b.data):
            return Cost(bops=macs, category="dot")
        return Cost(flops=2 * macs, macs=macs, category="dot")


def matmul(a, b):
    a = lift(a)
    return Matmul.apply(a, lift(b, a))
