"""Parameter: a Tensor that a Module registers and an optimiser updates."""

from ..array_methods import check_requires_grad
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad, as ``torch.nn.Parameter``.

    ``Parameter(data)`` accepts a numpy array, a list or a Tensor. A Tensor's
    data is shared, not copied, as in PyTorch; anything else is copied. It
    must be float32 or float64, and ``requires_grad`` True or False. Assigned as a
    Module attribute, it registers itself under that name.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        requires_grad = check_requires_grad(requires_grad, "Parameter")
        shared = isinstance(data, Tensor)
        super().__init__(data, copy=not shared)
        if shared:
            self._share_memory_with(data)
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
