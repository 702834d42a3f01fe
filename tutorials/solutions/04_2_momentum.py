"""Chapter 04, exercise 2: SGD with momentum by hand, step for step the same as optim.SGD.

PyTorch's form: b <- g at the first step, b <- mu b + g afterwards; p <- p - lr b.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim


def make_model():
    mg.manual_seed(1)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


mg.manual_seed(0)
x, target = mg.randn(16, 64), mg.tensor(np.arange(16) % 10)
lr, mu = 0.05, 0.9

by_hand = make_model()
buffers = {}
for step in range(10):
    for p in by_hand.parameters():
        p.grad = None
    F.cross_entropy(by_hand(x), target).backward()
    with mg.no_grad():
        for p in by_hand.parameters():
            b = buffers.get(id(p))
            b = p.grad.detach().clone() if b is None else b * mu + p.grad
            buffers[id(p)] = b
            p -= b * lr

library = make_model()
opt = optim.SGD(library.parameters(), lr=lr, momentum=mu)
for step in range(10):
    opt.zero_grad()
    F.cross_entropy(library(x), target).backward()
    opt.step()

for a, b in zip(by_hand.parameters(), library.parameters()):
    assert np.allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
print("ten steps of momentum SGD by hand match optim.SGD(momentum=0.9)")
