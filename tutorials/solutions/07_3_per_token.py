"""Chapter 07, exercise 3: activations quantized per tensor (BitNet 2023, in training) or per token (b1.58).

One token 100 times larger sets the scale of the whole tensor: 127 levels over [-300, 300] leave the ordinary
tokens (entries of about 1 in size) a step of about 2.4, so four in five of their entries round to 0 and their
mean error, 0.6, is almost as large as they are. Per token, each gets its own scale, a step of about 0.02, and a
mean error of a quarter of a step, 0.005: over a hundred times smaller.
"""
import numpy as np

import minigrad as mg

rng = np.random.default_rng(0)
x = rng.standard_normal((8, 64)).astype(np.float32)
x[3] *= 100                                                          # the outlier token
ordinary = np.arange(8) != 3

for dim, name in ((None, "per tensor"), (-1, "per token")):
    levels, scale = mg.ste.absmax_quantize(mg.tensor(x), bits=8, dim=dim)
    error = np.abs(levels.numpy() / scale.numpy() - x)[ordinary].mean()
    zeros = (levels.numpy()[ordinary] == 0).mean()
    print(f"{name:10}  mean error on the ordinary tokens {error:.4f}, levels at 0: {zeros:.0%}")
    if dim is None:
        tensor_error, tensor_zeros = error, zeros
    else:
        token_error = error
assert tensor_error > 50 * token_error
assert tensor_zeros > 0.5
