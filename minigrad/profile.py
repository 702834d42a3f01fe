"""The efficiency report: what a model costs in parameters, operations, memory, time and energy.

    report = mg.profile(model, x)                  # x: an example batch
    print(report)                                   # .to_text(), .to_markdown(), .to_dict() (JSON-able)
    print(mg.profile([float_mlp, binary_mlp], x))   # side by side, and whether the rankings agree
    report                                          # in Jupyter: HTML tables (_repr_html_)

The metrics, and which depend on the hardware:

| metric | what it measures | hardware independent |
| --- | --- | --- |
| parameter size | memory footprint (bytes at real precision: 1 bit per binary weight, k per k-bit, log2 3 = 1.58 per ternary one (2 packed)) | yes |
| FLOPs, MACs, BOPs, OPs | operations the model needs (OPs = BOPs/64 + FLOPs) | yes |
| arithmetic intensity | FLOPs per byte moved: where the model sits on the roofline | yes |
| peak activation memory | bytes of the arrays ops make from the input and keep, alive at once (measured here) | no: it is a property of the implementation too |
| estimated latency | roofline: per op max(ops / peak FLOP/s, bytes / bandwidth), summed | no |
| estimated energy | Horowitz (ISSCC 2014, 45 nm) energies per op and per memory access: the same table whatever the hardware profile, so a fixed 45 nm estimate | no (the estimate does not follow it) |
| measured latency, throughput | median wall time of repeated runs here (BLAS threads reported); samples per second | no |

Counting conventions. minigrad counts one multiply-add (MAC) as two FLOPs, as `torch.utils.flop_counter`
does. Many papers and fvcore count one "FLOP" per MAC (and skip elementwise ops): binary-network papers
(Bi-Real Net, Liu et al. ECCV 2018; ReActNet, Liu et al. ECCV 2020) report OPs = BOPs/64 + FLOPs with FLOPs
meaning MACs. The report gives both: `ops_forward` (BOPs/64 + FLOPs) and `ops_forward_papers` (BOPs/64 + MACs).
The 64 is word-level parallelism: a 64-bit XNOR and a popcount do 64 binary multiply-adds at once
(`BOP_WORD`); the energy table prices one such word as one 64-bit integer add, so the two agree.

Ternary weights (BitNet b1.58's {-1, 0, +1}, `mg.nn.BitLinear`): a product with them needs no multiplication, so
the tracer counts its additions (FLOPs, no MACs) in the category 'ternary', reported apart ("ternary adds"); the
energy table prices them as 8-bit integer additions, BitNet b1.58's own accounting (its activations are 8-bit), an
assumption stated in the report. A ternary weight counts log2 3 = 1.58 bits at real precision and 2 bits packed
(four a byte; `packed_param_bytes`).

Counts come from the tracer (`mg.trace`): forward is one call of the model; backward is the backward of the
output with a gradient of ones (no loss op). Ops whose inputs are parameters only (sign(W) of a binary layer,
a weight's transpose) are *weight preparation*: at inference the prepared weight is stored (a binary weight as
1 bit), so they are reported apart ("weight_prep_*") and not in the forward pass, its memory or its energy;
their FLOPs are `tr.flops("forward")` minus the report's forward FLOPs.
Peak activation memory counts the arrays the ops of the profiled call make from the input and keep (outputs,
and what graph nodes keep for backward) by the allocation that owns them, once: it stays within a few percent
under tracemalloc's peak (the rest is temporaries inside an op and Python objects). It depends on how the ops
are implemented (im2col copies, what backward keeps), not only on the model.
Profiling leaves the model as it found it: gradients, buffers (batch-norm statistics) and the global
random generator are restored.
"""
import json
import time
import weakref
from dataclasses import asdict, dataclass, field

import numpy as np

from . import autograd
from .tensor import default_rng
from .tensor import Tensor
from .trace import _ARRAYS, Table, human, trace

__all__ = ["profile", "Report", "Comparison", "Hardware", "EnergyTable", "HARDWARE", "HOROWITZ_45NM",
           "HORWITZ_45NM", "BOP_WORD", "register_hardware", "get_hardware", "measure_this_machine", "METRICS",
           "blas_threads", "blas_threads_limited", "set_blas_threads"]

BOP_WORD = 64  # binary ops per machine word: OPs = BOPs / BOP_WORD + FLOPs, and a word's energy is one 64-bit add

METRICS = [  # the table: (metric, what it measures, mainly affects, mainly affected by, hardware independent)
    ("parameter size", "memory footprint of the model", "latency, storage",
     "architecture, implementation, floating-point precision", True),
    ("FLOPs (and MACs)", "operations the model needs", "latency, energy", "architecture, implementation", True),
    ("latency", "time for one inference", "the user's experience", "parameter size, FLOPs, hardware", False),
    ("energy", "power consumed", "training and inference cost", "architecture, implementation", False),
    ("throughput", "inferences per unit of time", "the user's experience, energy", "all of the above", False),
]


# ---- hardware ---------------------------------------------------------------------------------------
@dataclass
class Hardware:
    """A roofline: peak float32 FLOP/s and memory bandwidth (bytes/s), with where the numbers come from."""
    name: str
    peak_flops: float
    bandwidth: float
    source: str
    measured: bool = False

    @property
    def ridge(self):
        """FLOPs per byte above which an op is compute bound (the roofline's ridge point)."""
        return self.peak_flops / self.bandwidth

    def time(self, ops, nbytes):
        """Roofline time of one op: the larger of its compute time and its memory time."""
        return max(ops / self.peak_flops, nbytes / self.bandwidth)

    def __str__(self):
        kind = "measured" if self.measured else "published"
        return (f"{self.name}: {human(self.peak_flops)}FLOP/s, {human(self.bandwidth, 'B')}/s "
                f"({kind}; {self.source})")


HARDWARE = {
    # Peak numbers: data-sheet values, or cores x clock x FLOPs per cycle where the sheet gives those.
    "laptop-cpu": Hardware(
        "laptop CPU (Intel Core i7-1165G7)", 4 * 2.8e9 * 32, 68.3e9,
        "Intel ARK: 4 cores, 2.8 GHz base, AVX-512 with one FMA unit = 32 float32 FLOPs/cycle/core; "
        "LPDDR4x-4266, 128-bit bus = 68.3 GB/s"),
    "raspberry-pi-4": Hardware(
        "Raspberry Pi 4 (BCM2711)", 4 * 1.5e9 * 8, 12.8e9,
        "raspberrypi.com product brief: 4x Cortex-A72 at 1.5 GHz, 128-bit NEON FMA = 8 float32 FLOPs/cycle/core; "
        "LPDDR4-3200, 32-bit bus = 12.8 GB/s"),
    "a100": Hardware(
        "NVIDIA A100 80GB SXM", 19.5e12, 2039e9,
        "NVIDIA A100 data sheet: 19.5 TFLOPS FP32 (156 TFLOPS TF32 tensor core), 2,039 GB/s HBM2e"),
    "h100": Hardware(
        "NVIDIA H100 SXM", 67e12, 3.35e12,
        "NVIDIA H100 data sheet: 67 TFLOPS FP32 (SXM), 3.35 TB/s HBM3"),
}
_measured = {}


def register_hardware(key, hardware):
    """Add (or replace) a hardware profile, usable as `mg.profile(..., hardware=key)`."""
    if not isinstance(hardware, Hardware):
        raise TypeError(f"register_hardware: expected a minigrad.profile.Hardware, got {type(hardware).__name__}")
    HARDWARE[key] = hardware
    return hardware


def measure_this_machine(refresh=False):
    """This machine's roofline, measured once per process by a short micro-benchmark (well under a
    second): float32 matmul FLOP/s (NumPy's BLAS, best of a few 512x512 products) and memory bandwidth
    (best of a few 32 MB copies: 2 x 32 MB moved each). Measured again when the number of BLAS threads
    has changed since (see `blas_threads_limited`)."""
    key = ("this-machine", blas_threads())
    if key in _measured and not refresh:
        return _measured[key]
    rng = np.random.default_rng(0)
    n = 512
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        np.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    flops = 2 * n ** 3 / best
    src = np.ones(8 * 2 ** 20, np.float32)  # 32 MB: larger than the caches
    dst = np.empty_like(src)
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    bandwidth = 2 * src.nbytes / best
    threads = key[1]
    hw = Hardware("this machine", flops, bandwidth, "measured now: 512x512 float32 matmul, 32 MB copy"
                  + (f", {threads} BLAS thread{'s' if threads != 1 else ''}" if threads else ""), measured=True)
    _measured[key] = hw
    return hw


def get_hardware(hardware):
    """A Hardware from a name ('this-machine', 'laptop-cpu', 'raspberry-pi-4', 'a100', 'h100', or one you
    registered) or a Hardware itself."""
    if isinstance(hardware, Hardware):
        return hardware
    if hardware == "this-machine":
        return measure_this_machine()
    if hardware not in HARDWARE:
        raise ValueError(f"profile: unknown hardware {hardware!r}; choose from 'this-machine', "
                         f"{', '.join(repr(k) for k in HARDWARE)}, or register_hardware(name, Hardware(...))")
    return HARDWARE[hardware]


# ---- energy -----------------------------------------------------------------------------------------
@dataclass
class EnergyTable:
    """Energy per operation and per memory access, in picojoules, with its source.

    The model (an estimate, as in the papers that use this table): a MAC costs one multiply and one add
    at the data's precision, every other FLOP one add; a BOP costs `bop_pj` (not in Horowitz's table:
    an assumption, stated in `bop_note`); every byte an op reads or writes costs an SRAM access (64-bit
    words of a 32 KB cache), and the parameters, at their real precision, are read once from DRAM.
    The table belongs to one process node (Horowitz's: 45 nm); the report uses it whatever hardware
    profile it is given, so its energy is that node's estimate, not the chosen hardware's.
    """
    name: str
    source: str
    pj: dict
    bop_pj: float
    bop_note: str
    ternary_add: str = "int8_add"
    ternary_note: str = ("a ternary product's additions (category 'ternary') are priced as 8-bit integer adds, as "
                         "BitNet b1.58 (Ma et al. 2024) accounts for its 8-bit activations (an assumption: the "
                         "accumulators are wider)")

    def precision(self, dtype):
        return "fp16" if np.dtype(dtype).itemsize == 2 else "fp32"

    def op_energy(self, record):
        """Energy of one traced op's arithmetic and on-chip memory traffic, in joules."""
        p = self.precision(record.out_dtype)
        mult, add = self.pj[f"{p}_mult"], self.pj[f"{p}_add"]
        pj = record.macs * (mult + add) + (record.flops - 2 * record.macs) * add + record.bops * self.bop_pj
        if record.category == "ternary":  # additions of 8-bit levels selected by ternary weights
            pj += record.flops * (self.pj[self.ternary_add] - add)
        pj += record.bytes / 8 * self.pj["sram_32kb_64bit"]
        return pj * 1e-12

    def dram_energy(self, nbytes):
        return nbytes / 8 * self.pj["dram_64bit"] * 1e-12


HOROWITZ_45NM = EnergyTable(
    name="Horowitz 45 nm",
    source="M. Horowitz, \"Computing's energy problem (and what we can do about it)\", ISSCC 2014, "
           "pp. 10-14 (45 nm, 0.9 V); the same table for every hardware profile: a fixed 45 nm estimate",
    pj={"int8_add": 0.03, "int32_add": 0.1, "fp16_add": 0.4, "fp32_add": 0.9,
        "int8_mult": 0.2, "int32_mult": 3.1, "fp16_mult": 1.1, "fp32_mult": 3.7,
        "sram_8kb_64bit": 10.0, "sram_32kb_64bit": 20.0, "sram_1mb_64bit": 100.0,
        "dram_64bit": 1300.0},  # the table gives 1.3-2.6 nJ per 64-bit DRAM access; the low end here
    bop_pj=2 * 0.1 / BOP_WORD,
    bop_note=f"XNOR and popcount are not in Horowitz's table (an assumption, stated): one {BOP_WORD}-bit word of "
             f"XNOR-popcount does {BOP_WORD} BOPs (the {BOP_WORD} of OPs = BOPs/{BOP_WORD} + FLOPs) and is priced "
             f"as one 64-bit integer add, two 32-bit adds (2 x 0.1 pJ): 0.2/{BOP_WORD} pJ per BOP",
)
HORWITZ_45NM = HOROWITZ_45NM  # the earlier, misspelt name, kept so that old code keeps working


# ---- measuring ---------------------------------------------------------------------------------------
def _allocation(a):
    """The ndarray owning a's memory: `a` itself, or the end of its `.base` chain (passing through the
    non-array holders some views have, as `as_strided`'s)."""
    owner, b = a, a.base
    while b is not None:
        if isinstance(b, np.ndarray):
            owner = b
        b = getattr(b, "base", None)
    return owner


class _LiveBytes:
    """Observer: bytes alive at once of what ops make from the input (their outputs, and the arrays a graph node
    keeps for backward: batch norm's normalised input, max pool's mask), counted by the allocation that owns
    them (a view's base), once while that allocation lives. A view of an input or of an allocation already
    counted adds nothing; a view of a new allocation (im2col's columns are a reshape of a new array) adds all
    of it. Only the ops of `tracer`'s context count (other threads' memory is theirs).

    An op of the forward pass whose tensor inputs are all parameters (or made from parameters only) is weight
    preparation: sign(W), a transpose. Its arrays are a copy of the weights, which parameter size already
    counts at their real precision: they go to `weight_copy_bytes`, not to the activations, and the op's
    index in the tracer's records to `weight_ops`."""

    def __init__(self, tracer, params=()):
        self.tracer = tracer
        self.live = self.peak = 0
        self._held = {}  # id(owning array) -> weak reference whose callback takes its bytes off
        # the allocations holding weights: the parameters' (a detached parameter shares it), and those of the
        # arrays made from weights only (kept alive here, so that no id is reused while profiling)
        self._weights = {id(_allocation(p.data)) for p in params}
        self._keep = []
        self.weight_ops, self.weight_copy_bytes = set(), 0

    def _free(self, key, n):
        del self._held[key]
        self.live -= n

    def on_op(self, cls, ctx, args, kwargs, result, elapsed):
        if not self.tracer.recording():
            return
        # an array argument is an input too (an embedding's indices reach its op as an ndarray): an op that
        # takes one not made from weights is not weight preparation
        tensors = [a.data if isinstance(a, Tensor) else a for a in args if isinstance(a, _ARRAYS)]
        if tensors and autograd.current_phase() == "forward" and \
                all(id(_allocation(t)) in self._weights for t in tensors):
            self.weight_ops.add(len(self.tracer._raw) - 1)  # the tracer observed this op just before us
            owner = _allocation(result.data)
            if id(owner) not in self._weights:
                self._weights.add(id(owner))
                self._keep.append(owner)
                self.weight_copy_bytes += owner.nbytes
            return
        made = [result.data]
        if result.grad_fn is ctx:
            made += [v for v in vars(ctx).values() if isinstance(v, np.ndarray)]
        inputs = None
        for a in made:
            owner = _allocation(a)
            key, n = id(owner), owner.nbytes
            if key in self._held or not n:
                continue
            if inputs is None:
                inputs = {id(_allocation(x.data if isinstance(x, Tensor) else x)) for x in args
                          if isinstance(x, _ARRAYS)}
            if key in inputs:
                continue  # an input's memory (a parameter's transpose, say): not made by this op
            self._held[key] = weakref.ref(owner, lambda _, key=key, n=n: self._free(key, n))
            self.live += n
            self.peak = max(self.peak, self.live)


# ---- BLAS threads ------------------------------------------------------------------------------------
def _openblas():
    """(get, set) of the OpenBLAS that NumPy's wheel bundles, through ctypes (threadpoolctl's method, for this
    one library), or None."""
    import ctypes
    import glob
    import os
    here = os.path.dirname(np.__file__)
    for lib in sorted(glob.glob(os.path.join(here, "..", "numpy.libs", "*openblas*")) +
                      glob.glob(os.path.join(here, ".dylibs", "*openblas*"))):
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                               ("openblas", "")):
            get = getattr(handle, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(handle, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                put.argtypes = [ctypes.c_int]
                return get, put
    return None


def blas_threads():
    """The number of threads NumPy's BLAS (matrix products) uses now, or None when it cannot be read.
    Read with threadpoolctl when it is installed, else from the OpenBLAS inside NumPy's wheel."""
    try:
        import threadpoolctl
        counts = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return int(max(counts))
    except ImportError:
        pass
    lib = _openblas()
    return int(lib[0]()) if lib is not None else None


def set_blas_threads(n):
    """Make NumPy's BLAS use `n` threads from now on (as torch.set_num_threads); returns the number it used
    before, or None when it cannot be changed here (no threadpoolctl, no OpenBLAS inside NumPy's wheel; set
    OMP_NUM_THREADS before starting Python instead). One thread gives timings that do not depend on how busy
    the machine is, and on small matrices (a tutorial's) it is often the fastest."""
    if int(n) != n or n < 1:
        raise ValueError(f"set_blas_threads: n must be a positive integer, got {n!r}")
    before = blas_threads()
    try:
        import threadpoolctl
        threadpoolctl.threadpool_limits(limits=int(n), user_api="blas")
        return before
    except ImportError:
        pass
    lib = _openblas()
    if lib is None:
        return None
    lib[1](int(n))
    return before


class blas_threads_limited:
    """`with blas_threads_limited(1):` NumPy's BLAS uses at most that many threads inside the block (the old
    number is restored after). Timings then do not depend on how many cores are free, and models that BLAS
    parallelises well are not favoured. Without threadpoolctl or NumPy's bundled OpenBLAS it changes
    nothing (set OMP_NUM_THREADS=1 before starting Python instead); `blas_threads()` tells."""

    def __init__(self, n):
        if n is not None and (int(n) != n or n < 1):
            raise ValueError(f"profile: threads must be a positive integer or None, got {n!r}")
        self.n, self._undo = n, None

    def __enter__(self):
        if self.n is None:
            return self
        try:
            import threadpoolctl
            self._undo = threadpoolctl.threadpool_limits(limits=int(self.n), user_api="blas")
            return self
        except ImportError:
            pass
        lib = _openblas()
        if lib is not None:
            before = int(lib[0]())
            lib[1](int(self.n))
            self._undo = lambda: lib[1](before)
        return self

    def __exit__(self, *exc):
        undo, self._undo = self._undo, None
        if undo is None:
            return False
        if callable(undo):
            undo()
        else:
            undo.restore_original_limits()
        return False


def _median_time(fn, repeats):
    """Median wall time of fn(); `repeats` runs, or as many as fit in about 0.2 s (3 to 30) when None."""
    fn()  # warm up
    if repeats is None:
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-6)
        repeats = int(min(30, max(3, 0.2 / once)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), repeats


class _Preserved:
    """Restores a model's gradients, buffers and the global generator after profiling."""

    def __init__(self, model):
        self.params = list(model.parameters())
        self.grads = [p.grad for p in self.params]
        self.buffers = [(b, np.array(b.data)) for m in model.modules() for b in m._buffers.values()
                        if b is not None]
        self.rng_state = default_rng().bit_generator.state

    def clear_grads(self):
        for p in self.params:
            p.grad = None

    def restore(self):
        for p, g in zip(self.params, self.grads):
            p.grad = g
        for b, saved in self.buffers:
            np.copyto(b.data, saved)
        default_rng().bit_generator.state = self.rng_state


def _call(model, inputs):
    return model(*inputs)


def _param_stats(params):
    params = [p for p in params if p is not None]
    count = sum(int(p.size) for p in params)
    nbytes = sum(getattr(p, "bits", p.dtype.itemsize * 8) * int(p.size) / 8 for p in params)
    return count, nbytes


def _packed_bytes(params):
    """Parameter bytes as stored packed: `packed_bits` where a parameter declares it (2 per ternary weight), its
    bits at real precision otherwise."""
    return sum(getattr(p, "packed_bits", getattr(p, "bits", p.dtype.itemsize * 8)) * int(p.size) / 8
               for p in params if p is not None)


# ---- the report ---------------------------------------------------------------------------------------
def _independent(metric, independent):
    """The "hardware independent" cell: energy depends on the hardware, but this estimate does not follow it."""
    if metric == "energy":
        return "no (estimated at 45 nm here)"
    return "yes" if independent else "no"


def _threads_note(t):
    n = t.get("blas_threads")
    return f"{n} BLAS thread{'s' if n != 1 else ''}" if n else "BLAS threads unknown"


@dataclass
class Report:
    """One model's efficiency report; `layers` holds one dict per layer (leaf module)."""
    model: str
    batch_size: int
    hardware: Hardware
    energy_table: str
    totals: dict
    layers: list = field(default_factory=list)
    uncounted: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # conventions this report needed (e.g. how ternary adds are priced)

    # -- renderings --
    def metrics_table(self):
        """The table of metrics, filled with this model's numbers, and which depend on the hardware."""
        values = self.metric_values()
        rows = [{"metric": m, "value": values[m], "hardware independent": _independent(m, ind)}
                for m, _, _, _, ind in METRICS]
        return Table(rows, ["metric", "value", "hardware independent"])

    def metric_values(self, compact=False):
        """metric name -> this model's value as text (the rows of METRICS); compact for side by side."""
        t = self.totals
        if compact:
            lat, est = t.get("measured_latency_s"), t["est_latency_forward_s"]
            return {
                "parameter size": human(t["param_bytes"], "B"),
                "FLOPs (and MACs)": human(t["flops_forward"]) + (f" + {human(t['bops_forward'])} BOPs"
                                                                 if t["bops_forward"] else "")
                + (f" (of which {human(t['ternary_adds_forward'])} ternary adds)"
                   if t.get("ternary_adds_forward") else ""),
                "latency": f"{lat * 1e3:.3f} ms" if lat is not None else f"{est * 1e3:.4f} ms (roofline)",
                "energy": f"{t['est_energy_forward_j'] * 1e6:.3f} uJ (45 nm)",
                "throughput": f"{t['throughput']:.0f} /s" if t.get("throughput") else "-",
            }
        lat = t.get("measured_latency_s")
        values = {
            "parameter size": f"{human(t['params'])} params, {human(t['param_bytes'], 'B')}",
            "FLOPs (and MACs)": f"{human(t['flops_forward'])} FLOPs, {human(t['macs_forward'])} MACs, "
                                f"{human(t['bops_forward'])} BOPs (forward)"
                                + (f"; {human(t['ternary_adds_forward'])} of the FLOPs are ternary additions"
                                   if t.get("ternary_adds_forward") else ""),
            "latency": (f"{lat * 1e3:.3f} ms measured, {t['est_latency_forward_s'] * 1e3:.4f} ms roofline"
                        if lat is not None else f"{t['est_latency_forward_s'] * 1e3:.4f} ms roofline"),
            "energy": f"{t['est_energy_forward_j'] * 1e6:.3f} uJ per batch (fixed 45 nm estimate)",
            "throughput": (f"{t['throughput']:.0f} samples/s" if t.get("throughput") else "-"),
        }
        return values

    def layer_table(self):
        rows = [{**r, "param_bytes": r["param_bytes"], "intensity": f"{r['intensity']:.2f}" if r["intensity"] else "-",
                 "est_latency": f"{r['est_latency_forward_s'] * 1e6:.2f} us"} for r in self.layers]
        cols = ["layer", "type", "params", "param_bytes", "flops_forward", "flops_backward", "macs_forward",
                "bops_forward", "activation_bytes", "intensity", "est_latency"]
        return Table(rows, cols, title="per layer (forward unless marked; intensity = OPs per byte)")

    def to_text(self):
        t = self.totals
        lines = [f"{self.model}: batch {self.batch_size}, hardware {self.hardware}", str(self.metrics_table()), ""]
        lines.append(self.layer_table().to_text())
        lines.append("")
        lines.append("totals            forward        backward")
        for key, label in (("flops", "FLOPs"), ("macs", "MACs"), ("bops", "BOPs"), ("ops", "OPs")):
            fwd, bwd = t.get(f"{key}_forward"), t.get(f"{key}_backward")
            lines.append(f"  {label:<14}{human(fwd):>12}{human(bwd):>16}")
        lines.append(f"  (OPs = BOPs/{BOP_WORD} + FLOPs, one MAC = 2 FLOPs; in the papers' convention, one MAC = 1 FLOP: "
                     f"BOPs/{BOP_WORD} + MACs = {human(t['ops_forward_papers'])} forward)")
        if t.get("weight_prep_flops") or t.get("weight_prep_bytes"):
            lines.append(f"  weight preparation (once per weight update, not per batch; e.g. sign(W)): "
                         f"{human(t['weight_prep_flops'])} FLOPs, a {human(t['weight_prep_bytes'], 'B')} copy of the "
                         "weights; not in the forward counts")
        packed = t.get("packed_param_bytes")
        lines.append(f"  parameters    {t['params']:>12,} ({human(t['param_bytes'], 'B')} at real precision, "
                     + (f"{human(packed, 'B')} packed, " if packed is not None and packed != t["param_bytes"] else "")
                     + f"{human(t['param_bytes_float32'], 'B')} as float32)")
        if t.get("ternary_adds_forward"):
            lines.append(f"  ternary adds  {human(t['ternary_adds_forward']):>12} forward (additions of a product with "
                         "ternary weights: FLOPs without MACs)")
        lines.append(f"  peak activations {human(t['peak_activation_bytes'], 'B'):>9}"
                     + (f" (forward); {human(t['peak_training_bytes'], 'B')} over forward + backward"
                        if t.get("peak_training_bytes") is not None else " (forward, no graph)")
                     + " (of this implementation)")
        lines.append(f"  arithmetic intensity {t['intensity']:.2f} OPs/byte (ridge of this hardware: "
                     f"{self.hardware.ridge:.1f})")
        lines.append(f"  estimated latency {t['est_latency_forward_s'] * 1e3:.4f} ms forward"
                     + (f", {t['est_latency_train_s'] * 1e3:.4f} ms training step"
                        if t.get("est_latency_train_s") is not None else ""))
        lines.append(f"  estimated energy {t['est_energy_forward_j'] * 1e6:.3f} uJ forward"
                     + (f", {t['est_energy_train_j'] * 1e6:.3f} uJ training step"
                        if t.get("est_energy_train_j") is not None else ""))
        lines.append(f"    (energy table: {self.energy_table})")
        lines += [f"    ({note})" for note in self.notes]
        if t.get("measured_latency_s") is not None:
            lines.append(f"  measured latency {t['measured_latency_s'] * 1e3:.3f} ms forward (median of "
                         f"{t['repeats']}, {_threads_note(t)}), throughput {t['throughput']:.0f} samples/s"
                         + (f"; training step {t['measured_train_s'] * 1e3:.3f} ms"
                            if t.get("measured_train_s") is not None else ""))
        if t.get("packed_latency_s") is not None:
            lines.append(f"  packed 1-bit inference (mg.nn.binary.pack, eval mode): {t['packed_latency_s'] * 1e3:.3f} ms "
                         f"measured ({t['measured_latency_s'] / t['packed_latency_s']:.2f}x the float-emulated forward "
                         f"above), {human(t['packed_weight_bytes'], 'B')} held ({human(t['weight_bytes'], 'B')} of "
                         "float weights trained)")
        if self.uncounted:
            lines.append(f"  not counted: {', '.join(self.uncounted)}")
        return "\n".join(lines)

    def to_markdown(self):
        return "\n".join([f"**{self.model}** (batch {self.batch_size}, {self.hardware.name})", "",
                          self.metrics_table().to_markdown(), "", self.layer_table().to_markdown()])

    def to_dict(self):
        return {"model": self.model, "batch_size": self.batch_size, "hardware": asdict(self.hardware),
                "energy_table": self.energy_table, "totals": dict(self.totals), "layers": [dict(r) for r in self.layers],
                "uncounted": list(self.uncounted), "notes": list(self.notes),
                "metrics": [{"metric": m, "what": w, "affects": a, "affected_by": b, "hardware_independent": i}
                            for m, w, a, b, i in METRICS]}

    def to_json(self, **kwargs):
        return json.dumps(self.to_dict(), **kwargs)

    def _repr_html_(self):
        """Jupyter: the metrics and the per-layer table as HTML, and the totals as text."""
        import html
        head = html.escape(f"{self.model}: batch {self.batch_size}, hardware {self.hardware}")
        totals = self.to_text().split("\n\n")[-1]
        return "\n".join([f"<p><b>{head}</b></p>", self.metrics_table().to_html(), self.layer_table().to_html(),
                          f"<pre>{html.escape(totals)}</pre>"])

    __str__ = to_text

    def __repr__(self):
        t = self.totals
        return (f"<Report {self.model}: {human(t['params'])} params, {human(t['flops_forward'])} FLOPs forward, "
                f"{human(t['bops_forward'])} BOPs>")


def _layers(model):
    """(path, module) of the layers: the modules without children (the model itself if it has none)."""
    leaves = [(p, m) for p, m in model.named_modules() if not any(True for _ in m.children())]
    return leaves


def _packed_measures(model, inputs, repeats):
    """For a model with 1-bit weights: the measured latency and the bytes held of its packed inference module
    (mg.nn.binary.pack: weights as bits, XNOR-popcount), beside the float-emulated model's own measures."""
    if not any(getattr(p, "bits", None) == 1 for p in model.parameters()):
        return {}
    from .nn.binary import pack
    try:
        packed = pack(model)
    except TypeError as e:  # not an nn.Sequential
        return {"packed_note": str(e)}
    lat, _ = _median_time(lambda: _call(packed, inputs), repeats)
    return {"packed_latency_s": lat, "packed_weight_bytes": packed.weight_bytes(),
            "weight_bytes": sum(int(p.data.nbytes) for p in model.parameters())}


def _profile_one(model, inputs, backward, hw, energy, repeats, name, measure):
    from .trace import _under
    keep = _Preserved(model)
    try:
        keep.clear_grads()
        with trace(model, grad_norms=False) as tr:
            memory = _LiveBytes(tr, keep.params)
            autograd._observers.append(memory)
            try:
                if backward:
                    out = _call(model, inputs)
                    forward_peak = memory.peak
                    if isinstance(out, Tensor) and out.requires_grad:
                        out.backward(Tensor(np.ones(out.shape, out.dtype)))
                    else:
                        backward = False
                else:
                    with autograd.no_grad():
                        out = _call(model, inputs)
                    forward_peak = memory.peak
            finally:
                autograd._observers.remove(memory)
        peak_training = memory.peak if backward else None
        del out
        measured = {}
        if measure:
            keep.clear_grads()
            with autograd.no_grad():
                lat, reps = _median_time(lambda: _call(model, inputs), repeats)
            measured = {"measured_latency_s": lat, "repeats": reps, "blas_threads": blas_threads()}
            if backward:
                def step():
                    keep.clear_grads()
                    y = _call(model, inputs)
                    y.backward(Tensor(np.ones(y.shape, y.dtype)))
                measured["measured_train_s"] = _median_time(step, repeats)[0]
            measured.update(_packed_measures(model, inputs, repeats))
    finally:
        keep.restore()

    def totals_of(records):
        return {"flops": sum(r.flops for r in records), "macs": sum(r.macs for r in records),
                "bops": sum(r.bops for r in records), "bytes": sum(r.bytes for r in records),
                "est_latency_s": sum(hw.time(r.flops + r.bops / BOP_WORD, r.bytes) for r in records),
                "energy_j": sum(energy.op_energy(r) for r in records)}
    records = tr.records
    prep_records = [records[i] for i in sorted(memory.weight_ops)]
    fwd = [r for i, r in enumerate(records) if r.phase == "forward" and i not in memory.weight_ops]
    bwd = tr.select(phase="backward")
    f, b, w = totals_of(fwd), totals_of(bwd), totals_of(prep_records)
    count, nbytes = _param_stats(model.parameters())
    batch = int(inputs[0].shape[0]) if getattr(inputs[0], "ndim", 0) else 1
    ops_fwd = f["bops"] / BOP_WORD + f["flops"]
    totals = {
        "params": count, "param_bytes": nbytes, "param_bytes_float32": 4 * count,
        "packed_param_bytes": _packed_bytes(model.parameters()),
        "ternary_adds_forward": sum(r.flops for r in fwd if r.category == "ternary"),
        "ternary_adds_backward": sum(r.flops for r in bwd if r.category == "ternary") if backward else None,
        "flops_forward": f["flops"], "macs_forward": f["macs"], "bops_forward": f["bops"], "ops_forward": ops_fwd,
        "ops_forward_papers": f["bops"] / BOP_WORD + f["macs"],
        "flops_backward": b["flops"] if backward else None, "macs_backward": b["macs"] if backward else None,
        "bops_backward": b["bops"] if backward else None,
        "ops_backward": b["bops"] / BOP_WORD + b["flops"] if backward else None,
        "bytes_forward": f["bytes"], "bytes_backward": b["bytes"] if backward else None,
        "weight_prep_flops": w["flops"], "weight_prep_bytes": memory.weight_copy_bytes,
        "intensity": ops_fwd / f["bytes"] if f["bytes"] else 0.0,
        "peak_activation_bytes": forward_peak, "peak_training_bytes": peak_training,
        "est_latency_forward_s": f["est_latency_s"],
        "est_latency_train_s": f["est_latency_s"] + b["est_latency_s"] if backward else None,
        "est_energy_forward_j": f["energy_j"] + energy.dram_energy(nbytes),
        "est_energy_train_j": f["energy_j"] + b["energy_j"] + energy.dram_energy(nbytes) if backward else None,
        **measured,
    }
    if "measured_latency_s" in totals:
        totals["throughput"] = batch / totals["measured_latency_s"]
    layers = []
    for path, module in _layers(model):
        lf = [r for r in fwd if _under(r.module, path)]
        lb = [r for r in bwd if _under(r.module, path)]
        tf, tb = totals_of(lf), totals_of(lb)
        pcount, pbytes = _param_stats(module._parameters.values())
        ops = tf["bops"] / BOP_WORD + tf["flops"]
        layers.append({
            "layer": path or "(model)", "type": type(module).__name__, "params": pcount, "param_bytes": pbytes,
            "flops_forward": tf["flops"], "macs_forward": tf["macs"], "bops_forward": tf["bops"],
            "ternary_adds_forward": sum(r.flops for r in lf if r.category == "ternary"),
            "flops_backward": tb["flops"] if backward else None, "macs_backward": tb["macs"] if backward else None,
            "activation_bytes": sum(r.bytes_written for r in lf),
            "intensity": ops / tf["bytes"] if tf["bytes"] else 0.0,
            "est_latency_forward_s": tf["est_latency_s"],
            "est_energy_forward_j": tf["energy_j"] + energy.dram_energy(pbytes)})
    uncounted = sorted({r.name for r in tr.uncounted()})
    notes = [f"energy: {energy.ternary_note}"] if totals["ternary_adds_forward"] else []
    return Report(name, batch, hw, f"{energy.name}: {energy.source}", totals, layers, uncounted, notes)


def profile(model, example_input, backward=True, hardware="this-machine", energy=HOROWITZ_45NM, repeats=None,
            names=None, measure=True, threads=None):
    """The efficiency report of `model` on `example_input` (a batch: Tensor, ndarray, or a tuple of them).

    backward: also count (and time) the backward pass of the output. hardware: a name ('this-machine',
    measured now; 'laptop-cpu', 'raspberry-pi-4', 'a100', 'h100', published) or a `Hardware`. energy: an
    `EnergyTable` (default Horowitz, ISSCC 2014, 45 nm, whatever the hardware). repeats: timed runs
    (default: as many as fit in about 0.2 s). measure=False skips the timing. threads: the number of BLAS
    threads to time with (1 makes timings comparable between models and runs; None: as NumPy is set up);
    the report prints the number it ran with. A list of models gives a `Comparison`.
    """
    inputs = example_input if isinstance(example_input, tuple) else (example_input,)
    inputs = tuple(x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs)
    if not isinstance(energy, EnergyTable):
        raise TypeError(f"profile: energy must be an EnergyTable (see minigrad.profile.HOROWITZ_45NM), "
                        f"got {type(energy).__name__}")
    with blas_threads_limited(threads if measure or hardware == "this-machine" else None):
        hw = get_hardware(hardware)
        if isinstance(model, (list, tuple)):
            if names is None:
                names = [type(m).__name__ for m in model]
                if len(set(names)) < len(names):
                    names = [f"{n} #{i + 1}" for i, n in enumerate(names)]
            if len(names) != len(model):
                raise ValueError(f"profile: {len(model)} models but {len(names)} names")
            return Comparison([_profile_one(m, inputs, backward, hw, energy, repeats, n, measure)
                               for m, n in zip(model, names)])
        if not hasattr(model, "named_modules"):
            raise TypeError(f"profile: expected an mg.nn.Module (or a list of them), got {type(model).__name__}")
        return _profile_one(model, inputs, backward, hw, energy, repeats, names or type(model).__name__, measure)


class Comparison:
    """Several reports side by side, and whether ranking by parameters, FLOPs and measured latency agree
    (they often do not: "The Efficiency Misnomer", Dehghani et al., ICLR 2022 / arXiv 2021)."""

    ROWS = [("params", "parameters"), ("param_bytes", "parameter bytes"),
            ("packed_param_bytes", "parameter bytes, packed"), ("flops_forward", "FLOPs forward"),
            ("macs_forward", "MACs forward"), ("ternary_adds_forward", "ternary adds forward"),
            ("bops_forward", "BOPs forward"), ("ops_forward", "OPs forward"),
            ("ops_forward_papers", "OPs, papers' count"), ("flops_backward", "FLOPs backward"),
            ("peak_activation_bytes", "peak activations"), ("intensity", "intensity (OPs/B)"),
            ("est_latency_forward_s", "roofline latency"), ("est_energy_forward_j", "energy (45 nm est.)"),
            ("measured_latency_s", "measured latency"), ("throughput", "throughput (samples/s)"),
            ("packed_latency_s", "packed 1-bit latency"), ("packed_weight_bytes", "packed model's bytes")]

    def __init__(self, reports):
        self.reports = reports

    def __getitem__(self, i):
        return self.reports[i]

    def rankings(self):
        """Model names from cheapest to most expensive, by parameter bytes, FLOPs (OPs), roofline latency on
        the chosen hardware and measured latency (when measured)."""
        out = {}
        for key, label in (("param_bytes", "parameter size"), ("ops_forward", "FLOPs"),
                           ("est_latency_forward_s", "roofline latency"), ("measured_latency_s", "measured latency")):
            if all(r.totals.get(key) is not None for r in self.reports):
                out[label] = [r.model for r in sorted(self.reports, key=lambda r: r.totals[key])]
        return out

    def disagreements(self):
        """Sentences saying which rankings disagree (empty when they all agree)."""
        ranks = self.rankings()
        keys = list(ranks)
        out = []
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                if ranks[a] != ranks[b]:
                    out.append(f"ranking by {a} ({' < '.join(ranks[a])}) disagrees with ranking by {b} "
                               f"({' < '.join(ranks[b])})")
        return out

    def table(self):
        rows = []
        for key, label in self.ROWS:
            row = {"metric": label}
            for r in self.reports:
                v = r.totals.get(key)
                if v is None:
                    row[r.model] = "-"
                elif key.endswith("_s"):
                    row[r.model] = f"{v * 1e3:.4f} ms" if "est" in key else f"{v * 1e3:.3f} ms"
                elif key.endswith("_j"):
                    row[r.model] = f"{v * 1e6:.3f} uJ"
                elif key.endswith("bytes"):
                    row[r.model] = human(v, "B")
                elif key in ("intensity", "throughput"):
                    row[r.model] = f"{v:.2f}" if key == "intensity" else f"{v:.0f}"
                else:
                    row[r.model] = human(v)
            rows.append(row)
        return Table(rows, ["metric"] + [r.model for r in self.reports])

    def metrics_table(self):
        """The table of metrics with one column per model (forward pass of the batch; latency measured
        when measured, else the roofline estimate), and which metrics depend on the hardware."""
        values = [r.metric_values(compact=True) for r in self.reports]
        rows = [{"metric": m, **{r.model: v[m] for r, v in zip(self.reports, values)},
                 "hardware independent": _independent(m, ind)} for m, _, _, _, ind in METRICS]
        return Table(rows, ["metric"] + [r.model for r in self.reports] + ["hardware independent"])

    def notes(self):
        """What the table's conventions are, and what the timing ran with, as sentences."""
        out = [f"OPs = BOPs/{BOP_WORD} + FLOPs with one MAC = 2 FLOPs (torch.utils.flop_counter's count); "
               f"the papers' count is BOPs/{BOP_WORD} + MACs (one MAC = 1 FLOP, as Bi-Real Net, ReActNet, fvcore)",
               "energy: Horowitz's 45 nm table (ISSCC 2014) whatever the hardware: a fixed 45 nm estimate"]
        out += list(dict.fromkeys(note for r in self.reports for note in r.notes))
        timed = [r for r in self.reports if r.totals.get("measured_latency_s") is not None]
        if timed:
            out.append(f"measured with {_threads_note(timed[0].totals)}; timings vary with threads, warm-up and load")
        return out

    def to_text(self):
        hw = self.reports[0].hardware if self.reports else None
        lines = [f"{len(self.reports)} models, batch {self.reports[0].batch_size}, hardware {hw}" if hw else "",
                 self.table().to_text(), ""]
        lines += [f"({note})" for note in self.notes()]
        dis = self.disagreements()
        if dis:
            lines.append("The rankings disagree (the efficiency misnomer, Dehghani et al. 2021):")
            lines += [f"  - {d}" for d in dis]
        else:
            lines.append(f"The rankings by {', '.join(self.rankings())} agree here.")
        return "\n".join(lines)

    def _repr_html_(self):
        """Jupyter: the side-by-side table, the notes and the disagreements as HTML."""
        import html
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.disagreements())
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes())
        return "\n".join([self.table().to_html(), f"<ul style='color:#555'>{notes}</ul>",
                          f"<p>The rankings disagree (the efficiency misnomer, Dehghani et al. 2021):</p><ul>{items}</ul>"
                          if items else "<p>The rankings agree here.</p>"])

    def to_markdown(self):
        return self.table().to_markdown()

    def to_dict(self):
        return {"models": [r.to_dict() for r in self.reports], "rankings": self.rankings(),
                "disagreements": self.disagreements()}

    __str__ = to_text

    def __repr__(self):
        return f"<Comparison of {', '.join(r.model for r in self.reports)}>"


# `mg.profile` is this function (the module hides behind it in the package), so the names a reader of the
# report needs are reachable from it too: mg.profile.HOROWITZ_45NM, mg.profile.EnergyTable, ...
for _name in ("HOROWITZ_45NM", "HORWITZ_45NM", "EnergyTable", "Hardware", "HARDWARE", "BOP_WORD", "register_hardware",
              "get_hardware", "measure_this_machine", "blas_threads", "blas_threads_limited", "set_blas_threads", "Report",
              "Comparison"):
    setattr(profile, _name, globals()[_name])
del _name
