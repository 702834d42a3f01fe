"""Pooling layers over 1, 2 and 3 spatial dims (PyTorch's arguments, defaults and reprs); each calls its
nn.functional form."""
from ..ops.conv import ntuple
from . import functional as F
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LPPool1d", "LPPool2d", "LPPool3d"]


class _MaxPool(Module):
    """The maximum of each window (F.max_poolNd); return_indices=True also returns where it is."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):  # noqa: A002
        return self.fn(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                       return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    fn = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    fn = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPool):
    fn = staticmethod(F.max_pool3d)


class _AvgPool(Module):
    """The mean of each window (F.avg_poolNd)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):  # noqa: A002
        extra = {} if self.divisor_override is None else {"divisor_override": self.divisor_override}
        return self.fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                       **extra)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPool):
    fn = staticmethod(F.avg_pool1d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        """kernel_size, stride and padding are kept as 1-tuples, as PyTorch's AvgPool1d (its repr shows them so)."""
        def single(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,)
        super().__init__(single(kernel_size), None if stride is None else single(stride), single(padding), ceil_mode,
                         count_include_pad)


class AvgPool2d(_AvgPool):
    fn = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPool):
    fn = staticmethod(F.avg_pool3d)


class _AdaptivePool(Module):
    """Pooling to a fixed output size with PyTorch's windows (F.adaptive_avg_poolNd / F.adaptive_max_poolNd)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):  # noqa: A002
        return self.fn(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    fn = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePool):
    fn = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptivePool):
    fn = staticmethod(F.adaptive_avg_pool3d)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):  # noqa: A002
        return self.fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    fn = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    fn = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    fn = staticmethod(F.adaptive_max_pool3d)


class _MaxUnpool(Module):
    """The partial inverse of max pooling (F.max_unpoolNd): forward(input, indices, output_size=None)."""

    dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        """kernel_size, stride (default kernel_size) and padding are kept as tuples of one per spatial dim, as
        PyTorch's MaxUnpool (its repr shows them so)."""
        super().__init__()
        name, nd = type(self).__name__, self.dims
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = self.kernel_size if stride is None else ntuple(stride, nd, "stride", name)
        self.padding = ntuple(padding, nd, "padding", name)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return self.fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    fn = staticmethod(F.max_unpool1d)
    dims = 1


class MaxUnpool2d(_MaxUnpool):
    fn = staticmethod(F.max_unpool2d)
    dims = 2


class MaxUnpool3d(_MaxUnpool):
    fn = staticmethod(F.max_unpool3d)
    dims = 3


class _LPPool(Module):
    """Power-average pooling, (sum over the window of x^p)^(1/p) (F.lp_poolNd)."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):  # noqa: A002
        return self.fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    fn = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPool):
    fn = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPool):
    fn = staticmethod(F.lp_pool3d)
