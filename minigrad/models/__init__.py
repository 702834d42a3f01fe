"""`mg.models`: the ready recipes (what `python -m minigrad train --model ...` trains).

- `tiny_transformer(task)` and `bitnet_transformer(task)`: a small decoder-only transformer and its BitNet b1.58
  twin (ternary weights, 8-bit activations) for a generated sequence task (`minigrad.data.sequences`), with
  `RECIPES[name]` holding each one's default training settings.
"""
from .transformer import (Block, CausalSelfAttention, DecoderTransformer, generate, sequence_accuracy,
                          sequence_loss)

__all__ = ["Block", "CausalSelfAttention", "DecoderTransformer", "generate", "sequence_accuracy", "sequence_loss",
           "tiny_transformer", "bitnet_transformer", "RECIPES", "build"]


def tiny_transformer(task, **kwargs):
    """The float model for `task`: 2 layers, 4 heads, 64 dims (about 100K parameters)."""
    return DecoderTransformer(task.vocab_size, task.block_size, **kwargs)


def bitnet_transformer(task, **kwargs):
    """tiny_transformer with every linear layer inside its blocks a BitLinear (BitNet b1.58)."""
    return DecoderTransformer(task.vocab_size, task.block_size, ternary=True, **kwargs)


# name -> (builder, default training settings); the CLI reads them
RECIPES = {
    "tiny-transformer": (tiny_transformer, {"lr": 1e-3, "batch_size": 64, "epochs": 10}),
    "bitnet-transformer": (bitnet_transformer, {"lr": 2e-3, "batch_size": 64, "epochs": 10}),
}


def build(name, task, **kwargs):
    """The model of recipe `name` for `task`."""
    if name not in RECIPES:
        raise ValueError(f"unknown model {name!r}; the sequence models are: {', '.join(RECIPES)}")
    return RECIPES[name][0](task, **kwargs)
