"""In-place initialisers, drawing from minigrad's one seeded generator (``manual_seed``).

They change ``tensor.data`` in place under ``no_grad`` and return the tensor,
as ``torch.nn.init`` does.
"""

from ..grad_mode import no_grad
from ..random import default_generator


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    with no_grad():
        return tensor.copy_(default_generator.uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std²)."""
    with no_grad():
        return tensor.copy_(default_generator.normal(mean, std, tensor.shape))


def constant_(tensor, value):
    with no_grad():
        return tensor.fill_(value)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)
