"""Optimisers, as ``torch.optim``: SGD, Adam, and ``lr_scheduler``."""

from . import lr_scheduler
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer", "lr_scheduler"]
