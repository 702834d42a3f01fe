"""The ready recipes (minigrad.models) and the generated tasks they train on (minigrad.data.sequences): the tasks are
what they say (sorted answers, sums, held out), the transformer is causal, its BitNet twin differs only in its linear
layers, both learn a small sort, and `python -m minigrad train --model ... --task ...` trains, checkpoints and resumes
bit-identically."""
import functools
import io
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import cli, models, nn
from minigrad.nn import functional as F
from minigrad.data import sequences
from minigrad.data.sequences import IGNORE, addition_task, load_task, sort_task


# ---- tasks ------------------------------------------------------------------------------------------------
def test_sort_task_answers_are_the_sorted_prompts_and_the_test_set_is_held_out():
    task = sort_task(length=5, digits=7, n_train=2000, n_test=300, seed=3)
    assert task.vocab_size == 7 and task.prompt_length == task.answer_length == 5 and task.block_size == 9
    assert task.X_train.shape == task.Y_train.shape == (2000, 9) and task.X_test.shape == (300, 9)
    for X, Y in ((task.X_train, task.Y_train), (task.X_test, task.Y_test)):
        prompts = X[:, :5]
        np.testing.assert_array_equal(Y[:, -5:], np.sort(prompts, axis=1))
        assert (Y[:, :4] == IGNORE).all() and (Y[:, 4:] >= 0).all()
        np.testing.assert_array_equal(X[:, 1:], np.where(Y[:, :-1] == IGNORE, X[:, 1:], Y[:, :-1]))
    test = {tuple(p) for p in task.prompts("test")}
    assert len(test) == 300 and not test & {tuple(p) for p in task.prompts("train")}
    again = sort_task(length=5, digits=7, n_train=2000, n_test=300, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(task[4:], again[4:]))
    assert not np.array_equal(sort_task(length=5, digits=7, n_train=2000, n_test=300, seed=4).X_test, task.X_test)


def test_addition_task_answers_are_the_reversed_sums():
    task = addition_task(digits=2, n_test=500, seed=0)
    assert task.prompt_length == 4 and task.answer_length == 3 and len(task.X_train) == 9500
    p, a = task.prompts("test"), task.answers("test")
    x, y = p[:, 0] * 10 + p[:, 1], p[:, 2] * 10 + p[:, 3]
    np.testing.assert_array_equal(a[:, 0] + 10 * a[:, 1] + 100 * a[:, 2], x + y)
    every = {tuple(q) for q in np.concatenate([task.prompts("train"), p])}
    assert len(every) == 10000  # each pair once: the 500 held out and the 9500 others
    with pytest.raises(ValueError):
        sort_task(length=3, digits=2, n_test=8)
    with pytest.raises(ValueError):
        load_task("reverse")


# ---- the models -------------------------------------------------------------------------------------------------
def test_the_transformer_is_causal_and_the_twins_differ_only_in_their_linear_layers():
    task = sort_task(length=4, digits=5, n_train=100, n_test=10)
    mg.manual_seed(0)
    float_model, ternary = models.tiny_transformer(task), models.bitnet_transformer(task)
    assert [n for n, _ in float_model.named_parameters()] == [n for n, _ in ternary.named_parameters()]
    kinds = {n: type(m).__name__ for n, m in ternary.named_modules()}
    assert kinds["blocks.0.attn.qkv"] == kinds["blocks.1.mlp.2"] == "BitLinear"
    assert kinds["head"] == "Linear" and kinds["tok"] == kinds["pos"] == "Embedding"
    ternary_weights = [n for n, p in ternary.named_parameters() if isinstance(p, nn.TernaryParameter)]
    assert len(ternary_weights) == 8  # qkv, proj and two MLP layers in each of two blocks
    for model in (float_model, ternary, models.tiny_transformer(task, positions="sinusoidal")):
        model.eval()
        x = np.array([[1, 4, 0, 3, 0, 1, 3]])
        y = x.copy()
        y[0, 5:] = [2, 2]
        a, b = model(x), model(y)
        assert a.shape == (1, 7, 5)
        np.testing.assert_array_equal(a.numpy()[0, :5], b.numpy()[0, :5])  # the past does not see the future
        assert not np.allclose(a.numpy()[0, 5:], b.numpy()[0, 5:])
    with pytest.raises(ValueError):
        float_model(np.zeros((1, 8), np.int64))


def test_attention_maps_are_the_causal_softmax_the_layers_use():
    task = sort_task(length=4, digits=5, n_train=100, n_test=10)
    mg.manual_seed(0)
    model = models.bitnet_transformer(task, n_heads=2)
    idx = task.X_test[:3]
    maps = model.attention_maps(idx)
    assert len(maps) == 2 and maps[0].shape == (3, 2, 7, 7)
    for m in maps:
        np.testing.assert_allclose(m.sum(-1), 1, rtol=1e-6)
        assert not m[..., np.triu(np.ones((7, 7), bool), 1)].any()
    block = model.blocks[0]
    x = block.norm1(model.embed(idx))
    q, k, v = block.attn._heads(x)
    np.testing.assert_allclose((mg.tensor(maps[0]) @ v).numpy(),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy(), rtol=1e-5, atol=1e-6)


def _train(name, task, epochs, lr=3e-3):
    mg.manual_seed(0)
    model = models.build(name, task, d_model=32, n_layers=1, n_heads=2)
    opt = mg.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for xb, yb in mg.data.DataLoader(task.X_train, task.Y_train, 32, shuffle=True):
            opt.zero_grad()
            models.sequence_loss(model(xb), yb).backward()
            opt.step()
    return model


@pytest.mark.parametrize("name", ["tiny-transformer", "bitnet-transformer"])
def test_both_models_learn_to_sort_held_out_sequences(name):
    task = sort_task(length=4, digits=5, n_train=3000, n_test=100)
    model = _train(name, task, epochs=2)
    assert models.sequence_accuracy(model, task) >= 0.9
    generated = models.generate(model, task.prompts()[:5], task.answer_length)
    assert generated.shape == (5, 4) and model.training  # generation restores the training mode


def test_the_efficiency_report_compares_the_twins():
    task = sort_task(length=4, digits=5, n_train=100, n_test=10)
    mg.manual_seed(0)
    twins = [models.tiny_transformer(task), models.bitnet_transformer(task)]
    both = mg.profile(twins, task.X_test[:8], names=["float", "ternary"], measure=False, hardware="laptop-cpu")
    f, t = (r.totals for r in both.reports)
    assert f["params"] == t["params"] and t["param_bytes"] < f["param_bytes"] / 5
    assert f["ternary_adds_forward"] == 0 and t["ternary_adds_forward"] == f["macs_forward"] - t["macs_forward"]
    assert t["est_energy_forward_j"] < f["est_energy_forward_j"]


# ---- the command line ------------------------------------------------------------------------------------------
@pytest.fixture
def small_tasks(monkeypatch):
    """The CLI's tasks, made small enough for a test."""
    monkeypatch.setitem(sequences.TASKS, "sort", functools.partial(sort_task, length=4, digits=5, n_train=640,
                                                                    n_test=50))
    monkeypatch.setitem(sequences.TASKS, "add", functools.partial(addition_task, digits=1, n_test=20))


def run(*argv):
    out = io.StringIO()
    return cli.main(list(argv), out=out), out.getvalue()


def test_train_a_transformer_on_a_task_with_a_checkpoint(small_tasks, tmp_path):
    path = tmp_path / "tt.npz"
    code, out = run("train", "--model", "tiny-transformer", "--task", "sort", "--epochs", "2", "--no-progress",
                    "--save", str(path))
    assert code == 0, out
    lines = [line for line in out.splitlines() if re.match(r"tiny-transformer\s+epoch", line)]
    assert len(lines) == 2
    assert all(re.search(r"loss \d+\.\d{4}\s+train acc\s+[\d.]+%\s+test acc\s+[\d.]+%\s+[\d.]+s$", line)
               for line in lines)
    assert "50 held-out sequences" in out and re.search(r"trained in [\d.]+ s wall, [\d.]+ s CPU", out)
    checkpoint = mg.load(path)
    assert checkpoint["config"]["model"] == "tiny-transformer" and checkpoint["config"]["dataset"] == "sort"
    model = models.build("tiny-transformer", load_task("sort"))
    model.load_state_dict(checkpoint["model"])
    assert models.sequence_accuracy(model, load_task("sort")) == pytest.approx(checkpoint["history"]["test_acc"][-1])


def test_resume_continues_bit_identically(small_tasks, tmp_path, monkeypatch):
    argv = ["train", "--model", "bitnet-transformer", "--task", "add", "--epochs", "3", "--no-progress"]
    straight, partial = tmp_path / "straight.npz", tmp_path / "partial.npz"
    assert run(*argv, "--save", str(straight))[0] == 0

    class Stop(Exception):
        pass
    real = cli.serialization.save_checkpoint

    def save_then_stop(*args, **kwargs):  # the same run, killed after its first epoch
        real(*args, **kwargs)
        raise Stop
    monkeypatch.setattr(cli.serialization, "save_checkpoint", save_then_stop)
    with pytest.raises(Stop):
        run(*argv, "--save", str(partial))
    monkeypatch.setattr(cli.serialization, "save_checkpoint", real)
    code, out = run("train", "--resume", str(partial), "--no-progress")
    assert code == 0 and "resumed" in out and "epoch 2/3" in out and "epoch 1/3" not in out
    a, b = mg.load(straight), mg.load(partial)
    assert a["epoch"] == b["epoch"] == 3
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key], b["model"][key], err_msg=key)
    assert a["history"]["test_acc"] == b["history"]["test_acc"]


@pytest.mark.parametrize("argv, flag", [
    (("--model", "mlp", "--task", "sort"), "--task"),
    (("--model", "tiny-transformer", "--dataset", "digits"), "--dataset"),
    (("--task", "add", "--data-dir", "."), "--data-dir"),
])
def test_sequence_arguments_are_checked(argv, flag, capsys):
    code, _ = run("train", *argv, "--no-progress")
    assert code == 2 and f"argument {flag}" in capsys.readouterr().err


def test_the_task_defaults_to_sort(small_tasks):
    code, out = run("train", "--model", "bitnet-transformer", "--epochs", "1", "--no-progress")
    assert code == 0 and "bitnet-transformer on sort" in out and "lr 0.002" in out
