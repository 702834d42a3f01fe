"""Chapter 07, exercise 2: a key padding mask hides the padding of each sequence.

With key_padding_mask True on the padded keys, their scores become -inf before the softmax: every query gives
them weight 0, so what the padding holds cannot reach a real position. (The padded positions still compute an
output as queries, which the loss ignores.)
"""
import numpy as np

import minigrad as mg
from minigrad import nn

mg.manual_seed(0)
rng = np.random.default_rng(0)
lengths = np.array([5, 3, 4])
T, E = 5, 16
padding = np.arange(T)[None, :] >= lengths[:, None]                  # (batch, T): True = padding
x = rng.standard_normal((3, T, E))
x[padding] = 0.0

mha = nn.MultiheadAttention(E, num_heads=4, batch_first=True, dtype=np.float64)
mha.eval()
out, weights = mha(mg.tensor(x), mg.tensor(x), mg.tensor(x), key_padding_mask=padding, average_attn_weights=False)
print("weights on padded keys:", np.abs(weights.numpy()[np.broadcast_to(padding[:, None, None, :], weights.shape)]).max())
assert np.all(weights.numpy()[np.broadcast_to(padding[:, None, None, :], weights.shape)] == 0)
assert np.allclose(weights.numpy().sum(-1), 1)

noisy = x.copy()
noisy[padding] = 100 * rng.standard_normal((padding.sum(), E))       # garbage in the padding
out2, _ = mha(mg.tensor(noisy), mg.tensor(noisy), mg.tensor(noisy), key_padding_mask=padding)
real = ~padding
assert np.allclose(out.numpy()[real], out2.numpy()[real])
assert not np.allclose(out.numpy()[padding], out2.numpy()[padding])   # the padded queries change: ignored

causal = np.triu(np.ones((T, T), bool), k=1)                        # both masks together
out3, w3 = mha(mg.tensor(x), mg.tensor(x), mg.tensor(x), key_padding_mask=padding, attn_mask=causal)
assert np.all(w3.numpy()[:, causal] == 0)
print("real positions unchanged by the padding's values: True")
