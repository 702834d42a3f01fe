"""The testing kit: the tools minigrad tests its own gradient rules with, for users' rules too.

    from minigrad.testing import gradcheck, gradgradcheck
    gradcheck(lambda x: (x * x).sum(), [mg.randn(3, requires_grad=True)])

`minigrad.testing.strategies` (Hypothesis strategies for shapes, broadcastable shapes, tensors and axes)
and `minigrad.testing.factory` (`op_test`, one property test per op) need Hypothesis, a test dependency;
they are imported on first use so that `import minigrad` never needs it.
"""
import importlib

import numpy as np

from ..tensor import Tensor

from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from ..ops._common import unbroadcast as _unbroadcast

_NEEDS_HYPOTHESIS = {"strategies": "strategies", "factory": "factory", "op_test": "factory"}


def __getattr__(name):
    """Import the Hypothesis-based parts lazily: `mg.testing.strategies`, `mg.testing.op_test`."""
    if name not in _NEEDS_HYPOTHESIS:
        raise AttributeError(f"module 'minigrad.testing' has no attribute '{name}'")
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise ImportError(f"minigrad.testing.{name} is built on Hypothesis, which is a test dependency; "
                          "install it with `pip install hypothesis` (or `pip install -e .[test]`)") from None
    module = importlib.import_module(f".{_NEEDS_HYPOTHESIS[name]}", __name__)
    return module if name == _NEEDS_HYPOTHESIS[name] else getattr(module, name)


def unbroadcast(grad, like):
    """The backward of broadcasting: sum `grad` over the axes broadcasting added or stretched, so that it has
    the shape (and dtype) of `like`, the input it is the gradient of.

    `like` is a Tensor or an ndarray (shape and dtype are taken from it) or a shape (a tuple of ints; the
    dtype stays grad's). Works on NumPy arrays and on Tensors; on Tensors it is made of minigrad ops, so a
    backward rule that uses it can be differentiated again (create_graph=True). Every built-in binary op
    sums its gradients back this way.

        >>> import numpy as np
        >>> g = np.ones((2, 3))                    # the gradient of an output of shape (2, 3) ...
        >>> unbroadcast(g, np.zeros(3))           # ... for an input of shape (3,): summed over the rows
        array([2., 2., 2.])
        >>> unbroadcast(g, (2, 1))                # ... for an input of shape (2, 1): summed along each row
        array([[3.],
               [3.]])
    """
    if isinstance(like, tuple) and all(isinstance(n, (int, np.integer)) for n in like):
        like = (tuple(int(n) for n in like), grad.dtype)
    elif isinstance(like, np.ndarray):
        like = (like.shape, like.dtype)
    elif not isinstance(like, Tensor):
        raise TypeError(f"unbroadcast: like must be a Tensor, an ndarray or a shape, not {type(like).__name__}")
    shape = like[0] if isinstance(like, tuple) else like.shape
    try:
        if np.broadcast_shapes(tuple(shape), tuple(grad.shape)) != tuple(grad.shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"unbroadcast: a gradient of shape {tuple(grad.shape)} cannot come from broadcasting "
                           f"an input of shape {tuple(shape)}") from None
    return _unbroadcast(grad, like)


__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "strategies", "factory", "op_test", "unbroadcast",
           "check_surrogate"]
from .surrogate_check import check_surrogate  # noqa: E402
