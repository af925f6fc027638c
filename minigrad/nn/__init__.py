"""Layers, as in ``torch.nn``: Module and Parameter, the containers (Sequential, ModuleList,
ModuleDict, ParameterList), Linear, Embedding, Dropout, LayerNorm, the recurrent layers (RNN,
LSTM, GRU and their cells, and the layer-normalised LSTM), losses, ``functional`` (F), ``init``
and ``utils`` (clipping)."""

from . import functional, init, utils
from .container import ModuleDict, ModuleList, ParameterList, Sequential
from .dropout import Dropout
from .layer_norm_lstm import LayerNormLSTM, LayerNormLSTMCell
from .linear import Embedding, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .normalization import LayerNorm
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
    "LayerNorm",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
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
