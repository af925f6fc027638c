"""``minigrad.nn.functional``, the path PyTorch users write (``import minigrad.nn.functional as
F``). It holds the functions of ``minigrad.functional`` themselves, under a second name: one
implementation, defined there."""

from ..functional import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    embedding,
    layer_norm,
    log_softmax,
    mse_loss,
    nll_loss,
    one_hot,
    relu,
    sigmoid,
    softmax,
    tanh,
)

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "embedding",
    "layer_norm",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
