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
import copy
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import ste
from ..autograd import Cost, Function, is_grad_enabled, no_grad, rule_in_force
from ..ops._common import const
from ..tensor import Tensor
from . import functional as F
from . import init
from .container import ModuleList, Sequential
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
        # task 4.3: binary linear forward
        y = F.linear(x, self.binary_weight())
        if self.scale == "mean":
            y = y * _channel_scale(self.weight, y, -1)
        return y if self.bias is None else y + self.bias
        # end task

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


# ---- packed-bit inference: mg.nn.binary.pack(model) -----------------------------------------------------------
_BLOCK_BYTES = 1 << 20  # the XOR block of XnorPopcount: rows of about 1 MiB of words, so a block stays in cache


def pack_bits(positive):
    """A bool array (..., K) as uint64 words (..., ceil(K / 64)): numpy.packbits (bit 1 = +1), the bytes padded with
    zeros to whole words. Both operands of an XOR are padded alike, so the padding never counts as a mismatch."""
    k = positive.shape[-1]
    out = np.zeros(positive.shape[:-1] + (-(-k // 64) * 8,), np.uint8)
    out[..., :-(-k // 8)] = np.packbits(positive, axis=-1)
    return out.view(np.uint64)


class XnorPopcount(Function):
    """p[m, o] = sum over words of popcount(a[m] XOR b[o]): the number of the `features` +-1 entries where the rows
    a[m] and b[o] differ, so their dot product is features - 2 p (XNOR-popcount; Rastegari et al. 2016, XNOR-Net).
    a: (M, W) words; bt: (W, O), the weights' words transposed. One XOR, one numpy.bitwise_count and one add per word,
    over blocks of rows that stay in cache. No gradient (inference only); cost: `features` BOPs per output."""
    name = "xnor_popcount"
    numpy_forward = True

    @staticmethod
    def forward(ctx, a, bt, features):
        a, bt = a.data, bt.data
        m, (words, o) = a.shape[0], bt.shape
        out = np.zeros((m, o), np.uint16 if features < 1 << 16 else np.uint32)
        rows = max(1, min(m, _BLOCK_BYTES // (8 * max(o, 1))))
        xor, count = np.empty((rows, o), np.uint64), np.empty((rows, o), np.uint8)
        for start in range(0, m, rows):
            n = min(rows, m - start)
            acc, x, c = out[start:start + n], xor[:n], count[:n]
            for w in range(words):
                np.bitwise_xor(a[start:start + n, w, None], bt[w], out=x)
                np.bitwise_count(x, out=c)
                np.add(acc, c, out=acc)
        return out

    @staticmethod
    def cost(ctx, out, a, bt, features):
        return Cost(bops=out.data.size * features, category="dot")


class Bits:
    """+-1 activations held as bits between two packed layers: `words` (N, ceil(features / 64)) uint64, bit 1 = +1."""
    __slots__ = ("words", "features", "dtype")

    def __init__(self, words, features, dtype):
        self.words, self.features, self.dtype = words, features, dtype

    def unpack(self):
        """The +-1 Tensor (N, features) these bits hold."""
        bits = np.unpackbits(self.words.view(np.uint8), axis=-1, count=self.features)
        out = bits.astype(self.dtype)
        out *= 2
        out -= 1
        return Tensor(out)


def _fill_bit(pad_value):
    """The bit a padded position holds in a packed binary conv: that of pad_value when it is +-1, else +1 (the
    product is then corrected: a padding of 0 adds nothing)."""
    return pad_value != -1.0


class _Packed(Module):
    """What PackedLinear and PackedConv2d share: sign(W) as bits (`weight_bits`, (words, out), 1 bit a weight), alpha,
    the bias, and the trained layer's arithmetic after its +-1 product."""
    takes_bits = False

    def __init__(self, layer, binary_input):
        super().__init__()
        w = layer.weight.data
        self.out_channels, self.features, self.dtype = w.shape[0], int(np.prod(w.shape[1:])), w.dtype
        self.weight_shape, self.binary_input = w.shape, binary_input
        self.register_buffer("weight_bits", Tensor(np.ascontiguousarray(pack_bits(w.reshape(w.shape[0], -1) >= 0).T)))
        self.register_buffer("alpha", Tensor(np.abs(w).reshape(w.shape[0], -1).mean(axis=1)) if layer.scale else None)
        self.register_buffer("bias_", None if layer.bias is None else Tensor(np.array(layer.bias.data)))

    def signs(self):
        """sign(W) unpacked: the +-1 weights, shaped and typed as the trained layer's."""
        bits = np.unpackbits(np.ascontiguousarray(self.weight_bits.data.T).view(np.uint8), axis=-1, count=self.features)
        w = bits.astype(self.dtype).reshape(self.weight_shape)
        w *= 2
        w -= 1
        return Tensor(w)

    def products(self, words):
        """The +-1 products features - 2 p of packed rows (M, W) with every output channel: (M, out), exact integers."""
        p = XnorPopcount.apply(Tensor(words), self.weight_bits, self.features).data
        y = np.full(p.shape, self.features, np.int32 if self.features < 1 << 30 else np.int64)
        y -= p
        y -= p
        return y

    def finish(self, y, axis):
        """What the trained layer does after its product: * alpha (per channel), + bias, with the same ops."""
        if self.alpha is not None:
            shape = [1] * y.ndim
            shape[axis] = -1
            y = y * const(self.alpha.data.reshape(shape), y.dtype)
        if self.bias_ is None:
            return y
        return y + (self.bias_ if axis == -1 else self.bias_.reshape(1, -1, 1, 1))


class PackedLinear(_Packed):
    """A BinaryLinear for inference, its weights as bits. A +-1 input (a Sign before it) is multiplied by XNOR-popcount;
    a real-valued one (the first layer) by the trained product, the weights unpacked for it. `then`: the per-channel
    modules after a +-1-input layer, ending in a Sign (batch norm, Sign). They become one threshold per channel on the
    popcount: the modules are run once on each of the in_features + 1 values the +-1 product can take, so the bits
    out are the trained network's, and they go to the next packed layer as they are (see pack)."""

    def __init__(self, layer, binary_input, then=()):
        super().__init__(layer, binary_input)
        self.in_features, self.out_features = layer.in_features, layer.out_features
        self.takes_bits = binary_input
        self.then_names = [type(m).__name__ for m in then]
        self.register_buffer("thresholds", None)
        self.register_buffer("flip", None)
        if then and not self._fuse(then):
            self.then = ModuleList(then)  # run after the product

    def _fuse(self, then):
        """Make `then` thresholds on the popcount if it can be (True), else leave them (False)."""
        k = self.features
        y = np.repeat(np.arange(-k, k + 1, 2, dtype=self.dtype)[:, None], self.out_features, axis=1)  # row j: -k + 2j
        z = self.finish(Tensor(y), -1)
        with no_grad():
            for m in then:
                z = m(z)
        by_p = (z.data > 0)[::-1]  # row p: the bit out when p of the k entries differ (product k - 2p)
        falling = np.all(by_p[:-1] >= by_p[1:], axis=0)  # 1 below a threshold on p
        rising = np.all(by_p[:-1] <= by_p[1:], axis=0)
        if np.all(falling | rising):  # always, for batch norm and Sign: each IEEE operation is monotone
            count = by_p.sum(axis=0)
            # bit = (p < count) for falling channels; for rising ones, not (p < k + 1 - count)
            self.thresholds = Tensor(np.where(falling, count, k + 1 - count).astype(np.uint16 if k < 1 << 16 else
                                                                                   np.uint32))
            self.flip = Tensor(pack_bits(~falling[None])[0])
            return True
        return False

    def forward(self, x):
        if not self.binary_input:
            return self.finish(F.linear(x, self.signs()), -1)
        words = x.words if isinstance(x, Bits) else pack_bits(x.data >= 0)
        if self.thresholds is not None:
            p = XnorPopcount.apply(Tensor(words), self.weight_bits, self.features).data
            out = pack_bits(p < self.thresholds.data)
            out ^= self.flip.data
            return Bits(out, self.out_features, self.dtype)
        y = self.finish(Tensor(self.products(words).astype(self.dtype)), -1)
        for m in self._modules.get("then", ()):
            y = m(y)
        return y

    def extra_repr(self):
        how = "XNOR-popcount" if self.binary_input else "float product of the unpacked +-1 weights"
        then = " + ".join(self.then_names)
        if then:
            how += f", then {then}" + (" as thresholds" if self.thresholds is not None else "")
        return f"in_features={self.in_features}, out_features={self.out_features}, 1-bit weights, {how}"


class PackedConv2d(_Packed):
    """A BinaryConv2d for inference, its weights as bits. A +-1 input is unfolded into packed columns and multiplied
    by XNOR-popcount (a padding of 0, which is not +-1, is packed as +1 and its products taken off again, exactly);
    a real-valued input by the trained convolution, the weights unpacked for it."""

    def __init__(self, layer, binary_input):
        super().__init__(layer, binary_input)
        self.layer = _geometry(layer)
        self._corrections = {}

    def forward(self, x):
        g = self.layer
        if not self.binary_input:
            y = F.conv2d(x, self.signs(), None, g.stride, g.padding, g.dilation, 1, pad_value=g.pad_value)
            return self.finish(y, 1)
        n, c, h, w = x.shape
        (top, bottom), (left, right) = g.pads
        bits = np.pad(x.data >= 0, ((0, 0), (0, 0), (top, bottom), (left, right)),
                      constant_values=_fill_bit(g.pad_value))
        (kh, kw), (dh, dw), (sh, sw) = g.kernel_size, g.dilation, g.stride
        spans = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
        win = sliding_window_view(bits, spans, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]  # (n, c, oh, ow, kh, kw)
        oh, ow = win.shape[2:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        y = self.products(pack_bits(cols)).reshape(n, oh * ow, self.out_channels)
        if g.pad_value not in (1.0, -1.0) and any(g.pads[0] + g.pads[1]):
            y -= self._correction(c, h, w)
        y = Tensor(y.astype(self.dtype).transpose(0, 2, 1).reshape(n, self.out_channels, oh, ow))
        return self.finish(y, 1)

    def _correction(self, c, h, w):
        """sum of the weights over the padded taps of each output position: (oh * ow, out), exact integers."""
        key = (c, h, w)
        if key not in self._corrections:
            g = self.layer
            pad = F.conv2d(Tensor(np.zeros((1, c, h, w), self.dtype)), self.signs(), None, g.stride, g.padding,
                           g.dilation, 1, pad_value=1.0).data
            self._corrections[key] = pad[0].reshape(self.out_channels, -1).T.astype(np.int64)
        return self._corrections[key]

    def extra_repr(self):
        how = "XNOR-popcount" if self.binary_input else "float convolution of the unpacked +-1 weights"
        size = self.layer.kernel_size
        return f"{self.weight_shape[1]}, {self.out_channels}, kernel_size={size}, 1-bit weights, {how}"


class _Geometry:
    __slots__ = ("kernel_size", "stride", "dilation", "padding", "pads", "pad_value")


def _geometry(conv):
    """A BinaryConv2d's geometry, with its padding as (before, after) pairs per spatial axis."""
    g = _Geometry()
    g.kernel_size, g.stride, g.dilation, g.padding, g.pad_value = (conv.kernel_size, conv.stride, conv.dilation,
                                                                   conv.padding, conv.pad_value)
    if conv.padding == "valid":
        g.pads = ((0, 0), (0, 0))
    elif conv.padding == "same":
        totals = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size)]
        g.pads = tuple((t // 2, t - t // 2) for t in totals)
    else:
        g.pads = tuple((p, p) for p in conv.padding)
    return g


class PackedSequential(Sequential):
    """The inference module `pack` returns: its stages run in order, without a graph; packed layers hand each other
    bits (`Bits`), any other module gets a Tensor. `weight_bytes()`: the bytes of everything it holds."""

    def __init__(self, *stages):
        super().__init__(*stages)
        self.train(False)

    def forward(self, x):
        with no_grad():
            for stage in self._modules.values():
                if isinstance(x, Bits) and not stage.takes_bits:
                    x = x.unpack()
                x = stage(x)
            return x.unpack() if isinstance(x, Bits) else x

    def train(self, mode=True):
        if mode:
            raise RuntimeError("a packed model is for inference: it has no latent weights to train; train the model "
                               "you packed and pack it again")
        return super().train(False)

    def weight_bytes(self):
        """Bytes of the parameters and buffers held (bits for the packed weights, the rest as stored)."""
        return int(sum(t.data.nbytes for t in list(self.parameters()) + list(self.buffers())))


_PASS_SIGNS = ("Flatten", "Unflatten", "Identity", "Dropout", "MaxPool1d", "MaxPool2d", "MaxPool3d",
               "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")  # a +-1 input gives a +-1 output


def pack(model):
    """An inference module computing what `model` (an nn.Sequential, nested ones included) computes in eval mode,
    with every binary layer's weights held as bits (numpy.packbits in uint64 words: 1 bit a weight, 32x less than
    float32) and the products of +-1 inputs by +-1 weights done by XNOR-popcount (numpy.bitwise_count).

    - A BinaryLinear or BinaryConv2d (groups=1) whose input is +-1 (it follows a Sign, maybe through Flatten or max
      pooling) multiplies by XNOR-popcount; one whose input is real-valued (the first layer) runs the trained float
      product with its +-1 weights unpacked. Every other layer (float first and last layers, batch norm, pooling) is
      a copy of the trained one, in eval mode.
    - A BinaryLinear followed by per-channel modules ending in a Sign (batch norm, Sign) becomes one threshold per
      channel on the popcount: the trained modules are evaluated once on every value the +-1 product can take, so
      its output bits are exactly the trained network's, and they go to the next layer without being unpacked.
    Outputs are bit for bit those of model.eval() on the same inputs (the +-1 products are exact integers either
    way). The packed model cannot train; pack again after training more.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"pack: expected an nn.Sequential (a BNN recipe), got {type(model).__name__}; for a model of "
                        "your own, pack its Sequential parts: model.features = mg.nn.binary.pack(model.features)")
    layers = _flat(model)
    stages, binary, i = [], False, 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, BinaryLinear):
            then = []  # batch norm and Sign after a +-1-input layer: fused into its thresholds
            for m in layers[i + 1:] if binary else ():
                if not _per_channel(m):
                    break
                then.append(m)
                if isinstance(m, Sign):
                    break
            then = then if then and isinstance(then[-1], Sign) else []
            stages.append(PackedLinear(layer, binary, [copy.deepcopy(m).eval() for m in then]))
            binary = bool(then)
            i += 1 + len(then)
            continue
        if isinstance(layer, BinaryConv2d) and layer.groups == 1:
            stages.append(PackedConv2d(layer, binary))
            binary = False
        else:
            stages.append(copy.deepcopy(layer).eval())
            binary = isinstance(layer, Sign) or (binary and type(layer).__name__ in _PASS_SIGNS)
        i += 1
    return PackedSequential(*stages)


def _flat(model):
    return [m for child in model._modules.values() if child is not None
            for m in (_flat(child) if isinstance(child, Sequential) else [child])]


def _per_channel(module):
    """Modules the fused threshold can absorb: batch norm (eval) and Sign, elementwise per channel."""
    from .normalization import BatchNorm1d
    return isinstance(module, (BatchNorm1d, Sign))
