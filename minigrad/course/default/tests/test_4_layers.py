"""Module 4: layers and training. linear, dropout, a binary layer, SGD, Adam, mini-batches.

Run one task's tests with `python -m pytest tests/tasks --task 4.4`.
"""
import numpy as np

import minigrad as mg
from _kit import check_close, check_forward, check_grad_values, check_gradients, fail, task

F = mg.nn.functional
rng = np.random.default_rng(40)


def randn(*shape):
    return rng.standard_normal(shape)


# ---- 4.1 linear ----------------------------------------------------------------------------------------------------
@task("4.1")
def test_linear_forward():
    x, w, b = randn(4, 3), randn(2, 3), randn(2)
    check_forward(lambda x, w, b: F.linear(x, w, b), x @ w.T + b, x=x, w=w, b=b)
    check_forward(lambda x, w: F.linear(x, w), x @ w.T, x=x, w=w)


@task("4.1")
def test_linear_gradients():
    check_gradients(lambda x, w, b: F.linear(x, w, b), x=randn(3, 2), w=randn(4, 2), b=randn(4))
    check_gradients(lambda x, w: F.linear(x, w), x=randn(2, 2, 3), w=randn(2, 3))


# ---- 4.2 dropout ---------------------------------------------------------------------------------------------------
@task("4.2")
def test_dropout_keeps_and_scales():
    x = randn(6, 5)
    keep = np.random.default_rng(7).random(x.shape) >= 0.4
    check_forward(lambda x: F.dropout(x, 0.4, training=True, rng=np.random.default_rng(7)), x * keep / 0.6, x=x)


@task("4.2")
def test_dropout_gradient_uses_the_same_mask():
    x = randn(4, 4)
    keep = np.random.default_rng(3).random(x.shape) >= 0.25
    check_grad_values(lambda x: F.dropout(x, 0.25, training=True, rng=np.random.default_rng(3)), {"x": keep / 0.75},
                      x=x)


@task("4.2")
def test_dropout_keeps_the_mean():
    y = F.dropout(mg.ones(200, 200, dtype="float64"), 0.3, rng=np.random.default_rng(0)).numpy()
    if abs(y.mean() - 1.0) > 0.02 or y.dtype != np.float64:
        fail(f"dropout(p=0.3) of ones has mean {y.mean():.4f} ({y.dtype}); expected about 1 (inverted dropout "
             "scales the kept values by 1 / (1 - p))")


# ---- 4.3 binary linear forward -------------------------------------------------------------------------------------
@task("4.3")
def test_binary_linear_uses_the_sign_of_its_weights():
    layer = mg.nn.BinaryLinear(3, 2, bias=True, dtype=np.float64, rng=np.random.default_rng(1))
    layer.bias.data[...] = [0.5, -0.25]
    x = randn(4, 3)
    w = np.where(layer.weight.data >= 0, 1.0, -1.0)
    check_close(layer(mg.tensor(x)), x @ w.T + layer.bias.data, "BinaryLinear(3, 2, bias=True)(x)")


@task("4.3")
def test_binary_linear_with_the_mean_scale():
    layer = mg.nn.BinaryLinear(4, 3, scale="mean", dtype=np.float64, rng=np.random.default_rng(2))
    x = randn(2, 4)
    w = layer.weight.data
    want = (x @ np.where(w >= 0, 1.0, -1.0).T) * np.abs(w).mean(axis=1)
    check_close(layer(mg.tensor(x)), want, "BinaryLinear(4, 3, scale='mean')(x)")


@task("4.3")
def test_binary_linear_gradient_reaches_the_latent_weights():
    layer = mg.nn.BinaryLinear(3, 2, dtype=np.float64, rng=np.random.default_rng(3))
    layer.weight.data[...] = [[0.5, -1.5, 0.2], [-0.3, 0.9, 2.0]]
    x = randn(5, 3)
    layer(mg.tensor(x)).sum().backward()
    if layer.weight.grad is None:
        fail("the latent weights got no gradient: the forward must use sign(W) from self.binary_weight(), which "
             "carries the gradient back to W through the straight-through estimator")
    g = np.ones((5, 2))
    check_close(layer.weight.grad, (g.T @ x) * (np.abs(layer.weight.data) <= 1), "the latent weights' gradient "
                "(through sign's hardtanh STE)")


# ---- 4.4 SGD with momentum -----------------------------------------------------------------------------------------
def run(opt_cls, grads, **kwargs):
    p = mg.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    opt = opt_cls([p], **kwargs)
    out = []
    for g in grads:
        p.grad = mg.tensor(np.array(g))
        opt.step()
        out.append(p.numpy().copy())
    return out


GRADS = [[0.5, -1.0, 2.0], [0.1, 0.3, -0.7], [-0.4, 0.2, 0.6], [1.0, 1.0, -1.0]]


@task("4.4")
def test_sgd_plain_and_with_momentum():
    check_close(run(mg.optim.SGD, GRADS, lr=0.1)[-1], [0.88, -2.05, 0.41], "SGD(lr=0.1): the parameter after 4 steps")
    check_close(run(mg.optim.SGD, GRADS, lr=0.1, momentum=0.9)[-1], [0.77695, -1.8754, -0.0121],
                "SGD(lr=0.1, momentum=0.9): the parameter after 4 steps")


@task("4.4")
def test_sgd_nesterov_and_weight_decay():
    check_close(run(mg.optim.SGD, GRADS, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)[-1],
                [0.809896113766, -1.889783872532, 0.2651168587005],
                "SGD(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1): the parameter after 4 steps")


# ---- 4.5 Adam ------------------------------------------------------------------------------------------------------
@task("4.5")
def test_adam_steps():
    check_close(run(mg.optim.Adam, GRADS, lr=0.1)[-1], [0.7573718327746831, -1.864418853474038, 0.3048240899986098],
                "Adam(lr=0.1): the parameter after 4 steps")


@task("4.5")
def test_adam_with_other_betas_and_weight_decay():
    check_close(run(mg.optim.Adam, GRADS, lr=0.01, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.2)[-1],
                [0.9712706908390831, -1.9823587631808863, 0.48589453745392014],
                "Adam(lr=0.01, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.2): the parameter after 4 steps")


# ---- 4.6 mini-batches ----------------------------------------------------------------------------------------------
X = np.arange(20.0).reshape(10, 2)
Y = np.arange(10)


def batches(**kwargs):
    return [(xb.numpy(), yb.numpy()) for xb, yb in mg.data.DataLoader(X, Y, **kwargs)]


@task("4.6")
def test_batches_in_order():
    got = batches(batch_size=4)
    sizes = [len(yb) for _, yb in got]
    if sizes != [4, 4, 2] or not all(np.array_equal(xb, X[yb]) for xb, yb in got) or \
            not np.array_equal(np.concatenate([yb for _, yb in got]), Y):
        fail(f"DataLoader(10 rows, batch_size=4) gave batches of sizes {sizes} and labels "
             f"{[yb.tolist() for _, yb in got]}; expected 4, 4, 2 rows in order")
    sizes = [len(yb) for _, yb in batches(batch_size=4, drop_last=True)]
    if sizes != [4, 4]:
        fail(f"DataLoader(10 rows, batch_size=4, drop_last=True) gave batches of sizes {sizes}; expected [4, 4]")


@task("4.6")
def test_shuffled_batches_follow_the_generator():
    got = batches(batch_size=3, shuffle=True, rng=np.random.default_rng(5))
    order = np.random.default_rng(5).permutation(10)
    labels = np.concatenate([yb for _, yb in got])
    if not np.array_equal(labels, order) or not all(np.array_equal(xb, X[yb]) for xb, yb in got):
        fail(f"DataLoader(shuffle=True, rng=default_rng(5)) gave the labels {labels.tolist()}; expected one "
             f"permutation drawn from the generator per epoch: {order.tolist()}")
