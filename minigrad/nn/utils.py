"""`mg.nn.utils`, as PyTorch's `torch.nn.utils`: gradient clipping and the flat-vector view of a model's parameters.

clip_grad_norm_ is the one in `minigrad/optim.py` (also `mg.optim.clip_grad_norm_`), re-exported here under
PyTorch's path `torch.nn.utils.clip_grad_norm_`.
"""
import numpy as np

from .. import ops
from ..autograd import no_grad, phase
from ..optim import clip_grad_norm_
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient in place into [-clip_value, clip_value] (torch.nn.utils.clip_grad_value_):

        g <- min(max(g, -clip_value), clip_value)

    parameters is one tensor or an iterable of them; those without a gradient are skipped. As PyTorch: clip_value
    is taken as float(clip_value) (a 0-d tensor works), the upper bound is applied last (a negative clip_value sets
    every gradient to clip_value), nan stays nan, and it returns None. `foreach` is accepted for PyTorch's signature
    (minigrad has one implementation)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        clip_value = float(clip_value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"clip_grad_value_: clip_value must be a number, got {type(clip_value).__name__} "
                      f"{clip_value!r}; pass e.g. clip_value=1.0") from None
    grads = [p.grad for p in parameters if p.grad is not None]
    with phase("optimizer"), no_grad():
        for g in grads:
            try:
                g.clamp_(min=-clip_value, max=clip_value)
            except RuntimeError as e:  # a bound the gradient's dtype cannot hold (1e6 for float16), as PyTorch
                raise RuntimeError(f"clip_grad_value_: clip_value {clip_value} does not fit a {g.dtype} gradient: "
                                   f"{e}") from None


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one vector (torch.nn.utils.parameters_to_vector):
    cat([p.view(-1) for p in parameters]). It is differentiable (its gradient flows back to each parameter),
    its dtype is the promotion of theirs (cat's rule). As PyTorch: a parameter that cannot be viewed flat without
    a copy is a RuntimeError (view's), an empty iterable a ValueError, and a single tensor is iterated over (its
    rows)."""
    vec = [param.view(-1) for param in parameters]
    if not vec:
        raise ValueError("parameters_to_vector: got no parameters (cat needs a non-empty list of tensors); pass "
                         "model.parameters() of a model that has some")
    return ops.cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy slices of a vector into the parameters, in order (torch.nn.utils.vector_to_parameters): the next
    p.numel() entries of vec, viewed as p's shape, become p.data.

    As PyTorch, p.data is replaced by a view into vec, not copied: each parameter then shares vec's memory (a later
    change to vec shows in the parameters) and takes vec's dtype. Entries left over at the end of vec are ignored;
    too few is a RuntimeError; a vec that is not a Tensor a TypeError. No gradient is recorded (it sets .data)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a minigrad Tensor as vec, but got {type(vec).__name__}; "
                        "wrap it first, e.g. mg.tensor(values)")
    pointer = 0
    for param in parameters:
        num = int(np.prod(param.shape, dtype=np.int64))
        chunk = vec.data[pointer:pointer + num]
        if chunk.size != num:
            raise RuntimeError(f"vector_to_parameters: shape {list(param.shape)} is invalid for input of size "
                               f"{chunk.size} (vec of shape {vec.shape} has {chunk.size} entries left at offset "
                               f"{pointer}); pass a vector of sum(p.numel()) entries, e.g. parameters_to_vector's")
        data = chunk.reshape(param.shape)
        if data.size and not np.shares_memory(data, vec.data):
            raise RuntimeError(f"vector_to_parameters: the slice of vec at offset {pointer} cannot be viewed as shape "
                               f"{list(param.shape)} without a copy; pass a contiguous vector (vec.reshape(-1))")
        param.data = data
        pointer += num
