"""Chapter 03, exercise 4: the STE's coarse gradient points the way a blurred loss descends.

L(w) = (sign(w - 0.3) - 1)^2 is 4 where w + noise < 0.3, else 0. With w + sigma Z, Z ~ N(0, 1):
    L_sigma(w) = 4 P(w + sigma Z < 0.3) = 4 Phi((0.3 - w) / sigma),
    dL_sigma/dw = -(4 / sigma) phi((0.3 - w) / sigma) < 0 everywhere.
The STE (clipped) gives -4 where |w - 0.3| <= 1 and w < 0.3, else 0: where it is not 0 it has the sign of
dL_sigma/dw. It is not the slope of L_sigma (that varies with w), but it points the same way.
"""
import math

import numpy as np

import minigrad as mg
from minigrad import ste


def loss(w):
    return (ste.sign(w - 0.3) - 1) ** 2          # elementwise: one loss per entry of w


def Phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


sigma = 0.5
rng = np.random.default_rng(0)
Z = rng.standard_normal(200_000)
for w0 in [-1.0, 0.0, 0.3, 0.8]:
    monte_carlo = loss(mg.tensor(w0 + sigma * Z, dtype="float64")).numpy().mean()
    assert abs(monte_carlo - 4 * Phi((0.3 - w0) / sigma)) < 0.02, (w0, monte_carlo)

w = mg.tensor(np.linspace(-2, 2, 401), dtype="float64", requires_grad=True)
coarse, = mg.grad(loss(w).sum(), w)
z = (0.3 - w.numpy()) / sigma
blurred = -(4 / sigma) * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
nonzero = coarse.numpy() != 0
assert nonzero.sum() > 50 and np.all(np.sign(coarse.numpy()[nonzero]) == np.sign(blurred[nonzero]))
print(f"the STE gradient is non-zero at {nonzero.sum()} of 401 points, and has dL_sigma/dw's sign at all of them")
