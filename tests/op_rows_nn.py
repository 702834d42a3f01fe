"""Op-table rows of the layer functions (nn.functional): normalisation, embedding, resampling and padding.

Each row is checked by tests/test_op_table.py against PyTorch (forward, dtype, gradients, second derivatives), finite
differences, and the two executions of the rules. Weights and biases are positional after the input; keyword arguments
go to both libraries unchanged.
"""
import numpy as np

from op_table import OpInfo, fixed, noncontiguous, uniform, well_separated


def F(lib):
    return lib.nn.functional


def _shaped(name):
    """fn for F.<name>(x, normalized_shape, *params, **kwargs), normalized_shape given as the kwarg `shape`."""
    return lambda m, x, *p, **k: getattr(F(m), name)(x, k.pop("shape"), *p, **k)


NORM = [
    OpInfo("layer_norm", _shaped("layer_norm"),
           fixed(lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (4,)), uniform(r, (4,))), {"shape": (4,)}, "last"),
                 lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (3, 4)), uniform(r, (3, 4))), {"shape": (3, 4)}, "two"),
                 lambda r: ((uniform(r, (2, 5)),), {"shape": (5,), "eps": 1e-3}, "no-affine"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (4,))), {"shape": [4]}, "weight-only"),
                 lambda r: ((uniform(r, (5,)), uniform(r, (5,)), uniform(r, (5,))), {"shape": (5,)}, "1-d"),
                 lambda r: ((uniform(r, (0, 4)), uniform(r, (4,)), uniform(r, (4,))), {"shape": (4,)}, "empty"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (4,))), {"shape": (4,)}, "noncontig"))),
    OpInfo("group_norm", lambda m, x, *p, **k: F(m).group_norm(x, k.pop("groups"), *p, **k),
           fixed(lambda r: ((uniform(r, (2, 6, 3)), uniform(r, (6,)), uniform(r, (6,))), {"groups": 2}, "3-d"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (4,)), uniform(r, (4,))), {"groups": 2}, "2-d"),
                 lambda r: ((uniform(r, (2, 4, 2, 3)),), {"groups": 4, "eps": 1e-3}, "per-channel"),
                 lambda r: ((uniform(r, (2, 4, 2, 2, 2)), uniform(r, (4,))), {"groups": 1}, "5-d-one-group"),
                 lambda r: ((uniform(r, (0, 4, 3)), uniform(r, (4,)), uniform(r, (4,))), {"groups": 2}, "empty"))),
    OpInfo("instance_norm", lambda m, x, *p, **k: F(m).instance_norm(x, None, None, *p, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (3,)), uniform(r, (3,))), {}, "1d"),
                 lambda r: ((uniform(r, (2, 3, 2, 3)),), {"eps": 1e-3}, "2d-no-affine"),
                 lambda r: ((uniform(r, (1, 2, 2, 2, 3)), uniform(r, (2,)), uniform(r, (2,))), {}, "3d"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4)))[None], uniform(r, (3,)), uniform(r, (3,))), {},
                            "noncontig"))),
    OpInfo("rms_norm", _shaped("rms_norm"),
           fixed(lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (4,))), {"shape": (4,)}, "last"),
                 lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (3, 4))), {"shape": (3, 4), "eps": 1e-6}, "two"),
                 lambda r: ((uniform(r, (3, 5)),), {"shape": (5,)}, "no-weight"),
                 lambda r: ((uniform(r, (0, 4)), uniform(r, (4,))), {"shape": (4,)}, "empty"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4))), uniform(r, (4,))), {"shape": (4,)}, "noncontig"))),
    OpInfo("normalize", lambda m, x, **k: F(m).normalize(x, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {}, "default"),
                 lambda r: ((uniform(r, (2, 3, 4), away=(0.0,)),), {"p": 1, "dim": -1}, "p=1"),
                 lambda r: ((uniform(r, (3, 4)),), {"p": 3.0, "dim": 0}, "p=3"),
                 lambda r: ((uniform(r, (3, 4), 0.5, 2.0) * np.sign(uniform(r, (3, 4))),), {"p": 0.5, "dim": 1},
                            "p=0.5"),
                 lambda r: ((well_separated(r, (3, 4)),), {"p": float("inf"), "dim": 1}, "p=inf"),
                 lambda r: ((uniform(r, (5,)),), {"dim": 0, "eps": 1e-3}, "1-d"))),
    OpInfo("local_response_norm", lambda m, x, **k: F(m).local_response_norm(x, **k),
           fixed(lambda r: ((uniform(r, (2, 5, 4)),), {"size": 3}, "3-d"),
                 lambda r: ((uniform(r, (2, 4, 3, 2)),), {"size": 2, "alpha": 0.5, "beta": 0.6, "k": 2.0}, "4-d"),
                 lambda r: ((uniform(r, (1, 3, 2, 2, 2)),), {"size": 4, "alpha": 0.3}, "5-d"))),
    OpInfo("batch_norm_5d", lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True),
           fixed(lambda r: ((uniform(r, (2, 3, 2, 2, 2)), uniform(r, (3,)), uniform(r, (3,))), {}, "5-d")),
           rtol=1e-6),
]

OPS = NORM
