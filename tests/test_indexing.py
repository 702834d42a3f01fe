"""What the op table cannot express for the movement and indexing families: which results are views (and share
their base's version counter), in-place updates through them, PyTorch's exceptions, gradients PyTorch cannot
compute, and the tracer's view of the composed ops."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck


def _x(*shape, dtype="float64", requires_grad=False):
    n = int(np.prod(shape))
    return mg.tensor(np.arange(n, dtype=dtype).reshape(shape) - n / 3, requires_grad=requires_grad)


# ---- views and copies, as PyTorch ----------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda x: x.diagonal(), lambda x: x.unfold(1, 2, 1), lambda x: x.narrow(0, 1, 2), lambda x: x.select(1, 0),
    lambda x: x.chunk(2)[1], lambda x: x.movedim(0, 1), lambda x: x.swapaxes(0, 1), lambda x: x.unflatten(1, (2, 2)),
    lambda x: mg.broadcast_tensors(x, mg.zeros(2, 3, 4))[0], lambda x: x.view_as(mg.zeros(4, 3)),
    lambda x: x.expand_as(mg.zeros(2, 3, 4)),
], ids=["diagonal", "unfold", "narrow", "select", "chunk", "movedim", "swapaxes", "unflatten", "broadcast_tensors",
        "view_as", "expand_as"])
def test_view_ops_share_memory_and_the_version_counter(make):
    x = _x(3, 4)
    v = make(x)
    assert np.shares_memory(v.numpy(), x.numpy())
    assert v._version is x._version
    x.add_(1.0)
    assert v._version[0] == x._version[0] == 1


@pytest.mark.parametrize("make", [
    lambda x: x.flip(0), lambda x: x.roll(1, 0), lambda x: x.repeat(1, 1), lambda x: x.tile((1,)),
    lambda x: x.tril(), lambda x: x.diag(), lambda x: x.repeat_interleave(1, 0),
    lambda x: mg.index_select(x, 0, mg.tensor([0, 1])),
    lambda x: mg.take(x, mg.tensor([0])), lambda x: mg.masked_select(x, x > 0), lambda x: mg.masked_fill(x, x > 0, 0.0),
], ids=["flip", "roll", "repeat-ones", "tile-ones", "tril", "diag", "repeat_interleave", "index_select", "take",
        "masked_select", "masked_fill"])
def test_copying_ops_return_their_own_memory(make):
    x = _x(3, 4)
    y = make(x)
    assert not np.shares_memory(y.numpy(), x.numpy())
    assert y._version is not x._version


def test_writes_through_a_diagonal_view_reach_the_base_and_its_gradient():
    w = _x(3, 3, requires_grad=True)
    y = w * 2
    d = y.diagonal()
    d.mul_(mg.tensor([1.0, 2.0, 3.0], dtype="float64"))
    np.testing.assert_array_equal(np.diag(y.numpy()), np.diag(w.numpy()) * 2 * [1, 2, 3])
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * (np.ones((3, 3)) + np.diag([0.0, 1.0, 2.0])))


def test_a_tensor_saved_for_backward_and_changed_through_a_window_view_is_an_error():
    x = _x(2, 4, requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    y.unfold(1, 2, 2).zero_()
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()


# ---- in place -------------------------------------------------------------------------------------------
def test_in_place_index_ops_without_a_graph_write_into_the_tensor_and_bump_its_version():
    x = mg.zeros(2, 3)
    alias = x[0]
    x.index_fill_(1, mg.tensor([0, 2]), 5.0).masked_fill_(mg.tensor([[False], [True]]), -1.0)
    x.index_add_(0, mg.tensor([0, 0]), mg.ones(2, 3), alpha=2)
    x.scatter_(1, mg.tensor([[1]]), 7.0).scatter_add_(0, mg.tensor([[1, 1, 1]]), mg.ones(1, 3))
    np.testing.assert_array_equal(x.numpy(), [[9, 7, 9], [0, 0, 0]])
    np.testing.assert_array_equal(alias.numpy(), [9, 7, 9])
    assert x._version[0] == 5


def test_in_place_index_ops_refuse_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="shape"):
        mg.zeros(3).masked_fill_(mg.ones(2, 3, dtype="bool"), 1.0)
    with pytest.raises(RuntimeError, match="leaf"):
        mg.zeros(3, requires_grad=True).index_fill_(0, mg.tensor([0]), 1.0)


def test_in_place_update_with_a_value_that_requires_grad_records_the_graph():
    v = mg.tensor(3.0, dtype="float64", requires_grad=True)
    x = mg.zeros(2, 3, dtype="float64")
    x.masked_fill_(mg.tensor([[True, False, True], [False, False, True]]), v)
    x.sum().backward()
    assert v.grad.item() == 3.0


# ---- gradients PyTorch does not compute ------------------------------------------------------------------
def test_scatter_with_a_source_larger_than_the_index_has_a_zero_gradient_outside_it():
    """PyTorch's autograd fails here (its gradient has the index's shape, not src's); ours pads it with zeros."""
    x, src = _x(3, 4, requires_grad=True), _x(4, 5, requires_grad=True)
    index = mg.tensor([[0, 2, 1], [2, 1, 0]])
    for fn in (lambda a, s: mg.scatter(a, 1, index, s), lambda a, s: mg.scatter_add(a, 0, index, s)):
        assert gradcheck(fn, [x, src]) and gradgradcheck(fn, [x, src])
    mg.scatter_add(x, 0, index, src).sum().backward()
    g = src.grad.numpy()
    assert (g[:2, :3] == 1).all() and g[2:].sum() == 0 and g[:, 3:].sum() == 0


def test_scatter_with_reduce_has_a_gradient():
    x, src = _x(2, 3, requires_grad=True), _x(1, 3, requires_grad=True)
    index = mg.tensor([[1, 0, 1]])
    assert gradcheck(lambda a, s: mg.scatter(a, 0, index, s, reduce="multiply"), [x, src])
    out = mg.scatter(x, 0, index, 2.0, reduce="add")
    np.testing.assert_array_equal(out.numpy(), x.numpy() + [[0, 2, 0], [2, 0, 2]])


def test_scatter_reduce_prod_with_zeros_has_the_product_of_the_others_as_gradient():
    x = mg.tensor([0.0, 3.0, 2.0], dtype="float64", requires_grad=True)
    src = mg.tensor([0.0, 3.0, 0.5, 2.0], dtype="float64", requires_grad=True)
    out = mg.scatter_reduce(x, 0, mg.tensor([1, 1, 0, 2]), src, "prod")
    out.backward(mg.tensor([1.0, 10.0, 100.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.0, 200.0])
    np.testing.assert_array_equal(src.grad.numpy(), [90.0, 0.0, 0.0, 200.0])


def test_integer_scatter_reduce_mean_rounds_down_and_amax_starts_from_the_lowest_integer():
    x = mg.tensor([[0, 1, 2], [3, 4, 5]])
    index = mg.tensor([[0, 1, 0]])
    np.testing.assert_array_equal(mg.scatter_reduce(x, 0, index, mg.full((1, 3), 3), "mean").numpy(),
                                  [[1, 1, 2], [3, 3, 5]])
    np.testing.assert_array_equal(
        mg.scatter_reduce(-x, 0, index, mg.full((1, 3), -9), "amax", include_self=False).numpy(),
        [[-9, -1, -9], [-3, -9, -5]])


# ---- PyTorch's exceptions -------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error", [
    (lambda x: x.flip((0, 0)), RuntimeError),
    (lambda x: x.flip(2), IndexError),
    (lambda x: x.repeat(2), RuntimeError),
    (lambda x: x.repeat_interleave(-1, 0), RuntimeError),
    (lambda x: mg.tril(x[0]), RuntimeError),
    (lambda x: mg.diag(x.reshape(1, 3, 4)), RuntimeError),
    (lambda x: mg.diagonal(x, 0, 1, -1), RuntimeError),
    (lambda x: mg.unflatten(x, 1, (5, -1)), RuntimeError),
    (lambda x: x.unfold(1, 5, 1), RuntimeError),
    (lambda x: x.unfold(1, 2, 0), RuntimeError),
    (lambda x: mg.narrow(x, 1, 2, 3), RuntimeError),
    (lambda x: mg.select(x, 1, 4), IndexError),
    (lambda x: mg.chunk(x, 0), RuntimeError),
    (lambda x: mg.movedim(x, (0, 0), (0, 1)), RuntimeError),
    (lambda x: mg.broadcast_shapes((2, 1), (3, 2)), RuntimeError),
    (lambda x: mg.meshgrid(x), RuntimeError),
    (lambda x: mg.meshgrid(mg.arange(2), mg.arange(3.0)), RuntimeError),
    (lambda x: mg.index_select(x, 1, mg.tensor([[1]])), IndexError),
    (lambda x: mg.index_select(x, 1, mg.tensor([1.0])), RuntimeError),
    (lambda x: mg.index_select(x, 1, mg.tensor([4])), RuntimeError),
    (lambda x: mg.index_add(x, 1, mg.tensor([0]), mg.ones(3, 1, dtype="float32")), RuntimeError),
    (lambda x: mg.index_add(x, 1, mg.tensor([0, 1]), mg.ones(3, 1, dtype="float64")), RuntimeError),
    (lambda x: mg.index_copy(x, 1, mg.tensor([4]), mg.ones(3, 1, dtype="float64")), IndexError),
    (lambda x: mg.index_fill(x, 1, mg.tensor([0]), mg.tensor([1.0])), RuntimeError),
    (lambda x: mg.scatter(x, 1, mg.tensor([[[0]]]), 1.0), RuntimeError),
    (lambda x: mg.scatter(x, 1, mg.tensor([[4]]), 1.0), RuntimeError),
    (lambda x: mg.scatter(x, 1, mg.tensor([[0, 1]]), mg.ones(1, 1, dtype="float64")), RuntimeError),
    (lambda x: mg.scatter_add(x, 1, mg.tensor([[0]]), mg.ones(1, 1, dtype="float32")), RuntimeError),
    (lambda x: mg.scatter_reduce(x, 1, mg.tensor([[0]]), mg.ones(1, 1, dtype="float64"), "max"), RuntimeError),
    (lambda x: mg.masked_select(x, (x > 0).long()), RuntimeError),
    (lambda x: mg.masked_fill(x, x > 0, mg.tensor([1.0])), RuntimeError),
    (lambda x: mg.masked_scatter(x, x > -10, mg.ones(2, dtype="float64")), RuntimeError),
    (lambda x: mg.take(x, mg.tensor([12])), IndexError),
    (lambda x: mg.take_along_dim(x, mg.tensor([[0]], dtype="int32"), 1), RuntimeError),
    (lambda x: mg.take_along_dim(x, mg.tensor([0]), 1), RuntimeError),
])
def test_errors_have_pytorchs_exception_class_and_name_the_op(call, error):
    x = _x(3, 4)
    with pytest.raises(error) as info:
        call(x)
    assert str(info.value)


# ---- composed ops in the tracer ---------------------------------------------------------------------------
def test_the_tracer_sees_scatter_add_as_its_parts_and_counts_the_adds():
    x, src = _x(3, 4), _x(5, 4)
    with mg.trace() as tr:
        mg.scatter_add(x, 0, mg.tensor(np.zeros((5, 4), np.int64)), src)
    assert tr.flops() == 20 + 12  # one add per src element into zeros, then one per element of x


def test_nonzero_as_tuple_indexes_like_a_boolean_mask():
    """mg.where(condition) with one argument is PyTorch's nonzero(condition, as_tuple=True)."""
    x = _x(3, 4)
    np.testing.assert_array_equal(x[mg.nonzero(x > 0, as_tuple=True)].numpy(), x.numpy()[x.numpy() > 0])
