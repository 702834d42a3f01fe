"""Binary and quantized layers: exact +-1 / k-bit forwards, surrogate gradients, clipped latent weights,
bits reported, BOPs counted where both operands are binary."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import autograd, nn, ste
from minigrad.testing import gradcheck

RNG = np.random.default_rng(11)


def sign(a):
    return np.where(a >= 0, 1.0, -1.0)


class DotCosts:
    """Collects the cost of every 'dot' op (matmuls) run inside the block."""

    def __enter__(self):
        self.costs = []
        autograd._observers.append(self)
        return self

    def __exit__(self, *exc):
        autograd._observers.remove(self)

    def on_op(self, cls, ctx, args, kwargs, result, elapsed):
        if cls.cost is not None:
            cost = cls.cost(ctx, result, *args, **kwargs)
            if cost.category == "dot":
                self.costs.append(cost)


def conv_loop(x, w, stride=1, padding=0, pad_value=0.0):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=pad_value)
    oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for p in range(oh):
        for q in range(ow):
            patch = xp[:, :, p * stride:p * stride + kh, q * stride:q * stride + kw]
            out[:, :, p, q] = np.einsum("nchw,ochw->no", patch, w)
    return out


# ---- BinaryLinear --------------------------------------------------------------------------------------
def test_binary_linear_forward_uses_exactly_pm1_weights():
    layer = nn.BinaryLinear(6, 4)
    with mg.no_grad():
        layer.weight.copy_(RNG.uniform(-1, 1, (4, 6)))
        layer.weight[0, 0] = 0.0  # sign(0) = +1
    wb = layer.binary_weight().numpy()
    assert set(np.unique(wb)) == {-1.0, 1.0} and wb[0, 0] == 1.0
    x = RNG.standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(layer(mg.tensor(x)).numpy(), x @ sign(layer.weight.numpy()).T, rtol=1e-6, atol=1e-5)
    assert layer.bias is None and "bias=False" in repr(layer)
    with_bias = nn.BinaryLinear(6, 4, bias=True)
    np.testing.assert_allclose(with_bias(mg.tensor(x)).numpy(),
                               x @ sign(with_bias.weight.numpy()).T + with_bias.bias.numpy(), rtol=1e-6, atol=1e-5)


def test_binary_linear_latent_weights_clip_bits_and_bytes():
    layer = nn.BinaryLinear(8, 4)
    w = layer.weight
    assert w.bits == 1 and w.nbytes == 4 and isinstance(w.constraint, nn.WeightClip)
    with mg.no_grad():
        w.copy_(RNG.uniform(-3, 3, (4, 8)))
    before = w.numpy().copy()
    w.apply_constraint()
    np.testing.assert_array_equal(w.numpy(), np.clip(before, -1, 1))
    assert w.dtype == np.float32
    assert all(p.bits == 32 for p in nn.Linear(8, 4).parameters())


def test_binary_linear_gradients_follow_the_surrogate():
    layer = nn.BinaryLinear(5, 3, bias=True).double()
    latent = RNG.uniform(-1.5, 1.5, (3, 5))
    with mg.no_grad():
        layer.weight.copy_(latent)
    x = mg.tensor(RNG.standard_normal((4, 5)), requires_grad=True)
    g = RNG.standard_normal((4, 3))
    layer(x).backward(mg.tensor(g))
    # default weight surrogate: the hardtanh STE, 1 where |W| <= 1
    np.testing.assert_allclose(layer.weight.grad.numpy(), (g.T @ x.numpy()) * (np.abs(latent) <= 1), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), g @ sign(latent), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), g.sum(0), rtol=1e-12)
    # the gradient to the input is exact: gradcheck it
    assert gradcheck(lambda x: layer(x), [mg.tensor(x.numpy(), requires_grad=True)])
    # another weight surrogate, per layer
    straight = nn.BinaryLinear(5, 3, weight_surrogate=ste.Identity()).double()
    with mg.no_grad():
        straight.weight.copy_(latent)
    straight(mg.tensor(x.numpy())).backward(mg.tensor(g))
    np.testing.assert_allclose(straight.weight.grad.numpy(), g.T @ x.numpy(), rtol=1e-12)
    assert "weight_surrogate=" in repr(straight)


def test_binary_linear_scale_mean_is_per_channel_and_not_differentiated():
    layer = nn.BinaryLinear(6, 3, scale="mean").double()
    latent = RNG.uniform(-1, 1, (3, 6))
    with mg.no_grad():
        layer.weight.copy_(latent)
    alpha = np.abs(latent).mean(axis=1)
    x = RNG.standard_normal((2, 6))
    y = layer(mg.tensor(x))
    np.testing.assert_allclose(y.numpy(), (x @ sign(latent).T) * alpha, rtol=1e-12)
    g = RNG.standard_normal((2, 3))
    y.backward(mg.tensor(g))
    np.testing.assert_allclose(layer.weight.grad.numpy(), ((g * alpha).T @ x) * (np.abs(latent) <= 1), rtol=1e-12)
    with pytest.raises(ValueError, match="BinaryLinear: scale must be None or 'mean'"):
        nn.BinaryLinear(2, 2, scale="max")


def test_bops_only_when_both_matmul_operands_are_binary():
    layer = nn.BinaryLinear(16, 8)
    x = mg.randn(4, 16)
    with DotCosts() as binary:
        layer(nn.Sign()(x))
    with DotCosts() as real_input:
        layer(x)
    with DotCosts() as scaled:
        nn.BinaryLinear(16, 8, scale="mean")(nn.Sign()(x))
    assert [c.bops for c in binary.costs] == [4 * 16 * 8] and binary.costs[0].flops == 0
    assert real_input.costs[0].bops == 0 and real_input.costs[0].flops == 2 * 4 * 16 * 8
    assert scaled.costs[0].bops == 4 * 16 * 8  # alpha is applied after the +-1 product


# ---- BinaryConv2d ------------------------------------------------------------------------------------------
def test_binary_conv_forward_gradients_and_scale():
    conv = nn.BinaryConv2d(2, 3, 3, padding=1).double()
    latent = RNG.uniform(-1.3, 1.3, (3, 2, 3, 3))
    with mg.no_grad():
        conv.weight.copy_(latent)
    x = RNG.standard_normal((2, 2, 5, 5))
    y = conv(mg.tensor(x))
    np.testing.assert_allclose(y.numpy(), conv_loop(x, sign(latent), padding=1), atol=1e-12)
    assert conv.weight.bits == 1 and isinstance(conv.weight.constraint, nn.WeightClip)
    assert gradcheck(lambda x: conv(x), [mg.tensor(x, requires_grad=True)])
    g = RNG.standard_normal(y.shape)
    conv(mg.tensor(x)).backward(mg.tensor(g))
    # dL/dsign(W) is the float conv's weight gradient; the STE masks it where |W| > 1
    wb = mg.tensor(sign(latent), requires_grad=True)
    F.conv2d(mg.tensor(x), wb, padding=1).backward(mg.tensor(g))
    np.testing.assert_allclose(conv.weight.grad.numpy(), wb.grad.numpy() * (np.abs(latent) <= 1), rtol=1e-12)

    scaled = nn.BinaryConv2d(2, 3, 3, scale="mean", bias=True).double()
    alpha = np.abs(scaled.weight.numpy()).reshape(3, -1).mean(1)
    expected = conv_loop(x, sign(scaled.weight.numpy())) * alpha.reshape(1, 3, 1, 1) + \
        scaled.bias.numpy().reshape(1, 3, 1, 1)
    np.testing.assert_allclose(scaled(mg.tensor(x)).numpy(), expected, atol=1e-12)


def test_binary_conv_pad_value_one_keeps_the_product_binary():
    x = nn.Sign()(mg.randn(1, 2, 6, 6))
    zero_pad = nn.BinaryConv2d(2, 4, 3, padding=1)
    one_pad = nn.BinaryConv2d(2, 4, 3, padding=1, pad_value=1.0)
    with mg.no_grad():
        one_pad.weight.copy_(zero_pad.weight)
    with DotCosts() as zeros:
        zero_pad(x)
    with DotCosts() as ones:
        y = one_pad(x)
    macs = 4 * 2 * 9 * 36
    assert zeros.costs[0].macs == macs and zeros.costs[0].bops == 0  # padded zeros are not +-1
    assert ones.costs[0].bops == macs and ones.costs[0].flops == 0
    np.testing.assert_allclose(y.numpy(), conv_loop(x.numpy(), sign(one_pad.weight.numpy()), padding=1,
                                                    pad_value=1.0), atol=1e-5)
    assert "pad_value=1" in repr(one_pad)


# ---- Sign activation ------------------------------------------------------------------------------------------
def test_sign_module_forward_and_default_surrogate():
    x = mg.tensor([-2.0, -0.5, 0.0, 0.3, 1.0, 1.7], requires_grad=True)
    y = nn.Sign()(x)
    np.testing.assert_array_equal(y.numpy(), [-1, -1, 1, 1, 1, 1])
    y.backward(mg.ones(6))
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 1, 0])  # hardtanh STE, |x| <= 1 inclusive
    x.grad = None
    nn.Sign(surrogate=ste.ApproxSign())(x).backward(mg.ones(6))
    expected = np.where(np.abs(x.numpy()) <= 1, 2 - 2 * np.abs(x.numpy()), 0)  # ApproxSign (Bi-Real Net)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    assert "surrogate=ApproxSign" in repr(nn.Sign(surrogate=ste.ApproxSign()))


def test_stochastic_sign_in_training_and_deterministic_in_eval():
    x = mg.full((20000,), 0.5)
    layer = nn.Sign(stochastic=True, rng=np.random.default_rng(0))
    y = layer(x).numpy()
    assert set(np.unique(y)) == {-1.0, 1.0}
    assert abs((y == 1).mean() - 0.75) < 0.02  # P(+1) = (x + 1) / 2
    again = nn.Sign(stochastic=True, rng=np.random.default_rng(0))(x).numpy()
    np.testing.assert_array_equal(y, again)
    assert np.all(layer.eval()(x).numpy() == 1)
    mg.manual_seed(4)
    a = nn.Sign(stochastic=True)(x).numpy()
    mg.manual_seed(4)
    np.testing.assert_array_equal(nn.Sign(stochastic=True)(x).numpy(), a)


# ---- k-bit layers and quantizers --------------------------------------------------------------------------
def dorefa(w, k):
    t = np.tanh(w)
    r = t / (2 * np.abs(t).max()) + 0.5
    n = 2 ** k - 1
    return 2 * np.round(r * n) / n - 1


@pytest.mark.parametrize("bits", [1, 2, 4])
def test_quant_linear_dorefa_weights(bits):
    layer = nn.QuantLinear(6, 5, bits=bits).double()
    with mg.no_grad():
        layer.weight.copy_(RNG.standard_normal((5, 6)))
    wq = layer.quantized_weight().numpy()
    np.testing.assert_allclose(wq, dorefa(layer.weight.numpy(), bits), atol=1e-12)
    assert len(np.unique(wq)) <= 2 ** bits and wq.min() >= -1 and wq.max() <= 1
    assert layer.weight.bits == bits and layer.bias.bits == 64 and f"bits={bits}" in repr(layer)
    x = RNG.standard_normal((3, 6))
    np.testing.assert_allclose(layer(mg.tensor(x)).numpy(), x @ wq.T + layer.bias.numpy(), atol=1e-12)
    # the gradient is that of the unquantized DoReFa map (quantize's STE is the identity on [0, 1])
    layer(mg.tensor(x)).sum().backward()
    w = mg.tensor(layer.weight.numpy(), requires_grad=True)
    t = w.tanh()
    proxy = (t / (t.abs().max() * 2) + 0.5) * 2 - 1
    (mg.tensor(x) @ proxy.T).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), w.grad.numpy(), rtol=1e-10)


def test_quant_conv_and_quantize_module():
    conv = nn.QuantConv2d(2, 3, 3, bits=2, bias=False).double()
    x = RNG.standard_normal((1, 2, 5, 5))
    np.testing.assert_allclose(conv(mg.tensor(x)).numpy(), conv_loop(x, dorefa(conv.weight.numpy(), 2)), atol=1e-12)
    assert conv.weight.bits == 2
    q = nn.Quantize(2)
    a = mg.tensor([-0.5, 0.1, 0.2, 0.5, 0.9, 1.4], requires_grad=True)
    y = q(a)
    np.testing.assert_allclose(y.numpy(), np.round(np.clip(a.numpy(), 0, 1) * 3) / 3, rtol=1e-6)
    y.backward(mg.ones(6))
    np.testing.assert_array_equal(a.grad.numpy(), [0, 1, 1, 1, 1, 0])
    with pytest.raises(ValueError, match="QuantLinear: bits must be an integer >= 1"):
        nn.QuantLinear(2, 2, bits=0)


def test_lsq_initialises_step_quantizes_and_learns_step():
    lsq = nn.LSQ(bits=3)
    x = np.abs(RNG.standard_normal((8, 4)))
    y = lsq(mg.tensor(x)).numpy()
    step = float(lsq.step.item())
    np.testing.assert_allclose(step, 2 * x.mean() / np.sqrt(7), rtol=1e-5)
    np.testing.assert_allclose(y, np.round(np.clip(x / step, 0, 7)) * step, rtol=1e-5)
    assert bool(lsq.initialized.item())
    lsq(mg.tensor(x * 3)).sum().backward()
    assert lsq.step.grad is not None and lsq.step.grad.item() != 0
    assert float(lsq.step.item()) == step  # initialised once
    assert list(lsq.state_dict()) == ["step", "initialized"]
    with mg.no_grad():
        lsq.step.fill_(-1.0)
    lsq.step.apply_constraint()
    assert lsq.step.item() > 0
    signed = nn.LSQ(bits=2, signed=True, init_step=0.5)
    np.testing.assert_allclose(signed(mg.tensor([-3.0, -0.6, 0.2, 0.8, 3.0])).numpy(), [-1.0, -0.5, 0.0, 0.5, 0.5])


def test_pact_clips_quantizes_and_learns_alpha():
    pact = nn.PACT(bits=2, alpha=2.0)
    x = mg.tensor([-1.0, 0.3, 1.0, 1.9, 3.0])
    y = pact(x)
    np.testing.assert_allclose(y.numpy(), np.round(np.clip(x.numpy(), 0, 2) * 3 / 2) * 2 / 3, rtol=1e-6)
    y.sum().backward()
    assert pact.alpha.grad.item() == 1.0  # one input above alpha
    assert [n for n, _ in pact.named_parameters()] == ["alpha"]


def test_a_binary_mlp_trains_on_separable_data():
    """BNN recipe in miniature: real input, binary layers, batch norm, sign activations, clipped latent weights."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 8)).astype(np.float32)
    t = (x @ rng.standard_normal(8) > 0).astype(np.int64)
    model = nn.Sequential(nn.BinaryLinear(8, 64, rng=rng), nn.BatchNorm1d(64), nn.Sign(),
                          nn.BinaryLinear(64, 2, rng=rng), nn.BatchNorm1d(2))
    for _ in range(100):
        loss = F.cross_entropy(model(mg.tensor(x)), t)
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.2)
                p.apply_constraint()
    assert all(np.abs(m.weight.numpy()).max() <= 1 for m in model if isinstance(m, nn.BinaryLinear))
    accuracy = (model.eval()(mg.tensor(x)).numpy().argmax(1) == t).mean()
    assert accuracy > 0.85


def test_sign_of_the_weights_is_computed_once_per_weight_update():
    layer = mg.nn.BinaryLinear(4, 3)
    x = mg.randn(2, 4)
    with mg.trace() as tr:
        layer(x), layer(x)
    assert len(tr.select(name="sign")) == 1  # the second use reuses sign(W)
    opt = mg.optim.SGD(layer.parameters(), lr=0.1)
    layer(x).sum().backward()
    opt.step()  # the weights change: a new sign(W)
    with mg.trace() as tr:
        y = layer(x)
    assert len(tr.select(name="sign")) == 1
    np.testing.assert_allclose(y.numpy(), x.numpy() @ np.where(layer.weight.numpy() >= 0, 1, -1).T, rtol=1e-6)
    y.sum().backward()
    with mg.trace() as tr:
        layer(x).sum().backward()  # the kept node was used up by the last backward: made again, no error
    assert len(tr.select(name="sign")) == 1
    with mg.ste.surrogates(sign=mg.ste.ApproxSign()):  # another rule in force: a new node that binds it
        assert isinstance(layer.binary_weight().grad_fn.rule, mg.ste.ApproxSign)
    assert isinstance(layer.binary_weight().grad_fn.rule, mg.ste.Clipped)
