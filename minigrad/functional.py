"""The functional forms, as ``torch.nn.functional``: softmax, layer_norm, dropout, one_hot and
embedding, defined here; the losses, from ``losses.py``; and the activations and log_softmax,
which are ops.

Import it as ``import minigrad.nn.functional as F``, the path PyTorch users write, or as
``import minigrad.functional as F``: the two names hold the same functions.

Nothing here defines a gradient: each function is a composition of
registered ops, so its backward comes from theirs.
"""

import numpy as np

from . import ops
from .array_methods import values_of
from .creation import dropout_mask
from .losses import (
    _class_indices,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
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


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Layer normalisation (Ba, Kiros and Hinton, 2016), as ``torch.nn.functional.layer_norm``.

    input: (..., *normalized_shape);  weight, bias: normalized_shape (or None).
    Over the last len(normalized_shape) axes, the D features of each sample:
        μ = (1/D) Σ x,   σ² = (1/D) Σ (x − μ)²   (the biased variance, as PyTorch),
        x̂ = (x − μ) / √(σ² + eps),   y = x̂ ⊙ weight + bias.
    dy/dx = (weight/√(σ² + eps)) (I − 1/D − x̂ x̂ᵀ/D) for one sample: each output depends on
    every feature of its sample, through μ and σ².
    """
    shape = _check_layer_norm(input, normalized_shape, weight, bias, eps)
    axes = tuple(range(-len(shape), 0))
    centred = input - input.mean(axes, keepdims=True)
    variance = (centred * centred).mean(axes, keepdims=True)
    out = centred / ops.sqrt(variance + eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def _check_layer_norm(input, shape, weight, bias, eps):  # noqa: A002
    """layer_norm's arguments checked; returns the normalized shape as a tuple."""
    shape = normalized_shape(shape, "layer_norm")
    if not isinstance(input, Tensor) or input.shape[input.ndim - len(shape) :] != shape:
        got = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"layer_norm: input must end with the normalized shape {shape}, got {got}")
    for key, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(param.shape) != shape:
            raise ValueError(
                f"layer_norm: {key} must have the normalized shape {shape}, got {param.shape}"
            )
    check_eps(eps, "layer_norm")
    return shape


def normalized_shape(shape, name):
    """An int or a sequence of ints > 0, as a tuple (``name`` begins the messages)."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{name}: normalized_shape must be an int or ints, got {shape!r}") from None
    if not shape or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in shape
    ):
        raise ValueError(f"{name}: normalized_shape must hold ints > 0, got {shape}")
    return tuple(int(n) for n in shape)


def check_eps(eps, name):
    """A finite number >= 0, added to the variance before its square root."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.number)):
        raise TypeError(f"{name}: eps must be a number >= 0, got {eps!r}")
    if not 0 <= eps < np.inf:
        raise ValueError(f"{name}: eps must be a finite number >= 0, got {eps}")
    return eps


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


__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "layer_norm",
    "leaky_relu",
    "log_softmax",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
