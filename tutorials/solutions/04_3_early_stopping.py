"""Chapter 04, exercise 3: early stopping on a validation set.

The test set must not choose the epoch: an accuracy measured on the images used to choose would be
optimistic, because among many epochs some do better on those particular 360 images by chance. A
validation set, split from the training images, makes the choice; the test set is used once, at the end.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

mg.manual_seed(0)
d = mg.data.load_digits()
order = np.random.default_rng(0).permutation(len(d.X_train))
val, train = order[:237], order[237:]
X_tr, y_tr, X_val, y_val = d.X_train[train], d.y_train[train], d.X_train[val], d.y_train[val]


def accuracy(model, X, y):
    model.eval()
    with mg.no_grad():
        return float((model(mg.tensor(X)).numpy().argmax(axis=1) == y).mean())


model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
opt = optim.Adam(model.parameters(), lr=1e-2)
batches = mg.data.DataLoader(X_tr, y_tr, batch_size=32, shuffle=True)
best, best_state, best_epoch = -1.0, None, None
for epoch in range(20):
    model.train()
    for xb, yb in batches:
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    score = accuracy(model, X_val, y_val)
    if score > best:
        best, best_epoch = score, epoch
        best_state = {k: np.array(v) for k, v in model.state_dict().items()}   # a copy, not a view
model.load_state_dict(best_state)
assert accuracy(model, X_val, y_val) == best
test = accuracy(model, d.X_test, d.y_test)
print(f"best validation accuracy {best:.1%} at epoch {best_epoch + 1}; its test accuracy {test:.1%}")
assert test > 0.9
