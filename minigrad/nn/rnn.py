"""Recurrent layers with PyTorch's equations, parameter names, shapes and initialisation.

Each kind of recurrence is one small class of math, shared by the cell (one
step) and the multi-layer module (a whole sequence):

* RNN:  h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh),  act = tanh, relu or sigmoid
* LSTM: i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), in that order;
        c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
* GRU:  r, z = σ(x W_i{r,z}ᵀ + b_i{r,z} + h W_h{r,z}ᵀ + b_h{r,z});
        n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn));   h' = (1 − z) ⊙ n + z ⊙ h

A sequence is run as PyTorch does it: the input projection x W_ihᵀ + b is one
matrix product over all time steps, and only h W_hhᵀ is done step by step.
The sigmoid RNN (``nonlinearity='sigmoid'``) is the σ-RNN of the theory; PyTorch
has no such option. PyTorch's ``proj_size`` and ``device`` are not supported:
passing one is a TypeError naming the layer. A sequence has at least one time step.
"""

import math
import warnings

from .. import functional as F
from .. import ops
from ..creation import zeros
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from ..utils.checkpoint import checkpoint
from . import init
from .linear import check_flags, check_sizes, new_parameter
from .module import Module

# ---- the math of one step ---------------------------------------------------------------------


def _affine(x, h, w_t):
    """x + h W_hhᵀ: one ``addmm`` for a batch of states (an unbatched cell has a vector h)."""
    return ops.addmm(x, h, w_t) if h.ndim == 2 else x + h @ w_t


class RNNMath:
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)."""

    gates = 1
    fold_hidden_bias = True  # b_hh can be added to the input projection once for all steps
    options = ("nonlinearity",)  # the layer's keyword arguments that this class takes
    activations = {"tanh": ops.tanh, "relu": ops.relu, "sigmoid": ops.sigmoid}

    def __init__(self, nonlinearity="tanh"):
        if nonlinearity not in self.activations:
            raise ValueError(
                f"RNN: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got {nonlinearity!r}"
            )
        self.nonlinearity = nonlinearity
        self.act = self.activations[nonlinearity]

    def step(self, xp, h, w_hh_t, b_hh):
        """One step from the input projection ``xp`` = x W_ihᵀ + b_ih (+ b_hh when folded)."""
        z = _affine(xp, h, w_hh_t)
        if b_hh is not None:
            z = z + b_hh
        return self.act(z)


class LSTMMath:
    """Gates i, f, g, o; c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c'). The state is (h, c)."""

    gates = 4
    fold_hidden_bias = True
    options = ()

    def step(self, xp, state, w_hh_t, b_hh):
        h, c = state
        z = _affine(xp, h, w_hh_t)
        if b_hh is not None:
            z = z + b_hh
        i, f, g, o = ops.split(z, z.shape[-1] // 4, axis=-1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c


class GRUMath:
    """r, z = σ(...); n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)); h' = (1 − z) ⊙ n + z ⊙ h."""

    gates = 3
    fold_hidden_bias = False  # b_hn sits inside r ⊙ (...), so it cannot join the input side
    options = ()

    def step(self, xp, h, w_hh_t, b_hh):
        hp = h @ w_hh_t if b_hh is None else _affine(b_hh, h, w_hh_t)
        x_r, x_z, x_n = ops.split(xp, xp.shape[-1] // 3, axis=-1)
        h_r, h_z, h_n = ops.split(hp, hp.shape[-1] // 3, axis=-1)
        r = (x_r + h_r).sigmoid()
        z = (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        return (1 - z) * n + z * h


# PyTorch's constructor arguments that minigrad does not have.
PYTORCH_ONLY = ("proj_size", "device")


def _make_math(math_class, layer, options):
    """``math_class(**options)``, the keyword arguments a layer passes on to its recurrence (an
    RNN's ``nonlinearity``). Any other is a TypeError naming the layer and the argument."""
    for key in options:
        if key in PYTORCH_ONLY:
            raise TypeError(f"{layer}: {key} is not supported by minigrad")
        if key not in math_class.options:
            raise TypeError(f"{layer}: got an unexpected keyword argument {key!r}")
    return math_class(**options)


def _state_h(state):
    return state[0] if isinstance(state, tuple) else state


def _input_projection(x, w_ih, b_ih, b_hh, math_):
    """x W_ihᵀ + b_ih (+ b_hh when the recurrence allows folding it in)."""
    xp = x @ w_ih.T
    if b_ih is not None:
        xp = xp + b_ih
    if b_hh is not None and math_.fold_hidden_bias:
        xp = xp + b_hh
    return xp


def run_sequence(math_, x, state, w_ih, w_hh, b_ih, b_hh, reverse=False, checkpoint_every=None):
    """Run one layer in one direction over x: (L, N, H_in).

    Returns the outputs (L, N, H) and the final state. With ``checkpoint_every=k``, each k
    steps run as one ``utils.checkpoint`` segment: only the states between segments are kept
    through the forward pass, and a segment's steps run again in backward.
    """
    xp = _input_projection(x, w_ih, b_ih, b_hh, math_)
    w_hh_t = w_hh.T
    b_step = None if math_.fold_hidden_bias else b_hh
    steps = xp.unbind(0)
    outputs = [None] * len(steps)
    order = list(reversed(range(len(steps)))) if reverse else list(range(len(steps)))
    run = _run_steps if checkpoint_every is None else _checkpointed_steps
    k = checkpoint_every or len(order)
    for first in range(0, len(order), k):
        times = order[first : first + k]
        state, hs = run(math_, [steps[t] for t in times], state, w_hh_t, b_step)
        for t, h in zip(times, hs):
            outputs[t] = h
    return ops.stack(outputs), state


def _run_steps(math_, inputs, state, w_hh_t, b_step):
    """(the state after the steps, each step's output h)."""
    hs = []
    for x in inputs:
        state = math_.step(x, state, w_hh_t, b_step)
        hs.append(_state_h(state))
    return state, hs


def _checkpointed_steps(math_, inputs, state, w_hh_t, b_step):
    """``_run_steps`` as one ``checkpoint`` segment, its tensors passed and returned flat."""
    n = len(_flat(state))

    def pack(parts):
        return tuple(parts) if isinstance(state, tuple) else parts[0]

    def segment(*tensors):
        final, hs = _run_steps(math_, tensors[n:], pack(tensors[:n]), w_hh_t, b_step)
        return (*_flat(final), *hs)

    results = checkpoint(segment, *_flat(state), *inputs)
    return pack(results[:n]), list(results[n:])


def _flat(state):
    return state if isinstance(state, tuple) else (state,)


def _shape_text(shape):
    return str(tuple(shape))


# ---- cells: one step --------------------------------------------------------------------------


class RNNCellBase(Module):
    math_class = None
    kind = None

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, **options):
        super().__init__()
        name = type(self).__name__
        check_sizes(name, input_size=input_size, hidden_size=hidden_size)
        check_flags(name, bias=bias)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.math = _make_math(self.math_class, name, options)
        gates = self.math.gates * hidden_size
        self.weight_ih = new_parameter(gates, input_size, dtype=dtype)
        self.weight_hh = new_parameter(gates, hidden_size, dtype=dtype)
        self.register_parameter("bias_ih", new_parameter(gates, dtype=dtype) if bias else None)
        self.register_parameter("bias_hh", new_parameter(gates, dtype=dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every parameter ~ U(−1/√hidden_size, 1/√hidden_size), as in PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _check(self, x, hx):
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                f"got {_shape_text(x.shape)}"
            )
        expected = x.shape[:-1] + (self.hidden_size,)
        for part in hx if isinstance(hx, tuple) else (hx,):
            if part is not None and tuple(part.shape) != expected:
                raise ValueError(
                    f"{name}: expected a hidden state of shape {_shape_text(expected)} for input "
                    f"of shape {_shape_text(x.shape)}, got {_shape_text(part.shape)}"
                )

    def _zeros(self, x):
        return zeros(*x.shape[:-1], self.hidden_size, dtype=self.weight_ih.dtype)

    def forward(self, input, hx=None):  # noqa: A002 - PyTorch's argument name
        self._check(input, hx)
        if hx is None:
            hx = self._zeros(input)
        xp = _input_projection(input, self.weight_ih, self.bias_ih, self.bias_hh, self.math)
        b_step = None if self.math.fold_hidden_bias else self.bias_hh
        return self.math.step(xp, hx, self.weight_hh.T, b_step)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        return text


class RNNCell(RNNCellBase):
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act = tanh (default), relu or sigmoid.

    input: (N, input_size) or (input_size,);  hx: (N, hidden_size) or (hidden_size,), zeros
    by default. Returns h'.
    """

    math_class = RNNMath

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None, **options
    ):
        super().__init__(input_size, hidden_size, bias, dtype, nonlinearity=nonlinearity, **options)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        text = super().extra_repr()
        return (
            text if self.nonlinearity == "tanh" else f"{text}, nonlinearity={self.nonlinearity!r}"
        )


class LSTMCell(RNNCellBase):
    """One LSTM step. hx = (h, c), zeros by default. Returns (h', c').

    Parameters stack the gates i, f, g, o: weight_ih (4H, input_size), weight_hh (4H, H).
    """

    math_class = LSTMMath

    def forward(self, input, hx=None):  # noqa: A002
        if hx is not None and not (isinstance(hx, tuple) and len(hx) == 2):
            raise ValueError("LSTMCell: hx must be a tuple (h, c)")
        if hx is None:
            hx = (self._zeros(input), self._zeros(input))
        return super().forward(input, hx)


class GRUCell(RNNCellBase):
    """One GRU step. Returns h'. Parameters stack the gates r, z, n: weight_ih (3H, input_size)."""

    math_class = GRUMath


# ---- multi-layer modules: whole sequences -----------------------------------------------------


class RNNBase(Module):
    math_class = None
    cell_class = None

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        dtype=None,
        checkpoint_every=None,
        **options,
    ):
        super().__init__()
        name = type(self).__name__
        if checkpoint_every is not None:
            check_sizes(name, checkpoint_every=checkpoint_every)
        check_sizes(name, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        check_flags(name, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
        F.check_probability(dropout, name)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} has no effect with num_layers=1: it applies to the "
                "outputs of every layer but the last",
                UserWarning,
                stacklevel=2,
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.checkpoint_every = checkpoint_every
        self.math = _make_math(self.math_class, name, options)
        self._math_args = options
        gates = self.math.gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                setattr(self, f"weight_ih{suffix}", new_parameter(gates, layer_input, dtype=dtype))
                setattr(self, f"weight_hh{suffix}", new_parameter(gates, hidden_size, dtype=dtype))
                if bias:
                    setattr(self, f"bias_ih{suffix}", new_parameter(gates, dtype=dtype))
                    setattr(self, f"bias_hh{suffix}", new_parameter(gates, dtype=dtype))
        self.reset_parameters()

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def reset_parameters(self):
        """Every parameter ~ U(−1/√hidden_size, 1/√hidden_size), as in PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def weights(self, layer, reverse=False):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer and direction (or None)."""
        suffix = self._suffixes(layer)[1 if reverse else 0]
        return tuple(
            getattr(self, f"{kind}{suffix}", None)
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )

    def cell(self, layer=0, reverse=False):
        """A cell that shares the parameters of one layer and direction: the module is this
        cell applied at every time step."""
        input_size = self.input_size if layer == 0 else self.hidden_size * self.num_directions
        rng_state = get_rng_state()  # the cell's own initial values are discarded below, so
        cell = self.cell_class(input_size, self.hidden_size, self.bias, **self._math_args)
        set_rng_state(rng_state)  # drawing them must not move the global generator
        for name, param in zip(
            ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), self.weights(layer, reverse)
        ):
            if param is not None:
                setattr(cell, name, param)
        return cell

    # -- checking and reshaping inputs --

    def _layout(self):
        return "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"

    def _as_time_major(self, x):
        """input → (L, N, input_size), and whether it had a batch axis. L must be at least 1."""
        layout = self._layout().replace("H_in", str(self.input_size))
        expected = (
            f"{type(self).__name__}: expected input of shape {layout} or (L, {self.input_size})"
        )
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(f"{expected}, got {_shape_text(x.shape)}")
        batched = x.ndim == 3
        steps = x.shape[1 if batched and self.batch_first else 0]
        if steps == 0:
            raise ValueError(f"{expected} with L ≥ 1, got {_shape_text(x.shape)}: no time steps")
        if not batched:
            return x.unsqueeze(1), False
        return (x.transpose(0, 1) if self.batch_first else x), True

    def _initial(self, hx, batch, batched, dtype, label):
        layers = self.num_layers * self.num_directions
        if hx is None:
            return zeros(layers, batch, self.hidden_size, dtype=dtype).unbind(0)
        expected = (layers, batch, self.hidden_size) if batched else (layers, self.hidden_size)
        if not isinstance(hx, Tensor) or tuple(hx.shape) != expected:
            got = _shape_text(hx.shape) if isinstance(hx, Tensor) else type(hx).__name__
            name, want = type(self).__name__, _shape_text(expected)
            raise ValueError(f"{name}: expected {label} of shape {want}, got {got}")
        return (hx if batched else hx.unsqueeze(1)).unbind(0)

    def _initial_states(self, hx, batch, batched, dtype):
        return self._initial(hx, batch, batched, dtype, "h0")

    def _finish(self, out, finals, batched):
        """Outputs back to the caller's layout, and the stacked final states."""
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        h_n = ops.stack(finals)
        return out, (h_n if batched else h_n.squeeze(1))

    def _run(self, x, states):
        """All layers and directions. ``states[i]`` is the initial state of layer/direction i.
        In training mode with ``dropout`` > 0, each layer's output but the last one's goes
        through dropout before the next layer reads it, as in PyTorch."""
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout)
            outputs = []
            for reverse in (False, True)[: self.num_directions]:
                index = layer * self.num_directions + reverse
                out, final = run_sequence(
                    self.math,
                    x,
                    states[index],
                    *self.weights(layer, reverse),
                    reverse=reverse,
                    checkpoint_every=self.checkpoint_every,
                )
                outputs.append(out)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=-1)
        return x, finals

    def forward(self, input, hx=None):  # noqa: A002
        x, batched = self._as_time_major(input)
        states = self._initial_states(hx, x.shape[1], batched, self.weight_ih_l0.dtype)
        out, finals = self._run(x, states)
        return self._finish(out, finals, batched)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (
            ("num_layers", 1),
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
            ("checkpoint_every", None),
        ):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = act(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh).

    ``nonlinearity`` is 'tanh' (default), 'relu', or 'sigmoid' (the σ-RNN).
    input: (L, N, H_in), or (N, L, H_in) with batch_first, or unbatched (L, H_in).
    h0: (D·num_layers, N, H), zeros by default. Returns (output, h_n): output is
    (L, N, D·H) with [forward; reverse] on the last axis, h_n is (D·num_layers, N, H).
    """

    math_class = RNNMath
    cell_class = RNNCell

    def __init__(self, *args, nonlinearity="tanh", **kwargs):
        super().__init__(*args, nonlinearity=nonlinearity, **kwargs)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        text = super().extra_repr()
        return (
            text if self.nonlinearity == "tanh" else f"{text}, nonlinearity={self.nonlinearity!r}"
        )


class GRU(RNNBase):
    """A multi-layer GRU (gates r, z, n). Shapes and return values as ``RNN``."""

    math_class = GRUMath
    cell_class = GRUCell


class LSTM(RNNBase):
    """A multi-layer LSTM (gates i, f, g, o). hx = (h0, c0), each (D·num_layers, N, H), zeros by
    default. Returns (output, (h_n, c_n))."""

    math_class = LSTMMath
    cell_class = LSTMCell

    def _initial_states(self, hx, batch, batched, dtype):
        if hx is None:
            hx = (None, None)
        elif not (isinstance(hx, tuple) and len(hx) == 2):
            raise ValueError("LSTM: hx must be a tuple (h0, c0)")
        hs = self._initial(hx[0], batch, batched, dtype, "h0")
        cs = self._initial(hx[1], batch, batched, dtype, "c0")
        return list(zip(hs, cs))

    def _finish(self, out, finals, batched):
        out, h_n = super()._finish(out, [h for h, _ in finals], batched)
        c_n = ops.stack([c for _, c in finals])
        return out, (h_n, c_n if batched else c_n.squeeze(1))
