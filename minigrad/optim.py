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
import warnings

import numpy as np

from .autograd import enable_grad, no_grad, phase
from .nn.module import _clear_grad
from .ops import maximum, stack, where
from .ops.norms import vector_norm
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Bop", "LRScheduler", "StepLR", "ExponentialLR",
           "CosineAnnealingLR", "MultiStepLR", "clip_grad_norm_"]


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
    `step(epoch)` (deprecated in PyTorch) jumps to `epoch` with the closed form `lr_at(initial_lr, epoch)`.
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
        self._initial = True  # the first step, made here, keeps the lrs (PyTorch's _is_initial)
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
        before = self.last_epoch
        if epoch is not None:
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated in PyTorch; call step() once per epoch",
                          UserWarning, stacklevel=2)
            epoch = _check_number(self, "epoch", epoch, low=0, integer=True)
        self.last_epoch = before + 1 if epoch is None else epoch
        try:
            try:
                lrs = self.get_lr() if epoch is None else [self.lr_at(b, epoch) for b in self.base_lrs]
                lrs = [float(lr) for lr in lrs]
            except OverflowError:
                lrs = [math.inf]
            lrs = [_check_number(self, "lr", lr, what=f"learning rate at epoch {self.last_epoch}") for lr in lrs]
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
