"""The Tensor: dtypes, creation helpers, randomness, conversions, in-place updates, comparisons."""
import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
from minigrad.testing import strategies as mst


# ---- dtypes -------------------------------------------------------------------------------------
def test_python_floats_give_float32_and_dtype_chooses_otherwise():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(3.5).dtype == np.float32 and mg.tensor(3.5).shape == ()
    assert mg.tensor([1.0], dtype="float64").dtype == np.float64
    assert mg.tensor(np.zeros(2)).dtype == np.float64           # an ndarray keeps its dtype, as in PyTorch
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = mg.tensor(a)
    a[0] = 99
    assert t.numpy()[0] == 1.0


@pytest.mark.parametrize("data", [[1, 2], [True, False]])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients.*int64|bool"):
        mg.tensor(data, requires_grad=True)
    t = mg.tensor(data)
    with pytest.raises(RuntimeError, match="floating-point"):
        t.requires_grad = True


def test_non_numeric_data_is_refused():
    with pytest.raises(TypeError, match="tensor: cannot make a tensor"):
        mg.tensor(["a", "b"])


@pytest.mark.parametrize("expr", [
    lambda x: x * 2.5, lambda x: 2.5 * x, lambda x: x + 1, lambda x: 1 - x, lambda x: x / 3.0, lambda x: 3.0 / x,
    lambda x: x ** 2, lambda x: 2.0 ** x, lambda x: mg.maximum(x, 0.0), lambda x: mg.where(x > 0, x, 0.0),
    lambda x: x * np.float64(2.0), lambda x: x.clip(-1.0, 1.0), lambda x: mg.gelu(x), lambda x: mg.erf(x),
])
def test_python_and_numpy_scalars_do_not_upcast_float32(expr):
    x = mg.tensor([0.5, 1.5], requires_grad=True)
    y = expr(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_float64_graph_stays_float64():
    x = mg.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
    y = (x * 2.0).exp().sum()
    y.backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64


def test_mixed_float32_and_float64_tensors_promote_like_numpy():
    assert (mg.ones(2) + mg.ones(2, dtype="float64")).dtype == np.float64


# ---- creation helpers ---------------------------------------------------------------------------
def test_creation_helpers():
    assert mg.zeros(2, 3).shape == (2, 3) and not mg.zeros(2, 3).numpy().any()
    assert mg.zeros((2, 3)).shape == (2, 3) and mg.zeros(2).dtype == np.float32
    assert (mg.ones(4, dtype="float64").numpy() == 1).all() and mg.ones(4, dtype="float64").dtype == np.float64
    f = mg.full((2, 2), 7.0)
    assert f.dtype == np.float32 and (f.numpy() == 7).all()
    assert mg.full(3, 2).dtype == np.int64
    np.testing.assert_array_equal(mg.arange(5).numpy(), np.arange(5))
    assert mg.arange(5).dtype == np.int64 and mg.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_array_equal(mg.arange(2, 8, 2).numpy(), [2, 4, 6])
    np.testing.assert_array_equal(mg.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 3).numpy(), np.eye(2, 3))
    like = mg.tensor([[1.0, 2.0]], dtype="float64")
    z, o = mg.zeros_like(like), mg.ones_like(like)
    assert z.shape == o.shape == (1, 2) and z.dtype == o.dtype == np.float64
    assert (z.numpy() == 0).all() and (o.numpy() == 1).all()
    w = mg.zeros(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_random_helpers_shapes_dtypes_ranges():
    r = mg.rand(1000)
    assert r.dtype == np.float32 and r.shape == (1000,) and 0 <= r.numpy().min() and r.numpy().max() < 1
    n = mg.randn(200, 50, dtype="float64")
    assert n.dtype == np.float64 and abs(n.numpy().mean()) < 0.05 and abs(n.numpy().std() - 1) < 0.05


def test_manual_seed_makes_random_functions_reproducible():
    mg.manual_seed(123)
    a, b = mg.randn(5), mg.rand(3)
    mg.manual_seed(123)
    np.testing.assert_array_equal(a.numpy(), mg.randn(5).numpy())
    np.testing.assert_array_equal(b.numpy(), mg.rand(3).numpy())
    mg.manual_seed(124)
    assert not np.array_equal(a.numpy(), mg.randn(5).numpy())


def test_rng_argument_uses_that_generator_and_leaves_the_default_alone():
    mg.manual_seed(7)
    expected_default = mg.randn(4).numpy()
    mg.manual_seed(7)
    x = mg.randn(4, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(x.numpy(), np.random.default_rng(1).standard_normal(4).astype(np.float32))
    mg.rand(2, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(mg.randn(4).numpy(), expected_default)  # default stream not advanced


# ---- conversions ----------------------------------------------------------------------------------
def test_numpy_interop():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert a is t.data and np.shares_memory(a, t.numpy())
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t).shape == (2, 2)
    s = np.ones(2) + mg.tensor([1.0, 2.0])   # ndarray + Tensor -> Tensor (NumPy defers)
    assert isinstance(s, mg.Tensor)
    assert mg.tensor([2.5]).item() == 2.5 and float(mg.tensor(2.0)) == 2.0 and int(mg.tensor(3)) == 3
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]] and len(t) == 2
    with pytest.raises(RuntimeError, match="only a tensor with one element"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)


def test_attributes_and_repr():
    t = mg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert (t.shape, t.ndim, t.size, t.dtype) == ((1, 3), 2, 3, np.float32)
    assert t.T.shape == (3, 1) and mg.ones(2, 3, 4).mT.shape == (2, 4, 3)
    assert "requires_grad=True" in repr(t)
    assert "grad_fn=<mul>" in repr(t * 2)
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype="float64"))


@given(mst.tensors(dtype="float32"))
def test_float_and_double_conversions(t):
    assert t.double().dtype == np.float64 and t.double().float().dtype == np.float32
    np.testing.assert_array_equal(t.double().numpy(), t.numpy().astype(np.float64))


# ---- comparisons -------------------------------------------------------------------------------
def test_comparisons_return_bool_tensors_without_gradient():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expect in [(x > 2, [0, 0, 1]), (x >= 2, [0, 1, 1]), (x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]),
                           (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1]), (x > mg.tensor([0.0, 5.0, 3.0]), [1, 0, 0])]:
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.numpy(), np.array(expect, bool))


# ---- in-place updates ---------------------------------------------------------------------------
def test_in_place_updates_bump_the_version_and_are_refused_on_grad_leaves():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf tensor that requires grad cannot be changed in place"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad cannot be changed in place"):
        w += 1.0
    with pytest.raises(RuntimeError, match="setitem: a leaf tensor that requires grad"):
        w[0] = 5.0
    v = w._version[0]
    with mg.no_grad():
        w.sub_(mg.tensor([0.5, 0.5]), alpha=2).mul_(3.0)
        w[1] = 10.0
    np.testing.assert_array_equal(w.numpy(), [0.0, 10.0])
    assert w._version[0] == v + 3 and w.dtype == np.float32
    c = mg.tensor([1.0, 2.0])
    c.zero_()
    c.copy_(mg.tensor([4.0, 5.0]))
    c.fill_(2.0)
    c.clamp_(max=1.0)
    np.testing.assert_array_equal(c.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("method", ["add_", "sub_"])
@pytest.mark.parametrize("alpha", [0.01, -3, 1e-5])
def test_an_update_with_alpha_is_the_out_of_place_op_bit_for_bit(dtype, method, alpha):
    """Without a graph, add_/sub_ with alpha run as one op; it must give the bits of t -/+ (other * alpha), the op a
    graph records (other broadcast, a float16 other scaled in float32 and rounded once)."""
    rng = np.random.default_rng(0)
    t = mg.tensor(rng.standard_normal((3, 4)), dtype=dtype)
    other = mg.tensor(rng.standard_normal(4), dtype=dtype)
    out_of_place = (t + other * alpha) if method == "add_" else (t - other * alpha)
    with mg.trace() as tr:
        result = getattr(t, method)(other, alpha=alpha)
    assert result is t and t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.numpy(), out_of_place.numpy())
    assert [r.name for r in tr.records] == [method] and tr.flops() == 4 + 12  # the multiply, then the update


def test_an_update_with_alpha_needs_no_temporary_the_size_of_its_target():
    """p.sub_(g, alpha=lr) under no_grad (an optimizer step) forms alpha * g a block at a time, as PyTorch's fused
    kernel needs no temporary: the peak over the update stays far below the target's size."""
    import tracemalloc
    p, g = mg.zeros(256, 1024), mg.ones(256, 1024)   # 1 MiB each
    tracemalloc.start()
    try:
        with mg.no_grad():
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            p.sub_(g, alpha=0.5)
            peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(p.numpy(), -0.5)
    assert peak < p.data.nbytes / 4, peak


def test_an_update_with_alpha_from_an_overlapping_view_reads_the_value_before_writing():
    """Formed in blocks, alpha * value must still be read whole before the target is written when the two overlap
    (x[1:] -= 2 * x[:-1]), as NumPy's as-if-copied ufuncs and the out-of-place op give: larger than one block here."""
    base = np.arange(200_000, dtype=np.float64)
    x = mg.Tensor(base.copy())
    with mg.no_grad():
        x[1:].sub_(x[:-1], alpha=2)
    np.testing.assert_array_equal(x.numpy()[1:], base[1:] - 2 * base[:-1])


def test_detach_shares_data_and_leaves_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.numpy(), y.numpy())
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False


def test_device_and_cpu_as_pytorch_on_the_cpu():
    x = mg.tensor([1.0, 2.0])
    assert x.cpu() is x and str(x.device) == "cpu" and not x.is_cuda
    assert x.to(x.device) is x and x.detach().cpu().numpy().tolist() == [1.0, 2.0]


def test_uniform_and_normal_fill_in_place_as_pytorch():
    mg.manual_seed(0)
    w = mg.zeros(2000, 3)
    assert w.uniform_(-2, 3) is w and -2 <= w.min().item() and w.max().item() < 3 and w.dtype == np.float32
    base = mg.zeros(4, 4)
    base[:, 1].normal_(5.0, 0.1)  # through a view
    assert (base[:, 1] > 4).all().item() and (base[:, 0] == 0).all().item()
    p = mg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p.uniform_()
    with pytest.raises(NotImplementedError, match="int64"):
        mg.zeros(2, dtype=mg.int64).normal_()


def test_the_tensor_class_called_with_python_data_is_pytorchs_legacy_constructor():
    assert mg.Tensor([1, 2]).dtype == np.float32 and mg.Tensor([[True, False]]).tolist() == [[1.0, 0.0]]
    assert mg.Tensor(2, 3).shape == (2, 3) and mg.Tensor(3).shape == (3,) and mg.Tensor().shape == (0,)
    arr = np.array([1, 2])
    assert mg.Tensor(arr).numpy() is arr  # an ndarray is wrapped as it is (minigrad's own use), int64 kept
    assert mg.tensor([1, 2]).dtype == np.int64  # mg.tensor infers the dtype, as torch.tensor
