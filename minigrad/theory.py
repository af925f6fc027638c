"""The chain-rule product of backpropagation through time, made concrete.

For an RNN cell h_t = act(z_t), z_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh:

    ∂h_t/∂h_{t−1} = diag(act'(z_t)) W_hh
    ∂h_t/∂h_k     = ∏_{i=k+1..t} diag(act'(z_i)) W_hh      (ordered: the latest step on the left)

Since act' ≤ γ (γ = 1/4 for the sigmoid, 1 for tanh and relu), each factor has
2-norm at most γ·λ₁, where λ₁ is the largest singular value of W_hh, so

    ‖∂h_t/∂h_k‖₂ ≤ (γ λ₁)^(t−k).

If λ₁ < 1/γ the gradient from far away vanishes geometrically (the sufficient
condition of Pascanu, Mikolov and Bengio, 2013); exploding needs λ₁ > 1/γ.

This module computes each piece: the analytic Jacobians and their ordered
product, γ, λ₁ and the bound, a W_hh with a chosen λ₁, and the gradient flow
measured by the engine for RNN, LSTM and GRU. It uses only minigrad's public
API.
"""

import math

import numpy as np

from . import nn
from .autograd import grad
from .creation import zeros
from .grad_mode import no_grad
from .random import default_generator
from .tensor import Tensor

#: max over z of act'(z): σ'(0) = 1/4 (proved in spec/test_sigmoid.py), tanh'(0) = 1, relu' ≤ 1
GAMMA = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}


def gamma(nonlinearity):
    """γ = max act': the largest factor one step's activation can contribute."""
    if nonlinearity not in GAMMA:
        raise ValueError(
            f"gamma: unknown nonlinearity {nonlinearity!r}; expected one of {sorted(GAMMA)}"
        )
    return GAMMA[nonlinearity]


def activation_derivative(nonlinearity, z):
    """act'(z) elementwise, as a numpy array: σ(z)σ(−z), 1 − tanh² z, or [z > 0]."""
    z = z if isinstance(z, Tensor) else Tensor(z)
    if nonlinearity == "sigmoid":
        return (z.sigmoid() * (-z).sigmoid()).data
    if nonlinearity == "tanh":
        t = z.tanh()
        return (1 - t * t).data
    if nonlinearity == "relu":
        return (z > 0).data.astype(z.dtype)
    raise ValueError(f"activation_derivative: unknown nonlinearity {nonlinearity!r}")


# ---- W_hh and the bound -----------------------------------------------------------------------


def largest_singular_value(w):
    """λ₁ = ‖W‖₂, the largest singular value."""
    return float(np.linalg.norm(_array(w), 2))


def spectral_radius(w):
    """ρ(W) = the largest |eigenvalue| (≤ λ₁)."""
    return float(np.max(np.abs(np.linalg.eigvals(_array(w)))))


def bound(nonlinearity, lambda1, distance):
    """(γ λ₁)^distance: the upper bound on ‖∂h_t/∂h_k‖₂ for t − k = distance."""
    return (gamma(nonlinearity) * lambda1) ** np.asarray(distance, dtype=np.float64)


def steps_to_vanish(nonlinearity, lambda1, tolerance=1e-6):
    """The distance after which the bound (γλ₁)^d is below ``tolerance`` (needs γλ₁ < 1)."""
    rate = gamma(nonlinearity) * lambda1
    if not 0 < rate < 1:
        raise ValueError(f"steps_to_vanish: needs 0 < γλ₁ < 1, got γλ₁ = {rate}")
    return math.ceil(math.log(tolerance) / math.log(rate))


def recurrent_matrix(
    hidden_size, lambda1=None, spectral_radius=None, orthogonal=True, generator=None
):
    """A random hidden_size × hidden_size W_hh with a chosen λ₁ or spectral radius.

    With ``lambda1`` it is, by default, λ₁ times a random orthogonal matrix:
    every singular value equals λ₁, so ‖W^d‖₂ = λ₁^d exactly and the bound is
    as tight as it gets; with ``orthogonal=False`` it is a Gaussian matrix
    scaled so that only its largest singular value is λ₁. With
    ``spectral_radius`` it is a Gaussian matrix scaled to that radius. Drawn
    from minigrad's seeded generator unless one is given.
    """
    if (lambda1 is None) == (spectral_radius is None):
        raise ValueError("recurrent_matrix: give exactly one of lambda1 and spectral_radius")
    value = lambda1 if lambda1 is not None else spectral_radius
    if value < 0:
        raise ValueError(f"recurrent_matrix: the target must be non-negative, got {value}")
    rng = generator or default_generator
    g = rng.standard_normal((hidden_size, hidden_size))
    if lambda1 is not None and orthogonal:
        q, r = np.linalg.qr(g)
        return lambda1 * q * np.sign(np.diag(r))  # Haar-distributed orthogonal, times λ₁
    if lambda1 is not None:
        return g * (lambda1 / np.linalg.norm(g, 2))
    return g * (spectral_radius / np.max(np.abs(np.linalg.eigvals(g))))


def set_recurrent_weights_(model, lambda1, generator=None):
    """Give every recurrent block of W_hh (each gate's, for LSTM and GRU) singular values λ₁."""
    cell = _cell(model)
    hidden = cell.hidden_size
    blocks = cell.weight_hh.shape[0] // hidden
    w = np.concatenate(
        [recurrent_matrix(hidden, lambda1, generator=generator) for _ in range(blocks)]
    )
    with no_grad():
        cell.weight_hh.copy_(w)
    return model


# ---- the analytic Jacobians of a plain RNN cell -------------------------------------------------


def _array(w):
    return w.data if isinstance(w, Tensor) else np.asarray(w)


def _cell(model):
    """The cell of a one-layer, one-direction recurrent module (or the cell itself)."""
    if isinstance(model, nn.rnn.RNNCellBase):
        return model
    if isinstance(model, nn.rnn.RNNBase):
        if model.num_layers != 1 or model.bidirectional:
            raise ValueError("theory: use a one-layer, one-direction module (or a cell)")
        return model.cell(0)
    raise TypeError(
        f"theory: expected an RNN, LSTM or GRU module or cell, got {type(model).__name__}"
    )


def _rnn_cell(model):
    cell = _cell(model)
    if not isinstance(cell, nn.RNNCell):
        raise TypeError(
            f"theory: the analytic Jacobian is for RNN cells, got {type(cell).__name__}"
        )
    return cell


def preactivation(model, x, h):
    """z = W_ih x + b_ih + W_hh h + b_hh for one unbatched step (x: (H_in,), h: (H,))."""
    cell = _rnn_cell(model)
    z = x @ cell.weight_ih.T + h @ cell.weight_hh.T
    if cell.bias_ih is not None:
        z = z + cell.bias_ih + cell.bias_hh
    return z


def step_jacobian(model, x, h):
    """∂h_t/∂h_{t−1} = diag(act'(z_t)) W_hh at (x_t, h_{t−1}), as an (H, H) numpy array."""
    cell = _rnn_cell(model)
    with no_grad():
        slope = activation_derivative(cell.nonlinearity, preactivation(cell, x, h))
    return slope[:, None] * cell.weight_hh.data


def step_jacobians(model, xs, h0=None):
    """Run the cell over xs: (T, H_in) from h0 and return ([h_0, ..., h_T], [J_1, ..., J_T])."""
    cell = _rnn_cell(model)
    h = zeros(cell.hidden_size, dtype=cell.weight_hh.dtype) if h0 is None else h0
    states, jacobians = [h], []
    with no_grad():
        for x in xs:
            jacobians.append(step_jacobian(cell, x, h))
            h = cell(x, h)
            states.append(h)
    return states, jacobians


def ordered_product(jacobians, k, t):
    """∂h_t/∂h_k = J_t J_{t−1} ⋯ J_{k+1} from the list [J_1, ..., J_T] (identity when t = k)."""
    if not 0 <= k <= t <= len(jacobians):
        raise ValueError(f"ordered_product: need 0 <= k <= t <= {len(jacobians)}, got k={k}, t={t}")
    size = jacobians[0].shape[0] if jacobians else 0
    product = np.eye(size)
    for i in range(k + 1, t + 1):
        product = jacobians[i - 1] @ product
    return product


# ---- gradient flow measured by the engine ----------------------------------------------------


def unroll(model, xs, h0=None):
    """Run the model's cell over xs: (T, H_in) or (T, N, H_in), keeping every hidden state.

    Returns [h_0, h_1, ..., h_T]; each keeps its ``.grad`` after backward
    (``retain_grad``), and h_0 is a leaf that requires grad. For an LSTM, h is
    the hidden state (its cell state c flows alongside).
    """
    cell = _cell(model)
    xs = xs if isinstance(xs, Tensor) else Tensor(xs)
    shape = (*xs.shape[1:-1], cell.hidden_size)
    h = (zeros(*shape, dtype=cell.weight_hh.dtype) if h0 is None else h0.detach()).requires_grad_()
    state = (h, zeros(*shape, dtype=h.dtype)) if isinstance(cell, nn.LSTMCell) else h
    states = [h]
    for x in xs.unbind(0):
        state = cell(x, state)
        h = state[0] if isinstance(state, tuple) else state
        h.retain_grad()
        states.append(h)
    return states


def gradient_norms(model, xs, h0=None, loss=None):
    """‖∂L/∂h_k‖ for k = 0, ..., T, where L = loss(h_T) is a loss at the last step.

    ``loss`` defaults to Σ h_T (a fixed linear read-out). Measured by the engine
    with ``retain_grad`` on every hidden state.
    """
    states = unroll(model, xs, h0)
    value = states[-1].sum() if loss is None else loss(states[-1])
    value.backward()
    return np.array([np.linalg.norm(h.grad.data) for h in states])


def jacobian_norms(model, xs, h0=None):
    """‖∂h_T/∂h_k‖₂ for k = 0, ..., T (spectral norms), measured by the engine.

    xs must be unbatched, (T, H_in). One reverse pass per unit of h_T gives that
    row of every ∂h_T/∂h_k at once.
    """
    xs = xs if isinstance(xs, Tensor) else Tensor(xs)
    if xs.ndim != 2:
        raise ValueError(
            f"jacobian_norms: expected an unbatched sequence (T, H_in), got {xs.shape}"
        )
    states = unroll(model, xs, h0)
    h_t = states[-1]
    size = h_t.shape[0]
    rows = [[] for _ in states]
    for i in range(size):
        unit = np.zeros(size, dtype=h_t.dtype)
        unit[i] = 1.0
        grads = grad(h_t, states, Tensor(unit), allow_unused=True)
        for k, g in enumerate(grads):
            rows[k].append(np.zeros(size) if g is None else g.data)
    return np.array([np.linalg.norm(np.array(r), 2) for r in rows])
