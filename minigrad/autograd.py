"""The one door (`Function.apply`), the graph node, and the backward engine.

Every op, built-in or user-defined, is a `Function` subclass and runs through `Function.apply`.
That is where the graph is recorded, where the backward rule is bound (per call, per scope or
the op's default), where observers such as the tracer see the op, and where anomaly checks run.
"""
import contextlib
import contextvars
import functools
import os
import sys
import time
import weakref
import zlib
from typing import NamedTuple

import numpy as np

from .tensor import Tensor

_grad_enabled = contextvars.ContextVar("minigrad_grad_enabled", default=True)
_rule_overrides = contextvars.ContextVar("minigrad_rule_overrides", default={})
_phase = contextvars.ContextVar("minigrad_phase", default="forward")
_observers = []          # objects with .on_op(record); the tracer subscribes here
_anomaly = [False]       # detect_anomaly() switches this on
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class Cost(NamedTuple):
    """What one op application costs. One multiply-add is one MAC and two FLOPs; a BOP is one binary
    (XNOR-popcount) multiply-add. category: 'dot', 'elementwise', 'reduction' or 'movement'."""
    flops: int = 0
    macs: int = 0
    bops: int = 0
    category: str = "elementwise"


# ---- grad mode ----------------------------------------------------------------------------------
def is_grad_enabled():
    return _grad_enabled.get()


class _GradMode:
    """Context manager and decorator that sets whether ops record the graph."""
    mode = True

    def __enter__(self):
        self._token = _grad_enabled.set(self.mode)
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._token)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """`with mg.no_grad():` or `@mg.no_grad()`: ops run but record no graph."""
    mode = False


class enable_grad(_GradMode):
    """`with mg.enable_grad():` or `@mg.enable_grad()`: record the graph again inside a no_grad block."""
    mode = True


@contextlib.contextmanager
def set_grad_enabled(mode):
    token = _grad_enabled.set(bool(mode))
    try:
        yield
    finally:
        _grad_enabled.reset(token)


@contextlib.contextmanager
def phase(name):
    """Label the ops run inside as 'forward', 'backward' or 'optimizer' (the tracer reads it)."""
    token = _phase.set(name)
    try:
        yield
    finally:
        _phase.reset(token)


def current_phase():
    return _phase.get()


# ---- the graph node -------------------------------------------------------------------------------
class Node:
    """The record of one op application; it is the `ctx` of forward and backward and the `grad_fn`.

    parents[i] is what input i's gradient flows to: the input's own grad_fn, the input itself when it
    is a leaf that requires grad, or None. While a rule runs, `arrays` says which execution it is in:
    True, the saved tensors and the output are handed out as NumPy arrays; False, as Tensors.
    """
    hooks = None
    created_at = None
    arrays = False
    _out = None
    _versions = ()  # saved_tensors of a node that saved nothing is ()
    _checksums = None

    def __init__(self, op):
        self.op = op
        self._saved = ()

    def link(self, args):
        """Before forward runs: which inputs want a gradient (`needs_input_grad`, as PyTorch's ctx has it), what
        their gradients flow to (`parents`), and where the last tensor input is."""
        needs, parents, last = [], [], 0
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                last = i + 1
                if a._requires_grad:
                    needs.append(True)
                    parents.append(a.grad_fn or a)
                    continue
            needs.append(False)
            parents.append(None)
        self.needs_input_grad, self.parents, self.last_tensor_input = tuple(needs), parents, last

    def save_for_backward(self, *tensors):
        """Keep tensors for backward; modifying one in place before backward is then an error."""
        self._saved = tensors
        self._versions = [t._version[0] if isinstance(t, Tensor) else None for t in tensors]
        if _anomaly[0]:
            self._checksums = [_checksum(t.data) if isinstance(t, Tensor) else None for t in tensors]

    @property
    def released(self):
        return self._saved is None

    @property
    def saved_tensors(self):
        """The tensors saved in forward: Tensors, or their arrays in the array execution of a rule."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(f"op '{self.op.name}': trying to backward through the graph a second time (its saved "
                               "tensors were freed after the first backward); pass retain_graph=True to the first "
                               "backward() if you need to run it again")
        for i, (t, version) in enumerate(zip(saved, self._versions)):
            if version is not None and t._version[0] != version:
                raise RuntimeError(
                    f"op '{self.op.name}'{self._where()}: a tensor of shape {t.shape} it saved for backward was "
                    f"modified in place (version {version} -> {t._version[0]}) before backward ran, so its "
                    "gradient would be wrong; do the in-place change after backward, or use an out-of-place op")
            if self._checksums is not None and self._checksums[i] is not None \
                    and _checksum(t.data) != self._checksums[i]:
                raise RuntimeError(_RAW_WRITE.format(op=self.op.name, where=self._where(), what=f"input of shape {t.shape}"))
        if self.arrays:
            return tuple(t.data if isinstance(t, Tensor) else t for t in saved)
        return saved

    @property
    def output(self):
        """The op's output (for ops with `saves_output = True`): a graph tensor, or its array."""
        data, box, version, checksum = self._out
        if box[0] != version:
            raise RuntimeError(f"op '{self.op.name}'{self._where()}: its output was modified in place before "
                               "backward ran; use an out-of-place op")
        if checksum is not None and _checksum(data) != checksum:
            raise RuntimeError(_RAW_WRITE.format(op=self.op.name, where=self._where(), what="output"))
        return data if self.arrays else Tensor._wrap(data, True, self)

    def release(self):
        """Free what backward needed; running this node again is then an error."""
        self._saved = self._out = None

    def rule_name(self):
        return rule_name(self.rule)

    def has_custom_rule(self):
        return self.rule is not self.op.backward

    def describe(self):
        """`mul`, or `sign, rule=Clipped(clip=1.0)` when the rule is not the op's own backward."""
        return f"{self.op.name}, rule={self.rule_name()}" if self.has_custom_rule() else self.op.name

    def _where(self):
        return f" (created at {self.created_at})" if self.created_at else ""

    def __repr__(self):
        return f"<{self.describe()}>"


_RAW_WRITE = ("detect_anomaly: op '{op}'{where}: the {what} it saved for backward was changed after the forward "
              "without minigrad knowing (a write to `.data` or through a NumPy view), so its gradient would be "
              "wrong; change a copy instead, or change it after backward")


def _checksum(array):
    """A fingerprint of an array's bytes (anomaly mode only: it reads the whole array)."""
    return zlib.crc32(np.ascontiguousarray(array).view(np.uint8))


def rule_name(rule):
    """'Matmul.backward' for a function, the repr ('Clipped(clip=1.0)') for a rule object."""
    return getattr(rule, "__qualname__", None) or repr(rule)


def _user_frame():
    """'file.py:12 in fn' for the innermost frame outside the minigrad package."""
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _check_finite(array, what, node):
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        kind = "nan" if np.isnan(array).any() else "inf"
        raise FloatingPointError(f"detect_anomaly: op '{node.op.name}' produced {kind} in its {what}"
                                 f"{node._where()}")


# ---- the one door -------------------------------------------------------------------------------
class Function:
    """An op: `forward(ctx, *inputs) -> ndarray`, `backward(ctx, grad) -> grad per input`, and `cost`.

    forward receives the inputs as given (Tensors and plain arguments) and computes on `x.data`.
    backward is written with minigrad ops, so it can itself be differentiated (create_graph=True);
    return one gradient per tensor input (None for one that needs none).

    One rule, two executions: a rule that uses only operators, methods NumPy arrays share with Tensors
    (`sum(axis=, keepdims=)`, `reshape`, `astype`, `.T`, `.mT`) and the functions of `mg.xp`, declares
    `takes_arrays = True`; the engine then runs it on plain NumPy arrays (g, `ctx.saved_tensors`,
    `ctx.output`) unless a higher-order graph is asked for. A rule without it always gets Tensors.

    Subclasses may set `name` (default: the lower-case class name), `default_rule` (default: backward),
    `saves_output = True` to read `ctx.output` in backward, `view = True` when the output may be a view of
    the first input (it then shares that input's version counter), `numpy_forward = True` when forward
    calls no minigrad op (so grad mode need not be switched off around it), and `cost(ctx, out, *inputs)`.
    """
    name = None
    default_rule = None
    saves_output = False
    takes_arrays = False
    numpy_forward = False
    view = False
    cost = None
    registry = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        if "backward" in cls.__dict__:  # the marker travels with the rule (backward_rules may bind it elsewhere)
            cls.backward.takes_arrays = cls.takes_arrays
        cls.default_rule = cls.__dict__.get("default_rule") or cls.backward
        Function.registry.setdefault(cls.name, cls)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("this op defines no backward rule; it has no gradient")

    @classmethod
    def apply(cls, *args, rule=None, **kwargs):
        """Run the op: forward on the data, then (when a gradient is wanted) bind the rule and record."""
        if _observers or _anomaly[0]:
            return cls._apply_watched(rule, args, kwargs)
        if _grad_enabled.get():
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    ctx = Node(cls)
                    ctx.link(args)
                    result = cls._forward(ctx, args, kwargs)
                    cls._record(ctx, rule, args, result)
                    return result
        return cls._forward(UnrecordedNode(cls), args, kwargs)

    @classmethod
    def _forward(cls, ctx, args, kwargs):
        """forward, its output wrapped as a Tensor (sharing its input's version counter if it is a view)."""
        if cls.numpy_forward or type(ctx) is UnrecordedNode:
            out = cls.forward(ctx, *args, **kwargs)
        else:
            token = _grad_enabled.set(False)  # ops a user's forward calls are not recorded
            try:
                out = cls.forward(ctx, *args, **kwargs)
            finally:
                _grad_enabled.reset(token)
        result = Tensor._wrap(out if type(out) is np.ndarray else _as_array(out))
        if cls.view:
            _share_version(result, args, kwargs, cls)
        return result

    @classmethod
    def _record(cls, ctx, rule, args, result):
        """Make `result` a graph tensor whose grad_fn is ctx, with its rule bound."""
        out = result.data
        if out.dtype.kind != "f":
            if out.dtype.kind == "c":
                raise TypeError(f"op '{cls.name}': its output is {out.dtype} and an input requires grad; minigrad "
                                "differentiates real (float) tensors only: detach() the inputs, or work on the real "
                                "and imaginary parts as float tensors")
            return  # integer and bool results carry no gradient (comparisons, argmax, ...)
        ctx.shape, ctx.dtype = out.shape, out.dtype
        if rule is None:
            overrides = _rule_overrides.get()
            rule = overrides.get(cls.name) if overrides else None
            if rule is None:
                rule = cls.default_rule
        ctx.rule = rule
        if cls.saves_output:
            ctx._out = (out, result._version, result._version[0], _checksum(out) if _anomaly[0] else None)
        result._requires_grad = True
        result.grad_fn = ctx

    @classmethod
    def _apply_watched(cls, rule, args, kwargs):
        """apply with observers (the tracer) or anomaly mode on: the same op, timed, checked and reported."""
        start = time.perf_counter()
        record = _grad_enabled.get() and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx = Node(cls) if record else UnrecordedNode(cls)
        if record:
            ctx.link(args)
        else:
            ctx.needs_input_grad = None
        result = cls._forward(ctx, args, kwargs)
        if record:
            cls._record(ctx, rule, args, result)
        if _anomaly[0]:
            ctx.created_at = _user_frame()
            if _phase.get() != "backward":  # inside a rule, the engine checks the gradient and names the op
                _check_finite(result.data, "forward output", ctx)
        if _observers:
            elapsed = time.perf_counter() - start
            for observer in list(_observers):
                observer.on_op(cls, ctx, args, kwargs, result, elapsed)
        return result


def _as_array(out):
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _share_version(result, args, kwargs, cls):
    """A view shares the version counter of the tensor it views, so an in-place change through any alias is
    seen by every node that saved one of them. A view of a tensor in a graph also remembers its base and the
    steps that make it from the base, so an in-place change through it can rewrite the base's history (see
    ops.inplace)."""
    source = args[0]
    if not (isinstance(source, Tensor) and result.data.base is not None
            and np.may_share_memory(result.data, source.data)):
        return
    result._version = source._version
    if source._requires_grad and _grad_enabled.get():
        base, steps = source._view or (source, ())
        result._view = (base, steps + ((cls, args[1:], kwargs),))
        if base.grad_fn is not None:  # a base that is not a leaf can be changed in place: keep its views current
            if base._views is None:
                base._views = weakref.WeakSet()
            base._views.add(result)


class UnrecordedNode(Node):
    """The ctx of an op that records no graph: saving for backward is skipped."""

    def save_for_backward(self, *tensors):
        pass


# ---- choosing rules -----------------------------------------------------------------------------
class backward_rules:
    """`with mg.backward_rules(relu=guided_relu): ...` replaces ops' backward rules inside the scope.

    A rule is a callable `rule(ctx, grad) -> grad per input` (the same signature as backward). The
    rule in force when an op runs is bound to its graph node (`y.grad_fn.rule`); scopes nest, restore
    on exit (also after an exception) and are per thread / per asyncio task (contextvars).
    """

    def __init__(self, **rules):
        for name in rules:
            if name not in Function.registry:
                known = ", ".join(sorted(Function.registry))
                raise KeyError(f"backward_rules: no op named '{name}'; known ops: {known}")
        self.rules = rules

    def __enter__(self):
        self._token = _rule_overrides.set({**_rule_overrides.get(), **self.rules})
        return self

    def __exit__(self, *exc):
        _rule_overrides.reset(self._token)


def rule_in_force(op_name):
    """The rule an op named `op_name` would bind if it ran now."""
    cls = Function.registry[op_name]
    return _rule_overrides.get().get(op_name) or cls.default_rule


@contextlib.contextmanager
def detect_anomaly():
    """Raise at the first nan or inf in any forward output or backward gradient, naming the op and the
    file and line of user code that created it."""
    previous = _anomaly[0]
    _anomaly[0] = True
    try:
        yield
    finally:
        _anomaly[0] = previous


# ---- the backward engine ------------------------------------------------------------------------
def _as_tensor_list(x):
    return [x] if isinstance(x, Tensor) else list(x)


def _seed_list(grads, n):
    """The upstream gradients as a list of n entries (None: d(output)/d(output) = 1 for a scalar)."""
    if grads is None:
        return [None] * n
    return _as_tensor_list(grads) if isinstance(grads, (Tensor, list, tuple)) else [grads]


def _seed(output, grad, arrays):
    """The gradient backward starts from at `output`: an array (array execution) or a Tensor."""
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(f"backward: grad can be created implicitly only for a scalar output, this one has "
                               f"shape {output.shape}; pass grad= (a tensor of that shape), or reduce first (.sum())")
        g = np.ones(output.shape, output.dtype)
    else:
        if not arrays and isinstance(grad, Tensor) and grad.requires_grad:
            if grad.shape != output.shape:
                raise RuntimeError(f"backward: grad has shape {grad.shape} but the output has shape {output.shape}")
            return grad  # create_graph: the seed itself may be differentiated
        g = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
        if g.shape != output.shape:
            raise RuntimeError(f"backward: grad has shape {g.shape} but the output has shape {output.shape}")
        g = np.array(g, dtype=output.dtype)
    return g if arrays else Tensor._wrap(g)


def dependencies(start):
    """How many gradient edges point into each node reachable from the nodes `start` (iterative, so a
    graph of any depth works)."""
    stack = list(start)
    deps = dict.fromkeys(stack, 0)
    # task 1.1: topological order
    while stack:
        for parent in stack.pop().parents:
            if type(parent) is Node:
                if parent in deps:
                    deps[parent] += 1
                else:
                    deps[parent] = 1
                    stack.append(parent)
    # end task
    return deps


def _call_rule(node, g, arrays):
    """Run the node's rule on g: on arrays when asked and the rule takes them, else on Tensors.
    Returns the gradients as a tuple (arrays or Tensors, as the execution)."""
    rule = node.rule
    node.arrays = arrays and getattr(rule, "takes_arrays", False)
    try:
        results = rule(node, g if node.arrays or not arrays else Tensor._wrap(g))
    finally:
        node.arrays = False
    if not isinstance(results, (tuple, list)):
        results = (results,)
    n_inputs = len(node.parents)
    last_tensor = node.last_tensor_input
    if len(results) < last_tensor or any(r is not None for r in results[n_inputs:]):
        raise RuntimeError(f"op '{node.op.name}': its backward rule {node.rule_name()} returned {len(results)} "
                           f"gradient(s) for {n_inputs} input(s) ({last_tensor} up to its last tensor input); return "
                           "one per input, None for an input that needs no gradient")
    return results


def _as_grad(node, i, g, parent, arrays):
    """Input i's gradient as an array (array execution) or Tensor, checked against the input's shape and dtype."""
    data = g.data if isinstance(g, Tensor) else g
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    if data.shape != parent.shape:
        raise RuntimeError(f"op '{node.op.name}': its backward rule {node.rule_name()} returned a gradient of shape "
                           f"{data.shape} for input {i}, whose shape is {parent.shape}; a rule must return one "
                           "gradient per input, of that input's shape")
    if data.dtype != parent.dtype:
        raise RuntimeError(f"op '{node.op.name}': its backward rule {node.rule_name()} returned a {data.dtype} gradient "
                           f"for input {i}, which is {parent.dtype}")
    if arrays:
        return data
    return g if isinstance(g, Tensor) else Tensor._wrap(data)


def _run_hooks(hooks, g, arrays, owner):
    """Call each hook with the gradient (a Tensor); a returned tensor replaces it after the same checks as a
    rule's result. Returns the gradient in the execution's form."""
    t = Tensor._wrap(g) if arrays else g
    for hook in list(hooks):
        result = hook(t)
        if result is None:
            continue
        data = result.data if isinstance(result, Tensor) else None
        if data is None or data.shape != t.shape or data.dtype != t.dtype:
            what = f"a {type(result).__name__}" if data is None else f"a {data.dtype} gradient of shape {data.shape}"
            raise RuntimeError(f"hook {rule_name(hook)} on {owner} returned {what}; a hook must return None or a "
                               f"tensor of the gradient's shape {t.shape} and dtype {t.dtype}")
        t = result
    return t.data if arrays else t


def _base_id(array):
    return id(array if array.base is None else array.base)


def run_backward(roots, grads, retain_graph=False, create_graph=False, capture=None):
    """Propagate `grads` from `roots` to the leaves in topological order.

    Two executions of the same rules: without `create_graph` (and with no observer, which must see every
    op of backward) gradients are NumPy arrays and rules that take arrays run on them directly; with it
    they are Tensors and every step of every rule is recorded. Without `capture` gradients accumulate into
    the leaves' `.grad`; with `capture` (a dict whose keys are leaf tensors or nodes) they are returned in
    it instead and no `.grad` is touched.
    """
    arrays = not create_graph and not _observers
    deps = dependencies(r.grad_fn for r in roots if r.grad_fn is not None)
    pending, ready = {}, []  # node or leaf -> [gradient, owned: a buffer this pass made, safe to add into]
    for root, g in zip(roots, grads):
        target = root.grad_fn or root
        _add_pending(pending, target, g, arrays)
        if type(target) is Node and not deps.get(target) and target not in ready:
            ready.append(target)
    exposed = set()  # ids of the arrays a user can see (hooks, leaves, captured results)
    token, phase_token = _grad_enabled.set(bool(create_graph)), _phase.set("backward")
    try:
        while ready:
            node = ready.pop()
            entry = pending.pop(node, None)
            g = None if entry is None else entry[0]
            if g is not None and node.hooks:
                g = _run_hooks(node.hooks, g, arrays, f"op '{node.op.name}'")
                if arrays:
                    exposed.add(_base_id(g))
            if capture is not None and node in capture:
                capture[node] = g
            results = ()
            if g is not None:
                if node._saved is None:
                    raise RuntimeError(f"op '{node.op.name}': trying to backward through the graph a second time; "
                                       "its buffers were freed by the first backward. Pass retain_graph=True to "
                                       "the first backward() if you need to run it again")
                results = _call_rule(node, g, arrays)
                if not retain_graph:
                    node.release()
            for i, parent in enumerate(node.parents):
                if parent is None:
                    continue
                ig = results[i] if i < len(results) else None
                if ig is not None:
                    if not (type(ig) is np.ndarray and arrays and ig.shape == parent.shape
                            and ig.dtype == parent.dtype):
                        ig = _as_grad(node, i, ig, parent, arrays)
                    if _anomaly[0]:
                        _check_finite(ig if arrays else ig.data, f"gradient for input {i}", node)
                    entry = pending.get(parent)
                    if entry is None:
                        pending[parent] = [ig, False]
                    else:
                        _accumulate_pending(entry, ig, arrays)
                if type(parent) is Node:
                    left = deps[parent] - 1
                    deps[parent] = left
                    if not left:
                        ready.append(parent)
        given = set()  # ids of the Tensors handed to a leaf (create_graph)
        for leaf, (g, owned) in pending.items():
            if type(leaf) is Node:
                continue
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g, arrays, f"a leaf of shape {leaf.shape}")
                owned = False
            if capture is not None:
                if leaf in capture:
                    capture[leaf] = g
                continue
            if arrays:
                _accumulate_array(leaf, g, owned, exposed)
            else:
                if id(g) in given:  # no two leaves share a .grad tensor
                    g = g.clone()
                given.add(id(g))
                leaf.grad = g if leaf.grad is None else leaf.grad + g
        if capture is not None and arrays:
            for key, g in capture.items():
                if g is not None and not isinstance(g, Tensor):
                    capture[key] = Tensor._wrap(np.array(g) if _base_id(g) in exposed else g)
                    exposed.add(_base_id(g))
    finally:
        _phase.reset(phase_token)
        _grad_enabled.reset(token)


def _add_pending(pending, target, g, arrays):
    """Add g into target's pending gradient (a new entry [gradient, owned] the first time)."""
    entry = pending.get(target)
    if entry is None:
        pending[target] = [g, False]
    else:
        _accumulate_pending(entry, g, arrays)


def _accumulate_pending(entry, g, arrays):
    """entry[0] += g: in place into a buffer this pass made (entry[1], owned), out of place otherwise."""
    if not arrays:
        entry[0] = entry[0] + g
    elif entry[1]:
        np.add(entry[0], g, out=entry[0])
    else:
        entry[0], entry[1] = np.asarray(entry[0] + g), True


def _accumulate_array(leaf, g, owned, exposed):
    """leaf.grad += g (array execution). The first gradient is kept as is when nothing else can see its memory
    (a copy otherwise, so no two leaves share a .grad array); later ones are added in place, as PyTorch's
    AccumulateGrad does."""
    current = leaf.grad
    if current is None:
        if not owned and (_base_id(g) in exposed or not g.flags.writeable):
            g = np.array(g)
        exposed.add(_base_id(g))
        leaf.grad = Tensor._wrap(g)
    elif not current._requires_grad and current.data.flags.writeable and current.data.shape == g.shape:
        np.add(current.data, g, out=current.data, casting="same_kind")
        current._version[0] += 1
    else:
        leaf.grad = Tensor._wrap(np.asarray(current.data + g))


def backward(tensors, grads=None, retain_graph=None, create_graph=False):
    """Accumulate gradients of `tensors` into the leaves' `.grad` (as torch.autograd.backward)."""
    tensors = _as_tensor_list(tensors)
    grads = _seed_list(grads, len(tensors))
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn; did you mean to "
                               "set requires_grad=True on an input, or is the computation inside mg.no_grad()?")
    arrays = not create_graph and not _observers
    seeds = [_seed(t, g, arrays) for t, g in zip(tensors, grads)]
    run_backward(tensors, seeds, create_graph if retain_graph is None else retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """d(outputs)/d(inputs), returned as a tuple (as torch.autograd.grad); no `.grad` is modified."""
    outputs, inputs = _as_tensor_list(outputs), _as_tensor_list(inputs)
    grad_outputs = _seed_list(grad_outputs, len(outputs))
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: an input of shape {t.shape} does not require grad")
    for t in outputs:
        if not t.requires_grad:
            raise RuntimeError("grad: an output does not require grad; it does not depend on any input that does")
    capture = {t.grad_fn or t: None for t in inputs}
    arrays = not create_graph and not _observers
    seeds = [_seed(t, g, arrays) for t, g in zip(outputs, grad_outputs)]
    run_backward(outputs, seeds, create_graph if retain_graph is None else retain_graph, create_graph, capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[t.grad_fn or t]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)
