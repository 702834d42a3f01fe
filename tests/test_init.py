"""The initialisers trunc_normal_, orthogonal_, eye_, dirac_ and sparse_ (mg.nn.init). Random ones are checked by
their distributions and properties with fixed seeds (minigrad draws from its own generator, not PyTorch's): bounds,
moments and the CDF of the truncated normal (Kolmogorov-Smirnov), Q^T Q = I, the zeros per column; deterministic
ones exactly against torch.nn.init; errors and warnings with PyTorch's classes."""
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import init

torch = pytest.importorskip("torch")
_erf = np.frompyfunc(math.erf, 1, 1)


def truncnorm_cdf(x, mean, std, a, b):
    def phi(z):
        return (1 + np.asarray(_erf(np.asarray(z, float) / math.sqrt(2)), float)) / 2
    lo, hi = phi((a - mean) / std), phi((b - mean) / std)
    return (phi((np.clip(x, a, b) - mean) / std) - lo) / (hi - lo)


def truncnorm_moments(mean, std, a, b):
    """Mean and variance of N(mean, std^2) truncated to [a, b] (the textbook formulas)."""
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    Z = (math.erf(be / math.sqrt(2)) - math.erf(al / math.sqrt(2))) / 2
    m = mean + std * (pdf(al) - pdf(be)) / Z
    v = std ** 2 * (1 + (al * pdf(al) - be * pdf(be)) / Z - ((pdf(al) - pdf(be)) / Z) ** 2)
    return m, v


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0),      # PyTorch's defaults: the normal branch
                                          (0.0, 0.02, -0.04, 0.04),   # ViT's init
                                          (1.0, 2.0, 0.5, 1.5),       # a narrow window: the uniform branch
                                          (0.0, 1.0, 1.5, 4.0),       # a tail: the uniform branch, peak at a
                                          (3.0, 0.5, -1.0, 1.0)])     # mean far outside: PyTorch's warning
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trunc_normal_is_the_truncated_normal(mean, std, a, b, dtype):
    w = mg.tensor(np.zeros((200, 100), dtype))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = init.trunc_normal_(w, mean, std, a, b, rng=np.random.default_rng(1))
    assert out is w and w.dtype == dtype
    far = mean < a - 2 * std or mean > b + 2 * std
    assert any("mean is more than 2 std" in str(c.message) for c in caught) == far
    x = w.numpy().astype(np.float64).ravel()
    assert x.min() >= np.float32(a) - 1e-7 and x.max() <= np.float32(b) + 1e-7
    m, v = truncnorm_moments(mean, std, a, b)
    n = x.size
    assert abs(x.mean() - m) < 5 * math.sqrt(v / n) + 1e-7
    assert abs(x.var() - v) < 5 * v * math.sqrt(2 / n) + 1e-7
    xs = np.sort(x)  # Kolmogorov-Smirnov: sup |F_n - F| below the 0.1% critical value 1.95 / sqrt(n)
    F = truncnorm_cdf(xs, mean, std, a, b)
    ks = max(np.max(np.arange(1, n + 1) / n - F), np.max(F - np.arange(n) / n))
    assert ks < 1.95 / math.sqrt(n)


def test_trunc_normal_uses_the_rng_and_mg_manual_seed():
    a, b = mg.zeros(50), mg.zeros(50)
    init.trunc_normal_(a, rng=np.random.default_rng(4)), init.trunc_normal_(b, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    mg.manual_seed(7)
    init.trunc_normal_(a, std=0.3, a=-0.1, b=0.2)
    mg.manual_seed(7)
    init.trunc_normal_(b, std=0.3, a=-0.1, b=0.2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_trunc_normal_edge_cases_as_torch():
    t = mg.zeros(4)
    init.trunc_normal_(t, a=1.0, b=1.0)  # an interval of one point
    np.testing.assert_array_equal(t.numpy(), np.ones(4))
    init.trunc_normal_(t, std=-1.0)  # PyTorch only ever uses std squared here
    assert np.all(np.abs(t.numpy()) <= 2)
    assert init.trunc_normal_(mg.zeros(0)).shape == (0,)
    init.trunc_normal_(t, a=-math.inf, b=math.inf, rng=np.random.default_rng(0))
    assert np.all(np.isfinite(t.numpy()))
    cases = [(dict(std=0.0), ZeroDivisionError, "std is 0"), (dict(a=2.0, b=-2.0), RuntimeError, "a <= b"),
             (dict(a=2.0, b=math.inf), RuntimeError, "not finite")]
    for kw, error, words in cases:
        with pytest.raises(error):
            torch.nn.init.trunc_normal_(torch.zeros(3), **kw)
        with pytest.raises(error, match=f"trunc_normal_: .*{words}"):
            init.trunc_normal_(mg.zeros(3), **kw)
    with pytest.raises(NotImplementedError):
        torch.nn.init.trunc_normal_(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(NotImplementedError, match="trunc_normal_: not implemented for int64"):
        init.trunc_normal_(mg.zeros(3, dtype=mg.int64))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (8, 2, 3, 3), (2, 3, 4), (1, 7), (7, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_orthogonal_is_orthogonal(shape, dtype):
    w = mg.tensor(np.zeros(shape, dtype))
    assert init.orthogonal_(w, gain=2.5, rng=np.random.default_rng(0)) is w
    q = w.numpy().astype(np.float64).reshape(shape[0], -1) / 2.5
    rows, cols = q.shape
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12 if dtype == np.float64 else 2e-6)


def test_orthogonal_is_haar_distributed_and_uses_the_rng():
    """With the sign fix, a Haar-random orthogonal matrix's entries have mean 0 and variance 1/n, and det is +1 or -1
    with equal odds (without it, QR's diag(R) > 0 convention would bias them)."""
    rng = np.random.default_rng(3)
    mats = [init.orthogonal_(mg.tensor(np.zeros((4, 4))), rng=rng).numpy() for _ in range(2000)]
    entries = np.stack(mats)
    assert np.all(np.abs(entries.mean(axis=0)) < 5 * math.sqrt(0.25 / 2000))
    assert np.all(np.abs(entries.var(axis=0) - 0.25) < 0.04)
    dets = np.sign([np.linalg.det(m) for m in mats])
    assert abs(dets.mean()) < 5 / math.sqrt(2000)
    a, b = mg.zeros(3, 5), mg.zeros(3, 5)
    init.orthogonal_(a, rng=np.random.default_rng(1)), init.orthogonal_(b, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_orthogonal_errors_and_empty_as_torch():
    for lib, mod in ((mg, init), (torch, torch.nn.init)):
        with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
            mod.orthogonal_(lib.zeros(3))
        assert tuple(mod.orthogonal_(lib.zeros(0, 3)).shape) == (0, 3)
        with pytest.raises(NotImplementedError):
            mod.orthogonal_(lib.zeros(3, 4, dtype=lib.float16))


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (0, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_eye_is_torchs(shape, dtype):
    w, t = mg.tensor(np.full(shape, 7, dtype)), torch.tensor(np.full(shape, 7, dtype))
    assert init.eye_(w) is w
    torch.nn.init.eye_(t)
    np.testing.assert_array_equal(w.numpy(), t.numpy())
    assert str(w.dtype) == dtype


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 4, 3, 3), 2), ((4, 6, 2, 4), 1), ((6, 2, 3, 3, 3), 3),
                                          ((3, 5, 5), 3), ((2, 3, 1, 2), 2)])
def test_dirac_is_torchs(shape, groups):
    w, t = mg.tensor(np.full(shape, 7.0)), torch.full(shape, 7.0, dtype=torch.float64)
    assert init.dirac_(w, groups) is w
    torch.nn.init.dirac_(t, groups)
    np.testing.assert_array_equal(w.numpy(), t.numpy())
    x = np.random.default_rng(0).standard_normal((1, shape[1] * 1, *(5,) * (len(shape) - 2)))
    if groups == 1 and shape[0] == shape[1] and all(k % 2 for k in shape[2:]):  # the identity convolution
        conv = {3: mg.nn.functional.conv1d, 4: mg.nn.functional.conv2d, 5: mg.nn.functional.conv3d}[len(shape)]
        y = conv(mg.tensor(x), w, padding=shape[2] // 2)
        np.testing.assert_allclose(y.numpy(), x, atol=1e-12)


def test_dirac_and_eye_errors_as_torch():
    for lib, mod in ((mg, init), (torch, torch.nn.init)):
        with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
            mod.dirac_(lib.zeros(3, 3))
        with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
            mod.dirac_(lib.zeros(3, 3, 3), groups=2)
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            mod.eye_(lib.zeros(3))


@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.9, 1.0, 1.5, -0.25, 0.0])
def test_sparse_zeroes_as_many_entries_per_column_as_torch(sparsity):
    rows, cols = 8, 300
    w = mg.zeros(rows, cols, dtype=mg.float64)
    assert init.sparse_(w, sparsity, std=0.5, rng=np.random.default_rng(2)) is w
    t = torch.nn.init.sparse_(torch.zeros(rows, cols, dtype=torch.float64), sparsity, std=0.5)
    zeros, t_zeros = (w.numpy() == 0).sum(axis=0), (t.numpy() == 0).sum(axis=0)
    np.testing.assert_array_equal(zeros, t_zeros)  # the same count in every column (normal draws are never 0)
    kept = w.numpy()[w.numpy() != 0]
    if kept.size > 1000:
        assert abs(kept.std() - 0.5) < 5 * 0.5 / math.sqrt(2 * kept.size)
    rows_hit = (w.numpy() == 0).any(axis=1)  # the zeroed rows differ from column to column
    assert rows_hit.all() or zeros.max() == 0


def test_sparse_errors_as_torch():
    for lib, mod in ((mg, init), (torch, torch.nn.init)):
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            mod.sparse_(lib.zeros(3), 0.5)


def test_new_initialisers_work_on_parameters_and_record_no_graph():
    p = mg.nn.Parameter(np.zeros((4, 4), np.float32))
    for fill in (init.trunc_normal_, init.orthogonal_, init.eye_, lambda t: init.sparse_(t, 0.5)):
        out = fill(p)
        assert out is p and p.grad_fn is None and p.requires_grad
    w = mg.nn.Parameter(np.zeros((2, 2, 3), np.float32))
    init.dirac_(w)
    assert w.grad_fn is None
