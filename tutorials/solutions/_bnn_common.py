"""Shared by the chapter 05 solutions: the digits, the BNN of the chapter, and its training loop."""

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.profile import set_blas_threads

set_blas_threads(1)
d = mg.data.load_digits()


def bnn(width=128, sign=None):
    sign = sign or (lambda: nn.Sign())
    return nn.Sequential(
        nn.BinaryLinear(64, width), nn.BatchNorm1d(width), sign(),
        nn.BinaryLinear(width, width), nn.BatchNorm1d(width), sign(),
        nn.BinaryLinear(width, 10), nn.BatchNorm1d(10))


def accuracy(model):
    model.eval()
    with mg.no_grad():
        return float((model(mg.tensor(d.X_test)).numpy().argmax(axis=1) == d.y_test).mean())


def train(model, epochs=10, opt=None, on_epoch=None):
    opt = opt or optim.Adam(model.parameters(), lr=1e-2)
    schedule = optim.CosineAnnealingLR(opt, T_max=epochs)
    batches = mg.data.DataLoader(d.X_train, d.y_train, batch_size=32, shuffle=True)
    for epoch in range(epochs):
        model.train()
        for x, y in batches:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        schedule.step()
        if on_epoch is not None:
            on_epoch(epoch)
    return accuracy(model)
