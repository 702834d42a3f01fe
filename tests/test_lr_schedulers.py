"""The schedulers added after the course's four (LambdaLR, MultiplicativeLR, LinearLR, SequentialLR, OneCycleLR,
ReduceLROnPlateau) against torch.optim.lr_scheduler: every lr (and the momentum / beta1 OneCycleLR cycles) over 25+
steps with two parameter groups, bit for bit (Python floats), chained with another scheduler, with an lr changed by
hand, after a state_dict round trip; their errors; and PyTorch's module path mg.optim.lr_scheduler."""
import math
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")


class Halving:
    """A callable object: its state (__dict__) is saved by LambdaLR's state_dict, as PyTorch's."""

    def __init__(self, every):
        self.every = every

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


def build(lib, make, opt_name="SGD", lr2=0.05, **opt_kw):
    """An optimizer of lib with two groups (lr 0.1 and lr2) and the scheduler make(lib, optimizer)."""
    p = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    opt = getattr(lib.optim, opt_name)([{"params": [p[0]]}, {"params": [p[1]], "lr": lr2}], lr=0.1, **opt_kw)
    return opt, make(lib, opt)


def trace(opt, sched, n, hand_at=None, metrics=None, keys=("lr",)):
    """After each of n steps: get_last_lr() and every group's values of `keys`."""
    out = []
    for i in range(n):
        if i == hand_at:
            opt.param_groups[0]["lr"] = 0.3
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        out.append(list(sched.get_last_lr()) + [g[k] for g in opt.param_groups for k in keys])
    return out


def L(lib):
    return lib.optim.lr_scheduler


CASES = {
    "LambdaLR": lambda lib, o: L(lib).LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR_list": lambda lib, o: L(lib).LambdaLR(o, [lambda e: 1 / (1 + e), Halving(4)]),
    "MultiplicativeLR": lambda lib, o: L(lib).MultiplicativeLR(o, lambda e: 0.9),
    "MultiplicativeLR_list": lambda lib, o: L(lib).MultiplicativeLR(o, (lambda e: 0.97, lambda e: 1 - 0.01 * e)),
    "LinearLR": lambda lib, o: L(lib).LinearLR(o),
    "LinearLR_decay": lambda lib, o: L(lib).LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=17),
    "LinearLR_zero_end": lambda lib, o: L(lib).LinearLR(o, start_factor=0.25, end_factor=0.0, total_iters=9),
    "SequentialLR": lambda lib, o: L(lib).SequentialLR(
        o, [L(lib).LinearLR(o, 0.1, total_iters=4), L(lib).CosineAnnealingLR(o, T_max=12, eta_min=1e-3),
            L(lib).ExponentialLR(o, 0.9)], milestones=[5, 15]),
    "SequentialLR_multiplicative": lambda lib, o: L(lib).SequentialLR(
        o, [L(lib).MultiplicativeLR(o, lambda e: 0.9), L(lib).StepLR(o, 3, 0.5)], milestones=[7]),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("hand_at", [None, 6])
def test_lrs_are_torchs_bit_for_bit(name, hand_at):
    ours = trace(*build(mg, CASES[name]), 30, hand_at)
    theirs = trace(*build(torch, CASES[name]), 30, hand_at)
    assert ours == theirs


@pytest.mark.parametrize("name", ["MultiplicativeLR", "LinearLR_decay", "LambdaLR"])
def test_chained_with_another_scheduler_as_torch(name):
    def two(lib, o):
        return CASES[name](lib, o), L(lib).StepLR(o, 4, gamma=0.5)
    results = []
    for lib in (mg, torch):
        opt, (a, b) = build(lib, two)
        out = []
        for _ in range(26):
            opt.step()
            a.step()
            b.step()
            out.append([g["lr"] for g in opt.param_groups] + a.get_last_lr() + b.get_last_lr())
        results.append(out)
    assert results[0] == results[1]


ONE_CYCLE = [dict(max_lr=1.0, total_steps=30), dict(max_lr=[0.5, 2.0], total_steps=30, anneal_strategy="linear"),
             dict(max_lr=0.8, epochs=5, steps_per_epoch=6, pct_start=0.25, three_phase=True),
             dict(max_lr=0.8, total_steps=31, three_phase=True, anneal_strategy="linear", div_factor=10.0,
                  final_div_factor=100.0, base_momentum=[0.8, 0.7], max_momentum=0.9),
             dict(max_lr=0.3, total_steps=29, cycle_momentum=False)]


@pytest.mark.parametrize("kw", ONE_CYCLE)
@pytest.mark.parametrize("opt_name,opt_kw,keys", [("SGD", {"momentum": 0.9}, ("lr", "momentum")),
                                                  ("Adam", {}, ("lr", "betas"))])
def test_one_cycle_lr_and_momentum_are_torchs_bit_for_bit(kw, opt_name, opt_kw, keys):
    def make(lib, o):
        return L(lib).OneCycleLR(o, **kw)
    steps = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    runs = []
    for lib in (mg, torch):
        opt, sched = build(lib, make, opt_name, **opt_kw)
        start = [[g[k] for k in keys] for g in opt.param_groups]
        runs.append((start, trace(opt, sched, steps, keys=keys)))
    assert runs[0] == runs[1]
    for lib in (mg, torch):  # one step too many: PyTorch's ValueError
        opt, sched = build(lib, make, opt_name, **opt_kw)
        trace(opt, sched, steps)
        with pytest.raises(ValueError, match="Tried to step"):
            sched.step()


PLATEAU = [dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.05),
           dict(patience=1, threshold_mode="abs", threshold=0.2, cooldown=2, min_lr=[0.01, 0.002]),
           dict(mode="max", threshold_mode="abs", patience=0, factor=0.3, min_lr=0.004, eps=1e-3)]


@pytest.mark.parametrize("kw", PLATEAU)
@pytest.mark.parametrize("hand_at", [None, 9])
def test_reduce_lr_on_plateau_is_torchs(kw, hand_at):
    rng = np.random.default_rng(3)
    metrics = list(1.0 + 0.1 * rng.standard_normal(40)) + [0.5, 0.49, 0.499, 0.6] * 5
    def make(lib, o):
        return L(lib).ReduceLROnPlateau(o, **kw)
    got = trace(*build(mg, make), len(metrics), hand_at, metrics)
    want = trace(*build(torch, make), len(metrics), hand_at, metrics)
    assert got == want
    assert got[-1][:2] != [0.1, 0.05] or kw.get("patience", 10) >= 10  # it did reduce


def test_reduce_lr_on_plateau_takes_a_tensor_metric_and_counts_as_torch():
    scheds = [build(lib, lambda lib, o: L(lib).ReduceLROnPlateau(o, patience=1, cooldown=1))[1] for lib in (mg, torch)]
    for value in (1.0, 1.0, 1.0, 0.5, 0.7, 0.7, 0.7):
        scheds[0].step(mg.tensor(value))
        scheds[1].step(torch.tensor(value))
        for attr in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "in_cooldown"):
            assert getattr(scheds[0], attr) == getattr(scheds[1], attr), attr
        assert scheds[0].get_last_lr() == scheds[1].get_last_lr()


@pytest.mark.parametrize("name", ["LambdaLR_list", "MultiplicativeLR", "LinearLR_decay", "SequentialLR"])
def test_state_dict_round_trip_continues_as_torch(name):
    """Save after 8 steps, load into a fresh optimizer and scheduler, run 20 more: the same lrs as the uninterrupted
    run and as PyTorch's."""
    opt, sched = build(mg, CASES[name])
    trace(opt, sched, 8)
    saved_opt, saved = opt.state_dict(), pickle.loads(pickle.dumps(
        {k: v for k, v in sched.state_dict().items()}))  # plain data: a lambda is saved as None, as PyTorch
    opt2, sched2 = build(mg, CASES[name])
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    t_opt, t_sched = build(torch, CASES[name])
    trace(t_opt, t_sched, 8)
    assert trace(opt2, sched2, 20) == trace(opt, sched, 20) == trace(t_opt, t_sched, 20)


def test_lambda_lr_state_dict_keeps_a_callable_objects_state_as_torch():
    ours = build(mg, CASES["LambdaLR_list"])[1].state_dict()
    theirs = build(torch, CASES["LambdaLR_list"])[1].state_dict()
    assert ours["lr_lambdas"] == theirs["lr_lambdas"] == [None, {"every": 4}]
    opt, sched = build(mg, CASES["LambdaLR_list"])
    sched.load_state_dict({**ours, "lr_lambdas": [None, {"every": 2}]})
    assert sched.lr_lambdas[1].every == 2


@pytest.mark.parametrize("name", ["OneCycleLR", "ReduceLROnPlateau"])
def test_one_cycle_and_plateau_state_dict_round_trip(name):
    make = {"OneCycleLR": lambda lib, o: L(lib).OneCycleLR(o, 1.0, total_steps=30, three_phase=True),
            "ReduceLROnPlateau": lambda lib, o: L(lib).ReduceLROnPlateau(o, patience=1, cooldown=1)}[name]
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.5, 0.6, 0.7, 0.8, 0.9] * 3
    step_metrics = metrics if name == "ReduceLROnPlateau" else None
    keys = ("lr", "momentum")
    opt, sched = build(mg, make, momentum=0.9)
    trace(opt, sched, 10, metrics=step_metrics, keys=keys)
    opt2, sched2 = build(mg, make, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(pickle.loads(pickle.dumps(sched.state_dict())))
    rest = None if step_metrics is None else step_metrics[10:]
    t_opt, t_sched = build(torch, make, momentum=0.9)
    trace(t_opt, t_sched, 10, metrics=step_metrics, keys=keys)
    assert (trace(opt2, sched2, 20, metrics=rest, keys=keys) == trace(opt, sched, 20, metrics=rest, keys=keys)
            == trace(t_opt, t_sched, 20, metrics=rest, keys=keys))


def test_step_with_an_epoch_uses_the_closed_form_or_get_lr_as_torch():
    for name in ("LinearLR_decay", "MultiplicativeLR", "LambdaLR"):
        results = []
        for lib in (mg, torch):
            opt, sched = build(lib, CASES[name])
            with pytest.warns(UserWarning):
                sched.step(7)
            results.append(sched.get_last_lr() + [sched.last_epoch])
        assert results[0] == results[1], name


def test_lr_scheduler_is_pytorchs_module_path():
    import minigrad.optim.lr_scheduler as lr_scheduler
    from minigrad.optim.lr_scheduler import OneCycleLR, StepLR
    assert mg.optim.lr_scheduler is lr_scheduler
    assert StepLR is optim.StepLR and OneCycleLR is optim.OneCycleLR
    assert set(lr_scheduler.__all__) <= set(dir(torch.optim.lr_scheduler))


def _sgd(lib, **kw):
    return lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1, **kw)


@pytest.mark.parametrize("make, error, words", [
    (lambda lib, o: L(lib).LambdaLR(o, [lambda e: 1.0] * 2), ValueError, "Expected 1 lr_lambdas, but got 2"),
    (lambda lib, o: L(lib).MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
    (lambda lib, o: L(lib).LinearLR(o, start_factor=0.0), ValueError, "Starting multiplicative factor"),
    (lambda lib, o: L(lib).LinearLR(o, start_factor=1.5), ValueError, "Starting multiplicative factor"),
    (lambda lib, o: L(lib).LinearLR(o, end_factor=-0.1), ValueError, "Ending multiplicative factor"),
    (lambda lib, o: L(lib).OneCycleLR(o, 1.0), ValueError, "You must define either total_steps"),
    (lambda lib, o: L(lib).OneCycleLR(o, 1.0, total_steps=0), ValueError, "Expected positive integer total_steps"),
    (lambda lib, o: L(lib).OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=0), ValueError, "steps_per_epoch"),
    (lambda lib, o: L(lib).OneCycleLR(o, 1.0, 10, pct_start=1), ValueError, "Expected float between 0 and 1 pct"),
    (lambda lib, o: L(lib).OneCycleLR(o, 1.0, 10, pct_start=1.5), ValueError, "Expected float between 0 and 1 pct"),
    (lambda lib, o: L(lib).OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError, "anneal_strategy must be"),
    (lambda lib, o: L(lib).OneCycleLR(o, [1.0, 2.0], 10), ValueError, "max_lr must have the same length"),
    (lambda lib, o: L(lib).OneCycleLR(o, 1.0, 10, pct_start=0.1), ZeroDivisionError, ""),
    (lambda lib, o: L(lib).ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda lib, o: L(lib).ReduceLROnPlateau(o, mode="low"), ValueError, "mode 'low' is unknown"),
    (lambda lib, o: L(lib).ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode 'x' is unknown"),
    (lambda lib, o: L(lib).ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), ValueError, "expected 1 min_lrs, got 2"),
    (lambda lib, o: L(lib).SequentialLR(o, [], []), ValueError, "expects at least one scheduler"),
    (lambda lib, o: L(lib).SequentialLR(o, [L(lib).StepLR(o, 2)], [3]), ValueError, "one more than the number"),
    (lambda lib, o: L(lib).SequentialLR(o, [L(lib).ReduceLROnPlateau(o)], []), ValueError, "ReduceLROnPlateau"),
    (lambda lib, o: L(lib).SequentialLR(o, [L(lib).StepLR(_sgd(lib), 2)], []), ValueError, "same optimizer"),
])
def test_errors_are_torchs_classes_and_name_the_scheduler(make, error, words):
    """PyTorch raises the same class; minigrad's message names the scheduler and carries PyTorch's words."""
    with pytest.raises(error):
        make(torch, _sgd(torch, momentum=0.9))
    with pytest.raises(error, match=words) as info:
        make(mg, _sgd(mg, momentum=0.9))
    assert any(n in str(info.value) for n in ("LambdaLR", "MultiplicativeLR", "LinearLR", "OneCycleLR",
                                              "ReduceLROnPlateau", "SequentialLR", "Sequential Schedulers"))


def test_one_cycle_needs_momentum_to_cycle_it():
    with pytest.raises(ValueError, match="OneCycleLR: optimizer must support momentum or beta1"):
        optim.OneCycleLR(optim.Bop([mg.zeros(2, requires_grad=True)]), 1.0, 10)


def test_reduce_lr_on_plateau_refuses_a_metric_that_is_not_a_number():
    sched = optim.ReduceLROnPlateau(_sgd(mg))
    with pytest.raises(TypeError, match="ReduceLROnPlateau.step: metrics must be a number"):
        sched.step(None)
    assert sched.last_epoch == 0 and math.isinf(sched.best)


def test_a_negative_lr_is_refused_where_pytorch_sets_it():
    """minigrad's rule (ARCHITECTURE.md): no scheduler step sets a negative lr; PyTorch's LambdaLR does."""
    opt, sched = build(mg, lambda lib, o: L(lib).LambdaLR(o, lambda e: 1.0 - 0.5 * e))
    trace(opt, sched, 2)
    with pytest.raises(ValueError, match="LambdaLR: Invalid learning rate at epoch 3: -0.05"):
        sched.step()
    assert sched.last_epoch == 2 and [g["lr"] for g in opt.param_groups] == [0.0, 0.0]
    t_opt, t_sched = build(torch, lambda lib, o: L(lib).LambdaLR(o, lambda e: 1.0 - 0.5 * e))
    trace(t_opt, t_sched, 3)
    assert t_opt.param_groups[0]["lr"] < 0
