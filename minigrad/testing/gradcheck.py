"""Gradient checks: the analytic gradient of a function against central finite differences.

For a function f with outputs y_j and a random upstream gradient v_j, the scalar L(x) = sum_j <v_j, y_j(x)>
has the derivative dL/dx = sum_j J_j(x)^T v_j, which is exactly what backward computes (a vector-Jacobian
product). Its entries are checked against central differences

    dL/dx_i  ~  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)          (error O(eps^2))

in float64. A random v (not ones) makes a rule that ignores or mixes up its upstream gradient fail.
For large inputs only a few random directions u are checked (as JAX's `check_grads`):
<dL/dx, u>  ~  (L(x + eps u) - L(x - eps u)) / (2 eps).
"""
import numpy as np

from ..autograd import grad as _grad
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(AssertionError):
    """The analytic and the numerical gradient disagree; the message holds a table of the worst entries."""
    __module__ = "minigrad.testing"


def _name(fn):
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # MyOp.apply
        return f"{owner.__name__}.{fn.__name__}"
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _as_inputs(inputs, where):
    """float64 leaf copies of the inputs, and which of them are checked."""
    if isinstance(inputs, (Tensor, np.ndarray)):
        inputs = (inputs,)
    inputs = list(inputs)
    if not inputs:
        raise ValueError(f"{where}: no inputs given; pass a list of tensors, e.g. [mg.randn(3, requires_grad=True)]")
    is_float = [isinstance(x, (Tensor, np.ndarray)) and np.asarray(x).dtype.kind == "f" for x in inputs]
    asked = [f and isinstance(x, Tensor) and x.requires_grad for x, f in zip(inputs, is_float)]
    checked = asked if any(asked) else is_float  # nothing marked: check every float input
    if not any(checked):
        raise ValueError(f"{where}: none of the inputs is a floating-point tensor, so there is no gradient to check")
    copies = []
    for x, f, c in zip(inputs, is_float, checked):
        if f:
            copies.append(Tensor(np.array(np.asarray(x), dtype=np.float64), requires_grad=c))
        else:
            copies.append(x)  # integers, index arrays, options: passed through unchanged
    return copies, checked


def _outputs(out, where, fn):
    outs = [out] if isinstance(out, Tensor) else list(out) if isinstance(out, (tuple, list)) else None
    if outs is None or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{where}: {_name(fn)} must return a Tensor or a tuple of Tensors, not {type(out).__name__}")
    for o in outs:
        if o.dtype != np.float64:
            raise TypeError(f"{where}: {_name(fn)} returned a {o.dtype} output from float64 inputs; finite "
                            "differences need float64 all the way (look for a float32 constant or an astype in fn)")
    return outs


def _loss(outs, vs):
    """L = sum_j <v_j, y_j> as a Python float."""
    return float(sum(np.vdot(v, o.data) for o, v in zip(outs, vs)))


def _analytic(fn, xs, checked, vs, where):
    """dL/dx for every checked input (zeros where the output does not depend on it)."""
    with enable_grad():
        outs = _outputs(fn(*xs), where, fn)
    leaves = [x for x, c in zip(xs, checked) if c]
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not live:
        return [np.zeros(x.shape) for x in leaves], outs
    grads = _grad([o for o, _ in live], leaves, grad_outputs=[Tensor(v) for _, v in live], allow_unused=True)
    return [np.zeros(x.shape) if g is None else np.array(g.data, dtype=np.float64) for g, x in zip(grads, leaves)], outs


def _evaluator(fn, xs, checked, vs, where):
    """L as a function of the checked inputs' arrays, evaluated without recording a graph."""
    def loss(arrays):
        it = iter(arrays)
        args = [Tensor(next(it)) if c else x for x, c in zip(xs, checked)]
        with no_grad():
            return _loss(_outputs(fn(*args), where, fn), vs)
    return loss


def _table(rows, header):
    lines = ["  ".join(f"{h:>14}" for h in header)]
    for row in rows:
        lines.append("  ".join(f"{c:>14}" if isinstance(c, str) else f"{c:>14.6g}" for c in row))
    return "\n".join(lines)


def _upstream(outs, grad_outputs, rng, where, fn):
    """The upstream gradients as float64 arrays: random normal (not ones, which hide rules that ignore
    their upstream gradient), or the ones the caller gave."""
    if grad_outputs is None:
        return [rng.standard_normal(o.shape) for o in outs]
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, (Tensor, np.ndarray)) else list(grad_outputs)
    vs = [np.array(np.asarray(v), dtype=np.float64) for v in grad_outputs]
    if len(vs) != len(outs):
        raise ValueError(f"{where}: {len(vs)} grad_outputs for {len(outs)} outputs of {_name(fn)}")
    for i, (o, v) in enumerate(zip(outs, vs)):
        if v.shape != o.shape:
            raise ValueError(f"{where}: grad_outputs[{i}] has shape {v.shape} but output {i} has shape {o.shape}")
    return vs


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, grad_outputs=None, mode="auto", max_elements=2000,
              n_directions=4, rng=None, max_rows=10, raise_exception=True):
    """Check the gradient of `fn(*inputs)` against central finite differences; True if they agree.

    Every floating-point input is copied to float64 (the caller's tensors are never touched). Inputs with
    `requires_grad=True` are checked (all float inputs when none is marked); other inputs are passed through.
    `fn` returns a Tensor or a tuple of Tensors; its upstream gradients are random normal (`grad_outputs` to
    choose them). An entry passes when |analytic - numeric| <= atol + rtol |numeric|.
    `mode`: 'full' checks every entry, 'random' checks `n_directions` random directions, 'auto' checks every
    entry unless the inputs hold more than `max_elements` numbers. On failure raises `GradcheckError` with a
    table (input, index, analytic, numeric, difference), or returns False if `raise_exception=False`.
    """
    where = "gradcheck"
    if mode not in ("auto", "full", "random"):
        raise ValueError(f"{where}: mode must be 'auto', 'full' or 'random', not {mode!r}")
    rng = np.random.default_rng(0) if rng is None else rng
    xs, checked = _as_inputs(inputs, where)
    with no_grad():
        outs = _outputs(fn(*xs), where, fn)
    vs = _upstream(outs, grad_outputs, rng, where, fn)
    analytic, _ = _analytic(fn, xs, checked, vs, where)
    loss = _evaluator(fn, xs, checked, vs, where)
    base = [np.array(x.data) for x, c in zip(xs, checked) if c]
    input_ids = [i for i, c in enumerate(checked) if c]
    total = sum(b.size for b in base)
    directional = mode == "random" or (mode == "auto" and total > max_elements)

    if directional:
        # task 2.2: random directions
        rows = []
        for d in range(n_directions):
            us = [rng.standard_normal(b.shape) for b in base]
            norm = np.sqrt(sum(np.vdot(u, u) for u in us)) or 1.0
            us = [u / norm for u in us]
            plus = loss([b + eps * u for b, u in zip(base, us)])
            minus = loss([b - eps * u for b, u in zip(base, us)])
            num = (plus - minus) / (2 * eps)
            ana = float(sum(np.vdot(a, u) for a, u in zip(analytic, us)))
            rows.append((f"direction {d}", "all", ana, num, ana - num))
        # end task
        bad = [r for r in rows if not (abs(r[4]) <= atol + rtol * abs(r[3]) or np.isnan(r[2]) and np.isnan(r[3]))]
        what = f"{len(bad)} of {n_directions} random directions (the inputs hold {total} numbers)"
    else:
        bad, work = [], [np.array(b) for b in base]
        for j, (k, a) in enumerate(zip(input_ids, analytic)):
            x, num = work[j], np.empty(a.shape)
            # task 2.1: central differences
            for idx in np.ndindex(x.shape):
                orig = x[idx]
                x[idx] = orig + eps
                plus = loss(work)
                x[idx] = orig - eps
                minus = loss(work)
                x[idx] = orig
                num[idx] = (plus - minus) / (2 * eps)
            # end task
            diff = a - num
            # a nan is off, unless both are nan (where the function itself is nan, e.g. var of one number)
            off = ~(np.abs(diff) <= atol + rtol * np.abs(num)) & ~(np.isnan(a) & np.isnan(num))
            for idx in map(tuple, np.argwhere(off)):
                bad.append((k, str(tuple(int(i) for i in idx)), a[idx], num[idx], diff[idx]))
        what = f"{len(bad)} of {total} gradient entries"

    if not bad:
        return True
    bad.sort(key=lambda r: -abs(r[4]) if np.isfinite(r[4]) else -np.inf)
    shown = bad[:max_rows]
    message = (f"{where}: the analytic gradient of {_name(fn)} disagrees with central finite differences in {what}\n"
               f"(eps={eps:g}, atol={atol:g}, rtol={rtol:g}; upstream gradient: "
               f"{'random normal' if grad_outputs is None else 'grad_outputs'}; inputs in float64)\n"
               + _table(shown, ("input", "index", "analytic", "numeric", "difference"))
               + (f"\n... and {len(bad) - len(shown)} more" if len(bad) > len(shown) else ""))
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, grad_outputs=None, rng=None, **kwargs):
    """Check second derivatives: gradcheck of x -> dL/dx, the first-order gradient of L = <v, fn(x)>.

    The first-order gradient is computed with `create_graph=True`, so its own backward is the
    differentiated backward rule; gradcheck then dots it with another random vector and compares
    with finite differences of the first-order gradient. True on success, GradcheckError otherwise.
    """
    where = "gradgradcheck"
    rng = np.random.default_rng(1) if rng is None else rng
    xs, checked = _as_inputs(inputs, where)
    with no_grad():
        outs = _outputs(fn(*xs), where, fn)
    vs = _upstream(outs, grad_outputs, rng, where, fn)

    def first_order(*args):
        with enable_grad():
            # task 2.3: second derivatives
            args = list(args)
            leaves = []
            for i, c in enumerate(checked):
                if c:
                    if not args[i].requires_grad:  # finite-difference evaluation: a fresh leaf
                        args[i] = args[i].detach().requires_grad_()
                    leaves.append(args[i])
            ys = _outputs(fn(*args), where, fn)
            live = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
            if not live:
                return tuple(Tensor(np.zeros(x.shape)) for x in leaves)
            grads = _grad([y for y, _ in live], leaves, grad_outputs=[Tensor(v) for _, v in live],
                          create_graph=True, allow_unused=True)
            return tuple(Tensor(np.zeros(x.shape)) if g is None else g for g, x in zip(grads, leaves))
            # end task

    first_order.__qualname__ = f"the first-order gradient of {_name(fn)}"
    return gradcheck(first_order, xs, eps=eps, atol=atol, rtol=rtol, rng=rng, **kwargs)
