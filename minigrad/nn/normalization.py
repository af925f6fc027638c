"""LayerNorm (Ba, Kiros and Hinton, 2016), as ``torch.nn.LayerNorm``."""

import numpy as np

from .. import functional as F
from .linear import check_flags
from .module import Module
from .parameter import Parameter


class LayerNorm(Module):
    """Normalise each sample over its last axes, then scale and shift:

        y = (x − μ) / √(σ² + eps) ⊙ weight + bias,

    with μ and σ² (the biased variance) over the last len(normalized_shape) axes
    (``F.layer_norm``). x: (*, *normalized_shape) → y of the same shape. ``weight`` starts at
    ones and ``bias`` at zeros, as in PyTorch; ``elementwise_affine=False`` has neither, and
    ``bias=False`` no bias. Unlike batch normalisation, nothing depends on the other samples
    of the batch, and training and evaluation compute the same thing: which suits recurrent
    networks, normalised anew at every step.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        check_flags("LayerNorm", elementwise_affine=elementwise_affine, bias=bias)
        self.normalized_shape = F.normalized_shape(normalized_shape, "LayerNorm")
        self.eps = F.check_eps(eps, "LayerNorm")
        self.elementwise_affine = elementwise_affine
        affine, shape = elementwise_affine, self.normalized_shape
        self.register_parameter("weight", _filled(shape, 1.0, dtype) if affine else None)
        self.register_parameter("bias", _filled(shape, 0.0, dtype) if affine and bias else None)

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


def _filled(shape, value, dtype):
    return Parameter(np.full(shape, value, dtype=np.float64 if dtype is None else dtype))
