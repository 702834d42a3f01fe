"""mg.nn.utils against torch.nn.utils: clip_grad_value_, clip_grad_norm_ (the one of mg.optim, re-exported),
parameters_to_vector and vector_to_parameters; results, in-place effects, dtypes, memory sharing and error classes."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.utils as mg_utils

torch = pytest.importorskip("torch")
import torch.nn.utils as t_utils

RNG = np.random.default_rng(11)


def params_with_grads(lib, grads, dtype="float64"):
    """One parameter per gradient array (None: a parameter without a gradient)."""
    out = []
    for g in grads:
        shape = (3,) if g is None else g.shape
        p = (mg.nn.Parameter if lib is mg else torch.nn.Parameter)(lib.tensor(np.zeros(shape, dtype)))
        if g is not None:
            p.grad = lib.tensor(np.asarray(g, dtype))
        out.append(p)
    return out


GRADS = [RNG.standard_normal((3, 4)) * 3, None, RNG.standard_normal(5), np.array([-2.0, np.nan, 0.3, np.inf, -np.inf])]


def test_nn_utils_is_pytorchs_path_and_reuses_optims_clip_grad_norm():
    assert mg.nn.utils is mg_utils
    assert mg_utils.clip_grad_norm_ is mg.optim.clip_grad_norm_
    assert set(mg_utils.__all__) <= set(dir(t_utils))


@pytest.mark.parametrize("clip", [1.0, 0.25, 5, -1.0, 0.0, float("inf"), "tensor"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_clip_grad_value_matches_torch(clip, dtype):
    ps, ts = params_with_grads(mg, GRADS, dtype), params_with_grads(torch, GRADS, dtype)
    same = [p.grad for p in ps if p.grad is not None]
    c_mg, c_t = (mg.tensor(0.5), torch.tensor(0.5)) if clip == "tensor" else (clip, clip)
    assert mg_utils.clip_grad_value_(ps, c_mg) is None
    assert t_utils.clip_grad_value_(ts, c_t) is None
    for p, t in zip(ps, ts):
        assert (p.grad is None) == (t.grad is None)
        if p.grad is not None:
            assert str(p.grad.dtype) == str(t.grad.dtype).removeprefix("torch.")
            np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
    assert all(a is b for a, b in zip([p.grad for p in ps if p.grad is not None], same))  # in place: same tensors


def test_clip_grad_value_of_a_single_tensor_and_its_errors():
    (p,), (t,) = params_with_grads(mg, GRADS[:1]), params_with_grads(torch, GRADS[:1])
    mg_utils.clip_grad_value_(p, 0.1, foreach=None)
    t_utils.clip_grad_value_(t, 0.1)
    np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be a number"):
        mg_utils.clip_grad_value_(p, "a")
    with pytest.raises(ValueError):
        t_utils.clip_grad_value_(t, "a")
    with pytest.raises(TypeError, match="clip_grad_value_"):
        mg_utils.clip_grad_value_(p, None)
    (h,), (th,) = params_with_grads(mg, GRADS[:1], "float16"), params_with_grads(torch, GRADS[:1], "float16")
    with pytest.raises(RuntimeError):  # a bound float16 cannot hold
        t_utils.clip_grad_value_(th, 1e6)
    with pytest.raises(RuntimeError, match="clip_grad_value_: clip_value 1000000.0 does not fit a float16"):
        mg_utils.clip_grad_value_(h, 1e6)


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf")])
def test_clip_grad_norm_through_nn_utils_matches_torch(norm_type):
    grads = [g for g in GRADS[:3]]
    ps, ts = params_with_grads(mg, grads), params_with_grads(torch, grads)
    a = mg.nn.utils.clip_grad_norm_(ps, 1.5, norm_type, foreach=None)
    b = t_utils.clip_grad_norm_(ts, 1.5, norm_type, foreach=None)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)
    for p, t in zip(ps, ts):
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def test_parameters_to_vector_matches_torch_with_gradients():
    arrays = [RNG.standard_normal((2, 3)), RNG.standard_normal(4), RNG.standard_normal(())]
    ps = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    v, tv = mg_utils.parameters_to_vector(ps), t_utils.parameters_to_vector(ts)
    np.testing.assert_array_equal(v.numpy(), tv.detach().numpy())
    w = RNG.standard_normal(v.shape)
    (v * mg.tensor(w)).sum().backward()
    (tv * torch.tensor(w)).sum().backward()
    for p, t in zip(ps, ts):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_dtypes_and_errors_as_torch():
    mixed = [np.zeros((3, 2), np.int64), np.ones(2, np.float32)]
    v, tv = mg_utils.parameters_to_vector([mg.tensor(a) for a in mixed]), t_utils.parameters_to_vector(
        [torch.tensor(a) for a in mixed])
    assert str(v.dtype) == str(tv.dtype).removeprefix("torch.") == "float32"
    # one tensor is iterated over: its rows
    x = RNG.standard_normal((3, 2))
    np.testing.assert_array_equal(mg_utils.parameters_to_vector(mg.tensor(x)).numpy(),
                                  t_utils.parameters_to_vector(torch.tensor(x)).numpy())
    with pytest.raises(ValueError, match="parameters_to_vector: got no parameters"):
        mg_utils.parameters_to_vector([])
    with pytest.raises(ValueError):
        t_utils.parameters_to_vector([])
    with pytest.raises(RuntimeError, match="view"):  # not viewable flat without a copy, as torch's view(-1)
        mg_utils.parameters_to_vector([mg.zeros(3, 2).T])
    with pytest.raises(RuntimeError):
        t_utils.parameters_to_vector([torch.zeros(3, 2).t()])


def test_vector_to_parameters_shares_memory_and_takes_vecs_dtype_as_torch():
    def build(lib):
        make = mg.nn.Parameter if lib is mg else torch.nn.Parameter
        return [make(lib.tensor(np.zeros((2, 3)))), make(lib.tensor(np.zeros(2, np.float32)))]
    ps, ts = build(mg), build(torch)
    v, tv = mg.tensor(np.arange(10.0, dtype=np.float32)), torch.tensor(np.arange(10.0, dtype=np.float32))
    assert mg_utils.vector_to_parameters(v, ps) is None
    t_utils.vector_to_parameters(tv, ts)
    for p, t in zip(ps, ts):
        assert str(p.dtype) == str(t.dtype).removeprefix("torch.") == "float32"
        assert p.shape == tuple(t.shape) and p.requires_grad
        np.testing.assert_array_equal(p.numpy(), t.detach().numpy())
    v.data[0], tv.data[0] = 100.0, 100.0  # the parameters are views into the vector, in both libraries
    assert ps[0].numpy()[0, 0] == ts[0].detach().numpy()[0, 0] == 100.0
    # round trip
    ps = build(mg)
    vec = mg.tensor(RNG.standard_normal(8))
    mg_utils.vector_to_parameters(vec, ps)
    np.testing.assert_array_equal(mg_utils.parameters_to_vector(ps).numpy(), vec.numpy())


def test_vector_to_parameters_errors_as_torch():
    ps, ts = [mg.nn.Parameter(mg.zeros(2, 3))], [torch.nn.Parameter(torch.zeros(2, 3))]
    with pytest.raises(RuntimeError, match=r"vector_to_parameters: shape \[2, 3\] is invalid for input of size 5"):
        mg_utils.vector_to_parameters(mg.zeros(5), ps)
    with pytest.raises(RuntimeError):
        t_utils.vector_to_parameters(torch.zeros(5), ts)
    with pytest.raises(TypeError, match="vector_to_parameters: expected a minigrad Tensor"):
        mg_utils.vector_to_parameters([1.0] * 6, ps)
    with pytest.raises(TypeError):
        t_utils.vector_to_parameters([1.0] * 6, ts)
