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
    is a leaf that requires grad, or None.
    """
    hooks = None
    created_at = None
    _out = None
    _versions = ()  # saved_tensors of a node that saved nothing is ()

    def __init__(self, op):
        self.op = op
        self._saved = ()

    def save_for_backward(self, *tensors):
        """Keep tensors for backward; modifying one in place before backward is then an error."""
        self._saved = tensors
        self._versions = [t._version[0] if isinstance(t, Tensor) else None for t in tensors]

    @property
    def released(self):
        return self._saved is None

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            raise RuntimeError(f"op '{self.op.name}': trying to backward through the graph a second time (its saved "
                               "tensors were freed after the first backward); pass retain_graph=True to the first "
                               "backward() if you need to run it again")
        for t, version in zip(saved, self._versions):
            if version is not None and t._version[0] != version:
                raise RuntimeError(
                    f"op '{self.op.name}'{self._where()}: a tensor of shape {t.shape} it saved for backward was "
                    f"modified in place (version {version} -> {t._version[0]}) before backward ran, so its "
                    "gradient would be wrong; do the in-place change after backward, or use an out-of-place op")
        return saved

    @property
    def output(self):
        """The op's output as a graph tensor (for ops with `saves_output = True`)."""
        data, box, version = self._out
        if box[0] != version:
            raise RuntimeError(f"op '{self.op.name}'{self._where()}: its output was modified in place before "
                               "backward ran; use an out-of-place op")
        return Tensor._wrap(data, True, self)

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

    forward receives the inputs as given (Tensors and plain arguments) and computes on `x.data`;
    backward receives and returns Tensors and is written with minigrad ops, so it can itself be
    differentiated (create_graph=True). Return None for an input that needs no gradient.
    Subclasses may set `name` (default: the lower-case class name), `default_rule` (default: backward),
    `saves_output = True` to read `ctx.output` in backward, and `cost(ctx, out, *inputs)` -> Cost.
    """
    name = None
    default_rule = None
    saves_output = False
    cost = None
    registry = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
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
        needs = None  # which inputs want a gradient; None: record no graph
        if _grad_enabled.get():
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    needs = tuple(isinstance(b, Tensor) and b._requires_grad for b in args)
                    break
        start = time.perf_counter() if _observers else 0.0
        if needs is not None:
            ctx = Node(cls)
            ctx.needs_input_grad = needs
            token = _grad_enabled.set(False)  # ops used inside forward are not recorded
            try:
                out = cls.forward(ctx, *args, **kwargs)
            finally:
                _grad_enabled.reset(token)
        else:
            ctx = UnrecordedNode(cls)
            out = cls.forward(ctx, *args, **kwargs)
        if type(out) is not np.ndarray:
            out = out.data if isinstance(out, Tensor) else np.asarray(out)
        result = Tensor._wrap(out)
        if needs is not None and out.dtype.kind in "fc":
            ctx.parents = [(a.grad_fn or a) if need else None for a, need in zip(args, needs)]
            ctx.shape, ctx.dtype = out.shape, out.dtype
            if rule is None:
                overrides = _rule_overrides.get()
                rule = overrides.get(cls.name) if overrides else None
                if rule is None:
                    rule = cls.default_rule
            ctx.rule = rule
            if cls.saves_output:
                ctx._out = (out, result._version, 0)
            result._requires_grad = True
            result.grad_fn = ctx
        if _anomaly[0]:
            ctx.created_at = _user_frame()
            if _phase.get() != "backward":  # inside a rule, the engine checks the gradient and names the op
                _check_finite(out, "forward output", ctx)
        if _observers:
            elapsed = time.perf_counter() - start
            for observer in _observers:
                observer.on_op(cls, ctx, args, kwargs, result, elapsed)
        return result


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


def _seed(output, grad):
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(f"backward: grad can be created implicitly only for a scalar output, this one has "
                               f"shape {output.shape}; pass grad= (a tensor of that shape), or reduce first (.sum())")
        return Tensor._wrap(np.ones(output.shape, output.dtype))
    g = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=output.dtype)
    if g.shape != output.shape:
        raise RuntimeError(f"backward: grad has shape {g.shape} but the output has shape {output.shape}")
    if isinstance(grad, Tensor) and grad.requires_grad:
        return grad
    return Tensor._wrap(np.array(g, dtype=output.dtype))


def dependencies(start):
    """How many gradient edges point into each node reachable from the nodes `start` (iterative, so a
    graph of any depth works)."""
    stack = list(start)
    deps = dict.fromkeys(stack, 0)
    while stack:
        for parent in stack.pop().parents:
            if type(parent) is Node:
                if parent in deps:
                    deps[parent] += 1
                else:
                    deps[parent] = 1
                    stack.append(parent)
    return deps


def _check_grad(node, i, g, parent):
    if not isinstance(g, Tensor):
        g = Tensor._wrap(np.asarray(g))
    shape, dtype = parent.shape, parent.dtype  # a Node records its output's shape and dtype
    if g.shape != shape:
        raise RuntimeError(f"op '{node.op.name}': its backward rule {node.rule_name()} returned a gradient of shape "
                           f"{g.shape} for input {i}, whose shape is {shape}; a rule must return one gradient per "
                           "input, of that input's shape")
    if g.dtype != dtype:
        raise RuntimeError(f"op '{node.op.name}': its backward rule {node.rule_name()} returned a {g.dtype} gradient "
                           f"for input {i}, which is {dtype}")
    return g


def _call_hook(hook, g):
    """A hook's return value replaces the gradient; None keeps it (a Tensor has no truth value)."""
    result = hook(g)
    return g if result is None else result


def run_backward(roots, grads, retain_graph=False, create_graph=False, capture=None):
    """Propagate `grads` from `roots` to the leaves in topological order.

    Without `capture` gradients accumulate into the leaves' `.grad`; with `capture` (a dict whose keys
    are leaf tensors or nodes) they are returned in it instead and no `.grad` is touched.
    """
    deps = dependencies(r.grad_fn for r in roots if r.grad_fn is not None)
    pending, leaf_grads, ready = {}, {}, []
    for root, g in zip(roots, grads):
        target = root.grad_fn or root
        if target in pending or target in leaf_grads:
            bucket = pending if target in pending else leaf_grads
            bucket[target] = bucket[target] + g
        elif type(target) is Node:
            pending[target] = g
            if not deps.get(target):
                ready.append(target)
        else:
            leaf_grads[target] = g
    token, phase_token = _grad_enabled.set(bool(create_graph)), _phase.set("backward")
    try:
        while ready:
            node = ready.pop()
            g = pending.pop(node, None)
            if g is not None and node.hooks:
                for hook in list(node.hooks):
                    g = _call_hook(hook, g)
            if capture is not None and node in capture:
                capture[node] = g
            results = ()
            if g is not None:
                if node._saved is None:
                    raise RuntimeError(f"op '{node.op.name}': trying to backward through the graph a second time; "
                                       "its buffers were freed by the first backward. Pass retain_graph=True to "
                                       "the first backward() if you need to run it again")
                results = node.rule(node, g)
                if not isinstance(results, (tuple, list)):
                    results = (results,)
                if len(results) != len(node.parents) and any(node.parents[len(results):]):
                    raise RuntimeError(f"op '{node.op.name}': its backward rule {node.rule_name()} returned "
                                       f"{len(results)} gradients for {len(node.parents)} inputs")
                if not retain_graph:
                    node.release()
            for i, parent in enumerate(node.parents):
                if parent is None:
                    continue
                ig = results[i] if i < len(results) else None
                if ig is not None:
                    if type(ig) is not Tensor or ig.data.shape != parent.shape or ig.data.dtype != parent.dtype:
                        ig = _check_grad(node, i, ig, parent)
                    if _anomaly[0]:
                        _check_finite(ig.data, f"gradient for input {i}", node)
                    bucket = pending if type(parent) is Node else leaf_grads
                    prev = bucket.get(parent)
                    bucket[parent] = ig if prev is None else prev + ig
                if type(parent) is Node:
                    deps[parent] -= 1
                    if deps[parent] == 0:
                        ready.append(parent)
        given = set()  # ids of the gradient arrays already handed to a leaf in this pass
        for leaf, g in leaf_grads.items():
            if leaf._hooks:
                for hook in list(leaf._hooks):
                    g = _call_hook(hook, g)
            if capture is not None:
                if leaf in capture:
                    capture[leaf] = g
                continue
            if not create_graph:  # no two leaves share a .grad array, and none is a read-only broadcast
                base = g.data if g.data.base is None else g.data.base
                if id(base) in given or not g.data.flags.writeable:
                    g = Tensor._wrap(np.array(g.data))
                given.add(id(base))
            leaf.grad = g if leaf.grad is None else leaf.grad + g
    finally:
        _phase.reset(phase_token)
        _grad_enabled.reset(token)


def backward(tensors, grads=None, retain_graph=None, create_graph=False):
    """Accumulate gradients of `tensors` into the leaves' `.grad` (as torch.autograd.backward)."""
    tensors = _as_tensor_list(tensors)
    grads = _seed_list(grads, len(tensors))
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn; did you mean to "
                               "set requires_grad=True on an input, or is the computation inside mg.no_grad()?")
    seeds = [_seed(t, g) for t, g in zip(tensors, grads)]
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
    seeds = [_seed(t, g) for t, g in zip(outputs, grad_outputs)]
    run_backward(outputs, seeds, create_graph if retain_graph is None else retain_graph, create_graph, capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[t.grad_fn or t]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)
