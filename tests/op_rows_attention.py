"""Op-table rows of attention (nn.functional.attention): scaled_dot_product_attention and multi_head_attention_forward.

PyTorch runs its math kernel (`sdpa_kernel(SDPBackend.MATH)`, the reference the other kernels are tested against):
its CPU flash kernel, chosen otherwise, has no double backward.

Each row is checked by tests/test_op_table.py against PyTorch (forward, dtype, gradients, second derivatives, in float64
and float32), finite differences, and the two executions of the rules. Float masks are inputs (so their gradients are
checked too); bool masks are inputs that carry no gradient. Dropout draws differ between the libraries: it is checked in
tests/test_attention.py.
"""
import numpy as np

from op_table import OpInfo, fixed, noncontiguous, uniform


def F(lib):
    return lib.nn.functional


def math_kernel(fn):
    """fn for PyTorch, run with its math kernel for scaled dot-product attention."""
    def torch_fn(lib, *args, **kwargs):
        from torch.nn.attention import SDPBackend, sdpa_kernel
        with sdpa_kernel(SDPBackend.MATH):
            return fn(lib, *args, **kwargs)
    return torch_fn


def sdpa(lib, q, k, v, *mask, **kwargs):
    return F(lib).scaled_dot_product_attention(q, k, v, *mask, **kwargs)


def _mask(r, shape, dead_row=None):
    m = r.random(shape) > 0.3
    m[..., 0] = True  # every query may attend to something, except a dead row
    if dead_row is not None:
        m[..., dead_row, :] = False
    return m


def _padding(r, shape):
    m = r.random(shape) > 0.6
    m[..., 0] = False  # a key every query may attend to
    return m


def mha(lib, q, k, v, w, b, ow, ob, *masks, heads=2, kpm=False, **kwargs):
    """F.multi_head_attention_forward with packed weights; `masks`: key_padding_mask if kpm, then attn_mask."""
    masks = list(masks)
    named = {"key_padding_mask": masks.pop(0)} if kpm else {}
    if masks:
        named["attn_mask"] = masks.pop(0)
    out = F(lib).multi_head_attention_forward(q, k, v, q.shape[-1], heads, w, b, None, None, False, 0.0, ow, ob,
                                              training=False, **named, **kwargs)
    return out if out[1] is not None else out[0]


def mha_self(lib, x, w, b, ow, ob, *masks, **kwargs):
    """Self-attention: the same tensor as query, key and value (PyTorch's packed projection)."""
    return mha(lib, x, x, x, w, b, ow, ob, *masks, **kwargs)


def mha_separate(lib, q, k, v, wq, wk, wv, b, ow, ob, bk, bv, **kwargs):
    """kdim and vdim different from embed_dim (separate projections), with bias_k, bias_v and a zero attention."""
    out = F(lib).multi_head_attention_forward(q, k, v, q.shape[-1], 2, None, b, bk, bv, True, 0.0, ow, ob,
                                              training=False, use_separate_proj_weight=True, q_proj_weight=wq,
                                              k_proj_weight=wk, v_proj_weight=wv, **kwargs)
    return out if out[1] is not None else out[0]


def _weights(r, e=4, kdim=None):
    return (uniform(r, (3 * e, e), -0.8, 0.8), uniform(r, (3 * e,), -0.5, 0.5), uniform(r, (e, e), -0.8, 0.8),
            uniform(r, (e,), -0.5, 0.5))


OPS = [
    OpInfo("scaled_dot_product_attention", sdpa, torch_fn=math_kernel(sdpa), samples=
           fixed(lambda r: ((uniform(r, (2, 3, 5, 4)), uniform(r, (2, 3, 7, 4)), uniform(r, (2, 3, 7, 6))), {}, "4-d"),
                 lambda r: ((uniform(r, (3, 4)), uniform(r, (5, 4)), uniform(r, (5, 2))), {}, "2-d"),
                 lambda r: ((uniform(r, (2, 1, 3, 4)), uniform(r, (1, 3, 5, 4)), uniform(r, (1, 3, 5, 3))), {},
                            "broadcast"),
                 lambda r: ((uniform(r, (0, 2, 3, 4)), uniform(r, (0, 2, 5, 4)), uniform(r, (0, 2, 5, 3))), {}, "empty"),
                 lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (2, 0, 4)), uniform(r, (2, 0, 3))), {}, "no-keys"),
                 lambda r: ((noncontiguous(uniform(r, (4, 3))), noncontiguous(uniform(r, (5, 3))),
                             noncontiguous(uniform(r, (5, 2)))), {"scale": 0.3}, "noncontig-scale"))),
    OpInfo("scaled_dot_product_attention_causal", sdpa, torch_fn=math_kernel(sdpa), samples=
           fixed(lambda r: ((uniform(r, (2, 2, 5, 4)), uniform(r, (2, 2, 5, 4)), uniform(r, (2, 2, 5, 3))),
                            {"is_causal": True}, "square"),
                 lambda r: ((uniform(r, (2, 5, 4)), uniform(r, (2, 3, 4)), uniform(r, (2, 3, 3))), {"is_causal": True},
                            "L>S"),
                 lambda r: ((uniform(r, (2, 3, 4)), uniform(r, (2, 6, 4)), uniform(r, (2, 6, 2))), {"is_causal": True},
                            "L<S"))),
    OpInfo("scaled_dot_product_attention_bool_mask", sdpa, torch_fn=math_kernel(sdpa), samples=
           fixed(lambda r: ((uniform(r, (2, 3, 5, 4)), uniform(r, (2, 3, 7, 4)), uniform(r, (2, 3, 7, 6)),
                             _mask(r, (5, 7))), {}, "L,S"),
                 lambda r: ((uniform(r, (2, 3, 5, 4)), uniform(r, (2, 3, 7, 4)), uniform(r, (2, 3, 7, 6)),
                             _mask(r, (2, 1, 5, 7))), {}, "per-batch"),
                 lambda r: ((uniform(r, (2, 4, 4)), uniform(r, (2, 6, 4)), uniform(r, (2, 6, 3)),
                             _mask(r, (4, 6), dead_row=1)), {}, "dead-row"))),
    OpInfo("scaled_dot_product_attention_float_mask", sdpa, torch_fn=math_kernel(sdpa), samples=
           fixed(lambda r: ((uniform(r, (2, 3, 5, 4)), uniform(r, (2, 3, 7, 4)), uniform(r, (2, 3, 7, 6)),
                             uniform(r, (5, 7))), {}, "L,S"),
                 lambda r: ((uniform(r, (2, 4, 4)), uniform(r, (2, 6, 4)), uniform(r, (2, 6, 3)),
                             uniform(r, (2, 4, 6))), {"scale": 0.5}, "full"))),
    OpInfo("scaled_dot_product_attention_gqa", sdpa, torch_fn=math_kernel(sdpa), samples=
           fixed(lambda r: ((uniform(r, (2, 4, 3, 4)), uniform(r, (2, 2, 5, 4)), uniform(r, (2, 2, 5, 3))),
                            {"enable_gqa": True}, "4-to-2"),
                 lambda r: ((uniform(r, (3, 2, 4)), uniform(r, (1, 5, 4)), uniform(r, (1, 5, 2))),
                            {"enable_gqa": True, "is_causal": True}, "3-to-1-causal"))),
    OpInfo("multi_head_attention_forward", mha_self, torch_fn=math_kernel(mha_self), samples=
           fixed(lambda r: ((uniform(r, (5, 3, 4)), *_weights(r)), {}, "self"),
                 lambda r: ((uniform(r, (5, 3, 4)), *_weights(r)), {"need_weights": False}, "self-sdpa"),
                 lambda r: ((uniform(r, (5, 4)), *_weights(r)), {"average_attn_weights": False}, "unbatched"),
                 lambda r: ((uniform(r, (4, 2, 4)), *_weights(r), np.triu(np.ones((4, 4), bool), 1)),
                            {"is_causal": True, "need_weights": False}, "causal"),
                 lambda r: ((uniform(r, (4, 2, 4)), *_weights(r), uniform(r, (4, 4))), {}, "float-mask"))),
    OpInfo("multi_head_attention_forward_cross", mha, torch_fn=math_kernel(mha), samples=
           fixed(lambda r: ((uniform(r, (3, 2, 4)), uniform(r, (5, 2, 4)), uniform(r, (5, 2, 4)), *_weights(r),
                             _padding(r, (2, 5))), {"kpm": True}, "key-padding"),
                 lambda r: ((uniform(r, (3, 2, 4)), uniform(r, (5, 2, 4)), uniform(r, (5, 2, 4)), *_weights(r),
                             _padding(r, (2, 5)), r.random((4, 3, 5)) > 0.7),
                            {"kpm": True, "need_weights": False}, "both-masks-sdpa"))),
    OpInfo("multi_head_attention_forward_separate", mha_separate, torch_fn=math_kernel(mha_separate), samples=
           fixed(lambda r: ((uniform(r, (3, 2, 4)), uniform(r, (5, 2, 3)), uniform(r, (5, 2, 2)),
                             uniform(r, (4, 4)), uniform(r, (4, 3)), uniform(r, (4, 2)), uniform(r, (12,)),
                             uniform(r, (4, 4)), uniform(r, (4,)), uniform(r, (1, 1, 4)), uniform(r, (1, 1, 4))), {},
                            "kdim-vdim-bias-kv-zero-attn"),)),
]
