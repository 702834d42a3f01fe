"""Module 1: autograd. The engine's topological order, elementwise rules, broadcasting, sum, matmul.

Run one task's tests with `python -m pytest tests/tasks --task 1.3`.
"""
import numpy as np

import minigrad as mg
from _kit import check_close, check_grad_values, check_gradients, fail, task

rng = np.random.default_rng(12)


def randn(*shape):
    return rng.standard_normal(shape)


# ---- 1.1 topological order -----------------------------------------------------------------------------------------
@task("1.1")
def test_a_value_used_twice_gets_both_contributions():
    # c = exp(x) + (exp(x) + x): x reaches c along three paths; dc/dx = 2 exp(x) + 1
    x = np.array([0.5, -1.0, 2.0])
    check_grad_values(lambda x: (lambda a: a + (a + x))(x.exp()), {"x": 2 * np.exp(x) + 1}, x=x)


@task("1.1")
def test_dependencies_counts_the_edges_into_each_node():
    x = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    a = x.exp()
    b = a + a          # two edges from b into a
    c = b - a          # one more edge into a, one into b
    deps = mg.autograd.dependencies([c.grad_fn])
    got = {node.op.name: n for node, n in deps.items()}
    if got != {"sub": 0, "add": 1, "exp": 3}:
        fail(f"dependencies() counted {got} edges into the nodes of c = (a + a) - a, a = exp(x); expected "
             "{'sub': 0, 'add': 1, 'exp': 3}")


@task("1.1")
def test_gradients_of_a_branching_graph():
    check_gradients(lambda x, y: ((x.exp() + y).sin() + x.cos() - y.exp()).exp(), second_order=False,
                    x=[0.3, -0.7, 1.1], y=[0.2, 0.4, -0.5])


# ---- 1.2 mul backward ----------------------------------------------------------------------------------------------
@task("1.2")
def test_mul_gradients():
    check_gradients(lambda a, b: a * b, a=randn(2, 3), b=randn(2, 3))


@task("1.2")
def test_mul_gradients_with_broadcasting():
    check_gradients(lambda a, b: a * b, a=randn(2, 3), b=randn(3))


@task("1.2")
def test_mul_of_a_tensor_by_itself():
    x = np.array([-1.5, 0.5, 2.0])
    check_grad_values(lambda x: x * x, {"x": 2 * x}, x=x)


# ---- 1.3 tanh backward ---------------------------------------------------------------------------------------------
@task("1.3")
def test_tanh_gradients():
    check_gradients(lambda x: x.tanh(), x=[-1.5, -0.2, 0.4, 2.0])


@task("1.3")
def test_tanh_gradient_values():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    g = np.array([1.0, -2.0, 0.5, 3.0, 1.0])
    check_grad_values(lambda x: x.tanh(), {"x": g * (1 - np.tanh(x) ** 2)}, upstream=g, x=x)


# ---- 1.4 sigmoid backward ------------------------------------------------------------------------------------------
@task("1.4")
def test_sigmoid_gradients():
    check_gradients(lambda x: x.sigmoid(), x=[[-2.0, -0.3], [0.1, 1.7]])


@task("1.4")
def test_sigmoid_gradient_values():
    x = np.array([-4.0, -1.0, 0.0, 1.0, 4.0])
    s = 1 / (1 + np.exp(-x))
    check_grad_values(lambda x: x.sigmoid(), {"x": s * (1 - s)}, x=x)


# ---- 1.5 div backward ----------------------------------------------------------------------------------------------
@task("1.5")
def test_div_gradients():
    check_gradients(lambda a, b: a / b, a=randn(2, 3), b=[[1.5, -0.8, 2.0], [0.7, -1.2, 3.0]])


@task("1.5")
def test_div_by_a_broadcast_divisor():
    check_gradients(lambda a, b: a / b, a=randn(3, 2), b=[[0.9], [-1.4], [2.5]])


# ---- 1.6 unbroadcast -----------------------------------------------------------------------------------------------
@task("1.6")
def test_gradient_of_a_broadcast_row():
    check_gradients(lambda a, b: a + b, a=randn(2, 3), b=randn(3))


@task("1.6")
def test_gradient_of_a_broadcast_column_and_leading_axes():
    check_gradients(lambda a, b: a - b, a=randn(4, 2, 3), b=randn(2, 1))


@task("1.6")
def test_unbroadcast_on_arrays():
    from minigrad.ops._common import unbroadcast
    g = np.arange(24.0).reshape(2, 3, 4)
    check_close(unbroadcast(g, ((3, 1), np.float64)), g.sum(axis=(0, 2)).reshape(3, 1),
                "unbroadcast of a (2, 3, 4) gradient to shape (3, 1)")
    check_close(unbroadcast(g, ((), np.float64)), g.sum(), "unbroadcast of a (2, 3, 4) gradient to shape ()")


# ---- 1.7 sum backward ----------------------------------------------------------------------------------------------
@task("1.7")
def test_sum_gradients_over_one_axis():
    check_gradients(lambda x: x.sum(axis=1), x=randn(2, 3, 2))


@task("1.7")
def test_sum_gradients_keepdim_and_all_axes():
    check_gradients(lambda x: x.sum(axis=(0, 2), keepdims=True), x=randn(2, 3, 2))
    check_gradients(lambda x: x.sum(), x=randn(3, 2))


# ---- 1.8 matmul backward -------------------------------------------------------------------------------------------
@task("1.8")
def test_matmul_gradients():
    check_gradients(lambda a, b: a @ b, a=randn(2, 3), b=randn(3, 4))


@task("1.8")
def test_matmul_gradients_of_vectors():
    check_gradients(lambda a, b: a @ b, a=randn(3), b=randn(3, 2))
    check_gradients(lambda a, b: a @ b, a=randn(2, 3), b=randn(3))


@task("1.8")
def test_matmul_gradients_of_a_batch():
    check_gradients(lambda a, b: a @ b, a=randn(2, 2, 3), b=randn(3, 2))
