"""Convolutions and their sliding-window helpers (im2col `unfold`, col2im `fold`)."""


from ...ops._common import lift
from ...ops import conv as _conv
from ...ops.conv import _geometry, _pair
from ._utils import _floating

__all__ = ["conv2d", "unfold", "fold"]


def _conv_padding(padding, kernel, dilation, stride, op):
    """Resolve 'valid' / 'same' (stride 1 only, as PyTorch) into explicit ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding == "same":
            if _pair(stride, "stride", op) != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1 (as in PyTorch), got stride={stride}")
            pads = []
            for k, d in zip(kernel, _pair(dilation, "dilation", op)):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', not {padding!r}")
    return padding


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, pad_value=0.0):
    """2-D cross-correlation, as torch.nn.functional.conv2d (pad_value, minigrad's addition, is the value the
    padding holds: larq's pad_values, so a binary conv padded with 1 keeps both matmul operands +-1).

    y[n, o] = sum_{c, i, j} W[o, c, i, j] xpad[n, g(o) C/G + c, p s + i d, q s + j d] + b[o],
    computed as im2col (`unfold`) then one matmul per group: W (G, O/G, C/G*KH*KW) @ cols (G, C/G*KH*KW, N*OH*OW).
    """
    x = _floating(x, "conv2d")
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D input (N, C, H, W), got shape {x.shape}; add a batch axis with "
                         "x.unsqueeze(0)")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must have shape (out_channels, in_channels/groups, KH, KW), "
                         f"got {weight.shape}")
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    if groups < 1 or c % groups or o % groups or c // groups != cg:
        raise ValueError(f"conv2d: input with {c} channels, weight {weight.shape} and groups={groups} do not fit: "
                         f"need in_channels = groups * weight.shape[1] ({groups} * {cg}) and out_channels "
                         "divisible by groups")
    padding = _conv_padding(padding, (kh, kw), dilation, stride, "conv2d")
    _, _, _, _, (oh, ow) = _geometry(x.shape, (kh, kw), stride, padding, dilation, "conv2d")
    cols = _conv.unfold(x, (kh, kw), stride, padding, dilation, pad_value)      # (C*KH*KW, N*OH*OW)
    if groups == 1:
        y = weight.reshape(o, cg * kh * kw) @ cols                               # (O, N*OH*OW)
    else:
        y = weight.reshape(groups, o // groups, cg * kh * kw) @ cols.reshape(groups, cg * kh * kw, n * oh * ow)
    y = y.reshape(o, n, oh, ow).permute(1, 0, 2, 3)
    return y if bias is None else y + bias.reshape(1, o, 1, 1)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks, as torch.nn.functional.unfold: (N, C, H, W) -> (N, C*KH*KW, L), L = OH*OW.
    (minigrad's own `mg.ops.conv.unfold` gives the (C*KH*KW, N*L) layout that conv2d multiplies.)"""
    x = lift(x)
    _, _, _, _, (oh, ow) = _geometry(x.shape, kernel_size, stride, padding, dilation, "unfold")
    cols = _conv.unfold(x, kernel_size, stride, padding, dilation)
    return cols.reshape(cols.shape[0], x.shape[0], oh * ow).permute(1, 0, 2)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image, as torch.nn.functional.fold (the adjoint of unfold):
    (N, C*KH*KW, L) -> (N, C, *output_size)."""
    x = lift(x)
    k = _pair(kernel_size, "kernel_size", "fold")
    h, w = _pair(output_size, "output_size", "fold")
    if x.ndim != 3 or x.shape[1] % (k[0] * k[1]):
        raise ValueError(f"fold: expected an input of shape (N, C*{k[0]}*{k[1]}, L), got {x.shape}")
    n, ckk, blocks = x.shape
    return _conv.fold(x.permute(1, 0, 2).reshape(ckk, n * blocks), (n, ckk // (k[0] * k[1]), h, w), k, stride,
                      padding, dilation)
