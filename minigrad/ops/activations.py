"""Activations beyond relu, sigmoid and tanh, as ``torch.nn.functional`` has them: softplus, an
op, and logsigmoid, silu, gelu, elu and leaky_relu, compositions of ops.

A composition defines no gradient: its backward (and its JVP) comes from the
ops it is made of, so it needs no rule of its own. Where a function has two
branches, both are written with ``where``, and the branch not taken is given
a harmless input (``where(x > 0, 0, x)`` for eˣ − 1), so that neither its
value nor its gradient can overflow or turn into NaN.
"""

import math

import numpy as np

from ..graph import Op
from .elementwise import sigmoid, tanh, where
from .special import erf, expm1


class Softplus(Op):
    """z = (1/β)·ln(1 + e^(βx)), and z = x where βx > threshold, as PyTorch's softplus
    (β = 1, threshold = 20 by default).    dz/dx = σ(βx), and 1 where βx > threshold.

    ln(1 + e^(βx)) is computed as logaddexp(0, βx), which never overflows, and the
    rule uses the exact sigmoid (σ(βx) is not 1 − something that cancels).
    """

    saves = {"x": "x"}

    def forward(self, x, beta=1.0, threshold=20.0):
        bx = x * beta
        return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)

    def backward(self, grad, z, x, beta=1.0, threshold=20.0):
        bx = x * beta
        return where(bx > threshold, grad, grad * sigmoid(bx))

    def jvp(self, tangents, z, x, beta=1.0, threshold=20.0):
        return self.backward(tangents[0], z, x, beta, threshold)  # diagonal: Jt = Jᵀt


softplus = Softplus()


def logsigmoid(x):
    """ln σ(x) = −softplus(−x) = −ln(1 + e^(−x)), exact for every x (no threshold).

    d/dx ln σ(x) = σ(−x).
    """
    return -softplus(-x, 1.0, math.inf)


def silu(x):
    """x·σ(x) (also called swish).    d/dx = σ(x) + x·σ(x)·σ(−x)."""
    return x * sigmoid(x)


def gelu(x, approximate="none"):
    """The Gaussian error linear unit, x·Φ(x) with Φ the standard normal CDF, as PyTorch's:

    * ``approximate="none"``: x · ½(1 + erf(x/√2)), exactly;
    * ``approximate="tanh"``: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
    """
    if approximate == "none":
        return x * (0.5 * (1 + erf(x * math.sqrt(0.5))))
    if approximate == "tanh":
        return 0.5 * x * (1 + tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * (x * x * x))))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def elu(x, alpha=1.0):
    """x for x > 0, else α(eˣ − 1), as PyTorch's.    d/dx = 1 for x > 0, else α·eˣ (α at 0)."""
    positive = x > 0
    return where(positive, x, alpha * expm1(where(positive, 0.0, x)))


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, else negative_slope·x, as PyTorch's.    d/dx = 1 for x > 0, else the slope
    (the slope at 0, as in PyTorch)."""
    return where(x > 0, x, negative_slope * x)
