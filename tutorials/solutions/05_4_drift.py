"""Chapter 05, exercise 4: latent weights drift beyond +-1 without clipping.

Adam takes steps of about lr whatever the gradient's scale, so at a constant lr of 0.05 a latent weight
whose gradient keeps one sign moves 0.05 per step; with the identity STE nothing stops it unless it is
clipped. Unclipped, the largest |W| grows epoch after epoch, more and more weights end beyond +-1, and
fewer signs flip: a weight at 10 needs about 200 steps against it to flip back.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

from _bnn_common import accuracy, bnn, d


def run(clip, lr=0.05, epochs=15):
    mg.manual_seed(1)
    model = bnn()
    binary = [m for m in model if isinstance(m, nn.BinaryLinear)]
    if not clip:
        for m in binary:
            m.weight.constraint = None
    opt = optim.Adam(model.parameters(), lr=lr)                     # constant lr: no schedule
    batches = mg.data.DataLoader(d.X_train, d.y_train, batch_size=32, shuffle=True)
    largest, flips = [], []
    with mg.ste.surrogates(sign=mg.ste.Identity()):
        for epoch in range(epochs):
            before = np.concatenate([np.sign(m.weight.numpy()).ravel() for m in binary])
            model.train()
            for x, y in batches:
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
            w = np.concatenate([m.weight.numpy().ravel() for m in binary])
            largest.append(float(np.abs(w).max()))
            flips.append(int((np.sign(w) != before).sum()))
    return {"beyond": int((np.abs(w) > 1).sum()), "of": w.size, "largest": largest, "flips": flips,
            "accuracy": accuracy(model)}


clipped, free = run(clip=True), run(clip=False)
for name, r in (("clipped", clipped), ("unclipped", free)):
    print(f"{name:10} beyond +-1: {r['beyond']:5} of {r['of']}   largest |W| after epochs 5, 10, 15: "
          f"{r['largest'][4]:5.2f} {r['largest'][9]:5.2f} {r['largest'][14]:5.2f}   "
          f"flips in the last epoch: {r['flips'][-1]:4}   test accuracy {r['accuracy']:.1%}")
assert clipped["beyond"] == 0 and max(clipped["largest"]) <= 1.0
assert free["beyond"] > free["of"] // 4                              # a quarter of the weights and more
assert free["largest"][14] > free["largest"][9] > free["largest"][4] > 2   # still growing
assert free["flips"][-1] < clipped["flips"][-1]                      # and flipping less
