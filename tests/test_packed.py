"""mg.nn.binary.pack: binary layers' weights as bits (1 bit a weight), XNOR-popcount products, batch norm and Sign fused
into thresholds; the packed model's outputs bit for bit those of the trained (float-emulated) one; its cost in the
tracer and its latency and memory in mg.profile."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.binary import Bits, PackedConv2d, PackedLinear, PackedSequential, XnorPopcount, pack, pack_bits

RNG = np.random.default_rng(7)


def bnn_mlp(sizes=(20, 70, 130, 64), classes=10, **binary):
    """Hubara et al.'s BNN MLP: binary layers, batch norm, Sign; the last layer's batch norm is the output."""
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.BinaryLinear(a, b, **binary), nn.BatchNorm1d(b), nn.Sign()]
    return nn.Sequential(*layers, nn.BinaryLinear(sizes[-1], classes, **binary), nn.BatchNorm1d(classes))


def trained(model, shape, dtype=np.float32, steps=3):
    """The model after a few forward passes (running statistics moved) and with batch norm weights of both signs and
    some zeros, in eval mode: the thresholds must handle falling, rising and constant channels."""
    model.to(dtype)
    for _ in range(steps):
        model(mg.tensor(RNG.standard_normal(shape).astype(dtype)))
    with mg.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d) or isinstance(m, nn.BatchNorm2d):
                w = RNG.standard_normal(m.num_features)
                w[:3] = 0.0
                m.weight.copy_(w)
                m.bias.copy_(RNG.standard_normal(m.num_features))
    return model.eval()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("binary", [{}, {"scale": "mean"}, {"bias": True}, {"scale": "mean", "bias": True}])
def test_packed_bnn_mlp_is_bit_exact_with_the_float_emulated_network(binary, dtype):
    mg.manual_seed(1)
    model = trained(bnn_mlp(**binary), (32, 20), dtype)
    packed = pack(model)
    kinds = [type(s).__name__ for s in packed.children()]
    assert kinds == ["PackedLinear", "BatchNorm1d", "Sign", "PackedLinear", "PackedLinear", "PackedLinear",
                     "BatchNorm1d"]
    first, hidden = packed[0], packed[3]
    assert not first.binary_input and hidden.binary_input and hidden.thresholds is not None
    x = mg.tensor(RNG.standard_normal((50, 20)).astype(dtype))
    y = packed(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy(), model(x).numpy())
    # inputs right at the signs' edges: a hidden unit's batch-norm output of exactly 0 gives +1
    x = mg.tensor(np.zeros((3, 20), dtype))
    np.testing.assert_array_equal(packed(x).numpy(), model(x).numpy())


def test_thresholds_are_the_trained_layers_decisions_for_every_product_value():
    mg.manual_seed(2)
    model = trained(bnn_mlp((8, 64, 48)), (16, 8))
    layer = pack(model)[3]  # the BinaryLinear(64, 48) + BatchNorm1d + Sign, fused
    k = layer.features
    signs = np.array([[1.0] * (k - j) + [-1.0] * j for j in range(k + 1)], np.float32)  # products k - 2j, all of them
    w = np.where(model[3].weight.numpy() >= 0, 1.0, -1.0).astype(np.float32)
    want = model[5](model[4](mg.tensor(signs @ w.T)))
    got = layer(mg.tensor(signs)).unpack()
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    falling = model[4].weight.numpy() >= 0
    assert layer.flip is not None and not falling.all() and falling.any()  # both kinds of channels were fused


def binary_cnn(pad_value, padding, stride=1, dilation=1, scale=None):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Sign(),
                         nn.BinaryConv2d(8, 16, 3, stride=stride, padding=padding, dilation=dilation,
                                         pad_value=pad_value, scale=scale, bias=scale is not None),
                         nn.MaxPool2d(2), nn.BatchNorm2d(16), nn.Sign(), nn.Flatten())


@pytest.mark.parametrize("pad_value,padding,stride,dilation,scale", [
    (1.0, 1, 1, 1, None), (-1.0, 1, 1, 1, "mean"), (0.0, 1, 1, 1, None), (0.0, 2, 2, 2, "mean"),
    (0.0, "same", 1, 2, None),
    (0.0, "valid", 1, 1, None), (1.0, (2, 1), (1, 2), 1, "mean")])
def test_packed_binary_cnn_is_bit_exact_whatever_the_padding(pad_value, padding, stride, dilation, scale):
    mg.manual_seed(3)
    body = binary_cnn(pad_value, padding, stride, dilation, scale)
    x = mg.tensor(RNG.standard_normal((4, 1, 12, 12)).astype(np.float32))
    features = body(x).shape[1]
    model = trained(nn.Sequential(*body, nn.BinaryLinear(features, 10), nn.BatchNorm1d(10)), (4, 1, 12, 12))
    packed = pack(model)
    assert isinstance(packed[3], PackedConv2d) and packed[3].binary_input
    assert isinstance(packed[8], PackedLinear) and packed[8].binary_input  # after Sign, MaxPool... and Flatten
    x = mg.tensor(RNG.standard_normal((6, 1, 12, 12)).astype(np.float32))
    np.testing.assert_array_equal(packed(x).numpy(), model(x).numpy())


def test_a_binary_conv_on_real_inputs_runs_as_trained_with_unpacked_weights():
    mg.manual_seed(4)
    model = trained(nn.Sequential(nn.BinaryConv2d(2, 4, 3, padding=1, scale="mean"), nn.BatchNorm2d(4)),
                    (3, 2, 6, 6))
    packed = pack(model)
    assert not packed[0].binary_input
    x = mg.tensor(RNG.standard_normal((3, 2, 6, 6)).astype(np.float32))
    np.testing.assert_array_equal(packed(x).numpy(), model(x).numpy())


def test_weights_are_held_as_bits_32x_smaller_than_float32():
    model = bnn_mlp((128, 256, 256), classes=64)
    packed = pack(model.eval())
    for layer, p in [(model[0], packed[0]), (model[3], packed[3]), (model[6], packed[4])]:
        assert p.weight_bits.dtype == np.uint64 and p.weight_bits.data.nbytes * 32 == layer.weight.data.nbytes
        assert not list(p.parameters())  # nothing to train
    held = packed.weight_bytes()
    weights = sum(m.weight.data.nbytes for m in (model[0], model[3], model[6]))
    bits = sum(p.weight_bits.data.nbytes for p in (packed[0], packed[3], packed[4]))
    assert bits * 32 == weights and held < weights / 20  # + thresholds, flips, the batch norms left in float


def test_pack_bits_and_bits_round_trip_with_padding_that_never_counts():
    x = np.where(RNG.standard_normal((5, 70)) >= 0, 1.0, -1.0)
    words = pack_bits(x >= 0)
    assert words.shape == (5, 2) and words.dtype == np.uint64
    np.testing.assert_array_equal(Bits(words, 70, np.float64).unpack().numpy(), x)
    w = np.where(RNG.standard_normal((9, 70)) >= 0, 1.0, -1.0)
    p = XnorPopcount.apply(mg.Tensor(words), mg.Tensor(np.ascontiguousarray(pack_bits(w >= 0).T)), 70).numpy()
    np.testing.assert_array_equal(70 - 2 * p.astype(int), (x @ w.T).astype(int))


def test_the_tracer_counts_the_packed_products_as_bops():
    model = bnn_mlp((16, 128, 64), classes=10).eval()
    packed = pack(model)
    x = mg.tensor(RNG.standard_normal((5, 16)).astype(np.float32))
    with mg.trace() as tr:
        packed(x)
    assert tr.bops() == 5 * (128 * 64 + 64 * 10)  # the two +-1-input layers; the first one is a float product
    assert tr.macs() == 5 * 16 * 128


def test_pack_refuses_what_it_cannot_pack_and_packed_models_do_not_train():
    with pytest.raises(TypeError, match="nn.Sequential"):
        pack(nn.BinaryLinear(4, 3))
    packed = pack(nn.Sequential(nn.BinaryLinear(4, 3)))
    with pytest.raises(RuntimeError, match="for inference"):
        packed.train()
    assert isinstance(packed, PackedSequential) and not packed.training


def test_packing_copies_the_other_layers_so_training_on_changes_nothing():
    mg.manual_seed(5)
    model = trained(bnn_mlp(), (32, 20))
    packed = pack(model)
    x = mg.tensor(RNG.standard_normal((8, 20)).astype(np.float32))
    before = packed(x).numpy()
    model.train()
    model(mg.tensor(RNG.standard_normal((32, 20)).astype(np.float32)))  # moves the running statistics
    with mg.no_grad():
        model[0].weight.mul_(-1)
    np.testing.assert_array_equal(packed(x).numpy(), before)


def test_stochastic_sign_layers_are_deterministic_in_the_packed_model():
    mg.manual_seed(6)
    model = nn.Sequential(nn.BinaryLinear(8, 64), nn.BatchNorm1d(64), nn.Sign(stochastic=True),
                          nn.BinaryLinear(64, 5, scale="mean"))
    model = trained(model, (16, 8))
    x = mg.tensor(RNG.standard_normal((4, 8)).astype(np.float32))
    np.testing.assert_array_equal(pack(model)(x).numpy(), model(x).numpy())


def test_profile_measures_the_packed_model_beside_the_float_and_float_emulated_ones():
    mg.manual_seed(8)
    binary = trained(bnn_mlp((16, 128, 128)), (32, 16))
    floats = nn.Sequential(nn.Linear(16, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                           nn.Linear(128, 10)).eval()
    x = mg.tensor(RNG.standard_normal((20, 16)).astype(np.float32))
    report = mg.profile([floats, binary], x, names=["float", "binary"], backward=False, repeats=3, threads=1)
    t = report[1].totals
    assert t["packed_latency_s"] > 0 and t["packed_weight_bytes"] == pack(binary).weight_bytes()
    assert t["weight_bytes"] == sum(p.data.nbytes for p in binary.parameters())
    assert "packed_latency_s" not in report[0].totals  # a float model has nothing to pack
    text = report.to_text()
    assert "packed 1-bit latency" in text and "packed model's bytes" in text
    assert "packed 1-bit inference (mg.nn.binary.pack, eval mode)" in mg.profile(binary, x, backward=False,
                                                                                 repeats=3).to_text()
