"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: StepLR, ExponentialLR, LinearLR,
CosineAnnealingLR, SequentialLR (a warmup, then another schedule) and ReduceLROnPlateau.

They are chainable, as PyTorch's: each step scales the current rate of a group, so two
schedules on one optimiser compose. Each also has PyTorch's closed form, the rate at epoch t
from the base rate alone, which SequentialLR uses to start a schedule afresh at its milestone.
Numbers are checked when given: a factor must be finite (``gamma`` >= 0, ``scale_lr_``'s
factor > 0), so a NaN, inf or negative one is refused at once, not found later in every rate.
``state_dict()`` holds what PyTorch's holds (every attribute but the optimiser), so a state
saved by one loads into the other.
"""

import math
from bisect import bisect_right

from .optimizer import Optimizer, check_number, non_negative, positive


def whole(owner, key, value, least=1):
    """A whole number >= ``least`` (1: a count of steps), returned as an int."""
    expected = "a whole number > 0" if least == 1 else f"a whole number >= {least}"
    return int(check_number(owner, key, value, expected, lambda x: x >= least and x == int(x)))


class LRScheduler:
    """Base class. ``step()`` once per epoch (or step) after ``optimizer.step()``.

    A schedule made with ``last_epoch=-1`` (new) records each group's rate as ``initial_lr``
    and takes its first step at once (``_initial_step``), setting the rate of epoch 0. One made
    with ``last_epoch`` >= 0 resumes: each group must hold ``initial_lr`` already.
    """

    def __init__(self, optimizer, last_epoch=-1):
        owner = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{owner}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        last_epoch = whole(owner, "last_epoch", last_epoch, least=-1)
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise ValueError(
                    f"{owner}: resuming at last_epoch={last_epoch} needs 'initial_lr' in "
                    f"param_groups[{i}]; load the optimizer's state first"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The step a schedule takes when it is made; ``get_lr`` sees ``_is_initial``."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The rates of the next epoch, from the current ones (the chainable form)."""
        raise NotImplementedError

    def step(self):
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch=None):
        """Move to the next epoch, or to ``epoch`` by the closed form where there is one."""
        if epoch is None:
            self.last_epoch += 1
            rates = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", self.get_lr)
            rates = closed_form()
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _rates(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: lr_t = lr₀ · γ^⌊t / step_size⌋."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = whole("StepLR", "step_size", step_size)
        self.gamma = non_negative("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hit = self.last_epoch > 0 and self.last_epoch % self.step_size == 0
        return [lr * self.gamma if hit else lr for lr in self._rates()]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step: lr_t = lr₀ · γ^t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = non_negative("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = self.gamma if self.last_epoch > 0 else 1.0
        return [lr * factor for lr in self._rates()]

    def _get_closed_form_lr(self):
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the base rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then staying there (a warmup, with the defaults):

        lr_t = lr₀ · (s + (e − s) · min(t, T) / T).

    Chainable, as PyTorch's: each step multiplies the current rate by the ratio of this factor
    to the last one, 1 + (e − s) / (T s + (t − 1)(e − s)). As PyTorch: 0 < start_factor <= 1,
    0 <= end_factor <= 1; and total_iters must be a whole number >= 1.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):  # fmt: skip
        owner = "LinearLR"
        self.start_factor = check_number(
            owner, "start_factor", start_factor, "a number in (0, 1]", lambda x: 0 < x <= 1
        )
        self.end_factor = check_number(
            owner, "end_factor", end_factor, "a number in [0, 1]", lambda x: 0 <= x <= 1
        )
        self.total_iters = whole(owner, "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._rates()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._rates()
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * change
        )
        return [lr * ratio for lr in self._rates()]

    def _get_closed_form_lr(self):
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [base * factor for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the rate from the base rate to ``eta_min`` along half a cosine over ``T_max``
    steps (SGDR, Loshchilov and Hutter, 2017, without restarts):

        lr_t = η_min + (lr₀ − η_min)(1 + cos(π t / T_max)) / 2.

    Chainable, as PyTorch's: each step maps the current rate by
    lr ← η_min + (lr − η_min)(1 + cos(π t / T_max)) / (1 + cos(π (t − 1) / T_max)), which
    equals the closed form when nothing else changes the rate. Past T_max the cosine goes on,
    so the rate climbs back to lr₀ at 2·T_max, as in PyTorch. T_max must be a whole number
    >= 1 and eta_min a finite number >= 0.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803 - PyTorch's
        self.T_max = whole("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = non_negative("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._rates()
        if (t - 1 - period) % (2 * period) == 0:  # the bottom: the ratio below would be 0/0
            rise = (1 - math.cos(math.pi / period)) / 2
            return [lr + (base - low) * rise for lr, base in zip(self._rates(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - low) + low for lr in self._rates()]

    def _get_closed_form_lr(self):
        half = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * half for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at each of ``milestones`` (epochs):
    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 95)],
    milestones=[5])`` warms up for 5 epochs, then anneals. At a milestone the next schedule
    starts afresh from the base rate (its closed form at epoch 0), as in PyTorch.

    Every schedule must drive ``optimizer``; there is one milestone fewer than schedules, each
    a whole number >= 1, increasing; ReduceLROnPlateau cannot be one (its step needs a metric).
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_sequence(optimizer, schedulers, milestones)
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # undo what making the schedules did
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            scheduler.last_epoch -= 1
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """Its own attributes, and each schedule's state_dict under ``_schedulers``."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        schedules = state.pop("_schedulers")
        if len(schedules) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: the state has {len(schedules)} schedules, "
                f"this SequentialLR {len(self._schedulers)}"
            )
        self.__dict__.update(state)
        for scheduler, saved in zip(self._schedulers, schedules):
            scheduler.load_state_dict(saved)


def _check_sequence(optimizer, schedulers, milestones):
    schedulers, milestones = list(schedulers), list(milestones)
    if not schedulers:
        raise ValueError("SequentialLR: expected at least one schedule, got none")
    for i, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise TypeError(
                f"SequentialLR: schedule {i} is a ReduceLROnPlateau, whose step needs a metric"
            )
        if not isinstance(scheduler, LRScheduler) or scheduler.optimizer is not optimizer:
            raise ValueError(f"SequentialLR: schedule {i} is not a schedule of this optimizer")
    if len(milestones) != len(schedulers) - 1:
        raise ValueError(
            f"SequentialLR: {len(schedulers)} schedules need {len(schedulers) - 1} milestones, "
            f"got {len(milestones)}"
        )
    milestones = [whole("SequentialLR", "a milestone", m) for m in milestones]
    if milestones != sorted(set(milestones)):
        raise ValueError(f"SequentialLR: milestones must increase, got {milestones}")


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric has stopped improving for more than
    ``patience`` epochs, as ``torch.optim.lr_scheduler.ReduceLROnPlateau``.

    ``step(metric)`` once per epoch with the metric (a number or a one-element tensor). A
    metric is better than the best so far when, for ``mode`` 'min' and ``threshold_mode``
    'rel', it is below best · (1 − threshold) ('abs': below best − threshold; 'max' mirrors
    both). After ``patience`` + 1 epochs without a better one, each rate becomes
    max(lr · factor, min_lr) (if that lowers it by more than ``eps``), and the next
    ``cooldown`` epochs are not counted. A NaN metric is never better, as in PyTorch.

    As PyTorch: factor < 1 (and here >= 0); min_lr a number, or one per group; patience and
    cooldown whole numbers >= 0; threshold and eps finite numbers >= 0.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):  # fmt: skip
        owner = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{owner}: expected an Optimizer, got {type(optimizer).__name__}")
        self.factor = check_number(owner, "factor", factor, "a number in [0, 1)", _fraction)
        self.optimizer = optimizer
        self.default_min_lr, self.min_lrs = _min_lrs(min_lr, len(optimizer.param_groups))
        self.patience = whole(owner, "patience", patience, least=0)
        self.cooldown = whole(owner, "cooldown", cooldown, least=0)
        self.eps = non_negative(owner, "eps", eps)
        self.last_epoch = 0
        self._last_lr = self._rates()
        self._init_is_better(mode, non_negative(owner, "threshold", threshold), threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        for key, value, allowed in [
            ("mode", mode, ("min", "max")),
            ("threshold_mode", threshold_mode, ("rel", "abs")),
        ]:
            if value not in allowed:
                raise ValueError(
                    f"ReduceLROnPlateau: {key} must be {allowed[0]!r} or {allowed[1]!r}, "
                    f"got {value!r}"
                )
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, metric):
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            bar = best * (1.0 - threshold) if self.threshold_mode == "rel" else best - threshold
            return metric < bar
        bar = best * (threshold + 1.0) if self.threshold_mode == "rel" else best + threshold
        return metric > bar

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def step(self, metrics):  # PyTorch's argument name
        """Count this epoch's metric, and lower the rates when it is time."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._rates()

    def _reduce_lr(self):
        if len(self.min_lrs) != len(self.optimizer.param_groups):
            if self.default_min_lr is None:
                raise ValueError(
                    f"ReduceLROnPlateau: the optimizer has {len(self.optimizer.param_groups)} "
                    f"groups now and {len(self.min_lrs)} min_lrs; set min_lrs to one per group"
                )
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for group, low in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, low)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


def _fraction(x):
    return 0 <= x < 1


def _min_lrs(min_lr, groups):
    """(the one min_lr given, or None) and the min_lr of each group."""
    if isinstance(min_lr, (list, tuple)):
        if len(min_lr) != groups:
            raise ValueError(
                f"ReduceLROnPlateau: expected {groups} min_lrs (one per group), got {len(min_lr)}"
            )
        return None, [non_negative("ReduceLROnPlateau", "min_lr", m) for m in min_lr]
    min_lr = non_negative("ReduceLROnPlateau", "min_lr", min_lr)
    return min_lr, [min_lr] * groups


def scale_lr_(optimizer, factor):
    """Multiply every group's learning rate by ``factor`` now, e.g. 0.5 to halve it after a
    divergence. Returns the new rates."""
    factor = positive("scale_lr_", "factor", factor)
    for group in optimizer.param_groups:
        group["lr"] *= factor
    return [group["lr"] for group in optimizer.param_groups]
