"""Reductions, norms, scans, sorting and selection: what the op table (tests/op_rows_reduce.py) cannot express.
Errors (their class, as PyTorch's, and a message naming the op and the fix), results where PyTorch is unspecified
or wrong, exact gradients against formulas, costs in the tracer."""
import math

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (make test installs it in CI)")


def t(values, dtype=np.float64, requires_grad=False):
    return mg.tensor(np.asarray(values, dtype), requires_grad=requires_grad)


# ---- errors: PyTorch's exception classes, messages naming the op ----------------------------------
@pytest.mark.parametrize("call, error, words", [
    (lambda: mg.prod(t([[1.0, 2.0]]), dim=(0, 1)), TypeError, "prod: dim must be one int"),
    (lambda: mg.cumsum(t([1.0, 2.0]), 1), IndexError, "cumsum: dimension out of range"),
    (lambda: mg.sort(t([1.0]), dim=2), IndexError, "sort"),
    (lambda: mg.logcumsumexp(t([1, 2], np.int64), 0), NotImplementedError, "logcumsumexp"),
    (lambda: mg.topk(t([1.0, 2.0]), 3), RuntimeError, "topk: selected index k out of range"),
    (lambda: mg.topk(t([1.0, 2.0]), -1), RuntimeError, "topk"),
    (lambda: mg.topk(t([True, False], bool), 1), RuntimeError, "topk"),
    (lambda: mg.kthvalue(t([1.0, 2.0]), 3), RuntimeError, "kthvalue(): selected number k out of range"),
    (lambda: mg.kthvalue(t([1.0, 2.0]), 0), RuntimeError, "k counts from 1"),
    (lambda: mg.median(t(np.zeros((0, 2))), 0), IndexError, "median(): expected reduction dim 0"),
    (lambda: mg.mode(t(np.zeros((2, 0)))), IndexError, "mode()"),
    (lambda: mg.median(t([True], bool)), NotImplementedError, "median"),
    (lambda: mg.nanmean(t([1, 2], np.int64)), RuntimeError, "nanmean"),
    (lambda: mg.linalg.vector_norm(t([1, 2], np.int64)), RuntimeError, "linalg.vector_norm"),
    (lambda: mg.linalg.vector_norm(t([1, 2], np.int64), dtype=np.float64), RuntimeError, "floating point"),
    (lambda: mg.linalg.vector_norm(t([1.0], np.float64), dtype=np.float32), RuntimeError, "without narrowing"),
    (lambda: mg.linalg.vector_norm(t([1.0]), ord="fro"), TypeError, "matrix_norm"),
    (lambda: mg.linalg.vector_norm(t(np.zeros(0)), ord=math.inf), RuntimeError, "empty tensor"),
    (lambda: mg.linalg.vector_norm(t(np.zeros((2, 0))), ord=-1, dim=1), RuntimeError, "dimension 1"),
    (lambda: mg.linalg.matrix_norm(t([1.0, 2.0])), RuntimeError, "at least 2 dimensions"),
    (lambda: mg.linalg.matrix_norm(t(np.ones((2, 2))), ord=3), RuntimeError, "Order 3 not supported"),
    (lambda: mg.linalg.matrix_norm(t(np.ones((2, 2))), dim=(0, -2)), RuntimeError, "dims must be different"),
    (lambda: mg.linalg.matrix_norm(t(np.ones((2, 2))), dim=(0,)), RuntimeError, "dim must be a 2-tuple"),
    (lambda: mg.linalg.matrix_norm(t(np.ones((2, 2)), np.float16), ord=2), RuntimeError, "low precision"),
    (lambda: mg.linalg.svdvals(t(np.ones((2, 2)), np.float16)), NotImplementedError, "svdvals"),
    (lambda: mg.linalg.norm(t(np.ones((2, 2, 2))), ord=2), RuntimeError, "must be 1D or 2D"),
    (lambda: mg.linalg.norm(t(np.ones((2, 2, 2))), dim=(0, 1, 2)), RuntimeError, "length 1 or 2"),
    (lambda: mg.norm(t(np.ones((2, 2))), p="abc"), RuntimeError, "Order abc not supported"),
    (lambda: mg.unique(t(2.0), dim=0), IndexError, "unique"),
])
def test_errors_have_pytorchs_class_and_name_the_op(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)


def _long(m, x):
    return x.long() if m is torch else x.astype(np.int64)


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda m, x: m.topk(x, 3), lambda m, x: m.kthvalue(x, 0), lambda m, x: m.logcumsumexp(_long(m, x), 0),
    lambda m, x: m.linalg.vector_norm(_long(m, x)), lambda m, x: m.linalg.matrix_norm(x),
    lambda m, x: m.median(x[:0], 0), lambda m, x: m.prod(x, dim=(0,)), lambda m, x: m.sort(x, 1),
    lambda m, x: m.linalg.vector_norm(x[:0], ord=-1),
])
def test_pytorch_raises_the_same_exception_class(fn):
    """The exception classes above are PyTorch's own (checked here against PyTorch itself)."""
    with pytest.raises(Exception) as want:
        fn(torch, torch.tensor([1.0, 2.0]))
    with pytest.raises(Exception) as got:
        fn(mg, mg.tensor([1.0, 2.0]))
    assert type(got.value) is type(want.value)


# ---- semantics the table cannot express -------------------------------------------------------
def test_topk_unsorted_returns_the_same_elements_sorted():
    """PyTorch leaves the order of sorted=False unspecified; minigrad returns the sorted order."""
    x = t([1.0, 5.0, 3.0, 4.0, 0.0, 7.0])
    got = mg.topk(x, 3, sorted=False)
    assert got.values.tolist() == [7.0, 5.0, 4.0] and got.indices.tolist() == [5, 1, 3]


def test_ties_pick_the_stable_order():
    """Equal elements: sort keeps their order (descending too); topk takes the first ones; kthvalue the k-th in
    stable order; mode the last occurrence of the smallest most frequent value."""
    x = t([2.0, 1.0, 2.0, 1.0, 3.0])
    assert mg.sort(x, descending=True).indices.tolist() == [4, 0, 2, 1, 3]
    assert mg.argsort(x).tolist() == [1, 3, 0, 2, 4]
    assert mg.topk(x, 2, largest=False).indices.tolist() == [1, 3]
    assert mg.kthvalue(x, 2).indices.tolist() == 3
    values, indices = mg.mode(x)
    assert (values.item(), indices.item()) == (1.0, 3)


def test_unique_sorted_false_is_sorted_and_every_nan_is_distinct():
    x = t([3.0, 1.0, np.nan, 1.0, np.nan])
    values, inverse, counts = mg.unique(x, sorted=False, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.numpy(), [1.0, 3.0, np.nan, np.nan])
    assert inverse.tolist() == [1, 0, 2, 0, 3] and counts.tolist() == [2, 1, 1, 1]
    assert not values.requires_grad and inverse.dtype == np.int64


def test_var_and_std_over_an_empty_dim_list_reduce_everything():
    """dim=() reduces every dim, as PyTorch's forward. (PyTorch's backward of var and std then divides by
    n - correction with n = 1, giving inf; minigrad gives the gradient of the value it returns.)"""
    x = t([[1.0, 2.0], [4.0, 7.0]], requires_grad=True)
    mg.var(x, dim=()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (x.numpy() - 3.5) / 3)
    assert mg.std(x, dim=()).item() == pytest.approx(np.std(x.numpy(), ddof=1))


def test_median_of_everything_is_the_lower_median_and_shares_ties():
    x = t([4.0, 1.0, 2.0, 2.0, 3.0, 2.0], requires_grad=True)
    m = mg.median(x)
    assert m.item() == 2.0
    m.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1 / 3, 1 / 3, 0, 1 / 3])
    assert math.isnan(mg.median(t(np.zeros((0, 3)))).item())


def test_matrix_norm_of_an_empty_matrix_is_a_constant_zero():
    """PyTorch returns 0 (with no graph) for the 1, inf, 2 and 'nuc' norms of an empty matrix."""
    a = t(np.zeros((3, 0)), requires_grad=True)
    for ord in (1, math.inf, 2, "nuc"):
        out = mg.linalg.matrix_norm(a, ord=ord, keepdim=True)
        assert out.shape == (1, 1) and out.item() == 0.0 and not out.requires_grad
    assert mg.linalg.matrix_norm(a).item() == 0.0


# ---- gradients against formulas ---------------------------------------------------------------
def test_cumprod_gradient_with_zeros_is_the_leave_one_out_sum():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    g = np.array([1.0, -2.0, 0.5, 4.0, 3.0])
    a = t(x, requires_grad=True)
    mg.cumprod(a, 0).backward(t(g))
    want = [sum(g[j] * np.prod(np.delete(x[:j + 1], k)) for j in range(k, 5)) for k in range(5)]
    np.testing.assert_allclose(a.grad.numpy(), want)


def test_prod_gradient_with_one_zero_is_the_product_of_the_others():
    a = t([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0]], requires_grad=True)
    mg.prod(a, 1).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])


def test_nuclear_norm_gradient_is_u_vt():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3))
    x = t(a, requires_grad=True)
    mg.linalg.matrix_norm(x, "nuc").backward()
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(x.grad.numpy(), u @ vt, atol=1e-12)


def test_svd_norms_have_second_derivatives_but_not_third():
    x = t(np.random.default_rng(1).standard_normal((3, 3)), requires_grad=True)
    g, = mg.grad(mg.linalg.matrix_norm(x, 2), [x], create_graph=True)
    h, = mg.grad((g * g).sum(), [x], retain_graph=True)
    assert h.shape == (3, 3) and np.isfinite(h.numpy()).all()
    with pytest.raises(NotImplementedError, match="order three"):
        mg.grad((g * g).sum(), [x], create_graph=True)


def test_logcumsumexp_gradient_stays_finite_far_from_zero():
    x = t([-1000.0, 0.0, 1000.0], requires_grad=True)
    out = mg.logcumsumexp(x, 0)
    np.testing.assert_allclose(out.numpy(), [-1000.0, 0.0, 1000.0])
    out.backward(t([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 2.0], atol=1e-12)  # sum_j>=k g_j exp(x_k - y_j)


def test_float16_scans_accumulate_in_float32():
    x = t([1000.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], np.float16)
    out = mg.cumsum(x, 0)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out.numpy(), np.cumsum(x.numpy(), dtype=np.float32).astype(np.float16))


# ---- the Tensor methods and the tracer -----------------------------------------------------------
@pytest.mark.parametrize("name, args", [
    ("prod", (1,)), ("nansum", ()), ("nanmean", ()), ("all", ()), ("any", (0,)), ("count_nonzero", ()),
    ("median", ()), ("cumsum", (0,)), ("cumprod", (1,)), ("cummax", (1,)), ("cummin", (0,)), ("logcumsumexp", (1,)),
    ("sort", ()), ("argsort", ()), ("msort", ()), ("topk", (1,)), ("kthvalue", (1,)), ("mode", ()), ("unique", ()),
    ("norm", ()),
])
def test_every_function_is_also_a_tensor_method(name, args):
    x = t([[3.0, 1.0], [2.0, 5.0]])
    want, got = getattr(mg, name)(x, *args), getattr(x, name)(*args)
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_the_tracer_counts_scans_sorts_and_norms():
    x = t(np.ones((4, 5)), requires_grad=True)
    with mg.trace() as tr:
        mg.cumsum(x, 1)
        mg.sort(x, 0)
        mg.linalg.vector_norm(x)
        mg.linalg.svdvals(x)
    names = [r.name for r in tr.records]
    assert names == ["cumsum", "argsort", "gather", "vector_norm", "svdvals"]
    assert tr.flops(category="reduction") == 20 + 20 + 2 * 20
    assert tr.flops(category="dot") == 4 * 4 * 5 * 4 - 4 * 4 ** 3 // 3
