"""The command line end to end on the bundled digits (and on generated IDX files for mnist/fashion-mnist):
train, checkpoint, resume bit-identically, every model, the offline error, the demo itself, and every
argument checked before any work (one line naming the flag, exit status 2)."""
import contextlib
import gzip
import io
import math
import os
import re
import struct
import subprocess
import sys
import types

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import cli, data


def run(*argv):
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def test_train_prints_epochs_and_writes_a_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    code, out = run("train", "--epochs", "2", "--no-progress", "--save", str(path))
    assert code == 0
    lines = [l for l in out.splitlines() if re.match(r"mlp\s+epoch", l)]
    assert len(lines) == 2 and "epoch 1/2" in lines[0] and "epoch 2/2" in lines[1]
    assert all(re.search(r"loss \d+\.\d{4}\s+train acc\s+[\d.]+%\s+test acc\s+[\d.]+%\s+[\d.]+s$", l) for l in lines)
    final = float(re.search(r"test acc\s+([\d.]+)%", lines[-1]).group(1))
    assert final > 85  # two epochs of the float MLP on digits
    ckpt = mg.load(path)
    assert ckpt["epoch"] == 2 and ckpt["config"]["model"] == "mlp" and len(ckpt["history"]["loss"]) == 2
    model = cli.build_model("mlp", 64)
    model.load_state_dict(ckpt["model"])
    d = data.load_digits()
    assert cli.accuracy(model, d.X_test, d.y_test) == pytest.approx(ckpt["history"]["test_acc"][-1])


def test_save_creates_the_checkpoint_folder(tmp_path):
    path = tmp_path / "runs" / "new" / "mlp.npz"
    code, _ = run("train", "--epochs", "1", "--no-progress", "--save", str(path))
    assert code == 0 and mg.load(path)["epoch"] == 1


def test_resume_continues_bit_identically(tmp_path):
    straight = tmp_path / "straight.npz"
    assert run("train", "--epochs", "3", "--no-progress", "--seed", "4", "--save", str(straight))[0] == 0
    a = mg.load(straight)
    partial = tmp_path / "partial.npz"
    _train_partial(partial, epochs_done=1, total=3, seed=4)  # the same run, killed after epoch 1
    code, out = run("train", "--resume", str(partial), "--no-progress", "--save", str(partial))  # epochs: the run's 3
    assert code == 0 and "resumed" in out and "epoch 2/3" in out and "epoch 1/3" not in out
    b = mg.load(partial)
    assert b["epoch"] == 3
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key], b["model"][key], err_msg=key)
    assert a["history"]["loss"] == b["history"]["loss"]
    for key in ("state", "param_groups"):
        assert str(a["optimizer"][key]) == str(b["optimizer"][key])


def _train_partial(path, epochs_done, total, seed):
    """What `train --epochs total --save path` has written after `epochs_done` epochs (as if killed)."""
    class Stop(Exception):
        pass

    real = cli.serialization.save_checkpoint

    def save_then_stop(*args, **kwargs):
        real(*args, **kwargs)
        if kwargs["epoch"] == epochs_done:
            raise Stop

    cli.serialization.save_checkpoint = save_then_stop
    try:
        with pytest.raises(Stop):
            cli.main(["train", "--epochs", str(total), "--no-progress", "--seed", str(seed), "--save", str(path)],
                     out=io.StringIO())
    finally:
        cli.serialization.save_checkpoint = real


def test_resume_refuses_other_files(tmp_path, capsys):
    mg.save({"a": 1}, tmp_path / "x.npz")
    code, _ = run("train", "--resume", str(tmp_path / "x.npz"))
    assert code == 2 and capsys.readouterr().err == (f"minigrad train: error: argument --resume: {tmp_path / 'x.npz'} "
                                                     "is not a checkpoint written by `minigrad train --save`\n")


@pytest.mark.parametrize("model", ["bnn-mlp", "cnn", "binary-cnn"])
def test_every_model_trains_on_digits(model):
    code, out = run("train", "--model", model, "--epochs", "1", "--no-progress")
    assert code == 0
    acc = float(re.search(r"test acc\s+([\d.]+)%", out).group(1))
    assert acc > 40, out  # well above chance (10%) after one epoch


def test_models_are_the_specified_ones():
    bnn = cli.build_model("bnn-mlp", 784)
    linears = [m for m in bnn.modules() if isinstance(m, mg.nn.BinaryLinear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 1024), (1024, 1024), (1024, 1024), (1024, 10)]
    assert sum(isinstance(m, mg.nn.BatchNorm1d) for m in bnn.modules()) == 4
    assert sum(isinstance(m, mg.nn.Sign) for m in bnn.modules()) == 3
    assert isinstance(list(bnn.children())[0], mg.nn.BinaryLinear)  # real-valued input to the first layer
    assert all(m.weight.bits == 1 and m.weight.constraint is not None for m in linears)
    cnn, bcnn = cli.build_model("cnn", 784), cli.build_model("binary-cnn", 784)
    shapes = lambda m: [p.shape for p in m.parameters() if p.ndim > 1]  # noqa: E731
    assert shapes(cnn) == shapes(bcnn)  # twins
    x = mg.randn(2, 1, 28, 28)
    assert cnn(x).shape == bcnn(x).shape == (2, 10)
    with pytest.raises(ValueError, match="unknown model"):
        cli.build_model("resnet", 64)


def _write_idx_set(folder, n_train=30, n_test=10):
    rng = np.random.default_rng(0)
    for stem, n in zip(data._MNIST_FILES, (n_train, n_train, n_test, n_test)):
        if "images" in stem:
            arr = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
            header = bytes([0, 0, 8, 3]) + struct.pack(">3I", n, 28, 28)
        else:
            arr = rng.integers(0, 10, n).astype(np.uint8)
            header = bytes([0, 0, 8, 1]) + struct.pack(">I", n)
        (folder / (stem + ".gz")).write_bytes(gzip.compress(header + arr.tobytes()))


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_train_from_a_data_dir(tmp_path, dataset):
    _write_idx_set(tmp_path)
    code, out = run("train", "--dataset", dataset, "--data-dir", str(tmp_path), "--epochs", "1", "--batch-size",
                    "10", "--no-progress")
    assert code == 0 and "30 train / 10 test" in out and "epoch 1/1" in out
    code, out = run("train", "--dataset", dataset, "--data-dir", str(tmp_path), "--model", "cnn", "--epochs", "1",
                    "--batch-size", "10", "--no-progress")
    assert code == 0 and "epoch 1/1" in out


def test_offline_without_files_is_a_clear_error(tmp_path, monkeypatch, capsys):
    def offline(url, timeout=30):
        raise OSError("network is unreachable")
    monkeypatch.setattr(data, "_fetch", offline)
    code, _ = run("train", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"), "--epochs", "1")
    err = capsys.readouterr().err
    assert code == 1 and "Put the four files" in err and str(tmp_path / "none") in err


def test_progress_bar_plain_display():
    class Tty(io.StringIO):
        def isatty(self):
            return True
    stream = Tty()
    bar = cli.Progress(4, "demo 1/2", stream=stream, use_tqdm=False)
    for i in range(4):
        bar.update(f"loss {i}")
    bar.close()
    text = stream.getvalue()
    assert "demo 1/2 [######" in text and "4/4 loss 3" in text and text.count("\r") >= 5
    quiet = io.StringIO()  # not a terminal: nothing drawn, so logs stay short
    bar = cli.Progress(3, "x", stream=quiet, use_tqdm=False)
    bar.update()
    bar.close()
    assert quiet.getvalue() == ""


def test_progress_bar_uses_tqdm_when_installed(monkeypatch):
    calls = []

    class FakeTqdm:
        def __init__(self, **kwargs):
            calls.append(("init", kwargs["total"], kwargs["desc"]))

        def set_postfix_str(self, text, refresh=True):
            calls.append(("postfix", text))

        def update(self, n):
            calls.append(("update", n))

        def close(self):
            calls.append(("close",))

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    bar = cli.Progress(2, "e 1/1", stream=io.StringIO())
    bar.update("loss 1")
    bar.close()
    assert calls == [("init", 2, "e 1/1"), ("postfix", "loss 1"), ("update", 1), ("close",)]


def test_costs_count_binary_layers_at_one_bit():
    mg.manual_seed(0)
    float_model, binary_model = cli.mlp(64, (32,)), cli.bnn_mlp(64, (32,))
    x = np.zeros((4, 64), np.float32)
    f, b = cli.costs(float_model, x), cli.costs(binary_model, x)
    assert f["size_bytes"] == f["float32_bytes"] == 4 * f["parameters"]
    # binary: 64*32 + 32*10 one-bit weights, the batch norms (2 * (32 + 10)) at 32 bits
    assert b["size_bytes"] == (64 * 32 + 32 * 10) / 8 + 4 * 2 * (32 + 10)
    assert f["macs"] == 64 * 32 + 32 * 10 and f["bops"] == 0
    assert b["bops"] == 32 * 10 and b["macs"] == 64 * 32  # the first layer sees real inputs


def test_python_dash_m_runs():
    result = subprocess.run([sys.executable, "-m", "minigrad", "--help"], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=60)
    assert result.returncode == 0 and "demo" in result.stdout and "train" in result.stdout


def test_demo_meets_its_accuracies(tmp_path):
    png = tmp_path / "curves.png"
    code, out = run("demo", "--no-progress", "--plot", str(png))
    assert code == 0
    row = next(l for l in out.splitlines() if l.startswith("test accuracy"))
    float_acc, binary_acc = map(float, re.findall(r"([\d.]+)%", row))
    assert float_acc >= 97.0 and binary_acc >= 95.0, out
    for label in ("parameter size", "FLOPs / sample", "MACs / sample", "BOPs / sample"):
        assert any(l.startswith(label) for l in out.splitlines())
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not png.exists()
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- every argument is checked before any work ---------------------------------------------------------
class WorkStarted(Exception):
    pass


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command gets as far as loading its data (the first piece of work)."""
    def refuse(*args, **kwargs):
        raise WorkStarted
    monkeypatch.setattr(cli, "load_dataset", refuse)
    monkeypatch.setattr(cli.data, "load_digits", refuse)


def refused(capsys, *argv):
    """Run the CLI on bad arguments; check it answered with exit status 2 and one line; return that line."""
    code, out = run(*argv)
    err = capsys.readouterr().err
    assert code == 2 and out == "" and err.count("\n") == 1 and err.endswith("\n"), (code, out, err)
    assert "Traceback" not in err
    return err.rstrip("\n")


BAD_FLAGS = [  # argv, the line's start after "minigrad <command>: error: "
    (["train", "--epochs", "0"], "argument --epochs: '0' is not a positive integer (e.g. 10)"),
    (["train", "--epochs", "-1"], "argument --epochs: '-1' is not a positive integer (e.g. 10)"),
    (["train", "--epochs", "2.5"], "argument --epochs: '2.5' is not a positive integer"),
    (["train", "--lr", "nan"], "argument --lr: 'nan' is not a finite number > 0 (e.g. 0.01)"),
    (["train", "--lr", "abc"], "argument --lr: 'abc' is not a finite number > 0 (e.g. 0.01)"),
    (["train", "--lr", "inf"], "argument --lr: 'inf' is not a finite number > 0"),
    (["train", "--lr", "-0.1"], "argument --lr: '-0.1' is not a finite number > 0"),
    (["train", "--lr", "0"], "argument --lr: '0' is not a finite number > 0"),
    (["train", "--seed", "-1"], "argument --seed: '-1' is not an integer >= 0 (e.g. 0)"),
    (["train", "--batch-size", "0"], "argument --batch-size: '0' is not a positive integer"),
    (["train", "--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["demo", "--epochs", "0"], "argument --epochs: '0' is not a positive integer"),
    (["demo", "--lr", "nan"], "argument --lr: 'nan' is not a finite number > 0"),
    (["demo", "--seed", "-1"], "argument --seed: '-1' is not an integer >= 0"),
    (["demo", "--batch-size", "-3"], "argument --batch-size: '-3' is not a positive integer"),
]


@pytest.mark.parametrize("argv,message", BAD_FLAGS, ids=[" ".join(argv) for argv, _ in BAD_FLAGS])
def test_a_bad_flag_is_one_line_naming_it_exit_2_before_any_work(capsys, no_work, argv, message):
    assert refused(capsys, *argv).startswith(f"minigrad {argv[0]}: error: {message}")


def _parses(convert, ok):
    def check(text):
        try:
            return ok(convert(text))
        except ValueError:
            return False
    return check


FLAG_RULES = [("--epochs", int, _parses(int, lambda n: n >= 1)),
              ("--batch-size", int, _parses(int, lambda n: n >= 1)),
              ("--seed", int, _parses(int, lambda n: n >= 0)),
              ("--lr", float, _parses(float, lambda x: math.isfinite(x) and x > 0))]


@given(text=st.text() | st.integers(-3, 3).map(str) | st.floats().map(str), rule=st.sampled_from(FLAG_RULES))
def test_any_value_that_breaks_a_flags_rule_is_refused_in_one_line_and_any_other_is_taken(text, rule):
    flag, convert, ok = rule
    argv = ["train", f"{flag}={text}"]
    if ok(text):
        args = cli.build_parser().parse_args(argv)
        assert getattr(args, flag[2:].replace("-", "_")) == convert(text)
        return
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(err):
        mp.setattr(cli, "load_dataset", lambda *a, **k: pytest.fail("work started"))
        code, out = run(*argv)
    line = err.getvalue()
    assert code == 2 and out == "" and line.count("\n") == 1 and line.endswith("\n")
    assert line.startswith(f"minigrad train: error: argument {flag}: {text!r} is not ")


def test_the_real_process_exits_2_without_a_traceback(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for argv, flag in ((["train", "--epochs", "0"], "--epochs"), (["train", "--lr", "nan"], "--lr"),
                       (["train", "--seed", "-1"], "--seed"), (["train", "--save", str(tmp_path)], "--save")):
        result = subprocess.run([sys.executable, "-m", "minigrad", *argv], capture_output=True, text=True, cwd=root,
                                timeout=60)
        assert result.returncode == 2 and result.stdout == "", result
        assert result.stderr.count("\n") == 1 and f"argument {flag}: " in result.stderr and "Traceback" not in \
            result.stderr


def test_save_to_a_folder_is_refused(tmp_path, capsys, no_work):
    line = refused(capsys, "train", "--save", str(tmp_path))
    assert line == (f"minigrad train: error: argument --save: {tmp_path} is a folder; give a file name in it, e.g. "
                    f"{tmp_path / 'run.npz'}")
    assert os.listdir(tmp_path) == []


def test_save_where_no_file_can_be_created_is_refused(tmp_path, capsys, no_work, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_open = os.open

    def read_only(path, flags, *args):  # the folder behaves as if mounted read-only (root ignores chmod)
        if os.path.dirname(path) == str(locked) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args)
    monkeypatch.setattr(os, "open", read_only)
    line = refused(capsys, "train", "--save", str(locked / "run.npz"))
    assert line == (f"minigrad train: error: argument --save: cannot create a file next to {locked / 'run.npz'} "
                    "(Permission denied); choose another path")


def test_save_under_a_file_is_refused(tmp_path, capsys, no_work):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    line = refused(capsys, "train", "--save", str(tmp_path / "notes.txt" / "run.npz"))
    assert line.startswith(f"minigrad train: error: argument --save: cannot create the folder {tmp_path / 'notes.txt'}")
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_the_save_path_is_probed_before_the_data_is_loaded(tmp_path, monkeypatch):
    events = []
    probe = cli.serialization.check_writable
    monkeypatch.setattr(cli.serialization, "check_writable", lambda path: (events.append("probe"), probe(path)))

    def load(*args, **kwargs):
        events.append("data")
        raise WorkStarted
    monkeypatch.setattr(cli, "load_dataset", load)
    with pytest.raises(WorkStarted):
        run("train", "--save", str(tmp_path / "run.npz"))
    assert events == ["probe", "data"] and os.listdir(tmp_path) == []  # the probe removed its file


@pytest.mark.parametrize("make,message", [
    (lambda p: None, "{p} does not exist; give a checkpoint written by `minigrad train --save`"),
    (lambda p: p.mkdir(), "{p} is a folder; give a checkpoint"),
    (lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "mg.load: {p} is not a readable .npz file"),
    (lambda p: mg.save({"config": {}, "model": {}}, p), "{p} is damaged: it has no optimizer, scheduler, rng, history"),
])
def test_a_bad_resume_file_is_refused(tmp_path, capsys, no_work, make, message):
    path = tmp_path / "run.npz"
    make(path)
    assert refused(capsys, "train", "--resume", str(path)).startswith(
        "minigrad train: error: argument --resume: " + message.format(p=path))


@pytest.mark.parametrize("key,value,message", [("lr", float("nan"), "its lr 'nan' is not a finite number > 0"),
                                               ("batch_size", 0, "its batch_size '0' is not a positive integer"),
                                               ("model", "resnet", "its model 'resnet' is not one of mlp, "),
                                               ("epoch", -2, "its epoch '-2' is not an integer >= 0")])
def test_a_damaged_checkpoint_is_refused_before_any_work(tmp_path, capsys, no_work, key, value, message):
    config = {"dataset": "digits", "model": "mlp", "batch_size": 100, "lr": 0.01, "seed": 0, "epochs": 2}
    ckpt = {"model": {}, "optimizer": {}, "scheduler": {}, "rng": {}, "history": {}, "epoch": 1, "config": config}
    (config if key in config else ckpt)[key] = value
    mg.save(ckpt, tmp_path / "run.npz")
    line = refused(capsys, "train", "--resume", str(tmp_path / "run.npz"))
    assert line.startswith(f"minigrad train: error: argument --resume: {tmp_path / 'run.npz'} is damaged: {message}")


def test_resume_without_save_saves_back_and_says_so(tmp_path):
    path = tmp_path / "run.npz"
    assert run("train", "--epochs", "1", "--no-progress", "--save", str(path))[0] == 0
    code, out = run("train", "--resume", str(path), "--epochs", "2", "--no-progress")
    assert code == 0 and f"note: no --save given; checkpoints go back to {path}" in out and "epoch 2/2" in out
    ckpt = mg.load(path)
    assert ckpt["epoch"] == 2 and len(ckpt["history"]["loss"]) == 2


def test_resume_without_save_where_it_cannot_save_back_is_refused(tmp_path, capsys, monkeypatch):
    path = tmp_path / "run.npz"
    assert run("train", "--epochs", "1", "--no-progress", "--save", str(path))[0] == 0
    capsys.readouterr()
    before = path.read_bytes()
    real_open = os.open

    def read_only(p, flags, *args):
        if os.path.dirname(p) == str(tmp_path) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", p)
        return real_open(p, flags, *args)
    monkeypatch.setattr(os, "open", read_only)
    monkeypatch.setattr(cli, "load_dataset", lambda *a, **k: pytest.fail("work started"))
    line = refused(capsys, "train", "--resume", str(path), "--epochs", "2")
    assert line == (f"minigrad train: error: argument --resume: cannot create a file next to {path} "
                    "(Permission denied); choose another path")
    assert path.read_bytes() == before


def test_data_dir_that_is_a_file_is_refused(tmp_path, capsys, no_work):
    (tmp_path / "mnist").write_text("")
    line = refused(capsys, "train", "--dataset", "mnist", "--data-dir", str(tmp_path / "mnist"))
    assert line.startswith(f"minigrad train: error: argument --data-dir: {tmp_path / 'mnist'} is a file")


def test_demo_plot_path_is_checked_before_training(tmp_path, capsys, no_work):
    line = refused(capsys, "demo", "--plot", str(tmp_path))
    assert line.startswith(f"minigrad demo: error: argument --plot: {tmp_path} is a folder")


def test_help_and_unknown_commands_return_their_exit_status(capsys):
    assert run("--help")[0] == 0 and "train" in capsys.readouterr().out
    assert refused(capsys, "fly") == "minigrad: error: argument command: invalid choice: 'fly' (choose from " \
                                    "'demo', 'train', 'course')"
