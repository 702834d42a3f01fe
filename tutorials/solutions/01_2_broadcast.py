"""Chapter 01, exercise 2: predict a broadcast gradient, then check it.

L = sum_ij (X_ij + b_j) c_i, so
  dL/db_j = sum_i c_i          -> b.grad has b's shape (3,), every entry equal to c.sum()
  dL/dc_i = sum_j (X_ij + b_j) -> c.grad has c's shape (4, 1): the row sums of X + b
  dL/dX_ij = c_i               -> X.grad has X's shape (4, 3): c repeated along the rows
"""
import numpy as np

import minigrad as mg

rng = np.random.default_rng(0)
X = mg.tensor(rng.standard_normal((4, 3)), dtype="float64", requires_grad=True)
b = mg.tensor(rng.standard_normal(3), dtype="float64", requires_grad=True)
c = mg.tensor(rng.standard_normal((4, 1)), dtype="float64", requires_grad=True)
((X + b) * c).sum().backward()

Xn, bn, cn = X.numpy(), b.numpy(), c.numpy()
assert b.grad.shape == (3,) and np.allclose(b.grad.numpy(), np.full(3, cn.sum()))
assert c.grad.shape == (4, 1) and np.allclose(c.grad.numpy(), (Xn + bn).sum(axis=1, keepdims=True))
assert X.grad.shape == (4, 3) and np.allclose(X.grad.numpy(), np.broadcast_to(cn, (4, 3)))
print("b.grad:", b.grad.numpy(), "\nc.grad:", c.grad.numpy().ravel())
