"""Op-table rows of the convolution and pooling family (nn.functional): conv1d/2d/3d, conv_transpose1d/2d/3d,
unfold and fold, max/avg/adaptive/LP pooling and max unpooling, over their stride, padding, dilation, groups,
output_padding, ceil_mode, count_include_pad, divisor_override and return_indices forms, unbatched, empty and
non-contiguous inputs.

Each row is checked by tests/test_op_table.py against PyTorch (forward, dtype, gradients, second derivatives),
finite differences, and the two executions of the rules. (conv2d, max_pool2d and avg_pool2d also have their first
rows in tests/op_table.py; the rows here named *_forms add the other forms.)
"""
import numpy as np

from op_table import OpInfo, fixed, noncontiguous, uniform, well_separated


def F(lib):
    return lib.nn.functional


def _fn(name):
    """F.<name>(*tensors, **kwargs) in both libraries."""
    return lambda m, *t, **k: getattr(F(m), name)(*t, **k)


def _conv(r, x, w, bias=True, **kwargs):
    """(x, w[, b]) samples of a convolution; the bias has one entry per output channel (w.shape[0]), or per
    w.shape[1] * groups for a transposed one (`out` in kwargs)."""
    out = kwargs.pop("out", w[0])
    inputs = (uniform(r, x), uniform(r, w)) + ((uniform(r, (out,)),) if bias else ())
    return inputs, kwargs


def conv_rows(name, nd, cases):
    samples = [lambda r, c=c: _conv(r, *c[:2], **c[2]) + (c[3],) for c in cases]
    return OpInfo(name, _fn(name.replace("_forms", "")), fixed(*samples))


CONV = [
    conv_rows("conv1d", 1, [
        ((2, 4, 9), (6, 2, 3), dict(stride=2, padding=2, dilation=2, groups=2), "stride-pad-dilation-groups"),
        ((2, 3, 8), (6, 1, 4), dict(padding="same", groups=3), "depthwise-x2-same-even"),
        ((3, 7), (4, 3, 3), dict(padding=1), "unbatched"),
        ((2, 3, 6), (2, 3, 1), dict(stride=2, bias=False), "1x1-strided-no-bias"),
        ((0, 3, 6), (2, 3, 3), dict(padding="valid"), "empty-batch")]),
    conv_rows("conv2d_forms", 2, [
        ((2, 3, 5, 4), (4, 3, 1, 1), {}, "1x1"),
        ((2, 4, 6, 5), (4, 1, 3, 3), dict(padding=2, dilation=(2, 1), groups=4), "depthwise-dilated"),
        ((2, 4, 6, 5), (8, 2, 2, 3), dict(stride=(2, 1), padding=(1, 0), groups=2), "grouped-strided"),
        ((2, 3, 5, 6), (2, 3, 2, 3), dict(padding="same", bias=False), "same-even-no-bias"),
        ((3, 5, 5), (2, 3, 3, 3), dict(padding=4), "unbatched-wide-padding"),
        ((2, 3, 4, 4), (2, 3, 3, 2), dict(stride=3), "stride-over-kernel")]),
    conv_rows("conv3d", 3, [
        ((2, 2, 4, 5, 4), (3, 2, 2, 3, 2), dict(stride=(1, 2, 1), padding=1, dilation=(1, 1, 2)),
         "stride-pad-dilation"),
        ((1, 4, 3, 4, 3), (4, 2, 2, 2, 2), dict(groups=2, padding="same"), "groups-same"),
        ((2, 3, 3, 4, 4), (3, 1, 3, 3, 1), dict(padding=(1, 1, 0), groups=3), "depthwise"),
        ((2, 4, 3, 3), (2, 2, 1, 2, 2), dict(bias=False), "unbatched")]),
    conv_rows("conv_transpose1d", 1, [
        ((2, 4, 5), (4, 3, 3), dict(stride=3, padding=1, output_padding=2, out=3), "stride-pad-output-padding"),
        ((2, 4, 5), (4, 2, 3), dict(groups=2, dilation=2, out=4), "groups-dilation"),
        ((4, 5), (4, 2, 2), dict(stride=2, out=2), "unbatched"),
        ((2, 4, 4), (4, 1, 3), dict(groups=4, padding=1, out=4), "depthwise-stride-1")]),
    conv_rows("conv_transpose2d", 2, [
        ((2, 4, 3, 4), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1, out=3), "stride-pad-output-padding"),
        ((2, 4, 3, 4), (4, 2, 3, 2), dict(stride=(2, 3), padding=(1, 0), groups=2, dilation=(1, 2), out=4),
         "groups-dilation"),
        ((2, 4, 3, 4), (4, 3, 3, 3), dict(padding=1, out=3), "stride-1"),
        ((2, 4, 3, 4), (4, 1, 3, 3), dict(groups=4, stride=2, out=4), "depthwise-strided"),
        ((2, 4, 3, 3), (4, 2, 3, 3), dict(dilation=2, output_padding=1, padding=3, out=2),
         "output-padding-from-dilation"),
        ((2, 3, 4, 4), (3, 2, 2, 2), dict(stride=2, bias=False), "no-bias")]),
    conv_rows("conv_transpose3d", 3, [
        ((1, 2, 3, 2, 3), (2, 3, 2, 2, 2), dict(stride=2, out=3), "stride"),
        ((2, 4, 2, 3, 2), (4, 1, 3, 2, 2), dict(groups=2, padding=1, output_padding=(0, 1, 1), stride=2, out=2),
         "groups-output-padding"),
        ((2, 2, 2, 3), (2, 2, 2, 1, 2), dict(out=2), "unbatched")]),
]

BLOCKS = [
    OpInfo("unfold", _fn("unfold"),
           fixed(lambda r: ((uniform(r, (2, 3, 5, 4)),), {"kernel_size": (2, 3)}, "basic"),
                 lambda r: ((uniform(r, (2, 2, 5, 6)),), {"kernel_size": 2, "dilation": (1, 2), "padding": 1,
                                                           "stride": (2, 1)}, "dilation-padding-stride"),
                 lambda r: ((uniform(r, (3, 4, 4)),), {"kernel_size": 3, "padding": 1}, "unbatched"),
                 lambda r: ((noncontiguous(uniform(r, (3, 4)))[None, None],), {"kernel_size": 2}, "noncontig"))),
    OpInfo("fold", _fn("fold"),
           fixed(lambda r: ((uniform(r, (2, 12, 4)),), {"output_size": (3, 4), "kernel_size": (2, 3)}, "basic"),
                 lambda r: ((uniform(r, (2, 8, 18)),), {"output_size": (5, 6), "kernel_size": 2, "dilation": (1, 2),
                                                         "padding": 1, "stride": (2, 1)}, "dilation-padding-stride"),
                 lambda r: ((uniform(r, (9, 16)),), {"output_size": 4, "kernel_size": 3, "padding": 1}, "unbatched"))),
]


def _pool(name, *cases, values=uniform):
    """A pooling row: each case (input shape, kwargs, label); max pooling samples well-separated values."""
    samples = [lambda r, c=c: ((values(r, c[0]),), dict(c[1]), c[2]) for c in cases]
    return OpInfo(name, _fn(name.replace("_forms", "")), fixed(*samples))


def _positive(r, shape):
    return uniform(r, shape, 0.3, 2.0)


POOL = [
    _pool("max_pool1d", ((2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
                         "stride-pad-dilation-ceil"),
          ((2, 3, 8), {"kernel_size": 2, "return_indices": True}, "return-indices"),
          ((3, 7), {"kernel_size": 3, "stride": 1}, "unbatched"), values=well_separated),
    _pool("max_pool2d_forms",
          ((2, 2, 7, 6), {"kernel_size": (3, 2), "stride": (2, 1), "padding": 1, "dilation": (1, 2)}, "dilation"),
          ((2, 2, 7, 6), {"kernel_size": 3, "stride": 2, "ceil_mode": True, "return_indices": True},
           "ceil-return-indices"),
          ((3, 5, 5), {"kernel_size": 2}, "unbatched"),
          ((0, 2, 4, 4), {"kernel_size": 2}, "empty-batch"), values=well_separated),
    _pool("max_pool3d", ((2, 2, 5, 4, 5), {"kernel_size": 2, "stride": (1, 2, 2), "padding": 1, "ceil_mode": True},
                         "stride-pad-ceil"),
          ((1, 2, 4, 5, 4), {"kernel_size": (2, 3, 2), "dilation": (2, 1, 1), "return_indices": True},
           "dilation-return-indices"),
          ((2, 3, 4, 3), {"kernel_size": 2, "stride": 1}, "unbatched"), values=well_separated),
    _pool("avg_pool1d", ((2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                                     "count_include_pad": False}, "ceil-exclude-pad"),
          ((2, 3, 8), {"kernel_size": 2, "padding": 1}, "include-pad"),
          ((3, 7), {"kernel_size": 3}, "unbatched")),
    _pool("avg_pool2d_forms",
          ((2, 2, 7, 6), {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1, "ceil_mode": True}, "ceil"),
          ((2, 2, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 5}, "divisor-override"),
          ((3, 5, 5), {"kernel_size": 2, "stride": 1}, "unbatched"),
          ((2, 2, 6, 6), {"kernel_size": 2}, "non-overlapping")),
    _pool("avg_pool3d", ((2, 2, 5, 4, 5), {"kernel_size": 2, "stride": (1, 2, 2), "padding": 1, "ceil_mode": True,
                                           "count_include_pad": False}, "ceil-exclude-pad"),
          ((1, 2, 4, 5, 4), {"kernel_size": (2, 3, 2), "divisor_override": 3}, "divisor-override"),
          ((2, 3, 4, 3), {"kernel_size": 2, "stride": 1}, "unbatched")),
    _pool("adaptive_avg_pool1d", ((2, 3, 7), {"output_size": 3}, "uneven"), ((2, 3, 5), {"output_size": 8}, "overlap"),
          ((3, 6), {"output_size": 2}, "unbatched-divisible")),
    _pool("adaptive_avg_pool2d", ((2, 3, 7, 6), {"output_size": (3, 4)}, "uneven"),
          ((2, 3, 5, 9), {"output_size": (None, 4)}, "none-entry"), ((2, 3, 6, 6), {"output_size": 1}, "global"),
          ((3, 3, 4), {"output_size": (5, 3)}, "unbatched-overlap")),
    _pool("adaptive_avg_pool3d", ((1, 2, 5, 4, 6), {"output_size": (2, 3, 4)}, "uneven"),
          ((2, 2, 3, 4, 2), {"output_size": (5, 1, 3)}, "overlap"), ((2, 4, 4, 4), {"output_size": 2}, "unbatched")),
    _pool("adaptive_max_pool1d", ((2, 3, 7), {"output_size": 3, "return_indices": True}, "uneven-indices"),
          ((2, 3, 5), {"output_size": 8}, "overlap"), ((3, 6), {"output_size": 2}, "unbatched"),
          values=well_separated),
    _pool("adaptive_max_pool2d", ((2, 3, 7, 6), {"output_size": (3, 4), "return_indices": True}, "uneven-indices"),
          ((2, 3, 5, 9), {"output_size": (None, 4)}, "none-entry"), ((3, 4, 4), {"output_size": 2}, "unbatched"),
          values=well_separated),
    _pool("adaptive_max_pool3d", ((1, 2, 5, 4, 6), {"output_size": (2, 3, 4), "return_indices": True}, "indices"),
          ((2, 2, 3, 4, 2), {"output_size": (5, 1, 3)}, "overlap"), ((2, 4, 4, 4), {"output_size": 2}, "unbatched"),
          values=well_separated),
    _pool("lp_pool1d", ((2, 3, 9), {"norm_type": 2.0, "kernel_size": 3, "stride": 2}, "p2"),
          ((2, 3, 8), {"norm_type": 3.0, "kernel_size": 2, "ceil_mode": True}, "p3-ceil"),
          ((3, 7), {"norm_type": 1.5, "kernel_size": 3}, "unbatched"), values=_positive),
    _pool("lp_pool2d", ((2, 2, 6, 5), {"norm_type": 2.0, "kernel_size": (2, 3), "stride": 1}, "p2"),
          ((2, 2, 5, 5), {"norm_type": 3.0, "kernel_size": 2, "ceil_mode": True}, "p3-ceil"),
          ((3, 4, 4), {"norm_type": 1.5, "kernel_size": 2}, "unbatched"), values=_positive),
    _pool("lp_pool3d", ((1, 2, 4, 4, 4), {"norm_type": 2.0, "kernel_size": 2}, "p2"),
          ((2, 2, 3, 4, 3), {"norm_type": 3.0, "kernel_size": (2, 2, 1), "stride": 1}, "p3"),
          ((1, 2, 3, 3, 3), {"norm_type": 2.0, "kernel_size": 2, "ceil_mode": True}, "ceil"), values=_positive),
]


def _unpool(r, pooled, kernel, **kwargs):
    """(x, indices) for max_unpool: x of the pooled shape, and for each window a random tap of it, as the flat index
    into the unpooled plane (kernel = stride: no index twice)."""
    sizes = pooled[2:]
    taps = [r.integers(0, kernel, pooled) + np.arange(o).reshape((-1,) + (1,) * (len(sizes) - 1 - d)) * kernel
            for d, o in enumerate(sizes)]
    flat = 0
    for tap, o in zip(taps, sizes):
        flat = flat * (o * kernel + kwargs.get("extra", 0)) + tap
    kwargs.pop("extra", None)
    return (uniform(r, pooled), flat.astype(np.int64)), dict(kwargs, kernel_size=kernel)


UNPOOL = [
    OpInfo("max_unpool1d", _fn("max_unpool1d"),
           fixed(lambda r: _unpool(r, (2, 3, 4), 2) + ("basic",),
                 lambda r: _unpool(r, (2, 3, 3), 3, output_size=(10,), extra=1) + ("output-size",),
                 lambda r: _unpool(r, (1, 2, 4), 2, stride=2) + ("stride",))),
    OpInfo("max_unpool2d", _fn("max_unpool2d"),
           fixed(lambda r: _unpool(r, (2, 2, 3, 2), 2) + ("basic",),
                 lambda r: _unpool(r, (2, 2, 2, 3), 2, output_size=(5, 7), extra=1) + ("output-size",),
                 lambda r: _unpool(r, (1, 3, 2, 2), 3) + ("kernel-3",))),
    OpInfo("max_unpool3d", _fn("max_unpool3d"),
           fixed(lambda r: _unpool(r, (1, 2, 2, 2, 2), 2) + ("basic",),
                 lambda r: _unpool(r, (2, 1, 2, 1, 2), 2, output_size=(1, 2, 5, 3, 5), extra=1) + ("output-size",),
                 lambda r: _unpool(r, (1, 2, 1, 2, 2), 3, stride=3) + ("kernel-3",))),
]

OPS = CONV + BLOCKS + POOL + UNPOOL
