"""Creation functions, random draws, dtype names and the Tensor methods that describe or convert a tensor (what
the op table cannot express: random values, generators, Python numbers returned, identity of results)."""
import numpy as np
import pytest

import minigrad as mg


# ---- random: rng= or the generator mg.manual_seed seeds ---------------------------------------------------
RANDOM = {
    "rand_like": lambda **k: mg.rand_like(mg.zeros(50), **k),
    "randn_like": lambda **k: mg.randn_like(mg.zeros(50, dtype="float64"), **k),
    "randint": lambda **k: mg.randint(2, 9, (50,), **k),
    "randperm": lambda **k: mg.randperm(50, **k),
    "normal": lambda **k: mg.normal(1.0, 2.0, (50,), **k),
    "bernoulli": lambda **k: mg.bernoulli(mg.full((50,), 0.5), **k),
    "multinomial": lambda **k: mg.multinomial(mg.tensor([[1.0, 2.0, 3.0, 4.0]]), 3, **k),
}


@pytest.mark.parametrize("name", RANDOM)
def test_random_functions_follow_rng_and_manual_seed(name):
    draw = RANDOM[name]
    a, b = draw(rng=np.random.default_rng(5)), draw(rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    mg.manual_seed(11)
    c = draw()
    mg.manual_seed(11)
    np.testing.assert_array_equal(c.numpy(), draw().numpy())
    assert not a.requires_grad


def test_random_dtypes_and_ranges_as_pytorch():
    assert mg.rand_like(mg.zeros(3, dtype="float64")).dtype == np.float64
    assert mg.randint(3, (4,)).dtype == np.int64 and mg.randint(3, (4,), dtype=mg.float32).dtype == np.float32
    r = mg.randint(-2, 3, (1000,)).numpy()
    assert r.min() == -2 and r.max() == 2
    assert sorted(mg.randperm(6).tolist()) == list(range(6)) and mg.randperm(3).dtype == np.int64
    assert mg.normal(mg.zeros(2, dtype="float64"), mg.ones(3, 2, dtype="float64")).shape == (3, 2)
    assert mg.normal(mg.zeros(2, dtype="float64"), 1.0).dtype == np.float64
    assert mg.bernoulli(mg.full((3,), 0.5, dtype="float64")).dtype == np.float64
    assert set(mg.bernoulli(mg.zeros(100), p=0.5).numpy().tolist()) == {0.0, 1.0}
    w = mg.randn_like(mg.zeros(3), requires_grad=True)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(NotImplementedError):
        mg.rand_like(mg.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        mg.randint(3, 3, (2,))
    with pytest.raises(RuntimeError):
        mg.bernoulli(mg.full((3,), 2.0))


def test_multinomial_draws_in_proportion_and_without_replacement_each_category_once():
    rng = np.random.default_rng(0)
    counts = np.bincount(mg.multinomial(mg.tensor([1.0, 3.0]), 20000, replacement=True, rng=rng).numpy(), minlength=2)
    assert abs(counts[1] / 20000 - 0.75) < 0.02
    rows = mg.multinomial(mg.tensor([[1.0, 2.0, 3.0, 4.0]] * 50), 4, rng=rng).numpy()
    assert all(sorted(row) == [0, 1, 2, 3] for row in rows)
    np.testing.assert_array_equal(mg.multinomial(mg.tensor([[1.0, 0.0, 0.0]]), 2).numpy(), [[0, 1]])
    with pytest.raises(RuntimeError):
        mg.multinomial(mg.tensor([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError):
        mg.multinomial(mg.tensor([-1.0, 2.0]), 1)


# ---- deterministic creation --------------------------------------------------------------------------
def test_arange_length_and_dtype_rules_are_pytorchs():
    assert mg.arange(0, 1, 0.1).shape == (10,) and mg.arange(0, 1, 0.1).dtype == np.float32
    assert mg.arange(1, 2.5, 0.5).tolist() == [1.0, 1.5, 2.0]
    assert mg.arange(10, 0, -3).tolist() == [10, 7, 4, 1] and mg.arange(10, 0, -3).dtype == np.int64
    assert mg.arange(mg.tensor(3)).tolist() == [0, 1, 2]
    assert mg.arange(5, dtype=mg.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="nonzero"):
        mg.arange(0, 10, 0)
    with pytest.raises(RuntimeError, match="sign"):
        mg.arange(0, 10, -1)


def test_full_infers_the_dtype_of_its_value():
    assert mg.full((2,), True).dtype == np.bool_
    assert mg.full((2,), 3).dtype == np.int64
    assert mg.full((2,), 3.0).dtype == np.float32
    assert mg.full((2,), 1 + 2j).dtype == np.complex64
    assert mg.full((), 3, dtype=mg.float64).dtype == np.float64


def test_like_functions_keep_the_dtype_and_cast_the_value():
    x = mg.tensor([1, 2])
    assert mg.full_like(x, 2.7).tolist() == [2, 2]
    assert mg.zeros_like(x).dtype == mg.ones_like(x).dtype == mg.empty_like(x).dtype == np.int64
    assert mg.zeros_like(x, dtype=mg.float32).dtype == np.float32
    assert mg.empty(2, 3).shape == (2, 3) and mg.empty((2, 3)).dtype == np.float32
    with pytest.raises(RuntimeError):
        mg.zeros_like(x, requires_grad=True)


def test_linspace_logspace_eye_and_triangle_indices():
    assert mg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.linspace(0, 10, 5, dtype=mg.int64).tolist() == [0, 2, 5, 7, 10]
    assert mg.linspace(2, 3, 1).tolist() == [2.0] and mg.linspace(2, 3, 0).shape == (0,)
    assert mg.logspace(0, 2, 3, base=2).tolist() == [1.0, 2.0, 4.0]
    with pytest.raises(RuntimeError):
        mg.linspace(0, 1, -1)
    assert mg.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(RuntimeError):
        mg.eye(-1)
    rows, cols = mg.tril_indices(3, 3).numpy()
    assert (rows >= cols).all() and len(rows) == 6
    np.testing.assert_array_equal(mg.triu_indices(3, 4, 1).numpy(), np.stack(np.triu_indices(3, 1, 4)))


# ---- describing a tensor ------------------------------------------------------------------------------
def test_size_is_the_element_count_and_callable_as_pytorchs():
    x = mg.zeros(2, 3, 4)
    assert x.size == 24 and x.size * 2 == 48 and int(x.size) == 24
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert mg.tensor(1.0).size() == ()
    with pytest.raises(IndexError):
        x.size(3)
    assert x.numel() == x.nelement() == 24 and x.dim() == 3 and x.element_size() == 4


def test_strides_in_elements_and_contiguity_as_pytorch():
    x = mg.zeros(2, 3)
    assert x.stride() == (3, 1) and x.stride(0) == 3 and x.is_contiguous()
    assert x.T.stride() == (1, 3) and not x.T.is_contiguous()
    assert x.expand(4, 2, 3).stride() == (0, 3, 1)
    assert x[:, ::2].stride() == (3, 2)
    assert mg.tensor(1.0).stride() == ()
    assert x[1].data_ptr() == x.data_ptr() + 3 * 4


# ---- converting a tensor --------------------------------------------------------------------------------
def test_to_and_type_return_self_when_nothing_changes():
    x = mg.zeros(2, 3)
    assert x.to(mg.float32) is x and x.to("cpu") is x and x.type(mg.float32) is x and x.to(x) is x
    assert x.to(mg.float32, copy=True) is not x
    assert x.to("cpu", mg.float64).dtype == np.float64 and x.to(dtype="float64", device="cpu").dtype == np.float64
    assert x.to(mg.zeros(1, dtype=mg.int16)).dtype == np.int16
    with pytest.raises(RuntimeError, match="CPU"):
        x.to("cuda")
    assert x.type() == "minigrad.FloatTensor" and x.long().type() == "minigrad.LongTensor"
    assert x.type("torch.DoubleTensor").dtype == np.float64


def test_conversion_methods_and_their_gradient():
    x = mg.tensor([1.5, -1.7, 0.0], requires_grad=True)
    assert x.long().tolist() == [1, -1, 0] and x.int().dtype == np.int32 and x.short().dtype == np.int16
    assert x.char().dtype == np.int8 and x.byte().dtype == np.uint8 and x.bool().tolist() == [True, True, False]
    assert x.half().dtype == np.float16 and x.type_as(mg.zeros(1, dtype=mg.float64)).dtype == np.float64
    (x.to(mg.float64) * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0, 2.0]


def test_new_functions_take_self_dtype():
    x = mg.zeros(2, dtype=mg.float64)
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_ones((2,)).dtype == np.float64
    assert x.new_full((2,), 3).dtype == np.float64 and x.new_tensor([1, 2]).dtype == np.float64
    assert x.new_empty(4).shape == (4,) and x.new_zeros(2, dtype=mg.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad
    data = [1.0, 2.0]
    t = x.new_tensor(data)
    data[0] = 5.0
    assert t.tolist() == [1.0, 2.0]


def test_a_list_takes_pytorchs_dtype_from_its_items():
    assert mg.tensor([1, 2.5]).dtype == np.float32 and mg.tensor([True, 2]).dtype == np.int64
    assert mg.tensor([np.float64(1.5), 2.0]).dtype == np.float64  # a NumPy scalar keeps its dtype, as in PyTorch
    assert mg.tensor([np.int32(1)]).dtype == np.int32 and mg.tensor([np.int32(1), 2]).dtype == np.int64
    assert mg.tensor([np.float16(1), 2]).dtype == np.float16 and mg.tensor([np.float16(1), 2.0]).dtype == np.float32
    assert mg.tensor([np.uint8(1), np.int8(-1)]).dtype == np.int16
    assert mg.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])]).dtype == np.float64
    assert mg.tensor([mg.tensor(1.0, dtype="float64"), 2.0]).dtype == np.float64
    assert mg.tensor([]).dtype == np.float32 and mg.tensor([1j, np.float32(1)]).dtype == np.complex64


def test_an_integer_too_large_for_int64_is_refused_not_wrapped():
    with pytest.raises(ValueError, match="too large for int64"):
        mg.tensor([2**63])


@pytest.mark.parametrize("make", [lambda: mg.zeros(-1), lambda: mg.ones(2, -3), lambda: mg.randn((-1,)),
                                  lambda: mg.rand(size=(-2,))])
def test_a_negative_dimension_is_a_runtime_error_as_pytorch(make):
    with pytest.raises(RuntimeError, match="negative dimension"):
        make()


def test_from_numpy_as_tensor_is_tensor_and_numel_as_pytorch():
    arr = np.array([1.0, 2.0])
    t = mg.from_numpy(arr)
    t.mul_(2)
    assert arr.tolist() == [2.0, 4.0] and t.dtype == np.float64  # shares memory, keeps the dtype
    assert mg.from_numpy(np.array([1], dtype=np.int32)).dtype == np.int32
    with pytest.raises(TypeError, match="expected np.ndarray"):
        mg.from_numpy([1.0])
    assert mg.as_tensor(t) is t and mg.as_tensor([1.0, 2.5]).dtype == np.float32
    assert mg.as_tensor(arr).numpy() is arr and mg.as_tensor(arr, dtype=mg.float32).dtype == np.float32
    assert mg.is_tensor(t) and not mg.is_tensor(arr) and mg.numel(mg.zeros(2, 3)) == 6
