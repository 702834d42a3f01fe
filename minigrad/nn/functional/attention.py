"""Attention as functions, PyTorch's names, arguments and results (Vaswani et al. 2017, "Attention Is All You Need"):

    attention(Q, K, V) = softmax(Q K^T * scale + M) V,    scale = 1 / sqrt(E) unless given,

Q (..., L, E) the queries, K (..., S, E) the keys, V (..., S, Ev) the values, M a mask added to the scores (-inf
where a query may not look). Each function is built from minigrad ops (matmul, masked_fill or add, softmax,
dropout), so its gradient has a gradient of its own, to any order, and the tracer counts it op by op: Q K^T and
the product with V as MACs (category 'dot', the numbers torch.utils.flop_counter gives for them), the scaling,
masking and softmax as elementwise ops (which PyTorch's counter does not count).

The two functions read their masks the opposite way round, as PyTorch's do: in `scaled_dot_product_attention` a
bool `attn_mask` is True where a query *may* attend; in `multi_head_attention_forward` (and nn.MultiheadAttention)
a bool `attn_mask` or `key_padding_mask` is True where it may *not*. A float mask is added to the scores in both.
"""
import math

import numpy as np

from ...ops import linalg
from ...ops._common import const, lift
from ...ops.reduce import softmax
from ...ops.shape import cat
from .dense import linear
from .regularization import dropout

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _safe_softmax(scores):
    """softmax over the last dim, where a row whose every score is -inf (nothing to attend to) gives zeros and no
    gradient, as PyTorch's `_safe_softmax` (which its math kernel for scaled_dot_product_attention uses)."""
    dead = np.all(np.isneginf(scores.data), axis=-1, keepdims=True)
    if not dead.any():
        return softmax(scores, -1)
    return softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)


def _check_mask(op, mask, dtype):
    """A bool mask as an ndarray; a float mask (of the queries' dtype) as a Tensor, which may require grad."""
    if mask is None:
        return None
    m = lift(mask)
    if m.dtype == np.bool_:
        return m.data
    if m.dtype != dtype:
        raise RuntimeError(f"{op}: expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype {m.dtype} and query.dtype {dtype}; pass a bool mask or one of "
                           f"dtype {dtype}")
    return m


def _repeat_heads(op, q, k, v):
    """Grouped-query attention: each key and value head serves q.shape[-3] / k.shape[-3] query heads."""
    hq, hk = q.shape[-3], k.shape[-3]
    if hq == hk:
        return k, v
    if hk == 0 or hq % hk or v.shape[-3] != hk:
        raise RuntimeError(f"{op}: with enable_gqa=True the number of heads in key and value ({hk} and "
                           f"{v.shape[-3]}) must be equal and divide the number of heads in query ({hq})")
    return k.repeat_interleave(hq // hk, dim=-3), v.repeat_interleave(hq // hk, dim=-3)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query key^T * scale + mask) value: query (..., L, E), key (..., S, E), value (..., S, Ev) ->
    (..., L, Ev); the leading dims broadcast.

    attn_mask: bool (True = may attend) or float (added to the scores), broadcastable to (..., L, S).
    is_causal: query i attends to keys 0..i only (the lower triangle of the L x S scores, aligned top left);
    it cannot be combined with attn_mask. scale: default 1 / sqrt(E). dropout_p: dropout on the attention
    weights, applied whenever dropout_p > 0 (as PyTorch: pass 0.0 in eval mode), drawing from mg.manual_seed's
    generator. enable_gqa: key and value may have fewer heads (dim -3) than query, each serving a group.
    A query that may attend to nothing gets zeros (PyTorch's math kernel), not nan."""
    op = "scaled_dot_product_attention"
    q, k, v = lift(query), lift(key), lift(value)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise RuntimeError(f"{op}: expected query, key and value to be at least 2-dimensional, got shapes "
                           f"{q.shape}, {k.shape} and {v.shape}")
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(f"{op}: expected query, key and value to have the same dtype, got {q.dtype}, {k.dtype} "
                           f"and {v.dtype}; convert them, e.g. key.to(query.dtype)")
    if q.dtype.kind != "f":
        raise RuntimeError(f"{op}: query, key and value must be floating point, got {q.dtype}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: an explicit attn_mask should not be set when is_causal=True (the causal mask "
                           "is built from the shapes); pass one or the other")
    mask = _check_mask(op, attn_mask, q.dtype)
    if enable_gqa and q.ndim >= 3:
        k, v = _repeat_heads(op, q, k, v)
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"{op}: query {q.shape}, key {k.shape} and value {v.shape} do not fit: query and key "
                           "need the same last dim E, key and value the same sequence length S (dim -2)")
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = linalg.matmul(q * scale, k.mT)
    if is_causal:
        mask = np.tril(np.ones(scores.shape[-2:], bool))
    if isinstance(mask, np.ndarray):
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        scores = scores + mask
    weights = _safe_softmax(scores)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return linalg.matmul(weights, v)


def _canonical(op, name, mask, dtype):
    """A key padding or attention mask as PyTorch's MultiheadAttention reads it: bool True = masked out, which
    becomes -inf (a float array); a float mask is added as it is (a Tensor, which may require grad)."""
    if mask is None:
        return None
    m = lift(mask)
    if m.dtype == np.bool_:
        return const(np.where(m.data, -np.inf, 0.0), dtype)
    if m.dtype.kind != "f":
        raise AssertionError(f"{op}: only bool and floating types of {name} are supported, got {m.dtype}")
    return m


def _project(q, k, v, w, b, e):
    """The packed in-projection: one product for self-attention (q is k is v), two when k is v."""
    def split(x, n):
        x = x.unflatten(-1, (n, e))
        return [x[..., i, :] for i in range(n)]
    bias = (lambda i, j: None) if b is None else (lambda i, j: b[i * e:j * e])
    if k is v and q is k:
        return split(linear(q, w, b), 3)
    if k is v:
        return [linear(q, w[:e], bias(0, 1))] + split(linear(k, w[e:], bias(1, 3)), 2)
    return [linear(x, w[i * e:(i + 1) * e], bias(i, i + 1)) for i, x in enumerate((q, k, v))]


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's multi-head attention (what nn.MultiheadAttention runs), step by step as in PyTorch:

        Q = query W_q^T + b_q, K = key W_k^T + b_k, V = value W_v^T + b_v,   split into num_heads heads,
        head_h = softmax(Q_h K_h^T / sqrt(E / num_heads) + M) V_h,   out = concat(heads) W_o^T + b_o.

    Shapes sequence first: query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched (L, E), ...
    key_padding_mask (N, S) and attn_mask (L, S) or (N * num_heads, L, S): bool True = may not attend, float =
    added. Returns (output (L, N, E), weights (N, L, S) averaged over heads, or (N, num_heads, L, S), or None when
    need_weights=False). As PyTorch, with need_weights the weights are a plain softmax (a query that may attend to
    nothing gives nan) and dropout is applied to the weights returned; without, the product runs through
    scaled_dot_product_attention (whose such rows are zeros). is_causal is a hint that attn_mask is causal; it
    needs attn_mask."""
    op = "multi_head_attention_forward"
    query, key, value = lift(query), lift(key), lift(value)
    if query.ndim not in (2, 3):
        raise AssertionError(f"{op}: query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"{op}: for a {query.ndim}-D query, expected key and value to be {query.ndim}-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors")
    if key_padding_mask is not None and lift(key_padding_mask).ndim != query.ndim - 1:
        raise AssertionError(f"{op}: expected key_padding_mask to be None or {query.ndim - 1}-D, got shape "
                             f"{lift(key_padding_mask).shape}")
    if attn_mask is not None and lift(attn_mask).ndim not in (2, 3):
        raise AssertionError(f"{op}: expected attn_mask to be None, 2-D or 3-D, got shape {lift(attn_mask).shape}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = lift(key_padding_mask).unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    dtype = query.dtype
    key_padding_mask = _canonical(op, "key_padding_mask", key_padding_mask, dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint (e.g. a bool mask "
                           "np.triu(np.ones((L, L), bool), 1))")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = _canonical(op, "attn_mask", attn_mask, dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"{op}: was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"{op}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"{op}: key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
        b = [None] * 3 if in_proj_bias is None else [in_proj_bias[i * embed_dim:(i + 1) * embed_dim] for i in range(3)]
        q, k, v = (linear(x, w, bb) for x, w, bb in zip((query, key, value),
                                                       (q_proj_weight, k_proj_weight, v_proj_weight), b))
    else:
        if key.shape != value.shape:
            raise AssertionError(f"{op}: key shape {key.shape} does not match value shape {value.shape}")
        q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, embed_dim)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if attn_mask.shape != (tgt_len, key.shape[0]):
                raise RuntimeError(f"{op}: the shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, key.shape[0])}")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.shape != (bsz * num_heads, tgt_len, key.shape[0]):
            raise RuntimeError(f"{op}: the shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(bsz * num_heads, tgt_len, key.shape[0])}")

    def pad(mask):  # one more key, which every query may attend to
        return None if mask is None else cat([mask, const(np.zeros(mask.shape[:-1] + (1,)), mask.dtype)], -1)

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError(f"{op}: bias cannot be added to a static key or value")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = pad(attn_mask), pad(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError(f"{op}: bias_k and bias_v must both be given, or neither")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else lift(static_k)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else lift(static_v)
    for name, t in (("static_k", static_k), ("static_v", static_v)):
        if t is not None and (t.shape[0] != bsz * num_heads or t.shape[2] != head_dim):
            raise AssertionError(f"{op}: expecting {name} of shape ({bsz * num_heads}, S, {head_dim}), got {t.shape}")
    if add_zero_attn:
        zeros = const(np.zeros((bsz * num_heads, 1, head_dim)), k.dtype)
        k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        attn_mask, key_padding_mask = pad(attn_mask), pad(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape != (bsz, src_len):
            raise AssertionError(f"{op}: expected key_padding_mask of shape {(bsz, src_len)}, got "
                                 f"{key_padding_mask.shape}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = linalg.matmul(q * math.sqrt(1.0 / head_dim), k.mT)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = linalg.matmul(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        return (out, weights) if batched else (out.squeeze(1), weights.squeeze(0))
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
            attn_mask.reshape(bsz, num_heads, -1, src_len)
    q, k, v = (t.reshape(bsz, num_heads, -1, head_dim) for t in (q, k, v))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    return (out, None) if batched else (out.squeeze(1), None)
