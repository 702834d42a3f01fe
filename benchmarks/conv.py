"""Convolution layers, forward + backward, minigrad against PyTorch eager (one BLAS thread).

    .venv/bin/python benchmarks/conv.py [--rounds 40] [--only resnet20,1x1] [--threads 1] [--dtype float32]

Each case builds an input that requires grad and a layer's weight (and bias), runs the forward, then the backward
of a fixed upstream gradient (input, weight and bias gradients), in minigrad and in PyTorch. The contenders run
interleaved (benchmarks/harness.py: each round runs each once, in a rotating order), and the ratio printed is
the median over rounds of the paired ratio minigrad / torch; the best (minimum) times are printed beside it.
Not part of `make bench` (benchmarks/run.py); run it by hand.
"""
import argparse
import os
import sys

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--rounds", type=int, default=40)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--only", default="", help="comma-separated case names")
p.add_argument("--dtype", default="float32")
ARGS = p.parse_args()
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
import harness  # noqa: E402
from harness import fmt_time, interleaved, paired_ratio  # noqa: E402

try:
    import torch
    torch.set_num_threads(ARGS.threads)
except ImportError:
    torch = None

# name: (function, input shape, weight shape, keyword arguments); weights as PyTorch lays them out
CASES = {
    "resnet20": ("conv2d", (32, 16, 32, 32), (16, 16, 3, 3), dict(padding=1)),            # CIFAR ResNet-20 block
    "resnet20-down": ("conv2d", (32, 16, 32, 32), (32, 16, 3, 3), dict(stride=2, padding=1)),
    "1x1": ("conv2d", (32, 64, 16, 16), (128, 64, 1, 1), {}),
    "1x1-stride2": ("conv2d", (32, 16, 32, 32), (32, 16, 1, 1), dict(stride=2)),         # ResNet shortcut
    "depthwise": ("conv2d", (32, 64, 16, 16), (64, 1, 3, 3), dict(padding=1, groups=64)),
    "grouped": ("conv2d", (32, 64, 16, 16), (64, 16, 3, 3), dict(padding=1, groups=4)),
    "conv1d": ("conv1d", (32, 64, 128), (64, 64, 5), dict(padding=2)),
    "conv3d": ("conv3d", (8, 8, 16, 16, 16), (16, 8, 3, 3, 3), dict(padding=1)),
    "transpose2d": ("conv_transpose2d", (32, 32, 16, 16), (32, 16, 4, 4), dict(stride=2, padding=1)),
}


def make_case(name, dtype):
    fn_name, xs, ws, kw = CASES[name]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    bias_len = ws[1] * kw.get("groups", 1) if "transpose" in fn_name else ws[0]
    b = rng.standard_normal(bias_len).astype(dtype)
    y_shape = tuple(getattr(torch.nn.functional, fn_name)(torch.from_numpy(x), torch.from_numpy(w),
                                                          torch.from_numpy(b), **kw).shape)
    g = rng.standard_normal(y_shape).astype(dtype)
    contenders = {}
    mg_fn = getattr(F, fn_name, None)
    if mg_fn is not None:
        mx, mw, mb = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
        mgrad = mg.tensor(g)

        def run_mg():
            mx.grad = mw.grad = mb.grad = None
            mg_fn(mx, mw, mb, **kw).backward(mgrad)
        contenders["minigrad"] = run_mg
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tgrad, t_fn = torch.from_numpy(g), getattr(torch.nn.functional, fn_name)

    def run_torch():
        tx.grad = tw.grad = tb.grad = None
        t_fn(tx, tw, tb, **kw).backward(tgrad)
    contenders["torch"] = run_torch
    return contenders


def main():
    clock = harness.set_clock("cpu" if ARGS.threads == 1 else "wall")
    if torch is None:
        sys.exit("benchmarks/conv.py compares against PyTorch: install it (make bench-torch)")
    names = [n for n in ARGS.only.split(",") if n] or list(CASES)
    print(f"fwd+bwd, {ARGS.dtype}, {ARGS.threads} BLAS thread(s), {ARGS.rounds} interleaved rounds, {clock}; "
          "ratio = median paired minigrad/torch (ratio of the minima)")
    for name in names:
        contenders = make_case(name, np.dtype(ARGS.dtype))
        fn_name, xs, ws, kw = CASES[name]
        label = f"{name:<14} {fn_name}{xs} w{ws} {kw}"
        if "minigrad" not in contenders:
            print(f"{label}: minigrad has no {fn_name}")
            continue
        times = interleaved(contenders, ARGS.rounds)
        mg_min, t_min = np.min(times["minigrad"]), np.min(times["torch"])
        print(f"{label}\n    minigrad {fmt_time(mg_min):>10}   torch {fmt_time(t_min):>10}   "
              f"ratio {paired_ratio(times, 'minigrad', 'torch'):.2f} ({mg_min / t_min:.2f})", flush=True)


if __name__ == "__main__":
    main()
