"""Chapter 02, exercise 2: a two-input op with broadcasting, property-tested.

hypot(x, y) = sqrt(x^2 + y^2) has a kink where x = y = 0 (a cone's tip): there its derivative does not
exist and a central difference straddles it. So the elements are drawn away from 0 (`away_from([0.0])`):
then x^2 + y^2 >= 0.02 and the derivatives x / hypot, y / hypot are smooth around every sample.
"""
import numpy as np
from hypothesis import settings

import minigrad as mg
from minigrad.testing import op_test, unbroadcast
from minigrad.testing import strategies as mst


class Hypot(mg.Function):
    """sqrt(x^2 + y^2).  dx = g x / out,  dy = g y / out (each summed back to its input's shape)."""
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.hypot(x.data, y.data)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        out = (x * x + y * y).sqrt()
        return unbroadcast(g * x / out, x), unbroadcast(g * y / out, y)


def hypot(x, y):
    return Hypot.apply(x, y)


test = op_test(hypot, np.hypot, n_inputs=2, elements=mst.away_from([0.0]), name="hypot")
settings(max_examples=40, derandomize=True, deadline=None, database=None)(test)()

a = mg.tensor([[3.0], [0.6]], requires_grad=True)
b = mg.tensor([4.0, 0.8], requires_grad=True)
hypot(a, b).sum().backward()
assert a.grad.shape == (2, 1) and b.grad.shape == (2,)
print("hypot passes op_test with broadcasting; a.grad =", a.grad.numpy().ravel(), "b.grad =", b.grad.numpy())
