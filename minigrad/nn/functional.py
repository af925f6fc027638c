"""``minigrad.nn.functional``, the path PyTorch users write (``import minigrad.nn.functional as
F``). It holds the functions of ``minigrad.functional`` themselves, under a second name: one
implementation, defined there."""

from ..functional import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    elu,
    embedding,
    gelu,
    layer_norm,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mse_loss,
    nll_loss,
    one_hot,
    pad,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)

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
