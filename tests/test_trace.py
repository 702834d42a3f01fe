"""The tracer: counts against the formulas (and torch's FlopCounterMode when installed), linear in
batch size, per-module sums equal to totals, BOPs only where both operands are binary, nothing
silently zero, tracing changes no result, and a trace sees only its own thread (context) and survives
exceptions caught inside it."""
import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import autograd
from minigrad.nn import Module, Parameter
from minigrad.trace import trace


def _randn(*shape, requires_grad=False, seed=0, dtype=np.float64):
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return mg.Tensor(data, requires_grad=requires_grad)


class Dense(Module):
    """A Linear written in the test, so the tracer is tested independently of nn's layers."""

    def __init__(self, n_in, n_out, seed=0):
        super().__init__()
        self.weight = Parameter(np.random.default_rng(seed).standard_normal((n_out, n_in)))
        self.bias = Parameter(np.zeros(n_out))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class Act(Module):
    def forward(self, x):
        return x.relu()


class Chain(Module):
    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x


class Net(Module):
    def __init__(self):
        super().__init__()
        self.features = Chain(Dense(6, 5, seed=1), Act(), Dense(5, 4, seed=2))
        self.head = Dense(4, 3, seed=3)

    def forward(self, x):
        return self.head(self.features(x))


# ---- counts against the formulas ----------------------------------------------------------------
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6))
def test_matmul_forward_and_backward_flops(m, k, n):
    a, b = _randn(m, k, requires_grad=True), _randn(k, n, requires_grad=True, seed=1)
    with trace() as tr:
        y = a @ b
        y.backward(mg.Tensor(np.ones((m, n))))
    assert tr.flops("forward", "dot") == 2 * m * k * n
    assert tr.macs("forward", "dot") == m * k * n
    assert tr.flops("backward", "dot") == 4 * m * k * n
    assert tr.macs("backward") == 2 * m * k * n


def test_matmul_backward_counts_only_the_gradients_needed():
    a, b = _randn(4, 3, requires_grad=True), _randn(3, 5, seed=1)
    with trace() as tr:
        (a @ b).sum().backward()
    assert tr.flops("backward", "dot") == 2 * 4 * 3 * 5


def test_batched_matmul_counts():
    bsz, m, k, n = 3, 4, 5, 2
    a, b = _randn(bsz, m, k, requires_grad=True), _randn(k, n, requires_grad=True, seed=1)
    with trace() as tr:
        (a @ b).sum().backward()
    assert tr.flops("forward", "dot") == 2 * bsz * m * k * n
    assert tr.flops("backward", "dot") == 4 * bsz * m * k * n
    # the weight's gradient is summed back over the batch axis: a reduction, counted apart
    assert tr.flops("backward", "reduction") >= bsz * k * n


@pytest.mark.parametrize("batch", [1, 2, 7])
def test_linear_counts_match_the_formula(batch):
    layer, n_in, n_out = Dense(6, 4), 6, 4
    x = _randn(batch, n_in, requires_grad=True)
    with trace() as tr:
        layer(x).sum().backward()
    assert tr.flops("forward", "dot") == 2 * batch * n_in * n_out
    assert tr.flops("backward", "dot") == 4 * batch * n_in * n_out
    assert tr.flops("forward", "elementwise") == batch * n_out      # the bias add, counted apart
    assert tr.flops("backward", "reduction") >= batch * n_out       # the bias gradient


def test_counts_scale_linearly_with_batch_size():
    def counts(batch):
        net = Net()  # fresh .grad: accumulating into an existing .grad would add FLOPs
        with trace() as tr:
            net(_randn(batch, 6, requires_grad=True)).sum().backward()
        return [tr.flops(p, c) for p in ("forward", "backward") for c in ("dot", "elementwise")] + \
            [tr.macs(), tr.flops("backward", "reduction")]

    one, four = np.array(counts(1)), np.array(counts(4))
    assert one[0] > 0 and (four == 4 * one).all()


def test_elementwise_and_reduction_categories():
    x = _randn(3, 4)
    with trace() as tr:
        (x.exp() * 2).sum(axis=1)
    assert tr.flops(category="elementwise") == 2 * 12
    assert tr.flops(category="reduction") == 12
    assert tr.flops(category="dot") == 0


# ---- BOPs -----------------------------------------------------------------------------------------
def test_bops_only_where_both_operands_are_binary():
    rng = np.random.default_rng(0)
    xb = mg.Tensor(np.where(rng.random((4, 8)) < 0.5, -1.0, 1.0))
    wb = mg.Tensor(np.where(rng.random((8, 3)) < 0.5, -1.0, 1.0))
    xf = _randn(4, 8)
    with trace() as tr:
        xb @ wb
    assert tr.bops() == 4 * 8 * 3 and tr.flops() == 0
    assert tr.ops() == 4 * 8 * 3 / 64
    with trace() as tr:
        xf @ wb
    assert tr.bops() == 0 and tr.flops() == 2 * 4 * 8 * 3


# ---- module attribution ----------------------------------------------------------------------------
def test_module_paths_follow_modules_names():
    net = Net()
    with trace() as tr:
        net(_randn(2, 6))
    dots = [r for r in tr.records if r.name == "matmul"]
    assert [r.module for r in dots] == ["features.0", "features.2", "head"]
    assert [r.module for r in tr.records if r.name == "relu"] == ["features.1"]
    assert tr.module_types["features"] == "Chain" and tr.module_types[""] == "Net"


def test_model_argument_names_paths_from_named_modules():
    net = Net()
    with trace(net) as tr:
        net.features(_randn(2, 6))   # called directly: the path is still the model's name for it
    assert {r.module for r in tr.records} == {"features.0", "features.1", "features.2"}


def test_per_module_sums_equal_totals():
    net = Net()
    with trace() as tr:
        net(_randn(3, 6, requires_grad=True)).sum().backward()
    rows = {r["path"]: r for r in tr.by_module().rows}
    leaves = ["features.0", "features.1", "features.2", "head"]
    for phase in ("forward", "backward"):
        total = tr.flops(phase)
        inside = sum(rows[p][f"flops_{phase}"] for p in leaves)
        outside = rows[None][f"flops_{phase}"] if None in rows else 0
        assert inside + outside == total
        assert rows[""][f"flops_{phase}"] + outside == total
        assert rows["features"][f"flops_{phase}"] == sum(rows[p][f"flops_{phase}"] for p in leaves[:3])
    # the backward of each layer is attributed to it: 4 B in out dot FLOPs (the input needs a grad)
    assert tr.flops("backward", "dot", module="head") == 4 * 3 * 4 * 3
    assert tr.flops("backward", "dot", module="features.0") == 4 * 3 * 6 * 5


def test_backward_records_carry_the_rule_and_the_op_they_differentiate():
    x = _randn(5, requires_grad=True)

    def halved(ctx, g):
        return (g * 0.5,)
    with trace() as tr:
        y = mg.tanh(x)
        z = mg.Tensor.__mul__(y, 3.0)
        with mg.backward_rules(exp=halved):
            w = z.exp()
        w.sum().backward()
    fwd = {r.name: r for r in tr.select(phase="forward")}
    assert fwd["exp"].rule == "test_backward_records_carry_the_rule_and_the_op_they_differentiate.<locals>.halved"
    assert fwd["tanh"].rule == "Tanh.backward"
    bwd = tr.select(phase="backward")
    assert {r.grad_of for r in bwd} >= {"exp", "mul", "tanh"}
    assert all(r.rule == fwd["exp"].rule for r in bwd if r.grad_of == "exp")


def test_optimizer_phase_is_recorded():
    w = Parameter(np.ones(3))
    with trace() as tr:
        (w * 2).sum().backward()
        with mg.no_grad(), autograd.phase("optimizer"):
            w.sub_(w.grad, alpha=0.1)
    assert tr.flops("optimizer") == 2 * 3  # the multiply by lr and the subtraction
    assert tr.select(phase="optimizer")[0].module is None


# ---- nothing silently zero --------------------------------------------------------------------------
class Opaque(mg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.data * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


class Broken(mg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.data + 1

    @staticmethod
    def cost(ctx, out, x):
        raise ValueError("boom")


def test_ops_without_a_cost_are_listed_not_zero():
    x = _randn(4)
    with trace() as tr:
        Broken.apply(Opaque.apply(x)).sum()
    missing = tr.uncounted()
    assert [r.name for r in missing] == ["opaque", "broken"]
    assert "declares no cost" in missing[0].note and "boom" in missing[1].note
    assert "not counted (2 ops)" in tr.report() and "opaque" in tr.report()
    assert tr.summary()["uncounted"] == ["broken", "opaque"]


# ---- bytes ----------------------------------------------------------------------------------------
def test_bytes_from_the_arrays_and_views_move_nothing():
    x = mg.Tensor(np.ones((4, 8), np.float32))
    with trace() as tr:
        y = x.exp()
        y.reshape(32)
    exp, reshape = tr.records
    assert (exp.bytes_read, exp.bytes_written) == (128, 128)
    assert reshape.bytes == 0
    assert tr.bytes() == 256


# ---- the observer comes and goes; results are unchanged --------------------------------------------
def test_observer_removed_on_exit_and_after_an_exception():
    before = list(autograd._observers)
    with trace():
        assert len(autograd._observers) == len(before) + 1
    assert autograd._observers == before
    with pytest.raises(ZeroDivisionError):
        with trace():
            1 / 0
    assert autograd._observers == before
    from minigrad.nn import module
    assert not module._global_forward_hooks and not module._global_forward_pre_hooks


def test_module_stack_survives_an_exception_in_a_layer():
    class Bad(Module):
        def forward(self, x):
            raise RuntimeError("bad layer")
    net = Chain(Dense(3, 3), Bad())
    with pytest.raises(RuntimeError, match="bad layer"):
        with trace():
            net(_randn(1, 3))
    with trace() as tr:
        Dense(3, 2)(_randn(1, 3))
        net._modules["0"](_randn(1, 3))
    assert [r.module for r in tr.records if r.name == "matmul"] == ["", ""]


def _step(net, x, traced):
    net.zero_grad()
    if traced:
        with trace():
            out = net(x)
            out.sum().backward()
    else:
        out = net(x)
        out.sum().backward()
    return out.numpy().copy(), [p.grad.numpy().copy() for p in net.parameters()]


@given(st.integers(1, 5), st.integers(0, 100))
def test_tracing_changes_no_result(batch, seed):
    net, x = Net(), _randn(batch, 6, seed=seed, dtype=np.float32)
    net.float() if hasattr(net, "float") else None
    out0, grads0 = _step(net, x, False)
    out1, grads1 = _step(net, x, True)
    assert out0.tobytes() == out1.tobytes()
    assert all(a.tobytes() == b.tobytes() for a, b in zip(grads0, grads1))


def test_probe_records_the_gradient_norm():
    x = _randn(6, requires_grad=True)
    with trace():
        y = x.tanh()
        (y * y).sum().backward()
    from minigrad.trace import probes
    assert probes(y.grad_fn)[0].norm is None  # off by default
    with trace(grad_norms=True) as tr:
        y = x.tanh()
        z = (y * y).sum()
        z.backward()
    probe, = probes(y.grad_fn)
    expected = np.linalg.norm(2 * np.tanh(x.numpy()))
    assert probe.norm == pytest.approx(expected, rel=1e-12)
    assert probe.backward_flops == tr.flops("backward", module=None) - sum(
        r.flops for r in tr.select(phase="backward") if r.grad_of != "tanh")


def test_tables_render():
    net = Net()
    with trace() as tr:
        net(_randn(2, 6, requires_grad=True)).sum().backward()
    text, md = str(tr.by_module()), tr.by_module().to_markdown()
    assert "features.0" in text and "head" in text and md.startswith("| module |")
    assert len(md.splitlines()) == 2 + len(tr.by_module().rows)
    ops = tr.by_op()
    assert sum(r["flops"] for r in ops.rows) == tr.flops()
    assert {(r["op"], r["phase"]) for r in ops.rows} >= {("matmul", "forward"), ("matmul", "backward")}
    assert "FLOPs" in tr.report() and repr(tr).startswith("<trace:")


def test_unknown_phase_is_a_clear_error():
    with trace() as tr:
        pass
    with pytest.raises(ValueError, match="unknown phase 'fwd'"):
        tr.flops("fwd")


# ---- torch cross-check (optional; the formulas above check the same numbers without torch) ----------
def test_matmul_counts_equal_torch_flop_counter():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    a_np, b_np = np.random.default_rng(0).standard_normal((2, 7, 5)), np.random.default_rng(1).standard_normal((5, 3))
    a, b = mg.Tensor(a_np, requires_grad=True), mg.Tensor(b_np, requires_grad=True)
    with trace() as tr:
        (a @ b).sum().backward()
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    with FlopCounterMode(display=False) as fc:
        y = ta @ tb
    fwd = fc.get_total_flops()
    with FlopCounterMode(display=False) as fc:
        y.sum().backward()
    assert tr.flops("forward", "dot") == fwd
    assert tr.flops("backward", "dot") == fc.get_total_flops()


# ---- the layers of mg.nn ------------------------------------------------------------------------------
def _conv_macs(n, c_in, c_out, k, h, w, stride, padding, groups):
    oh = (h + 2 * padding - k) // stride + 1
    ow = (w + 2 * padding - k) // stride + 1
    return n * c_out * oh * ow * (c_in // groups) * k * k


def test_conv2d_of_the_issue():
    conv = mg.nn.Conv2d(3, 64, 3, padding=1, bias=False)
    x = mg.randn(1, 3, 32, 32)
    with trace() as tr:
        conv(x)
    assert tr.flops("forward", "dot") == 3_538_944
    assert tr.macs("forward") == 1_769_472


@pytest.mark.parametrize("stride,padding,groups", [(1, 0, 1), (2, 1, 1), (1, 1, 2), (2, 0, 4)])
def test_conv2d_counts_forward_and_backward(stride, padding, groups):
    n, c_in, c_out, k, h, w = 2, 4, 8, 3, 9, 7
    conv = mg.nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, groups=groups, dtype=np.float64)
    x = _randn(n, c_in, h, w, requires_grad=True)
    with trace() as tr:
        conv(x).sum().backward()
    macs = _conv_macs(n, c_in, c_out, k, h, w, stride, padding, groups)
    assert tr.macs("forward") == macs and tr.flops("forward", "dot") == 2 * macs
    assert tr.flops("backward", "dot") == 4 * macs  # grad of input and of weight
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    assert tr.flops("forward", "elementwise") == n * c_out * oh * ow  # the bias, counted apart
    by_module = {r["path"]: r for r in tr.by_module().rows}
    assert by_module[""]["flops_forward"] == tr.flops("forward") - tr.flops("forward", "reduction")  # .sum()


def test_nn_linear_and_conv_equal_torch_flop_counter():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    for layer, tlayer, shape in [
            (mg.nn.Linear(7, 5, dtype=np.float64), torch.nn.Linear(7, 5).double(), (3, 7)),
            (mg.nn.Conv2d(4, 6, 3, stride=2, padding=1, dtype=np.float64),
             torch.nn.Conv2d(4, 6, 3, stride=2, padding=1).double(), (2, 4, 8, 8)),
            (mg.nn.Conv2d(3, 64, 3, padding=1, bias=False), torch.nn.Conv2d(3, 64, 3, padding=1, bias=False),
             (1, 3, 32, 32))]:
        # (grouped convs are left out: torch's counter ignores `groups` in the weight gradient, counting
        #  groups times its FLOPs; test_conv2d_counts_forward_and_backward checks them against the formula)
        x_np = np.random.default_rng(0).standard_normal(shape).astype(layer.weight.dtype)
        tlayer = tlayer.to(torch.float64 if x_np.dtype == np.float64 else torch.float32)
        with trace() as tr:
            layer(mg.Tensor(x_np, requires_grad=True)).sum().backward()
        tx = torch.tensor(x_np, requires_grad=True)
        with FlopCounterMode(display=False) as fc:
            y = tlayer(tx)
        fwd = fc.get_total_flops()
        with FlopCounterMode(display=False) as fc:
            y.sum().backward()
        assert tr.flops("forward", "dot") == fwd
        assert tr.flops("backward", "dot") == fc.get_total_flops()


def test_sequential_paths_and_the_first_layer_backward():
    model = mg.nn.Sequential(mg.nn.Linear(6, 5), mg.nn.ReLU(), mg.nn.Linear(5, 3))
    with trace() as tr:
        model(mg.randn(4, 6)).sum().backward()
    assert {r.module for r in tr.select(name="matmul")} == {"0", "2"}
    # the input needs no gradient: only the weight's, 2 B in out
    assert tr.flops("backward", "dot", module="0") == 2 * 4 * 6 * 5
    assert tr.flops("backward", "dot", module="2") == 4 * 4 * 5 * 3


def test_a_parameter_view_moves_no_bytes():
    w = Parameter(np.ones((3, 4)))
    with trace() as tr:
        w.T
    assert tr.records[0].in_shapes == [(3, 4)] and tr.records[0].bytes == 0


def test_records_read_during_a_trace_stay_complete():
    x = _randn(3, requires_grad=True)
    with trace() as tr:
        y = x.exp()
        assert [r.name for r in tr.records] == ["exp"]
        y.sum().backward()
        from minigrad.trace import probes
        assert probes(y.grad_fn)[0].backward_flops == 3  # g * exp(x)
        x.sin()
    assert [r.name for r in tr.records][-1] == "sin" and tr.records[0].name == "exp"
    assert tr.flops("forward") == 3 + 3 + 3


# ---- threads, tasks and exceptions ------------------------------------------------------------------
def test_a_trace_records_only_the_ops_of_its_own_thread():
    """A thread running ops and modules while the trace is open (its ops fall between the traced ones)
    adds nothing: neither records nor module paths."""
    x, net = _randn(2, 3), Dense(3, 3)
    traced_one, other_done, seen = threading.Event(), threading.Event(), []

    def other():
        traced_one.wait()
        seen.append(net(x.tanh()).numpy())  # module hooks and ops of another thread
        other_done.set()

    worker = threading.Thread(target=other)
    worker.start()
    with trace() as tr:
        x.exp()
        traced_one.set()
        assert other_done.wait(10)
        x.sin()
    worker.join()
    assert len(seen) == 1  # the other thread's ops did run inside the trace
    assert [(r.name, r.module) for r in tr.records] == [("exp", None), ("sin", None)]
    assert tr.module_paths() == []


def test_threads_started_inside_a_trace_are_recorded_only_when_run_in_its_context():
    x = _randn(2, 3)
    with trace() as tr:
        plain = threading.Thread(target=lambda: x.tanh())  # starts with an empty context (as no_grad)
        plain.start()
        plain.join()
        with ThreadPoolExecutor(1) as pool:
            pool.submit(contextvars.copy_context().run, x.exp).result()
    assert [r.name for r in tr.records] == ["exp"]


def test_asyncio_tasks_created_inside_a_trace_are_recorded_those_from_before_are_not():
    x = _randn(2, 3)

    async def main():
        go = asyncio.Event()

        async def before():
            await go.wait()
            return x.tanh()

        async def inside():
            await asyncio.sleep(0)
            return x.exp()

        early = asyncio.create_task(before())
        with trace() as tr:
            late = asyncio.create_task(inside())
            go.set()
            await asyncio.gather(early, late)  # both run while the trace is open
        return tr

    tr = asyncio.run(main())
    assert [r.name for r in tr.records] == ["exp"]


def test_each_context_keeps_its_own_module_stack():
    """Two threads (each in a copy of the traced context) inside two modules at once: each op gets the
    module of its own thread, not the one that entered last."""
    both_inside = threading.Barrier(2, timeout=10)

    class Waits(Module):
        def __init__(self, op):
            super().__init__()
            self.op = op

        def forward(self, x):
            both_inside.wait()  # both modules are on their threads' stacks now
            y = self.op(x)
            both_inside.wait()
            return y

    class Two(Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Waits(lambda x: x.exp()), Waits(lambda x: x.tanh())

    net, x = Two(), _randn(2, 3)
    with trace(net) as tr:
        with ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(contextvars.copy_context().run, m, x) for m in (net.a, net.b)]
            [j.result() for j in jobs]
    assert sorted((r.name, r.module) for r in tr.records) == [("exp", "a"), ("tanh", "b")]


def test_a_worker_in_the_traced_context_inherits_the_module_it_was_started_from():
    class FansOut(Module):
        def forward(self, x):
            with ThreadPoolExecutor(1) as pool:
                return pool.submit(contextvars.copy_context().run, x.exp).result()

    net = Chain(FansOut())
    with trace() as tr:
        net(_randn(2, 3))
    assert [(r.name, r.module) for r in tr.records] == [("exp", "0")]


class _Bad(Module):
    def forward(self, x):
        x.sin()
        raise RuntimeError("bad layer")


def test_module_paths_are_right_after_a_caught_exception_in_a_module():
    """A forward that raises never reaches the pop hook; the module must not stay on the stack, neither
    when its parent catches the exception nor when the user does (outside every module)."""
    class Catches(Module):
        def __init__(self):
            super().__init__()
            self.bad, self.good = _Bad(), Dense(3, 3)

        def forward(self, x):
            try:
                self.bad(x)
            except RuntimeError:
                pass
            return self.good(x.exp())

    net, x = Catches(), _randn(1, 3)
    with trace() as tr:
        net(x)                    # the parent catches
        try:
            net.bad(x)            # the user catches, outside every module
        except RuntimeError:
            pass
        x.tanh()
        net(x)
    inside = [("sin", "bad"), ("exp", ""), ("permute", "good"), ("matmul", "good"), ("add", "good")]
    assert [(r.name, r.module) for r in tr.records] == inside + [("sin", ""), ("tanh", None)] + inside
    assert tr.module_paths() == ["", "bad", "good"]


def test_attribution_after_an_exception_and_results_unchanged():
    net, x = Chain(Dense(3, 3, seed=1), Act()), _randn(2, 3, requires_grad=True)
    with trace() as tr:
        try:
            Chain(_Bad())(x)
        except RuntimeError:
            pass
        y = net(x)
        y.sum().backward()
    assert {r.module for r in tr.select(phase="forward", name="matmul")} == {"0"}
    assert {r.module for r in tr.select(phase="forward", name="relu")} == {"1"}
    assert tr.select(phase="forward", name="sum")[0].module is None
    assert {r.module for r in tr.select(phase="backward")} >= {"0", "1"}
    expected = Act()(_randn(2, 3) @ net._modules["0"].weight.T + net._modules["0"].bias)
    assert y.numpy().tobytes() == expected.numpy().tobytes()


def test_trace_given_a_tensor_says_it_is_the_op_tracer_not_torch_trace():
    with pytest.raises(TypeError, match=r"op tracer .* x\.trace\(\)"):
        trace(mg.eye(3))
    assert mg.eye(3).trace().item() == 3.0
