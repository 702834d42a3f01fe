"""Convolutions (1, 2 and 3 spatial dims), transposed convolutions, unfold / fold and their modules: forward against
direct loops and PyTorch, the three bilinear conv ops as each other's adjoints, errors, dtypes, unbatched inputs,
PyTorch's initialisation, and costs against torch.utils.flop_counter. (Forward, gradients and second derivatives
of every function form against PyTorch: the op table, tests/op_rows_conv.py.)"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.ops.conv import Conv, ConvTranspose, ConvWeight, Fold, Unfold, fold, unfold, window
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


def conv_nd_loop(x, w, stride, padding, dilation, groups=1):
    """The definition of an N-d convolution, one output position at a time (any number of spatial dims)."""
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    out_size = [(n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, p, d, k, s in zip(x.shape[2:], padding, dilation, w.shape[2:], stride)]
    o, cg = w.shape[:2]
    out = np.zeros((x.shape[0], o) + tuple(out_size))
    for pos in np.ndindex(*out_size):
        region = tuple(slice(q * s, q * s + d * (k - 1) + 1, d)
                       for q, s, d, k in zip(pos, stride, dilation, w.shape[2:]))
        for k in range(o):
            g = k // (o // groups)
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + region]
            out[(slice(None), k) + pos] = (patch * w[k]).reshape(x.shape[0], -1).sum(axis=1)
    return out


CONFIGS = [  # (N, C, H, W, O, K, stride, padding, dilation, groups)
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (0, 0), (1, 1), 1),
    (1, 2, 8, 8, 3, (3, 2), (2, 1), (1, 2), (1, 1), 1),
    (2, 4, 9, 9, 6, (3, 3), (1, 2), (2, 1), (2, 2), 2),
    (1, 6, 5, 7, 6, (1, 1), (1, 1), (0, 0), (1, 1), 6),     # depthwise 1x1
    (2, 4, 6, 6, 8, (2, 2), (2, 2), (1, 1), (1, 1), 4),     # depthwise, channel multiplier 2, strided
    (2, 3, 6, 7, 6, (3, 3), (1, 1), (1, 1), (2, 1), 3),     # depthwise, stride 1 (the "wide rows" path)
    (2, 4, 5, 6, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1),     # 1x1 strided
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
        with pytest.raises(RuntimeError, match="smaller than the"):
            F.conv2d(mg.randn(n, c, h, w), mg.randn(o, c, kh, kw), padding=(ph, pw), dilation=(dh, dw))
        return
    rng = np.random.default_rng(n * 1000 + h * 10 + w)
    x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw))
    y = F.conv2d(mg.tensor(x), mg.tensor(wt), None, (sh, sw), (ph, pw), (dh, dw))
    np.testing.assert_allclose(y.numpy(), conv_loop(x, wt, None, (sh, sw), (ph, pw), (dh, dw)), atol=1e-10)


@pytest.mark.parametrize("nd, fn, cfg", [
    (1, F.conv1d, dict(x=(2, 4, 9), w=(6, 2, 3), stride=(2,), padding=(2,), dilation=(2,), groups=2)),
    (1, F.conv1d, dict(x=(2, 3, 8), w=(6, 1, 4), stride=(1,), padding=(3,), dilation=(1,), groups=3)),
    (3, F.conv3d, dict(x=(2, 2, 5, 4, 6), w=(3, 2, 2, 3, 2), stride=(1, 2, 2), padding=(1, 0, 1), dilation=(1, 1, 2),
                       groups=1)),
    (3, F.conv3d, dict(x=(1, 4, 4, 5, 4), w=(4, 1, 3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1), dilation=(1, 1, 1),
                       groups=4))])
def test_conv1d_and_conv3d_match_the_nd_definition(nd, fn, cfg):
    x, w = RNG.standard_normal(cfg["x"]), RNG.standard_normal(cfg["w"])
    y = fn(mg.tensor(x), mg.tensor(w), None, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"])
    want = conv_nd_loop(x, w, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"])
    np.testing.assert_allclose(y.numpy(), want, atol=1e-10)
    assert gradcheck(lambda x, w: fn(x, w, None, cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"]),
                     [mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)])


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
    dw = mg.tensor(RNG.standard_normal((4, 1, 3, 3)), requires_grad=True)
    xd = mg.tensor(RNG.standard_normal((1, 4, 5, 5)), requires_grad=True)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, padding=1, groups=4) ** 2, [xd, dw])


@pytest.mark.parametrize("win, groups", [(window("t", (3, 2), (2, 1), ((1, 2), (0, 1)), (1, 2)), 1),
                                         (window("t", (3, 3), 1, 1, (2, 1)), 2),
                                         (window("t", (2, 2), 2, 0, 1), 4),       # depthwise, strided
                                         (window("t", (3, 3), 1, 2, 1), 4)])      # depthwise, stride 1
def test_the_three_conv_ops_are_adjoint(win, groups):
    """<conv(x, W), y> = <x, conv_transpose(y, W)> = <W, conv_weight(x, y)>: each op is the others' gradient."""
    x, w = RNG.standard_normal((2, 4, 7, 6)), RNG.standard_normal((4, 4 // groups) + win.kernel)
    y = Conv.apply(mg.tensor(x), mg.tensor(w), None, win, groups).numpy()
    v = RNG.standard_normal(y.shape)
    xt = ConvTranspose.apply(mg.tensor(v), mg.tensor(w), win, groups, x.shape[2:]).numpy()
    wt = ConvWeight.apply(mg.tensor(x), mg.tensor(v), win, groups).numpy()
    np.testing.assert_allclose(np.vdot(y, v), np.vdot(x, xt), rtol=1e-11)
    np.testing.assert_allclose(np.vdot(y, v), np.vdot(w, wt), rtol=1e-11)


def test_conv_gradients_are_the_partner_ops_and_the_columns_are_kept():
    x = mg.randn(2, 3, 6, 6, requires_grad=True)
    w = mg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.grad_fn.op is Conv
    gx, gw = mg.grad(y, [x, w], mg.ones(*y.shape), create_graph=True)
    assert gx.grad_fn.op is ConvTranspose and gw.grad_fn.op is ConvWeight
    with mg.trace() as tr:
        F.conv2d(x, w, padding=1)
    assert [r.name for r in tr.records] == ["unfold", "conv"]  # im2col's columns are an op's output (profiled)


def test_depthwise_and_1x1_convs_build_no_columns():
    """A depthwise conv runs tap by tap (no im2col); a 1x1 conv at stride 1 is a matmul on a view of x."""
    with mg.trace() as tr:
        F.conv2d(mg.randn(2, 8, 6, 6), mg.randn(8, 1, 3, 3), padding=1, groups=8)
    assert [r.name for r in tr.records] == ["conv"]
    x = mg.randn(2, 8, 6, 6)
    with mg.trace() as tr:
        F.conv2d(x, mg.randn(4, 8, 1, 1))
    unfold_record = tr.select(name="unfold")[0]
    assert unfold_record.bytes == 0  # a reshape of x: no data moved


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
    with pytest.raises(RuntimeError, match="not supported for strided convolutions"):
        F.conv2d(mg.tensor(x), mg.tensor(wt), padding="same", stride=2)
    with pytest.raises(RuntimeError, match="invalid padding string 'full'"):
        F.conv2d(mg.tensor(x), mg.tensor(wt), padding="full")


def test_unbatched_inputs_as_pytorch():
    x, w = RNG.standard_normal((3, 8)), RNG.standard_normal((4, 3, 3))
    y = F.conv1d(mg.tensor(x), mg.tensor(w), padding=1)
    assert y.shape == (4, 8)
    np.testing.assert_allclose(y.numpy(), F.conv1d(mg.tensor(x[None]), mg.tensor(w), padding=1).numpy()[0])
    x2 = RNG.standard_normal((4, 5, 5))
    w2 = mg.tensor(RNG.standard_normal((4, 2, 3, 3)))
    assert F.conv_transpose2d(mg.tensor(x2), w2, stride=2).shape == (2, 11, 11)
    assert nn.Conv3d(2, 3, 2, dtype=np.float64)(mg.tensor(RNG.standard_normal((2, 4, 4, 4)))).shape == (3, 3, 3, 3)


def test_dtypes_float16_and_integers():
    conv = nn.Conv2d(3, 4, 3)
    y = conv(mg.randn(2, 3, 8, 8))
    assert y.dtype == np.float32 and conv.weight.dtype == np.float32
    y.sum().backward()
    assert conv.weight.grad.dtype == np.float32
    x, w = RNG.standard_normal((1, 2, 5, 5)), RNG.standard_normal((3, 2, 3, 3))
    half = F.conv2d(mg.tensor(x.astype(np.float16)), mg.tensor(w.astype(np.float16)))
    assert half.dtype == np.float16  # computed in float32, rounded once
    np.testing.assert_allclose(half.numpy(), conv_loop(x.astype(np.float16).astype(np.float64),
                                                       w.astype(np.float16).astype(np.float64)), rtol=2e-3, atol=2e-2)
    xi, wi = RNG.integers(-3, 4, (1, 2, 5, 5)), RNG.integers(-3, 4, (3, 2, 2, 2))
    yi = F.conv2d(mg.tensor(xi), mg.tensor(wi), stride=2, padding=1)
    assert yi.dtype == np.int64
    np.testing.assert_array_equal(yi.numpy(), conv_loop(xi, wi, stride=(2, 2), padding=(1, 1)).astype(np.int64))
    with pytest.raises(NotImplementedError, match="bool"):
        F.conv2d(mg.tensor(xi > 0), mg.tensor(wi > 0))
    with pytest.raises(RuntimeError, match="share one dtype"):
        F.conv2d(mg.tensor(x), mg.tensor(w.astype(np.float32)))


def test_conv_errors_name_the_op_the_shapes_and_the_fix():
    with pytest.raises(RuntimeError, match=r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input.*"
                                           r"\(1, 1, 3, 8, 8\)"):
        F.conv2d(mg.randn(1, 1, 3, 8, 8), mg.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv2d: given groups=1 and weight of size \(4, 2, 3, 3\), expected an "
                                           r"input with 2 channels .* but got 3"):
        F.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="expected weight to be divisible by 2 at dimension 0"):
        F.conv2d(mg.randn(1, 4, 8, 8), mg.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="non-positive groups"):
        F.conv2d(mg.randn(1, 4, 8, 8), mg.randn(3, 2, 3, 3), groups=0)
    with pytest.raises(RuntimeError, match=r"expected bias to be 1-D with 4 elements .* shape \(3,\)"):
        F.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 3, 3, 3), mg.randn(3))
    with pytest.raises(TypeError, match="conv2d: stride must be an int or a tuple of 2 ints"):
        F.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 3, 3, 3), stride="x")
    with pytest.raises(RuntimeError, match="expected stride to be a single integer value or a list of 2 values"):
        F.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 3, 3, 3), stride=(1, 1, 1))
    with pytest.raises(RuntimeError, match="non-positive stride"):
        F.conv2d(mg.randn(1, 3, 8, 8), mg.randn(4, 3, 3, 3), stride=0)
    with pytest.raises(RuntimeError, match="negative padding"):
        F.conv1d(mg.randn(1, 3, 8), mg.randn(4, 3, 3), padding=-1)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        F.conv3d(mg.randn(1, 3, 4, 4, 4), mg.randn(4, 3, 1, 1, 1), dilation=0)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv3d(3, 4, 3, padding_mode="mirror")


def test_conv_transpose_is_the_gradient_of_conv_and_matches_torch_sizes():
    """conv_transpose2d(y, W) = d<conv2d(x, W), y>/dx for every geometry; its output size is PyTorch's."""
    for stride, padding, dilation, groups, extra in [(1, 0, 1, 1, 0), (2, 1, 1, 2, 1), (1, 2, 2, 4, 1),
                                                     ((2, 3), (1, 0), (1, 2), 1, (1, 2))]:
        x = mg.tensor(RNG.standard_normal((2, 4, 7, 8)), requires_grad=True)
        w = mg.tensor(RNG.standard_normal((4, 4 // groups, 3, 2)))
        y = F.conv2d(x, w, None, stride, padding, dilation, groups)
        v = RNG.standard_normal(y.shape)
        gx, = mg.grad(y, x, mg.tensor(v))
        out = F.conv_transpose2d(mg.tensor(v), w, None, stride, padding, 0, groups, dilation)
        crop = out.numpy()[:, :, :7, :8]  # without output padding the transpose may be shorter than x: zero-extend
        full = np.zeros_like(gx.numpy())
        full[:, :, :crop.shape[2], :crop.shape[3]] = crop
        np.testing.assert_allclose(full, gx.numpy(), atol=1e-12)
        padded = F.conv_transpose2d(mg.tensor(v), w, None, stride, padding, extra, groups, dilation)
        s, p, d, e = (window("t", (3, 2), stride, padding, dilation).stride, window("t", (3, 2), 1, padding).pads,
                      window("t", (3, 2), 1, 0, dilation).dilation, extra if isinstance(extra, tuple) else (extra,) * 2)
        want = tuple((i - 1) * s_ - 2 * p_[0] + d_ * (k - 1) + 1 + e_
                     for i, s_, p_, d_, k, e_ in zip(v.shape[2:], s, p, d, (3, 2), e))
        assert padded.shape[2:] == want
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(mg.randn(1, 3, 4, 4), mg.randn(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        F.conv_transpose2d(mg.randn(1, 3, 1, 1), mg.randn(3, 2, 1, 1), padding=1)
    with pytest.raises(TypeError, match="no 'same' or 'valid'"):
        F.conv_transpose1d(mg.randn(1, 3, 4), mg.randn(3, 2, 3), padding="same")


def test_conv_transpose_modules_output_size_init_and_repr():
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2, rng=np.random.default_rng(0))
    assert layer.weight.shape == (4, 3, 3, 3) and layer.bias.shape == (6,)
    bound = 1 / math.sqrt(3 * 9)  # fan_in = weight.shape[1] * prod(kernel), as PyTorch
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    x = mg.randn(2, 4, 5, 5)
    assert layer(x).shape == (2, 6, 9, 9)
    assert layer(x, output_size=(10, 10)).shape == (2, 6, 10, 10)
    assert layer(x, output_size=(2, 6, 10, 9)).shape == (2, 6, 10, 9)
    with pytest.raises(ValueError, match=r"requested an output size of \[11, 11\], but valid sizes range from \[9, 9\] "
                                         r"to \[10, 10\]"):
        layer(x, output_size=(11, 11))
    assert repr(layer) == "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=2)"
    assert repr(nn.ConvTranspose1d(2, 3, 3, output_padding=0, stride=2, bias=False)) == \
        "ConvTranspose1d(2, 3, kernel_size=(3,), stride=(2,), bias=False)"
    t3 = nn.ConvTranspose3d(2, 3, 2, stride=2, output_padding=1)
    assert t3(mg.randn(1, 2, 2, 3, 2)).shape == (1, 3, 5, 7, 5) and "output_padding=(1, 1, 1)" in repr(t3)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_conv_modules_init_repr_and_padding_modes():
    torch = pytest.importorskip("torch")
    for cls, tcls, shape in [(nn.Conv1d, torch.nn.Conv1d, (2, 3, 9)), (nn.Conv3d, torch.nn.Conv3d, (1, 3, 5, 4, 6))]:
        layer = cls(3, 4, 3, padding="same", padding_mode="circular", dilation=2, dtype=np.float64,
                    rng=np.random.default_rng(0))
        bound = 1 / math.sqrt(3 * 3 ** layer.dims)
        assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
        ref = tcls(3, 4, 3, padding="same", padding_mode="circular", dilation=2).double()
        ref.weight.data, ref.bias.data = torch.tensor(layer.weight.numpy()), torch.tensor(layer.bias.numpy())
        x = RNG.standard_normal(shape)
        np.testing.assert_allclose(layer(mg.tensor(x)).numpy(), ref(torch.tensor(x)).detach().numpy(), atol=1e-12)
        assert repr(layer) == repr(ref).replace("padding_mode=circular", "padding_mode='circular'")
    assert repr(nn.Conv2d(2, 4, (1, 3), stride=2, padding=(0, 1), groups=2, bias=False)) == \
        "Conv2d(2, 4, kernel_size=(1, 3), stride=(2, 2), padding=(0, 1), groups=2, bias=False)"


def test_unfold_and_fold_are_adjoint():
    x = RNG.standard_normal((2, 3, 7, 6))
    win = window("t", (3, 2), (2, 1), ((1, 2), (0, 1)), (1, 2))
    cols = unfold(mg.tensor(x), win).numpy()
    assert cols.shape[:2] == (2, 3 * 3 * 2)
    c = RNG.standard_normal(cols.shape)
    back = fold(mg.tensor(c), x.shape, win).numpy()
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, back), rtol=1e-12)
    assert gradcheck(lambda x: unfold(x, win), [mg.tensor(x[:1, :2], requires_grad=True)])
    cols_shape = unfold(mg.tensor(x[:1, :2]), win).shape
    assert gradcheck(lambda c: fold(c, (1, 2, 7, 6), win),
                     [mg.tensor(RNG.standard_normal(cols_shape), requires_grad=True)])
    by_channel = Unfold.apply(mg.tensor(x), win, 0.0, None, True).numpy()  # (C*K, N*L): the batch inside each row
    np.testing.assert_array_equal(by_channel, cols.transpose(1, 0, 2).reshape(cols.shape[1], -1))
    np.testing.assert_allclose(np.vdot(by_channel, c.transpose(1, 0, 2).reshape(by_channel.shape)),
                               np.vdot(x, fold(mg.tensor(c.transpose(1, 0, 2).reshape(by_channel.shape)), x.shape,
                                               win).numpy()), rtol=1e-12)
    x3 = RNG.standard_normal((1, 2, 4, 5, 3))  # any number of spatial dims
    win3 = window("t", (2, 3, 2), (1, 2, 1), 1, (2, 1, 1))
    cols3 = unfold(mg.tensor(x3), win3).numpy()
    c3 = RNG.standard_normal(cols3.shape)
    np.testing.assert_allclose(np.vdot(cols3, c3), np.vdot(x3, fold(mg.tensor(c3), x3.shape, win3).numpy()), rtol=1e-12)


def test_unfold_backward_is_fold_and_fold_backward_is_unfold():
    x = mg.randn(1, 2, 5, 5, requires_grad=True)
    cols = unfold(x, window("t", (3, 3), 1, 1))
    assert cols.grad_fn.op is Unfold
    g, = mg.grad(cols, x, grad_outputs=mg.ones(*cols.shape, requires_grad=True), create_graph=True)
    assert g.grad_fn.op is Fold
    # every pixel of a 5x5 image, 3x3 kernel, padding 1, stride 1 is in as many windows as its neighbourhood
    counts = np.array([2, 3, 3, 3, 2])
    np.testing.assert_array_equal(g.numpy()[0, 0], np.outer(counts, counts))


def test_functional_unfold_fold_and_their_modules_use_pytorchs_layout():
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
    module = nn.Unfold((2, 3), padding=1, stride=(1, 2))
    np.testing.assert_array_equal(module(mg.tensor(x)).numpy(), blocks)
    np.testing.assert_array_equal(nn.Fold((5, 6), (2, 3), padding=1, stride=(1, 2))(mg.tensor(c)).numpy(), back)
    assert repr(module) == "Unfold(kernel_size=(2, 3), dilation=1, padding=1, stride=(1, 2))"
    assert F.unfold(mg.tensor(x[0]), 2).shape == (12, 20) and F.fold(mg.tensor(c[0]), (5, 6), (2, 3), padding=1,
                                                                     stride=(1, 2)).shape == (3, 5, 6)
    with pytest.raises(RuntimeError, match=r"fold: expected an input of shape \(N, C\*2\*3, L\)"):
        F.fold(mg.randn(2, 7, 4), (5, 6), (2, 3))
    with pytest.raises(RuntimeError, match="make 4 \\* 4 sliding blocks, but the input has 4"):
        F.fold(mg.randn(2, 6, 4), (5, 6), (2, 3))
    with pytest.raises(RuntimeError, match="unfold: expected a 3-D"):
        F.unfold(mg.randn(1, 2, 3, 4, 5), 2)


# ---- costs --------------------------------------------------------------------------------------------
def test_conv_flops_come_from_its_macs():
    """Conv2d(3->64, 3x3, padding 1) on 1x3x32x32: 1,769,472 MACs = 3,538,944 FLOPs (the issue's numbers)."""
    with mg.trace() as tr:
        nn.Conv2d(3, 64, 3, padding=1, bias=False)(mg.randn(1, 3, 32, 32))
    dots = tr.select(category="dot")
    assert len(dots) == 1 and dots[0].macs == 1_769_472 and dots[0].flops == 3_538_944


def _torch_flops(torch, fn, *tensors):
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc:
        y = fn(*tensors)
    forward = fc.get_total_flops()
    with FlopCounterMode(display=False) as fc:
        y.backward(torch.ones_like(y))
    return forward, fc.get_total_flops()


@pytest.mark.parametrize("name, x, w, kw", [
    ("conv1d", (2, 4, 11), (6, 4, 3), dict(stride=2, padding=1)),
    ("conv2d", (2, 3, 9, 8), (5, 3, 3, 2), dict(padding=(1, 2), dilation=(2, 1))),
    ("conv3d", (1, 2, 5, 6, 5), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1))),
    ("conv2d", (2, 4, 8, 8), (4, 1, 3, 3), dict(padding=1, groups=4)),          # depthwise
    ("conv2d", (2, 6, 6, 6), (4, 3, 1, 1), dict(groups=2)),                     # grouped 1x1
    ("conv_transpose1d", (2, 4, 7), (4, 3, 4), dict(stride=3, padding=1, output_padding=2)),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose3d", (1, 2, 3, 4, 3), (2, 3, 2, 2, 2), dict(stride=2)),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 2, 3, 3), dict(groups=2))])
def test_conv_costs_equal_torch_flop_counter(name, x, w, kw):
    """Forward FLOPs (2 per MAC) equal torch.utils.flop_counter's for every conv form; backward too, except that
    with groups > 1 PyTorch's counter ignores `groups` in the weight gradient (counting it groups times over), where
    minigrad counts the MACs done."""
    torch = pytest.importorskip("torch")
    xs, ws = RNG.standard_normal(x), RNG.standard_normal(w)
    xm, wm = mg.tensor(xs, requires_grad=True), mg.tensor(ws, requires_grad=True)
    with mg.trace() as tr:
        y = getattr(F, name)(xm, wm, None, **kw)
        y.backward(mg.ones(*y.shape, dtype=np.float64))
    forward, backward = _torch_flops(torch, lambda a, b: getattr(torch.nn.functional, name)(a, b, None, **kw),
                                     torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True))
    macs = tr.macs("forward")
    assert tr.flops("forward", "dot") == forward == 2 * macs
    groups = kw.get("groups", 1)
    torch_weight_grad = (backward - forward) if groups == 1 else (backward - forward) // groups
    assert tr.flops("backward", "dot") == forward + torch_weight_grad == 4 * macs


def test_conv_layers_appear_in_the_profile_with_their_costs():
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.ConvTranspose1d(4, 3, 2, stride=2),
                          nn.MaxPool1d(2), nn.AdaptiveAvgPool1d(3))
    report = mg.profile(model, mg.randn(2, 2, 8), measure=False, hardware="laptop-cpu")
    rows = {r["layer"]: r for r in report.layers}
    assert rows["0"]["type"] == "Conv1d" and rows["2"]["type"] == "ConvTranspose1d"
    conv_macs = 2 * 4 * 8 * 2 * 3          # N O L_out C K
    transpose_macs = 2 * 4 * 8 * 3 * 2     # N C_in L_in C_out K
    assert rows["0"]["macs_forward"] == conv_macs and rows["2"]["macs_forward"] == transpose_macs
    assert rows["0"]["macs_backward"] == conv_macs  # the weight's gradient only: the input needs none
    assert rows["2"]["macs_backward"] == 2 * transpose_macs  # its input's gradient and its weight's
    assert rows["3"]["flops_forward"] > 0 and rows["4"]["flops_forward"] > 0  # pooling's comparisons and adds
    assert "ConvTranspose1d" in str(report)


def test_conv_and_conv_transpose_match_torch_on_random_geometries():
    """Forward and both gradients of conv{1,2,3}d and conv_transpose{1,2,3}d against PyTorch, on geometries drawn at
    random: strides above the kernel, paddings above the input, dilations, output paddings, groups (depthwise
    included); an error wherever PyTorch raises one."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(60):
        nd, groups = int(rng.integers(1, 4)), int(rng.choice([1, 2, 3]))
        cin, per_group = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
        k, s, d, p, size = (tuple(int(v) for v in rng.integers(lo, hi, nd)) for lo, hi in
                            ((1, 4), (1, 4), (1, 3), (0, 4), (1, 5)))
        extra = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
        cases = [(f"conv_transpose{nd}d", (2, cin) + size, (cin, per_group) + k, (s, p, extra, groups, d)),
                 (f"conv{nd}d", (2, cin) + tuple(n + 3 for n in size), (cin, cin // groups) + k, (s, p, d, groups))]
        for name, x_shape, w_shape, args in cases:
            x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
            xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
            try:
                yt = getattr(torch.nn.functional, name)(xt, wt, None, *args)
            except RuntimeError:
                with pytest.raises(RuntimeError):
                    getattr(F, name)(mg.tensor(x), mg.tensor(w), None, *args)
                continue
            xm, wm = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
            ym = getattr(F, name)(xm, wm, None, *args)
            g = rng.standard_normal(tuple(yt.shape))
            ym.backward(mg.tensor(g))
            yt.backward(torch.tensor(g))
            for mine, theirs in ((ym, yt.detach()), (xm.grad, xt.grad), (wm.grad, wt.grad)):
                np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-10, err_msg=f"{name} {args}")
            checked += 1
    assert checked > 60
