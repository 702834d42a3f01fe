"""Pooling (1, 2 and 3 spatial dims): max, average, adaptive, LP pooling and max unpooling, functions and modules:
forward against cell-by-cell loops and PyTorch, PyTorch's rules for ties, NaN, ceil_mode, divisors and indices,
errors, dtypes and unbatched inputs. (Gradients and second derivatives of every form against PyTorch: the op
table, tests/op_rows_conv.py.)"""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(4321)

try:
    import torch
    TF = torch.nn.functional
except ImportError:
    torch = TF = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (make test installs it in CI)")


def pool_loop(x, k, s, p, reduce, pad_value):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(xp[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool_forward_and_gradient(k, s, p):
    x = RNG.standard_normal((2, 3, 7, 6))
    y = F.max_pool2d(mg.tensor(x), k, s, p)
    np.testing.assert_allclose(y.numpy(), pool_loop(x, k, s, p, np.max, -np.inf))
    assert gradcheck(lambda x: F.max_pool2d(x, k, s, p), [mg.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_avg_pool_forward_and_gradient(k, s, p):
    x = RNG.standard_normal((2, 3, 7, 6))
    y = F.avg_pool2d(mg.tensor(x), k, s, p)
    np.testing.assert_allclose(y.numpy(), pool_loop(x, k, s, p, np.mean, 0.0), atol=1e-12)
    assert gradcheck(lambda x: F.avg_pool2d(x, k, s, p), [mg.tensor(x, requires_grad=True)])


def test_avg_pool_count_include_pad_false_divides_by_real_pixels():
    x = RNG.standard_normal((1, 2, 5, 5))
    y = F.avg_pool2d(mg.tensor(x), 3, 2, 1, count_include_pad=False)
    sums = pool_loop(x, 3, 2, 1, np.sum, 0.0)
    counts = pool_loop(np.ones_like(x), 3, 2, 1, np.sum, 0.0)
    np.testing.assert_allclose(y.numpy(), sums / counts, atol=1e-12)
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [mg.tensor(x, requires_grad=True)])
    y = F.avg_pool2d(mg.tensor(x), 3, 2, 1, divisor_override=4)
    np.testing.assert_allclose(y.numpy(), sums / 4, atol=1e-12)


def test_max_pool_tied_maxima_give_the_gradient_to_the_first():
    x = mg.tensor(np.array([[[[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).backward(mg.tensor([[[[5.0, 7.0]]]], dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 5, 7, 0], [0, 0, 0, 0]]]])  # as PyTorch


def test_max_pool_second_order():
    x = mg.tensor(RNG.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2) ** 2, [x])


def ceil_pool_loop(x, k, s, p, kind, count_include_pad=True):
    """PyTorch's ceil_mode pooling, cell by cell: the output size rounds up (but the last window must start
    inside the input or its left padding); a window sees the input and its padding, never the overhang."""
    n, c, h, w = x.shape
    size = []
    for length in (h, w):
        o = -(-(length + 2 * p - k) // s) + 1
        size.append(o - 1 if (o - 1) * s >= length + p else o)
    out = np.zeros((n, c, *size))
    for i in range(size[0]):
        for j in range(size[1]):
            r0, c0 = i * s - p, j * s - p                              # window start in input coordinates
            r1, c1 = min(r0 + k, h + p), min(c0 + k, w + p)            # clipped to the padded input
            cells = x[:, :, max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)]
            if kind == "max":
                out[:, :, i, j] = cells.max(axis=(2, 3))
            else:
                count = (r1 - r0) * (c1 - c0) if count_include_pad else cells.shape[2] * cells.shape[3]
                out[:, :, i, j] = cells.sum(axis=(2, 3)) / count
    return out


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 0), (3, 2, 1), (2, 3, 1)])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_pooling_ceil_mode(k, s, p, count_include_pad):
    x = RNG.standard_normal((2, 3, 7, 6))
    y = F.max_pool2d(mg.tensor(x), k, s, p, ceil_mode=True)
    np.testing.assert_allclose(y.numpy(), ceil_pool_loop(x, k, s, p, "max"))
    y = F.avg_pool2d(mg.tensor(x), k, s, p, ceil_mode=True, count_include_pad=count_include_pad)
    np.testing.assert_allclose(y.numpy(), ceil_pool_loop(x, k, s, p, "avg", count_include_pad), atol=1e-12)
    assert gradcheck(lambda t: F.max_pool2d(t, k, s, p, ceil_mode=True), [mg.tensor(x, requires_grad=True)])
    assert gradcheck(lambda t: F.avg_pool2d(t, k, s, p, ceil_mode=True, count_include_pad=count_include_pad),
                     [mg.tensor(x, requires_grad=True)])


# ---- against PyTorch ------------------------------------------------------------------------------------
def _both(fn_name, x, *args, **kwargs):
    mine = getattr(F, fn_name)(mg.tensor(x), *args, **kwargs)
    theirs = getattr(TF, fn_name)(torch.tensor(x), *args, **kwargs)
    return mine, theirs


@needs_torch
@pytest.mark.parametrize("nd, kw", [
    (1, dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    (2, dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2))),
    (2, dict(kernel_size=3, stride=2, ceil_mode=True)),
    (3, dict(kernel_size=2, stride=(1, 2, 2), padding=1, ceil_mode=True)),
    (3, dict(kernel_size=(2, 3, 2), dilation=(2, 1, 1)))])
def test_max_pool_values_and_indices_match_torch(nd, kw):
    x = RNG.standard_normal((2, 3) + (7, 6, 5)[:nd])
    (y, i), (yt, it) = _both(f"max_pool{nd}d", x, return_indices=True, **kw)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    assert i.dtype == np.int64
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    np.testing.assert_array_equal(getattr(F, f"max_pool{nd}d")(mg.tensor(x), **kw).numpy(), yt.numpy())


@needs_torch
def test_max_pool_ties_and_nan_follow_torch():
    """Ties: the first maximum; a window holding NaN gives NaN, its gradient and index going to the last NaN."""
    x = np.maximum(np.round(RNG.standard_normal((2, 3, 6, 6))), 0)  # many tied maxima (zeros and integers)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[1, 2, 4, 4] = np.nan
    g = RNG.standard_normal((2, 3, 3, 3))
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, im = F.max_pool2d(xm, 2, return_indices=True)
    yt, it = TF.max_pool2d(xt, 2, return_indices=True)
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(ym.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(im.numpy(), it.numpy())
    np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())


@needs_torch
@pytest.mark.parametrize("nd, kw", [
    (1, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (2, dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    (2, dict(kernel_size=3, stride=2, padding=1, divisor_override=5)),
    (3, dict(kernel_size=2, stride=(1, 2, 2), padding=1, ceil_mode=True, count_include_pad=False)),
    (3, dict(kernel_size=(2, 3, 2), divisor_override=3))])
def test_avg_pool_matches_torch(nd, kw):
    x = RNG.standard_normal((2, 3) + (7, 6, 5)[:nd])
    y, yt = _both(f"avg_pool{nd}d", x, **kw)
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("nd, size, out", [(1, (7,), 3), (1, (5,), 8), (2, (7, 6), (3, 4)), (2, (5, 9), (None, 4)),
                                           (2, (6, 6), 3), (3, (5, 4, 6), (2, 3, 4)), (3, (3, 4, 2), (5, 1, 3))])
def test_adaptive_pools_match_torch_for_any_output_size(nd, size, out):
    """PyTorch's windows [floor(i S / O), ceil((i + 1) S / O)): uneven, overlapping (O > S) and divisible sizes."""
    x = RNG.standard_normal((2, 3) + size)
    y, yt = _both(f"adaptive_avg_pool{nd}d", x, out)
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-12)
    (y, i), (yt, it) = _both(f"adaptive_max_pool{nd}d", x, out, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())


@needs_torch
@pytest.mark.parametrize("nd, kw", [(1, dict(kernel_size=3, stride=2)), (2, dict(kernel_size=2)),
                                    (2, dict(kernel_size=3, stride=2, padding=1)), (3, dict(kernel_size=2))])
def test_max_unpool_inverts_max_pool_as_torch(nd, kw):
    x = RNG.standard_normal((2, 3) + (8, 7, 6)[:nd])
    y, i = getattr(F, f"max_pool{nd}d")(mg.tensor(x), return_indices=True, **kw)
    yt, it = getattr(TF, f"max_pool{nd}d")(torch.tensor(x), return_indices=True, **kw)
    size = x.shape[2:]
    u = getattr(F, f"max_unpool{nd}d")(y, i, output_size=size, **kw)
    ut = getattr(TF, f"max_unpool{nd}d")(yt, it, output_size=size, **kw)
    np.testing.assert_array_equal(u.numpy(), ut.numpy())
    # every maximum is back in its place
    np.testing.assert_array_equal(np.where(u.numpy() != 0, x, 0), u.numpy())
    if "stride" not in kw:  # no index twice (with overlapping windows the last write wins, as in PyTorch)
        assert gradcheck(lambda t: getattr(F, f"max_unpool{nd}d")(t, i, output_size=size, **kw),
                         [mg.tensor(y.numpy(), requires_grad=True)])


@needs_torch
@pytest.mark.parametrize("nd, p, kw", [(1, 2.0, dict(kernel_size=3, stride=2)), (2, 3.0, dict(kernel_size=2)),
                                       (2, 1.5, dict(kernel_size=(2, 3), stride=1, ceil_mode=True)),
                                       (3, 2.0, dict(kernel_size=2)), (2, float("inf"), dict(kernel_size=2))])
def test_lp_pool_matches_torch(nd, p, kw):
    x = np.abs(RNG.standard_normal((2, 3) + (7, 6, 5)[:nd])) + 0.1
    y, yt = _both(f"lp_pool{nd}d", x, p, **kw)
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-10)


def test_unbatched_inputs_and_integer_dtypes():
    x = RNG.standard_normal((3, 6, 5))
    np.testing.assert_array_equal(F.max_pool2d(mg.tensor(x), 2).numpy(), F.max_pool2d(mg.tensor(x[None]), 2).numpy()[0])
    y, i = F.max_pool1d(mg.tensor(x[0]), 2, return_indices=True)
    assert y.shape == i.shape == (6, 2)
    assert F.adaptive_avg_pool3d(mg.tensor(x[None]), 2).shape == (1, 2, 2, 2)
    xi = RNG.integers(-9, 9, (1, 2, 4, 4))
    yi = F.avg_pool2d(mg.tensor(xi), 2)
    sums = xi.reshape(1, 2, 2, 2, 2, 2).sum(axis=(3, 5))
    np.testing.assert_array_equal(yi.numpy(), np.trunc(sums / 4).astype(np.int64))  # rounds toward zero, as PyTorch
    assert yi.dtype == np.int64 and F.max_pool2d(mg.tensor(xi), 2).dtype == np.int64
    with pytest.raises(NotImplementedError, match="max_pool1d: not implemented for int64"):
        F.max_pool1d(mg.tensor(xi[0]), 2)
    with pytest.raises(NotImplementedError, match="adaptive_avg_pool2d: not implemented for int64"):
        F.adaptive_avg_pool2d(mg.tensor(xi), 2)
    half = F.avg_pool2d(mg.tensor(x.astype(np.float16)), 2)
    assert half.dtype == np.float16


def test_pool_errors_name_the_op_and_the_fix():
    x = mg.randn(1, 2, 6, 6)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.avg_pool1d(mg.randn(1, 2, 6), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"calculated output size \(0, 0\) is too small"):
        F.max_pool2d(mg.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="kernel_size must be greater than zero"):
        F.max_pool3d(mg.randn(1, 1, 2, 2, 2), 0)
    with pytest.raises(RuntimeError, match=r"max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input"):
        F.max_pool2d(mg.randn(6, 6), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="elements of output_size must be greater than or equal to 0"):
        F.adaptive_avg_pool2d(x, (-1, 2))
    y, i = F.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(RuntimeError, match="found an invalid max index"):
        F.max_unpool2d(y, i * 9, 2)
    with pytest.raises(ValueError, match=r"invalid output_size \(9, 9\)"):
        F.max_unpool2d(y, i, 2, output_size=(9, 9))


def test_pool_modules_and_reprs():
    x = mg.randn(1, 2, 6, 6)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy(), F.max_pool2d(x, 2, 2).numpy())
    np.testing.assert_array_equal(nn.AvgPool2d(3, 1, 1)(x).numpy(), F.avg_pool2d(x, 3, 1, 1).numpy())
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).numpy(), x.numpy().mean(axis=(2, 3), keepdims=True),
                               rtol=1e-6)
    assert nn.MaxPool2d(2, ceil_mode=True)(mg.randn(1, 1, 5, 5)).shape == (1, 1, 3, 3)
    pool, unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)
    y, i = pool(mg.randn(1, 2, 4, 4, 4))
    assert unpool(y, i).shape == (1, 2, 4, 4, 4)
    assert nn.AdaptiveMaxPool1d(3, return_indices=True)(mg.randn(2, 7))[1].shape == (2, 3)
    assert nn.LPPool2d(2, 2)(mg.randn(1, 2, 4, 4)).shape == (1, 2, 2, 2)
    assert nn.AvgPool3d(2, divisor_override=2)(mg.ones(1, 1, 2, 2, 2)).item() == 4.0
    assert repr(nn.MaxPool1d(3, 2)) == "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"  # PyTorch keeps 1-tuples
    assert repr(nn.AdaptiveMaxPool2d((2, None))) == "AdaptiveMaxPool2d(output_size=(2, None))"
    assert repr(nn.MaxUnpool2d(2)) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.LPPool1d(2, 3)) == "LPPool1d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"


def test_pool_costs_in_the_tracer():
    """Max pooling counts one comparison per window entry, average pooling its adds and one divide per output."""
    x = mg.randn(2, 3, 6, 6)
    with mg.trace() as tr:
        F.max_pool2d(x, 3, 1)
    assert tr.flops(category="reduction") == 2 * 3 * 16 * 9
    with mg.trace() as tr:
        F.avg_pool2d(x, 2)
    assert tr.flops() > 0 and tr.macs() == 0
