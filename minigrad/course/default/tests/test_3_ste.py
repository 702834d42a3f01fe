"""Module 3: straight-through estimators. sign's exact forward, surrogate derivatives, k-bit quantize, LSQ, PACT.

Run one task's tests with `python -m pytest tests/tasks --task 3.2`.
"""
import numpy as np

import minigrad as mg
from _kit import check_close, check_forward, check_grad_values, check_gradients, fail, task

ste = mg.ste
grid = np.array([-1.7, -1.0, -0.6, -0.25, 0.0, 0.3, 0.75, 1.0, 1.4])


def smooth_slope(surrogate, x, eps=1e-6):
    """The derivative of surrogate.smooth by central differences (the referee of a surrogate's derivative)."""
    up = surrogate.smooth(mg.tensor(x + eps)).numpy()
    down = surrogate.smooth(mg.tensor(x - eps)).numpy()
    return (up - down) / (2 * eps)


def same_on_tensors(surrogate, x):
    """derivative() gives the same numbers on a Tensor as on an array (one rule, two executions)."""
    on_arrays = surrogate.derivative(np.array(x))
    on_tensors = surrogate.derivative(mg.tensor(np.array(x)))
    if not isinstance(on_tensors, mg.Tensor):
        fail(f"{surrogate!r}.derivative(a Tensor) returned {type(on_tensors).__name__}, not a Tensor: on Tensors it "
             "must stay in minigrad (use mg.xp, operators, or _mask)")
    check_close(on_tensors, on_arrays, f"{surrogate!r}.derivative on a Tensor vs on an array")


# ---- 3.1 sign forward ----------------------------------------------------------------------------------------------
@task("3.1")
def test_sign_is_binary_and_sign_of_zero_is_plus_one():
    x = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.0])
    check_forward(lambda x: ste.sign(x), np.array([-1.0, -1.0, 1.0, 1.0, 1.0]), x=x)


@task("3.1")
def test_sign_keeps_the_dtype():
    y = ste.sign(mg.tensor([[0.5, -0.5]], dtype="float32"))
    if y.dtype != np.float32 or not set(np.unique(y.numpy())) <= {-1.0, 1.0}:
        fail(f"sign of a float32 tensor gave {y.dtype} values {y.numpy()}; expected float32 values in {{-1, +1}}")


# ---- 3.2 clipped surrogate -----------------------------------------------------------------------------------------
@task("3.2")
def test_default_sign_gradient_is_the_hardtanh_ste():
    check_grad_values(lambda x: ste.sign(x), {"x": (np.abs(grid) <= 1).astype(float)}, x=grid)


@task("3.2")
def test_clipped_with_its_own_clip_and_exclusive_boundary():
    x = np.array([-0.7, -0.5, -0.2, 0.5, 0.6])
    sur = ste.Clipped(clip=0.5, inclusive=False)
    check_grad_values(lambda x: ste.sign(x, surrogate=sur), {"x": [0.0, 0.0, 1.0, 0.0, 0.0]}, x=x)
    sur = ste.Clipped(clip=0.5)
    check_grad_values(lambda x: ste.sign(x, surrogate=sur), {"x": [0.0, 1.0, 1.0, 1.0, 0.0]}, x=x)
    same_on_tensors(sur, x)


# ---- 3.3 ApproxSign ------------------------------------------------------------------------------------------------
@task("3.3")
def test_approxsign_derivative_values():
    sur = ste.ApproxSign()
    check_close(sur.derivative(grid), np.maximum(2 - 2 * np.abs(grid), 0.0), "ApproxSign().derivative")
    away = np.array([-1.3, -0.6, -0.2, 0.4, 0.8, 1.5])
    check_close(sur.derivative(away), smooth_slope(sur, away), "ApproxSign().derivative vs the slope of its smooth",
                atol=1e-6)


@task("3.3")
def test_approxsign_through_sign_and_on_tensors():
    sur = ste.ApproxSign()
    check_grad_values(lambda x: ste.sign(x, surrogate=sur), {"x": np.maximum(2 - 2 * np.abs(grid), 0.0)}, x=grid)
    check_gradients(lambda x: sur.derivative(x), x=[-0.6, -0.2, 0.4, 0.8])


# ---- 3.4 SwishSign -------------------------------------------------------------------------------------------------
@task("3.4")
def test_swishsign_derivative_is_the_slope_of_its_smooth():
    for beta in (1.0, 5.0):
        sur = ste.SwishSign(beta=beta)
        check_close(sur.derivative(grid), smooth_slope(sur, grid), f"SwishSign(beta={beta}).derivative vs the slope "
                    "of its smooth", atol=1e-5, rtol=1e-5)


@task("3.4")
def test_swishsign_never_overflows_and_runs_on_tensors():
    sur = ste.SwishSign(beta=10.0)
    d = sur.derivative(np.array([-500.0, -80.0, 80.0, 500.0]))
    if not np.all(np.isfinite(d)) or np.max(np.abs(d)) > 1e-12:
        fail(f"SwishSign(beta=10).derivative at +-80 and +-500 gave {d}; expected (finite) zeros")
    same_on_tensors(sur, grid)
    check_gradients(lambda x: ste.SwishSign(beta=3.0).derivative(x), x=[-0.8, -0.1, 0.3, 1.2])


# ---- 3.5 tanh surrogate --------------------------------------------------------------------------------------------
@task("3.5")
def test_tanh_surrogate_derivative():
    for slope in (1.0, 2.5):
        sur = ste.Tanh(slope=slope)
        check_close(sur.derivative(grid), slope * (1 - np.tanh(slope * grid) ** 2), f"Tanh(slope={slope}).derivative")


@task("3.5")
def test_tanh_surrogate_through_sign_and_on_tensors():
    sur = ste.Tanh(slope=2.0)
    check_grad_values(lambda x: ste.sign(x, surrogate=sur), {"x": 2.0 * (1 - np.tanh(2.0 * grid) ** 2)}, x=grid)
    check_gradients(lambda x: sur.derivative(x), x=[-0.8, -0.1, 0.3, 1.2])


# ---- 3.6 k-bit quantize --------------------------------------------------------------------------------------------
def dorefa(x, bits, lo, hi):
    n = 2 ** bits - 1
    r = (np.clip(x, lo, hi) - lo) / (hi - lo)
    return lo + (hi - lo) * np.round(n * r) / n


@task("3.6")
def test_quantize_forward():
    x = np.linspace(-0.3, 1.3, 17)
    for bits in (1, 2, 3):
        check_forward(lambda x: ste.quantize(x, bits), dorefa(x, bits, 0.0, 1.0), x=x)
    check_forward(lambda x: ste.quantize(x, 2, lo=-1.0, hi=1.0), dorefa(x, 2, -1.0, 1.0), x=x)


@task("3.6")
def test_quantize_gradient_passes_inside_the_range():
    x = np.array([-0.5, 0.0, 0.3, 1.0, 1.2])
    check_grad_values(lambda x: ste.quantize(x, 2), {"x": [0.0, 1.0, 1.0, 1.0, 0.0]}, x=x)
    y = ste.quantize(mg.tensor(x, dtype="float32"), 3)
    if y.dtype != np.float32:
        fail(f"quantize of a float32 tensor gave {y.dtype}; a float32 graph stays float32")


# ---- 3.7 LSQ -------------------------------------------------------------------------------------------------------
def lsq_grads(x, s, bits, g):
    qn, qp = 2 ** (bits - 1), 2 ** (bits - 1) - 1
    v = x / s
    low, high = v <= -qn, v >= qp
    inside = ~(low | high)
    gs = 1 / np.sqrt(x.size / np.size(s) * qp)
    ds = g * ((np.round(v) - v) * inside + high * qp - low * qn) * gs
    return g * inside, ds


@task("3.7")
def test_lsq_gradients_with_one_step():
    x = np.array([-2.1, -0.9, -0.26, 0.0, 0.33, 0.71, 1.9])
    g = np.array([1.0, -0.5, 2.0, 1.5, -1.0, 0.5, 1.0])
    s = np.array(0.3)
    gx, gs = lsq_grads(x, s, 3, g)
    check_grad_values(lambda x, s: ste.lsq(x, s, 3, True), {"x": gx, "s": gs.sum()}, upstream=g, x=x, s=s)


@task("3.7")
def test_lsq_gradients_with_a_step_per_row():
    x = np.array([[-1.2, 0.4, 0.8], [0.05, -0.3, 2.2]])
    s = np.array([[0.25], [0.4]])
    g = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 1.5]])
    gx, gs = lsq_grads(x, s, 3, g)
    check_grad_values(lambda x, s: ste.lsq(x, s, 3, True), {"x": gx, "s": gs.sum(axis=1, keepdims=True)}, upstream=g,
                      x=x, s=s)


# ---- 3.8 PACT ------------------------------------------------------------------------------------------------------
@task("3.8")
def test_pact_gradients():
    x = np.array([-0.5, 0.0, 0.4, 0.8, 1.0, 1.6])
    g = np.array([1.0, 2.0, -1.0, 0.5, 1.5, -2.0])
    inside, above = (x >= 0) & (x <= 1.0), x >= 1.0
    check_grad_values(lambda x, a: ste.pact(x, a, 2), {"x": g * inside, "a": [np.sum(g * above)]}, upstream=g,
                      x=x, a=[1.0])


@task("3.8")
def test_pact_gradients_with_an_alpha_per_row():
    x = np.array([[0.2, 0.9, 1.4], [-0.1, 0.5, 0.7]])
    a = np.array([[1.0], [0.6]])
    g = np.ones_like(x)
    inside, above = (x >= 0) & (x <= a), x >= a
    check_grad_values(lambda x, a: ste.pact(x, a, 3), {"x": g * inside, "a": (g * above).sum(axis=1, keepdims=True)},
                      x=x, a=a)
