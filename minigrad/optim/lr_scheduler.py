"""Learning-rate schedules, as ``torch.optim.lr_scheduler``.

They are chainable, as PyTorch's: each scales the current rate of a group. A factor must be a
finite number (``gamma`` >= 0, ``scale_lr_``'s factor > 0): a NaN, inf or negative one is
refused when it is given, not found later in every rate.
"""

from .optimizer import check_number, non_negative, positive


class LRScheduler:
    """Base class. ``step()`` once per epoch (or step) after ``optimizer.step()``."""

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self):
        raise NotImplementedError

    def step(self):
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = check_number(
            "StepLR", "step_size", step_size, "a whole number > 0", lambda x: x > 0 and x == int(x)
        )
        self.gamma = non_negative("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hit = self.last_epoch > 0 and self.last_epoch % self.step_size == 0
        return [g["lr"] * self.gamma if hit else g["lr"] for g in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = non_negative("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = self.gamma if self.last_epoch > 0 else 1.0
        return [g["lr"] * factor for g in self.optimizer.param_groups]


def scale_lr_(optimizer, factor):
    """Multiply every group's learning rate by ``factor`` now, e.g. 0.5 to halve it after a
    divergence. Returns the new rates."""
    factor = positive("scale_lr_", "factor", factor)
    for group in optimizer.param_groups:
        group["lr"] *= factor
    return [group["lr"] for group in optimizer.param_groups]
