"""Chapter 03, exercise 2: a surrogate from a smooth function, and the same written by hand.

smooth(x) = 2 sigmoid(4x) - 1 climbs from -1 to +1 (area 2, a surrogate for sign);
derivative(x) = 8 sigmoid(4x) (1 - sigmoid(4x)).
"""
import numpy as np

import minigrad as mg
from minigrad import ste

auto = ste.Surrogate.from_function(lambda t: 2 * (4 * t).sigmoid() - 1, name="sigmoid4")
assert mg.testing.check_surrogate("sign", auto)


class Sigmoid4(ste.Surrogate):
    hard = "sign"

    def smooth(self, x):
        return 2 * (4 * x).sigmoid() - 1

    def derivative(self, x):
        s = (4 * x).sigmoid()
        return 8 * s * (1 - s)


by_hand = Sigmoid4()
assert mg.testing.check_surrogate("sign", by_hand)
x = mg.tensor(np.linspace(-2, 2, 41), dtype="float64", requires_grad=True)
ga, = mg.grad(ste.sign(x, surrogate=auto).sum(), x)
gb, = mg.grad(ste.sign(x, surrogate=by_hand).sum(), x)
assert np.allclose(ga.numpy(), gb.numpy(), rtol=1e-10, atol=1e-12)

rng = np.random.default_rng(0)
X = mg.tensor(rng.uniform(-1, 1, (400, 2)))
labels = ste.sign(ste.sign(X @ mg.tensor(rng.standard_normal((2, 15)))).mean(axis=1))
W = mg.tensor(np.random.default_rng(1).standard_normal((2, 15)) * 0.1, requires_grad=True)
for step in range(300):
    loss = ((ste.sign(X @ W, surrogate=by_hand).mean(axis=1) - labels) ** 2).mean()
    W.grad = None
    loss.backward()
    with mg.no_grad():
        W.sub_(W.grad * 0.5)
correct = int((ste.sign(ste.sign(X @ W).mean(axis=1)).numpy() == labels.numpy()).sum())
print(f"the student trained with 2 sigmoid(4x) - 1: {correct} of 400 correct")
assert correct > 360
