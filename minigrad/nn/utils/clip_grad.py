"""Gradient clipping, with the semantics of ``torch.nn.utils``.

Norm clipping (Pascanu, Mikolov and Bengio, 2013, Algorithm 1) treats all the
gradients as one vector g. If ‖g‖ exceeds ``max_norm`` it is scaled down to
length ``max_norm``:

    g ← g · min(1, max_norm / (‖g‖ + 1e-6))

It **keeps the direction** of the step and bounds only its length, so an
exploding gradient cannot throw the parameters arbitrarily far. Value
clipping (``clip_grad_value_``) instead clamps each element, which changes
the direction.
"""

import math
import numbers

import numpy as np

from ...grad_mode import no_grad
from ...tensor import Tensor


def _as_list(tensors):
    """A single Tensor, or any iterable of them (a generator is consumed exactly once)."""
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _check_norm_type(norm_type):
    norm_type = float(norm_type)
    if not (norm_type > 0):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    return norm_type


def _vector_norm(array, p):
    """‖array‖_p over all its elements, computed in float64."""
    a = np.asarray(array, dtype=np.float64).ravel()
    if a.size == 0:
        return 0.0
    if p == 2.0:
        return float(np.sqrt(np.dot(a, a)))
    a = np.abs(a)
    if p == math.inf:
        return float(a.max())
    return float(np.sum(a**p) ** (1.0 / p))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The p-norm of the per-tensor p-norms: the norm of all ``tensors`` viewed as one vector.

    For ``norm_type=inf`` it is the largest absolute value. Computed in
    float64; returned as a 0-d float64 Tensor (0.0 for no tensors). With
    ``error_if_nonfinite``, a NaN or infinite total raises RuntimeError.
    """
    p = _check_norm_type(norm_type)
    tensors = _as_list(tensors)
    norms = [_vector_norm(t.data, p) for t in tensors]
    total = _vector_norm(norms, p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"get_total_norm: the total norm of order {p} of the gradients is {total}, so they "
            "cannot be clipped; set error_if_nonfinite=False to scale by it anyway"
        )
    return Tensor._wrap(np.asarray(total))


def _check_limit(value, name, key):
    """A number >= 0; inf means no limit, as in PyTorch. NaN is refused (PyTorch takes it and
    turns every gradient into NaN), and so is a negative number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = type(value).__name__
        raise TypeError(f"{name}: {key} must be a number >= 0, got {kind} {value!r}")
    if not value >= 0:
        raise ValueError(f"{name}: {key} must be non-negative (inf for no limit), got {value}")
    return float(value)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    Each ``.grad`` is multiplied in place by min(1, max_norm / (total + 1e-6)),
    so below the threshold nothing changes and above it the joint gradient
    keeps its direction and gets length ``max_norm``. Parameters whose grad is
    None are skipped. Returns the total norm from **before** clipping.

    Non-finite norms, as in PyTorch: with ``error_if_nonfinite=True`` a NaN or
    inf total raises before any gradient is touched. Otherwise an inf total
    gives the factor 0, so finite entries become 0 and infinite ones NaN; a
    NaN total gives the factor NaN, so every gradient becomes NaN. Either way
    the returned total shows it, which is how a training loop can detect it.
    """
    max_norm = _check_limit(max_norm, "clip_grad_norm_", "max_norm")
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    factor = float(max_norm) / (total.item() + 1e-6)
    factor = factor if math.isnan(factor) else min(factor, 1.0)
    with no_grad(), np.errstate(invalid="ignore"):
        for g in grads:
            g.mul_(factor)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [−clip_value, clip_value], in place.

    Unlike norm clipping this changes the direction of the gradient. ``clip_value`` must be a
    number >= 0 (inf: no clipping); NaN is a ValueError.
    """
    clip_value = _check_limit(clip_value, "clip_grad_value_", "clip_value")
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)
