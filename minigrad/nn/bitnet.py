"""BitNet b1.58: linear layers with ternary weights {-1, 0, +1} and 8-bit activations, trained through
straight-through estimators.

What each paper says, and what is taken from it here:

- Wang et al. 2023, "BitNet: Scaling 1-bit Transformers for Large Language Models" (arXiv:2310.11453): BitLinear
  replaces nn.Linear inside the transformer, keeps *latent* float weights that the optimizer updates and
  quantizes them in every forward pass (there to 1 bit, sign(W - mean W), with the scale beta = mean|W|);
  activations are quantized to b = 8 bits by absmax, x~ = Clip(x Q_b / max|x|, -Q_b + eps, Q_b - eps); a
  LayerNorm *inside* BitLinear, before the activation quantization (SubLN), keeps the output variance near 1;
  gradients pass the quantizers by the straight-through estimator; the input and output embeddings stay in
  high precision. Activations are quantized per tensor in training and per token in inference.
- Ma et al. 2024, "The Era of 1-bit LLMs: All Large Language Models are in 1.58 Bits" (arXiv:2402.17764):
  BitNet b1.58 makes the weights ternary with the *absmean* quantizer, gamma = mean|W|,
  W~ = RoundClip(W / (gamma + eps), -1, 1) (log2 3 = 1.58 bits of information per weight); activations are
  scaled per token into [-Q_b, Q_b] (no zero point); LLaMA-alike components (RMSNorm, SwiGLU, rotary
  embeddings, no biases). A matrix product with ternary weights needs additions only (its energy argument:
  mostly INT8 additions instead of FP16 multiplications and additions). Their training-tips note (Ma et al.
  2024, "The Era of 1-bit LLMs: Training Tips, Code and FAQ") gives BitLinear's code: an RMSNorm on the input,
  x_quant = x_norm + (activation_quant(x_norm) - x_norm).detach() and w_quant = w + (weight_quant(w) -
  w).detach(), i.e. identity straight-through estimators for both, per-token activation scales.

Here: `BitLinear` = parameter-free RMSNorm (the training-tips code), per-token 8-bit absmax activations, absmean
ternary weights, the product of the integer levels with the ternary levels (`ternary_linear`: additions only,
counted by the tracer in the category 'ternary'), then one rescale by gamma / s per output. The quantizers are
the STE ops of `mg.ste` (`absmean_ternary`, `absmax_quantize`): their surrogates are declared rules, shown in the
graph view and swappable per call (`weight_surrogate=`, `act_surrogate=`), per scope
(`mg.ste.surrogates(absmean_ternary=...)`) or by default (`mg.ste.set_default`).
"""
import math

import numpy as np

from .. import ste
from ..autograd import Cost, is_grad_enabled, rule_in_force
from ..ops._common import lift
from ..ops.elementwise import Op
from .functional.norm import rms_norm
from .linear import Linear
from .module import Parameter

__all__ = ["BitLinear", "TernaryParameter", "ternary_linear", "TERNARY_BITS"]

TERNARY_BITS = math.log2(3)  # the information in one weight of {-1, 0, +1}: 1.58 bits


class TernaryParameter(Parameter):
    """A latent float weight that the model only uses ternarized: at inference it is stored as {-1, 0, +1} (plus
    one float scale per tensor). `bits` is log2 3 = 1.58 (its information, what the efficiency report counts as
    its size at real precision); `packed_bits` is 2 (what a simple packing, four weights a byte, stores)."""
    packed_bits = 2

    @property
    def bits(self):
        return TERNARY_BITS

    @bits.setter
    def bits(self, value):
        if value is not None and value != TERNARY_BITS:
            raise ValueError(f"TernaryParameter: bits is log2(3) = {TERNARY_BITS:.4f}, not {value!r}")

    def __reduce_ex__(self, protocol):  # copy.deepcopy and pickle keep the class
        return (_rebuild_ternary, (self.data, self.constraint, self.requires_grad))


def _rebuild_ternary(data, constraint, requires_grad):
    return TernaryParameter(np.array(data), requires_grad, constraint=constraint)


def _is_ternary(a):
    return a.size > 0 and a.dtype.kind in "fiu" and bool(np.all((a == 0) | (np.abs(a) == 1)))


class TernaryLinear(Op):
    """x @ W^T with W in {-1, 0, +1}: each output adds the inputs its weights select with +1, subtracts those with
    -1 and skips the rest, so the product needs additions only. dx = g W, dW = g^T x (batch dims summed).

    Cost: with a ternary W, out.size * in_features additions (FLOPs, no MACs) in the category 'ternary' (zeros
    counted too: hardware that skips them does about a third fewer); with any other W, a float product (MACs)."""
    name = "ternary_linear"

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return np.matmul(x.data, w.data.T)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        gx = g @ w if need_x else None
        gw = g.reshape(-1, w.shape[0]).T @ x.reshape(-1, w.shape[1]) if need_w else None
        return gx, gw

    @staticmethod
    def cost(ctx, out, x, w):
        n = out.size * w.shape[1]
        if _is_ternary(w.data):
            return Cost(flops=n, category="ternary")
        return Cost(flops=2 * n, macs=n, category="dot")


def ternary_linear(input, weight):  # noqa: A002
    """input @ weight^T for a ternary weight (out_features, in_features) of -1, 0 and +1: counted as additions."""
    x, w = lift(input), lift(weight)
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise RuntimeError(f"ternary_linear: input of shape {x.shape} does not fit weight of shape {w.shape}: the "
                           f"weight must be 2-D and the input's last dim in_features = {w.shape[-1] if w.ndim else '?'}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"ternary_linear: expected input and weight of the same dtype, got {x.dtype} and {w.dtype}")
    return TernaryLinear.apply(x, w)


class _Ternarized:
    """absmean_ternary(W) kept until it goes stale, as binary layers keep sign(W): computed again when the weight's
    version moves (an optimizer step), or the surrogate, the grad mode or the rule in scope changes, or the graph
    node of the kept one was used up by a backward."""

    def __init__(self):
        self.key = self.value = None

    def __reduce__(self):  # a copy (deepcopy, pickle) starts empty: the kept value may hold a graph
        return (type(self), ())

    def __call__(self, weight, eps, surrogate):
        graph = is_grad_enabled() and weight.requires_grad
        key = (id(weight.data), weight._version[0], eps, surrogate, graph,
               rule_in_force("absmean_ternary") if graph else None)
        value = self.value
        if key != self.key or value is None or (value[0].grad_fn is not None and value[0].grad_fn.released):
            value = ste.absmean_ternary(weight if graph else weight.detach(), eps, surrogate=surrogate)
            self.key, self.value = key, value
        return value


class BitLinear(Linear):
    """BitNet b1.58's linear layer (Ma et al. 2024; Wang et al. 2023): latent float weights W, used as ternary.

        x' = RMSNorm(x)                                  (no learnable weight; the training-tips code)
        x~, s = absmax_quantize(x', act_bits)            per token: x~ = clip(round(x' s), -128, 127), s = 127 / max|x'|
        W~, gamma = absmean_ternary(W)                   W~ = clip(round(W / mean|W|), -1, 1)
        y = ternary_linear(x~, W~) * gamma / s (+ b)     additions only, then one rescale per output

    Both quantizers pass the gradient straight through by default (Identity surrogates, as the authors' code);
    weight_surrogate / act_surrogate choose others (None: the op's rule in force). bias defaults to False (b1.58
    has no biases). norm=False leaves out the RMSNorm. The weight is a TernaryParameter: 1.58 bits at real
    precision, 2 packed. Initialised as nn.Linear."""

    def __init__(self, in_features, out_features, bias=False, act_bits=8, eps=1e-5, norm=True, weight_surrogate=None,
                 act_surrogate=None, dtype=np.float32, rng=None):
        super().__init__(in_features, out_features, bias=bias, dtype=dtype, rng=rng)
        self.weight = TernaryParameter(self.weight.data)
        self.norm = bool(norm)  # a function, not a child module: BitLinear stays one layer in the reports
        self.act_bits, self.eps = act_bits, eps
        self.weight_surrogate, self.act_surrogate = weight_surrogate, act_surrogate
        self._ternarized = _Ternarized()

    def ternary_weight(self):
        """(W~, gamma): the ternary levels and the scale, W ~ gamma W~ (computed once per weight update)."""
        return self._ternarized(self.weight, self.eps, self.weight_surrogate)

    def forward(self, x):
        if self.norm:
            x = rms_norm(x, (self.in_features,))
        xq, s = ste.absmax_quantize(x, self.act_bits, eps=self.eps, surrogate=self.act_surrogate)
        wq, gamma = self.ternary_weight()
        y = ternary_linear(xq, wq) * (gamma / s)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        s = super().extra_repr() + f", act_bits={self.act_bits}" + ("" if self.norm else ", norm=False")
        for name in ("weight_surrogate", "act_surrogate"):
            if getattr(self, name) is not None:
                s += f", {name}={getattr(self, name)!r}"
        return s
