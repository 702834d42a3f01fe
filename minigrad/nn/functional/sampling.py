"""Reshaping, padding and resampling of images and sequences."""
import builtins

import numpy as np

from ... import ops
from ...ops._common import lift

__all__ = ["flatten", "pad"]


def flatten(x, start_dim=1, end_dim=-1):
    return ops.flatten(x, start_dim, end_dim)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # PyTorch's name -> numpy.pad's


def pad(x, pad, mode="constant", value=0.0):
    """Pad the last len(pad)/2 axes, PyTorch's convention: pad = (last_before, last_after,
    second_last_before, second_last_after, ...). mode: 'constant' (with `value`), 'reflect',
    'replicate' or 'circular'. The last three gather each padded axis from the indices numpy.pad gives
    an arange, so their gradient is getitem's scatter-add (border gradients add into their sources)."""
    x = lift(x)
    if mode != "constant" and mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', not {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: pad must have an even length of at most 2 * ndim = {2 * x.ndim}, got {pad}")
    if builtins.min(pad, default=0) < 0:
        raise ValueError(f"pad: negative padding (cropping) is not supported, got {pad}; slice the tensor instead")
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pairs[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return ops.pad(x, pairs, value)
    for axis, (before, after) in enumerate(pairs):
        if before or after:
            if mode == "reflect" and builtins.max(before, after) >= x.shape[axis]:
                raise ValueError(f"pad: reflect padding ({before}, {after}) must be smaller than the size "
                                 f"{x.shape[axis]} of axis {axis}")
            source = np.pad(np.arange(x.shape[axis]), (before, after), mode=_PAD_MODES[mode])
            x = x[(slice(None),) * axis + (source,)]
    return x
