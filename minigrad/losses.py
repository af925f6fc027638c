"""Losses built from ops, as in ``torch.nn.functional``: cross_entropy, nll_loss, mse_loss and
binary_cross_entropy_with_logits. ``minigrad.functional`` (``F``) holds them.

Nothing here defines a gradient: each loss is a composition of registered
ops, so its backward comes from theirs. Each stays exact and silent at the
ends of float64's range (±1e308): log-probabilities come from
``log_softmax``, which subtracts the maximum first, and softplus is written
so that no exponential can overflow.
"""

import math

import numpy as np

from . import ops
from .tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, name, shape, count=None):
    """The loss per element averaged, summed or as it is. The mean divides by ``count`` (the
    targets not ignored; by default every element). A mean of none is undefined (PyTorch gives
    nan), so it raises, naming the input ``shape``; a sum of none is 0."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if 0 in loss.shape:
        raise ValueError(
            f"{name}: cannot average the loss of an empty batch (input of shape {shape}); "
            "reduction='sum' gives 0 and 'none' an empty loss"
        )
    return loss.mean() if count is None else loss.sum() / count


def _class_indices(targets, n_classes, name, ignore_index=None):
    """Check integer class targets: each in [0, n_classes), or equal to ``ignore_index``. A
    Tensor is returned as it is, so that it stays an input of the ops that use it (and of a
    compiled function); anything else as an int array."""
    values = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if values.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {values.dtype}")
    bad = (values < 0) | (values >= n_classes)
    if ignore_index is not None:
        bad &= values != ignore_index
    if bad.any():
        ignored = "" if ignore_index is None else f" and is not ignore_index ({ignore_index})"
        raise ValueError(
            f"{name}: index {values[bad].flat[0]} is out of range [0, {n_classes}){ignored}"
        )
    return targets if isinstance(targets, Tensor) else values


def _check_classes(input, targets, name, ignore_index, what):  # noqa: A002 - PyTorch's name
    """Check (N, C) or (C,) scores (``what`` they are: logits, log-probabilities) and their class
    targets, (N,) or (); return the targets."""
    if not isinstance(input, Tensor) or input.ndim not in (1, 2):
        shape = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{name}: {what} must be a Tensor of shape (N, C) or (C,), got {shape}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    targets = _class_indices(targets, input.shape[-1], name, ignore_index)
    if targets.shape != input.shape[:-1]:
        raise ValueError(
            f"{name}: {what} of shape {input.shape} need targets of shape {input.shape[:-1]}, "
            f"got {targets.shape}"
        )
    return targets


def _kept(targets, ignore_index):
    """(keep, safe): whether each target is not ``ignore_index``, and the targets with each
    ignored one replaced by class 0, so that they can index (its loss is masked out).

    For a Tensor of targets both are ops (t − ignore_index cast to bool is t ≠ ignore_index), so
    that a compiled function recomputes them for the targets of each call."""
    if isinstance(targets, Tensor):
        if targets.dtype.kind == "u":  # so that t − ignore_index cannot wrap around
            targets = ops.to(targets, np.int64)
        keep = ops.to(targets - ignore_index, bool)
        return keep, ops.where(keep, targets, 0)
    keep = targets != ignore_index
    return keep, np.where(keep, targets, 0)


def _picked(logp, index):
    """logp[n, index_n] for each row n (logp: (N, C)), or logp[index] (logp: (C,))."""
    return logp[index] if logp.ndim == 1 else logp[np.arange(logp.shape[0]), index]


def _class_loss(logp, targets, reduction, name, ignore_index, label_smoothing=0.0):
    """−logp at the target, mixed with the uniform target's loss when smoothing, 0 where the
    target is ignored, then reduced; the mean is over the targets not ignored."""
    keep, safe = _kept(targets, ignore_index)
    loss = -_picked(logp, safe)
    if label_smoothing > 0:
        n_classes = logp.shape[-1]
        loss = (1 - label_smoothing) * loss + (label_smoothing / n_classes) * -logp.sum(axis=-1)
    loss = ops.where(keep, loss, 0.0)
    count = None
    if reduction == "mean":
        count = _kept_count(keep, targets, ignore_index, name, loss.dtype)
    return _reduce(loss, reduction, name, logp.shape, count)


def _kept_count(keep, targets, ignore_index, name, dtype):
    """How many targets are not ignored: the mean's divisor (an op of the loss's ``dtype``, for
    a Tensor of targets). None of them is a ValueError, as an empty batch is."""
    values = targets.data if isinstance(targets, Tensor) else targets
    if values.size and not np.any(values != ignore_index):
        raise ValueError(
            f"{name}: every target is ignore_index ({ignore_index}), so the mean has no "
            "terms (PyTorch gives nan); reduction='sum' gives 0"
        )
    return ops.to(keep, dtype).sum() if isinstance(keep, Tensor) else int(keep.sum())


def nll_loss(input, target, reduction="mean", *, ignore_index=-100):  # noqa: A002
    """The negative log-likelihood of class targets, as ``torch.nn.functional.nll_loss``.

    input: (N, C) or (C,) log-probabilities (``log_softmax``'s output);  target: (N,) or ()
    integers in [0, C), or ``ignore_index``.
    loss_n = −input[n, target_n], and 0 where target_n = ignore_index;
    'mean' = Σ_n loss_n / (number of targets not ignored), 'sum' = Σ_n loss_n, 'none' = loss_n.
    d loss_n / d input[n, c] = −[c = target_n] (0 for an ignored target).

    A mean with no terms (an empty batch, or every target ignored) is a ValueError, where
    PyTorch returns nan. No class weights (PyTorch's ``weight``).
    """
    targets = _check_classes(input, target, "nll_loss", ignore_index, "log-probabilities")
    return _class_loss(input, targets, reduction, "nll_loss", ignore_index)


def cross_entropy(input, target, reduction="mean", *, ignore_index=-100, label_smoothing=0.0):  # noqa: A002
    """Softmax cross-entropy with integer class targets, as ``torch.nn.functional.cross_entropy``.

    input: (N, C) or (C,) logits;  target: (N,) or () integers in [0, C), or ``ignore_index``.
    With logp = log_softmax(input) and ε = label_smoothing:
        loss_n = (1 − ε)(−logp[n, target_n]) + (ε/C) Σ_c −logp[n, c],
    0 where target_n = ignore_index; reduced as ``nll_loss`` (the mean over the targets not
    ignored). With ε = 0 this is logsumexp(input_n) − input[n, target_n], and
    d loss_n / d input_n = softmax(input_n) − onehot(target_n); with ε it is
    softmax(input_n) − ((1 − ε) onehot(target_n) + ε/C).

    A mean with no terms (an empty batch, or every target ignored) is a ValueError (PyTorch
    returns nan); 'sum' gives 0 and 'none' a loss of shape (0,) or zeros. Probability targets
    and class weights (PyTorch's ``weight``) are not supported.
    """
    targets = _check_classes(input, target, "cross_entropy", ignore_index, "logits")
    check_fraction(label_smoothing, "cross_entropy", "label_smoothing")
    logp = ops.log_softmax(input, -1)
    return _class_loss(logp, targets, reduction, "cross_entropy", ignore_index, label_smoothing)


def mse_loss(input, target, reduction="mean"):  # noqa: A002 - PyTorch's argument name
    """Mean squared error: loss = (input − target)², then reduced.

    d loss/d input = 2(input − target)/n for the mean over n elements. With no
    elements, ``'mean'`` raises a ValueError, ``'sum'`` gives 0 and ``'none'`` an empty loss.
    """
    target_shape = np.shape(target.data if isinstance(target, Tensor) else target)
    if input.shape != target_shape:
        raise ValueError(
            f"mse_loss: input shape {input.shape} and target shape {target_shape} differ"
        )
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss", input.shape)


def _softplus(x):
    """ln(1 + eˣ), with no threshold: exact for every x."""
    return ops.softplus(x, 1.0, math.inf)


def binary_cross_entropy_with_logits(
    input,  # noqa: A002 - PyTorch's argument name
    target,
    weight=None,
    reduction="mean",
    pos_weight=None,
):
    """Sigmoid then binary cross-entropy in one stable expression, as PyTorch's.

    input: logits x of any shape;  target: probabilities y ∈ [0, 1], a float array of the same
    shape;  weight: broadcasts to it (each element's weight);  pos_weight p: broadcasts along
    the last axis (the weight of the positive class).
        loss = −w [p y log σ(x) + (1 − y) log(1 − σ(x))]
             = w [p y softplus(−x) + (1 − y) softplus(x)],
    since −log σ(x) = softplus(−x) and −log(1 − σ(x)) = softplus(x): two terms that are
    never negative, so nothing cancels and the loss is exact even where it is tiny;
    then averaged over every element ('mean'), summed or returned ('none').
    d loss/dx = w [(1 + (p − 1) y) σ(x) − p y]  (σ(x) − y without weights).
    """
    name = "binary_cross_entropy_with_logits"
    y = target.data if isinstance(target, Tensor) else np.asarray(target)
    if y.dtype.kind != "f":
        raise TypeError(f"{name}: target must hold float probabilities, got dtype {y.dtype}")
    if y.shape != input.shape:
        raise ValueError(
            f"{name}: target of shape {y.shape} must have the input's shape {input.shape}"
        )
    y = target if isinstance(target, Tensor) else y
    positive = y if pos_weight is None else pos_weight * y
    loss = positive * _softplus(-input) + (1 - y) * _softplus(input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, name, input.shape)


def check_fraction(value, name, key):
    """A number in [0, 1], as PyTorch requires of label_smoothing."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {key} must be a number in [0, 1], got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name}: {key} must be a number in [0, 1], got {value}")
