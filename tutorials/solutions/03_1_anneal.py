"""Chapter 03, exercise 1: annealing SwishSign's beta during training (the student of section 5)."""
import numpy as np

import minigrad as mg
from minigrad import ste

rng = np.random.default_rng(0)
X = mg.tensor(rng.uniform(-1, 1, (400, 2)))
teacher = mg.tensor(rng.standard_normal((2, 15)))
labels = ste.sign(ste.sign(X @ teacher).mean(axis=1))


def train(surrogate, steps=300, lr=0.5, schedule=None):
    W = mg.tensor(np.random.default_rng(1).standard_normal((2, 15)) * 0.1, requires_grad=True)
    for step in range(steps + 1):
        if schedule is not None:
            surrogate.beta = schedule(step / steps)   # a plain attribute: the next backward uses it
        vote = ste.sign(X @ W, surrogate=surrogate).mean(axis=1)
        loss = ((vote - labels) ** 2).mean()
        W.grad = None
        loss.backward()
        with mg.no_grad():
            W.sub_(W.grad * lr)
    return int((ste.sign(ste.sign(X @ W).mean(axis=1)).numpy() == labels.numpy()).sum())


results = {
    "SwishSign, beta 1 -> 10": train(ste.SwishSign(beta=1), schedule=lambda t: 1 + 9 * t),
    "SwishSign, beta = 5": train(ste.SwishSign(beta=5)),
    "ApproxSign": train(ste.ApproxSign()),
}
for name, correct in results.items():
    print(f"{name:24} {correct} of 400 correct")
assert all(correct > 360 for correct in results.values())  # all three learn the teacher's boundary
