"""The matrix-product family (minigrad/ops/linalg.py), beyond the op table (tests/op_rows_linalg.py):

- costs in the tracer: against torch.utils.flop_counter (forward, backward and second derivatives) when PyTorch
  is installed, and against the formulas always; where the counter does not count an op, that it still does not
  (so the docstrings saying so stay true) and minigrad counts the formula;
- result dtypes and exception classes for every pair of dtypes, against PyTorch;
- einsum's own structure: gradients computed by einsum, PyTorch's left-to-right contraction, error messages;
- PyTorch's behaviours the table cannot show: beta = 0 ignores input, integer alpha and beta, matrix_power's
  identity, the memory order of a transposed weight's gradient.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg

try:
    import torch
    from torch.utils.flop_counter import FlopCounterMode
except ImportError:  # the formula checks still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (make test installs it in CI)")


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _weights(shape, seed):
    """Random upstream gradients: all-ones ones would make matmul count BOPs (its operands +-1), not FLOPs."""
    return np.random.default_rng(seed).standard_normal(tuple(shape))


def mg_costs(fn, arrays):
    """FLOPs in category 'dot' of the forward, of the gradients (with create_graph) and of the second derivatives
    (d/dx of a weighted sum of all gradients)."""
    xs = [mg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    with mg.trace() as fwd:
        out = fn(mg, *xs)
    with mg.trace() as bwd:
        grads = mg.grad(out, xs, mg.tensor(_weights(out.shape, 1)), create_graph=True, allow_unused=True)
    live = [(gr, mg.tensor(_weights(gr.shape, 2 + i))) for i, gr in enumerate(grads)
            if gr is not None and gr.requires_grad]
    with mg.trace() as bwd2:
        if live:
            mg.grad(sum((gr * w).sum() for gr, w in live), xs, allow_unused=True)
    return fwd.flops(category="dot"), bwd.flops(category="dot"), bwd2.flops(category="dot")


def torch_costs(fn, arrays):
    """The same three numbers from torch.utils.flop_counter (einsum contracted left to right, as minigrad does)."""
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    counts = []
    with FlopCounterMode(display=False) as fc:
        out = fn(torch, *xs)
    counts.append(fc.get_total_flops())
    with FlopCounterMode(display=False) as fc:
        grads = torch.autograd.grad(out, xs, torch.tensor(_weights(out.shape, 1)), create_graph=True,
                                    allow_unused=True)
    counts.append(fc.get_total_flops())
    live = [(gr, torch.tensor(_weights(gr.shape, 2 + i))) for i, gr in enumerate(grads)
            if gr is not None and gr.requires_grad]
    with FlopCounterMode(display=False) as fc:
        if live:
            torch.autograd.grad(sum((gr * w).sum() for gr, w in live), xs, allow_unused=True)
    counts.append(fc.get_total_flops())
    return tuple(counts)


def _einsum(eq):
    return lambda lib, *xs: lib.einsum(eq, *xs)


# (id, fn, operand shapes, forward dot FLOPs by formula, what torch.utils.flop_counter counts: "all", "none",
# or "backward" (addbmm: PyTorch's forward kernel is not counted, its gradient is two bmm))
COSTS = [
    ("mm", lambda m, a, b: m.mm(a, b), [(2, 3), (3, 4)], 2 * 2 * 3 * 4, "all"),
    ("bmm", lambda m, a, b: m.bmm(a, b), [(5, 2, 3), (5, 3, 4)], 2 * 5 * 2 * 3 * 4, "all"),
    ("mv", lambda m, a, v: m.mv(a, v), [(2, 3), (3,)], 2 * 2 * 3, "none"),
    ("dot", lambda m, a, b: m.dot(a, b), [(3,), (3,)], 2 * 3, "none"),
    ("vdot", lambda m, a, b: m.vdot(a, b), [(3,), (3,)], 2 * 3, "none"),
    ("inner", lambda m, a, b: m.inner(a, b), [(2, 3), (4, 5, 3)], 2 * 2 * 20 * 3, "all"),
    ("inner-1d", lambda m, a, b: m.inner(a, b), [(3,), (3,)], 2 * 3, "none"),
    ("tensordot", lambda m, a, b: m.tensordot(a, b), [(2, 3, 4), (3, 4, 5)], 2 * 2 * 12 * 5, "all"),
    ("tensordot-outer", lambda m, a, b: m.tensordot(a, b, 0), [(2, 3), (4, 5)], 2 * 6 * 1 * 20, "all"),
    ("tensordot-full", lambda m, a, b: m.tensordot(a, b, 2), [(2, 3), (2, 3)], 2 * 6, "none"),
    ("addmm", lambda m, x, a, b: m.addmm(x, a, b, beta=0.5, alpha=2.0), [(2, 4), (2, 3), (3, 4)], 2 * 2 * 3 * 4,
     "all"),
    ("addmv", lambda m, x, a, v: m.addmv(x, a, v), [(2,), (2, 3), (3,)], 2 * 2 * 3, "none"),
    ("baddbmm", lambda m, x, a, b: m.baddbmm(x, a, b), [(5, 2, 4), (5, 2, 3), (5, 3, 4)], 2 * 5 * 2 * 3 * 4, "all"),
    ("addbmm", lambda m, x, a, b: m.addbmm(x, a, b), [(2, 4), (5, 2, 3), (5, 3, 4)], 2 * 5 * 2 * 3 * 4, "backward"),
    ("outer", lambda m, a, b: m.outer(a, b), [(3,), (2,)], 0, "all"),
    ("kron", lambda m, a, b: m.kron(a, b), [(2, 3), (4, 5)], 0, "all"),
    ("matrix_power-5", lambda m, a: m.matrix_power(a, 5), [(3, 3)], 3 * 2 * 27, "all"),  # a^2, a^4, a a^4
    ("matrix_power-6", lambda m, a: m.matrix_power(a, 6), [(2, 3, 3)], 3 * 2 * 2 * 27, "all"),  # a^2, a^4, a^2 a^4
    ("matrix_power-7", lambda m, a: m.matrix_power(a, 7), [(3, 3)], 4 * 2 * 27, "all"),
    ("einsum-matmul", _einsum("ij,jk->ik"), [(2, 3), (3, 4)], 2 * 2 * 3 * 4, "all"),
    ("einsum-batched", _einsum("bij,bjk->bik"), [(5, 2, 3), (5, 3, 4)], 2 * 5 * 2 * 3 * 4, "all"),
    ("einsum-attention", _einsum("bhqd,bhkd->bhqk"), [(2, 3, 4, 5), (2, 3, 6, 5)], 2 * 2 * 3 * 4 * 6 * 5, "all"),
    ("einsum-ellipsis", _einsum("...ij,...jk"), [(4, 1, 2, 3), (5, 3, 2)], 2 * 20 * 2 * 3 * 2, "all"),
    ("einsum-dot", _einsum("i,i->"), [(3,), (3,)], 2 * 3, "all"),
    ("einsum-sum-first", _einsum("ij,jk->i"), [(2, 3), (3, 4)], 2 * 2 * 3, "all"),  # k summed out of b first
    ("einsum-size-1", _einsum("ij,ij->"), [(2, 1), (2, 3)], 2 * 2, "all"),  # j summed out of b first
    ("einsum-chain", _einsum("ij,jk,kl->il"), [(2, 3), (3, 4), (4, 5)], 2 * (2 * 3 * 4 + 2 * 4 * 5), "all"),
    ("einsum-diagonal", _einsum("ii,ij,jk->k"), [(3, 3), (3, 4), (4, 2)], 2 * (3 * 4 + 4 * 2), "all"),
    ("einsum-sum-late", _einsum("abc,cd,b->ad"), [(2, 3, 4), (4, 5), (3,)], 2 * (2 * 3 * 4 * 5 + 2 * 3 * 5), "all"),
    ("einsum-four", _einsum("ab,bc,cd,de->ae"), [(2, 3), (3, 4), (4, 5), (5, 2)], 2 * (24 + 40 + 20), "all"),
    ("einsum-outer", _einsum("i,j->ij"), [(3,), (4,)], 0, "all"),  # a broadcast product: elementwise
    ("einsum-products", _einsum("i,i,i->i"), [(3,), (3,), (3,)], 0, "all"),
    ("einsum-one-operand", _einsum("ij->j"), [(2, 3)], 0, "all"),
    ("einsum-trace", _einsum("ii"), [(3, 3)], 0, "all"),
]


@pytest.mark.parametrize("name, fn, shapes, forward, counted", COSTS, ids=[c[0] for c in COSTS])
def test_forward_dot_flops_follow_the_formula_and_gradients_cost_twice_as_much(name, fn, shapes, forward, counted):
    """Forward: the formula (2 FLOPs a multiply-add). Gradients: each product's two gradients are products of the
    same size (PyTorch's mm/bmm backward), so the backward of a product costs twice its forward."""
    fwd, bwd, _ = mg_costs(fn, _inputs(shapes))
    assert fwd == forward
    assert bwd == 2 * forward


@needs_torch
@pytest.mark.parametrize("name, fn, shapes, forward, counted", COSTS, ids=[c[0] for c in COSTS])
def test_dot_flops_equal_torch_flop_counter(name, fn, shapes, forward, counted):
    """Forward, backward and second derivatives: minigrad's 'dot' FLOPs are what torch.utils.flop_counter counts;
    where the counter counts nothing (PyTorch's dot, mv, addmv kernels), it still counts nothing and minigrad
    counts the same multiply-adds by the convention."""
    arrays = _inputs(shapes)
    with torch.backends.opt_einsum.flags(enabled=False):  # opt_einsum may choose another order than left to right
        ours, theirs = mg_costs(fn, arrays), torch_costs(fn, arrays)
    if counted == "all":
        assert ours == theirs
    elif counted == "backward":
        assert theirs[0] == 0 and ours[1:] == theirs[1:]
    else:
        assert theirs == (0, 0, 0), f"torch's flop counter now counts {name}: make minigrad's docstring say so"


def test_einsum_gradients_are_einsums_of_the_same_cost():
    """'computed by einsum itself': the backward of an einsum runs einsum ops only (no matmul)."""
    a, b, c = (mg.tensor(x, requires_grad=True) for x in _inputs([(2, 3), (3, 4), (4, 5)]))
    out = mg.einsum("ij,jk,kl->il", a, b, c)
    with mg.trace() as tr:
        out.backward(mg.ones(out.shape))
    dots = [r for r in tr.records if r.category == "dot"]
    assert {r.name for r in dots} == {"einsum"} and len(dots) == 4  # two pairs, two gradients each
    assert sorted(r.flops for r in dots) == [2 * 24] * 2 + [2 * 40] * 2


def test_einsum_pairs_that_sum_nothing_and_single_operands_count_in_their_own_categories():
    x, y = mg.randn(3), mg.randn(4)
    with mg.trace() as tr:
        mg.einsum("i,j->ij", x, y)
    assert tr.flops(category="dot") == 0 and tr.flops(category="elementwise") == 12
    with mg.trace() as tr:
        mg.einsum("ij->j", mg.randn(2, 3))
    assert tr.flops(category="dot") == 0 and tr.flops(category="reduction") == 6


def test_einsum_contracts_left_to_right_as_pytorch():
    """The pairs run in PyTorch's order (without opt_einsum): ((a b) c), each pair summing what no later operand
    needs; the intermediate of ij,jk,kl is (i, k)."""
    a, b, c = (mg.tensor(x) for x in _inputs([(2, 3), (3, 4), (4, 5)]))
    with mg.trace() as tr:
        mg.einsum("ij,jk,kl->il", a, b, c)
    assert [(r.name, r.out_shape) for r in tr.records if r.name == "einsum"] == [("einsum", (2, 4)), ("einsum", (2, 5))]


def test_scaled_products_count_their_scalings_and_addition_as_elementwise():
    x, a, b = (mg.tensor(v) for v in _inputs([(2, 4), (2, 3), (3, 4)]))
    for kwargs, per_element in [({}, 1), ({"beta": 0.5, "alpha": 2.0}, 3), ({"beta": 0}, 0), ({"alpha": 3.0}, 2)]:
        with mg.trace() as tr:
            mg.addmm(x, a, b, **kwargs)
        assert tr.flops(category="dot") == 2 * 2 * 3 * 4
        assert tr.flops(category="elementwise") == per_element * 8, kwargs


# ---- dtypes: PyTorch's matrix products do not promote; its broadcast products do ------------------------------
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PAIRS = {  # name: (fn, shapes of the two operands)
    "mm": (lambda m, a, b: m.mm(a, b), [(2, 2), (2, 2)]),
    "bmm": (lambda m, a, b: m.bmm(a, b), [(1, 2, 2), (1, 2, 2)]),
    "mv": (lambda m, a, b: m.mv(a, b), [(2, 2), (2,)]),
    "dot": (lambda m, a, b: m.dot(a, b), [(2,), (2,)]),
    "vdot": (lambda m, a, b: m.vdot(a, b), [(2,), (2,)]),
    "inner": (lambda m, a, b: m.inner(a, b), [(2, 2), (2,)]),
    "inner-0d": (lambda m, a, b: m.inner(a, b), [(), (2,)]),
    "outer": (lambda m, a, b: m.outer(a, b), [(2,), (2,)]),
    "kron": (lambda m, a, b: m.kron(a, b), [(2,), (2, 2)]),
    "kron-0d": (lambda m, a, b: m.kron(a, b), [(), (2,)]),
    "tensordot": (lambda m, a, b: m.tensordot(a, b, 1), [(2, 2), (2,)]),
    "addmm-input": (lambda m, x, a: m.addmm(x, a, a), [(2, 2), (2, 2)]),
    "addmm-mat2": (lambda m, a, b: m.addmm(a, a, b), [(2, 2), (2, 2)]),
    "addmv-input": (lambda m, x, a: m.addmv(x, a, a[0]), [(2,), (2, 2)]),
    "baddbmm-input": (lambda m, x, a: m.baddbmm(x, a, a), [(1, 2, 2), (1, 2, 2)]),
    "addbmm-input": (lambda m, x, a: m.addbmm(x, a, a), [(2, 2), (1, 2, 2)]),
    "einsum-bmm": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 2), (2, 2)]),
    "einsum-mul": (lambda m, a, b: m.einsum("ij,jk->ijk", a, b), [(2, 2), (2, 2)]),
    "einsum-sum-then-bmm": (lambda m, a, b: m.einsum("ij,j->", a, b), [(2, 2), (2,)]),
    "einsum-sum-then-mul": (lambda m, a, b: m.einsum("ij,j->j", a, b), [(2, 2), (2,)]),
}
SINGLES = {
    "einsum-sum": (lambda m, a: m.einsum("ij->j", a), (2, 2)),
    "einsum-size-1-sum": (lambda m, a: m.einsum("ij->i", a), (2, 1)),
    "einsum-permute": (lambda m, a: m.einsum("ij->ji", a), (2, 2)),
    "einsum-diagonal": (lambda m, a: m.einsum("ii->i", a), (2, 2)),
    "matrix_power-0": (lambda m, a: m.matrix_power(a, 0), (2, 2)),
    "matrix_power-1": (lambda m, a: m.matrix_power(a, 1), (2, 2)),
    "matrix_power-2": (lambda m, a: m.matrix_power(a, 2), (2, 2)),
}


def _result(lib, fn, shapes, dtypes):
    """The result's dtype name, or 'error:<class>'."""
    operands = [np.ones(s, d) for s, d in zip(shapes, dtypes)]
    operands = [torch.from_numpy(x) if lib is torch else mg.tensor(x) for x in operands]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(fn(lib, *operands).dtype).replace("torch.", "")
    except Exception as e:  # the exception class is what is compared
        return f"error:{type(e).__name__}"


@needs_torch
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_every_pair_of_dtypes_gives_pytorchs_dtype_or_exception_class(name):
    fn, shapes = PAIRS[name]
    wrong = [f"{a}, {b}: minigrad {got}, PyTorch {want}" for a in DTYPES for b in DTYPES
             if (got := _result(mg, fn, shapes, (a, b))) != (want := _result(torch, fn, shapes, (a, b)))]
    assert not wrong, "\n".join(wrong)


@needs_torch
@pytest.mark.parametrize("name", sorted(SINGLES))
def test_every_dtype_of_one_operand_gives_pytorchs_result(name):
    fn, shape = SINGLES[name]
    wrong = [f"{a}: minigrad {got}, PyTorch {want}" for a in DTYPES
             if (got := _result(mg, fn, [shape], (a,))) != (want := _result(torch, fn, [shape], (a,)))]
    assert not wrong, "\n".join(wrong)


def test_dtype_rules_without_pytorch():
    """The same rules, spelled out: no promotion in products, no bool kernel, promotion in broadcast products,
    integer sums in int64."""
    f32, f64 = mg.ones(2, 2), mg.ones(2, 2, dtype="float64")
    for fn in (mg.mm, lambda a, b: mg.einsum("ij,jk", a, b), lambda a, b: mg.tensordot(a, b, 1)):
        with pytest.raises(RuntimeError, match="same dtype"):
            fn(f32, f64)
    with pytest.raises(NotImplementedError, match="bool"):
        mg.mm(mg.ones(2, 2, dtype=bool), mg.ones(2, 2, dtype=bool))
    assert mg.outer(mg.ones(2), mg.ones(2, dtype="float64")).dtype == np.float64
    assert mg.kron(mg.ones(2, dtype="int64"), mg.ones(2)).dtype == np.float32
    assert mg.einsum("ij,ij->ij", f32, f64).dtype == np.float64  # a pair that sums nothing multiplies
    assert mg.einsum("ij->j", mg.ones(2, 2, dtype="int32")).dtype == np.int64
    assert mg.einsum("ij->ji", mg.ones(2, 2, dtype=bool)).dtype == np.bool_
    assert mg.addmm(mg.ones(2, 2, dtype="int32"), mg.ones(2, 2, dtype="int32"), mg.ones(2, 2, dtype="int32")).dtype \
        == np.int32


@needs_torch
def test_float16_stays_float16_and_matches_pytorch():
    a, b = _inputs([(4, 64), (64, 3)])
    for fn in (lambda m, x, y: m.einsum("ij,jk->ik", x, y), lambda m, x, y: m.mm(x, y),
               lambda m, x, y: m.tensordot(x, y, 1)):
        got = fn(mg, mg.tensor(a, dtype="float16"), mg.tensor(b, dtype="float16"))
        want = fn(torch, torch.tensor(a, dtype=torch.float16), torch.tensor(b, dtype=torch.float16))
        assert got.dtype == np.float16
        np.testing.assert_allclose(got.numpy().astype(np.float64), want.double().numpy(), rtol=2e-3, atol=2e-2)


# ---- errors: the op, the shapes or value at fault -----------------------------------------------------------
def O(m, *shape, dtype="float32"):  # noqa: E743 (ones, in either library)
    return m.ones(*shape, dtype=getattr(m, dtype) if m is torch else dtype)


ERRORS = [  # (call(lib), exception class, minigrad's message)
    (lambda m: m.einsum("ij,jk->ik", O(m, 2, 3), O(m, 4, 5)), RuntimeError, r"subscript j has size 4.*size 3"),
    (lambda m: m.einsum("ij", O(m, 2)), RuntimeError, r"names 2 dims for operand 0, which has 1"),
    (lambda m: m.einsum("ii", O(m, 2, 3)), RuntimeError, r"subscript i is repeated.*2 != 3"),
    (lambda m: m.einsum("i->j", O(m, 2)), RuntimeError, r"output subscript j appears in no operand"),
    (lambda m: m.einsum("i->ii", O(m, 2)), RuntimeError, r"output subscript i appears more than once"),
    (lambda m: m.einsum("i1", O(m, 2)), RuntimeError, r"invalid subscript '1'"),
    (lambda m: m.einsum("..i", O(m, 2)), RuntimeError, r"'\.' for operand 0 that is not part of any ellipsis"),
    (lambda m: m.einsum("...i...", O(m, 2)), RuntimeError, r"second ellipsis"),
    (lambda m: m.einsum("i", O(m, 2), O(m, 2)), RuntimeError, r"more operands were provided \(2\)"),
    (lambda m: m.einsum("i,i", O(m, 2)), RuntimeError, r"fewer operands were provided \(1\)"),
    (lambda m: m.einsum("i"), ValueError, r"at least one operand"),
    (lambda m: m.einsum(O(m, 2), [52]), ValueError, r"subscript 52"),
    (lambda m: m.mm(O(m, 3), O(m, 3, 2)), RuntimeError, r"mm: input must be a matrix \(2-D\).*\(3,\)"),
    (lambda m: m.mm(O(m, 2, 3), O(m, 2, 4)), RuntimeError, r"mm: shapes \(2, 3\) and \(2, 4\) cannot be"),
    (lambda m: m.bmm(O(m, 2, 2, 3), O(m, 1, 3, 2)), RuntimeError, r"bmm: batch sizes differ.*matmul does"),
    (lambda m: m.mv(O(m, 2, 3), O(m, 2)), RuntimeError, r"mv: shapes \(2, 3\) and \(2,\)"),
    (lambda m: m.dot(O(m, 2), O(m, 3)), RuntimeError, r"dot: the vectors have different sizes, 2 and 3"),
    (lambda m: m.dot(O(m, 2, 1), O(m, 2)), RuntimeError, r"dot: input must be a vector"),
    (lambda m: m.outer(O(m, 2, 1), O(m, 2)), RuntimeError, r"outer: input must be a vector"),
    (lambda m: m.inner(O(m, 2, 3), O(m, 2)), RuntimeError, r"inner: the last dims must match.*\(2, 3\)"),
    (lambda m: m.tensordot(O(m, 2, 3), O(m, 2), 3), RuntimeError, r"tensordot: dims must lie in \[0, 1\]"),
    (lambda m: m.tensordot(O(m, 2, 3), O(m, 3, 4), -1), RuntimeError, r"got -1"),
    (lambda m: m.tensordot(O(m, 2, 3), O(m, 3, 4), (1, 0)), TypeError, r"two lists"),
    (lambda m: m.tensordot(O(m, 2, 3), O(m, 3, 4), ([1], [0, 1])), RuntimeError, r"same length"),
    (lambda m: m.tensordot(O(m, 2, 3), O(m, 2, 4), ([1], [0])), RuntimeError,
     r"dim 1 of a has size 3 and dim 0 of b has size 2"),
    (lambda m: m.tensordot(O(m, 2, 3), O(m, 3, 4), ([2], [0])), IndexError, r"tensordot: dimension out of range"),
    (lambda m: m.addmm(O(m, 3), O(m, 2, 3), O(m, 3, 2)), RuntimeError,
     r"addmm: input of shape \(3,\) does not broadcast to the product's shape \(2, 2\)"),
    (lambda m: m.addmm(O(m, 1, 2, 2), O(m, 2, 3), O(m, 3, 2)), RuntimeError, r"addmm: input of shape"),
    (lambda m: m.addmm(O(m, 2, 2, dtype="float64"), O(m, 2, 3), O(m, 3, 2)), RuntimeError,
     r"addmm: expected all operands to have the same dtype, got float64, float32, float32"),
    (lambda m: m.matrix_power(O(m, 2, 3), 2), RuntimeError, r"matrix_power: .*square.*\(2, 3\)"),
    (lambda m: m.matrix_power(m.eye(2), 1.5), TypeError, r"integer"),
]
REFUSED = [  # what PyTorch computes and minigrad refuses (said in the docstrings)
    (lambda m: m.vdot(O(m, 2, dtype="complex64"), O(m, 2, dtype="complex64")), NotImplementedError, "complex"),
    (lambda m: m.matrix_power(m.eye(2), -1), NotImplementedError, r"n = -1 < 0 needs the matrix inverse"),
]


@pytest.mark.parametrize("call, error, message", ERRORS + REFUSED, ids=[f"{i}" for i in range(len(ERRORS + REFUSED))])
def test_errors_name_the_op_and_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call(mg)


@needs_torch
@pytest.mark.parametrize("call, error, message", ERRORS, ids=[f"{i}" for i in range(len(ERRORS))])
def test_pytorch_raises_the_same_exception_class(call, error, message):
    with pytest.raises(error):
        call(torch)


# ---- behaviours ------------------------------------------------------------------------------------------------
def test_beta_zero_ignores_nan_in_input_and_gives_it_a_zero_gradient():
    x = mg.tensor([[np.nan, np.inf], [1.0, 2.0]], requires_grad=True)
    a, b = mg.eye(2), mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = mg.addmm(x, a, b, beta=0)
    np.testing.assert_array_equal(out.numpy(), b.numpy())
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2)))
    for fn, args in [(mg.addmv, (x[0], a, b[0])), (mg.baddbmm, (x[None], a[None], b[None])),
                     (mg.addbmm, (x, a[None], b[None]))]:
        assert np.isfinite(fn(*args, beta=0).numpy()).all()


def test_integer_tensors_take_alpha_and_beta_as_integers():
    """PyTorch truncates a float alpha or beta for integer tensors: alpha = 1.7 acts as 1, beta = 0.5 as 0."""
    i = mg.tensor([[1, 2], [3, 4]])
    product = (i @ i).numpy()
    np.testing.assert_array_equal(mg.addmm(i, i, i, alpha=1.7).numpy(), i.numpy() + product)
    np.testing.assert_array_equal(mg.addmm(i, i, i, beta=0.5).numpy(), product)
    np.testing.assert_array_equal(mg.addmm(i, i, i, alpha=-0.5).numpy(), i.numpy())


def test_matrix_power_of_zero_is_the_identity_of_each_matrix():
    a = mg.tensor(np.arange(8.0).reshape(2, 2, 2), dtype="float64", requires_grad=True)
    out = mg.matrix_power(a, 0)
    assert out.dtype == np.float64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(np.eye(2), (2, 2, 2)))
    p = mg.matrix_power(a, 3).numpy()
    np.testing.assert_allclose(p, a.numpy() @ a.numpy() @ a.numpy())


def test_einsum_forms_agree():
    a, b = (mg.tensor(x) for x in _inputs([(2, 3), (3, 4)]))
    want = (a @ b).numpy()
    for got in (mg.einsum("ij,jk->ik", a, b), mg.einsum("ij,jk", [a, b]), mg.einsum(" i j , j k -> i k ", a, b),
                mg.einsum(a, [0, 1], b, [1, 2], [0, 2]), mg.einsum(a, [0, 1], b, [1, 2])):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert mg.einsum("ba,cb", mg.ones(2, 3), mg.ones(4, 2)).shape == (3, 4)  # implicit: letters in order
    assert mg.einsum("Ba,aB", mg.ones(2, 3), mg.ones(3, 2)).shape == ()
    assert mg.einsum("i...", mg.ones(2, 3)).shape == (3, 2)  # implicit: the ellipsis first


def test_einsum_gradient_matches_the_formula_of_a_diagonal():
    """d/dA of sum_i A_ii x_i is diag(x) (the gradient is scattered back onto the diagonal)."""
    a = mg.tensor(np.arange(9.0).reshape(3, 3), dtype="float32", requires_grad=True)
    x = mg.tensor([1.0, 2.0, 3.0])
    mg.einsum("ii,i->", a, x).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.diag([1.0, 2.0, 3.0]))


def test_the_gradient_of_a_transposed_weight_keeps_the_weights_memory_order():
    """Matmul's special case, kept: x @ W.T gives W a C-ordered gradient, like W."""
    w = mg.tensor(np.ones((4, 3)), requires_grad=True)
    (mg.ones(2, 3, dtype="float64") @ w.T).sum().backward()
    assert w.grad.data.flags.c_contiguous
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 3), 2.0))


def test_the_two_executions_of_einsums_rule_agree_on_a_chain():
    """Arrays (no create_graph) and Tensors (create_graph): the same bits, on a chain with a diagonal and a
    summed-first label (the op table checks each row the same way)."""
    xs = _inputs([(3, 3), (3, 4), (4, 2, 5)])
    results = []
    for create_graph in (False, True):
        ts = [mg.tensor(x, dtype="float32", requires_grad=True) for x in xs]
        out = mg.einsum("ii,ij,jkl->k", *ts)
        results.append([g.numpy().tobytes() for g in mg.grad(out, ts, mg.ones(out.shape), create_graph=create_graph)])
    assert results[0] == results[1]


# ---- einsum on drawn equations: any subscripts NumPy and PyTorch accept --------------------------------------
@st.composite
def einsum_cases(draw):
    """(equation, operand shapes, ellipsis dims summed): 1-3 operands over labels a-d (repeats take diagonals),
    each dim sometimes of size 1 (it broadcasts), sometimes an ellipsis, and an implicit or explicit output."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    ell_sizes = draw(st.lists(st.integers(1, 3), max_size=2))
    terms, shapes, has_ell = [], [], False
    for _ in range(draw(st.integers(1, 3))):
        labels = draw(st.lists(st.sampled_from("abcd"), max_size=3))
        shape = [1 if labels.count(c) == 1 and draw(st.integers(0, 4)) == 0 else sizes[c] for c in labels]
        if draw(st.booleans()):
            k = draw(st.integers(0, len(ell_sizes)))
            at = draw(st.integers(0, len(labels)))
            ell = [1 if draw(st.integers(0, 3)) == 0 else n for n in ell_sizes[len(ell_sizes) - k:]]
            labels, shape, has_ell = labels[:at] + ["..."] + labels[at:], shape[:at] + ell + shape[at:], True
        terms.append("".join(labels))
        shapes.append(tuple(shape))
    equation, summed = ",".join(terms), False
    if draw(st.booleans()):
        seen = sorted({c for t in terms for c in t if c != "."})
        out = draw(st.permutations(seen).map(lambda p: list(p[:draw(st.integers(0, len(p)))])))
        if has_ell and draw(st.booleans()):
            out.insert(draw(st.integers(0, len(out))), "...")
        summed = has_ell and "..." not in out  # PyTorch sums the ellipsis dims away
        equation += "->" + "".join(out)
    return equation, shapes, summed


def _numpy_einsum(equation, arrays, summed):
    """np.einsum, with the ellipsis dims that PyTorch sums away (NumPy refuses to) summed after it."""
    if not summed:
        return np.einsum(equation, *arrays)
    n_ell = max(a.ndim - len(t.replace("...", "")) for a, t in zip(arrays, equation.split("->")[0].split(",")))
    lhs, rhs = equation.split("->")
    return np.einsum(f"{lhs}->...{rhs}", *arrays).sum(axis=tuple(range(n_ell)))


@given(einsum_cases(), st.integers(0, 2 ** 16))
def test_einsum_on_drawn_equations_equals_numpy_and_its_gradients_pass_gradcheck(case, seed):
    equation, shapes, summed = case
    arrays = _inputs(shapes, seed)
    xs = [mg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    out = mg.einsum(equation, *xs)
    np.testing.assert_allclose(out.numpy(), _numpy_einsum(equation, arrays, summed), rtol=1e-10, atol=1e-12)
    assert mg.testing.gradcheck(lambda *ts: mg.einsum(equation, *ts), xs)
    if torch is not None:
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        want = torch.einsum(equation, *ts)
        np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = _weights(out.shape, seed)
        ours = mg.grad(out, xs, mg.tensor(g), allow_unused=True)
        theirs = torch.autograd.grad(want, ts, torch.tensor(g), allow_unused=True)
        for o, t, x in zip(ours, theirs, arrays):
            np.testing.assert_allclose(np.zeros(x.shape) if o is None else o.numpy(),
                                       np.zeros(x.shape) if t is None else t.numpy(), rtol=1e-10, atol=1e-12)
