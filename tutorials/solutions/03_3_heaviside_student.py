"""Chapter 03, exercise 3: 0/1 hidden units (heaviside) with ReLU, clipped-ReLU and identity STEs.

This is the setting of Yin et al. (ICLR 2019): a two-layer network with binary (0/1) activations. Their
theory says the ReLU-type STEs give descent directions of the population loss; the identity STE can make
training unstable near some minima. On this small problem all three learn (the identity too: its
instability shows near certain minima, and in the deeper networks of their CIFAR-10 experiments), and all
beat Zero, which can only train the output layer v on the fixed random features of the first.
"""
import numpy as np

import minigrad as mg
from minigrad import ste

rng = np.random.default_rng(0)
X = mg.tensor(rng.standard_normal((400, 2)))                 # Gaussian inputs, as in the paper
teacher_W = mg.tensor(rng.standard_normal((2, 8)))
teacher_v = mg.tensor(rng.standard_normal(8))
labels = ste.sign(ste.heaviside(X @ teacher_W) @ teacher_v)


def train(surrogate, steps=400, lr=0.1):
    init = np.random.default_rng(1)
    W = mg.tensor(init.standard_normal((2, 8)) * 0.5, requires_grad=True)
    v = mg.tensor(init.standard_normal(8) * 0.5, requires_grad=True)
    for step in range(steps):
        score = ste.heaviside(X @ W, surrogate=surrogate) @ v
        loss = ((score - labels) ** 2).mean()
        W.grad = v.grad = None
        loss.backward()
        with mg.no_grad():
            W.sub_(W.grad * lr)
            v.sub_(v.grad * lr)
    return int((ste.sign(ste.heaviside(X @ W) @ v).numpy() == labels.numpy()).sum())


results = {repr(s): train(s) for s in [ste.ReLU(), ste.ClippedReLU(), ste.Identity(), ste.Zero()]}
for name, correct in results.items():
    print(f"{name:22} {correct} of 400 correct")
# Zero trains only v (the output layer); the STEs also move the first layer, and do much better
assert all(results[name] > results["Zero()"] + 50 for name in ("ReLU()", "ClippedReLU(clip=1.0)", "Identity()"))
