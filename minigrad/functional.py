"""Functions built from ops: softmax, losses, dropout, one-hot and embedding (and log_softmax,
an op).

Import it as ``import minigrad.functional as F``.

Nothing here defines a gradient: each function is a composition of
registered ops, so its backward comes from theirs.
"""

import numpy as np

from . import ops
from .array_methods import values_of
from .creation import dropout_mask
from .ops.arguments import takes_dim
from .tensor import Tensor

log_softmax = ops.log_softmax  # an op of its own, with one fused backward rule
# the activations and padding of torch.nn.functional (minigrad/ops/activations.py, selection.py)
elu, gelu, leaky_relu, logsigmoid = ops.elu, ops.gelu, ops.leaky_relu, ops.logsigmoid
pad, relu, sigmoid, silu, softplus, tanh = (
    ops.pad,
    ops.relu,
    ops.sigmoid,
    ops.silu,
    ops.softplus,
    ops.tanh,
)


@takes_dim
def softmax(x, axis=-1):
    """softmax(x)_i = e^(x_i) / Σ_j e^(x_j), computed as exp(log_softmax(x)) so it never overflows.

    d softmax_i / d x_j = softmax_i ([i = j] − softmax_j).
    """
    return ops.exp(log_softmax(x, axis))


def _reduce(loss, reduction, name, shape):
    """The loss per element averaged, summed or as it is. A mean of no elements is undefined
    (PyTorch gives nan), so it raises, naming the input ``shape``; a sum of none is 0."""
    if reduction == "mean":
        if 0 in loss.shape:
            raise ValueError(
                f"{name}: cannot average the loss of an empty batch (input of shape {shape}); "
                "reduction='sum' gives 0 and 'none' an empty loss"
            )
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _class_indices(targets, n_classes, name):
    """Check integer class targets. A Tensor is returned as it is, so that it stays an input of
    the indexing op (and of a compiled function); anything else as an int array."""
    values = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if values.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {values.dtype}")
    if values.size and (values.min() < 0 or values.max() >= n_classes):
        bad = values[(values < 0) | (values >= n_classes)].flat[0]
        raise ValueError(f"{name}: index {bad} is out of range [0, {n_classes})")
    return targets if isinstance(targets, Tensor) else values


def cross_entropy(logits, targets, reduction="mean"):
    """Softmax cross-entropy with integer class targets, as ``torch.nn.functional.cross_entropy``.

    logits: (N, C) or (C,);  targets: (N,) or () integers in [0, C).
    loss_n = −log softmax(logits_n)[targets_n] = logsumexp(logits_n) − logits_n[targets_n],
    then averaged (``'mean'``), summed (``'sum'``) or returned per row (``'none'``).
    d loss_n / d logits_n = softmax(logits_n) − onehot(targets_n).

    An empty batch (N = 0) has no mean: ``'mean'`` raises a ValueError (PyTorch
    returns nan). ``'sum'`` gives 0 and ``'none'`` a loss of shape (0,).
    """
    if logits.ndim not in (1, 2):
        raise ValueError(f"cross_entropy: logits must be (N, C) or (C,), got shape {logits.shape}")
    targets = _class_indices(targets, logits.shape[-1], "cross_entropy")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(
            f"cross_entropy: logits of shape {logits.shape} need targets of shape "
            f"{logits.shape[:-1]}, got {targets.shape}"
        )
    logp = log_softmax(logits, axis=-1)
    if logits.ndim == 1:
        picked = logp[targets]
    else:
        picked = logp[np.arange(len(targets)), targets]
    return _reduce(-picked, reduction, "cross_entropy", logits.shape)


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


def one_hot(indices, num_classes=-1):
    """An int64 tensor with a 1 at each index along a new last axis (``F.one_hot`` in PyTorch).

    ``num_classes=-1`` uses max(indices) + 1.
    """
    raw = values_of(indices, "one_hot") if isinstance(indices, Tensor) else np.asarray(indices)
    if num_classes == -1:
        if raw.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(raw.max()) + 1
    raw = _class_indices(raw, num_classes, "one_hot")
    return Tensor._wrap(np.eye(num_classes, dtype=np.int64)[raw])


def embedding(indices, weight):
    """Rows of ``weight`` picked by ``indices``: out[...] = weight[indices[...]].

    indices: integers of any shape in [0, V);  weight: (V, E);  out: indices.shape + (E,).
    This equals one_hot(indices, V) @ weight, without building the one-hot
    matrix. ∂L/∂weight[v] = Σ of ∂L/∂out over the positions where indices == v.
    """
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be (num_embeddings, dim), got shape {weight.shape}"
        )
    indices = _class_indices(indices, weight.shape[0], "embedding")
    return weight[indices]


def dropout(input, p=0.5, training=True):  # noqa: A002 - PyTorch's argument name
    """Inverted dropout, as ``torch.nn.functional.dropout``: in training, each element is zeroed
    with probability p and the others are scaled by 1/(1 − p), so the mean is kept:

        dropout(x) = x ⊙ m,   m_i = 0 with probability p, else 1/(1 − p);   ∂L/∂x = ∂L/∂z ⊙ m.

    The mask is drawn from the seeded generator (``creation.dropout_mask``), and the
    product is the ``mul`` op, so the gradient is mul's. Not training, or with p = 0, it
    returns ``input`` itself.
    """
    check_probability(p, "dropout")
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        what = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"dropout: expected a float Tensor, got {what}")
    if not training or p == 0:
        return input
    return input * dropout_mask(input.shape, p, input.dtype)


def check_probability(p, name):
    """A dropout probability: a number in [0, 1], as PyTorch requires."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: the dropout probability must be a number, got {p!r}")
    if not 0 <= p <= 1:
        raise ValueError(f"{name}: the dropout probability must be in [0, 1], got {p}")
