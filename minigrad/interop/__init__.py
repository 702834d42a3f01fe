"""Leaving minigrad with your model: its PyTorch twin, and ONNX export (`mg.onnx.export`).

    torch_model = mg.interop.to_torch(model)      # torch.nn layers, the same weights, the same surrogate gradients
    model = mg.interop.from_torch(torch_model)    # and back (names the layers it does not know)
    mg.interop.constrain(torch_optimizer, torch_model)   # binary layers' WeightClip after each torch step

Weights travel as safetensors with PyTorch's names and layouts: `mg.save(model.state_dict(), "m.safetensors")`.
This package sits at the top of minigrad (beside the CLI): nothing below imports it, and PyTorch is imported only
when one of these functions is called (or `minigrad.interop.torch_ste` / `torch_twin` is imported).
"""

__all__ = ["to_torch", "from_torch", "apply_constraints", "constrain", "register"]


def _twin():
    try:
        from . import torch_twin
    except ImportError as e:
        if getattr(e, "name", None) == "torch":
            raise ImportError("mg.interop: the PyTorch twin needs PyTorch (`pip install torch`)") from None
        raise
    return torch_twin


def to_torch(model):
    """A torch.nn.Module with the structure and weights of the minigrad `model`: each mg.nn layer as its PyTorch layer
    (binary and quantized layers, Sign, Quantize, LSQ, PACT as small torch modules over torch.autograd.Functions with
    minigrad's exact forward and surrogate backward), in the same train/eval mode."""
    return _twin().to_torch(model)


def from_torch(module):
    """The minigrad model of a torch.nn.Module made of layers mg.nn has (and the twins to_torch makes); a
    NotImplementedError names every layer it does not know."""
    return _twin().from_torch(module)


def apply_constraints(module):
    """Apply minigrad's constraints (WeightClip of binary layers, positive LSQ/PACT steps) to a twin's parameters."""
    return _twin().apply_constraints(module)


def constrain(optimizer, module):
    """Make a torch optimizer apply the twin's constraints after each step, as minigrad's optimizers do."""
    return _twin().constrain(optimizer, module)


def register(mg_class, converter):
    """Teach to_torch a module of your own: converter(module, convert) -> torch module (convert(child) for children)."""
    return _twin().register(mg_class, converter)
