"""A file written like a user's PyTorch code (tests/programs/pytorch_style.py: a small ResNet with
AdaptiveAvgPool2d, a U-Net-style encoder/decoder with ConvTranspose2d and interpolate, a 1-d conv classifier)
runs on minigrad unchanged except for its import lines, and matches PyTorch's outputs and gradients."""
import os
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the comparison needs PyTorch (make test installs it in CI)")

SOURCE = open(os.path.join(os.path.dirname(__file__), "programs", "pytorch_style.py")).read()
MINIGRAD_IMPORTS = {"import torch\n": "import minigrad as torch\n",
                    "import torch.nn as nn\n": "import minigrad.nn as nn\n",
                    "import torch.nn.functional as F\n": "import minigrad.nn.functional as F\n"}


def load(source, name):
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def minigrad_source():
    source = SOURCE
    for old, new in MINIGRAD_IMPORTS.items():
        assert source.count(old) == 1
        source = source.replace(old, new)
    changed = [a for a, b in zip(SOURCE.splitlines(), source.splitlines()) if a != b]
    assert len(changed) == 3 and all(line.startswith("import torch") for line in changed)
    return source


def inputs(lib, dtype):
    rng = np.random.default_rng(0)
    arrays = (rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((3, 3, 16)))
    labels, seq_labels = rng.integers(0, 10, 2), rng.integers(0, 4, 3)
    wrap = (lambda a: lib.tensor(a.astype(dtype), requires_grad=a.dtype.kind == "f")) if lib.__name__ == "minigrad" \
        else (lambda a: lib.tensor(a.astype(dtype), requires_grad=a.dtype.kind == "f"))
    ints = (lambda a: lib.tensor(a)) if lib.__name__ == "minigrad" else (lambda a: lib.from_numpy(a))
    return tuple(wrap(a) for a in arrays), (ints(labels), ints(seq_labels))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 2e-4)], ids=["float64", "float32"])
def test_the_same_program_matches_pytorch(dtype, rtol):
    mg_prog, torch_prog = load(minigrad_source(), "minigrad_program"), load(SOURCE, "torch_program")
    import minigrad as mg
    mg.manual_seed(0)
    mg_models = mg_prog.build()
    torch_models = torch_prog.build()
    for m, t in zip(mg_models, torch_models):  # the same weights: minigrad's state_dict keys are PyTorch's
        state = {k: torch.from_numpy(np.array(np.asarray(v), dtype=np.asarray(v).dtype if np.asarray(v).dtype.kind
                                                != "f" else dtype)) for k, v in m.state_dict().items()}
        if dtype == np.float64:
            t.double()
        t.load_state_dict(state, strict=True)
        for p in m.parameters():
            p.data = p.data.astype(dtype)
        for name, b in m.named_buffers():
            if b.data.dtype.kind == "f":
                b.data = b.data.astype(dtype)
    mg_in, mg_t = inputs(mg, dtype)
    t_in, t_t = inputs(torch, dtype)
    mg_losses = mg_prog.losses(mg_models, mg_in, mg_t)
    t_losses = torch_prog.losses(torch_models, t_in, t_t)
    for a, b in zip(mg_losses, t_losses):
        np.testing.assert_allclose(a.item(), b.item(), rtol=rtol)
    sum(mg_losses).backward()
    sum(t_losses).backward()
    for x, tx in zip(mg_in, t_in):
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)
    for m, t in zip(mg_models, torch_models):
        t_params = dict(t.named_parameters())
        for name, p in m.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=rtol, atol=rtol * 1e-2,
                                       err_msg=name)
        t_buffers = dict(t.named_buffers())
        for name, b in m.named_buffers():  # running statistics moved the same way
            np.testing.assert_allclose(b.numpy(), t_buffers[name].numpy(), rtol=rtol, atol=1e-12, err_msg=name)
