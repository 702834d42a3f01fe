"""Chapter 06, exercise 1: the cost of a strided convolution, by hand and with the tracer.

Conv2d(16, 32, 3, stride=2, padding=1) on 8 images of 16x16: the output is (16 + 2 - 3) // 2 + 1 = 8 pixels
a side, so 8 * 32 * 8 * 8 outputs, each a dot product of 16 * 3 * 3 = 144 multiply-adds.
MACs = 8 * 32 * 64 * 144 = 2,359,296; minigrad's FLOPs = 2 MACs = 4,718,592; fvcore reports the MACs.
"""
import minigrad as mg
from minigrad import nn

conv = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
with mg.trace() as tr:
    out = conv(mg.randn(8, 16, 16, 16))
side = (16 + 2 * 1 - 3) // 2 + 1
macs = 8 * 32 * side * side * 16 * 3 * 3
assert out.shape == (8, 32, side, side)
assert tr.macs("forward") == macs == 2_359_296 and tr.flops("forward") == 2 * macs
print(f"{macs:,} MACs, {2 * macs:,} FLOPs (minigrad), fvcore would say {macs:,} flops")
