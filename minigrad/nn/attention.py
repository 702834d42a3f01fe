"""Attention layers: MultiheadAttention, as PyTorch's (constructor arguments, parameter names and shapes,
initialisation, forward arguments and results), so a state_dict moves between the two unchanged. The arithmetic
is nn.functional.multi_head_attention_forward; the one-head formula is F.scaled_dot_product_attention."""
import numpy as np

from . import functional as F
from . import init
from .linear import Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear; PyTorch names MultiheadAttention's output projection so (a marker for its quantization tools),
    and so does its repr."""


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017): num_heads heads of embed_dim / num_heads dims each,

        out = concat_h(softmax(Q_h K_h^T / sqrt(head_dim) + M) V_h) W_o^T + b_o,  Q = query W_q^T + b_q, ...

    Parameters as PyTorch's: `in_proj_weight` (3 embed_dim, embed_dim) holding W_q, W_k, W_v when kdim and vdim
    equal embed_dim, else `q_proj_weight`, `k_proj_weight`, `v_proj_weight`; `in_proj_bias` (3 embed_dim) and
    `out_proj` (a Linear) when bias; `bias_k`, `bias_v` (1, 1, embed_dim) with add_bias_kv. Initialised as
    PyTorch's: Xavier-uniform projections, zero biases, out_proj.weight as a Linear's, bias_k / bias_v
    Xavier-normal. dropout: on the attention weights, in training mode.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None). Inputs are (L, N, E) or, with
    batch_first=True, (N, L, E); unbatched (L, E) too. Masks: bool True = may NOT attend (the opposite of
    F.scaled_dot_product_attention's), float = added to the scores. weights: averaged over heads (N, L, S), or
    per head (N, num_heads, L, S) with average_attn_weights=False."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, dtype=np.float32, rng=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise AssertionError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                                 f"({num_heads})")
        e = self.embed_dim

        def param(*shape):
            return Parameter(np.zeros(shape, dtype))
        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * e, e)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight, self.k_proj_weight, self.v_proj_weight = param(e, e), param(e, self.kdim), \
                param(e, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * e)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, dtype=dtype, rng=rng)
        if add_bias_kv:
            self.bias_k, self.bias_v = param(1, 1, e), param(1, 1, e)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters(rng)

    def _reset_parameters(self, rng=None):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, rng=rng)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, rng=rng)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k, rng=rng)
            init.xavier_normal_(self.bias_v, rng=rng)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = query.ndim == 3
        if self.batch_first and batched:  # transposed so that `key is value` and `query is key` still hold
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights
