"""Convolution and pooling: forward against direct loops, gradients against finite differences,
unfold/fold as adjoints, FLOPs from the matmul, and (when installed) agreement with PyTorch."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.ops.conv import Fold, Unfold, fold, unfold
from minigrad.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(1234)


def conv_loop(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """The definition of conv2d, one output element at a time."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for i in range(n):
        for k in range(o):
            g = k // per_group
            for p in range(oh):
                for q in range(ow):
                    patch = xp[i, g * cg:(g + 1) * cg, p * sh:p * sh + dh * (kh - 1) + 1:dh,
                               q * sw:q * sw + dw * (kw - 1) + 1:dw]
                    out[i, k, p, q] = np.sum(patch * w[k]) + (0 if b is None else b[k])
    return out


def pool_loop(x, k, s, p, reduce, pad_value):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(xp[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


CONFIGS = [  # (N, C, H, W, O, K, stride, padding, dilation, groups)
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (0, 0), (1, 1), 1),
    (1, 2, 8, 8, 3, (3, 2), (2, 1), (1, 2), (1, 1), 1),
    (2, 4, 9, 9, 6, (3, 3), (1, 2), (2, 1), (2, 2), 2),
    (1, 6, 5, 7, 6, (1, 1), (1, 1), (0, 0), (1, 1), 6),     # depthwise 1x1
    (2, 4, 6, 6, 8, (2, 2), (2, 2), (1, 1), (1, 1), 4),
]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_conv2d_forward_matches_direct_loop(cfg):
    n, c, h, w, o, k, s, p, d, g = cfg
    x = RNG.standard_normal((n, c, h, w))
    wt = RNG.standard_normal((o, c // g) + k)
    b = RNG.standard_normal(o)
    y = F.conv2d(mg.tensor(x), mg.tensor(wt), mg.tensor(b), s, p, d, g)
    np.testing.assert_allclose(y.numpy(), conv_loop(x, wt, b, s, p, d, g), rtol=1e-10, atol=1e-10)


@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(3, 7), w=st.integers(3, 7), o=st.integers(1, 3),
       kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), dh=st.integers(1, 2), dw=st.integers(1, 2))
def test_conv2d_forward_any_geometry(n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw):
    if h + 2 * ph < dh * (kh - 1) + 1 or w + 2 * pw < dw * (kw - 1) + 1:
        with pytest.raises(ValueError, match="smaller than the"):
            F.conv2d(mg.randn(n, c, h, w), mg.randn(o, c, kh, kw), padding=(ph, pw), dilation=(dh, dw))
        return
    rng = np.random.default_rng(n * 1000 + h * 10 + w)
    x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw))
    y = F.conv2d(mg.tensor(x), mg.tensor(wt), None, (sh, sw), (ph, pw), (dh, dw))
    np.testing.assert_allclose(y.numpy(), conv_loop(x, wt, None, (sh, sw), (ph, pw), (dh, dw)), atol=1e-10)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_conv2d_gradients_of_input_weight_bias(cfg):
    n, c, h, w, o, k, s, p, d, g = cfg
    x = mg.tensor(RNG.standard_normal((n, c, h, w)), requires_grad=True)
    wt = mg.tensor(RNG.standard_normal((o, c // g) + k), requires_grad=True)
    b = mg.tensor(RNG.standard_normal(o), requires_grad=True)
    assert gradcheck(lambda x, wt, b: F.conv2d(x, wt, b, s, p, d, g), [x, wt, b])


def test_conv2d_second_order_gradients():
    x = mg.tensor(RNG.standard_normal((1, 2, 5, 5)), requires_grad=True)
    wt = mg.tensor(RNG.standard_normal((2, 2, 3, 3)), requires_grad=True)
    assert gradgradcheck(lambda x, wt: F.conv2d(x, wt, padding=1, stride=2) ** 2, [x, wt])


def test_conv2d_module_gradcheck_float64():
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, rng=np.random.default_rng(0)).double()
    x = RNG.standard_normal((2, 4, 6, 5))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, conv.stride, conv.padding, conv.dilation, conv.groups),
                     [mg.tensor(x, requires_grad=True), conv.weight, conv.bias])
    y = conv(mg.tensor(x))
    np.testing.assert_allclose(y.numpy(), conv_loop(x, conv.weight.numpy(), conv.bias.numpy(), (2, 2), (1, 1),
                                                    (1, 1), 2), atol=1e-10)


def test_conv2d_padding_same_and_valid():
    x, wt = RNG.standard_normal((1, 2, 6, 7)), RNG.standard_normal((3, 2, 4, 3))
    same = F.conv2d(mg.tensor(x), mg.tensor(wt), padding="same")
    assert same.shape == (1, 3, 6, 7)
    # an even kernel pads one more after than before, as PyTorch
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 1)))
    np.testing.assert_allclose(same.numpy(), conv_loop(xp, wt), atol=1e-10)
    valid = F.conv2d(mg.tensor(x), mg.tensor(wt), padding="valid")
    np.testing.assert_allclose(valid.numpy(), conv_loop(x, wt), atol=1e-10)
    with pytest.raises(ValueError, match="stride 1"):
        F.conv2d(mg.tensor(x), mg.tensor(wt), padding="same", stride=2)


def test_conv2d_float32_stays_float32():
    conv = nn.Conv2d(3, 4, 3)
    y = conv(mg.randn(2, 3, 8, 8))
    assert y.dtype == np.float32 and conv.weight.dtype == np.float32
    y.sum().backward()
    assert conv.weight.grad.dtype == np.float32


def test_conv2d_bad_input_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D input.*\(3, 8, 8\)"):
        F.conv2d(mg.randn(3, 8, 8), mg.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: input with 3 channels"):
        F.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="conv2d: stride must be an int or a pair"):
        F.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 3, 3, 3), stride="x")


def test_unfold_and_fold_are_adjoint():
    x = RNG.standard_normal((2, 3, 7, 6))
    geometry = ((3, 2), (2, 1), ((1, 2), (0, 1)), (1, 2))
    cols = unfold(mg.tensor(x), *geometry).numpy()
    c = RNG.standard_normal(cols.shape)
    back = fold(mg.tensor(c), x.shape, *geometry).numpy()
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, back), rtol=1e-12)
    assert gradcheck(lambda x: unfold(x, *geometry), [mg.tensor(x[:1, :2], requires_grad=True)])
    cols_shape = unfold(mg.tensor(x[:1, :2]), *geometry).shape
    assert gradcheck(lambda c: fold(c, (1, 2, 7, 6), *geometry),
                     [mg.tensor(RNG.standard_normal(cols_shape), requires_grad=True)])


def test_unfold_backward_is_fold_and_fold_backward_is_unfold():
    x = mg.randn(1, 2, 5, 5, requires_grad=True)
    cols = unfold(x, 3, padding=1)
    assert cols.grad_fn.op is Unfold
    g, = mg.grad(cols, x, grad_outputs=mg.ones(*cols.shape, requires_grad=True), create_graph=True)
    assert g.grad_fn.op is Fold
    # every pixel of a 5x5 image, 3x3 kernel, padding 1, stride 1 is in as many windows as its neighbourhood
    counts = np.array([2, 3, 3, 3, 2])
    np.testing.assert_array_equal(g.numpy()[0, 0], np.outer(counts, counts))


def test_conv_flops_come_from_the_matmul():
    """Conv2d(3->64, 3x3, padding 1) on 1x3x32x32: 1,769,472 MACs = 3,538,944 FLOPs (the issue's numbers)."""
    seen = []

    class Spy:
        def on_op(self, cls, ctx, args, kwargs, result, elapsed):
            if cls.cost is not None:
                seen.append((cls.name, cls.cost(ctx, result, *args, **kwargs)))

    from minigrad import autograd
    conv = nn.Conv2d(3, 64, 3, padding=1, bias=False)
    spy = Spy()
    autograd._observers.append(spy)
    try:
        conv(mg.randn(1, 3, 32, 32))
    finally:
        autograd._observers.remove(spy)
    dots = [c for name, c in seen if c.category == "dot"]
    assert len(dots) == 1 and dots[0].macs == 1_769_472 and dots[0].flops == 3_538_944


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


def test_max_pool_tied_maxima_give_the_gradient_to_the_first():
    x = mg.tensor(np.array([[[[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).backward(mg.tensor([[[[5.0, 7.0]]]], dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 5, 7, 0], [0, 0, 0, 0]]]])  # as PyTorch


def test_max_pool_second_order():
    from minigrad.testing import gradgradcheck
    x = mg.tensor(RNG.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert gradgradcheck(lambda x: F.max_pool2d(x, 2) ** 2, [x])


def test_pool_modules_and_errors():
    x = mg.randn(1, 2, 6, 6)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).numpy(), F.max_pool2d(x, 2, 2).numpy())
    np.testing.assert_array_equal(nn.AvgPool2d(3, 1, 1)(x).numpy(), F.avg_pool2d(x, 3, 1, 1).numpy())
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).numpy(), x.numpy().mean(axis=(2, 3), keepdims=True),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(x, 2, padding=2)
    assert nn.MaxPool2d(2, ceil_mode=True)(mg.randn(1, 1, 5, 5)).shape == (1, 1, 3, 3)


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


def test_conv_and_pool_agree_with_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 4, 9, 8))
    wt = RNG.standard_normal((6, 2, 3, 3))
    b = RNG.standard_normal(6)
    g = RNG.standard_normal((2, 6, 5, 3))
    xm, wm, bm = (mg.tensor(a, requires_grad=True) for a in (x, wt, b))
    F.conv2d(xm, wm, bm, stride=2, padding=1, dilation=(1, 2), groups=2).backward(mg.tensor(g))
    xt, wt_, bt = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
    yt = torch.nn.functional.conv2d(xt, wt_, bt, stride=2, padding=1, dilation=(1, 2), groups=2)
    yt.backward(torch.tensor(g))
    for m, t in ((xm, xt), (wm, wt_), (bm, bt)):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)
    xt = torch.tensor(x)
    np.testing.assert_allclose(F.max_pool2d(mg.tensor(x), 3, 2, 1).numpy(),
                               torch.nn.functional.max_pool2d(xt, 3, 2, 1).numpy())
    np.testing.assert_allclose(F.avg_pool2d(mg.tensor(x), 3, 2, 1, count_include_pad=False).numpy(),
                               torch.nn.functional.avg_pool2d(xt, 3, 2, 1, count_include_pad=False).numpy(),
                               rtol=1e-12)
    for cip in (True, False):
        np.testing.assert_allclose(F.avg_pool2d(mg.tensor(x), 2, 3, 1, ceil_mode=True, count_include_pad=cip).numpy(),
                                   torch.nn.functional.avg_pool2d(xt, 2, 3, 1, ceil_mode=True,
                                                                  count_include_pad=cip).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.max_pool2d(mg.tensor(x), 3, 2, 0, ceil_mode=True).numpy(),
                               torch.nn.functional.max_pool2d(xt, 3, 2, 0, ceil_mode=True).numpy())


def test_functional_unfold_fold_use_pytorchs_layout():
    x = RNG.standard_normal((2, 3, 5, 6))
    blocks = F.unfold(mg.tensor(x), (2, 3), padding=1, stride=(1, 2)).numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (7 - 2) // 1 + 1, (8 - 3) // 2 + 1
    assert blocks.shape == (2, 3 * 2 * 3, oh * ow)
    expected = np.stack([xp[:, :, p:p + 2, 2 * q:2 * q + 3].reshape(2, -1) for p in range(oh) for q in range(ow)], -1)
    np.testing.assert_array_equal(blocks, expected)
    c = RNG.standard_normal(blocks.shape)
    back = F.fold(mg.tensor(c), (5, 6), (2, 3), padding=1, stride=(1, 2)).numpy()
    np.testing.assert_allclose(np.vdot(blocks, c), np.vdot(x, back), rtol=1e-12)  # the adjoint
    with pytest.raises(ValueError, match=r"fold: expected an input of shape \(N, C\*2\*3, L\)"):
        F.fold(mg.randn(2, 7, 4), (5, 6), (2, 3))
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0])).numpy(), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"one_hot: classes must lie in \[0, 1\]"):
        F.one_hot(np.array([2]), 2)


def test_max_pool_gradient_with_ties_agrees_with_torch():
    torch = pytest.importorskip("torch")
    x = np.maximum(np.round(RNG.standard_normal((2, 3, 6, 6))), 0)  # many tied maxima (zeros and integers)
    g = RNG.standard_normal((2, 3, 3, 3))
    xm = mg.tensor(x, requires_grad=True)
    F.max_pool2d(xm, 2).backward(mg.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 2).backward(torch.tensor(g))
    np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())
