"""The efficiency report: parameter bytes at real precision, counts equal to the tracer's and the formulas,
per-layer sums, roofline and energy from their definitions, hardware profiles, renderings, comparisons,
and a model left as it was found."""
import gc
import json
import threading
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.profile import (HARDWARE, HORWITZ_45NM, EnergyTable, Hardware, get_hardware, measure_this_machine,
                              profile, register_hardware)

SLOW = Hardware("slow test chip", peak_flops=1e9, bandwidth=1e8, source="made up for the test")


def _mlp(binary=False):
    mg.manual_seed(0)
    if binary:
        return nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.Sign(), nn.BinaryLinear(32, 8))
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8))


def _x(batch=4, features=16):
    return mg.Tensor(np.random.default_rng(0).standard_normal((batch, features)).astype(np.float32))


def test_parameter_bytes_at_real_precision():
    binary = nn.BinaryLinear(64, 10)
    quant = nn.QuantLinear(64, 10, bits=3)
    r = profile(binary, _x(2, 64), measure=False, hardware=SLOW)
    assert r.totals["params"] == 640 and r.totals["param_bytes"] == 640 / 8
    assert r.totals["param_bytes_float32"] == 640 * 4
    r = profile(quant, _x(2, 64), measure=False, hardware=SLOW)
    assert r.totals["param_bytes"] == 640 * 3 / 8 + 10 * 4  # k-bit weights, float32 bias
    r = profile(_mlp(binary=True), _x(), measure=False, hardware=SLOW)
    layers = {row["layer"]: row for row in r.layers}
    assert layers["3"]["param_bytes"] == 32 * 8 / 8
    assert layers["0"]["param_bytes"] == (16 * 32 + 32) * 4
    assert r.totals["param_bytes"] == sum(row["param_bytes"] for row in r.layers)


def test_counts_match_the_formulas_and_the_tracer():
    b, model = 4, _mlp()
    r = profile(model, _x(b), measure=False, hardware=SLOW)
    t = r.totals
    dots = 2 * b * (16 * 32 + 32 * 8)
    assert t["macs_forward"] == dots // 2
    assert t["flops_forward"] == dots + b * 32 + b * 8 + b * 32  # matmuls + two bias adds + relu
    # backward: the first layer's input needs no gradient (2 B in out), the second's does (4 B in out)
    with mg.trace() as tr:
        model(_x(b)).backward(mg.ones(b, 8))
    assert t["flops_backward"] == tr.flops("backward")
    assert tr.flops("backward", "dot") == 2 * b * 16 * 32 + 4 * b * 32 * 8
    assert t["ops_forward"] == t["flops_forward"] + t["bops_forward"] / 64


def test_per_layer_sums_equal_totals():
    r = profile(_mlp(binary=True), _x(), measure=False, hardware=SLOW)
    for key in ("flops_forward", "macs_forward", "bops_forward", "flops_backward"):
        assert sum(row[key] for row in r.layers) == r.totals[key]
    assert sum(row["est_latency_forward_s"] for row in r.layers) == pytest.approx(r.totals["est_latency_forward_s"])


def test_bops_counted_where_both_operands_are_binary():
    r = profile(_mlp(binary=True), _x(), measure=False, hardware=SLOW)
    layers = {row["layer"]: row for row in r.layers}
    assert layers["3"]["bops_forward"] == 4 * 32 * 8 and layers["3"]["macs_forward"] == 0
    assert layers["0"]["bops_forward"] == 0 and r.totals["bops_forward"] == 4 * 32 * 8
    assert r.totals["ops_forward"] == r.totals["flops_forward"] + 4 * 32 * 8 / 64


def test_roofline_latency_from_its_definition():
    model, x = _mlp(), _x()
    r = profile(model, x, measure=False, hardware=SLOW)
    with mg.trace() as tr:
        model(x).backward(mg.ones(4, 8))
    fwd = sum(max((rec.flops + rec.bops / 64) / 1e9, rec.bytes / 1e8) for rec in tr.select(phase="forward"))
    bwd = sum(max((rec.flops + rec.bops / 64) / 1e9, rec.bytes / 1e8) for rec in tr.select(phase="backward"))
    assert r.totals["est_latency_forward_s"] == pytest.approx(fwd)
    assert r.totals["est_latency_train_s"] == pytest.approx(fwd + bwd)
    fast = profile(model, x, measure=False, hardware="h100")
    assert fast.totals["est_latency_forward_s"] < r.totals["est_latency_forward_s"]
    assert fast.totals["flops_forward"] == r.totals["flops_forward"]  # counts do not depend on the hardware


def test_energy_from_the_table():
    model, x = nn.Linear(16, 8, bias=False), _x()
    pj = {k: 0.0 for k in HORWITZ_45NM.pj}
    only_macs = EnergyTable("test", "test", {**pj, "fp32_mult": 2.0, "fp32_add": 1.0}, bop_pj=0.0, bop_note="")
    r = profile(model, x, measure=False, hardware=SLOW, energy=only_macs)
    assert r.totals["est_energy_forward_j"] == pytest.approx(4 * 16 * 8 * 3.0e-12)
    only_dram = EnergyTable("test", "test", {**pj, "dram_64bit": 8.0}, bop_pj=0.0, bop_note="")
    r = profile(model, x, measure=False, hardware=SLOW, energy=only_dram)
    assert r.totals["est_energy_forward_j"] == pytest.approx(16 * 8 * 4 * 1e-12)  # 1 pJ per parameter byte
    assert HORWITZ_45NM.pj["fp32_mult"] == 3.7 and "ISSCC 2014" in HORWITZ_45NM.source


def test_peak_activation_memory():
    model, x = nn.Linear(16, 8, bias=False), _x(4)
    r = profile(model, x, backward=False, measure=False, hardware=SLOW)
    assert r.totals["peak_activation_bytes"] == 4 * 8 * 4  # the one output; the transpose is a view
    assert r.totals["peak_training_bytes"] is None and r.totals["flops_backward"] is None
    r = profile(model, x, measure=False, hardware=SLOW)
    assert r.totals["peak_activation_bytes"] == 4 * 8 * 4
    assert r.totals["peak_training_bytes"] > r.totals["peak_activation_bytes"]  # plus the gradients


class _Fresh(mg.Function):
    """The left half of a new (n, 2m) array: a view whose base is a fresh allocation of twice its size."""

    @staticmethod
    def forward(ctx, x):
        return np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)[:, :x.shape[1]]


class _KeepsMask(mg.Function):
    """relu, keeping the mask x > 0 on its graph node for backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.mask = x.data > 0
        return x.data * ctx.mask

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask


def test_peak_memory_counts_each_allocation_once_by_its_base():
    class Views(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones((8, 8), np.float32))

        def forward(self, x):
            y = _Fresh.apply(x)                   # a view of a new 4 x 16 float32 array: 256 B, not the view's 128
            y.T, y.unsqueeze(0).permute(2, 0, 1)  # views of memory counted already: nothing more
            x.T, self.w.T, self.w.unsqueeze(0)    # views of an input and of a parameter: no memory made
            return y

    r = profile(Views(), _x(4, 8), backward=False, measure=False, hardware=SLOW)
    assert r.totals["peak_activation_bytes"] == 4 * 16 * 4


def test_peak_memory_counts_the_arrays_a_graph_node_keeps():
    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones(8, np.float32))

        def forward(self, x):
            return _KeepsMask.apply(x * self.w)

    model, x = Gate(), _x(4, 8)
    no_graph = profile(model, x, backward=False, measure=False, hardware=SLOW).totals
    graph = profile(model, x, measure=False, hardware=SLOW).totals
    assert no_graph["peak_activation_bytes"] == 128 + 128      # x * w, alive while the gate runs, and the output
    assert graph["peak_activation_bytes"] == 128 + 32 + 128    # and the bool mask the graph keeps for backward


def _conv_net():
    mg.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(16, 10))


def _tracemalloc_peak(fn):
    """Bytes allocated by fn() at its peak, above what was allocated before (tracemalloc)."""
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()
    del out
    return peak


@pytest.mark.parametrize("backward", [True, False])
def test_peak_memory_agrees_with_tracemalloc_on_a_conv_net(backward):
    """tracemalloc sees every allocation; the profile counts the arrays ops make and keep (outputs, and
    what graph nodes keep for backward), so it is at most tracemalloc's peak. The rest of tracemalloc's
    peak is temporaries inside an op, freed before it returns (im2col's padded copy, max pool's
    comparisons), and Python objects (graph nodes, Tensors): about 2% here, hence the 5% tolerance. Counting
    only the outputs that own their memory (not im2col's columns, a reshape of a new array) gave a third."""
    model, x = _conv_net(), mg.Tensor(np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32))
    ours = profile(model, x, backward=backward, measure=False, hardware=SLOW).totals["peak_activation_bytes"]
    if backward:
        measured = _tracemalloc_peak(lambda: model(x))
    else:
        with mg.no_grad():
            measured = _tracemalloc_peak(lambda: model(x))
    assert 0.95 * measured <= ours <= measured


def test_memory_of_other_threads_is_not_counted():
    """Another thread makes (and holds) a 4 MB array while the profiled forward runs: not ours."""
    made, held = threading.Event(), []

    class Waits(nn.Module):
        def forward(self, x):
            worker = threading.Thread(target=lambda: (held.append(mg.zeros(1024, 1024) + 1), made.set()))
            worker.start()
            assert made.wait(10)
            worker.join()
            return x * 2

    r = profile(Waits(), _x(4), backward=False, measure=False, hardware=SLOW)
    assert held[0].numpy().nbytes == 4 * 2 ** 20  # it ran, inside the forward
    assert r.totals["peak_activation_bytes"] == 4 * 16 * 4


def test_measured_latency_and_throughput():
    r = profile(_mlp(), _x(4), repeats=3, hardware=SLOW)
    t = r.totals
    assert t["repeats"] == 3 and t["measured_latency_s"] > 0 and t["measured_train_s"] > 0
    assert t["throughput"] == pytest.approx(4 / t["measured_latency_s"])


def test_hardware_profiles():
    hw = measure_this_machine()
    assert hw.measured and hw.peak_flops > 1e6 and hw.bandwidth > 1e6
    assert get_hardware("this-machine") is hw  # measured once per process
    for key in ("laptop-cpu", "raspberry-pi-4", "a100", "h100"):
        assert HARDWARE[key].source and not HARDWARE[key].measured
    assert HARDWARE["a100"].peak_flops == 19.5e12
    with pytest.raises(ValueError, match="unknown hardware 'tpu'"):
        get_hardware("tpu")
    mine = register_hardware("my-board", Hardware("my board", 2e9, 1e9, "my measurements"))
    try:
        assert profile(_mlp(), _x(), measure=False, hardware="my-board").hardware is mine
    finally:
        HARDWARE.pop("my-board")
    assert SLOW.ridge == 10.0 and SLOW.time(1e9, 0) == 1.0 and SLOW.time(0, 1e9) == 10.0


def test_renderings_and_json():
    r = profile(_mlp(binary=True), _x(), repeats=3, hardware=SLOW)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["totals"]["params"] == r.totals["params"] and len(d["layers"]) == 4
    assert [m["hardware_independent"] for m in d["metrics"]] == [True, True, False, False, False]
    text, md = r.to_text(), r.to_markdown()
    assert "parameter size" in text and "BinaryLinear" in text and "Horowitz" in text
    assert "| metric | value | hardware independent |" in md
    assert "| parameter size |" in md and "| yes |" in md and "| no |" in md


def test_profiling_leaves_the_model_as_it_was():
    model = _mlp(binary=True)
    x = _x()
    model(x).sum().backward()
    grads = [np.array(p.grad.numpy()) for p in model.parameters()]
    stats = np.array(model._modules["1"].running_mean.numpy())
    mg.manual_seed(5)
    expected_next = mg.randn(3).numpy()
    mg.manual_seed(5)
    profile(model, x, repeats=3, hardware=SLOW)
    assert all(np.array_equal(p.grad.numpy(), g) for p, g in zip(model.parameters(), grads))
    assert np.array_equal(model._modules["1"].running_mean.numpy(), stats)
    assert np.array_equal(mg.randn(3).numpy(), expected_next)


def test_comparison_says_when_rankings_disagree():
    mg.manual_seed(0)
    # a small conv net has fewer parameters (1,106) but more FLOPs than a narrow MLP (2,682 parameters)
    conv = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 2))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 40), nn.ReLU(), nn.Linear(40, 2))
    x = mg.randn(2, 1, 8, 8)
    c = profile([conv, mlp], x, names=["conv", "mlp"], measure=False, hardware=SLOW)
    assert [r.model for r in c.reports] == ["conv", "mlp"]
    assert (c[0].totals["params"], c[1].totals["params"]) == (1106, 2682)
    assert c[0].totals["flops_forward"] > c[1].totals["flops_forward"]
    ranks = c.rankings()
    assert list(ranks) == ["parameter size", "FLOPs", "roofline latency"]  # nothing measured
    assert ranks["parameter size"] == ["conv", "mlp"] and ranks["FLOPs"] == ["mlp", "conv"]
    assert "ranking by parameter size (conv < mlp) disagrees with ranking by FLOPs (mlp < conv)" in c.disagreements()
    assert "disagrees" in c.to_text() and "Dehghani" in c.to_text()
    same = profile([mlp, mlp], x, measure=False, hardware=SLOW)
    assert not same.disagreements() and "agree" in same.to_text()
    assert [r.model for r in same.reports] == ["Sequential #1", "Sequential #2"]
    json.dumps(c.to_dict())


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="expected an mg.nn.Module"):
        profile(lambda x: x, _x())
    with pytest.raises(TypeError, match="energy must be an EnergyTable"):
        profile(_mlp(), _x(), energy={"fp32_add": 1}, hardware=SLOW)
    with pytest.raises(ValueError, match="2 models but 1 names"):
        profile([_mlp(), _mlp()], _x(), names=["a"], hardware=SLOW, measure=False)


def test_metrics_table_side_by_side():
    c = profile([_mlp(), _mlp(binary=True)], _x(), names=["float", "binary"], measure=False, hardware=SLOW)
    rows = {r["metric"]: r for r in c.metrics_table().rows}
    assert list(rows) == ["parameter size", "FLOPs (and MACs)", "latency", "energy", "throughput"]
    assert [rows[m]["hardware independent"] for m in rows] == ["yes", "yes", "no", "no (estimated at 45 nm here)", "no"]
    assert rows["FLOPs (and MACs)"]["binary"].endswith(" + 1.024K BOPs")  # 4 x 32 x 8
    assert rows["latency"]["float"].endswith("(roofline)") and rows["throughput"]["float"] == "-"
    timed = profile([_mlp()], _x(), repeats=3, hardware=SLOW)
    latency = timed.metrics_table().rows[2][timed[0].model]
    assert latency == f"{timed[0].totals['measured_latency_s'] * 1e3:.3f} ms"


def test_the_energy_table_is_horowitz_and_reachable_from_mg_profile():
    from minigrad.profile import HOROWITZ_45NM, BOP_WORD
    assert HORWITZ_45NM is HOROWITZ_45NM                    # the old, misspelt name still works
    assert mg.profile.HOROWITZ_45NM is HOROWITZ_45NM        # mg.profile is the function; the names hang on it
    assert mg.profile.EnergyTable is EnergyTable and mg.profile.HARDWARE is HARDWARE
    assert HOROWITZ_45NM.name == "Horowitz 45 nm" and "fixed 45 nm estimate" in HOROWITZ_45NM.source
    # one word of XNOR-popcount = BOP_WORD BOPs, priced as one 64-bit add (two 32-bit adds): the same 64 as OPs
    assert BOP_WORD == 64
    assert HOROWITZ_45NM.bop_pj * BOP_WORD == pytest.approx(2 * HOROWITZ_45NM.pj["int32_add"])
    assert str(BOP_WORD) in HOROWITZ_45NM.bop_note


def test_energy_is_the_same_45nm_estimate_on_every_hardware_profile():
    model = _mlp(binary=True)
    energies = {profile(model, _x(), measure=False, hardware=h).totals["est_energy_forward_j"]
                for h in ("raspberry-pi-4", "a100", "laptop-cpu")}
    assert len(energies) == 1
    c = profile([model], _x(), measure=False, hardware="a100")
    assert "energy (45 nm est.)" in c.table().to_text() and "45 nm" in " ".join(c.notes())


def test_papers_count_one_flop_per_mac():
    r = profile(_mlp(binary=True), _x(), measure=False, hardware=SLOW)
    t = r.totals
    assert t["ops_forward_papers"] == t["bops_forward"] / 64 + t["macs_forward"]
    assert t["macs_forward"] == 4 * 16 * 32  # the float first layer only; the binary layer's products are BOPs
    assert "papers' convention" in r.to_text()
    c = profile([_mlp(), _mlp(binary=True)], _x(), names=["f", "b"], measure=False, hardware=SLOW)
    row = next(row for row in c.table().rows if row["metric"] == "OPs, papers' count")
    assert row["f"] == mg.trace.__globals__["human"](c[0].totals["macs_forward"])


def test_weight_preparation_is_counted_once_and_apart():
    """sign(W) of a binary layer depends on the weights only: at inference the binarized weight is stored (1 bit,
    in parameter size), so its float32 copy is not an activation and its FLOPs are not the forward pass's."""
    x = _x()
    with mg.trace() as tr, mg.no_grad():
        _mlp(binary=True)(x)                                   # a fresh model: its sign(W) runs in this call
    model = _mlp(binary=True)
    r = profile(model, x, measure=False, hardware=SLOW, backward=False)
    t = r.totals
    assert t["weight_prep_flops"] == 32 * 8                    # one sign per weight of the binary layer
    assert t["weight_prep_bytes"] == 32 * 8 * 4                # its float32 copy
    assert t["flops_forward"] == tr.flops("forward") - 32 * 8
    float_twin = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.Sign(), nn.Linear(32, 8, bias=False))
    same = profile(float_twin, x, measure=False, hardware=SLOW, backward=False).totals
    assert t["peak_activation_bytes"] == same["peak_activation_bytes"]  # the activations are the same arrays
    assert "weight preparation" in r.to_text()
    # the layer rows add up to the totals without it, too
    assert sum(row["flops_forward"] for row in r.layers) == t["flops_forward"]


def test_timing_reports_and_limits_blas_threads():
    from minigrad.profile import blas_threads, blas_threads_limited
    before = blas_threads()
    r = profile(_mlp(), _x(), repeats=3, hardware=SLOW, threads=1)
    assert blas_threads() == before                            # restored after
    if before is None:
        pytest.skip("this NumPy's BLAS thread count cannot be read (no threadpoolctl, no bundled OpenBLAS)")
    assert r.totals["blas_threads"] == 1 and "1 BLAS thread)" in r.to_text()
    with blas_threads_limited(1):
        assert blas_threads() == 1
    assert blas_threads() == before
    assert mg.profile.set_blas_threads(1) == before and blas_threads() == 1
    assert mg.profile.set_blas_threads(before) == 1 and blas_threads() == before
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        profile(_mlp(), _x(), repeats=3, hardware=SLOW, threads=0)


def test_reports_render_as_html_in_jupyter():
    r = profile(_mlp(binary=True), _x(), measure=False, hardware=SLOW)
    html = r._repr_html_()
    assert html.count("<table") == 2 and "BinaryLinear" in html and "Horowitz" in html
    c = profile([_mlp(), _mlp(binary=True)], _x(), names=["f", "b"], measure=False, hardware=SLOW)
    assert "<table" in c._repr_html_() and "45 nm" in c._repr_html_()
    with mg.trace() as tr:
        _mlp()(_x()).sum().backward()
    page = tr._repr_html_()
    assert page.count("<table") == 2 and "per module" in page and "not counted: nothing" in page
    assert "<td" in tr.by_op()._repr_html_()
