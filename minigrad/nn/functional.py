"""``minigrad.nn.functional``, the path PyTorch users write (``import minigrad.nn.functional as
F``). It holds the functions of ``minigrad.functional`` themselves, under a second name: one
implementation, defined there."""

from ..functional import *  # noqa: F403 - every function, under PyTorch's path
from ..functional import __all__  # noqa: F401 - the same names
