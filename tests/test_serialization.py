"""mg.save / mg.load: round trips, no pickle, atomic writes under an injected failure (with a new file's
permissions, through symlinks), hostile archives refused without allocating, load_state_dict all or
nothing, checkpoints that resume bit-identically, and binary models exported with their weights packed
as bits."""
import inspect
import io
import math
import os
import pickle
import re
import stat
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import nn, optim, serialization
from minigrad.data import DataLoader


def test_round_trip_nested_values(tmp_path):
    obj = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3),
        "t": mg.tensor([1.5, -2.0]),
        "ints": np.array([1, 2, 3], np.int64),
        "flags": np.array([True, False]),
        "names": np.array(["a", "bc"]),
        "nested": {"list": [1, 2.5, "three", None, True, np.float32(0.25)], "tuple": (np.ones(2), 7)},
        3: "an int key",
        "big": 2 ** 100 + 1,
        "nan": float("nan"),
        "empty": {},
    }
    path = tmp_path / "x.npz"
    mg.save(obj, path)
    got = mg.load(path)
    assert set(got) == set(obj)
    np.testing.assert_array_equal(got["w"], obj["w"])
    assert got["w"].dtype == np.float32
    assert isinstance(got["t"], mg.Tensor) and got["t"].tolist() == [1.5, -2.0]
    np.testing.assert_array_equal(got["ints"], [1, 2, 3])
    np.testing.assert_array_equal(got["flags"], [True, False])
    assert got["names"].tolist() == ["a", "bc"]
    assert got["nested"]["list"][:5] == [1, 2.5, "three", None, True]
    assert got["nested"]["list"][5] == np.float32(0.25) and got["nested"]["list"][5].dtype == np.float32
    assert isinstance(got["nested"]["tuple"], tuple) and got["nested"]["tuple"][1] == 7
    assert got[3] == "an int key" and got["big"] == 2 ** 100 + 1 and np.isnan(got["nan"]) and got["empty"] == {}


def test_the_file_is_a_plain_npz_with_arrays_under_their_paths(tmp_path):
    path = tmp_path / "m.npz"
    mg.save({"model": {"0.weight": np.eye(2)}}, path)
    with np.load(path, allow_pickle=False) as f:
        assert "model/0.weight" in f.files
        np.testing.assert_array_equal(f["model/0.weight"], np.eye(2))


def test_plain_npz_loads_as_a_dict(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.arange(3), b=np.ones(2))
    got = mg.load(path)
    assert set(got) == {"a", "b"}
    np.testing.assert_array_equal(got["a"], [0, 1, 2])


def test_model_and_optimizer_state_round_trip(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(mg.randn(5, 4)).sum().backward()
    opt.step()
    path = tmp_path / "s.npz"
    mg.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    got = mg.load(path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(got["model"][k], v)
        assert got["model"][k].dtype == v.dtype
    assert got["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(got["opt"]["state"]) == list(range(6)) and got["opt"]["state"][0]["step"] == 1
    clone = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    clone.load_state_dict(got["model"])
    clone.eval(), model.eval()
    x = mg.randn(3, 4)
    np.testing.assert_array_equal(clone(x).data, model(x).data)


def test_unsupported_values_are_clear_errors(tmp_path):
    with pytest.raises(TypeError, match=r"save its \.state_dict\(\)"):
        mg.save(nn.Linear(2, 2), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="dtype object"):
        mg.save({"a": np.array([{}, 1], dtype=object)}, tmp_path / "o.npz")
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        mg.save({(1, 2): 3}, tmp_path / "k.npz")
    assert not os.path.exists(tmp_path / "m.npz")


# ---- never unpickle -------------------------------------------------------------------------------
class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_npz_with_an_object_array_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    np.savez(path, weights=np.ones(2), payload=np.array([Boom()], dtype=object))
    calls = []
    monkeypatch.setattr(os, "system", lambda cmd: calls.append(cmd))
    with pytest.raises(ValueError, match="object array under the key 'payload'.*refuses"):
        mg.load(path)
    assert calls == []  # the pickled payload never ran


def test_pickle_file_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="never unpickles"):
        mg.load(path)


def test_a_file_of_another_kind_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not an .npz file"):
        mg.load(path)


def test_damaged_file_is_a_clear_error(tmp_path):
    path = tmp_path / "x.npz"
    mg.save({"w": np.ones(100)}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="mg.load"):
        mg.load(path)


# ---- atomic writes --------------------------------------------------------------------------------
def test_failure_mid_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"w": np.zeros(1000), "v": np.zeros(3)}, path)
    before = path.read_bytes()
    real = np.lib.format.write_array
    written = []

    def write_then_crash(fp, array, *args, **kwargs):
        if written:  # the first array is written, then the "disk" fails
            raise OSError("injected failure: disk full")
        written.append(array.shape)
        real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    with pytest.raises(OSError, match="injected failure"):
        mg.save({"w": np.ones(1000), "v": np.ones(3)}, path)
    monkeypatch.undo()
    assert written  # the failure happened mid-write, after some bytes
    assert path.read_bytes() == before
    np.testing.assert_array_equal(mg.load(path)["w"], np.zeros(1000))
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # the temporary file was removed


def test_failure_before_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1}, path)

    def no_fsync(fd):
        raise OSError("injected fsync failure")
    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(OSError, match="fsync"):
        mg.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert mg.load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_save_goes_through_a_temporary_file_and_a_rename(tmp_path, monkeypatch):
    renames = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (renames.append((a, b)), real(a, b)))
    path = tmp_path / "a.npz"
    mg.save({"x": 1}, path)
    (src, dst), = renames
    assert os.path.dirname(src) == str(tmp_path) and dst == str(path) and src != dst


# ---- checkpoints: resume bit-identically ------------------------------------------------------------
def _setup(seed=0):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    opt = optim.Adam(model.parameters(), lr=0.05)
    sched = optim.CosineAnnealingLR(opt, T_max=6)
    return model, opt, sched


def _data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 8)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)


def _epoch(model, opt, sched):
    X, y = _data()
    model.train()
    for xb, yb in DataLoader(X, y, batch_size=8, shuffle=True):  # shuffles and dropout use mg's generator
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
    sched.step()


def test_resume_is_bit_identical(tmp_path):
    model, opt, sched = _setup()
    for _ in range(5):
        _epoch(model, opt, sched)
    straight = model.state_dict()

    model, opt, sched = _setup()
    for _ in range(2):
        _epoch(model, opt, sched)
    path = tmp_path / "ckpt.npz"
    serialization.save_checkpoint(path, model, opt, sched, epoch=2, history=[0.5, 0.25])
    mg.manual_seed(999)  # a fresh process: other weights, another generator state
    model, opt, sched = _setup(seed=123)
    ckpt = serialization.load_checkpoint(path, model, opt, sched)
    assert ckpt["epoch"] == 2 and ckpt["history"] == [0.5, 0.25]
    for _ in range(3):
        _epoch(model, opt, sched)
    resumed = model.state_dict()
    assert list(straight) == list(resumed)
    for k in straight:
        np.testing.assert_array_equal(straight[k], resumed[k], err_msg=k)


def test_checkpoint_restores_a_given_generator(tmp_path):
    model, opt, _ = _setup()
    rng = np.random.default_rng(5)
    rng.random(3)
    serialization.save_checkpoint(tmp_path / "c.npz", model, opt, rng=rng)
    expected = rng.random(4)
    other = np.random.default_rng(77)
    serialization.load_checkpoint(tmp_path / "c.npz", model, opt, rng=other)
    np.testing.assert_array_equal(other.random(4), expected)


def test_load_checkpoint_errors(tmp_path):
    mg.save({"a": 1}, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="not a checkpoint"):
        serialization.load_checkpoint(tmp_path / "x.npz", nn.Linear(2, 2))
    model, opt, _ = _setup()
    serialization.save_checkpoint(tmp_path / "c.npz", model)
    with pytest.raises(ValueError, match="no optimizer state"):
        serialization.load_checkpoint(tmp_path / "c.npz", model, opt)


# ---- binary export --------------------------------------------------------------------------------
def _bnn(scale=None):
    mg.manual_seed(0)
    return nn.Sequential(nn.BinaryLinear(64, 256, scale=scale), nn.BatchNorm1d(256), nn.Sign(),
                         nn.BinaryLinear(256, 128, scale=scale), nn.BatchNorm1d(128), nn.Sign(),
                         nn.Linear(128, 10))


@pytest.mark.parametrize("scale", [None, "mean"])
def test_export_binary_round_trip_gives_the_same_outputs(tmp_path, scale):
    model = _bnn(scale)
    model(mg.randn(32, 64))  # move the batch-norm statistics away from their initial values
    model.eval()
    path = tmp_path / "bnn.npz"
    serialization.export_binary(model, path)
    state = serialization.load_binary(path)
    w, latent = state["0.weight"], model[0].weight.data
    np.testing.assert_array_equal(np.sign(w), np.where(latent >= 0, 1, -1))
    if scale is None:
        assert set(np.unique(w)) == {-1.0, 1.0}
    else:  # +-alpha per output row, alpha = mean |W| of that row
        np.testing.assert_allclose(np.abs(w), np.abs(latent).mean(axis=1, keepdims=True).repeat(64, 1), rtol=1e-6)
    clone = serialization.load_binary(path, _bnn(scale).eval())
    x = mg.randn(16, 64)
    np.testing.assert_array_equal(clone(x).data, model(x).data)
    np.testing.assert_array_equal(clone[6].weight.data, model[6].weight.data)  # the float layer is kept as is


def test_export_binary_packs_weights_32x(tmp_path):
    model = _bnn()
    path = tmp_path / "bnn.npz"
    serialization.export_binary(model, path)
    with np.load(path, allow_pickle=False) as f:
        packed = f["state/0.weight/bits"]
        assert packed.dtype == np.uint8
        assert model[0].weight.data.nbytes == 32 * packed.nbytes  # 64*256 float32 -> 64*256 bits
        assert model[3].weight.data.nbytes == 32 * f["state/3.weight/bits"].nbytes
    binary_bytes = model[0].weight.data.nbytes + model[3].weight.data.nbytes
    full = tmp_path / "float.npz"
    mg.save(model.state_dict(), full)
    saved = os.path.getsize(full) - os.path.getsize(path)
    assert saved >= binary_bytes * 31 / 32 - 4096  # the whole file shrank by the weights' 31/32


def test_load_binary_refuses_other_files(tmp_path):
    mg.save({"a": 1}, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="not written by export_binary"):
        serialization.load_binary(tmp_path / "x.npz")


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="folder .*nope does not exist"):
        mg.save({"w": mg.ones(2)}, missing / "x.npz")
    assert not missing.exists()


# ---- permissions and symlinks ---------------------------------------------------------------------
@pytest.fixture
def umask():
    """Set the process umask for one test (os.umask returns the previous one, restored afterwards)."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o000])
def test_a_new_file_gets_the_permissions_open_would_give_it(tmp_path, umask, mask):
    umask(mask)
    mg.save({"w": np.ones(3)}, tmp_path / "m.npz")
    with open(tmp_path / "plain", "wb"):
        pass
    mode = stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode)
    assert mode == 0o666 & ~mask == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)


@pytest.mark.parametrize("mode,kept", [(0o600, 0o600), (0o640, 0o640), (0o444, 0o444), (0o4755, 0o755)])
def test_a_replaced_file_keeps_its_permissions(tmp_path, umask, mode, kept):
    path = tmp_path / "m.npz"
    mg.save({"w": np.zeros(3)}, path)
    os.chmod(path, mode)
    mg.save({"w": np.ones(3)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == kept  # its permissions, never a setuid bit
    np.testing.assert_array_equal(mg.load(path)["w"], np.ones(3))


def test_save_through_a_symlink_replaces_its_target_atomically(tmp_path, monkeypatch):
    (tmp_path / "store").mkdir()
    real = tmp_path / "store" / "real.npz"
    mg.save({"epoch": 1}, real)
    link = tmp_path / "latest.npz"
    link.symlink_to(os.path.join("store", "real.npz"))  # a relative link
    renames = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (renames.append((a, b)), replace(a, b)))
    mg.save({"epoch": 2}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "real.npz")
    assert mg.load(real) == {"epoch": 2} and mg.load(link) == {"epoch": 2}
    (src, dst), = renames  # one rename, of a temporary file next to the target, onto the target
    assert dst == str(real) and os.path.dirname(src) == str(tmp_path / "store")
    assert sorted(os.listdir(tmp_path)) == ["latest.npz", "store"] and os.listdir(tmp_path / "store") == ["real.npz"]


def test_a_failed_save_through_a_symlink_keeps_the_target_and_the_link(tmp_path, monkeypatch):
    real = tmp_path / "real.npz"
    mg.save({"w": np.zeros(10)}, real)
    link = tmp_path / "link.npz"
    link.symlink_to(real)

    def crash(*args, **kwargs):
        raise OSError("injected failure: disk full")
    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(OSError, match="injected failure"):
        mg.save({"w": np.ones(10)}, link)
    monkeypatch.undo()
    assert link.is_symlink() and sorted(os.listdir(tmp_path)) == ["link.npz", "real.npz"]
    np.testing.assert_array_equal(mg.load(link)["w"], np.zeros(10))


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.npz"
    link.symlink_to(tmp_path / "new.npz")
    mg.save({"a": 1}, link)
    assert link.is_symlink() and mg.load(tmp_path / "new.npz") == {"a": 1}


def test_saving_to_a_folder_names_it(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a folder; give a file name in it, e\.g\. .*model\.npz"):
        mg.save({"a": 1}, tmp_path)
    assert os.listdir(tmp_path) == []


def test_check_writable_creates_and_removes_a_probe(tmp_path, monkeypatch):
    made = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a: (made.append(p), real_open(p, *a))[1])
    serialization.check_writable(tmp_path / "run.npz")
    assert len(made) == 1 and os.path.dirname(made[0]) == str(tmp_path) and os.listdir(tmp_path) == []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        serialization.check_writable(tmp_path / "missing" / "run.npz")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        serialization.check_writable(tmp_path)


# ---- hostile archives -------------------------------------------------------------------------------
def npy(array, shape=None):
    """The bytes of an .npy file of `array`; `shape` replaces the shape its header declares (a lie)."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    if shape is None:
        return buf.getvalue()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": array.dtype.str, "fortran_order": False,
                                                  "shape": tuple(shape)})
    return header.getvalue() + array.tobytes()


def zip_bytes(*entries):
    """A zip archive written by hand, so its headers can lie. Each entry: dict(name, payload, and optionally
    deflate=True, size= (declared uncompressed size), csize= (declared compressed size), crc_of= (bytes))."""
    body, central = b"", b""
    for e in entries:
        data = e["payload"]
        if e.get("deflate"):
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            data = c.compress(data) + c.flush()
        size, csize = e.get("size", len(e["payload"])), e.get("csize", len(data))
        crc, method, name = zlib.crc32(e.get("crc_of", e["payload"])), 8 if e.get("deflate") else 0, e["name"].encode()
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21, crc, min(csize, 0xFFFFFFFF),
                            min(size, 0xFFFFFFFF), len(name), 0) + name + data
        big = [n for n in (size, csize) if n >= 0xFFFFFFFF]  # ZIP64: the sizes that do not fit 32 bits
        extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) if big else b""
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0x21, crc,
                               min(csize, 0xFFFFFFFF), min(size, 0xFFFFFFFF), len(name), len(extra), 0, 0, 0, 0,
                               offset) + name + extra
    return body + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                                        len(body), 0)


def load_peak(path, **kwargs):
    """(what mg.load returned or raised, the peak of memory allocated while it ran)."""
    tracemalloc.start()
    try:
        result = mg.load(path, **kwargs)
    except ValueError as e:
        result = e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


SMALL = 1 << 20  # no hostile file below may make mg.load allocate more than 1 MiB
THREE = npy(np.arange(3.0))  # 3 float64: a 128-byte header + 24 bytes


def test_our_hand_written_zips_load_when_honest(tmp_path):
    path = tmp_path / "honest.npz"
    path.write_bytes(zip_bytes(dict(name="a.npy", payload=THREE), dict(name="b.npy", payload=THREE, deflate=True)))
    got = mg.load(path)
    np.testing.assert_array_equal(got["a"], [0, 1, 2])
    np.testing.assert_array_equal(got["b"], [0, 1, 2])


HOSTILE = {  # how to make the entry (built when its test runs), what the refusal says
    "stored entry claiming 5 GiB (ZIP64)": (
        lambda: dict(name="w.npy", payload=THREE, size=5 * 2 ** 30),
        r"the entry 'w' of .* claims 5,368,709,120 bytes, but stores 152; its header lies"),
    "deflated entry claiming 3 GiB from a few bytes": (
        lambda: dict(name="w.npy", payload=THREE, deflate=True, size=3 * 2 ** 30),
        r"the entry 'w' of .* claims 3,221,225,472 bytes from [\d,]+ compressed bytes, which deflate cannot give"),
    "compressed data past the end of the file": (
        lambda: dict(name="w.npy", payload=THREE, size=2 ** 40, csize=2 ** 40),
        r"the entry 'w' of .* claims 1,099,511,627,776 bytes of data from byte 190 on, but the file has 524 bytes"),
    "npy header claiming a 10^6 x 10^6 array": (
        lambda: dict(name="w.npy", payload=npy(np.arange(3.0), shape=(10 ** 6, 10 ** 6))),
        r"the header of the entry 'w' of .* does not match its size: a float64 array of shape \(1000000, 1000000\) "
        r"needs 8,000,000,000,128 bytes, there are 152"),
    "decompression bomb declared small": (
        lambda: dict(name="w.npy", payload=THREE + bytes(10 ** 7), deflate=True, size=len(THREE), crc_of=THREE),
        r"the entry 'w' of .* claims 152 bytes from [\d,]+ compressed bytes, which deflate cannot give .*bomb"),
}


@pytest.mark.parametrize("entry,message", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_entry_is_refused_by_name_without_allocating(tmp_path, entry, message):
    path = tmp_path / "evil.npz"
    path.write_bytes(zip_bytes(dict(name="fine.npy", payload=THREE), entry()))
    for kwargs in ({}, {"max_bytes": 2 ** 62}):  # a raised limit does not make a lie acceptable
        error, peak = load_peak(path, **kwargs)
        assert isinstance(error, ValueError) and re.search(message, str(error)), error
        assert peak < SMALL


def test_an_npy_file_whose_header_claims_a_huge_array_is_refused_without_allocating(tmp_path):
    path = tmp_path / "evil.npy"
    path.write_bytes(npy(np.arange(3.0), shape=(10 ** 6, 10 ** 6)))
    error, peak = load_peak(path)
    assert "does not match its size" in str(error) and "8,000,000,000,128 bytes, there are 152" in str(error)
    assert peak < SMALL


def test_an_honest_bomb_is_refused_by_the_limit_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.npz"
    zeros = np.zeros(10 ** 6)  # 8 MB of zeros deflate to about 8 kB
    path.write_bytes(zip_bytes(dict(name="z.npy", payload=npy(zeros), deflate=True)))
    assert path.stat().st_size < 20_000
    error, peak = load_peak(path, max_bytes=10 ** 6)
    assert "the arrays of" in str(error) and "up to and including the entry 'z' take 8,000,128 bytes, over the " \
                                             "limit of 1,000,000 bytes (max_bytes)" in str(error)
    assert peak < SMALL
    got, peak = load_peak(path, max_bytes=10 ** 7)  # raised: it loads, and needs about what it holds
    np.testing.assert_array_equal(got["z"], zeros)
    assert peak < 2 * zeros.nbytes


def test_the_limit_counts_the_whole_archive_and_names_the_entry_that_crosses_it(tmp_path):
    path = tmp_path / "three.npz"
    mg.save({"a": np.zeros(50_000), "b": np.zeros(50_000), "c": np.zeros(50_000)}, path)  # 400 kB each
    with pytest.raises(ValueError, match=r"up to and including the entry 'b' take 800,256 bytes, over the limit "
                                         r"of 500,000 bytes \(max_bytes\); if you trust the file, raise it"):
        mg.load(path, max_bytes=500_000)
    assert set(mg.load(path, max_bytes=2_000_000)) == {"a", "b", "c"}
    assert set(mg.load(path)) == {"a", "b", "c"}  # far below the default


def test_the_default_limit_is_4_gib_everywhere(tmp_path):
    assert serialization.MAX_BYTES == 4 * 2 ** 30
    for fn in (mg.load, serialization.load_checkpoint, serialization.load_binary):
        assert inspect.signature(fn).parameters["max_bytes"].default == 4 * 2 ** 30
    model, opt, _ = _setup()
    serialization.save_checkpoint(tmp_path / "c.npz", model, opt)
    with pytest.raises(ValueError, match="max_bytes"):
        serialization.load_checkpoint(tmp_path / "c.npz", model, opt, max_bytes=1000)
    serialization.export_binary(_bnn(), tmp_path / "b.npz")
    with pytest.raises(ValueError, match="max_bytes"):
        serialization.load_binary(tmp_path / "b.npz", max_bytes=1000)


@given(declared=st.integers(0, 2 ** 64 - 1))
def test_any_stored_entry_that_misstates_its_size_is_refused_without_allocating(tmp_path_factory, declared):
    path = tmp_path_factory.mktemp("lie") / "x.npz"
    path.write_bytes(zip_bytes(dict(name="w.npy", payload=THREE, size=declared)))
    got, peak = load_peak(path, max_bytes=2 ** 64)
    if declared == len(THREE):
        np.testing.assert_array_equal(got["w"], [0, 1, 2])
    else:
        assert isinstance(got, ValueError) and "the entry 'w'" in str(got)
    assert peak < SMALL


@given(shape=st.lists(st.integers(-3, 2 ** 40), max_size=4))
def test_any_npy_header_whose_shape_misstates_the_data_is_refused_without_allocating(tmp_path_factory, shape):
    path = tmp_path_factory.mktemp("shape") / "x.npy"
    path.write_bytes(npy(np.arange(6.0), shape=shape))
    got, peak = load_peak(path)
    if min(shape, default=0) >= 0 and math.prod(shape) == 6:
        np.testing.assert_array_equal(got.ravel(), np.arange(6.0))
        assert got.shape == tuple(shape)
    else:
        assert isinstance(got, ValueError) and "does not match its size" in str(got)
    assert peak < SMALL


def test_load_binary_refuses_a_shape_its_bits_cannot_fill(tmp_path):
    serialization.export_binary(_bnn(), tmp_path / "b.npz")
    blob = mg.load(tmp_path / "b.npz")
    blob["state"]["0.weight"]["shape"] = [10 ** 6, 10 ** 6]
    mg.save(blob, tmp_path / "lie.npz")
    tracemalloc.start()
    with pytest.raises(ValueError, match=r"says the weight '0.weight' is float32 of shape \(1000000, 1000000\)"):
        serialization.load_binary(tmp_path / "lie.npz")
    assert tracemalloc.get_traced_memory()[1] < 4 * SMALL
    tracemalloc.stop()


# ---- load_state_dict: all or nothing ----------------------------------------------------------------
def _net(seed):
    mg.manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    net(mg.randn(5, 3))  # running statistics and num_batches_tracked away from their initial values
    return net


def _snapshot(net):
    return [(k, t.data.dtype, t.data.tobytes(), t._version[0]) for k, t in net._named_state()]


def _corrupt(value, kind):
    """One bad entry of each kind a checkpoint can hold."""
    return {"shape": lambda: np.zeros(value.shape + (2,), value.dtype),
            "strings": lambda: np.full(value.shape, "0.5"),
            "object": lambda: {"not": "an array"},
            "ragged": lambda: [[1.0], [2.0, 3.0]],
            "kind": lambda: value.astype(np.complex64 if value.dtype.kind == "f" else np.float64)}[kind]()


KINDS = ["shape", "strings", "object", "ragged", "kind", "missing", "unexpected", "int key"]


@given(index=st.integers(0, 8), kind=st.sampled_from(KINDS), strict=st.booleans())
def test_a_load_with_any_one_bad_entry_leaves_every_parameter_bit_identical(index, kind, strict):
    target, source = _net(1), _net(2)
    state = source.state_dict()
    key = named = list(state)[index]
    if kind == "missing":
        del state[key]
    elif kind == "unexpected":
        named = key + "_extra"
        state[named] = state[key]
    elif kind == "int key":
        named = index
        state[named] = state[key]
    else:
        state[key] = _corrupt(state[key], kind)
    before = _snapshot(target)
    if kind in ("missing", "unexpected", "int key") and not strict:
        target.load_state_dict(state, strict=False)  # allowed: the good entries are all written
        written = [k for k, t in target._named_state() if k in state]
        assert all(np.array_equal(target.state_dict()[k], state[k]) for k in written)
        return
    with pytest.raises(RuntimeError, match=f"load_state_dict for Sequential: .*{re.escape(str(named))}"):
        target.load_state_dict(state, strict=strict)
    assert _snapshot(target) == before  # values, dtypes and version counters: nothing was written


def test_a_good_load_writes_every_entry():
    target, source = _net(1), _net(2)
    assert _snapshot(target) != _snapshot(source)
    target.load_state_dict(source.state_dict())
    assert [(k, d, b) for k, d, b, _ in _snapshot(target)] == [(k, d, b) for k, d, b, _ in _snapshot(source)]


@pytest.mark.parametrize("kind,message", [
    ("shape", r"shape mismatch for '0.weight': the checkpoint has \(4, 3, 2\), the model has \(4, 3\)"),
    ("strings", r"'0.weight' is a ndarray of dtype <U3, not an array of numbers"),
    ("object", r"'0.weight' is a dict of dtype object, not an array of numbers"),
    ("ragged", r"'0.weight' is a list of dtype object, not an array of numbers"),
    ("kind", r"'0.weight' is complex64 and the model's is float32: casting would change the kind of its values; "
             r"cast it yourself first if you mean it \(e.g. value.astype\('float32'\)\)"),
])
def test_each_bad_entry_is_named_with_its_reason(kind, message):
    net = _net(1)
    state = net.state_dict()
    state["0.weight"] = _corrupt(state["0.weight"], kind)
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(state, strict=False)


def test_every_bad_entry_is_reported_at_once():
    net = _net(1)
    state = net.state_dict()
    state["0.weight"], state["2.bias"] = np.zeros(2), np.full(2, "x")
    del state["1.bias"]
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    text = str(info.value)
    assert "missing keys: 1.bias" in text and "'0.weight'" in text and "'2.bias'" in text
    assert "strict=False" not in text  # that would not help with the bad values


def test_casts_within_a_kind_are_loaded_as_pytorch_does():
    net = _net(1)
    state = {k: v.astype(np.float64 if v.dtype.kind == "f" else np.int32) for k, v in net.state_dict().items()}
    state["2.bias"] = np.array([True, False])  # bool -> float: as PyTorch's copy_
    net.load_state_dict(state)
    assert net[0].weight.dtype == np.float32 and net[1].num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(net[2].bias.data, [1.0, 0.0])


def test_load_state_dict_wants_a_mapping_as_pytorch_does():
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class 'list'>"):
        _net(1).load_state_dict([1, 2])
