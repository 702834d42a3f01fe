"""`mg.nn.functional` (import as F): layers and losses as functions of tensors, PyTorch's names.

Everything here is built from minigrad ops, so every function has a gradient of any order and the
tracer counts its cost op by op (a convolution's FLOPs are those of its matmul).
"""
import builtins

import numpy as np

from .. import ops
from ..ops._common import const, lift
from ..ops import conv as _conv
from ..ops.conv import _geometry, _pair
from ..tensor import Tensor, default_rng

def _floating(x, op):
    """x as a Tensor, refused with a clear error unless it is floating point (layers and losses compute in
    floating point; PyTorch refuses integer inputs too)."""
    x = lift(x)
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.data.dtype} (shape {x.shape}); layers and "
                           "losses compute in floating point: convert it first, e.g. x.float()")
    return x


# ---- activations ----------------------------------------------------------------------------------


def relu(x, inplace=False):
    """max(x, 0)."""
    return ops.relu(x)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    return ops.leaky_relu(x, negative_slope)


def gelu(x, approximate="none"):
    """x Phi(x) (Hendrycks & Gimpel 2016); approximate='tanh' for the tanh form."""
    return ops.gelu(x, approximate)


def tanh(x):
    return ops.tanh(x)


def sigmoid(x):
    return ops.sigmoid(x)


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    """clip(x, min_val, max_val); gradient 1 inside [min_val, max_val] (boundaries included, as DESIGN's
    clipped surrogates; PyTorch's hardtanh excludes them, which matters only exactly at the boundary)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is larger than max_val {max_val}")
    return ops.clip(x, min_val, max_val)


def softmax(x, dim=-1):
    """exp(x) / sum(exp(x)) along dim (shifted by the max, so it never overflows)."""
    return ops.softmax(x, dim)


def log_softmax(x, dim=-1):
    """x - logsumexp(x) along dim."""
    return ops.log_softmax(x, dim)


def identity(x):
    return x


# ---- layers -----------------------------------------------------------------------------------------
def linear(x, weight, bias=None):
    """x @ weight^T + bias, weight of shape (out_features, in_features) as in PyTorch."""
    x = _floating(x, "linear")
    if weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape}: "
                         f"the input's last axis must be in_features = {weight.shape[-1]}")
    y = x @ weight.T
    return y if bias is None else y + bias


def _conv_padding(padding, kernel, dilation, stride, op):
    """Resolve 'valid' / 'same' (stride 1 only, as PyTorch) into explicit ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding == "same":
            if _pair(stride, "stride", op) != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1 (as in PyTorch), got stride={stride}")
            pads = []
            for k, d in zip(kernel, _pair(dilation, "dilation", op)):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', not {padding!r}")
    return padding


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, pad_value=0.0):
    """2-D cross-correlation, as torch.nn.functional.conv2d (pad_value, minigrad's addition, is the value the
    padding holds: larq's pad_values, so a binary conv padded with 1 keeps both matmul operands +-1).

    y[n, o] = sum_{c, i, j} W[o, c, i, j] xpad[n, g(o) C/G + c, p s + i d, q s + j d] + b[o],
    computed as im2col (`unfold`) then one matmul per group: W (G, O/G, C/G*KH*KW) @ cols (G, C/G*KH*KW, N*OH*OW).
    """
    x = _floating(x, "conv2d")
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D input (N, C, H, W), got shape {x.shape}; add a batch axis with "
                         "x.unsqueeze(0)")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must have shape (out_channels, in_channels/groups, KH, KW), "
                         f"got {weight.shape}")
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    if groups < 1 or c % groups or o % groups or c // groups != cg:
        raise ValueError(f"conv2d: input with {c} channels, weight {weight.shape} and groups={groups} do not fit: "
                         f"need in_channels = groups * weight.shape[1] ({groups} * {cg}) and out_channels "
                         "divisible by groups")
    padding = _conv_padding(padding, (kh, kw), dilation, stride, "conv2d")
    _, _, _, _, (oh, ow) = _geometry(x.shape, (kh, kw), stride, padding, dilation, "conv2d")
    cols = _conv.unfold(x, (kh, kw), stride, padding, dilation, pad_value)      # (C*KH*KW, N*OH*OW)
    if groups == 1:
        y = weight.reshape(o, cg * kh * kw) @ cols                               # (O, N*OH*OW)
    else:
        y = weight.reshape(groups, o // groups, cg * kh * kw) @ cols.reshape(groups, cg * kh * kw, n * oh * ow)
    y = y.reshape(o, n, oh, ow).permute(1, 0, 2, 3)
    return y if bias is None else y + bias.reshape(1, o, 1, 1)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks, as torch.nn.functional.unfold: (N, C, H, W) -> (N, C*KH*KW, L), L = OH*OW.
    (minigrad's own `mg.ops.conv.unfold` gives the (C*KH*KW, N*L) layout that conv2d multiplies.)"""
    x = lift(x)
    _, _, _, _, (oh, ow) = _geometry(x.shape, kernel_size, stride, padding, dilation, "unfold")
    cols = _conv.unfold(x, kernel_size, stride, padding, dilation)
    return cols.reshape(cols.shape[0], x.shape[0], oh * ow).permute(1, 0, 2)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image, as torch.nn.functional.fold (the adjoint of unfold):
    (N, C*KH*KW, L) -> (N, C, *output_size)."""
    x = lift(x)
    k = _pair(kernel_size, "kernel_size", "fold")
    h, w = _pair(output_size, "output_size", "fold")
    if x.ndim != 3 or x.shape[1] % (k[0] * k[1]):
        raise ValueError(f"fold: expected an input of shape (N, C*{k[0]}*{k[1]}, L), got {x.shape}")
    n, ckk, blocks = x.shape
    return _conv.fold(x.permute(1, 0, 2).reshape(ckk, n * blocks), (n, ckk // (k[0] * k[1]), h, w), k, stride,
                      padding, dilation)


def one_hot(target, num_classes=-1):
    """Integer classes (any shape) -> int64 one-hot vectors along a new last axis."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class indices, got dtype {t.dtype}")
    n = int(t.max()) + 1 if num_classes < 0 else int(num_classes)
    if t.size and (t.min() < 0 or t.max() >= n):
        raise ValueError(f"one_hot: classes must lie in [0, {n - 1}], got values from {t.min()} to {t.max()}")
    return Tensor(np.eye(n, dtype=np.int64)[t])


def _pool_windows(x, kernel_size, stride, padding, dilation, pad_value, op):
    """The pooling windows of x as (C, KH*KW, N, OH, OW), and the output size."""
    x = lift(x)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    stride = kernel_size if stride is None else stride
    k, s, pads, d, (oh, ow) = _geometry(x.shape, kernel_size, stride, padding, dilation, op)
    if max(max(pads[0]), max(pads[1])) > min(k) // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {k}")
    n, c = x.shape[:2]
    cols = _conv.unfold(x, k, s, pads, d, pad_value)
    return cols.reshape(c, k[0] * k[1], n, oh, ow), (k, s, pads, d)


def _ceil_mode_extra(x, kernel_size, stride, padding, dilation, op):
    """Cells to append after the bottom and right edges so that pooling gives ceil_mode's output size:
    ceil((L + 2p - d(k-1) - 1) / s) + 1, less one when the last window would start in the right padding
    (PyTorch's rule)."""
    stride = kernel_size if stride is None else stride
    k, s, pads, d, _ = _geometry(lift(x).shape, kernel_size, stride, padding, dilation, op)
    extra = []
    for a in range(2):
        length, (before, after), span = x.shape[2 + a], pads[a], d[a] * (k[a] - 1) + 1
        n_out = -(-(length + before + after - span) // s[a]) + 1
        if (n_out - 1) * s[a] >= length + before:
            n_out -= 1
        extra.append(builtins.max(0, (n_out - 1) * s[a] + span - (length + before + after)))
    return extra


def _append_cells(x, extra, value):
    return ops.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), value) if any(extra) else x


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over each KH x KW window (padding counts as -inf). The gradient goes to the window's
    maximum (the first one, in row-major window order, when several tie, as PyTorch). ceil_mode keeps
    the last, partial window (PyTorch's output size)."""
    x = lift(x)
    if ceil_mode:
        x = _append_cells(x, _ceil_mode_extra(x, kernel_size, stride, padding, dilation, "max_pool2d"), -np.inf)
    windows, _ = _pool_windows(x, kernel_size, stride, padding, dilation, -np.inf, "max_pool2d")
    return _conv.WindowMax.apply(windows).permute(1, 0, 2, 3)


def _window_counts(length, k, s, pads, n_out, count_pad):
    """How many cells of each window count in an average: those of the input, and of its padding when
    count_pad; never the cells ceil_mode appends after the padding (PyTorch's divisor)."""
    before, after = pads
    cells = np.arange(n_out)[:, None] * s + np.arange(k)[None, :]  # positions in the padded input
    lo, hi = (0, before + length + after) if count_pad else (before, before + length)
    return ((cells >= lo) & (cells < hi)).sum(axis=1)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over each KH x KW window; padded zeros count unless count_include_pad=False. ceil_mode keeps
    the last, partial window and divides it by the cells it really covers (as PyTorch)."""
    x = lift(x)
    extra = _ceil_mode_extra(x, kernel_size, stride, padding, 1, "avg_pool2d") if ceil_mode else [0, 0]
    windows, (k, s, pads, d) = _pool_windows(_append_cells(x, extra, 0.0), kernel_size, stride, padding, 1, 0.0,
                                             "avg_pool2d")
    if not any(extra) and (count_include_pad or pads == ((0, 0), (0, 0))):
        return windows.mean(axis=1).permute(1, 0, 2, 3)
    oh, ow = windows.shape[3:]
    counts = np.outer(*(_window_counts(x.shape[2 + a], k[a], s[a], pads[a], (oh, ow)[a], count_include_pad)
                        for a in range(2)))
    return windows.sum(axis=1).permute(1, 0, 2, 3) / const(counts, x.dtype)


def adaptive_avg_pool2d(x, output_size):
    """Mean pooling to a fixed output size; sizes must divide the input's (the common case, e.g. 1 for
    global average pooling)."""
    x = lift(x)
    oh, ow = _pair(output_size, "output_size", "adaptive_avg_pool2d")
    h, w = x.shape[2:]
    if h % oh or w % ow:
        raise ValueError(f"adaptive_avg_pool2d: output size {(oh, ow)} must divide the input size {(h, w)}")
    return x.reshape(x.shape[0], x.shape[1], oh, h // oh, ow, w // ow).mean(axis=(3, 5))


def _channel_axes(x, op):
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"{op}: expected an input of shape (N, C), (N, C, L) or (N, C, H, W), got {x.shape}")
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1) (Ioffe & Szegedy, ICML 2015).

    training: mean and (biased) var of the batch, and running_mean / running_var are updated in place:
    r = (1 - momentum) r + momentum * stat (var unbiased, as PyTorch). Otherwise the running stats are used.
    """
    x = _floating(x, "batch_norm")
    axes, shape = _channel_axes(x, "batch_norm")
    if x.ndim == 2:
        shape = None  # (C,) already broadcasts against (N, C)
    w = weight if weight is None or shape is None else weight.reshape(shape)
    b = bias if bias is None or shape is None else bias.reshape(shape)
    if training:
        if x.size // x.shape[1] < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input shape {x.shape}")
        return _conv.batch_norm(x, w, b, running_mean, running_var, axes, eps, momentum)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
    shape = shape or (1, x.shape[1])
    inv = const((1 / np.sqrt(running_var.data + eps)).reshape(shape), x.dtype)
    mean = const(running_mean.data.reshape(shape), x.dtype)
    scale = inv if w is None else w * inv                  # per channel: cheap
    shift = -mean * scale if b is None else b - mean * scale
    return x * scale + shift


def dropout(x, p=0.5, training=True, rng=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (Srivastava et al., JMLR 2014);
    identity when not training. The mask comes from `rng` or the generator seeded by mg.manual_seed."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = lift(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * const(np.zeros(x.shape), x.dtype)
    keep = (rng or default_rng()).random(x.shape) >= p
    return x * const(np.multiply(keep, 1 / (1 - p), dtype=x.dtype), x.dtype)


def flatten(x, start_dim=1, end_dim=-1):
    return ops.flatten(x, start_dim, end_dim)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # PyTorch's name -> numpy.pad's


def pad(x, pad, mode="constant", value=0.0):
    """Pad the last len(pad)/2 axes, PyTorch's convention: pad = (last_before, last_after,
    second_last_before, second_last_after, ...). mode: 'constant' (with `value`), 'reflect',
    'replicate' or 'circular'. The last three gather each padded axis from the indices numpy.pad gives
    an arange, so their gradient is getitem's scatter-add (border gradients add into their sources)."""
    x = lift(x)
    if mode != "constant" and mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', not {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad must have an even length of at most 2 * ndim = {2 * x.ndim}, got {pad}")
    if builtins.min(pad, default=0) < 0:
        raise ValueError(f"pad: negative padding (cropping) is not supported, got {pad}; slice the tensor instead")
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pairs[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return ops.pad(x, pairs, value)
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            if mode == "reflect" and builtins.max(before, after) >= x.shape[axis]:
                raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the size "
                                 f"{x.shape[axis]} of axis {axis}")
            source = np.pad(np.arange(x.shape[axis]), (before, after), mode=_PAD_MODES[mode])
            x = x[(slice(None),) * axis + (source,)]
    return x


# ---- losses -----------------------------------------------------------------------------------------
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
