"""Losses, with PyTorch's names, arguments (in PyTorch's order, with the deprecated size_average and reduce),
reductions, result dtypes and errors.

cross_entropy, nll_loss and binary_cross_entropy are one op each: forward computes the loss from the logits (or
log-probabilities, probabilities) directly, and the backward rule is the closed form (softmax minus the target
distribution, ...) written in `mg.xp`, so a training step pays one dispatch for its loss and second derivatives
still work. The other losses are short compositions of minigrad ops (gradients of any order for free).

Where minigrad differs from PyTorch: an unbatched input (C,) takes a 0-d class target only (PyTorch also takes (1,));
soft_margin_loss never overflows (PyTorch's gives inf below target * input = -88 in float32); kl_div's gradient
with respect to a target entry equal to 0 is -input (PyTorch's is nan); binary_cross_entropy's second derivative
where the input is exactly 0 or 1 differs (PyTorch's double backward there is a separate formula).
"""
import math
import warnings

import numpy as np

from ... import ops
from ...autograd import Cost
from ...dtypes import compute_dtype
from ...ops import xp
from ...ops._common import const, lift, per_input_element, promote
from ...ops.elementwise import Op
from ...ops.reduce import _rounded, _shifted
from ...ops.shape import ScatterAdd
from ...tensor import Tensor
from ._utils import _floating
from .distance import pairwise_distance

__all__ = ["nll_loss", "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss",
           "triplet_margin_loss", "cosine_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss", "squared_hinge"]


# ---- reductions ----------------------------------------------------------------------------------------
def _reduction(reduction, size_average=None, reduce=None, op="loss", extra=()):
    """The reduction, from PyTorch's deprecated size_average / reduce when either is given (with its warning)."""
    for value in (size_average, reduce):
        if isinstance(value, str):
            raise TypeError(f"{op}: got {value!r} where PyTorch's order puts size_average or reduce (deprecated "
                            f"booleans); pass reduction={value!r} by keyword")
    if size_average is not None or reduce is not None:
        reduction = "none" if reduce is False else "sum" if size_average is False else "mean"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                      stacklevel=3)
    if reduction not in ("mean", "sum", "none") + extra:
        names = ", ".join(repr(r) for r in ("mean",) + extra + ("sum",))
        raise ValueError(f"{op}: reduction must be {names} or 'none', not {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    """The loss tensor reduced ('mean', 'sum' or 'none')."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _reduced(loss, reduction, divisor, dtype):
    """A loss array reduced in forward: 'mean' is the sum over `divisor` (nan when it is 0, as PyTorch)."""
    if reduction == "none":
        return loss.astype(dtype, copy=False)
    total = loss.sum(dtype=compute_dtype(dtype))
    if reduction == "sum":
        return np.asarray(total, dtype)
    return np.asarray(total / divisor if divisor else np.nan, dtype)


def _upstream(g, ctx):
    """The upstream gradient of each loss entry: g ('none', 'sum') or g / divisor ('mean'; 0 when nothing counted,
    as PyTorch)."""
    if ctx.reduction != "mean":
        return g
    return g / ctx.divisor if ctx.divisor else g * 0.0


# ---- class-index targets ------------------------------------------------------------------------------
class ClassTargets:
    """Class indices t (N, d1, ...) of an input (N, C, d1, ...): the NumPy index of each entry's class, which entries
    count (t != ignore_index), their weights w[t] (0 where ignored) and the weights' total."""

    def __init__(self, t, weight, ignore_index, dtype):
        self.valid = t != ignore_index
        self.all_valid = bool(self.valid.all())
        safe = t if self.all_valid else np.where(self.valid, t, 0)
        self.index = (np.arange(t.shape[0]).reshape((-1,) + (1,) * (t.ndim - 1)), safe,
                      *(np.arange(n).reshape((-1,) + (1,) * (t.ndim - 2 - i)) for i, n in enumerate(t.shape[1:])))
        self.weight = weight  # (C,) array or None
        w = self.valid if weight is None else weight[safe] if self.all_valid else np.where(self.valid, weight[safe], 0)
        self.weights = w.astype(dtype)
        self.total = float(self.weights.sum(dtype=np.float64))

    def pick(self, x, minus=0.0):
        """x[n, t[n, ...], ...] - minus where t counts, else 0 (an ignored entry never reads a -inf)."""
        picked = x[self.index] - minus
        return picked if self.all_valid else np.where(self.valid, picked, 0)

    def place(self, v, shape):
        """zeros(shape) with v (N, d1, ...) at each entry's class (ScatterAdd: differentiable)."""
        return xp.apply(ScatterAdd, v, self.index, shape)


def _class_axis(v):
    """v (N, d1, ...) with a size-1 class axis: (N, 1, d1, ...), to broadcast against an input (N, C, d1, ...)."""
    return v.reshape(v.shape[:1] + (1,) + v.shape[1:])


def _per_class(w, ndim):
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against an input of ndim dims."""
    return w.reshape((1, -1) + (1,) * (ndim - 2))


def _target_array(target):
    return target.data if isinstance(target, Tensor) else np.asarray(target)


def _layout_error(op, noun, x, t):
    return ValueError(f"{op}: expected {noun} of shape (N, C) or (N, C, d1, ...) with targets (N,) or (N, d1, ...), "
                      f"or unbatched {noun} (C,) with a 0-d target; got input {x.shape} and targets {t.shape}")


def _class_indices(op, x, t, ignore_index):
    """t checked against the input x (N, C, d1, ...): dtype, shape and range (PyTorch's checks and exception
    classes: IndexError for a class out of range)."""
    if t.dtype not in (np.int64, np.uint8):
        hint = (f"; floating-point targets are class probabilities and need the input's shape {x.shape}"
                if t.dtype.kind == "f" else "; convert them, e.g. t.astype('int64')")
        raise RuntimeError(f"{op}: class-index targets must be int64 (or uint8), got {t.dtype}{hint}")
    want = x.shape[:1] + x.shape[2:]
    if t.shape != want:
        error = ValueError if t.ndim == 0 or t.shape[0] != x.shape[0] else RuntimeError
        raise error(f"{op}: input of shape {x.shape} needs targets of shape {want}, got {t.shape}")
    t = t.astype(np.int64, copy=False)
    c = x.shape[1]
    if t.size and (t.min() < 0 or t.max() >= c):
        bad = t[(t != ignore_index) & ((t < 0) | (t >= c))]
        if bad.size:
            raise IndexError(f"{op}: target {bad[0]} is out of bounds: targets must lie in [0, {c - 1}] for {c} "
                             f"classes (or equal ignore_index={ignore_index}); got "
                             f"{', '.join(str(v) for v in np.unique(bad)[:5])}")
    return t


def _constant(op, name, value):
    """A weight-like argument as a tensor that takes no gradient: PyTorch's loss does not differentiate it, and
    refuses one that requires grad."""
    if isinstance(value, str):
        raise TypeError(f"{op}: got {value!r} as {name}; pass reduction={value!r} by keyword (PyTorch's order: input, "
                        f"target, weight, ...)")
    w = lift(value)
    if w.requires_grad:
        raise RuntimeError(f"{op}: not differentiable with respect to {name} (as PyTorch); pass {name}.detach()")
    return w


def _class_weight(op, weight, x):
    """weight as a (C,) array of x's dtype (PyTorch's checks); a constant (as PyTorch for class indices)."""
    if weight is None:
        return None
    w = _constant(op, "weight", weight)
    if w.shape != (x.shape[1],):
        raise RuntimeError(f"{op}: weight must hold one value per class, shape ({x.shape[1]},); got shape {w.shape}")
    if w.data.dtype != x.data.dtype:
        raise RuntimeError(f"{op}: weight is {w.data.dtype} but the input is {x.data.dtype}; pass a weight of the "
                           f"input's dtype, e.g. weight.astype('{x.data.dtype}')")
    return w.data


def _unbatched(op, noun, x, t):
    """(x, t, True) with a batch of one for an unbatched input (C,) and its 0-d target, else (x, t, False)."""
    if x.ndim == 1 and t.ndim == 0:
        return x.reshape(1, -1), t.reshape(1), True
    if x.ndim < 2:
        raise _layout_error(op, noun, x, t)
    return x, t, False


def _class_loss(op_cls, op, noun, input, target, weight, ignore_index, reduction, *args):
    x = _floating(input, op)
    x, t, single = _unbatched(op, noun, x, _target_array(target))
    t = _class_indices(op, x, t, ignore_index)
    targets = ClassTargets(t, _class_weight(op, weight, x), ignore_index, x.data.dtype)
    out = op_cls.apply(x, targets, *args, reduction)
    return out.reshape(()) if single and reduction == "none" else out


def _softmax_parts(x, ctx):
    """(x - max, log of the sum of exps) along the class axis 1, and softmax(x) when ctx records a gradient, with the
    arithmetic of the Softmax and LogSoftmax ops (ops.reduce): the array execution of the rules below reuses these,
    the Tensor execution recomputes them with those ops, and the two must agree bit for bit."""
    shifted = _shifted(x, 1)
    e = np.exp(shifted)
    total = np.sum(e, axis=1, keepdims=True)
    probs = _rounded(e / total, x) if getattr(ctx, "needs_input_grad", None) else None
    return shifted, np.log(total) if x.shape[1] else np.full_like(total, -np.inf), probs


def _per_target(flops):
    def cost(ctx, out, x, *args):
        return Cost(flops=flops * x.data.size + x.data.size // max(x.shape[1], 1), category="reduction")
    cost.__doc__ = f"{flops} FLOP(s) per input element, 1 per target"
    return cost


class NLLLoss(Op):
    """loss = -w[t] x[t] per entry (0 where t == ignore_index); 'mean' divides the sum by sum(w[t]).
    dx = -g w[t] at each target class, 0 elsewhere."""
    name = "nll_loss"

    @staticmethod
    def forward(ctx, x, targets, reduction):
        ctx.targets, ctx.in_shape, ctx.reduction, ctx.divisor = targets, x.shape, reduction, targets.total
        return _reduced(-(targets.weights * targets.pick(x.data)), reduction, targets.total, x.dtype)

    @staticmethod
    def backward(ctx, g):
        t = ctx.targets
        return t.place(_upstream(g, ctx) * -t.weights, ctx.in_shape)

    cost = _per_target(0)


class CrossEntropy(Op):
    """Cross-entropy of logits x (N, C, d1, ...) with class indices t, weights w and label smoothing e:
    loss = -sum_c a_c log softmax(x)_c with a = (1 - e) w[t] onehot(t) + e w / C (0 where t == ignore_index);
    'mean' divides the sum by sum(w[t]).   dx = g (softmax(x) sum_c a_c - a)."""
    name = "cross_entropy"

    @staticmethod
    def forward(ctx, x, targets, smoothing, reduction):
        shifted, log_total, ctx.probs = _softmax_parts(x, ctx)
        loss = -(targets.weights * targets.pick(shifted, log_total[:, 0]))
        ctx.save_for_backward(x)
        ctx.targets, ctx.smoothing, ctx.reduction, ctx.divisor = targets, smoothing, reduction, targets.total
        ctx.mass = targets.weights  # sum_c a_c per entry
        if smoothing:
            c, w = x.shape[1], targets.weight
            logp = shifted - log_total
            ctx.spread = (targets.valid * (smoothing / c)).astype(x.dtype)
            loss = loss * (1 - smoothing) - ctx.spread * (logp if w is None else logp * _per_class(w, x.ndim)).sum(1)
            ctx.mass = targets.weights * (1 - smoothing) + ctx.spread * (c if w is None else float(w.sum()))
        return _reduced(loss, reduction, targets.total, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        t, e = ctx.targets, ctx.smoothing
        gn = _upstream(g, ctx)
        probs = xp.softmax(x, 1) if xp.is_tensor(x) else ctx.probs
        grad = probs * _class_axis(gn * ctx.mass) - t.place(gn * (t.weights * (1 - e) if e else t.weights), x.shape)
        if e:
            spread = _class_axis(gn * ctx.spread)
            grad = grad - (spread if t.weight is None else spread * _per_class(t.weight, x.ndim))
        return grad

    cost = _per_target(5)


class CrossEntropyProbs(Op):
    """Cross-entropy of logits x (N, C, d1, ...) with class probabilities p, weights w and label smoothing e:
    loss = -sum_c w_c q_c log softmax(x)_c with q = (1 - e) p + e / C; 'mean' divides by the number of entries.
    dx = g (softmax(x) sum_c w_c q_c - w q);  dp = -g (1 - e) w log softmax(x);  dw = -sum g q log softmax(x)."""
    name = "cross_entropy_probs"

    @staticmethod
    def forward(ctx, x, p, weight, smoothing, reduction):
        shifted, log_total, ctx.probs = _softmax_parts(x, ctx)
        ctx.logp = _rounded(shifted - log_total, x)
        ctx.save_for_backward(x, p, weight)
        ctx.smoothing, ctx.reduction = smoothing, reduction
        ctx.divisor = x.data.size // x.shape[1] if x.shape[1] else 0
        wq = _weighted_probs(p.data, None if weight is None else weight.data, smoothing)
        return _reduced(-(wq * ctx.logp).sum(1), reduction, ctx.divisor, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, p, w = ctx.saved_tensors
        e = ctx.smoothing
        on_tensors = xp.is_tensor(x)
        logp = xp.log_softmax(x, 1) if on_tensors else ctx.logp
        gn = _upstream(g, ctx)
        gn = _class_axis(gn) if gn.ndim else gn
        need_x, need_p, need_w = ctx.needs_input_grad[:3]
        gx = gp = gw = None
        if need_x:
            wq = _weighted_probs(p, w, e)
            gx = ((xp.softmax(x, 1) if on_tensors else ctx.probs) * wq.sum(axis=1, keepdims=True) - wq) * gn
        if need_p:
            gp = logp * (-(1 - e) if w is None else _per_class(w, x.ndim) * -(1 - e)) * gn
        if need_w:
            gw = -(_weighted_probs(p, None, e) * logp * gn).sum(axis=(0,) + tuple(range(2, x.ndim)))
        return gx, gp, gw

    cost = _per_target(7)


def _weighted_probs(p, w, e):
    """w ((1 - e) p + e / C), with the classes on axis 1."""
    q = p * (1 - e) + e / p.shape[1] if e else p
    return q if w is None else q * _per_class(w, p.ndim)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[n, target[n], d1, ...] weighted by weight[target], for log-probabilities input (N, C), (N, C, d1, ...)
    or (C,) and class indices target (N,), (N, d1, ...) or (); targets equal to ignore_index count for nothing.
    'mean' is PyTorch's weighted mean: the sum divided by the total weight of the counted targets (nan if none)."""
    reduction = _reduction(reduction, size_average, reduce, "nll_loss")
    return _class_loss(NLLLoss, "nll_loss", "log-probabilities", input, target, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """-log softmax(input)[target], from logits (N, C), (N, C, d1, ...) or (C,), as one op (stable log-sum-exp).

    target: class indices (int64 or uint8) of shape (N,), (N, d1, ...) or (), with weight (C,), ignore_index and
    PyTorch's weighted mean; or class probabilities of the input's shape (mean: over the N d1 ... entries).
    label_smoothing e mixes the target with the uniform distribution: (1 - e) target + e / C (Szegedy et al.,
    CVPR 2016), weighted and ignored exactly as PyTorch computes it."""
    reduction = _reduction(reduction, size_average, reduce, "cross_entropy")
    if not 0 <= label_smoothing <= 1:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    x, t = _floating(input, "cross_entropy"), _target_array(target)
    if t.dtype.kind != "f" or t.shape != x.shape:
        return _class_loss(CrossEntropy, "cross_entropy", "logits", x, t, weight, ignore_index, reduction,
                           float(label_smoothing))
    if ignore_index != -100:
        raise RuntimeError("cross_entropy: ignore_index is not supported for class-probability targets (as PyTorch)")
    if x.ndim == 0:
        raise _layout_error("cross_entropy", "logits", x, t)
    single = x.ndim == 1
    c = x.shape[0] if single else x.shape[1]
    if weight is not None and lift(weight).shape != (c,):
        raise RuntimeError(f"cross_entropy: weight must hold one value per class, shape ({c},); got shape "
                           f"{lift(weight).shape}")
    (x, p, *w), _ = promote(x, target, *([] if weight is None else [weight]))
    if single:
        x, p = x.reshape(1, -1), p.reshape(1, -1)
    out = CrossEntropyProbs.apply(x, p, w[0] if w else None, float(label_smoothing), reduction)
    return out.reshape(()) if single and reduction == "none" else out


# ---- probabilities and logits of binary targets -----------------------------------------------------------
class BinaryCrossEntropy(Op):
    """-w (t log x + (1 - t) log(1 - x)), each log clamped at -100 (as PyTorch).
    dx = g w (x - t) / max(x (1 - x), 1e-12);  dt = g w (log(1 - x) - log(x))  (PyTorch's formulas)."""
    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.reduction, ctx.divisor = weight, reduction, x.data.size
        with np.errstate(divide="ignore"):
            log_x, log_1mx = np.maximum(np.log(x.data), -100), np.maximum(np.log1p(-x.data), -100)
        loss = -(t.data * log_x + (1 - t.data) * log_1mx)
        return _reduced(loss if weight is None else loss * weight, reduction, x.data.size, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gw = _upstream(g, ctx)
        if ctx.weight is not None:
            gw = gw * ctx.weight
        need_x, need_t = ctx.needs_input_grad[:2]
        return ((x - t) / xp.maximum((1 - x) * x, 1e-12) * gw if need_x else None,
                (xp.log(1 - x) - xp.log(x)) * gw if need_t else None)

    cost = per_input_element(6)


def _same_shape(input, target, op, broadcast=False):
    """input and target as tensors. Of one shape for the BCE losses (PyTorch refuses others); the regression losses
    (broadcast=True) broadcast a target of another shape with PyTorch's warning, since it is almost always a
    mistake."""
    input = _floating(input, op)
    target = lift(target, input)
    if input.shape != target.shape:
        if not broadcast:
            raise ValueError(f"{op}: using a target size {target.shape} that is different to the input size "
                             f"{input.shape} is not allowed (as in PyTorch); make them the same shape")
        warnings.warn(f"{op}: using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}); this will likely lead to incorrect results due to broadcasting (as PyTorch "
                      "warns). Please ensure they have the same size.", UserWarning, stacklevel=3)
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise RuntimeError(f"{op}: the input of shape {input.shape} and the target of shape {target.shape} do not "
                               "broadcast together") from None
    return input, target


def _fits(op, name, w, shape):
    """Refuse a weight that does not broadcast to the input's shape without growing it."""
    try:
        ok = np.broadcast_shapes(w.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"{op}: {name} of shape {w.shape} does not broadcast to the input's shape {shape}")
    return w


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-weight (t log(x) + (1 - t) log(1 - x)) for probabilities x in [0, 1] (each log clamped at -100, as PyTorch,
    so x = 0 or 1 gives a finite loss); one op with PyTorch's gradient. Prefer binary_cross_entropy_with_logits."""
    op = "binary_cross_entropy"
    reduction = _reduction(reduction, size_average, reduce, op)
    x, t = _same_shape(input, target, op)
    if t.data.dtype != x.data.dtype:
        raise RuntimeError(f"binary_cross_entropy: target is {t.data.dtype} but the input is {x.data.dtype}; they "
                           f"must have one dtype (as PyTorch), e.g. target.astype('{x.data.dtype}')")
    if x.size and not (np.all(x.data >= 0) and np.all(x.data <= 1)):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities); "
                           "for logits use binary_cross_entropy_with_logits")
    w = None if weight is None else _fits("binary_cross_entropy", "weight", _constant(op, "weight", weight).data,
                                          x.shape)
    return BinaryCrossEntropy.apply(x, t, None if w is None else w.astype(x.data.dtype), reduction)


def _softplus(z):
    """log(1 + e^z) = logsumexp(0, z): never overflows, gradient sigmoid(z) everywhere (also at 0)."""
    return ops.stack([const(np.zeros(z.shape), z.data.dtype), z]).logsumexp(axis=0)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """weight ((1 - t) x + (1 + (pos_weight - 1) t) log(1 + e^-x)) = -weight (pos_weight t log s(x) + (1 - t) log(1 -
    s(x))), never overflowing. pos_weight (a number or a tensor broadcasting to the input, e.g. one per class on the
    last dim) scales the positive term."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(reduction, size_average, reduce, op)
    x, t = _same_shape(input, target, op)
    (x, t), dtype = promote(x, t)
    log_weight = 1.0
    if pos_weight is not None:
        pw = _fits(op, "pos_weight", _constant(op, "pos_weight", pos_weight), x.shape)
        log_weight = (pw.astype(dtype) - 1) * t + 1
    loss = (1 - t) * x + log_weight * _softplus(-x)
    if weight is not None:
        loss = loss * _fits(op, "weight", _constant(op, "weight", weight), x.shape).astype(dtype)
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target (log target - input) for log-probabilities input: target log target is 0
    where target = 0; log_target=True takes log-probabilities as target (e^t (t - input)). 'batchmean' divides the
    sum by the batch size (the true KL divergence per sample); 'mean' divides by the number of elements (PyTorch's
    default, with its warning). Input and target broadcast."""
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    reduction = _reduction(reduction, size_average, reduce, "kl_div", extra=("batchmean",))
    x = _floating(input, "kl_div")
    (x, t), _ = promote(x, target)
    if log_target:
        loss = ops.exp(t) * (t - x)
    else:
        positive = t > 0
        loss = ops.where(positive, t * ops.log(ops.where(positive, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0] if x.ndim else loss.sum()
    return _reduce(loss, reduction)


# ---- regression ----------------------------------------------------------------------------------------------
def _weighted_mean(loss, weight, reduction, op, normalise=True):
    """PyTorch's weight= of the regression losses: one weight per element; 'mean' divides by the weights' sum
    (normalise) or by the number of elements."""
    if weight is None:
        return _reduce(loss, reduction)
    w = lift(weight)
    if w.shape != loss.shape:
        raise ValueError(f"{op}: weight of shape {w.shape} must have the input's shape {loss.shape}")
    loss = loss * w
    if reduction == "mean" and normalise:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, optionally weighted per element ('mean' then divides by the weights' sum). The target must
    have the input's shape (PyTorch broadcasts other shapes with a warning; minigrad refuses them)."""
    reduction = _reduction(reduction, size_average, reduce, "mse_loss")
    input, target = _same_shape(input, target, "mse_loss", broadcast=True)
    d = input - target
    return _weighted_mean(d * d, weight, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target| (gradient sign(input - target), 0 at a tie), optionally weighted as mse_loss."""
    reduction = _reduction(reduction, size_average, reduce, "l1_loss")
    input, target = _same_shape(input, target, "l1_loss", broadcast=True)
    return _weighted_mean((input - target).abs(), weight, reduction, "l1_loss")


def _quadratic_then_linear(d, delta, scale):
    """0.5 d^2 / scale where |d| < delta, else (|d| - 0.5 delta) delta / scale."""
    z = d.abs()
    return ops.where(z < delta, d * d * (0.5 / scale), (z - 0.5 * delta) * (delta / scale))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target; weight per element
    ('mean' stays the plain mean of the weighted losses, as PyTorch)."""
    reduction = _reduction(reduction, op="huber_loss")
    if not delta > 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _same_shape(input, target, "huber_loss", broadcast=True)
    return _weighted_mean(_quadratic_then_linear(input - target, delta, 1.0), weight, reduction, "huber_loss",
                          normalise=False)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (huber_loss / beta); beta = 0 is l1_loss (as PyTorch)."""
    reduction = _reduction(reduction, size_average, reduce, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must not be negative, got {beta}")
    input, target = _same_shape(input, target, "smooth_l1_loss", broadcast=True)
    d = input - target
    return _reduce(d.abs() if beta == 0 else _quadratic_then_linear(d, beta, beta), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood of counts target with rate e^input (log_input) or input (then
    input - target log(input + eps)); full adds Stirling's approximation of log(target!) where target > 1."""
    reduction = _reduction(reduction, size_average, reduce, "poisson_nll_loss")
    (x, t), _ = promote(_floating(input, "poisson_nll_loss"), target)
    loss = ops.exp(x) - t * x if log_input else x - t * ops.log(x + eps)
    if full:
        big = t > 1
        safe = ops.where(big, t, 2.0)
        stirling = safe * ops.log(safe) - safe + 0.5 * ops.log(safe * (2 * math.pi))
        loss = loss + ops.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi when full), var clamped below at eps with its
    gradient passed straight through (as PyTorch). var has the input's shape, or lacks (or has size 1 in) its last
    dim (one variance per sample), or is a number."""
    reduction = _reduction(reduction, op="gaussian_nll_loss")
    x = _floating(input, "gaussian_nll_loss")
    (x, t, v), _ = promote(x, target, var if isinstance(var, Tensor) else lift(var, x))
    if np.any(v.data < 0):
        raise ValueError("gaussian_nll_loss: var has negative entries; variances must be >= 0")
    if v.ndim == 0:
        v = v.expand(x.shape)
    elif v.shape != x.shape:
        if v.shape == x.shape[:-1]:
            v = v.unsqueeze(-1)
        elif not (v.shape[:-1] == x.shape[:-1] and v.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {v.shape} fits neither the input's shape {x.shape} "
                             "nor one variance per sample (the input's shape without, or with size 1 in, its last dim)")
    v = v + const(np.maximum(v.data, eps) - v.data, v.data.dtype)  # clamp, gradient straight through
    d = x - t
    loss = (ops.log(v) + d * d / v) * 0.5
    return _reduce(loss + 0.5 * math.log(2 * math.pi) if full else loss, reduction)


# ---- margins and embeddings ------------------------------------------------------------------------------------
def _hinge(z):
    """max(z, 0) with PyTorch's clamp_min gradient (1 at z = 0)."""
    return ops.clamp(z, min=0.0)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + e^(-target input)) for +-1 targets, without overflow (PyTorch's overflows to inf beyond
    target input < -88 in float32); target broadcasts and is a constant (as PyTorch)."""
    reduction = _reduction(reduction, size_average, reduce, "soft_margin_loss")
    (x, t), _ = promote(_floating(input, "soft_margin_loss"), target)
    return _reduce(_softplus(-(t.detach() * x)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, the mean over the C classes (last dim) of the binary cross-entropy of logits input with 0/1
    targets, weighted per class by weight."""
    reduction = _reduction(reduction, size_average, reduce, "multilabel_soft_margin_loss")
    (x, t), dtype = promote(_floating(input, "multilabel_soft_margin_loss"), target)
    loss = _softplus(x) - t * x  # -(t log s(x) + (1 - t) log(1 - s(x)))
    if weight is not None:
        loss = loss * lift(weight).astype(dtype)
    return _reduce(loss.sum(axis=-1) / x.shape[-1], reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin): input1 should rank higher where target = 1, lower where -1."""
    reduction = _reduction(reduction, size_average, reduce, "margin_ranking_loss")
    a, b, t = (lift(v) for v in (input1, input2, target))
    if not a.ndim == b.ndim == t.ndim:
        raise RuntimeError(f"margin_ranking_loss: input1 {a.shape}, input2 {b.shape} and target {t.shape} must have "
                           "the same number of dims")
    (a, b, t), _ = promote(_floating(a, "margin_ranking_loss"), b, t)
    return _reduce(_hinge(-t * (a - b) + margin), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target = 1, max(0, margin - input) where target = -1 (PyTorch's formula: both terms for any
    other target value); target broadcasts."""
    reduction = _reduction(reduction, size_average, reduce, "hinge_embedding_loss")
    x = _floating(input, "hinge_embedding_loss")
    t = _target_array(target)
    zero = const(0.0, x.data.dtype)
    loss = ops.where(t != 1, _hinge(margin - x), zero) + ops.where(t != -1, x, zero)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(input1, input2) where target = 1, max(0, cos - margin) where target = -1 (0 elsewhere), with
    cos = <a, b> / sqrt((|a|^2 + 1e-12) (|b|^2 + 1e-12)) along the last dim (PyTorch's). Inputs (N, D) with
    targets (N,), or (D,) with a 0-d target."""
    reduction = _reduction(reduction, size_average, reduce, "cosine_embedding_loss")
    (a, b), _ = promote(_floating(input1, "cosine_embedding_loss"), input2)
    t = _target_array(target)
    if a.shape != b.shape or a.ndim not in (1, 2) or t.shape != a.shape[:-1]:
        raise RuntimeError(f"cosine_embedding_loss: expected inputs (N, D) and targets (N,), or inputs (D,) and a 0-d "
                           f"target; got {a.shape}, {b.shape} and {t.shape}")
    cos = (a * b).sum(-1) / (((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12)).sqrt()
    zero = const(0.0, cos.data.dtype)
    loss = ops.where(t == 1, 1 - cos, zero) + ops.where(t == -1, _hinge(cos - margin), zero)
    return _reduce(loss, reduction)


def _margin_input(op, input, target):
    """input as (N, C) (an unbatched (C,) gets a batch of one) and target as an int64 array, for the multi-class
    margin losses; True when unbatched."""
    x = _floating(input, op)
    t = _target_array(target)
    if t.dtype != np.int64:
        raise RuntimeError(f"{op}: targets must be int64 class indices, got {t.dtype}")
    return (x.reshape(1, -1) if x.ndim == 1 else x), t, x.ndim == 1


def _margin_output(loss, reduction, single):
    return _reduce(loss.reshape(()) if single and reduction == "none" else loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample, sum over the classes j != t of w[t] max(0, margin - x[t] + x[j])^p, divided by C (multi-class
    hinge, Weston & Watkins); p is 1 or 2. Input (N, C) with targets (N,), or (C,) with a 0-d (or (1,)) target."""
    op = "multi_margin_loss"
    reduction = _reduction(reduction, size_average, reduce, op)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got {p}")
    x, t, single = _margin_input(op, input, target)
    if x.ndim != 2 or t.shape != x.shape[:1] and not (single and t.size == 1):
        raise RuntimeError(f"{op}: expected input (N, C) with targets (N,), or (C,) with a 0-d target; got "
                           f"{lift(input).shape} and {t.shape}")
    n, c = x.shape
    t = t.reshape(n)
    bad = t[(t < 0) | (t >= c)]
    if bad.size:
        raise RuntimeError(f"{op}: targets must lie in [0, {c - 1}] for {c} classes; got {bad[0]}")
    z = _hinge(margin - x[np.arange(n), t].reshape(n, 1) + x) * (np.arange(c) != t[:, None])
    loss = (z if p == 1 else z * z).sum(axis=1) / c
    if weight is not None:
        w = _constant(op, "weight", weight)
        if w.shape != (c,):
            raise RuntimeError(f"{op}: weight must hold one value per class, shape ({c},); got shape {w.shape}")
        loss = loss * w.data.astype(x.data.dtype)[t]
    return _margin_output(loss, reduction, single)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample, sum over its target classes j (target's leading entries up to the first -1; a repeat counts
    again) and its other classes k of max(0, 1 - (x[j] - x[k])), divided by C. Input (N, C) or (C,), int64 target
    of the same shape."""
    op = "multilabel_margin_loss"
    reduction = _reduction(reduction, size_average, reduce, op)
    x, t, single = _margin_input(op, input, target)
    t = t.reshape(x.shape) if single and t.shape == x.shape[1:] else t
    if x.ndim != 2 or t.shape != x.shape:
        raise RuntimeError(f"{op}: expected input (N, C) or (C,) and a target of its shape; got {lift(input).shape} "
                           f"and {_target_array(target).shape}")
    n, c = x.shape
    if t.size and (t.min() < -1 or t.max() >= c):
        raise RuntimeError(f"{op}: target values must lie in [-1, {c - 1}] for {c} classes (-1 ends the list); got "
                           f"{t.min() if t.min() < -1 else t.max()}")
    listed = np.cumprod(t != -1, axis=1).astype(bool)  # the entries before the first -1
    slots = np.where(listed, t, 0)
    is_target = np.zeros((n, c), bool)
    is_target[np.nonzero(listed)[0], slots[listed]] = True
    z = _hinge(1 - x[np.arange(n)[:, None], slots].reshape(n, c, 1) + x.reshape(n, 1, c))
    loss = (z * (listed[:, :, None] & ~is_target[:, None, :])).sum(axis=(1, 2)) / c
    return _margin_output(loss, reduction, single)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with d the p-norm distance along the last dim
    (eps added to the difference, as PyTorch's pairwise_distance); swap also tries d(positive, negative) as the
    negative distance (Balntas et al., BMVC 2016)."""
    reduction = _reduction(reduction, size_average, reduce, "triplet_margin_loss")
    (a, pos, neg), _ = promote(_floating(anchor, "triplet_margin_loss"), positive, negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"triplet_margin_loss: anchor {a.shape}, positive {pos.shape} and negative {neg.shape} must "
                           "have the same number of dims")
    if not p > 0:
        raise RuntimeError(f"triplet_margin_loss: p must be positive, got {p}")
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(_hinge(margin + pairwise_distance(a, pos, p, eps) - d_neg), reduction)


def squared_hinge(input, target, reduction="mean"):
    """max(0, 1 - target * input)^2 with +-1 targets: the loss of BinaryConnect / BNN (Courbariaux et al. 2015,
    Hubara et al. 2016). Integer class targets (N,) are turned into +-1 one-hot rows. (minigrad's; not in PyTorch.)"""
    reduction = _reduction(reduction, op="squared_hinge")
    input = lift(input)
    t = _target_array(target)
    if t.dtype.kind in "iu" and input.ndim == 2 and t.shape == (input.shape[0],):
        t = _class_indices("squared_hinge", input, t.astype(np.int64), -100)
        t = np.where(np.arange(input.shape[1]) == t[:, None], 1, -1)
    if t.shape != input.shape:
        raise ValueError(f"squared_hinge: targets of shape {t.shape} do not fit the input {input.shape}; pass +-1 "
                         "targets of the input's shape or integer classes of shape (N,)")
    if not np.all(np.abs(t) == 1):
        raise ValueError("squared_hinge: targets must be -1 or +1")
    margin = ops.relu(1 - input * const(t, input.dtype))
    return _reduce(margin * margin, reduction)
