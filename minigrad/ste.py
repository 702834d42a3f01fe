"""Straight-through estimators: non-differentiable ops with an exact forward and a declared surrogate backward.

sign, round or a k-bit quantizer are piecewise constant: their true derivative is 0 almost everywhere, so
no gradient would ever reach the weights before them. A straight-through estimator (STE; Hinton 2012,
Bengio et al. 2013, "Estimating or propagating gradients through stochastic neurons") keeps the forward
exact and, in backward, multiplies the upstream gradient by the derivative of a *surrogate*: a smooth
(or piecewise-linear) function that stands in for the hard one.

    y = mg.ste.sign(x)                                   # forward: exactly -1 or +1
    y = mg.ste.sign(x, surrogate=mg.ste.ApproxSign())     # per call
    with mg.ste.surrogates(sign=mg.ste.SwishSign(beta=10)):   # per scope (nests, per thread)
        ...
    mg.ste.set_default(sign=mg.ste.Tanh(slope=2))        # from now on; set_default(sign=None) restores

A surrogate *is* a backward rule (`surrogate(ctx, g) = g * surrogate.derivative(x)`), so it rides on the
engine's pluggable rule: it is bound to the graph node when the op runs and shows in the tensor's repr,
`tensor(..., grad_fn=<sign, rule=ApproxSign()>)`. Its parameters are plain attributes: anneal
`surrogate.beta` during training and the next backward uses the new value.

Costs: every op here counts 1 FLOP per output element (one comparison, rounding or draw per element),
whatever NumPy does internally; the backward rules count their own minigrad ops.
"""
import inspect

import numpy as np

from .autograd import Cost, Function, backward_rules, enable_grad, grad
from .ops import xp
from .ops._common import array_of, lift, per_element, unbroadcast
from .ops.elementwise import Op
from .tensor import Tensor, default_rng

__all__ = ["Surrogate", "Identity", "Clipped", "ApproxSign", "SwishSign", "Tanh", "HardSigmoid", "ReLU",
           "ClippedReLU", "Zero", "sign", "heaviside", "round", "floor", "ceil", "quantize", "fake_quantize",
           "stochastic_sign", "ternarize", "lsq", "pact", "surrogates", "set_default", "plot", "OPS", "FUNCTIONS",
           "CATALOGUE", "absmean_ternary", "absmax_quantize"]


# ---- surrogates ---------------------------------------------------------------------------------
class Param:
    """A surrogate's parameter: a plain attribute (so it can be annealed) that is checked when set."""

    def __init__(self, kind=float, positive=True, shown_unless=None):
        self.kind, self.positive, self.shown_unless = kind, positive, shown_unless

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        return self if obj is None else obj.__dict__[self.name]

    def __set__(self, obj, value):
        if self.kind is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{type(obj).__name__}: {self.name} must be True or False, not {value!r}")
            value = bool(value)
        else:
            if isinstance(value, Tensor):
                value = value.item()
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise TypeError(f"{type(obj).__name__}: {self.name} must be a number, not {value!r}") from None
            if self.positive and not value > 0:
                raise ValueError(f"{type(obj).__name__}: {self.name} must be a positive number, got {value}")
        obj.__dict__[self.name] = value


class Surrogate:
    """A stand-in for the derivative of a hard (piecewise-constant) function.

    `smooth(x)`: the function it stands for (minigrad ops); `derivative(x)`: its derivative (minigrad ops, so
    a smooth surrogate works under create_graph=True); `kinks()`: where the derivative jumps;
    `hard`: the name of the hard op it is meant for ('sign', 'heaviside' or 'round').
    Calling it as a backward rule gives `g * derivative(x)`, x being the op's saved input. A surrogate whose
    `derivative` is written in `mg.xp` (as every one of the catalogue) sets `takes_arrays = True` and then runs
    on plain arrays when no higher-order graph is recorded.
    """
    hard = "sign"
    takes_arrays = False

    def smooth(self, x):
        raise NotImplementedError(f"{type(self).__name__}: a Surrogate must define smooth(x)")

    def derivative(self, x):
        raise NotImplementedError(f"{type(self).__name__}: a Surrogate must define derivative(x)")

    def kinks(self):
        """The points where `derivative` is discontinuous (finite-difference checks keep away from them)."""
        return ()

    def __call__(self, ctx, g):
        saved = ctx.saved_tensors
        if not saved:
            raise RuntimeError(f"{self!r} is the rule of op '{ctx.op.name}', which saved no input; an op that takes "
                               "a surrogate must call ctx.save_for_backward(x) in forward")
        return g * self.derivative(saved[0])

    def params(self):
        """The parameters, by name, in the order they are declared."""
        names = [n for klass in reversed(type(self).__mro__) for n, v in vars(klass).items() if isinstance(v, Param)]
        return {n: getattr(self, n) for n in dict.fromkeys(names)}

    def __repr__(self):
        shown = []
        for name, value in self.params().items():
            quiet = getattr(type(self), name).shown_unless
            if quiet is None or value != quiet:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    @staticmethod
    def from_function(f, name=None, hard="sign", kinks=()):
        """A surrogate from a user's elementwise, differentiable minigrad function `f` (the smooth function);
        minigrad computes its derivative itself (mg.grad), to any order, so it also works under create_graph."""
        return FromFunction(f, name, hard, kinks)


def _mask(condition, like):
    """condition as 0/1 values of like's dtype (an array for an array, a constant Tensor for a Tensor): the
    derivative of a piecewise-linear surrogate."""
    mask = np.asarray(condition).astype(like.dtype)
    return Tensor._wrap(mask) if isinstance(like, Tensor) else mask


class Identity(Surrogate):
    """d/dx := 1: the gradient passes straight through (Hinton 2012, lecture 15b; Bengio et al. 2013).

    smooth(x) = x. The default for round, floor and ceil.
    """
    hard = "round"
    takes_arrays = True

    def smooth(self, x):
        return lift(x) * 1

    def derivative(self, x):
        return _mask(np.ones(x.shape, bool), x)

    def __call__(self, ctx, g):
        return g


class Clipped(Surrogate):
    """d/dx := 1 where |x| <= clip (|x| < clip with inclusive=False), else 0.

    smooth(x) = hardtanh(x) = clip(x, -clip, clip). The STE of BinaryNet (Hubara et al. 2016, "Binarized
    Neural Networks"), which cancels the gradient when |x| is too large; the default for sign and heaviside.
    """
    clip = Param()
    inclusive = Param(bool, shown_unless=True)
    takes_arrays = True

    def __init__(self, clip=1.0, inclusive=True):
        self.clip, self.inclusive = clip, inclusive

    def smooth(self, x):
        return lift(x).clip(-self.clip, self.clip)

    def derivative(self, x):
        # task 3.2: clipped surrogate
        a = np.abs(array_of(x))
        return _mask(a <= self.clip if self.inclusive else a < self.clip, x)
        # end task

    def kinks(self):
        return (-self.clip, self.clip)


class ApproxSign(Surrogate):
    """d/dx := 2 - 2|x| on [-1, 1], else 0: a piecewise-quadratic fit of sign (Liu et al. 2018, "Bi-Real Net").

    smooth(x) = 2u - u|u| with u = clip(x, -1, 1)  (that is 2x + x^2 for x < 0, 2x - x^2 for x >= 0).
    """
    takes_arrays = True

    def smooth(self, x):
        u = lift(x).clip(-1.0, 1.0)
        return 2 * u - u * u.abs()

    def derivative(self, x):
        # task 3.3: ApproxSign surrogate
        return xp.relu(2 - 2 * xp.abs(x))
        # end task

    def kinks(self):
        return (-1.0, 0.0, 1.0)


class SwishSign(Surrogate):
    """d/dx := beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x)) (Darabi et al. 2018, "BNN+").

    smooth(x) = 2 s (1 + beta x (1 - s)) - 1 with s = sigmoid(beta x): the derivative of swish, scaled to
    [-1, 1]. Computed as 2 beta s (1 - s) (2 - beta x (2s - 1)), which is the same formula
    (1 / (1 + cosh z) = 2 s (1 - s), tanh(z/2) = 2s - 1) and never overflows. Larger beta: closer to sign.
    """
    beta = Param()
    takes_arrays = True

    def __init__(self, beta=5.0):
        self.beta = beta

    def smooth(self, x):
        bx = lift(x) * self.beta
        s = bx.sigmoid()
        return 2 * s * (1 + bx * (1 - s)) - 1

    def derivative(self, x):
        # task 3.4: SwishSign surrogate
        bx = x * self.beta
        s, r = xp.sigmoid(bx), xp.sigmoid(-bx)  # r = 1 - s, without cancellation when s is near 1
        return 2 * self.beta * s * r * (2 - bx * (s - r))
        # end task


class Tanh(Surrogate):
    """d/dx := slope (1 - tanh(slope x)^2): smooth(x) = tanh(slope x).

    Anneal `slope` upwards during training to approach sign (slope annealing, Chung et al. 2017,
    "Hierarchical Multiscale Recurrent Neural Networks").
    """
    slope = Param()
    takes_arrays = True

    def __init__(self, slope=1.0):
        self.slope = slope

    def smooth(self, x):
        return (lift(x) * self.slope).tanh()

    def derivative(self, x):
        # task 3.5: tanh surrogate
        t = xp.tanh(x * self.slope)
        return self.slope * (1 - t * t)
        # end task


class HardSigmoid(Surrogate):
    """d/dx := slope / 2 where |slope x| <= 1, else 0: smooth(x) = clip((slope x + 1) / 2, 0, 1).

    The slope-annealed hard sigmoid of Chung et al. 2017 ("Hierarchical Multiscale Recurrent Neural Networks"),
    for a 0/1 step (heaviside); its derivative integrates to 1, the height of the step.
    """
    hard = "heaviside"
    slope = Param()
    takes_arrays = True

    def __init__(self, slope=1.0):
        self.slope = slope

    def smooth(self, x):
        return ((lift(x) * self.slope + 1) * 0.5).clip(0.0, 1.0)

    def derivative(self, x):
        return _mask(np.abs(array_of(x) * self.slope) <= 1, x) * (self.slope / 2)

    def kinks(self):
        return (-1 / self.slope, 1 / self.slope)


class ReLU(Surrogate):
    """d/dx := 1 where x > 0, else 0: smooth(x) = max(x, 0).

    The ReLU STE for a binary (step) activation (Yin et al. 2019, "Understanding Straight-Through Estimator
    in Training Activation Quantized Neural Nets").
    """
    hard = "heaviside"
    takes_arrays = True

    def smooth(self, x):
        return lift(x).relu()

    def derivative(self, x):
        return _mask(array_of(x) > 0, x)

    def kinks(self):
        return (0.0,)


class ClippedReLU(Surrogate):
    """d/dx := 1 where 0 <= x <= clip, else 0: smooth(x) = clip(x, 0, clip).

    The clipped-ReLU STE of Yin et al. 2019 ("Understanding Straight-Through Estimator in Training Activation
    Quantized Neural Nets"), which they show descends the population loss where the plain ReLU STE may not.
    """
    hard = "heaviside"
    clip = Param()
    takes_arrays = True

    def __init__(self, clip=1.0):
        self.clip = clip

    def smooth(self, x):
        return lift(x).clip(0.0, self.clip)

    def derivative(self, x):
        a = array_of(x)
        return _mask((a >= 0) & (a <= self.clip), x)

    def kinks(self):
        return (0.0, self.clip)


class Zero(Surrogate):
    """d/dx := 0: the true gradient of a piecewise-constant function, almost everywhere.

    smooth(x) is the hard sign itself. Training through it goes nowhere: it shows why a surrogate is needed.
    """
    takes_arrays = True

    def smooth(self, x):
        x = lift(x)
        return _mask(np.where(array_of(x) >= 0, 1, -1), x)

    def derivative(self, x):
        return _mask(np.zeros(x.shape, bool), x)

    def kinks(self):
        return (0.0,)


class Derivative(Function):
    """The n-th derivative of an elementwise minigrad function f, computed by minigrad itself:
    d^n/dx^n f(x)_i = d/dx_i of sum_j d^(n-1) f(x)_j (f is elementwise). Backward: g * Derivative(x, f, n+1),
    so derivatives of any order are available. The ops that compute it count their own cost."""
    name = "surrogate_derivative"

    @staticmethod
    def forward(ctx, x, f, order=1):
        ctx.save_for_backward(x)
        ctx.f, ctx.order = f, order
        leaf = Tensor(np.array(x.data), requires_grad=True)
        with enable_grad():
            y = f(leaf)
            if not isinstance(y, Tensor) or y.shape != x.shape:
                raise ValueError(f"Surrogate.from_function: {getattr(f, '__name__', f)} must be elementwise and return "
                                 f"a tensor: it mapped an input of shape {x.shape} to "
                                 f"{getattr(y, 'shape', type(y).__name__)}")
            for _ in range(order):
                if not y.requires_grad:
                    return np.zeros_like(x.data)  # the (n-1)-th derivative no longer depends on x
                y, = grad(y.sum(), leaf, create_graph=True, allow_unused=True)
                if y is None:
                    return np.zeros_like(x.data)
        return y.data.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * Derivative.apply(x, ctx.f, ctx.order + 1)

    def cost(ctx, out, *args, **kwargs):
        return Cost()


class FromFunction(Surrogate):
    """A surrogate given by a user's smooth function f; its derivative is computed by minigrad (mg.grad)."""

    def __init__(self, f, name=None, hard="sign", kinks=()):
        if not callable(f):
            raise TypeError(f"Surrogate.from_function: f must be a function of a tensor, not {f!r}")
        self.f, self.name, self.hard, self._kinks = f, name or getattr(f, "__name__", repr(f)), hard, tuple(kinks)

    def smooth(self, x):
        return self.f(lift(x))

    def derivative(self, x):
        return Derivative.apply(lift(x), self.f)

    def kinks(self):
        return self._kinks

    def __repr__(self):
        return f"Surrogate.from_function({self.name})"


CATALOGUE = (Identity, Clipped, ApproxSign, SwishSign, Tanh, HardSigmoid, ReLU, ClippedReLU, Zero)


# ---- the ops --------------------------------------------------------------------------------------
def _same_dtype(array, x):
    return np.asarray(array).astype(x.dtype, copy=False)


def _plus_minus_one(positive, x):
    """+1 where `positive`, else -1, in x's dtype (10x faster than np.where with Python scalars)."""
    out = positive.astype(x.dtype)
    out *= 2
    out -= 1
    return out


class Sign(Function):
    """sign(x) = +1 where x >= 0, -1 elsewhere (sign(0) = +1: the output is always binary).
    Default surrogate: Clipped(1.0), the hardtanh STE of BinaryNet (Hubara et al. 2016)."""
    default_rule = Clipped()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # task 3.1: sign forward
        return _plus_minus_one(x.data >= 0, x)
        # end task

    cost = per_element(1)


class Heaviside(Function):
    """heaviside(x) = 1 where x > 0, 0 elsewhere (heaviside(0) = 0). Default surrogate: Clipped(1.0)."""
    default_rule = Clipped()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _same_dtype(x.data > 0, x)

    cost = per_element(1)


class Round(Function):
    """round(x), half to even as NumPy (round(0.5) = 0, round(1.5) = 2). Default surrogate: Identity."""
    default_rule = Identity()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.round(x.data)

    cost = per_element(1)


class Floor(Function):
    """floor(x): the largest integer <= x. Default surrogate: Identity."""
    default_rule = Identity()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.floor(x.data)

    cost = per_element(1)


class Ceil(Function):
    """ceil(x): the smallest integer >= x. Default surrogate: Identity."""
    default_rule = Identity()

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.ceil(x.data)

    cost = per_element(1)


def _check_bits(op, bits, least=1):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or bits < least:
        raise ValueError(f"{op}: bits must be an integer >= {least}, got {bits!r}")
    return int(bits)


class Quantize(Op):
    """DoReFa's quantize_k on [lo, hi] (Zhou et al. 2016, "DoReFa-Net"), with n = 2^bits - 1 levels:

        r = (clip(x, lo, hi) - lo) / (hi - lo),   y = lo + (hi - lo) round(n r) / n

    Rule: dy/dx := 1 on [lo, hi] (inclusive), 0 outside (identity inside the representable range)."""

    @staticmethod
    def forward(ctx, x, bits, lo=0.0, hi=1.0):
        ctx.save_for_backward(x)  # for a surrogate given in its place
        # task 3.6: k-bit quantize
        ctx.inside = (x.data >= lo) & (x.data <= hi)
        n = 2 ** bits - 1
        r = (np.clip(x.data, lo, hi) - lo) / (hi - lo)
        return _same_dtype(lo + (hi - lo) * (np.round(n * r) / n), x)
        # end task

    @staticmethod
    def backward(ctx, g):
        # task 3.6: k-bit quantize
        return g * ctx.inside
        # end task

    cost = per_element(1)


class FakeQuantize(Op):
    """PyTorch's fake_quantize_per_tensor_affine / fake_quantize_per_channel_affine, bit for bit:

        q = round(x * (1 / scale)) + zero_point         (round half to even, 1/scale in float32)
        y = (clamp(q, qmin, qmax) - zero_point) * scale
        dy/dx := 1 where qmin <= q <= qmax (q rounded but not clamped), else 0

    Per channel (axis given) scale and zero_point hold one value per slice along `axis`. As PyTorch, scale is
    used in float32, and the per-tensor product is formed in float32."""
    name = "fake_quantize"

    @staticmethod
    def forward(ctx, x, scale, zero_point, qmin, qmax, axis=None):
        ctx.save_for_backward(x)
        scale = np.asarray(scale, np.float32)
        inv_scale = np.float32(1) / scale
        zp = np.asarray(zero_point).astype(x.dtype)
        if axis is not None:
            shape = [1] * x.ndim
            shape[axis] = -1
            scale, inv_scale, zp = scale.reshape(shape), inv_scale.reshape(shape), zp.reshape(shape)
        q = np.round(x.data * inv_scale.astype(x.dtype)) + zp
        ctx.inside = (q >= qmin) & (q <= qmax)
        level = np.clip(q, qmin, qmax) - zp
        if axis is None:
            return _same_dtype(level.astype(np.float32) * scale, x)
        return _same_dtype(level * scale.astype(x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.inside

    cost = per_element(1)


class StochasticSign(Function):
    """+1 with probability p = clip((x + 1) / 2, 0, 1), else -1 (stochastic binarization, Courbariaux et al.
    2015, "BinaryConnect"); E[y] = hardtanh(x). Default surrogate: Clipped(1.0)."""
    name = "stochastic_sign"
    default_rule = Clipped()

    @staticmethod
    def forward(ctx, x, rng=None):
        ctx.save_for_backward(x)
        p = np.clip((x.data + 1) / 2, 0, 1)
        u = (rng or default_rng()).random(x.shape)
        return _plus_minus_one(u < p, x)

    cost = per_element(1)


class Ternarize(Function):
    """-1, 0 or +1: sign(x) where |x| >= threshold, else 0 (so x = +-threshold maps to +-1; ternary weights,
    Li et al. 2016, "Ternary Weight Networks"). Default surrogate: Clipped(1.0)."""
    default_rule = Clipped()

    @staticmethod
    def forward(ctx, x, threshold=0.05):
        ctx.save_for_backward(x)
        return _same_dtype(np.where(x.data >= threshold, 1, np.where(x.data <= -threshold, -1, 0)), x)

    cost = per_element(1)


class AbsmeanTernary(Function):
    """The rounding step of BitNet b1.58's weight quantizer (Ma et al. 2024, "The Era of 1-bit LLMs"):
    clip(round(u), -1, 1), one of -1, 0, +1, where u = W / gamma and gamma = mean|W| (see `absmean_ternary`).
    Default surrogate: Identity, the straight-through estimator of the authors' code (w + (quant(w) - w).detach());
    Clipped(1.5) would pass the gradient only where u rounds into [-1, 1]."""
    name = "absmean_ternary"
    default_rule = Identity()

    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return np.clip(np.round(u.data), -1, 1) + 0.0  # + 0.0: no -0. in the levels

    cost = per_element(1)


class AbsmaxQuantize(Function):
    """The rounding step of BitNet's b-bit activation quantizer (Wang et al. 2023, "BitNet"; Ma et al. 2024):
    clip(round(u), -2^(b-1), 2^(b-1) - 1), an integer level, where u = x Q_b / max|x| (see `absmax_quantize`).
    Default surrogate: Identity (the authors' straight-through estimator)."""
    name = "absmax_quantize"
    default_rule = Identity()

    @staticmethod
    def forward(ctx, u, bits=8):
        ctx.save_for_backward(u)
        return np.clip(np.round(u.data), -2 ** (bits - 1), 2 ** (bits - 1) - 1) + 0.0

    cost = per_element(1)

class LSQ(Op):
    """Learned step size quantization (Esser et al. 2020, "Learned Step Size Quantization"):

        v = x / s,   y = round(clip(v, -Q_N, Q_P)) * s
        dy/dx := 1 where -Q_N < v < Q_P (strictly inside), else 0
        dy/ds := (-v + round(v) inside, -Q_N where v <= -Q_N, Q_P where v >= Q_P) * gs,  gs = 1 / sqrt(N Q_P)

    signed: Q_N = 2^(b-1), Q_P = 2^(b-1) - 1; unsigned: Q_N = 0, Q_P = 2^b - 1. N is the number of elements
    sharing each step (x.size / step.size) unless grad_scale is given."""
    name = "lsq"

    @staticmethod
    def forward(ctx, x, step, bits, signed, grad_scale=None):
        ctx.save_for_backward(x, step)
        qn, qp = (2 ** (bits - 1), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
        v = x.data / step.data
        ctx.qn, ctx.qp = qn, qp
        ctx.low, ctx.high = v <= -qn, v >= qp
        ctx.grad_scale = float(1 / np.sqrt(x.size / step.size * qp) if grad_scale is None else grad_scale)
        return _same_dtype(np.round(np.clip(v, -qn, qp)) * step.data, x)

    @staticmethod
    def backward(ctx, g):
        x, step = ctx.saved_tensors
        need_x, need_step = ctx.needs_input_grad[:2]
        # task 3.7: LSQ gradients
        inside = ~(ctx.low | ctx.high)
        gx = g * inside if need_x else None
        gs = None
        if need_step:
            v = x / step
            ends = (ctx.high * ctx.qp - ctx.low * ctx.qn).astype(g.dtype)
            gs = unbroadcast(g * ((_mask(np.round(array_of(v)), v) - v) * inside + ends) * ctx.grad_scale,
                             (step.shape, step.dtype))
        return gx, gs
        # end task

    cost = per_element(1)


class PACT(Op):
    """Parameterized clipping activation (Choi et al. 2018, "PACT"), n = 2^bits - 1:

        y = round(clip(x, 0, alpha) * n / alpha) * alpha / n
        dy/dx := 1 on [0, alpha],   dy/dalpha := 1 where x >= alpha, else 0"""
    name = "pact"

    @staticmethod
    def forward(ctx, x, alpha, bits):
        ctx.like_alpha = alpha.shape, alpha.dtype
        ctx.inside = (x.data >= 0) & (x.data <= alpha.data)
        ctx.above = x.data >= alpha.data
        n = 2 ** bits - 1
        y = np.clip(x.data, 0, alpha.data)
        return _same_dtype(np.round(y * n / alpha.data) * alpha.data / n, x)

    @staticmethod
    def backward(ctx, g):
        need_x, need_alpha = ctx.needs_input_grad[:2]
        # task 3.8: PACT gradients
        return (g * ctx.inside if need_x else None,
                unbroadcast(g * ctx.above, ctx.like_alpha) if need_alpha else None)
        # end task

    cost = per_element(1)


OPS = {cls.name: cls for cls in (Sign, Heaviside, Round, Floor, Ceil, Quantize, FakeQuantize, StochasticSign,
                                 Ternarize, LSQ, PACT, AbsmeanTernary, AbsmaxQuantize)}
for _name, _cls in OPS.items():
    if Function.registry.get(_name) is not _cls:
        raise ImportError(f"minigrad.ste: another op already took the name '{_name}'")
_BUILT_IN_DEFAULTS = {name: cls.default_rule for name, cls in OPS.items()}


# ---- choosing the rule ------------------------------------------------------------------------------
def _check_rule(op, rule, where):
    """A surrogate instance or a callable rule(ctx, g); a clear error otherwise."""
    if isinstance(rule, type) and issubclass(rule, Surrogate):
        raise TypeError(f"{where}: {op}= got the class {rule.__name__}; pass an instance, e.g. {rule.__name__}()")
    if not callable(rule):
        raise TypeError(f"{where}: {op}= must be a Surrogate (e.g. mg.ste.ApproxSign()) or a rule function "
                        f"(ctx, g) -> gradient, not {rule!r}")
    if not isinstance(rule, Surrogate):
        # A plain function is used as the backward rule itself, rule(ctx, g) -> gradient. A function of x alone
        # (the smooth function, or its derivative) would fail only in backward: refuse it here.
        try:
            signature = inspect.signature(rule)
        except (TypeError, ValueError):  # a builtin without a signature: trust it
            return rule
        try:
            signature.bind(None, None)
        except TypeError:
            name = getattr(rule, "__qualname__", None) or type(rule).__name__
            raise TypeError(
                f"{where}: {op}= got {name}{signature}, which cannot be called as a backward rule rule(ctx, g) -> "
                f"gradient. A surrogate is a Surrogate (e.g. mg.ste.ApproxSign()) or such a rule; to use a smooth "
                f"function f(x) as the surrogate, wrap it: mg.ste.Surrogate.from_function(f)") from None
    return rule


def _check_names(rules, where):
    for op in rules:
        if op not in OPS:
            raise KeyError(f"{where}: '{op}' is not a straight-through op; the ops are: {', '.join(OPS)}")


def _apply(cls, x, *args, surrogate=None, **kwargs):
    if surrogate is not None:
        surrogate = _check_rule(cls.name, surrogate, cls.name)
    return cls.apply(lift(x), *args, rule=surrogate, **kwargs)


def surrogates(**rules):
    """`with mg.ste.surrogates(sign=ApproxSign(), round=Identity()):` sets the rule of STE ops inside the scope.

    Scopes nest and restore the outer rule on exit, also after an exception; they are per thread and per
    asyncio task (contextvars), because this is mg.backward_rules with the names and values checked."""
    _check_names(rules, "surrogates")
    for op, rule in rules.items():
        if rule is None:
            raise TypeError(f"surrogates: {op}=None; to use the op's default inside the scope, pass "
                            f"mg.ste.OPS['{op}'].default_rule")
        _check_rule(op, rule, "surrogates")
    return backward_rules(**rules)


def set_default(**rules):
    """Set the default rule of STE ops (`set_default(sign=Tanh(2))`); None restores the built-in default.
    Returns the previous defaults, so `mg.ste.set_default(**previous)` undoes the change."""
    _check_names(rules, "set_default")
    previous = {}
    for op, rule in rules.items():
        rule = _BUILT_IN_DEFAULTS[op] if rule is None else _check_rule(op, rule, "set_default")
        previous[op] = OPS[op].default_rule
        OPS[op].default_rule = rule
    return previous


# ---- the functions users call -------------------------------------------------------------------
def sign(x, surrogate=None):
    """+1 where x >= 0, else -1. Backward: the surrogate's derivative (default Clipped(1.0))."""
    return _apply(Sign, x, surrogate=surrogate)


def heaviside(x, surrogate=None):
    """1 where x > 0, else 0. Backward: the surrogate's derivative (default Clipped(1.0))."""
    return _apply(Heaviside, x, surrogate=surrogate)


def round(x, surrogate=None):  # noqa: A001 (mirrors torch.round)
    """Round half to even. Backward: the surrogate's derivative (default Identity)."""
    return _apply(Round, x, surrogate=surrogate)


def floor(x, surrogate=None):
    """Floor. Backward: the surrogate's derivative (default Identity)."""
    return _apply(Floor, x, surrogate=surrogate)


def ceil(x, surrogate=None):
    """Ceil. Backward: the surrogate's derivative (default Identity)."""
    return _apply(Ceil, x, surrogate=surrogate)


def quantize(x, bits, lo=0.0, hi=1.0, surrogate=None):
    """k-bit uniform quantization of clip(x, lo, hi) (DoReFa). Backward: 1 on [lo, hi] unless a surrogate is given."""
    bits = _check_bits("quantize", bits)
    if not lo < hi:
        raise ValueError(f"quantize: need lo < hi, got lo={lo}, hi={hi}")
    return _apply(Quantize, x, bits, float(lo), float(hi), surrogate=surrogate)


def fake_quantize(x, scale, zero_point, qmin, qmax, axis=None, surrogate=None):
    """Quantize and dequantize exactly as PyTorch's fake_quantize_per_tensor_affine (axis=None) or
    fake_quantize_per_channel_affine (scale and zero_point: one per slice along `axis`)."""
    x = lift(x)
    scale = scale.data if isinstance(scale, Tensor) else np.asarray(scale)
    zero_point = zero_point.data if isinstance(zero_point, Tensor) else np.asarray(zero_point)
    if not qmin <= qmax:
        raise ValueError(f"fake_quantize: need qmin <= qmax, got qmin={qmin}, qmax={qmax}")
    if axis is None:
        if scale.size != 1 or zero_point.size != 1:
            raise ValueError(f"fake_quantize: per-tensor quantization takes one scale and one zero_point, got "
                             f"shapes {scale.shape} and {zero_point.shape}; pass axis= for per-channel quantization")
        scale, zero_point = scale.reshape(()), zero_point.reshape(())
    else:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"fake_quantize: axis {axis} is out of range for an input of shape {x.shape}")
        axis = int(axis) % x.ndim
        if scale.shape != (x.shape[axis],) or zero_point.shape != (x.shape[axis],):
            raise ValueError(f"fake_quantize: per-channel quantization along axis {axis} of an input of shape "
                             f"{x.shape} needs scale and zero_point of shape ({x.shape[axis]},), got "
                             f"{scale.shape} and {zero_point.shape}")
    if not np.all(scale > 0):
        raise ValueError(f"fake_quantize: scale must be positive, got {scale}")
    if not np.all(zero_point == np.round(zero_point)) or not np.all((qmin <= zero_point) & (zero_point <= qmax)):
        raise ValueError(f"fake_quantize: zero_point must be an integer in [qmin, qmax] = [{qmin}, {qmax}], "
                         f"got {zero_point}")
    return _apply(FakeQuantize, x, scale, zero_point, qmin, qmax, axis, surrogate=surrogate)


def stochastic_sign(x, rng=None, surrogate=None):
    """+1 with probability clip((x + 1) / 2, 0, 1), else -1; draws from rng (default: mg.manual_seed's)."""
    return _apply(StochasticSign, x, rng=rng, surrogate=surrogate)


def ternarize(x, threshold=0.05, surrogate=None):
    """-1, 0 or +1: sign(x) where |x| >= threshold, else 0. Backward: default Clipped(1.0)."""
    if not threshold >= 0:
        raise ValueError(f"ternarize: threshold must be >= 0, got {threshold}")
    return _apply(Ternarize, x, threshold=threshold, surrogate=surrogate)


def lsq(x, step, bits, signed, grad_scale=None):
    """LSQ quantizer round(clip(x / step, -Q_N, Q_P)) * step with a learnable step (Esser et al. 2020).
    `step`: a positive tensor, one value or broadcastable to x (per channel)."""
    x = lift(x)
    step = lift(step, x)
    bits = _check_bits("lsq", bits, least=2 if signed else 1)
    if not np.all(step.data > 0):
        raise ValueError(f"lsq: step must be positive, got {step.data}")
    try:
        np.broadcast_shapes(step.shape, x.shape)
    except ValueError:
        raise ValueError(f"lsq: step of shape {step.shape} does not broadcast to x of shape {x.shape}") from None
    return LSQ.apply(x, step, bits, bool(signed), grad_scale)


def pact(x, alpha, bits):
    """PACT: k-bit quantization of clip(x, 0, alpha) with a learnable clipping level alpha (Choi et al. 2018)."""
    x = lift(x)
    alpha = lift(alpha, x)
    bits = _check_bits("pact", bits)
    if not np.all(alpha.data > 0):
        raise ValueError(f"pact: alpha must be positive, got {alpha.data}")
    return PACT.apply(x, alpha, bits)


def absmean_ternary(weight, eps=1e-5, surrogate=None):
    """BitNet b1.58's ternary weight quantizer (Ma et al. 2024, "The Era of 1-bit LLMs", eq. 1-3):

        gamma = max(mean |W|, eps),   W~ = RoundClip(W / gamma, -1, 1) = clip(round(W / gamma), -1, 1)

    Returns (W~, gamma): W~ holds only -1, 0 and +1 (a product with it needs additions only) and W ~ gamma W~.
    gamma is a Python float, a constant (no gradient through it, as in the authors' code). The gradient reaches W
    through the division (1 / gamma) and the op `absmean_ternary`, whose rule is the surrogate (default Identity, so
    gamma W~ passes the gradient straight through to W)."""
    w = lift(weight)
    if not eps > 0:
        raise ValueError(f"absmean_ternary: eps must be > 0, got {eps}")
    gamma = max(float(np.abs(w.data).mean()) if w.size else 0.0, float(eps))
    return _apply(AbsmeanTernary, w / gamma, surrogate=surrogate), gamma


def absmax_quantize(x, bits=8, dim=-1, eps=1e-5, surrogate=None):
    """BitNet's absmax activation quantizer, per token (dim=-1: b1.58) or per tensor (dim=None: BitNet's training):

        s = Q_b / max(max |x| along dim, eps),  Q_b = 2^(bits-1) - 1,   x~ = clip(round(x s), -Q_b - 1, Q_b)

    Returns (x~, s): x~ holds integer levels (127 at most in size for 8 bits) and x ~ x~ / s. s is a constant tensor
    (keepdim shape); the gradient reaches x through the product (s) and the op `absmax_quantize`, whose rule is the
    surrogate (default Identity, so x~ / s passes the gradient straight through)."""
    x = lift(x)
    bits = _check_bits("absmax_quantize", bits, least=2)
    if not eps > 0:
        raise ValueError(f"absmax_quantize: eps must be > 0, got {eps}")
    if dim is None:
        amax = np.abs(x.data).max(initial=0.0).reshape((1,) * x.ndim)
    else:
        if not -x.ndim <= dim < x.ndim:
            raise IndexError(f"absmax_quantize: dim {dim} is out of range for an input of {x.ndim} dims")
        amax = np.abs(x.data).max(axis=dim, keepdims=True, initial=0.0)
    scale = Tensor._wrap(((2 ** (bits - 1) - 1) / np.maximum(amax, eps)).astype(x.dtype))
    return _apply(AbsmaxQuantize, x * scale, bits, surrogate=surrogate), scale

FUNCTIONS = {"sign": sign, "heaviside": heaviside, "round": round, "floor": floor, "ceil": ceil,
             "quantize": quantize, "fake_quantize": fake_quantize, "stochastic_sign": stochastic_sign,
             "ternarize": ternarize, "lsq": lsq, "pact": pact, "absmean_ternary": absmean_ternary,
             "absmax_quantize": absmax_quantize}


# ---- plots ----------------------------------------------------------------------------------------
def _plot_item(item):
    """(title, op function, surrogate or None) for a surrogate, an op (name, class or function) or a pair."""
    if isinstance(item, tuple) and len(item) == 2:
        op, surrogate = item
        fn = _plot_item(op)[1]
        return f"{getattr(fn, '__name__', 'op')}, {surrogate!r}", fn, surrogate
    if isinstance(item, Surrogate):
        return repr(item), FUNCTIONS[item.hard], item
    if isinstance(item, str) or isinstance(item, type) and issubclass(item, Function):
        name = item if isinstance(item, str) else item.name
        if name not in FUNCTIONS:
            raise KeyError(f"plot: '{name}' is not a straight-through op; the ops are: {', '.join(FUNCTIONS)}")
        return name, FUNCTIONS[name], None
    if callable(item):
        return getattr(item, "__name__", None) or getattr(getattr(item, "func", None), "__name__", "op"), item, None
    raise TypeError(f"plot: cannot plot {item!r}; pass surrogates (mg.ste.ApproxSign()), ops (mg.ste.sign or "
                    "'sign') or (op, surrogate) pairs")


def plot(items, path="surrogates.png", xlim=(-2.0, 2.0), points=801):
    """Draw, one row per item, the hard forward with the surrogate's smooth function (left) and the gradient
    backward actually uses (right), to a PNG at `path` (needs matplotlib). Returns the path.

    items: surrogates (shown with the op they stand in for), ops ('sign', mg.ste.round, or
    functools.partial(mg.ste.quantize, bits=2)) with the rule in force, or (op, surrogate) pairs."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("mg.ste.plot draws with matplotlib, an optional extra; install it with "
                          "`pip install matplotlib` (or `pip install -e .[plot]`)") from None
    pair = isinstance(items, tuple) and len(items) == 2 and isinstance(items[1], Surrogate) and \
        not isinstance(items[0], Surrogate)
    if pair or isinstance(items, (Surrogate, str)) or callable(items):
        items = [items]
    rows = [_plot_item(item) for item in items]
    grid = np.linspace(xlim[0], xlim[1], points)
    fig = Figure(figsize=(9, 2.4 * len(rows)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), 2, squeeze=False)
    for (title, fn, surrogate), (left, right) in zip(rows, axes):
        x = Tensor(grid.copy(), requires_grad=True)
        y = fn(x) if surrogate is None else fn(x, surrogate=surrogate)
        y.backward(Tensor(np.ones_like(grid)))
        rule = y.grad_fn.rule
        left.plot(grid, y.data, color="black", label="forward (hard)")
        if isinstance(rule, Surrogate):
            left.plot(grid, rule.smooth(Tensor(grid)).data, color="tab:blue", label=f"{rule!r}.smooth")
        right.plot(grid, x.grad.data, color="tab:red", label="gradient used in backward")
        title = title if surrogate is not None or not isinstance(rule, Surrogate) else f"{title}, {rule!r}"
        left.set_title(f"{title}: forward")
        right.set_title(f"{title}: backward")
        for ax in (left, right):
            ax.axhline(0, color="0.8", lw=0.5)
            ax.legend(loc="best", fontsize=7)
    fig.savefig(path, dpi=100)
    return path
