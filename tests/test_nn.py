"""mg.nn: Module bookkeeping, state_dict, hooks, repr; every layer against NumPy and gradchecked in float64;
losses; initialisers; (optionally) agreement with PyTorch."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn import module as module_api
from minigrad.testing import gradcheck

RNG = np.random.default_rng(7)


def module_gradcheck(module, *inputs, **kwargs):
    """gradcheck of module(*inputs) with respect to the inputs and every parameter, in float64."""
    module.double()
    slots = [(owner, name) for owner in module.modules() for name, p in owner._parameters.items() if p is not None]
    params = [owner._parameters[name] for owner, name in slots]

    def fn(*args):
        xs, ps = args[:len(inputs)], args[len(inputs):]
        for (owner, name), p in zip(slots, ps):
            owner._parameters[name] = p
        try:
            return module(*xs)
        finally:
            for (owner, name), p in zip(slots, params):
                owner._parameters[name] = p

    xs = [mg.tensor(np.asarray(x, np.float64), requires_grad=True) for x in inputs]
    return gradcheck(fn, xs + params, **kwargs)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(2 * 2 * 2, 3)
        self.scale = 2.0  # a plain attribute is not registered

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) * self.scale


# ---- Module bookkeeping --------------------------------------------------------------------------------
def test_attributes_register_parameters_buffers_and_children():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "head.weight", "head.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == ["", "features", "features.0", "features.1", "features.2",
                                                   "features.3", "head"]
    assert [n for n, _ in net.named_children()] == ["features", "head"]
    assert list(net.children()) == [net.features, net.head]
    assert len(list(net.modules())) == 7
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert "scale" not in net._parameters and net.scale == 2.0
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope


def test_shared_parameters_are_listed_once_and_reassignment_replaces():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    m = nn.Module()
    m.a = nn.Parameter(np.zeros(2, np.float32))
    m.a = nn.Linear(2, 2)                   # a parameter name taken over by a module
    assert "a" not in m._parameters and "a" in m._modules
    with pytest.raises(TypeError, match="cannot assign a ndarray to submodule 'a'"):
        m.a = np.zeros(2)
    m.b = nn.Parameter(np.zeros(2, np.float32))
    with pytest.raises(TypeError, match="assign an nn.Parameter"):
        m.b = mg.zeros(2)
    del m.b
    assert "b" not in m._parameters


def test_a_shared_module_is_in_the_state_dict_under_every_path_as_pytorch():
    lin = nn.Linear(2, 2)
    m = nn.Module()
    m.enc, m.dec = lin, lin                 # weight tying by a shared submodule
    assert list(m.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]  # PyTorch's keys
    assert [n for n, _ in m.named_parameters()] == ["enc.weight", "enc.bias"]
    assert [n for n, _ in m.named_parameters(remove_duplicate=False)] == list(m.state_dict())
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "enc", "dec"]
    assert [n for n, _ in m.named_modules()] == ["", "enc"]
    state = {k: np.full(v.shape, 3.0, np.float32) for k, v in m.state_dict().items()}
    assert m.load_state_dict(state) == ([], [])  # no "unexpected keys dec.weight, dec.bias"
    assert np.all(lin.weight.data == 3.0)


def test_registered_names_follow_pytorchs_rules():
    m = nn.Module()
    m.scale = 2.0
    for register, kind in ((lambda n: m.register_buffer(n, mg.zeros(1)), "buffer"),
                           (lambda n: m.register_parameter(n, nn.Parameter(np.zeros(1, np.float32))), "parameter"),
                           (lambda n: m.add_module(n, nn.ReLU()), "module")):
        with pytest.raises(KeyError, match=f"{kind} name can.*t contain"):
            register("a.b")  # would give a state_dict key that loads into the wrong place
        with pytest.raises(KeyError, match=f"{kind} name can.*t be empty"):
            register("")
        with pytest.raises(KeyError, match="attribute 'scale' already exists"):
            register("scale")
        assert "a.b" not in m.state_dict() and m.scale == 2.0
    with pytest.raises(TypeError, match="module name should be a string. Got int"):
        m.add_module(3, nn.ReLU())
    m.register_buffer("running", mg.zeros(1))
    m.register_buffer("running", mg.ones(1))  # re-registering under its own role replaces, as PyTorch
    assert m.running.item() == 1.0


def test_train_calls_each_childs_own_train_as_pytorch():
    class FrozenNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(2)

        def train(self, mode=True):  # the usual way to keep a pretrained batch norm's statistics fixed
            super().train(mode)
            self.bn.eval()
            return self

    model = nn.Sequential(nn.Linear(2, 2), FrozenNorm())
    assert model.train() is model
    assert model.training and model[1].training and not model[1].bn.training
    model.eval()
    assert not any(m.training for m in model.modules())


def test_train_with_a_non_bool_mode_is_pytorchs_value_error():
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.Linear(2, 2).train(1)


def test_parameter_second_argument_is_requires_grad_as_pytorch():
    frozen = nn.Parameter(np.ones(2, np.float32), False)  # torch.nn.Parameter(data, requires_grad)
    assert not frozen.requires_grad and frozen.constraint is None
    assert nn.Parameter().shape == (0,) and nn.Parameter().dtype == np.float32
    clipped = nn.Parameter(np.ones(2, np.float32), constraint=nn.WeightClip(1.0), bits=1)
    again = copy.deepcopy(clipped)
    assert again.requires_grad and again.bits == 1 and isinstance(again.constraint, nn.WeightClip)


def test_assigning_before_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Bad()


def test_train_eval_are_recursive_and_zero_grad_sets_none():
    net = Net()
    assert net.training and net.features[1].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(mg.randn(2, 1, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_zero_grad_set_to_none_false_zeroes_the_same_gradient_in_place():
    for clear in (lambda net, opt: net.zero_grad(set_to_none=False), lambda net, opt: opt.zero_grad(False)):
        net = nn.Linear(2, 2)
        opt = mg.optim.SGD(net.parameters(), lr=0.1)
        net(mg.ones(1, 2)).sum().backward()
        kept = net.weight.grad
        clear(net, opt)
        assert net.weight.grad is kept and np.all(kept.data == 0)  # PyTorch: grad.zero_(), not a new tensor
        net(mg.ones(1, 2)).sum().backward()
        assert np.all(kept.data == 1)
    w = nn.Parameter(np.array([1.0, 2.0]))
    m = nn.Module()
    m.w = w
    (w ** 3).sum().backward(create_graph=True)
    m.zero_grad(set_to_none=False)
    assert w.grad.grad_fn is None and not w.grad.requires_grad and np.all(w.grad.data == 0)


def test_sequential_indexing_len_iter_and_names():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    assert list(seq[1:]) == [b, c] and isinstance(seq[1:], nn.Sequential)
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]
    named = nn.Sequential(OrderedDict(fc=a, act=b))
    assert [n for n, _ in named.named_children()] == ["fc", "act"] and named.fc is a
    x = mg.randn(4, 2)
    np.testing.assert_allclose(seq(x).numpy(), c(b(a(x))).numpy())
    with pytest.raises(TypeError, match="argument 0 is a int"):
        nn.Sequential(3)


# ---- state_dict ---------------------------------------------------------------------------------------------
def test_state_dict_holds_the_modules_own_arrays_as_pytorchs():
    """PyTorch's state_dict() references the parameters (no copy): a 'best' state kept without a copy follows the
    training, and writing into it changes the model. minigrad's must do the same, or a student's early stopping
    that works here would silently keep the last weights in PyTorch."""
    try:
        import torch
    except ImportError:  # the reference run is then skipped; minigrad's behaviour is still checked
        torch = None
    for lib in (mg, torch) if torch else (mg,):
        layer = (nn if lib is mg else torch.nn).Linear(2, 2)
        best = layer.state_dict()
        with lib.no_grad():
            layer.weight.mul_(0).add_(3.0)     # a training step, in place
        assert float(best["weight"][0, 0]) == 3.0, lib.__name__
        best["bias"][0] = 5.0                    # writing into the state dict writes into the model
        assert float(layer.bias[0]) == 5.0, lib.__name__
    state = nn.Linear(2, 2).state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())


def test_state_dict_round_trip_gives_identical_outputs():
    mg.manual_seed(1)
    net = Net()
    net(mg.randn(4, 1, 4, 4))  # move the running stats away from their initial values
    state = net.state_dict()
    assert list(state) == ["features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                           "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
                           "head.weight", "head.bias"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state = {k: v.copy() for k, v in state.items()}  # a snapshot (the state dict itself is the model's own)
    mg.manual_seed(2)
    other = Net()
    assert not np.allclose(other.head.weight.numpy(), net.head.weight.numpy())
    result = other.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = mg.randn(3, 1, 4, 4)
    net.eval(), other.eval()
    np.testing.assert_array_equal(net(x).numpy(), other(x).numpy())
    assert int(other.features[1].num_batches_tracked.item()) == 1
    assert other.head.weight.dtype == np.float32


def test_load_state_dict_strict_errors():
    net = Net()
    state = net.state_dict()
    missing = dict(state)
    del missing["head.bias"]
    with pytest.raises(RuntimeError, match="missing keys: head.bias"):
        Net().load_state_dict(missing)
    extra = dict(state, **{"head.extra": np.zeros(1)})
    with pytest.raises(RuntimeError, match="unexpected keys: head.extra"):
        Net().load_state_dict(extra)
    wrong = dict(state, **{"head.weight": np.zeros((3, 9), np.float32)})
    with pytest.raises(RuntimeError, match=r"shape mismatch for 'head.weight': the checkpoint has \(3, 9\), "
                                           r"the model has \(3, 8\)"):
        Net().load_state_dict(wrong)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        Net().load_state_dict(wrong, strict=False)
    target = Net()
    result = target.load_state_dict(dict(missing, **{"head.extra": np.zeros(1)}), strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["head.extra"]
    np.testing.assert_array_equal(target.head.weight.numpy(), state["head.weight"])


def test_a_state_dict_without_num_batches_tracked_loads_into_batch_norm_as_pytorch():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    net(mg.randn(4, 2))  # one training batch: num_batches_tracked = 1
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    state["1.running_mean"] = np.full(3, 0.5, np.float32)
    assert net.load_state_dict(state) == ([], [])  # PyTorch fills the count in for such (older) state dicts
    assert net[1].num_batches_tracked.item() == 1 and np.all(net[1].running_mean.numpy() == 0.5)
    with pytest.raises(RuntimeError, match="missing keys: 1.running_var"):
        net.load_state_dict({k: v for k, v in state.items() if k != "1.running_var"})


def test_non_persistent_buffers_are_not_saved():
    m = nn.Module()
    m.register_buffer("kept", mg.zeros(2))
    m.register_buffer("scratch", mg.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]


# ---- hooks -------------------------------------------------------------------------------------------------
def test_module_hooks_fire_modify_and_remove():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: calls.append(("pre", m, args[0].shape)))
    post = lin.register_forward_hook(lambda m, args, out: calls.append(("post", m, out.shape)))
    lin(mg.randn(5, 2))
    assert calls == [("pre", lin, (5, 2)), ("post", lin, (5, 2))]
    pre.remove(), post.remove()
    lin(mg.randn(5, 2))
    assert len(calls) == 2
    doubler = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    zeroer = lin.register_forward_hook(lambda m, args, out: out * 0)
    x = mg.randn(3, 2)
    assert np.all(lin(x).numpy() == 0)
    zeroer.remove()
    np.testing.assert_allclose(lin(x).numpy(), F.linear(x * 2, lin.weight, lin.bias).numpy(), rtol=1e-6)
    doubler.remove()


def test_global_hooks_see_every_module_in_call_order():
    net = Net()
    paths = {m: name for name, m in net.named_modules()}
    seen = []
    pre = module_api.register_module_forward_pre_hook(lambda m, args: seen.append(("enter", paths[m])))
    post = module_api.register_module_forward_hook(lambda m, args, out: seen.append(("exit", paths[m])))
    try:
        net(mg.randn(2, 1, 4, 4))
    finally:
        pre.remove(), post.remove()
    assert seen[:3] == [("enter", ""), ("enter", "features"), ("enter", "features.0")]
    assert seen[-2:] == [("exit", "head"), ("exit", "")]
    assert [s for s in seen if s[0] == "enter"] == [("enter", p) for p in
                                                    ["", "features", "features.0", "features.1", "features.2",
                                                     "features.3", "head"]]
    count = len(seen)
    net(mg.randn(2, 1, 4, 4))
    assert len(seen) == count
    with module_api.register_module_forward_hook(lambda m, a, o: seen.append("ctx")):
        nn.ReLU()(mg.randn(2))
    nn.ReLU()(mg.randn(2))
    assert seen[count:] == ["ctx"]
    with pytest.raises(TypeError, match="hook must be callable"):
        module_api.register_module_forward_hook(3)


# ---- repr -----------------------------------------------------------------------------------------------------
def test_repr_is_a_tree_like_pytorch():
    assert repr(Net()) == """Net(
  (features): Sequential(
    (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (1): BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    (2): ReLU()
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  )
  (head): Linear(in_features=8, out_features=3, bias=True)
)"""
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"


# ---- Parameter --------------------------------------------------------------------------------------------
def test_parameter_constraint_bits_and_copy():
    p = nn.Parameter(np.array([-3.0, 0.5, 2.0], np.float32), constraint=nn.WeightClip(1.0))
    assert p.requires_grad and p.is_leaf and p.bits == 32 and p.nbytes == 12
    p.apply_constraint()
    np.testing.assert_array_equal(p.numpy(), [-1.0, 0.5, 1.0])
    assert p.dtype == np.float32
    q = nn.Parameter(np.zeros(16), bits=1)
    assert q.bits == 1 and q.nbytes == 2 and nn.Parameter(np.zeros(2)).bits == 64
    clone = copy.deepcopy(q)
    assert isinstance(clone, nn.Parameter) and clone.bits == 1 and clone.data is not q.data
    assert repr(p).startswith("Parameter containing:\ntensor(")
    with pytest.raises(ValueError, match="bits must be a positive integer"):
        nn.Parameter(np.zeros(2), bits=0)


def test_module_double_casts_parameters_and_buffers():
    bn = nn.BatchNorm1d(3).double()
    assert bn.weight.dtype == np.float64 and bn.running_var.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    assert bn(mg.randn(4, 3, dtype="float64")).dtype == np.float64


# ---- Linear -------------------------------------------------------------------------------------------------
def test_linear_forward_matches_numpy_and_gradchecks():
    lin = nn.Linear(4, 3)
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(lin(mg.tensor(x)).numpy(), x @ lin.weight.numpy().T + lin.bias.numpy(), rtol=1e-6)
    assert lin.weight.shape == (3, 4) and lin.bias.shape == (3,)
    assert module_gradcheck(nn.Linear(4, 3), RNG.standard_normal((5, 4)))
    assert module_gradcheck(nn.Linear(4, 3, bias=False), RNG.standard_normal((2, 3, 4)))  # extra batch axes
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(5, 3\) does not fit weight of shape \(3, 4\)"):
        lin(mg.randn(5, 3))  # PyTorch's class (mat1 and mat2 shapes cannot be multiplied); ValueError catches it too


def test_linear_default_init_is_pytorchs_kaiming_uniform():
    lin = nn.Linear(400, 300, rng=np.random.default_rng(0))
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound
    again = nn.Linear(400, 300, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again.weight.numpy(), w)
    mg.manual_seed(3)
    first = nn.Linear(5, 5).weight.numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(5, 5).weight.numpy(), first)


# ---- BatchNorm ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                       (nn.BatchNorm2d, (4, 3, 2, 3))])
def test_batchnorm_train_normalises_and_updates_running_stats(cls, shape):
    bn = cls(3, momentum=0.2)
    with mg.no_grad():
        bn.weight.copy_(np.array([1.0, 2.0, 0.5]))
        bn.bias.copy_(np.array([0.0, -1.0, 3.0]))
    axes = (0,) + tuple(range(2, len(shape)))
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(2):
        x = RNG.standard_normal(shape) * 3 + 1
        y = bn(mg.tensor(x, dtype="float32")).numpy()
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        w, b = bn.weight.numpy().reshape(bshape), bn.bias.numpy().reshape(bshape)
        expected = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5) * w + b
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
        n = x.size / 3
        rm, rv = 0.8 * rm + 0.2 * mean, 0.8 * rv + 0.2 * var * n / (n - 1)
        np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-5)
        np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 2
    bn.eval()
    x = RNG.standard_normal(shape)
    expected = (x - rm.reshape(bshape)) / np.sqrt(rv.reshape(bshape) + 1e-5) * bn.weight.numpy().reshape(bshape) \
        + bn.bias.numpy().reshape(bshape)
    np.testing.assert_allclose(bn(mg.tensor(x, dtype="float32")).numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-5)  # eval leaves the stats alone


@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_gradcheck(train):
    bn = nn.BatchNorm2d(2)
    bn.running_mean.data[...] = [0.3, -0.2]
    bn.running_var.data[...] = [1.5, 0.7]
    bn.train(train)
    with mg.no_grad():
        bn.weight.copy_(np.array([1.3, -0.7]))
    assert module_gradcheck(bn, RNG.standard_normal((3, 2, 2, 2)))
    assert module_gradcheck(nn.BatchNorm1d(4).train(train), RNG.standard_normal((5, 4)))


def test_batchnorm_second_order_and_no_grad_updates():
    from minigrad.testing import gradgradcheck
    x = mg.tensor(RNG.standard_normal((4, 3, 2)), requires_grad=True)
    w = mg.tensor(RNG.standard_normal(3) + 2, requires_grad=True)
    b = mg.tensor(RNG.standard_normal(3), requires_grad=True)
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, weight=w, bias=b, training=True), [x, w, b])
    bn = nn.BatchNorm1d(3).double()  # float64 input, float64 statistics (PyTorch refuses mixed dtypes)
    with mg.no_grad():
        y = bn(mg.tensor(x.numpy()))  # training mode records no graph but still updates the statistics
    assert y.grad_fn is None and np.any(bn.running_mean.numpy() != 0)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(axis=(0, 2)), rtol=1e-5)


def test_batchnorm_options_and_errors():
    bn = nn.BatchNorm1d(2, affine=False, momentum=None)
    assert list(bn.parameters()) == []
    x1, x2 = RNG.standard_normal((8, 2)).astype(np.float32), RNG.standard_normal((8, 2)).astype(np.float32)
    bn(mg.tensor(x1)), bn(mg.tensor(x2))
    np.testing.assert_allclose(bn.running_mean.numpy(), (x1.mean(0) + x2.mean(0)) / 2, rtol=1e-5)  # cumulative
    free = nn.BatchNorm1d(2, track_running_stats=False).eval()
    y = free(mg.tensor(x1)).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-6)  # batch statistics even in eval mode
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(3\): expected a 4-D input with 3 channels"):
        nn.BatchNorm2d(3)(mg.randn(2, 4, 3, 3))  # wrong channels: PyTorch's RuntimeError (wrong dims: ValueError)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected a 4-D input with 3 channels"):
        nn.BatchNorm2d(3)(mg.randn(2, 3))
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm1d(3)(mg.randn(1, 3))


# ---- Dropout ------------------------------------------------------------------------------------------------
def test_dropout_train_eval_and_seeding():
    x = mg.ones(200, 100)
    drop = nn.Dropout(0.3)
    mg.manual_seed(5)
    y = drop(x).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.01
    mg.manual_seed(5)
    np.testing.assert_array_equal(drop(x).numpy(), y)
    assert drop.eval()(x) is x
    a = F.dropout(x, 0.5, rng=np.random.default_rng(1)).numpy()
    b = F.dropout(x, 0.5, rng=np.random.default_rng(1)).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.all(F.dropout(x, 1.0).numpy() == 0) and F.dropout(x, 0.0) is x
    assert gradcheck(lambda x: F.dropout(x, 0.4, rng=np.random.default_rng(2)),
                     [mg.tensor(RNG.standard_normal((4, 5)), requires_grad=True)])
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\]"):
        nn.Dropout(1.5)


def test_dropout_second_argument_is_inplace_as_pytorch():
    drop = nn.Dropout(0.5, True)  # PyTorch's nn.Dropout(p, inplace)
    assert drop.inplace and repr(drop) == "Dropout(p=0.5, inplace=True)" and repr(nn.Dropout()) == \
        "Dropout(p=0.5, inplace=False)"
    x = mg.tensor(RNG.standard_normal((4, 5)), requires_grad=True)
    y = x * 1
    out = drop(y)
    assert out is y and np.all((y.numpy() == 0) | np.isclose(y.numpy(), 2 * x.numpy()))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(y.numpy() == 0, 0.0, 2.0))
    z = mg.ones(3, 3)
    assert F.dropout(z, 0.5, True, True) is z and set(np.unique(z.numpy())) <= {0.0, 2.0}
    assert F.dropout(input=z, p=0.5, training=False) is z  # PyTorch's keyword names
    y = F.batch_norm(input=mg.randn(4, 3), running_mean=None, running_var=None, training=True)
    np.testing.assert_allclose(y.numpy().mean(0), 0, atol=1e-6)
    with pytest.raises(TypeError, match="inplace must be a bool.*rng="):
        nn.Dropout(0.5, np.random.default_rng(0))


# ---- activations, flatten, pad --------------------------------------------------------------------------
ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Hardtanh(-0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8)),
    (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (nn.Identity(), lambda x: x),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
]


@pytest.mark.parametrize("module,reference", ACTIVATIONS, ids=lambda v: type(v).__name__)
def test_activation_forward_and_gradient(module, reference):
    x = RNG.standard_normal((4, 5))
    x[np.abs(x) < 1e-3] += 0.01  # keep finite differences away from kinks
    x[np.abs(np.abs(x + 0.15) - 0.65) < 1e-3] += 0.01  # and from hardtanh's corners
    np.testing.assert_allclose(module(mg.tensor(x)).numpy(), reference(x), rtol=1e-6, atol=1e-7)
    assert module_gradcheck(module, x)


def test_functional_activations_match_modules():
    x = mg.randn(3, 4)
    for f, m in [(F.relu, nn.ReLU()), (F.tanh, nn.Tanh()), (F.sigmoid, nn.Sigmoid()), (F.gelu, nn.GELU()),
                 (F.hardtanh, nn.Hardtanh()), (lambda t: F.leaky_relu(t, 0.1), nn.LeakyReLU(0.1))]:
        np.testing.assert_array_equal(f(x).numpy(), m(x).numpy())


def test_flatten_module_and_pad_convention():
    x = RNG.standard_normal((2, 3, 4, 5))
    assert nn.Flatten()(mg.tensor(x)).shape == (2, 60)
    assert nn.Flatten(0, 1)(mg.tensor(x)).shape == (6, 4, 5)
    y = F.pad(mg.tensor(x), (1, 2, 3, 0), value=-1.0)  # last axis (1, 2), second-to-last (3, 0)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, ((0, 0), (0, 0), (3, 0), (1, 2)), constant_values=-1.0))
    assert gradcheck(lambda t: F.pad(t, (1, 1)), [mg.tensor(x[0, 0], requires_grad=True)])
    with pytest.raises(ValueError, match="even length"):
        F.pad(mg.tensor(x), (1, 2, 3))


@pytest.mark.parametrize("mode, numpy_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_pad_modes_match_numpy_pad_and_scatter_their_gradient(mode, numpy_mode):
    x = RNG.standard_normal((2, 3, 4, 5))
    y = F.pad(mg.tensor(x), (2, 1, 3, 0), mode=mode)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, ((0, 0), (0, 0), (3, 0), (2, 1)), mode=numpy_mode))
    assert gradcheck(lambda t: F.pad(t, (2, 1, 3, 0), mode=mode), [mg.tensor(x[:1, :2], requires_grad=True)])


def test_pad_mode_errors():
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(mg.ones(3, 3), (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="reflect padding .* smaller than the size 3"):
        F.pad(mg.ones(3, 3), (3, 0), mode="reflect")


@pytest.mark.parametrize("mode, numpy_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_conv2d_padding_modes(mode, numpy_mode):
    x = RNG.standard_normal((2, 3, 5, 6))
    conv = nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode=mode, dtype=np.float64)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)), mode=numpy_mode)
    expected = F.conv2d(mg.tensor(padded), conv.weight, conv.bias).numpy()
    np.testing.assert_allclose(conv(mg.tensor(x)).numpy(), expected, atol=1e-12)
    assert f"padding_mode='{mode}'" in repr(conv)
    assert module_gradcheck(conv, mg.tensor(x[:1], requires_grad=True))
    with pytest.raises(ValueError, match="padding_mode must be"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_conv2d_padding_modes_agree_with_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 5, 6))
    for mode in ("reflect", "replicate", "circular"):
        conv = nn.Conv2d(3, 4, 3, padding="same", padding_mode=mode, dtype=np.float64)
        ref = torch.nn.Conv2d(3, 4, 3, padding="same", padding_mode=mode).double()
        ref.weight.data, ref.bias.data = torch.tensor(conv.weight.numpy()), torch.tensor(conv.bias.numpy())
        np.testing.assert_allclose(conv(mg.tensor(x)).numpy(), ref(torch.tensor(x)).detach().numpy(), atol=1e-12)


# ---- losses -------------------------------------------------------------------------------------------------
def _log_softmax(x):
    m = x.max(1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(1, keepdims=True))


def test_cross_entropy_matches_numpy_and_is_stable():
    x, t = RNG.standard_normal((6, 4)) * 3, RNG.integers(0, 4, 6)
    logp = _log_softmax(x)
    nll = -logp[np.arange(6), t]
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(x), t).item(), nll.mean(), rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(x), t, reduction="sum").item(), nll.sum(), rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(x), t, reduction="none").numpy(), nll, rtol=1e-12)
    smooth = 0.9 * nll + 0.1 * (-logp.mean(1))
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(x), t, label_smoothing=0.1).item(), smooth.mean(), rtol=1e-12)
    np.testing.assert_allclose(nn.CrossEntropyLoss(label_smoothing=0.1)(mg.tensor(x), mg.tensor(t)).item(),
                               smooth.mean(), rtol=1e-12)
    probs = np.eye(4)[t] * 0.7 + 0.3 / 4
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(x), probs).item(), -(probs * logp).sum(1).mean(), rtol=1e-12)
    big = F.cross_entropy(mg.tensor([[1000.0, 0.0], [0.0, -1000.0]]), np.array([1, 1]))
    assert np.isfinite(big.item()) and abs(big.item() - 1000) < 1e-3
    for smoothing in (0.0, 0.2):
        assert gradcheck(lambda x: F.cross_entropy(x, t, label_smoothing=smoothing), [mg.tensor(x, requires_grad=True)])
    np.testing.assert_allclose(F.nll_loss(mg.tensor(logp), t).item(), nll.mean(), rtol=1e-12)
    np.testing.assert_allclose(nn.NLLLoss()(mg.tensor(logp), t).item(), nll.mean(), rtol=1e-12)
    assert gradcheck(lambda lp: F.nll_loss(lp, t, reduction="sum"), [mg.tensor(logp, requires_grad=True)])


def test_cross_entropy_bad_targets_are_clear_errors():
    x = mg.randn(3, 4)
    with pytest.raises(IndexError, match=r"cross_entropy: target 4 is out of bounds: targets must lie in \[0, 3\]"):
        F.cross_entropy(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"needs targets of shape \(3,\), got \(2,\)"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        F.cross_entropy(x, np.array([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match=r"expected logits of shape \(N, C\)"):
        F.cross_entropy(mg.randn(4), np.array([1]))


def test_mse_l1_squared_hinge_and_bce_losses():
    x, y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
    np.testing.assert_allclose(F.mse_loss(mg.tensor(x), mg.tensor(y)).item(), ((x - y) ** 2).mean(), rtol=1e-12)
    np.testing.assert_allclose(nn.MSELoss(reduction="sum")(mg.tensor(x), mg.tensor(y)).item(), ((x - y) ** 2).sum(),
                               rtol=1e-12)
    np.testing.assert_allclose(nn.L1Loss()(mg.tensor(x), mg.tensor(y)).item(), np.abs(x - y).mean(), rtol=1e-12)
    assert gradcheck(lambda a, b: F.mse_loss(a, b),
                     [mg.tensor(x, requires_grad=True), mg.tensor(y, requires_grad=True)])
    with pytest.warns(UserWarning, match=r"mse_loss: using a target size \(\(3,\)\) that is different"):
        broadcast = F.mse_loss(mg.tensor(x), mg.tensor(y[0]))  # as PyTorch: broadcast, with a warning
    np.testing.assert_allclose(broadcast.item(), ((x - y[0]) ** 2).mean(), rtol=1e-12)

    t = np.where(RNG.random((5, 3)) > 0.5, 1.0, -1.0)
    hinge = np.maximum(0, 1 - t * x) ** 2
    np.testing.assert_allclose(F.squared_hinge(mg.tensor(x), t).item(), hinge.mean(), rtol=1e-12)
    classes = np.array([0, 2, 1, 1, 0])
    onehot = np.where(np.eye(3)[classes] > 0, 1.0, -1.0)
    np.testing.assert_allclose(nn.SquaredHingeLoss()(mg.tensor(x), classes).item(),
                               (np.maximum(0, 1 - onehot * x) ** 2).mean(), rtol=1e-12)
    assert gradcheck(lambda a: F.squared_hinge(a, t), [mg.tensor(x, requires_grad=True)])
    with pytest.raises(ValueError, match="squared_hinge: targets must be -1 or \\+1"):
        F.squared_hinge(mg.tensor(x), t * 0.5)

    p = RNG.random((5, 3))
    s = 1 / (1 + np.exp(-x))
    bce = -(p * np.log(s) + (1 - p) * np.log(1 - s))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(mg.tensor(x), mg.tensor(p)).item(), bce.mean(),
                               rtol=1e-10)
    weighted = -(2.5 * p * np.log(s) + (1 - p) * np.log(1 - s))
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(pos_weight=2.5)(mg.tensor(x), mg.tensor(p)).item(),
                               weighted.mean(), rtol=1e-10)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b),
                     [mg.tensor(x, requires_grad=True), mg.tensor(p, requires_grad=True)])
    extreme = mg.tensor([-1000.0, 1000.0, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(extreme, mg.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1000.0, 1000.0, math.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(extreme.grad.numpy(), [-1.0, 1.0, -0.5], rtol=1e-6)  # sigmoid(x) - t, also at 0


# ---- init -------------------------------------------------------------------------------------------------
def test_initialisers_statistics_and_rng():
    rng = np.random.default_rng(0)
    w = mg.zeros(256, 128)
    nn.init.kaiming_normal_(w, nonlinearity="relu", rng=rng)
    assert abs(w.numpy().std() - math.sqrt(2 / 128)) < 0.02 * math.sqrt(2 / 128)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", rng=rng)
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 256)
    nn.init.xavier_uniform_(w, rng=rng)
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 384) and np.abs(w.numpy()).max() > 0.99 * math.sqrt(6 / 384)
    nn.init.xavier_normal_(w, gain=2.0, rng=rng)
    assert abs(w.numpy().std() - 2 * math.sqrt(2 / 384)) < 0.02 * 2 * math.sqrt(2 / 384)
    nn.init.normal_(w, 1.0, 0.5, rng=rng)
    assert abs(w.numpy().mean() - 1.0) < 0.01
    nn.init.uniform_(w, 2, 3, rng=rng)
    assert w.numpy().min() >= 2 and w.numpy().max() < 3
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.ones_(w)
    assert np.all(w.numpy() == 1) and w.dtype == np.float32
    a, b = mg.zeros(3, 4), mg.zeros(3, 4)
    nn.init.normal_(a, rng=np.random.default_rng(9)), nn.init.normal_(b, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    conv = mg.zeros(8, 4, 3, 3)  # fan_in = 4 * 9
    nn.init.kaiming_uniform_(conv, a=math.sqrt(5), rng=rng)
    assert np.abs(conv.numpy()).max() <= 1 / 6
    p = nn.Parameter(np.zeros((2, 2), np.float32))
    nn.init.ones_(p)  # works on a parameter that requires grad (under no_grad)
    assert np.all(p.numpy() == 1)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(mg.zeros(3))
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.init.calculate_gain("swish")


@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"])
def test_calculate_gain_is_pytorchs(name):
    assert nn.init.calculate_gain(name) == pytest.approx({"tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75,
                                                          "leaky_relu": math.sqrt(2 / (1 + 0.01 ** 2))}.get(name, 1.0))


def test_calculate_gain_refuses_a_bool_slope_as_pytorch():
    assert nn.init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="negative_slope True is not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)  # was the gain of slope 1.0


def test_a_whole_network_gradchecks_in_float64():
    """Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Flatten, Dropout (eval), Linear, GELU: every
    parameter and the input, through the full composition."""
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(3, 4, 2, groups=1), nn.AvgPool2d(1), nn.Flatten(), nn.Dropout(0.5).eval(),
                        nn.Linear(4, 3), nn.GELU(), nn.Linear(3, 2))
    assert module_gradcheck(net, RNG.standard_normal((3, 2, 4, 4)), mode="full")


# ---- a small end-to-end check --------------------------------------------------------------------------------
def test_a_small_mlp_learns_xor_like_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    t = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 16, rng=rng), nn.Tanh(), nn.Linear(16, 2, rng=rng))
    for _ in range(300):
        loss = F.cross_entropy(model(mg.tensor(x)), t)
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.5)
    accuracy = (model(mg.tensor(x)).numpy().argmax(1) == t).mean()
    assert accuracy > 0.9


def test_linear_and_losses_agree_with_torch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(4, 3).double()
    x, t = RNG.standard_normal((5, 4)), RNG.integers(0, 3, 5)
    tl = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        tl.weight.copy_(torch.tensor(lin.weight.numpy()))
        tl.bias.copy_(torch.tensor(lin.bias.numpy()))
    F.cross_entropy(lin(mg.tensor(x)), t, label_smoothing=0.1).backward()
    torch.nn.functional.cross_entropy(tl(torch.tensor(x)), torch.tensor(t), label_smoothing=0.1).backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), tl.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(lin.bias.grad.numpy(), tl.bias.grad.numpy(), rtol=1e-10)
    bn, tbn = nn.BatchNorm2d(3).double(), torch.nn.BatchNorm2d(3).double()
    xb = RNG.standard_normal((4, 3, 2, 2))
    for _ in range(2):
        np.testing.assert_allclose(bn(mg.tensor(xb)).numpy(), tbn(torch.tensor(xb)).detach().numpy(), rtol=1e-8,
                                   atol=1e-10)
    np.testing.assert_allclose(bn.running_var.numpy(), tbn.running_var.numpy(), rtol=1e-10)


def test_forward_hooks_with_always_call_run_when_forward_raises():
    class Boom(mg.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    seen = []
    m = Boom()
    m.register_forward_hook(lambda mod, args, out: seen.append(("plain", out)))
    m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    handle = mg.nn.register_module_forward_hook(lambda mod, args, out: seen.append(("global", out)), always_call=True)
    try:
        with pytest.raises(ValueError, match="boom"):
            m(mg.ones(1))
    finally:
        handle.remove()
    assert seen == [("global", None), ("always", None)]
    with pytest.raises(ValueError):
        m(mg.ones(1))
    assert seen[-1] == ("always", None) and len(seen) == 3  # the removed global hook no longer runs


def test_a_replaced_child_or_parameter_keeps_its_place_and_multi_line_reprs_are_pytorchs():
    net = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.ReLU(), mg.nn.Linear(3, 1))
    keys = list(net.state_dict())
    net[0] = mg.nn.Linear(2, 3) if hasattr(net, "__setitem__") else net[0]
    layer = net[2]
    layer.weight = mg.nn.Parameter(np.zeros((1, 3), np.float32))
    assert list(net.state_dict()) == keys and list(dict(layer.named_parameters())) == ["weight", "bias"]

    class Two(mg.nn.Module):
        def extra_repr(self):
            return "first\nsecond"
    assert repr(Two()) == "Two(\n  first\n  second\n)"


def test_module_to_cpu_half_and_get_submodule_as_pytorch():
    """PyTorch scripts' model.to(device), model.cpu(), model.half() and get_submodule run unchanged."""
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert m.to("cpu") is m and m.cpu() is m and m.to("cpu", np.float64) is m
    assert m[0].weight.dtype == np.float64 and m[1].running_mean.dtype == np.float64
    m.half()
    assert m[0].weight.dtype == np.float16 and m[1].num_batches_tracked.dtype == np.int64  # integers stay
    assert m.to(mg.zeros(1)) is m and m[0].bias.dtype == np.float32  # a tensor's dtype
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        m.to(np.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        m.to("cuda")
    assert m.get_submodule("1") is m[1] and m.get_submodule("") is m
    with pytest.raises(AttributeError, match="has no attribute `2`"):
        m.get_submodule("2")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        m.get_submodule("0.weight")
