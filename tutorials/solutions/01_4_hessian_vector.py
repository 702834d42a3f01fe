"""Chapter 01, exercise 4: Hessian-vector products by differentiating twice, and Newton's method with them."""
import numpy as np

import minigrad as mg


def hvp(f, x, v):
    """H(x) v without forming H: the gradient of (grad f(x)) . v."""
    x = x.detach().requires_grad_()
    g, = mg.grad(f(x), x, create_graph=True)
    hv, = mg.grad((g * v).sum(), x)
    return hv


def f(x):
    return (x ** 3).sum() + x.sum() ** 2


rng = np.random.default_rng(0)
x = mg.tensor(rng.standard_normal(4), dtype="float64")
v = mg.tensor(rng.standard_normal(4), dtype="float64")
H = 6 * np.diag(x.numpy()) + 2 * np.ones((4, 4))
assert np.allclose(hvp(f, x, v).numpy(), H @ v.numpy())


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


p = mg.tensor([-1.2, 1.0], dtype="float64")
for step in range(1, 10):
    q = p.detach().requires_grad_()
    g, = mg.grad(rosenbrock(q), q)
    e = np.eye(2)
    hessian = np.stack([hvp(rosenbrock, p, mg.tensor(e[i], dtype="float64")).numpy() for i in range(2)])
    p = mg.tensor(p.numpy() - np.linalg.solve(hessian, g.numpy()), dtype="float64")
    if np.allclose(p.numpy(), [1.0, 1.0], atol=1e-8, rtol=0):
        break
assert np.allclose(p.numpy(), [1.0, 1.0], atol=1e-8, rtol=0) and step < 10
print(f"Newton reached {p.numpy()} in {step} steps")
