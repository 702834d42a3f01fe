"""Saving and loading: `mg.save(obj, path)`, `mg.load(path)`, checkpoints, and binary-weight export.

The file format is NumPy's `.npz` (a zip of `.npy` arrays), so any NumPy can read it:

- every array or tensor in `obj` (nested dicts, lists and tuples) is one entry, named by its path:
  `{"model": {"0.weight": w}}` gives the entry `model/0.weight`;
- numbers, strings, booleans and None, and the shape of the nesting, are kept as JSON in the
  entry `__minigrad__` (JSON keeps Python's big integers, such as a random generator's state).

Loading never unpickles: `np.load(..., allow_pickle=False)`, so a file from a stranger cannot run
code, and an object array in it is refused with an error. Saving is atomic: the file is written to
a temporary file in the same folder, flushed to disk (fsync) and renamed over the target
(`os.replace`), so a crash mid-save leaves the previous file intact.
"""
import json
import os
import tempfile
import zipfile

import numpy as np

from .tensor import Tensor, default_rng

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "export_binary", "load_binary"]

FORMAT = "minigrad.npz/1"
_TREE = "__minigrad__"
_SCALARS = (type(None), bool, int, float, str)


# ---- flattening a nested object into arrays + a JSON tree ------------------------------------------
def _entry(path, arrays, array):
    key = "/".join(path) or "value"
    base, n = key, 1
    while key in arrays or key == _TREE:
        key, n = f"{base}#{n}", n + 1
    arrays[key] = array
    return key


def _flatten(obj, path, arrays):
    where = "/".join(path) or "the top level"
    if isinstance(obj, Tensor):
        return {"tensor": _entry(path, arrays, obj.data)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError(f"mg.save: the array at {where} has dtype object, which only pickle can store; "
                            "convert it to a numeric or string dtype")
        return {"array": _entry(path, arrays, obj)}
    if isinstance(obj, np.generic):
        return {"scalar": _entry(path, arrays, np.asarray(obj))}
    if isinstance(obj, _SCALARS):
        return {"value": obj}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"mg.save: dict keys must be str or int, got {type(k).__name__} {k!r} at {where}")
            items.append([k, _flatten(v, path + (str(k),), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_flatten(v, path + (str(i),), arrays) for i, v in enumerate(obj)]}
    hint = " (save its .state_dict())" if hasattr(obj, "state_dict") else ""
    raise TypeError(f"mg.save: cannot store a {type(obj).__name__} at {where}{hint}; mg.save stores tensors, "
                    "arrays, numbers, strings, None, and dicts, lists and tuples of them")


def _unflatten(node, arrays):
    (kind, body), = node.items()
    if kind == "value":
        return body
    if kind == "array":
        return arrays[body]
    if kind == "tensor":
        return Tensor(arrays[body])
    if kind == "scalar":
        return arrays[body][()]
    if kind == "dict":
        return {k: _unflatten(v, arrays) for k, v in body}
    if kind in ("list", "tuple"):
        items = [_unflatten(v, arrays) for v in body]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"mg.load: unknown entry kind {kind!r}; the file was written by a newer minigrad?")


# ---- atomic writing -----------------------------------------------------------------------------
def _write_npz(f, arrays):
    """What np.savez does, without pickle: one .npy member per array."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def atomic_write(path, write):
    """Call write(f) on a temporary file next to `path`, fsync it, then rename it to `path`.

    Readers see either the old file or the complete new one, never a half-written file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder} does not exist; create it first (os.makedirs) "
                                f"or save to another path than {path}")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable (POSIX); not possible everywhere
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def save(obj, path):
    """Save tensors, arrays, numbers, strings and nested dicts/lists/tuples of them to an .npz file.

    The file is written atomically. Save a model or an optimizer through its `state_dict()`.
    """
    arrays = {}
    tree = _flatten(obj, (), arrays)
    arrays[_TREE] = np.array(json.dumps({"format": FORMAT, "tree": tree}))
    atomic_write(path, lambda f: _write_npz(f, arrays))


def load(path):
    """Load what `save` wrote (a plain .npz loads as a dict of arrays). Never unpickles."""
    path = os.fspath(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except ValueError as e:
        with open(path, "rb") as f:
            pickled = f.read(1) == b"\x80"  # the opcode a pickle (protocol 2 and later) starts with
        if pickled:
            raise ValueError(f"mg.load: {path} holds pickled data; minigrad never unpickles (a file from a stranger "
                             "could run code when unpickled). Save arrays with mg.save instead") from None
        raise ValueError(f"mg.load: {path} is not an .npz file written by mg.save or numpy ({e})") from None
    except (zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"mg.load: {path} is not a readable .npz file ({e}); it may be truncated") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        return npz  # a single .npy array
    arrays = {}
    with npz:
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError as e:
                if "allow_pickle" not in str(e) and "pickle" not in str(e):
                    raise
                raise ValueError(f"mg.load: {path} holds an object array under the key {key!r}; loading it would "
                                 "unpickle it, and unpickling runs code that the file's author chose, so minigrad "
                                 "refuses. Save plain numeric arrays (mg.save does)") from None
            except (zipfile.BadZipFile, EOFError, OSError) as e:
                raise ValueError(f"mg.load: the entry {key!r} of {path} is damaged ({e})") from None
    if _TREE not in arrays:
        return arrays
    header = json.loads(str(arrays.pop(_TREE)))
    if header.get("format") != FORMAT:
        raise ValueError(f"mg.load: {path} has format {header.get('format')!r}; this minigrad reads {FORMAT!r}")
    return _unflatten(header["tree"], arrays)


# ---- checkpoints ----------------------------------------------------------------------------------
def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=0, rng=None, **extra):
    """Save everything a training run needs to continue bit-identically, atomically:
    the model's, optimizer's and scheduler's state dicts, the epoch, the random generator's state
    (`rng`, default: the generator of `mg.manual_seed`) and any `extra` values (e.g. a history)."""
    checkpoint = {"model": model.state_dict(), "epoch": int(epoch),
                  "rng": (rng if rng is not None else default_rng()).bit_generator.state}
    if optimizer is not None:
        checkpoint["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        checkpoint["scheduler"] = scheduler.state_dict()
    checkpoint.update(extra)
    save(checkpoint, path)


def load_checkpoint(path, model, optimizer=None, scheduler=None, rng=None):
    """Restore a checkpoint into `model` (and `optimizer`, `scheduler`, `rng`); returns the checkpoint dict
    (its 'epoch' is the number of epochs done)."""
    checkpoint = load(path)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(f"load_checkpoint: {path} is not a checkpoint written by save_checkpoint")
    model.load_state_dict(checkpoint["model"])
    for name, target in (("optimizer", optimizer), ("scheduler", scheduler)):
        if target is not None:
            if name not in checkpoint:
                raise ValueError(f"load_checkpoint: {path} holds no {name} state")
            target.load_state_dict(checkpoint[name])
    (rng if rng is not None else default_rng()).bit_generator.state = checkpoint["rng"]
    return checkpoint


# ---- binary weights packed as bits --------------------------------------------------------------
BINARY_FORMAT = "minigrad-binary/1"


def export_binary(model, path):
    """Save a model for inference with every 1-bit weight (Parameter.bits == 1) packed 8 to a byte.

    Such a weight only enters the forward as sign(W) (times alpha = mean|W| per output channel for a
    layer with scale='mean'), so the file keeps sign(W) as bits (`numpy.packbits`, 1 = +1) and alpha
    as float32: 32x smaller than float32 weights, and the loaded model computes the same outputs.
    Other parameters and buffers (batch norm, biases) are kept as they are.
    """
    params = dict(model.named_parameters())
    modules = dict(model.named_modules())
    state = {}
    for key, value in model.state_dict().items():
        p = params.get(key)
        if p is None or getattr(p, "bits", None) != 1:
            state[key] = value
            continue
        owner = modules.get(key.rpartition(".")[0])
        entry = {"bits": np.packbits(value.ravel() >= 0), "shape": list(value.shape), "dtype": str(value.dtype)}
        if getattr(owner, "scale", None) == "mean":
            entry["alpha"] = np.abs(value).reshape(value.shape[0], -1).mean(axis=1).astype(np.float32)
        state[key] = entry
    save({"format": BINARY_FORMAT, "state": state}, path)


def load_binary(path, model=None):
    """Read an `export_binary` file: the state dict with each packed weight unpacked to +-1 (times alpha).
    With `model`, also load it into the model (strictly) and return the model."""
    blob = load(path)
    if not isinstance(blob, dict) or blob.get("format") != BINARY_FORMAT:
        raise ValueError(f"load_binary: {path} was not written by export_binary")
    state = {}
    for key, value in blob["state"].items():
        if isinstance(value, dict):
            shape = tuple(value["shape"])
            n = int(np.prod(shape, dtype=np.int64))
            signs = np.unpackbits(value["bits"], count=n).reshape(shape).astype(value["dtype"]) * 2 - 1
            if "alpha" in value:
                signs = signs * value["alpha"].reshape((-1,) + (1,) * (len(shape) - 1)).astype(value["dtype"])
            state[key] = signs
        else:
            state[key] = value
    if model is None:
        return state
    model.load_state_dict(state)
    return model
