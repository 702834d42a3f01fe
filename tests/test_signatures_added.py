"""The names added with PyTorch's names (distance, shrink and threshold functions and layers, nn.utils, the schedulers,
the initialisers) take PyTorch's arguments: the same names, order and defaults (torch's `generator=` is minigrad's
`rng=`, as for the other initialisers; `foreach=` is accepted and has one implementation here)."""
import inspect

import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def params(fn, rename=None):
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "self":
            continue
        name = (rename or {}).get(p.name, p.name)
        out.append((name, None if p.default is inspect.Parameter.empty else p.default))
    return out


PAIRS = [(f"nn.{n}.__init__", f"nn.{n}.__init__") for n in
         ("PairwiseDistance", "CosineSimilarity", "Threshold", "Hardshrink", "Softshrink")]
PAIRS += [("nn.functional.threshold", "nn.functional.threshold"),
          ("nn.functional.tanhshrink", "nn.functional.tanhshrink")]
PAIRS += [(f"nn.utils.{n}", f"nn.utils.{n}") for n in
          ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters")]
PAIRS += [(f"optim.lr_scheduler.{n}.__init__", f"optim.lr_scheduler.{n}.__init__") for n in
          ("LambdaLR", "MultiplicativeLR", "LinearLR", "SequentialLR", "OneCycleLR", "ReduceLROnPlateau")]
PAIRS += [(f"nn.init.{n}", f"nn.init.{n}") for n in ("trunc_normal_", "orthogonal_", "eye_", "dirac_", "sparse_")]


def resolve(root, path):
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("ours,theirs", PAIRS, ids=[p[0] for p in PAIRS])
def test_arguments_are_pytorchs(ours, theirs):
    got = params(resolve(mg, ours))
    want = params(resolve(torch, theirs), {"generator": "rng"})
    assert got == want
