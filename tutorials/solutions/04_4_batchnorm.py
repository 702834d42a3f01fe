"""Chapter 04, exercise 4: batch normalization by hand, against nn.BatchNorm1d in both modes."""
import numpy as np

import minigrad as mg
from minigrad import nn


class MyBatchNorm1d(nn.Module):
    def __init__(self, n, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(mg.ones(n))
        self.bias = nn.Parameter(mg.zeros(n))
        self.register_buffer("running_mean", mg.zeros(n))
        self.register_buffer("running_var", mg.ones(n))

    def forward(self, x):
        if self.training:
            mean = x.mean(axis=0)
            var = ((x - mean) ** 2).mean(axis=0)                    # biased: to normalise this batch
            n = x.shape[0]
            with mg.no_grad():
                m = self.momentum
                self.running_mean.copy_(self.running_mean * (1 - m) + mean * m)
                self.running_var.copy_(self.running_var * (1 - m) + var * (n / (n - 1)) * m)  # unbiased
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / (var + self.eps).sqrt() * self.weight + self.bias


mg.manual_seed(0)
mine, theirs = MyBatchNorm1d(5), nn.BatchNorm1d(5)
for step in range(3):
    x = mg.tensor(np.random.default_rng(step).standard_normal((8, 5)) * 3 + 1, dtype="float32", requires_grad=True)
    g = mg.tensor(np.random.default_rng(10 + step).standard_normal((8, 5)), dtype="float32")
    grads = []
    for bn in (mine, theirs):
        x.grad = None
        for p in bn.parameters():
            p.grad = None
        out = bn(x)
        out.backward(g)
        grads.append((out.numpy(), x.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()))
    for a, b in zip(*grads):
        assert np.allclose(a, b, rtol=1e-4, atol=1e-5)
assert np.allclose(mine.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-5)
assert np.allclose(mine.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)
mine.eval(), theirs.eval()
x = mg.randn(4, 5)
assert np.allclose(mine(x).numpy(), theirs(x).numpy(), rtol=1e-5, atol=1e-6)
print("MyBatchNorm1d matches nn.BatchNorm1d: outputs, gradients and running statistics, in both modes")
