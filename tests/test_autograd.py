"""The engine: accumulation, retain/create graph, mg.grad, grad modes, hooks, user Functions, pluggable
rules, anomaly detection, the version counter, and error messages."""
import gc
import inspect
import os
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck


def line_of(marker):
    """Line number in this file of the source line containing `marker`."""
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    return next(i + 1 for i, line in enumerate(lines) if marker in line and "line_of(" not in line)


# ---- backward and accumulation ---------------------------------------------------------------------
def test_chain_rule_on_a_scalar_expression():
    x = mg.tensor(2.0, dtype="float64", requires_grad=True)
    y = mg.tensor(-3.0, dtype="float64", requires_grad=True)
    z = (x * y + x.sin()) * x          # dz/dx = 2xy + sin x + x cos x,  dz/dy = x^2
    z.backward()
    assert x.grad.item() == pytest.approx(2 * 2 * -3 + np.sin(2) + 2 * np.cos(2))
    assert y.grad.item() == pytest.approx(4.0)
    assert isinstance(x.grad, mg.Tensor) and x.grad.is_leaf and not x.grad.requires_grad


def test_gradients_accumulate_across_backward_calls():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_a_tensor_used_twice_gets_both_contributions():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    a = x * 2
    (a * a + a).sum().backward()     # d/dx (4x^2 + 2x) = 8x + 2
    np.testing.assert_allclose(x.grad.numpy(), [10.0, -14.0])


def test_broadcast_gradients_are_summed_back_to_each_shape():
    a = mg.ones(3, 1, requires_grad=True)
    b = mg.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 3.0))


def test_non_leaf_gradients_are_not_kept_unless_retained():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = (x * 2).retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.numpy(), h.numpy())


def test_backward_of_non_scalar_needs_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"only for a scalar output.*shape \(2,\).*grad="):
        y.backward()
    y.backward(mg.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2, 20])
    with pytest.raises(RuntimeError, match=r"grad has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(mg.ones(3))


def test_backward_on_a_tensor_without_graph_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


# ---- retain_graph and create_graph ------------------------------------------------------------
def test_second_backward_needs_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()
    x.grad = None
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8])


def test_graph_is_freed_after_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp() * x
    saved = weakref.ref(y.grad_fn.saved_tensors[0])  # the exp output saved by mul
    y.sum().backward()
    gc.collect()
    assert y.grad_fn.released and saved() is None


def test_create_graph_gives_higher_order_gradients():
    x = mg.tensor([0.5, -1.5], dtype="float64", requires_grad=True)
    y = (x ** 3).sum()
    g, = mg.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    assert g.requires_grad
    h, = mg.grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())
    k, = mg.grad(h.sum(), x)
    np.testing.assert_allclose(k.numpy(), [6, 6])


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = mg.tensor(1.5, dtype="float64", requires_grad=True)
    (x.tanh()).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.backward()
    t = np.tanh(1.5)
    assert x.grad.item() == pytest.approx(-2 * t * (1 - t * t))


@pytest.mark.parametrize("fn", [lambda x: (x.sigmoid() * x.log()).sum(), lambda x: (x @ x.T).softmax(-1).sum(),
                                lambda x: mg.logsumexp(x.sqrt(), axis=1).max()])
def test_gradgradcheck_on_composite_graphs(fn):
    x = mg.rand(2, 3, dtype="float64") + 0.5
    assert gradgradcheck(fn, [x])


# ---- mg.grad --------------------------------------------------------------------------------------
def test_functional_grad_does_not_touch_dot_grad():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    ga, gb = mg.grad((a * b).sum(), [a, b])
    np.testing.assert_array_equal(ga.numpy(), [3, 4])
    np.testing.assert_array_equal(gb.numpy(), [1, 2])
    assert a.grad is None and b.grad is None
    single = mg.grad((a * a).sum(), a)
    assert isinstance(single, tuple) and len(single) == 1


def test_functional_grad_allow_unused():
    a = mg.tensor([1.0], requires_grad=True)
    unused = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1.*was not used.*allow_unused=True"):
        mg.grad((a * 2).sum(), [a, unused])
    ga, gu = mg.grad((a * 2).sum(), [a, unused], allow_unused=True)
    assert gu is None and ga.item() == 2.0


def test_functional_grad_with_grad_outputs_and_intermediate_inputs():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    y = h * 3
    gh, = mg.grad(y, h, grad_outputs=mg.tensor([1.0, -1.0]))
    np.testing.assert_array_equal(gh.numpy(), [3, -3])


# ---- grad modes -----------------------------------------------------------------------------------
def test_no_grad_and_enable_grad_as_context_managers():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
        w = x * 2
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad and not w.requires_grad
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    x = mg.tensor([1.0], requires_grad=True)

    @mg.no_grad()
    def frozen(t):
        return t * 2

    @mg.enable_grad()
    def live(t):
        return t * 2
    assert not frozen(x).requires_grad
    with mg.no_grad():
        assert live(x).requires_grad
    assert frozen.__name__ == "frozen"


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()


def test_detach_stops_the_gradient():
    x = mg.tensor([2.0], requires_grad=True)
    y = x * x.detach()          # d/dx = x (the detached factor is a constant)
    y.backward()
    assert x.grad.item() == 2.0


# ---- hooks ---------------------------------------------------------------------------------------
def test_hook_on_a_leaf_sees_and_can_replace_the_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3, 3])
    np.testing.assert_array_equal(x.grad.numpy(), [30, 30])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_hook_on_a_non_leaf_changes_what_flows_upstream():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: g * 0.5)
    (h * h).sum().backward()    # dL/dh = 2h = 4x, halved by the hook to 2x, times dh/dx = 2: 4x (8x without hook)
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).register_hook(print)


# ---- deep graphs ----------------------------------------------------------------------------------
def test_a_chain_of_100000_ops_backpropagates():
    x = mg.tensor(0.5, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


# ---- user-defined Functions -------------------------------------------------------------------------
class MulAdd(mg.Function):
    """a * b + c.   da = g b,  db = g a,  dc = g."""
    log = []

    @staticmethod
    def forward(ctx, a, b, c, scale=1.0):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return (a.data * b.data + c.data) * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        MulAdd.log.append(ctx.needs_input_grad)
        need_a, need_b, need_c = ctx.needs_input_grad
        g = g * ctx.scale
        return (g * b if need_a else None, g * a if need_b else None, g if need_c else None)


def test_user_function_forward_backward_and_needs_input_grad():
    a = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = mg.tensor([3.0, 4.0], dtype="float64")
    c = mg.tensor([5.0, 6.0], dtype="float64", requires_grad=True)
    MulAdd.log.clear()
    y = MulAdd.apply(a, b, c, scale=2.0)
    np.testing.assert_array_equal(y.numpy(), [16, 28])
    assert y.grad_fn.op is MulAdd and y.grad_fn.describe() == "muladd"
    y.sum().backward()
    assert MulAdd.log == [(True, False, True)]
    np.testing.assert_array_equal(a.grad.numpy(), [6, 8])
    np.testing.assert_array_equal(c.grad.numpy(), [2, 2])
    assert b.grad is None
    b.requires_grad = True
    assert gradcheck(lambda a, b, c: MulAdd.apply(a, b, c, scale=2.0), [a, b, c])
    assert gradgradcheck(lambda a, b, c: MulAdd.apply(a, b, c, scale=2.0), [a, b, c])


def test_needs_input_grad_is_known_in_forward_as_in_pytorch():
    class Spy(mg.Function):
        seen = None

        @staticmethod
        def forward(ctx, a, b):
            Spy.seen = ctx.needs_input_grad
            return a.data + b.data

        @staticmethod
        def backward(ctx, g):
            return g, g
    Spy.apply(mg.ones(2), mg.ones(2, requires_grad=True))
    assert Spy.seen == (False, True)


def test_user_function_without_grad_records_nothing():
    y = MulAdd.apply(mg.ones(2), mg.ones(2), mg.ones(2))
    assert not y.requires_grad and y.grad_fn is None


def test_a_rule_returning_the_wrong_shape_is_named():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.data * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()
    x = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"op 'bad'.*shape \(\).*input 0.*\(3,\)"):
        Bad.apply(x).sum().backward()


def test_an_op_without_backward_says_it_has_no_gradient():
    class NoGrad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.data * 2
    with pytest.raises(RuntimeError, match="no backward rule"):
        NoGrad.apply(mg.ones(2, requires_grad=True)).sum().backward()


# ---- the pluggable backward rule -------------------------------------------------------------------
def guided_relu(ctx, g):
    """Guided backprop (Springenberg et al., 2015): relu's rule, and only positive gradients pass."""
    return mg.relu(g) * (ctx.output > 0)


def test_guided_relu_scope_binds_the_rule_on_the_node_and_restores_it():
    x = mg.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    upstream = mg.tensor([5.0, -4.0, 6.0])
    with mg.backward_rules(relu=guided_relu):
        y = mg.relu(x)
    z = mg.relu(x)                              # outside the scope: the default rule again
    assert y.grad_fn.rule is guided_relu and "rule=guided_relu" in y.grad_fn.describe()
    assert z.grad_fn.rule is mg.ops.activation.Relu.backward and z.grad_fn.describe() == "relu"
    y.backward(upstream)                        # the rule bound at forward time is used, not the one in force now
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 6])
    x.grad = None
    z.backward(upstream)
    np.testing.assert_array_equal(x.grad.numpy(), [0, -4, 6])


def test_rule_scope_is_restored_after_an_exception_and_nests():
    from minigrad.autograd import rule_in_force
    default = rule_in_force("relu")
    with pytest.raises(ValueError):
        with mg.backward_rules(relu=guided_relu):
            assert rule_in_force("relu") is guided_relu
            raise ValueError("boom")
    assert rule_in_force("relu") is default

    def other(ctx, g):
        return g
    with mg.backward_rules(relu=guided_relu):
        with mg.backward_rules(relu=other):
            assert rule_in_force("relu") is other
        assert rule_in_force("relu") is guided_relu
    assert rule_in_force("relu") is default


def test_rule_per_call_and_unknown_op_names():
    x = mg.tensor([-1.0, 2.0], requires_grad=True)

    def straight_through(ctx, g):
        return g
    y = mg.ops.activation.Relu.apply(x, rule=straight_through)
    y.backward(mg.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3, 4])
    with pytest.raises(KeyError, match="no op named 'rleu'"):
        mg.backward_rules(rleu=guided_relu)


# ---- anomaly detection --------------------------------------------------------------------------
def test_detect_anomaly_names_the_op_and_the_line_in_forward():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    with mg.detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            with np.errstate(invalid="ignore"):
                mg.log(x)  # ANOMALY-FORWARD
    msg = str(info.value)
    assert "op 'log'" in msg and "nan" in msg and "forward" in msg
    assert f"{os.path.basename(__file__)}:{line_of('ANOMALY-FORWARD')}" in msg


def test_detect_anomaly_names_the_op_and_the_line_in_backward():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly():
        y = mg.sqrt(x)  # ANOMALY-BACKWARD
        with pytest.raises(FloatingPointError) as info:
            with np.errstate(divide="ignore"):
                y.sum().backward()
    msg = str(info.value)
    assert "op 'sqrt'" in msg and "inf" in msg and "gradient" in msg
    assert f"{os.path.basename(__file__)}:{line_of('ANOMALY-BACKWARD')}" in msg


def test_without_detect_anomaly_nan_passes_silently():
    x = mg.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(mg.log(x).numpy()).all()


# ---- the version counter -------------------------------------------------------------------------
def test_modifying_a_saved_tensor_in_place_raises_at_backward():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    a = mg.tensor([3.0, 4.0])
    y = (w * a).sum()
    a.mul_(2.0)                     # a was saved by mul for w's gradient
    with pytest.raises(RuntimeError, match=r"op 'mul'.*shape \(2,\).*modified in place.*version 0 -> 1"):
        y.backward()
    z = (w * w).sum()
    with mg.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()


def test_modifying_a_tensor_after_backward_is_fine():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with mg.no_grad():
        w.sub_(w.grad * 0.1)
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6])


def test_modifying_a_saved_output_in_place_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()                       # exp saves its output
    z = y.detach()
    z.mul_(0.0)                       # detach shares the version counter
    with pytest.raises(RuntimeError, match="exp.*modified in place"):
        y.sum().backward()


# ---- shape errors name the op and the shapes --------------------------------------------------------
@pytest.mark.parametrize("bad, pattern", [
    (lambda: mg.ones(2, 3).reshape(4, 2), r"reshape.*\(4, 2\).*\(2, 3\)"),
    (lambda: mg.ones(2, 3).expand(4, 3), r"expand.*\(2, 3\).*\(4, 3\)"),
    (lambda: mg.ones(2, 3) @ mg.ones(2, 3), r"matmul.*\(2, 3\).*\(2, 3\)"),
    (lambda: mg.ones(2, 3) + mg.ones(3, 2), r"add.*\(2, 3\).*\(3, 2\)"),
    (lambda: mg.ones(2, 3).permute(0, 0), r"permute.*\(2, 3\)"),
])
def test_shape_errors_name_the_op_and_the_shapes(bad, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        bad()


def test_indexing_error_names_the_shape():
    with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
        mg.ones(2, 3)[5]
