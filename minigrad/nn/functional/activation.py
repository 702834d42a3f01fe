"""Activation functions (PyTorch's torch.nn.functional names)."""


from ... import ops

__all__ = ["relu", "leaky_relu", "gelu", "tanh", "sigmoid", "hardtanh", "softmax", "log_softmax"]


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
