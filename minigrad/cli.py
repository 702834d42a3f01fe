"""`python -m minigrad` (or the `minigrad` command): the demo and the training job.

    python -m minigrad demo                      # float MLP vs binary MLP on the bundled digits
    python -m minigrad train --model bnn-mlp --dataset mnist --data-dir ~/mnist --epochs 10 --save run.npz
    python -m minigrad train --resume run.npz --epochs 20      # continue where run.npz stopped
    python -m minigrad train --model bitnet-transformer --task sort   # a ternary transformer sorts digits
    python -m minigrad course build OUT --tasks 1.1-1.6,2.*     # a graded assignment (see minigrad.course)

The demo and `train` share one loop (`fit`): Adam with cosine decay, cross-entropy, a progress bar per
epoch (tqdm when installed, else a one-line display), and after each epoch the loss, accuracies and
time. `--save` writes an atomic checkpoint after every epoch; `--resume` continues bit-identically (and
saves back to the file it resumed unless `--save` says elsewhere).

Every argument is checked before any work starts; a bad one gets one line naming the flag, e.g.
`minigrad train: error: argument --lr: 'nan' is not a finite number > 0 (e.g. 0.01)`, and exit status 2.
"""
import argparse
import importlib.util
import math
import os
import sys
import time

import numpy as np

from . import data, nn, optim, serialization
from .autograd import no_grad
from .nn import functional as F
from .tensor import Tensor, manual_seed
from .trace import human

DATASETS = ("digits", "mnist", "fashion-mnist")
SEQUENCE_MODELS = ("tiny-transformer", "bitnet-transformer")  # minigrad.models.RECIPES: trained on a --task
TASKS = ("sort", "add")  # minigrad.data.sequences, generated from the seed
MODELS = ("mlp", "bnn-mlp", "cnn", "binary-cnn") + SEQUENCE_MODELS


# ---- arguments ------------------------------------------------------------------------------------
class UsageError(Exception):
    """A bad argument found after parsing (a path, a checkpoint): reported as argparse does, exit status 2."""

    def __init__(self, flag, message):
        super().__init__(f"argument {flag}: {message}")


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (`minigrad train: error: argument --epochs: ...`), exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _checked(convert, ok, rule):
    """An argparse type: `convert` the text, then refuse a value that breaks `rule` (argparse names the flag)."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {rule}")
        return value
    return parse


POSITIVE_INT = _checked(int, lambda n: n >= 1, "a positive integer (e.g. 10)")
SEED = COUNT = _checked(int, lambda n: n >= 0, "an integer >= 0 (e.g. 0)")
LEARNING_RATE = _checked(float, lambda x: math.isfinite(x) and x > 0, "a finite number > 0 (e.g. 0.01)")
CONFIG_TYPES = {"dataset": _checked(str, (DATASETS + TASKS).__contains__, f"one of {', '.join(DATASETS + TASKS)}"),
                "model": _checked(str, MODELS.__contains__, f"one of {', '.join(MODELS)}"),
                "batch_size": POSITIVE_INT, "lr": LEARNING_RATE, "seed": SEED, "epochs": POSITIVE_INT}


def check_writable(flag, path):
    """Refuse a path a file cannot be saved to, before any work: a folder, or a place where a temporary
    file cannot be created (and removed) next to it. Makes the path's folder (as --save always has)."""
    if os.path.isdir(path):
        raise UsageError(flag, f"{path} is a folder; give a file name in it, e.g. {os.path.join(path, 'run.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise UsageError(flag, f"cannot create the folder {folder} for {path} ({e.strerror}: {e.filename}); "
                               "choose another path") from None
    try:
        serialization.check_writable(path)
    except OSError as e:
        raise UsageError(flag, f"cannot create a file next to {path} ({e.strerror or e}); "
                               "choose another path") from None


def read_checkpoint(path):
    """The checkpoint `train --save` wrote at `path`, with its config checked as the flags are."""
    if not os.path.isfile(path):
        raise UsageError("--resume", f"{path} " + ("is a folder" if os.path.isdir(path) else "does not exist")
                         + "; give a checkpoint written by `minigrad train --save`")
    try:
        checkpoint = serialization.load(path)
    except (OSError, ValueError) as e:
        raise UsageError("--resume", str(e)) from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("config"), dict):
        raise UsageError("--resume", f"{path} is not a checkpoint written by `minigrad train --save`")
    missing = [k for k in ("model", "optimizer", "scheduler", "rng", "history") if k not in checkpoint]
    if missing:
        raise UsageError("--resume", f"{path} is damaged: it has no {', '.join(missing)}")
    checks = [(checkpoint["config"], key, parse) for key, parse in CONFIG_TYPES.items()]
    for holder, key, parse in checks + [(checkpoint, "epoch", COUNT)]:
        try:
            holder[key] = parse(str(holder.get(key)))
        except argparse.ArgumentTypeError as e:
            raise UsageError("--resume", f"{path} is damaged: its {key} {e}") from None
    return checkpoint


# ---- models ---------------------------------------------------------------------------------------
def mlp(in_features, hidden=(256, 256), classes=10, dropout=0.2):
    """Float MLP: [Linear, BatchNorm1d, ReLU, Dropout] per hidden layer, then Linear."""
    layers, width = [], in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        width = h
    return nn.Sequential(*layers, nn.Linear(width, classes))


def bnn_mlp(in_features, hidden=(1024, 1024, 1024), classes=10):
    """The BNN MLP of Hubara et al. (2016): every Linear binary (sign of latent weights clipped to
    [-1, 1]), batch norm after each, sign activations with the hardtanh STE; the first layer sees the
    real-valued input, so only the layers after a Sign multiply +-1 by +-1 (BOPs)."""
    layers, width = [], in_features
    for h in hidden:
        layers += [nn.BinaryLinear(width, h), nn.BatchNorm1d(h), nn.Sign()]
        width = h
    return nn.Sequential(*layers, nn.BinaryLinear(width, classes), nn.BatchNorm1d(classes))


def _conv_net(side, binary, classes=10):
    """A small LeNet-style network (three 3x3 conv blocks, two 2x2 max pools, two dense layers) and its
    binary twin: the same shapes with binary convolutions and Linear after the first conv, batch norm
    before each Sign, and the padding filled with +1 so that every binary product is +-1 (BOPs)."""
    act = nn.Sign if binary else nn.ReLU
    conv = (lambda i, o: nn.BinaryConv2d(i, o, 3, padding=1, pad_value=1.0)) if binary else \
        (lambda i, o: nn.Conv2d(i, o, 3, padding=1))
    dense = nn.BinaryLinear if binary else nn.Linear
    flat = 64 * (side // 4) ** 2
    layers = [nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), act(),
              conv(16, 32), nn.MaxPool2d(2), nn.BatchNorm2d(32), act(),
              conv(32, 64), nn.MaxPool2d(2), nn.BatchNorm2d(64), act(),
              nn.Flatten(), dense(flat, 128), nn.BatchNorm1d(128), act(),
              dense(128, classes)]
    return nn.Sequential(*layers, nn.BatchNorm1d(classes)) if binary else nn.Sequential(*layers)


def build_model(name, in_features):
    """One of MODELS for inputs of `in_features` pixels (a square image)."""
    side = math.isqrt(in_features)
    if name == "mlp":
        return mlp(in_features)
    if name == "bnn-mlp":
        return bnn_mlp(in_features)
    if name in ("cnn", "binary-cnn"):
        if side * side != in_features:
            raise ValueError(f"model {name}: needs square images, got {in_features} features")
        return _conv_net(side, binary=name == "binary-cnn")
    raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")


def wants_images(model_name):
    return model_name in ("cnn", "binary-cnn")


def load_dataset(name, data_dir=None, images=False):
    """digits, mnist or fashion-mnist as a Dataset; images=True gives X the shape (N, 1, side, side)."""
    if name == "digits":
        d = data.load_digits()
    elif name == "mnist":
        d = data.load_mnist(data_dir)
    elif name == "fashion-mnist":
        d = data.load_fashion_mnist(data_dir)
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if images:
        side = math.isqrt(d.X_train.shape[1])
        d = data.Dataset(d.X_train.reshape(-1, 1, side, side), d.y_train, d.X_test.reshape(-1, 1, side, side),
                         d.y_test)
    return d


# ---- progress -----------------------------------------------------------------------------------
class Progress:
    """A progress bar: tqdm when installed, else one line rewritten in place (only on a terminal;
    elsewhere just the final state, so logs stay short)."""

    def __init__(self, total, desc, stream=None, width=24, use_tqdm=None):
        self.total, self.desc, self.n, self.postfix, self.width = total, desc, 0, "", width
        self.stream = stream or sys.stderr
        self.bar = None
        if use_tqdm is not False:
            try:
                from tqdm import tqdm
            except ImportError:
                if use_tqdm:
                    raise ImportError("the tqdm progress bar needs tqdm: pip install tqdm") from None
            else:
                self.bar = tqdm(total=total, desc=desc, file=self.stream, leave=False, dynamic_ncols=True)
        self.live = self.bar is None and getattr(self.stream, "isatty", lambda: False)()

    def update(self, postfix=""):
        self.n += 1
        self.postfix = postfix
        if self.bar is not None:
            self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.update(1)
        elif self.live:
            self._draw()

    def _draw(self):
        done = int(self.width * self.n / max(self.total, 1))
        bar = "#" * done + "." * (self.width - done)
        self.stream.write(f"\r{self.desc} [{bar}] {self.n}/{self.total} {self.postfix}")
        self.stream.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.live:
            self.stream.write("\r" + " " * (len(self.desc) + self.width + 40 + len(self.postfix)) + "\r")
            self.stream.flush()


# ---- training ------------------------------------------------------------------------------------
def accuracy(model, X, y, batch_size=500):
    """Fraction of correct predictions, in eval mode, without recording a graph."""
    model.eval()
    correct = 0
    with no_grad():
        for start in range(0, len(X), batch_size):
            logits = model(Tensor(X[start:start + batch_size]))
            correct += int((logits.data.argmax(axis=1) == y[start:start + batch_size]).sum())
    return correct / len(X)


def make_optimizer(model, lr, epochs):
    """Adam with cosine decay to zero over `epochs` (the BNN recipe of Hubara et al., also used for the
    float models)."""
    opt = optim.Adam(model.parameters(), lr=lr)
    return opt, optim.CosineAnnealingLR(opt, T_max=epochs)


def fit(model, dataset, epochs, batch_size=100, lr=1e-2, name="model", start_epoch=0, opt=None, sched=None,
        history=None, on_epoch=None, out=None, progress=True):
    """Train `model` with Adam + cosine decay and cross-entropy; returns the history (a dict of lists).

    Shuffling, initialisation and dropout all draw from the generator of `mg.manual_seed`, so the same
    seed gives the same run, and a checkpoint (which stores that generator) resumes it exactly.
    on_epoch(epoch, model, opt, sched, history) is called after each epoch (checkpointing)."""
    def objective(logits, yb):
        return F.cross_entropy(logits, yb), int((logits.data.argmax(axis=1) == yb.data).sum())
    loader = data.DataLoader(dataset.X_train, dataset.y_train, batch_size, shuffle=True)
    return train_epochs(model, loader, objective, lambda: accuracy(model, dataset.X_test, dataset.y_test), epochs,
                        lr, name, start_epoch, opt, sched, history, on_epoch, out, progress)


def train_epochs(model, loader, objective, evaluate, epochs, lr, name, start_epoch, opt, sched, history, on_epoch,
                 out, progress):
    """The epoch loop of `fit` and `fit_sequences`: objective(logits, targets) gives the batch's loss and how many
    of its examples are right, evaluate() the test accuracy; each epoch prints and records (history) the loss,
    train and test accuracy, wall and CPU time, then calls on_epoch."""
    out = out or sys.stdout
    if opt is None:
        opt, sched = make_optimizer(model, lr, epochs)
    history = history or {"loss": [], "train_acc": [], "test_acc": [], "time": [], "cpu_time": []}
    for epoch in range(start_epoch, epochs):
        start, cpu = time.perf_counter(), time.process_time()
        model.train()
        bar = Progress(len(loader), f"{name} {epoch + 1}/{epochs}") if progress else None
        total_loss, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            opt.zero_grad()
            loss, right = objective(model(xb), yb)
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(yb)
            correct += right
            seen += len(yb)
            if bar:
                bar.update(f"loss {total_loss / seen:.4f}")
        if bar:
            bar.close()
        sched.step()
        test_acc = evaluate()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        for key, value in (("loss", total_loss / seen), ("train_acc", correct / seen), ("test_acc", test_acc),
                           ("time", elapsed), ("cpu_time", cpu)):
            history.setdefault(key, []).append(value)
        print(f"{name}  epoch {epoch + 1:>{len(str(epochs))}}/{epochs}  loss {total_loss / seen:.4f}  "
              f"train acc {100 * correct / seen:6.2f}%  test acc {100 * test_acc:6.2f}%  {elapsed:5.2f}s",
              file=out, flush=True)
        if on_epoch is not None:
            on_epoch(epoch + 1, model, opt, sched, history)
    return history


# ---- what a model costs --------------------------------------------------------------------------
def costs(model, example):
    """What a model costs, from the efficiency report `mg.profile` (forward pass in eval mode, per sample):
    parameter count and size at real precision (Parameter.bits: 1 per binarized weight), FLOPs / MACs /
    BOPs, and the hardware-dependent estimates and measurements on this machine."""
    from .profile import profile
    model.eval()
    t = profile(model, Tensor(example), backward=False).totals
    n = len(example)
    return {"parameters": t["params"], "size_bytes": t["param_bytes"], "float32_bytes": t["param_bytes_float32"],
            "flops": t["flops_forward"] / n, "macs": t["macs_forward"] / n, "bops": t["bops_forward"] / n,
            "peak_activation_bytes": t["peak_activation_bytes"], "intensity": t["intensity"],
            "est_latency_s": t["est_latency_forward_s"], "energy_j": t["est_energy_forward_j"] / n,
            "latency_s": t["measured_latency_s"], "throughput": t["throughput"]}


def comparison_table(columns):
    """Text table: one column per model, rows = accuracy and costs. columns: {name: {metric: value}}."""
    rows = [("test accuracy", lambda c: f"{100 * c['test_acc']:.2f}%"),
            ("training time", lambda c: f"{c['train_time']:.1f} s"),
            ("parameters", lambda c: f"{c['parameters']:,}"),
            ("parameter size", lambda c: human(c["size_bytes"], "B")),
            ("  (as float32)", lambda c: human(c["float32_bytes"], "B")),
            ("FLOPs / sample", lambda c: human(c["flops"])),
            ("MACs / sample", lambda c: human(c["macs"])),
            ("BOPs / sample", lambda c: human(c["bops"])),
            ("OPs = BOPs/64 + FLOPs", lambda c: human(c["bops"] / 64 + c["flops"])),
            ("peak activation memory", lambda c: human(c["peak_activation_bytes"], "B")),
            ("arithmetic intensity", lambda c: f"{c['intensity']:.1f} FLOP/B"),
            ("latency, roofline est. *", lambda c: f"{1e3 * c['est_latency_s']:.3f} ms"),
            ("latency, measured *", lambda c: f"{1e3 * c['latency_s']:.3f} ms"),
            ("throughput, measured *", lambda c: f"{c['throughput']:,.0f} /s"),
            ("energy / sample, est. *", lambda c: f"{c['energy_j'] * 1e6:.3f} uJ")]
    names = list(columns)
    cells = [[label] + [fmt(columns[n]) for n in names] for label, fmt in rows]
    widths = [max(len(r[i]) for r in cells + [[""] + names]) for i in range(len(names) + 1)]
    line = lambda r: "  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])])  # noqa
    return "\n".join([line([""] + names)] + [line(r) for r in cells])


def plot_curves(histories, path):
    """Save training curves (loss and test accuracy per epoch) as a PNG; returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    for name, h in histories.items():
        epochs = np.arange(1, len(h["loss"]) + 1)
        ax_loss.plot(epochs, h["loss"], label=name)
        ax_acc.plot(epochs, 100 * np.asarray(h["test_acc"]), label=name)
    ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


# ---- commands -------------------------------------------------------------------------------------
def cmd_demo(args, out):
    if args.plot:
        check_writable("--plot", args.plot)
    dataset = data.load_digits()
    print(f"digits: {len(dataset.X_train)} training and {len(dataset.X_test)} test images of 8x8 pixels "
          "(UCI, CC BY 4.0)", file=out)
    specs = {"float MLP": lambda: mlp(64, (256, 256)), "binary MLP": lambda: bnn_mlp(64, (256, 256))}
    histories, columns, n_example = {}, {}, 100
    for name, build in specs.items():
        manual_seed(args.seed)
        model = build()
        start = time.perf_counter()
        histories[name] = fit(model, dataset, args.epochs, args.batch_size, args.lr, name=name, out=out,
                              progress=not args.no_progress)
        columns[name] = {"test_acc": histories[name]["test_acc"][-1], "train_time": time.perf_counter() - start,
                         **costs(model, dataset.X_test[:n_example])}
    print("", file=out)
    print(comparison_table(columns), file=out)
    print("parameter size counts 1 bit per binarized weight and 32 bits per float; FLOPs/MACs/BOPs are the "
          "forward pass\nof one sample in eval mode, counted by mg.trace (a BOP is one XNOR-popcount "
          "multiply-add of +-1 values).\n* depends on the hardware: latency and throughput for a batch of "
          f"{n_example} on this machine; energy from Horowitz\n  (ISSCC 2014, 45 nm). The rest depends only on "
          "the model. Details: mg.profile(model, x).", file=out)
    if args.plot and plot_curves(histories, args.plot):
        print(f"training curves: {args.plot}", file=out)
    return 0


def cmd_train(args, out):
    if _trains_sequences(args):
        return cmd_train_sequences(args, out)
    if args.data_dir and os.path.exists(args.data_dir) and not os.path.isdir(args.data_dir):
        raise UsageError("--data-dir", f"{args.data_dir} is a file; give the folder that holds (or will hold) the "
                                       "IDX files")
    checkpoint = None
    if args.resume:
        checkpoint = read_checkpoint(args.resume)
        config = checkpoint["config"]
        if args.epochs is None:
            args.epochs = config["epochs"]  # finish the interrupted run
        for key in ("dataset", "model", "batch_size", "lr", "seed"):
            if getattr(args, key) is not None and getattr(args, key) != config[key]:
                print(f"note: --{key.replace('_', '-')} {getattr(args, key)} ignored; resuming with "
                      f"{config[key]} from {args.resume}", file=out)
            setattr(args, key, config[key])
    defaults = {"dataset": "digits", "model": "mlp", "batch_size": 100, "lr": 1e-2, "seed": 0, "epochs": 10}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    save_flag = "--save"
    if args.resume and not args.save:  # a resumed run never trains into nothing: it saves back
        args.save, save_flag = args.resume, "--resume"
    if args.save:  # `--save runs/bnn.npz` makes runs/ first, so a long run cannot fail at its first checkpoint
        check_writable(save_flag, args.save)
    if save_flag == "--resume":
        print(f"note: no --save given; checkpoints go back to {args.resume}", file=out)
    dataset = load_dataset(args.dataset, args.data_dir, images=wants_images(args.model))
    manual_seed(args.seed)
    model = build_model(args.model, int(np.prod(dataset.X_train.shape[1:])))
    opt, sched = make_optimizer(model, args.lr, args.epochs)
    config = {k: getattr(args, k) for k in ("dataset", "model", "batch_size", "lr", "seed")}
    config["epochs"] = args.epochs
    start_epoch, history = 0, None
    if checkpoint is not None:
        serialization.load_checkpoint(args.resume, model, opt, sched)
        start_epoch, history = checkpoint["epoch"], checkpoint["history"]
        if checkpoint["config"]["epochs"] != args.epochs:  # a longer (or shorter) run: keep the cosine's length
            print(f"note: the schedule keeps T_max = {sched.T_max} epochs from {args.resume}", file=out)
        print(f"resumed {args.resume} after epoch {start_epoch}", file=out)
        if start_epoch >= args.epochs:
            print(f"nothing to do: {start_epoch} epochs already done; pass a larger --epochs", file=out)
    print(f"{args.model} on {args.dataset}: {len(dataset.X_train)} train / {len(dataset.X_test)} test, "
          f"{sum(p.data.size for p in model.parameters()):,} parameters, Adam lr {args.lr} + cosine, "
          f"batch {args.batch_size}, seed {args.seed}", file=out)

    def save(epoch, model, opt, sched, history):
        if args.save:
            serialization.save_checkpoint(args.save, model, opt, sched, epoch=epoch, history=history, config=config)

    history = fit(model, dataset, args.epochs, args.batch_size, args.lr, name=args.model, start_epoch=start_epoch,
                  opt=opt, sched=sched, history=history, on_epoch=save, out=out, progress=not args.no_progress)
    if args.save:
        print(f"checkpoint: {args.save}", file=out)
    return 0


# ---- sequence models (issue 14): a transformer on a generated task -----------------------------------
def _trains_sequences(args):
    """True when the run is a sequence model on a --task (asked for, or the resumed checkpoint's)."""
    if args.task is not None or args.model in SEQUENCE_MODELS:
        return True
    if args.resume and args.model is None and os.path.isfile(args.resume):
        try:
            config = serialization.load(args.resume).get("config", {})
        except (OSError, ValueError, AttributeError):
            return False  # cmd_train reports the damaged file
        return config.get("model") in SEQUENCE_MODELS
    return False


def fit_sequences(model, task, epochs, batch_size=64, lr=1e-3, name="model", start_epoch=0, opt=None, sched=None,
                  history=None, on_epoch=None, out=None, progress=True):
    """Train a next-token model on a `minigrad.data.sequences` task (Adam + cosine decay per epoch, cross-entropy on
    the answer's tokens); returns the history. Printed per epoch as `fit` prints: the loss; train acc, the answers
    right in every token when each is predicted from the true prefix (teacher forcing), on the training batches;
    test acc, the exact-sequence accuracy of answers generated greedily for the held-out prompts."""
    from .models import sequence_accuracy, sequence_loss

    def objective(logits, yb):
        answer = yb.data != -1
        right = (logits.data.argmax(axis=-1) == yb.data) | ~answer
        return sequence_loss(logits, yb), int(right.all(axis=1).sum())
    loader = data.DataLoader(task.X_train, task.Y_train, batch_size, shuffle=True)
    return train_epochs(model, loader, objective, lambda: sequence_accuracy(model, task), epochs, lr, name,
                        start_epoch, opt, sched, history, on_epoch, out, progress)


def cmd_train_sequences(args, out):
    """`train --model tiny-transformer|bitnet-transformer --task sort|add`: as `train`, on a generated task."""
    from . import models
    from .data.sequences import load_task
    from .profile import blas_threads_limited
    if args.dataset is not None:
        raise UsageError("--dataset", f"{args.model or 'a sequence model'} trains on a generated --task "
                                      f"({', '.join(TASKS)}), not on a dataset; leave --dataset out")
    if args.data_dir is not None:
        raise UsageError("--data-dir", "a generated --task needs no data folder; leave --data-dir out")
    if args.model is not None and args.model not in SEQUENCE_MODELS:
        raise UsageError("--task", f"--task trains the sequence models ({', '.join(SEQUENCE_MODELS)}), not "
                                   f"{args.model}; use --dataset for it")
    checkpoint = None
    if args.resume:
        checkpoint = read_checkpoint(args.resume)
        config = checkpoint["config"]
        if args.epochs is None:
            args.epochs = config["epochs"]
        args.dataset, args.task = None, args.task or config["dataset"]
        for key, flag in (("task", "dataset"), ("model", "model"), ("batch_size", "batch_size"), ("lr", "lr"),
                          ("seed", "seed")):
            if getattr(args, key) is not None and getattr(args, key) != config[flag]:
                print(f"note: --{key.replace('_', '-')} {getattr(args, key)} ignored; resuming with "
                      f"{config[flag]} from {args.resume}", file=out)
            setattr(args, key, config[flag])
    args.model = args.model or SEQUENCE_MODELS[0]
    args.task = args.task or TASKS[0]
    defaults = dict(models.RECIPES[args.model][1], seed=0)
    defaults["epochs"] = TASK_EPOCHS[args.task]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    save_flag = "--save"
    if args.resume and not args.save:
        args.save, save_flag = args.resume, "--resume"
    if args.save:
        check_writable(save_flag, args.save)
    if save_flag == "--resume":
        print(f"note: no --save given; checkpoints go back to {args.resume}", file=out)
    manual_seed(args.seed)
    task = load_task(args.task, seed=args.seed)
    model = models.build(args.model, task)
    opt, sched = make_optimizer(model, args.lr, args.epochs)
    config = {"dataset": args.task, "model": args.model, "batch_size": args.batch_size, "lr": args.lr,
              "seed": args.seed, "epochs": args.epochs}
    start_epoch, history = 0, None
    if checkpoint is not None:
        serialization.load_checkpoint(args.resume, model, opt, sched)
        start_epoch, history = checkpoint["epoch"], checkpoint["history"]
        if checkpoint["config"]["epochs"] != args.epochs:
            print(f"note: the schedule keeps T_max = {sched.T_max} epochs from {args.resume}", file=out)
        print(f"resumed {args.resume} after epoch {start_epoch}", file=out)
        if start_epoch >= args.epochs:
            print(f"nothing to do: {start_epoch} epochs already done; pass a larger --epochs", file=out)
    print(f"{args.model} on {args.task}: {len(task.X_train)} train / {len(task.X_test)} held-out sequences "
          f"(prompt {task.prompt_length}, answer {task.answer_length} tokens), "
          f"{sum(p.data.size for p in model.parameters()):,} parameters, Adam lr {args.lr} + cosine, "
          f"batch {args.batch_size}, seed {args.seed}", file=out)
    print("(train acc: answers right in every token from the true prefix; test acc: answers generated greedily "
          "and right in every token, on the held-out prompts)", file=out)

    def save(epoch, model, opt, sched, history):
        if args.save:
            serialization.save_checkpoint(args.save, model, opt, sched, epoch=epoch, history=history, config=config)

    wall, cpu = time.perf_counter(), time.process_time()
    # one BLAS thread: these matrices are small, and threads that wait for each other on a busy machine cost
    # several times the work (a sort epoch: 20 s with one thread, 2 minutes with two on a loaded 2-core machine)
    with blas_threads_limited(1):
        history = fit_sequences(model, task, args.epochs, args.batch_size, args.lr, name=args.model,
                                start_epoch=start_epoch, opt=opt, sched=sched, history=history, on_epoch=save,
                                out=out, progress=not args.no_progress)
    if start_epoch < args.epochs:
        print(f"trained in {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU "
              "(1 BLAS thread)", file=out)
    if args.save:
        print(f"checkpoint: {args.save}", file=out)
    return 0


TASK_EPOCHS = {"sort": 6, "add": 10}  # the default epochs of each task (with the recipes' batch size)


def build_parser():
    parser = _Parser(prog="minigrad", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train a float and a binary MLP on the bundled digits and compare them")
    demo.add_argument("--epochs", type=POSITIVE_INT, default=20)
    demo.add_argument("--batch-size", type=POSITIVE_INT, default=32)
    demo.add_argument("--lr", type=LEARNING_RATE, default=1e-2)
    demo.add_argument("--seed", type=SEED, default=0)
    demo.add_argument("--plot", default="minigrad-demo.png", help="PNG of the training curves ('' for none)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(run=cmd_demo)

    train = sub.add_parser("train", help="train one model, with checkpoints")
    train.add_argument("--dataset", choices=DATASETS, default=None, help="default: digits (bundled)")
    train.add_argument("--data-dir", default=None, help="folder with the four IDX files (mnist, fashion-mnist); "
                                                        "downloaded there when missing")
    train.add_argument("--model", choices=MODELS, default=None, help="default: mlp (tiny-transformer with --task)")
    train.add_argument("--task", choices=TASKS, default=None,
                       help="a generated sequence task for the transformers (default: sort; no download)")
    train.add_argument("--epochs", type=POSITIVE_INT, default=None, help="default: 10, or the resumed run's")
    train.add_argument("--batch-size", type=POSITIVE_INT, default=None, help="default: 100")
    train.add_argument("--lr", type=LEARNING_RATE, default=None,
                       help="Adam's initial lr, decayed by a cosine (default 1e-2)")
    train.add_argument("--seed", type=SEED, default=None, help="default: 0")
    train.add_argument("--save", default=None, help="checkpoint written (atomically) after every epoch")
    train.add_argument("--resume", default=None, help="continue from this checkpoint (and save back to it "
                                                      "unless --save is given)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)

    course = sub.add_parser("course", help="course mode: build a graded assignment from the marked tasks, grade it")
    tools = importlib.util.find_spec("minigrad.course")
    here = os.path.dirname(os.path.abspath(__file__))
    if tools is None or not tools.origin or not os.path.abspath(tools.origin).startswith(here):
        course.add_argument("words", nargs=argparse.REMAINDER)  # a student copy holds no course tools
        course.set_defaults(run=lambda args, out: _no_course())
    else:
        from .course.cli import add_arguments
        add_arguments(course)
    return parser


def _no_course():
    print("minigrad course: this copy has no course tools (they stay with the instructor); test your tasks with "
          "`python -m pytest tests/tasks`", file=sys.stderr)
    return 2


def main(argv=None, out=None):
    """Entry point of `python -m minigrad` and of the `minigrad` console script; returns the exit code:
    0, 2 for a bad argument (one line on stderr, before any work), 1 for an error while working."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed its one line (or the help)
        return e.code
    out = out or sys.stdout
    try:
        return args.run(args, out)
    except UsageError as e:
        print(f"minigrad {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError, ValueError) as e:
        print(f"minigrad {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
