"""Activation functions: torch.nn.functional's names, arguments, defaults and gradients (kinks included).

`inplace=True` (where PyTorch has it) writes the result into the input and returns it, as PyTorch: through
mg.ops.inplace, so a leaf that requires grad is refused and a graph tensor's history is rewritten. The `*_`
spellings (relu_, elu_, ...) are the same with inplace=True. Softmax, log_softmax and softmin without dim
pick PyTorch's implicit dim (0 for 0-, 1- and 3-d inputs, else 1) and warn, as PyTorch does.
"""
import warnings

from ... import ops
from ...ops import activation as act
from ...ops._common import lift, normalize_dim
from ...ops.inplace import update

__all__ = ["celu", "celu_", "elu", "elu_", "gelu", "glu", "hardsigmoid", "hardswish", "hardtanh", "hardtanh_",
           "leaky_relu", "leaky_relu_", "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6", "relu_", "selu",
           "selu_", "sigmoid", "silu", "softmax", "softmin", "softplus", "softsign", "tanh"]


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


def relu_(input): return relu(input, inplace=True)  # noqa: A002, E704
def elu_(input, alpha=1.0): return elu(input, alpha, inplace=True)  # noqa: A002, E704
def selu_(input): return selu(input, inplace=True)  # noqa: A002, E704
def celu_(input, alpha=1.0): return celu(input, alpha, inplace=True)  # noqa: A002, E704
def leaky_relu_(input, negative_slope=0.01): return leaky_relu(input, negative_slope, inplace=True)  # noqa: A002, E704
def hardtanh_(input, min_val=-1.0, max_val=1.0): return hardtanh(input, min_val, max_val, inplace=True)  # noqa: A002, E704
