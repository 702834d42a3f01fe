"""The op-counting tracer: `with mg.trace() as tr:` records every op that passes the one door.

    with mg.trace() as tr:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    tr.flops("forward"), tr.flops("backward"), tr.macs(), tr.bops()
    print(tr.by_module())      # per layer, forward and backward (as fvcore's flop_count_table)
    print(tr.by_op())          # per operator
    tr.uncounted()             # the ops whose cost is unknown: nothing is silently zero

How it sees things, without knowing any op by name:

- **ops**: the tracer is an observer of `Function.apply` (`minigrad.autograd._observers`); for each
  op it asks the op's own `cost(ctx, out, *inputs)`. An op without a `cost` goes to `tr.uncounted()`.
- **bytes**: read = the input arrays' bytes, written = the output's; an output that is a view of an
  input (reshape, expand, transpose) moves no bytes.
- **phase**: `autograd.current_phase()`: 'forward', 'backward' (set by the engine) or 'optimizer'.
- **module path** (`features.2`): the global module forward hooks of `mg.nn` keep a stack of the
  modules running; a module's name is its attribute name in its parent's `_modules`. The pop hook is
  registered with `always_call=True` (as PyTorch's), so it runs also when a forward raises: after an
  exception the user catches, later ops get the right path.
- **which ops**: those of the context that opened the trace (a `contextvars` context: one thread, or one
  asyncio task), as `mg.no_grad()` and PyTorch's FLOP counter: other threads' ops are not recorded.
  Tasks created inside the trace copy the context and are recorded; a plain thread started inside it
  starts with an empty context and is not, unless run in a copy: `pool.submit(contextvars.copy_context().run,
  fn, x)` (`asyncio.to_thread` does this). Each context keeps its own module stack.
- **backward attribution and gradient norms**: every graph node recorded under the tracer gets a
  probe in its `hooks`. The engine calls it with the node's gradient just before the node's rule
  runs; the probe keeps the gradient's norm (with `mg.trace(grad_norms=True)`; the graph view shows
  it) and tells the tracer which node
  the following backward ops belong to, so they inherit its module path and rule. The probe returns
  None, so the gradient is unchanged: tracing changes no result. (Adding a gradient into a leaf's
  existing `.grad` happens after the last node; it is counted under that node's backward.)
- **cost of tracing**: a few microseconds of Python per op; `tracing_overhead(step)` measures it on
  a training step of yours (the benchmarks use it).
"""
import contextvars

import numpy as np

from . import autograd
from .autograd import _phase
from .tensor import Tensor

_ARRAYS = (Tensor, np.ndarray)

__all__ = ["trace", "Tracer", "OpRecord", "Table", "human", "tracing_overhead"]

PHASES = ("forward", "backward", "optimizer")
CATEGORIES = ("dot", "elementwise", "reduction", "movement", "ternary")
# 'ternary': products with a ternary operand ({-1, 0, +1}: BitNet b1.58's weights), counted as additions
# (FLOPs, no MACs), apart from the float products ('dot') so that float and ternary models compare fairly.


def human(n, unit=""):
    """3538944 -> '3.539M' (as fvcore prints counts)."""
    if n is None:
        return "-"
    n = float(n)
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.3f}{suffix}{unit}"
    return f"{n:.0f}{unit}" if n == int(n) else f"{n:.3g}{unit}"


class OpRecord:
    """One op application as the tracer saw it.

    name, phase, module (dotted path or None), in_shapes / in_dtypes / out_shape / out_dtype,
    flops / macs / bops, bytes_read / bytes_written, category, counted (False when the op declares
    no cost), rule (the name of the rule that produces, or produced, the gradient), grad_of (for a
    backward op: the op whose gradient it computes), elapsed (wall seconds), note (why it was not counted).
    """
    __slots__ = ("name", "phase", "module", "in_shapes", "in_dtypes", "out_shape", "out_dtype", "flops", "macs",
                 "bops", "bytes_read", "bytes_written", "category", "counted", "_rule", "grad_of", "elapsed", "note")

    def __init__(self, name, phase, in_shapes, in_dtypes, out_shape, out_dtype, bytes_read, bytes_written, elapsed):
        self.name, self.phase, self.elapsed = name, phase, elapsed
        self.in_shapes, self.in_dtypes, self.out_shape, self.out_dtype = in_shapes, in_dtypes, out_shape, out_dtype
        self.bytes_read, self.bytes_written = bytes_read, bytes_written
        self.flops = self.macs = self.bops = 0
        self.category = self.module = self._rule = self.grad_of = self.note = None
        self.counted = False

    @property
    def rule(self):
        """The rule's name: 'Matmul.backward', a surrogate such as 'Clipped()', or None (no graph)."""
        rule = self._rule
        if rule is None or isinstance(rule, str):
            return rule
        return autograd.rule_name(rule)

    @property
    def bytes(self):
        return self.bytes_read + self.bytes_written

    def to_dict(self):
        d = {k.lstrip("_"): getattr(self, k.lstrip("_")) for k in self.__slots__}
        d["in_shapes"] = [list(s) for s in self.in_shapes]
        d["in_dtypes"] = [str(t) for t in self.in_dtypes]
        d["out_shape"], d["out_dtype"] = list(self.out_shape), str(self.out_dtype)
        return d

    def __repr__(self):
        where = f" in {self.module}" if self.module else ""
        count = f"{self.flops} FLOPs" + (f", {self.bops} BOPs" if self.bops else "") if self.counted else "not counted"
        shapes = ", ".join(str(s) for s in self.in_shapes)
        return f"<{self.phase} {self.name}{where}: ({shapes}) -> {self.out_shape}, {count}>"


class _GradProbe:
    """Put in a traced node's `hooks`: notes which node backward is in, and the gradient's norm when the
    tracer has grad_norms=True. `record` is the node's forward record; `backward_flops` / `backward_bops`
    what the backward ops run for this node cost."""
    __slots__ = ("tracer", "index", "norm")

    def __init__(self, tracer, index):  # holds no reference to its node: no cycle keeps a graph alive
        self.tracer, self.index, self.norm = tracer, index, None

    def __call__(self, g):
        tracer = self.tracer
        if tracer.grad_norms:
            a = g.data
            if a.dtype.kind in "fc":
                self.norm = float(np.sqrt(np.vdot(a, a).real))
        here = tracer._here.get() if tracer._active else None
        if here is not None:  # a backward run in the traced context
            tracer._here.set((here[0], self.index))
        return None  # the gradient is unchanged

    @property
    def record(self):
        return self.tracer.records[self.index]

    @property
    def backward_flops(self):
        return self.tracer._backward_totals().get(self.index, (0, 0))[0]

    @property
    def backward_bops(self):
        return self.tracer._backward_totals().get(self.index, (0, 0))[1]


def probes(node):
    """The tracer probes on a graph node (what minigrad.viz reads)."""
    return [h for h in (node.hooks or ()) if isinstance(h, _GradProbe)]


class Tracer:
    """Records ops while active; see the module docstring. Use it through `mg.trace()`."""

    def __init__(self, model=None, grad_norms=False):
        self._raw = []              # one tuple per op, turned into OpRecords when asked (see records)
        self._records = []
        self._bwd = None
        self.module_types = {}      # path -> class name of the module
        self.model = model
        self.grad_norms = grad_norms
        self._names = {id(m): name for name, m in model.named_modules()} if model is not None else None
        self._here = self._token = None  # the ContextVar of this use (made by __enter__), and its token
        self._handles = []
        self._active = False

    # ---- entering and leaving ---------------------------------------------------------------
    def __enter__(self):
        if self._active:
            raise RuntimeError("trace: this tracer is already active; use a new `mg.trace()` for a nested trace")
        # per context (see the module docstring): (module stack, index of the node backward is in), or None
        # where the trace is not open; a stack entry is (module, path). A new variable for each use, so
        # contexts copied during an earlier use are not recorded by this one.
        self._here = contextvars.ContextVar("minigrad_trace", default=None)
        self._token = self._here.set(((), None))
        autograd._observers.append(self)
        try:
            from .nn import module as nn_module
        except ImportError:  # the layer library is optional for op-level tracing
            nn_module = None
        if nn_module is not None:
            self._handles = [nn_module.register_module_forward_pre_hook(self._push),
                             nn_module.register_module_forward_hook(self._pop, always_call=True)]
        self._active = True
        return self

    def __exit__(self, *exc):
        self._active = False
        for h in self._handles:
            h.remove()
        self._handles = []
        try:
            self._here.reset(self._token)
        except ValueError:  # left in another context than it was entered in: that one stays marked, unread
            pass
        if self in autograd._observers:
            autograd._observers.remove(self)
        return False

    def recording(self):
        """True when an op run here and now is recorded: the trace is open and this context opened it
        (or was copied from one that did)."""
        return self._active and self._here.get() is not None

    # ---- module attribution -------------------------------------------------------------------
    def _path_of(self, module, stack):
        if self._names is not None and id(module) in self._names:
            return self._names[id(module)]
        if not stack:
            return ""  # the outermost module called is the model
        parent, parent_path = stack[-1][:2]
        for name, child in getattr(parent, "_modules", {}).items():
            if child is module:
                return f"{parent_path}.{name}" if parent_path else name
        name = type(module).__name__  # called by its parent but not registered in it
        return f"{parent_path}.{name}" if parent_path else name

    def _push(self, module, args):
        here = self._here.get()
        if here is None:
            return  # another thread's module
        path = self._path_of(module, here[0])
        self._here.set((here[0] + ((module, path),), here[1]))
        self.module_types.setdefault(path, type(module).__name__)

    def _pop(self, module, args, output):
        here = self._here.get()
        if here is None:
            return
        stack = here[0]
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] is module:
                self._here.set((stack[:i], here[1]))
                return

    # ---- the observer -------------------------------------------------------------------------
    def on_op(self, cls, ctx, args, kwargs, result, elapsed):
        """Called by Function.apply for every op: keep what the record needs, as cheaply as possible
        (a tuple; the OpRecord is built when `records` is read)."""
        here = self._here.get()
        if here is None:
            return  # an op of another thread or context
        phase = _phase.get()
        out = result.data
        arrays = [a.data if isinstance(a, Tensor) else a for a in args if isinstance(a, _ARRAYS)]
        view = False
        if out.base is not None:
            for a in arrays:
                if np.may_share_memory(out, a):
                    view = True  # a view: no data moved
                    break
        cost = cls.cost
        if cost is not None:
            try:
                cost = cost(ctx, result, *args, **kwargs)
            except Exception as e:  # reported in uncounted(), never a silent zero
                cost = e
        stack, owner = here
        if phase == "backward":
            module = None
        else:
            if owner is not None:  # a forward op after a backward: it belongs to no node's backward
                self._here.set((stack, None))
            owner, module = None, (stack[-1][1] if stack else None)
        rule = None
        if result.grad_fn is ctx:  # a graph node: its rule is bound; probe it for backward
            rule = ctx.rule
            probe = _GradProbe(self, len(self._raw))
            if ctx.hooks is None:
                ctx.hooks = [probe]
            else:
                ctx.hooks.append(probe)
        self._raw.append((cls, phase, module, owner, rule, [a.shape for a in arrays], [a.dtype for a in arrays],
                          out.shape, out.dtype, view, cost, elapsed))

    @property
    def records(self):
        """The OpRecords, in the order the ops ran."""
        records, raw = self._records, self._raw
        for i in range(len(records), len(raw)):
            records.append(self._make_record(raw[i], records))
        return records

    @staticmethod
    def _make_record(entry, records):
        cls, phase, module, owner, rule, in_shapes, in_dtypes, out_shape, out_dtype, view, cost, elapsed = entry
        if view:
            read = written = 0
        else:
            read = sum(int(np.prod(s)) * np.dtype(d).itemsize for s, d in zip(in_shapes, in_dtypes))
            written = int(np.prod(out_shape)) * np.dtype(out_dtype).itemsize
        rec = OpRecord(cls.name, phase, in_shapes, in_dtypes, out_shape, out_dtype, read, written, elapsed)
        if cost is None:
            rec.note = f"op '{cls.name}' ({cls.__module__}.{cls.__qualname__}) declares no cost"
        elif isinstance(cost, Exception):
            rec.note = f"cost of op '{cls.name}' raised {type(cost).__name__}: {cost}"
        else:
            rec.flops, rec.macs, rec.bops = int(cost.flops), int(cost.macs), int(cost.bops)
            rec.category, rec.counted = cost.category, True
        if owner is not None:
            orec = records[owner]
            rec.module, rec._rule, rec.grad_of = orec.module, orec._rule, orec.name
        else:
            rec.module, rec._rule = module, rule
        return rec

    def _backward_totals(self):
        """forward record index -> (FLOPs, BOPs) of the backward ops run for it."""
        if self._bwd is None or self._bwd[0] != len(self._raw):
            totals = {}
            for entry, rec in zip(self._raw, self.records):
                owner = entry[3]
                if owner is not None:
                    f, b = totals.get(owner, (0, 0))
                    totals[owner] = (f + rec.flops, b + rec.bops)
            self._bwd = (len(self._raw), totals)
        return self._bwd[1]

    # ---- queries ------------------------------------------------------------------------------
    def select(self, phase=None, category=None, module=None, name=None):
        """The records matching every given filter (each a value or a tuple of values; module
        matches the path and everything under it)."""
        def match(value, want):
            return want is None or (value in want if isinstance(want, (tuple, list, set)) else value == want)

        for want, allowed in ((phase, PHASES), (category, CATEGORIES)):
            for w in (want if isinstance(want, (tuple, list, set)) else [want]):
                if w is not None and w not in allowed:
                    raise ValueError(f"trace: unknown {'phase' if allowed is PHASES else 'category'} {w!r}; "
                                     f"choose from {', '.join(allowed)}")
        out = []
        for r in self.records:
            if not (match(r.phase, phase) and match(r.category, category) and match(r.name, name)):
                continue
            if module is not None and not _under(r.module, module):
                continue
            out.append(r)
        return out

    def _total(self, field, **filters):
        return sum(getattr(r, field) for r in self.select(**filters))

    def flops(self, phase=None, category=None, module=None):
        """FLOPs of the counted ops (one multiply-add = 2 FLOPs)."""
        return self._total("flops", phase=phase, category=category, module=module)

    def macs(self, phase=None, category=None, module=None):
        return self._total("macs", phase=phase, category=category, module=module)

    def bops(self, phase=None, category=None, module=None):
        """Binary multiply-adds (XNOR-popcount): matmuls whose both operands are +-1."""
        return self._total("bops", phase=phase, category=category, module=module)

    def ops(self, phase=None, category=None, module=None):
        """BOPs / 64 + FLOPs, the binary-network literature's OPs (Bi-Real Net, Liu et al. 2018)."""
        return self.bops(phase, category, module) / 64 + self.flops(phase, category, module)

    def bytes(self, phase=None, category=None, module=None):
        """Bytes read plus bytes written."""
        return self._total("bytes_read", phase=phase, category=category, module=module) + \
            self._total("bytes_written", phase=phase, category=category, module=module)

    def time(self, phase=None, category=None, module=None):
        """Measured wall seconds inside the ops."""
        return self._total("elapsed", phase=phase, category=category, module=module)

    def uncounted(self):
        """The records whose cost is unknown (op without `cost`, or a cost that failed), with `.note`."""
        return [r for r in self.records if not r.counted]

    # ---- tables -------------------------------------------------------------------------------
    def by_op(self, phase=None):
        """Per operator and phase: calls, FLOPs, MACs, BOPs, bytes, time (as fvcore's by_operator)."""
        rows = {}
        for r in self.select(phase=phase):
            key = (r.name, r.phase)
            row = rows.setdefault(key, {"op": r.name, "phase": r.phase, "calls": 0, "flops": 0, "macs": 0,
                                        "bops": 0, "bytes": 0, "time_s": 0.0, "counted": True})
            row["calls"] += 1
            row["flops"] += r.flops
            row["macs"] += r.macs
            row["bops"] += r.bops
            row["bytes"] += r.bytes
            row["time_s"] += r.elapsed
            row["counted"] = row["counted"] and r.counted
        order = sorted(rows.values(), key=lambda d: (PHASES.index(d["phase"]), -d["flops"], d["op"]))
        return Table(order, ["op", "phase", "calls", "flops", "macs", "bops", "bytes", "time_s"],
                     title="per operator" + (f" ({phase})" if phase else ""))

    def module_paths(self):
        """Every module path seen, parents before children, in call order."""
        seen = {}
        for path in self.module_types:
            seen[path] = None
        for r in self.records:
            if r.module is not None:
                seen.setdefault(r.module, None)
        return sorted(seen, key=lambda p: (p.split(".") if p else []))

    def by_module(self, depth=None):
        """Per module (a row counts the module and everything under it), forward and backward FLOPs,
        MACs and BOPs, as fvcore's flop_count_table. `depth` limits how deep rows go."""
        rows = []
        paths = self.module_paths()
        for path in paths:
            level = 0 if path == "" else path.count(".") + 1
            if depth is not None and level > depth:
                continue
            rows.append(self._module_row(path, path or "model", level))
        if any(r.module is None for r in self.records):
            rows.append(self._module_row(None, "(outside modules)", 0))
        return Table(rows, ["module", "type", "flops_forward", "flops_backward", "macs_forward", "macs_backward",
                            "bops", "bytes"], title="per module", indent="level")

    def _module_row(self, path, label, level):
        recs = [r for r in self.records if (r.module is None if path is None else _under(r.module, path))]

        def total(field, phase=None):
            return sum(getattr(r, field) for r in recs if phase is None or r.phase == phase)
        return {"module": label, "path": path, "level": level, "type": self.module_types.get(path, ""),
                "flops_forward": total("flops", "forward"), "flops_backward": total("flops", "backward"),
                "macs_forward": total("macs", "forward"), "macs_backward": total("macs", "backward"),
                "bops": total("bops"), "bytes": total("bytes_read") + total("bytes_written"),
                "flops_optimizer": total("flops", "optimizer")}

    def summary(self):
        """Totals per phase and category as a dict (JSON-able)."""
        out = {}
        for phase in PHASES:
            recs = self.select(phase=phase)
            if not recs:
                continue
            out[phase] = {"ops": len(recs), "flops": sum(r.flops for r in recs), "macs": sum(r.macs for r in recs),
                          "bops": sum(r.bops for r in recs), "bytes": sum(r.bytes for r in recs),
                          "by_category": {c: sum(r.flops for r in recs if r.category == c) for c in CATEGORIES}}
        out["uncounted"] = sorted({r.name for r in self.uncounted()})
        return out

    def report(self):
        """A text report: totals per phase and category, the per-module and per-op tables, and what was
        not counted."""
        lines = [f"trace: {len(self.records)} ops"]
        for phase, s in self.summary().items():
            if phase == "uncounted":
                continue
            cats = ", ".join(f"{c} {human(v)}" for c, v in s["by_category"].items() if v)
            lines.append(f"  {phase:<9} {s['ops']:>5} ops  {human(s['flops'])} FLOPs  {human(s['macs'])} MACs  "
                         f"{human(s['bops'])} BOPs  {human(s['bytes'], 'B')}  ({cats or 'no FLOPs'})")
        lines += ["", str(self.by_module()), "", str(self.by_op()), ""]
        missing = self.uncounted()
        if missing:
            lines.append(f"not counted ({len(missing)} ops):")
            for note in sorted({r.note for r in missing}):
                lines.append(f"  - {note}")
        else:
            lines.append("not counted: nothing (every op declared its cost)")
        return "\n".join(lines)

    def __repr__(self):
        return f"<trace: {len(self.records)} ops, {human(self.flops())} FLOPs, {human(self.bops())} BOPs>"

    def _repr_html_(self):
        """Jupyter: the report as HTML (totals per phase, the per-module and per-operator tables, what was not
        counted)."""
        import html
        out = [f"<p><b>trace: {len(self.records)} ops</b></p>", "<ul>"]
        for phase, s in self.summary().items():
            if phase == "uncounted":
                continue
            cats = ", ".join(f"{c} {human(v)}" for c, v in s["by_category"].items() if v)
            out.append(f"<li>{phase}: {s['ops']} ops, {human(s['flops'])} FLOPs, {human(s['macs'])} MACs, "
                       f"{human(s['bops'])} BOPs, {human(s['bytes'], 'B')} ({html.escape(cats or 'no FLOPs')})</li>")
        out.append("</ul>")
        out += [self.by_module().to_html(), self.by_op().to_html()]
        missing = self.uncounted()
        if missing:
            out.append(f"<p>not counted ({len(missing)} ops):</p><ul>" +
                       "".join(f"<li>{html.escape(note)}</li>" for note in sorted({r.note for r in missing})) + "</ul>")
        else:
            out.append("<p>not counted: nothing (every op declared its cost)</p>")
        return "\n".join(out)


def _under(path, prefix):
    """True when module `path` is `prefix` or inside it ('' is the model: everything inside a module)."""
    if path is None:
        return False
    return prefix == "" or path == prefix or path.startswith(prefix + ".")


def trace(model=None, grad_norms=False):
    """`with mg.trace() as tr:` record every op run inside (forward, backward and optimizer).

    grad_norms: also keep the norm of the gradient reaching each graph node during backward (what
    `mg.viz` draws on the edges); off by default, as it reads every gradient once more.
    model: optional; module paths are then named from `model.named_modules()` (otherwise from the
    modules' attribute names as they run, the outermost module being the model, path '').
    """
    if isinstance(model, Tensor):
        raise TypeError("mg.trace is minigrad's op tracer (`with mg.trace() as tr: ...`), not torch.trace: for the "
                        "sum of a matrix's diagonal call x.trace() on the tensor")
    return Tracer(model, grad_norms)


class Table:
    """Rows (dicts) with a text and a Markdown rendering; counts print as 1.769M, `.rows` keeps the
    exact numbers."""

    def __init__(self, rows, columns, title="", indent=None):
        self.rows, self.columns, self.title, self._indent = rows, columns, title, indent

    def _cells(self, row):
        cells = []
        for c in self.columns:
            v = row.get(c)
            if c == self.columns[0] and self._indent:
                v = "  " * row.get(self._indent, 0) + str(v)
            elif c == "time_s":
                v = f"{v * 1e3:.3f} ms"
            elif c == "bytes" or c.endswith("_bytes"):
                v = human(v, "B")
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                v = human(v)
            cells.append("" if v is None else str(v))
        return cells

    def to_text(self):
        body = [self._cells(r) for r in self.rows]
        widths = [max([len(c)] + [len(b[i]) for b in body]) for i, c in enumerate(self.columns)]
        numeric = [all(isinstance(r.get(c), (int, float, np.integer, np.floating)) for r in self.rows)
                   for c in self.columns]
        line = lambda cells: " | ".join(  # noqa: E731
            (c.rjust(w) if numeric[i] and i else c.ljust(w)) for i, (c, w) in enumerate(zip(cells, widths)))
        out = [line(self.columns), "-+-".join("-" * w for w in widths)] + [line(b) for b in body]
        return "\n".join(([self.title] if self.title else []) + [o.rstrip() for o in out])

    def to_markdown(self):
        out = ["| " + " | ".join(self.columns) + " |", "|" + "|".join(" --- " for _ in self.columns) + "|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in self._cells(r)) + " |" for r in self.rows]
        return "\n".join(out)

    def to_dict(self):
        return [dict(r) for r in self.rows]

    def to_html(self):
        """An HTML table (what Jupyter shows): numbers right-aligned, nested rows indented."""
        import html
        numeric = [all(isinstance(r.get(c), (int, float, np.integer, np.floating)) and not isinstance(r.get(c), bool)
                       for r in self.rows) for c in self.columns]
        out = ['<table class="minigrad">']
        if self.title:
            out.append(f'<caption style="text-align:left; font-weight:bold">{html.escape(self.title)}</caption>')
        out.append("<thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in self.columns) + "</tr></thead>")
        out.append("<tbody>")
        for row in self.rows:
            cells = self._cells(row)
            tds = []
            for i, cell in enumerate(cells):
                style = "text-align:right" if numeric[i] and i else "text-align:left"
                if i == 0 and self._indent:
                    cell = cell.lstrip(" ")
                    style += f"; padding-left:{0.5 + 1.2 * row.get(self._indent, 0):.1f}em"
                tds.append(f'<td style="{style}; font-family:monospace">{html.escape(cell)}</td>')
            out.append("<tr>" + "".join(tds) + "</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)

    def _repr_html_(self):
        return self.to_html()

    __str__ = to_text

    def __repr__(self):
        return self.to_text()


def tracing_overhead(step, repeats=20, warmup=3):
    """(seconds per call with tracing off, with tracing on, ratio): the median over `repeats` runs of
    `step()` (a training step, say), for the benchmark of issue 5."""
    import time

    def median_time(traced):
        times = []
        for i in range(warmup + repeats):
            start = time.perf_counter()
            if traced:
                with trace():
                    step()
            else:
                step()
            if i >= warmup:
                times.append(time.perf_counter() - start)
        return float(np.median(times))
    off, on = median_time(False), median_time(True)
    return off, on, on / off
