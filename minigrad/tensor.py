"""The Tensor: an ndarray, its gradient, and the graph node that made it.

A Tensor knows nothing of ops: `minigrad.ops` installs the arithmetic methods
(`+`, `@`, `.sum()`, ...) and `minigrad.autograd` runs `backward()`.
"""
import numpy as np

from .dtypes import DEFAULT_FLOAT
_default_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed the default generator used by every random function called without `rng=`."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)
    return _default_rng


def default_rng():
    """The generator that random functions use when no `rng=` is given."""
    return _default_rng


def _to_array(data, dtype=None, copy=False):
    """ndarray for `data`: Python floats become float32 (complex: complex64), ndarrays keep their dtype (as in
    PyTorch); in a list, the items' types promote (see _list_dtype)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None or isinstance(data, (np.ndarray, np.generic)):
        return np.array(data, dtype=dtype) if copy else np.asarray(data, dtype=dtype)
    arr = np.array(data)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"tensor: cannot make a tensor of {type(data).__name__} data (dtype {arr.dtype}); "
                        "pass numbers, nested lists of numbers or a numeric ndarray")
    dtype = _list_dtype(data)
    if arr.dtype == np.uint64 and dtype != arr.dtype:
        raise ValueError(f"tensor: an integer in the data is too large for int64 (the largest is {arr.max()}); "
                         "PyTorch refuses it too")
    return arr.astype(dtype, copy=False)


def _constructor_array(data, sizes, dtype):
    """What `mg.Tensor(...)` holds. An ndarray (or a NumPy scalar, or a tensor) is wrapped as it is, without a copy
    (minigrad's own use). The rest is PyTorch's legacy torch.Tensor constructor: Python data becomes the default
    float (mg.Tensor([1, 2]) is float32, as torch.Tensor([1, 2])), ints are a shape (mg.Tensor(2, 3) is 2 x 3, zeros
    here as mg.empty), no argument an empty tensor. mg.tensor(data) infers the dtype from the data."""
    if not sizes and isinstance(data, (np.ndarray, np.generic, Tensor)):
        return _to_array(data, dtype)
    default = DEFAULT_FLOAT if dtype is None else np.dtype(dtype)
    if data is None and not sizes:
        return np.zeros(0, default)
    if sizes or isinstance(data, (int, np.integer)) and not isinstance(data, (bool, np.bool_)):
        shape = (data,) + sizes
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) for n in shape):
            raise TypeError(f"Tensor: sizes must be ints, got {shape}; for data use mg.tensor(data)")
        if any(n < 0 for n in shape):
            raise RuntimeError(f"Tensor: cannot create a tensor with a negative dimension: shape {shape}")
        return np.zeros(shape, default)
    arr = _to_array(data, dtype)
    return arr if dtype is not None or arr.dtype.kind == "c" else arr.astype(DEFAULT_FLOAT, copy=False)


_PYTHON_DTYPES = {bool: np.dtype(bool), int: np.dtype(np.int64), float: DEFAULT_FLOAT, complex: np.dtype(np.complex64)}


def _list_dtype(data):
    """PyTorch's dtype for a (nested) list: a Python bool, int, float or complex stands for bool, int64, the default
    float or complex64; a NumPy scalar or array, or a tensor, inside it for its own dtype; the items' dtypes
    promote. So [1, 2.5] is float32 but [np.float64(1.5)] is float64 and [np.int32(1)] int32, as in PyTorch."""
    from .dtypes import promote_types
    dtypes, stack = set(), [[data]]
    while stack:
        items = stack.pop()
        for kind in set(map(type, items)):  # a set of types per list: fast on long lists of Python floats
            if kind in _PYTHON_DTYPES:
                dtypes.add(_PYTHON_DTYPES[kind])
            elif kind is list or kind is tuple:
                stack.extend(x for x in items if type(x) is kind)
            elif issubclass(kind, (np.ndarray, np.generic, Tensor)):
                dtypes.update(x.dtype for x in items if type(x) is kind)
            else:  # another sequence, or a subclass of a number: NumPy's reading of it
                dtypes.update(np.asarray(x).dtype for x in items if type(x) is kind)
    result = DEFAULT_FLOAT if not dtypes else None  # [] is an empty float tensor
    for d in dtypes:
        result = d if result is None else promote_types(result, d)
    return result


class Tensor:
    """An n-dimensional array that can record the ops applied to it and backpropagate through them.

    `Tensor(data)` wraps an ndarray without copying it; `mg.tensor(data)` always copies.
    """

    __slots__ = ("data", "grad", "_requires_grad", "grad_fn", "_version", "_hooks", "name", "_view", "_views",
                 "__weakref__")
    __array_ufunc__ = None  # `ndarray + Tensor` calls Tensor.__radd__ instead of looping in NumPy

    def __init__(self, data=None, *sizes, dtype=None, requires_grad=False, name=None):
        self.data = _constructor_array(data, sizes, dtype)
        self.grad = None
        self.grad_fn = None
        self._version = [0]  # shared by every Tensor viewing the same storage (views, detach)
        self._hooks = None
        self.name = name
        self._view = self._views = None  # (base, steps) of a view in a graph; the live views of a base
        self._requires_grad = False
        self.requires_grad = requires_grad

    @staticmethod
    def _wrap(data, requires_grad=False, grad_fn=None):
        """Fast internal constructor: `data` is already an ndarray of the right dtype."""
        t = Tensor.__new__(Tensor)
        t.data = data
        t.grad = None
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._version = [0]
        t._hooks = None
        t.name = None
        t._view = t._views = None
        return t

    # ---- attributes -----------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self.data.dtype.kind == "c":
            raise TypeError("minigrad differentiates real tensors only, this one is complex; work on its real and "
                            "imaginary parts as two float tensors")
        if flag and self.data.dtype.kind != "f":
            raise RuntimeError(f"only floating-point tensors can require gradients, this one is {self.data.dtype}; "
                            "make it float first, e.g. mg.tensor(data, dtype='float32')")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf tensor; use .detach() instead")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: _Size(self.data.size, self.data.shape),
                    doc="The number of elements (an int, as NumPy's `size`) that can also be called as PyTorch's "
                        "`size()` (the shape) or `size(dim)` (one dim's length).")
    is_leaf = property(lambda self: self.grad_fn is None, doc="True unless an op that records gradients made this tensor.")

    def __len__(self):
        return len(self.data)

    # ---- PyTorch's introspection -----------------------------------------------------------------
    def numel(self):
        """The number of elements."""
        return self.data.size

    nelement = numel

    def dim(self):
        """The number of dims."""
        return self.data.ndim

    ndimension = dim

    def is_floating_point(self):
        """True for a float16, float32 or float64 tensor."""
        return self.data.dtype.kind == "f"

    def is_complex(self):
        """True for a complex tensor."""
        return self.data.dtype.kind == "c"

    def element_size(self):
        """Bytes per element."""
        return self.data.itemsize

    def stride(self, dim=None):
        """The step between neighbours of each dim, in elements (PyTorch's stride; 0 along broadcast dims)."""
        strides = tuple(s // self.data.itemsize for s in self.data.strides)
        return strides if dim is None else strides[_dim_index(dim, self.data.ndim, "stride")]

    def is_contiguous(self):
        """True when the elements lie in memory in row-major order without gaps (size-1 dims may have any
        stride, as PyTorch)."""
        return self.data.flags.c_contiguous

    def data_ptr(self):
        """The address of the first element."""
        return self.data.__array_interface__["data"][0]

    def numpy(self):
        """The underlying ndarray (shares memory, as in PyTorch)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"item(): only a tensor with one element can be converted to a Python number, "
                             f"this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        """An integer tensor of one element as a Python int (`items[i]`, `range(n)`), as PyTorch."""
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, this one is "
                            f"{self.data.dtype} of shape {self.shape}")
        return int(self.data.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data)

    __hash__ = object.__hash__  # == builds a tensor, so hashing is by identity

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype not in (DEFAULT_FLOAT, np.dtype(np.int64), np.dtype(bool)):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.describe()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def _repr_html_(self):
        """Jupyter: the values as text and, for a result of ops, its graph drawn as SVG (folded, one click
        away; `mg.viz.graph(t)` shows it directly). A leaf shows as its text repr."""
        if self.grad_fn is None:
            return None
        from .viz import tensor_html
        return tensor_html(self)

    # ---- autograd ---------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`. `grad` is required unless self has one element."""
        from .autograd import backward
        backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self):
        """A tensor with the same data (and version counter) that is cut from the graph."""
        t = Tensor._wrap(self.data)
        t._version = self._version
        return t

    def detach_(self):
        """Cut this tensor from the graph, in place (it becomes a leaf that does not require grad)."""
        self.grad_fn, self._requires_grad, self._view = None, False, None
        return self

    def register_hook(self, hook):
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces the gradient."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        hooks = self.grad_fn.hooks if self.grad_fn is not None else None
        if hooks is None:
            if self.grad_fn is not None:
                hooks = self.grad_fn.hooks = []
            else:
                hooks = self._hooks = self._hooks or []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in `.grad` after backward."""
        if self.grad_fn is None:
            return self
        import weakref
        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                t.grad = grad if t.grad is None else t.grad + grad
        self.register_hook(keep)
        return self

    # In-place updates (add_, ..., x += y, x[i] = v) and conversions are installed by minigrad.ops.


def _dim_index(dim, ndim, op):
    """dim in [-ndim, ndim) as a non-negative index; IndexError otherwise (a 0-d tensor has no dim to name)."""
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dimension {dim} out of range for a tensor with {ndim} dimension(s)")
    return dim % ndim


class _Size(int):
    """`t.size`: the number of elements, an int (NumPy's meaning), callable as PyTorch's `t.size()` -> the shape
    and `t.size(dim)` -> the length of one dim."""

    def __new__(cls, n, shape):
        self = super().__new__(cls, n)
        self.shape = shape
        return self

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        return self.shape[_dim_index(dim, len(self.shape), "size")]


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# ---- creation helpers ---------------------------------------------------------------------------
def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data`. Float data becomes float32 unless `dtype=` says otherwise."""
    t = Tensor.__new__(Tensor)
    Tensor.__init__(t, _to_array(data, dtype, copy=True), requires_grad=requires_grad)
    return t


def _shape(shape, size=None):
    """A shape given as ints (`zeros(2, 3)`), one sequence (`zeros((2, 3))`) or PyTorch's keyword (`zeros(size=...)`)."""
    if size is not None:
        if shape:
            raise TypeError("give the shape either positionally or as size=, not both")
        shape = (size,)
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"cannot create a tensor with a negative dimension: shape {shape} (as PyTorch)")
    return shape


def _float(dtype):
    return DEFAULT_FLOAT if dtype is None else np.dtype(dtype)


def zeros(*shape, size=None, dtype=None, requires_grad=False):
    return Tensor(np.zeros(_shape(shape, size), _float(dtype)), requires_grad=requires_grad)


def ones(*shape, size=None, dtype=None, requires_grad=False):
    return Tensor(np.ones(_shape(shape, size), _float(dtype)), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of `shape` filled with fill_value; without dtype=, the value's (PyTorch's rule: bool -> bool, int ->
    int64, float -> the default float, complex -> complex64)."""
    from .dtypes import _scalar_dtype
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = _scalar_dtype(fill_value) if dtype is None else np.dtype(dtype)
    from .ops._common import fill_value as checked
    checked("full", fill_value, dtype)
    return Tensor(np.full(shape, fill_value, dtype), requires_grad=requires_grad)


def _like(t, dtype):
    return np.dtype(dtype) if dtype is not None else t.dtype


def zeros_like(input, dtype=None, requires_grad=False):  # noqa: A002 (PyTorch's name)
    """Zeros of input's shape and (unless dtype= says otherwise) input's dtype."""
    return Tensor(np.zeros(input.shape, _like(input, dtype)), requires_grad=requires_grad)


def ones_like(input, dtype=None, requires_grad=False):  # noqa: A002
    """Ones of input's shape and (unless dtype= says otherwise) input's dtype."""
    return Tensor(np.ones(input.shape, _like(input, dtype)), requires_grad=requires_grad)


def _number(v):
    return v.item() if isinstance(v, (Tensor, np.ndarray, np.generic)) else v


def arange(start=0, end=None, step=1, dtype=None, requires_grad=False):
    """start, start + step, ... up to (not including) end: ceil((end - start) / step) values (PyTorch's length
    rule), each start + i * step computed in float64. Integer (and bool) arguments give int64, any float one
    the default float."""
    start, end, step = (_number(v) for v in ((0, start, step) if end is None else (start, end, step)))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound {end} and lower bound {start} inconsistent with step sign {step}")
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else DEFAULT_FLOAT
    n = int(np.ceil((end - start) / step))
    exact = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    values = start + np.arange(n, dtype=np.int64 if exact else np.float64) * step
    return Tensor(values.astype(dtype, copy=False), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """The n x m (default n x n) identity matrix."""
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be >= 0, got n={n}, m={m}")
    return Tensor(np.eye(n, m, dtype=_float(dtype)), requires_grad=requires_grad)


def randn(*shape, size=None, dtype=None, requires_grad=False, rng=None):
    """Standard normal samples from `rng` (default: the generator seeded by mg.manual_seed)."""
    data = (rng or _default_rng).standard_normal(_shape(shape, size)).astype(_float(dtype), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, size=None, dtype=None, requires_grad=False, rng=None):
    """Uniform samples on [0, 1) from `rng` (default: the generator seeded by mg.manual_seed)."""
    data = (rng or _default_rng).random(_shape(shape, size)).astype(_float(dtype), copy=False)
    return Tensor(data, requires_grad=requires_grad)
