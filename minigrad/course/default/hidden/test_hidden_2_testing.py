"""Hidden tests of module 2."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from _kit import fail, task


class Sin(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.cos()


class Scale(mg.Function):
    """a * b whose gradient for b is wrong (twice too large); a's is right."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data * b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a * 2.0


class HalfSquare(mg.Function):
    """x^2 whose own rule is wrong (g x instead of 2 g x): fine for a first derivative that only uses its forward."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 2

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x


class CubeWithBadSecondOrder(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * HalfSquare.apply(x) * 3.0


@task("2.1")
def test_gradcheck_names_the_wrong_input_and_can_return_false():
    from minigrad.testing import GradcheckError, gradcheck
    a, b = mg.tensor([0.5, -1.0]), mg.tensor([2.0, 0.7])
    try:
        gradcheck(Scale.apply, [a, b], mode="full")
    except GradcheckError as e:
        rows = [line.split() for line in str(e).splitlines() if line.strip().startswith(("0 ", "1 "))]
        if not rows or any(r[0] != "1" for r in rows):
            fail(f"gradcheck reported the wrong input: only input 1 (b) is wrong\n{e}")
    else:
        fail("gradcheck accepted a rule whose gradient for b is twice too large")
    if gradcheck(Scale.apply, [a, b], mode="full", raise_exception=False) is not False:
        fail("gradcheck(..., raise_exception=False) must return False for a wrong rule")
    if gradcheck(Sin.apply, [mg.tensor([[0.1, 0.2], [0.3, 0.4]])], mode="full") is not True:
        fail("gradcheck rejected sin on a 2 x 2 input")


@task("2.2")
def test_gradcheck_checks_as_many_directions_as_asked():
    from minigrad.testing import GradcheckError, gradcheck
    try:
        gradcheck(Scale.apply, [mg.tensor([0.5, -1.0]), mg.tensor([2.0, 0.7])], mode="random", n_directions=3)
    except GradcheckError as e:
        if "of 3 random directions" not in str(e):
            fail(f"gradcheck(n_directions=3) reports something else than 3 directions:\n{e}")
    else:
        fail("gradcheck(mode='random') accepted a rule whose gradient for b is twice too large")
    if gradcheck(Sin.apply, [mg.tensor(np.linspace(-2, 2, 2100))]) is not True:
        fail("gradcheck rejected sin on 2100 numbers (checked along random directions)")


@task("2.3")
def test_gradgradcheck_rejects_a_wrong_second_derivative():
    from minigrad.testing import GradcheckError, gradgradcheck
    try:
        gradgradcheck(CubeWithBadSecondOrder.apply, [mg.tensor([0.4, -0.9, 1.3])])
    except GradcheckError:
        pass
    else:
        fail("gradgradcheck accepted x^3 whose second derivative is computed by a wrong rule")
    if gradgradcheck(Sin.apply, [mg.tensor([0.3, 1.2])]) is not True:
        fail("gradgradcheck rejected sin, whose rule is differentiable")


@task("2.4")
@given(data=st.data())
def test_several_points_and_a_wide_margin(data):
    from minigrad.testing import strategies as mst
    x = data.draw(mst.away_from([-1.0, 0.0, 1.0], margin=0.3, min_value=-2.0, max_value=2.0))
    if not -2.0 <= x <= 2.0 or min(abs(x - p) for p in (-1.0, 0.0, 1.0)) < 0.3 - 1e-12:
        fail(f"away_from([-1, 0, 1], margin=0.3, [-2, 2]) drew {x}")


class SquareThatScribbles(mg.Function):
    """x^2 whose rule overwrites the input it saved."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 2

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        grad = g * x * 2.0
        x.data[...] = 0.0
        return grad


@task("2.5")
def test_check_op_catches_a_rule_that_changes_its_input():
    from minigrad.testing.factory import check_op
    try:
        check_op(SquareThatScribbles.apply, np.square, [np.array([1.0, -2.0])], second_order=False, float32=False,
                 name="square")
    except AssertionError as e:
        if "modif" not in str(e):
            fail(f"check_op failed, but not because backward modified the input: {e}")
        return
    fail("check_op accepted an op whose backward overwrites its input")


@task("2.1")
def test_gradcheck_moves_one_entry_at_a_time():
    from minigrad.testing import gradcheck
    base = np.array([[0.5, -0.25], [1.5, 2.0]])
    seen = []

    def probe(x):
        if not x.requires_grad:  # a finite-difference evaluation
            seen.append(np.array(x.data))
        return x.exp()

    gradcheck(probe, [mg.tensor(base)], mode="full")
    moved = [int(np.sum(p != base)) for p in seen]
    if len(seen) != 2 * base.size or any(m != 1 for m in moved):
        fail(f"gradcheck evaluated the function at {len(seen)} points, moved from x in {moved} entries; central "
             f"differences need 2 evaluations per entry ({2 * base.size} here), each moving exactly one entry "
             "(restore it before the next)")
