"""Optimizers, learning-rate schedulers and gradient clipping (PyTorch's names and update formulas).

Every `step()` runs inside `with autograd.phase("optimizer"), no_grad():` and updates parameters
through Tensor ops and in-place methods, so the tracer counts the optimizer's arithmetic; afterwards
each updated parameter's constraint is applied (how a binary layer keeps its latent weights in
[-1, 1]). An optimizer's state (momentum buffers, Adam moments, step counts) and a scheduler's
position are saved with `state_dict()` and restored with `load_state_dict()`.
"""
import bisect
import math
import numbers
import sys
import types
import warnings

import numpy as np

from .autograd import enable_grad, no_grad, phase
from .nn.module import _clear_grad
from .ops import maximum, stack, where
from .ops.norms import vector_norm
from .tensor import Tensor

_SCHEDULERS = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
               "MultiplicativeLR", "LinearLR", "SequentialLR", "OneCycleLR", "ReduceLROnPlateau"]
__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Bop", "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "LambdaLR", "MultiplicativeLR", "LinearLR", "SequentialLR", "OneCycleLR",
           "ReduceLROnPlateau", "clip_grad_norm_", "lr_scheduler"]


def _apply_constraint(p):
    if getattr(p, "constraint", None) is None:
        return
    if hasattr(p, "apply_constraint"):
        p.apply_constraint()
    else:
        p.copy_(p.constraint(p))


_WORDS = {"lr": "learning rate", "eps": "epsilon value"}  # PyTorch's words; other names: "<name> value"


def _check_number(obj, name, value, low=0.0, high=math.inf, high_open=False, integer=False, what=None):
    """`value` as a float (an int when integer=True) if it is a finite real number in [low, high]
    ([low, high) when high_open); else the error of optimizer or scheduler `obj`, in PyTorch's words
    ('Invalid learning rate: -1') followed by the rule it breaks."""
    owner = type(obj).__name__
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__} {value!r}"
                        + (" (pass a Python number, e.g. t.item())" if hasattr(value, "item") else ""))
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond float's range
        finite = False
    inside = low <= value and (value < high if high_open else value <= high)
    if finite and inside and (not integer or value == int(value)):
        return int(value) if integer else float(value)
    kind = "an integer" if integer else "a finite number"
    if high == math.inf:
        rule = f"{kind} >= {low:g}" if low > -math.inf else kind
    else:
        rule = f"{kind} in [{low:g}, {high:g}{')' if high_open else ']'}"
    raise ValueError(f"{owner}: Invalid {what or _WORDS.get(name, name + ' value')}: {value}; {name} must be {rule}")


class Optimizer:
    """Base class: holds `param_groups` (dicts of 'params' and hyperparameters) and per-parameter `state`.
    A group with maximize=True ascends: its gradients are negated before `update` sees them (as PyTorch).

    `params` is an iterable of tensors, or of dicts `{'params': [...], 'lr': ...}` for groups with
    their own hyperparameters. Subclasses define `update(p, grad, state, group)` and refuse bad
    hyperparameters in `check_group(group)`, which every group passes (given, added or loaded).
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors (e.g. "
                            "model.parameters() or [w]), not a single tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list; pass model.parameters() "
                             "of a model that has parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group {'params': tensors, or (name, tensor) pairs as model.named_parameters() gives (their names
        are kept as 'param_names', as PyTorch), hyperparameters...}; missing hyperparameters are the defaults."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        named = [isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in group["params"]]
        if any(named):
            if not all(named):
                raise ValueError(f"{type(self).__name__}: a group mixes (name, tensor) pairs and bare tensors; give "
                                 "all parameters with names (model.named_parameters()) or none")
            group["param_names"] = [name for name, _ in group["params"]]
            group["params"] = [p for _, p in group["params"]]
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{type(self).__name__}: all optimizer param groups should be with names or all "
                             "without (as PyTorch)")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, got {type(p).__name__}")
            if not p.requires_grad or p.grad_fn is not None:
                raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} is not a leaf that "
                                 "requires grad; optimize leaf tensors created with requires_grad=True")
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} appears in more than one "
                                 "group (or twice); give each parameter once")
            seen.add(id(p))
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        for key, value in group.items():
            if isinstance(value, (float, np.floating)):
                group[key] = float(value)  # Python floats keep float32 parameters float32
        self.check_group(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: to None (PyTorch's default), or with set_to_none=False zeroed in place
        (the same .grad tensor, as PyTorch)."""
        for group in self.param_groups:
            for p in group["params"]:
                _clear_grad(p, set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; then its constraint. Returns closure()'s loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with phase("optimizer"), no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad
                    if grad.shape != p.shape:
                        raise RuntimeError(f"{type(self).__name__}.step: a gradient of shape {grad.shape} for a "
                                           f"parameter of shape {p.shape}")
                    if group.get("maximize"):
                        grad = -grad  # ascend: PyTorch negates the gradient first (before weight decay)
                    self.update(p, grad, self.state.setdefault(p, {}), group)
                    _apply_constraint(p)
        return loss

    def update(self, p, grad, state, group):
        raise NotImplementedError(f"{type(self).__name__} must define update(p, grad, state, group)")

    def check_group(self, group):
        """Raise ValueError if a group's hyperparameters are out of range, else make them Python numbers
        (subclasses say which)."""

    # ---- saving -------------------------------------------------------------------------------
    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """{'state': {index: {name: ndarray or number}}, 'param_groups': [{hyperparameters, 'params': [index]}]};
        parameters are named by their position across the groups, as PyTorch does."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {k: (np.array(v.data) if isinstance(v, Tensor) else v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index and s}  # no entry for no state, as PyTorch
        groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]}
                  for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned, for an optimizer built over the same parameters.

        Everything is checked before anything is written: a refused state leaves the optimizer as it was."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved state has groups of sizes "
                             f"{[len(g['params']) for g in groups]}, this optimizer "
                             f"{[len(g['params']) for g in self.param_groups]}; build it over the same parameters")
        params = self._params()
        state = {}
        for key, saved in state_dict["state"].items():
            index = int(key) if str(key).isdigit() else -1
            if not 0 <= index < len(params):
                raise ValueError(f"{type(self).__name__}.load_state_dict: the saved state names parameter {key!r}, "
                                 f"this optimizer has parameters 0..{len(params) - 1}; build it over the same "
                                 "parameters")
            p = params[index]
            entry = {}
            for name, value in saved.items():
                if isinstance(value, Tensor):
                    value = value.data
                if isinstance(value, np.ndarray) and (value.ndim > 0 or p.ndim == 0):
                    if value.shape != p.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state '{name}' of parameter "
                                         f"{key} has shape {value.shape}, the parameter {p.shape}")
                    value = Tensor(np.array(value, dtype=p.dtype))
                elif isinstance(value, np.ndarray):
                    value = value.item()
                entry[name] = value
            state[p] = entry
        loaded = []
        for own, saved in zip(self.param_groups, groups):
            group = dict(own)
            group.update((k, v.item() if isinstance(v, np.ndarray) else v) for k, v in saved.items() if k != "params")
            self.check_group(group)
            loaded.append(group)
        self.state = state
        for own, group in zip(self.param_groups, loaded):
            own.update(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k not in ("params", "initial_lr")]
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (Sutskever et al. 2013's form, as PyTorch):

        g <- g + weight_decay * p
        b <- g (first step),  b <- momentum * b + (1 - dampening) * g (afterwards)
        g <- g + momentum * b (nesterov)  or  g <- b
        p <- p - lr * g
    maximize=True: g <- -g first (gradient ascent), as PyTorch.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def check_group(self, group):
        for name in ("lr", "momentum", "weight_decay"):
            group[name] = _check_number(self, name, group[name])
        group["dampening"] = _check_number(self, "dampening", group["dampening"], low=-math.inf)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening; pass momentum > 0 "
                             "and dampening=0, or nesterov=False")

    def update(self, p, g, state, group):
        # task 4.4: SGD with momentum
        if group["weight_decay"]:
            g = g + p * group["weight_decay"]
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor(np.array(g.data))
            else:
                buf.mul_(momentum).add_(g, alpha=1 - group["dampening"])
            g = g + buf * momentum if group["nesterov"] else buf
        p.sub_(g, alpha=group["lr"])
        # end task


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), with L2 `weight_decay` added to the gradient (as PyTorch's Adam):

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,   t <- t + 1
        p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    amsgrad=True (Reddi et al. 2018): v_max <- max(v_max, v) and sqrt(v_max) in place of sqrt(v).
    maximize=True: g <- -g first (gradient ascent). decoupled_weight_decay=True: AdamW's p <- p (1 - lr wd)
    instead of the L2 term. All as PyTorch.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def check_group(self, group):
        for name in ("lr", "eps", "weight_decay"):
            group[name] = _check_number(self, name, group[name])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {betas!r}; "
                             "e.g. betas=(0.9, 0.999)")
        group["betas"] = tuple(_check_number(self, f"betas[{i}]", b, high=1.0, high_open=True,
                                             what=f"beta parameter at index {i}") for i, b in enumerate(betas))

    def update(self, p, g, state, group):
        (b1, b2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        if wd and group["decoupled_weight_decay"]:
            p.mul_(1 - lr * wd)
        elif wd:
            g = g + p * wd
        if not state:
            state["step"] = 0
            state["exp_avg"] = Tensor(np.zeros_like(p.data))
            state["exp_avg_sq"] = Tensor(np.zeros_like(p.data))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = Tensor(np.zeros_like(p.data))
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if group["amsgrad"]:
            self._amsgrad_step(p, g, state, group)
            return
        # task 4.5: Adam
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).add_(g * g, alpha=1 - b2)
        denom = v.sqrt() / math.sqrt(1 - b2 ** t) + group["eps"]
        p.sub_(m / denom, alpha=lr / (1 - b1 ** t))
        # end task

    @staticmethod
    def _amsgrad_step(p, g, state, group):
        """Adam's step with sqrt(v_max), v_max the running maximum of v (PyTorch's amsgrad=True)."""
        (b1, b2), lr, t = group["betas"], group["lr"], state["step"]
        m, v, v_max = state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"]
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).add_(g * g, alpha=1 - b2)
        v_max.copy_(maximum(v_max, v))
        denom = v_max.sqrt() / math.sqrt(1 - b2 ** t) + group["eps"]
        p.sub_(m / denom, alpha=lr / (1 - b1 ** t))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): p <- p (1 - lr wd), then Adam's step
    (Adam with decoupled_weight_decay=True, as PyTorch)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)


class Bop(Optimizer):
    """Bop, the binary optimizer of Helwegen et al. (2019), "Latent weights do not exist":

        m <- (1 - gamma) m + gamma g
        w <- -w  where |m| > threshold and sign(m) = sign(w),  else w

    There are no latent weights: the parameters hold +-1 and only flip. On its first step Bop
    binarizes them (sign, with sign(0) = +1), which leaves a sign-binarized forward unchanged. Give it
    only the binary weights; train the rest (batch norm, biases) with another optimizer, e.g. Adam.
    """

    def __init__(self, params, gamma=1e-4, threshold=1e-8):
        super().__init__(params, dict(gamma=gamma, threshold=threshold))

    def check_group(self, group):
        group["gamma"] = _check_number(self, "gamma", group["gamma"], high=1.0)
        group["threshold"] = _check_number(self, "threshold", group["threshold"])

    def update(self, p, g, state, group):
        if not state:
            with_sign = np.where(p.data >= 0, 1, -1).astype(p.dtype)
            if not np.array_equal(with_sign, p.data):
                p.copy_(with_sign)
            state["momentum"] = Tensor(np.zeros_like(p.data))
        m, gamma = state["momentum"], group["gamma"]
        m.mul_(1 - gamma).add_(g, alpha=gamma)
        # with w = +-1: |m| > threshold and sign(m) = sign(w)  <=>  m w > threshold
        p.copy_(where(m * p > group["threshold"], -p, p))


# ---- learning-rate schedules ----------------------------------------------------------------------
class LRScheduler:
    """Sets each group's lr once per epoch: call `step()` once per epoch, after the optimizer's steps.

    As PyTorch's schedulers, a step computes the next lr from the group's current one (`get_lr`), so two
    schedulers on one optimizer chain (their factors multiply) and an lr changed by hand is continued from.
    `step(epoch)` (deprecated in PyTorch) jumps to `epoch` with the closed form `lr_at(initial_lr, epoch)`, or with
    get_lr() at last_epoch = epoch for a scheduler without one (as PyTorch).
    The initial lrs are the groups' lrs when the first scheduler is built (kept as 'initial_lr'). To resume,
    load the optimizer's state (it holds the lrs) and the scheduler's."""

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer, got {type(optimizer).__name__}")
        if any("lr" not in g for g in optimizer.param_groups):
            raise TypeError(f"{name}: {type(optimizer).__name__} has no learning rate to schedule")
        self.optimizer = optimizer
        self.last_epoch = _check_number(self, "last_epoch", last_epoch, low=-1, integer=True)
        if self.last_epoch != -1:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr' to resume from at last_epoch="
                                   f"{self.last_epoch}; load the optimizer's state_dict first, or pass last_epoch=-1")
        self.base_lrs = [g.get("initial_lr", g["lr"]) for g in optimizer.param_groups]
        self.check()
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self._initial_step()

    def _initial_step(self):
        """The first step, made when the scheduler is built: it sets the lrs of epoch 0 (most schedulers keep the
        lrs; PyTorch's _is_initial)."""
        self._initial = True
        try:
            self.step()
        finally:
            self._initial = False

    def get_lr(self):
        """The lrs of epoch `last_epoch` (already advanced), from the groups' current lrs (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def lr_at(self, base_lr, epoch):
        """The closed form: the lr of `epoch` from the initial lr (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must define lr_at(base_lr, epoch)")

    def _lrs(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def check(self):
        """Raise ValueError if a setting is out of range, else make it a Python number (subclasses check theirs)."""
        if len(self.base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}: {len(self.base_lrs)} initial learning rates for "
                             f"{len(self.optimizer.param_groups)} parameter groups; build it over the same optimizer")
        self.base_lrs = [_check_number(self, "lr", lr) for lr in self.base_lrs]
        self.last_epoch = _check_number(self, "last_epoch", self.last_epoch, low=-1, integer=True)

    def step(self, epoch=None):
        """Advance one epoch (or move to `epoch` by the closed form) and set every group's lr; an lr that is not
        finite is refused before any is set, and the scheduler stays where it was."""
        if epoch is not None:
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated in PyTorch; call step() once per epoch",
                          UserWarning, stacklevel=2)
            epoch = _check_number(self, "epoch", epoch, low=0, integer=True)
        self._update_lr(epoch)

    _lowest_lr = 0.0  # a step that would set a lower lr is refused (OneCycleLR's last step may go below 0, as PyTorch)

    def _has_closed_form(self):
        return type(self).lr_at is not LRScheduler.lr_at

    def _update_lr(self, epoch=None):
        """step() without its warning (PyTorch's _update_lr, which SequentialLR calls at a milestone): the closed
        form at `epoch` when the scheduler has one, else get_lr() with last_epoch = epoch (as PyTorch)."""
        before = self.last_epoch
        self.last_epoch = before + 1 if epoch is None else epoch
        try:
            try:
                if epoch is None or not self._has_closed_form():
                    lrs = self.get_lr()
                else:
                    lrs = [self.lr_at(b, epoch) for b in self.base_lrs]
                lrs = [float(lr) for lr in lrs]
            except OverflowError:
                lrs = [math.inf]
            lrs = [_check_number(self, "lr", lr, low=self._lowest_lr, what=f"learning rate at epoch {self.last_epoch}")
                   for lr in lrs]
        except ValueError:
            self.last_epoch = before
            raise
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._lrs()

    def get_last_lr(self):
        """The lrs this scheduler set last (a list, one per group)."""
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned (the groups' lrs come back with the optimizer's state, as in
        PyTorch); a refused state leaves the scheduler as it was."""
        before = dict(self.__dict__)
        self.__dict__.update({k: list(v) if k in ("base_lrs", "_last_lr") else v
                              for k, v in state_dict.items() if k != "optimizer"})
        try:
            self.check()
        except (TypeError, ValueError):
            self.__dict__ = before
            raise
        if "_last_lr" not in state_dict:
            self._last_lr = self._lrs()


class StepLR(LRScheduler):
    """lr <- lr * gamma at every step_size-th epoch; closed form initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def check(self):
        super().check()
        self.step_size = _check_number(self, "step_size", self.step_size, low=1, integer=True)
        self.gamma = _check_number(self, "gamma", self.gamma)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr <- lr * gamma at each epoch in milestones (gamma ** n for a milestone given n times); closed form
    initial_lr * gamma ** (number of milestones <= epoch)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = milestones, gamma
        super().__init__(optimizer, last_epoch)

    def check(self):
        super().check()
        milestones = self.milestones  # a Counter (PyTorch's state) counts a repeated milestone
        milestones = list(milestones.elements() if hasattr(milestones, "elements") else milestones)
        self.milestones = sorted(_check_number(self, "milestones", m, integer=True, what="milestone")
                                 for m in milestones)
        self.gamma = _check_number(self, "gamma", self.gamma)

    def get_lr(self):
        times = self.milestones.count(self.last_epoch)
        if not times:
            return self._lrs()
        return [lr * self.gamma ** times for lr in self._lrs()]

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr <- lr * gamma every epoch; closed form initial_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def check(self):
        super().check()
        self.gamma = _check_number(self, "gamma", self.gamma)

    def get_lr(self):
        if self._initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """SGDR's cosine annealing without restarts (Loshchilov & Hutter 2017), closed form

        lr = eta_min + (initial_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2,

    stepped recursively as PyTorch's: lr <- eta_min + (lr - eta_min) (1 + cos(pi e / T)) / (1 + cos(pi (e-1) / T)),
    and lr <- lr + (initial_lr - eta_min) (1 - cos(pi / T)) / 2 where that denominator is 0 (e - 1 = T mod 2T)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def check(self):
        super().check()
        self.T_max = _check_number(self, "T_max", self.T_max, low=1, integer=True)
        self.eta_min = _check_number(self, "eta_min", self.eta_min, what="minimum learning rate")

    def get_lr(self):
        e, T, low = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._lrs()
        if (e - 1 - T) % (2 * T) == 0:
            return [lr + (base - low) * (1 - math.cos(math.pi / T)) / 2 for lr, base in zip(self._lrs(), self.base_lrs)]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - low) + low
                for lr in self._lrs()]

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


def _factor_functions(cls_name, optimizer, lr_lambda):
    """lr_lambda as one callable per parameter group (PyTorch's rule: a list or tuple gives one per group, anything
    else is used for every group)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{cls_name}: expected an optimizer, got {type(optimizer).__name__}")
    n = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n:
            raise ValueError(f"{cls_name}: Expected {n} lr_lambdas, but got {len(lr_lambda)}; give one function per "
                             "parameter group, or one function for all")
        functions = list(lr_lambda)
    else:
        functions = [lr_lambda] * n
    for fn in functions:
        if not callable(fn):
            raise TypeError(f"{cls_name}: lr_lambda should be a function, but got {type(fn).__name__} {fn!r}; pass "
                            "e.g. lambda epoch: 0.95 ** epoch")
    return functions


class _FactorFunctions:
    """state_dict / load_state_dict of the schedulers that hold lr_lambdas (PyTorch's): a plain function or lambda is
    saved as None (it cannot be pickled; it stays as built), a callable object as a copy of its __dict__."""

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None) or []
        if len(saved) not in (0, len(self.lr_lambdas)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(saved)} saved lr_lambdas for "
                             f"{len(self.lr_lambdas)} parameter groups; build it over the same optimizer")
        LRScheduler.load_state_dict(self, state)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_FactorFunctions, LRScheduler):
    """lr = initial_lr * lr_lambda(epoch) (torch.optim.lr_scheduler.LambdaLR): a closed form, not chained (it sets
    the lr from the initial one each epoch, ignoring changes made since by hand or by another scheduler).

    lr_lambda is a function of the epoch (an int) giving a factor, or a list of them, one per parameter group. A factor
    that makes an lr negative or not finite is refused (a ValueError, nothing changed); PyTorch would set it."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _factor_functions("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_FactorFunctions, LRScheduler):
    """lr <- lr * lr_lambda(epoch) every epoch after the first (torch.optim.lr_scheduler.MultiplicativeLR):
    chained, from the group's current lr. lr_lambda is a function of the epoch, or a list of them, one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _factor_functions("MultiplicativeLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial:
            return self._lrs()
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._lrs())]


class LinearLR(LRScheduler):
    """The lr's factor goes linearly from start_factor (epoch 0) to end_factor (epoch total_iters), then stays
    (torch.optim.lr_scheduler.LinearLR). Closed form

        lr = initial_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters),

    stepped recursively as PyTorch's (so it chains with other schedulers): lr <- lr * start_factor at epoch 0, then
    lr <- lr * (1 + (end - start) / (total_iters * start + (epoch - 1) * (end - start))) up to total_iters."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def check(self):
        for name in ("start_factor", "end_factor"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), numbers.Real):
                raise TypeError(f"LinearLR: {name} must be a real number, got {getattr(self, name)!r}")
        if not 0 < self.start_factor <= 1:
            raise ValueError("LinearLR: Starting multiplicative factor expected to be greater than 0 and less or equal "
                             f"to 1; got start_factor={self.start_factor}")
        if not 0 <= self.end_factor <= 1:
            raise ValueError(f"LinearLR: Ending multiplicative factor expected to be between 0 and 1; got "
                             f"end_factor={self.end_factor}")
        super().check()
        self.total_iters = _check_number(self, "total_iters", self.total_iters, integer=True)

    def get_lr(self):
        start, end, total, e = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if e == 0:
            return [lr * start for lr in self._lrs()]
        if self._initial or e > total:
            return self._lrs()
        return [lr * (1.0 + (end - start) / (total * start + (e - 1) * (end - start))) for lr in self._lrs()]

    def lr_at(self, base_lr, epoch):
        if self.total_iters == 0:
            raise ZeroDivisionError("LinearLR: step(epoch) with total_iters=0: PyTorch's closed form divides by "
                                    "total_iters; call step() without an epoch, or pass total_iters >= 1")
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                          * min(self.total_iters, epoch) / self.total_iters)


class SequentialLR(LRScheduler):
    """Runs `schedulers` one after another, switching at each epoch in `milestones` (torch.optim.lr_scheduler.
    SequentialLR; len(milestones) = len(schedulers) - 1). At a milestone the next scheduler starts from its epoch 0
    (its closed form at 0 when it has one, else its get_lr at epoch 0, as PyTorch); between milestones it steps
    as usual. Building it resets the groups' lrs to their initial lrs and undoes the first step of every scheduler,
    then makes the first one's initial step."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        name = "SequentialLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer, got {type(optimizer).__name__}")
        schedulers = list(schedulers)
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute; pass schedulers "
                                "built over this optimizer")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{name} does not support `ReduceLROnPlateau` scheduler as it requires additional "
                                 "kwargs to be specified when calling `step`, but got one at index "
                                 f"{i} in the given schedulers sequence.")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, but got scheduler "
                                 f"{type(scheduler).__name__} at index {i} built over another optimizer")
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("SequentialLR: Sequential Schedulers expects number of schedulers provided to be one more "
                             f"than the number of milestone points, but got number of schedulers {len(schedulers)} and "
                             f"the number of milestones to be equal to {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = [_check_number(self, "milestones", m, integer=True, what="milestone") for m in milestones]
        self.last_epoch = _check_number(self, "last_epoch", last_epoch, low=-1, integer=True) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect.bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None):
        """Undo the step each scheduler made when it was built (its last_epoch - 1), through nested SequentialLRs."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        if len(saved) != len(self._schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: {len(saved)} saved schedulers, this one has "
                             f"{len(self._schedulers)}; build it over the same schedulers")
        self.__dict__.update(state)
        for s, sd in zip(self._schedulers, saved):
            s.load_state_dict(sd)


def _per_group(cls_name, name, optimizer, value):
    """`value` as one per parameter group (a list or tuple must have one per group), PyTorch's _format_param."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{cls_name}: {name} must have the same length as optimizer.param_groups. {name} has "
                             f"{len(value)} values, param_groups has {len(optimizer.param_groups)}.")
        return list(value)
    return [value] * len(optimizer.param_groups)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2017, "Super-Convergence", arXiv:1708.07120), as torch.optim.lr_scheduler.
    OneCycleLR, stepped once per batch: the lr goes from initial_lr = max_lr / div_factor up to max_lr over the first
    pct_start * total_steps steps, then down to min_lr = initial_lr / final_div_factor at step total_steps - 1
    (three_phase=True: back to initial_lr symmetrically, then down to min_lr). Each phase anneals from its start to
    its end value with pct = (step - phase start) / (phase end - phase start):

        cos:    end + (start - end) / 2 * (cos(pi pct) + 1)        linear: (end - start) pct + start

    Not chainable (it computes every lr from the group's initial_lr, max_lr and min_lr, which it stores in the
    group). With cycle_momentum=True the momentum (SGD's momentum, or Adam's beta1) is annealed inversely, from
    max_momentum to base_momentum and back. Phase boundaries are pct_start * total_steps - 1 and
    2 pct_start * total_steps - 2 (three phases), as PyTorch. Stepping past total_steps is a ValueError.

    Step total_steps itself (the last call of a loop that steps after each of total_steps batches) extrapolates the
    last phase past its end, as PyTorch; with anneal_strategy='linear' that lr is below min_lr, possibly negative,
    and it is set as PyTorch sets it (no batch is trained with it). Only that schedule may set a negative lr."""

    _lowest_lr = -math.inf

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        name = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"{name}: Expected positive integer total_steps, but got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"{name}: Expected positive integer epochs, but got {epochs!r}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"{name}: Expected positive integer steps_per_epoch, but got {steps_per_epoch!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{name}: You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"{name}: Expected float between 0 and 1 pct_start, but got {pct_start!r} (PyTorch wants "
                             "a float: write 1.0, not 1)")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        if three_phase:
            self._schedule_phases = [
                dict(end_step=float(pct_start * self.total_steps) - 1, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum")]
        else:
            self._schedule_phases = [
                dict(end_step=float(pct_start * self.total_steps) - 1, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum")]
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        for what, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
                raise ValueError(f"{name}: {what} must be a positive number, got {value!r}")
        if last_epoch == -1:
            for m, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"{name}: optimizer must support momentum or beta1 with `cycle_momentum` option "
                                 f"enabled; {type(optimizer).__name__} has neither: pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group(name, "max_momentum", optimizer, max_momentum)
            base_momentums = _per_group(name, "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for m, b, group in zip(max_momentums, base_momentums, optimizer.param_groups):
                    if self.use_beta1:
                        group["betas"] = (m, *group["betas"][1:])
                    else:
                        group["momentum"] = m
                    group["max_momentum"] = m
                    group["base_momentum"] = b
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}; build it with a larger total_steps (or epochs * steps_per_epoch)")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, stage in enumerate(self._schedule_phases):
                end_step = stage["end_step"]
                if step <= end_step or i == last:
                    try:
                        pct = (step - start_step) / (end_step - start_step)
                    except ZeroDivisionError:
                        raise ZeroDivisionError(
                            f"OneCycleLR: phase {i} of the schedule has no steps (it ends at step {end_step}, where "
                            f"it starts); PyTorch divides by zero here too: raise pct_start or total_steps "
                            f"({self.total_steps})") from None
                    lr = self._anneal_func(group[stage["start_lr"]], group[stage["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal_func(group[stage["start_momentum"]], group[stage["end_momentum"]],
                                                     pct)
                    break
                start_step = stage["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Divide the lr by 1 / factor when a metric has stopped improving (torch.optim.lr_scheduler.ReduceLROnPlateau):
    call `step(metric)` once per epoch.

    A metric is an improvement when it beats the best so far by the threshold: mode='min' with threshold_mode='rel'
    needs metric < best (1 - threshold), 'abs' metric < best - threshold (mode='max': > best (1 + threshold),
    > best + threshold). After more than `patience` epochs in a row without improvement every group's lr becomes
    max(lr * factor, min_lr) (unchanged when that lowers it by eps or less), and the next `cooldown` epochs count no
    bad epochs. min_lr is one number or one per group."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer, got {type(optimizer).__name__}")
        if any("lr" not in g for g in optimizer.param_groups):
            raise TypeError(f"{name}: {type(optimizer).__name__} has no learning rate to schedule")
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"{name}: expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.last_epoch = 0
        self._last_lr = self._lrs()
        self.check()
        self._reset()

    def check(self):
        name = type(self).__name__
        if isinstance(self.factor, numbers.Real) and not isinstance(self.factor, bool) and self.factor >= 1.0:
            raise ValueError(f"{name}: Factor should be < 1.0, got factor={self.factor}; the lr is multiplied by it")
        self.factor = _check_number(self, "factor", self.factor, low=-math.inf)
        if self.mode not in ("min", "max"):
            raise ValueError(f"{name}: mode {self.mode!r} is unknown! Use 'min' or 'max'")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold mode {self.threshold_mode!r} is unknown! Use 'rel' or 'abs'")
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        self.threshold = _check_number(self, "threshold", self.threshold, low=-math.inf)
        self.patience = _check_number(self, "patience", self.patience, integer=True)
        self.cooldown = _check_number(self, "cooldown", self.cooldown, integer=True)
        self.eps = _check_number(self, "eps", self.eps)
        self.min_lrs = [_check_number(self, "min_lr", m, what="minimum learning rate") for m in self.min_lrs]

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics, epoch=None):
        """One epoch with this value of the monitored metric (a number or a one-element tensor)."""
        try:
            current = float(metrics)
        except (TypeError, ValueError) as e:
            raise type(e)(f"ReduceLROnPlateau.step: metrics must be a number (the monitored value, e.g. the "
                          f"validation loss), got {type(metrics).__name__} {metrics!r}") from None
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn("ReduceLROnPlateau.step(metrics, epoch) is deprecated in PyTorch; call step(metrics) once "
                          "per epoch", UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown are ignored
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _reduce_lr(self, epoch):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: The number of param groups in the `optimizer` ({len(groups)}) "
                                   f"differs from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                                   "usually due to a new param group being added to the optimizer. Please modify the "
                                   "`min_lrs` field to match the length of the `optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned; a refused state leaves the scheduler as it was."""
        before = dict(self.__dict__)
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "optimizer"})
        try:
            self.check()
        except (TypeError, ValueError):
            self.__dict__ = before
            raise


# ---- gradient clipping ----------------------------------------------------------------------------
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so their joint norm is at most max_norm; returns that norm (before clipping).

    As PyTorch: total = ||(||g_1||_q, ..., ||g_n||_q)||_q, the q-norm (q = norm_type: inf the largest |g|, -inf
    the smallest, 0 the count of nonzeros, per gradient and then across them) of the gradients' q-norms, in their
    dtype; then every g <- g * min(max_norm / (total + 1e-6), 1), so a nan total makes every gradient nan
    (error_if_nonfinite=True refuses a nan or infinite total instead). `foreach` is accepted for PyTorch's signature
    (minigrad has one implementation). Also `mg.nn.utils.clip_grad_norm_`, PyTorch's path.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return Tensor(np.array(0.0, np.float32))
    norm_type = float(norm_type)
    with phase("optimizer"), no_grad():
        total = vector_norm(stack([vector_norm(g, norm_type) for g in grads]), norm_type)
        if error_if_nonfinite and not np.isfinite(total.data):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                               f"{total.item()}, so it cannot be clipped; pass error_if_nonfinite=False to scale the "
                               "gradients by it anyway")
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        with np.errstate(invalid="ignore"):  # an infinite total: coef 0, and inf * 0 = nan, as PyTorch (silently)
            for g in grads:
                g.mul_(coef)
    return total


# ---- mg.optim.lr_scheduler: PyTorch's module path (torch.optim.lr_scheduler.StepLR) ---------------------------
# optim is one file, so the module is made here and registered as minigrad.optim.lr_scheduler (as os.path is):
# `import minigrad.optim.lr_scheduler`, `from minigrad.optim.lr_scheduler import StepLR` and
# `mg.optim.lr_scheduler.StepLR` all work, and name the same classes as mg.optim.StepLR.
lr_scheduler = types.ModuleType(__name__ + ".lr_scheduler", "The learning-rate schedulers of minigrad.optim under "
                                "PyTorch's module path torch.optim.lr_scheduler.")
lr_scheduler.__dict__.update({name: globals()[name] for name in _SCHEDULERS}, __all__=list(_SCHEDULERS))
sys.modules[lr_scheduler.__name__] = lr_scheduler
