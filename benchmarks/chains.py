"""Chains of small elementwise ops: the per-op overhead of the dispatch point and of the backward engine.

The same chain runs in minigrad and in PyTorch eager: it cycles through five ops, x * w, x + b, tanh,
sigmoid and sin, on tensors of a few elements, so the arithmetic is negligible and what is timed is
the framework: recording the graph, dispatching each op and running each backward rule.
"""
import numpy as np

OPS = ("mul", "add", "tanh", "sigmoid", "sin")


def chain(x, w, b, n):
    """n elementwise ops, starting from x (works for minigrad and torch tensors alike)."""
    for i in range(n):
        k = i % 5
        if k == 0:
            x = x * w
        elif k == 1:
            x = x + b
        elif k == 2:
            x = x.tanh()
        elif k == 3:
            x = x.sigmoid()
        else:
            x = x.sin()
    return x


def leaves(lib, size, rng, dtype=np.float32):
    """x, w, b: three leaf tensors of `size` elements that require grad, for lib in {'minigrad', 'torch'}."""
    arrays = [rng.uniform(0.5, 1.0, size).astype(dtype) for _ in range(3)]
    if lib == "torch":
        import torch
        return [torch.tensor(a, requires_grad=True) for a in arrays]
    import minigrad as mg
    return [mg.tensor(a, requires_grad=True) for a in arrays]


def forward_backward(x, w, b, n):
    """The chain, a sum, and backward; gradients are reset first so nothing accumulates across calls."""
    x.grad = w.grad = b.grad = None
    chain(x, w, b, n).sum().backward()


def forward_only(x, w, b, n):
    """The chain and the sum, graph recorded (then dropped)."""
    return chain(x, w, b, n).sum()
