"""CharRNN: the character-level language model: embedding, recurrent core, linear head.

    tokens (T, N) → Embedding → (T, N, E) → RNN/LSTM/GRU → (T, N, H) → Dropout → Linear
                                                                             → logits (T, N, V)

The embedding is "one-hot, then a matrix": ``embedding(x) = one_hot(x) @ E``.
``dropout`` p applies, in training mode, to the core's output before the head
and, with several layers, between them (the core's own ``dropout``); it is
off in eval mode, and p = 0 (the default) changes nothing.
Its parameters are named ``embedding.*``, ``rnn.*`` and ``head.*``, the names
the hand-derived BPTT reference in ``spec/bptt_reference.py`` uses.
"""

import numpy as np

from . import nn

CORES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CharRNN(nn.Module):
    def __init__(
        self,
        vocab_size,
        embed_size,
        hidden_size,
        model="rnn",
        nonlinearity="tanh",
        num_layers=1,
        forget_bias=None,
        dropout=0.0,
    ):
        super().__init__()
        if model not in CORES:
            raise ValueError(f"CharRNN: model must be one of {sorted(CORES)}, got {model!r}")
        self.model = model
        self.embedding = nn.Embedding(vocab_size, embed_size)
        extra = {"nonlinearity": nonlinearity} if model == "rnn" else {}
        between = dropout if num_layers > 1 else 0.0  # the core's: between its layers
        self.rnn = CORES[model](embed_size, hidden_size, num_layers, dropout=between, **extra)
        if forget_bias is not None:
            if model != "lstm":
                raise ValueError("CharRNN: forget_bias applies to the LSTM only")
            nn.init.forget_gate_bias_(self.rnn, forget_bias)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        """tokens: (T, N) ints → (logits (T, N, V), final state), state as the recurrent core's.

        Unbatched tokens (T,) give logits (T, V). T must be at least 1.
        """
        shape = np.shape(tokens)
        if len(shape) not in (1, 2) or shape[0] == 0:
            raise ValueError(
                f"CharRNN: expected tokens of shape (T, N) or (T,) with T ≥ 1, got {shape}"
            )
        out, state = self.rnn(self.embedding(tokens), state)
        return self.head(self.drop(out)), state
