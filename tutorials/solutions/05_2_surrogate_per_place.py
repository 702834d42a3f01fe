"""Chapter 05, exercise 2: one surrogate for the activations, another for the weights."""
import minigrad as mg
from minigrad import nn

from _bnn_common import bnn, train

approx, clipped = mg.ste.ApproxSign(), mg.ste.Clipped(1.0)

mg.manual_seed(1)
acts = bnn(sign=lambda: nn.Sign(surrogate=approx))                  # activations: ApproxSign
mg.manual_seed(1)
weights = bnn()
for m in weights:
    if isinstance(m, nn.BinaryLinear):
        m.weight_surrogate = approx                                  # weights: ApproxSign

x = mg.randn(4, 64)
h = acts[:3](x)                                                      # BinaryLinear, BatchNorm1d, Sign
assert repr(h.grad_fn.rule) == "ApproxSign()"                        # the activation's sign
assert repr(acts[0].binary_weight().grad_fn.rule) == "Clipped(clip=1.0)"   # the default for the weights
assert repr(weights[0].binary_weight().grad_fn.rule) == "ApproxSign()"
assert repr(weights[:3](x).grad_fn.rule) == "Clipped(clip=1.0)"

results = {"ApproxSign on activations": train(acts, epochs=5), "ApproxSign on weights": train(weights, epochs=5)}
for name, acc in results.items():
    print(f"{name:26} {acc:.1%}")
assert all(acc > 0.85 for acc in results.values())
