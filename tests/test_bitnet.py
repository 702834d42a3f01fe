"""BitNet b1.58: the quantizers against their formulas (Ma et al. 2024), their surrogates as declared, swappable rules,
BitLinear against the authors' reference code (run in PyTorch), ternary_linear's gradients, the costs the tracer
counts (additions, category 'ternary') and the sizes and energy the efficiency report gives."""
import copy
import math
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.bitnet import TERNARY_BITS, TernaryParameter, ternary_linear
from minigrad.profile import HOROWITZ_45NM

rng = np.random.default_rng(158)


# ---- the quantizers against their formulas ---------------------------------------------------------------
def test_absmean_ternary_is_the_formula():
    w = rng.standard_normal((16, 24)).astype(np.float32) * 0.05
    levels, gamma = mg.ste.absmean_ternary(mg.tensor(w))
    assert gamma == pytest.approx(float(np.abs(w).mean()))
    np.testing.assert_array_equal(levels.numpy(), np.clip(np.round(w / np.float32(gamma)), -1, 1))
    assert set(np.unique(levels.numpy())) == {-1.0, 0.0, 1.0} and levels.dtype == np.float32
    assert not np.signbit(levels.numpy()[levels.numpy() == 0]).any()  # no -0.
    zeros, eps = mg.ste.absmean_ternary(mg.zeros(3, 3), eps=1e-5)
    assert eps == 1e-5 and not zeros.numpy().any()


def test_absmax_quantize_is_the_formula_per_token_and_per_tensor():
    x = rng.standard_normal((2, 5, 8)).astype(np.float32)
    levels, s = mg.ste.absmax_quantize(mg.tensor(x))
    want_s = 127 / np.abs(x).max(axis=-1, keepdims=True)
    np.testing.assert_allclose(s.numpy(), want_s, rtol=1e-6)
    np.testing.assert_array_equal(levels.numpy(), np.clip(np.round(x * s.numpy()), -128, 127))
    assert np.abs(levels.numpy()).max(axis=-1).min() == 127  # each token's largest entry takes the top level
    assert np.abs(levels.numpy() / s.numpy() - x).max() <= 0.5 / s.numpy().min() + 1e-6
    whole, s1 = mg.ste.absmax_quantize(mg.tensor(x), bits=4, dim=None)
    assert s1.shape == (1, 1, 1) and s1.item() == pytest.approx(7 / np.abs(x).max())
    assert whole.numpy().min() >= -8 and whole.numpy().max() <= 7
    with pytest.raises(ValueError):
        mg.ste.absmax_quantize(mg.tensor(x), bits=1)
    with pytest.raises(IndexError):
        mg.ste.absmax_quantize(mg.tensor(x), dim=3)


# ---- the surrogates: declared, bound, swappable -------------------------------------------------------------
def _weight_grad(w, **kwargs):
    w = mg.tensor(w, requires_grad=True)
    levels, gamma = mg.ste.absmean_ternary(w, **kwargs)
    levels.backward(mg.ones(*levels.shape))
    return levels, gamma, w.grad.numpy()


def test_default_rules_are_the_authors_straight_through_estimators():
    assert isinstance(mg.ste.OPS["absmean_ternary"].default_rule, mg.ste.Identity)
    assert isinstance(mg.ste.OPS["absmax_quantize"].default_rule, mg.ste.Identity)
    w = rng.standard_normal((6, 6))
    levels, gamma, grad = _weight_grad(w)
    assert repr(levels.grad_fn) == "<absmean_ternary, rule=Identity()>"
    np.testing.assert_allclose(grad, 1 / gamma)  # d(W/gamma)/dW with the identity through the rounding
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    q, s = mg.ste.absmax_quantize(x)
    (q / s).sum().backward()  # x~ / s passes the gradient straight through
    np.testing.assert_allclose(x.grad.numpy(), 1.0)


def test_surrogates_swap_per_call_per_scope_and_by_default():
    w = rng.standard_normal((8, 8))
    _, gamma, grad = _weight_grad(w, surrogate=mg.ste.Clipped(1.5))
    np.testing.assert_allclose(grad, (np.abs(w / gamma) <= 1.5) / gamma)
    with mg.ste.surrogates(absmean_ternary=mg.ste.Zero()):
        levels, _, grad = _weight_grad(w)
    assert repr(levels.grad_fn) == "<absmean_ternary, rule=Zero()>" and not grad.any()
    previous = mg.ste.set_default(absmean_ternary=mg.ste.Clipped(1.5))
    try:
        assert repr(_weight_grad(w)[0].grad_fn) == "<absmean_ternary, rule=Clipped(clip=1.5)>"
        np.testing.assert_allclose(_weight_grad(w)[2], (np.abs(w / gamma) <= 1.5) / gamma)
    finally:
        mg.ste.set_default(**previous)
    assert isinstance(mg.ste.OPS["absmean_ternary"].default_rule, mg.ste.Identity)


def test_bitlinear_surrogates_show_in_the_graph_view():
    layer = nn.BitLinear(4, 3, weight_surrogate=mg.ste.Clipped(1.5))
    y = layer(mg.randn(2, 4, requires_grad=True)).sum()
    dot = mg.viz.to_dot(y, params=dict(layer.named_parameters()))
    assert "absmean_ternary" in dot and "rule: Clipped(clip=1.5)" in dot
    assert "absmax_quantize" in dot and "rule: Identity()" in dot
    assert "weight_surrogate=Clipped(clip=1.5)" in repr(layer)


# ---- BitLinear against the authors' code ----------------------------------------------------------------------
torch = pytest.importorskip("torch")


def _reference(x, w, b=None, norm=True):
    """BitLinear as in "The Era of 1-bit LLMs: Training Tips, Code and FAQ" (Ma et al. 2024), in PyTorch."""
    def weight_quant(w):
        scale = 1.0 / w.abs().mean().clamp_(min=1e-5)
        return (w * scale).round().clamp_(-1, 1) / scale

    def activation_quant(x):
        scale = 127.0 / x.abs().max(dim=-1, keepdim=True).values.clamp_(min=1e-5)
        return (x * scale).round().clamp_(-128, 127) / scale
    x_norm = torch.nn.functional.rms_norm(x, (x.shape[-1],)) if norm else x
    x_quant = x_norm + (activation_quant(x_norm) - x_norm).detach()
    w_quant = w + (weight_quant(w) - w).detach()
    return torch.nn.functional.linear(x_quant, w_quant, b)


@pytest.mark.parametrize("bias, norm, shape", [(False, True, (2, 5, 16)), (True, True, (7, 16)),
                                               (False, False, (3, 16))], ids=["3-d", "bias", "no-norm"])
def test_bitlinear_matches_the_reference_code(bias, norm, shape):
    mg.manual_seed(1)
    layer = nn.BitLinear(16, 8, bias=bias, norm=norm)
    x = mg.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tw = torch.tensor(layer.weight.numpy(), requires_grad=True)
    tb = torch.tensor(layer.bias.numpy(), requires_grad=True) if bias else None
    y, ty = layer(x), _reference(tx, tw, tb, norm)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(mg.tensor(g))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.weight.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    if bias:
        np.testing.assert_allclose(layer.bias.grad.numpy(), tb.grad.numpy(), rtol=1e-5)


def test_ternary_linear_gradients_to_second_order_and_both_executions():
    x = rng.standard_normal((2, 3, 5))
    w = rng.integers(-1, 2, (4, 5)).astype(np.float64)
    assert mg.testing.gradcheck(ternary_linear, (mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)))
    assert mg.testing.gradgradcheck(lambda a, b: ternary_linear(a, b) ** 2,
                                    (mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)))
    np.testing.assert_allclose(ternary_linear(mg.tensor(x), mg.tensor(w)).numpy(), x @ w.T)
    grads = []
    for create_graph in (False, True):
        a, b = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
        grads.append([g.numpy().tobytes() for g in mg.grad(ternary_linear(a, b).sum(), (a, b),
                                                           create_graph=create_graph)])
    assert grads[0] == grads[1]
    with pytest.raises(RuntimeError):
        ternary_linear(mg.ones(2, 3), mg.ones(4, 5))


def test_the_ternary_weight_is_computed_once_per_weight_update():
    layer = nn.BitLinear(6, 4)
    opt = mg.optim.SGD(layer.parameters(), lr=0.1)
    with mg.no_grad():
        a, b = layer.ternary_weight(), layer.ternary_weight()
    assert a[0] is b[0]
    loss = layer(mg.randn(3, 6)).pow(2).sum()
    loss.backward()
    opt.step()
    with mg.no_grad():
        c = layer.ternary_weight()
    assert c[0] is not a[0]
    with mg.no_grad():
        gamma = float(np.abs(layer.weight.numpy()).mean())
    assert c[1] == pytest.approx(gamma)


# ---- sizes, costs, energy ---------------------------------------------------------------------------------------
def test_ternary_parameter_counts_1_58_bits_and_2_packed_and_survives_copies():
    layer = nn.BitLinear(10, 7)
    w = layer.weight
    assert isinstance(w, TernaryParameter) and w.bits == math.log2(3) == TERNARY_BITS and w.packed_bits == 2
    assert w.nbytes == pytest.approx(70 * math.log2(3) / 8)
    for other in (copy.deepcopy(layer).weight, pickle.loads(pickle.dumps(layer)).weight):
        assert isinstance(other, TernaryParameter) and np.array_equal(other.numpy(), w.numpy())
    with pytest.raises(ValueError):
        w.bits = 2
    fresh = nn.BitLinear(10, 7)
    fresh.load_state_dict(layer.state_dict())
    assert isinstance(fresh.weight, TernaryParameter) and np.array_equal(fresh.weight.numpy(), w.numpy())


def test_the_tracer_counts_a_ternary_product_as_additions():
    layer = nn.BitLinear(32, 16)
    x = mg.randn(4, 5, 32, requires_grad=True)
    with mg.trace() as tr:
        layer(x).sum().backward()
    adds = 4 * 5 * 16 * 32
    assert tr.flops("forward", "ternary") == adds and tr.macs("forward") == 0
    rec, = tr.select(phase="forward", name="ternary_linear")
    assert rec.category == "ternary" and rec.macs == 0 and rec.flops == adds
    # backward: float gradients meet the ternary weight and the 8-bit levels: two float products
    assert tr.flops("backward", "dot") == 2 * 2 * adds and tr.flops("backward", "ternary") == 0
    with mg.trace() as tr:
        ternary_linear(mg.randn(3, 4), mg.randn(2, 4))  # not ternary: a float product
    assert tr.macs() == 24 and tr.flops(category="ternary") == 0


def test_efficiency_report_sizes_and_energy():
    mg.manual_seed(0)
    model = nn.Sequential(nn.BitLinear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    report = mg.profile(model, mg.randn(8, 64), measure=False, hardware="laptop-cpu")
    t = report.totals
    ternary, floats = 64 * 32, 32 * 10 + 10
    assert t["param_bytes"] == pytest.approx(ternary * math.log2(3) / 8 + floats * 4)
    assert t["packed_param_bytes"] == pytest.approx(ternary * 2 / 8 + floats * 4)
    assert t["ternary_adds_forward"] == 8 * 64 * 32 and t["macs_forward"] == 8 * 32 * 10
    assert any("8-bit integer adds" in note for note in report.notes)
    text = str(report)
    assert "ternary adds" in text and "packed" in text
    # the energy of a ternary record: its additions at the int8 add's price, plus its memory traffic
    with mg.trace() as tr:
        model(mg.randn(8, 64))
    rec, = tr.select(name="ternary_linear")
    pj = HOROWITZ_45NM.pj
    assert HOROWITZ_45NM.op_energy(rec) == pytest.approx((rec.flops * pj["int8_add"] + rec.bytes / 8 *
                                                          pj["sram_32kb_64bit"]) * 1e-12)
    float_twin = nn.Sequential(nn.Linear(64, 32, bias=False), nn.ReLU(), nn.Linear(32, 10))
    both = mg.profile([float_twin, model], mg.randn(8, 64), names=["float", "ternary"], measure=False,
                      hardware="laptop-cpu")
    rows = {r["metric"]: r for r in both.table().rows}
    assert rows["ternary adds forward"]["float"] == "0" and rows["MACs forward"]["ternary"] != "0"
    assert "BitNet b1.58" in "\n".join(both.notes())
