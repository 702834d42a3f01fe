"""The op table: one row per op, checked by tests/test_op_table.py against PyTorch and finite differences.

A row names its op once for both libraries: `fn(lib, *tensors, **kwargs)` is called with lib = minigrad and
with lib = torch, because a PyTorch name in minigrad means PyTorch's behaviour (`torch_fn` overrides it where
the spellings must differ). `samples(rng)` lists the inputs to try: float64 arrays (they become tensors that
require grad), integer or bool arrays (index and mask tensors, no grad), and keyword arguments. The standard
sample sets include 0-d, empty, broadcasting, negative dims, keepdim and non-contiguous (transposed) inputs.

Adding an op = adding one row.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


@dataclass
class Sample:
    inputs: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    smooth: bool = True  # False at a tie or kink: finite differences do not apply, PyTorch's convention does


@dataclass
class OpInfo:
    name: str
    fn: Callable
    samples: Callable
    torch_fn: Optional[Callable] = None  # PyTorch's spelling, when it differs
    torch: bool = True                   # PyTorch has this op
    grad: bool = True                    # a gradient flows (False: argmax, comparisons, ...)
    gradgrad: bool = True                # second derivatives are checked
    float32: bool = True                 # also run in float32 (dtype and values)
    rtol: float = 1e-7                   # forward and gradients against PyTorch, float64
    atol: float = 1e-10
    fd_atol: float = 1e-5                # against finite differences
    fd_rtol: float = 1e-3

    def call(self, lib, *args, **kwargs):
        if lib.__name__ == "torch" and self.torch_fn is not None:
            return self.torch_fn(lib, *args, **kwargs)
        return self.fn(lib, *args, **kwargs)


# ---- sample generators ------------------------------------------------------------------------------
def uniform(rng, shape, low=-2.0, high=2.0, away=()):
    """Uniform values, at least 0.1 from each point in `away` (kinks of the op)."""
    x = rng.uniform(low, high, shape)
    for p in away:
        near = np.abs(x - p) < 0.1
        x = np.where(near, p + np.where(x >= p, 0.1, -0.1) + np.sign(x - p + 1e-12) * 0.05, x)
    return x


def noncontiguous(x):
    """The same values in a transposed (Fortran-ordered) layout: a non-contiguous view."""
    return np.asfortranarray(x) if x.ndim >= 2 else x[::-1].copy()[::-1]


UNARY_SHAPES = [((), "0-d"), ((0,), "empty"), ((5,), "1-d"), ((2, 3), "2-d"), ((2, 3, 4), "3-d"), ((2, 0, 3), "empty-3d")]
BINARY_SHAPES = [(((2, 3), (2, 3)), "same"), (((2, 3), (3,)), "broadcast"), (((2, 1), (1, 3)), "outer"),
                 (((), (2, 3)), "0-d-left"), (((2, 3), ()), "0-d-right"), (((0, 3), (3,)), "empty"),
                 (((4, 1, 3), (2, 3)), "rank")]


def unary(low=-2.0, high=2.0, away=(), shapes=UNARY_SHAPES, **kwargs):
    """Samples of one input over the standard shapes (and a non-contiguous one), with fixed kwargs."""
    def samples(rng):
        out = [Sample((uniform(rng, s, low, high, away),), dict(kwargs), label) for s, label in shapes]
        out.append(Sample((noncontiguous(uniform(rng, (3, 4), low, high, away)),), dict(kwargs), "noncontig"))
        return out
    return samples


def binary(low=-2.0, high=2.0, away=(), low2=None, high2=None, shapes=BINARY_SHAPES, **kwargs):
    """Samples of two inputs whose shapes broadcast."""
    low2 = low if low2 is None else low2
    high2 = high if high2 is None else high2

    def samples(rng):
        return [Sample((uniform(rng, a, low, high, away), uniform(rng, b, low2, high2, away)), dict(kwargs), label)
                for (a, b), label in shapes]
    return samples


def reduction(low=-2.0, high=2.0, dims=(None, 0, -1, (0, 2)), keepdims=(False, True), extra=None, **kwargs):
    """Samples of a reduction: dims (None, ints, negative, tuples) x keepdim on a 3-d input, plus 0-d, 1-d, empty."""
    def samples(rng):
        out = []
        for d in dims:
            for k in keepdims if d is not None else (None,):  # PyTorch takes keepdim only with dim
                kw = dict(kwargs) if d is None else dict(kwargs, dim=d, keepdim=k)
                out.append(Sample((uniform(rng, (2, 3, 4), low, high),), kw, f"dim={d},keepdim={k}"))
        if None in dims:
            out.append(Sample((uniform(rng, (), low, high),), dict(kwargs), "0-d"))
        out.append(Sample((uniform(rng, (), low, high),), dict(kwargs, dim=0), "0-d,dim=0"))
        out.append(Sample((uniform(rng, (5,), low, high),), dict(kwargs, dim=-1), "1-d"))
        out.append(Sample((noncontiguous(uniform(rng, (3, 4), low, high)),), dict(kwargs, dim=1), "noncontig"))
        if extra:
            out.extend(extra(rng))
        return out
    return samples


def fixed(*samples):
    """Explicit samples: each a (inputs, kwargs, label[, smooth]) built from the rng."""
    def build(rng):
        return [Sample(*make(rng)) for make in samples]
    return build


def well_separated(rng, shape, gap=0.2):
    """Values with no two closer than `gap` (no ties, no kink within a finite-difference step)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * gap - n * gap / 2 + 0.05).reshape(shape).astype(np.float64)


# ---- the table ------------------------------------------------------------------------------------
def _idx(rng, high, shape):
    return rng.integers(0, high, shape)


OPS = [
    # elementwise, binary (PyTorch's promotion; broadcasting)
    OpInfo("add", lambda m, a, b, **k: m.add(a, b, **k), binary()),
    OpInfo("add_alpha", lambda m, a, b, **k: m.add(a, b, **k), binary(alpha=2.5)),
    OpInfo("sub", lambda m, a, b: m.sub(a, b), binary()),
    OpInfo("mul", lambda m, a, b: m.mul(a, b), binary()),
    OpInfo("div", lambda m, a, b: m.div(a, b), binary(low2=0.5, high2=2.0)),
    OpInfo("pow", lambda m, a, b: m.pow(a, b), binary(low=0.3, high=2.0, low2=-2.0, high2=2.0)),
    OpInfo("pow_scalar", lambda m, a: a ** 3, unary()),
    OpInfo("rpow_scalar", lambda m, a: 2.5 ** a, unary()),
    OpInfo("maximum", lambda m, a, b: m.maximum(a, b), binary()),
    OpInfo("minimum", lambda m, a, b: m.minimum(a, b), binary()),
    OpInfo("where", lambda m, c, a, b: m.where(c, a, b),
           fixed(lambda r: ((r.random((2, 3)) > 0.5, uniform(r, (2, 3)), uniform(r, (3,))), {}, "broadcast"),
                 lambda r: ((np.array(True), uniform(r, ()), uniform(r, (2,))), {}, "0-d-cond"),
                 lambda r: ((r.random((0, 3)) > 0.5, uniform(r, (0, 3)), uniform(r, (0, 3))), {}, "empty"))),
    OpInfo("rsub_scalar", lambda m, a: 1.5 - a, unary()),
    OpInfo("rdiv_scalar", lambda m, a: 1.5 / a, unary(low=0.5, high=2.0)),
    # elementwise, unary
    OpInfo("neg", lambda m, a: m.neg(a), unary()),
    OpInfo("exp", lambda m, a: m.exp(a), unary()),
    OpInfo("log", lambda m, a: m.log(a), unary(low=0.2, high=3.0)),
    OpInfo("sqrt", lambda m, a: m.sqrt(a), unary(low=0.2, high=3.0)),
    OpInfo("abs", lambda m, a: m.abs(a), unary(away=(0.0,))),
    OpInfo("sin", lambda m, a: m.sin(a), unary()),
    OpInfo("cos", lambda m, a: m.cos(a), unary()),
    OpInfo("tanh", lambda m, a: m.tanh(a), unary()),
    OpInfo("sigmoid", lambda m, a: m.sigmoid(a), unary()),
    OpInfo("relu", lambda m, a: m.relu(a), unary(away=(0.0,))),
    OpInfo("erf", lambda m, a: m.erf(a), unary()),
    OpInfo("gelu", lambda m, a, **k: m.nn.functional.gelu(a, **k), unary()),
    OpInfo("gelu_tanh", lambda m, a, **k: m.nn.functional.gelu(a, **k), unary(approximate="tanh")),
    OpInfo("leaky_relu", lambda m, a, **k: m.nn.functional.leaky_relu(a, **k), unary(away=(0.0,), negative_slope=0.2)),
    OpInfo("clamp", lambda m, a, **k: m.clamp(a, **k), unary(away=(-1.0, 1.0), min=-1.0, max=1.0)),
    OpInfo("clamp_min", lambda m, a, **k: m.clamp(a, **k), unary(away=(0.5,), min=0.5)),
    # matmul
    OpInfo("matmul", lambda m, a, b: m.matmul(a, b),
           fixed(lambda r: ((uniform(r, (2, 3)), uniform(r, (3, 4))), {}, "2-d"),
                 lambda r: ((uniform(r, (3,)), uniform(r, (3,))), {}, "dot"),
                 lambda r: ((uniform(r, (3,)), uniform(r, (3, 2))), {}, "vec-mat"),
                 lambda r: ((uniform(r, (2, 3)), uniform(r, (3,))), {}, "mat-vec"),
                 lambda r: ((uniform(r, (4, 1, 2, 3)), uniform(r, (5, 3, 2))), {}, "batched-broadcast"),
                 lambda r: ((uniform(r, (0, 3)), uniform(r, (3, 2))), {}, "empty"),
                 lambda r: ((noncontiguous(uniform(r, (3, 3))), uniform(r, (3, 2)).T.copy().T), {}, "noncontig"))),
    # reductions
    OpInfo("sum", lambda m, a, **k: m.sum(a, **k), reduction()),
    OpInfo("mean", lambda m, a, **k: m.mean(a, **k), reduction()),
    OpInfo("var", lambda m, a, **k: m.var(a, **k), reduction(extra=lambda r: [
        Sample((uniform(r, (2, 3)),), {"dim": 1, "correction": 0}, "correction=0"),
        Sample((uniform(r, (2, 3)),), {"dim": 0, "correction": 2}, "n=correction", False),
        Sample((uniform(r, (4, 3)),), {"dim": 0, "unbiased": False}, "unbiased=False")])),
    OpInfo("std", lambda m, a, **k: m.std(a, **k), reduction(extra=lambda r: [
        Sample((uniform(r, (2, 3)),), {"dim": 1, "correction": 0}, "correction=0")])),
    OpInfo("amax", lambda m, a, **k: m.amax(a, **k),
           fixed(lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": (0, 2)}, "dims"),
                 lambda r: ((well_separated(r, (2, 3)),), {"dim": -1, "keepdim": True}, "keepdim"),
                 lambda r: ((well_separated(r, ()),), {}, "0-d"),
                 lambda r: ((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),), {"dim": 1}, "ties", False))),
    OpInfo("amin", lambda m, a, **k: m.amin(a, **k),
           fixed(lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": (0, 2)}, "dims"),
                 lambda r: ((np.array([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]]),), {"dim": 1}, "ties", False))),
    OpInfo("max_all", lambda m, a: m.max(a),
           fixed(lambda r: ((well_separated(r, (2, 3)),), {}, "2-d"),
                 lambda r: ((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),), {}, "ties", False))),
    OpInfo("max_dim", lambda m, a, **k: m.max(a, **k),
           fixed(lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": 1}, "dim"),
                 lambda r: ((well_separated(r, (2, 3)),), {"dim": -1, "keepdim": True}, "keepdim"),
                 lambda r: ((well_separated(r, ()),), {"dim": 0}, "0-d"),
                 lambda r: ((np.zeros((3, 0)),), {"dim": 0}, "empty-other-dim"))),
    OpInfo("min_dim", lambda m, a, **k: m.min(a, **k),
           fixed(lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": 2}, "dim"))),
    OpInfo("max_binary", lambda m, a, b: m.max(a, b), binary()),
    OpInfo("logsumexp", lambda m, a, **k: m.logsumexp(a, **k),
           reduction(dims=(0, -1, (0, 2)), extra=lambda r: [
               Sample((np.zeros((3, 0)),), {"dim": 1}, "empty-dim"),
               Sample((np.array([[1000.0, 1001.0], [-1000.0, -1001.0]]),), {"dim": 1}, "huge")])),
    OpInfo("softmax", lambda m, a, **k: m.softmax(a, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"dim": 1}, "dim=1"),
                 lambda r: ((uniform(r, (2, 3)),), {"dim": -1}, "dim=-1"),
                 lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"),
                 lambda r: ((np.zeros((3, 0)),), {"dim": 1}, "empty"),
                 lambda r: ((np.array([[1000.0, 1001.0, 1002.0]]),), {"dim": 1}, "huge"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))),), {"dim": 0}, "noncontig"))),
    OpInfo("log_softmax", lambda m, a, **k: m.log_softmax(a, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"dim": 1}, "dim=1"),
                 lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"),
                 lambda r: ((np.zeros((3, 0)),), {"dim": 1}, "empty"),
                 lambda r: ((np.array([[1000.0, 1001.0, 1002.0]]),), {"dim": 1}, "huge"))),
    OpInfo("argmax", lambda m, a, **k: m.argmax(a, **k), grad=False,
           samples=fixed(lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": 1}, "dim"),
                         lambda r: ((well_separated(r, (2, 3)),), {}, "flat"),
                         lambda r: ((well_separated(r, (2, 3)),), {"dim": -1, "keepdim": True}, "keepdim"),
                         lambda r: ((np.array([[1.0, 3.0, 3.0]]),), {"dim": 1}, "ties-first"))),
    OpInfo("argmin", lambda m, a, **k: m.argmin(a, **k), grad=False,
           samples=fixed(lambda r: ((well_separated(r, (2, 3, 4)),), {"dim": 0}, "dim"),
                         lambda r: ((well_separated(r, ()),), {}, "0-d"))),
    # movement
    OpInfo("reshape", lambda m, a, **k: a.reshape(*k["shape"]),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"shape": (4, -1)}, "infer"),
                 lambda r: ((uniform(r, ()),), {"shape": (1, 1)}, "0-d"),
                 lambda r: ((uniform(r, (0, 3)),), {"shape": (3, 0)}, "empty"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))),), {"shape": (12,)}, "noncontig"))),
    OpInfo("view", lambda m, a, **k: a.view(*k["shape"]),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"shape": (6, 4)}, "3-d"),
                 lambda r: ((uniform(r, ()),), {"shape": (1,)}, "0-d"))),
    OpInfo("permute", lambda m, a, **k: a.permute(k["dims"]),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"dims": (2, 0, 1)}, "3-d"),
                 lambda r: ((uniform(r, (2, 3, 4)),), {"dims": (-1, 0, -2)}, "negative"),
                 lambda r: ((uniform(r, ()),), {"dims": ()}, "0-d"))),
    OpInfo("transpose", lambda m, a, **k: m.transpose(a, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"dim0": 0, "dim1": -1}, "3-d"),
                 lambda r: ((uniform(r, ()),), {"dim0": 0, "dim1": -1}, "0-d"))),
    OpInfo("T", lambda m, a: a.T, fixed(lambda r: ((uniform(r, (2, 3)),), {}, "2-d"),
                                        lambda r: ((uniform(r, (4,)),), {}, "1-d"))),
    OpInfo("mT", lambda m, a: a.mT, fixed(lambda r: ((uniform(r, (2, 3, 4)),), {}, "3-d"))),
    OpInfo("expand", lambda m, a, **k: a.expand(*k["shape"]),
           fixed(lambda r: ((uniform(r, (3, 1)),), {"shape": (2, 3, 4)}, "grow"),
                 lambda r: ((uniform(r, (3, 1)),), {"shape": (-1, 4)}, "minus-one"),
                 lambda r: ((uniform(r, ()),), {"shape": (2, 2)}, "0-d"))),
    OpInfo("broadcast_to", lambda m, a, **k: m.broadcast_to(a, k["shape"]),
           fixed(lambda r: ((uniform(r, (3, 1)),), {"shape": (2, 3, 4)}, "grow"))),
    OpInfo("squeeze", lambda m, a, **k: m.squeeze(a, **k),
           fixed(lambda r: ((uniform(r, (1, 3, 1)),), {}, "all"),
                 lambda r: ((uniform(r, (1, 3, 1)),), {"dim": -1}, "dim"),
                 lambda r: ((uniform(r, (2, 3)),), {"dim": 1}, "not-size-1"),
                 lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"))),
    OpInfo("unsqueeze", lambda m, a, **k: m.unsqueeze(a, **k),
           fixed(lambda r: ((uniform(r, (2, 3)),), {"dim": -1}, "last"),
                 lambda r: ((uniform(r, (2, 3)),), {"dim": 1}, "middle"),
                 lambda r: ((uniform(r, ()),), {"dim": 0}, "0-d"))),
    OpInfo("flatten", lambda m, a, **k: m.flatten(a, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"start_dim": 1}, "from-1"),
                 lambda r: ((uniform(r, (2, 3, 4)),), {"start_dim": 0, "end_dim": -2}, "to-minus-2"),
                 lambda r: ((uniform(r, ()),), {}, "0-d"))),
    OpInfo("getitem_basic", lambda m, a, **k: a[k["index"]],
           fixed(lambda r: ((uniform(r, (3, 4)),), {"index": (slice(1, None), None, slice(None, None, 2))}, "slices"),
                 lambda r: ((uniform(r, (3, 4)),), {"index": (Ellipsis, 0)}, "ellipsis"),
                 lambda r: ((uniform(r, (3, 4)),), {"index": -1}, "int"))),
    OpInfo("getitem_advanced", lambda m, a, i: a[i],
           fixed(lambda r: ((uniform(r, (4, 3)), np.array([0, 2, 0, 3])), {}, "repeats"),
                 lambda r: ((uniform(r, (4, 3)), r.random((4, 3)) > 0.5), {}, "mask"))),
    OpInfo("getitem_mixed", lambda m, a, i: a[0, :, i],
           fixed(lambda r: ((uniform(r, (2, 3, 4)), np.array([1, 3, 1])), {}, "int-slice-array"))),
    OpInfo("gather", lambda m, a, i, **k: m.gather(a, k["dim"], i),
           fixed(lambda r: ((uniform(r, (3, 4)), _idx(r, 3, (2, 4))), {"dim": 0}, "dim0"),
                 lambda r: ((uniform(r, (3, 4)), _idx(r, 4, (3, 6))), {"dim": -1}, "repeats"),
                 lambda r: ((uniform(r, (3, 4)), _idx(r, 4, (2, 2))), {"dim": 1}, "smaller"))),
    OpInfo("cat", lambda m, a, b, **k: m.cat([a, b], **k),
           fixed(lambda r: ((uniform(r, (2, 3)), uniform(r, (1, 3))), {"dim": 0}, "dim0"),
                 lambda r: ((uniform(r, (2, 3)), uniform(r, (2, 2))), {"dim": -1}, "negative"),
                 lambda r: ((uniform(r, (2, 3)), uniform(r, (0,))), {"dim": 0}, "legacy-empty"))),
    OpInfo("stack", lambda m, a, b, **k: m.stack([a, b], **k),
           fixed(lambda r: ((uniform(r, (2, 3)), uniform(r, (2, 3))), {"dim": -1}, "last"),
                 lambda r: ((uniform(r, ()), uniform(r, ())), {"dim": 0}, "0-d"))),
    OpInfo("split", lambda m, a, **k: m.split(a, k["size"], dim=k["dim"]),
           fixed(lambda r: ((uniform(r, (5, 3)),), {"size": 2, "dim": 0}, "size"),
                 lambda r: ((uniform(r, (5, 3)),), {"size": [1, 2], "dim": -1}, "sections"))),
    OpInfo("clone", lambda m, a: a.clone(), unary()),
    # layers and losses (nn.functional)
    OpInfo("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b),
           fixed(lambda r: ((uniform(r, (4, 3)), uniform(r, (2, 3)), uniform(r, (2,))), {}, "2-d"),
                 lambda r: ((uniform(r, (2, 4, 3)), uniform(r, (2, 3)), uniform(r, (2,))), {}, "batched"))),
    OpInfo("conv2d", lambda m, x, w, b, **k: m.nn.functional.conv2d(x, w, b, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 5, 5)), uniform(r, (4, 3, 3, 3)), uniform(r, (4,))),
                            {"stride": 2, "padding": 1}, "stride-pad"),
                 lambda r: ((uniform(r, (1, 4, 5, 4)), uniform(r, (4, 2, 2, 2)), uniform(r, (4,))),
                            {"groups": 2, "dilation": 2}, "groups-dilation"))),
    OpInfo("max_pool2d", lambda m, x, **k: m.nn.functional.max_pool2d(x, **k),
           fixed(lambda r: ((well_separated(r, (2, 2, 4, 5)),), {"kernel_size": 2}, "k2"),
                 lambda r: ((well_separated(r, (1, 2, 5, 5)),), {"kernel_size": 3, "stride": 2, "padding": 1,
                                                                  "ceil_mode": True}, "ceil"))),
    OpInfo("avg_pool2d", lambda m, x, **k: m.nn.functional.avg_pool2d(x, **k),
           fixed(lambda r: ((uniform(r, (2, 2, 4, 5)),), {"kernel_size": 2}, "k2"),
                 lambda r: ((uniform(r, (1, 2, 5, 5)),), {"kernel_size": 3, "stride": 2, "padding": 1,
                                                          "count_include_pad": False}, "exclude-pad"))),
    OpInfo("batch_norm_train", lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, training=True),
           fixed(lambda r: ((uniform(r, (4, 3)), uniform(r, (3,)), uniform(r, (3,))), {}, "2-d"),
                 lambda r: ((uniform(r, (2, 3, 2, 2)), uniform(r, (3,)), uniform(r, (3,))), {}, "4-d")),
           rtol=1e-6),
    OpInfo("cross_entropy", lambda m, x, t, **k: m.nn.functional.cross_entropy(x, t, **k),
           fixed(lambda r: ((uniform(r, (4, 5)), _idx(r, 5, (4,))), {}, "mean"),
                 lambda r: ((uniform(r, (4, 5)), _idx(r, 5, (4,))), {"reduction": "none"}, "none"),
                 lambda r: ((uniform(r, (4, 5)), _idx(r, 5, (4,))), {"label_smoothing": 0.1}, "smoothing"))),
    OpInfo("nll_loss", lambda m, x, t, **k: m.nn.functional.nll_loss(x, t, **k),
           fixed(lambda r: ((uniform(r, (4, 5)), _idx(r, 5, (4,))), {}, "mean"),
                 lambda r: ((uniform(r, (4, 5)), _idx(r, 5, (4,))), {"reduction": "sum"}, "sum"))),
    OpInfo("mse_loss", lambda m, x, y, **k: m.nn.functional.mse_loss(x, y, **k),
           fixed(lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {}, "mean"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"reduction": "none"}, "none"))),
    OpInfo("l1_loss", lambda m, x, y: m.nn.functional.l1_loss(x, y),
           fixed(lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4)) + 3.0), {}, "mean"))),
    OpInfo("bce_with_logits", lambda m, x, y: m.nn.functional.binary_cross_entropy_with_logits(x, y),
           fixed(lambda r: ((uniform(r, (3, 4)), r.random((3, 4))), {}, "mean"))),
    OpInfo("pad_constant", lambda m, x, **k: m.nn.functional.pad(x, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"pad": (1, 2), "value": -1.0}, "last"),
                 lambda r: ((uniform(r, (2, 3, 4)),), {"pad": (1, 0, 0, 2)}, "two-dims"))),
    OpInfo("pad_reflect", lambda m, x, **k: m.nn.functional.pad(x, **k),
           fixed(lambda r: ((uniform(r, (1, 2, 4, 5)),), {"pad": (1, 2, 2, 1), "mode": "reflect"}, "reflect"),
                 lambda r: ((uniform(r, (1, 2, 4, 5)),), {"pad": (1, 2, 2, 1), "mode": "replicate"}, "replicate"),
                 lambda r: ((uniform(r, (1, 2, 4, 5)),), {"pad": (1, 2, 2, 1), "mode": "circular"}, "circular"))),
]


# ---- rows of the other families: tests/op_rows_<family>.py, each with its own OPS list -------------------
def _family_rows():
    import glob
    import importlib
    import os
    rows = []
    for path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "op_rows_*.py"))):
        rows.extend(importlib.import_module(os.path.basename(path)[:-3]).OPS)
    return rows


OPS = OPS + _family_rows()
