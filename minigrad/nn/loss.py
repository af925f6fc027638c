"""Losses as modules, wrapping ``minigrad.functional``."""

from .. import functional as F
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            name = type(self).__name__
            raise ValueError(
                f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy with integer class targets: ``F.cross_entropy(input, target)``.

    input: (N, C) or (C,) logits;  target: (N,) or () class indices. The mean over an
    empty batch (N = 0) is a ValueError; its sum is 0.
    """

    def forward(self, input, target):  # noqa: A002 - PyTorch's argument name
        return F.cross_entropy(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error: ``F.mse_loss(input, target)``."""

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)
