"""Helpers shared by the functional families."""


from ...ops._common import lift

__all__ = []


class ShapeError(ValueError, RuntimeError):
    """An input whose shape does not fit a layer's weights or statistics: PyTorch raises RuntimeError, earlier
    minigrad ValueError; both catch it."""


def _floating(x, op):
    """x as a Tensor, refused with a clear error unless it is floating point (layers and losses compute in
    floating point; PyTorch refuses integer inputs too)."""
    x = lift(x)
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.data.dtype} (shape {x.shape}); layers and "
                           "losses compute in floating point: convert it first, e.g. x.float()")
    return x
