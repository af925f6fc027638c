"""CharRNN: the character-level language model: embedding, recurrent core, linear head.

    tokens (T, N) → Embedding → (T, N, E) → RNN/LSTM/GRU → (T, N, H) → Dropout → Linear
                                                                             → logits (T, N, V)

The embedding is "one-hot, then a matrix": ``embedding(x) = one_hot(x) @ E``.
``dropout`` p applies, in training mode, to the core's output before the head
and, with several layers, between them (the core's own ``dropout``); it is
off in eval mode, and p = 0 (the default) changes nothing.
Its parameters are named ``embedding.*``, ``rnn.*`` and ``head.*``, the names
the hand-derived BPTT reference in ``spec/bptt_reference.py`` uses, and
PyTorch's ``nn.Embedding``, ``nn.GRU``/``LSTM``/``RNN`` and ``nn.Linear`` use
(docs/training.md continues a run in PyTorch).

``build_model`` makes the one a training run's options describe, and
``generate`` draws text from it.
"""

import contextlib

import numpy as np

from . import nn
from .grad_mode import no_grad
from .random import manual_seed

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


def flat_state(state):
    """A recurrent state (None, a Tensor, or the LSTM's (h, c)) as a tuple of Tensors."""
    if state is None:
        return ()
    return tuple(state) if isinstance(state, tuple) else (state,)


def unflat_state(tensors):
    """The recurrent state that ``flat_state`` made a tuple of."""
    tensors = tuple(tensors)
    return None if not tensors else tensors[0] if len(tensors) == 1 else tensors


def build_model(config, vocab_size):
    """The CharRNN of a run's options (``Config``), initialised from ``config.seed``; the LSTM
    starts with forget-gate bias 1."""
    manual_seed(config.seed)
    return CharRNN(
        vocab_size,
        config.embed,
        config.hidden,
        model=config.model,
        nonlinearity=config.nonlinearity,
        num_layers=config.layers,
        forget_bias=1.0 if config.model == "lstm" else None,
        dropout=config.dropout,
    )


@contextlib.contextmanager
def evaluating(model):
    """``model`` in eval mode inside the block (dropout off), then in its mode before."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@no_grad()
def generate(model, vocab, prime, length, temperature, seed):
    """``prime`` followed by ``length`` characters drawn from the model at ``temperature``;
    nothing at all for ``length`` 0.

    Without a prime the text starts from ``vocab.start`` (the most frequent
    character of the training text). As the temperature goes to 0 the draw
    becomes greedy: a temperature so small that the scaled logits overflow
    gives every character but the likeliest probability 0, which is that limit.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if length == 0:
        return ""
    prime = prime or vocab.start
    rng = np.random.default_rng(seed)
    out = []
    with evaluating(model):
        logits, state = model(vocab.encode(prime)[:, None])
        for _ in range(length):
            z = logits.data[-1, 0]
            with np.errstate(over="ignore"):  # (z - max) / tiny is -inf: probability 0, rightly
                p = np.exp((z - z.max()) / temperature)
            nxt = int(rng.choice(len(vocab), p=p / p.sum()))
            out.append(nxt)
            logits, state = model(np.array([[nxt]]), state)
    return prime + vocab.decode(out)
