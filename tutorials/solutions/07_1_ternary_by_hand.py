"""Chapter 07, exercise 1: BitNet b1.58's absmean quantizer by hand, and the levels packed in 2 bits.

For Gaussian weights, gamma = mean|W| = 0.798 sigma, and a weight rounds to 0 when |W| < gamma / 2 = 0.399 sigma:
about 31% of them. Four 2-bit codes fill a byte: 4,096 weights take 1,024 bytes (16 times fewer than float32);
log2 3 bits each would take 812 (five ternary digits fit in a byte, 3^5 = 243 <= 256: 1.6 bits per weight).
"""
import math

import numpy as np

import minigrad as mg

rng = np.random.default_rng(0)
W = (rng.standard_normal((64, 64)) * 0.02).astype(np.float32)

gamma = np.abs(W).mean()
by_hand = np.clip(np.round(W / gamma), -1, 1)
levels, g = mg.ste.absmean_ternary(mg.tensor(W))
assert np.isclose(g, gamma) and np.array_equal(levels.numpy(), by_hand)

zeros = float((by_hand == 0).mean())
print(f"weights that are 0: {zeros:.1%}")
assert 0.27 < zeros < 0.35

codes = (by_hand + 1).astype(np.uint8).ravel()                         # -1, 0, +1 -> 0, 1, 2
packed = codes[0::4] | codes[1::4] << 2 | codes[2::4] << 4 | codes[3::4] << 6
unpacked = np.stack([(packed >> shift) & 3 for shift in (0, 2, 4, 6)], axis=1).ravel().astype(np.float32) - 1
assert np.array_equal(unpacked.reshape(W.shape), by_hand)

entropy_bytes = math.ceil(W.size * math.log2(3) / 8)
print(f"float32 {W.nbytes} bytes, packed {packed.nbytes} bytes, log2(3) bits each {entropy_bytes} bytes")
assert (W.nbytes, packed.nbytes, entropy_bytes) == (16384, 1024, 812)
