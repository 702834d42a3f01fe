"""Losses, with PyTorch's reductions."""

import numpy as np

from ... import ops
from ...ops._common import const, lift
from ...tensor import Tensor
from ._utils import _floating

__all__ = ["nll_loss", "cross_entropy", "mse_loss", "l1_loss", "squared_hinge", "binary_cross_entropy_with_logits"]


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def _class_targets(target, n, c, op):
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integer class indices, got dtype {t.dtype}; "
                        "for +-1 or probability targets use squared_hinge / a float target")
    if t.shape != (n,):
        raise ValueError(f"{op}: input of shape {(n, c)} needs targets of shape {(n,)}, got {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise ValueError(f"{op}: targets must lie in [0, {c - 1}] for {c} classes; got values from {t.min()} "
                         f"to {t.max()}")
    return t


def nll_loss(log_probs, target, reduction="mean"):
    """-log_probs[n, target[n]], averaged over the batch (reduction 'mean', 'sum' or 'none')."""
    log_probs = _floating(log_probs, "nll_loss")
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: expected (N, C) log-probabilities, got shape {log_probs.shape}")
    n, c = log_probs.shape
    t = _class_targets(target, n, c, "nll_loss")
    return _reduce(-log_probs[np.arange(n), t], reduction, "nll_loss")


def cross_entropy(input, target, reduction="mean", label_smoothing=0.0):
    """-log softmax(input)[target], computed stably through log_softmax.

    target: integer classes (N,), or class probabilities of the input's shape. With label smoothing e,
    the target distribution is (1 - e) one_hot + e / C (Szegedy et al., CVPR 2016)."""
    input = _floating(input, "cross_entropy")
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {input.shape}")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    n, c = input.shape
    logp = ops.log_softmax(input, -1)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind == "f":
        if t.shape != input.shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                             f"got {t.shape}")
        probs = target if isinstance(target, Tensor) else const(t, input.dtype)
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / c
        return _reduce(-(logp * probs).sum(axis=1), reduction, "cross_entropy")
    t = _class_targets(t, n, c, "cross_entropy")
    loss = -logp[np.arange(n), t]
    if label_smoothing:
        loss = loss * (1 - label_smoothing) - logp.mean(axis=1) * label_smoothing
    return _reduce(loss, reduction, "cross_entropy")


def _same_shape(input, target, op):
    input = _floating(input, op)
    target = lift(target, input)
    if input.shape != target.shape:
        raise ValueError(f"{op}: input of shape {input.shape} and target of shape {target.shape} differ; "
                         "they must have the same shape")
    return input, target


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, averaged."""
    input, target = _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """|input - target|, averaged."""
    input, target = _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def squared_hinge(input, target, reduction="mean"):
    """max(0, 1 - target * input)^2 with +-1 targets: the loss of BinaryConnect / BNN (Courbariaux et al. 2015,
    Hubara et al. 2016). Integer class targets (N,) are turned into +-1 one-hot rows."""
    input = lift(input)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind in "iu" and input.ndim == 2 and t.shape == (input.shape[0],):
        t = _class_targets(t, *input.shape, "squared_hinge")
        t = np.where(np.arange(input.shape[1]) == t[:, None], 1, -1)
    if t.shape != input.shape:
        raise ValueError(f"squared_hinge: targets of shape {t.shape} do not fit the input {input.shape}; pass +-1 "
                         "targets of the input's shape or integer classes of shape (N,)")
    if not np.all(np.abs(t) == 1):
        raise ValueError("squared_hinge: targets must be -1 or +1")
    margin = ops.relu(1 - input * const(t, input.dtype))
    return _reduce(margin * margin, reduction, "squared_hinge")


def binary_cross_entropy_with_logits(input, target, reduction="mean", pos_weight=None):
    """-(t log s(x) + (1 - t) log(1 - s(x))) = softplus(x) - t x, with softplus(x) = logsumexp(0, x)
    so it never overflows; pos_weight p scales the positive term: (1 + (p - 1) t) softplus(-x) + (1 - t) x."""
    input, target = _same_shape(input, target, "binary_cross_entropy_with_logits")
    zeros = const(np.zeros(input.shape), input.dtype)
    if pos_weight is None:
        loss = ops.stack([zeros, input]).logsumexp(axis=0) - target * input
    else:
        softplus_neg = ops.stack([zeros, -input]).logsumexp(axis=0)
        loss = (1 + (lift(pos_weight, input) - 1) * target) * softplus_neg + (1 - target) * input
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")
