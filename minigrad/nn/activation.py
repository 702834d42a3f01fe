"""Activation layers: torch.nn's classes, constructor arguments and reprs, each calling its mg.nn.functional
function (see there for formulas and gradients)."""
import warnings

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "GLU",
    "SELU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "Tanh",
    "Tanhshrink",
    "Threshold",
]


def _inplace_repr(module, prefix=""):
    """PyTorch's reprs: 'alpha=1.0, inplace=True', or 'inplace=True' alone; nothing of inplace when it is off."""
    return prefix + (", " if prefix and module.inplace else "") + ("inplace=True" if module.inplace else "")


class _Elementwise(Module):
    """An activation with only `inplace` (ReLU, SELU, SiLU, Mish, ...): forward is `function(x, inplace)`."""
    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return type(self).function(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self)


class ReLU(_Elementwise):
    function = staticmethod(F.relu)


class SELU(_Elementwise):
    function = staticmethod(F.selu)


class SiLU(_Elementwise):
    """x sigmoid(x). (Also called swish; PyTorch has no nn.Swish, and neither has minigrad.)"""
    function = staticmethod(F.silu)


class Mish(_Elementwise):
    function = staticmethod(F.mish)


class Hardsigmoid(_Elementwise):
    function = staticmethod(F.hardsigmoid)

    def extra_repr(self):  # PyTorch shows no arguments for these two
        return ""


class Hardswish(Hardsigmoid):
    function = staticmethod(F.hardswish)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):  # noqa: A002
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self, f"negative_slope={self.negative_slope}")


class ELU(Module):
    function = staticmethod(F.elu)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):  # noqa: A002
        return type(self).function(input, self.alpha, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self, f"alpha={self.alpha}")


class CELU(ELU):
    function = staticmethod(F.celu)


class Hardtanh(Module):
    """clip(x, min_val, max_val), gradient 0 at the corners (min_value and max_value: PyTorch's deprecated names)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        for old, new, value in (("min_value", "min_val", min_value), ("max_value", "max_val", max_value)):
            if value is not None:
                warnings.warn(f"keyword argument `{old}` is deprecated and renamed to `{new}` (as in PyTorch)",
                              FutureWarning, stacklevel=3)
        self.min_val = min_val if min_value is None else min_value
        self.max_val = max_val if max_value is None else max_value
        self.inplace = inplace
        if not self.max_val > self.min_val:  # PyTorch asserts this (an AssertionError)
            raise AssertionError(f"Hardtanh: max_val ({self.max_val}) must be greater than min_val ({self.min_val})")

    def forward(self, input):  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self, f"min_val={self.min_val}, max_val={self.max_val}")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6), as in PyTorch."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _Stateless(Module):
    function = None

    def forward(self, input):  # noqa: A002
        return type(self).function(input)


class Tanh(_Stateless):
    function = staticmethod(F.tanh)


class Sigmoid(_Stateless):
    function = staticmethod(F.sigmoid)


class Softsign(_Stateless):
    function = staticmethod(F.softsign)


class LogSigmoid(_Stateless):
    function = staticmethod(F.logsigmoid)


class _AlongDim(Module):
    function = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return type(self).function(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """softmax along dim (None: PyTorch's implicit choice, with its warning)."""
    function = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    function = staticmethod(F.log_softmax)


class Softmin(_AlongDim):
    function = staticmethod(F.softmin)


class GLU(_AlongDim):
    """a sigmoid(b), a and b the halves of the input along dim."""
    function = staticmethod(F.glu)

    def __init__(self, dim=-1):
        super().__init__(dim)


class PReLU(Module):
    """x if x > 0 else a x, with a learnt slope a: one shared (num_parameters=1) or one per channel (dim 1 of the
    input), each initialised to `init`."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        if device not in (None, "cpu"):
            raise ValueError(f"PReLU: minigrad runs on the CPU only, got device={device!r}")
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.empty(num_parameters, np.float32 if dtype is None else dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):  # noqa: A002
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Threshold(Module):
    """value where x <= threshold, else x: F.threshold(x, threshold, value, inplace) (see there)."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):  # noqa: A002
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self, f"threshold={self.threshold}, value={self.value}")


class Hardshrink(Module):
    """0 on [-lambd, lambd], else x: F.hardshrink(x, lambd) (see there)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):  # noqa: A002
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Module):
    """x -+ lambd outside [-lambd, lambd], 0 inside: F.softshrink(x, lambd) (see there)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):  # noqa: A002
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Tanhshrink(Module):
    """x - tanh(x): F.tanhshrink(x)."""

    def forward(self, input):  # noqa: A002
        return F.tanhshrink(input)
