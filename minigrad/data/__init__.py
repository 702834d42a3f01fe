"""Data sets and a DataLoader.

- `load_digits()`: the UCI handwritten digits (8x8 images), shipped inside the package: no download.
- `load_mnist(root)`, `load_fashion_mnist(root)`: the 28x28 IDX files, read from `root` or downloaded
  into it (checksummed, atomic).
- `DataLoader(X, y, batch_size)`: mini-batches of tensors, optionally shuffled by a seeded generator; also
  PyTorch's form `DataLoader(dataset, batch_size=1, shuffle=False)` over a `TensorDataset` or any map-style
  dataset (an object with `__getitem__` and `__len__`).
"""
import collections.abc
import gzip
import hashlib
import numbers
import os
import struct
import urllib.request
import zlib
from typing import NamedTuple

import numpy as np

from ..serialization import atomic_write
from ..tensor import Tensor, default_rng

__all__ = ["Dataset", "load_digits", "load_mnist", "load_fashion_mnist", "read_idx", "parse_idx", "DataLoader",
           "TensorDataset", "default_collate"]

_HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS_FILE = os.path.join(_HERE, "digits.csv.gz")
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
DIGITS_SPLIT_SEED = 0   # the test set: 36 images of each digit drawn with np.random.default_rng(0)
DIGITS_TEST_PER_CLASS = 36


class Dataset(NamedTuple):
    """A train/test split: X as float32 in [0, 1], y as int64 class labels."""
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_digits(path=None, flatten=True):
    """The UCI "Optical Recognition of Handwritten Digits" test set (Alpaydin & Kaynak 1998, CC BY 4.0).

    1,797 images of 8x8 pixels (values 0..16) with labels 0..9, the file scikit-learn ships. The split
    is fixed and stratified: for each digit c, `np.random.default_rng(0).permutation` of the rows
    labelled c (drawn in order c = 0..9 from one generator) puts its first 36 in the **test set (360
    images, 36 per class)**; the other 1,437 rows train, in file order. Pixels are divided by 16,
    giving float32 in [0, 1]; labels are int64. `flatten=False` gives X the shape (N, 1, 8, 8) for
    convolutional networks. The file's sha256 is checked before it is read.
    """
    path = path or DIGITS_FILE
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_digits: the bundled data file {path} is missing; reinstall minigrad "
                                "(the file is shipped as package data)")
    found = _sha256(path)
    if found != DIGITS_SHA256:
        raise ValueError(f"load_digits: checksum mismatch for {path}: sha256 {found}, expected {DIGITS_SHA256}; "
                         "the file is damaged or was replaced, reinstall minigrad")
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    X = (table[:, :64] / 16.0).astype(np.float32)
    y = table[:, 64].astype(np.int64)
    if not flatten:
        X = X.reshape(-1, 1, 8, 8)
    rng = np.random.default_rng(DIGITS_SPLIT_SEED)
    test = np.zeros(len(y), bool)
    for c in range(10):
        test[rng.permutation(np.flatnonzero(y == c))[:DIGITS_TEST_PER_CLASS]] = True
    return Dataset(X[~test], y[~test], X[test], y[test])


# ---- IDX files (MNIST, Fashion-MNIST) ----------------------------------------------------------
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def parse_idx(raw, name="<bytes>"):
    """Decode the bytes of an IDX file (LeCun et al.'s MNIST format), gzip-compressed or plain.

    Header: two zero bytes, a type code (0x08 = uint8, ...), the number of dimensions d, then d
    big-endian uint32 sizes; then the data in C order. Any mismatch is a clear error.
    """
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise ValueError(f"IDX file {name}: the gzip stream is damaged or truncated ({e}); "
                             "delete the file and download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"IDX file {name}: not an IDX file (its first bytes are {raw[:4].hex() or 'missing'}; "
                         "an IDX file starts with 00 00, a type code such as 08 and the number of dimensions)")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {name}: truncated header ({len(raw)} bytes for {ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(f"IDX file {name}: {what}: a {dtype} array of shape {shape} needs {expected} bytes, "
                         f"the file has {len(raw)}; delete it and download it again")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file (plain or .gz) into an ndarray."""
    with open(path, "rb") as f:
        return parse_idx(f.read(), path)


_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")
# md5 of the .gz files, as published with the data sets (and used by torchvision).
SOURCES = {
    "mnist": {
        "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/",
                    "http://yann.lecun.com/exdb/mnist/"),
        "md5": {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
                "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
    },
    "fashion-mnist": {
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        "md5": {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
    },
}


def default_root(name):
    """Where downloads are cached: $MINIGRAD_DATA, else ~/.cache/minigrad, then the data set's name."""
    base = os.environ.get("MINIGRAD_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "minigrad")
    return os.path.join(base, name)


def _fetch(url, timeout=30):
    """The bytes at `url` (tests replace this function to serve files without a network)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _write_atomic(path, payload):
    """Write bytes to a temporary file in the same folder, fsync it, then rename it over `path`."""
    atomic_write(path, lambda f: f.write(payload))


def _download(name, filename, root):
    """Fetch one .gz file from the first mirror that answers; it is cached only once its md5 matches
    and it parses as an IDX file, so a half-written or corrupted file never passes as cached."""
    source, errors = SOURCES[name], []
    for mirror in source["mirrors"]:
        url = mirror + filename
        try:
            payload = _fetch(url)
        except Exception as e:  # noqa: BLE001 (any network failure: try the next mirror)
            errors.append(f"{url}: {e}")
            continue
        found = hashlib.md5(payload).hexdigest()
        if found != source["md5"][filename]:
            errors.append(f"{url}: checksum mismatch (md5 {found}, expected {source['md5'][filename]})")
            continue
        try:
            parse_idx(payload, url)
        except ValueError as e:
            errors.append(str(e))
            continue
        path = os.path.join(root, filename)
        _write_atomic(path, payload)
        return path
    raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(errors))


def _find(root, stem):
    for candidate in (stem, stem + ".gz"):
        path = os.path.join(root, candidate)
        if os.path.exists(path):
            return path
    return None


def _load_idx_set(name, root, download):
    root = os.path.expanduser(root) if root is not None else default_root(name)
    paths = {stem: _find(root, stem) for stem in _MNIST_FILES}
    missing = [stem for stem, p in paths.items() if p is None]
    if missing and download:
        os.makedirs(root, exist_ok=True)
        try:
            for stem in missing:
                paths[stem] = _download(name, stem + ".gz", root)
        except RuntimeError as e:
            raise RuntimeError(f"load_{name.replace('-', '_')}: {e}\nOffline? Put the four files "
                               f"{', '.join(s + '.gz' for s in _MNIST_FILES)} (or their unzipped versions) in "
                               f"{root} and pass root={root!r} (on the command line: --data-dir {root}).") from None
    elif missing:
        raise FileNotFoundError(f"load_{name.replace('-', '_')}: {', '.join(missing)} (.gz or plain) not found in "
                                f"{root}; put the four IDX files there or pass download=True")
    arrays = [read_idx(paths[stem]) for stem in _MNIST_FILES]
    for images, labels in ((arrays[0], arrays[1]), (arrays[2], arrays[3])):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"load_{name.replace('-', '_')}: images of shape {images.shape} and labels of shape "
                             f"{labels.shape} in {root} do not belong together")
    X_train, y_train, X_test, y_test = arrays
    scale = lambda images: (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)  # noqa: E731
    return Dataset(scale(X_train), y_train.astype(np.int64), scale(X_test), y_test.astype(np.int64))


def load_mnist(root=None, download=True):
    """MNIST (LeCun et al. 1998): 60,000 train and 10,000 test images of 28x28 digits.

    Reads the four IDX files (plain or .gz) from `root` (default: `default_root('mnist')`); missing
    ones are downloaded when `download=True`, checksummed and cached atomically. X is float32 in
    [0, 1] of shape (N, 784), y int64.
    """
    return _load_idx_set("mnist", root, download)


def load_fashion_mnist(root=None, download=True):
    """Fashion-MNIST (Xiao et al. 2017): the same format and sizes as MNIST, ten kinds of clothing."""
    return _load_idx_set("fashion-mnist", root, download)


# ---- batches ------------------------------------------------------------------------------------
class TensorDataset:
    """Samples of equal-length tensors or arrays, sample i being (t[i] for each t), as torch.utils.data.TensorDataset."""

    def __init__(self, *tensors):
        self.tensors = tuple(np.asarray(t.data if isinstance(t, Tensor) else t) for t in tensors)
        sizes = {len(t) if t.ndim else None for t in self.tensors}
        if not tensors or len(sizes) != 1 or None in sizes:
            raise ValueError(f"TensorDataset: give tensors of the same size in their first dimension, got shapes "
                             f"{[t.shape for t in self.tensors]}")

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(Tensor(t[index]) for t in self.tensors)


def _is_dataset(obj):
    return hasattr(obj, "__getitem__") and hasattr(obj, "__len__") and not isinstance(
        obj, (np.ndarray, Tensor, list, tuple))


def default_collate(samples):
    """One batch from a list of samples, as PyTorch's default_collate: tensors, arrays and numbers are stacked into
    a Tensor (Python floats as float64, ints as int64), tuples and lists field by field (a list), dicts key by key."""
    first = samples[0]
    if isinstance(first, (Tensor, np.ndarray, np.generic, numbers.Number)):
        arrays = [s.data if isinstance(s, Tensor) else s for s in samples]
        stacked = np.stack([np.asarray(a) for a in arrays])
        if isinstance(first, float):
            stacked = stacked.astype(np.float64)
        return Tensor(stacked)
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("default_collate: each element in a batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*samples)]
    raise TypeError(f"default_collate: a batch must hold tensors, arrays, numbers, dicts or lists; found "
                    f"{type(first).__name__}")


class _Default(int):
    """A default batch size that says so in the signature (a batch_size of None is refused, as PyTorch reads it as
    'no batching')."""

    def __repr__(self):
        return f"{int(self)} (1 for a dataset)"


class DataLoader:
    """Mini-batches `(X_batch, y_batch)` as Tensors.

    shuffle=True draws a new permutation every epoch (every `iter()`) from `rng` (default: the
    generator seeded by `mg.manual_seed`), so the same seed gives the same batches. drop_last=True
    skips a final batch smaller than batch_size.

    PyTorch's form, `DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False)`, takes a TensorDataset or
    any map-style dataset (`__getitem__` and `__len__`) and yields what `collate_fn` (default_collate) makes of the
    samples of each batch (for a TensorDataset of (X, y): a list [X_batch, y_batch]).
    """

    def __init__(self, X, y=None, batch_size=_Default(32), shuffle=False, rng=None, drop_last=False, collate_fn=None):
        self.dataset = None
        if _is_dataset(X):
            if y is not None:  # DataLoader(dataset, 64): PyTorch's second argument is the batch size
                if not isinstance(batch_size, _Default) or not isinstance(y, numbers.Integral):
                    raise TypeError("DataLoader: a dataset holds its own labels; give DataLoader(dataset, batch_size)")
                batch_size, y = y, None
            self.dataset, self.collate_fn = X, collate_fn or default_collate
            X = y = np.arange(len(X))  # the batches are drawn as positions, then fetched from the dataset
        elif y is None:
            raise TypeError("DataLoader: give the labels with the inputs, DataLoader(X, y, batch_size), or a dataset, "
                            "DataLoader(TensorDataset(X, y), batch_size)")
        if isinstance(batch_size, _Default):
            batch_size = 1 if self.dataset is not None else int(batch_size)  # PyTorch's default for a dataset
        self.X, self.y = np.asarray(X), np.asarray(y)
        if len(self.X) != len(self.y):
            raise ValueError(f"DataLoader: X has {len(self.X)} rows but y has {len(self.y)}; they must match")
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}; pass an int >= 1, e.g. batch_size=32")
        self.batch_size, self.shuffle, self.rng, self.drop_last = int(batch_size), shuffle, rng, drop_last

    def __len__(self):
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        if self.dataset is not None:
            positions = DataLoader(self.X, self.y, self.batch_size, self.shuffle, self.rng, self.drop_last)
            for index, _ in positions:
                yield self._fetch(index.data)
            return
        n = len(self.X)
        order = (self.rng or default_rng()).permutation(n) if self.shuffle else None
        # task 4.6: mini-batches
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            if order is None:
                index = slice(start, start + self.batch_size)
            else:
                index = order[start:start + self.batch_size]
            yield Tensor(self.X[index]), Tensor(self.y[index])
        # end task

    def _fetch(self, index):
        """The batch of the dataset's samples at these positions."""
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            return [Tensor(t[index]) for t in self.dataset.tensors]  # what default_collate gives, without the loop
        return self.collate_fn([self.dataset[int(i)] for i in index])
