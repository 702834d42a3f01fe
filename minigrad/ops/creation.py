"""Creation functions: empty, full_like, linspace, logspace, randint, randperm, ..., the dtype names
(`mg.float32`, `mg.int64`, ...), and the Tensor methods that make or convert tensors (`to`, `type`, `long`,
`new_zeros`, ...).

The basic helpers (tensor, zeros, ones, full, arange, eye, zeros_like, ones_like, rand, randn) live in
minigrad/tensor.py. Every random function draws from `rng=` (a numpy.random.Generator) or, without it, from the
generator `mg.manual_seed` seeds. Results carry no gradient unless requires_grad=True makes a leaf.
"""
import numpy as np

from ..dtypes import DEFAULT_FLOAT
from ..tensor import Tensor, default_rng, full, tensor
from ._common import array_of, lift

# ---- dtype names, as PyTorch spells them (NumPy dtypes; every dtype= argument also takes strings) ------------------
bool_, uint8, int8, int16, int32, int64 = (np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32,
                                                                  np.int64))
float16, float32, float64, complex64, complex128 = (np.dtype(t) for t in (np.float16, np.float32, np.float64,
                                                                           np.complex64, np.complex128))
half, double, short, long, cfloat, cdouble = float16, float64, int16, int64, complex64, complex128


def _shape(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _rng(rng):
    return default_rng() if rng is None else rng


def _new(data, dtype, requires_grad):
    return Tensor(np.asarray(data).astype(dtype, copy=False), requires_grad=requires_grad)


def _float_dtype(op, dtype):
    dtype = DEFAULT_FLOAT if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {dtype} (as in PyTorch); ask for a float dtype")
    return dtype


# ---- deterministic --------------------------------------------------------------------------------
def empty(*size, dtype=None, requires_grad=False):
    """A tensor of `size` whose values are unspecified in PyTorch; here zeros (deterministic)."""
    return _new(np.zeros(_shape(size)), DEFAULT_FLOAT if dtype is None else dtype, requires_grad)


def empty_like(input, *, dtype=None, requires_grad=False):  # noqa: A002
    """empty() of input's shape and (unless dtype= says otherwise) dtype."""
    x = lift(input)
    return _new(np.zeros(x.shape), x.data.dtype if dtype is None else dtype, requires_grad)


def full_like(input, fill_value, *, dtype=None, requires_grad=False):  # noqa: A002
    """A tensor of input's shape filled with fill_value, in input's dtype unless dtype= says otherwise (the value
    is cast: 2.7 in an int64 tensor is 2, as PyTorch)."""
    x = lift(input)
    return full(x.shape, fill_value, dtype=x.data.dtype if dtype is None else dtype, requires_grad=requires_grad)


def linspace(start, end, steps, *, dtype=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive. Computed as PyTorch does: from start for the first
    half, back from end for the second (so both ends are exact), in the result's float dtype (float64 for an
    integer dtype, then truncated)."""
    start, end = (float(array_of(v)) for v in (start, end))
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = DEFAULT_FLOAT if dtype is None else np.dtype(dtype)
    return _new(_linspace(start, end, steps, dtype), dtype, requires_grad)


def _linspace(start, end, steps, dtype):
    work = dtype.type if dtype.kind == "f" else np.float64
    if steps == 1:
        return np.full(1, start, work)
    i = np.arange(steps)
    step = (work(end) - work(start)) / work(max(steps - 1, 1))
    head, tail = work(start) + step * i.astype(work), work(end) - step * (steps - 1 - i).astype(work)
    return np.where(i < steps // 2, head, tail)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False):
    """`steps` values base ** linspace(start, end, steps)."""
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    dtype = DEFAULT_FLOAT if dtype is None else np.dtype(dtype)
    exponents = _linspace(float(array_of(start)), float(array_of(end)), steps, np.dtype(np.float64))
    return _new(np.power(float(base), exponents), dtype, requires_grad)


def _triangle_indices(op, pick, row, col, offset, dtype):
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: row and col must be >= 0, got {row} and {col}")
    return Tensor(np.stack(pick(row, offset, col)).reshape(2, -1).astype(dtype))


def tril_indices(row, col, offset=0, *, dtype=int64):
    """The (2, N) coordinates of the lower triangle (on and below diagonal offset) of a row x col matrix, row by
    row."""
    return _triangle_indices("tril_indices", np.tril_indices, row, col, offset, dtype)


def triu_indices(row, col, offset=0, *, dtype=int64):
    """The (2, N) coordinates of the upper triangle (on and above diagonal offset) of a row x col matrix, row by
    row."""
    return _triangle_indices("triu_indices", np.triu_indices, row, col, offset, dtype)


# ---- random ---------------------------------------------------------------------------------------
def rand_like(input, *, dtype=None, requires_grad=False, rng=None):  # noqa: A002
    """Uniform samples on [0, 1) of input's shape and (float) dtype."""
    x = lift(input)
    dtype = _float_dtype("rand_like", x.data.dtype if dtype is None else dtype)
    return _new(_rng(rng).random(x.shape), dtype, requires_grad)


def randn_like(input, *, dtype=None, requires_grad=False, rng=None):  # noqa: A002
    """Standard normal samples of input's shape and (float) dtype."""
    x = lift(input)
    dtype = _float_dtype("randn_like", x.data.dtype if dtype is None else dtype)
    return _new(_rng(rng).standard_normal(x.shape), dtype, requires_grad)


def randint(low=0, high=None, size=None, *, dtype=int64, requires_grad=False, rng=None):
    """Integers drawn uniformly from [low, high) (`randint(high, size)` or `randint(low, high, size)`), int64
    unless dtype= says otherwise."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint: missing the size argument, e.g. randint(10, (3,))")
    if high <= low:
        raise RuntimeError(f"randint: expects 'low' to be less than 'high', but got low={low} >= high={high}")
    return _new(_rng(rng).integers(low, high, _shape((size,)) if isinstance(size, int) else tuple(size)), dtype,
                requires_grad)


def randperm(n, *, dtype=int64, requires_grad=False, rng=None):
    """A random permutation of 0..n-1."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    return _new(_rng(rng).permutation(n), dtype, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, dtype=None, requires_grad=False, rng=None):
    """Normal samples: mean and std are numbers (then size= gives the shape) or tensors, which broadcast. The
    samples carry no gradient (PyTorch's is zero too: normal is not reparameterised)."""
    m, s = np.asarray(array_of(mean)), np.asarray(array_of(std))
    if (s < 0).any():
        raise RuntimeError(f"normal: expects std >= 0.0, got {s.min()}")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if dtype is None:
        dtype = np.result_type(*(t.data.dtype for t in tensors)) if tensors else DEFAULT_FLOAT
    shape = np.broadcast_shapes(m.shape, s.shape) if size is None else _shape((size,)) if isinstance(size, int) \
        else tuple(size)
    return _new(m + s * _rng(rng).standard_normal(shape), dtype, requires_grad)


def bernoulli(input, p=None, *, rng=None):  # noqa: A002
    """1 with probability p (default: input's values), else 0, in input's dtype."""
    x = lift(input)
    prob = x.data if p is None else np.asarray(p)
    if prob.size and (prob.min() < 0 or prob.max() > 1):
        raise RuntimeError(f"bernoulli: probabilities must lie in [0, 1], got values from {prob.min()} to {prob.max()}")
    return Tensor._wrap((_rng(rng).random(x.shape) < prob).astype(x.data.dtype))


def from_numpy(ndarray):
    """A tensor sharing `ndarray`'s memory and dtype (writes through either show in both), as torch.from_numpy."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__}); for other data use "
                        "mg.tensor(data)")
    if ndarray.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy: can't convert an array of dtype {ndarray.dtype}; the supported kinds are bool, "
                        "integers, floats and complex")
    return Tensor(ndarray)


def as_tensor(data, dtype=None):
    """data as a tensor, without a copy when it already is one (a tensor, or an ndarray for from_numpy) of that
    dtype, as torch.as_tensor; otherwise a new tensor (Python data: PyTorch's dtype rules, as mg.tensor)."""
    if isinstance(data, Tensor):
        return data if dtype is None or np.dtype(dtype) == data.data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def is_tensor(obj):
    """True when obj is a minigrad Tensor."""
    return isinstance(obj, Tensor)


def numel(input):  # noqa: A002
    """The number of elements."""
    return lift(input).data.size


def _random_fill(name, t, samples):
    """t <- samples (drawn in float64, rounded once to t's dtype), in place: PyTorch's x.uniform_(), x.normal_()
    (a leaf that requires grad is refused outside no_grad, as any in-place change)."""
    if t.data.dtype.kind not in "fc":
        raise NotImplementedError(f"{name}: not implemented for {t.data.dtype} tensors (as in PyTorch); it fills "
                                  "floating tensors")
    from .inplace import update, copy_
    return update(t, name, lambda x, v: copy_(x.clone(), v), (Tensor._wrap(samples.astype(t.data.dtype)),))


def uniform_(self, a=0.0, b=1.0, *, generator=None, rng=None):
    """Every element <- a sample of U[a, b), in place, from `rng` (default: the generator mg.manual_seed seeds)."""
    if a > b:
        raise RuntimeError(f"uniform_: expects a <= b, got a={a}, b={b}")
    return _random_fill("uniform_", self, _rng(rng).uniform(a, b, self.shape))


def normal_(self, mean=0.0, std=1.0, *, generator=None, rng=None):
    """Every element <- a sample of N(mean, std^2), in place."""
    if std < 0:
        raise RuntimeError(f"normal_: expects std >= 0.0, got {std}")
    return _random_fill("normal_", self, mean + std * _rng(rng).standard_normal(self.shape))


def multinomial(input, num_samples, replacement=False, *, rng=None):  # noqa: A002
    """Indices drawn from the categories of each row of input (1-D or 2-D non-negative weights, not necessarily
    summing to 1), num_samples per row: int64. Without replacement a category is drawn at most once (by
    exponential races: the smallest Exp(1) / weight wins); zero-weight categories come last."""
    w = np.asarray(array_of(input), np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or (w.sum(-1) <= 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0, or a row "
                           "sums to 0")
    rows = w.reshape(-1, w.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) "
                           f"({rows.shape[1]}) samples without replacement")
    gen = _rng(rng)
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        u = gen.random((rows.shape[0], num_samples, 1)) * cdf[:, -1:, None]
        picks = np.minimum((u >= cdf[:, None, :]).sum(-1), rows.shape[1] - 1)
    else:
        with np.errstate(divide="ignore"):
            races = gen.exponential(size=rows.shape) / rows
        picks = np.argsort(races, axis=1, kind="stable")[:, :num_samples]
    return Tensor._wrap(picks.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


# ---- Tensor methods: conversions ----------------------------------------------------------------------
_DEVICES = ("cpu",)
_TYPE_NAMES = {np.dtype(t): n for t, n in [(np.float32, "FloatTensor"), (np.float64, "DoubleTensor"),
                                           (np.float16, "HalfTensor"), (np.int64, "LongTensor"),
                                           (np.int32, "IntTensor"), (np.int16, "ShortTensor"),
                                           (np.int8, "CharTensor"), (np.uint8, "ByteTensor"), (np.bool_, "BoolTensor"),
                                           (np.complex64, "ComplexFloatTensor"),
                                           (np.complex128, "ComplexDoubleTensor")]}


def _convert(x, dtype, copy=False):
    """x as dtype: x itself when it already is (as PyTorch), else a differentiable cast."""
    from .elementwise import astype
    dtype = np.dtype(dtype)
    if x.data.dtype == dtype:
        return x.clone() if copy else x
    return astype(x, dtype)


def _is_device(arg):
    return isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta")


def _check_device(device):
    if device is not None and str(device).split(":")[0] not in _DEVICES:
        raise RuntimeError(f"to: minigrad runs on the CPU only; device {device!r} is not available")


def target_dtype(args, dtype=None, device=None):
    """The dtype that `to`'s arguments ask for (None: keep it), read as PyTorch's Tensor.to and Module.to read them:
    positional dtypes, device names and tensors (whose dtype is taken); a device other than the CPU is an error."""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.data.dtype
        elif _is_device(arg):
            device = arg
        else:
            dtype = arg
    _check_device(device)
    return dtype


def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """self as another dtype: `to(dtype)`, `to(other)` (other's dtype), `to('cpu')` or `to('cpu', dtype)`; self
    itself when nothing changes (as PyTorch), else a differentiable cast. Only the CPU exists."""
    dtype = target_dtype(args, dtype, device)
    return _convert(self, self.data.dtype if dtype is None else dtype, copy)


def cpu(self):
    """self (PyTorch's `.cpu()`: the tensor on the CPU, where minigrad's tensors always are)."""
    return self


def type_(self, dtype=None):
    """Without an argument, the type's name ('minigrad.FloatTensor', as PyTorch's 'torch.FloatTensor'); with a dtype
    (or a name such as 'torch.DoubleTensor'), self converted to it."""
    if dtype is None:
        return f"minigrad.{_TYPE_NAMES.get(self.data.dtype, str(self.data.dtype))}"
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        names = {n: t for t, n in _TYPE_NAMES.items()}
        dtype = names[dtype.split(".")[-1]]
    return _convert(self, dtype)


def type_as(self, other):
    """self converted to other's dtype."""
    return _convert(self, lift(other).data.dtype)


def _conversion(dtype, name):
    def method(self):
        return _convert(self, dtype)
    method.__name__ = name
    method.__doc__ = f"self as {np.dtype(dtype)} (self itself when it already is)."
    return method


# ---- Tensor methods: new tensors with self's dtype --------------------------------------------------------
def _new_method(make, name):
    def method(self, *size, dtype=None, requires_grad=False):
        data = make(_shape(size))
        return _new(data, self.data.dtype if dtype is None else dtype, requires_grad)
    method.__name__ = name
    method.__doc__ = f"A tensor of the given size like {name[4:]}(), in self's dtype unless dtype= says otherwise."
    return method


def new_full(self, size, fill_value, *, dtype=None, requires_grad=False):
    """full(size, fill_value) in self's dtype unless dtype= says otherwise."""
    return full(size, fill_value, dtype=self.data.dtype if dtype is None else dtype, requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, requires_grad=False):
    """A copy of data as a tensor of self's dtype unless dtype= says otherwise."""
    return tensor(data, dtype=self.data.dtype if dtype is None else dtype, requires_grad=requires_grad)


__all__ = ["as_tensor", "bernoulli", "empty", "empty_like", "from_numpy", "full_like", "is_tensor", "linspace", "logspace",
           "multinomial", "normal", "numel",
           "rand_like", "randint", "randn_like", "randperm", "tril_indices", "triu_indices",
           "bool_", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
           "complex128", "half", "double", "short", "long", "cfloat", "cdouble"]
METHODS = {
    "to": to, "type": type_, "type_as": type_as, "cpu": cpu,
    "device": property(lambda self: "cpu", doc="'cpu': where minigrad's tensors live (`.to(x.device)` works)."),
    "is_cuda": property(lambda self: False, doc="False: minigrad runs on the CPU only."),
    "float": _conversion(float32, "float"), "double": _conversion(float64, "double"),
    "half": _conversion(float16, "half"), "int": _conversion(int32, "int"), "long": _conversion(int64, "long"),
    "bool": _conversion(bool_, "bool"), "short": _conversion(int16, "short"), "byte": _conversion(uint8, "byte"),
    "char": _conversion(int8, "char"),
    "new_zeros": _new_method(np.zeros, "new_zeros"), "new_ones": _new_method(np.ones, "new_ones"),
    "new_empty": _new_method(np.zeros, "new_empty"), "new_full": new_full, "new_tensor": new_tensor,
    "bernoulli": bernoulli, "multinomial": multinomial, "uniform_": uniform_, "normal_": normal_,
}
