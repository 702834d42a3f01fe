"""threshold / threshold_ / nn.Threshold, hardshrink, softshrink, tanhshrink and their modules: what the op table
(tests/op_rows_activation.py) cannot express. Result dtypes for every input dtype against PyTorch (integer inputs,
threshold and value cast to the input's dtype), in-place forms, signed zeros, reprs and errors (PyTorch's classes)."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")
DTYPES = ["uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
VALUES = np.array([-3, -1, 0, 1, 2, 5, 7])


def outcome(lib, fn, x):
    try:
        out = fn(lib, x)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, None
    return str(out.dtype).replace("torch.", ""), (out.detach() if lib is torch else out).numpy()


CALLS = {
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 1.5, 9.7),
    "threshold_negative": lambda lib, x: lib.nn.functional.threshold(x, -0.5, -2.5),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x, 1.0),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x, 1.0),
    "tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
}


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_values_and_errors_are_torchs(name, dtype):
    values = VALUES if dtype != "uint8" else np.abs(VALUES)
    got = outcome(mg, CALLS[name], mg.tensor(values.astype(dtype)))
    want = outcome(torch, CALLS[name], torch.tensor(values.astype(dtype)))
    assert got[0] == want[0]
    if want[1] is not None:
        np.testing.assert_allclose(got[1].astype(np.float64), want[1].astype(np.float64), rtol=1e-3 if "16" in dtype
                                   else 1e-6)


def test_signed_zeros_and_nan_as_torch():
    x = np.array([-0.5, -0.25, -0.0, 0.0, 0.25, 0.5, np.nan, np.inf, -np.inf])
    for name in ("hardshrink", "softshrink"):  # +0 on the band, as PyTorch's vectorised kernel (9 float64: 4 + 4 + 1)
        got = getattr(F, name)(mg.tensor(x[:8])).numpy()
        want = getattr(torch.nn.functional, name)(torch.tensor(x[:8])).numpy()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    got = F.threshold(mg.tensor(x), 0.0, 5.0).numpy()
    np.testing.assert_array_equal(got, torch.nn.functional.threshold(torch.tensor(x), 0.0, 5.0).numpy())


def test_gradient_at_nan_passes_through_as_torch():
    x = np.array([np.nan, 0.2, 3.0])
    for name, args in (("hardshrink", ()), ("softshrink", ()), ("threshold", (0.5, 0.0))):
        a, t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        getattr(F, name)(a, *args).sum().backward()
        getattr(torch.nn.functional, name)(t, *args).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


def test_threshold_in_place_as_torch():
    x = np.array([-1.0, 0.5, 2.0])
    a, t = mg.tensor(x), torch.tensor(x)
    assert F.threshold_(a, 0.5, 20.0) is a and F.threshold(a, 1.0, -1.0, inplace=True) is a
    torch.nn.functional.threshold_(t, 0.5, 20.0), torch.nn.functional.threshold(t, 1.0, -1.0, inplace=True)
    np.testing.assert_array_equal(a.numpy(), t.numpy())
    m = nn.Threshold(0.0, 3.0, inplace=True)
    b = mg.tensor([-2.0, 1.0])
    assert m(b) is b and b.numpy().tolist() == [3.0, 1.0]
    leaf = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        F.threshold_(leaf, 0.0, 1.0)  # a leaf that requires grad, as PyTorch
    with pytest.raises(RuntimeError):
        torch.nn.functional.threshold_(torch.tensor([1.0], requires_grad=True), 0.0, 1.0)


def test_module_reprs_and_results_are_torchs():
    x = np.random.default_rng(0).standard_normal((3, 4))
    for ours, theirs in ((nn.Threshold(0.1, 20), torch.nn.Threshold(0.1, 20)),
                         (nn.Threshold(0.1, 20, inplace=True), torch.nn.Threshold(0.1, 20, inplace=True)),
                         (nn.Hardshrink(), torch.nn.Hardshrink()), (nn.Softshrink(0.3), torch.nn.Softshrink(0.3)),
                         (nn.Tanhshrink(), torch.nn.Tanhshrink())):
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(mg.tensor(x.copy())).numpy(), theirs(torch.tensor(x.copy())).numpy(),
                                   rtol=1e-12, atol=1e-15)  # x - tanh(x) cancels: tanh's last bit shows


@pytest.mark.parametrize("lambd", [-1.0, float("inf"), float("nan")])
def test_softshrink_refuses_a_lambd_out_of_range_as_torch(lambd):
    with pytest.raises(RuntimeError):
        torch.nn.functional.softshrink(torch.zeros(2, dtype=torch.float64), lambd)
    with pytest.raises(RuntimeError, match="softshrink: lambda must be in range"):
        F.softshrink(mg.zeros(2, dtype=mg.float64), lambd)
    with pytest.raises(RuntimeError, match="float16"):
        F.softshrink(mg.zeros(2, dtype=mg.float16), 70000.0)  # beyond float16's range
