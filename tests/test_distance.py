"""Distance functions and layers: what the op table (tests/op_rows_distance.py) cannot express. The modules against
PyTorch's (attributes, repr, results), float16 and integer inputs, errors (PyTorch's exception classes, messages that
name the function and the value at fault), and that cosine similarity never leaves [-1, 1] or overflows."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(5)


def both(a, dtype=None):
    a = np.asarray(a) if dtype is None else np.asarray(a).astype(dtype)
    return mg.tensor(a), torch.tensor(a)


@pytest.mark.parametrize("kwargs", [{}, {"p": 1}, {"p": 3.0, "eps": 0.0, "keepdim": True}, {"p": float("inf")}])
def test_pairwise_distance_module_matches_torch(kwargs):
    (a, ta), (b, tb) = both(RNG.standard_normal((4, 6))), both(RNG.standard_normal((4, 6)))
    m, tm = nn.PairwiseDistance(**kwargs), torch.nn.PairwiseDistance(**kwargs)
    assert (m.norm, m.eps, m.keepdim) == (tm.norm, tm.eps, tm.keepdim)
    assert repr(m) == repr(tm) == "PairwiseDistance()"
    np.testing.assert_allclose(m(a, b).numpy(), tm(ta, tb).numpy(), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "eps": 1e-3}])
def test_cosine_similarity_module_matches_torch(kwargs):
    (a, ta), (b, tb) = both(RNG.standard_normal((3, 5))), both(RNG.standard_normal((3, 5)))
    m, tm = nn.CosineSimilarity(**kwargs), torch.nn.CosineSimilarity(**kwargs)
    assert (m.dim, m.eps) == (tm.dim, tm.eps)
    assert repr(m) == repr(tm) == "CosineSimilarity()"
    np.testing.assert_allclose(m(a, b).numpy(), tm(ta, tb).numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn", ["cosine_similarity", "pairwise_distance"])
@pytest.mark.parametrize("dtypes", [("float16", "float16"), ("float16", "float32"), ("float16", "float64"),
                                    ("int64", "float32"), ("int32", "float64"), ("float32", "float64")])
def test_mixed_and_low_precision_dtypes_match_torch(fn, dtypes):
    x, y = RNG.uniform(-3, 3, (4, 7)), RNG.uniform(-3, 3, (4, 7))
    if "int" in dtypes[0]:
        x = np.round(x)
    (a, ta), (b, tb) = both(x, dtypes[0]), both(y, dtypes[1])
    got, want = getattr(F, fn)(a, b), getattr(torch.nn.functional, fn)(ta, tb)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    tol = 2e-3 if "float16" in dtypes else 1e-6
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64), rtol=tol, atol=tol)


def test_pairwise_distance_of_integer_inputs_is_float32_as_torch():
    (a, ta), (b, tb) = both(np.arange(6).reshape(2, 3)), both(np.ones((2, 3), np.int64))
    got, want = F.pairwise_distance(a, b), torch.nn.functional.pairwise_distance(ta, tb)
    assert got.dtype == mg.float32 and want.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_where_eps_enters_pairwise_distance():
    """eps is added to each entry of the difference: equal vectors of length D are sqrt(D) eps apart (p = 2),
    D eps apart (p = 1)."""
    x = mg.tensor(np.ones((2, 9)))
    np.testing.assert_allclose(F.pairwise_distance(x, x, eps=1e-3).numpy(), [3e-3, 3e-3], rtol=1e-12)
    np.testing.assert_allclose(F.pairwise_distance(x, x, p=1, eps=1e-3).numpy(), [9e-3, 9e-3], rtol=1e-12)


def test_cosine_similarity_clamps_each_norm_separately_and_stays_in_range():
    """PyTorch normalises each input by max(||x||, eps) first: |cos| <= 1 up to rounding, a vector with norm below eps
    is scaled by 1/eps (not by the product of the norms), large inputs (1e150) give 1 and a norm that overflows
    (1e200 squared) gives 0, in both libraries."""
    for value in (1e150, 1e200):
        big, tbig = both(np.full((2, 3), value))
        np.testing.assert_array_equal(F.cosine_similarity(big, big).numpy(),
                                      torch.nn.functional.cosine_similarity(tbig, tbig).numpy())
    np.testing.assert_allclose(F.cosine_similarity(*[mg.tensor(np.full((2, 3), 1e150))] * 2).numpy(), 1.0, rtol=1e-15)
    x = RNG.standard_normal((50, 8))
    cos = F.cosine_similarity(mg.tensor(x), mg.tensor(x * 3.0)).numpy()
    want = torch.nn.functional.cosine_similarity(torch.tensor(x), torch.tensor(x * 3.0)).numpy()
    assert np.all(np.abs(cos) <= 1.0 + 4 * np.finfo(np.float64).eps)  # 1 up to rounding, as PyTorch's
    np.testing.assert_allclose(cos, want, rtol=1e-15)  # summation order may differ by an ulp
    tiny, y = np.array([[3e-9, 4e-9]]), np.array([[1.0, 0.0]])  # ||tiny|| = 5e-9 < eps = 1e-8
    np.testing.assert_allclose(F.cosine_similarity(mg.tensor(tiny), mg.tensor(y)).numpy(), [3e-9 / 1e-8], rtol=1e-12)


def test_cosine_similarity_gradient_flows_through_the_clamp_as_torch():
    x, y = RNG.standard_normal((2, 4)) * 1e-3, RNG.standard_normal((2, 4))
    a, b = mg.tensor(x, requires_grad=True), mg.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    F.cosine_similarity(a, b, eps=0.5).sum().backward()
    torch.nn.functional.cosine_similarity(ta, tb, eps=0.5).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.cosine_similarity(mg.ones(3, 2, dtype=mg.int64), mg.ones(3, 2, dtype=mg.int64)), RuntimeError,
     "cosine_similarity: expected common dtype to be floating point"),
    (lambda: F.cosine_similarity(mg.ones(3, 2), mg.ones(3, 2), eps=-1), RuntimeError, "eps must be non-negative"),
    (lambda: F.cosine_similarity(mg.ones(3, 2), mg.ones(3, 2), eps=float("nan")), RuntimeError, "non-negative"),
    (lambda: F.cosine_similarity(mg.ones(3, 2), mg.ones(3, 2), dim=(0, 1)), TypeError, "'dim' must be an int"),
    (lambda: F.cosine_similarity(mg.ones(3, 2), mg.ones(3, 2), dim=True), TypeError, "'dim' must be an int"),
    (lambda: F.cosine_similarity(mg.ones(3), mg.ones(3)), IndexError, "cosine_similarity: dimension out of range"),
    (lambda: F.cosine_similarity(mg.ones(3, 2), mg.ones(4, 2)), RuntimeError, "broadcast"),
    (lambda: F.pairwise_distance(mg.ones(3, 2), mg.ones(4, 2)), RuntimeError, "broadcast"),
    (lambda: F.pairwise_distance(mg.ones(3, 2), mg.ones(3, 2), p="fro"), TypeError, "pairwise_distance: argument 'p'"),
    (lambda: F.pairwise_distance(mg.ones(3, 2), mg.ones(3, 2), eps="a"), TypeError, "argument 'eps'"),
    (lambda: F.pairwise_distance(mg.ones(3, 2), mg.ones(3, 2), keepdim=1), TypeError,
     "argument 'keepdim' must be bool"),
    (lambda: F.pairwise_distance(mg.ones(3, 0), mg.ones(3, 0), p=float("inf")), RuntimeError, "empty"),
])
def test_errors_name_the_function_and_the_value(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("fn, args", [("cosine_similarity", (np.ones((3, 2), np.int64), np.ones((3, 2), np.int64))),
                                      ("cosine_similarity", (np.ones(3), np.ones(3))),
                                      ("pairwise_distance", (np.ones((3, 2)), np.ones((4, 2)))),
                                      ("pairwise_distance", (np.ones((3, 0)), np.ones((3, 0)))),
                                      ("cosine_similarity", (np.ones((3, 2)), np.ones((3, 2))))])
@pytest.mark.parametrize("kwargs", [{}, {"eps": -1.0}])
def test_error_classes_are_torchs(fn, args, kwargs):
    """Whatever PyTorch raises (or not), minigrad raises the same class."""
    if fn == "pairwise_distance" and args[0].shape == (3, 0):
        kwargs = dict(kwargs, p=float("inf"))
    results = []
    for lib, f in ((mg, getattr(F, fn)), (torch, getattr(torch.nn.functional, fn))):
        try:
            f(*(lib.tensor(a) for a in args), **kwargs)
            results.append(None)
        except Exception as e:  # noqa: BLE001
            results.append(type(e))
    assert results[0] == results[1], f"{fn}{kwargs}: minigrad {results[0]}, PyTorch {results[1]}"
