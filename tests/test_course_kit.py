"""What the tutorials (issue 11) needed from the library: a surrogate callable refused at the call when it
cannot be a backward rule, op_test(broadcast=False) drawing equal shapes, and the public unbroadcast."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import ste
from minigrad.testing import factory, unbroadcast


@pytest.mark.parametrize("where", ["call", "scope", "default"])
def test_a_function_of_x_is_refused_as_a_surrogate_naming_from_function(where):
    x = mg.tensor([0.5], requires_grad=True)
    smooth = lambda t: mg.tanh(3 * t)  # noqa: E731  the mistake: the smooth function, not a rule
    with pytest.raises(TypeError, match=r"cannot be called as a backward rule rule\(ctx, g\).*"
                                        r"Surrogate\.from_function\(f\)"):
        if where == "call":
            ste.sign(x, surrogate=smooth)
        elif where == "scope":
            ste.surrogates(sign=smooth)
        else:
            ste.set_default(sign=smooth)
    assert repr(ste.sign(x).grad_fn.rule) == "Clipped(clip=1.0)"  # nothing was changed


def test_rules_and_wrapped_functions_are_accepted():
    x = mg.tensor([0.5], requires_grad=True)
    ste.sign(x, surrogate=lambda ctx, g: g * 2).sum().backward()
    assert x.grad.item() == 2.0
    x.grad = None
    ste.sign(x, surrogate=ste.Surrogate.from_function(lambda t: mg.tanh(3 * t))).sum().backward()
    assert x.grad.item() == pytest.approx(3 * (1 - np.tanh(1.5) ** 2), rel=1e-6)

    class Rule:  # a callable object with (ctx, g) works as well
        def __call__(self, ctx, g):
            return g * 0
    ste.sign(x, surrogate=Rule())


def test_set_default_returns_what_restores_it():
    previous = ste.set_default(sign=ste.Tanh(slope=3), round=ste.Zero())
    try:
        assert repr(ste.sign(mg.tensor([0.1], requires_grad=True)).grad_fn.rule) == "Tanh(slope=3.0)"
    finally:
        ste.set_default(**previous)
    assert repr(ste.sign(mg.tensor([0.1], requires_grad=True)).grad_fn.rule) == "Clipped(clip=1.0)"
    assert isinstance(ste.round(mg.tensor([0.1], requires_grad=True)).grad_fn.rule, ste.Identity)


def test_op_test_without_broadcasting_draws_equal_shapes():
    seen = []

    def add(a, b):
        assert a.shape == b.shape
        seen.append(a.shape)
        return a + b
    test = settings(max_examples=15, derandomize=True, deadline=None)(
        factory.op_test(add, np.add, n_inputs=2, broadcast=False))
    test()
    assert len(set(seen)) > 1  # several shapes were drawn, each time the same for both inputs


def test_op_test_broadcasts_by_default():
    shapes = []
    test = settings(max_examples=30, derandomize=True, deadline=None)(
        factory.op_test(lambda a, b: shapes.append((a.shape, b.shape)) or a * b, np.multiply, n_inputs=2))
    test()
    assert any(a != b for a, b in shapes)


@settings(max_examples=30, derandomize=True, deadline=None)
@given(st.data())
def test_unbroadcast_is_the_adjoint_of_broadcasting(data):
    from minigrad.testing import strategies as mst
    small, = data.draw(mst.broadcastable_shapes(1))
    big = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3))) + tuple(small)
    big = tuple(b if s == 1 else s for b, s in zip(big[-len(small):] if small else (), small))
    big = data.draw(st.tuples(st.integers(1, 3))) + big
    x = np.random.default_rng(0).standard_normal(small)
    g = np.random.default_rng(1).standard_normal(big)
    # <broadcast(x), g> = <x, unbroadcast(g)>: the definition of an adjoint
    lhs = float((np.broadcast_to(x, big) * g).sum())
    rhs = float((x * unbroadcast(g, x)).sum())
    assert lhs == pytest.approx(rhs)
    assert unbroadcast(g, x).shape == x.shape == unbroadcast(g, tuple(small)).shape


def test_unbroadcast_on_tensors_is_differentiable_and_checks_shapes():
    g = mg.tensor(np.arange(6.0).reshape(2, 3), dtype="float64", requires_grad=True)
    out = unbroadcast(g, mg.zeros(3, dtype="float64"))
    assert out.numpy().tolist() == [3.0, 5.0, 7.0] and out.grad_fn is not None
    out.sum().backward()
    assert g.grad.numpy().tolist() == [[1.0] * 3] * 2
    assert unbroadcast(np.ones((2, 3), np.float32), np.zeros(3, np.float64)).dtype == np.float64
    with pytest.raises(RuntimeError, match=r"cannot come from broadcasting an input of shape \(4,\)"):
        unbroadcast(np.ones((2, 3)), (4,))
    with pytest.raises(TypeError, match="like must be"):
        unbroadcast(np.ones(3), "x")
