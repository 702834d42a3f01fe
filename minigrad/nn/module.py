"""`Module` and `Parameter`: the containers every layer is built from (PyTorch's names and behaviour).

A Module registers what is assigned to it: a `Parameter` goes into `_parameters`, a Module into
`_modules` (its name there, e.g. `features.2`, is the path the tracer reports), a running statistic
into `_buffers` through `register_buffer`. Calling a module runs `forward` between its hooks:
the global ones (`register_module_forward_pre_hook`, `register_module_forward_hook`, which the tracer
uses to know which module an op ran under) and the module's own.
"""
import itertools
from collections import OrderedDict
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a learnable weight of a module: a leaf that requires grad.

    constraint: a callable `constraint(p) -> tensor or ndarray` that optimizers apply after each step
        (`p.apply_constraint()`), e.g. `WeightClip(1.0)` keeps a binary layer's latent weights in
        [-1, 1], as larq's kernel constraints do.
    bits: the weight's precision at inference (1 for a binarized weight, k for a k-bit one); None means
        the bits of its dtype. The efficiency report reads it to give parameter bytes at real precision.
    """

    __slots__ = ("constraint", "_bits")

    def __init__(self, data=None, requires_grad=True, *, constraint=None, bits=None):
        """Parameter(data, requires_grad) as PyTorch's (data None: an empty float32 tensor); constraint and bits
        are keyword only, so Parameter(x, False) is a frozen parameter as in PyTorch."""
        super().__init__(np.empty(0, np.float32) if data is None else data, requires_grad=requires_grad)
        self.constraint = constraint
        self._bits = None
        self.bits = bits

    @property
    def bits(self):
        """Bits per element at inference: the declared precision, else the dtype's (32 for float32)."""
        return self._bits if self._bits is not None else self.data.dtype.itemsize * 8

    @bits.setter
    def bits(self, value):
        if value is not None and (int(value) != value or value < 1):
            raise ValueError(f"Parameter: bits must be a positive integer or None, got {value!r}")
        self._bits = None if value is None else int(value)

    @property
    def nbytes(self):
        """Storage at inference precision, in bytes (bits * elements / 8)."""
        return self.bits * self.data.size / 8

    def apply_constraint(self):
        """Project the parameter onto its constraint set in place (no-op without a constraint)."""
        if self.constraint is not None:
            with no_grad():
                self.copy_(self.constraint(self))
        return self

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):  # copy.deepcopy and pickle keep the class, constraint and bits
        return (_rebuild_parameter, (self.data, self.constraint, self._bits, self.requires_grad))


def _rebuild_parameter(data, constraint, bits, requires_grad):
    return Parameter(np.array(data), requires_grad, constraint=constraint, bits=bits)


class WeightClip:
    """Constraint that clips a weight to [-clip_value, clip_value] (larq's `WeightClip`)."""

    def __init__(self, clip_value=1.0):
        self.clip_value = float(clip_value)

    def __call__(self, p):
        return np.clip(p.data, -self.clip_value, self.clip_value)

    def __repr__(self):
        return f"WeightClip(clip_value={self.clip_value:g})"


# ---- hooks ------------------------------------------------------------------------------------
_hook_ids = itertools.count()
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_always_call = set()  # ids of global forward hooks that also run when forward raises


class RemovableHandle:
    """Returned by every `register_*_hook`; `handle.remove()` unregisters the hook."""

    def __init__(self, hooks, always_call=None):
        self._hooks, self._always_call, self.id = hooks, always_call, next(_hook_ids)

    def remove(self):
        self._hooks.pop(self.id, None)
        if self._always_call is not None:
            self._always_call.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _register(hooks, hook, always_call=None, always=False):
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, always_call)
    hooks[handle.id] = hook
    if always:
        always_call.add(handle.id)
    return handle


def register_module_forward_pre_hook(hook):
    """Call `hook(module, args)` before every module's forward (all modules); a returned value
    (a tuple, or one value) replaces the positional arguments. Returns a handle with `.remove()`."""
    return _register(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, always_call=False):
    """Call `hook(module, args, output)` after every module's forward (all modules); a returned value
    replaces the output. With always_call=True it also runs, with output None, when forward raises (as
    PyTorch's). Returns a handle with `.remove()`."""
    return _register(_global_forward_hooks, hook, _global_always_call, always_call)


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


def _loadable(key, value, target, errors):
    """`value` as an array of `target`'s shape and dtype, or None after adding to `errors` why it is not."""
    try:
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
    except ValueError:  # a ragged list
        array = np.asarray(None)
    if array.dtype.kind not in "biufc":
        errors.append(f"'{key}' is a {type(value).__name__} of dtype {array.dtype}, not an array of numbers")
    elif array.shape != target.shape:
        errors.append(f"shape mismatch for '{key}': the checkpoint has {array.shape}, the model has {target.shape}")
    elif not np.can_cast(array.dtype, target.dtype, "same_kind"):
        errors.append(f"'{key}' is {array.dtype} and the model's is {target.dtype}: casting would change the kind of "
                      f"its values; cast it yourself first if you mean it (e.g. value.astype('{target.dtype}'))")
    else:
        return array.astype(target.dtype, copy=False)
    return None


def _clear_grad(p, set_to_none):
    """p.grad <- None, or (set_to_none=False) the same gradient tensor detached and zeroed in place, as PyTorch's
    zero_grad: a reference kept to p.grad sees the zeros."""
    if set_to_none or p.grad is None:
        p.grad = None
        return
    if p.grad.grad_fn is not None:  # a gradient built with create_graph=True
        p.grad = p.grad.detach()
    p.grad.requires_grad = False
    with no_grad():
        p.grad.zero_()


# ---- Module ------------------------------------------------------------------------------------
class Module:
    """Base class of every layer and model. Subclasses set attributes in `__init__` and define `forward`.

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = nn.Linear(784, 100), nn.Linear(100, 10)
            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    _optional_state = ()  # buffers a loaded state dict may lack (they keep their value); see load_state_dict

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_always_call"] = set()  # ids of this module's forward hooks that also run when forward raises

    # ---- registration by attribute assignment ----------------------------------------------
    def _check_init(self, name):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() ran; call super().__init__() "
                                 f"first in {type(self).__name__}.__init__")

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._check_init(name)
            self._forget(name, keep=self._parameters)  # a parameter replaced keeps its place (as PyTorch)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._check_init(name)
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to parameter '{name}' of "
                                f"{type(self).__name__}; assign an nn.Parameter (or None)")
            self._parameters[name] = None
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to submodule '{name}' of "
                                f"{type(self).__name__}; assign an nn.Module (or None)")
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} to buffer '{name}' of "
                                f"{type(self).__name__}; assign a Tensor (or None)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """Drop `name` from every store but `keep` (where it is about to be replaced in place)."""
        self.__dict__.pop(name, None)
        for store in (self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name):  # only called when normal lookup fails
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def _check_name(self, kind, name, store):
        """PyTorch's rules for a name given to register_parameter / register_buffer / add_module: a str, not empty,
        without '.' (state_dict paths are dotted), not an attribute the module already has under another role."""
        self._check_init(name)
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: {kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{type(self).__name__}: {kind} name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError(f"{type(self).__name__}: {kind} name can't be empty string \"\"")
        if hasattr(self, name) and name not in store:
            raise KeyError(f"{type(self).__name__}: attribute '{name}' already exists; delete it first or choose "
                           f"another {kind} name")

    def register_parameter(self, name, param):
        """Add a parameter (or None, for an optional one such as a missing bias)."""
        self._check_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter('{name}'): expected an nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not learned (running statistics); saved in state_dict
        unless persistent=False."""
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(np.asarray(tensor))
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module('{name}'): {type(module).__name__} is not an nn.Module")
        self._check_name("module", name, self._modules)
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ---- running --------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); a Module must define forward(self, ...)")

    def __call__(self, *args, **kwargs):
        if not (_global_forward_pre_hooks or _global_forward_hooks or self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook in (*_global_forward_pre_hooks.values(), *self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        try:
            output = self.forward(*args, **kwargs)
        except BaseException:
            for key, hook in list(_global_forward_hooks.items()) + list(self._forward_hooks.items()):
                if key in _global_always_call or key in self._always_call:
                    hook(self, args, None)
            raise
        for hook in (*_global_forward_hooks.values(), *self._forward_hooks.values()):  # PyTorch's order
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(self, hook):
        """Call `hook(module, args)` before this module's forward; a returned value replaces args."""
        return _register(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook, *, always_call=False):
        """Call `hook(module, args, output)` after this module's forward; a returned value replaces output.
        With always_call=True it also runs, with output None, when forward raises (as PyTorch's)."""
        return _register(self._forward_hooks, hook, self._always_call, always_call)

    # ---- walking the tree -----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(path, module) for this module and every descendant, depth first; each module once, or under every
        path that reaches it with remove_duplicate=False (as PyTorch)."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, store, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(remove_duplicate=remove_duplicate) if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(path, parameter) pairs, e.g. ('0.weight', ...); a shared parameter is listed once, or under each of
        its paths with remove_duplicate=False."""
        for name, p in self._named_members("_parameters", recurse, remove_duplicate):
            yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        for name, b in self._named_members("_buffers", recurse, remove_duplicate):
            yield (f"{prefix}.{name}" if prefix else name), b

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call fn(module) on every submodule (children first) and on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients --------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses batch statistics); returns self. Recursive through each
        child's own train(mode), as PyTorch, so a layer that overrides train (e.g. to keep a frozen batch norm in
        eval mode) is obeyed inside a model too."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): training mode is expected to be boolean, got {type(mode).__name__} "
                             f"{mode!r}")
        self.__dict__["training"] = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all parameters: to None (PyTorch's default), or with set_to_none=False zeroed in
        place (the same .grad tensor, detached from any graph, as PyTorch)."""
        for p in self.parameters():
            _clear_grad(p, set_to_none)

    # ---- dtype ------------------------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Cast floating-point parameters and buffers in place and return self, as PyTorch's Module.to: `to(dtype)`,
        `to(tensor)` (its dtype), `to('cpu')` (minigrad's only device: nothing moves), `to('cpu', dtype)`."""
        from ..ops.creation import target_dtype
        dtype = target_dtype(args, dtype, device)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to only accepts floating point dtypes, but got desired dtype="
                            f"{dtype} (as PyTorch)")
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.data.dtype.kind == "f" and t.data.dtype != dtype:
                t.data = t.data.astype(dtype)
                t.grad = None if t.grad is None else Tensor._wrap(t.grad.data.astype(dtype))
                t._version[0] += 1
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def half(self):
        return self.to(np.float16)

    def cpu(self):
        """self: minigrad's modules are always on the CPU (PyTorch scripts' model.cpu() runs unchanged)."""
        return self

    def get_submodule(self, target):
        """The submodule at the dotted path `target` ('' is self), as PyTorch's; AttributeError naming the missing
        part."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part) if isinstance(module, Module) else None
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`" if not hasattr(module, part)
                                     else f"`{part}` is not an nn.Module")
            module = child
        return module

    # ---- state ------------------------------------------------------------------------------------
    def _named_state(self, prefix=""):
        """(path, tensor) for every parameter and persistent buffer, in state_dict order: a module or parameter
        reached by several paths is listed under each (as PyTorch's state_dict)."""
        for path, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            dot = f"{path}." if path else ""
            for name, p in module._parameters.items():
                if p is not None:
                    yield dot + name, p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    yield dot + name, b

    def state_dict(self, prefix=""):
        """An ordered dict path -> ndarray of every parameter and persistent buffer. As PyTorch's, the arrays are the
        module's own (no copy): training changes them, and so does writing into them. To keep a snapshot (the
        best epoch's weights), copy it: {k: v.copy() for k, v in model.state_dict().items()}."""
        return OrderedDict((key, t.data) for key, t in self._named_state(prefix))

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from `state_dict` into the parameters and buffers (in place, keeping dtypes).

        All or nothing: every entry is checked before any is written (each value must be an array of
        numbers of the target's shape whose dtype casts to the target's within its kind: float64 into
        float32, not float into int or complex into float), so a refused load leaves the model as it
        was. A bad value is always an error; with strict=True so are missing and unexpected keys, except a
        layer's `_optional_state` (batch norm's num_batches_tracked, which PyTorch fills in for a state dict
        without version metadata): it keeps its value. Returns (missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = OrderedDict(self._named_state())
        optional = {f"{path}.{name}" if path else name for path, module in self.named_modules(remove_duplicate=False)
                    for name in module._optional_state}
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and missing:
            errors.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            errors.append(f"unexpected keys: {', '.join(map(str, unexpected))}")
        values = {}
        for key, target in own.items():
            if key in state_dict:
                values[key] = _loadable(key, state_dict[key], target, errors)
        if errors:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: " + "; ".join(errors)
                               + (". Pass strict=False to load only the matching keys" if strict and
                                  (missing or unexpected) and len(errors) == bool(missing) + bool(unexpected)
                                  else ""))
        with no_grad():
            for key, value in values.items():
                own[key].copy_(value)
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ---------------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside this module's parentheses in its repr (override in layers)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        name = type(self).__name__
        if not self._modules and "\n" not in extra:
            return f"{name}({extra})"
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"
