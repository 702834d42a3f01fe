"""Chapter 02, exercise 4: keep NumPy in backward, and still get second derivatives.

The backward of softplus computes g * sigmoid(x). Make that computation an op of its own, SoftplusGrad(x, g),
whose forward is NumPy and whose backward gives its two gradients:
    d(g sigmoid(x))/dx = g sigmoid(x)(1 - sigmoid(x)),   d(g sigmoid(x))/dg = sigmoid(x).
Softplus's backward calls SoftplusGrad.apply, so with create_graph=True the first-order gradient is a graph
node whose own backward is SoftplusGrad.backward (written with minigrad ops, so it goes to any order).
"""
import numpy as np

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


class SoftplusGrad(mg.Function):
    @staticmethod
    def forward(ctx, x, g):
        ctx.save_for_backward(x, g)
        return g.data * _sigmoid(x.data)

    @staticmethod
    def backward(ctx, gg):
        x, g = ctx.saved_tensors
        s = x.sigmoid()
        return gg * g * s * (1 - s), gg * s


class Softplus(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x.data, 0) + np.log1p(np.exp(-np.abs(x.data)))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return SoftplusGrad.apply(x, g)


mg.manual_seed(0)
assert gradcheck(Softplus.apply, [mg.randn(3, 4)])
assert gradgradcheck(Softplus.apply, [mg.randn(3, 4)])
assert gradcheck(SoftplusGrad.apply, [mg.randn(3, 4), mg.randn(3, 4)])
print("Softplus with a NumPy backward op passes gradcheck and gradgradcheck")
