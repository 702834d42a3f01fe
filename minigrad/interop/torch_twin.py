"""The PyTorch twin of a minigrad model: `to_torch(model)` and `from_torch(module)` (use them through mg.interop).

Every mg.nn layer that PyTorch has is built as PyTorch's own layer: its constructor arguments are read from the
minigrad layer's attributes of the same names (minigrad's layers take PyTorch's arguments, under PyTorch's names),
then the state dict is copied with `load_state_dict(strict=True)`. The layers PyTorch lacks (binary and quantized
layers, Sign, Quantize, LSQ, PACT, SquaredHingeLoss) are the small torch modules below, built on
`minigrad.interop.torch_ste`: the same forward, the same surrogate backward, the same state-dict keys.

Constraints (a binary layer's `WeightClip(1)`, LSQ's and PACT's positive step) are kept on the torch parameters
as `param.constraint`; PyTorch's optimizers do not apply them, so call `apply_constraints(model)` after each
`optimizer.step()`, or `constrain(optimizer, model)` once to have the optimizer do it.
Importing this module imports PyTorch.
"""
import inspect
import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as TF
from torch import nn as tnn

from .. import nn as mnn
from ..nn import binary as mbinary
from ..nn.module import WeightClip
from ..tensor import Tensor
from . import torch_ste

__all__ = ["to_torch", "from_torch", "apply_constraints", "constrain", "register", "BinaryLinear", "BinaryConv2d",
           "QuantLinear", "QuantConv2d", "Sign", "Quantize", "LSQ", "PACT", "BitLinear", "SquaredHingeLoss", "TWINS"]


# ---- constraints -------------------------------------------------------------------------------------
@torch.no_grad()
def apply_constraints(module):
    """Project every parameter of `module` that carries a minigrad constraint onto it, in place (what minigrad's
    optimizers do after each step). Returns the module."""
    for p in module.parameters():
        c = getattr(p, "constraint", None)
        if c is None:
            continue
        if isinstance(c, WeightClip):
            p.clamp_(-c.clip_value, c.clip_value)
        elif isinstance(c, mbinary._Positive):
            p.clamp_(min=c.eps)
        else:  # a user's constraint: run it on a NumPy copy, as minigrad would
            value = np.asarray(c(Tensor(p.detach().cpu().numpy().copy())))
            p.copy_(torch.from_numpy(np.array(value)).to(p.dtype))
    return module


def constrain(optimizer, module):
    """Have `optimizer` apply the constraints of `module` after each step (a step post hook); returns its handle."""
    return optimizer.register_step_post_hook(lambda *args: apply_constraints(module))


# ---- the layers PyTorch lacks -----------------------------------------------------------------------------
def _channel_scale(weight, y, axis):
    """alpha[o] = mean |W[o]| (a constant, no gradient), shaped to multiply y along `axis`, as minigrad's."""
    alpha = weight.detach().abs().reshape(weight.shape[0], -1).mean(dim=1).to(y.dtype)
    shape = [1] * y.ndim
    shape[axis] = -1
    return alpha.reshape(shape)


class BinaryLinear(tnn.Linear):
    """mg.nn.BinaryLinear: y = x sign(W)^T (* alpha) + b, latent W constrained to [-1, 1]."""

    def __init__(self, in_features, out_features, bias=False, weight_surrogate=None, scale=None, device=None,
                 dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.weight_surrogate, self.scale = weight_surrogate, scale
        self.weight.constraint = WeightClip(1.0)

    def forward(self, x):
        y = TF.linear(x, torch_ste.sign(self.weight, self.weight_surrogate))
        if self.scale == "mean":
            y = y * _channel_scale(self.weight, y, -1)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return super().extra_repr() + (f", scale={self.scale!r}" if self.scale else "") + (
            f", weight_surrogate={self.weight_surrogate!r}" if self.weight_surrogate is not None else "")


def _pad_amounts(conv):
    """F.pad's amounts (last dim first) for a conv's padding: ints, 'valid' or 'same' (the odd cell after)."""
    if conv.padding == "valid":
        return (0, 0) * len(conv.kernel_size)
    if conv.padding == "same":
        totals = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size)]
        pairs = [(t // 2, t - t // 2) for t in totals]
    else:
        pairs = [(p, p) for p in conv.padding]
    return tuple(v for pair in reversed(pairs) for v in pair)


class BinaryConv2d(tnn.Conv2d):
    """mg.nn.BinaryConv2d: conv2d with sign(W), optional scale='mean', padding filled with `pad_value`."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=False,
                 weight_surrogate=None, scale=None, pad_value=0.0, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         device=device, dtype=dtype)
        self.weight_surrogate, self.scale, self.pad_value = weight_surrogate, scale, float(pad_value)
        self.weight.constraint = WeightClip(1.0)

    def forward(self, x):
        w = torch_ste.sign(self.weight, self.weight_surrogate)
        if self.pad_value:
            x = TF.pad(x, _pad_amounts(self), value=self.pad_value)
            y = TF.conv2d(x, w, None, self.stride, 0, self.dilation, self.groups)
        else:
            y = TF.conv2d(x, w, None, self.stride, self.padding, self.dilation, self.groups)
        if self.scale == "mean":
            y = y * _channel_scale(self.weight, y, 1)
        return y if self.bias is None else y + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self):
        return super().extra_repr() + (f", scale={self.scale!r}" if self.scale else "") + (
            f", pad_value={self.pad_value:g}" if self.pad_value else "")


def dorefa_weight(weight, bits):
    """As mg.nn.binary.dorefa_weight: tanh(W) / (2 max|tanh(W)|) + 1/2, quantized to k bits, mapped to [-1, 1]."""
    t = torch.tanh(weight)
    w = t / (t.abs().max() * 2) + 0.5
    return torch_ste.quantize(w, bits) * 2 - 1


class QuantLinear(tnn.Linear):
    """mg.nn.QuantLinear: Linear with DoReFa k-bit weights."""

    def __init__(self, in_features, out_features, bias=True, bits=2, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.bits = bits

    def forward(self, x):
        return TF.linear(x, dorefa_weight(self.weight, self.bits), self.bias)

    def extra_repr(self):
        return super().extra_repr() + f", bits={self.bits}"


class QuantConv2d(tnn.Conv2d):
    """mg.nn.QuantConv2d: Conv2d with DoReFa k-bit weights."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 bits=2, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         device=device, dtype=dtype)
        self.bits = bits

    def forward(self, x):
        return self._conv_forward(x, dorefa_weight(self.weight, self.bits), self.bias)

    def extra_repr(self):
        return super().extra_repr() + f", bits={self.bits}"


class Sign(tnn.Module):
    """mg.nn.Sign: sign(x) in {-1, +1}; stochastic binarization while training when stochastic=True (torch's draws)."""

    def __init__(self, surrogate=None, stochastic=False):
        super().__init__()
        self.surrogate, self.stochastic = surrogate, stochastic

    def forward(self, x):
        if self.stochastic and self.training:
            return torch_ste.stochastic_sign(x, surrogate=self.surrogate)
        return torch_ste.sign(x, self.surrogate)

    def extra_repr(self):
        return ", ".join(([f"surrogate={self.surrogate!r}"] if self.surrogate is not None else [])
                         + (["stochastic=True"] if self.stochastic else []))


class Quantize(tnn.Module):
    """mg.nn.Quantize: k-bit DoReFa activation quantizer on [lo, hi]."""

    def __init__(self, bits, lo=0.0, hi=1.0, surrogate=None):
        super().__init__()
        self.bits, self.lo, self.hi, self.surrogate = bits, float(lo), float(hi), surrogate

    def forward(self, x):
        return torch_ste.quantize(x, self.bits, self.lo, self.hi, self.surrogate)

    def extra_repr(self):
        return f"bits={self.bits}, lo={self.lo:g}, hi={self.hi:g}"


class LSQ(tnn.Module):
    """mg.nn.LSQ: learned step size quantizer; the step is initialised on the first training batch unless given."""

    def __init__(self, bits, signed=False, init_step=None, device=None, dtype=torch.float32):
        super().__init__()
        self.bits, self.signed = bits, bool(signed)
        self.step = tnn.Parameter(torch.tensor(1.0 if init_step is None else init_step, dtype=dtype, device=device))
        self.step.constraint = mbinary._Positive()
        self.register_buffer("initialized", torch.tensor(init_step is not None))

    @property
    def qp(self):
        return 2 ** (self.bits - 1) - 1 if self.signed else 2 ** self.bits - 1

    def forward(self, x):
        if self.training and not bool(self.initialized):
            s = 2 * x.detach().abs().mean() / math.sqrt(self.qp)
            with torch.no_grad():
                self.step.fill_(max(float(s), 1e-6))
                self.initialized.fill_(True)
        return torch_ste.lsq(x, self.step.to(x.dtype), self.bits, self.signed)

    def extra_repr(self):
        return f"bits={self.bits}, signed={self.signed}"


class PACT(tnn.Module):
    """mg.nn.PACT: k-bit quantization of clip(x, 0, alpha) with a learnable alpha."""

    def __init__(self, bits, alpha=10.0, device=None, dtype=torch.float32):
        super().__init__()
        self.bits = bits
        self.alpha = tnn.Parameter(torch.tensor(alpha, dtype=dtype, device=device))
        self.alpha.constraint = mbinary._Positive()

    def forward(self, x):
        return torch_ste.pact(x, self.alpha.to(x.dtype), self.bits)

    def extra_repr(self):
        return f"bits={self.bits}"


class BitLinear(tnn.Linear):
    """mg.nn.BitLinear (BitNet b1.58): parameter-free RMSNorm, per-token absmax activations, absmean ternary weights,
    y = (x~ W~^T) gamma / s (+ b)."""

    def __init__(self, in_features, out_features, bias=False, act_bits=8, eps=1e-5, norm=True, weight_surrogate=None,
                 act_surrogate=None, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.act_bits, self.eps, self.norm = act_bits, eps, norm
        self.weight_surrogate, self.act_surrogate = weight_surrogate, act_surrogate

    def forward(self, x):
        if self.norm:
            x = TF.rms_norm(x, (self.in_features,))
        xq, s = torch_ste.absmax_quantize(x, self.act_bits, eps=self.eps, surrogate=self.act_surrogate)
        wq, gamma = torch_ste.absmean_ternary(self.weight, self.eps, self.weight_surrogate)
        y = TF.linear(xq, wq) * (gamma / s)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return super().extra_repr() + f", act_bits={self.act_bits}" + ("" if self.norm else ", norm=False")


class SquaredHingeLoss(tnn.Module):
    """mg.nn.SquaredHingeLoss: max(0, 1 - t y)^2 with +-1 targets, or integer classes made +-1 one-hot rows."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002
        if not target.is_floating_point() and input.ndim == 2 and target.shape == (input.shape[0],):
            target = torch.where(torch.arange(input.shape[1], device=input.device) == target[:, None], 1, -1)
        margin = torch.relu(1 - input * target.to(input.dtype))
        loss = margin * margin
        return loss.mean() if self.reduction == "mean" else loss.sum() if self.reduction == "sum" else loss


TWINS = {mnn.BinaryLinear: BinaryLinear, mnn.BinaryConv2d: BinaryConv2d, mnn.QuantLinear: QuantLinear,
         mnn.QuantConv2d: QuantConv2d, mnn.Sign: Sign, mnn.Quantize: Quantize, mnn.LSQ: LSQ, mnn.PACT: PACT,
         mnn.BitLinear: BitLinear, mnn.SquaredHingeLoss: SquaredHingeLoss}
_BACK = {twin: mg_cls for mg_cls, twin in TWINS.items()}


# ---- building one side from the other ------------------------------------------------------------------
_SKIPPED = {"self", "device", "size_average", "reduce", "rng"}
_converters = {}
# constructor flags a layer keeps only as the presence of a parameter: (module) -> {argument: value}, either side
_FLAGS = {"MultiheadAttention": lambda m: {"bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None},
          "PairwiseDistance": lambda m: {"p": m.norm}}  # both keep the argument p as .norm


def register(mg_class, converter):
    """Teach to_torch your own module: `converter(module, convert)` returns its torch module; call `convert(child)`
    on its children to convert them."""
    _converters[mg_class] = converter


def _torch_dtype(module):
    for t in list(module._parameters.values()) + list(module._buffers.values()):
        if t is not None and t.data.dtype.kind == "f":
            return getattr(torch, t.data.dtype.name)
    return None


def _arguments(signature_of, has, get, dtype, skipped=()):
    """Constructor keyword arguments for a class whose __init__ is `signature_of`, read from the other side's module
    (`has(name)`, `get(name)`): every argument that module has under the same name, bias as a flag."""
    kwargs = {}
    for name, p in inspect.signature(signature_of).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name in _SKIPPED or name in skipped or name.startswith("_"):
            continue
        if name == "dtype":
            if dtype is not None:
                kwargs[name] = dtype
        elif has(name):
            kwargs[name] = get(name)
    return kwargs


def _mg_has(module, name):
    """Whether a minigrad module holds a constructor argument `name`: an attribute or buffer, or the bias (as a
    flag); other parameters are not arguments (their values come with the state dict)."""
    return name in module.__dict__ or name in module._buffers or (name == "bias" and name in module._parameters)


def _to_torch_value(name, value):
    if name == "bias" and (value is None or isinstance(value, Tensor)):
        return value is not None
    if isinstance(value, Tensor):
        return torch.from_numpy(np.array(value.data))
    if isinstance(value, np.generic):
        return value.item()
    return value


def _copy_state(source_state, target, where):
    """Load a state dict of arrays into a torch module, strictly, keeping its dtypes."""
    state = OrderedDict((k, torch.from_numpy(np.array(v))) for k, v in source_state.items())
    own = target.state_dict()
    if list(own) != list(state) or any(tuple(own[k].shape) != tuple(state[k].shape) for k in own):
        raise RuntimeError(f"to_torch: the PyTorch layer built for {where} has the state {_layout(own)}, minigrad's "
                           f"has {_layout(state)}")
    target.load_state_dict(state, strict=True)


def _layout(state):
    return "{" + ", ".join(f"{k}: {tuple(v.shape)}" for k, v in state.items()) + "}"


def _convert_to_torch(module, path):
    where = f"'{path}' ({type(module).__name__})" if path else type(module).__name__
    cls = type(module)
    convert = (lambda child, name: _convert_to_torch(child, f"{path}.{name}" if path else name))
    for klass in cls.__mro__:
        if klass in _converters:
            return _converters[klass](module, lambda child: _convert_to_torch(child, path))
    if cls in (mnn.Sequential, mnn.ModuleList, mnn.ModuleDict):
        children = OrderedDict((name, convert(child, name)) for name, child in module._modules.items())
        twin = (tnn.Sequential(children) if cls is mnn.Sequential else tnn.ModuleList(children.values())
                if cls is mnn.ModuleList else tnn.ModuleDict(children))
    elif cls in (mnn.ParameterList, mnn.ParameterDict):
        params = OrderedDict((k, tnn.Parameter(torch.from_numpy(np.array(p.data)), requires_grad=p.requires_grad))
                             for k, p in module._parameters.items())
        twin = tnn.ParameterList(params.values()) if cls is mnn.ParameterList else tnn.ParameterDict(params)
    else:
        torch_cls = TWINS.get(cls)
        if torch_cls is None and cls.__module__.startswith("minigrad.nn.") and hasattr(tnn, cls.__name__):
            torch_cls = getattr(tnn, cls.__name__)
        if torch_cls is None:
            raise NotImplementedError(
                f"to_torch: no PyTorch layer for {where}, a {cls.__module__}.{cls.__qualname__}. to_torch builds "
                "mg.nn's "
                "layers and containers; for a module of your own, build its torch twin and register it: "
                "mg.interop.register(YourModule, lambda module, convert: ...)")
        kwargs = _arguments(torch_cls.__init__, lambda n: _mg_has(module, n),
                            lambda n: _to_torch_value(n, getattr(module, n)), _torch_dtype(module))
        kwargs.update(_FLAGS.get(cls.__name__, lambda m: {})(module))
        try:
            twin = torch_cls(**kwargs)
        except Exception as e:
            raise type(e)(f"to_torch: building torch.nn.{torch_cls.__name__}(**{kwargs}) for {where} failed: {e}") \
                from None
        for name, child in module._modules.items():  # sublayers PyTorch's layer does not make itself
            if name not in twin._modules:
                setattr(twin, name, convert(child, name))
    _copy_state(module.state_dict(), twin, where)
    for (name, p), (_, q) in zip(module.named_parameters(), twin.named_parameters()):
        q.requires_grad_(p.requires_grad)
    twin.train(module.training)
    return twin


def to_torch(model):
    """The PyTorch twin of a minigrad model (see the module docstring)."""
    return _convert_to_torch(model, "")


# ---- and back ------------------------------------------------------------------------------------------------
def _torch_has(module, name):
    return name in module.__dict__ or name in module._buffers or (name == "bias" and name in module._parameters)


def _to_mg_value(name, value):
    if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
        return value is not None
    if isinstance(value, torch.Tensor):
        return Tensor(value.detach().cpu().numpy().copy())
    return value


def _mg_class(module):
    cls = type(module)
    if cls in _BACK:
        return _BACK[cls]
    if cls.__module__.startswith("torch.nn.") and cls.__name__ in mnn.__all__:
        return getattr(mnn, cls.__name__)
    return None


def _convert_from_torch(module, path, unknown):
    cls, mg_cls = type(module), _mg_class(module)
    if cls in (tnn.Sequential, tnn.ModuleList, tnn.ModuleDict):
        children = OrderedDict((name, _convert_from_torch(child, f"{path}.{name}" if path else name, unknown))
                               for name, child in module._modules.items() if child is not None)
        return (mnn.Sequential(children) if cls is tnn.Sequential else mnn.ModuleList(list(children.values()))
                if cls is tnn.ModuleList else mnn.ModuleDict(children))
    if mg_cls is None:
        unknown.append(f"'{path}' ({cls.__module__}.{cls.__qualname__})" if path else
                       f"the model itself ({cls.__module__}.{cls.__qualname__})")
        return None
    dtype = next((p.dtype for p in list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))
                  if p.is_floating_point()), None)
    kwargs = _arguments(mg_cls.__init__, lambda n: _torch_has(module, n),
                        lambda n: _to_mg_value(n, getattr(module, n)),
                        None if dtype is None else np.dtype(str(dtype).removeprefix("torch.")))
    kwargs.update(_FLAGS.get(cls.__name__, lambda m: {})(module))
    if cls in (tnn.ParameterList, tnn.ParameterDict):
        values = [_to_mg_value("", p) for p in module.parameters()]
        twin = mg_cls(values if cls is tnn.ParameterList else dict(zip(module._parameters, values)))
    else:
        twin = mg_cls(**kwargs)
    if dtype is not None:
        twin.to(np.dtype(str(dtype).removeprefix("torch.")))  # layers without a dtype argument (LSQ, PACT)
    state = OrderedDict((k, v.detach().cpu().numpy()) for k, v in module.state_dict().items())
    twin.load_state_dict(state, strict=True)
    for p, q in zip(module.parameters(), twin.parameters()):
        q.requires_grad = p.requires_grad
    twin.train(module.training)
    return twin


def from_torch(module):
    """A minigrad model from a PyTorch one: every layer of torch.nn that mg.nn has, and the twins of minigrad's own
    layers; the state dict copied. Layers it does not know are named, all at once, in a NotImplementedError."""
    unknown = []
    model = _convert_from_torch(module, "", unknown)
    if unknown:
        raise NotImplementedError("from_torch: no minigrad layer for " + ", ".join(unknown) + "; minigrad knows the "
                                  "torch.nn layers that mg.nn has (mg.nn.__all__) and the twins of its binary and "
                                  "quantized layers")
    return model
