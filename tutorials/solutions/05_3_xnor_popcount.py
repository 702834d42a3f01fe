"""Chapter 05, exercise 3: a dot product of +-1 vectors with XNOR and popcount.

With +1 -> bit 1 and -1 -> bit 0, a product a_i b_i is +1 exactly when the bits are equal: XNOR. So
a . b = (#equal) - (#different) = 2 popcount(XNOR(a, b)) - n. For n = 256 the packed vectors are 32 bytes,
4 words of 64 bits: 4 XNORs and 4 popcounts instead of 256 multiply-adds.
"""
import numpy as np

rng = np.random.default_rng(0)
n = 256
a = rng.choice([-1.0, 1.0], n)
b = rng.choice([-1.0, 1.0], n)

pa, pb = np.packbits(a > 0), np.packbits(b > 0)                 # 32 bytes each
wa, wb = pa.view(np.uint64), pb.view(np.uint64)                 # 4 words of 64 bits
xnor = ~(wa ^ wb)                                               # 1 where the bits agree
popcount = int(sum(bin(int(w)).count("1") for w in xnor))      # (np.bitwise_count in NumPy >= 2.0)
assert popcount == int(np.bitwise_count(xnor).sum())
dot = 2 * popcount - n
assert dot == int(a @ b), (dot, a @ b)
print(f"a . b = {int(a @ b)} = 2 * {popcount} - {n}, from {len(xnor)} XNORs of 64 bits")
