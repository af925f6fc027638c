"""The layer-normalised LSTM (Ba, Kiros and Hinton, 2016, section 3.1 and appendix): an LSTM whose
gate pre-activations and cell state are normalised at every step. PyTorch has no such layer;
this one keeps PyTorch's LSTM names, gate order (i, f, g, o), shapes and initialisation.

    i, f, g, o = LN(x W_ihᵀ; γ_ih) + b_ih + LN(h W_hhᵀ; γ_hh) + b_hh     (each LN over all 4H)
    c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)
    h' = σ(o) ⊙ tanh(LN(c'; γ_c, β_c))

The paper's β's of the two gate normalisations and its bias b add up to one bias, so they are
``bias_ih`` and ``bias_hh`` here, as in an LSTM (and ``nn.init.forget_gate_bias_`` applies).
Normalising x W_ihᵀ and h W_hhᵀ apart keeps the recurrent contribution at the same scale
whatever the size of h, so the gates neither saturate nor die out as h grows or shrinks.
"""

import math

from .. import ops
from ..creation import zeros
from . import init
from .linear import check_sizes, new_parameter
from .module import Module
from .normalization import LayerNorm


class LayerNormLSTMCell(Module):
    """One step of the layer-normalised LSTM. input: (N, input_size) or (input_size,);
    hx = (h, c), each (N, hidden_size) or (hidden_size,), zeros by default. Returns (h', c').

    Parameters: weight_ih (4H, input_size), weight_hh (4H, H), bias_ih and bias_hh (4H), all
    U(−1/√H, 1/√H) as in an LSTMCell; the gains norm_ih.weight and norm_hh.weight (4H), and
    norm_c.weight and norm_c.bias (H), ones and zeros.
    """

    def __init__(self, input_size, hidden_size, dtype=None):
        super().__init__()
        check_sizes("LayerNormLSTMCell", input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size = input_size, hidden_size
        gates = 4 * hidden_size
        self.weight_ih = new_parameter(gates, input_size, dtype=dtype)
        self.weight_hh = new_parameter(gates, hidden_size, dtype=dtype)
        self.bias_ih = new_parameter(gates, dtype=dtype)
        self.bias_hh = new_parameter(gates, dtype=dtype)
        bound = 1.0 / math.sqrt(hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)
        self.norm_ih = LayerNorm(gates, bias=False, dtype=dtype)
        self.norm_hh = LayerNorm(gates, bias=False, dtype=dtype)
        self.norm_c = LayerNorm(hidden_size, dtype=dtype)

    def input_side(self, x):
        """LN(x W_ihᵀ) + b_ih: the part of the gates that does not depend on the state, so that a
        sequence computes it for every step at once. x: (*, input_size) → (*, 4H)."""
        return self.norm_ih(x @ self.weight_ih.T) + self.bias_ih

    def step(self, gates_in, state):
        """(h', c') from ``input_side(x)`` and the state (h, c)."""
        h, c = state
        gates = gates_in + self.norm_hh(h @ self.weight_hh.T) + self.bias_hh
        i, f, g, o = ops.split(gates, self.hidden_size, axis=-1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * self.norm_c(c).tanh(), c

    def forward(self, input, hx=None):  # noqa: A002 - PyTorch's argument name
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"LayerNormLSTMCell: expected input of shape (N, {self.input_size}) or "
                f"({self.input_size},), got {tuple(input.shape)}"
            )
        shape = (*input.shape[:-1], self.hidden_size)
        if hx is None:
            hx = (zeros(shape, dtype=input.dtype), zeros(shape, dtype=input.dtype))
        _check_state(hx, shape, "LayerNormLSTMCell")
        return self.step(self.input_side(input), hx)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class LayerNormLSTM(Module):
    """A layer-normalised LSTM over a sequence: ``cell`` (a LayerNormLSTMCell) at every step,
    with the shapes of a one-layer ``nn.LSTM``.

    input: (L, N, input_size), (N, L, input_size) with batch_first, or unbatched
    (L, input_size); hx = (h0, c0), each (1, N, H) (or (1, H)), zeros by default. Returns
    (output, (h_n, c_n)): output (L, N, H) (or as the input's layout), h_n and c_n (1, N, H).
    """

    def __init__(self, input_size, hidden_size, batch_first=False, dtype=None):
        super().__init__()
        self.batch_first = bool(batch_first)
        self.cell = LayerNormLSTMCell(input_size, hidden_size, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        x, batched = self._time_major(input)
        state = self._initial_state(hx, x, batched)
        outputs = []
        for gates_in in self.cell.input_side(x).unbind(0):
            state = self.cell.step(gates_in, state)
            outputs.append(state[0])
        out = ops.stack(outputs)
        h, c = state[0].unsqueeze(0), state[1].unsqueeze(0)
        if not batched:
            return out.squeeze(1), (h.squeeze(1), c.squeeze(1))
        return (out.transpose(0, 1) if self.batch_first else out), (h, c)

    def _time_major(self, x):
        """input → (L, N, input_size), and whether it had a batch axis. L must be at least 1."""
        size = self.cell.input_size
        steps = x.shape[1 if x.ndim == 3 and self.batch_first else 0] if x.ndim else 0
        if x.ndim not in (2, 3) or x.shape[-1] != size or steps == 0:
            layout = f"(N, L, {size})" if self.batch_first else f"(L, N, {size})"
            raise ValueError(
                f"LayerNormLSTM: expected input of shape {layout} or (L, {size}) with L ≥ 1, "
                f"got {tuple(x.shape)}"
            )
        if x.ndim == 2:
            return x.unsqueeze(1), False
        return (x.transpose(0, 1) if self.batch_first else x), True

    def _initial_state(self, hx, x, batched):
        """(h, c) of the first step, each (N, H): zeros by default, else hx's parts, which must
        be (1, N, H), or (1, H) for an unbatched input."""
        size = (x.shape[1], self.cell.hidden_size)
        if hx is None:
            return zeros(size, dtype=x.dtype), zeros(size, dtype=x.dtype)
        _check_state(hx, (1, *size) if batched else (1, size[1]), "LayerNormLSTM")
        return tuple(part.reshape(size) for part in hx)

    def extra_repr(self):
        return "batch_first=True" if self.batch_first else ""


def _check_state(hx, shape, owner):
    """hx must be a pair (h, c) of tensors of ``shape``."""
    if not (isinstance(hx, tuple) and len(hx) == 2):
        raise ValueError(f"{owner}: hx must be a tuple (h, c)")
    for part in hx:
        if tuple(part.shape) != shape:
            raise ValueError(f"{owner}: expected h and c of shape {shape}, got {tuple(part.shape)}")
