"""Op-table rows of the reductions (minigrad/ops/reduce.py), norms (minigrad/ops/norms.py, mg.linalg), scans
(minigrad/ops/scan.py) and sorting and selection (minigrad/ops/sort.py). (The rows of sum, mean, var, std, amax,
amin, max, min, logsumexp, softmax, argmax and argmin are in tests/op_table.py.)"""
import math

import numpy as np

from op_table import OpInfo, Sample, fixed, noncontiguous, reduction, uniform, well_separated

INF = math.inf


def _rows(name, fn, *samples, **kwargs):
    return OpInfo(name, fn, fixed(*samples), **kwargs)


def _values(name, fn, *samples):
    """A row of an op without a gradient (indices, truth values, counts)."""
    return OpInfo(name, fn, fixed(*samples), grad=False)


def _dtype(m, name):
    """A dtype argument in each library's spelling (torch.float64, or NumPy's for minigrad)."""
    return getattr(m, name) if m.__name__ == "torch" else np.dtype(name)


def _typed(m, kwargs):
    """kwargs with a dtype name turned into the library's dtype."""
    return {k: _dtype(m, v) if k == "dtype" else v for k, v in kwargs.items()}


def _with_zeros(r, shape, *where):
    """Uniform values with zeros at the given flat positions."""
    x = uniform(r, shape, away=(0.0,)).reshape(-1)
    x[list(where)] = 0.0
    return x.reshape(shape)


def _with_nans(r, shape, *where):
    x = uniform(r, shape).reshape(-1)
    x[list(where)] = np.nan
    return x.reshape(shape)


def _ints(r, shape, high=4):
    """Small integers as floats: many ties, for mode and unique."""
    return r.integers(0, high, shape).astype(np.float64)


def _matrix(r, shape):
    """Entries away from 0 (|A|'s kink), singular values well apart."""
    return uniform(r, shape, away=(0.0,))


OPS = [
    # ---- reductions ------------------------------------------------------------------------------
    OpInfo("prod", lambda m, a, **k: m.prod(a, **k), reduction(dims=(None, 0, -1), low=0.5, high=1.5, extra=lambda r: [
        Sample((uniform(r, (2, 0)),), {"dim": 1}, "empty")])),
    _rows("prod_zeros", lambda m, a, **k: m.prod(a, **k),
          lambda r: ((_with_zeros(r, (2, 4), 1),), {"dim": 1}, "one-zero"),
          lambda r: ((_with_zeros(r, (2, 4), 1, 3, 6),), {"dim": 1}, "two-zeros"),
          lambda r: ((_with_zeros(r, (3, 2), 0, 2),), {"dim": 0, "keepdim": True}, "dim0"),
          lambda r: ((_with_zeros(r, (2, 3), 4),), {}, "all-one-zero"),
          lambda r: ((_with_zeros(r, (2, 3), 0, 4),), {}, "all-two-zeros"),
          lambda r: ((np.array(0.0),), {}, "0-d-zero")),
    _rows("prod_dtype", lambda m, a, **k: m.prod(a, 1, dtype=_dtype(m, "float64")),
          lambda r: ((uniform(r, (2, 3)),), {}, "float64")),
    _values("prod_int", lambda m, a, **k: m.prod(a, **_typed(m, k)),
          lambda r: ((r.integers(-3, 4, (2, 3)),), {"dim": 0}, "int64"),
          lambda r: ((r.integers(-3, 4, (2, 3)),), {"dim": 1, "dtype": "float64"}, "int-dtype"),
          lambda r: ((r.random((2, 3)) > 0.3,), {}, "bool")),
    _rows("var_mean_std_mean", lambda m, a, **k: m.var_mean(a, **k) + m.std_mean(a, **k),
          lambda r: ((uniform(r, (2, 3, 4)),), {"dim": 1}, "dim"),
          lambda r: ((uniform(r, (2, 3)),), {"dim": (0, 1), "correction": 0, "keepdim": True}, "correction"),
          lambda r: ((uniform(r, (5,)),), {}, "all")),
    _rows("aminmax", lambda m, a, **k: tuple(m.aminmax(a, **k)),
          lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": 1}, "dim"),
          lambda r: ((well_separated(r, (2, 3)),), {"dim": -1, "keepdim": True}, "keepdim"),
          lambda r: ((well_separated(r, (2, 3)),), {}, "all"), lambda r: ((well_separated(r, ()),), {}, "0-d")),
    _rows("nansum", lambda m, a, **k: m.nansum(a, **k),
          lambda r: ((_with_nans(r, (2, 3, 4), 1, 7, 8),), {"dim": 1}, "dim", False),
          lambda r: ((_with_nans(r, (2, 3), 0, 1, 2),), {"dim": -1, "keepdim": True}, "all-nan-row", False),
          lambda r: ((_with_nans(r, (2, 3), 4),), {}, "all", False),
          lambda r: ((uniform(r, (2, 3)),), {"dim": (0, 1)}, "no-nan"),
          lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"),
          lambda r: ((uniform(r, (0, 3)),), {"dim": 0}, "empty")),
    _rows("nanmean", lambda m, a, **k: m.nanmean(a, **k),
          lambda r: ((_with_nans(r, (2, 3, 4), 1, 7, 8),), {"dim": 1}, "dim", False),
          lambda r: ((_with_nans(r, (2, 3), 0, 1, 2),), {"dim": -1, "keepdim": True}, "all-nan-row", False),
          lambda r: ((_with_nans(r, (2, 3), 4),), {}, "all", False),
          lambda r: ((noncontiguous(uniform(r, (3, 4))),), {"dim": 0}, "noncontig"),
          lambda r: ((uniform(r, ()),), {}, "0-d"),
          lambda r: ((uniform(r, (0, 3)),), {"dim": 1}, "empty")),
    _values("all_any_count", lambda m, a, **k: (m.all(a, **k), m.any(a, **k)),
          lambda r: ((_with_zeros(r, (2, 3, 4), 1, 5),), {"dim": 1}, "dim"),
          lambda r: ((_with_zeros(r, (2, 3), 0, 1, 2),), {"dim": (0, 1), "keepdim": True}, "dims-keepdim"),
          lambda r: ((_with_zeros(r, (2, 3), 2),), {}, "all"),
          lambda r: ((np.array([[np.nan, 0.0]]),), {"dim": 0}, "nan-is-true"),
          lambda r: ((np.zeros((0, 3)),), {"dim": 0}, "empty"),
          lambda r: ((r.random((2, 3)) > 0.5,), {"dim": -1}, "bool"),
          lambda r: ((r.integers(0, 2, (2, 3)).astype(np.uint8),), {"dim": 0}, "uint8")),
    _values("count_nonzero", lambda m, a, **k: m.count_nonzero(a, **k),
          lambda r: ((_with_zeros(r, (2, 3, 4), 1, 5),), {"dim": 1}, "dim"),
          lambda r: ((_with_zeros(r, (2, 3, 4), 1, 5),), {"dim": (0, -1)}, "dims"),
          lambda r: ((_with_zeros(r, (2, 3), 2),), {}, "all"),
          lambda r: ((_with_zeros(r, (2, 3), 2),), {"dim": ()}, "empty-tuple"),
          lambda r: ((r.random((2, 3)) > 0.5,), {"dim": 0}, "bool")),
    _rows("reduce_dim_empty_tuple", lambda m, a, op: getattr(m, op)(a, dim=()),
          lambda r: ((uniform(r, (2, 3)),), {"op": "sum"}, "sum"),
          lambda r: ((uniform(r, (2, 3)),), {"op": "mean"}, "mean"),
          lambda r: ((well_separated(r, (2, 3)),), {"op": "amax"}, "amax"),
          lambda r: ((uniform(r, (2, 3)),), {"op": "nansum"}, "nansum")),
    _rows("max_all_nan", lambda m, a, op: getattr(m, op)(a),
          lambda r: ((np.array([[1.0, np.nan], [2.0, np.nan]]),), {"op": "max"}, "max", False),
          lambda r: ((np.array([[1.0, np.nan], [2.0, 0.5]]),), {"op": "min"}, "min", False),
          lambda r: ((np.array([1.0, 3.0, 3.0]),), {"op": "min"}, "min-ties", False)),
    _values("max_dim_bool", lambda m, a, **k: m.max(a, **k),
          lambda r: ((r.random((2, 3)) > 0.5,), {"dim": 1}, "bool"),
          lambda r: ((np.array(True),), {"dim": 0}, "0-d")),
    _rows("median", lambda m, a: m.median(a),
          lambda r: ((well_separated(r, (3, 3)),), {}, "odd"),
          lambda r: ((well_separated(r, (2, 3)),), {}, "even-lower"),
          lambda r: ((np.array([1.0, 2.0, 2.0, 3.0, 2.0]),), {}, "ties", False),
          lambda r: ((np.array([1.0, np.nan, 2.0, np.nan]),), {}, "nan", False),
          lambda r: ((well_separated(r, ()),), {}, "0-d"),
          lambda r: ((np.zeros((0, 2)),), {}, "empty")),
    _rows("median_dim", lambda m, a, **k: m.median(a, **k),
          lambda r: ((well_separated(r, (2, 5, 3)),), {"dim": 1}, "odd"),
          lambda r: ((well_separated(r, (2, 4)),), {"dim": -1, "keepdim": True}, "even-keepdim"),
          lambda r: ((well_separated(r, ()),), {"dim": 0}, "0-d"),
          lambda r: ((np.array([[1.0, 1.0, 2.0, 1.0], [0.0, 1.0, 1.0, 1.0]]),), {"dim": 1}, "ties", False),
          lambda r: ((np.array([[3.0, np.nan, 2.0, np.nan], [1.0, 2.0, 0.0, 4.0]]),), {"dim": 1}, "nan", False),
          lambda r: ((np.zeros((0, 3)),), {"dim": 1}, "empty-other-dim"),
          lambda r: ((noncontiguous(well_separated(r, (3, 4))),), {"dim": 0}, "noncontig")),
    _rows("mode", lambda m, a, **k: m.mode(a, **k),
          lambda r: ((_ints(r, (3, 6)),), {"dim": 1}, "rows", False),
          lambda r: ((_ints(r, (5, 2)),), {"dim": 0, "keepdim": True}, "keepdim", False),
          lambda r: ((np.array([2.0, 1.0, 2.0, 1.0, 3.0]),), {}, "smallest-of-ties", False),
          lambda r: ((well_separated(r, (2, 3)),), {}, "all-distinct", False),
          lambda r: ((well_separated(r, ()),), {"dim": 0}, "0-d"),
          lambda r: ((np.zeros((0, 3)),), {"dim": 1}, "empty-other-dim")),
    # ---- norms ---------------------------------------------------------------------------------
    OpInfo("vector_norm", lambda m, a, **k: m.linalg.vector_norm(a, **k), reduction(extra=lambda r: [
        Sample((uniform(r, (0, 3)),), {"dim": 0}, "empty")])),
    _rows("vector_norm_ord", lambda m, a, **k: m.linalg.vector_norm(a, **k),
          lambda r: ((uniform(r, (2, 3, 4), away=(0.0,)),), {"ord": 1, "dim": (0, 2)}, "1"),
          lambda r: ((uniform(r, (2, 3)),), {"ord": 3, "dim": -1, "keepdim": True}, "3"),
          lambda r: ((uniform(r, (2, 3), away=(0.0,)),), {"ord": 1.5, "dim": 0}, "1.5"),
          lambda r: ((uniform(r, (2, 3), away=(0.0,)),), {"ord": 0.5}, "0.5"),
          lambda r: ((uniform(r, (2, 3), away=(0.0,)),), {"ord": -1, "dim": 1}, "-1"),
          lambda r: ((uniform(r, (2, 3)),), {"ord": 0, "dim": 1}, "0"),
          lambda r: ((_with_zeros(r, (2, 3), 0, 1, 2),), {"ord": 2, "dim": 1}, "zero-norm", False)),
    _rows("vector_norm_inf", lambda m, a, **k: m.linalg.vector_norm(a, **k),
          lambda r: ((well_separated(r, (2, 3, 4)),), {"ord": INF, "dim": (0, 2)}, "inf"),
          lambda r: ((well_separated(r, (2, 3)),), {"ord": -INF, "dim": 1, "keepdim": True}, "-inf"),
          lambda r: ((np.array([[1.0, -3.0, 3.0], [2.0, 0.5, -2.0]]),), {"ord": INF, "dim": 1}, "ties", False),
          lambda r: ((well_separated(r, ()),), {"ord": INF}, "0-d")),
    _rows("vector_norm_dtype", lambda m, a, **k: m.linalg.vector_norm(a, dtype=_dtype(m, "float64"), **k),
          lambda r: ((uniform(r, (2, 3)),), {"dim": 1}, "float64")),
    _rows("matrix_norm", lambda m, a, **k: m.linalg.matrix_norm(a, **k),
          lambda r: ((_matrix(r, (3, 4)),), {}, "fro"),
          lambda r: ((_matrix(r, (2, 3, 4)),), {"ord": 1, "dim": (0, 2), "keepdim": True}, "1-keepdim"),
          lambda r: ((_matrix(r, (2, 3, 4)),), {"ord": -1}, "-1-batched"),
          lambda r: ((_matrix(r, (3, 4)),), {"ord": INF}, "inf"),
          lambda r: ((_matrix(r, (4, 2, 3)),), {"ord": -INF, "dim": (2, 0)}, "-inf-dims"),
          lambda r: ((noncontiguous(_matrix(r, (3, 4))),), {"ord": 1}, "noncontig")),
    _rows("matrix_norm_svd", lambda m, a, **k: m.linalg.matrix_norm(a, **k),
          lambda r: ((uniform(r, (3, 4)),), {"ord": "nuc"}, "nuc-wide"),
          lambda r: ((uniform(r, (4, 3)),), {"ord": "nuc"}, "nuc-tall"),
          lambda r: ((uniform(r, (3, 3)),), {"ord": 2}, "2-square"),
          lambda r: ((uniform(r, (2, 3, 4)),), {"ord": -2, "dim": (2, 0), "keepdim": True}, "-2-dims"),
          lambda r: ((uniform(r, (2, 4, 3)),), {"ord": 2}, "2-batched")),
    _rows("svdvals", lambda m, a: m.linalg.svdvals(a),
          lambda r: ((uniform(r, (3, 4)),), {}, "wide"),
          lambda r: ((uniform(r, (4, 3)),), {}, "tall"),
          lambda r: ((uniform(r, (2, 3, 3)),), {}, "batched"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))),), {}, "noncontig")),
    _rows("linalg_norm", lambda m, a, **k: m.linalg.norm(a, **k),
          lambda r: ((uniform(r, (2, 3, 4)),), {}, "flat-2-norm"),
          lambda r: ((_matrix(r, (3, 4)),), {"ord": 1}, "2-d-matrix"),
          lambda r: ((uniform(r, (4,)),), {"ord": 3}, "1-d-vector"),
          lambda r: ((_matrix(r, (2, 3, 4)),), {"ord": INF, "dim": (1, 2)}, "dims-matrix"),
          lambda r: ((uniform(r, (2, 3, 4)),), {"ord": 2, "dim": -1}, "dim-vector"),
          lambda r: ((uniform(r, (3, 4)),), {"ord": "nuc", "keepdim": True}, "nuc")),
    _rows("norm", lambda m, a, **k: m.norm(a, **k),
          lambda r: ((uniform(r, (2, 3, 4)),), {}, "fro"),
          lambda r: ((uniform(r, (2, 3), away=(0.0,)),), {"p": 1, "dim": 1}, "1-dim"),
          lambda r: ((uniform(r, (2, 3, 4)),), {"p": "fro", "dim": (0, 2), "keepdim": True}, "fro-dims"),
          lambda r: ((uniform(r, (2, 3, 4)),), {"p": "nuc", "dim": (1, 2)}, "nuc"),
          lambda r: ((well_separated(r, (2, 3)),), {"p": INF}, "inf"),
          lambda r: ((uniform(r, ()),), {"p": 3}, "0-d")),
    _rows("norm_method", lambda m, a, **k: a.norm(**k),
          lambda r: ((uniform(r, (2, 3)),), {}, "default"),
          lambda r: ((uniform(r, (2, 3)),), {"p": 3, "dim": 0}, "p-dim")),
    # ---- scans ---------------------------------------------------------------------------------
    _rows("cumsum", lambda m, a, **k: m.cumsum(a, **k),
          lambda r: ((uniform(r, (2, 3, 4)),), {"dim": 1}, "dim=1"),
          lambda r: ((uniform(r, (2, 3)),), {"dim": -1}, "dim=-1"),
          lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"),
          lambda r: ((uniform(r, (0, 3)),), {"dim": 0}, "empty"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))),), {"dim": 0}, "noncontig")),
    _rows("cumsum_dtype", lambda m, a, **k: m.cumsum(a, 1, dtype=_dtype(m, "float64")),
          lambda r: ((uniform(r, (2, 3)),), {}, "float64")),
    _values("cumsum_int", lambda m, a, **k: m.cumsum(a, 0, **_typed(m, k)),
          lambda r: ((r.integers(-3, 4, (2, 3)),), {"dtype": "float64"}, "int-dtype"),
          lambda r: ((r.integers(-3, 4, (2, 3)).astype(np.int8),), {}, "int8"),
          lambda r: ((r.random((4,)) > 0.5,), {}, "bool")),
    _rows("cumprod", lambda m, a, **k: m.cumprod(a, **k),
          lambda r: ((uniform(r, (2, 3, 4), 0.5, 1.5),), {"dim": 1}, "dim=1"),
          lambda r: ((uniform(r, (2, 5), away=(0.0,)),), {"dim": -1}, "dim=-1"),
          lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"),
          lambda r: ((uniform(r, (0, 3)),), {"dim": 0}, "empty"),
          lambda r: ((noncontiguous(uniform(r, (3, 4), away=(0.0,))),), {"dim": 0}, "noncontig")),
    _rows("cumprod_zeros", lambda m, a, **k: m.cumprod(a, **k),
          lambda r: ((_with_zeros(r, (2, 5), 2),), {"dim": 1}, "one-zero"),
          lambda r: ((_with_zeros(r, (2, 5), 1, 3, 5),), {"dim": 1}, "zeros"),
          lambda r: ((_with_zeros(r, (4, 2), 0, 7),), {"dim": 0}, "first-last"),
          lambda r: ((np.array([0.0]),), {"dim": 0}, "one-element")),
    _rows("cummax", lambda m, a, **k: m.cummax(a, **k),
          lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": 1}, "dim"),
          lambda r: ((well_separated(r, (2, 5)),), {"dim": -1}, "last"),
          lambda r: ((np.array([1.0, 3.0, 3.0, 2.0, 3.0]),), {"dim": 0}, "ties", False),
          lambda r: ((np.array([1.0, np.nan, 2.0, np.nan, 5.0]),), {"dim": 0}, "nan", False),
          lambda r: ((well_separated(r, ()),), {"dim": 0}, "0-d"),
          lambda r: ((np.zeros((0, 3)),), {"dim": 0}, "empty"),
          lambda r: ((noncontiguous(well_separated(r, (3, 4))),), {"dim": 1}, "noncontig")),
    _rows("cummin", lambda m, a, **k: m.cummin(a, **k),
          lambda r: ((well_separated(r, (3, 4)),), {"dim": 0}, "dim"),
          lambda r: ((np.array([3.0, 1.0, 1.0, 2.0, 1.0]),), {"dim": -1}, "ties", False)),
    _rows("logcumsumexp", lambda m, a, **k: m.logcumsumexp(a, **k),
          lambda r: ((uniform(r, (2, 3, 4)),), {"dim": 1}, "dim=1"),
          lambda r: ((uniform(r, (2, 5)),), {"dim": -1}, "dim=-1"),
          lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"),
          lambda r: ((uniform(r, (0, 3)),), {"dim": 0}, "empty"),
          lambda r: ((np.array([[-1000.0, 0.0, 1000.0], [5.0, -5.0, 1.0]]),), {"dim": 1}, "huge"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))),), {"dim": 0}, "noncontig")),
    # ---- sorting and selection -----------------------------------------------------------------
    _rows("sort", lambda m, a, **k: m.sort(a, **k),
          lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": 1}, "dim"),
          lambda r: ((well_separated(r, (2, 5)),), {"descending": True}, "descending"),
          lambda r: ((np.array([[3.0, 1.0, 2.0, 1.0, 2.0]]),), {"descending": True, "stable": True}, "stable-ties",
                     False),
          lambda r: ((np.array([3.0, np.nan, 1.0, -np.inf]),), {"descending": True}, "nan", False),
          lambda r: ((well_separated(r, ()),), {}, "0-d"),
          lambda r: ((np.zeros((2, 0)),), {"dim": 1}, "empty"),
          lambda r: ((noncontiguous(well_separated(r, (3, 4))),), {"dim": 0}, "noncontig")),
    _values("argsort", lambda m, a, **k: m.argsort(a, **k),
          lambda r: ((np.array([[3.0, 1.0, 2.0, 1.0]]),), {"stable": True}, "stable"),
          lambda r: ((np.array([[3.0, 1.0, 2.0, 1.0]]),), {"descending": True, "stable": True}, "descending"),
          lambda r: ((r.integers(0, 3, (4, 3)),), {"dim": 0, "stable": True}, "int")),
    _rows("msort", lambda m, a: m.msort(a),
          lambda r: ((well_separated(r, (4, 3)),), {}, "2-d")),
    _rows("topk", lambda m, a, **k: m.topk(a, **k),
          lambda r: ((well_separated(r, (2, 5)),), {"k": 2}, "largest"),
          lambda r: ((well_separated(r, (4, 3)),), {"k": 3, "dim": 0, "largest": False}, "smallest"),
          lambda r: ((well_separated(r, (2, 3, 4)),), {"k": 1, "dim": 1}, "middle"),
          lambda r: ((well_separated(r, (2, 5)),), {"k": 0}, "k=0"),
          lambda r: ((np.zeros((2, 0)),), {"k": 0}, "empty"),
          lambda r: ((noncontiguous(well_separated(r, (3, 4))),), {"k": 2, "dim": 0}, "noncontig"),
          lambda r: ((well_separated(r, ()),), {"k": 1}, "0-d")),
    _rows("kthvalue", lambda m, a, **k: m.kthvalue(a, **k),
          lambda r: ((well_separated(r, (2, 5)),), {"k": 2}, "last"),
          lambda r: ((well_separated(r, (4, 3)),), {"k": 4, "dim": 0, "keepdim": True}, "keepdim"),
          lambda r: ((np.array([[3.0, np.nan, 2.0, np.nan]]),), {"k": 3}, "nan", False),
          lambda r: ((well_separated(r, ()),), {"k": 1}, "0-d")),
    _values("unique", lambda m, a, **k: m.unique(a, **k),
          lambda r: ((_ints(r, (3, 4)),), {}, "values"),
          lambda r: ((_ints(r, (3, 4)),), {"return_inverse": True, "return_counts": True}, "inverse-counts"),
          lambda r: ((r.integers(0, 2, (4, 2)),), {"dim": 0, "return_inverse": True, "return_counts": True}, "dim"),
          lambda r: ((np.array([3.0, 1.0, np.nan, np.nan]),), {}, "nan"),
          lambda r: ((np.zeros((0,)),), {"return_counts": True}, "empty"),
          lambda r: ((np.array(2.0),), {"return_inverse": True, "return_counts": True}, "0-d")),
    _values("searchsorted", lambda m, s, v, **k: m.searchsorted(s, v, **k),
          lambda r: ((np.sort(uniform(r, (6,))), uniform(r, (2, 3))), {}, "1-d-seq"),
          lambda r: ((np.array([1.0, 2.0, 2.0, 3.0]), np.array([[2.0, 0.0], [3.0, 5.0]])), {"right": True}, "right-ties"),
          lambda r: ((np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 3.0, 1.0])), {"side": "right", "out_int32": True},
                     "side-int32"),
          lambda r: ((np.sort(uniform(r, (2, 3, 5)), -1), uniform(r, (2, 3, 4))), {}, "batched"),
          lambda r: ((np.sort(uniform(r, (3, 5)), -1).T.copy().T, uniform(r, (3, 2))), {"side": "left"}, "noncontig"),
          lambda r: ((np.array([1.0, 2.0, np.nan]), np.array([np.nan, 2.0, np.inf, -np.inf])), {}, "nan"),
          lambda r: ((np.array([1.0, np.nan, 3.0]), np.array([np.nan, 1.0, 5.0])), {"right": True}, "nan-inside"),
          lambda r: ((np.sort(uniform(r, (4,))), uniform(r, ())), {}, "0-d-value"),
          lambda r: ((np.sort(uniform(r, (4,))), uniform(r, (0, 2))), {}, "empty-values"),
          lambda r: ((np.zeros((0,)), uniform(r, (3,))), {}, "empty-seq"),
          lambda r: ((np.zeros((2, 0)), uniform(r, (2, 3))), {"right": True}, "empty-rows"),
          lambda r: ((np.array([3, 5, 7]), np.array([[4.5, 5.0], [9.0, -1.0]])), {}, "int-seq-float-values"),
          lambda r: ((np.array([0.5, 1.5, 2.5]), np.array([1, 2, 3])), {}, "int-values")),
    _values("searchsorted_sorter", lambda m, s, v, o, **k: m.searchsorted(s, v, sorter=o, **k),
          lambda r: ((np.array([3.0, 1.0, 2.0, 2.0]), np.array([2.0, 0.0, 4.0]), np.array([1, 2, 3, 0])), {}, "left"),
          lambda r: ((np.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]]), np.array([[2.0], [0.0]]),
                      np.array([[1, 2, 0], [1, 0, 2]])), {"right": True}, "batched-right")),
    _values("searchsorted_scalar", lambda m, s: (m.searchsorted(s, 0.5), m.searchsorted(s, 2, right=True)),
          lambda r: ((np.array([-1.0, 0.5, 2.0, 3.0]),), {}, "number")),
    _values("bucketize", lambda m, a, b, **k: m.bucketize(a, b, **k),
          lambda r: ((uniform(r, (2, 3)), np.array([-1.0, 0.0, 1.0])), {}, "2-d"),
          lambda r: ((np.array([[-1.0, 0.0, 1.0, 7.0]]), np.array([-1.0, 0.0, 1.0])), {"right": True}, "right-ties"),
          lambda r: ((uniform(r, ()), np.array([-1.0, 0.0, 1.0])), {"out_int32": True}, "0-d"),
          lambda r: ((uniform(r, (0, 3)), np.array([0.0])), {}, "empty"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))), np.array([0.0, 0.5])), {}, "noncontig"),
          lambda r: ((np.array([1, 2, 3]), np.array([0.5, 2.0])), {}, "int-input")),
    _values("bucketize_scalar", lambda m, b: m.bucketize(0.5, b, right=True),
          lambda r: ((np.array([-1.0, 0.5, 2.0]),), {}, "number")),
]

# result dtypes for every input dtype (tests/dtype_table.py)
DTYPE_UNARY = {
    "prod": lambda m, x: m.prod(x), "nansum": lambda m, x: m.nansum(x), "nanmean": lambda m, x: m.nanmean(x),
    "all": lambda m, x: m.all(x), "any_dim": lambda m, x: m.any(x, 0), "count_nonzero": lambda m, x: m.count_nonzero(x),
    "median": lambda m, x: m.median(x), "median_dim": lambda m, x: m.median(x, 0).values,
    "mode": lambda m, x: m.mode(x).values, "max_dim": lambda m, x: m.max(x, 0).values,
    "cumsum": lambda m, x: m.cumsum(x, 0), "cumprod": lambda m, x: m.cumprod(x, 0),
    "cummax": lambda m, x: m.cummax(x, 0).values, "logcumsumexp": lambda m, x: m.logcumsumexp(x, 0),
    "sort": lambda m, x: m.sort(x).values, "topk": lambda m, x: m.topk(x, 1).values,
    "kthvalue": lambda m, x: m.kthvalue(x, 1).values, "unique": lambda m, x: m.unique(x),
    "vector_norm": lambda m, x: m.linalg.vector_norm(x), "norm": lambda m, x: m.norm(x),
    "matrix_norm": lambda m, x: m.linalg.matrix_norm(x.reshape(1, -1), 1),
    "matrix_norm_nuc": lambda m, x: m.linalg.matrix_norm(x.reshape(1, -1), "nuc"),
}
