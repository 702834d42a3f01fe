"""Check a straight-through surrogate, and an op that uses it, the way minigrad checks its own.

    from minigrad.testing import check_surrogate
    check_surrogate("sign", mg.ste.SwishSign(beta=3))
    check_surrogate(my_binarize, MySurrogate(), reference=lambda x: np.where(x > 0, 1.0, -1.0))

Three claims are checked on a float64 grid, and the first that fails raises `SurrogateCheckError`:

1. forward: the op's output does not depend on the surrogate (it equals the op run without recording a
   graph) and, when a NumPy `reference` is known or given, equals it exactly;
2. derivative: `surrogate.derivative(x)` equals the central finite difference of `surrogate.smooth`,
   (smooth(x + eps) - smooth(x - eps)) / (2 eps), at every grid point farther than `margin` from a kink;
3. rule: backward through the op gives exactly g * derivative(x) for a random upstream gradient g.
"""
import functools
import inspect

import numpy as np

from ..autograd import Function, no_grad
from ..tensor import Tensor

__all__ = ["SurrogateCheckError", "check_surrogate"]


class SurrogateCheckError(AssertionError):
    """A surrogate or the op using it does not do what it declares; the message names the worst point."""


# Reference hard functions for the built-in ops, written with other NumPy functions than the ops use.
_REFERENCES = {
    "sign": lambda x: np.where(np.sign(x) < 0, -1.0, 1.0),
    "heaviside": lambda x: np.heaviside(x, 0.0),
    "round": np.rint,
    "floor": np.floor,
    "ceil": np.ceil,
    "ternarize": lambda x: np.sign(x) * (np.abs(x) >= 0.05),
}


def _resolve(op):
    """(name, op(x, surrogate=...), reference or None) for an op name, an op class or a function."""
    from .. import ste
    if isinstance(op, type) and issubclass(op, Function):
        op = op.name
    if isinstance(op, str):
        if op not in ste.FUNCTIONS:
            raise KeyError(f"check_surrogate: '{op}' is not a straight-through op; the ops are: "
                           f"{', '.join(ste.FUNCTIONS)}")
        name, fn = op, ste.FUNCTIONS[op]
    elif callable(op):
        name = getattr(op, "__name__", None) or getattr(getattr(op, "func", None), "__name__", repr(op))
        fn = op
    else:
        raise TypeError(f"check_surrogate: op must be an STE op name ('sign'), an op class or a function "
                        f"op(x, surrogate=...), not {op!r}")
    try:
        takes_rng = "rng" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        takes_rng = False
    if takes_rng:  # a stochastic op: the same draws on every call, so forwards can be compared
        plain = fn
        fn = functools.wraps(plain)(lambda x, **kw: plain(x, rng=np.random.default_rng(0), **kw))
    return name, fn, _REFERENCES.get(name) if isinstance(op, str) else None


def _fail(message, x, got, want, where):
    diff = np.abs(np.asarray(got, float) - np.asarray(want, float))
    diff = np.where(np.isnan(diff), np.inf, diff)
    i = int(np.argmax(diff))
    raise SurrogateCheckError(f"check_surrogate: {message} at x = {float(x[i]):.6g}: got "
                              f"{float(np.ravel(got)[i]):.6g}, expected {float(np.ravel(want)[i]):.6g} "
                              f"({int(np.sum(where))} of {x.size} points disagree)")


def check_surrogate(op, surrogate, grid=None, reference=None, kinks=(), eps=1e-6, atol=1e-6, rtol=1e-4,
                    margin=1e-3, seed=0):
    """Check `surrogate` (and, unless op is None, the op using it as its backward rule); True if all holds.

    op: an STE op name ('sign'), its class, or any function `op(x, surrogate=...)` (functools.partial for
    extra arguments: `partial(mg.ste.quantize, bits=2)`). grid: the float64 points (default 1201 points
    on [-3, 3]). reference: a NumPy function the forward must equal exactly (known for the built-in
    elementwise ops). kinks: points where the derivative jumps, added to `surrogate.kinks()`.
    """
    from ..ste import Surrogate
    if isinstance(surrogate, type):
        raise TypeError(f"check_surrogate: got the class {surrogate.__name__}; pass an instance, "
                        f"e.g. {surrogate.__name__}()")
    if not isinstance(surrogate, Surrogate):
        raise TypeError(f"check_surrogate: surrogate must be a mg.ste.Surrogate (with smooth and derivative), "
                        f"not {surrogate!r}")
    x = np.linspace(-3.0, 3.0, 1201) if grid is None else np.asarray(grid, dtype=np.float64).ravel()

    # 2. derivative against the finite-difference slope of smooth, away from kinks
    known = np.asarray(tuple(surrogate.kinks()) + tuple(kinks), dtype=np.float64)
    far = np.ones(x.shape, bool) if known.size == 0 else \
        np.min(np.abs(x[:, None] - known[None, :]), axis=1) > max(margin, 2 * eps)
    with no_grad():
        derivative = np.asarray(surrogate.derivative(Tensor(x.copy())).data, np.float64)
        if derivative.shape != x.shape:
            raise SurrogateCheckError(f"check_surrogate: {surrogate!r}.derivative maps {x.shape} points to shape "
                                      f"{derivative.shape}; it must be elementwise")
        slope = (np.asarray(surrogate.smooth(Tensor(x + eps)).data, np.float64)
                 - np.asarray(surrogate.smooth(Tensor(x - eps)).data, np.float64)) / (2 * eps)
    bad = far & ~(np.abs(derivative - slope) <= atol + rtol * np.abs(slope))
    if bad.any():
        _fail(f"{surrogate!r}.derivative disagrees with the finite-difference slope of its smooth function "
              f"(eps={eps}, atol={atol}, rtol={rtol})", x, np.where(bad, derivative, slope), slope, bad)
    if op is None:
        return True

    # 1. forward: exact, and the same whatever the rule
    name, fn, known_reference = _resolve(op)
    reference = reference or known_reference
    with no_grad():
        plain = np.asarray(fn(Tensor(x.copy())).data)
    leaf = Tensor(x.copy(), requires_grad=True)
    y = fn(leaf, surrogate=surrogate)
    if not np.array_equal(y.data, plain, equal_nan=True):
        bad = ~((y.data == plain) | np.isnan(plain) & np.isnan(y.data))
        _fail(f"{name}(x, surrogate={surrogate!r}) changed the forward: it must not depend on the surrogate",
              x, y.data, plain, bad)
    if reference is not None:
        want = np.asarray(reference(x.copy()), np.float64)
        if not np.array_equal(y.data, want):
            _fail(f"{name}'s forward is not the exact hard function", x, y.data, want, y.data != want)

    # 3. the rule: backward gives g * derivative(x)
    if y.grad_fn is None or y.grad_fn.rule is not surrogate:
        raise SurrogateCheckError(f"check_surrogate: {name}(x, surrogate=...) did not bind the surrogate as its "
                                  f"backward rule (its node is {y.grad_fn!r}); pass surrogate on to the op's "
                                  "apply(..., rule=surrogate)")
    g = np.random.default_rng(seed).standard_normal(x.shape)
    y.backward(Tensor(g))
    got = np.asarray(leaf.grad.data, np.float64)
    want = g * derivative
    bad = ~(np.abs(got - want) <= atol + rtol * np.abs(want))
    if bad.any():
        _fail(f"the gradient of {name} with rule {surrogate!r} is not g * derivative(x)", x, got, want, bad)
    return True
