"""minigrad's straight-through ops for PyTorch: each a small `torch.autograd.Function` with the exact forward of its
`mg.ste` twin and the same backward rule (the surrogate's derivative, or the op's own rule).

    from minigrad.interop import torch_ste
    y = torch_ste.sign(x)                                  # +1 where x >= 0, else -1; the rule in force in mg.ste
    y = torch_ste.sign(x, surrogate=mg.ste.SwishSign(5))   # any surrogate of mg.ste's catalogue

The surrogates are minigrad's own objects (`mg.ste.ApproxSign()`, ...): their parameters are read when backward runs,
so annealing `surrogate.beta` works as in minigrad. Each surrogate of the catalogue has its derivative written here
in torch ops, in the order minigrad computes it; another `mg.ste.Surrogate` (yours, or one made by
`Surrogate.from_function`) is evaluated by minigrad on a NumPy copy of x (CPU tensors only). Importing this module
imports PyTorch; nothing else in minigrad does.
"""
import numpy as np
import torch

from .. import ste
from ..autograd import rule_in_force
from ..tensor import Tensor

__all__ = ["sign", "heaviside", "round", "floor", "ceil", "quantize", "fake_quantize", "stochastic_sign", "ternarize",
           "lsq", "pact", "absmean_ternary", "absmax_quantize", "derivative", "DERIVATIVES", "resolve"]


# ---- the surrogates' derivatives, in torch ops ------------------------------------------------------
def _mask(condition, x):
    return condition.to(x.dtype)


def _clipped(s, x):
    a = x.abs()
    return _mask(a <= s.clip if s.inclusive else a < s.clip, x)


def _swish_sign(s, x):
    bx = x * s.beta
    sig, r = torch.sigmoid(bx), torch.sigmoid(-bx)
    return 2 * s.beta * sig * r * (2 - bx * (sig - r))


def _tanh(s, x):
    t = torch.tanh(x * s.slope)
    return s.slope * (1 - t * t)


DERIVATIVES = {
    ste.Identity: lambda s, x: torch.ones_like(x),
    ste.Clipped: _clipped,
    ste.ApproxSign: lambda s, x: torch.relu(2 - 2 * x.abs()),
    ste.SwishSign: _swish_sign,
    ste.Tanh: _tanh,
    ste.HardSigmoid: lambda s, x: _mask((x * s.slope).abs() <= 1, x) * (s.slope / 2),
    ste.ReLU: lambda s, x: _mask(x > 0, x),
    ste.ClippedReLU: lambda s, x: _mask((x >= 0) & (x <= s.clip), x),
    ste.Zero: lambda s, x: torch.zeros_like(x),
}


def derivative(surrogate, x):
    """surrogate.derivative(x) for a torch tensor x: in torch ops for the catalogue, else by minigrad on a copy."""
    fn = DERIVATIVES.get(type(surrogate))
    if fn is not None:
        return fn(surrogate, x)
    d = surrogate.derivative(np.array(x.detach().cpu().numpy()) if surrogate.takes_arrays else
                             Tensor(np.array(x.detach().cpu().numpy())))
    d = d.data if isinstance(d, Tensor) else np.asarray(d)
    return torch.from_numpy(np.array(d, dtype=d.dtype)).to(device=x.device, dtype=x.dtype)


def resolve(op, surrogate=None):
    """The rule `op` uses in backward: `surrogate` when given, else the one minigrad would bind now (the scope's,
    or the default). A Surrogate, or None for the op's own rule (quantize, fake_quantize); anything else (a plain
    rule(ctx, g) function) has no torch twin and is refused, naming it."""
    rule = surrogate if surrogate is not None else rule_in_force(op)
    if isinstance(rule, ste.Surrogate):
        return rule
    if rule is ste.OPS[op].backward:
        return None
    raise TypeError(f"minigrad.interop: the backward rule of '{op}' is {rule!r}, a plain function rule(ctx, g) that "
                    "cannot run in PyTorch; use a mg.ste.Surrogate (the catalogue, a subclass, or "
                    "Surrogate.from_function(f)) for models you convert")


# ---- one Function for every hard op: exact forward, the surrogate's derivative backward -----------
class Hard(torch.autograd.Function):
    """y = forward(x) (piecewise constant, computed without a graph); dy/dx := surrogate.derivative(x), or
    `mask` (computed in forward) for the ops whose own rule is a mask (quantize, fake_quantize)."""

    @staticmethod
    def forward(ctx, x, fn, surrogate):
        y, mask = fn(x)
        ctx.surrogate, ctx.mask = surrogate, mask
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.surrogate is None:
            return g * ctx.mask, None, None
        x, = ctx.saved_tensors
        return g * derivative(ctx.surrogate, x), None, None


def _plus_minus_one(positive, x):
    return positive.to(x.dtype) * 2 - 1


def _apply(op, x, fn, surrogate):
    return Hard.apply(x, fn, resolve(op, surrogate))


def sign(x, surrogate=None):
    """+1 where x >= 0, else -1 (sign(0) = +1), as mg.ste.sign."""
    return _apply("sign", x, lambda x: (_plus_minus_one(x >= 0, x), None), surrogate)


def heaviside(x, surrogate=None):
    """1 where x > 0, else 0, as mg.ste.heaviside."""
    return _apply("heaviside", x, lambda x: ((x > 0).to(x.dtype), None), surrogate)


def round(x, surrogate=None):  # noqa: A001
    """Round half to even (torch.round's rule too), as mg.ste.round."""
    return _apply("round", x, lambda x: (torch.round(x), None), surrogate)


def floor(x, surrogate=None):
    return _apply("floor", x, lambda x: (torch.floor(x), None), surrogate)


def ceil(x, surrogate=None):
    return _apply("ceil", x, lambda x: (torch.ceil(x), None), surrogate)


def quantize(x, bits, lo=0.0, hi=1.0, surrogate=None):
    """DoReFa's quantize_k of clip(x, lo, hi), as mg.ste.quantize; own rule: 1 on [lo, hi]."""
    n = 2 ** bits - 1

    def fn(x):
        r = (torch.clamp(x, lo, hi) - lo) / (hi - lo)
        return lo + (hi - lo) * (torch.round(n * r) / n), (x >= lo) & (x <= hi)
    return _apply("quantize", x, fn, surrogate)


def fake_quantize(x, scale, zero_point, qmin, qmax, axis=None, surrogate=None):
    """As mg.ste.fake_quantize (PyTorch's fake_quantize_per_tensor_affine / _per_channel_affine, bit for bit)."""
    scale = torch.as_tensor(np.asarray(scale, np.float32))
    zp = torch.as_tensor(np.asarray(zero_point)).to(x.dtype)
    inv = (1 / scale)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, inv, zp = scale.reshape(shape), inv.reshape(shape), zp.reshape(shape)
    else:
        scale, inv, zp = scale.reshape(()), inv.reshape(()), zp.reshape(())

    def fn(x):
        q = torch.round(x * inv.to(x.dtype)) + zp
        level = torch.clamp(q, qmin, qmax) - zp
        y = level.to(torch.float32) * scale if axis is None else level * scale.to(x.dtype)
        return y.to(x.dtype), (q >= qmin) & (q <= qmax)
    return _apply("fake_quantize", x, fn, surrogate)


def stochastic_sign(x, generator=None, surrogate=None):
    """+1 with probability clip((x + 1) / 2, 0, 1), else -1. The draws are PyTorch's (torch.rand), so they are
    not minigrad's draws: equal in distribution, not sample by sample."""
    def fn(x):
        p = torch.clamp((x + 1) / 2, 0, 1)
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return _plus_minus_one(u < p, x), None
    return _apply("stochastic_sign", x, fn, surrogate)


def ternarize(x, threshold=0.05, surrogate=None):
    """-1, 0 or +1: sign(x) where |x| >= threshold, else 0, as mg.ste.ternarize."""
    def fn(x):
        one = torch.ones((), dtype=x.dtype)
        return torch.where(x >= threshold, one, torch.where(x <= -threshold, -one, 0 * one)), None
    return _apply("ternarize", x, fn, surrogate)


def absmean_ternary(weight, eps=1e-5, surrogate=None):
    """As mg.ste.absmean_ternary (BitNet b1.58): (clip(round(W / gamma), -1, 1), gamma), gamma = max(mean|W|, eps)
    a Python float (no gradient through it)."""
    gamma = max(float(weight.detach().abs().mean()) if weight.numel() else 0.0, float(eps))
    levels = _apply("absmean_ternary", weight / gamma,
                    lambda u: (torch.clamp(torch.round(u), -1, 1) + 0.0, None), surrogate)
    return levels, gamma


def absmax_quantize(x, bits=8, dim=-1, eps=1e-5, surrogate=None):
    """As mg.ste.absmax_quantize (BitNet): (clip(round(x s), -Q_b - 1, Q_b), s), s = Q_b / max(max|x| along dim, eps)
    a constant, Q_b = 2^(bits-1) - 1."""
    a = x.detach().abs()
    amax = a.amax().reshape((1,) * x.ndim) if dim is None else a.amax(dim=dim, keepdim=True)
    scale = ((2 ** (bits - 1) - 1) / torch.clamp(amax, min=eps)).to(x.dtype)
    low, high = -2 ** (bits - 1), 2 ** (bits - 1) - 1
    return _apply("absmax_quantize", x * scale, lambda u: (torch.clamp(torch.round(u), low, high) + 0.0, None),
                  surrogate), scale


class LSQFunction(torch.autograd.Function):
    """mg.ste.LSQ: y = round(clip(x / s, -Q_N, Q_P)) s; dy/dx := 1 strictly inside; dy/ds as the paper."""

    @staticmethod
    def forward(ctx, x, step, qn, qp, grad_scale):
        v = x / step
        low, high = v <= -qn, v >= qp
        ctx.save_for_backward(x, step, low, high)
        ctx.qn, ctx.qp, ctx.grad_scale = qn, qp, grad_scale
        return torch.round(torch.clamp(v, -qn, qp)) * step

    @staticmethod
    def backward(ctx, g):
        x, step, low, high = ctx.saved_tensors
        inside = ~(low | high)
        gx = g * inside if ctx.needs_input_grad[0] else None
        gs = None
        if ctx.needs_input_grad[1]:
            v = x / step
            ends = (high * ctx.qp - low * ctx.qn).to(g.dtype)
            gs = _unbroadcast(g * ((torch.round(v) - v) * inside + ends) * ctx.grad_scale, step.shape)
        return gx, gs, None, None, None


def _unbroadcast(g, shape):
    """Sum g down to `shape` (the reverse of broadcasting)."""
    lead = g.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    g = g.sum(dim=dims, keepdim=True) if dims else g
    return g.reshape(shape)


def lsq(x, step, bits, signed, grad_scale=None):
    """As mg.ste.lsq (Esser et al. 2020); grad_scale defaults to 1 / sqrt(N Q_P), N = x.numel() / step.numel()."""
    qn, qp = (2 ** (bits - 1), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
    gs = float(1 / np.sqrt(x.numel() / step.numel() * qp) if grad_scale is None else grad_scale)
    return LSQFunction.apply(x, step, qn, qp, gs)


class PACTFunction(torch.autograd.Function):
    """mg.ste.PACT: y = round(clip(x, 0, alpha) n / alpha) alpha / n; dy/dx := 1 on [0, alpha],
    dy/dalpha := 1 where x >= alpha."""

    @staticmethod
    def forward(ctx, x, alpha, n):
        ctx.save_for_backward((x >= 0) & (x <= alpha), x >= alpha)
        ctx.alpha_shape = alpha.shape
        y = torch.minimum(torch.clamp(x, min=0), alpha)
        return torch.round(y * n / alpha) * alpha / n

    @staticmethod
    def backward(ctx, g):
        inside, above = ctx.saved_tensors
        gx = g * inside if ctx.needs_input_grad[0] else None
        ga = _unbroadcast(g * above, ctx.alpha_shape) if ctx.needs_input_grad[1] else None
        return gx, ga, None


def pact(x, alpha, bits):
    """As mg.ste.pact (Choi et al. 2018)."""
    return PACTFunction.apply(x, alpha, 2 ** bits - 1)
