"""Op-table rows of the indexing family (minigrad/ops/indexing.py), its in-place forms (ops/inplace.py), the
creation functions (ops/creation.py, tensor.py) and the conversion methods."""
import sys

import numpy as np

# tests/dtype_table.py imports the rows files before op_table, which then imports this file while it is half
# built: op_table takes the empty OPS below, and this file adds its rows to op_table's table at its end.
_LOADED_FIRST = "op_table" not in sys.modules
OPS = []

from op_table import OpInfo, fixed, noncontiguous, uniform, well_separated  # noqa: E402


def _rows(name, fn, *samples, **kwargs):
    return OpInfo(name, fn, fixed(*samples), **kwargs)


def _distinct(r, n, shape, dim):
    """An index of `shape` with values in [0, n) that never repeats along dim (scatter's result is then defined)."""
    full = list(shape)
    full[dim] = n
    order = np.argsort(r.random(full), axis=dim)
    return np.take(order, np.arange(shape[dim]), axis=dim)


def _dtype(m, k):
    """kwargs with dtype='float64' spelled as each library's dtype object."""
    return dict(k, dtype=getattr(m, k["dtype"])) if "dtype" in k else k


def _mask(r, shape):
    return r.random(shape) > 0.5


OPS = [
    # a list holding sequences, tensors, slices or None is a tuple of indices (PyTorch's reading, not NumPy's)
    _rows("getitem_list_as_tuple", lambda m, a, i, j: (a[[[0, 1], [2, 0]]], a[[i, j]], a[[0, slice(None), None]]),
          lambda r: ((uniform(r, (3, 4, 2)), np.array([2, 2, 0]), np.array([1, 3, 1])), {}, "lists-tensors")),
    _rows("getitem_uint8_mask", lambda m, a, k: a[k],  # a uint8 tensor is a mask (deprecated in PyTorch), not indices
          lambda r: ((uniform(r, (4, 3)), np.array([1, 0, 1, 1], dtype=np.uint8)), {}, "rows"),
          lambda r: ((uniform(r, (2, 3)), np.array([[0, 1, 1], [1, 0, 0]], dtype=np.uint8)), {}, "elements")),
    _rows("index_add_alpha_takes_the_dtype", lambda m, a, b, i: (a.index_add(0, i, a[:2], alpha=0.5),
                                                               a.index_add(0, i, a[:2], alpha=-1.7),
                                                               b.index_add(0, i, b[:2], alpha=2)),
          lambda r: ((r.integers(-9, 10, (4, 3)), r.random((4, 3)) > 0.5, np.array([3, 3])), {}, "int-bool"),
          grad=False),
    _rows("index_put_list_as_tuple", lambda m, a, v, i, j: m.index_put(a, [i, j], v),
          lambda r: ((uniform(r, (3, 4)), uniform(r, (2,)), np.array([2, 0]), np.array([1, 3])), {}, "two-dims")),
    _rows("index_put_accumulate", lambda m, a, v, i: (m.index_put(a, (i,), v, accumulate=True),
                                                       a.index_put((i, i), v[0, 0], True)),
          lambda r: ((uniform(r, (4, 4)), uniform(r, (3, 4)), np.array([2, 0, 2])), {}, "repeats")),
    _rows("index_select", lambda m, a, i, **k: m.index_select(a, k["dim"], i),
          lambda r: ((uniform(r, (4, 3)), np.array([3, 0, 3, 1])), {"dim": 0}, "repeats"),
          lambda r: ((uniform(r, (2, 3, 4)), np.array([2])), {"dim": -1}, "negative-dim"),
          lambda r: ((uniform(r, (2, 3)), np.array(1)), {"dim": 1}, "0-d-index"),
          lambda r: ((uniform(r, (2, 3)), np.zeros(0, np.int64)), {"dim": 0}, "empty"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))), np.array([1, 1, 2], np.int32)), {"dim": 1},
                     "noncontig-int32")),
    _rows("index_add", lambda m, a, i, s, **k: m.index_add(a, k["dim"], i, s, **k["kw"]),
          lambda r: ((uniform(r, (4, 3)), np.array([3, 0, 3]), uniform(r, (3, 3))), {"dim": 0, "kw": {}}, "repeats"),
          lambda r: ((uniform(r, (2, 5)), np.array([4, 1]), uniform(r, (2, 2))), {"dim": -1, "kw": {"alpha": 2.5}},
                     "alpha")),
    _rows("index_copy", lambda m, a, i, s, **k: m.index_copy(a, k["dim"], i, s),
          lambda r: ((uniform(r, (4, 3)), np.array([3, 0]), uniform(r, (2, 3))), {"dim": 0}, "dim0"),
          lambda r: ((uniform(r, (2, 3, 4)), np.array([1]), uniform(r, (2, 3, 1))), {"dim": 2}, "last")),
    _rows("index_fill", lambda m, a, i, **k: m.index_fill(a, k["dim"], i, -1.5),
          lambda r: ((uniform(r, (4, 3)), np.array([3, 0, 3])), {"dim": 0}, "repeats"),
          lambda r: ((uniform(r, (2, 3)), np.array([-1])), {"dim": 1}, "negative-index")),
    _rows("index_fill_tensor", lambda m, a, i, v, **k: m.index_fill(a, k["dim"], i, v),
          lambda r: ((uniform(r, (4, 3)), np.array([1, 2, 1]), uniform(r, ())), {"dim": 0}, "0-d-value")),
    _rows("scatter", lambda m, a, i, s, **k: m.scatter(a, k["dim"], i, s),
          lambda r: ((uniform(r, (3, 4)), _distinct(r, 3, (2, 4), 0), uniform(r, (2, 4))), {"dim": 0}, "dim0"),
          lambda r: ((uniform(r, (3, 5)), _distinct(r, 5, (3, 2), 1), uniform(r, (3, 2))), {"dim": -1}, "negative-dim"),
          lambda r: ((uniform(r, ()), np.array(0), uniform(r, ())), {"dim": 0}, "0-d"),
          lambda r: ((uniform(r, (2, 3)), np.zeros((0, 3), np.int64), uniform(r, (0, 3))), {"dim": 0}, "empty")),
    _rows("scatter_value", lambda m, a, i, **k: m.scatter(a, k["dim"], i, 2.5),
          lambda r: ((uniform(r, (3, 4)), _distinct(r, 4, (3, 2), 1)), {"dim": 1}, "dim1")),
    _rows("scatter_add", lambda m, a, i, s, **k: m.scatter_add(a, k["dim"], i, s),
          lambda r: ((uniform(r, (3, 4)), r.integers(0, 3, (5, 4)), uniform(r, (5, 4))), {"dim": 0}, "repeats"),
          lambda r: ((uniform(r, (2, 3)), r.integers(0, 3, (2, 2)), uniform(r, (2, 2))), {"dim": -1}, "smaller-index"),
          lambda r: ((noncontiguous(uniform(r, (3, 3))), r.integers(0, 3, (3, 3)), uniform(r, (3, 3))), {"dim": 1},
                     "noncontig")),
    *[_rows(f"scatter_reduce_{reduce}", lambda m, a, i, s, reduce=reduce, **k: m.scatter_reduce(a, k["dim"], i, s,
                                                                                                 reduce, **k["kw"]),
            lambda r: ((well_separated(r, (3, 4)), r.integers(0, 3, (5, 4)), well_separated(r, (5, 4)) + 0.1),
                       {"dim": 0, "kw": {}}, "include-self"),
            lambda r: ((well_separated(r, (3, 4)), r.integers(0, 3, (2, 4)), well_separated(r, (2, 4)) + 0.1),
                       {"dim": 0, "kw": {"include_self": False}}, "exclude-self"),
            lambda r: ((well_separated(r, (2, 5)), r.integers(0, 5, (2, 6)), well_separated(r, (2, 6)) + 0.1),
                       {"dim": -1, "kw": {}}, "dim-1"),
            lambda r: ((uniform(r, ()), np.array([0, 0]), uniform(r, (2,))), {"dim": 0, "kw": {}}, "0-d"))
      for reduce in ("sum", "prod", "mean", "amax", "amin")],
    _rows("scatter_reduce_ties", lambda m, a, i, s, **k: m.scatter_reduce(a, 0, i, s, k["reduce"], **k["kw"]),
          lambda r: ((np.array([1.0, 3.0, 2.0]), np.array([1, 1, 0, 2]), np.array([3.0, 3.0, 0.5, 2.0])),
                     {"reduce": "amax", "kw": {}}, "amax", False),
          lambda r: ((np.array([1.0, 3.0, 2.0]), np.array([1, 1, 0, 2]), np.array([3.0, 3.0, 0.5, 2.0])),
                     {"reduce": "amin", "kw": {"include_self": False}}, "amin-exclude", False),
          lambda r: ((np.array([0.0, 3.0, 2.0]), np.array([1, 1, 0, 2]), np.array([0.0, 3.0, 0.5, 2.0])),
                     {"reduce": "prod", "kw": {}}, "prod-zeros"),
          lambda r: ((np.array([0.0, 3.0, 2.0]), np.array([1, 1, 0, 2]), np.array([0.0, 3.0, 0.5, 2.0])),
                     {"reduce": "prod", "kw": {"include_self": False}}, "prod-zeros-exclude")),
    _rows("take_along_dim", lambda m, a, i, **k: m.take_along_dim(a, i, **k),
          lambda r: ((uniform(r, (3, 4)), r.integers(0, 4, (3, 2))), {"dim": 1}, "dim1"),
          lambda r: ((uniform(r, (3, 1)), r.integers(-2, 3, (1, 2))), {"dim": 0}, "broadcast-negative"),
          lambda r: ((uniform(r, (2, 3)), r.integers(0, 6, (4,))), {}, "flat")),
    _rows("take", lambda m, a, i: m.take(a, i),
          lambda r: ((uniform(r, (3, 4)), r.integers(-12, 12, (2, 3))), {}, "2-d-index"),
          lambda r: ((uniform(r, ()), np.array([0, 0])), {}, "0-d-input"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))), np.array(5)), {}, "0-d-index")),
    _rows("masked_select", lambda m, a, b: m.masked_select(a, b),
          lambda r: ((uniform(r, (3, 4)), _mask(r, (3, 4))), {}, "same"),
          lambda r: ((uniform(r, (4,)), _mask(r, (2, 4))), {}, "broadcast"),
          lambda r: ((uniform(r, ()), np.array(True)), {}, "0-d")),
    _rows("masked_fill", lambda m, a, b: m.masked_fill(a, b, -1.5),
          lambda r: ((uniform(r, (3, 4)), _mask(r, (3, 4))), {}, "same"),
          lambda r: ((uniform(r, (4,)), _mask(r, (2, 4))), {}, "broadcast"),
          lambda r: ((noncontiguous(uniform(r, (3, 4))), _mask(r, (4,))), {}, "noncontig")),
    _rows("masked_fill_tensor", lambda m, a, b, v: m.masked_fill(a, b, v),
          lambda r: ((uniform(r, (3, 4)), _mask(r, (3, 1)), uniform(r, ())), {}, "0-d-value")),
    _rows("masked_scatter", lambda m, a, b, s: m.masked_scatter(a, b, s),
          lambda r: ((uniform(r, (3, 4)), _mask(r, (3, 4)), uniform(r, (12,))), {}, "same"),
          lambda r: ((uniform(r, (4,)), _mask(r, (2, 4)), uniform(r, (3, 4))), {}, "broadcast")),
    _rows("nonzero", lambda m, a, **k: m.nonzero(a, **k),
          lambda r: ((r.integers(0, 2, (3, 4)),), {}, "2-d"),
          lambda r: ((np.array(1.5),), {}, "0-d"),
          lambda r: ((r.random((2, 3)) > 0.5,), {"as_tuple": True}, "as-tuple"),
          lambda r: ((np.array(0),), {"as_tuple": True}, "as-tuple-0-d"), grad=False),
    _rows("argwhere", lambda m, a: m.argwhere(a), lambda r: ((r.integers(0, 2, (2, 0, 3)),), {}, "empty"),
          lambda r: ((np.array([[0.5, 0.0], [0.0, -1.0]]),), {}, "floats"), grad=False),
    # in place (ops/inplace.py): on a clone, so the leaf itself is untouched and gradients flow through the update
    _rows("masked_fill_", lambda m, a, b, v: a.clone().masked_fill_(b, v),
          lambda r: ((uniform(r, (3, 4)), _mask(r, (3, 4)), uniform(r, ())), {}, "tensor-value")),
    _rows("index_fill_", lambda m, a, i: a.clone().index_fill_(1, i, 2.0),
          lambda r: ((uniform(r, (3, 4)), np.array([0, 2])), {}, "dim1")),
    _rows("index_add_", lambda m, a, i, s: a.clone().index_add_(0, i, s, alpha=-2.0),
          lambda r: ((uniform(r, (3, 4)), np.array([2, 2, 0]), uniform(r, (3, 4))), {}, "repeats")),
    _rows("scatter_", lambda m, a, i, s: a.clone().scatter_(1, i, s),
          lambda r: ((uniform(r, (3, 4)), _distinct(r, 4, (3, 2), 1), uniform(r, (3, 2))), {}, "dim1")),
    _rows("scatter_add_", lambda m, a, i, s: a.clone().scatter_add_(0, i, s),
          lambda r: ((uniform(r, (3, 4)), r.integers(0, 3, (4, 4)), uniform(r, (4, 4))), {}, "repeats")),
    # conversions
    _rows("to_dtype", lambda m, a, **k: a.to(getattr(m, k["dtype"])),
          lambda r: ((uniform(r, (2, 3)),), {"dtype": "float64"}, "float64"),
          lambda r: ((uniform(r, (2, 3)),), {"dtype": "float16"}, "float16", False), rtol=1e-3, atol=1e-3),
    _rows("type_as", lambda m, a, b: a.type_as(b.detach().double()),
          lambda r: ((uniform(r, (2, 3)), uniform(r, (1,))), {}, "float64")),
    _rows("half", lambda m, a: a.half().float(), lambda r: ((uniform(r, (2, 3)),), {}, "round-trip", False),
          rtol=1e-3, atol=1e-3),
    _rows("integer_conversions", lambda m, a: (a.long(), a.int(), a.short(), a.char(), a.bool(),
                                              (a.abs() * 10).byte(), a.type(m.int64)),
          lambda r: ((uniform(r, (2, 3), -5.0, 5.0),), {}, "truncate"), grad=False),
    # creation: no tensor inputs
    _rows("arange", lambda m, **k: m.arange(*k["args"], **_dtype(m, k["kw"])),
          lambda r: ((), {"args": (0, 1, 0.3), "kw": {}}, "float-step"),
          lambda r: ((), {"args": (1, -1, -0.25), "kw": {}}, "negative-step"),
          lambda r: ((), {"args": (2, 11, 3), "kw": {}}, "ints"),
          lambda r: ((), {"args": (5,), "kw": {"dtype": "float64"}}, "dtype"), grad=False),
    _rows("linspace", lambda m, **k: m.linspace(*k["args"], **_dtype(m, k["kw"])),
          lambda r: ((), {"args": (0, 1, 5), "kw": {}}, "floats"),
          lambda r: ((), {"args": (-3.5, 10, 7), "kw": {"dtype": "float64"}}, "float64"),
          lambda r: ((), {"args": (0, 10, 5), "kw": {"dtype": "int64"}}, "int64"),
          lambda r: ((), {"args": (2, 3, 1), "kw": {}}, "one"),
          lambda r: ((), {"args": (2, 3, 0), "kw": {}}, "none"), grad=False),
    _rows("logspace", lambda m, **k: m.logspace(*k["args"], **k["kw"]),
          lambda r: ((), {"args": (0, 2, 3), "kw": {}}, "base10"),
          lambda r: ((), {"args": (-1, 3, 5), "kw": {"base": 2}}, "base2"), grad=False),
    _rows("eye", lambda m, **k: m.eye(*k["args"], **_dtype(m, k["kw"])),
          lambda r: ((), {"args": (3,), "kw": {}}, "square"),
          lambda r: ((), {"args": (2, 4), "kw": {"dtype": "int64"}}, "rect-int"),
          lambda r: ((), {"args": (0,), "kw": {}}, "empty"), grad=False),
    _rows("full", lambda m, **k: m.full(k["size"], k["value"]),
          lambda r: ((), {"size": (2, 3), "value": True}, "bool"),
          lambda r: ((), {"size": (2,), "value": 3}, "int"),
          lambda r: ((), {"size": [], "value": 2.5}, "float-0-d"), grad=False),
    _rows("tril_indices", lambda m, **k: m.tril_indices(*k["args"]),
          lambda r: ((), {"args": (3, 3)}, "square"),
          lambda r: ((), {"args": (3, 4, 1)}, "offset"),
          lambda r: ((), {"args": (0, 0)}, "empty"), grad=False),
    _rows("triu_indices", lambda m, **k: m.triu_indices(*k["args"]),
          lambda r: ((), {"args": (3, 3, -1)}, "below"),
          lambda r: ((), {"args": (4, 2)}, "tall"), grad=False),
    _rows("like_functions", lambda m, a: (m.zeros_like(a), m.ones_like(a), m.full_like(a, 2.7),
                                          m.zeros_like(m.empty_like(a)),
                                          m.zeros_like(a, dtype=m.int64), m.full_like(a.long(), 2.7)),
          lambda r: ((uniform(r, (2, 3)),), {}, "2-d"), grad=False),
    _rows("new_functions", lambda m, a: (a.new_zeros(2, 3), a.new_ones((2,)), a.new_full((3,), 2), a.new_tensor([1, 2]),
                                         m.zeros_like(a.new_empty(2)), a.new_zeros(2, dtype=m.int64)),
          lambda r: ((uniform(r, (2, 3)),), {}, "2-d"), grad=False),
]
if _LOADED_FIRST:
    sys.modules["op_table"].OPS.extend(OPS)
