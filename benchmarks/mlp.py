"""The float MLP training step three ways: hand-written NumPy backprop, minigrad, PyTorch eager.

All three start from the same float32 weights (PyTorch's layout: W is (out, in), y = x W^T + b), use
ReLU between layers, mean cross-entropy on integer labels, and plain SGD (w -= lr * dw).
"""
import numpy as np

import minigrad as mg


def init_params(sizes, rng):
    """[(W, b), ...] float32, PyTorch's default Linear init: U(-1/sqrt(in), 1/sqrt(in))."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        params.append((rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                       rng.uniform(-bound, bound, n_out).astype(np.float32)))
    return params


def batch(n, n_in, n_classes, rng):
    return rng.standard_normal((n, n_in)).astype(np.float32), rng.integers(0, n_classes, n)


# ---- hand-written NumPy ---------------------------------------------------------------------------
class NumpyMLP:
    """Forward, backward and SGD written out by hand, float32, the obvious efficient way."""

    def __init__(self, params, lr):
        self.params = [(W.copy(), b.copy()) for W, b in params]
        self.lr = np.float32(lr)

    def step(self, x, y, stop=None):
        """Forward, backward and SGD; stop='forward' returns after the loss, stop='backward' skips the update
        (those two only for the time breakdown)."""
        acts = [x]                        # input of each layer
        for W, b in self.params[:-1]:
            h = acts[-1] @ W.T
            h += b
            np.maximum(h, 0, out=h)      # relu in place; h > 0 is also the mask for backward
            acts.append(h)
        W, b = self.params[-1]
        z = acts[-1] @ W.T
        z += b
        # softmax cross-entropy: loss = mean(logsumexp(z) - z[y]); dz = (softmax(z) - onehot(y)) / n
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        n = len(y)
        rows = np.arange(n)
        loss = -np.log(z[rows, y]).mean()
        if stop == "forward":
            return loss
        z[rows, y] -= 1
        z /= n
        g = z
        for i in range(len(self.params) - 1, -1, -1):
            W, b = self.params[i]
            a = acts[i]
            dW = g.T @ a
            db = g.sum(axis=0)
            if i > 0:
                g = g @ W
                g *= a > 0
            if stop == "backward":
                continue
            dW *= self.lr                 # scale in place: no temporary the size of W
            W -= dW
            db *= self.lr
            b -= db
        return loss

    def loss(self, x, y):
        return self.step(x, y, stop="forward")

    def forward_backward(self, x, y):
        return self.step(x, y, stop="backward")

    def weights(self):
        return [W for W, _ in self.params]


# ---- minigrad ----------------------------------------------------------------------------------
def _has(module, *names):
    """(True, None) when `module` imports and has every name, else (False, why)."""
    try:
        mod = __import__(module, fromlist=["_"])
        for name in names:
            getattr(mod, name)
    except Exception as e:  # a file still being written by another helper
        return False, f"{module}: {type(e).__name__}: {e}"
    return True, None


def nn_available():
    """Whether mg.nn (Linear, ReLU, Sequential, F.cross_entropy) exists: (flag, why not)."""
    ok, why = _has("minigrad.nn", "Linear", "ReLU", "Sequential")
    return (ok, why) if not ok else _has("minigrad.nn.functional", "cross_entropy")


def optim_available():
    return _has("minigrad.optim", "SGD")


class MinigradMLP:
    """mg.nn.Linear + F.cross_entropy + mg.optim.SGD where they exist; otherwise mg ops directly
    (x @ W.T + b, relu, log_softmax, nll by indexing) and SGD as p.sub_(p.grad, alpha=lr) under no_grad."""

    def __init__(self, params, lr):
        self.use_nn, self.use_optim = nn_available()[0], optim_available()[0]
        self.lr = lr
        if self.use_nn:
            import minigrad.nn as nn
            layers = []
            for i, (W, b) in enumerate(params):
                lin = nn.Linear(W.shape[1], W.shape[0])
                with mg.no_grad():
                    lin.weight.copy_(W)
                    lin.bias.copy_(b)
                layers += [lin, nn.ReLU()] if i < len(params) - 1 else [lin]
            self.model = nn.Sequential(*layers)
            self.params = list(self.model.parameters())
            self._weights = [layer.weight for layer in layers[::2]]
        else:
            self.tensors = [(mg.tensor(W, requires_grad=True), mg.tensor(b, requires_grad=True)) for W, b in params]
            self.params = [t for pair in self.tensors for t in pair]
            self._weights = [W for W, _ in self.tensors]
        if self.use_optim:
            import minigrad.optim as optim
            self.opt = optim.SGD(self.params, lr=lr)

    def describe(self):
        model = "mg.nn.Linear + F.cross_entropy" if self.use_nn else \
            "mg ops (x @ W.T + b, relu, log_softmax, nll by indexing)"
        opt = "mg.optim.SGD" if self.use_optim else "p.sub_(p.grad, alpha=lr) under mg.no_grad()"
        return f"{model} + {opt}"

    def loss(self, x, y):
        if self.use_nn:
            import minigrad.nn.functional as F
            return F.cross_entropy(self.model(x), y)
        h = x
        for i, (W, b) in enumerate(self.tensors):
            h = h @ W.T + b
            if i < len(self.tensors) - 1:
                h = h.relu()
        return -h.log_softmax(axis=-1)[np.arange(len(y.data)), y.data].mean()

    def zero_grad(self):
        if self.use_optim:
            self.opt.zero_grad()
        else:
            for p in self.params:
                p.grad = None

    def forward_backward(self, x, y):
        """The step without the update (for the time breakdown)."""
        self.zero_grad()
        loss = self.loss(x, y)
        loss.backward()
        return loss

    def step(self, x, y):
        self.zero_grad()
        loss = self.loss(x, y)
        loss.backward()
        if self.use_optim:
            self.opt.step()
        else:
            with mg.no_grad():
                for p in self.params:
                    p.sub_(p.grad, alpha=self.lr)
        return loss

    def weights(self):
        return [W.data for W in self._weights]


# ---- PyTorch eager ---------------------------------------------------------------------------------
class TorchMLP:
    def __init__(self, params, lr):
        import torch
        layers = []
        for i, (W, b) in enumerate(params):
            lin = torch.nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, torch.nn.ReLU()] if i < len(params) - 1 else [lin]
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.loss = torch.nn.functional.cross_entropy

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def weights(self):
        return [m.weight.detach().numpy() for m in self.model if hasattr(m, "weight")]
