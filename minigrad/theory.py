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

The same product can be multiplied forward in time: real-time recurrent
learning (``rtrl_gradients``) carries P_t = ∂h_t/∂θ from step to step,

    P_t = diag(act'(z_t)) (W_hh P_{t−1} + ∂z_t/∂θ),

in plain numpy: no stored past, but H·P numbers per sequence and O(H·H·P)
work per step, where BPTT keeps T hidden states and does O(H²) per step.
"""

import math

import numpy as np

from . import functional as F
from . import nn
from .autograd import forward_ad, grad
from .creation import zeros
from .grad_mode import no_grad
from .ops import stack
from .random import default_generator
from .tensor import Tensor
from .utils.checkpoint import checkpoint

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
    """z = W_ih x + b_ih + W_hh h + b_hh for one step (x: (H_in,) or (N, H_in), h: (H,) or
    (N, H); or for every step at once, x: (T, N, H_in) with h: (T, N, H) the states before).

    For an LSTM or a GRU, z holds every gate's block side by side, (..., G·H) in the cell's
    order (i, f, g, o; r, z, n). The GRU's candidate n is not this sum (its hidden part is
    multiplied by r first); its r and z blocks are.
    """
    cell = _cell(model)
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


def unroll(model, xs, h0=None, retain_grad=True):
    """Run the model's cell over xs: (T, H_in) or (T, N, H_in), keeping every hidden state.

    Returns [h_0, h_1, ..., h_T]; h_0 is a leaf that requires grad, and with
    ``retain_grad`` each state keeps its ``.grad`` after backward (without it,
    a hook registered on a state sees its gradient: ``minigrad.probe``). For an
    LSTM, h is the hidden state (its cell state c flows alongside, from zeros, or
    from c_0 when h0 is the pair (h_0, c_0)). h0 and c_0 are detached first.
    """
    cell = _cell(model)
    xs = xs if isinstance(xs, Tensor) else Tensor(xs)
    shape = (*xs.shape[1:-1], cell.hidden_size)
    h0, c0 = h0 if isinstance(h0, tuple) else (h0, None)
    h = (zeros(*shape, dtype=cell.weight_hh.dtype) if h0 is None else h0.detach()).requires_grad_()
    if isinstance(cell, nn.LSTMCell):
        state = (h, zeros(*shape, dtype=h.dtype) if c0 is None else c0.detach())
    else:
        state = h
    states = [h]
    for x in xs.unbind(0):
        state = cell(x, state)
        h = state[0] if isinstance(state, tuple) else state
        if retain_grad:
            h.retain_grad()
        states.append(h)
    return states


def gradient_norms(model, xs, h0=None, loss=None, every_step=False):
    """‖∂L/∂h_k‖ for k = 0, ..., T, where L = loss(h_T) is a loss at the last step, or, with
    ``every_step``, L = loss([h_1, ..., h_T]), a loss that reads every step (a language
    model's).

    ``loss`` defaults to Σ h_T (a fixed linear read-out), or Σ_t Σ h_t. Measured
    by the engine with ``retain_grad`` on every hidden state; h0 as ``unroll``'s.
    """
    states = unroll(model, xs, h0)
    read = states[1:] if every_step else states[-1]
    if loss is None:
        loss = (lambda hs: stack(hs).sum()) if every_step else (lambda h: h.sum())
    loss(read).backward()
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


# ---- the same gradient forward in time: real-time recurrent learning ---------------------------

#: The parameters a hidden state depends on, in the order θ is flattened for RTRL; the names are
#: those of ``CharRNN(model="rnn")`` (and of spec/bptt_reference.py).
RECURRENT_PARAMETERS = (
    "embedding.weight",
    "rnn.weight_ih_l0",
    "rnn.weight_hh_l0",
    "rnn.bias_ih_l0",
    "rnn.bias_hh_l0",
)
#: The head's parameters: they reach the loss only at their own step, through the logits.
HEAD_PARAMETERS = ("head.weight", "head.bias")


def activation(nonlinearity, z):
    """act(z) elementwise, as a numpy array: the engine's σ, tanh or relu."""
    if nonlinearity not in GAMMA:
        raise ValueError(
            f"activation: unknown nonlinearity {nonlinearity!r}; expected one of {sorted(GAMMA)}"
        )
    return getattr(Tensor(z), nonlinearity)().data


def immediate_jacobian(params, tokens, h_prev):
    """∂z_t/∂θ with h_{t−1} held fixed, of shape (B, H, P), for one step's tokens (B,).

    θ is the recurrent parameters flattened in the order of ``RECURRENT_PARAMETERS``
    (P numbers). For z = E[x] W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh, unit i:

        ∂z_i/∂E[v, d]    = [x = v] W_ih[i, d]
        ∂z_i/∂W_ih[k, d] = δ_ik E[x, d]
        ∂z_i/∂W_hh[k, j] = δ_ik h_{t−1, j}
        ∂z_i/∂b_ih[k]    = ∂z_i/∂b_hh[k] = δ_ik
    """
    embedding, w_ih = params["embedding.weight"], params["rnn.weight_ih_l0"]
    B, H = h_prev.shape
    one_hot = np.eye(embedding.shape[0])[tokens]  # (B, V)
    unit = np.eye(H)[None, :, :, None]  # δ_ik, broadcast over b (axis 0) and j (axis 3)
    blocks = (
        one_hot[:, None, :, None] * w_ih[None, :, None, :],  # (B, H, V, D)
        unit * embedding[tokens][:, None, None, :],  # (B, H, H, D)
        unit * h_prev[:, None, None, :],  # (B, H, H, H)
        np.broadcast_to(np.eye(H), (B, H, H)),  # b_ih
        np.broadcast_to(np.eye(H), (B, H, H)),  # b_hh
    )
    return np.concatenate([b.reshape(B, H, -1) for b in blocks], axis=2)


def rtrl_sensitivities(params, inputs, nonlinearity="sigmoid"):
    """Run the RNN forward over inputs (T, B) token ids, yielding (h_t, P_t) for t = 1..T.

    P_t = ∂h_t/∂θ, of shape (B, H, P): H·P numbers per sequence, carried from
    step to step whatever T is. With h_0 = 0 and P_0 = 0 (h_0 does not depend
    on θ), the chain rule for h_t = act(z_t(θ, h_{t−1}(θ))) gives

        z_t = E[x_t] W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh,     h_t = act(z_t)
        P_t = diag(act'(z_t)) (W_hh P_{t−1} + ∂z_t/∂θ)

    Unrolled, P_t = Σ_{k≤t} (∏_{i=k+1..t} diag(act'(z_i)) W_hh) diag(act'(z_k)) ∂z_k/∂θ:
    the ordered product of BPTT, each factor multiplied in as its step runs
    (the earliest on the right), where BPTT multiplies them in from the loss
    backwards. A step costs O(H·H·P), for the product W_hh P_{t−1}.
    """
    params = _rtrl_params("rtrl_sensitivities", params, RECURRENT_PARAMETERS)
    inputs = _rtrl_inputs("rtrl_sensitivities", inputs)
    activation(nonlinearity, np.zeros(0))  # an unknown name raises now, not at the first step
    return _carry_sensitivities(params, inputs, nonlinearity)


def _carry_sensitivities(params, inputs, nonlinearity):
    embedding, w_ih, w_hh, b_ih, b_hh = (params[name] for name in RECURRENT_PARAMETERS)
    size = sum(params[name].size for name in RECURRENT_PARAMETERS)
    h = np.zeros((inputs.shape[1], w_hh.shape[0]))
    p = np.zeros((*h.shape, size))
    for tokens in inputs:
        z = embedding[tokens] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        dz = immediate_jacobian(params, tokens, h)
        h = activation(nonlinearity, z)
        p = activation_derivative(nonlinearity, z)[:, :, None] * (w_hh @ p + dz)
        yield h, p


def rtrl_gradients(params, inputs, targets, nonlinearity="sigmoid", method="numpy"):
    """The σ- (or tanh-) RNN language model's loss J and ∂J/∂θ, forward in time (RTRL).

    The model and loss of spec/bptt_reference.py, for inputs and targets of
    shape (T, B) and N = T·B:

        y_t = h_t W_outᵀ + b_out,     J = (1/N) Σ_t Σ_b [logsumexp(y_tb) − y_tb[target_tb]]

    At step t, with d_t = ∂J/∂y_t = (softmax(y_t) − onehot(target_t)) / N:

        ∂J/∂θ     += (d_t W_out) P_t      (∂J/∂h_t through step t's logits, times P_t)
        ∂J/∂W_out += d_tᵀ h_t,    ∂J/∂b_out += Σ_b d_t      (the head's direct terms)

    Nothing is kept from earlier steps but h_{t−1} and P_{t−1}: memory O(H·P)
    per sequence, against BPTT's O(T·H); time O(T·H·H·P), against BPTT's
    O(T·H²) (for an embedding no wider than H). With P ≈ H², that is O(H³)
    memory and O(T·H⁴) time.
    ``params`` maps the names of ``RECURRENT_PARAMETERS`` and ``HEAD_PARAMETERS``
    to arrays or Tensors (e.g. a ``CharRNN(model="rnn")``'s ``state_dict()``).
    Returns (J, {name: ∂J/∂name}).

    ``method="forward-mode"`` gets the same numbers from the engine's forward
    mode instead of this hand-written recursion (``_forward_mode_gradients``).
    """
    params = _rtrl_params("rtrl_gradients", params, RECURRENT_PARAMETERS + HEAD_PARAMETERS)
    inputs, targets = _rtrl_inputs("rtrl_gradients", inputs), np.asarray(targets)
    if targets.shape != inputs.shape:
        raise ValueError(
            f"rtrl_gradients: targets have shape {targets.shape}, inputs {inputs.shape}"
        )
    activation(nonlinearity, np.zeros(0))  # an unknown name raises here
    if method == "forward-mode":
        return _forward_mode_gradients(params, inputs, targets, nonlinearity)
    if method != "numpy":
        raise ValueError(
            f'rtrl_gradients: method must be "numpy" or "forward-mode", got {method!r}'
        )
    w_out, b_out = (params[name] for name in HEAD_PARAMETERS)
    n = targets.size
    loss, d_theta = 0.0, 0.0
    grads = {name: np.zeros_like(params[name]) for name in HEAD_PARAMETERS}
    for (h, p), step_targets in zip(_carry_sensitivities(params, inputs, nonlinearity), targets):
        step_loss, d_logits = _cross_entropy_step(h @ w_out.T + b_out, step_targets, n)
        loss += step_loss
        d_theta = d_theta + np.einsum("bh,bhp->p", d_logits @ w_out, p)
        grads["head.weight"] += d_logits.T @ h
        grads["head.bias"] += d_logits.sum(axis=0)
    return loss, {**_unflatten(d_theta, params), **grads}


def _forward_mode_gradients(params, inputs, targets, nonlinearity):
    """J and ∂J/∂θ from the engine's forward mode (``autograd.forward_ad``).

    Along the basis direction e_j of one parameter entry θ_j, J's tangent is
    ∂J/∂θ_j; so one forward pass per entry, each carrying one tangent beside
    each value. Run for every recurrent entry, this is RTRL with P_t's columns
    computed one at a time, each pass O(T·H²) (P passes: O(T·H²·P) in all, as
    RTRL); the head's entries take one pass each too.
    """
    theta = {name: Tensor(value) for name, value in params.items()}
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    with no_grad():
        for name, g in grads.items():
            for j in range(g.size):
                direction = np.zeros_like(g)
                direction.flat[j] = 1.0
                with forward_ad.dual_level():
                    dual = forward_ad.make_dual(theta[name], Tensor(direction))
                    loss = language_model_loss({**theta, name: dual}, inputs, targets, nonlinearity)
                    g.flat[j] = forward_ad.unpack_dual(loss).tangent.item()
    return language_model_loss(theta, inputs, targets, nonlinearity).item(), grads


def language_model_loss(theta, inputs, targets, nonlinearity="sigmoid", segment=None,
                        checkpointed=False):  # fmt: skip
    """J = (1/N) Σ_t Σ_b cross-entropy(h_t W_outᵀ + b_out, target_tb) with the engine's ops,
    θ as Tensors by the names of ``RECURRENT_PARAMETERS`` and ``HEAD_PARAMETERS``.

    With ``segment=k`` the steps run k at a time, each run giving its last state and its
    share of the loss; ``checkpointed=True`` makes each run a ``utils.checkpoint`` segment,
    so that backward keeps one state per segment and one segment's values at a time:
    BPTT in O(T/k·H + k·H) memory, O(√T·H) for k = √T, for one more forward pass.
    """
    embedding, w_ih, w_hh, b_ih, b_hh = (theta[name] for name in RECURRENT_PARAMETERS)
    w_out, b_out = (theta[name] for name in HEAD_PARAMETERS)

    def steps(h, tokens, step_targets):
        loss = 0.0
        for x, y in zip(tokens, step_targets):
            z = F.embedding(x, embedding) @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            h = getattr(z, nonlinearity)()
            loss = loss + F.cross_entropy(h @ w_out.T + b_out, y, reduction="sum")
        return h, loss

    h, total, k = zeros(inputs.shape[1], w_hh.shape[0]), 0.0, segment or len(inputs)
    for first in range(0, len(inputs), k):
        args = (h, inputs[first : first + k], targets[first : first + k])
        h, loss = checkpoint(steps, *args) if checkpointed else steps(*args)
        total = total + loss
    return total / targets.size


def _cross_entropy_step(logits, targets, n):
    """Σ_b [logsumexp(y_b) − y_b[target_b]] / n, and its gradient (softmax(y) − onehot) / n."""
    rows = np.arange(len(targets))
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    d_logits = np.exp(shifted - log_z)
    d_logits[rows, targets] -= 1.0
    return float(np.sum(log_z[:, 0] - shifted[rows, targets])) / n, d_logits / n


def _unflatten(theta, params):
    """The flat vector θ (ordered as ``RECURRENT_PARAMETERS``) as {name: array of its shape}."""
    shapes = [params[name].shape for name in RECURRENT_PARAMETERS]
    pieces = np.split(theta, np.cumsum([math.prod(s) for s in shapes])[:-1])
    return {name: v.reshape(s) for name, v, s in zip(RECURRENT_PARAMETERS, pieces, shapes)}


def _rtrl_params(name, params, names):
    """The parameters ``names`` as float64 arrays, by name."""
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"{name}: params lacks {', '.join(missing)}")
    return {n: np.asarray(_array(params[n]), dtype=np.float64) for n in names}


def _rtrl_inputs(name, inputs):
    """Token ids of shape (T, B), T ≥ 1, as an array."""
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.shape[0] == 0:
        raise ValueError(
            f"{name}: inputs must be token ids of shape (T, B) with T ≥ 1, got {inputs.shape}"
        )
    return inputs
