"""Every row of the op table (tests/op_table.py), every sample:

- forward, result dtype and shape equal PyTorch's, in float64 and float32 (when PyTorch is installed);
- gradients equal central finite differences in float64, and so do second derivatives (always);
- gradients and second derivatives equal PyTorch's in float64 (when PyTorch is installed);
- the two executions of the backward rules (arrays, and Tensors under create_graph) agree bit for bit.
"""
import zlib

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from op_table import OPS

try:
    import torch
except ImportError:  # the finite-difference and two-execution checks still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (make test installs it in CI)")
CASES = [(op, s) for op in OPS for s in op.samples(np.random.default_rng(zlib.crc32(op.name.encode())))]
IDS = [f"{op.name}[{s.label}]" for op, s in CASES]
GRAD_CASES = [(op, s) for op, s in CASES if op.grad]
GRAD_IDS = [f"{op.name}[{s.label}]" for op, s in GRAD_CASES]


def _is_float(a):
    return np.asarray(a).dtype.kind == "f"


def mg_inputs(sample, dtype=np.float64):
    return [mg.Tensor(np.asarray(a).astype(dtype), requires_grad=True) if _is_float(a) else mg.Tensor(np.asarray(a))
            for a in sample.inputs]


def torch_inputs(sample, dtype=np.float64):
    out = []
    for a in sample.inputs:
        a = np.asarray(a)
        t = torch.from_numpy(np.array(a.astype(dtype) if _is_float(a) else a, order="K"))
        out.append(t.requires_grad_(True) if _is_float(a) else t)
    return out


def outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def float_outputs(out):
    return [o for o in outputs(out) if np.dtype(str(o.dtype).replace("torch.", "")).kind == "f"]


def as_numpy(t):
    return t.detach().numpy(force=True) if torch is not None and isinstance(t, torch.Tensor) else t.numpy()


def upstream(outs, seed):
    rng = np.random.default_rng(seed)
    return [None if o is None else rng.standard_normal(tuple(o.shape)) for o in outs]


def close(got, want, rtol, atol, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape}, PyTorch {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("op, sample", CASES, ids=IDS)
def test_forward_and_dtype_match_torch(op, sample, dtype):
    if dtype == np.float32 and not op.float32:
        pytest.skip(f"{op.name} is checked in float64 only")
    got = outputs(op.call(mg, *mg_inputs(sample, dtype), **sample.kwargs))
    want = outputs(op.call(torch, *torch_inputs(sample, dtype), **sample.kwargs))
    assert len(got) == len(want), f"{op.name}: {len(got)} outputs, PyTorch gives {len(want)}"
    rtol, atol = (op.rtol, op.atol) if dtype == np.float64 else (2e-5, 2e-6)
    for i, (g, w) in enumerate(zip(got, want)):
        w = as_numpy(w)
        assert g.dtype == w.dtype, f"{op.name}: output {i} is {g.dtype}, PyTorch gives {w.dtype}"
        close(g.numpy(), w, rtol, atol, f"{op.name}: output {i}")
        if not op.grad:
            assert not g.requires_grad, f"{op.name}: output {i} should carry no gradient"


@pytest.mark.parametrize("op, sample", GRAD_CASES, ids=GRAD_IDS)
def test_gradients_match_finite_differences(op, sample):
    if not sample.smooth:
        pytest.skip("a tie or kink: not differentiable there (checked against PyTorch's convention instead)")
    xs = mg_inputs(sample)

    def fn(*args):
        return tuple(float_outputs(op.call(mg, *args, **sample.kwargs)))
    fn.__qualname__ = op.name
    if not any(x.requires_grad for x in xs):
        pytest.skip("no floating-point input")
    assert gradcheck(fn, xs, atol=op.fd_atol, rtol=op.fd_rtol)
    if op.gradgrad:
        assert gradgradcheck(fn, mg_inputs(sample), atol=op.fd_atol, rtol=op.fd_rtol)


def _grads(lib, op, sample, create_graph):
    xs = (mg_inputs if lib is mg else torch_inputs)(sample)
    outs = float_outputs(op.call(lib, *xs, **sample.kwargs))
    leaves = [x for x in xs if x.requires_grad]
    vs = upstream(outs, 1)
    if lib is mg:
        gs = mg.grad(outs, leaves, [mg.tensor(v) for v in vs], create_graph=create_graph, allow_unused=True)
    else:
        gs = torch.autograd.grad(outs, leaves, [torch.from_numpy(v) for v in vs], create_graph=create_graph,
                                 allow_unused=True)
    return leaves, gs


def _second(lib, leaves, gs):
    """d/dx of sum_i <w_i, g_i>: the second derivative of the op along random directions."""
    live = [(g, w) for g, w in zip(gs, upstream(gs, 2)) if g is not None and g.requires_grad]
    if not live:
        return [None] * len(leaves)
    wrap = mg.tensor if lib is mg else torch.from_numpy
    total = sum((g * wrap(w)).sum() for g, w in live)
    return (mg.grad if lib is mg else torch.autograd.grad)(total, leaves, allow_unused=True)


def _compare(op, got, want, what):
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:  # PyTorch has none: ours must be none, zero, or undefined (nan, as var of one number)
            assert g is None or not np.any(np.nan_to_num(g.numpy(), nan=0.0)), \
                f"{op.name}: {what} {i} is not zero, PyTorch has none"
            continue
        g = np.zeros(tuple(w.shape)) if g is None else g.numpy()
        close(g, as_numpy(w), op.rtol, op.atol, f"{op.name}: {what} of input {i}")


@needs_torch
@pytest.mark.parametrize("op, sample", GRAD_CASES, ids=GRAD_IDS)
def test_gradients_and_second_derivatives_match_torch(op, sample):
    mg_leaves, mg_grads = _grads(mg, op, sample, create_graph=op.gradgrad)
    t_leaves, t_grads = _grads(torch, op, sample, create_graph=op.gradgrad)
    _compare(op, mg_grads, t_grads, "gradient")
    if op.gradgrad:
        _compare(op, _second(mg, mg_leaves, mg_grads), _second(torch, t_leaves, t_grads), "second derivative")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("op, sample", GRAD_CASES, ids=GRAD_IDS)
def test_the_two_executions_agree_bit_for_bit(op, sample, dtype):
    """One rule, two executions: on arrays (no create_graph) and on Tensors (create_graph) the rules give the
    same bits."""
    results = []
    for create_graph in (False, True):
        xs = mg_inputs(sample, dtype)
        outs = float_outputs(op.call(mg, *xs, **sample.kwargs))
        leaves = [x for x in xs if x.requires_grad]
        gs = mg.grad(outs, leaves, [mg.tensor(v.astype(dtype)) for v in upstream(outs, 3)], create_graph=create_graph,
                     allow_unused=True)
        results.append([None if g is None else g.numpy() for g in gs])
    for i, (a, b) in enumerate(zip(*results)):
        assert (a is None) == (b is None), f"{op.name}: input {i} has a gradient in one execution only"
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), \
                f"{op.name}: input {i}: the array and Tensor executions differ\n{a}\n{b}"


def test_the_table_covers_every_op_once():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names)), "an op is listed twice"
    assert len(CASES) >= 3 * len(OPS)
