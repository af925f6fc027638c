"""Layers, as in ``torch.nn``: Module and Parameter, the containers (Sequential, ModuleList,
ModuleDict, ParameterList), Linear, Embedding, Dropout, the recurrent layers (RNN, LSTM, GRU and
their cells), losses, ``functional`` (F), ``init`` and ``utils`` (clipping)."""

from . import functional, init, utils
from .container import ModuleDict, ModuleList, ParameterList, Sequential
from .dropout import Dropout
from .linear import Embedding, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "GRUCell",
    "LSTMCell",
    "Linear",
    "MSELoss",
    "NLLLoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ParameterList",
    "RNNCell",
    "Sequential",
    "functional",
    "init",
    "utils",
]
