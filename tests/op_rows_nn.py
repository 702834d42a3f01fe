"""Op-table rows of the layer functions (nn.functional): normalisation, embedding, resampling and padding.

Each row is checked by tests/test_op_table.py against PyTorch (forward, dtype, gradients, second derivatives), finite
differences, and the two executions of the rules. Weights and biases are positional after the input; keyword arguments
go to both libraries unchanged.
"""
import numpy as np

from op_table import OpInfo, fixed, noncontiguous, uniform, well_separated


def F(lib):
    return lib.nn.functional


def _zero_row(r):
    x = uniform(r, (3, 4))
    x[1] = 0.0
    return x


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
                 lambda r: ((_zero_row(r),), {"dim": 1}, "zero-row", False),
                 lambda r: ((uniform(r, (5,)),), {"dim": 0, "eps": 1e-3}, "1-d"))),
    OpInfo("local_response_norm", lambda m, x, **k: F(m).local_response_norm(x, **k),
           fixed(lambda r: ((uniform(r, (2, 5, 4)),), {"size": 3}, "3-d"),
                 lambda r: ((uniform(r, (2, 4, 3, 2)),), {"size": 2, "alpha": 0.5, "beta": 0.6, "k": 2.0}, "4-d"),
                 lambda r: ((uniform(r, (1, 3, 2, 2, 2)),), {"size": 4, "alpha": 0.3}, "5-d"))),
    OpInfo("batch_norm_5d", lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True),
           fixed(lambda r: ((uniform(r, (2, 3, 2, 2, 2)), uniform(r, (3,)), uniform(r, (3,))), {}, "5-d")),
           rtol=1e-6),
]


def _idx(r, high, shape):
    return r.integers(0, high, shape)


def _bag(m, indices, weight, offsets=None, per_sample_weights=None, **k):
    return F(m).embedding_bag(indices, weight, offsets, per_sample_weights=per_sample_weights, **k)


SPARSE = [
    OpInfo("embedding", lambda m, i, w, **k: F(m).embedding(i, w, **k),
           fixed(lambda r: ((_idx(r, 5, (2, 4)), uniform(r, (5, 3))), {}, "2-d-repeats"),
                 lambda r: ((np.array(3), uniform(r, (5, 3))), {}, "0-d"),
                 lambda r: ((np.array([1, 0, 1, 4]), uniform(r, (5, 3))), {"padding_idx": 1}, "padding",
                            False),  # (PyTorch's convention: no gradient to the padding row, not the derivative)
                 lambda r: ((np.array([[1, 0], [1, 1]]), uniform(r, (5, 3))), {"padding_idx": -1,
                                                                             "scale_grad_by_freq": True}, "freq", False),
                 lambda r: ((np.zeros((0, 2), np.int64), uniform(r, (5, 3))), {}, "empty"),
                 lambda r: ((_idx(r, 4, (3,)), noncontiguous(uniform(r, (4, 3)))), {}, "noncontig"))),
    OpInfo("embedding_bag", _bag,
           fixed(lambda r: ((np.array([[1, 2, 1], [4, 0, 3]]), uniform(r, (5, 3))), {"mode": "sum"}, "2-d-sum"),
                 lambda r: ((np.array([1, 2, 4, 3, 4, 0]), uniform(r, (5, 3)), np.array([0, 2, 2])),
                            {"mode": "mean"}, "offsets-mean-empty-bag"),
                 lambda r: ((np.array([1, 2, 4, 3, 4, 0]), uniform(r, (5, 3)), np.array([0, 1, 3, 6])),
                            {"mode": "sum", "include_last_offset": True, "padding_idx": 4}, "last-offset-padding"),
                 lambda r: ((np.array([[1, 2, 0], [3, 3, 3]]), well_separated(r, (5, 3))),
                            {"mode": "max", "padding_idx": 3}, "max-empty-bag"),
                 lambda r: ((np.zeros((0,), np.int64), uniform(r, (5, 3)), np.array([0, 0])), {"mode": "max"},
                            "empty-input"))),
    # PyTorch has no second derivative for per_sample_weights; (its scale_grad_by_freq in embedding_bag divides by
    # other rows' counts, so that option is checked by hand against the documented formula, in test_layers.py)
    OpInfo("embedding_bag_weighted", _bag,
           fixed(lambda r: ((np.array([1, 2, 4, 3]), uniform(r, (5, 3)), np.array([0, 3]), uniform(r, (4,))),
                            {"mode": "sum"}, "offsets"),
                 lambda r: ((np.array([1, 2, 4, 3]), uniform(r, (5, 3)), np.array([0, 1, 4]), uniform(r, (4,))),
                            {"mode": "sum", "include_last_offset": True, "padding_idx": 2}, "last-offset-padding")),
           gradgrad=False),
    OpInfo("one_hot", lambda m, i, **k: F(m).one_hot(i, **k), grad=False,
           samples=fixed(lambda r: ((_idx(r, 4, (2, 3)),), {}, "inferred"),
                         lambda r: ((np.array(2),), {"num_classes": 5}, "0-d"),
                         lambda r: ((np.zeros((0,), np.int64),), {"num_classes": 3}, "empty"))),
]


def _interp(**fixed_kwargs):
    return lambda m, x, **k: F(m).interpolate(x, **fixed_kwargs, **k)


SAMPLING = [
    OpInfo("pad_crop", lambda m, x, **k: F(m).pad(x, **k),
           fixed(lambda r: ((uniform(r, (2, 3, 4)),), {"pad": (-1, 2)}, "crop-and-pad"),
                 lambda r: ((uniform(r, (2, 3, 4)),), {"pad": (1, -2, -1, 0), "value": 0.5}, "two-dims"),
                 lambda r: ((uniform(r, (2, 3, 4)),), {"pad": (-4, 0)}, "to-empty"),
                 lambda r: ((uniform(r, (3, 4)),), {"pad": (0, 0, -1, -1)}, "crop-only"))),
    OpInfo("pad_modes_crop", lambda m, x, **k: F(m).pad(x, **k),
           fixed(lambda r: ((uniform(r, (1, 2, 5)),), {"pad": (-1, 2), "mode": "reflect"}, "reflect"),
                 lambda r: ((uniform(r, (1, 2, 4, 5)),), {"pad": (2, -1, -2, 1), "mode": "replicate"}, "replicate"),
                 lambda r: ((uniform(r, (1, 2, 5)),), {"pad": (-1, 3), "mode": "circular"}, "circular"),
                 lambda r: ((uniform(r, (1, 2, 4)),), {"pad": (1, -3), "mode": "reflect"}, "reflect-past-crop"),
                 lambda r: ((uniform(r, (1, 1, 3, 4, 2)),), {"pad": (1, 1, -1, 2, 0, 1), "mode": "circular"},
                            "circular-3d"))),
    OpInfo("interpolate_nearest", _interp(),
           fixed(lambda r: ((uniform(r, (2, 2, 5)),), {"scale_factor": 1.7}, "1d-scale"),
                 lambda r: ((uniform(r, (1, 2, 3, 4)),), {"size": (5, 7)}, "2d-size"),
                 lambda r: ((uniform(r, (1, 2, 6, 5)),), {"scale_factor": (0.5, 1.1)}, "2d-down-same"),
                 lambda r: ((uniform(r, (1, 1, 2, 3, 2)),), {"scale_factor": 2}, "3d"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4)))[None],), {"size": 6, "mode": "nearest-exact"},
                            "exact-noncontig"),
                 lambda r: ((uniform(r, (0, 2, 3)),), {"size": 4}, "empty-batch"))),
    OpInfo("interpolate_linear", _interp(),
           fixed(lambda r: ((uniform(r, (2, 2, 5)),), {"scale_factor": 1.7, "mode": "linear"}, "1d"),
                 lambda r: ((uniform(r, (2, 2, 5)),), {"size": 8, "mode": "linear", "align_corners": True}, "corners"),
                 lambda r: ((uniform(r, (1, 2, 4, 5)),), {"size": (7, 3), "mode": "bilinear"}, "bilinear"),
                 lambda r: ((uniform(r, (1, 2, 6, 5)),), {"scale_factor": 0.6, "mode": "bilinear",
                                                          "recompute_scale_factor": True}, "bilinear-down"),
                 lambda r: ((uniform(r, (1, 1, 2, 3, 4)),), {"scale_factor": (1.5, 2.0, 0.8), "mode": "trilinear"},
                            "trilinear"))),
    OpInfo("interpolate_bicubic", _interp(mode="bicubic"),
           fixed(lambda r: ((uniform(r, (1, 2, 4, 5)),), {"size": (7, 9)}, "up"),
                 lambda r: ((uniform(r, (1, 1, 6, 5)),), {"scale_factor": 0.7, "align_corners": True}, "down-corners"),
                 lambda r: ((uniform(r, (2, 1, 3, 3)),), {"scale_factor": 2.5}, "border"))),
    OpInfo("interpolate_area", _interp(mode="area"),
           fixed(lambda r: ((uniform(r, (2, 2, 7)),), {"size": 3}, "1d"),
                 lambda r: ((uniform(r, (1, 2, 5, 6)),), {"size": (2, 4)}, "2d-overlapping"),
                 lambda r: ((uniform(r, (1, 1, 4, 4, 3)),), {"scale_factor": 0.5}, "3d"))),
    OpInfo("pixel_shuffle", lambda m, x, **k: F(m).pixel_shuffle(x, **k),
           fixed(lambda r: ((uniform(r, (2, 8, 2, 3)),), {"upscale_factor": 2}, "4-d"),
                 lambda r: ((uniform(r, (9, 2, 2)),), {"upscale_factor": 3}, "3-d"),
                 lambda r: ((uniform(r, (2, 1, 4, 1, 2)),), {"upscale_factor": 2}, "5-d"))),
    OpInfo("pixel_unshuffle", lambda m, x, **k: F(m).pixel_unshuffle(x, **k),
           fixed(lambda r: ((uniform(r, (2, 2, 4, 6)),), {"downscale_factor": 2}, "4-d"),
                 lambda r: ((noncontiguous(uniform(r, (6, 3)))[None],), {"downscale_factor": 3}, "3-d-noncontig"))),
]

OPS = NORM + SPARSE + SAMPLING
