"""Op-table rows of the activations (minigrad/ops/activation.py, minigrad/nn/functional/activation.py): each with
samples exactly at its kinks (smooth=False: PyTorch's gradient there is checked, finite differences are not);
and their dtype-table entries. (relu, leaky_relu and gelu have rows in tests/op_table.py.)"""
import numpy as np
from op_table import OpInfo, Sample, fixed, unary, uniform


def F(name, **fixed_kwargs):
    """m.nn.functional.<name>(x, **kwargs)."""
    return lambda m, *xs, **k: getattr(m.nn.functional, name)(*xs, **fixed_kwargs, **k)


def with_kinks(kinks, low=-2.0, high=2.0, **kwargs):
    """unary() away from the kinks, plus one sample holding exactly the kinks and points on each side."""
    def samples(rng):
        at = np.array(sorted({v for k in kinks for v in (k - 0.5, k, k + 0.5)}))
        return unary(low, high, away=kinks, **kwargs)(rng) + [Sample((at,), dict(kwargs), "at-kinks", False)]
    return samples


def along_dim(shape=(2, 4, 3), zero_d=True):
    """Samples of an op along one dim: positive and negative dims, 0-d, empty."""
    return fixed(lambda r: ((uniform(r, shape),), {"dim": 1}, "dim=1"),
                 lambda r: ((uniform(r, shape),), {"dim": -1}, "dim=-1"),
                 lambda r: ((uniform(r, () if zero_d else (2,)),), {"dim": 0}, "0-d" if zero_d else "1-d"),
                 lambda r: ((uniform(r, (0, 4)),), {"dim": 1}, "empty"))


def prelu_samples(rng):
    def x(shape):
        return uniform(rng, shape, away=(0.0,))
    return [Sample((x((2, 3, 4)), uniform(rng, (3,))), {}, "per-channel"),
            Sample((x((2, 3)), uniform(rng, (1,))), {}, "shared"),
            Sample((x((5,)), uniform(rng, (1,))), {}, "1-d"),
            Sample((x(()), uniform(rng, ())), {}, "0-d"),
            Sample((x((2, 3, 2, 2)), uniform(rng, (3,))), {}, "4-d"),
            Sample((x((0, 3)), uniform(rng, (3,))), {}, "empty")]


def prelu_at_0(rng):
    return [Sample((np.array([[-1.0, 0.0, 2.0]]), uniform(rng, (3,))), {}, "at-0", False),
            Sample((np.array([0.0, -0.0]), uniform(rng, (1,))), {}, "zeros", False)]


OPS = [
    OpInfo("elu", F("elu"), with_kinks((0.0,))),
    OpInfo("elu_alpha", F("elu", alpha=0.5), with_kinks((0.0,))),
    OpInfo("selu", F("selu"), with_kinks((0.0,))),
    OpInfo("selu_top", lambda m, a: m.selu(a), unary(shapes=[((2, 3), "2-d")], away=(0.0,))),
    OpInfo("celu", F("celu", alpha=2.0), with_kinks((0.0,))),
    OpInfo("silu", F("silu"), unary(-5.0, 5.0)),
    OpInfo("mish", F("mish"), unary(-5.0, 5.0)),
    OpInfo("softplus", F("softplus"), unary(-5.0, 5.0)),
    OpInfo("softplus_beta", F("softplus", beta=2.0, threshold=1.0), with_kinks((0.5,))),
    OpInfo("softplus_tail", F("softplus"), fixed(lambda r: ((np.array([19.0, 21.0, 40.0, -40.0]),), {}, "tail"))),
    OpInfo("softsign", F("softsign"), with_kinks((0.0,))),
    OpInfo("hardsigmoid", F("hardsigmoid"), with_kinks((-3.0, 3.0), -5.0, 5.0), gradgrad=False),  # none in PyTorch
    OpInfo("hardswish", F("hardswish"), with_kinks((-3.0, 3.0), -5.0, 5.0)),
    OpInfo("hardtanh", F("hardtanh"), with_kinks((-1.0, 1.0))),
    OpInfo("hardtanh_bounds", F("hardtanh", min_val=-0.5, max_val=1.5), with_kinks((-0.5, 1.5))),
    OpInfo("relu6", F("relu6"), with_kinks((0.0, 6.0), -2.0, 8.0)),
    OpInfo("logsigmoid", F("logsigmoid"),
           lambda r: unary(-5.0, 5.0)(r) + [Sample((np.array([-50.0, 0.0, 50.0]),), {}, "large")]),
    OpInfo("softmin", F("softmin"), along_dim()),
    OpInfo("softmin_dtype", F("softmin", dim=0, dtype="float64"), fixed(lambda r: ((uniform(r, (3, 2)),), {}, "2-d")),
           torch_fn=lambda t, a: t.nn.functional.softmin(a, dim=0, dtype=t.float64)),
    OpInfo("glu", F("glu"), along_dim((2, 4, 6), zero_d=False)),
    OpInfo("prelu", F("prelu"), prelu_samples),
    OpInfo("prelu_top", lambda m, x, w: x.prelu(w), prelu_samples),
    # At x = 0 PyTorch's first derivative takes the slope w, its double backward the slope 1 (self >= 0 in
    # _prelu_kernel_backward's formulas); minigrad's second derivative is the derivative of its first.
    OpInfo("prelu_at_0", F("prelu"), prelu_at_0, gradgrad=False),
    # the shrinks and threshold: gradient 0 on the band, ends included, as PyTorch's *_backward
    OpInfo("threshold", F("threshold", threshold=0.5, value=-3.0), with_kinks((0.5,))),
    OpInfo("threshold_value_above", F("threshold", threshold=-0.25, value=7.0), with_kinks((-0.25,))),
    OpInfo("hardshrink", F("hardshrink"), with_kinks((-0.5, 0.5))),
    OpInfo("hardshrink_lambd", F("hardshrink", lambd=1.25), with_kinks((-1.25, 1.25), -3.0, 3.0)),
    OpInfo("hardshrink_negative_lambd", F("hardshrink", lambd=-0.5), unary()),
    OpInfo("softshrink", F("softshrink"), with_kinks((-0.5, 0.5))),
    OpInfo("softshrink_lambd", F("softshrink", lambd=1.25), with_kinks((-1.25, 1.25), -3.0, 3.0)),
    OpInfo("softshrink_lambd0", F("softshrink", lambd=0.0), with_kinks((0.0,))),
    OpInfo("tanhshrink", F("tanhshrink"), unary(-3.0, 3.0)),
]

DTYPE_UNARY = {f"F.{name}": F(name) for name in ["elu", "selu", "celu", "silu", "mish", "softplus", "softsign",
                                                 "hardsigmoid", "hardswish", "hardtanh", "relu6", "logsigmoid", "relu"]}
DTYPE_UNARY.update({"F.softmin": F("softmin", dim=0), "F.glu": F("glu", dim=0)})
DTYPE_BINARY = {"F.prelu": F("prelu")}
