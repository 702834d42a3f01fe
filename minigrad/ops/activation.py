"""Activation functions: PyTorch's forward kernels and backward formulas (derivatives.yaml), kinks included.

mg.relu, mg.selu, mg.celu and mg.prelu are here (torch has them at the top level); the others are reached
through mg.nn.functional, as in PyTorch. At a corner the gradient is PyTorch's: relu, hardtanh, relu6 and
hardsigmoid give 0 exactly at their corners, elu's exponential branch includes 0, hardswish has its one-sided
slopes at -3 and 3. These are the plain ops; the straight-through estimators live in mg.ste.
"""
import numpy as np

from . import special, xp
from ._common import array_of, lift, per_element, unbroadcast
from .elementwise import Op, Unary, _check_broadcast, _not_for, meta_of, opmath

_SQRT_HALF = float(np.sqrt(0.5))
_INV_SQRT_2PI = float(1 / np.sqrt(2 * np.pi))
_SQRT_2_OVER_PI = float(np.sqrt(2 / np.pi))
# SELU's constants (Klambauer et al. 2017, "Self-Normalizing Neural Networks"), as torch.nn.SELU
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class Relu(Op):
    """max(a, 0).   da = g where a > 0, else 0."""
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.maximum(a.data, 0)

    @staticmethod
    def backward(ctx, g):
        return g * (array_of(ctx.output) > 0)

    cost = per_element(1)


class LeakyRelu(Op):
    """a if a > 0 else slope a.   da = g (1 or slope)."""
    name = "leaky_relu"

    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.positive, ctx.slope = a.data > 0, negative_slope
        return np.where(ctx.positive, a.data, a.data * negative_slope)

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.positive, g, g * ctx.slope)

    cost = per_element(2)


class Gelu(Op):
    """a Phi(a) (exact, erf) or PyTorch's tanh approximation.   da = g (Phi(a) + a phi(a))."""
    @staticmethod
    def forward(ctx, a, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh' (as PyTorch), not {approximate!r}")
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        x = opmath(a.data)
        if approximate == "tanh":
            y = 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
        else:
            y = 0.5 * x * (1 + special.erf(x * _SQRT_HALF))
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = _SQRT_2_OVER_PI
            t = xp.tanh(k * (a + 0.044715 * a ** 3))
            return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a))
        cdf = 0.5 * (1 + xp.erf(a * _SQRT_HALF))
        pdf = xp.exp(-0.5 * a * a) * _INV_SQRT_2PI
        return g * (cdf + a * pdf)

    cost = per_element(8)


class Elu(Op):
    """scale a where a > 0, else scale alpha (exp(s a) - 1): PyTorch's one kernel for elu, selu (scale) and celu
    (s = 1/alpha).   da = g scale where a > 0, else g scale alpha s exp(s a): a = 0 takes this branch, and its
    second derivative there is 0 (PyTorch's elu_double_backward masks a < 0)."""
    @staticmethod
    def forward(ctx, a, alpha, scale, s):
        x = opmath(a.data)
        ctx.save_for_backward(a)
        ctx.masks, ctx.constants = (x <= 0, x < 0), (alpha, scale, s)
        return np.where(x <= 0, np.expm1(np.minimum(x, 0) * s) * (alpha * scale), x * scale).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        (alpha, scale, s), (at_most_0, below_0) = ctx.constants, ctx.masks
        return xp.where(at_most_0, g * (s * alpha * scale) * xp.exp(xp.where(below_0, a, 0.0) * s), g * scale)

    cost = per_element(4)


class Silu(Unary):
    """a s(a), s the sigmoid (Hendrycks & Gimpel's SiLU, Ramachandran et al.'s swish with beta = 1).
    da = g s (1 + a (1 - s))."""
    cost = per_element(5)

    def f(x):
        return x * xp.sigmoid(x)

    def vjp(g, a):
        s = xp.sigmoid(a)
        return g * s * (1 + a * (1 - s))


class Softplus(Op):
    """log(1 + exp(beta a)) / beta, and a itself where beta a > threshold (PyTorch's linear tail).
    da = g sigmoid(beta a), and g on the tail; the second derivative is 0 from beta a = threshold on (PyTorch's)."""
    @staticmethod
    def forward(ctx, a, beta=1.0, threshold=20.0):
        x = opmath(a.data)
        z = x * beta
        ctx.save_for_backward(a)
        ctx.masks, ctx.beta = (z > threshold, z < threshold), beta
        return np.where(z > threshold, x, np.logaddexp(0, z) / beta).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        tail, below = ctx.masks
        return xp.where(tail, g, g * xp.sigmoid(_constant_where(~below, a) * ctx.beta))

    cost = per_element(4)


def _constant_where(mask, a):
    """a, with no gradient where mask holds (its value unchanged): PyTorch's strict masks in second derivatives."""
    return xp.where(mask, array_of(a), a)


class Mish(Unary):
    """a tanh(softplus(a)) (Misra 2019).   da = g (t + a s (1 - t^2)), t = tanh(softplus(a)), s = sigmoid(a)."""
    cost = per_element(6)

    def f(x):
        return x * np.tanh(np.logaddexp(0, x))

    def vjp(g, a):
        t = xp.tanh(xp.apply(Softplus, a, 1.0, np.inf))
        s = xp.sigmoid(a)
        return g * (t + a * s * (1 - t * t))


class Hardtanh(Op):
    """clip(a, lo, hi).   da = g where lo < a < hi: 0 at the corners, as PyTorch's hardtanh_backward (clamp, whose
    gradient includes them, is the op to use for 1 there)."""
    @staticmethod
    def forward(ctx, a, lo, hi):
        x = a.data
        ctx.inside = (x > lo) & (x < hi)
        return np.minimum(np.maximum(x, lo), hi)

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.inside, g, 0.0)

    cost = per_element(2)


class Hardsigmoid(Unary):
    """clip(a + 3, 0, 6) / 6.   da = g / 6 where -3 < a < 3, else 0 (0 at the corners, as PyTorch)."""
    cost = per_element(3)

    def f(x):
        return np.minimum(np.maximum(x + 3, 0), 6) / 6

    def vjp(g, a):
        inside = (array_of(a) > -3) & (array_of(a) < 3)
        return xp.where(inside, g / 6, 0.0)


class Hardswish(Op):
    """a clip(a + 3, 0, 6) / 6 (Howard et al. 2019, MobileNetV3).   da = g (a / 3 + 1/2) on (-3, 3), 0 below, g above;
    at the corners PyTorch's values: 0 at -3, g at 3."""
    @staticmethod
    def forward(ctx, a):
        x = opmath(a.data)
        ctx.save_for_backward(a)
        ctx.inner, ctx.above = (x > -3) & (x < 3), x >= 3
        return (x * np.minimum(np.maximum(x + 3, 0), 6) / 6).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return xp.where(ctx.inner, g * (a / 3 + 0.5), g * ctx.above)

    cost = per_element(4)


class LogSigmoid(Unary):
    """log s(a) = min(a, 0) - log(1 + exp(-|a|)), without overflow.   da = g s(-a)."""
    cost = per_element(5)

    def f(x):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def vjp(g, a):
        return g * xp.sigmoid(-a)


class Prelu(Op):
    """a if a > 0 else w a, w broadcast over a.   da = g where a > 0, else w g;  dw = a g where a <= 0, summed
    back to w's shape."""
    @staticmethod
    def forward(ctx, a, w):
        ctx.save_for_backward(a, w)
        ctx.positive = a.data > 0
        return np.where(ctx.positive, a.data, w.data * a.data)

    @staticmethod
    def backward(ctx, g):
        a, w = ctx.saved_tensors
        need_a, need_w = ctx.needs_input_grad
        return (unbroadcast(xp.where(ctx.positive, g, w * g), meta_of(a)) if need_a else None,
                unbroadcast(xp.where(ctx.positive, 0.0, a * g), meta_of(w)) if need_w else None)

    cost = per_element(2)


# ---- the functions users call ------------------------------------------------------------------
def _float_input(op, input):
    """input as a Tensor, refused unless floating (PyTorch's activation kernels have no integer version)."""
    return _not_for(op, lift(input), "biu")


def relu(input):  # noqa: A002
    """max(input, 0); integers stay integers."""
    return Relu.apply(_not_for("relu", lift(input), "b", RuntimeError))


def leaky_relu(input, negative_slope=0.01):  # noqa: A002
    return LeakyRelu.apply(_float_input("leaky_relu", input), negative_slope)


def gelu(input, approximate="none"):  # noqa: A002
    return Gelu.apply(_float_input("gelu", input), approximate)


def elu(input, alpha=1.0):  # noqa: A002
    """input where > 0, else alpha (exp(input) - 1)."""
    return Elu.apply(_float_input("elu", input), float(alpha), 1.0, 1.0)


def selu(input):  # noqa: A002
    """scale elu(input, alpha) with Klambauer et al.'s alpha = 1.6733 and scale = 1.0507."""
    return Elu.apply(_float_input("selu", input), _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0):  # noqa: A002
    """max(0, input) + min(0, alpha (exp(input / alpha) - 1)) (Barron 2017)."""
    if alpha == 0:
        raise RuntimeError("celu: alpha cannot be 0 (ZeroDivisionError in PyTorch: celu divides by alpha)")
    return Elu.apply(_float_input("celu", input), float(alpha), 1.0, 1.0 / alpha)


def silu(input):  # noqa: A002
    return Silu.apply(_float_input("silu", input))


def mish(input):  # noqa: A002
    return Mish.apply(_float_input("mish", input))


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    return Softplus.apply(_float_input("softplus", input), float(beta), float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    """clip(input, min_val, max_val), with zero gradient at the corners. Integer tensors stay integers, the bounds
    truncated to integers (as PyTorch); bool is refused, and so is uint8 with a negative bound."""
    x = lift(input)
    if x.data.dtype == np.bool_:
        raise RuntimeError("hardtanh: bool inputs are not supported (as in PyTorch); convert first, e.g. x.float()")
    if x.data.dtype.kind in "iu":
        min_val, max_val = int(min_val), int(max_val)
        if x.data.dtype.kind == "u" and min(min_val, max_val) < 0:
            raise RuntimeError(f"hardtanh: cannot clip an unsigned {x.data.dtype} tensor to negative limits "
                               f"[{min_val}, {max_val}] (as in PyTorch); convert it to a signed or float dtype first")
    return Hardtanh.apply(x, min_val, max_val)


def relu6(input):  # noqa: A002
    """min(max(input, 0), 6): hardtanh(input, 0, 6), zero gradient at 0 and 6 (as PyTorch)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input):  # noqa: A002
    return Hardsigmoid.apply(_float_input("hardsigmoid", input))


def hardswish(input):  # noqa: A002
    return Hardswish.apply(_float_input("hardswish", input))


def logsigmoid(input):  # noqa: A002
    return LogSigmoid.apply(_float_input("logsigmoid", input))


def prelu(input, weight):  # noqa: A002
    """input where > 0, else weight * input. weight has one element, or one per channel (dim 1 of input; an input
    of fewer than 2 dims has one channel); input and weight share one floating dtype (PyTorch does not promote)."""
    x, w = lift(input), lift(weight)
    if w.data.dtype != x.data.dtype:
        raise RuntimeError(f"prelu: weight is {w.data.dtype} but input is {x.data.dtype}; PyTorch does not promote "
                           "here: convert the weight, e.g. weight.to(input.dtype)")
    if w.ndim > 1:
        raise RuntimeError(f"prelu: expected weight to be a scalar or 1-d tensor, but got shape {w.shape}")
    if w.size != 1:
        channels = x.shape[1] if x.ndim > 1 else 1
        if x.ndim == 0 or w.size != channels:
            raise RuntimeError(f"prelu: weight has {w.size} parameters but the input (shape {x.shape}) has {channels} "
                               "channel(s) in dim 1; use one parameter, or one per channel")
    _float_input("prelu", x)
    if x.ndim != w.ndim:
        w = w.reshape(*[w.size if d == 1 else 1 for d in range(x.ndim)])
    _check_broadcast("prelu", (x, w))
    return Prelu.apply(x, w)


__all__ = ["celu", "gelu", "leaky_relu", "prelu", "relu", "selu"]
METHODS = {"relu": relu, "leaky_relu": leaky_relu, "gelu": gelu, "prelu": prelu}
