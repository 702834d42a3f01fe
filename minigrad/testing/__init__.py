"""The testing kit: the tools minigrad tests its own gradient rules with, for users' rules too.

    from minigrad.testing import gradcheck, gradgradcheck
    gradcheck(lambda x: (x * x).sum(), [mg.randn(3, requires_grad=True)])

`minigrad.testing.strategies` (Hypothesis strategies for shapes, broadcastable shapes, tensors and axes)
and `minigrad.testing.factory` (`op_test`, one property test per op) need Hypothesis, a test dependency;
they are imported on first use so that `import minigrad` never needs it.
"""
import importlib

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

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


__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "strategies", "factory", "op_test"]
from .surrogate_check import check_surrogate  # noqa: E402
