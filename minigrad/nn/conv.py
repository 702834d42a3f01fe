"""Convolution layers over 1, 2 and 3 spatial dims, their transposes, and the sliding-block modules Unfold and
Fold; PyTorch's arguments, defaults and initialisation (kaiming_uniform(a=sqrt(5)) weights, bias
U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""
import math

import numpy as np

from ..ops.conv import ntuple
from . import functional as F
from . import init
from .linear import _empty
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Unfold", "Fold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv and ConvTranspose layers share: channels, geometry, weight (shaped by `_weight_shape`), bias and
    PyTorch's initialisation."""
    dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 output_padding, dtype, rng):
        super().__init__()
        name, nd = type(self).__name__, self.dims
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups}), a positive int")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, not {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = ntuple(stride, nd, "stride", name)
        self.dilation = ntuple(dilation, nd, "dilation", name)
        self.output_padding = ntuple(output_padding, nd, "output_padding", name)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: invalid padding string {padding!r}; use 'valid' or 'same'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = ntuple(padding, nd, "padding", name)
        self.padding_mode = padding_mode
        channels = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(_empty(*channels, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(_empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def extra_repr(self):
        nd = self.dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


class _Conv(_ConvNd):
    """Convolution (cross-correlation) of (N, C_in, *S) or (C_in, *S) inputs; weight (C_out, C_in/groups, *K).
    padding_mode 'reflect', 'replicate' or 'circular' pads with F.pad first (as PyTorch)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", dtype=np.float32, rng=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, dtype, rng)

    def forward(self, input):  # noqa: A002
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.dims - 1]
        if self.padding_mode == "zeros":
            return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        x = F.pad(input, self._pad_amounts(), mode=self.padding_mode)
        return conv(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def _pad_amounts(self):
        """F.pad's (last_before, last_after, ...): 'same' puts an odd extra cell after, as PyTorch."""
        if self.padding == "valid":
            return (0, 0) * self.dims
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        return tuple(v for pair in reversed(pairs) for v in pair)


class Conv1d(_Conv):
    """1-D convolution of (N, C_in, L) inputs, as torch.nn.Conv1d; weight (C_out, C_in/groups, K)."""
    dims = 1


class Conv2d(_Conv):
    """2-D convolution of (N, C_in, H, W) inputs, as torch.nn.Conv2d; weight (C_out, C_in/groups, KH, KW).
    Initialised as PyTorch's (kaiming_uniform(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""
    dims = 2


class Conv3d(_Conv):
    """3-D convolution of (N, C_in, D, H, W) inputs, as torch.nn.Conv3d; weight (C_out, C_in/groups, KD, KH, KW)."""
    dims = 3


class _ConvTranspose(_ConvNd):
    """Transposed convolution (the gradient of a convolution in its input); weight (C_in, C_out/groups, *K).
    forward(input, output_size=None): output_size picks the output padding, as PyTorch."""
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", dtype=np.float32, rng=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}, not {padding_mode!r}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of ints, not {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype, rng)

    def forward(self, input, output_size=None):  # noqa: A002
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.dims - 1]
        return conv(input, self.weight, self.bias, self.stride, self.padding, self._output_padding(input, output_size),
                    self.groups, self.dilation)

    def _output_padding(self, input, output_size):  # noqa: A002
        """The output padding that gives `output_size` (its spatial sizes, or with the leading dims), as
        PyTorch: each size must lie in [min, min + stride - 1], min the size without output padding."""
        if output_size is None:
            return self.output_padding
        nd, name = self.dims, type(self).__name__
        lead = input.ndim - nd
        size = tuple(output_size)[lead:] if len(output_size) == nd + lead else tuple(output_size)
        if len(size) != nd:
            raise ValueError(f"{name}: for {input.ndim}D input, output_size must have {nd} or {nd + lead} elements "
                             f"(got {len(output_size)})")
        low = [(i - 1) * s - 2 * p + d * (k - 1) + 1 for i, s, p, d, k in
               zip(input.shape[lead:], self.stride, self.padding, self.dilation, self.kernel_size)]
        high = [m + s - 1 for m, s in zip(low, self.stride)]
        if any(not lo <= want <= hi for want, lo, hi in zip(size, low, high)):
            raise ValueError(f"{name}: requested an output size of {list(size)}, but valid sizes range from {low} to "
                             f"{high} (for an input of {tuple(input.shape[lead:])})")
        return tuple(want - lo for want, lo in zip(size, low))


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution, as torch.nn.ConvTranspose1d: (N, C_in, L) -> (N, C_out, L_out)."""
    dims = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution, as torch.nn.ConvTranspose2d: output size (i - 1) s - 2 p + d (k - 1) + 1 +
    output_padding per dim."""
    dims = 2


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution, as torch.nn.ConvTranspose3d."""
    dims = 3


class Unfold(Module):
    """Sliding local blocks, as torch.nn.Unfold: (N, C, H, W) -> (N, C*KH*KW, L) (F.unfold)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):  # noqa: A002
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Sums sliding local blocks into an image, as torch.nn.Fold: (N, C*KH*KW, L) -> (N, C, *output_size)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):  # noqa: A002
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
