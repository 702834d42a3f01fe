"""mg.onnx.export: every mg.nn layer in eval mode (the cases of test_interop.LAYERS) and whole models (MLP, CNN, BNN
MLP, binary CNN, DoReFa/LSQ/PACT CNN) pass onnx.checker, and ONNX Runtime's outputs equal minigrad's (float32, 1e-5);
sign(0) = +1; quantizers as QuantizeLinear/DequantizeLinear; the glue of a forward of your own; errors that name the
op and the layer."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, ste

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from test_interop import LAYERS, MODELS  # noqa: E402  (the same layer cases and models as the PyTorch twin's)

RNG = np.random.default_rng(13)
LOSSES = {name for name in LAYERS if name.endswith("Loss")}
CASES = [(name, i) for name, cases in LAYERS.items() if name not in LOSSES for i in range(len(cases))]


def run(path, inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: x for i, x in zip(session.get_inputs(), inputs)}
    return session.run(None, feed)


def as_inputs(arrays, dtype=np.float32):
    return tuple(a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays)


def moved(model, arrays):
    """The model after one training-mode pass (batch norm statistics, LSQ's step initialised), then in eval mode."""
    with mg.no_grad():
        model(*[mg.tensor(a) for a in arrays])
    return model.eval()


def check(model, arrays, path, tol=1e-5, **kwargs):
    proto = mg.onnx.export(model, arrays if len(arrays) > 1 else arrays[0], path, **kwargs)
    onnx.checker.check_model(proto, full_check=True)
    want = model(*[mg.tensor(a) for a in arrays])
    want = want if isinstance(want, tuple) else (want,)  # MultiheadAttention: the output and the weights
    got = run(path, arrays)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape and a.dtype == b.numpy().dtype
        np.testing.assert_allclose(a, b.numpy(), rtol=tol, atol=tol)
    return proto


@pytest.mark.parametrize("name,i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_each_layer_exports_and_onnx_runtime_agrees(name, i, tmp_path):
    make, arrays = LAYERS[name][i]
    mg.manual_seed(0)
    arrays = as_inputs(arrays)
    layer = moved(make(), arrays)
    check(layer, arrays, tmp_path / "layer.onnx")


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_are_refused_with_their_name(name, tmp_path):
    make, arrays = LAYERS[name][0]
    with pytest.raises(mg.onnx.ExportError, match=f"the loss {name} .*training-time module"):
        mg.onnx.export(make(), as_inputs(arrays), tmp_path / "loss.onnx")


@pytest.mark.parametrize("name", list(MODELS))
def test_whole_models_export_and_run_in_onnx_runtime(name, tmp_path):
    build, shape, _ = MODELS[name]
    mg.manual_seed(2)
    x = RNG.standard_normal(shape).astype(np.float32)
    model = moved(build(), (x,))
    proto = check(model, (RNG.standard_normal((3,) + shape[1:]).astype(np.float32),), tmp_path / "m.onnx")
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"  # any batch size runs
    got, = run(tmp_path / "m.onnx", (x,))
    np.testing.assert_allclose(got, model(mg.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)


def test_float64_models_export_in_float64(tmp_path):
    mg.manual_seed(3)  # (ONNX Runtime has no float64 Conv on the CPU: a dense model)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.PACT(3, alpha=2.0), nn.QuantLinear(8, 8, bits=2),
                          nn.ReLU(), nn.LSQ(3), nn.Hardtanh(0.0, 1.0), nn.Quantize(2), nn.Linear(8, 3)).double()
    model = moved(model, (RNG.standard_normal((16, 6)),))
    check(model, (RNG.standard_normal((5, 6)),), tmp_path / "m64.onnx", tol=1e-10)


def test_sign_is_plus_one_at_zero_as_minigrads(tmp_path):
    x = np.array([[-2.0, -0.0, 0.0, 1e-30, -1e-30, 3.0]], np.float32)
    proto = check(nn.Sequential(nn.Sign()), (x,), tmp_path / "sign.onnx")
    got, = run(tmp_path / "sign.onnx", (x,))
    np.testing.assert_array_equal(got, [[-1, 1, 1, 1, -1, 1]])
    assert "Sign" not in {n.op_type for n in proto.graph.node}  # ONNX's Sign(0) is 0


def test_binary_layers_export_their_pm1_weights_and_scales(tmp_path):
    mg.manual_seed(4)
    model = nn.Sequential(nn.BinaryConv2d(2, 4, 3, padding=1, pad_value=1.0, scale="mean"), nn.BatchNorm2d(4),
                          nn.Sign(), nn.Flatten(), nn.BinaryLinear(64, 5, scale="mean", bias=True))
    x = np.where(RNG.standard_normal((3, 2, 4, 4)) >= 0, 1.0, -1.0).astype(np.float32)
    proto = check(moved(model, (x,)), (x,), tmp_path / "b.onnx")
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    for key in ("0.sign(weight)", "4.sign(weight).T"):
        assert set(np.unique(weights[key])) == {-1.0, 1.0}
    assert {"Pad", "Conv", "MatMul", "Mul"} <= {n.op_type for n in proto.graph.node}


def test_quantizers_are_quantize_dequantize_pairs(tmp_path):
    mg.manual_seed(5)
    x = RNG.uniform(-1, 3, (4, 6)).astype(np.float32)
    for layer in (nn.Quantize(3), nn.Quantize(2, -1.0, 2.0), nn.LSQ(4, signed=True, init_step=0.2), nn.LSQ(8),
                  nn.PACT(2, alpha=1.7), nn.QuantLinear(6, 3, bits=2)):
        proto = check(moved(nn.Sequential(layer), (x,)), (x,), tmp_path / "q.onnx")
        ops = {n.op_type for n in proto.graph.node}
        assert "DequantizeLinear" in ops, layer
        if not isinstance(layer, nn.QuantLinear):
            assert "QuantizeLinear" in ops, layer
    proto = check(nn.Sequential(nn.Quantize(2, -1.0, 1.5)), (x,), tmp_path / "q.onnx")  # -1 is no whole step from 0
    assert "Round" in {n.op_type for n in proto.graph.node}


class Residual(nn.Module):
    """A forward of your own: its ops outside the layers are exported one by one."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 6), nn.Linear(6, 6)

    def forward(self, x):
        h = ste.sign(self.fc1(x)) * 0.5 + x
        h = mg.cat([h, ste.round(h * 3), ste.fake_quantize(h, 0.05, 3, -8, 7)], 1)[:, 2:14]
        h = h.reshape(x.shape[0], 2, 6).permute(0, 2, 1).reshape(x.shape[0], 12).relu()
        return self.fc2((h[:, :6] - h[:, 6:]).tanh()).sum(dim=1) / 2


def test_a_forward_of_your_own_exports_op_by_op(tmp_path):
    mg.manual_seed(6)
    model = Residual()
    x = RNG.standard_normal((5, 6)).astype(np.float32)
    check(model, (x,), tmp_path / "r.onnx")


def test_an_op_or_layer_without_export_is_named(tmp_path):
    class Cumulative(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(x).cumsum(1)

    x = RNG.standard_normal((2, 3)).astype(np.float32)
    with pytest.raises(mg.onnx.ExportError, match=r"op 'cumsum' in the model's forward \(outside any layer\)"):
        mg.onnx.export(Cumulative(), x, tmp_path / "c.onnx")
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.Tanh(), nn.MaxPool1d(2, return_indices=True)))
    with pytest.raises(mg.onnx.ExportError, match=r"max pooling with return_indices=True in layer '1.1' "
                                                   r"\(MaxPool1d\) has no ONNX export"):
        mg.onnx.export(model, x[:, None, :], tmp_path / "a.onnx")
    assert not (tmp_path / "a.onnx").exists()


def test_export_leaves_the_model_in_its_mode_and_needs_onnx_only_when_called(tmp_path, monkeypatch):
    import sys
    model = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5))
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    mg.onnx.export(model, x, tmp_path / "d.onnx")
    assert model.training  # exported in eval mode (dropout off), given back in training mode
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match="pip install onnx onnxruntime"):
        mg.onnx.export(model, x, tmp_path / "e.onnx")
