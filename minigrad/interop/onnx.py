"""ONNX export: `mg.onnx.export(model, example_input, "m.onnx", opset=17)`, for ONNX Runtime and other engines.

How it works: the model runs once, in eval mode, on the example input, under a tracer (`mg.trace`'s Tracer, which
sees every op at the one door and every module call) that also keeps the tensors. Each mg.nn layer it saw becomes
its ONNX nodes, read from the layer's attributes (a Conv2d one `Conv`, a LayerNorm one `LayerNormalization`, a batch
norm `Mul` and `Add` with minigrad's own per-channel scale and shift, so its numbers are minigrad's to the last bit);
the ops run outside any layer (the glue of a forward you wrote: additions, reshapes, ...) become nodes one op at a
time. Parameters and buffers become initializers under their state-dict names. The batch axis stays free.

minigrad's conventions are kept: `Sign` is +1 at 0 (ONNX's `Sign(0)` is 0, so it is exported as
`Where(x >= 0, 1, -1)`); binary layers multiply by their +-1 weights (and scale by alpha = mean|W| per output
channel); quantizers (`Quantize`, `LSQ`, `PACT`, `fake_quantize`, DoReFa weights) are `QuantizeLinear` /
`DequantizeLinear` pairs when their levels fit ONNX's 8-bit types and zero points, arithmetic otherwise.
A layer or op with no export is an error naming the op, the layer's path and class, and why.
The `onnx` package is needed (an optional extra: `pip install onnx onnxruntime`); nothing else in minigrad imports it.
"""
import math

import numpy as np

from .. import nn as mnn
from ..nn import binary as mbinary
from ..tensor import Tensor
from ..trace import Tracer

__all__ = ["export", "ExportError"]


class ExportError(NotImplementedError):
    """A layer or op minigrad cannot write as ONNX; the message names it."""


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise ImportError("mg.onnx.export needs the `onnx` package, an optional extra: `pip install onnx onnxruntime` "
                          "(or `pip install minigrad[interop]`)") from None
    return onnx, helper, numpy_helper


# ---- recording: a tracer that keeps the tensors -----------------------------------------------------------
class _Recorder(Tracer):
    """Tracer that also keeps, in order, each call of a layer that has a converter (its inputs and output), and each
    op run outside such layers (its inputs, keyword arguments and output)."""

    def __init__(self, model):
        super().__init__(model)
        self.events, self.inside, self.paths = [], [], {id(m): p for p, m in model.named_modules()}

    def _push(self, module, args):
        super()._push(module, args)
        self.inside.append(module if _converter(module) is not None and not self._within() else None)

    def _pop(self, module, args, output):
        super()._pop(module, args, output)
        if self.inside and self.inside[-1] is module:
            self.events.append(("layer", module, args, output))
        if self.inside:
            self.inside.pop()

    def _within(self):
        return any(m is not None for m in self.inside)

    def on_op(self, cls, ctx, args, kwargs, result, elapsed):
        super().on_op(cls, ctx, args, kwargs, result, elapsed)
        if not self._within():
            self.events.append(("op", cls, ctx, args, kwargs, result))


# ---- the graph being built --------------------------------------------------------------------------------
class _Graph:
    def __init__(self, helper, numpy_helper, opset, dtype):
        self.helper, self.numpy_helper, self.opset, self.dtype = helper, numpy_helper, opset, dtype
        self.nodes, self.initializers, self.names, self.keep, self.counter = [], [], {}, [], 0
        self.where = "the model"
        self.unavailable = {}  # id of a tensor the graph does not compute -> what it is

    def fresh(self, base):
        self.counter += 1
        return f"{base}_{self.counter}"

    def node(self, op, inputs, outputs=1, **attrs):
        """Add a node; returns its output name (or names, when outputs > 1)."""
        outs = [self.fresh(op) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op, list(inputs), outs, name=self.fresh(f"{op}_node"), **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, value, name=None, dtype=None):
        """An initializer holding `value` (floats in the model's dtype unless told)."""
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if dtype is not None:
            array = array.astype(dtype)
        elif array.dtype.kind == "f":
            array = array.astype(self.dtype)
        name = name or self.fresh("const")
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values):
        return self.const(np.asarray(values, np.int64), dtype=np.int64)

    def name_of(self, t, label=None, dtype=None):
        """The value name of a tensor: an input or an output computed before, else a constant (a parameter, buffer or
        a number of the forward, cast to `dtype` when given), added as an initializer (under `label` if given)."""
        key = id(t)
        if key in self.unavailable:
            raise ExportError(f"mg.onnx.export: the model uses {self.unavailable[key]}, which the exported graph does "
                              "not compute")
        if key not in self.names:
            self.keep.append(t)
            self.names[key] = self.const(t, label, dtype)
        return self.names[key]

    def set(self, t, name):
        self.keep.append(t)
        self.names[id(t)] = name


def _fail(g, what, why):
    raise ExportError(f"mg.onnx.export: {what} in {g.where} has no ONNX export: {why}")


# ---- layers --------------------------------------------------------------------------------------------------
_CONVERTERS = {}


def _layer(*classes):
    def register(fn):
        for cls in classes:
            _CONVERTERS[cls] = fn
        return fn
    return register


def _converter(module):
    for cls in type(module).__mro__:
        if cls in _CONVERTERS:
            return _CONVERTERS[cls]
    return None


def _param(g, module, name):
    t = getattr(module, name)
    return None if t is None else g.name_of(t, f"{g.path}.{name}" if g.path else name)


def _matmul_bias(g, x, w_t, bias, ndim):
    """x @ w_t (+ bias): Gemm for 2-D inputs, MatMul (+ Add) otherwise."""
    if ndim == 2:
        return g.node("Gemm", [x, w_t] + ([bias] if bias else []))
    y = g.node("MatMul", [x, w_t])
    return g.node("Add", [y, bias]) if bias else y


@_layer(mnn.Linear)
def _linear(g, m, x, inputs, out):
    w = g.const(m.weight.data.T, f"{g.path}.weight.T" if g.path else "weight.T")
    return _matmul_bias(g, x, w, _param(g, m, "bias"), inputs[0].ndim)


@_layer(mnn.Identity, mnn.Dropout)
def _identity(g, m, x, inputs, out):
    return g.node("Identity", [x])


def _reshape_to(g, x, shape, keep_batch=True):
    """Reshape to a shape seen in the example, its first axis left to the batch (0: copy) when keep_batch."""
    shape = list(shape)
    if keep_batch and shape:
        shape[0] = 0
    return g.node("Reshape", [x, g.ints(shape)])


@_layer(mnn.Flatten, mnn.Unflatten)
def _reshape_layer(g, m, x, inputs, out):
    return _reshape_to(g, x, out.shape, keep_batch=getattr(m, "start_dim", 1) != 0 and getattr(m, "dim", 1) != 0)


def _spatial_pads(m, nd, x_shape=None):
    """ONNX pads (all befores, then all afters) of a conv's padding: ints, 'valid' or 'same'."""
    if m.padding == "valid":
        pairs = [(0, 0)] * nd
    elif m.padding == "same":
        totals = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
        pairs = [(t // 2, t - t // 2) for t in totals]
    else:
        pairs = [(p, p) for p in m.padding]
    return [a for a, _ in pairs] + [b for _, b in pairs]


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad(g, x, pads, ndim, mode="constant", value=0.0):
    """Pad the spatial axes (the last len(pads) / 2) with ONNX's Pad."""
    nd = len(pads) // 2
    full = [0] * (ndim - nd) + pads[:nd] + [0] * (ndim - nd) + pads[nd:]
    if mode == "wrap" and g.opset < 19:  # ONNX's Pad wraps from opset 19 on: the ends, sliced and concatenated
        for i in range(nd):
            axis, before, after = ndim - nd + i, pads[i], pads[nd + i]
            parts = ([g.node("Slice", [x, g.ints([-before]), g.ints([2 ** 62]), g.ints([axis])])] if before else []) \
                + [x] + ([g.node("Slice", [x, g.ints([0]), g.ints([after]), g.ints([axis])])] if after else [])
            x = g.node("Concat", parts, axis=axis) if len(parts) > 1 else x
        return x
    ins = [x, g.ints(full)] + ([g.const(np.asarray(value))] if mode == "constant" else [])
    return g.node("Pad", ins, mode=mode)


def _conv(g, m, x, weight, ndim, pad_value=0.0):
    """Conv of x with the initializer `weight`, as the layer m (stride, padding and its mode, dilation, groups)."""
    nd = len(m.kernel_size)
    pads = _spatial_pads(m, nd)
    mode = getattr(m, "padding_mode", "zeros")
    if mode != "zeros" or pad_value:
        x = _pad(g, x, pads, ndim, _PAD_MODES.get(mode, "constant"), pad_value)
        pads = [0] * (2 * nd)
    return g.node("Conv", [x, weight], strides=list(m.stride), pads=pads, dilations=list(m.dilation), group=m.groups)


def _unbatched(g, x, ndim, nd, convert):
    """Run `convert` on a batch of one when the input has no batch axis (a conv's (C, *S) input)."""
    if ndim == nd + 1:
        y = convert(g.node("Unsqueeze", [x, g.ints([0])]), ndim + 1)
        return g.node("Squeeze", [y, g.ints([0])])
    return convert(x, ndim)


@_layer(mnn.Conv1d, mnn.Conv2d, mnn.Conv3d)
def _conv_layer(g, m, x, inputs, out):
    def convert(x, ndim):
        y = _conv(g, m, x, _param(g, m, "weight"), ndim)
        return _channel_add(g, y, m.bias, ndim) if m.bias is not None else y
    return _unbatched(g, x, inputs[0].ndim, len(m.kernel_size), convert)


def _channel_add(g, y, bias, ndim, label="bias"):
    b = g.const(bias.data.reshape((-1,) + (1,) * (ndim - 2)))
    return g.node("Add", [y, b])


@_layer(mnn.ConvTranspose1d, mnn.ConvTranspose2d, mnn.ConvTranspose3d)
def _conv_transpose(g, m, x, inputs, out):
    nd = len(m.kernel_size)
    lead = inputs[0].ndim - nd
    output_padding = [o - ((i - 1) * s - 2 * p + d * (k - 1) + 1) for o, i, s, p, d, k in
                      zip(out.shape[lead:], inputs[0].shape[lead:], m.stride, m.padding, m.dilation, m.kernel_size)]

    def convert(x, ndim):
        ins = [x, _param(g, m, "weight")] + ([_param(g, m, "bias")] if m.bias is not None else [])
        return g.node("ConvTranspose", ins, strides=list(m.stride), pads=list(m.padding) * 2,
                      dilations=list(m.dilation), group=m.groups, output_padding=output_padding)
    return _unbatched(g, x, inputs[0].ndim, nd, convert)


def _tuple(v, nd):
    return list(v) if isinstance(v, (tuple, list)) else [v] * nd


@_layer(mnn.MaxPool1d, mnn.MaxPool2d, mnn.MaxPool3d)
def _max_pool(g, m, x, inputs, out):
    if m.return_indices:
        _fail(g, "max pooling with return_indices=True", "ONNX's MaxPool indices count over the whole tensor, "
              "PyTorch's and minigrad's over each channel's plane")
    nd = int(type(m).__name__[-2])
    pads = _tuple(m.padding, nd)
    return _unbatched(g, x, inputs[0].ndim, nd, lambda x, ndim: g.node(
        "MaxPool", [x], kernel_shape=_tuple(m.kernel_size, nd), strides=_tuple(m.stride, nd), pads=pads * 2,
        dilations=_tuple(m.dilation, nd), ceil_mode=int(m.ceil_mode)))


@_layer(mnn.AvgPool1d, mnn.AvgPool2d, mnn.AvgPool3d)
def _avg_pool(g, m, x, inputs, out):
    nd = int(type(m).__name__[-2])
    kernel = _tuple(m.kernel_size, nd)

    def convert(x, ndim):
        y = g.node("AveragePool", [x], kernel_shape=kernel, strides=_tuple(m.stride, nd),
                   pads=_tuple(m.padding, nd) * 2, ceil_mode=int(m.ceil_mode),
                   count_include_pad=int(m.count_include_pad or m.divisor_override is not None))
        if m.divisor_override is not None:  # the window's sum over the divisor
            y = g.node("Mul", [y, g.const(np.asarray(math.prod(kernel) / m.divisor_override))])
        return y
    if m.ceil_mode and m.count_include_pad and any(_tuple(m.padding, nd)):
        _fail(g, "average pooling with ceil_mode, padding and count_include_pad", "the windows that run past the "
              "padding are divided differently by ONNX Runtime and PyTorch")
    return _unbatched(g, x, inputs[0].ndim, nd, convert)


@_layer(mnn.AdaptiveAvgPool1d, mnn.AdaptiveAvgPool2d, mnn.AdaptiveAvgPool3d, mnn.AdaptiveMaxPool1d,
        mnn.AdaptiveMaxPool2d, mnn.AdaptiveMaxPool3d)
def _adaptive_pool(g, m, x, inputs, out):
    """One pooling when the input sizes are multiples of the output sizes; else PyTorch's windows (from
    floor(i in / out) to ceil((i + 1) in / out)), one axis at a time: a Slice and a ReduceMean / ReduceMax each,
    concatenated (a box's mean or max is the mean or max along each axis in turn)."""
    average = "Avg" in type(m).__name__
    if not average and m.return_indices:
        _fail(g, "adaptive max pooling with return_indices=True", "ONNX has no such indices")
    nd = int(type(m).__name__[-2])
    size_in, size_out = inputs[0].shape[-nd:], out.shape[-nd:]
    if all(i % o == 0 for i, o in zip(size_in, size_out)):
        kernel = [i // o for i, o in zip(size_in, size_out)]
        return _unbatched(g, x, inputs[0].ndim, nd, lambda x, ndim: g.node(
            "AveragePool" if average else "MaxPool", [x], kernel_shape=kernel, strides=kernel))
    ndim = inputs[0].ndim
    for i, (n_in, n_out) in enumerate(zip(size_in, size_out)):
        axis = ndim - nd + i
        parts = []
        for o in range(n_out):
            lo, hi = (o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)
            window = g.node("Slice", [x, g.ints([lo]), g.ints([hi]), g.ints([axis])])
            parts.append(_reduce(g, "ReduceMean" if average else "ReduceMax", window, [axis], keep=True))
        x = g.node("Concat", parts, axis=axis) if len(parts) > 1 else parts[0]
    return x


def _reduce(g, op, x, axes, keep=True):
    """A Reduce* op over `axes` (an input from opset 18 on, ReduceSum's from 13; an attribute before)."""
    if g.opset >= 18 or op == "ReduceSum":
        return g.node(op, [x, g.ints(axes)], keepdims=int(keep))
    return g.node(op, [x], axes=list(axes), keepdims=int(keep))


@_layer(mnn.LPPool1d, mnn.LPPool2d, mnn.LPPool3d)
def _lp_pool(g, m, x, inputs, out):
    """(sum over the window of x^p)^(1/p), as minigrad and PyTorch (ONNX's LpPool takes |x|): Pow, AveragePool times
    the window's size, Pow."""
    nd = int(type(m).__name__[-2])
    kernel = _tuple(m.kernel_size, nd)
    stride = kernel if m.stride is None else _tuple(m.stride, nd)
    p = float(m.norm_type)

    def convert(x, ndim):
        s = g.node("AveragePool", [g.node("Pow", [x, g.const(np.asarray(p))])], kernel_shape=kernel, strides=stride,
                   ceil_mode=int(m.ceil_mode))
        s = g.node("Mul", [s, g.const(np.asarray(float(math.prod(kernel))))])
        return g.node("Pow", [s, g.const(np.asarray(1 / p))])
    return _unbatched(g, x, inputs[0].ndim, nd, convert)


@_layer(mnn.MaxUnpool1d, mnn.MaxUnpool2d, mnn.MaxUnpool3d)
def _max_unpool(g, m, x, inputs, out):
    """Scatter each value to its index in its channel's output plane (ScatterElements over zeros)."""
    indices = inputs[1]
    plane = math.prod(out.shape[2:])
    flat_x = g.node("Reshape", [x, g.ints([0, 0, -1])])
    flat_i = g.node("Reshape", [g.name_of(indices), g.ints([0, 0, -1])])
    shape = g.node("Concat", [g.node("Slice", [g.node("Shape", [x]), g.ints([0]), g.ints([2])]), g.ints([plane])],
                   axis=0)
    zeros = g.node("ConstantOfShape", [shape], value=g.helper.make_tensor("zero", _ONNX_TYPE[g.dtype], [1], [0]))
    y = g.node("ScatterElements", [zeros, flat_i, flat_x], axis=2)
    return _reshape_to(g, y, out.shape)


def _affine_channels(g, x, m, ndim):
    """Batch norm with running statistics, as minigrad computes it: x * scale + shift, with per channel
    scale = weight / sqrt(running_var + eps) and shift = bias - running_mean * scale, so the exported numbers are
    minigrad's to the last bit (a binary network's signs then flip at the same inputs)."""
    dtype = g.dtype
    inv = (1 / np.sqrt(m.running_var.data + m.eps)).astype(dtype)
    mean = m.running_mean.data.astype(dtype)
    scale = inv if m.weight is None else m.weight.data.astype(dtype) * inv
    shift = -mean * scale if m.bias is None else m.bias.data.astype(dtype) - mean * scale
    shape = (-1,) + (1,) * (ndim - 2)
    return g.node("Add", [g.node("Mul", [x, g.const(scale.reshape(shape), f"{g.path}.scale")]),
                          g.const(shift.reshape(shape), f"{g.path}.shift")])


def _batch_norm(g, x, mean, var, weight, bias, eps, channels):
    ones, zeros = np.ones(channels), np.zeros(channels)
    return g.node("BatchNormalization", [x, weight or g.const(ones), bias or g.const(zeros), mean, var], epsilon=eps)


def _standardize(g, x, axes, eps, weight=None, bias=None):
    """(x - mean) / sqrt(var + eps) over `axes` (biased variance), * weight + bias."""
    centred = g.node("Sub", [x, _mean(g, x, axes)])
    var = _mean(g, g.node("Mul", [centred, centred]), axes)
    y = g.node("Div", [centred, g.node("Sqrt", [g.node("Add", [var, g.const(np.asarray(eps))])])])
    if weight is not None:
        y = g.node("Mul", [y, weight])
    return g.node("Add", [y, bias]) if bias is not None else y


def _mean(g, x, axes):
    return _reduce(g, "ReduceMean", x, axes)


@_layer(mnn.BatchNorm1d, mnn.BatchNorm2d, mnn.BatchNorm3d)
def _bn(g, m, x, inputs, out):
    ndim = inputs[0].ndim
    if m.running_mean is not None:
        return _affine_channels(g, x, m, ndim)
    shape = (-1,) + (1,) * (ndim - 2)  # batch statistics (track_running_stats=False), also in eval mode
    w = g.const(m.weight.data.reshape(shape)) if m.weight is not None else None
    b = g.const(m.bias.data.reshape(shape)) if m.bias is not None else None
    return _standardize(g, x, [0] + list(range(2, ndim)), m.eps, w, b)


@_layer(mnn.InstanceNorm1d, mnn.InstanceNorm2d, mnn.InstanceNorm3d)
def _instance_norm(g, m, x, inputs, out):
    nd = int(type(m).__name__[-2])

    def convert(x, ndim):
        if m.running_mean is not None and not m.training:
            return _batch_norm(g, x, _param(g, m, "running_mean"), _param(g, m, "running_var"),
                               _param(g, m, "weight"), _param(g, m, "bias"), m.eps, m.num_features)
        scale = _param(g, m, "weight") or g.const(np.ones(m.num_features))
        bias = _param(g, m, "bias") or g.const(np.zeros(m.num_features))
        return g.node("InstanceNormalization", [x, scale, bias], epsilon=m.eps)
    return _unbatched(g, x, inputs[0].ndim, nd, convert)


@_layer(mnn.LayerNorm)
def _layer_norm(g, m, x, inputs, out):
    axes = list(range(inputs[0].ndim - len(m.normalized_shape), inputs[0].ndim))
    if g.opset >= 17:
        scale = _param(g, m, "weight") or g.const(np.ones(m.normalized_shape))
        ins = [x, scale] + ([_param(g, m, "bias")] if m.bias is not None else [])
        return g.node("LayerNormalization", ins, axis=axes[0], epsilon=m.eps)
    return _standardize(g, x, axes, m.eps, _param(g, m, "weight"), _param(g, m, "bias"))


@_layer(mnn.GroupNorm)
def _group_norm(g, m, x, inputs, out):
    ndim = inputs[0].ndim
    grouped = g.node("Reshape", [x, g.ints([0, m.num_groups, -1])])
    y = g.node("Reshape", [_standardize(g, grouped, [2], m.eps), g.node("Shape", [x])])
    shape = (-1,) + (1,) * (ndim - 2)
    if m.weight is not None:
        y = g.node("Mul", [y, g.const(m.weight.data.reshape(shape))])
        if m.bias is not None:
            y = g.node("Add", [y, g.const(m.bias.data.reshape(shape))])
    return y


@_layer(mnn.RMSNorm)
def _rms_norm(g, m, x, inputs, out):
    axes = list(range(inputs[0].ndim - len(m.normalized_shape), inputs[0].ndim))
    eps = float(np.finfo(g.dtype).eps) if m.eps is None else m.eps
    ms = _mean(g, g.node("Mul", [x, x]), axes)
    y = g.node("Div", [x, g.node("Sqrt", [g.node("Add", [ms, g.const(np.asarray(eps))])])])
    return g.node("Mul", [y, _param(g, m, "weight")]) if m.weight is not None else y


@_layer(mnn.LocalResponseNorm)
def _lrn(g, m, x, inputs, out):
    return g.node("LRN", [x], size=m.size, alpha=float(m.alpha), beta=float(m.beta), bias=float(m.k))


@_layer(mnn.Embedding)
def _embedding(g, m, x, inputs, out):
    rows = g.node("Gather", [_param(g, m, "weight"), x], axis=0)
    if m.max_norm is None:
        return rows
    # the rows whose norm is over max_norm, scaled by max_norm / (norm + 1e-7) (minigrad scales the weight in place)
    p = float(m.norm_type)
    if p in (1.0, 2.0):
        norm = _reduce(g, "ReduceL2" if p == 2 else "ReduceL1", rows, [-1])
    else:
        norm = g.node("Pow", [_reduce(g, "ReduceSum", g.node("Pow", [g.node("Abs", [rows]), g.const(np.asarray(p))]),
                                      [-1]), g.const(np.asarray(1 / p))])
    limit = g.const(np.asarray(m.max_norm))
    factor = g.node("Div", [limit, g.node("Add", [norm, g.const(np.asarray(1e-7))])])
    return g.node("Mul", [rows, g.node("Where", [g.node("Greater", [norm, limit]), factor, g.const(np.asarray(1.0))])])


@_layer(mnn.EmbeddingBag)
def _embedding_bag(g, m, x, inputs, out):
    if inputs[0].ndim != 2 or len(inputs) > 1 or m.max_norm is not None or m.padding_idx is not None:
        _fail(g, "EmbeddingBag with offsets, per-sample weights, max_norm or padding_idx", "bags of one size (a 2-D "
              "input) are exported")
    rows = g.node("Gather", [_param(g, m, "weight"), x], axis=0)
    reduce = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax"}[m.mode]
    if reduce == "ReduceSum" or g.opset >= 18:
        return g.node(reduce, [rows, g.ints([1])], keepdims=0)
    return g.node(reduce, [rows], axes=[1], keepdims=0)


@_layer(mnn.PixelShuffle, mnn.PixelUnshuffle)
def _pixel_shuffle(g, m, x, inputs, out):
    """Reshape, Transpose, Reshape (PyTorch's channel order, which ONNX's DepthToSpace 'CRD' has and SpaceToDepth
    has not)."""
    n_lead = inputs[0].ndim - 3
    c, h, w = inputs[0].shape[-3:]
    if isinstance(m, mnn.PixelShuffle):
        r = m.upscale_factor
        y = g.node("Reshape", [x, g.ints([-1, c // (r * r), r, r, h, w])])
        y = g.node("Transpose", [y], perm=[0, 1, 4, 2, 5, 3])
    else:
        r = m.downscale_factor
        y = g.node("Reshape", [x, g.ints([-1, c, h // r, r, w // r, r])])
        y = g.node("Transpose", [y], perm=[0, 1, 3, 5, 2, 4])
    return _reshape_to(g, y, out.shape, keep_batch=n_lead > 0)


@_layer(mnn.Upsample)
def _upsample(g, m, x, inputs, out):
    mode, nd = m.mode, inputs[0].ndim - 2
    if mode == "area":
        _fail(g, "Upsample(mode='area')", "it is adaptive average pooling; export an AdaptiveAvgPool layer")
    if m.recompute_scale_factor or m.scale_factor is None:
        scales, sizes = "", g.node("Concat", [g.node("Slice", [g.node("Shape", [x]), g.ints([0]), g.ints([2])]),
                                  g.ints(list(out.shape[2:]))], axis=0)
    else:
        factors = _tuple(m.scale_factor, nd)
        scales, sizes = g.const(np.asarray([1.0, 1.0] + [float(f) for f in factors], np.float32), dtype=np.float32), ""
    attrs = {"nearest": dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
             "nearest-exact": dict(mode="nearest", coordinate_transformation_mode="half_pixel",
                                   nearest_mode="round_prefer_ceil")}.get(mode)
    if attrs is None:
        cubic = mode == "bicubic"
        attrs = dict(mode="cubic" if cubic else "linear", cubic_coeff_a=-0.75,
                     coordinate_transformation_mode="align_corners" if m.align_corners else
                     ("half_pixel" if cubic else "pytorch_half_pixel"))
    return g.node("Resize", [x, "", scales, sizes] if sizes else [x, "", scales], **attrs)


@_layer(mnn.Unfold)
def _unfold(g, m, x, inputs, out):
    """A convolution with one-hot kernels (each output channel picks one tap of one input channel), reshaped."""
    c = inputs[0].shape[-3]
    k = _tuple(m.kernel_size, 2)
    eye = np.eye(c * k[0] * k[1]).reshape(c * k[0] * k[1], c, k[0], k[1])
    y = g.node("Conv", [x, g.const(eye)], strides=_tuple(m.stride, 2), pads=_tuple(m.padding, 2) * 2,
               dilations=_tuple(m.dilation, 2))
    return g.node("Reshape", [y, g.ints([0, c * k[0] * k[1], -1])])


@_layer(mnn.Fold)
def _fold(g, m, x, inputs, out):
    """The transposed one-hot convolution: each block's taps summed into their places."""
    k, size = _tuple(m.kernel_size, 2), _tuple(m.output_size, 2)
    d, p, s = _tuple(m.dilation, 2), _tuple(m.padding, 2), _tuple(m.stride, 2)
    blocks = [(size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    c = out.shape[-3]
    y = g.node("Reshape", [x, g.ints([0, c * k[0] * k[1]] + blocks)])
    eye = np.eye(c * k[0] * k[1]).reshape(c * k[0] * k[1], c, k[0], k[1])
    natural = [(blocks[i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1 for i in range(2)]
    return g.node("ConvTranspose", [y, g.const(eye)], strides=s, pads=p * 2, dilations=d,
                  output_padding=[size[i] - natural[i] for i in range(2)])


# activations: one ONNX op, or a few
def _unary(op, **attrs):
    return lambda g, m, x, inputs, out: g.node(op, [x], **{k: (v(m) if callable(v) else v) for k, v in attrs.items()})


for _cls, _fn in {
    mnn.ReLU: _unary("Relu"), mnn.Sigmoid: _unary("Sigmoid"), mnn.Tanh: _unary("Tanh"),
    mnn.Softsign: _unary("Softsign"), mnn.SELU: _unary("Selu"),
    mnn.LeakyReLU: _unary("LeakyRelu", alpha=lambda m: float(m.negative_slope)),
    mnn.ELU: _unary("Elu", alpha=lambda m: float(m.alpha)), mnn.CELU: _unary("Celu", alpha=lambda m: float(m.alpha)),
    mnn.Hardsigmoid: _unary("HardSigmoid", alpha=1 / 6, beta=0.5), mnn.Hardswish: _unary("HardSwish"),
}.items():
    _CONVERTERS[_cls] = _fn


def _clip(g, x, low, high):
    """Clip (float32), or Max and Min (ONNX Runtime's optimizer mishandles a float64 Clip after a Relu)."""
    lo, hi = g.const(np.asarray(low, float)), g.const(np.asarray(high, float))
    if g.dtype == np.float32:
        return g.node("Clip", [x, lo, hi])
    return g.node("Min", [g.node("Max", [x, lo]), hi])


@_layer(mnn.Hardtanh)
def _hardtanh(g, m, x, inputs, out):
    return _clip(g, x, m.min_val, m.max_val)


@_layer(mnn.Threshold)
def _threshold(g, m, x, inputs, out):
    """x where x > threshold, else value."""
    return g.node("Where", [g.node("Greater", [x, g.const(np.asarray(float(m.threshold)))]), x,
                            g.const(np.asarray(float(m.value)))])


@_layer(mnn.Hardshrink)
def _hardshrink(g, m, x, inputs, out):
    """x where |x| > lambd, else 0."""
    return g.node("Where", [g.node("Greater", [g.node("Abs", [x]), g.const(np.asarray(float(m.lambd)))]), x,
                            g.const(np.asarray(0.0))])


@_layer(mnn.Softshrink)
def _softshrink(g, m, x, inputs, out):
    """x - lambd above lambd, x + lambd below -lambd, else 0 (ONNX's Shrink with bias = lambd)."""
    return g.node("Shrink", [x], lambd=float(m.lambd), bias=float(m.lambd))


@_layer(mnn.CosineSimilarity)
def _cosine_similarity(g, m, x, inputs, out):
    """sum_dim (x1 / max(||x1||, eps)) (x2 / max(||x2||, eps)), as F.cosine_similarity (inputs broadcast)."""
    d = int(m.dim) % max(out.ndim + 1, 1)
    eps = g.const(np.asarray(float(m.eps)))

    def unit(name):
        norm = g.node("Sqrt", [_reduce(g, "ReduceSum", g.node("Mul", [name, name]), [d])])
        return g.node("Div", [name, g.node("Max", [norm, eps])])
    return _reduce(g, "ReduceSum", g.node("Mul", [unit(x), unit(g.name_of(inputs[1]))]), [d], keep=False)


@_layer(mnn.PairwiseDistance)
def _pairwise_distance(g, m, x, inputs, out):
    """|| x1 - x2 + eps ||_p over the last dim (p > 0 or inf, as F.pairwise_distance)."""
    p, axis = float(m.norm), max(inputs[0].ndim, inputs[1].ndim) - 1
    if axis < 0 or not p > 0:
        _fail(g, f"PairwiseDistance with p={p} or 0-d inputs", "p > 0 over a last dim is exported")
    diff = g.node("Add", [g.node("Sub", [x, g.name_of(inputs[1])]), g.const(np.asarray(float(m.eps)))])
    keep = bool(m.keepdim)
    if p == 2.0:
        return g.node("Sqrt", [_reduce(g, "ReduceSum", g.node("Mul", [diff, diff]), [axis], keep)])
    if p in (1.0, math.inf):
        return _reduce(g, "ReduceSum" if p == 1.0 else "ReduceMax", g.node("Abs", [diff]), [axis], keep)
    powered = g.node("Pow", [g.node("Abs", [diff]), g.const(np.asarray(p))])
    return g.node("Pow", [_reduce(g, "ReduceSum", powered, [axis], keep), g.const(np.asarray(1 / p))])


@_layer(mnn.SiLU)
def _silu(g, m, x, inputs, out):
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


def _softplus(g, x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's)."""
    bx = g.node("Mul", [x, g.const(np.asarray(beta))]) if beta != 1 else x
    soft = g.node("Softplus", [bx])
    soft = g.node("Div", [soft, g.const(np.asarray(beta))]) if beta != 1 else soft
    return g.node("Where", [g.node("Greater", [bx, g.const(np.asarray(threshold))]), x, soft])


@_layer(mnn.Softplus)
def _softplus_layer(g, m, x, inputs, out):
    return _softplus(g, x, float(m.beta), float(m.threshold))


@_layer(mnn.Mish)
def _mish(g, m, x, inputs, out):
    return g.node("Mul", [x, g.node("Tanh", [_softplus(g, x)])])


@_layer(mnn.LogSigmoid)
def _log_sigmoid(g, m, x, inputs, out):
    return g.node("Neg", [_softplus(g, g.node("Neg", [x]))])


@_layer(mnn.GELU)
def _gelu(g, m, x, inputs, out):
    if m.approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(np.asarray(0.044715))])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.const(np.asarray(math.sqrt(2 / math.pi)))])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        t = g.node("Erf", [g.node("Div", [x, g.const(np.asarray(math.sqrt(2)))])])
    return g.node("Mul", [g.node("Mul", [x, g.const(np.asarray(0.5))]), g.node("Add", [t, g.const(np.asarray(1.0))])])


def _dim(m, ndim):
    if m.dim is None:  # PyTorch's implicit choice
        return 0 if ndim in (0, 1, 3) else 1
    return m.dim


@_layer(mnn.Softmax, mnn.LogSoftmax, mnn.Softmin)
def _softmax(g, m, x, inputs, out):
    op = "LogSoftmax" if isinstance(m, mnn.LogSoftmax) else "Softmax"
    if isinstance(m, mnn.Softmin):
        x = g.node("Neg", [x])
    return g.node(op, [x], axis=_dim(m, inputs[0].ndim))


@_layer(mnn.GLU)
def _glu(g, m, x, inputs, out):
    a, b = g.node("Split", [x, g.ints([inputs[0].shape[m.dim] // 2] * 2)], outputs=2, axis=m.dim)
    return g.node("Mul", [a, g.node("Sigmoid", [b])])


@_layer(mnn.PReLU)
def _prelu(g, m, x, inputs, out):
    ndim = inputs[0].ndim
    w = m.weight.data
    slope = w.reshape((-1,) + (1,) * (ndim - 2)) if w.size > 1 and ndim >= 2 else w.reshape(())
    return g.node("PRelu", [x, g.const(slope)])


# binary and quantized layers
def _sign(g, x):
    """minigrad's sign: +1 where x >= 0, else -1 (ONNX's Sign(0) is 0)."""
    return g.node("Where", [g.node("GreaterOrEqual", [x, g.const(np.asarray(0.0))]), g.const(np.asarray(1.0)),
                            g.const(np.asarray(-1.0))])


@_layer(mnn.Sign)
def _sign_layer(g, m, x, inputs, out):
    return _sign(g, x)


def _scale_bias(g, y, m, ndim, axis):
    """What a binary layer does after its +-1 product: * alpha = mean|W| per output channel, + bias."""
    if m.scale:
        alpha = np.abs(m.weight.data).reshape(m.weight.shape[0], -1).mean(axis=1)
        shape = [1] * ndim
        shape[axis] = -1
        y = g.node("Mul", [y, g.const(alpha.reshape(shape))])
    if m.bias is None:
        return y
    return g.node("Add", [y, g.const(m.bias.data if axis == ndim - 1 else m.bias.data.reshape(-1, *(1,) * (ndim - 2)))])


def _signs(m):
    return np.where(m.weight.data >= 0, 1.0, -1.0)


@_layer(mnn.BinaryLinear)
def _binary_linear(g, m, x, inputs, out):
    y = g.node("MatMul", [x, g.const(_signs(m).T, f"{g.path}.sign(weight).T")])
    return _scale_bias(g, y, m, inputs[0].ndim, inputs[0].ndim - 1)


@_layer(mnn.BinaryConv2d)
def _binary_conv(g, m, x, inputs, out):
    y = _conv(g, m, x, g.const(_signs(m), f"{g.path}.sign(weight)"), inputs[0].ndim, m.pad_value)
    return _scale_bias(g, y, m, inputs[0].ndim, 1)


def _dequantized_weight(g, m):
    """DoReFa's k-bit weight 2 q / n - 1 (q in 0..n, n = 2^k - 1) as int8 levels 2q - n and DequantizeLinear(1/n)."""
    w = mbinary.dorefa_weight(m.weight, m.bits).data
    n = 2 ** m.bits - 1
    if n > 127 or g.dtype != np.float32:  # minigrad's weights as they are
        return g.const(w, f"{g.path}.weight_q")
    levels = np.round((w + 1) * n / 2) * 2 - n
    q = g.const(levels.astype(np.int8), f"{g.path}.weight_q", dtype=np.int8)
    return g.node("DequantizeLinear", [q, g.const(np.asarray(1 / n), dtype=np.float32),
                                       g.const(np.asarray(0, np.int8), dtype=np.int8)])


def _float(g, name):
    return name if g.dtype == np.float32 else g.node("Cast", [name], to=_ONNX_TYPE[g.dtype])


@_layer(mnn.QuantLinear)
def _quant_linear(g, m, x, inputs, out):
    w = _float(g, _dequantized_weight(g, m))
    y = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    return g.node("Add", [y, _param(g, m, "bias")]) if m.bias is not None else y


@_layer(mnn.QuantConv2d)
def _quant_conv(g, m, x, inputs, out):
    y = _conv(g, m, x, _float(g, _dequantized_weight(g, m)), inputs[0].ndim)
    return _channel_add(g, y, m.bias, inputs[0].ndim) if m.bias is not None else y


def _qdq(g, x, scale, zero_point, low, high, signed, exact):
    """Clip to [low, high], then QuantizeLinear / DequantizeLinear with `scale` and `zero_point` (int8 when signed,
    else uint8): round(x / scale) + zero_point, half to even, and back. Those run in float32: a float64 model gets
    `exact()` instead, the quantizer's own arithmetic (Round is half to even too)."""
    if g.dtype != np.float32:
        return exact()
    x = _clip(g, x, low, high)
    itype = np.int8 if signed else np.uint8
    s, z = g.const(np.asarray(scale), dtype=np.float32), g.const(np.asarray(zero_point, itype), dtype=itype)
    if g.dtype != np.float32:
        x = g.node("Cast", [x], to=_ONNX_TYPE[np.dtype(np.float32)])
    return _float(g, g.node("DequantizeLinear", [g.node("QuantizeLinear", [x, s, z]), s, z]))


def _quantize(g, x, bits, lo, hi):
    """DoReFa's quantize_k on [lo, hi]: QuantizeLinear / DequantizeLinear when its levels are uint8 levels (at most
    256 of them, and lo a whole number of steps from 0), arithmetic otherwise."""
    n = 2 ** bits - 1
    scale = (hi - lo) / n
    zero = -lo / scale
    def exact():  # lo + (hi - lo) round(n (clip(x, lo, hi) - lo) / (hi - lo)) / n, as minigrad
        c = _clip(g, x, lo, hi)
        r = g.node("Div", [g.node("Sub", [c, g.const(np.asarray(lo))]), g.const(np.asarray(hi - lo))])
        q = g.node("Div", [g.node("Round", [g.node("Mul", [r, g.const(np.asarray(float(n)))])]),
                           g.const(np.asarray(float(n)))])
        return g.node("Add", [g.node("Mul", [q, g.const(np.asarray(hi - lo))]), g.const(np.asarray(lo))])
    if n <= 255 and 0 <= zero <= n and abs(zero - round(zero)) < 1e-6:
        return _qdq(g, x, scale, int(round(zero)), lo, hi, False, exact)
    return exact()


@_layer(mnn.Quantize)
def _quantize_layer(g, m, x, inputs, out):
    return _quantize(g, x, m.bits, m.lo, m.hi)


@_layer(mnn.LSQ)
def _lsq(g, m, x, inputs, out):
    s = float(m.step.data)
    qn, qp = (2 ** (m.bits - 1), 2 ** (m.bits - 1) - 1) if m.signed else (0, 2 ** m.bits - 1)

    def exact():  # round(clip(x / s, -Q_N, Q_P)) s, as minigrad
        v = g.node("Div", [x, g.const(m.step.data)])
        return g.node("Mul", [g.node("Round", [_clip(g, v, -qn, qp)]), g.const(m.step.data)])
    if qp <= (127 if m.signed else 255):
        return _qdq(g, x, s, 0, -qn * s, qp * s, m.signed, exact)
    return exact()


@_layer(mnn.PACT)
def _pact(g, m, x, inputs, out):
    a, n = float(m.alpha.data), 2 ** m.bits - 1

    def exact():  # round(clip(x, 0, alpha) n / alpha) alpha / n, as minigrad
        alpha = g.const(m.alpha.data)
        y = g.node("Div", [g.node("Mul", [_clip(g, x, 0.0, a), g.const(np.asarray(float(n)))]), alpha])
        return g.node("Div", [g.node("Mul", [g.node("Round", [y]), alpha]), g.const(np.asarray(float(n)))])
    return _qdq(g, x, a / n, 0, 0.0, a, False, exact) if n <= 255 else exact()


@_layer(mnn.BitLinear)
def _bit_linear(g, m, x, inputs, out):
    """BitNet b1.58: x' = RMSNorm(x), s = Q / max(max|x'| per token, eps), x~ = clip(round(x' s), -Q - 1, Q),
    y = (x~ W~^T) gamma / s (+ b), with minigrad's ternary levels W~ and scale gamma as constants."""
    if m.norm:
        eps = float(np.finfo(g.dtype).eps)
        ms = _mean(g, g.node("Mul", [x, x]), [-1])
        x = g.node("Div", [x, g.node("Sqrt", [g.node("Add", [ms, g.const(np.asarray(eps))])])])
    q = 2 ** (m.act_bits - 1) - 1
    amax = _reduce(g, "ReduceMax", g.node("Abs", [x]), [-1])
    scale = g.node("Div", [g.const(np.asarray(float(q))), g.node("Max", [amax, g.const(np.asarray(m.eps))])])
    levels = _clip(g, g.node("Round", [g.node("Mul", [x, scale])]), -q - 1, q)
    from .. import ste
    wq, gamma = ste.absmean_ternary(m.weight.detach(), m.eps)
    y = g.node("MatMul", [levels, g.const(wq.data.T, f"{g.path}.ternary_weight.T")])
    y = g.node("Mul", [y, g.node("Div", [g.const(np.asarray(gamma)), scale])])
    return g.node("Add", [y, _param(g, m, "bias")]) if m.bias is not None else y


@_layer(mnn.MultiheadAttention)
def _attention(g, m, x, inputs, out):
    """softmax(Q K^T / sqrt(head_dim)) V per head, then out_proj; no masks (checked: the layer run on the three
    inputs alone gives the output recorded)."""
    if len(inputs) != 3 or m.add_zero_attn:
        _fail(g, "MultiheadAttention with masks or add_zero_attn", "query, key and value alone are exported")
    with _no_grad():
        again = m(*inputs)[0]
    if not np.array_equal(again.data, out.data):
        _fail(g, "MultiheadAttention called with masks or is_causal", "query, key and value alone are exported")
    # (the weights it returns, averaged over the heads, are exported too: average_attn_weights=False is refused
    # when they are used, as another output of the layer)
    e, h = m.embed_dim, m.num_heads
    hd = e // h
    batched = inputs[0].ndim == 3
    names = [g.name_of(t) for t in inputs]
    if not batched:
        names = [g.node("Unsqueeze", [n, g.ints([1])]) for n in names]
    elif m.batch_first:
        names = [g.node("Transpose", [n], perm=[1, 0, 2]) for n in names]
    if m.in_proj_weight is not None:
        weights = np.split(m.in_proj_weight.data, 3)
    else:
        weights = [m.q_proj_weight.data, m.k_proj_weight.data, m.v_proj_weight.data]
    biases = np.split(m.in_proj_bias.data, 3) if m.in_proj_bias is not None else [None] * 3
    q, k, v = [g.node("MatMul", [n, g.const(w.T)]) for n, w in zip(names, weights)]
    q, k, v = [g.node("Add", [t, g.const(b)]) if b is not None else t for t, b in zip((q, k, v), biases)]
    if m.bias_k is not None:  # one more key and value, the same for every sample
        shape = g.node("Concat", [g.ints([1]), g.node("Slice", [g.node("Shape", [k]), g.ints([1]), g.ints([2])]),
                                  g.ints([e])], axis=0)
        k = g.node("Concat", [k, g.node("Expand", [g.const(m.bias_k.data), shape])], axis=0)
        v = g.node("Concat", [v, g.node("Expand", [g.const(m.bias_v.data), shape])], axis=0)
    q, k, v = [g.node("Transpose", [g.node("Reshape", [t, g.ints([0, -1, hd])])], perm=[1, 0, 2]) for t in (q, k, v)]
    scores = g.node("MatMul", [g.node("Mul", [q, g.const(np.asarray(1 / math.sqrt(hd)))]),
                               g.node("Transpose", [k], perm=[0, 2, 1])])
    attn = g.node("Softmax", [scores], axis=-1)
    y = g.node("MatMul", [attn, v])
    y = g.node("Reshape", [g.node("Transpose", [y], perm=[1, 0, 2]), g.ints([0, -1, e])])
    y = g.node("MatMul", [y, g.const(m.out_proj.weight.data.T)])
    if m.out_proj.bias is not None:
        y = g.node("Add", [y, g.const(m.out_proj.bias.data)])
    seq = 1 if batched and m.batch_first else 0
    length, source = inputs[0].shape[seq], inputs[1].shape[seq] + (m.bias_k is not None)
    weights = _mean(g, g.node("Reshape", [attn, g.ints([-1, h, length, source])]), [1])  # (N, 1, L, S), head mean
    weights = g.node("Squeeze", [weights, g.ints([1, 0] if not batched else [1])])
    if not batched:
        return g.node("Squeeze", [y, g.ints([1])]), weights
    return (g.node("Transpose", [y], perm=[1, 0, 2]) if m.batch_first else y), weights


def _no_grad():
    from ..autograd import no_grad
    return no_grad()


_LOSS = tuple(getattr(mnn, n) for n in mnn.loss.__all__)


def _refuse_loss(g, m, x, inputs, out):
    _fail(g, f"the loss {type(m).__name__}", "a loss is a training-time module; export the model and compute the loss "
          "on its outputs")


for _cls in _LOSS:
    _CONVERTERS[_cls] = _refuse_loss


# ---- ops run outside the layers (the glue of a forward) ---------------------------------------------------------
def _binary_op(op):
    return lambda g, names, args, kwargs, ctx, out: g.node(op, names[:2])


def _unary_op(op):
    return lambda g, names, args, kwargs, ctx, out: g.node(op, names[:1])


def _op_reshape(g, names, args, kwargs, ctx, out):
    return _reshape_to(g, names[0], out.shape, keep_batch=args[0].ndim > 0 and out.ndim > 0
                       and out.shape[0] == args[0].shape[0])


def _op_permute(g, names, args, kwargs, ctx, out):
    return g.node("Transpose", [names[0]], perm=[int(a) % args[0].ndim for a in args[1]])


def _op_reduce(op):
    def convert(g, names, args, kwargs, ctx, out):
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        keep = bool(args[2]) if len(args) > 2 else bool(kwargs.get("keepdim", False))
        n = max(args[0].ndim, 1)
        dims = list(range(args[0].ndim)) if dims is None else [int(d) % n for d in np.atleast_1d(dims)]
        if op == "ReduceSum" or g.opset >= 18:
            return g.node(op, [names[0], g.ints(dims)], keepdims=int(keep))
        return g.node(op, [names[0]], axes=dims, keepdims=int(keep))
    return convert


def _op_cat(g, names, args, kwargs, ctx, out):
    axis = kwargs.get("axis", kwargs.get("dim", 0))
    return g.node("Concat", [n for n, a in zip(names, args) if isinstance(a, Tensor)], axis=int(axis))


def _op_getitem(g, names, args, kwargs, ctx, out):
    index = args[1] if isinstance(args[1], tuple) else (args[1],)
    if not all(isinstance(i, (slice, int, np.integer)) for i in index) or Ellipsis in index:
        _fail(g, "indexing with arrays, None or ...", "basic indexing with slices and integers is exported")
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, i in enumerate(index):
        size = args[0].shape[axis]
        if isinstance(i, slice):
            start, stop, step = i.indices(size)
            if (start, stop, step) == (0, size, 1):
                continue
            starts.append(start), ends.append(stop if stop >= 0 else -(2 ** 62)), axes.append(axis), steps.append(step)
        else:
            i = int(i) % size
            starts.append(i), ends.append(i + 1), axes.append(axis), steps.append(1), squeeze.append(axis)
    y = g.node("Slice", [names[0], g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)]) if axes else \
        g.node("Identity", [names[0]])
    return g.node("Squeeze", [y, g.ints(squeeze)]) if squeeze else y


def _op_ste(fn):
    def convert(g, names, args, kwargs, ctx, out):
        return fn(g, names[0], args, kwargs, ctx)
    return convert


def _op_fake_quantize(g, x, args, kwargs, ctx):
    scale, zero_point, qmin, qmax = args[1:5]
    axis = args[5] if len(args) > 5 else kwargs.get("axis")
    signed = qmin < 0
    if axis is not None or not (-128 <= qmin and qmax <= (127 if signed else 255)):
        _fail(g, "fake_quantize per channel or beyond 8 bits", "per-tensor 8-bit fake quantization is exported")
    s, z = float(np.float32(np.asarray(scale))), int(np.asarray(zero_point))

    def exact():  # (clip(round(x / scale) + zp, qmin, qmax) - zp) scale, as minigrad (1/scale in float32)
        q = g.node("Add", [g.node("Round", [g.node("Mul", [x, g.const(np.float32(1) / np.float32(s))])]),
                           g.const(np.asarray(float(z)))])
        return g.node("Mul", [g.node("Sub", [_clip(g, q, qmin, qmax), g.const(np.asarray(float(z)))]),
                              g.const(np.asarray(s, np.float32))])
    return _qdq(g, x, s, z, (qmin - z) * s, (qmax - z) * s, signed, exact)


_OPS = {
    "add": _binary_op("Add"), "sub": _binary_op("Sub"), "mul": _binary_op("Mul"), "div": _binary_op("Div"),
    "matmul": _binary_op("MatMul"), "maximum": _binary_op("Max"), "minimum": _binary_op("Min"),
    "pow": _binary_op("Pow"), "neg": _unary_op("Neg"), "relu": _unary_op("Relu"), "sigmoid": _unary_op("Sigmoid"),
    "tanh": _unary_op("Tanh"), "exp": _unary_op("Exp"), "log": _unary_op("Log"), "sqrt": _unary_op("Sqrt"),
    "abs": _unary_op("Abs"), "plain_sign": _unary_op("Sign"), "reshape": _op_reshape, "permute": _op_permute,
    "sum": _op_reduce("ReduceSum"), "mean": _op_reduce("ReduceMean"), "cat": _op_cat, "getitem": _op_getitem,
    "sign": _op_ste(lambda g, x, args, kwargs, ctx: _sign(g, x)),
    "heaviside": _op_ste(lambda g, x, args, kwargs, ctx: g.node("Cast", [g.node("Greater", [x, g.const(np.asarray(
        0.0))])], to=_ONNX_TYPE[g.dtype])),
    "round": _op_ste(lambda g, x, args, kwargs, ctx: g.node("Round", [x])),
    "floor": _op_ste(lambda g, x, args, kwargs, ctx: g.node("Floor", [x])),
    "ceil": _op_ste(lambda g, x, args, kwargs, ctx: g.node("Ceil", [x])),
    "quantize": _op_ste(lambda g, x, args, kwargs, ctx: _quantize(g, x, *args[1:4])),
    "fake_quantize": _op_ste(_op_fake_quantize),
    "absmean_ternary": _op_ste(lambda g, x, args, kwargs, ctx: _clip(g, g.node("Round", [x]), -1, 1)),
    "absmax_quantize": _op_ste(lambda g, x, args, kwargs, ctx: _clip(
        g, g.node("Round", [x]), -2 ** ((args[1] if len(args) > 1 else 8) - 1),
        2 ** ((args[1] if len(args) > 1 else 8) - 1) - 1)),
}

_ONNX_TYPE = {np.dtype(np.float32): 1, np.dtype(np.float64): 11, np.dtype(np.float16): 10, np.dtype(np.int64): 7,
              np.dtype(np.int32): 6, np.dtype(np.bool_): 9, np.dtype(np.uint8): 2, np.dtype(np.int8): 3}
for _t in list(_ONNX_TYPE):
    _ONNX_TYPE[_t.type] = _ONNX_TYPE[_t]


# ---- export -----------------------------------------------------------------------------------------------------
def _minimal_ir_version(helper, opset):
    for _, ir, op, *_ in helper.VERSION_TABLE:
        if op >= opset:
            return ir
    return helper.VERSION_TABLE[-1][1]


def export(model, example_input, path=None, opset=17, input_names=None, output_names=None, check=True):
    """Write `model` (an mg.nn.Module) as an ONNX graph to `path` (.onnx), from one run on `example_input` (a Tensor or
    array, or a tuple of them) in eval mode; returns the onnx.ModelProto. The first axis of every input and output is
    left free (named 'batch' for a model of one input). opset: the ONNX opset (13 or later; 17 by default, for LayerNormalization).
    check: run onnx.checker on the model. Raises ExportError naming the layer or op that has no export."""
    onnx, helper, numpy_helper = _onnx()
    if opset < 13:
        raise ValueError(f"mg.onnx.export: opset {opset} is too old; use 13 or later")
    inputs = example_input if isinstance(example_input, tuple) else (example_input,)
    inputs = tuple(x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs)
    floats = [p.data.dtype for p in model.parameters() if p.data.dtype.kind == "f"]
    floats += [x.data.dtype for x in inputs if x.data.dtype.kind == "f"]
    dtype = np.dtype(floats[0] if floats else np.float32)
    was_training = model.training
    model.eval()
    try:
        from ..autograd import no_grad
        with no_grad(), _Recorder(model) as rec:
            outputs = model(*inputs)
    finally:
        model.train(was_training)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    g = _Graph(helper, numpy_helper, opset, dtype)
    input_names = list(input_names or (["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))]))
    graph_inputs = []
    def free_first_axis(name, t):  # 'batch' for a one-input model's tensors that share its first axis
        if not t.ndim:
            return []
        shared = len(inputs) == 1 and inputs[0].ndim and t.shape[0] == inputs[0].shape[0]
        return ["batch" if shared else f"{name}_axis0"] + list(t.shape[1:])
    for name, x in zip(input_names, inputs):
        g.set(x, name)
        graph_inputs.append(helper.make_tensor_value_info(name, _ONNX_TYPE[x.data.dtype], free_first_axis(name, x)))
    paths = rec.paths
    for event in rec.events:
        if event[0] == "layer":
            _, module, args, out = event
            g.path = paths.get(id(module), type(module).__name__)
            kind = type(module).__name__
            g.where = f"layer '{g.path}' ({kind})" if g.path else f"the model ({kind})"
            tensors = [a for a in args if isinstance(a, Tensor)]
            first = out[0] if isinstance(out, tuple) and out and isinstance(out[0], Tensor) else out
            if not tensors or not isinstance(first, Tensor):
                _fail(g, type(module).__name__, "it was called without tensor inputs or returned no tensor")
            names = _converter(module)(g, module, g.name_of(tensors[0]), tensors, first)
            names = names if isinstance(names, tuple) else (names,)
            g.set(first, names[0])
            for i, extra in enumerate(out[1:] if first is not out else (), 1):  # more results (attention weights)
                if isinstance(extra, Tensor):
                    if i < len(names):
                        g.set(extra, names[i])
                    else:
                        g.keep.append(extra)
                        g.unavailable[id(extra)] = f"output {i} of {g.where}"
        else:
            _, cls, ctx, args, kwargs, out = event
            g.path = ""
            g.where = "the model's forward (outside any layer)"
            convert = _OPS.get(cls.name)
            if convert is None:
                _fail(g, f"op '{cls.name}'", f"no converter for it; the ops exported outside layers are: "
                      f"{', '.join(sorted(_OPS))}")
            cast = out.data.dtype if out.data.dtype.kind == "f" else None  # numbers of the forward take its dtype
            names = [g.name_of(a, dtype=cast if a.data.dtype.kind in "biuf" and a.ndim == 0 else None)
                     if isinstance(a, Tensor) else None for a in args]
            g.set(out, convert(g, names, args, kwargs, ctx, out))
    output_names = list(output_names or (["output"] if len(outputs) == 1 else
                                         [f"output_{i}" for i in range(len(outputs))]))
    graph_outputs = []
    for name, y in zip(output_names, outputs):
        g.nodes.append(helper.make_node("Identity", [g.name_of(y)], [name], name=g.fresh("output")))
        graph_outputs.append(helper.make_tensor_value_info(name, _ONNX_TYPE[y.data.dtype], free_first_axis(name, y)))
    graph = helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="minigrad",
                              ir_version=_minimal_ir_version(helper, opset))
    if check:
        onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        from ..serialization import atomic_write
        atomic_write(path, lambda f: f.write(proto.SerializeToString()))
    return proto
