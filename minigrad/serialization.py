"""Saving and loading: `mg.save(obj, path)`, `mg.load(path)`, checkpoints, and binary-weight export.

Two formats, chosen by the path's extension:

- `.safetensors` (the `safetensors` package, an optional extra: `pip install safetensors`): one flat dict of
  name -> tensor, a state dict. minigrad's state dicts have PyTorch's names, shapes and layouts, so
  `torch_model.load_state_dict(safetensors.torch.load_file("m.safetensors"), strict=True)` loads minigrad's
  weights and `mg.load` reads a file `safetensors.torch.save_file` wrote. The key order is kept (metadata).
- anything else: NumPy's `.npz` (a zip of `.npy` arrays), so any NumPy can read it, with nesting and numbers:

- every array or tensor in `obj` (nested dicts, lists and tuples) is one entry, named by its path:
  `{"model": {"0.weight": w}}` gives the entry `model/0.weight`;
- numbers, strings, booleans and None, and the shape of the nesting, are kept as JSON in the
  entry `__minigrad__` (JSON keeps Python's big integers, such as a random generator's state).

Loading never unpickles (an object array is refused with an error), so a file from a stranger
cannot run code, and never allocates more than the file can hold: every entry's declared size is
checked against the bytes the file has, each array's header against its entry's size, and the total
against `max_bytes` (4 GiB unless raised), before anything is read.

Saving is atomic: the file is written to a temporary file next to its target (through a symlink, next
to the file it points to), flushed to disk (fsync) and renamed over the target (`os.replace`), so a
crash mid-save leaves the previous file intact. A new file gets the permissions `open()` would give it
(0o666 minus the umask); a replaced file keeps its own.
"""
import json
import math
import os
import secrets
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .tensor import Tensor, default_rng

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "export_binary", "load_binary"]

FORMAT = "minigrad.npz/1"
MAX_BYTES = 4 * 2 ** 30  # what mg.load reads at most unless told otherwise (max_bytes=)
_TREE = "__minigrad__"
_DEFLATE_MAX_RATIO = 1032  # deflate never makes one byte into more than 1032
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


def _target(path):
    """The file a save to `path` replaces (symlinks followed) and its folder, which must exist."""
    target = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder} does not exist; create it first (os.makedirs) "
                                f"or save to another path than {os.fspath(path)}")
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {os.fspath(path)} is a folder; give a file name in it, e.g. "
                                f"{os.path.join(os.fspath(path), 'model.npz')}")
    return target, folder


def _new_temp(target):
    """Create `.name.<random>.tmp` next to `target` as open() creates files (0o666 minus the umask)."""
    while True:
        tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{secrets.token_hex(8)}.tmp")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue


def check_writable(path):
    """Raise OSError (saying why) unless a save to `path` can succeed: `path` is not a folder, its folder
    exists, and a temporary file can be created next to it (it is removed again)."""
    tmp, fd = _new_temp(_target(path)[0])
    os.close(fd)
    os.remove(tmp)


def atomic_write(path, write):
    """Call write(f) on a temporary file next to `path`'s target, fsync it, then rename it over the target.

    Readers see either the old file or the complete new one, never a half-written file. A symlink is
    followed (the file it points to is replaced; the link stays); the file gets a new file's permissions
    (0o666 minus the umask), or keeps those of the file it replaces."""
    target, folder = _target(path)
    tmp, fd = _new_temp(target)
    try:
        with os.fdopen(fd, "wb") as f:
            if os.path.exists(target):
                os.chmod(tmp, os.stat(target).st_mode & 0o777)  # its permissions (not setuid, setgid, sticky)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
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


# ---- safetensors ------------------------------------------------------------------------------------
SAFETENSORS_ORDER = "minigrad.keys"  # metadata entry: the keys in their state-dict order (JSON)


def is_safetensors(path):
    """True when `path` names a .safetensors file (the extension chooses the format)."""
    return os.fspath(path).lower().endswith(".safetensors")


def _safetensors(what):
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(f"{what}: a .safetensors file needs the `safetensors` package, an optional extra; install "
                          "it with `pip install safetensors` (or `pip install minigrad[interop]`), or use an .npz "
                          "path") from None
    return safetensors


def _save_safetensors(obj, path):
    if not isinstance(obj, Mapping):
        raise TypeError(f"mg.save: a .safetensors file holds one flat dict of name -> tensor (a state dict, e.g. "
                        f"model.state_dict()), not a {type(obj).__name__}; save other objects to an .npz path")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"mg.save: safetensors names are strings, got {type(key).__name__} {key!r}")
        array = value.data if isinstance(value, Tensor) else value
        if isinstance(array, np.generic):
            array = np.asarray(array)
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biufc":
            raise TypeError(f"mg.save: the entry {key!r} is a {type(value).__name__}"
                            + (f" of dtype {array.dtype}" if isinstance(array, np.ndarray) else "")
                            + "; a .safetensors file holds only arrays of numbers (a state dict): save nested "
                            "dicts, numbers and strings (checkpoints) to an .npz path")
        arrays[key] = array if array.flags.c_contiguous else np.array(array, order="C")  # (keeps 0-d arrays 0-d)
    metadata = {"format": "pt", SAFETENSORS_ORDER: json.dumps(list(arrays))}  # "pt": PyTorch's names and layouts
    blob = _safetensors("mg.save").numpy.save(arrays, metadata=metadata)
    atomic_write(path, lambda f: f.write(blob))


def _load_safetensors(path, max_bytes):
    """The state dict in a .safetensors file (an OrderedDict of ndarrays, in the order it was saved)."""
    lib = _safetensors("mg.load")
    _check_total(os.path.getsize(path), max_bytes, f"the arrays of {path}")
    try:
        with lib.safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            arrays = {key: f.get_tensor(key) for key in f.keys()}
    except lib.SafetensorError as e:
        raise ValueError(f"mg.load: {path} is not a readable .safetensors file ({e})") from None
    try:
        order = json.loads(metadata.get(SAFETENSORS_ORDER, "[]"))
    except ValueError:
        order = []
    keys = [k for k in order if k in arrays] + sorted(k for k in arrays if k not in set(order))
    return OrderedDict((k, arrays[k]) for k in keys)


def save(obj, path):
    """Save tensors, arrays, numbers, strings and nested dicts/lists/tuples of them to an .npz file, or a state
    dict to a .safetensors file (chosen by the extension; see the module's docstring).

    The file is written atomically. Save a model or an optimizer through its `state_dict()`.
    """
    if is_safetensors(path):
        return _save_safetensors(obj, path)
    arrays = {}
    tree = _flatten(obj, (), arrays)
    arrays[_TREE] = np.array(json.dumps({"format": FORMAT, "tree": tree}))
    atomic_write(path, lambda f: _write_npz(f, arrays))


def load(path, max_bytes=MAX_BYTES):
    """Load what `save` wrote (a plain .npz loads as a dict of arrays, an .npy file as an array, a
    .safetensors file as an ordered dict of arrays: a state dict for `load_state_dict`).

    Never unpickles. Refuses a file whose arrays declare more than `max_bytes` in all (default 4 GiB;
    raise it for a larger file you trust) and any entry whose header claims more than the file holds,
    before reading it: nothing larger than the file can hold is ever allocated."""
    path = os.fspath(path)
    if not max_bytes >= 0:
        raise ValueError(f"mg.load: max_bytes must be a number of bytes >= 0, got {max_bytes!r}")
    if is_safetensors(path):
        return _load_safetensors(path, max_bytes)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        start = f.read(6)
        f.seek(0)
        if start == np.lib.format.MAGIC_PREFIX:
            _check_total(size, max_bytes, f"the array in {path}")
            return _read_npy(f, size, path)
        if start[:2] != b"PK":
            if start[:1] == b"\x80":  # the opcode a pickle (protocol 2 and later) starts with
                raise ValueError(f"mg.load: {path} holds pickled data; minigrad never unpickles (a file from a "
                                 "stranger could run code when unpickled). Save arrays with mg.save instead")
            raise ValueError(f"mg.load: {path} is not an .npz file written by mg.save or numpy (it starts with "
                             f"{start!r}; an .npz file is a zip archive, starting with b'PK')")
        arrays = _read_npz(f, size, path, max_bytes)
    if _TREE not in arrays:
        return arrays
    header = json.loads(str(arrays.pop(_TREE)))
    if header.get("format") != FORMAT:
        raise ValueError(f"mg.load: {path} has format {header.get('format')!r}; this minigrad reads {FORMAT!r}")
    return _unflatten(header["tree"], arrays)


def _check_total(nbytes, max_bytes, what):
    if nbytes > max_bytes:
        raise ValueError(f"mg.load: {what} take {nbytes:,} bytes, over the limit of {max_bytes:,} bytes "
                         "(max_bytes); if you trust the file, raise it: mg.load(path, max_bytes=...)")


def _read_npz(f, size, path, max_bytes):
    """The entries of a zip of .npy files, after checking every entry's declared sizes against the file."""
    try:
        archive = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        raise ValueError(f"mg.load: {path} is not a readable .npz file ({e}); it may be truncated") from None
    with archive:
        total = 0
        for info in archive.infolist():
            key = info.filename.removesuffix(".npy")
            where = f"the entry {key!r} of {path}"
            claims = f"{where} claims {info.file_size:,} bytes"
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ValueError(f"mg.load: {where} uses compression method {info.compress_type}; mg.load reads "
                                 "stored and deflated entries (what numpy.savez and savez_compressed write)")
            if info.header_offset + info.compress_size > size:
                raise ValueError(f"mg.load: {where} claims {info.compress_size:,} bytes of data from byte "
                                 f"{info.header_offset:,} on, but the file has {size:,} bytes; it is truncated "
                                 "or its header lies")
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                raise ValueError(f"mg.load: {claims}, but stores {info.compress_size:,}; its header lies")
            if info.compress_type == zipfile.ZIP_DEFLATED and not (
                    info.compress_size <= 2 * info.file_size + 64
                    and info.file_size <= _DEFLATE_MAX_RATIO * info.compress_size):
                raise ValueError(f"mg.load: {claims} from {info.compress_size:,} compressed bytes, which deflate "
                                 f"cannot give (at most {_DEFLATE_MAX_RATIO}x, never much less than 1x); its "
                                 "header lies (a decompression bomb?)")
            total += info.file_size
            _check_total(total, max_bytes, f"the arrays of {path} up to and including the entry {key!r}")
        arrays = {}
        for info in archive.infolist():
            key = info.filename.removesuffix(".npy")
            try:
                with archive.open(info) as member:
                    arrays[key] = _read_npy(member, info.file_size, path, key)
            except (zipfile.BadZipFile, EOFError, OSError) as e:
                raise ValueError(f"mg.load: the entry {key!r} of {path} is damaged ({e})") from None
    return arrays


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _read_npy(f, size, path, key=None):
    """The .npy array in stream `f` of `size` bytes, once its header is checked against that size."""
    where = f"the entry {key!r} of {path}" if key is not None else path
    try:
        version = np.lib.format.read_magic(f)
        if version not in _HEADER_READERS:
            raise ValueError(f"unsupported .npy version {version}")
        shape, _, dtype = _HEADER_READERS[version](f)
    except (ValueError, EOFError) as e:
        raise ValueError(f"mg.load: {where} is not a readable .npy array ({e})") from None
    if dtype.hasobject:
        raise ValueError(f"mg.load: {path} holds an object array" + (f" under the key {key!r}" if key else "")
                         + "; loading it would unpickle it, and unpickling runs code that the file's author chose, "
                         "so minigrad refuses. Save plain numeric arrays (mg.save does)")
    need = f.tell() + math.prod(shape) * dtype.itemsize
    if any(n < 0 for n in shape) or need != size:
        raise ValueError(f"mg.load: the header of {where} does not match its size: a {dtype} array of shape "
                         f"{shape} needs {need:,} bytes, there are {size:,}; the file is damaged or lies")
    f.seek(0)
    try:
        return np.lib.format.read_array(f, allow_pickle=False)
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as e:
        raise ValueError(f"mg.load: {where} is damaged ({e})") from None


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


def load_checkpoint(path, model, optimizer=None, scheduler=None, rng=None, max_bytes=MAX_BYTES):
    """Restore a checkpoint into `model` (and `optimizer`, `scheduler`, `rng`); returns the checkpoint dict
    (its 'epoch' is the number of epochs done). `max_bytes`: as for `load`."""
    checkpoint = load(path, max_bytes=max_bytes)
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


def load_binary(path, model=None, max_bytes=MAX_BYTES):
    """Read an `export_binary` file: the state dict with each packed weight unpacked to +-1 (times alpha).
    With `model`, also load it into the model (strictly) and return the model. `max_bytes`: as for `load`."""
    blob = load(path, max_bytes=max_bytes)
    if not isinstance(blob, dict) or blob.get("format") != BINARY_FORMAT:
        raise ValueError(f"load_binary: {path} was not written by export_binary")
    state = {}
    for key, value in blob["state"].items():
        if isinstance(value, dict):
            shape, dtype = tuple(value["shape"]), str(value["dtype"])
            n = math.prod(shape)
            if dtype not in ("float16", "float32", "float64") or any(s < 0 for s in shape) or \
                    -(-n // 8) != value["bits"].size:
                raise ValueError(f"load_binary: {path} says the weight {key!r} is {dtype} of shape {shape} ({n:,} "
                                 f"bits) and holds {value['bits'].size:,} bytes of bits; the file is damaged or lies")
            signs = np.unpackbits(value["bits"], count=n).reshape(shape).astype(dtype) * 2 - 1
            if "alpha" in value:
                signs = signs * value["alpha"].reshape((-1,) + (1,) * (len(shape) - 1)).astype(dtype)
            state[key] = signs
        else:
            state[key] = value
    if model is None:
        return state
    model.load_state_dict(state)
    return model
