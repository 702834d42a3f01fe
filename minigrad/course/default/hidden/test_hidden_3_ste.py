"""Hidden tests of module 3."""
import numpy as np

import minigrad as mg
from _kit import check_close, check_forward, check_grad_values, fail, task

ste = mg.ste


@task("3.1")
def test_sign_of_negative_zero_and_a_matrix():
    x = np.array([[-0.0, 0.0, -3.5], [2.0, -1e-300, 7.0]])
    check_forward(lambda x: ste.sign(x), np.where(x >= 0, 1.0, -1.0), x=x)


@task("3.2")
def test_clipped_derivative_keeps_the_dtype():
    d = ste.Clipped(clip=2.0).derivative(np.array([-2.5, -2.0, 0.0, 1.9, 2.1], dtype=np.float32))
    if d.dtype != np.float32:
        fail(f"Clipped().derivative of a float32 array is {d.dtype}; it must keep the input's dtype")
    check_close(d, [0.0, 1.0, 1.0, 1.0, 0.0], "Clipped(clip=2.0).derivative")


@task("3.3")
def test_approxsign_at_its_kinks():
    check_close(ste.ApproxSign().derivative(np.array([-1.0, 0.0, 1.0, 3.0])), [0.0, 2.0, 0.0, 0.0],
                "ApproxSign().derivative at -1, 0, 1, 3")


@task("3.4")
def test_swishsign_small_beta():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    sur = ste.SwishSign(beta=0.5)
    eps = 1e-6
    slope = (sur.smooth(mg.tensor(x + eps)).numpy() - sur.smooth(mg.tensor(x - eps)).numpy()) / (2 * eps)
    check_close(sur.derivative(x), slope, "SwishSign(beta=0.5).derivative vs the slope of its smooth", atol=1e-6)


@task("3.5")
def test_tanh_surrogate_in_float32():
    d = ste.Tanh(slope=0.3).derivative(mg.tensor([0.5, -1.0], dtype="float32"))
    if d.dtype != np.float32:
        fail(f"Tanh(slope=0.3).derivative of a float32 tensor is {d.dtype}; use Python floats in a rule")
    check_close(d, 0.3 * (1 - np.tanh(0.3 * np.array([0.5, -1.0])) ** 2), "Tanh(slope=0.3).derivative", atol=1e-6)


@task("3.6")
def test_quantize_four_bits_on_another_range():
    x = np.linspace(-2.5, 3.5, 13)
    n = 15
    r = (np.clip(x, -2.0, 3.0) + 2.0) / 5.0
    check_forward(lambda x: ste.quantize(x, 4, lo=-2.0, hi=3.0), -2.0 + 5.0 * np.round(n * r) / n, x=x)
    check_grad_values(lambda x: ste.quantize(x, 4, lo=-2.0, hi=3.0), {"x": ((x >= -2) & (x <= 3)).astype(float)}, x=x)


@task("3.7")
def test_lsq_unsigned_with_an_explicit_gradient_scale():
    x = np.array([-0.3, 0.1, 0.45, 0.9, 2.0])
    s, g = np.array(0.2), np.array([1.0, 2.0, -1.0, 0.5, 1.0])
    qp = 3
    v = x / s
    low, high = v <= 0, v >= qp
    inside = ~(low | high)
    ds = np.sum(g * ((np.round(v) - v) * inside + high * qp) * 0.5)
    check_grad_values(lambda x, s: ste.lsq(x, s, 2, False, grad_scale=0.5), {"x": g * inside, "s": ds}, upstream=g,
                      x=x, s=s)


@task("3.8")
def test_pact_at_the_clipping_level():
    x = np.array([0.5, 1.0, 1.5])
    check_grad_values(lambda x, a: ste.pact(x, a, 2), {"x": [1.0, 1.0, 0.0], "a": [2.0]}, x=x, a=[1.0])
