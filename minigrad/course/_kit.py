"""The course's test kit: the checks the tasks' tests call, and the pytest plugin that groups tests by task.

    from _kit import task, check_gradients, check_forward

    @task("1.3")
    def test_tanh_gradients():
        check_gradients(lambda x: x.tanh(), x=[-1.5, -0.2, 0.4, 2.0])

`python -m pytest tests/tasks --task 1.3` runs one task's tests (`--task 1.*`, `--task 1.1-1.4` work too).
A failure's first line names the task and what went wrong, in words a student can act on:

    task 1.3 (tanh backward): gradcheck failed at x=[-1.5, -0.2, 0.4, 2.0] (max error 0.42)

The checks are the kit's own (finite differences in float64 against the gradients minigrad computes), not
`minigrad.testing`'s: gradcheck is itself a task of the course, and a student's gradcheck must not referee
the student's rules. This file is copied as is into every student copy and is used by the grader.
"""
import contextlib
import fnmatch
import json
import os
import re

import numpy as np
import pytest

__all__ = ["task", "check_forward", "check_gradients", "check_grad_values", "check_close", "fail", "TaskFailure",
           "current_label", "tensors", "summarize"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_current = [None]  # the id of the task whose test runs now


class TaskFailure(AssertionError):
    """A check failed; the message's first line names the task and says what went wrong."""


# ---- the tasks ----------------------------------------------------------------------------------------
def _manifest():
    """{task id: task dict} from the course's task table: MINIGRAD_COURSE_TASKS (the grader sets it) or the
    student copy's assignment.json, found above this file."""
    if "table" in _manifest.__dict__:
        return _manifest.table
    path = os.environ.get("MINIGRAD_COURSE_TASKS")
    if not path:
        folder = _HERE
        for _ in range(4):
            candidate = os.path.join(folder, "assignment.json")
            if os.path.isfile(candidate):
                path = candidate
                break
            folder = os.path.dirname(folder)
    table = {}
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            table = {t["id"]: t for t in json.load(f).get("tasks", [])}
    _manifest.table = table
    return table


def label(task_id):
    """'task 1.3 (tanh backward)'."""
    if task_id is None:
        return "check"
    title = _manifest().get(task_id, {}).get("title")
    return f"task {task_id} ({title})" if title else f"task {task_id}"


def current_label():
    return label(_current[0])


def fail(what, details=""):
    """Fail the current test with `what` after the task's name (and `details` on the lines below)."""
    message = f"{current_label()}: {what}"
    raise TaskFailure(message + (f"\n{details}" if details else ""))


def task(task_id):
    """Mark a test as one of a task's tests (`@task("1.3")`)."""
    return pytest.mark.task(task_id)


# ---- pytest plugin ----------------------------------------------------------------------------------
def pytest_addoption(parser):
    parser.addoption("--task", action="append", default=[], metavar="ID",
                     help="run only the tests of these tasks: 1.3, 1.*, 1.1-1.4, 2 (a module); repeatable")


def pytest_configure(config):
    config.addinivalue_line("markers", "task(id): the test belongs to the course task `id` (e.g. '1.3')")
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return
    settings.register_profile("minigrad-course", max_examples=20, derandomize=True, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))
    settings.load_profile("minigrad-course")


def _key(task_id):
    return tuple(int(p) for p in task_id.split("."))


def wanted(task_id, specs):
    """True when `task_id` matches one of the --task specs."""
    for spec in specs:
        for part in str(spec).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                lo, hi = (p.strip() for p in part.split("-", 1))
                if _key(lo) <= _key(task_id) <= _key(hi):
                    return True
            elif part.isdigit():
                if task_id.split(".")[0] == part:
                    return True
            elif fnmatch.fnmatchcase(task_id, part):
                return True
    return False


def task_of(item):
    marker = item.get_closest_marker("task")
    return str(marker.args[0]) if marker and marker.args else None


def pytest_collection_modifyitems(config, items):
    specs = config.getoption("--task", default=[])
    if not specs:
        return
    keep, drop = [], []
    for item in items:
        tid = task_of(item)
        (keep if tid is not None and wanted(tid, specs) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    _current[0] = task_of(item)
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.excinfo is not None:
        exc = call.excinfo.value
        line = summarize(exc, _current[0])
        rep.user_properties.append(("summary", line))
        text = str(exc) if isinstance(exc, TaskFailure) else f"{line}\n{type(exc).__name__}: {exc}"
        rep.user_properties.append(("message", text[:3000]))
        rep.sections.append(("what this means", line))


def pytest_runtest_setup(item):
    _current[0] = task_of(item)


# ---- what an exception means, in a student's words ----------------------------------------------------
_LINEMAP = {}


def _line_map():
    """{virtual file name: [(first line, count, student's first line), ...]}: where the grader spliced a
    student's region into the reference project (MINIGRAD_COURSE_LINEMAP), to name the student's lines."""
    if not _LINEMAP:
        path = os.environ.get("MINIGRAD_COURSE_LINEMAP")
        _LINEMAP["map"] = {}
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                _LINEMAP["map"] = json.load(f)
    return _LINEMAP["map"]


def _where(exc):
    """'minigrad/ops/elementwise.py:214' for the innermost frame of the project's code in exc's traceback."""
    best = None
    tb = exc.__traceback__
    while tb is not None:
        filename, lineno = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        path = filename.replace(os.sep, "/")
        if "/minigrad/" in path and "/minigrad/course/" not in path and not path.endswith("_kit.py"):
            shown = "minigrad/" + path.rsplit("/minigrad/", 1)[1]
            for first, count, student_first in _line_map().get(filename, ()):
                if first <= lineno < first + count:
                    lineno = student_first + (lineno - first)
                    break
            best = f"{shown.split(' [')[0]}:{lineno}"
        tb = tb.tb_next
    return best


_UFUNC = re.compile(r"operand '?Tensor'? does not support ufuncs|__array_ufunc__")
_NO_ATTR = re.compile(r"'numpy\.(ndarray|float\d+|bool_?)' object has no attribute '(\w+)'")


def explain(exc):
    """What an exception from a student's code means, and what to do about it (one sentence, or None)."""
    text = str(exc)
    if isinstance(exc, NotImplementedError) and text.startswith("task "):
        other = text.split(":")[0].split()[1]
        if _current[0] and other != _current[0]:
            return f"it needs task {other}, which still raises NotImplementedError: do that one first"
        return "not written yet: the region still raises NotImplementedError"
    if isinstance(exc, SystemExit):
        return f"the code called sys.exit({exc.code!r}); a library must never exit the program: raise an exception"
    if isinstance(exc, RecursionError):
        return "infinite recursion: a function calls itself (or the op it implements) without end"
    if isinstance(exc, MemoryError):
        return "out of memory: is something built far larger than the inputs?"
    if isinstance(exc, TypeError) and _UFUNC.search(text):
        return ("the rule calls a NumPy function on a Tensor. That works when the rule runs on NumPy arrays (the "
                "common case) but not when it runs on Tensors (create_graph=True, for second derivatives): write "
                "it with operators, the methods arrays and Tensors share, and mg.xp (xp.exp, xp.tanh, xp.where, ...)")
    m = _NO_ATTR.search(text)
    if isinstance(exc, AttributeError) and m:
        name = m.group(2)
        return (f"the code calls .{name}(), which Tensors have but NumPy arrays do not. Without create_graph a "
                f"backward rule runs on plain NumPy arrays: use mg.xp.{name}(...) (or an operator), which works on "
                "both")
    if isinstance(exc, RuntimeError) and "returned a gradient of shape" in text:
        return (text.split("; a rule must")[0] + ". A broadcast input needs its gradient summed back to its own "
                "shape: unbroadcast(g, like)")
    if isinstance(exc, RuntimeError) and re.search(r"a float64 gradient for input \d+, which is float32", text):
        return (text + ". A NumPy float64 constant widened the gradient (np.float64(2), np.pi and np.sqrt(2.0) are "
                "float64 scalars); use Python floats (2.0, math.pi) in a rule")
    if isinstance(exc, RuntimeError) and "gradient(s) for" in text:
        return text
    return None


def summarize(exc, task_id):
    """The first line of a failure: the task, then what went wrong."""
    if isinstance(exc, TaskFailure):
        return str(exc).splitlines()[0]
    meaning = explain(exc)
    where = _where(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    what = meaning or (f"{type(exc).__name__}: {first}" if first else type(exc).__name__)
    return f"{label(task_id)}: {what}" + (f" (at {where})" if where else "")


# ---- the checks -----------------------------------------------------------------------------------------
def _mg():
    import minigrad
    return minigrad


def _fmt(a, limit=8):
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{float(a):.4g}"
    flat = a.ravel()
    shown = ", ".join(f"{float(v):.4g}" for v in flat[:limit]) + (", ..." if flat.size > limit else "")
    return f"[{shown}]" + (f" (shape {a.shape})" if a.ndim > 1 or flat.size > limit else "")


def _fmt_inputs(arrays):
    return ", ".join(f"{k}={_fmt(v)}" for k, v in arrays.items())


def tensors(arrays, requires_grad=True, dtype=np.float64):
    mg = _mg()
    return {k: mg.tensor(np.array(v, dtype=dtype), requires_grad=requires_grad) for k, v in arrays.items()}


@contextlib.contextmanager
def _running(what):
    """Turn an exception from the code under test into a failure that says when it happened and what it means."""
    try:
        yield
    except TaskFailure:
        raise
    except Exception as e:
        meaning = explain(e)
        where = _where(e)
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        said = meaning or f"{type(e).__name__}: {first}"
        raise TaskFailure(f"{current_label()}: {said}" + (f" (at {where})" if where else "")
                          + f"\n  (while {what})") from e


def _as_arrays(arrays):
    return {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}


def _output(fn, ts, what):
    mg = _mg()
    out = fn(**ts)
    if not isinstance(out, mg.Tensor):
        fail(f"{what} returned {type(out).__name__}, not a Tensor")
    return out


def _analytic(fn, arrays, v, create_graph=False, dtype=np.float64):
    """dL/dx for L = <v, fn(x)>, each input's gradient as minigrad computes it (zeros where none flows),
    and the gradient tensors themselves."""
    mg = _mg()
    ts = tensors(arrays, dtype=dtype)
    out = _output(fn, ts, "the function under test")
    if not out.requires_grad:
        fail("the output does not require grad, so no gradient can flow back (was the op recorded? did forward "
             "detach, or run under no_grad?)")
    grads = mg.grad([out], list(ts.values()), grad_outputs=[mg.tensor(np.asarray(v, dtype=out.dtype))],
                    create_graph=create_graph, allow_unused=True)
    arrays_out = {k: (np.zeros(np.shape(a)) if g is None else np.array(g.data, dtype=np.float64))
                  for (k, a), g in zip(arrays.items(), grads)}
    return arrays_out, dict(zip(arrays, grads)), ts, out


def _loss(fn, arrays, v):
    mg = _mg()
    with mg.no_grad():
        out = _output(fn, tensors(arrays, requires_grad=False), "the function under test")
        return float(np.vdot(v, np.asarray(out.data, dtype=np.float64)))


def _numeric(f, arrays, eps):
    """Central differences of the scalar function f(arrays) with respect to every entry."""
    result = {}
    work = {k: np.array(a) for k, a in arrays.items()}
    for k, a in work.items():
        num = np.zeros(a.shape)
        for idx in np.ndindex(a.shape):
            keep = a[idx]
            a[idx] = keep + eps
            up = f(work)
            a[idx] = keep - eps
            down = f(work)
            a[idx] = keep
            num[idx] = (up - down) / (2 * eps)
        result[k] = num
    return result


def _compare(mine, reference, atol, rtol):
    """(max error, input name, index, mine, reference) of the worst entry, or None when all agree."""
    worst = None
    for k in mine:
        a, b = np.asarray(mine[k], dtype=np.float64), np.asarray(reference[k], dtype=np.float64)
        if a.shape != b.shape:
            return (np.inf, k, None, a, b)
        err = np.abs(a - b)
        bad = ~(err <= atol + rtol * np.abs(b))
        if bad.any():
            err = np.where(np.isnan(err), np.inf, err)
            idx = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), a.shape) if a.ndim else ()
            e = float(np.max(np.where(bad, err, 0)))
            if worst is None or e > worst[0]:
                worst = (e, k, idx, a[idx], b[idx])
    return worst


def _entry(k, idx):
    return k if idx in ((), None) else f"{k}{list(idx)}"


def check_forward(fn, expected, atol=1e-7, rtol=1e-6, **inputs):
    """fn(**tensors) equals `expected` (NumPy's answer) to float64 precision."""
    mg = _mg()
    arrays = _as_arrays(inputs)
    with _running("computing the forward value"), mg.no_grad():
        out = _output(fn, tensors(arrays, requires_grad=False), "the function under test")
    got = np.asarray(out.data)
    want = np.asarray(expected)
    if got.shape != want.shape:
        fail(f"forward gives shape {got.shape} at {_fmt_inputs(arrays)}, NumPy gives {want.shape}")
    bad = _compare({"y": got}, {"y": want}, atol, rtol)
    if bad:
        fail(f"forward differs from NumPy at {_fmt_inputs(arrays)} (max error {bad[0]:.3g})",
             f"  yours: {_fmt(got)}\n  NumPy: {_fmt(want)}")


def check_close(got, expected, what, atol=1e-7, rtol=1e-6):
    """Two arrays (or Tensors) agree; else a failure naming `what`."""
    got = np.asarray(getattr(got, "data", got), dtype=np.float64)
    want = np.asarray(getattr(expected, "data", expected), dtype=np.float64)
    if got.shape != want.shape:
        fail(f"{what}: shape {got.shape}, expected {want.shape}")
    bad = _compare({"v": got}, {"v": want}, atol, rtol)
    if bad:
        fail(f"{what}: wrong values (max error {bad[0]:.3g})", f"  got:      {_fmt(got)}\n  expected: {_fmt(want)}")


def check_grad_values(fn, expected, upstream=None, atol=1e-7, rtol=1e-6, **inputs):
    """The gradients minigrad computes for L = <upstream, fn(x)> equal `expected` ({input name: array}),
    a closed form computed with NumPy."""
    arrays = _as_arrays(inputs)
    with _running("computing the forward value"):
        shape = _output(fn, tensors(arrays, requires_grad=False), "the function under test").shape
    v = np.ones(shape) if upstream is None else np.asarray(upstream, dtype=np.float64)
    with _running("running backward"):
        grads, _, _, _ = _analytic(fn, arrays, v)
    for k, want in expected.items():
        bad = _compare({k: grads[k]}, {k: np.asarray(want)}, atol, rtol)
        if bad:
            fail(f"the gradient of {k} is wrong at {_fmt_inputs(arrays)} (max error {bad[0]:.3g})",
                 f"  yours:    {_fmt(grads[k])}\n  expected: {_fmt(want)}\n  upstream gradient: {_fmt(v)}")


class _ArraySpy:
    """Counts conversions of graph Tensors to NumPy arrays (np.where(m, g, 0), np.asarray(t), ...) while on."""

    def __init__(self):
        self.calls = 0

    def __enter__(self):
        mg = _mg()
        self.cls, self.original = mg.Tensor, mg.Tensor.__dict__.get("__array__")
        spy, original = self, self.original

        def __array__(t, *args, **kwargs):
            if t.requires_grad:
                spy.calls += 1
            return original(t, *args, **kwargs)
        if original is not None:
            self.cls.__array__ = __array__
        return self

    def __exit__(self, *exc):
        if self.original is not None:
            self.cls.__array__ = self.original


def check_gradients(fn, second_order=True, float32=True, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, **inputs):
    """The gradient checks of a task, in order; the first that fails ends the test with its message.

    1. gradcheck: minigrad's gradients (rules on NumPy arrays, the common case) equal central finite
       differences of L = <v, fn(x)> for a random upstream gradient v, in float64;
    2. the two executions: the same gradients when the rules run on Tensors (create_graph=True);
    3. second order: the gradient of that gradient equals finite differences of the first-order one;
    4. float32: float32 inputs get float32 outputs and float32 gradients.
    """
    mg = _mg()
    arrays = _as_arrays(inputs)
    rng = np.random.default_rng(seed)
    with _running("computing the forward value"):
        shape = _output(fn, tensors(arrays, requires_grad=False), "the function under test").shape
    v = rng.standard_normal(shape)
    with _running("running backward (the rules get NumPy arrays)"):
        grads, _, _, _ = _analytic(fn, arrays, v)
    with _running("computing finite differences"):
        numeric = _numeric(lambda a: _loss(fn, a, v), arrays, eps)
    bad = _compare(grads, numeric, atol, rtol)
    if bad:
        err, k, idx, mine, ref = bad
        fail(f"gradcheck failed at {_fmt_inputs(arrays)} (max error {err:.3g})",
             f"  d/d{_entry(k, idx)}: your gradient {mine:.6g}, central finite differences {ref:.6g}\n"
             f"  your gradient of {k}:  {_fmt(grads[k])}\n  finite differences:  {_fmt(numeric[k])}\n"
             f"  upstream gradient g: {_fmt(v)}")

    spy = _ArraySpy()
    with _running("running backward on Tensors (create_graph=True, as for second derivatives)"), spy:
        grads_t, graph, ts, _ = _analytic(fn, arrays, v, create_graph=True)
    bad = _compare(grads_t, grads, 1e-12, 1e-9)
    if bad:
        err, k, idx, mine, ref = bad
        fail(f"the two executions of the rule disagree at {_fmt_inputs(arrays)} (max error {err:.3g})",
             f"  d/d{_entry(k, idx)}: {ref:.6g} when the rule runs on NumPy arrays, {mine:.6g} when it runs on "
             "Tensors (create_graph=True); a rule is one formula that must give the same numbers in both")

    if second_order:
        w = {k: rng.standard_normal(np.shape(a)) for k, a in arrays.items()}

        def first_order(a):
            with _running("running backward (the rules get NumPy arrays)"):
                g, _, _, _ = _analytic(fn, a, v)
            return float(sum(np.vdot(w[k], g[k]) for k in g))

        with _running("differentiating the gradient (create_graph=True)"), spy:
            live = [(graph[k], k) for k in arrays if graph[k] is not None and graph[k].requires_grad]
            second = {k: np.zeros(np.shape(a)) for k, a in arrays.items()}
            if live:  # d/dx <w, dL/dx>: one more vector-Jacobian product, with w as the upstream gradient
                got = mg.grad([g for g, _ in live], list(ts.values()),
                              grad_outputs=[mg.tensor(w[k]) for _, k in live], allow_unused=True)
                second = {k: (np.zeros(np.shape(a)) if g is None else np.array(g.data, dtype=np.float64))
                          for (k, a), g in zip(arrays.items(), got)}
        numeric2 = _numeric(first_order, arrays, eps)
        bad = _compare(second, numeric2, atol * 10, rtol * 10)
        if bad:
            err, k, idx, mine, ref = bad
            if spy.calls:
                why = ("the rule turns a Tensor into a NumPy array when it runs on Tensors (np.where, np.asarray or "
                       "another NumPy function applied to a Tensor), so minigrad cannot differentiate through it; "
                       "write the rule with operators and mg.xp (xp.where, xp.exp, ...)")
            elif not live and any(np.any(n != 0) for n in numeric2.values()):
                why = ("the gradient the rule returns on Tensors does not depend on the input: it was computed "
                       "outside minigrad (.data, array_of(...) or NumPy on a value that must stay differentiable)")
            else:
                why = "second derivatives are wrong"
            fail(f"second-order gradcheck failed at {_fmt_inputs(arrays)} (max error {err:.3g}): {why}",
                 f"  d/d{_entry(k, idx)} of the gradient: {mine:.6g} from your rule on Tensors, {ref:.6g} from "
                 "finite differences of the gradient")

        # the gradient is linear in the upstream gradient v, and a rule must keep that dependence in the graph
        # too (Hessian-vector products and forward-mode tricks differentiate a gradient with respect to v):
        # d<w, dL/dx>/dv = J w, the derivative of fn along w
        with _running("differentiating the gradient with respect to the upstream gradient"), spy:
            vt = mg.tensor(v, requires_grad=True)
            ts = tensors(arrays)
            out = _output(fn, ts, "the function under test")
            got = mg.grad([out], list(ts.values()), grad_outputs=[vt], create_graph=True, allow_unused=True)
            live = [(g, k) for g, k in zip(got, arrays) if g is not None and g.requires_grad]
            jw = np.zeros(np.shape(v))
            if live:
                jv, = mg.grad([g for g, _ in live], [vt], grad_outputs=[mg.tensor(w[k]) for _, k in live],
                              allow_unused=True)
                jw = jw if jv is None else np.array(jv.data, dtype=np.float64)
        with _running("computing finite differences"), mg.no_grad():
            up = _output(fn, tensors({k: a + eps * w[k] for k, a in arrays.items()}, requires_grad=False), "fn").data
            down = _output(fn, tensors({k: a - eps * w[k] for k, a in arrays.items()}, requires_grad=False), "fn").data
            numeric_jw = (np.asarray(up, dtype=np.float64) - np.asarray(down, dtype=np.float64)) / (2 * eps)
        bad = _compare({"y": jw}, {"y": numeric_jw}, atol * 10, rtol * 10)
        if bad:
            why = ("the rule turns a Tensor into a NumPy array when it runs on Tensors (np.broadcast_to, np.where, "
                   "np.asarray or another NumPy function applied to a Tensor), so the gradient it returns no longer "
                   "depends on the upstream gradient g in the graph; use mg.xp" if spy.calls else
                   "the gradient the rule returns on Tensors does not follow the upstream gradient g through minigrad")
            fail(f"gradcheck of the gradient with respect to the upstream gradient failed at {_fmt_inputs(arrays)} "
                 f"(max error {bad[0]:.3g}): {why}",
                 f"  J w from your rule: {_fmt(jw)}\n  from finite differences: {_fmt(numeric_jw)}")

    if float32:
        with _running("running forward and backward in float32"):
            ts = tensors(arrays, dtype=np.float32)
            out = _output(fn, ts, "the function under test")
            if out.dtype != np.float32:
                fail(f"float32 inputs gave a {out.dtype} output at {_fmt_inputs(arrays)}; a float32 graph stays "
                     "float32")
            out.backward(mg.tensor(v.astype(np.float32)))
        for k, t in ts.items():
            if t.grad is not None and t.grad.dtype != np.float32:
                fail(f"the float32 input {k} got a {t.grad.dtype} gradient; a NumPy float64 constant (np.float64, "
                     "np.pi) widened it: use Python floats in rules")
    return True
