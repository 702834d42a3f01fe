"""Cross-entropy and NLL loss, forward + backward: minigrad's one-op losses against the chain of ops they replace
(log_softmax, advanced indexing, mean) and against PyTorch eager, one BLAS/OpenMP thread.

    python benchmarks/losses.py [--rounds 300]

Every contender computes the loss of a (batch, classes) float32 logit tensor and its gradient. Contenders run
interleaved (harness.interleaved); each line gives the best and median time per call and the ratios of best
times. Not part of `make bench` (benchmarks/run.py).
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None

CASES = [((128, 10), {}), ((64, 1000), {}), ((64, 1000), {"label_smoothing": 0.1, "weight": True}),
         ((8, 21, 32, 32), {"ignore_index": 0})]


def chain(x, t):
    """The composition the one-op loss replaces: log_softmax, pick the targets, mean."""
    return -x.log_softmax(1)[np.arange(x.shape[0]), t].mean()


def contenders(shape, options, loss="cross_entropy"):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    w = rng.uniform(0.5, 2.0, shape[1]).astype(np.float32)
    kw = dict(options, weight=w) if options.get("weight") else options
    xm = mg.tensor(x, requires_grad=True)
    mg_fn = getattr(F, loss)

    def minigrad_one_op():
        xm.grad = None
        mg_fn(xm, t, **{k: (mg.tensor(v) if k == "weight" else v) for k, v in kw.items()}).backward()
    runs = {"minigrad": minigrad_one_op}
    if not options and len(shape) == 2:
        def minigrad_chain():
            xm.grad = None
            (chain(xm, t) if loss == "cross_entropy" else -xm[np.arange(shape[0]), t].mean()).backward()
        runs["minigrad chain"] = minigrad_chain
    if torch is not None:
        xt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t)
        tkw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kw.items()}
        torch_fn = getattr(torch.nn.functional, loss)

        def pytorch():
            xt.grad = None
            torch_fn(xt, tt, **tkw).backward()
        runs["pytorch"] = pytorch
    return runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    print(f"one thread; best and median of {args.rounds} interleaved rounds (5 calls each), float32")
    for loss in ("cross_entropy", "nll_loss"):
        for shape, options in CASES:
            if loss == "nll_loss" and options:
                continue
            runs = contenders(shape, options, loss)
            for name in list(runs):
                try:
                    runs[name]()
                except (TypeError, ValueError, RuntimeError) as e:  # an older minigrad without the option
                    print(f"\n{loss} {shape} {options}: {name} cannot run it ({type(e).__name__}: {e})")
                    del runs[name]
            times = harness.interleaved(runs, args.rounds, inner=5)
            best = {name: float(np.min(t)) for name, t in times.items()}
            label = ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"
            print(f"\n{loss} {shape} ({label})")
            for name, t in times.items():
                ratios = "".join(f"   {name}/{other}: {best[name] / best[other]:.2f}" for other in best
                                 if other != name and name == "minigrad")
                print(f"  {name:<15} best {harness.fmt_time(best[name]):>9}   median "
                      f"{harness.fmt_time(float(np.median(t))):>9}{ratios}")


if __name__ == "__main__":
    main()
