"""mg.interop: the PyTorch twin of every mg.nn layer (same state dict, same outputs, same gradients, and back), the
straight-through ops as torch.autograd.Functions (every op, every surrogate of the catalogue), whole models
trained side by side (MLP, CNN, BNN MLP, binary CNN, DoReFa/LSQ/PACT CNN), safetensors both ways, and
DistributedDataParallel on two CPU processes."""
import inspect
import os
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, ste

from minigrad import interop

try:
    import torch
    from minigrad.interop import torch_ste
except ImportError:  # the safetensors tests run without PyTorch; the twin's are skipped
    torch = torch_ste = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

RNG = np.random.default_rng(2024)


def randn(*shape):
    return RNG.standard_normal(shape)


def indices(high, *shape):
    return RNG.integers(0, high, shape)


def signs(*shape):
    return np.where(RNG.standard_normal(shape) >= 0, 1.0, -1.0)


# ---- every layer: (constructor, inputs) ---------------------------------------------------------------
# A float array input requires grad; an integer array is an index tensor. One or more cases a class.
LAYERS = {
    "Linear": [(lambda: nn.Linear(5, 3), (randn(4, 5),)), (lambda: nn.Linear(5, 3, bias=False), (randn(2, 4, 5),))],
    "Identity": [(lambda: nn.Identity(), (randn(3, 2),))],
    "Conv1d": [(lambda: nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=1, groups=2), (randn(2, 2, 9),)),
               (lambda: nn.Conv1d(2, 3, 3, padding="same", padding_mode="circular"), (randn(2, 2, 7),))],
    "Conv2d": [(lambda: nn.Conv2d(3, 4, 3, stride=(2, 1), padding=1, bias=False), (randn(2, 3, 7, 6),)),
               (lambda: nn.Conv2d(2, 2, 3, padding=2, dilation=2, padding_mode="reflect"), (randn(1, 2, 6, 6),))],
    "Conv3d": [(lambda: nn.Conv3d(2, 3, 2, stride=1, padding=(1, 0, 1)), (randn(1, 2, 4, 3, 4),))],
    "ConvTranspose1d": [(lambda: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1),
                         (randn(2, 3, 5),))],
    "ConvTranspose2d": [(lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, groups=2, bias=False), (randn(1, 4, 4, 3),))],
    "ConvTranspose3d": [(lambda: nn.ConvTranspose3d(2, 2, 2, stride=2), (randn(1, 2, 2, 3, 2),))],
    "Unfold": [(lambda: nn.Unfold(2, padding=1, stride=2), (randn(2, 3, 5, 4),))],
    "Fold": [(lambda: nn.Fold((4, 5), 2, stride=1), (randn(2, 12, 12),))],
    "MaxPool1d": [(lambda: nn.MaxPool1d(3, 2, padding=1), (randn(2, 3, 9),))],
    "MaxPool2d": [(lambda: nn.MaxPool2d(2), (randn(2, 3, 6, 6),)),
                  (lambda: nn.MaxPool2d(3, 2, padding=1, dilation=1, ceil_mode=True), (randn(1, 2, 7, 8),))],
    "MaxPool3d": [(lambda: nn.MaxPool3d(2), (randn(1, 2, 4, 4, 6),))],
    "AvgPool1d": [(lambda: nn.AvgPool1d(3, 2, padding=1, count_include_pad=False), (randn(2, 3, 8),))],
    "AvgPool2d": [(lambda: nn.AvgPool2d(2, ceil_mode=True), (randn(2, 2, 5, 5),)),
                  (lambda: nn.AvgPool2d(3, 1, 1, divisor_override=4), (randn(1, 2, 4, 4),))],
    "AvgPool3d": [(lambda: nn.AvgPool3d(2), (randn(1, 2, 4, 4, 4),))],
    "AdaptiveAvgPool1d": [(lambda: nn.AdaptiveAvgPool1d(3), (randn(2, 3, 8),))],
    "AdaptiveAvgPool2d": [(lambda: nn.AdaptiveAvgPool2d((3, 2)), (randn(2, 3, 7, 5),))],
    "AdaptiveAvgPool3d": [(lambda: nn.AdaptiveAvgPool3d(2), (randn(1, 2, 5, 4, 3),))],
    "AdaptiveMaxPool1d": [(lambda: nn.AdaptiveMaxPool1d(3), (randn(2, 3, 8),))],
    "AdaptiveMaxPool2d": [(lambda: nn.AdaptiveMaxPool2d((2, 3)), (randn(2, 3, 7, 5),))],
    "AdaptiveMaxPool3d": [(lambda: nn.AdaptiveMaxPool3d(2), (randn(1, 2, 5, 4, 3),))],
    "LPPool1d": [(lambda: nn.LPPool1d(2, 3, 2), (randn(2, 3, 9),))],
    "LPPool2d": [(lambda: nn.LPPool2d(3, 2), (np.abs(randn(2, 2, 6, 6)),))],
    "LPPool3d": [(lambda: nn.LPPool3d(2, 2), (randn(1, 2, 4, 4, 4),))],
    "BatchNorm1d": [(lambda: nn.BatchNorm1d(4), (randn(6, 4),)),
                    (lambda: nn.BatchNorm1d(3, momentum=None, affine=False), (randn(4, 3, 5),))],
    "BatchNorm2d": [(lambda: nn.BatchNorm2d(3), (randn(4, 3, 5, 5),))],
    "BatchNorm3d": [(lambda: nn.BatchNorm3d(2, track_running_stats=False), (randn(2, 2, 3, 3, 3),))],
    "InstanceNorm1d": [(lambda: nn.InstanceNorm1d(3, affine=True), (randn(2, 3, 6),))],
    "InstanceNorm2d": [(lambda: nn.InstanceNorm2d(3, track_running_stats=True), (randn(2, 3, 4, 5),))],
    "InstanceNorm3d": [(lambda: nn.InstanceNorm3d(2), (randn(2, 2, 3, 3, 3),))],
    "LayerNorm": [(lambda: nn.LayerNorm((4, 5)), (randn(3, 4, 5),)),
                  (lambda: nn.LayerNorm(5, bias=False), (randn(3, 5),))],
    "GroupNorm": [(lambda: nn.GroupNorm(2, 6), (randn(3, 6, 4),))],
    "RMSNorm": [(lambda: nn.RMSNorm(5), (randn(3, 5),)), (lambda: nn.RMSNorm([2, 5], eps=1e-3), (randn(3, 2, 5),))],
    "LocalResponseNorm": [(lambda: nn.LocalResponseNorm(3), (randn(2, 5, 4, 4),))],
    "Dropout": [(lambda: nn.Dropout(0.3), (randn(4, 5),))],
    "Flatten": [(lambda: nn.Flatten(), (randn(2, 3, 4),)), (lambda: nn.Flatten(0, 1), (randn(2, 3, 4),))],
    "Unflatten": [(lambda: nn.Unflatten(1, (2, 3)), (randn(4, 6),))],
    "Embedding": [(lambda: nn.Embedding(10, 4, padding_idx=1), (indices(10, 3, 5),)),
                  (lambda: nn.Embedding(10, 3, max_norm=1.0), (indices(10, 6),))],
    "EmbeddingBag": [(lambda: nn.EmbeddingBag(10, 3, mode="sum"), (indices(10, 4, 3),)),
                     (lambda: nn.EmbeddingBag(10, 3, mode="max"), (indices(10, 4, 3),))],
    "PixelShuffle": [(lambda: nn.PixelShuffle(2), (randn(2, 8, 3, 3),))],
    "PixelUnshuffle": [(lambda: nn.PixelUnshuffle(2), (randn(2, 2, 4, 6),))],
    "Upsample": [(lambda: nn.Upsample(scale_factor=2, mode="nearest"), (randn(1, 2, 3, 3),)),
                 (lambda: nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False), (randn(1, 2, 3, 4),)),
                 (lambda: nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True), (randn(1, 1, 4, 4),))],
    "UpsamplingNearest2d": [(lambda: nn.UpsamplingNearest2d(scale_factor=2), (randn(1, 2, 3, 3),))],
    "UpsamplingBilinear2d": [(lambda: nn.UpsamplingBilinear2d(size=(5, 5)), (randn(1, 2, 3, 3),))],
    # activations
    "ReLU": [(lambda: nn.ReLU(), (randn(3, 4),))],
    "ReLU6": [(lambda: nn.ReLU6(), (randn(3, 4) * 4,))],
    "LeakyReLU": [(lambda: nn.LeakyReLU(0.2), (randn(3, 4),))],
    "ELU": [(lambda: nn.ELU(0.7), (randn(3, 4),))],
    "CELU": [(lambda: nn.CELU(1.3), (randn(3, 4),))],
    "SELU": [(lambda: nn.SELU(), (randn(3, 4),))],
    "GELU": [(lambda: nn.GELU(), (randn(3, 4),)), (lambda: nn.GELU("tanh"), (randn(3, 4),))],
    "SiLU": [(lambda: nn.SiLU(), (randn(3, 4),))],
    "Mish": [(lambda: nn.Mish(), (randn(3, 4),))],
    "Hardtanh": [(lambda: nn.Hardtanh(-0.5, 0.8), (randn(3, 4),))],
    "Hardsigmoid": [(lambda: nn.Hardsigmoid(), (randn(3, 4) * 3,))],
    "Hardswish": [(lambda: nn.Hardswish(), (randn(3, 4) * 3,))],
    "Sigmoid": [(lambda: nn.Sigmoid(), (randn(3, 4),))],
    "LogSigmoid": [(lambda: nn.LogSigmoid(), (randn(3, 4),))],
    "Tanh": [(lambda: nn.Tanh(), (randn(3, 4),))],
    "Softsign": [(lambda: nn.Softsign(), (randn(3, 4),))],
    "Softplus": [(lambda: nn.Softplus(2.0, 5.0), (randn(3, 4) * 3,))],
    "Softmax": [(lambda: nn.Softmax(dim=1), (randn(3, 4),))],
    "LogSoftmax": [(lambda: nn.LogSoftmax(dim=-1), (randn(3, 4),))],
    "Softmin": [(lambda: nn.Softmin(dim=0), (randn(3, 4),))],
    "GLU": [(lambda: nn.GLU(), (randn(3, 4),))],
    "PReLU": [(lambda: nn.PReLU(), (randn(3, 4),)), (lambda: nn.PReLU(3, init=0.1), (randn(2, 3, 4),))],
    # losses
    "L1Loss": [(lambda: nn.L1Loss(), (randn(3, 4), randn(3, 4)))],
    "MSELoss": [(lambda: nn.MSELoss(reduction="sum"), (randn(3, 4), randn(3, 4)))],
    "CrossEntropyLoss": [(lambda: nn.CrossEntropyLoss(), (randn(5, 4), indices(4, 5))),
                         (lambda: nn.CrossEntropyLoss(weight=mg.tensor(RNG.uniform(0.5, 2, 4)), label_smoothing=0.1,
                                                      ignore_index=2), (randn(5, 4), indices(4, 5)))],
    "NLLLoss": [(lambda: nn.NLLLoss(reduction="none"), (randn(5, 4), indices(4, 5)))],
    "BCELoss": [(lambda: nn.BCELoss(), (RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0, 1, (3, 4))))],
    "BCEWithLogitsLoss": [(lambda: nn.BCEWithLogitsLoss(pos_weight=mg.tensor(RNG.uniform(0.5, 2, 4))),
                           (randn(3, 4), RNG.uniform(0, 1, (3, 4))))],
    "KLDivLoss": [(lambda: nn.KLDivLoss(reduction="batchmean", log_target=True), (randn(3, 4), randn(3, 4)))],
    "HuberLoss": [(lambda: nn.HuberLoss(delta=0.5), (randn(3, 4), randn(3, 4)))],
    "SmoothL1Loss": [(lambda: nn.SmoothL1Loss(beta=0.5), (randn(3, 4), randn(3, 4)))],
    "PoissonNLLLoss": [(lambda: nn.PoissonNLLLoss(), (randn(3, 4), RNG.uniform(0, 3, (3, 4))))],
    "GaussianNLLLoss": [(lambda: nn.GaussianNLLLoss(), (randn(3, 4), randn(3, 4), RNG.uniform(0.5, 2, (3, 4))))],
    "SoftMarginLoss": [(lambda: nn.SoftMarginLoss(), (randn(3, 4), signs(3, 4)))],
    "MultiLabelSoftMarginLoss": [(lambda: nn.MultiLabelSoftMarginLoss(), (randn(3, 4), indices(2, 3, 4) * 1.0))],
    "MarginRankingLoss": [(lambda: nn.MarginRankingLoss(0.2), (randn(5), randn(5), signs(5)))],
    "HingeEmbeddingLoss": [(lambda: nn.HingeEmbeddingLoss(), (randn(3, 4), signs(3, 4)))],
    "CosineEmbeddingLoss": [(lambda: nn.CosineEmbeddingLoss(0.1), (randn(3, 4), randn(3, 4), signs(3)))],
    "MultiMarginLoss": [(lambda: nn.MultiMarginLoss(p=2, margin=0.5), (randn(4, 5), indices(5, 4)))],
    "MultiLabelMarginLoss": [(lambda: nn.MultiLabelMarginLoss(), (randn(2, 4), np.array([[3, 0, -1, 1],
                                                                                          [1, 2, 3, -1]])))],
    "TripletMarginLoss": [(lambda: nn.TripletMarginLoss(swap=True), (randn(3, 4), randn(3, 4), randn(3, 4)))],
    "PairwiseDistance": [(lambda: nn.PairwiseDistance(p=3, keepdim=True), (randn(3, 4), randn(3, 4)))],
    "Threshold": [(lambda: nn.Threshold(0.1, -2.0), (randn(3, 4),))],
    "Hardshrink": [(lambda: nn.Hardshrink(0.3), (randn(3, 4),))],
    "Softshrink": [(lambda: nn.Softshrink(0.3), (randn(3, 4),))],
    "Tanhshrink": [(lambda: nn.Tanhshrink(), (randn(3, 4),))],
    "CosineSimilarity": [(lambda: nn.CosineSimilarity(dim=0), (randn(3, 4), randn(3, 4)))],
    "SquaredHingeLoss": [(lambda: nn.SquaredHingeLoss(), (randn(4, 3), indices(3, 4))),
                         (lambda: nn.SquaredHingeLoss("sum"), (randn(4, 3), signs(4, 3)))],
    # binary and quantized layers
    "BinaryLinear": [(lambda: nn.BinaryLinear(6, 4), (randn(3, 6),)),
                     (lambda: nn.BinaryLinear(6, 4, bias=True, scale="mean",
                                              weight_surrogate=ste.ApproxSign()), (randn(3, 6),))],
    "BinaryConv2d": [(lambda: nn.BinaryConv2d(2, 3, 3, padding=1, pad_value=1.0), (signs(2, 2, 5, 5),)),
                     (lambda: nn.BinaryConv2d(2, 4, 3, stride=2, padding=1, bias=True, scale="mean"),
                      (randn(2, 2, 6, 6),))],
    "QuantLinear": [(lambda: nn.QuantLinear(6, 4, bits=3), (randn(3, 6),))],
    "QuantConv2d": [(lambda: nn.QuantConv2d(2, 3, 3, padding=1, bits=2), (randn(2, 2, 5, 5),))],
    "Sign": [(lambda: nn.Sign(), (randn(3, 4),)), (lambda: nn.Sign(surrogate=ste.SwishSign(3.0)), (randn(3, 4),))],
    "Quantize": [(lambda: nn.Quantize(2), (RNG.uniform(-0.3, 1.3, (3, 4)),)),
                 (lambda: nn.Quantize(3, -1.0, 2.0, surrogate=ste.Identity()), (RNG.uniform(-2, 3, (3, 4)),))],
    "LSQ": [(lambda: nn.LSQ(2), (randn(4, 5),)), (lambda: nn.LSQ(3, signed=True, init_step=0.3), (randn(4, 5),))],
    "BitLinear": [(lambda: nn.BitLinear(8, 5), (randn(3, 8),)),
                  (lambda: nn.BitLinear(8, 5, bias=True, act_bits=4, norm=False, weight_surrogate=ste.Clipped(1.5)),
                   (randn(2, 3, 8),))],
    "MultiheadAttention": [(lambda: nn.MultiheadAttention(8, 2, batch_first=True), (randn(2, 5, 8),) * 3),
                           (lambda: nn.MultiheadAttention(8, 2, bias=False, add_bias_kv=True, kdim=6, vdim=4),
                            (randn(5, 2, 8), randn(3, 2, 6), randn(3, 2, 4)))],
    "PACT": [(lambda: nn.PACT(2, alpha=1.5), (RNG.uniform(-1, 2, (3, 4)),))],
}


def pooled(nd, shape):
    """Max-pooled values and their indices (kernel 2), the inputs of MaxUnpoolNd(2)."""
    pool = getattr(nn.functional, f"max_pool{nd}d")
    values, where = pool(mg.tensor(randn(*shape)), 2, return_indices=True)
    return values.numpy(), where.numpy()


LAYERS.update({
    "MaxUnpool1d": [(lambda: nn.MaxUnpool1d(2), pooled(1, (2, 3, 8)))],
    "MaxUnpool2d": [(lambda: nn.MaxUnpool2d(2), pooled(2, (2, 2, 4, 6)))],
    "MaxUnpool3d": [(lambda: nn.MaxUnpool3d(2), pooled(3, (1, 2, 4, 4, 2)))],
})
CONTAINERS = {"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Module"}
CASES = [(name, i) for name, cases in LAYERS.items() for i in range(len(cases))]


def test_every_layer_of_mg_nn_has_a_case():
    classes = {n for n in nn.__all__ if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)}
    assert classes - CONTAINERS - set(LAYERS) == set(), "add the new layers to LAYERS (and check their twin)"


# PyTorch computes some constants in float32 even for float64 tensors (hardsigmoid's 1/6, CELU's 1/alpha in the
# gradient): its float64 gradients are off by a float32 rounding there, minigrad's are not.
TOLERANCE = {"Hardsigmoid": 1e-7, "CELU": 1e-7}


def differentiable(name, arrays):
    """Which inputs require grad: the float ones, but not a loss's target (its last input; GaussianNLL's is var)."""
    last = len(arrays) - 1 if name.endswith("Loss") and name != "GaussianNLLLoss" else None
    return [a.dtype.kind == "f" and i != last for i, a in enumerate(arrays)]


def mg_inputs(arrays, grad):
    return [mg.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]


def torch_inputs(arrays, grad):
    return [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]


def grads_of(inputs, params, lib):
    if lib == "mg":
        return [None if t.grad is None else t.grad.numpy() for t in inputs + params]
    return [None if t.grad is None else t.grad.numpy() for t in inputs + params]


def assert_state_equal(mg_module, torch_module, exact=True):
    ms, ts = mg_module.state_dict(), torch_module.state_dict()
    assert list(ms) == list(ts)
    for key in ms:
        assert ms[key].shape == tuple(ts[key].shape), key
        assert str(ms[key].dtype) == str(ts[key].dtype).removeprefix("torch."), key
        np.testing.assert_allclose(ms[key], ts[key].numpy(), rtol=0 if exact else 1e-10, atol=0 if exact else 1e-10,
                                   err_msg=key)


def run_both(name, layer, twin, arrays, dtype):
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    grad = differentiable(name, arrays)
    xs, ts = mg_inputs(arrays, grad), torch_inputs(arrays, grad)
    y, t = layer(*xs), twin(*ts)
    return xs, ts, y, t


@needs_torch
@pytest.mark.parametrize("name,i", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_each_layer_maps_to_its_pytorch_layer_with_the_same_state_outputs_and_gradients(name, i):
    make, arrays = LAYERS[name][i]
    mg.manual_seed(0)
    layer = make().double()
    twin = interop.to_torch(layer)
    expected = getattr(torch.nn, name, None) or interop.torch_twin.TWINS[getattr(nn, name)]
    assert type(twin) is expected
    assert_state_equal(layer, twin)
    for mode in ("train", "eval"):
        if name == "Dropout" and mode == "train":
            continue  # random masks: the two libraries draw differently (checked in eval: the identity)
        layer.train(mode == "train"), twin.train(mode == "train")
        xs, ts, y, t = run_both(name, layer, twin, arrays, np.float64)
        y = y[0] if isinstance(y, tuple) else y
        t = t[0] if isinstance(t, tuple) else t
        np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-10)
        g = RNG.standard_normal(y.shape)
        if y.requires_grad:
            y.backward(mg.tensor(g))
            t.backward(torch.tensor(g))
            params = list(layer.parameters())
            tparams = list(twin.parameters())
            for a, b in zip(grads_of(xs, params, "mg"), grads_of(ts, tparams, "torch")):
                assert (a is None) == (b is None)
                if a is not None:
                    tol = TOLERANCE.get(name, 1e-10)
                    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
            layer.zero_grad(), twin.zero_grad()
        assert_state_equal(layer, twin, exact=False)  # running statistics updated alike
    back = interop.from_torch(twin)
    assert type(back) is type(layer)
    assert_state_equal(back, twin)
    back.eval(), twin.eval()
    _, _, y, t = run_both(name, back, twin, arrays, np.float64)
    y = y[0] if isinstance(y, tuple) else y
    t = t[0] if isinstance(t, tuple) else t
    np.testing.assert_allclose(y.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-10)


# ---- the straight-through ops: every op, every surrogate ----------------------------------------------------
SURROGATES = [ste.Identity(), ste.Clipped(), ste.Clipped(0.5, inclusive=False), ste.ApproxSign(), ste.SwishSign(3.0),
              ste.Tanh(2.0), ste.HardSigmoid(1.5), ste.ReLU(), ste.ClippedReLU(0.7), ste.Zero(),
              ste.Surrogate.from_function(lambda x: (x * 2).tanh(), name="tanh2x")]
assert {type(s) for s in SURROGATES} >= set(ste.CATALOGUE)

STE_OPS = {  # name: (minigrad call, torch call) with the same extra arguments
    "sign": (lambda x, s: ste.sign(x, s), lambda x, s: torch_ste.sign(x, s)),
    "heaviside": (lambda x, s: ste.heaviside(x, s), lambda x, s: torch_ste.heaviside(x, s)),
    "round": (lambda x, s: ste.round(x * 3, s), lambda x, s: torch_ste.round(x * 3, s)),
    "floor": (lambda x, s: ste.floor(x * 3, s), lambda x, s: torch_ste.floor(x * 3, s)),
    "ceil": (lambda x, s: ste.ceil(x * 3, s), lambda x, s: torch_ste.ceil(x * 3, s)),
    "quantize": (lambda x, s: ste.quantize(x, 2, -1.0, 1.5, s), lambda x, s: torch_ste.quantize(x, 2, -1.0, 1.5, s)),
    "fake_quantize": (lambda x, s: ste.fake_quantize(x, 0.1, 3, -8, 7, surrogate=s),
                      lambda x, s: torch_ste.fake_quantize(x, 0.1, 3, -8, 7, surrogate=s)),
    "ternarize": (lambda x, s: ste.ternarize(x, 0.3, s), lambda x, s: torch_ste.ternarize(x, 0.3, s)),
    "absmean_ternary": (lambda x, s: ste.absmean_ternary(x * 0.7, surrogate=s)[0],
                        lambda x, s: torch_ste.absmean_ternary(x * 0.7, surrogate=s)[0]),
    "absmax_quantize": (lambda x, s: ste.absmax_quantize(x.reshape(3, -1), 4, surrogate=s)[0].reshape(-1),
                        lambda x, s: torch_ste.absmax_quantize(x.reshape(3, -1), 4, surrogate=s)[0].reshape(-1)),
}
STE_CASES = [(op, s) for op in STE_OPS for s in [None] + SURROGATES]


def ste_input(dtype):
    x = np.concatenate([RNG.uniform(-2, 2, 60), [0.0, 1.0, -1.0, 0.5, -0.5, 0.3, -0.3, 1 / 3, 0.7]])
    return x.astype(dtype)


@needs_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("op,surrogate", STE_CASES, ids=[f"{op}-{s!r}" for op, s in STE_CASES])
def test_each_ste_op_has_minigrads_exact_forward_and_surrogate_backward(op, surrogate, dtype, tol):
    mine, theirs = STE_OPS[op]
    x = ste_input(dtype)
    g = RNG.standard_normal(x.shape).astype(dtype)
    a, b = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, t = mine(a, surrogate), theirs(b, surrogate)
    assert str(t.dtype) == f"torch.{y.dtype}"
    np.testing.assert_array_equal(y.numpy(), t.detach().numpy())  # exact: the same values, bit for bit
    y.backward(mg.tensor(g))
    t.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)


@needs_torch
def test_the_twin_uses_the_rule_minigrad_would_bind_the_scope_and_the_default():
    x = ste_input(np.float64)
    b = torch.tensor(x, requires_grad=True)
    with ste.surrogates(sign=ste.ApproxSign()):
        torch_ste.sign(b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.maximum(2 - 2 * np.abs(x), 0))
    b.grad = None
    torch_ste.sign(b).sum().backward()  # the default: Clipped(1.0), |x| <= 1 inclusive
    np.testing.assert_array_equal(b.grad.numpy(), (np.abs(x) <= 1).astype(float))
    with pytest.raises(TypeError, match="plain function"):
        torch_ste.sign(b, surrogate=lambda ctx, g: g)


@needs_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("signed,bits,step", [(False, 2, 0.4), (True, 3, 0.25), (True, 4, np.array([0.1, 0.2, 0.3]))])
def test_lsq_and_pact_functions_agree_with_minigrad(signed, bits, step, dtype, tol):
    x = RNG.standard_normal((4, 3)).astype(dtype)
    g = RNG.standard_normal((4, 3)).astype(dtype)
    step = np.asarray(step, dtype)
    a, s = mg.tensor(x, requires_grad=True), mg.tensor(step, requires_grad=True)
    b, t = torch.tensor(x, requires_grad=True), torch.tensor(step, requires_grad=True)
    y, u = ste.lsq(a, s, bits, signed), torch_ste.lsq(b, t, bits, signed)
    np.testing.assert_array_equal(y.numpy(), u.detach().numpy())
    y.backward(mg.tensor(g)), u.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
    alpha = np.asarray(1.3, dtype)
    a, s = mg.tensor(x, requires_grad=True), mg.tensor(alpha, requires_grad=True)
    b, t = torch.tensor(x, requires_grad=True), torch.tensor(alpha, requires_grad=True)
    y, u = ste.pact(a, s, bits), torch_ste.pact(b, t, bits)
    np.testing.assert_array_equal(y.numpy(), u.detach().numpy())
    y.backward(mg.tensor(g)), u.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


@needs_torch
def test_stochastic_sign_draws_plus_minus_one_with_minigrads_probability_and_surrogate():
    x = np.repeat(np.array([-1.5, -0.5, 0.0, 0.6, 2.0]), 4000)
    b = torch.tensor(x, requires_grad=True)
    y = torch_ste.stochastic_sign(b, generator=torch.Generator().manual_seed(0))
    assert set(np.unique(y.detach().numpy())) == {-1.0, 1.0}
    freq = (y.detach().numpy().reshape(5, -1) > 0).mean(axis=1)
    np.testing.assert_allclose(freq, np.clip((np.array([-1.5, -0.5, 0.0, 0.6, 2.0]) + 1) / 2, 0, 1), atol=0.03)
    y.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), (np.abs(x) <= 1).astype(float))


# ---- whole models, trained side by side ---------------------------------------------------------------------
# A bias just before a batch norm has a gradient of 0 up to rounding; Adam would amplify that noise (it divides by the
# gradient's size), so those layers have no bias, as usual.
def mlp():
    return nn.Sequential(nn.Linear(20, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2),
                         nn.Flatten(), nn.Linear(64, 10))


def bnn_mlp():
    """The BNN MLP of Hubara et al. 2016 (minigrad's bnn-mlp recipe, narrower)."""
    return nn.Sequential(nn.BinaryLinear(20, 32), nn.BatchNorm1d(32), nn.Sign(),
                         nn.BinaryLinear(32, 32), nn.BatchNorm1d(32), nn.Sign(),
                         nn.BinaryLinear(32, 10), nn.BatchNorm1d(10))


def binary_cnn():
    """A binary CNN: a float first conv, binary convolutions padded with +1 and a scaled binary dense layer."""
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.Sign(),
                         nn.BinaryConv2d(8, 16, 3, padding=1, pad_value=1.0), nn.MaxPool2d(2), nn.BatchNorm2d(16),
                         nn.Sign(surrogate=ste.ApproxSign()),
                         nn.BinaryConv2d(16, 16, 3, padding=1, scale="mean"), nn.BatchNorm2d(16),
                         nn.Sign(), nn.Flatten(), nn.BinaryLinear(256, 10), nn.BatchNorm1d(10))


def quantized_cnn():
    """DoReFa k-bit weights, PACT, LSQ and DoReFa activation quantizers."""
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.PACT(2, alpha=2.0),
                         nn.QuantConv2d(8, 16, 3, padding=1, bits=2, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.LSQ(3),
                         nn.MaxPool2d(2), nn.QuantConv2d(16, 16, 3, padding=1, bits=3), nn.Hardtanh(0.0, 1.0),
                         nn.Quantize(2), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.QuantLinear(64, 10, bits=4))


# Adam divides each step by the gradient's size: where a gradient is about 1e-8 (its eps), a float32 rounding of the
# gradient moves the step by a good part of lr. The binary CNN has such gradients, so it is compared under SGD.
MODELS = {"mlp": (mlp, (16, 20), "adam"), "cnn": (cnn, (8, 1, 8, 8), "sgd"), "bnn_mlp": (bnn_mlp, (16, 20), "adam"),
          "binary_cnn": (binary_cnn, (8, 1, 8, 8), "sgd"), "quantized_cnn": (quantized_cnn, (8, 1, 8, 8), "sgd")}


def optimizers(kind, model, twin):
    if kind == "adam":
        return mg.optim.Adam(model.parameters(), lr=1e-2), torch.optim.Adam(twin.parameters(), lr=1e-2)
    return (mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
            torch.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9))


@needs_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(MODELS))
def test_a_model_and_its_twin_train_alike(name, dtype, tol):
    build, shape, kind = MODELS[name]
    mg.manual_seed(1)
    model = build().to(dtype)
    twin = interop.to_torch(model)
    assert_state_equal(model, twin)
    opt, topt = optimizers(kind, model, twin)
    interop.constrain(topt, twin)
    rng = np.random.default_rng(5)
    for step in range(4):
        x = rng.standard_normal(shape).astype(dtype)
        labels = rng.integers(0, 10, shape[0])
        out, tout = model(mg.tensor(x)), twin(torch.tensor(x))
        loss = nn.functional.cross_entropy(out, mg.tensor(labels))
        tloss = torch.nn.functional.cross_entropy(tout, torch.tensor(labels))
        if step == 0:  # one training step: outputs, loss and every parameter's gradient
            np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
            np.testing.assert_allclose(loss.item(), tloss.item(), rtol=tol, atol=tol)
        opt.zero_grad(), topt.zero_grad()
        loss.backward(), tloss.backward()
        if step == 0:
            for (key, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
                np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=tol, atol=tol, err_msg=key)
        if step == 3:
            break
        opt.step(), topt.step()
    # three optimizer steps later (constraints applied on both sides), weights and statistics still agree
    for (key, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
        np.testing.assert_allclose(a, b.numpy(), rtol=tol, atol=tol, err_msg=key)
    model.eval(), twin.eval()
    x = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(model(mg.tensor(x)).numpy(), twin(torch.tensor(x)).detach().numpy(), rtol=tol,
                               atol=tol)
    back = interop.from_torch(twin)  # and back: the twin's weights, exactly
    assert_state_equal(back, twin)
    np.testing.assert_allclose(back(mg.tensor(x)).numpy(), model(mg.tensor(x)).numpy(), rtol=tol, atol=tol)


@needs_torch
def test_constraints_clip_binary_latent_weights_after_a_torch_step():
    twin = interop.to_torch(nn.Sequential(nn.BinaryLinear(4, 3), nn.LSQ(2, init_step=0.5)))
    with torch.no_grad():
        twin[0].weight.fill_(3.0)
        twin[1].step.fill_(-1.0)
    interop.apply_constraints(twin)
    assert twin[0].weight.max().item() == 1.0 and twin[1].step.item() == pytest.approx(1e-6)


# ---- errors -----------------------------------------------------------------------------------------------
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x) + x


@needs_torch
def test_a_module_of_your_own_is_named_and_can_be_registered():
    model = nn.Sequential(nn.Linear(3, 3), Block())
    with pytest.raises(NotImplementedError, match=r"'1' \(Block\).*mg.interop.register"):
        interop.to_torch(model)

    class TorchBlock(torch.nn.Module):
        def __init__(self, fc):
            super().__init__()
            self.fc = fc

        def forward(self, x):
            return self.fc(x) + x

    interop.register(Block, lambda module, convert: TorchBlock(convert(module.fc)))
    try:
        twin = interop.to_torch(model)
        x = RNG.standard_normal((2, 3)).astype(np.float32)
        np.testing.assert_allclose(twin(torch.tensor(x)).detach().numpy(), model(mg.tensor(x)).numpy(), atol=1e-6)
    finally:
        interop.torch_twin._converters.pop(Block)


@needs_torch
def test_from_torch_names_every_layer_it_does_not_know():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LSTMCell(4, 4), torch.nn.Sequential(
        torch.nn.RReLU()))
    with pytest.raises(NotImplementedError, match=r"'1' \(torch.nn.modules.rnn.LSTMCell\), '2.0' "
                                                  r"\(torch.nn.modules.activation.RReLU\)"):
        interop.from_torch(model)


# ---- weights: safetensors both ways --------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("name", list(MODELS))
def test_safetensors_round_trips_with_pytorch_both_ways(name, tmp_path):
    st = pytest.importorskip("safetensors.torch")
    build, shape, _ = MODELS[name]
    mg.manual_seed(3)
    model = build()
    model(mg.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32)))  # statistics move
    path = tmp_path / "m.safetensors"
    mg.save(model.state_dict(), path)
    twin = interop.to_torch(build())
    assert twin.load_state_dict(st.load_file(path), strict=True)  # minigrad -> PyTorch
    assert_state_equal(model, twin)
    with torch.no_grad():
        for p in twin.parameters():
            p.mul_(0.5)
    st.save_file(twin.state_dict(), tmp_path / "t.safetensors")
    fresh = build()
    fresh.load_state_dict(mg.load(tmp_path / "t.safetensors"), strict=True)  # PyTorch -> minigrad
    assert_state_equal(fresh, twin)
    assert list(mg.load(path)) == list(model.state_dict())  # the order of the keys is kept


def test_safetensors_round_trip_keeps_names_shapes_dtypes_and_order(tmp_path):
    pytest.importorskip("safetensors")
    mg.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.BinaryLinear(36, 5), nn.LSQ(2))
    model(mg.tensor(np.random.default_rng(0).standard_normal((3, 1, 5, 5)).astype(np.float32)))
    state = model.state_dict()
    path = tmp_path / "model.SafeTensors"  # the extension chooses the format, in any case
    mg.save(state, path)
    assert path.read_bytes()[8:9] == b"{"  # a safetensors header (8-byte length, then JSON), not a zip
    loaded = mg.load(path)
    assert list(loaded) == list(state)
    for key in state:
        assert loaded[key].dtype == state[key].dtype and loaded[key].shape == state[key].shape, key
        np.testing.assert_array_equal(loaded[key], state[key])
    assert loaded["1.num_batches_tracked"].shape == () and loaded["1.num_batches_tracked"] == 1
    assert loaded["3.weight"].dtype == np.float32  # binary layers' latent weights travel as float32
    fresh = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.BinaryLinear(36, 5), nn.LSQ(2))
    fresh.load_state_dict(loaded, strict=True)
    mg.save({"w": mg.tensor([1.0, 2.0])}, tmp_path / "t.safetensors")  # tensors are stored as their arrays
    np.testing.assert_array_equal(mg.load(tmp_path / "t.safetensors")["w"], [1.0, 2.0])


def test_safetensors_refuses_what_it_cannot_hold_and_damaged_files(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "m.safetensors"
    with pytest.raises(TypeError, match="flat dict of name -> tensor"):
        mg.save([np.ones(2)], path)
    with pytest.raises(TypeError, match="'epoch' is a int.*npz"):
        mg.save({"w": np.ones(2), "epoch": 3}, path)
    assert not path.exists()
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="not a readable .safetensors file"):
        mg.load(path)
    mg.save({"w": np.ones(1000)}, path)
    with pytest.raises(ValueError, match="max_bytes"):
        mg.load(path, max_bytes=100)


def test_without_the_safetensors_package_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install safetensors.*npz"):
        mg.save({"w": np.ones(2)}, tmp_path / "m.safetensors")
    mg.save({"w": np.ones(2)}, tmp_path / "m.npz")  # other formats need nothing
    assert list(mg.load(tmp_path / "m.npz")) == ["w"]


def test_the_packed_one_bit_export_of_binary_layers_keeps_working(tmp_path):
    mg.manual_seed(6)
    model = nn.Sequential(nn.BinaryLinear(12, 8, scale="mean"), nn.BatchNorm1d(8), nn.Sign(), nn.BinaryLinear(8, 3))
    model(mg.tensor(np.random.default_rng(1).standard_normal((5, 12)).astype(np.float32)))
    model.eval()
    mg.serialization.export_binary(model, tmp_path / "m.bin.npz")
    fresh = nn.Sequential(nn.BinaryLinear(12, 8, scale="mean"), nn.BatchNorm1d(8), nn.Sign(), nn.BinaryLinear(8, 3))
    mg.serialization.load_binary(tmp_path / "m.bin.npz", fresh).eval()
    x = mg.tensor(np.random.default_rng(2).standard_normal((4, 12)).astype(np.float32))
    np.testing.assert_allclose(fresh(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-6)


# ---- the tutorial: design in minigrad, train with DistributedDataParallel (two CPU processes, gloo), come back ----
TUTORIAL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tutorials",
                        "taking-your-model-elsewhere.md")


@needs_torch
def test_the_tutorial_runs_distributed_data_parallel_included(tmp_path, monkeypatch, capsys):
    for extra in ("safetensors", "onnx", "onnxruntime"):
        pytest.importorskip(extra)
    with open(TUTORIAL, encoding="utf-8") as f:
        blocks = re.findall(r"^```python\n(.*?)^```", f.read(), flags=re.S | re.M)
    assert any(b.startswith("# ddp_train.py") for b in blocks)
    monkeypatch.chdir(tmp_path)
    root = os.path.dirname(os.path.dirname(TUTORIAL))  # the torchrun processes import this tree's minigrad
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    namespace = {"__name__": "tutorial"}
    for block in blocks:
        if block.startswith("# ddp_train.py"):
            (tmp_path / "ddp_train.py").write_text(block)
        else:
            exec(compile(block, TUTORIAL, "exec"), namespace)
    out = capsys.readouterr().out
    assert "epoch 3: loss" in out and "after DDP: test accuracy" in out and "ONNX Runtime: test accuracy" in out
    assert (tmp_path / "bnn-ddp.safetensors").exists()
