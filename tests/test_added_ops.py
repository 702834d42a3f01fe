"""The PyTorch names added together: fmax, fmin, xlogy, float_power, searchsorted, bucketize, atleast_1d/2d/3d,
nanmedian, unique_consecutive, cdist. Values, dtypes and gradients are in the op table (tests/op_rows_*.py); here:
which are Tensor methods (exactly where PyTorch has one), the exception classes of bad calls (PyTorch's), and the
pieces the table cannot see (namedtuple fields, complex float_power, xp.xlogy on arrays)."""
import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

NAMES = ["fmax", "fmin", "xlogy", "float_power", "searchsorted", "bucketize", "atleast_1d", "atleast_2d", "atleast_3d",
         "nanmedian", "unique_consecutive", "cdist"]


@pytest.mark.parametrize("name", NAMES)
def test_function_and_method_exist_where_pytorchs_do(name):
    assert callable(getattr(mg, name))
    assert hasattr(mg.Tensor, name) == hasattr(torch.Tensor, name), name
    assert hasattr(mg.Tensor, name + "_") == hasattr(torch.Tensor, name + "_"), name + "_"


BAD_CALLS = {
    "fmax_complex": lambda m: m.fmax(m.tensor([1j]), m.tensor([1j])),
    "searchsorted_side_and_right": lambda m: m.searchsorted(m.tensor([1.0, 2.0]), m.tensor([1.0]), side="left",
                                                            right=True),
    "searchsorted_bad_side": lambda m: m.searchsorted(m.tensor([1.0, 2.0]), m.tensor([1.0]), side="middle"),
    "searchsorted_batch_mismatch": lambda m: m.searchsorted(m.ones(2, 3), m.ones(3, 1)),
    "searchsorted_scalar_nd": lambda m: m.searchsorted(m.ones(2, 3), 1.0),
    "searchsorted_0d_seq": lambda m: m.searchsorted(m.tensor(1.0), m.tensor([1.0])),
    "searchsorted_bool": lambda m: m.searchsorted(m.tensor([False, True]), m.tensor([True])),
    "searchsorted_sorter_dtype": lambda m: m.searchsorted(m.tensor([2.0, 1.0]), m.tensor([1.5]),
                                                          sorter=m.tensor([1.0, 0.0])),
    "searchsorted_sorter_shape": lambda m: m.searchsorted(m.tensor([2.0, 1.0]), m.tensor([1.5]), sorter=m.tensor([1])),
    "searchsorted_sorter_range": lambda m: m.searchsorted(m.tensor([2.0, 1.0]), m.tensor([1.5]),
                                                          sorter=m.tensor([1, 2])),
    "bucketize_2d_boundaries": lambda m: m.bucketize(m.tensor([1.0]), m.ones(2, 2)),
    "atleast_number": lambda m: m.atleast_2d(2),
    "nanmedian_bool": lambda m: m.nanmedian(m.tensor([True, False])),
    "nanmedian_empty_dim": lambda m: m.nanmedian(m.zeros(0, 2), 0),
    "nanmedian_keepdim_without_dim": lambda m: m.nanmedian(m.ones(2, 3), keepdim=True),
    "median_keepdim_without_dim": lambda m: m.median(m.ones(2, 3), keepdim=True),
    "median_method_keepdim_without_dim": lambda m: m.ones(2, 3).median(keepdim=False),
    "nanmedian_dim_range": lambda m: m.nanmedian(m.ones(2, 3), 2),
    "unique_consecutive_dim_range": lambda m: m.unique_consecutive(m.ones(2, 3), dim=-3),
    "unique_consecutive_0d_dim": lambda m: m.unique_consecutive(m.tensor(1.0), dim=0),
    "unique_consecutive_empty_slices": lambda m: m.unique_consecutive(m.zeros(2, 0), dim=0),
    "float_power_in_place_float32": lambda m: m.tensor([2.0]).float_power_(2),
    "cdist_1d": lambda m: m.cdist(m.ones(3), m.ones(2, 3)),
    "cdist_columns": lambda m: m.cdist(m.ones(2, 3), m.ones(2, 4)),
    "cdist_negative_p": lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), p=-1.0),
    "cdist_integers": lambda m: m.cdist(m.ones(2, 3, dtype=m.int64), m.ones(2, 3, dtype=m.int64)),
    "cdist_mixed_dtypes": lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3, dtype=m.float64)),
    "cdist_float16": lambda m: m.cdist(m.ones(2, 3, dtype=m.float16), m.ones(2, 3, dtype=m.float16)),
    "cdist_batch": lambda m: m.cdist(m.ones(3, 2, 3), m.ones(2, 4, 3)),
    "cdist_compute_mode": lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), compute_mode="fast"),
}


def _raised(fn, lib):
    try:
        fn(lib)
    except Exception as e:  # the class is what is compared
        return type(e)
    return None


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_calls_raise_pytorchs_exception_class(case):
    want = _raised(BAD_CALLS[case], torch)
    got = _raised(BAD_CALLS[case], mg)
    assert want is not None and got is want, f"{case}: minigrad {got}, PyTorch {want}"


def test_bad_calls_name_the_op():
    with pytest.raises(RuntimeError, match="searchsorted.*shape \\(2, 3\\).*shape \\(3, 1\\)"):
        mg.searchsorted(mg.ones(2, 3), mg.ones(3, 1))
    with pytest.raises(RuntimeError, match="cdist.*columns.*\\(2, 3\\).*\\(2, 4\\)"):
        mg.cdist(mg.ones(2, 3), mg.ones(2, 4))


def test_nanmedian_with_dim_is_a_values_indices_pair():
    x = mg.tensor([[1.0, np.nan, 3.0], [np.nan, 2.0, 0.0]])
    r = mg.nanmedian(x, dim=1, keepdim=True)
    assert r.values.shape == (2, 1) and r.indices.dtype == np.int64
    assert r.values.numpy().ravel().tolist() == [1.0, 0.0] and r.indices.numpy().ravel().tolist() == [0, 2]
    assert x.nanmedian().item() == 1.0


def test_float_power_of_complex_is_complex128():
    for base, exponent in [(mg.tensor([1j, 2.0]), 2), (mg.tensor([2.0]), 1j), (1j, mg.tensor([2.0], dtype=mg.float32))]:
        assert mg.float_power(base, exponent).dtype == np.complex128


def test_xp_xlogy_runs_on_arrays_and_on_tensors_alike():
    x = np.array([0.0, 0.0, 1.5, 2.0, 0.0])
    y = np.array([0.0, np.nan, 0.0, 3.0, -1.0])
    on_arrays = mg.xp.xlogy(x, y)
    on_tensors = mg.xp.xlogy(mg.tensor(x), mg.tensor(y)).numpy()
    want = torch.xlogy(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    np.testing.assert_array_equal(on_arrays, want)
    np.testing.assert_array_equal(on_tensors, want)


def test_searchsorted_and_unique_consecutive_carry_no_gradient():
    x = mg.tensor([1.0, 1.0, 2.0], requires_grad=True)
    assert not mg.searchsorted(x, x).requires_grad
    assert not mg.unique_consecutive(x).requires_grad


def test_deliberate_differences_are_pinned():
    # a Python number where PyTorch's parser insists on a tensor is promoted like any other operand
    assert mg.fmax(mg.tensor([1, 5]), 2).numpy().tolist() == [2, 5]
    assert mg.fmin(mg.tensor([np.nan, 1.0]), 0.5).numpy().tolist() == [0.5, 0.5]
    # a slice of nans only: nan at index 0
    r = mg.nanmedian(mg.tensor([[np.nan, np.nan, np.nan, np.nan], [1.0, np.nan, 0.0, 2.0]]), dim=1)
    assert np.isnan(r.values.numpy()[0]) and r.indices.numpy().tolist() == [0, 0]
    # cdist: second derivatives exist (PyTorch has none); compute_mode is accepted and the differences computed
    x = mg.tensor(np.arange(60.0).reshape(30, 2) / 7, requires_grad=True)
    y = mg.tensor(np.arange(60.0).reshape(30, 2) / 7 + 0.25)
    d = mg.cdist(x, y, compute_mode="use_mm_for_euclid_dist")
    g, = mg.grad([d.sum()], [x], create_graph=True)
    h, = mg.grad([(g * g).sum()], [x])
    assert h.shape == (30, 2) and np.all(np.isfinite(h.numpy()))
    np.testing.assert_allclose(d.numpy(), np.sqrt(((x.numpy()[:, None] - y.numpy()[None]) ** 2).sum(-1)), rtol=1e-6)
