"""Op-table rows of the losses (nn.functional.loss), checked by tests/test_op_table.py against PyTorch (forward,
dtype, gradients, second derivatives), finite differences, and the two executions of the rules.

Float inputs require grad (so probability targets, variances and +-1 float targets are differentiated too); class
weights and pos_weight travel as NumPy arrays in the keyword arguments and become constant tensors of the input's
dtype (`loss` below), as PyTorch wants them. (The rows named cross_entropy, nll_loss, mse_loss, l1_loss and
bce_with_logits in tests/op_table.py cover the plain calls.)
"""
import sys

import numpy as np

# op_table imports the rows files while it is half built; a rows file imported first adds its rows to the table at its
# end (as tests/op_rows_indexing.py).
_LOADED_FIRST = "op_table" not in sys.modules
OPS = []

from op_table import OpInfo, fixed, noncontiguous, uniform  # noqa: E402

CONSTANTS = ("weight", "pos_weight", "var_const", "target_const")


def loss(name):
    """fn(lib, *inputs, **kwargs) for lib.nn.functional.<name>; the kwargs in CONSTANTS hold arrays, passed as tensors
    of the first input's dtype (var_const as var, target_const as the target, after the inputs)."""
    def fn(lib, *inputs, **kwargs):
        for key in CONSTANTS:
            if kwargs.get(key) is not None:
                kwargs[key] = lib.tensor(kwargs[key], dtype=inputs[0].dtype)
        extra = [kwargs.pop(k) for k in ("target_const", "var_const") if k in kwargs]
        return getattr(lib.nn.functional, name)(*inputs, *extra, **kwargs)
    fn.__name__ = name
    return fn


def _idx(r, high, shape, ignore=None, p=0.3):
    """Class indices below high; a fraction p of them replaced by `ignore` when given."""
    t = r.integers(0, high, shape)
    return t if ignore is None else np.where(r.random(shape) < p, ignore, t)


def _w(r, c):
    return r.uniform(0.5, 2.0, c)


def _probs(r, shape, axis=1):
    p = r.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=axis, keepdims=True)


def _signs(r, shape):
    return np.where(r.random(shape) < 0.5, -1, 1).astype(np.int64)


CLASSES = [
    OpInfo("cross_entropy_weight", loss("cross_entropy"),
           fixed(lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4)), {"weight": _w(r, 5)}, "mean"),
                 lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4)), {"weight": _w(r, 5), "reduction": "sum"}, "sum"),
                 lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4, 2)), {"weight": _w(r, 5), "ignore_index": 2,
                                                                     "reduction": "none"}, "ignore-none"),
                 lambda r: ((uniform(r, (6, 3)), _idx(r, 3, 6, -100)), {"weight": _w(r, 3)}, "ignore-mean"),
                 lambda r: ((uniform(r, (3, 4)), np.full(3, -100)), {}, "all-ignored", False),
                 lambda r: ((uniform(r, (0, 4)), _idx(r, 4, 0)), {"reduction": "sum"}, "empty"),
                 lambda r: ((np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 3.0]]), np.array([1, 1])), {}, "huge"))),
    OpInfo("cross_entropy_kdim", loss("cross_entropy"),
           fixed(lambda r: ((uniform(r, (2, 4, 3, 2)), _idx(r, 4, (2, 3, 2))), {}, "4-d"),
                 lambda r: ((uniform(r, (2, 4, 3)), _idx(r, 4, (2, 3), 1)), {"weight": _w(r, 4), "ignore_index": 1},
                            "weight-ignore"),
                 lambda r: ((uniform(r, (2, 3, 2, 2)), _idx(r, 3, (2, 2, 2))), {"reduction": "none"}, "none"),
                 lambda r: ((uniform(r, (1, 3, 4)).transpose(0, 2, 1), _idx(r, 4, (1, 3))), {"reduction": "sum"},
                            "noncontig"))),
    OpInfo("cross_entropy_smoothing", loss("cross_entropy"),
           fixed(lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4, 0)), {"weight": _w(r, 5), "ignore_index": 0,
                                                                     "label_smoothing": 0.2}, "weight-ignore"),
                 lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4)), {"label_smoothing": 0.3, "reduction": "none"}, "none"),
                 lambda r: ((uniform(r, (2, 4, 3)), _idx(r, 4, (2, 3), -100)), {"weight": _w(r, 4),
                                                                                "label_smoothing": 0.1,
                                                                                "reduction": "sum"}, "kdim-sum"),
                 lambda r: ((uniform(r, (5,)), np.array(3)), {"label_smoothing": 1.0}, "unbatched-full"))),
    OpInfo("cross_entropy_unbatched", loss("cross_entropy"),
           fixed(lambda r: ((uniform(r, (5,)), np.array(2)), {}, "mean"),
                 lambda r: ((uniform(r, (5,)), np.array(0)), {"weight": _w(r, 5), "reduction": "none"}, "none"),
                 lambda r: ((uniform(r, (5,)), np.array(4)), {"ignore_index": 4}, "ignored", False))),
    OpInfo("cross_entropy_probs", loss("cross_entropy"),
           fixed(lambda r: ((uniform(r, (4, 5)), _probs(r, (4, 5))), {}, "mean"),
                 lambda r: ((uniform(r, (4, 5)), _probs(r, (4, 5))), {"weight": _w(r, 5), "reduction": "sum"},
                            "weight"),
                 lambda r: ((uniform(r, (4, 5)), r.random((4, 5))), {"weight": _w(r, 5), "label_smoothing": 0.2},
                            "weight-smoothing"),
                 lambda r: ((uniform(r, (2, 3, 4)), _probs(r, (2, 3, 4))), {"reduction": "none",
                                                                            "label_smoothing": 0.1}, "kdim-none"),
                 lambda r: ((uniform(r, (5,)), _probs(r, (5,), 0)), {"weight": _w(r, 5)}, "unbatched"),
                 lambda r: ((uniform(r, (5,)), _probs(r, (5,), 0)), {"reduction": "none"}, "unbatched-none"))),
    OpInfo("nll_loss_weight", loss("nll_loss"),
           fixed(lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4)), {"weight": _w(r, 5)}, "mean"),
                 lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4, 3)), {"weight": _w(r, 5), "ignore_index": 3,
                                                                     "reduction": "none"}, "ignore-none"),
                 lambda r: ((uniform(r, (2, 4, 3, 2)), _idx(r, 4, (2, 3, 2), -100)), {}, "4-d-ignore"),
                 lambda r: ((uniform(r, (5,)), np.array(1)), {"weight": _w(r, 5)}, "unbatched"),
                 lambda r: ((uniform(r, (3, 4)), np.full(3, 1)), {"ignore_index": 1}, "all-ignored", False),
                 lambda r: ((uniform(r, (0, 4)), _idx(r, 4, 0)), {"reduction": "none"}, "empty"))),
]

BINARY = [
    OpInfo("binary_cross_entropy", loss("binary_cross_entropy"),
           fixed(lambda r: ((uniform(r, (3, 4), 0.05, 0.95), r.random((3, 4))), {}, "mean"),
                 lambda r: ((uniform(r, (3, 4), 0.05, 0.95), r.random((3, 4))), {"weight": _w(r, 4),
                                                                                 "reduction": "sum"}, "weight"),
                 lambda r: ((uniform(r, (2, 3), 0.05, 0.95), r.random((2, 3))), {"weight": _w(r, (2, 1)),
                                                                                 "reduction": "none"}, "weight-column"),
                 lambda r: ((uniform(r, (), 0.05, 0.95), r.random(())), {}, "0-d"),
                 lambda r: ((uniform(r, (0, 2), 0.05, 0.95), r.random((0, 2))), {"reduction": "sum"}, "empty"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4), 0.05, 0.95)), r.random((3, 4))), {}, "noncontig"))),
    # At x = 0 or 1 the log is clamped at -100 and PyTorch's gradient is (x - t) / max(x (1 - x), 1e-12); its second
    # derivative there is a separate formula (with (x + 1e-12)^2), not the derivative of the first: not compared.
    OpInfo("binary_cross_entropy_clamp", loss("binary_cross_entropy"), gradgrad=False,
           samples=fixed(lambda r: ((np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 1.0])),
                                    {"reduction": "none"}, "edges", False))),
    OpInfo("bce_with_logits_weights", loss("binary_cross_entropy_with_logits"),
           fixed(lambda r: ((uniform(r, (3, 4)), r.random((3, 4))), {"pos_weight": _w(r, 4)}, "pos_weight"),
                 lambda r: ((uniform(r, (3, 4)), r.random((3, 4))), {"pos_weight": _w(r, (3, 1)), "weight": _w(r, 4),
                                                                     "reduction": "none"}, "both"),
                 lambda r: ((uniform(r, (2, 3)), r.random((2, 3))), {"weight": _w(r, (2, 3)), "reduction": "sum"},
                            "weight"),
                 lambda r: ((uniform(r, ()), r.random(())), {"pos_weight": _w(r, ())}, "0-d"),
                 lambda r: ((np.array([-1000.0, 1000.0, 0.0, 30.0]), np.array([1.0, 0.0, 1.0, 0.3])),
                            {"pos_weight": np.array([2.0, 0.5, 3.0, 1.0])}, "extreme"))),
    OpInfo("kl_div", loss("kl_div"),
           fixed(lambda r: ((np.log(_probs(r, (3, 4))), _probs(r, (3, 4))), {"reduction": "batchmean"}, "batchmean"),
                 lambda r: ((np.log(_probs(r, (3, 4))), _probs(r, (3, 4))), {"reduction": "sum"}, "sum"),
                 lambda r: ((uniform(r, (3, 4), -3, 0), uniform(r, (4,), -3, 0)), {"reduction": "none",
                                                                                   "log_target": True}, "log-target"),
                 lambda r: ((uniform(r, (2, 3), -3, 0), uniform(r, (3,), 0.1, 1)), {"reduction": "none"}, "broadcast"),
                 lambda r: ((uniform(r, (), -3, 0), uniform(r, (), 0.1, 1)), {"reduction": "batchmean"}, "0-d"),
                 lambda r: ((uniform(r, (2, 3), -3, 0),), {"target_const": np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]),
                                                          "reduction": "batchmean"}, "zero-target"))),
    OpInfo("multilabel_soft_margin_loss", loss("multilabel_soft_margin_loss"),
           fixed(lambda r: ((uniform(r, (3, 4)), r.integers(0, 2, (3, 4)).astype(float)), {}, "mean"),
                 lambda r: ((uniform(r, (3, 4)), r.random((3, 4))), {"weight": _w(r, 4), "reduction": "none"},
                            "weight"),
                 lambda r: ((uniform(r, (4,)), r.random((4,))), {"reduction": "none"}, "1-d"),
                 lambda r: ((uniform(r, (2, 3, 4)), r.random((2, 3, 4))), {"reduction": "sum"}, "3-d"))),
    OpInfo("soft_margin_loss", loss("soft_margin_loss"),
           fixed(lambda r: ((uniform(r, (3, 4)),), {"target_const": _signs(r, (3, 4))}, "mean"),
                 lambda r: ((uniform(r, (3, 4)), _signs(r, (4,))), {"reduction": "none"}, "broadcast-int"),
                 lambda r: ((uniform(r, ()), np.array(-1)), {}, "0-d"),
                 lambda r: ((np.array([30.0, -30.0, 5.0]), np.array([-1, 1, -1])), {"reduction": "sum"}, "large"))),
]

REGRESSION = [
    OpInfo("mse_loss_weight", loss("mse_loss"),
           fixed(lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"weight": _w(r, (3, 4))}, "mean"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"weight": _w(r, (3, 4)), "reduction": "none"},
                            "none"),
                 lambda r: ((uniform(r, ()), uniform(r, ())), {"reduction": "sum"}, "0-d"),
                 lambda r: ((uniform(r, (0, 3)), uniform(r, (0, 3))), {}, "empty"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (3, 4))), {}, "noncontig"))),
    OpInfo("l1_loss_weight", loss("l1_loss"),
           fixed(lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4)) + 3.0), {"weight": _w(r, (3, 4))}, "mean"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4)) + 3.0), {"reduction": "sum"}, "sum"),
                 lambda r: ((np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])), {"reduction": "none"}, "ties",
                            False))),
    OpInfo("huber_loss", loss("huber_loss"),
           fixed(lambda r: ((uniform(r, (3, 4), -3, 3, away=(-1, 1)),), {"target_const": np.zeros((3, 4))}, "mean"),
                 lambda r: ((uniform(r, (3, 4), -3, 3), uniform(r, (3, 4), -3, 3)), {"delta": 0.5, "reduction": "none"},
                            "delta"),
                 lambda r: ((uniform(r, (3, 4), -3, 3), uniform(r, (3, 4), -3, 3)),
                            {"delta": 2.0, "weight": _w(r, (3, 4))}, "weight"),
                 lambda r: ((uniform(r, (), -3, 3), uniform(r, (), -3, 3)), {"reduction": "sum"}, "0-d"))),
    OpInfo("smooth_l1_loss", loss("smooth_l1_loss"),
           fixed(lambda r: ((uniform(r, (3, 4), -3, 3), uniform(r, (3, 4), -3, 3)), {}, "mean"),
                 lambda r: ((uniform(r, (3, 4), -3, 3), uniform(r, (3, 4), -3, 3)), {"beta": 0.5, "reduction": "none"},
                            "beta"),
                 lambda r: ((uniform(r, (3, 4), -3, 3), uniform(r, (3, 4), -3, 3)), {"beta": 0.0, "reduction": "sum"},
                            "beta=0"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4), -3, 3)), uniform(r, (3, 4), -3, 3)), {"beta": 2.0},
                            "noncontig"))),
    OpInfo("poisson_nll_loss", loss("poisson_nll_loss"),
           fixed(lambda r: ((uniform(r, (3, 4)), r.integers(0, 5, (3, 4)).astype(float)), {}, "log-input"),
                 lambda r: ((uniform(r, (3, 4), 0.2, 3.0), uniform(r, (3, 4), 0.1, 4.0)), {"log_input": False,
                                                                                          "reduction": "none"}, "rate"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4), 0.1, 5.0)), {"full": True, "reduction": "sum"},
                            "full"),
                 lambda r: ((uniform(r, (3, 4), 0.2, 3.0), uniform(r, (4,), 0.1, 5.0)),
                            {"full": True, "log_input": False, "eps": 0.5}, "broadcast"))),
    OpInfo("gaussian_nll_loss", loss("gaussian_nll_loss"),
           fixed(lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4)), uniform(r, (3, 4), 0.2, 2.0)), {}, "hetero"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4)), uniform(r, (3,), 0.2, 2.0)), {"full": True,
                                                                                                 "reduction": "none"},
                            "per-sample"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (4,)), uniform(r, (3, 1), 0.2, 2.0)), {"reduction": "sum"},
                            "column"),
                 lambda r: ((uniform(r, (2, 3)), uniform(r, (2, 3)), np.array([[0.5, 1e-8, 1.0], [2.0, 0.3, 1e-9]])),
                            {"eps": 1e-3}, "clamped", False),
                 lambda r: ((uniform(r, (2, 3)), uniform(r, (2, 3))), {"var_const": np.full((2, 3), 0.7)},
                            "constant"))),
]

MARGIN = [
    OpInfo("margin_ranking_loss", loss("margin_ranking_loss"),
           fixed(lambda r: ((uniform(r, (5,)), uniform(r, (5,)), _signs(r, (5,)).astype(float)), {"margin": 0.3},
                            "1-d"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4)), _signs(r, (3, 4))), {"reduction": "none"},
                            "2-d-int"),
                 lambda r: ((uniform(r, ()), uniform(r, ()), np.array(1.0)), {"margin": 5.0}, "0-d"),
                 lambda r: ((np.array([1.0, 2.0]), np.array([1.0, 0.5]), np.array([1.0, -1.0])),
                            {"margin": 0.0, "reduction": "sum"}, "kink", False))),
    OpInfo("hinge_embedding_loss", loss("hinge_embedding_loss"),
           fixed(lambda r: ((uniform(r, (3, 4), away=(1.0,)), _signs(r, (3, 4))), {}, "mean"),
                 lambda r: ((uniform(r, (3, 4), away=(0.5,)), _signs(r, (4,))), {"margin": 0.5, "reduction": "none"},
                            "broadcast"),
                 lambda r: ((uniform(r, (4,), away=(1.0,)), np.array([2, 1, -1, 0])), {"reduction": "sum"},
                            "other-targets"))),
    OpInfo("cosine_embedding_loss", loss("cosine_embedding_loss"),
           fixed(lambda r: ((uniform(r, (4, 3)), uniform(r, (4, 3)), _signs(r, (4,))), {"margin": -0.5}, "mean"),
                 lambda r: ((uniform(r, (4, 3)), uniform(r, (4, 3)), np.array([1, -1, 0, -1])), {"reduction": "none"},
                            "none"),
                 lambda r: ((uniform(r, (3,)), uniform(r, (3,)), np.array(1)), {}, "1-d"))),
    OpInfo("multi_margin_loss", loss("multi_margin_loss"), gradgrad=False,  # PyTorch has no double backward
           samples=fixed(lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4)), {}, "p=1"),
                         lambda r: ((uniform(r, (4, 5)), _idx(r, 5, 4)), {"p": 2, "margin": 0.5, "weight": _w(r, 5),
                                                                          "reduction": "none"}, "p=2-weight"),
                         lambda r: ((uniform(r, (5,)), np.array(3)), {"reduction": "none"}, "1-d"),
                         lambda r: ((uniform(r, (5,)), np.array([3])), {"weight": _w(r, 5)}, "1-d-target-1"))),
    OpInfo("multilabel_margin_loss", loss("multilabel_margin_loss"), gradgrad=False,  # PyTorch has no double backward
           samples=fixed(lambda r: ((uniform(r, (3, 4)), np.array([[0, 2, -1, 1], [3, -1, 0, 0], [-1, 0, 0, 0]])),
                                    {"reduction": "none"}, "2-d"),
                         lambda r: ((uniform(r, (4,)), np.array([1, 1, 3, -1])), {}, "1-d-repeat"),
                         lambda r: ((uniform(r, (2, 3)), np.array([[0, 1, 2], [2, -1, 1]])), {"reduction": "sum"},
                                    "all-targets"))),
    OpInfo("triplet_margin_loss", loss("triplet_margin_loss"),
           fixed(lambda r: ((uniform(r, (4, 3)), uniform(r, (4, 3)), uniform(r, (4, 3))), {"margin": 2.0}, "p=2"),
                 lambda r: ((uniform(r, (4, 3)), uniform(r, (4, 3)), uniform(r, (4, 3))), {"p": 1, "margin": 3.0,
                                                                                           "reduction": "none"}, "p=1"),
                 lambda r: ((uniform(r, (4, 3)), uniform(r, (4, 3)), uniform(r, (4, 3))), {"p": 3.0, "swap": True,
                                                                                           "margin": 3.0}, "swap-p=3"),
                 lambda r: ((uniform(r, (3,)), uniform(r, (3,)), uniform(r, (3,))), {"margin": 5.0}, "1-d"),
                 lambda r: ((uniform(r, (2, 2, 3)), uniform(r, (2, 2, 3)), uniform(r, (1, 2, 3))),
                            {"margin": 4.0, "eps": 0.1, "reduction": "sum"}, "broadcast"))),
]

OPS = CLASSES + BINARY + REGRESSION + MARGIN
if _LOADED_FIRST:
    sys.modules["op_table"].OPS.extend(OPS)
