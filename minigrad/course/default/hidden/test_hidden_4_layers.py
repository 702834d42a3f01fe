"""Hidden tests of module 4."""
import numpy as np

import minigrad as mg
from _kit import check_close, check_forward, check_gradients, fail, task

F = mg.nn.functional
rng = np.random.default_rng(404)


@task("4.1")
def test_linear_in_float32_and_with_a_batch_of_batches():
    x = mg.tensor(rng.standard_normal((2, 3)), dtype="float32")
    w = mg.tensor(rng.standard_normal((4, 3)), dtype="float32")
    if F.linear(x, w).dtype != np.float32:
        fail("linear of float32 tensors is not float32")
    check_gradients(lambda x, w, b: F.linear(x, w, b), x=rng.standard_normal((2, 2, 3)),
                    w=rng.standard_normal((2, 3)), b=rng.standard_normal(2))


@task("4.2")
def test_dropout_with_a_large_p_on_3d_input():
    x = rng.standard_normal((2, 3, 4))
    keep = np.random.default_rng(11).random(x.shape) >= 0.9
    check_forward(lambda x: F.dropout(x, 0.9, rng=np.random.default_rng(11)), x * keep / 0.1, x=x, rtol=1e-9)


@task("4.3")
def test_binary_linear_with_zero_weights_scale_and_bias():
    layer = mg.nn.BinaryLinear(3, 2, bias=True, scale="mean", dtype=np.float64, rng=np.random.default_rng(5))
    layer.weight.data[...] = [[0.0, -0.5, 0.25], [0.75, 0.0, -1.0]]
    layer.bias.data[...] = [1.0, -1.0]
    x = rng.standard_normal((3, 3))
    w = layer.weight.data
    want = (x @ np.where(w >= 0, 1.0, -1.0).T) * np.abs(w).mean(axis=1) + [1.0, -1.0]
    check_close(layer(mg.tensor(x)), want, "BinaryLinear(scale='mean', bias=True) with some weights exactly 0")


def _run(opt_cls, grads, **kwargs):
    p = mg.tensor(np.array([1.0, -2.0, 0.5, 3.0]), requires_grad=True)
    opt = opt_cls([p], **kwargs)
    out = []
    for g in grads:
        p.grad = mg.tensor(np.array(g))
        opt.step()
        out.append(p.numpy().copy())
    return out


GRADS = np.random.default_rng(9).standard_normal((6, 4))


def sgd_reference(grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = np.array([1.0, -2.0, 0.5, 3.0]), None, []
    for g in grads:
        g = g + weight_decay * p
        if momentum != 0.0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def adam_reference(grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    p, m, v, out = np.array([1.0, -2.0, 0.5, 3.0]), 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        p = p - lr / (1 - betas[0] ** t) * m / (np.sqrt(v) / np.sqrt(1 - betas[1] ** t) + eps)
        out.append(p)
    return out


@task("4.4")
def test_sgd_against_a_numpy_reference():
    for kw in (dict(lr=0.2, momentum=0.7, dampening=0.1), dict(lr=0.01, weight_decay=0.5),
               dict(lr=0.1, momentum=0.9, nesterov=True)):
        for step, (a, b) in enumerate(zip(_run(mg.optim.SGD, GRADS, **kw), sgd_reference(GRADS, **kw)), 1):
            check_close(a, b, f"SGD({kw}): the parameter after step {step}")


@task("4.5")
def test_adam_against_a_numpy_reference():
    for kw in (dict(lr=0.05), dict(lr=0.2, betas=(0.8, 0.99), weight_decay=0.01)):
        for step, (a, b) in enumerate(zip(_run(mg.optim.Adam, GRADS, **kw), adam_reference(GRADS, **kw)), 1):
            check_close(a, b, f"Adam({kw}): the parameter after step {step}")


@task("4.6")
def test_each_epoch_draws_a_new_permutation():
    X, Y = np.arange(14.0).reshape(7, 2), np.arange(7)
    gen, ref = np.random.default_rng(21), np.random.default_rng(21)
    loader = mg.data.DataLoader(X, Y, batch_size=2, shuffle=True, rng=gen, drop_last=True)
    for epoch in range(2):
        labels = np.concatenate([yb.numpy() for _, yb in loader])
        want = ref.permutation(7)[:6]
        if not np.array_equal(labels, want):
            fail(f"epoch {epoch + 1} of DataLoader(7 rows, batch_size=2, shuffle, drop_last) gave {labels.tolist()}; "
                 f"expected the first 6 of a new permutation from the generator: {want.tolist()}")
