"""Weight initialisers (PyTorch's `torch.nn.init`): each fills a tensor in place, under no_grad, from
`rng=` or the generator seeded by `mg.manual_seed`, and returns it.

Kaiming / He: He et al., "Delving Deep into Rectifiers", ICCV 2015: std = gain / sqrt(fan).
Xavier / Glorot: Glorot & Bengio, AISTATS 2010: std = gain * sqrt(2 / (fan_in + fan_out)).
Also trunc_normal_ (exact truncated normal, by rejection), orthogonal_ (Saxe et al. 2014), eye_, dirac_ and sparse_
(Martens 2010), with PyTorch's arguments (randomness from `rng=` in place of PyTorch's `generator=`).
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


def _floating_only(op, tensor):
    if np.dtype(tensor.dtype).kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {tensor.dtype} tensors (nor is PyTorch's normal_); "
                                  "initialise a floating-point tensor, e.g. mg.zeros(shape, dtype=mg.float32)")


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, rng=None):
    """Fill with N(mean, std^2) truncated to [a, b] (torch.nn.init.trunc_normal_): the density
    phi((x - mean) / std) / (std (Phi((b - mean) / std) - Phi((a - mean) / std))) on [a, b], 0 outside.

    Sampled by rejection, as PyTorch 2.13: when [a, b] holds more than 30% of the normal's mass, normal draws outside
    [a, b] are redrawn; otherwise uniform draws on [a, b] are accepted with probability
    exp(-((x - mean)^2 - (m - mean)^2) / (2 std^2)), m the point of [a, b] nearest the mean. Both give the exact
    truncated normal (PyTorch's random numbers differ: minigrad draws from `rng` or mg.manual_seed's generator).
    As PyTorch: a warning when the mean is more than 2 std outside [a, b]; std = 0 is a ZeroDivisionError; a > b, or
    an infinite bound when [a, b] holds at most 30% of the mass, a RuntimeError; an integer tensor a
    NotImplementedError."""
    op = "trunc_normal_"
    _floating_only(op, tensor)
    mean, std, a, b = float(mean), float(std), float(a), float(b)
    if std == 0:
        raise ZeroDivisionError(f"{op}: std is 0, and the truncation bounds are measured in std (PyTorch divides by "
                                "it too); pass std > 0, or constant_(tensor, mean) for a constant")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may "
                      "be incorrect.", stacklevel=2)
    if tensor.size == 0:
        return tensor
    generator = _rng(rng)
    n = tensor.size

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    p = cdf((b - mean) / std) - cdf((a - mean) / std)
    if p > 0.3:
        lo, hi = np.array([a, b]).astype(tensor.dtype).astype(np.float64)  # bounds as the tensor holds them
        out = generator.standard_normal(n) * std + mean
        bad = np.flatnonzero((out < lo) | (out > hi))
        while bad.size:
            out[bad] = generator.standard_normal(bad.size) * std + mean
            bad = bad[(out[bad] < lo) | (out[bad] > hi)]
    else:
        if a > b:
            raise RuntimeError(f"{op}: expects a <= b (the interval [a, b] to sample from), but found a={a} > b={b}; "
                               "swap them")
        if not (math.isfinite(a) and math.isfinite(b)):
            raise RuntimeError(f"{op}: a={a} or b={b} is not finite while [a, b] holds only {p:.3g} of N({mean}, "
                               f"{std}^2)'s mass, where PyTorch draws uniformly on [a, b] (and fails the same way); "
                               "pass finite bounds")
        peak = max(a, min(mean, b))
        log_peak = -0.5 * ((peak - mean) / std) ** 2
        out = np.empty(n)
        pending = np.arange(n)
        while pending.size:
            x = generator.uniform(a, b, pending.size)
            accept = np.log(generator.random(pending.size)) <= -0.5 * ((x - mean) / std) ** 2 - log_peak
            out[pending[accept]] = x[accept]
            pending = pending[~accept]
    return _fill(tensor, np.clip(out, a, b).reshape(tensor.shape))


def orthogonal_(tensor, gain=1, rng=None):
    """Fill with a (semi-)orthogonal matrix times gain (Saxe et al. 2014, "Exact solutions to the nonlinear dynamics
    of learning in deep linear neural networks"; torch.nn.init.orthogonal_): the tensor is viewed as a
    (rows, numel / rows) matrix, the Q of the QR decomposition of a standard normal matrix (of its transpose when
    rows < cols), with each column's sign flipped by sign(diag(R)), so Q is uniformly (Haar) distributed. Then
    Q^T Q = I (rows >= cols) or Q Q^T = I (rows < cols). As PyTorch: fewer than 2 dims is a ValueError, an empty
    tensor is left as it is, float16 a NotImplementedError (no QR in half precision)."""
    op = "orthogonal_"
    if tensor.ndim < 2:
        raise ValueError(f"{op}: Only tensors with 2 or more dimensions are supported, got shape {tensor.shape}; "
                         "for a vector use normal_ or uniform_")
    if tensor.size == 0:
        return tensor
    _floating_only(op, tensor)
    if tensor.dtype == np.float16:
        raise NotImplementedError(f"{op}: not implemented for float16 (as PyTorch: no QR in half precision); "
                                  "initialise in float32 and convert")
    rows = tensor.shape[0]
    cols = tensor.size // rows
    flat = _rng(rng).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal, zeros elsewhere; rectangular allowed),
    as torch.nn.init.eye_: it preserves the identity of the inputs in Linear layers. Other ranks are a ValueError."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: Only tensors with 2 dimensions are supported, got shape {tensor.shape}; for a "
                         "convolution weight use dirac_")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight (out, in, *kernel) with the Dirac delta (torch.nn.init.dirac_): zeros,
    and 1 at [g * out_per_group + d, d, centre of the kernel] for each group g and each d < min(out_per_group, in),
    so the convolution is the identity on the first channels of each group. The centre is size // 2 in each kernel
    dim. As PyTorch: another rank, or out channels not divisible by groups, is a ValueError."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: Only tensors with 3, 4, or 5 dimensions are supported, got shape {tensor.shape}; "
                         "for a 2-D weight use eye_")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"dirac_: groups must be a positive integer, got {groups!r}")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 must be divisible by groups; {tensor.shape[0]} output channels, groups="
                         f"{groups}")
    values = np.zeros(tensor.shape)
    d = np.arange(min(out_per_group, tensor.shape[1]))
    centre = tuple(n // 2 for n in tensor.shape[2:])
    for g in range(groups):
        values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def sparse_(tensor, sparsity, std=0.01, rng=None):
    """Fill a 2-D tensor with N(0, std^2) and then zero ceil(sparsity * rows) randomly chosen entries of each column
    (Martens 2010, "Deep learning via Hessian-free optimization"; torch.nn.init.sparse_). As PyTorch: another rank is
    a ValueError; the zeroed rows are the first ceil(sparsity * rows) of a random permutation by Python slicing, so a
    sparsity above 1 zeroes every row and a negative one zeroes rows + ceil(sparsity * rows) of them."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: Only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    _floating_only("sparse_", tensor)
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    generator = _rng(rng)
    values = generator.standard_normal((rows, cols)) * std
    for col in range(cols):
        values[generator.permutation(rows)[:num_zeros], col] = 0
    return _fill(tensor, values)
