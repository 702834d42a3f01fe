"""Chapter 01, exercise 1: two more ops for the twenty-line engine, checked against minigrad."""
import math

import minigrad as mg


class Value:
    def __init__(self, data, parents=(), local_grads=()):
        self.data, self.grad = data, 0.0
        self.parents, self.local_grads = parents, local_grads

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t * t,))      # d tanh(u)/du = 1 - tanh(u)^2

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))              # d exp(u)/du = exp(u)

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v.parents)
        self.grad = 1.0
        for v in reversed(order):
            for p, local in zip(v.parents, v.local_grads):
                p.grad += v.grad * local


vx, vy = Value(0.5), Value(-1.0)
h = (vx * vy).tanh() + vx.exp()
h.backward()

x = mg.tensor(0.5, dtype="float64", requires_grad=True)
y = mg.tensor(-1.0, dtype="float64", requires_grad=True)
(mg.tanh(x * y) + mg.exp(x)).backward()

# by hand: dh/dx = y (1 - tanh(xy)^2) + exp(x), dh/dy = x (1 - tanh(xy)^2)
t = math.tanh(-0.5)
assert abs(vx.grad - ((-1.0) * (1 - t * t) + math.exp(0.5))) < 1e-12
assert abs(vx.grad - x.grad.item()) < 1e-12 and abs(vy.grad - y.grad.item()) < 1e-12
print(f"dh/dx = {vx.grad:.12f}, dh/dy = {vy.grad:.12f}: the engine and minigrad agree")
