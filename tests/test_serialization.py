"""mg.save / mg.load: round trips, no pickle, atomic writes under an injected failure, checkpoints that
resume bit-identically, and binary models exported with their weights packed as bits."""
import os
import pickle

import numpy as np
import pytest

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
