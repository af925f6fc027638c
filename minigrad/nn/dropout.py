"""Dropout, as ``torch.nn.Dropout``: on in training mode, the identity in eval mode."""

from .. import functional as F
from .module import Module


class Dropout(Module):
    """Inverted dropout (``minigrad.functional.dropout``): in training mode each element is
    zeroed with probability ``p`` and the rest scaled by 1/(1 − p); after ``eval()`` the input
    passes unchanged."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F.check_probability(p, "Dropout")
        if inplace:
            raise TypeError("Dropout: inplace=True is not supported by minigrad")
        self.p = p

    def forward(self, input):  # noqa: A002 - PyTorch's argument name
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
