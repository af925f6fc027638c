"""Linear and Embedding: the layers of a language model around its recurrent core."""

import math

import numpy as np

from .. import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def check_sizes(layer, **sizes):
    """Every size must be a positive int: a clear error instead of a strange shape later."""
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{layer}: {name} must be an int, got {value!r}")
        if value <= 0:
            raise ValueError(f"{layer}: {name} must be positive, got {value}")


def check_flags(layer, **flags):
    """Every flag must be a bool: a number or a string in its place is most likely an argument
    given in the wrong position, which would otherwise be read as true."""
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{layer}: {name} must be a bool, got {value!r}")


def new_parameter(*shape, dtype=None):
    """A Parameter of zeros, to be filled by an initialiser."""
    return Parameter(np.zeros(shape, dtype=np.float64 if dtype is None else dtype))


class Linear(Module):
    """y = x Wᵀ + b.    x: (*, in_features) → y: (*, out_features).

    ``weight`` is (out_features, in_features) and ``bias`` (out_features,), as
    in PyTorch, and both start as U(−1/√in_features, 1/√in_features), the
    distribution PyTorch's default initialisation gives.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        check_flags("Linear", bias=bias)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = new_parameter(out_features, in_features, dtype=dtype)
        self.register_parameter("bias", new_parameter(out_features, dtype=dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: expected input of shape (*, {self.in_features}), got {tuple(x.shape)}"
            )
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Embedding(Module):
    """out = weight[indices]: one row of ``weight`` (num_embeddings, embedding_dim) per index.

    The same as one_hot(indices) @ weight. ``weight`` starts as N(0, 1), as in PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim, dtype=None):
        super().__init__()
        check_sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.weight = new_parameter(num_embeddings, embedding_dim, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
