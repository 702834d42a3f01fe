"""Type promotion, PyTorch's rules, decided in one place for every op.

Categories rank bool < integer < floating < complex. Operands come in three tiers of strength:
tensors with dimensions, 0-d tensors, and Python numbers ("weak" scalars). The result is the
promotion of the strongest tier, unless a weaker tier holds a higher category; then that tier's
type (a Python float counts as the default float, float32) joins in. So

    float32 tensor + 2.0                       -> float32   (a scalar never widens a tensor)
    float32 tensor + 0-d float64 tensor        -> float32   (nor does a 0-d tensor of the same category)
    int64 tensor   + 2.5                       -> float32   (the default float, never float64)
    int32 tensor   + 0-d float64 tensor        -> float64   (a higher category brings its own size)

(PyTorch's `c10::ResultTypeState`; see "Type promotion" in torch's tensor attributes documentation.)
"""
import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_COMPLEX = np.dtype(np.complex64)
SUPPORTED = tuple(np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
                                        np.float16, np.float32, np.float64, np.complex64, np.complex128))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def category(dtype):
    """0 bool, 1 integer, 2 floating, 3 complex."""
    return _CATEGORY[np.dtype(dtype).kind]


def is_floating(dtype):
    return np.dtype(dtype).kind == "f"


def promote_types(a, b):
    """The smallest type both promote to. As NumPy's, except that an integer (or bool) meeting a float or
    complex type gives that type unchanged (int64 with float32 is float32, not float64)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb and min(ca, cb) <= 1:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _scalar_dtype(x):
    """The type a Python number stands for: bool, int64, the default float or the default complex."""
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(x, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(x, (float, np.floating)):
        return DEFAULT_FLOAT
    if isinstance(x, (complex, np.complexfloating)):
        return DEFAULT_COMPLEX
    raise TypeError(f"expected a tensor or a number, got {type(x).__name__}")


def _combine(higher, lower):
    """PyTorch's combine_categories: a weaker tier counts only when it holds a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if category(higher) == 3:
        return higher
    if category(lower) == 3:  # a complex scalar meets real tensors: floats keep their precision
        return lower if category(higher) < 2 else np.promote_types(higher, np.complex64)
    if category(higher) == 2:
        return higher
    if higher == np.bool_ or category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """The dtype of an op on `operands` (arrays, tensors or Python numbers), by PyTorch's rules.

    A NumPy scalar (np.float64(2.0)) counts as a Python number, as PyTorch treats it."""
    tiers = [None, None, None]  # dimensioned, 0-d, Python numbers
    for x in operands:
        dtype = getattr(x, "dtype", None)
        if dtype is None or isinstance(x, np.generic):
            tier, dtype = 2, _scalar_dtype(x)
        else:
            tier = 0 if x.ndim else 1
        tiers[tier] = dtype if tiers[tier] is None else promote_types(tiers[tier], dtype)
    return _combine(tiers[0], _combine(tiers[1], tiers[2]))


def to_float(dtype):
    """The dtype a floating op (exp, true division, mean, ...) computes in: floats keep theirs, bool and
    integers give the default float."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else DEFAULT_FLOAT


def compute_dtype(dtype):
    """Where float16 arithmetic happens: in float32 (PyTorch's 'opmath' type on the CPU), rounded once."""
    return np.dtype(np.float32) if np.dtype(dtype) == np.float16 else np.dtype(dtype)
