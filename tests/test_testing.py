"""The testing kit tests itself: gradcheck must catch wrong rules (and pass right ones), the strategies must
draw what they promise, and op_test must fail on each kind of broken op it claims to catch."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import GradcheckError, gradcheck, gradgradcheck, op_test
from minigrad.testing import strategies as mst
from minigrad.testing.factory import check_op


# ---- deliberately wrong (and right) ops --------------------------------------------------------------
class Cube(mg.Function):
    """x^3, with the right rule 3 x^2 g."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x * x


class CubeWrongFactor(Cube):
    """x^3 with the rule 2 x^2 g: wrong everywhere but at 0."""
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 2 * x * x


class CubeIgnoresUpstream(Cube):
    """x^3 whose rule forgets to multiply by g: right only when the upstream gradient is all ones."""
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * x * x


class CubeNumpyRule(Cube):
    """x^3 whose rule is computed in NumPy: first order right, but the graph of the gradient is cut,
    so its second derivative is silently zero."""
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * mg.Tensor(3 * x.data ** 2)


def test_gradcheck_passes_a_right_rule_and_returns_true():
    x = mg.randn(3, 4, dtype="float64", requires_grad=True)
    assert gradcheck(Cube.apply, [x]) is True
    assert gradgradcheck(Cube.apply, [x]) is True


def test_gradcheck_reports_a_wrong_rule_with_a_readable_table():
    x = mg.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(CubeWrongFactor.apply, [x])
    msg = str(info.value)
    assert "CubeWrongFactor.apply" in msg and "4 of 4 gradient entries" in msg
    lines = msg.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["input"])
    assert lines[at].split() == ["input", "index", "analytic", "numeric", "difference"]
    rows = lines[at + 1:]
    assert len(rows) == 4
    first = rows[0].split()  # the worst entry first: x = 3 at index (1, 1)
    assert first[0] == "0" and " ".join(first[1:3]) == "(1, 1)"
    analytic, numeric, diff = map(float, first[3:])
    assert diff == pytest.approx(analytic - numeric, rel=1e-4)
    assert analytic / numeric == pytest.approx(2 / 3, rel=1e-4)


def test_gradcheck_returns_false_instead_of_raising_when_asked():
    assert gradcheck(CubeWrongFactor.apply, [mg.tensor([1.0, 2.0])], raise_exception=False) is False


def test_random_upstream_gradient_catches_a_rule_that_ignores_it():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    assert gradcheck(CubeIgnoresUpstream.apply, [x], grad_outputs=[np.ones(3)])  # ones would hide the bug
    with pytest.raises(GradcheckError, match="random normal"):
        gradcheck(CubeIgnoresUpstream.apply, [x])


def test_gradgradcheck_catches_a_rule_written_in_numpy():
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    assert gradcheck(CubeNumpyRule.apply, [x])
    with pytest.raises(GradcheckError, match="first-order gradient of CubeNumpyRule.apply"):
        gradgradcheck(CubeNumpyRule.apply, [x])


def test_large_inputs_use_random_directions_and_still_catch_errors():
    big = mg.randn(60, 50)
    assert gradcheck(Cube.apply, [big])
    with pytest.raises(GradcheckError, match=r"random directions \(the inputs hold 3000 numbers\)"):
        gradcheck(CubeWrongFactor.apply, [big])
    small = mg.randn(3)
    with pytest.raises(GradcheckError, match="random directions"):
        gradcheck(CubeWrongFactor.apply, [small], mode="random")
    with pytest.raises(ValueError, match="mode"):
        gradcheck(Cube.apply, [small], mode="fast")


def test_gradcheck_works_in_float64_on_copies_and_leaves_the_inputs_alone():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)  # float32
    before = x.numpy().copy()
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return (t * t).sin()
    assert gradcheck(fn, [x])
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32 and x.grad is None and np.array_equal(x.numpy(), before)


def test_only_inputs_that_require_grad_are_checked_and_others_pass_through():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0])               # not checked: its wrong "gradient" does not matter
    idx = mg.tensor([1, 1, 0])              # integers are passed through unchanged
    assert gradcheck(lambda a, b, i: (a * b)[i], [a, b, idx])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: CubeWrongFactor.apply(a) + b, [mg.tensor([1.0]), mg.tensor([2.0])])  # none marked: all
    assert "1 of 2 gradient entries" in str(info.value)


def test_gradcheck_handles_tuple_outputs_and_unused_inputs():
    x = mg.randn(6, dtype="float64", requires_grad=True)
    unused = mg.randn(2, dtype="float64", requires_grad=True)
    assert gradcheck(lambda x, u: mg.split(x * x, 3), [x, unused])


def test_gradcheck_refuses_a_function_that_leaves_float64():
    with pytest.raises(TypeError, match="float32 output from float64 inputs"):
        gradcheck(lambda t: t.astype("float32") * 2, [mg.randn(3)])
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda t: t.numpy(), [mg.randn(3)])
    with pytest.raises(ValueError, match="no inputs"):
        gradcheck(Cube.apply, [])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(2,\) but output 0 has shape \(3,\)"):
        gradcheck(Cube.apply, [mg.randn(3)], grad_outputs=[np.ones(2)])
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        gradcheck(Cube.apply, [mg.randn(3)], grad_outputs=[np.ones(3), np.ones(3)])


# ---- strategies -----------------------------------------------------------------------------------
@given(mst.shapes(min_dims=1, max_dims=4, max_side=5))
def test_shapes_respect_their_bounds(shape):
    assert isinstance(shape, tuple) and 1 <= len(shape) <= 4 and all(1 <= n <= 5 for n in shape)


@given(mst.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)


@given(st.lists(mst.away_from([-1.0, 0.0, 2.0], margin=0.2), min_size=1))
def test_away_from_keeps_the_margin(values):
    assert all(min(abs(v - p) for p in (-1.0, 0.0, 2.0)) >= 0.2 - 1e-12 and -3 <= v <= 3 for v in values)


@given(mst.tensors(shape=(2, 3), elements=mst.positive(0.1), requires_grad=True))
def test_tensors_are_float64_leaves_with_the_requested_elements(t):
    assert isinstance(t, mg.Tensor) and t.shape == (2, 3) and t.dtype == np.float64
    assert t.requires_grad and t.is_leaf and (t.numpy() >= 0.1).all()


@given(mst.tensors(dtype="float32"), mst.tensors(dtype="int64", requires_grad=True))
def test_tensors_of_other_dtypes(f, i):
    assert f.dtype == np.float32 and i.dtype == np.int64 and not i.requires_grad


@given(st.integers(0, 4).flatmap(lambda n: st.tuples(st.just(n), mst.axes(n))))
def test_axes_are_valid_for_numpy_reductions(n_axis):
    n, axis = n_axis
    np.sum(np.ones((2,) * n), axis=axis)  # raises on an invalid axis


@given(mst.well_separated(mst.shapes(min_dims=1)))
def test_well_separated_entries_are_apart(a):
    flat = np.sort(a.ravel())
    assert (np.diff(flat) >= 0.37 - 1e-12).all()


def test_strategies_load_lazily_and_say_how_to_install_hypothesis():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import minigrad as mg\n"
            "assert mg.testing.gradcheck(lambda t: t * t, [mg.randn(2)])\n"
            "try:\n    mg.testing.strategies\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Hypothesis" in out and "pip install hypothesis" in out


def test_strategies_module_is_reachable_as_an_attribute():
    assert mg.testing.strategies is mst and mg.testing.op_test is op_test
    with pytest.raises(AttributeError):
        mg.testing.no_such_thing


# ---- the factory catches each kind of broken op ---------------------------------------------------
def _run(op, np_fn, **kwargs):
    test = op_test(op, np_fn, **kwargs)
    assert test.__name__.startswith("test_")
    test()


def test_factory_passes_a_right_op():
    _run(Cube.apply, lambda x: x ** 3, name="cube")


def test_factory_catches_a_wrong_gradient():
    with pytest.raises(GradcheckError):
        _run(CubeWrongFactor.apply, lambda x: x ** 3, name="cube_wrong")


def test_factory_catches_a_wrong_forward():
    with pytest.raises(AssertionError, match="cube_forward: output 0"):
        _run(Cube.apply, lambda x: x ** 3 + 1e-3, name="cube_forward")


def test_factory_catches_a_wrong_second_derivative():
    with pytest.raises(GradcheckError, match="first-order"):
        _run(CubeNumpyRule.apply, lambda x: x ** 3, name="cube_numpy_rule")


class Mutates(mg.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.data * 2
        x.data += 1.0  # a bug: the caller's tensor changes
        return out

    @staticmethod
    def backward(ctx, g):
        return g * 2


class SharesMemory(mg.Function):
    """Identity whose rule hands back its saved input's buffer (numerically right for g = x only)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data.copy()

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return mg.Tensor(x.data)


class Upcasts(mg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.data.astype(np.float64) * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_factory_catches_mutation_of_an_input():
    with pytest.raises(AssertionError, match="input 0 was modified"):
        check_op(Mutates.apply, lambda x: x * 2, [np.array([1.0, 2.0])])


def test_factory_catches_a_gradient_sharing_memory_with_an_input():
    with pytest.raises(AssertionError, match="shares memory with input 0"):
        check_op(SharesMemory.apply, lambda x: x, [np.array([1.0, 2.0])])


def test_factory_catches_a_float32_graph_turning_float64():
    with pytest.raises(AssertionError, match="float32 inputs gave a float64 output"):
        check_op(Upcasts.apply, lambda x: x * 2, [np.array([1.0, 2.0])])


def test_factory_checks_that_a_gradient_free_op_carries_none():
    check_op(mg.argmax, np.argmax, [np.array([1.0, 3.0, 2.0])], grad=False)
    with pytest.raises(AssertionError, match="should carry no gradient"):
        check_op(mg.neg, np.negative, [np.array([1.0, 3.0])], grad=False)


def test_factory_with_kwargs_and_per_input_elements():
    _run(lambda a, b, axis: (a / b).sum(axis=axis), lambda a, b, axis: (a / b).sum(axis=axis), n_inputs=2,
         elements=[mst.floats(), mst.away_from([0.0], margin=0.5)], name="div_sum",
         shapes=st.just(((2, 3), (3,))), kwargs=lambda a, b: st.sampled_from([0, 1, None]).map(lambda ax: {"axis": ax}))
    with pytest.raises(ValueError, match="2 element strategies for 1 inputs"):
        op_test(mg.neg, np.negative, elements=[mst.floats(), mst.floats()])
