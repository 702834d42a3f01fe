"""Losses: what the op table (tests/op_rows_loss.py) cannot express. Errors (message and PyTorch's exception class),
the modules against PyTorch's, the deprecated size_average / reduce, weight gradients of probability targets, one op
per loss in the tracer with its declared cost, float16, stability, and the places minigrad differs from PyTorch."""
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
RNG = np.random.default_rng(9)


def T(lib, a):
    """A tensor of lib holding a copy of the array a (its dtype kept)."""
    return lib.tensor(np.asarray(a))


X34 = RNG.standard_normal((3, 4))
P34 = RNG.uniform(0.1, 0.9, (3, 4))
W4 = RNG.uniform(0.5, 2.0, 4)
CLS = RNG.integers(0, 4, 3)

# (label, call(lib), minigrad's exception, a pattern of minigrad's message, PyTorch's exception when it differs)
ERRORS = [
    ("class out of range", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, [0, 4, 1])),
     IndexError, r"cross_entropy: target 4 is out of bounds: targets must lie in \[0, 3\] for 4 classes", None),
    ("negative class", lambda L: L.nn.functional.nll_loss(T(L, X34), T(L, [0, -1, 1])),
     IndexError, r"nll_loss: target -1 is out of bounds: targets must lie in \[0, 3\] for 4 classes", None),
    ("float target of another shape", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, [0.0, 1.0, 2.0])),
     RuntimeError, r"class-index targets must be int64 \(or uint8\), got float64; floating-point targets are class "
     r"probabilities and need the input's shape \(3, 4\)", None),
    ("int32 target", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, np.array([0, 1, 2], np.int32))),
     RuntimeError, r"must be int64 \(or uint8\), got int32; convert them", None),
    ("bool target", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, np.array([0, 1, 1], bool))),
     RuntimeError, "got bool", None),
    ("batch mismatch", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, [0, 1])),
     ValueError, r"input of shape \(3, 4\) needs targets of shape \(3,\), got \(2,\)", None),
    ("spatial mismatch", lambda L: L.nn.functional.cross_entropy(T(L, np.zeros((2, 3, 4, 5))),
                                                                T(L, np.zeros((2, 5, 4), np.int64))),
     RuntimeError, r"needs targets of shape \(2, 4, 5\), got \(2, 5, 4\)", None),
    ("weight of the wrong size", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, [0, 1, 2]),
                                                                        weight=T(L, np.ones(3))),
     RuntimeError, r"weight must hold one value per class, shape \(4,\); got shape \(3,\)", None),
    ("weight of another dtype", lambda L: L.nn.functional.nll_loss(T(L, X34.astype(np.float32)), T(L, [0, 1, 2]),
                                                                  weight=T(L, np.ones(4))),
     RuntimeError, r"weight is float64 but the input is float32", None),
    ("label smoothing above 1", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, [0, 1, 2]),
                                                                       label_smoothing=1.5),
     RuntimeError, "label_smoothing must be between 0.0 and 1.0, got 1.5", None),
    ("ignore_index with probabilities", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, P34), ignore_index=1),
     RuntimeError, "ignore_index is not supported for class-probability targets", None),
    ("unknown reduction", lambda L: L.nn.functional.cross_entropy(T(L, X34), T(L, [0, 1, 2]), reduction="avg"),
     ValueError, "reduction must be 'mean', 'sum' or 'none', not 'avg'", None),
    ("kl_div reduction", lambda L: L.nn.functional.kl_div(T(L, X34), T(L, P34), reduction="average"),
     ValueError, "reduction must be 'mean', 'batchmean', 'sum' or 'none'", None),
    ("bce input outside [0, 1]", lambda L: L.nn.functional.binary_cross_entropy(T(L, P34 + 1), T(L, P34)),
     RuntimeError, "all elements of input should be between 0 and 1", None),
    ("bce shapes", lambda L: L.nn.functional.binary_cross_entropy(T(L, P34), T(L, P34[0])),
     ValueError, r"target size \(4,\) that is different to the input size \(3, 4\)", None),
    ("bce dtypes", lambda L: L.nn.functional.binary_cross_entropy(T(L, P34.astype(np.float32)), T(L, P34)),
     RuntimeError, "target is float64 but the input is float32", None),
    ("bce weight", lambda L: L.nn.functional.binary_cross_entropy(T(L, P34), T(L, P34), weight=T(L, np.ones(3))),
     RuntimeError, r"weight of shape \(3,\) does not broadcast to the input's shape \(3, 4\)", None),
    ("bce with logits shapes", lambda L: L.nn.functional.binary_cross_entropy_with_logits(T(L, X34), T(L, P34[0])),
     ValueError, r"target size \(4,\) that is different to the input size \(3, 4\)", None),
    ("pos_weight", lambda L: L.nn.functional.binary_cross_entropy_with_logits(T(L, X34), T(L, P34),
                                                                             pos_weight=T(L, np.ones(3))),
     RuntimeError, r"pos_weight of shape \(3,\) does not broadcast", None),
    ("huber delta", lambda L: L.nn.functional.huber_loss(T(L, X34), T(L, P34), delta=0.0),
     RuntimeError, "delta must be positive, got 0.0", None),
    ("smooth_l1 beta", lambda L: L.nn.functional.smooth_l1_loss(T(L, X34), T(L, P34), beta=-1.0),
     RuntimeError, "beta must not be negative, got -1.0", None),
    ("multi_margin p", lambda L: L.nn.functional.multi_margin_loss(T(L, X34), T(L, [0, 1, 2]), p=3),
     ValueError, "only p == 1 and p == 2 supported, got 3", None),
    ("multi_margin class", lambda L: L.nn.functional.multi_margin_loss(T(L, X34), T(L, [0, 1, 4])),
     RuntimeError, r"targets must lie in \[0, 3\] for 4 classes; got 4", None),
    ("multi_margin weight", lambda L: L.nn.functional.multi_margin_loss(T(L, X34), T(L, [0, 1, 2]),
                                                                       weight=T(L, np.ones(3))),
     RuntimeError, r"weight must hold one value per class, shape \(4,\); got shape \(3,\)", None),
    ("multilabel_margin class", lambda L: L.nn.functional.multilabel_margin_loss(T(L, X34[0]), T(L, [0, 5, -1, 2])),
     RuntimeError, r"target values must lie in \[-1, 3\] for 4 classes \(-1 ends the list\); got 5", None),
    ("gaussian negative var", lambda L: L.nn.functional.gaussian_nll_loss(T(L, X34), T(L, P34), T(L, -P34)),
     ValueError, "var has negative entries", None),
    ("gaussian var shape", lambda L: L.nn.functional.gaussian_nll_loss(T(L, X34), T(L, P34), T(L, np.ones(4))),
     ValueError, r"var of shape \(4,\) fits neither the input's shape \(3, 4\)", None),
    ("margin ranking dims", lambda L: L.nn.functional.margin_ranking_loss(T(L, X34), T(L, X34[0]), T(L, np.ones(4))),
     RuntimeError, "must have the same number of dims", None),
    ("triplet dims", lambda L: L.nn.functional.triplet_margin_loss(T(L, X34), T(L, X34[0]), T(L, X34[1])),
     RuntimeError, "must have the same number of dims", None),
    ("cosine target", lambda L: L.nn.functional.cosine_embedding_loss(T(L, X34), T(L, X34[0]), T(L, [1, -1, 1])),
     RuntimeError, r"expected inputs \(N, D\) and targets \(N,\)", None),
]


@pytest.mark.parametrize("label, call, error, pattern, torch_error", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_fault_with_pytorchs_exception_class(label, call, error, pattern, torch_error):
    with pytest.raises(error, match=pattern):
        call(mg)
    if torch is not None:
        with pytest.raises(torch_error or error):
            call(torch)


def test_regression_losses_broadcast_a_target_of_another_shape_with_pytorchs_warning():
    for fn in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"):
        with pytest.warns(UserWarning, match=r"target size \(\(4,\)\) that is different to the input size"):
            got = getattr(F, fn)(mg.tensor(X34), mg.tensor(P34[0]))
        if torch is not None:
            with pytest.warns(UserWarning):
                want = getattr(torch.nn.functional, fn)(torch.from_numpy(X34), torch.from_numpy(P34[0]))
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_where_minigrad_refuses_what_pytorch_accepts():
    """An unbatched input (C,) with a target of shape (1,) (PyTorch takes it)."""
    with pytest.raises(ValueError, match=r"unbatched logits \(C,\) with a 0-d target; got input \(4,\) and targets"):
        F.cross_entropy(mg.tensor(X34[0]), np.array([1]))
    assert F.cross_entropy(mg.tensor(X34[0]), np.array(1)).shape == ()


LAYOUTS = {"2-d": ((4, 5), (4,)), "4-d": ((3, 5, 2, 3), (3, 2, 3)), "unbatched": ((5,), ())}
COMBINATIONS = [(fn, layout, reduction, weighted, ignore, smoothing)
                for fn in ("cross_entropy", "nll_loss") for layout in LAYOUTS for reduction in ("mean", "sum", "none")
                for weighted in (False, True) for ignore in (None, 2) for smoothing in (0.0, 0.2)
                if fn == "cross_entropy" or not smoothing]


@needs_torch
@pytest.mark.parametrize("fn, layout, reduction, weighted, ignore, smoothing", COMBINATIONS,
                         ids=["-".join(map(str, c)) for c in COMBINATIONS])
def test_every_combination_of_class_options_matches_pytorch(fn, layout, reduction, weighted, ignore, smoothing):
    """weight x ignore_index x label_smoothing x reduction x layout: the loss, its gradient and a second derivative
    (along a random direction) equal PyTorch's."""
    rng = np.random.default_rng(len(fn) + 7 * list(LAYOUTS).index(layout))
    shape, target_shape = LAYOUTS[layout]
    x, t = rng.standard_normal(shape), rng.integers(0, 5, target_shape)
    if ignore is not None:
        t = np.where(rng.random(target_shape) < 0.4, ignore, t)
        t.flat[0] = 0  # at least one target counts
    kwargs = {"reduction": reduction, **({"ignore_index": ignore} if ignore is not None else {}),
              **({"label_smoothing": smoothing} if smoothing else {})}
    w, upstream, direction = rng.uniform(0.5, 2, 5), rng.standard_normal(shape[:1] + shape[2:] if shape[1:] else ()), \
        rng.standard_normal(shape)
    results = []
    for lib in (mg, torch):
        grad = mg.grad if lib is mg else torch.autograd.grad
        xs = lib.tensor(x, requires_grad=True)
        loss = getattr(lib.nn.functional, fn)(xs, T(lib, t), weight=T(lib, w) if weighted else None, **kwargs)
        g = T(lib, upstream if reduction == "none" else np.array(1.0))
        dx, = grad(loss, xs, g, create_graph=True)
        second = grad((dx * T(lib, direction)).sum(), xs, allow_unused=True)[0] if dx.requires_grad else None
        results.append([loss.detach().numpy(), dx.detach().numpy(),
                        np.zeros(shape) if second is None else second.detach().numpy()])
    for ours, theirs, what in zip(*results, ("loss", "gradient", "second derivative")):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=what)


@needs_torch
@pytest.mark.parametrize("layout", ["2-d", "4-d", "unbatched"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_every_combination_of_probability_targets_matches_pytorch(layout, reduction):
    """Class probabilities with and without weight and label smoothing: the loss and the gradients of the logits,
    the targets and the weight equal PyTorch's."""
    rng = np.random.default_rng(3)
    shape = LAYOUTS[layout][0]
    x, p, w = rng.standard_normal(shape), rng.random(shape), rng.uniform(0.5, 2, 5)
    upstream = rng.standard_normal(shape[:1] + shape[2:] if shape[1:] else ())
    for weighted in (False, True):
        for smoothing in (0.0, 0.3):
            results = []
            for lib in (mg, torch):
                xs = [lib.tensor(a, requires_grad=True) for a in ((x, p, w) if weighted else (x, p))]
                loss = lib.nn.functional.cross_entropy(xs[0], xs[1], weight=xs[2] if weighted else None,
                                                       reduction=reduction, label_smoothing=smoothing)
                g = T(lib, upstream if reduction == "none" else np.array(1.0))
                grads = (mg.grad if lib is mg else torch.autograd.grad)(loss, xs, g)
                results.append([loss.detach().numpy()] + [d.detach().numpy() for d in grads])
            for ours, theirs in zip(*results):
                np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


WEIGHTED = [  # losses whose weights PyTorch does not differentiate: call(lib, weight)
    ("cross_entropy", lambda L, w: L.nn.functional.cross_entropy(T(L, X34), T(L, CLS), weight=w)),
    ("nll_loss", lambda L, w: L.nn.functional.nll_loss(T(L, X34), T(L, CLS), weight=w)),
    ("binary_cross_entropy", lambda L, w: L.nn.functional.binary_cross_entropy(T(L, P34), T(L, P34), weight=w)),
    ("binary_cross_entropy_with_logits",
     lambda L, w: L.nn.functional.binary_cross_entropy_with_logits(T(L, X34), T(L, P34), weight=w)),
    ("binary_cross_entropy_with_logits",
     lambda L, w: L.nn.functional.binary_cross_entropy_with_logits(T(L, X34), T(L, P34), pos_weight=w)),
    ("multi_margin_loss", lambda L, w: L.nn.functional.multi_margin_loss(T(L, X34), T(L, CLS), weight=w)),
]


@pytest.mark.parametrize("name, call", WEIGHTED, ids=[f"{w[0]}-{i}" for i, w in enumerate(WEIGHTED)])
def test_weights_pytorch_does_not_differentiate_refuse_requires_grad(name, call):
    with pytest.raises(RuntimeError, match=f"{name}: not differentiable with respect to (pos_)?weight"):
        call(mg, mg.tensor(np.ones(4), requires_grad=True))
    if torch is not None:
        with pytest.raises(RuntimeError, match="not differentiable"):
            call(torch, torch.ones(4, dtype=torch.float64, requires_grad=True))


@needs_torch
def test_probability_targets_differentiate_the_weight_as_pytorch():
    """For class probabilities PyTorch differentiates weight (and the targets): first and second derivatives."""
    x, p, w = RNG.standard_normal((4, 3, 2)), RNG.random((4, 3, 2)), RNG.uniform(0.5, 2, 3)
    g2 = RNG.standard_normal(3)
    for lib in (mg, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in (x, p, w)]
        loss = lib.nn.functional.cross_entropy(xs[0], xs[1], weight=xs[2], label_smoothing=0.3)
        grads = (mg.grad if lib is mg else torch.autograd.grad)(loss, xs, create_graph=True)
        second = (mg.grad if lib is mg else torch.autograd.grad)((grads[2] * lib.tensor(g2)).sum(), xs[:2])
        values = [t.detach().numpy() if lib is torch else t.numpy() for t in (loss, *grads, *second)]
        if lib is mg:
            ours = values
    for a, b in zip(ours, values):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_probability_targets_two_executions_agree_bit_for_bit_with_a_weight_gradient():
    x, p, w = (RNG.standard_normal((4, 5)).astype(np.float32), RNG.random((4, 5)).astype(np.float32),
               RNG.uniform(0.5, 2, 5).astype(np.float32))
    results = []
    for create_graph in (False, True):
        xs = [mg.tensor(a, requires_grad=True) for a in (x, p, w)]
        loss = F.cross_entropy(xs[0], xs[1], weight=xs[2], reduction="none", label_smoothing=0.1)
        grads = mg.grad(loss, xs, mg.tensor(np.linspace(-1, 1, 4).astype(np.float32)), create_graph=create_graph)
        results.append([g.numpy().tobytes() for g in grads])
    assert results[0] == results[1]


@pytest.mark.parametrize("fn, extra", [(F.cross_entropy, {}), (F.cross_entropy, {"label_smoothing": 0.1}),
                                       (F.nll_loss, {})])
def test_class_losses_are_one_op_with_their_declared_cost(fn, extra):
    """The speed issue (10): no chain of log_softmax, gather and mean, one op whose cost the tracer counts (5 FLOPs
    per logit for cross-entropy: max, subtract, exp, sum, divide; 1 per target)."""
    x = mg.tensor(RNG.standard_normal((8, 10, 3)), requires_grad=True)
    t = RNG.integers(0, 10, (8, 3))
    with mg.trace() as tr:
        fn(x, t, **extra).backward()
    forward = [r.name for r in tr.records if r.phase == "forward"]
    assert forward == [fn.__name__]
    per_logit = 5 if fn is F.cross_entropy else 0
    assert tr.flops("forward") == per_logit * 8 * 10 * 3 + 8 * 3
    assert x.grad.shape == x.shape


def test_ignore_index_may_lie_outside_the_classes_and_uint8_targets_work():
    """Segmentation masks mark 'void' with 255 (outside the classes) and often come as uint8."""
    x = RNG.standard_normal((2, 3, 4, 4))
    t = RNG.integers(0, 3, (2, 4, 4)).astype(np.uint8)
    t[0, :2] = 255
    keep = t != 255
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    picked = np.take_along_axis(logp, np.where(keep, t, 0).astype(np.int64)[:, None], 1)[:, 0]
    want = -(picked * keep).sum() / keep.sum()
    got = F.cross_entropy(mg.tensor(x), t, ignore_index=255)
    np.testing.assert_allclose(got.item(), want, rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(mg.tensor(x), t.astype(np.int64), ignore_index=255).item(), want,
                               rtol=1e-12)


def test_all_targets_ignored_gives_nan_and_a_zero_gradient_as_pytorch():
    x = mg.tensor(X34, requires_grad=True)
    for fn in (F.cross_entropy, F.nll_loss):
        loss = fn(x, np.full(3, -100))
        assert np.isnan(loss.item())
        g, = mg.grad(loss, x)
        assert not np.any(g.numpy())


def test_cross_entropy_is_stable_for_huge_and_masked_logits():
    x = mg.tensor(np.array([[1e4, 0.0, -np.inf], [-1e4, 1e4, -np.inf]], np.float32), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, 1]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1e4, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, -1, 0], [0, 0, 0]])
    assert F.cross_entropy(x, np.array([2, -100]), reduction="none").numpy()[0] == np.inf  # the masked class


def test_float16_keeps_its_dtype_and_computes_in_float32():
    x, t = RNG.standard_normal((6, 5)), RNG.integers(0, 5, 6)
    half = mg.tensor(x.astype(np.float16), requires_grad=True)
    loss = F.cross_entropy(half, t, label_smoothing=0.1)
    assert loss.dtype == np.float16
    want = F.cross_entropy(mg.tensor(x.astype(np.float16).astype(np.float32)), t, label_smoothing=0.1).item()
    assert abs(loss.item() - want) < 2e-3
    loss.backward()
    assert half.grad.dtype == np.float16


@needs_torch
def test_deprecated_size_average_and_reduce_as_pytorch():
    x, t = RNG.standard_normal((5, 3)), RNG.integers(0, 3, 5)
    for legacy in ({"size_average": False}, {"reduce": False}, {"size_average": True, "reduce": True},
                   {"size_average": False, "reduce": False}):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            ours = F.cross_entropy(mg.tensor(x), t, **legacy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t), **legacy)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning):
        assert nn.MSELoss(reduce=False).reduction == "none"


def test_a_reduction_in_the_old_positional_place_is_a_clear_error():
    """minigrad's losses took reduction third; PyTorch's order puts weight (or size_average) there."""
    with pytest.raises(TypeError, match="cross_entropy: got 'sum' as weight; pass reduction='sum' by keyword"):
        F.cross_entropy(mg.tensor(X34), CLS, "sum")
    with pytest.raises(TypeError, match="mse_loss: got 'none' where PyTorch's order puts size_average or reduce"):
        F.mse_loss(mg.tensor(X34), mg.tensor(P34), "none")
    with pytest.raises(TypeError, match="MSELoss: got 'sum' where PyTorch's order puts size_average"):
        nn.MSELoss("sum")


def test_kl_div_warns_for_mean_as_pytorch():
    x, p = np.log(P34), P34[::-1].copy()
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        mean = F.kl_div(mg.tensor(x), mg.tensor(p))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batchmean = F.kl_div(mg.tensor(x), mg.tensor(p), reduction="batchmean")
    np.testing.assert_allclose(batchmean.item(), mean.item() * 4, rtol=1e-12)
    np.testing.assert_allclose(batchmean.item(), (p * (np.log(p) - x)).sum() / 3, rtol=1e-12)


# ---- modules ---------------------------------------------------------------------------------------------
SIGNS = np.where(RNG.random(3) < 0.5, -1.0, 1.0)
MODULES = [  # (class name, constructor kwargs (arrays become tensors), inputs)
    ("CrossEntropyLoss", {"weight": W4, "ignore_index": 1, "label_smoothing": 0.2}, (X34, CLS)),
    ("CrossEntropyLoss", {"reduction": "none"}, (X34, P34)),
    ("NLLLoss", {"weight": W4, "reduction": "sum"}, (X34, CLS)),
    ("BCELoss", {"weight": W4}, (P34, P34[::-1].copy())),
    ("BCEWithLogitsLoss", {"pos_weight": W4, "reduction": "sum"}, (X34, P34)),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, (X34, X34[::-1].copy())),
    ("MSELoss", {}, (X34, P34)),
    ("L1Loss", {"reduction": "sum"}, (X34, P34)),
    ("HuberLoss", {"delta": 0.5}, (X34, P34)),
    ("SmoothL1Loss", {"beta": 0.5}, (X34, P34)),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, (P34, 3 * P34[::-1])),
    ("GaussianNLLLoss", {"full": True}, (X34, P34, P34[::-1].copy())),
    ("SoftMarginLoss", {}, (X34, np.sign(X34[::-1]))),
    ("MultiLabelSoftMarginLoss", {"weight": W4}, (X34, (P34 > 0.5).astype(float))),
    ("MarginRankingLoss", {"margin": 0.2}, (X34[0], X34[1], np.sign(X34[2]))),
    ("HingeEmbeddingLoss", {"margin": 2.0}, (X34, np.sign(X34[::-1]))),
    ("CosineEmbeddingLoss", {"margin": 0.1}, (X34, X34[::-1].copy(), SIGNS)),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": W4}, (X34, CLS)),
    ("MultiLabelMarginLoss", {}, (X34, np.array([[3, 0, -1, 1], [1, -1, 2, 2], [0, 1, 2, 3]]))),
    ("TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True}, (X34, X34[::-1].copy(), P34)),
]


@needs_torch
@pytest.mark.parametrize("name, kwargs, inputs", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_pytorchs(name, kwargs, inputs):
    ours = getattr(nn, name)(**{k: mg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
    theirs = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()})
    got = ours(*(mg.tensor(a) for a in inputs))
    want = theirs(*(torch.tensor(a) for a in inputs))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    for key, value in kwargs.items():
        assert key in repr(ours) and (not isinstance(value, np.ndarray) or key in ours.state_dict())


def test_module_repr_shows_what_differs_from_the_defaults():
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1, ignore_index=0)) == \
        "CrossEntropyLoss(reduction='sum', ignore_index=0, label_smoothing=0.1)"
    assert repr(nn.BCEWithLogitsLoss(pos_weight=mg.tensor(np.ones(3, np.float32)))) == \
        "BCEWithLogitsLoss(pos_weight=<float32 of shape (3,)>)"
    assert repr(nn.TripletMarginLoss(margin=2.0, swap=True)) == "TripletMarginLoss(margin=2.0, swap=True)"
    assert repr(nn.SquaredHingeLoss(reduction="none")) == "SquaredHingeLoss(reduction='none')"


def test_module_weights_are_buffers_that_follow_the_dtype_and_the_state_dict():
    loss = nn.CrossEntropyLoss(weight=mg.tensor(W4.astype(np.float32)))
    assert list(loss.state_dict()) == ["weight"] and loss.weight.dtype == np.float32
    loss.double()
    assert loss.weight.dtype == np.float64
    x = mg.tensor(X34, requires_grad=True)
    loss(x, CLS).backward()  # the float64 weight now matches a float64 input
    assert x.grad.dtype == np.float64
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="reduction must be"):
        nn.KLDivLoss(reduction="avg")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
