"""Activation functions: torch.nn.functional's names, arguments, defaults and gradients (kinks included).

`inplace=True` (where PyTorch has it) writes the result into the input and returns it, as PyTorch: through
mg.ops.inplace, so a leaf that requires grad is refused and a graph tensor's history is rewritten. The `*_`
spellings (relu_, elu_, ...) are the same with inplace=True. Softmax, log_softmax and softmin without dim
pick PyTorch's implicit dim (0 for 0-, 1- and 3-d inputs, else 1) and warn, as PyTorch does.
"""
import warnings

import numpy as np

from ... import ops
from ...ops import activation as act
from ...ops._common import lift, normalize_dim
from ...ops.inplace import update
from ...tensor import Tensor

__all__ = ["celu", "celu_", "elu", "elu_", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
           "hardtanh_", "leaky_relu", "leaky_relu_", "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6",
           "relu_", "selu", "selu_", "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign",
           "tanh", "tanhshrink", "threshold", "threshold_"]


def _maybe_inplace(fn, input, inplace, name):
    """fn(input), written into input and returned when inplace (PyTorch's in-place activations)."""
    return update(input, f"{name}_", fn, ()) if inplace else fn(input)


def relu(input, inplace=False):  # noqa: A002
    """max(input, 0); gradient 0 at 0."""
    return _maybe_inplace(act.relu, input, inplace, "relu")


def relu6(input, inplace=False):  # noqa: A002
    """min(max(input, 0), 6) (hardtanh(input, 0, 6)); gradient 0 at 0 and 6, as PyTorch."""
    return _maybe_inplace(act.relu6, input, inplace, "relu6")


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """input if input > 0 else negative_slope * input (the slope at 0 is negative_slope, as PyTorch)."""
    return _maybe_inplace(lambda x: act.leaky_relu(x, negative_slope), input, inplace, "leaky_relu")


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """input if input > 0 else alpha (exp(input) - 1) (Clevert et al. 2015); the slope at 0 is alpha, as PyTorch."""
    return _maybe_inplace(lambda x: act.elu(x, alpha), input, inplace, "elu")


def selu(input, inplace=False):  # noqa: A002
    """scale elu(input, alpha), alpha = 1.6733, scale = 1.0507 (Klambauer et al. 2017)."""
    return _maybe_inplace(act.selu, input, inplace, "selu")


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """max(0, input) + min(0, alpha (exp(input / alpha) - 1)) (Barron 2017); alpha = 0 is an error."""
    return _maybe_inplace(lambda x: act.celu(x, alpha), input, inplace, "celu")


def silu(input, inplace=False):  # noqa: A002
    """input sigmoid(input) (SiLU; 'swish' with beta = 1 elsewhere, a name PyTorch does not use)."""
    return _maybe_inplace(act.silu, input, inplace, "silu")


def mish(input, inplace=False):  # noqa: A002
    """input tanh(softplus(input)) (Misra 2019)."""
    return _maybe_inplace(act.mish, input, inplace, "mish")


def gelu(input, approximate="none"):  # noqa: A002
    """input Phi(input) (Hendrycks & Gimpel 2016); approximate='tanh' for the tanh form."""
    return act.gelu(input, approximate)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + exp(beta input)) / beta, and input itself where beta input > threshold (PyTorch's linear tail)."""
    return act.softplus(input, beta, threshold)


def softsign(input):  # noqa: A002
    """input / (1 + |input|), composed as PyTorch composes it (so integers give the default float)."""
    x = lift(input)
    return x / (ops.abs(x) + 1)


def hardsigmoid(input, inplace=False):  # noqa: A002
    """min(max(input + 3, 0), 6) / 6; gradient 1/6 strictly inside (-3, 3), 0 at the corners, as PyTorch."""
    return _maybe_inplace(act.hardsigmoid, input, inplace, "hardsigmoid")


def hardswish(input, inplace=False):  # noqa: A002
    """input min(max(input + 3, 0), 6) / 6 (Howard et al. 2019), with PyTorch's one-sided slopes at -3 and 3."""
    return _maybe_inplace(act.hardswish, input, inplace, "hardswish")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """clip(input, min_val, max_val); gradient 1 strictly inside, 0 at the corners (PyTorch's hardtanh_backward;
    clamp's gradient includes the corners, and mg.ste.Clipped, the hardtanh STE of BNNs, includes them too)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _maybe_inplace(lambda x: act.hardtanh(x, min_val, max_val), input, inplace, "hardtanh")


def logsigmoid(input):  # noqa: A002
    """log(sigmoid(input)) = -softplus(-input), without overflow."""
    return act.logsigmoid(input)


def prelu(input, weight):  # noqa: A002
    """input if input > 0 else weight * input, weight one number or one per channel (dim 1)."""
    return act.prelu(input, weight)


def glu(input, dim=-1):  # noqa: A002
    """a sigmoid(b), a and b the two halves of input along dim (Dauphin et al. 2017); that dim must be even."""
    x = lift(input)
    if x.ndim == 0:
        raise RuntimeError("glu: does not support 0-d tensors, because the halved dimension must be even")
    act._float_input("glu", x)
    d = normalize_dim(dim, x.ndim, "glu")
    if x.shape[d] % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {d} is size {x.shape[d]}")
    a, b = ops.split(x, x.shape[d] // 2, dim=d)
    return a * ops.sigmoid(b)


def tanh(input):  # noqa: A002
    return ops.tanh(input)


def sigmoid(input):  # noqa: A002
    return ops.sigmoid(input)


def _softmax_dim(op, dim, ndim):
    """dim, or PyTorch's implicit choice (with its deprecation warning) when None."""
    if dim is None:
        dim = 0 if ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated (as in PyTorch). Change the call to "
                      f"include dim={dim} as an argument.", UserWarning, stacklevel=3)
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """exp(input) / sum(exp(input)) along dim (shifted by the max, so it never overflows)."""
    x = lift(input)
    return ops.softmax(x, _softmax_dim("softmax", dim, x.ndim), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """input - logsumexp(input) along dim."""
    x = lift(input)
    return ops.log_softmax(x, _softmax_dim("log_softmax", dim, x.ndim), dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """softmax(-input) along dim."""
    x = lift(input)
    return ops.softmax(-x, _softmax_dim("softmin", dim, x.ndim), dtype=dtype)


def _as_dtype_of(x, value, op="threshold"):
    """value (a Python number) as a 0-d constant of x's dtype, as PyTorch casts a Scalar argument to the input's type:
    truncated toward 0 for an integer x, rounded for float16. Into an integer type, a number it cannot hold is a
    RuntimeError, by c10's rule: a float must lie in [min, max]; an int may also be negative down to -max for an
    unsigned type (it wraps: -2 into uint8 is 254)."""
    dtype = x.data.dtype
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            fits = (-int(info.max) if dtype.kind == "u" else int(info.min)) <= int(value) <= int(info.max)
        else:
            fits = info.min <= float(value) <= info.max  # nan and inf never fit
        if not fits:
            raise RuntimeError(f"{op}: value cannot be converted to type {dtype} without overflow: {value!r} (as "
                               f"PyTorch); {dtype} holds {info.min}..{info.max}")
    with np.errstate(invalid="ignore", over="ignore"):
        return np.array(value).astype(dtype)


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """y = value where input <= threshold, else input (torch.nn.functional.threshold; ATen's `x <= threshold ?
    value : x`). threshold and value are cast to the input's dtype first (for an integer input: truncated), as PyTorch;
    nan is kept (nan <= threshold is false). Gradient 1 where input > threshold (or nan), 0 elsewhere (also at
    input = threshold), PyTorch's threshold_backward; second derivative 0."""
    def fn(x):
        x = lift(x)
        below = x.data <= _as_dtype_of(x, threshold)
        return ops.where(below, Tensor._wrap(_as_dtype_of(x, value)), x)
    return _maybe_inplace(fn, input, inplace, "threshold")


def threshold_(input, threshold, value):  # noqa: A002
    """threshold(input, threshold, value) written into input (PyTorch's in-place form)."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def _shrink_input(op, input):
    x = lift(input)
    if x.data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {x.data.dtype} inputs (as PyTorch); convert first, e.g. "
                                  "x.float()")
    return x


def hardshrink(input, lambd=0.5):  # noqa: A002
    """y = 0 where -lambd <= input <= lambd, else input (torch.nn.functional.hardshrink, the hard-thresholding of
    Donoho & Johnstone 1994). Gradient 0 on [-lambd, lambd] (ends included), 1 elsewhere (nan included), as PyTorch's
    hardshrink_backward; second derivative 0. A negative lambd shrinks nothing (PyTorch does not refuse it); an
    integer input is a NotImplementedError."""
    x = _shrink_input("hardshrink", input)
    lambd = _as_dtype_of(x, lambd, "hardshrink")
    inside = (x.data >= -lambd) & (x.data <= lambd)
    return ops.where(inside, Tensor._wrap(np.zeros((), x.data.dtype)), x)


def softshrink(input, lambd=0.5):  # noqa: A002
    """y = input - lambd where input > lambd, input + lambd where input < -lambd, 0 between (torch.nn.functional.
    softshrink, soft-thresholding, Donoho 1995; +0 as PyTorch's vectorised kernel gives, its scalar tail gives
    input * 0, a -0 for a negative input). Gradient 0 on [-lambd, lambd] (ends included),
    1 elsewhere (nan included), as PyTorch's softshrink_backward; second derivative 0. lambd must lie in
    [0, the dtype's largest finite value] (PyTorch's RuntimeError otherwise); an integer input is a
    NotImplementedError."""
    x = _shrink_input("softshrink", input)
    top = float(np.finfo(x.data.dtype).max)
    if not 0 <= lambd <= top:
        raise RuntimeError(f"softshrink: lambda must be in range [0, {top:g}] for input dtype {x.data.dtype}, but "
                           f"found {lambd}; pass lambd >= 0 (the half-width of the band set to 0)")
    lam = _as_dtype_of(x, lambd, "softshrink")
    inside = (x.data >= -lam) & (x.data <= lam)
    return ops.where(inside, Tensor._wrap(np.zeros((), x.data.dtype)), ops.where(x.data > lam, x - lambd, x + lambd))


def tanhshrink(input):  # noqa: A002
    """y = input - tanh(input) (torch.nn.functional.tanhshrink); an integer input gives the default float, as
    PyTorch."""
    x = lift(input)
    return x - ops.tanh(x)


def relu_(input): return relu(input, inplace=True)  # noqa: A002, E704
def elu_(input, alpha=1.0): return elu(input, alpha, inplace=True)  # noqa: A002, E704
def selu_(input): return selu(input, inplace=True)  # noqa: A002, E704
def celu_(input, alpha=1.0): return celu(input, alpha, inplace=True)  # noqa: A002, E704
def leaky_relu_(input, negative_slope=0.01): return leaky_relu(input, negative_slope, inplace=True)  # noqa: A002, E704
def hardtanh_(input, min_val=-1.0, max_val=1.0): return hardtanh(input, min_val, max_val, inplace=True)  # noqa: A002, E704
