"""Every op of the core, property-tested through the kit (minigrad.testing.op_test).

Each `test_<op> = op_test(...)` checks, over random shapes and values: forward equals NumPy, gradients
equal finite differences (first and second order), inputs are not mutated, gradients own their memory,
float32 stays float32. Hand-written tests below pin what random values rarely hit: ties, repeated
indices, huge logits, error messages.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck, op_test
from minigrad.testing import strategies as mst
from minigrad.testing.factory import check_op

_erf = np.vectorize(math.erf, otypes=[np.float64])


def reduce_kwargs(x, keepdims=True):
    return st.fixed_dictionaries({"axis": mst.axes(x.ndim), "keepdims": st.booleans() if keepdims else st.just(False)})


def axis_kwargs(x):
    return st.fixed_dictionaries({"axis": st.integers(-x.ndim, x.ndim - 1)})


def nonscalar(max_side=3):
    return mst.shapes(min_dims=1, max_side=max_side)


def single(shape_strategy, elements=None):
    return shape_strategy.flatmap(lambda s: mst.arrays(s, elements=elements)).map(lambda a: (a,))


# ---- elementwise, binary (broadcasting) -----------------------------------------------------------
test_add = op_test(mg.add, np.add, 2)
test_sub = op_test(mg.sub, np.subtract, 2)
test_mul = op_test(mg.mul, np.multiply, 2)
test_div = op_test(mg.div, np.divide, 2, elements=[mst.floats(), mst.away_from([0.0], margin=0.3)])
test_pow = op_test(mg.pow, np.power, 2, elements=[mst.positive(0.2), mst.floats(-2, 2)], name="pow")
test_pow_scalar_exponent = op_test(lambda x, p: x ** p, lambda x, p: np.power(x, p), 1, elements=mst.positive(0.2),
                                   kwargs=lambda x: st.fixed_dictionaries({"p": st.sampled_from([2, 3, -1, 0.5, 2.5])}),
                                   name="pow_scalar")
test_maximum = op_test(mg.maximum, np.maximum, 2, name="maximum",  # |a - b| >= 0.25: no ties, no kink
                       elements=[st.integers(-6, 6).map(lambda k: k / 2 + 0.25), st.integers(-6, 6).map(lambda k: k / 2)])
test_minimum = op_test(mg.minimum, np.minimum, 2, name="minimum",
                       elements=[st.integers(-6, 6).map(lambda k: k / 2 + 0.25), st.integers(-6, 6).map(lambda k: k / 2)])


test_where = op_test(lambda a, b, cond: mg.where(cond, a, b), lambda a, b, cond: np.where(cond, a, b), 2, name="where",
                     kwargs=lambda a, b: hnp.arrays(bool, np.broadcast_shapes(a.shape, b.shape)).map(
                         lambda c: {"cond": mg.tensor(c)}))

# ---- elementwise, unary ---------------------------------------------------------------------------
test_neg = op_test(mg.neg, np.negative)
test_exp = op_test(mg.exp, np.exp)
test_log = op_test(mg.log, np.log, elements=mst.positive(0.2))
test_sqrt = op_test(mg.sqrt, np.sqrt, elements=mst.positive(0.2))
test_abs = op_test(mg.abs, np.abs, elements=mst.away_from([0.0]))
test_sin = op_test(mg.sin, np.sin)
test_cos = op_test(mg.cos, np.cos)
test_tanh = op_test(mg.tanh, np.tanh)
test_sigmoid = op_test(mg.sigmoid, lambda x: 1 / (1 + np.exp(-x)))
test_relu = op_test(mg.relu, lambda x: np.maximum(x, 0), elements=mst.away_from([0.0]))
test_leaky_relu = op_test(mg.leaky_relu, lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
                          elements=mst.away_from([0.0]),
                          kwargs=lambda x: st.fixed_dictionaries({"negative_slope": st.sampled_from([0.01, 0.2, 1.5])}))
test_erf = op_test(mg.erf, _erf, name="erf")
test_gelu = op_test(mg.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), name="gelu")
test_gelu_tanh = op_test(lambda x: mg.gelu(x, approximate="tanh"),
                         lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
                         name="gelu_tanh")
test_clip = op_test(mg.clip, np.clip, elements=mst.away_from([-1.0, 1.0]), name="clip",
                    kwargs=lambda x: st.sampled_from([(-1.0, 1.0), (None, 1.0), (-1.0, None)]).map(
                        lambda b: {"min": b[0], "max": b[1]}))

# ---- matmul: 1-D, 2-D, batched with broadcasting (numpy.matmul's signature) -----------------------
test_matmul = op_test(mg.matmul, np.matmul, 2, name="matmul",
                      shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, max_side=3)
                      .map(lambda s: s.input_shapes))

# ---- reductions ---------------------------------------------------------------------------------
test_sum = op_test(mg.sum, np.sum, kwargs=reduce_kwargs)
test_mean = op_test(mg.mean, np.mean, kwargs=reduce_kwargs)


def _var_kwargs(x):
    def ddofs(axis):
        n = int(np.prod([x.shape[a] for a in mst_normalize(axis, x.ndim)]))
        return st.sampled_from([0, 1] if n > 1 else [0])
    return mst.axes(x.ndim).flatmap(lambda axis: st.fixed_dictionaries(
        {"axis": st.just(axis), "keepdims": st.booleans(), "ddof": ddofs(axis)}))


def mst_normalize(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return (axis % ndim,) if isinstance(axis, int) else tuple(a % ndim for a in axis)


test_var = op_test(mg.var, np.var, kwargs=_var_kwargs)
# max/min: entries at least 0.37 apart, so no tie and no kink within a finite-difference step
test_max = op_test(mg.max, np.max, inputs=mst.well_separated(mst.shapes(max_side=3)).map(lambda a: (a,)),
                   kwargs=reduce_kwargs)
test_min = op_test(mg.min, np.min, inputs=mst.well_separated(mst.shapes(max_side=3)).map(lambda a: (a,)),
                   kwargs=reduce_kwargs)
test_logsumexp = op_test(mg.logsumexp, lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
                         kwargs=reduce_kwargs, name="logsumexp")


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


test_softmax = op_test(mg.softmax, _np_softmax, inputs=single(nonscalar()), kwargs=axis_kwargs)
test_log_softmax = op_test(mg.log_softmax, lambda x, axis: np.log(_np_softmax(x, axis)),
                           inputs=single(nonscalar()), kwargs=axis_kwargs)
test_argmax = op_test(mg.argmax, np.argmax, grad=False,
                      inputs=mst.well_separated(mst.shapes(max_side=3)).map(lambda a: (a,)),
                      kwargs=lambda x: st.fixed_dictionaries({"axis": mst.axes(x.ndim, allow_tuple=False),
                                                              "keepdims": st.booleans()}))

# ---- movement ------------------------------------------------------------------------------------
test_reshape = op_test(lambda x, shape: mg.reshape(x, shape), np.reshape, name="reshape", kwargs=lambda x: st.sampled_from(
    [x.shape[::-1], (-1,), (1,) + x.shape, (x.size, 1)]).map(lambda s: {"shape": s}))
test_transpose = op_test(mg.transpose, lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
                         inputs=single(nonscalar()),
                         kwargs=lambda x: st.fixed_dictionaries({"dim0": st.integers(-x.ndim, x.ndim - 1),
                                                                 "dim1": st.integers(-x.ndim, x.ndim - 1)}))
test_permute = op_test(lambda x, axes: mg.permute(x, *axes), lambda x, axes: np.transpose(x, axes), name="permute",
                       kwargs=lambda x: st.permutations(range(x.ndim)).map(lambda p: {"axes": tuple(p)}))


def _expand_target(x):
    lead = st.lists(st.integers(1, 3), max_size=2)
    own = st.tuples(*[st.integers(1, 3) if n == 1 else st.just(n) for n in x.shape])
    return st.tuples(lead, own).map(lambda t: {"shape": tuple(t[0]) + t[1]})


test_expand = op_test(lambda x, shape: mg.expand(x, shape), np.broadcast_to, kwargs=_expand_target, name="expand")
test_broadcast_to = op_test(lambda x, shape: mg.broadcast_to(x, shape), np.broadcast_to, kwargs=_expand_target, name="broadcast_to")
test_squeeze = op_test(mg.squeeze, np.squeeze, inputs=single(mst.shapes(max_side=2)),
                       kwargs=lambda x: st.sampled_from([None] + [i for i, n in enumerate(x.shape) if n == 1]).map(
                           lambda a: {"axis": a}))
test_unsqueeze = op_test(mg.unsqueeze, np.expand_dims,
                         kwargs=lambda x: st.integers(-x.ndim - 1, x.ndim).map(lambda a: {"axis": a}))


def _np_flatten(x, start_dim, end_dim):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])


def _flatten_kwargs(x):
    if x.ndim == 0:
        return st.just({"start_dim": 0, "end_dim": -1})
    return st.tuples(st.integers(0, x.ndim - 1), st.integers(0, x.ndim - 1)).map(sorted).map(
        lambda se: {"start_dim": se[0], "end_dim": se[1] - x.ndim})


test_flatten = op_test(mg.flatten, _np_flatten, kwargs=_flatten_kwargs)

# indexing: basic (ints, slices, None, ...), advanced (integer arrays, repeats likely), boolean masks
_getitem = lambda x, index: x[index]  # noqa: E731
test_getitem_basic = op_test(_getitem, _getitem, name="getitem_basic", inputs=single(mst.shapes(max_side=4)),
                             kwargs=lambda x: hnp.basic_indices(x.shape, allow_newaxis=True).map(lambda i: {"index": i}))
test_getitem_advanced = op_test(_getitem, _getitem, name="getitem_advanced", inputs=single(nonscalar(4)),
                                kwargs=lambda x: hnp.integer_array_indices(
                                    x.shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)).map(
                                    lambda i: {"index": i}))
test_getitem_boolean = op_test(_getitem, _getitem, name="getitem_boolean", inputs=single(nonscalar(4)),
                               kwargs=lambda x: hnp.arrays(bool, x.shape).map(lambda m: {"index": m}))


def _concat_inputs():
    return nonscalar().flatmap(lambda s: st.integers(0, len(s) - 1).flatmap(
        lambda axis: st.lists(st.integers(1, 3), min_size=1, max_size=3).flatmap(
            lambda sizes: st.tuples(*[mst.arrays(s[:axis] + (n,) + s[axis + 1:]) for n in sizes]))))


def _concat_axes(*xs):
    ndim = xs[0].ndim
    ok = [a for a in range(ndim) if all(x.shape[:a] + x.shape[a + 1:] == xs[0].shape[:a] + xs[0].shape[a + 1:]
                                        for x in xs)]
    return st.sampled_from(ok + [a - ndim for a in ok]).map(lambda a: {"axis": a})


test_concat = op_test(lambda *xs, axis: mg.concat(xs, axis=axis), lambda *xs, axis: np.concatenate(xs, axis=axis),
                      name="concat", inputs=_concat_inputs(), kwargs=_concat_axes)
test_stack = op_test(lambda *xs, axis: mg.stack(xs, axis=axis), lambda *xs, axis: np.stack(xs, axis=axis), name="stack",
                     inputs=mst.shapes().flatmap(lambda s: st.integers(1, 3).flatmap(
                         lambda n: st.tuples(*[mst.arrays(s)] * n))),
                     kwargs=lambda *xs: st.integers(-xs[0].ndim - 1, xs[0].ndim).map(lambda a: {"axis": a}))


def _np_split(x, sections, axis):
    n = x.shape[axis]
    cuts = range(sections, n, sections) if isinstance(sections, int) else np.cumsum(sections)[:-1]
    return np.split(x, list(cuts), axis=axis)


def _split_kwargs(x):
    def sections(axis):
        n = x.shape[axis]
        sizes = st.lists(st.integers(1, n), min_size=1, max_size=n).filter(lambda s: sum(s) <= n).map(
            lambda s: s + [n - sum(s)] if sum(s) < n else s)
        return st.one_of(st.integers(1, n + 1), sizes)
    return st.integers(0, x.ndim - 1).flatmap(lambda axis: sections(axis).map(
        lambda s: {"split_size_or_sections": s, "axis": axis}))


test_split = op_test(mg.split, lambda x, split_size_or_sections, axis: _np_split(x, split_size_or_sections, axis),
                     inputs=single(nonscalar(4)), kwargs=_split_kwargs, name="split")
test_pad = op_test(mg.pad, lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value), name="pad",
                   inputs=single(nonscalar()),
                   kwargs=lambda x: st.fixed_dictionaries({
                       "pad_width": st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * x.ndim),
                       "value": st.sampled_from([0.0, -1.5])}))

# The ops of issue 2 section 2, each covered by at least one op_test above.
COVERED = ["erf", "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid",
           "relu", "leaky_relu", "gelu", "maximum", "minimum", "clip", "where", "matmul", "sum", "mean", "var", "max",
           "min", "logsumexp", "softmax", "log_softmax", "argmax", "reshape", "transpose", "permute", "expand",
           "broadcast_to", "squeeze", "unsqueeze", "flatten", "getitem", "concat", "stack", "split", "pad"]


def test_every_listed_op_has_a_property_test():
    tests = {name for name in globals() if name.startswith("test_")}
    missing = [op for op in COVERED if not any(t == f"test_{op}" or t.startswith(f"test_{op}_") for t in tests)]
    assert not missing
    assert len(COVERED) == 45


# ---- fixed cases of the same checks, so each named form is exercised whatever Hypothesis draws ----
@pytest.mark.parametrize("a_shape, b_shape", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                                              ((4, 1, 2, 3), (5, 3, 2)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,))])
def test_matmul_forms(a_shape, b_shape):
    rng = np.random.default_rng(0)
    check_op(mg.matmul, np.matmul, [rng.standard_normal(a_shape), rng.standard_normal(b_shape)], name="matmul")


@pytest.mark.parametrize("index", [
    1, -1, (slice(None), 2), (slice(1, None), None, slice(None, None, -1)), (Ellipsis, 0),
    np.array([0, 0, 2]), (slice(None), np.array([3, 3, 0])), (np.array([1, 0, 1]), np.array([2, 2, 2])),
    np.array([[True, False, True, False], [False, False, True, True], [True, True, True, True]]),
    np.array([True, False, True])])
def test_getitem_forms(index):
    x = np.arange(12.0).reshape(3, 4) / 7
    check_op(lambda t: t[index], lambda a: a[index], [x], name="getitem")


# ---- what random values rarely hit ------------------------------------------------------------
def test_max_and_min_ties_share_the_gradient_equally():
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype="float64", requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    x.min().backward()  # global min 1.0 is unique
    np.testing.assert_allclose(x.grad.numpy(), [[1, 0, 0], [0, 0, 0]])
    y = mg.tensor([[2.0, 2.0], [2.0, 5.0]], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[1 / 3, 1 / 3], [1 / 3, 0]], rtol=1e-6)


@given(mst.arrays(mst.shapes(min_dims=1), elements=st.integers(-1, 1).map(float)), st.booleans())
def test_max_tie_gradient_is_hit_count_share(a, keepdims):
    """With many ties (values in {-1, 0, 1}) the gradient of max over the last axis is 1/#maxima at each maximum."""
    x = mg.tensor(a, requires_grad=True)
    g = np.random.default_rng(0).standard_normal(a.shape[:-1] + ((1,) if keepdims else ()))
    x.max(axis=-1, keepdims=keepdims).backward(mg.tensor(g, dtype=a.dtype))
    hit = a == a.max(axis=-1, keepdims=True)
    expect = hit / hit.sum(axis=-1, keepdims=True) * (g if keepdims else g[..., None])
    np.testing.assert_allclose(x.grad.numpy(), expect)


def test_maximum_and_minimum_split_ties_half_and_half():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.tensor([1.0, 5.0, 0.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0, 1])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1, 0])
    a.grad = b.grad = None
    mg.minimum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 1, 0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0, 1])


def test_repeated_indices_accumulate():
    x = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[mg.tensor([0, 2, 0, 0])]
    np.testing.assert_array_equal(y.numpy(), [10, 30, 10, 10])
    y.backward(mg.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [8, 0, 2])
    z = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    z[[1, 1], [2, 2]].sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [[0, 0, 0], [0, 0, 2]])


def test_boolean_mask_from_a_comparison():
    x = mg.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0, 1])


@pytest.mark.parametrize("fn", [mg.softmax, mg.log_softmax, lambda x, axis: mg.logsumexp(x, axis=axis)])
def test_softmax_family_is_stable_on_huge_inputs(fn):
    x = mg.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]], dtype="float64", requires_grad=True)
    y = fn(x, axis=1)
    assert np.isfinite(y.numpy()).all()
    small = fn(mg.tensor([[0.0, 1.0, 2.0], [0.0, -1.0, -2.0]], dtype="float64"), axis=1).numpy()
    shift = np.array([1000.0, -1000.0]).reshape(-1, 1) if y.ndim == 2 else np.array([1000.0, -1000.0])
    expect = small + shift if fn not in (mg.softmax, mg.log_softmax) else small
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-12)
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    gradcheck(lambda t: fn(t, axis=1), [x])


def test_log_softmax_float32_large_logits():
    x = mg.tensor([[80.0, 0.0, -80.0]])
    y = mg.log_softmax(x, 1)
    assert y.dtype == np.float32 and np.isfinite(y.numpy()).all()
    np.testing.assert_allclose(y.numpy(), [[0.0, -80.0, -160.0]], atol=1e-4)


def test_argmax_carries_no_gradient_and_gives_int64():
    x = mg.tensor([[1.0, 5.0, 2.0]], requires_grad=True)
    i = x.argmax(axis=1)
    assert i.dtype == np.int64 and not i.requires_grad and i.grad_fn is None
    assert i.tolist() == [1]


def test_pow_tensor_exponent_at_zero_base_has_finite_exponent_gradient():
    a = mg.tensor([0.0, 2.0], dtype="float64", requires_grad=True)
    b = mg.tensor([2.0, 3.0], dtype="float64", requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8 * np.log(2)])
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 12.0])


def test_matmul_shape_error_names_op_and_both_shapes():
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        mg.randn(2, 3) @ mg.randn(4, 5)


@pytest.mark.parametrize("op", [mg.add, mg.mul, mg.sub, mg.div, mg.maximum])
def test_binary_shape_error_names_both_shapes(op):
    with pytest.raises(RuntimeError, match=rf"{op.__name__}: shapes \(2, 3\) and \(4,\)"):
        op(mg.ones(2, 3), mg.ones(4))


def test_concat_shape_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"cat.*\(2, 3\).*\(2, 4\)"):
        mg.concat([mg.ones(2, 3), mg.ones(2, 4)], axis=0)


def test_split_pieces_get_their_gradient_slices():
    x = mg.tensor(np.arange(5.0), dtype="float64", requires_grad=True)
    a, b = mg.split(x, [2, 3])
    (a.sum() * 2 + (b * b).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 4, 6, 8])


def test_gradgradcheck_matmul_batched_with_broadcasting():
    a = mg.randn(2, 1, 3, 4, dtype="float64", requires_grad=True)
    b = mg.randn(5, 4, 2, dtype="float64", requires_grad=True)
    assert gradgradcheck(mg.matmul, [a, b])
