"""Convolution and pooling layers, forward + backward, minigrad against PyTorch eager (one BLAS thread).

    .venv/bin/python benchmarks/conv.py [--rounds 40] [--only resnet20,1x1] [--threads 1] [--dtype float32]

Each case is a function of a few tensors (input, weight, bias, ...), all requiring grad, run in minigrad and in
PyTorch on the same data: the forward, then the backward of a fixed upstream gradient. The cases: a 3x3 conv
16->16 on 32x32 at batch 32 (a CIFAR ResNet-20 conv), its stride-2 downsampling twin, a whole ResNet-20 basic block
(conv-bn-relu-conv-bn + x, relu), 1x1 convs (a matmul), depthwise and grouped convs, conv1d, conv3d, a stride-2
transposed conv, and max / average / adaptive pooling. The contenders run interleaved (benchmarks/harness.py: each
round runs each once, in a rotating order; process CPU time with one thread), and the ratio printed is the median
over rounds of the paired ratio minigrad / torch, the best times beside it. It imports the minigrad of its own tree
(run it from a checkout of another commit to compare). Not part of `make bench` (benchmarks/run.py).
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
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # harness, and the minigrad of this tree (not an installed one)

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import harness  # noqa: E402
from harness import fmt_time, interleaved, paired_ratio  # noqa: E402

try:
    import torch
    torch.set_num_threads(ARGS.threads)
except ImportError:
    torch = None

def F(lib):
    return lib.nn.functional


def _conv(fn_name, **kw):
    return lambda lib, x, w, b: getattr(F(lib), fn_name)(x, w, b, **kw)


def _block(lib, x, w1, g1, b1, w2, g2, b2):
    """A CIFAR ResNet-20 basic block: conv-bn-relu-conv-bn, plus the input, relu (batch statistics)."""
    f = F(lib)
    h = f.relu(f.batch_norm(f.conv2d(x, w1, None, padding=1), None, None, g1, b1, training=True))
    return f.relu(f.batch_norm(f.conv2d(h, w2, None, padding=1), None, None, g2, b2, training=True) + x)


def _pool(fn_name, *args, **kw):
    return lambda lib, x: getattr(F(lib), fn_name)(x, *args, **kw)


# name: (forward of (lib, *tensors), the tensors' shapes); every tensor requires grad
CASES = {
    "resnet20": (_conv("conv2d", padding=1), [(32, 16, 32, 32), (16, 16, 3, 3), (16,)]),   # 3x3 16->16 on 32x32
    "resnet20-down": (_conv("conv2d", stride=2, padding=1), [(32, 16, 32, 32), (32, 16, 3, 3), (32,)]),
    "resnet20-8x8": (_conv("conv2d", padding=1), [(32, 64, 8, 8), (64, 64, 3, 3), (64,)]),      # its last stage
    "resnet20-block": (_block, [(32, 16, 32, 32), (16, 16, 3, 3), (16,), (16,), (16, 16, 3, 3), (16,), (16,)]),
    "1x1": (_conv("conv2d"), [(32, 64, 16, 16), (128, 64, 1, 1), (128,)]),
    "1x1-stride2": (_conv("conv2d", stride=2), [(32, 16, 32, 32), (32, 16, 1, 1), (32,)]),   # ResNet shortcut
    "depthwise": (_conv("conv2d", padding=1, groups=64), [(32, 64, 16, 16), (64, 1, 3, 3), (64,)]),
    "depthwise-s2": (_conv("conv2d", stride=2, padding=1, groups=64), [(32, 64, 16, 16), (64, 1, 3, 3), (64,)]),
    "grouped": (_conv("conv2d", padding=1, groups=4), [(32, 64, 16, 16), (64, 16, 3, 3), (64,)]),
    "conv1d": (_conv("conv1d", padding=2), [(32, 64, 128), (64, 64, 5), (64,)]),
    "conv3d": (_conv("conv3d", padding=1), [(8, 8, 16, 16, 16), (16, 8, 3, 3, 3), (16,)]),
    "transpose2d": (_conv("conv_transpose2d", stride=2, padding=1), [(32, 32, 16, 16), (32, 16, 4, 4), (16,)]),
    "maxpool-3s2": (_pool("max_pool2d", 3, 2, 1), [(32, 16, 32, 32)]),
    "avgpool-2": (_pool("avg_pool2d", 2), [(32, 16, 32, 32)]),
    "adaptive-avg": (_pool("adaptive_avg_pool2d", 3), [(32, 64, 7, 7)]),
}


def make_case(name, dtype):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    g = rng.standard_normal(tuple(fn(torch, *map(torch.from_numpy, arrays)).shape)).astype(dtype)

    def contender(lib, make, upstream):
        tensors = [make(a) for a in arrays]

        def step():
            for t in tensors:
                t.grad = None
            fn(lib, *tensors).backward(upstream)
        return step
    return {"minigrad": contender(mg, lambda a: mg.tensor(a, requires_grad=True), mg.tensor(g)),
            "torch": contender(torch, lambda a: torch.tensor(a, requires_grad=True), torch.from_numpy(g))}


def main():
    clock = harness.set_clock("cpu" if ARGS.threads == 1 else "wall")
    if torch is None:
        sys.exit("benchmarks/conv.py compares against PyTorch: install it (make bench-torch)")
    names = [n for n in ARGS.only.split(",") if n] or list(CASES)
    print(f"forward + backward, {ARGS.dtype}, {ARGS.threads} BLAS thread(s), {ARGS.rounds} interleaved rounds, {clock}")
    print("best time of minigrad and of torch per call; ratio = median over rounds of the paired ratio minigrad/torch "
          "(ratio of the best times)")
    for name in names:
        contenders = make_case(name, np.dtype(ARGS.dtype))
        times = interleaved(contenders, ARGS.rounds)
        mg_min, t_min = np.min(times["minigrad"]), np.min(times["torch"])
        print(f"{name:<15} {fmt_time(mg_min):>10}  torch {fmt_time(t_min):>10}   ratio "
              f"{paired_ratio(times, 'minigrad', 'torch'):.2f} ({mg_min / t_min:.2f})", flush=True)


if __name__ == "__main__":
    main()
