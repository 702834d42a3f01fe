"""Chapter 06, exercise 2: where a BNN's OPs come from, and what a binary first layer changes.

In the chapter's binary MLP almost all OPs come from the float first layer (64 -> 256, 524,288 MACs per
batch of 32): the binary layers' 2.2M BOPs count only 34K OPs. Binarizing the first layer too (its input,
the pixels, stays real-valued, so its products are not BOPs but the weights are 1 bit) removes those MACs
only if the input is binary as well: here its products become float products of +-1 weights, counted as
FLOPs again. What does shrink is the parameter bytes.
"""
import minigrad as mg
from minigrad import nn
from minigrad.profile import set_blas_threads

set_blas_threads(1)
mg.manual_seed(0)
images = mg.randn(32, 1, 8, 8)


def binary_mlp(first):
    return nn.Sequential(nn.Flatten(), first, nn.BatchNorm1d(256), nn.Sign(), nn.BinaryLinear(256, 256),
                         nn.BatchNorm1d(256), nn.Sign(), nn.BinaryLinear(256, 10), nn.BatchNorm1d(10))


report = mg.profile([binary_mlp(nn.Linear(64, 256, bias=False)), binary_mlp(nn.BinaryLinear(64, 256))], images,
                    names=["float first layer", "binary first layer"], hardware="raspberry-pi-4", measure=False)
for r in report.reports:
    t = r.totals
    first = next(row for row in r.layers if row["layer"] == "1")
    share = (first["flops_forward"] + first["bops_forward"] / 64) / t["ops_forward"]
    share_papers = (first["macs_forward"] + first["bops_forward"] / 64) / t["ops_forward_papers"]
    print(f"{r.model:18} OPs {t['ops_forward']:>10,.0f} ({share:.0%} from layer 1)   papers' OPs "
          f"{t['ops_forward_papers']:>8,.0f} ({share_papers:.0%} from layer 1)   parameter bytes {t['param_bytes']:,.0f}")
float_first, binary_first = report[0].totals, report[1].totals
assert float_first["macs_forward"] == 32 * 64 * 256
assert binary_first["param_bytes"] < float_first["param_bytes"] - 60_000   # 64 x 256 weights: 4 bytes -> 1 bit
