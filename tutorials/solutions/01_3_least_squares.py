"""Chapter 01, exercise 3: the gradient of least squares, and gradient descent to NumPy's solution.

L(w) = (1/N) sum_i (x_i . w - y_i)^2, so dL/dw = (2/N) X^T (X w - y).
"""
import numpy as np

import minigrad as mg

rng = np.random.default_rng(0)
Xn = rng.standard_normal((50, 3))
yn = Xn @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.standard_normal(50)
X, y = mg.tensor(Xn, dtype="float64"), mg.tensor(yn, dtype="float64")

w = mg.tensor(np.zeros(3), dtype="float64", requires_grad=True)
((X @ w - y) ** 2).mean().backward()
by_hand = 2 / len(yn) * Xn.T @ (Xn @ np.zeros(3) - yn)
assert np.allclose(w.grad.numpy(), by_hand)

lr = 0.1
for step in range(500):
    w.grad = None
    loss = ((X @ w - y) ** 2).mean()
    loss.backward()
    with mg.no_grad():
        w.sub_(w.grad * lr)
best, *_ = np.linalg.lstsq(Xn, yn, rcond=None)
assert np.allclose(w.numpy(), best, atol=1e-4), (w.numpy(), best)
print("gradient descent:", np.round(w.numpy(), 4), " lstsq:", np.round(best, 4))
