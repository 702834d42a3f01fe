"""In-place updates (`p.sub_(g, alpha=lr)`): how optimizers and initialisers change a tensor's data.

They run through Function.apply like every op, so the tracer counts them, and they write into the
target's own array (no temporary, no copy). They record no graph: on a tensor that requires grad they
run only under `mg.no_grad()`, and each bumps the tensor's version counter, so a tensor saved for a
backward that has not run yet is caught (see Node.saved_tensors).
"""
import numpy as np

from ..autograd import Function, is_grad_enabled
from ._common import lift, movement, per_element


class _InPlace(Function):
    """target <- ufunc(target, value), written into target's array."""
    ufunc = None

    @staticmethod
    def forward(ctx, target, value):
        try:
            ctx.op.ufunc(target.data, value.data, out=target.data, casting="same_kind")
        except (ValueError, TypeError) as e:
            raise ValueError(f"{ctx.op.name}: cannot update a {target.dtype} tensor of shape {target.shape} in place "
                             f"with a {value.dtype} value of shape {value.shape}: {e}") from None
        return target.data

    cost = per_element(1)


class AddInPlace(_InPlace):
    """target += value."""
    name, ufunc = "add_", np.add


class SubInPlace(_InPlace):
    """target -= value."""
    name, ufunc = "sub_", np.subtract


class MulInPlace(_InPlace):
    """target *= value."""
    name, ufunc = "mul_", np.multiply


class DivInPlace(_InPlace):
    """target /= value."""
    name, ufunc = "div_", np.true_divide


def _copy(target, value, out, casting):
    np.copyto(out, value, casting=casting)


class CopyInPlace(_InPlace):
    """target <- value (broadcast, cast within its kind)."""
    name, ufunc = "copy_", staticmethod(_copy)
    cost = movement


def _update(target, op, value):
    if target.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{op.name}: an in-place operation on a tensor that requires grad would corrupt its gradient; "
                           "do it inside `with mg.no_grad():` (as an optimizer does) or use an out-of-place op")
    op.apply(target, lift(value, target))
    target._version[0] += 1
    return target


def add_(t, other, alpha=1):
    """t += alpha * other, in place."""
    return _update(t, AddInPlace, other if alpha == 1 else lift(other, t) * alpha)


def sub_(t, other, alpha=1):
    """t -= alpha * other, in place."""
    return _update(t, SubInPlace, other if alpha == 1 else lift(other, t) * alpha)


def mul_(t, other):
    """t *= other, in place."""
    return _update(t, MulInPlace, other)


def div_(t, other):
    """t /= other, in place."""
    return _update(t, DivInPlace, other)


def copy_(t, src):
    """t <- src, in place (src broadcasts to t's shape)."""
    return _update(t, CopyInPlace, src)


def fill_(t, value):
    """Every element of t <- value, in place."""
    return _update(t, CopyInPlace, value)


def zero_(t):
    return _update(t, CopyInPlace, 0)


def clamp_(t, min=None, max=None):  # noqa: A002 (torch's names)
    """t <- clip(t, min, max), in place."""
    return _update(t, CopyInPlace, t.clip(min, max))
