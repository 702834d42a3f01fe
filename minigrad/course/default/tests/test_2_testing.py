"""Module 2: testing gradient rules. gradcheck (entry by entry, random directions), gradgradcheck, a Hypothesis
strategy, and the test factory's checks.

Run one task's tests with `python -m pytest tests/tasks --task 2.1`.
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from _kit import fail, task


class Cube(mg.Function):
    """x^3, with the right rule (written with minigrad ops, so it is differentiable too)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x * x * 3.0)


class CubeOffByAFactor(Cube):
    """x^3 with the derivative written 2 x^2: a slip gradcheck must catch."""
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x * x * 2.0)


class CubeWrongInOneEntry(Cube):
    """x^3 whose gradient is off by 1 in the entry at index 1, and only there."""
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        bump = np.zeros(x.shape)
        bump[1] = 1.0
        return g * (x * x * 3.0) + mg.tensor(bump)


class CubeNotDifferentiable(Cube):
    """x^3 with the right first derivative computed outside minigrad (from .data): its second derivative
    comes out as zero, which gradgradcheck must catch."""
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * mg.tensor(3.0 * x.data * x.data)


def _expect_gradcheck_error(call, what, contains=()):
    from minigrad.testing import GradcheckError
    try:
        call()
    except GradcheckError as e:
        for text in contains:
            if text not in str(e):
                fail(f"{what}: the report does not say {text!r}", f"  the report:\n{e}")
        return str(e)
    fail(f"{what}: no GradcheckError was raised, so a wrong rule passes the check")


def _expect_pass(call, what):
    from minigrad.testing import GradcheckError
    try:
        ok = call()
    except GradcheckError as e:
        fail(f"{what}: GradcheckError for a correct rule", f"  the report:\n{e}")
    if ok is not True:
        fail(f"{what}: returned {ok!r} for a correct rule, not True")


x3 = np.array([0.7, -1.3, 0.4])


# ---- 2.1 central differences ---------------------------------------------------------------------------------------
@task("2.1")
def test_gradcheck_accepts_correct_rules():
    from minigrad.testing import gradcheck
    _expect_pass(lambda: gradcheck(Cube.apply, [mg.tensor(x3)], mode="full"), "gradcheck(x^3, mode='full')")
    _expect_pass(lambda: gradcheck(lambda a, b: (a + b.exp()).sin(), [mg.tensor([[0.3, -0.2]]), mg.tensor([0.5, 1.0])],
                                   mode="full"), "gradcheck(sin(a + exp(b)), mode='full')")


@task("2.1")
def test_gradcheck_rejects_a_factor_slip():
    from minigrad.testing import gradcheck
    _expect_gradcheck_error(lambda: gradcheck(CubeOffByAFactor.apply, [mg.tensor(x3)], mode="full"),
                            "gradcheck of x^3 with the rule 2 x^2", contains=("3 of 3 gradient entries",))


@task("2.1")
def test_gradcheck_finds_the_one_wrong_entry():
    from minigrad.testing import gradcheck
    _expect_gradcheck_error(lambda: gradcheck(CubeWrongInOneEntry.apply, [mg.tensor([0.5, -0.4, 1.2, 0.9])],
                                              mode="full"),
                            "gradcheck of a rule wrong at index 1 only", contains=("1 of 4 gradient entries", "(1,)"))


# ---- 2.2 random directions -----------------------------------------------------------------------------------------
@task("2.2")
def test_random_directions_accept_correct_rules():
    from minigrad.testing import gradcheck
    _expect_pass(lambda: gradcheck(Cube.apply, [mg.tensor(x3)], mode="random"), "gradcheck(x^3, mode='random')")
    big = np.random.default_rng(0).uniform(-1, 1, 3000)
    _expect_pass(lambda: gradcheck(Cube.apply, [mg.tensor(big)]),
                 "gradcheck of x^3 on 3000 numbers (random directions)")


@task("2.2")
def test_random_directions_reject_a_wrong_rule():
    from minigrad.testing import gradcheck
    _expect_gradcheck_error(lambda: gradcheck(CubeOffByAFactor.apply, [mg.tensor(x3)], mode="random"),
                            "gradcheck(x^3 with the rule 2 x^2, mode='random')", contains=("4 of 4 random directions",))


@task("2.2")
def test_random_directions_find_one_wrong_entry_among_thousands():
    from minigrad.testing import gradcheck
    big = np.random.default_rng(1).uniform(-1, 1, 2500)
    _expect_gradcheck_error(lambda: gradcheck(CubeWrongInOneEntry.apply, [mg.tensor(big)], n_directions=6),
                            "gradcheck of a rule wrong in one of 2500 entries", contains=("random directions",))


# ---- 2.3 second derivatives ----------------------------------------------------------------------------------------
@task("2.3")
def test_gradgradcheck_accepts_correct_rules():
    from minigrad.testing import gradgradcheck
    _expect_pass(lambda: gradgradcheck(Cube.apply, [mg.tensor(x3)]), "gradgradcheck(x^3)")
    _expect_pass(lambda: gradgradcheck(lambda a, b: (a * b).sin(), [mg.tensor([0.3, -0.8]), mg.tensor([1.1, 0.4])]),
                 "gradgradcheck(sin(a b))")


@task("2.3")
def test_gradgradcheck_rejects_a_rule_computed_outside_minigrad():
    from minigrad.testing import gradgradcheck
    _expect_gradcheck_error(lambda: gradgradcheck(CubeNotDifferentiable.apply, [mg.tensor(x3)]),
                            "gradgradcheck of x^3 whose rule uses .data")


@task("2.3")
def test_gradgradcheck_of_an_unused_input():
    from minigrad.testing import gradgradcheck
    _expect_pass(lambda: gradgradcheck(lambda a, b: a.exp(), [mg.tensor([0.2, 0.4]), mg.tensor([1.0, 2.0])]),
                 "gradgradcheck(exp(a)) with an input b it does not use")


# ---- 2.4 away from kinks -------------------------------------------------------------------------------------------
def _away(points, margin, lo, hi):
    from minigrad.testing import strategies as mst
    return mst.away_from(points, margin=margin, min_value=lo, max_value=hi)


@task("2.4")
@given(data=st.data())
def test_drawn_values_keep_away_from_every_point(data):
    x = data.draw(_away([0.0, 1.0], 0.2, -3.0, 3.0))
    if not -3.0 <= x <= 3.0:
        fail(f"away_from([0, 1], margin=0.2) drew {x}, outside [-3, 3]")
    for p in (0.0, 1.0):
        if abs(x - p) < 0.2 - 1e-12:
            fail(f"away_from([0, 1], margin=0.2) drew {x}, closer than 0.2 to {p}")


@task("2.4")
@given(data=st.data())
def test_a_value_near_the_edge_is_pushed_inwards(data):
    x = data.draw(_away([2.9], 0.3, 2.5, 3.0))
    if not 2.5 <= x <= 3.0 or abs(x - 2.9) < 0.3 - 1e-12:
        fail(f"away_from([2.9], margin=0.3, min_value=2.5, max_value=3) drew {x}: it must stay in [2.5, 3] and 0.3 "
             "away from 2.9 (where a push leaves the range, push to the other side)")


# ---- 2.5 mutation and aliasing checks ------------------------------------------------------------------------------
class DoubleThatOverwrites(mg.Function):
    """2 x, whose forward also zeroes its input (a bug that check_op must catch)."""
    @staticmethod
    def forward(ctx, x):
        y = x.data * 2.0
        x.data[...] = 0.0
        return y

    @staticmethod
    def backward(ctx, g):
        return g * 2.0


class ProductThatAliases(mg.Function):
    """a * b whose rule hands out a itself as b's gradient: b.grad then shares a's memory."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.data * b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, a


def _check_op(*args, **kwargs):
    from minigrad.testing.factory import check_op
    return check_op(*args, **kwargs)


@task("2.5")
def test_check_op_accepts_a_correct_op():
    a, b = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([1.5, -0.7])
    try:
        _check_op(lambda a, b: a * b, np.multiply, [a, b], name="mul")
    except AssertionError as e:
        fail("check_op rejected a * b, a correct op", f"  {e}")


@task("2.5")
def test_check_op_catches_an_op_that_changes_its_input():
    try:
        _check_op(DoubleThatOverwrites.apply, lambda x: 2.0 * x, [np.array([1.0, -2.0, 0.5])], second_order=False,
                  float32=False, name="double")
    except AssertionError as e:
        if "modif" not in str(e):
            fail(f"check_op failed, but not because the input was modified: {e}")
        return
    fail("check_op accepted an op whose forward overwrites its input")


@task("2.5")
def test_check_op_catches_a_gradient_that_shares_memory():
    try:
        _check_op(ProductThatAliases.apply, np.multiply, [np.array([1.0, 2.0]), np.array([3.0, -1.0])],
                  second_order=False, float32=False, name="aliasing_mul")
    except AssertionError as e:
        if "memory" not in str(e):
            fail(f"check_op failed, but not because a gradient shares memory with an input: {e}")
        return
    fail("check_op accepted an op whose gradient for b is a's own array")
