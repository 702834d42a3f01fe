"""Timing helpers for `make bench`: interleaved rounds, paired ratios, bootstrap intervals, formatting.

The machine is shared and noisy, so no single absolute time is trusted:

- contenders run *interleaved*: in every round each contender runs once (a few calls), in an order
  that rotates from round to round, so a burst of background load hits all of them alike;
- a ratio A/B is the *median over rounds of the paired ratio* t_A[r] / t_B[r] (the two timings of a
  pair were taken a few milliseconds apart);
- each line prints the median and the minimum time per call next to the ratio.
"""
import statistics
import time

import numpy as np


# ---- timing ------------------------------------------------------------------------------------
CLOCKS = {
    "cpu": (time.process_time, "process CPU time (time.process_time): time slices lost to other processes on a "
                               "shared machine are not counted; right for single-threaded runs"),
    "wall": (time.perf_counter, "wall time (time.perf_counter)"),
}
clock = time.perf_counter


def set_clock(name):
    """Choose the clock every timing here uses: 'cpu' or 'wall'. Returns its description."""
    global clock
    clock = CLOCKS[name][0]
    return CLOCKS[name][1]


def interleaved(contenders, rounds, inner=1, warmup=2):
    """Seconds per call of each contender, one sample per round: {name: ndarray(rounds)}.

    contenders: {name: zero-argument callable}. Every round runs each callable `inner` times in a row;
    the start of the rotation moves by one each round.
    """
    names = list(contenders)
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    samples = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn = contenders[name]
            t0 = clock()
            for _ in range(inner):
                fn()
            samples[name].append((clock() - t0) / inner)
    return {name: np.array(v) for name, v in samples.items()}


def paired_ratio(times, a, b):
    """Median over rounds of times[a][r] / times[b][r]."""
    return float(np.median(times[a] / times[b]))


def ratio_ci(times, a, b, level=0.95, resamples=2000, seed=0):
    """Bootstrap confidence interval of the median paired ratio times[a] / times[b] (rounds resampled)."""
    r = times[a] / times[b]
    rng = np.random.default_rng(seed)
    medians = np.median(r[rng.integers(0, len(r), (resamples, len(r)))], axis=1)
    tail = (1 - level) / 2 * 100
    return float(np.percentile(medians, tail)), float(np.percentile(medians, 100 - tail))


def rounds_for(seconds_per_call, budget, inner=1, lo=5, hi=400):
    """How many rounds fit `budget` seconds for one contender."""
    n = int(budget / max(seconds_per_call * inner, 1e-9))
    return max(lo, min(hi, n))


def probe(fn, repeat=3):
    """A rough time per call (min of a few), to size the rounds."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


# ---- formatting ----------------------------------------------------------------------------------
def fmt_time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def fmt_bytes(n):
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024


class Report:
    """Prints section by section and keeps every PASS/MISS verdict for the summary at the end."""

    def __init__(self):
        self.verdicts = []

    def section(self, title):
        print(f"\n== {title} " + "=" * max(0, 76 - len(title)), flush=True)

    def line(self, text=""):
        print(f"  {text}", flush=True)

    def note(self, text):
        print(f"  ({text})", flush=True)

    def unavailable(self, what, why, state="not available yet"):
        print(f"  {what}: {state} ({why})", flush=True)
        self.verdicts.append((what, None, "n/a"))

    def timing_table(self, times, reference, names=None):
        """One line per contender: median and min per call, paired ratio to `reference`."""
        names = names or list(times)
        width = max(len(n) for n in names)
        for name in names:
            t = times[name]
            ratio = "" if name == reference else (f"   ratio to {reference}: {paired_ratio(times, name, reference):.3f}"
                                                  f" (of minima {np.min(t) / np.min(times[reference]):.3f})")
            self.line(f"{name:<{width}}  median {fmt_time(np.median(t)):>10}   min {fmt_time(np.min(t)):>10}{ratio}")

    def check(self, what, value, target, fmt="{:.3f}", op="<="):
        ok = value <= target if op == "<=" else value >= target
        verdict = "PASS" if ok else "MISS"
        self.line(f"{verdict}  {what}: {fmt.format(value)} (target {op} {fmt.format(target)})")
        self.verdicts.append((what, value, verdict))
        return ok

    def summary(self):
        self.section("summary")
        for what, _, verdict in self.verdicts:
            self.line(f"{verdict:<4}  {what}")
        counts = {v: sum(1 for *_, x in self.verdicts if x == v) for v in ("PASS", "MISS", "n/a")}
        self.line(f"{counts['PASS']} PASS, {counts['MISS']} MISS, {counts['n/a']} not available or skipped")


def median(xs):
    return statistics.median(xs)
