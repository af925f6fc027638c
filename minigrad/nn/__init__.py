"""Layers, as in ``torch.nn``: Module and Parameter, Linear, Embedding, Dropout, Sequential, the
recurrent layers (RNN, LSTM, GRU and their cells), losses, ``init`` and ``utils`` (clipping)."""

from . import init, utils
from .container import Sequential
from .dropout import Dropout
from .linear import Embedding, Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "GRUCell",
    "LSTMCell",
    "Linear",
    "MSELoss",
    "Module",
    "Parameter",
    "RNNCell",
    "Sequential",
    "init",
    "utils",
]
