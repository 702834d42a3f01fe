"""Binary and quantized layers: latent float weights, an exact binary / k-bit forward, an STE backward.

BinaryConnect (Courbariaux et al., NeurIPS 2015) and BNN (Hubara et al., NeurIPS 2016): the layer keeps
real-valued *latent* weights W, the forward uses sign(W) (exactly +-1), and the backward passes the
gradient through sign by a surrogate (default: the hardtanh STE, 1 on |W| <= 1). The optimizer updates
W; the constraint `WeightClip(1)` then clips it to [-1, 1] (larq's kernel constraint), since beyond it
sign(W) can no longer change and the surrogate gradient is zero. When the input is also +-1 (a `Sign`
activation before the layer), both matmul operands are binary and the tracer counts BOPs
(XNOR-popcount), not FLOPs.

XNOR-Net (Rastegari et al., ECCV 2016) and Bi-Real Net (Liu et al., ECCV 2018) rescale each output
channel by alpha = mean|W| over its weights (`scale="mean"`): not differentiated (as larq's
MagnitudeAwareSign), and applied after the +-1 product so the product stays binary.

k-bit layers follow DoReFa-Net (Zhou et al. 2016): weights tanh, max-normalised to [0, 1], quantized to
2^k levels and mapped back to [-1, 1]; activations quantized by `Quantize`, or by the learnable
quantizers `LSQ` (Esser et al., ICLR 2020) and `PACT` (Choi et al. 2018).
"""
import math

import numpy as np

from .. import ste
from ..autograd import is_grad_enabled, rule_in_force
from ..ops._common import const
from ..tensor import Tensor
from . import functional as F
from . import init
from .conv import Conv2d
from .linear import Linear
from .module import Module, Parameter, WeightClip

_SCALES = (None, "mean")


def _check_scale(scale, layer):
    if scale not in _SCALES:
        raise ValueError(f"{layer}: scale must be None or 'mean', not {scale!r}")
    return scale


class _Binarized:
    """sign(W) kept until it goes stale: computed once per weight update, not once per use. A new one is made
    when the weight's version counter moves (an optimizer step, any in-place change), when the surrogate or grad
    mode differs, or when the graph node of the kept one was used up by a backward."""

    def __init__(self):
        self.key = self.value = None

    def __call__(self, weight, surrogate):
        graph = is_grad_enabled() and weight.requires_grad
        key = (id(weight.data), weight._version[0], surrogate, graph, rule_in_force("sign") if graph else None)
        value = self.value
        if key != self.key or value is None or (value.grad_fn is not None and value.grad_fn.released):
            value = ste.sign(weight if graph else weight.detach(), surrogate=surrogate)
            self.key, self.value = key, value
        return value


def _channel_scale(weight, y, channel_axis):
    """alpha[o] = mean |W[o]| (a constant: no gradient flows through it), shaped to multiply y along channel_axis."""
    alpha = np.abs(weight.data).reshape(weight.shape[0], -1).mean(axis=1)
    shape = [1] * y.ndim
    shape[channel_axis] = -1
    return const(alpha.reshape(shape), y.dtype)


class BinaryLinear(Linear):
    """y = x sign(W)^T (* alpha) + b with latent weights W clipped to [-1, 1] (weight.bits = 1).

    weight_surrogate: the rule that carries the gradient through sign(W) (default: mg.ste's default for sign,
    Clipped(1.0), or the one set by `mg.ste.surrogates(sign=...)`). scale: None or 'mean' (XNOR-Net's alpha).
    bias defaults to False: in BNNs a batch norm follows every binary layer."""

    def __init__(self, in_features, out_features, bias=False, weight_surrogate=None, scale=None, dtype=np.float32,
                 rng=None):
        super().__init__(in_features, out_features, bias=bias, dtype=dtype, rng=rng)
        self.weight.constraint, self.weight.bits = WeightClip(1.0), 1
        self.weight_surrogate = weight_surrogate
        self.scale = _check_scale(scale, "BinaryLinear")
        self._binarized = _Binarized()

    def binary_weight(self):
        """sign(W): exactly -1 or +1 (computed once per weight update, see _Binarized)."""
        return self._binarized(self.weight, self.weight_surrogate)

    def forward(self, x):
        y = F.linear(x, self.binary_weight())
        if self.scale == "mean":
            y = y * _channel_scale(self.weight, y, -1)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        s = super().extra_repr()
        if self.scale is not None:
            s += f", scale={self.scale!r}"
        if self.weight_surrogate is not None:
            s += f", weight_surrogate={self.weight_surrogate!r}"
        return s


class BinaryConv2d(Conv2d):
    """Conv2d with sign(W) in the forward, latent W clipped to [-1, 1] (weight.bits = 1), optional
    per-output-channel scale='mean'. pad_value: what the padding holds (larq's pad_values): 0 as PyTorch,
    or 1 so that, with a +-1 input, every product is binary (counted as BOPs). bias defaults to False."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=False,
                 weight_surrogate=None, scale=None, pad_value=0.0, dtype=np.float32, rng=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         dtype=dtype, rng=rng)
        self.weight.constraint, self.weight.bits = WeightClip(1.0), 1
        self.weight_surrogate = weight_surrogate
        self.scale = _check_scale(scale, "BinaryConv2d")
        self.pad_value = float(pad_value)
        self._binarized = _Binarized()

    def binary_weight(self):
        """sign(W): exactly -1 or +1 (computed once per weight update, see _Binarized)."""
        return self._binarized(self.weight, self.weight_surrogate)

    def forward(self, x):
        y = F.conv2d(x, self.binary_weight(), None, self.stride, self.padding, self.dilation, self.groups,
                     pad_value=self.pad_value)
        if self.scale == "mean":
            y = y * _channel_scale(self.weight, y, 1)
        return y if self.bias is None else y + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self):
        s = super().extra_repr()
        if self.scale is not None:
            s += f", scale={self.scale!r}"
        if self.pad_value:
            s += f", pad_value={self.pad_value:g}"
        return s


class Sign(Module):
    """Binary activation: sign(x) in {-1, +1} (sign(0) = +1), gradient through `surrogate` (default
    Clipped(1.0), the hardtanh STE). stochastic=True draws +1 with probability clip((x + 1) / 2, 0, 1) while
    training (BinaryConnect's stochastic binarization) and uses the deterministic sign in eval mode."""

    def __init__(self, surrogate=None, stochastic=False, rng=None):
        super().__init__()
        self.surrogate, self.stochastic, self.rng = surrogate, stochastic, rng

    def forward(self, x):
        if self.stochastic and self.training:
            return ste.stochastic_sign(x, rng=self.rng, surrogate=self.surrogate)
        return ste.sign(x, surrogate=self.surrogate)

    def extra_repr(self):
        parts = []
        if self.surrogate is not None:
            parts.append(f"surrogate={self.surrogate!r}")
        if self.stochastic:
            parts.append("stochastic=True")
        return ", ".join(parts)


def dorefa_weight(weight, bits):
    """DoReFa's k-bit weights: w = tanh(W) / (2 max|tanh(W)|) + 1/2 in [0, 1], then 2 quantize_k(w) - 1."""
    t = weight.tanh()
    w = t / (t.abs().max() * 2) + 0.5
    return ste.quantize(w, bits) * 2 - 1


def _check_bits(bits, layer):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits < 1:
        raise ValueError(f"{layer}: bits must be an integer >= 1, got {bits!r}")
    return int(bits)


class QuantLinear(Linear):
    """Linear with k-bit weights (DoReFa weight mode); weight.bits = k. Quantize the input with a
    `Quantize`, `LSQ` or `PACT` module before it for k-bit activations."""

    def __init__(self, in_features, out_features, bias=True, bits=2, dtype=np.float32, rng=None):
        super().__init__(in_features, out_features, bias=bias, dtype=dtype, rng=rng)
        self.bits = _check_bits(bits, "QuantLinear")
        self.weight.bits = self.bits

    def quantized_weight(self):
        return dorefa_weight(self.weight, self.bits)

    def forward(self, x):
        return F.linear(x, self.quantized_weight(), self.bias)

    def extra_repr(self):
        return super().extra_repr() + f", bits={self.bits}"


class QuantConv2d(Conv2d):
    """Conv2d with k-bit weights (DoReFa weight mode); weight.bits = k."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 bits=2, dtype=np.float32, rng=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         dtype=dtype, rng=rng)
        self.bits = _check_bits(bits, "QuantConv2d")
        self.weight.bits = self.bits

    def quantized_weight(self):
        return dorefa_weight(self.weight, self.bits)

    def forward(self, x):
        return F.conv2d(x, self.quantized_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        return super().extra_repr() + f", bits={self.bits}"


class Quantize(Module):
    """k-bit activation: quantize_k(clip(x, lo, hi)) on 2^k evenly spaced levels (DoReFa's activation
    quantizer on [0, 1] by default); gradient 1 inside [lo, hi], 0 outside."""

    def __init__(self, bits, lo=0.0, hi=1.0, surrogate=None):
        super().__init__()
        self.bits, self.lo, self.hi, self.surrogate = _check_bits(bits, "Quantize"), float(lo), float(hi), surrogate
        if not self.lo < self.hi:
            raise ValueError(f"Quantize: need lo < hi, got lo={lo}, hi={hi}")

    def forward(self, x):
        return ste.quantize(x, self.bits, self.lo, self.hi, surrogate=self.surrogate)

    def extra_repr(self):
        return f"bits={self.bits}, lo={self.lo:g}, hi={self.hi:g}"


class _Positive:
    """Constraint: keep a step size or clipping level above `eps` (it divides the input)."""

    def __init__(self, eps=1e-6):
        self.eps = eps

    def __call__(self, p):
        return np.maximum(p.data, self.eps)

    def __repr__(self):
        return f"Positive(eps={self.eps:g})"


class LSQ(Module):
    """Learned step size quantizer (Esser et al., ICLR 2020): y = round(clip(x / s, -Q_N, Q_P)) s with a
    learnable step s (a Parameter, kept positive by its constraint).

    signed=False: levels 0..2^b - 1 (after a ReLU); signed=True: -2^(b-1)..2^(b-1) - 1. Unless init_step is
    given, s is initialised on the first training batch as the paper does: s = 2 mean|x| / sqrt(Q_P)."""

    def __init__(self, bits, signed=False, init_step=None):
        super().__init__()
        self.bits, self.signed = _check_bits(bits, "LSQ"), bool(signed)
        if self.signed and self.bits < 2:
            raise ValueError("LSQ: a signed quantizer needs bits >= 2")
        self.step = Parameter(np.array(1.0 if init_step is None else init_step, np.float32), constraint=_Positive())
        self.register_buffer("initialized", Tensor(np.array(init_step is not None)))

    @property
    def qp(self):
        return 2 ** (self.bits - 1) - 1 if self.signed else 2 ** self.bits - 1

    def forward(self, x):
        if self.training and not bool(self.initialized.data):
            x_data = x.data if isinstance(x, Tensor) else np.asarray(x)
            s = 2 * np.abs(x_data).mean() / math.sqrt(self.qp)
            init.constant_(self.step, max(float(s), 1e-6))
            self.initialized.data[...] = True
        step = self.step if self.step.dtype == x.dtype else self.step.astype(x.dtype)
        return ste.lsq(x, step, self.bits, self.signed)

    def extra_repr(self):
        return f"bits={self.bits}, signed={self.signed}"


class PACT(Module):
    """PACT activation quantizer (Choi et al. 2018): y = round(clip(x, 0, alpha) n / alpha) alpha / n,
    n = 2^bits - 1, with a learnable clipping level alpha (a Parameter, initial 10 as in the paper)."""

    def __init__(self, bits, alpha=10.0):
        super().__init__()
        self.bits = _check_bits(bits, "PACT")
        self.alpha = Parameter(np.array(alpha, np.float32), constraint=_Positive())

    def forward(self, x):
        alpha = self.alpha if self.alpha.dtype == x.dtype else self.alpha.astype(x.dtype)
        return ste.pact(x, alpha, self.bits)

    def extra_repr(self):
        return f"bits={self.bits}"
