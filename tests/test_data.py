"""mg.data: the bundled digits (checksum, split), the IDX parser and the MNIST cache on generated
files (plain, gz, truncated, corrupted), the mocked download, and the DataLoader."""
import gzip
import hashlib
import os
import re
import struct
import types

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import data


# ---- digits -------------------------------------------------------------------------------------
def test_digits_split_shapes_types_and_ranges():
    d = data.load_digits()
    assert d.X_train.shape == (1437, 64) and d.X_test.shape == (360, 64)
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.X_train.min() == 0.0 and d.X_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(d.y_test), np.full(10, 36))
    # the split is fixed: no image is in both parts, together they are the whole file
    with gzip.open(data.DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    assert len(table) == 1797
    both = np.concatenate([d.X_train, d.X_test]) * 16
    assert sorted(map(bytes, both.astype(np.uint8))) == sorted(map(bytes, table[:, :64].astype(np.uint8)))
    again = data.load_digits()
    np.testing.assert_array_equal(again.X_test, d.X_test)
    assert data.load_digits(flatten=False).X_train.shape == (1437, 1, 8, 8)


def test_digits_checksum_constant_is_the_files():
    with open(data.DIGITS_FILE, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == data.DIGITS_SHA256


def test_digits_checksum_mismatch_is_a_clear_error(tmp_path):
    bad = tmp_path / "digits.csv.gz"
    raw = bytearray(open(data.DIGITS_FILE, "rb").read())
    raw[100] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.load_digits(str(bad))


def test_digits_license_is_shipped():
    text = open(os.path.join(os.path.dirname(data.DIGITS_FILE), "LICENSE-digits.txt")).read()
    assert "CC BY 4.0" in text and "Alpaydin" in text


# ---- IDX ------------------------------------------------------------------------------------------
def idx_bytes(array):
    codes = {np.uint8: 0x08, np.int8: 0x09}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def fake_set(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_set(folder, gz=True, n_train=7, n_test=5):
    (Xtr, ytr), (Xte, yte) = fake_set(n_train, 1), fake_set(n_test, 2)
    files = {}
    for stem, arr in zip(data._MNIST_FILES, (Xtr, ytr, Xte, yte)):
        raw = idx_bytes(arr)
        name = stem + (".gz" if gz else "")
        payload = gzip.compress(raw) if gz else raw
        (folder / name).write_bytes(payload)
        files[name] = payload
    return (Xtr, ytr, Xte, yte), files


def test_parse_idx_plain_and_gz():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(data.parse_idx(idx_bytes(arr)), arr)
    np.testing.assert_array_equal(data.parse_idx(gzip.compress(idx_bytes(arr))), arr)
    big = np.arange(6, dtype=">i4").reshape(2, 3)
    raw = bytes([0, 0, 0x0C, 2]) + struct.pack(">2I", 2, 3) + big.tobytes()
    np.testing.assert_array_equal(data.parse_idx(raw), np.arange(6).reshape(2, 3))


@pytest.mark.parametrize("mangle,message", [
    (lambda raw: raw[:-5], "truncated"),
    (lambda raw: raw + b"\0", "longer than"),
    (lambda raw: raw[:6], "truncated header"),
    (lambda raw: b"\x01\x02" + raw[2:], "not an IDX file"),
    (lambda raw: raw[:2] + b"\x42" + raw[3:], "not an IDX file"),
    (lambda raw: gzip.compress(raw)[:-9], "gzip stream is damaged"),
    (lambda raw: gzip.compress(raw)[:-6] + b"\xff" + gzip.compress(raw)[-5:], "gzip stream is damaged"),  # CRC
    (lambda raw: (lambda z: z[:10] + b"\xff" * 5 + z[15:])(gzip.compress(raw)), "gzip stream is damaged"),
    (lambda raw: b"", "not an IDX file"),
])
def test_parse_idx_rejects_damaged_files(mangle, message):
    raw = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=message):
        data.parse_idx(mangle(raw), "x")


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_from_a_folder(tmp_path, gz):
    (Xtr, ytr, Xte, yte), _ = write_set(tmp_path, gz=gz)
    d = data.load_mnist(tmp_path, download=False)
    assert d.X_train.shape == (7, 784) and d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    np.testing.assert_allclose(d.X_train, Xtr.reshape(7, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(d.y_test, yte)
    assert data.load_fashion_mnist(tmp_path, download=False).X_test.shape == (5, 784)


def test_load_mnist_missing_files_offline(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        data.load_mnist(tmp_path, download=False)


def test_mismatched_images_and_labels(tmp_path):
    write_set(tmp_path)
    labels = np.zeros(3, np.uint8)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(ValueError, match="do not belong together"):
        data.load_mnist(tmp_path, download=False)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A fake network: serves generated files, with the checksum table pointing at them."""
    served = tmp_path / "served"
    served.mkdir()
    arrays, files = write_set(served)
    net = types.SimpleNamespace(payloads=dict(files), arrays=arrays, calls=[])

    def fetch(url, timeout=30):
        net.calls.append(url)
        return net.payloads[url.rsplit("/", 1)[1]]

    monkeypatch.setattr(data, "_fetch", fetch)
    source = {"mirrors": ("https://a.example/", "https://b.example/"),
              "md5": {name: hashlib.md5(p).hexdigest() for name, p in files.items()}}
    monkeypatch.setitem(data.SOURCES, "mnist", source)
    return net


def test_download_caches_verified_files(tmp_path, mirror):
    cache = tmp_path / "cache"
    d = data.load_mnist(cache)
    np.testing.assert_array_equal(d.y_train, mirror.arrays[1])
    assert sorted(os.listdir(cache)) == sorted(n + ".gz" for n in data._MNIST_FILES)
    assert len(mirror.calls) == 4 and all(c.startswith("https://a.example/") for c in mirror.calls)
    data.load_mnist(cache)  # cached: no new download
    assert len(mirror.calls) == 4


def test_download_falls_back_to_the_next_mirror(tmp_path, mirror, monkeypatch):
    served = data._fetch

    def flaky(url, timeout=30):
        if "a.example" in url:
            raise OSError("connection refused")
        return served(url)
    monkeypatch.setattr(data, "_fetch", flaky)
    data.load_mnist(tmp_path / "cache")
    assert all("b.example" in c for c in mirror.calls)


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_damaged_download_is_never_cached(tmp_path, mirror, damage):
    name = "t10k-images-idx3-ubyte.gz"
    good = mirror.payloads[name]
    mirror.payloads[name] = good[: len(good) // 2] if damage == "truncated" else good[:-20] + bytes(20)
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="checksum mismatch") as info:
        data.load_mnist(cache)
    assert "Offline? Put the four files" in str(info.value) and str(cache) in str(info.value)
    assert name not in os.listdir(cache)
    assert not [f for f in os.listdir(cache) if f.endswith(".part")]  # no temporary left behind


def test_damaged_file_with_matching_checksum_is_still_refused(tmp_path, mirror, monkeypatch):
    name = "train-labels-idx1-ubyte.gz"
    bad = gzip.compress(idx_bytes(np.zeros(7, np.uint8))[:-2])  # a truncated IDX inside a valid gzip
    mirror.payloads[name] = bad
    data.SOURCES["mnist"]["md5"][name] = hashlib.md5(bad).hexdigest()
    with pytest.raises(RuntimeError, match="truncated"):
        data.load_mnist(tmp_path / "cache")
    assert name not in os.listdir(tmp_path / "cache")


def test_offline_error_says_where_to_put_the_files(tmp_path, monkeypatch):
    def offline(url, timeout=30):
        raise OSError("network is unreachable")
    monkeypatch.setattr(data, "_fetch", offline)
    with pytest.raises(RuntimeError) as info:
        data.load_fashion_mnist(tmp_path / "fm")
    text = str(info.value)
    assert "network is unreachable" in text and "train-images-idx3-ubyte.gz" in text
    assert str(tmp_path / "fm") in text and "--data-dir" in text


def test_interrupted_write_leaves_no_cached_file(tmp_path, monkeypatch):
    def fail(fd):
        raise OSError("disk full")
    monkeypatch.setattr(os, "fsync", fail)
    target = tmp_path / "x.gz"
    with pytest.raises(OSError, match="disk full"):
        data._write_atomic(str(target), b"payload")
    assert os.listdir(tmp_path) == []


def test_default_root_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    assert data.default_root("mnist") == os.path.join(str(tmp_path), "mnist")


# ---- DataLoader -----------------------------------------------------------------------------------
def test_dataloader_batches_in_order():
    X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    loader = data.DataLoader(X, y, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0][0], mg.Tensor)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y)
    assert len(data.DataLoader(X, y, 4, drop_last=True)) == 2
    assert [len(b[1]) for b in data.DataLoader(X, y, 4, drop_last=True)] == [4, 4]


def test_dataloader_shuffle_is_seeded_and_covers_everything():
    X, y = np.arange(30, dtype=np.float32).reshape(15, 2), np.arange(15)
    a = [b[1].data for b in data.DataLoader(X, y, 4, shuffle=True, rng=np.random.default_rng(7))]
    b = [b[1].data for b in data.DataLoader(X, y, 4, shuffle=True, rng=np.random.default_rng(7))]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    order = np.concatenate(a)
    assert sorted(order) == list(range(15)) and not np.array_equal(order, np.arange(15))
    loader = data.DataLoader(X, y, 4, shuffle=True, rng=np.random.default_rng(7))
    first, second = np.concatenate([b[1].data for b in loader]), np.concatenate([b[1].data for b in loader])
    assert not np.array_equal(first, second)  # a new permutation every epoch
    # rows stay paired with their labels
    for xb, yb in data.DataLoader(X, y, 4, shuffle=True):
        np.testing.assert_array_equal(xb.data[:, 0], 2 * yb.data)


def test_dataloader_default_rng_follows_manual_seed():
    X, y = np.zeros((10, 1)), np.arange(10)
    mg.manual_seed(3)
    a = np.concatenate([b[1].data for b in data.DataLoader(X, y, 3, shuffle=True)])
    mg.manual_seed(3)
    b = np.concatenate([b[1].data for b in data.DataLoader(X, y, 3, shuffle=True)])
    np.testing.assert_array_equal(a, b)


def test_dataloader_errors():
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        data.DataLoader(np.zeros((3, 2)), np.zeros(2), 2)
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(np.zeros((3, 2)), np.zeros(3), 0)


BAD_BATCH_SIZES = [0, -1, -(2 ** 70), 2.5, 2.0, float("nan"), "32", None, True, np.float64(4), np.int64(0)]


@pytest.mark.parametrize("batch_size", BAD_BATCH_SIZES, ids=repr)
def test_dataloader_refuses_a_batch_size_that_is_not_a_positive_integer(batch_size):
    with pytest.raises(ValueError) as info:
        data.DataLoader(np.zeros((3, 2)), np.zeros(3), batch_size)
    # PyTorch's words, the value at fault, and the fix
    assert str(info.value) == (f"DataLoader: batch_size should be a positive integer value, but got "
                               f"batch_size={batch_size!r}; pass an int >= 1, e.g. batch_size=32")


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, 2.0, True])  # (PyTorch reads None as "no batching")
def test_pytorch_refuses_the_same_batch_sizes_in_the_same_words(batch_size):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=re.escape(f"batch_size should be a positive integer value, but got "
                                                   f"batch_size={batch_size}")):
        torch.utils.data.DataLoader(torch.zeros(3, 2), batch_size=batch_size)


@given(batch_size=st.integers(-(2 ** 64), 40))
def test_any_integer_batch_size_below_one_is_refused_and_any_other_batches(batch_size):
    X, y = np.arange(26).reshape(13, 2), np.arange(13)
    if batch_size < 1:
        with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
            data.DataLoader(X, y, batch_size)
        return
    for size in (batch_size, np.int64(batch_size)):  # NumPy integers are integers too
        sizes = [len(b) for _, b in data.DataLoader(X, y, size)]
        assert sum(sizes) == 13 and all(s == batch_size for s in sizes[:-1]) and 0 < sizes[-1] <= batch_size


# ---- PyTorch's form: DataLoader(dataset, batch_size=1, ...) -------------------------------------------------------
class _Squares:
    """A map-style dataset as a PyTorch user writes one: sample i is (features, label, info)."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.full(3, i, np.float32), i * i, {"half": i / 2}


def _as_lists(batches):
    return [[np.asarray(getattr(t, "numpy", lambda t=t: t)()).tolist() for t in b] for b in batches]


def test_a_tensor_dataset_loads_as_in_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader, TensorDataset as TorchTensorDataset
    X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    for args, kwargs in [((), {}), ((4,), {}), ((), {"batch_size": 4, "drop_last": True})]:
        got = list(mg.data.DataLoader(mg.data.TensorDataset(mg.tensor(X), y), *args, **kwargs))
        want = list(TorchLoader(TorchTensorDataset(torch.from_numpy(X), torch.from_numpy(y)), *args, **kwargs))
        assert _as_lists(got) == _as_lists(want)
        assert all(isinstance(b, list) and b[0].dtype == np.float32 and b[1].dtype == np.int64 for b in got)
    assert len(mg.data.DataLoader(mg.data.TensorDataset(X, y), batch_size=4)) == 3
    with pytest.raises(ValueError, match="same size in their first dimension"):
        mg.data.TensorDataset(X, y[:3])


def test_any_map_style_dataset_is_collated_as_pytorchs_default_collate():
    torch = pytest.importorskip("torch")
    got = list(mg.data.DataLoader(_Squares(), batch_size=3))
    want = list(torch.utils.data.DataLoader(_Squares(), batch_size=3))
    assert len(got) == len(want) == 3
    for (gx, gy, ginfo), (wx, wy, winfo) in zip(got, want):
        np.testing.assert_array_equal(gx.numpy(), wx.numpy())
        np.testing.assert_array_equal(gy.numpy(), wy.numpy())
        np.testing.assert_array_equal(ginfo["half"].numpy(), winfo["half"].numpy())
        assert (gx.dtype, gy.dtype, ginfo["half"].dtype) == (np.float32, np.int64, np.float64)  # as torch's


def test_a_shuffled_dataset_loader_draws_from_the_generator():
    ds = mg.data.TensorDataset(np.arange(10), np.arange(10) * 10)
    first = [b[0].numpy().tolist() for b in mg.data.DataLoader(ds, 4, shuffle=True, rng=np.random.default_rng(3))]
    again = [b[0].numpy().tolist() for b in mg.data.DataLoader(ds, 4, shuffle=True, rng=np.random.default_rng(3))]
    assert first == again and sorted(sum(first, [])) == list(range(10)) and first != [[0, 1, 2, 3], [4, 5, 6, 7],
                                                                                        [8, 9]]
    for batch in mg.data.DataLoader(ds, 4, shuffle=True):
        np.testing.assert_array_equal(batch[1].numpy(), batch[0].numpy() * 10)  # fields stay paired


def test_dataloader_arguments_are_checked():
    with pytest.raises(TypeError, match="give the labels with the inputs"):
        mg.data.DataLoader(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="a dataset holds its own labels"):
        mg.data.DataLoader(mg.data.TensorDataset(np.zeros(4)), np.zeros(4))
