"""Losses as modules, wrapping ``minigrad.functional``'s losses (``losses.py``)."""

from .. import functional as F
from ..losses import REDUCTIONS, check_fraction
from ..tensor import Tensor
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            name = type(self).__name__
            raise ValueError(
                f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


def _ignore_index(owner, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: ignore_index must be an int, got {value!r}")
    return value


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy with integer class targets: ``F.cross_entropy(input, target)``.

    input: (N, C) or (C,) logits;  target: (N,) or () class indices, or ``ignore_index``
    (−100), whose loss is 0 and which the mean leaves out. ``label_smoothing`` ε ∈ [0, 1] mixes
    the target with the uniform distribution. A mean with no terms is a ValueError; a sum of
    none is 0.
    """

    def __init__(self, reduction="mean", *, ignore_index=-100, label_smoothing=0.0):
        super().__init__(reduction)
        self.ignore_index = _ignore_index("CrossEntropyLoss", ignore_index)
        check_fraction(label_smoothing, "CrossEntropyLoss", "label_smoothing")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002 - PyTorch's argument name
        return F.cross_entropy(
            input,
            target,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_Loss):
    """The negative log-likelihood of class targets, given log-probabilities:
    ``F.nll_loss(input, target)``, with ``ignore_index`` as ``CrossEntropyLoss``."""

    def __init__(self, reduction="mean", *, ignore_index=-100):
        super().__init__(reduction)
        self.ignore_index = _ignore_index("NLLLoss", ignore_index)

    def forward(self, input, target):  # noqa: A002
        return F.nll_loss(input, target, reduction=self.reduction, ignore_index=self.ignore_index)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable expression:
    ``F.binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight)``.

    ``weight`` and ``pos_weight`` (Tensors, or None) are buffers, as in PyTorch: in the
    ``state_dict`` when given.
    """

    def __init__(self, weight=None, reduction="mean", *, pos_weight=None):
        super().__init__(reduction)
        for name, value in (("weight", weight), ("pos_weight", pos_weight)):
            if value is None:
                object.__setattr__(self, name, None)
            elif isinstance(value, Tensor):
                self.register_buffer(name, value)
            else:
                kind = type(value).__name__
                raise TypeError(f"BCEWithLogitsLoss: {name} must be a Tensor or None, got {kind}")

    def forward(self, input, target):  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


class MSELoss(_Loss):
    """Mean squared error: ``F.mse_loss(input, target)``."""

    def forward(self, input, target):  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)
