"""Containers, as PyTorch's: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.

Sequential and ModuleList are lists of modules named '0', '1', ... (renumbered after a deletion or an insertion, as
PyTorch); indices may be negative; a slice gives a container of the same kind. ModuleDict and ParameterDict keep
insertion order; replacing an entry keeps its place. ParameterList and ParameterDict turn plain tensors into
Parameters and hold other objects as they are.
"""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]


def _module(module, where):
    if not isinstance(module, Module):
        raise TypeError(f"{where}: {type(module).__name__} is not an nn.Module")
    return module


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: modules named by their positions."""

    def _key(self, idx):
        """The name of the module at position idx (negative counts from the end)."""
        idx, n = operator.index(idx), len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for {n} modules")
        return list(self._modules)[idx % n]

    def _renumber(self, modules):
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module):
        self._modules[self._key(idx)] = _module(module, f"{type(self).__name__}[{idx}] = ...")

    def __delitem__(self, idx):
        doomed = set(list(self._modules)[idx]) if isinstance(idx, slice) else {self._key(idx)}
        self._renumber([m for k, m in self._modules.items() if k not in doomed])

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, module):
        """Add module at the end; returns self."""
        self.add_module(str(len(self)), _module(module, f"{type(self).__name__}.append"))
        return self

    def extend(self, modules):
        """Append each module of an iterable; returns self."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable, but got "
                            f"{type(modules).__name__}")
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert module before position index (-len <= index <= len; negative counts from the end)."""
        index, modules = operator.index(index), list(self._modules.values())
        if not -len(modules) <= index <= len(modules):
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range for {len(modules)} modules")
        modules.insert(index, _module(module, f"{type(self).__name__}.insert"))
        self._renumber(modules)
        return self

    def pop(self, key):
        """Remove and return the module at key (an index, or a slice: a container of those modules)."""
        v = self[key]
        del self[key]
        return v


class Sequential(_ModuleSequence):
    """Modules applied one after another. Sequential(a, b) names the children '0', '1';
    Sequential(OrderedDict(name=module)) keeps the names (until a deletion or insertion renumbers them).
    Indexing, slicing (a Sequential), len, iteration, append, insert, extend, pop, `del`, + and * (repetition: the
    same modules again) as PyTorch's."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not an nn.Module")
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def _other(self, other, op):
        if not isinstance(other, Sequential):
            raise ValueError(f"Sequential: the {op} operator supports only Sequential objects, but "  # noqa: TRY004
                             f"{type(other).__name__} is given")
        return other

    def __add__(self, other):
        return Sequential().extend(self).extend(self._other(other, "+"))

    def __iadd__(self, other):
        return self.extend(self._other(other, "+="))

    def _times(self, n):
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"unsupported operand type(s) for *: 'Sequential' and '{type(n).__name__}'")
        if n <= 0:
            raise ValueError(f"Non-positive multiplication factor {n} for Sequential")
        return list(self) * n

    def __mul__(self, n):
        return Sequential().extend(self._times(n))

    __rmul__ = __mul__

    def __imul__(self, n):
        return self.extend(self._times(n)[len(self):])


def _repeated_blocks(reprs):
    """PyTorch's ModuleList repr: a run of equal reprs as one line '(i-j): n x repr'."""
    lines, start = [], 0
    for end in range(1, len(reprs) + 1):
        if end < len(reprs) and reprs[end] == reprs[start]:
            continue
        head = f"({start}): " if end - start == 1 else f"({start}-{end - 1}): {end - start} x "
        lines.append(head + reprs[start].replace("\n", "\n  "))
        start = end
    return lines


class ModuleList(_ModuleSequence):
    """A list of modules, registered so their parameters are found (no forward of its own): indexing (negative
    too), slicing (a ModuleList), len, iteration, append, insert, extend, pop, `del`, + (any iterable of modules),
    +=, as PyTorch's. Its repr groups runs of equal modules as PyTorch's does ('(1-2): 2 x Linear(...)')."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __add__(self, other):
        return ModuleList().extend(self).extend(other)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __repr__(self):
        reprs = [repr(m) for m in self]
        if not reprs:
            return "ModuleList()"
        return "ModuleList(\n  " + "\n  ".join(_repeated_blocks(reprs)) + "\n)"


def _pairs(entries, what):
    """(key, value) pairs of a mapping or an iterable of pairs (PyTorch's checks and messages)."""
    if not isinstance(entries, Iterable):
        raise TypeError(f"{what}.update should be called with an iterable of key/value pairs, but got "
                        f"{type(entries).__name__}")
    if isinstance(entries, (Mapping, ModuleDict, ParameterDict)):
        return list(entries.items())
    pairs = []
    for j, pair in enumerate(entries):
        if not isinstance(pair, Iterable):
            raise TypeError(f"{what} update sequence element #{j} should be Iterable; is {type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{what} update sequence element #{j} has length {len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


def _name(key, what):
    if not isinstance(key, str):
        raise TypeError(f"{what}: key should be a string, got {type(key).__name__}")
    if not key or "." in key:
        raise KeyError(f"{what}: key {key!r} can be neither empty nor contain '.'")
    return key


class ModuleDict(Module):
    """An ordered dict of modules, registered under their keys: [], `in`, len, iteration (keys), keys, values, items,
    update (a mapping or key/module pairs), pop, clear, as PyTorch's."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self._modules[_name(key, "ModuleDict")] = _module(module, f"ModuleDict[{key!r}] = ...")

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        for key, module in _pairs(modules, "ModuleDict"):
            self[key] = module


class _ParameterContainer(Module):
    """What ParameterList and ParameterDict share: a tensor stored becomes a Parameter (sharing its data), other
    objects are kept as plain attributes; PyTorch's repr; not callable."""

    def _store(self, key, value):
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        if isinstance(value, Parameter):
            self.__dict__.pop(key, None)
            self._parameters[key] = value  # in place: a replaced entry keeps its position
        else:
            self._parameters.pop(key, None)
            object.__setattr__(self, key, value)

    def _fetch(self, key):
        return self._parameters[key] if key in self._parameters else self.__dict__[key]

    def _drop(self, key):
        if self._parameters.pop(key, None) is None:
            self.__dict__.pop(key)

    def _line(self, key, value):
        if isinstance(value, Tensor):
            kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
            return f"  ({key}): {kind} containing: [{value.dtype} of size {'x'.join(map(str, value.shape))}]"
        return f"  ({key}): Object of type: {type(value).__name__}"

    def extra_repr(self):
        return "\n".join(self._line(k, v) for k, v in self._entries())

    def __repr__(self):
        lines = self.extra_repr().split("\n")
        name = type(self).__name__
        return f"{name}({lines[0]})" if len(lines) == 1 else f"{name}(\n  " + "\n  ".join(lines) + "\n)"

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} should not be called.")


class ParameterList(_ParameterContainer):
    """A list of parameters (tensors become Parameters; other objects are kept as they are), registered under '0',
    '1', ...: indexing (negative too), slicing (a ParameterList), len, iteration, append, extend, +=, as PyTorch's."""

    def __init__(self, values=None):
        super().__init__()
        self.__dict__["_size"] = 0
        if values is not None:
            self.extend(values)

    def _entries(self):
        return ((str(i), self._fetch(str(i))) for i in range(self._size))

    def _key(self, idx):
        idx = operator.index(idx)
        if not -self._size <= idx < self._size:
            raise IndexError(f"ParameterList: index {idx} is out of range for {self._size} entries")
        return str(idx % self._size)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return self._fetch(self._key(idx))

    def __setitem__(self, idx, value):
        self._store(self._key(idx), value)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        """Add value at the end; returns self."""
        self.__dict__["_size"] += 1
        self._store(str(self._size - 1), value)
        return self

    def extend(self, values):
        """Append each value of an iterable (not a tensor); returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in list(values):
            self.append(value)
        return self


class ParameterDict(_ParameterContainer):
    """An ordered dict of parameters (tensors become Parameters; other objects are kept as they are), registered
    under their keys: the dict methods (get, setdefault, pop, popitem, update, copy, fromkeys, keys, values, items,
    |, |=), as PyTorch's. A missing key is a KeyError."""

    def __init__(self, parameters=None):
        super().__init__()
        self.__dict__["_keys"] = {}
        if parameters is not None:
            self.update(parameters)

    def _entries(self):
        return ((k, self._fetch(k)) for k in self._keys)

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return self._fetch(key)

    def __setitem__(self, key, value):
        self._keys[_name(key, "ParameterDict")] = None
        self._store(key, value)

    def __delitem__(self, key):
        del self._keys[key]
        self._drop(key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def values(self):
        return [self[k] for k in self._keys]

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def get(self, key, default=None):
        return self._fetch(key) if key in self._keys else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = list(self._keys)[-1]
        return key, self.pop(key)

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def copy(self):
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        """Add or replace entries; a plain (unordered) mapping is added in sorted key order, an OrderedDict or
        ParameterDict in its own order, as PyTorch's ParameterDict.update."""
        pairs = _pairs(parameters, "ParameterDict")
        if isinstance(parameters, Mapping) and not isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = sorted(pairs)
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        return self.copy().__ior__(other)

    def __ror__(self, other):
        return ParameterDict(other).__ior__(self)

    def __ior__(self, other):
        self.update(other)
        return self
