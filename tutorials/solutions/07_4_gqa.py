"""Chapter 07, exercise 4: grouped-query attention (Ainslie et al. 2023, "GQA").

4 query heads share 2 key-value heads: heads 0 and 1 read key-value head 0, heads 2 and 3 read head 1. The result
is attention over keys and values repeated per group (repeat_interleave along the heads), and the gradient of a
shared key is the sum of its group's gradients. The products cost the same MACs as with 4 key-value heads; what
is saved is memory: a cache of keys and values for 1,024 tokens holds 2 heads instead of 4, 131,072 bytes fewer
in float32 (1,024 tokens x 2 heads x 8 dims x (key + value) x 4 bytes), per layer and sequence.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

rng = np.random.default_rng(0)
B, Hq, Hkv, L, D = 2, 4, 2, 6, 8
q = mg.tensor(rng.standard_normal((B, Hq, L, D)), requires_grad=True)
k = mg.tensor(rng.standard_normal((B, Hkv, L, D)), requires_grad=True)
v = mg.tensor(rng.standard_normal((B, Hkv, L, D)), requires_grad=True)
g = mg.tensor(rng.standard_normal((B, Hq, L, D)))

with mg.trace() as tr:
    grouped = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
dk_grouped, = mg.grad((grouped * g).sum(), k)

repeated = F.scaled_dot_product_attention(q, k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1),
                                          is_causal=True)
assert np.allclose(grouped.numpy(), repeated.numpy())

k_rep = mg.tensor(k.numpy().repeat(2, axis=1), requires_grad=True)  # 4 heads of their own
out = F.scaled_dot_product_attention(q, k_rep, v.repeat_interleave(2, dim=1), is_causal=True)
dk_rep, = mg.grad((out * g).sum(), k_rep)
assert np.allclose(dk_grouped.numpy(), dk_rep.numpy().reshape(B, Hkv, 2, L, D).sum(axis=2))

assert tr.macs() == 2 * B * Hq * L * L * D                          # the same products as 4 key-value heads
saved = 1024 * (Hq - Hkv) * D * 2 * 4
print(f"MACs {tr.macs()}, key-value cache of 1,024 tokens: {saved:,} bytes saved per layer")
assert saved == 131072
