"""Chapter 02, exercise 1: an op of your own, checked to the third derivative."""
import numpy as np

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck


class Cube(mg.Function):
    """x^3.  dx = 3 x^2 g, written with minigrad ops so that it can be differentiated again."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x * x


mg.manual_seed(0)
assert gradcheck(Cube.apply, [mg.randn(3, 4)]) and gradgradcheck(Cube.apply, [mg.randn(3, 4)])

x = mg.tensor([-2.0, 0.5, 3.0], dtype="float64", requires_grad=True)
d1, = mg.grad(Cube.apply(x).sum(), x, create_graph=True)   # 3 x^2
d2, = mg.grad(d1.sum(), x, create_graph=True)               # 6 x
d3, = mg.grad(d2.sum(), x)                                  # 6
assert np.allclose(d1.numpy(), 3 * x.numpy() ** 2) and np.allclose(d2.numpy(), 6 * x.numpy())
assert np.array_equal(d3.numpy(), [6.0, 6.0, 6.0])
print("Cube: gradcheck, gradgradcheck and the third derivative (6) all pass")
