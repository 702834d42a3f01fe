"""Op-table rows of the distance functions (nn.functional.distance: cosine_similarity, pairwise_distance), checked
by tests/test_op_table.py against PyTorch (forward and dtype in float64 and float32, gradients and second derivatives
in float64), finite differences, and the two executions of the rules.

Samples cover broadcasting (dim indexing the broadcast shape), 0-d, empty, keepdim, non-contiguous inputs, every kind
of p (1, 2, 3, 0.5, inf, -inf, 0, negative), and the places where eps enters: a zero vector and a vector whose norm is
below eps for cosine_similarity (PyTorch's clamp is invisible to autograd, so finite differences do not apply there:
smooth=False, checked against PyTorch only), equal inputs for pairwise_distance (the difference is eps alone; with
eps=0 the 2-norm's gradient at 0 is PyTorch's 0; both are within a finite-difference step of the kink, so smooth=False).
"""
import numpy as np

from op_table import OpInfo, fixed, noncontiguous, uniform


def F(lib):
    return lib.nn.functional


def _cos(m, a, b, **k):
    return F(m).cosine_similarity(a, b, **k)


def _dist(m, a, b, **k):
    return F(m).pairwise_distance(a, b, **k)


def _zero_row(r, shape=(3, 4)):
    x = uniform(r, shape)
    x[1] = 0.0
    return x


def _tiny_row(r, shape=(3, 4)):
    x = uniform(r, shape)
    x[0] = x[0] * 1e-3  # norm ~ 2e-3, below eps = 0.1: clamped
    return x


def _away(r, shape, gap=0.3):
    """Entries at least `gap` from 0 (|x - y| for the p < 1 and negative-p norms, whose gradients blow up at 0)."""
    return uniform(r, shape, away=(0.0,)) + np.where(uniform(r, shape) > 0, gap, -gap)


OPS = [
    OpInfo("cosine_similarity", _cos,
           fixed(lambda r: ((uniform(r, (4, 5)), uniform(r, (4, 5))), {}, "default-dim1"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"dim": 0}, "dim0"),
                 lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (2, 3, 4))), {"dim": -1}, "dim-1"),
                 lambda r: ((uniform(r, (4, 1, 5)), uniform(r, (3, 5))), {"dim": 2}, "broadcast"),
                 lambda r: ((uniform(r, (3, 1)), uniform(r, (3, 4))), {"dim": 1}, "broadcast-along-dim"),
                 lambda r: ((uniform(r, (5,)), uniform(r, (5,))), {"dim": 0}, "1-d"),
                 lambda r: ((uniform(r, ()), uniform(r, ())), {"dim": 0}, "0-d"),
                 lambda r: ((uniform(r, (0, 3)), uniform(r, (0, 3))), {}, "empty-batch"),
                 lambda r: ((uniform(r, (2, 0)), uniform(r, (2, 0))), {}, "empty-dim", False),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (3, 4))), {"dim": 0}, "noncontig"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"eps": 0.0}, "eps0"),
                 lambda r: ((_zero_row(r), uniform(r, (3, 4))), {}, "zero-vector", False),
                 lambda r: ((_tiny_row(r), uniform(r, (3, 4))), {"eps": 0.1}, "norm-below-eps", False),
                 lambda r: ((_tiny_row(r), _tiny_row(r)), {"eps": 0.1}, "both-below-eps", False))),
    OpInfo("pairwise_distance", _dist,
           fixed(lambda r: ((uniform(r, (4, 5)), uniform(r, (4, 5))), {}, "default"),
                 lambda r: ((uniform(r, (4, 5)), uniform(r, (5,))), {}, "broadcast"),
                 lambda r: ((uniform(r, (5,)), uniform(r, (3, 5))), {}, "broadcast-left"),
                 lambda r: ((uniform(r, (2, 1, 5)), uniform(r, (3, 1))), {"keepdim": True}, "broadcast-keepdim"),
                 lambda r: ((uniform(r, (5,)), uniform(r, (5,))), {}, "1-d"),
                 lambda r: ((uniform(r, ()), uniform(r, ())), {}, "0-d"),
                 lambda r: ((uniform(r, ()), uniform(r, ())), {"keepdim": True}, "0-d-keepdim"),
                 lambda r: ((uniform(r, (0, 3)), uniform(r, (0, 3))), {}, "empty"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (3, 4))), {"keepdim": True}, "noncontig"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"eps": 0.25}, "eps"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"p": 1.0}, "p1"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"p": 3}, "p3"),
                 lambda r: ((_away(r, (3, 4)), np.zeros((3, 4))), {"p": 0.5}, "p0.5"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"p": float("inf")}, "inf"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"p": -float("inf")}, "-inf"),
                 lambda r: ((_away(r, (3, 4)), np.zeros((3, 4))), {"p": -1.5}, "negative-p"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (3, 4))), {"p": 0.0}, "p0"),
                 lambda r: ((np.tile(uniform(r, (1, 4)), (3, 1)),) * 2, {}, "equal-inputs", False),
                 lambda r: ((np.tile(uniform(r, (1, 4)), (3, 1)),) * 2, {"eps": 0.0}, "equal-inputs-eps0", False))),
    # cdist: every row of x1 against every row of x2 (batch dims broadcast); PyTorch has no second derivative for it,
    # so the second row checks ours against its composition there (the norm of the differences) and finite differences
    OpInfo("cdist", lambda m, a, b, **k: m.cdist(a, b, **k),
           fixed(lambda r: ((uniform(r, (3, 4)), uniform(r, (5, 4))), {}, "2-d"),
                 lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (2, 2, 4))), {"p": 1.0}, "batched-p1"),
                 lambda r: ((uniform(r, (2, 1, 3, 2)), uniform(r, (4, 2, 2))), {"p": 3.0}, "broadcast-batch-p3"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (2, 4))), {"p": 0.5}, "p0.5"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (2, 4))), {"p": 1.5}, "p1.5"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (2, 4))), {"p": float("inf")}, "inf"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (2, 4))), {"p": 0.0}, "p0"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (4, 2)).T), {}, "noncontig"),
                 lambda r: ((uniform(r, (0, 3)), uniform(r, (2, 3))), {}, "empty-rows"),
                 lambda r: ((uniform(r, (2, 0)), uniform(r, (3, 0))), {"p": float("inf")}, "no-columns"),
                 lambda r: ((uniform(r, (1, 4)), uniform(r, (1, 4))), {"compute_mode": "donot_use_mm_for_euclid_dist"},
                            "compute-mode"),
                 # PyTorch's conventions: 0 at a zero distance; for inf, the whole gradient to each tied entry
                 lambda r: ((np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0], [3.0, -1.0, 0.5]]),
                             np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 1.0]])), {}, "zero-distance", False),
                 lambda r: ((np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]),
                             np.array([[0.0, 1.0, 2.0], [2.0, 2.0, 0.0]])), {"p": 0.5}, "zero-distance-p0.5", False),
                 lambda r: ((np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0], [3.0, -1.0, 0.5]]),
                             np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 0.0]])), {"p": float("inf")}, "inf-ties", False)),
           gradgrad=False),
    OpInfo("cdist_second_derivatives", lambda m, a, b, **k: m.cdist(a, b, **k),
           fixed(lambda r: ((uniform(r, (3, 4)), uniform(r, (2, 4))), {}, "p2"),
                 lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (1, 2, 4))), {"p": 3.0}, "batched-p3"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (2, 4))), {"p": float("inf")}, "inf")),
           torch_fn=lambda t, a, b, p=2.0: t.linalg.vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, dim=-1)),
]
