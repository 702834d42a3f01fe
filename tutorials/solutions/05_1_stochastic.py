"""Chapter 05, exercise 1: BinaryConnect's stochastic binarization of the activations.

While training, nn.Sign(stochastic=True) outputs +1 with probability clip((x + 1) / 2, 0, 1); in eval mode
it is the deterministic sign. The noise acts as a regulariser; on this small problem both reach about the
same accuracy.
"""
import minigrad as mg
from minigrad import nn

from _bnn_common import bnn, train

mg.manual_seed(1)
deterministic = train(bnn())
mg.manual_seed(1)
stochastic = train(bnn(sign=lambda: nn.Sign(stochastic=True)))
print(f"deterministic sign: {deterministic:.1%}, stochastic sign: {stochastic:.1%}")
assert deterministic > 0.9 and stochastic > 0.85
