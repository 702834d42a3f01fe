"""Type promotion is PyTorch's, for every elementwise op and reduction of the dtype table
(tests/dtype_table.py), and float16 arithmetic rounds as PyTorch's does."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import dtype_table as table
from minigrad.dtypes import SUPPORTED, promote_types, result_type

try:
    import torch
except ImportError:
    torch = None

TABLE = table.load()
ENTRIES = list(table.entries())
OPS = sorted({op for _, op, _, _ in ENTRIES})


def agrees(got, want):
    """PyTorch's dtype or exception class. Where PyTorch's argument parser refuses a Python number (TypeError:
    torch.maximum(t, 2)), minigrad may accept it and promote it like any other operand."""
    return got == want or want == "error:TypeError"


@pytest.mark.parametrize("op", OPS)
def test_every_dtype_combination_gives_pytorchs_result(op):
    """Each op, each combination of operand dtypes and kinds (dims, 0-d, Python number): the result dtype, or
    the exception class, PyTorch gives."""
    wrong = []
    for key, name, fn, kinds in ENTRIES:
        if name != op:
            continue
        assert key in TABLE, f"{key} is missing from the table: regenerate it (python tests/dtype_table.py)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = table.result_of(mg, fn, kinds)
        if not agrees(got, TABLE[key]):
            wrong.append(f"{key}: minigrad {got}, PyTorch {TABLE[key]}")
    assert not wrong, f"{len(wrong)} combinations differ from PyTorch:\n" + "\n".join(wrong[:20])


shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


@given(data=st.data())
def test_result_dtype_does_not_depend_on_the_shapes(data):
    """Drawn op, operand kinds and shapes (broadcastable, any number of dims): the result dtype is the table's.
    Only 0-d versus dims matters for promotion, never the sizes."""
    key, op, fn, kinds = data.draw(st.sampled_from(ENTRIES), label="entry")
    shape = data.draw(shapes, label="shape")
    shaped = [shape[-data.draw(st.integers(1, len(shape)), label="rank"):] for _ in kinds]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = table.result_of(mg, fn, kinds, shaped)
    assert agrees(got, TABLE[key]), f"{key} {shaped}: {got}, PyTorch {TABLE[key]}"


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed (make test installs it in CI)")
def test_the_stored_table_is_pytorchs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = table.generate(torch)
    assert set(fresh) == set(TABLE), "the table is out of date: regenerate it (python tests/dtype_table.py)"
    changed = [k for k in fresh if fresh[k] != TABLE[k]]
    assert not changed, f"PyTorch now gives other results for {changed[:10]}"


# ---- the promotion function itself ------------------------------------------------------------------------
dtypes = st.sampled_from(SUPPORTED)


@given(dtypes, dtypes)
def test_promote_types_is_symmetric_and_keeps_the_higher_category(a, b):
    r = promote_types(a, b)
    assert r == promote_types(b, a)
    assert max(table_category(a), table_category(b)) == table_category(r)


def table_category(d):
    return "biufc".index(np.dtype(d).kind.replace("u", "i"))


@pytest.mark.parametrize("dims, zero_d, scalar, want", [
    ("float32", None, 2.0, "float32"), ("float32", "float64", None, "float32"), ("float32", None, None, "float32"),
    ("int64", None, 2.5, "float32"), ("int32", "float64", None, "float64"), ("bool", None, 2, "int64"),
    ("uint8", None, 300, "uint8"), ("float16", None, 1e5, "float16"), ("int64", "float32", 2.5, "float32")])
def test_weak_operands_follow_pytorchs_tiers(dims, zero_d, scalar, want):
    operands = [np.zeros(2, dims)] + ([np.zeros((), zero_d)] if zero_d else []) + ([scalar] if scalar is not None else [])
    assert result_type(*operands) == np.dtype(want)


def test_integer_true_division_and_floating_functions_give_the_default_float():
    i = mg.tensor([1, 2, 3])
    assert (i / 2).dtype == np.float32 and mg.sqrt(i).dtype == np.float32 and mg.exp(i).dtype == np.float32
    assert (i * 2).dtype == np.int64 and (i + True).dtype == np.int64
    assert (mg.tensor([1.0], dtype="float32") * mg.tensor([2], dtype="int64")).dtype == np.float32


# ---- float16: kept outside, float32 inside, rounded once (as PyTorch on the CPU) -------------------------
@pytest.mark.parametrize("scalar", [1e5, 1e-5, 1e-8, 3.3, 0.1])
@pytest.mark.parametrize("op", ["mul", "div", "add"])
def test_float16_with_a_python_scalar_equals_pytorchs(op, scalar):
    values = np.array([1000.0, 3.0, 0.1, 60000.0, 1e-3, -7.5], np.float16)
    x = mg.tensor(values)
    got = {"mul": lambda: x * scalar, "div": lambda: x / scalar, "add": lambda: x + scalar}[op]()
    assert got.dtype == np.float16
    # PyTorch multiplies and divides by the number in float32 and rounds once; it adds the number rounded to
    # float16 (x * 1e-8 is not 0, x + 1e-8 is x)
    number = np.float32(scalar) if op != "add" else np.float32(np.float16(scalar))
    exact = {"mul": np.multiply, "div": np.divide, "add": np.add}[op](values.astype(np.float32), number)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got.numpy(), exact.astype(np.float16))
    if torch is not None:
        t = torch.from_numpy(values)
        want = {"mul": lambda: t * scalar, "div": lambda: t / scalar, "add": lambda: t + scalar}[op]().numpy()
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("fn", [lambda x: x.sum(), lambda x: x.mean(), lambda x: x.softmax(0), lambda x: x.var(),
                                lambda x: x.logsumexp(0), lambda x: x.log_softmax(0)])
def test_float16_reductions_accumulate_in_float32(fn):
    values = np.array([60000.0, 60000.0, -59000.0, 0.5, 1e-3], np.float16)
    got = fn(mg.tensor(values))
    assert got.dtype == np.float16
    want = fn(mg.tensor(values.astype(np.float32))).numpy()
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got.numpy(), want.astype(np.float16))
    if torch is not None:
        np.testing.assert_array_equal(got.numpy(), fn(torch.from_numpy(values)).numpy())


# ---- complex: minigrad differentiates real tensors only ---------------------------------------------------
def test_complex_tensors_compute_but_cannot_require_grad():
    z = mg.tensor([1 + 2j, 3 - 1j])
    assert z.dtype == np.complex64 and (z * z).dtype == np.complex64
    with pytest.raises(TypeError, match="real tensors only"):
        z.requires_grad_()
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="differentiates real"):
        x * z
