"""Weight initialisers (PyTorch's `torch.nn.init`): each fills a tensor in place, under no_grad, from
`rng=` or the generator seeded by `mg.manual_seed`, and returns it.

Kaiming / He: He et al., "Delving Deep into Rectifiers", ICCV 2015: std = gain / sqrt(fan).
Xavier / Glorot: Glorot & Bengio, AISTATS 2010: std = gain * sqrt(2 / (fan_in + fan_out)).
"""
import math
import numbers
import warnings

import numpy as np

from ..autograd import no_grad
from ..tensor import default_rng


def _fill(tensor, values):
    with no_grad():
        tensor.copy_(np.asarray(values).astype(tensor.dtype, copy=False))
    return tensor


def _rng(rng):
    return rng if rng is not None else default_rng()


def calculate_gain(nonlinearity, param=None):
    """The gain PyTorch recommends for a nonlinearity (std multiplier that keeps activations' scale)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is not None and (isinstance(param, bool) or not isinstance(param, numbers.Real)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number; pass a float, e.g. "
                             "0.01 (PyTorch refuses a bool too)")
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    known = linear + ("tanh", "relu", "leaky_relu", "selu")
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; use one of {known}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = in_features * receptive field, fan_out = out_features * receptive field
    for a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dimensions, this one has "
                         f"shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', not {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _draw(tensor, draw, scale, shift):
    """tensor <- draw(out) * scale + shift, drawn in the tensor's own dtype straight into its memory when NumPy
    can (float32, float64): no float64 temporary, so building a large model costs the weights' bytes only."""
    data = tensor.data
    if data.dtype in (np.float32, np.float64) and data.flags.c_contiguous and data.flags.writeable:
        out = data
    else:
        out = np.empty(data.shape, np.float32 if data.dtype.itemsize <= 4 else np.float64)
    draw(out)
    out *= scale
    out += shift
    if out is data:
        tensor._version[0] += 1
        return tensor
    return _fill(tensor, out)


def uniform_(tensor, a=0.0, b=1.0, rng=None):
    """Fill with U(a, b)."""
    generator = _rng(rng)
    return _draw(tensor, lambda out: generator.random(out=out, dtype=out.dtype), b - a, a)


def normal_(tensor, mean=0.0, std=1.0, rng=None):
    """Fill with N(mean, std^2)."""
    generator = _rng(rng)
    return _draw(tensor, lambda out: generator.standard_normal(out=out, dtype=out.dtype), std, mean)


def constant_(tensor, val):
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def _empty(tensor):
    """A tensor with no elements: initialising it is a no-op (PyTorch warns the same)."""
    if tensor.size == 0:
        warnings.warn("init: initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """U(-bound, bound), bound = gain * sqrt(3 / fan). With a = sqrt(5) this is PyTorch's default for
    Linear and Conv2d weights: bound = 1 / sqrt(fan_in)."""
    if _empty(tensor):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    """N(0, std^2), std = gain / sqrt(fan)."""
    if _empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, rng=rng)


def xavier_uniform_(tensor, gain=1.0, rng=None):
    """U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, rng=rng)


def xavier_normal_(tensor, gain=1.0, rng=None):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)
