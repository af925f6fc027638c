"""Gradients written out by hand, for exercises whose code the package has no unit of its own for.

The engine differentiates an RNN, an LSTM and a GRU by composing its ops'
rules, so nowhere in minigrad is their backward written out. These are, in
plain numpy, the references of modules 3 and 4 of the track (their exercises
are these functions with the bodies removed):

* ``backward_through_time``: the backward recursion of BPTT, the loop of
  spec/bptt_reference.py's ``backward``;
* ``lstm_cell_backward`` and ``gru_cell_backward``: one step of nn.LSTMCell and
  nn.GRUCell (PyTorch's equations and gate order), given the gradients of
  what the step made;
* ``carry_gain``: how much of the LSTM's cell state c_k reaches c_t along the
  carry path, the product of the forget gates.

tests/test_learn.py checks each against an independent computation: BPTT
against spec/bptt_reference.py and the engine, the cells against PyTorch's
recorded gradients (tests/fixtures/torch_reference.npz) and the engine, and
the carry path against the engine's gradient with the gates' inputs held fixed.
"""

import numpy as np

from ..ops.elementwise import stable_sigmoid


def backward_through_time(d_h_out, slope, w_hh):
    """∂J/∂z_t for t = 1..T: BPTT's backward recursion, for h_t = act(z_t) with
    z_t = x_t W_ihᵀ + b + h_{t−1} W_hhᵀ.

    d_h_out: (T, B, H), ∂J/∂h_t through step t's output alone (the loss's terms at step t);
    slope: (T, B, H), act'(z_t) (σ'(z_t) = h_t(1 − h_t) for the σ-RNN);
    w_hh: (H, H), the recurrent weight.

    h_t reaches J through step t's output and through z_{t+1}, so the total gradient at h_t,
    g_t, is d_h_out[t] plus what comes back from step t + 1 (nothing at t = T). Returns
    d_z: (T, B, H), d_z[t] = ∂J/∂z_t = g_t ⊙ act'(z_t); every weight's gradient is a product
    with it (∂J/∂W_hh = Σ_t d_z[t]ᵀ h_{t−1}).
    """
    d_z = np.empty_like(slope)
    carried = np.zeros_like(slope[0])  # (∂h_{t+1}/∂h_t)ᵀ g_{t+1}: nothing after the last step
    for t in range(len(slope) - 1, -1, -1):
        d_z[t] = (d_h_out[t] + carried) * slope[t]  # g_t ⊙ act'(z_t)
        carried = d_z[t] @ w_hh  # (diag(act'(z_t)) W_hh)ᵀ g_t, as a row: d_z[t] W_hh
    return d_z


def lstm_gates(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step forward, keeping what backward needs: (i, f, g, o, c'), each (N, H).

    a = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, split into a_i, a_f, a_g, a_o (PyTorch's order);
    i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o);  c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c').
    """
    a = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)
    i, f, g, o = stable_sigmoid(a_i), stable_sigmoid(a_f), np.tanh(a_g), stable_sigmoid(a_o)
    return i, f, g, o, f * c + i * g


def lstm_cell_backward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, dh_next, dc_next):
    """The gradients of one LSTM step (nn.LSTMCell), by hand.

    x: (N, I); h, c: (N, H); weight_ih: (4H, I), weight_hh: (4H, H), bias_ih, bias_hh: (4H,),
    the gates stacked i, f, g, o; ``lstm_gates`` gives the step forward:

        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o);  c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c')

    dh_next, dc_next: (N, H), ∂L/∂h' and ∂L/∂c' (c' also reaches L on its own, through the
    next step). Returns {"input", "h", "c", "weight_ih", "weight_hh", "bias_ih",
    "bias_hh"}: ∂L/∂ each, of its shape.
    """
    i, f, g, o, c_new = lstm_gates(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh)
    tanh_c = np.tanh(c_new)
    dc = dc_next + dh_next * o * (1 - tanh_c**2)  # ∂L/∂c' in all: directly, and through h'
    da = np.concatenate(
        [
            dc * g * i * (1 - i),  # a_i
            dc * c * f * (1 - f),  # a_f
            dc * i * (1 - g**2),  # a_g
            dh_next * tanh_c * o * (1 - o),  # a_o
        ],
        axis=-1,
    )
    return {
        "input": da @ weight_ih,
        "h": da @ weight_hh,
        "c": dc * f,  # the carry path: c' = f ⊙ c + ...
        "weight_ih": da.T @ x,
        "weight_hh": da.T @ h,
        "bias_ih": da.sum(axis=0),
        "bias_hh": da.sum(axis=0),
    }


def gru_gates(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step forward, keeping what backward needs: (r, z, n, h_n), each (N, H).

    x W_ihᵀ + b_ih and h W_hhᵀ + b_hh, each split r, z, n (PyTorch's order):
    r, z = σ(x_r + h_r), σ(x_z + h_z);  n = tanh(x_n + r ⊙ h_n);  h' = (1 − z) ⊙ n + z ⊙ h,
    where h_n = h W_hnᵀ + b_hn.
    """
    x_r, x_z, x_n = np.split(x @ weight_ih.T + bias_ih, 3, axis=-1)
    h_r, h_z, h_n = np.split(h @ weight_hh.T + bias_hh, 3, axis=-1)
    r, z = stable_sigmoid(x_r + h_r), stable_sigmoid(x_z + h_z)
    return r, z, np.tanh(x_n + r * h_n), h_n


def gru_cell_backward(x, h, weight_ih, weight_hh, bias_ih, bias_hh, dh_next):
    """The gradients of one GRU step (nn.GRUCell), by hand.

    x: (N, I); h: (N, H); weight_ih: (3H, I), weight_hh: (3H, H), bias_ih, bias_hh: (3H,),
    the gates stacked r, z, n; ``gru_gates`` gives the step forward:

        r, z = σ(x_r + h_r), σ(x_z + h_z);  n = tanh(x_n + r ⊙ h_n);  h' = (1 − z) ⊙ n + z ⊙ h

    with x_· = x W_i·ᵀ + b_i· and h_· = h W_h·ᵀ + b_h·. dh_next: (N, H), ∂L/∂h'. Returns
    {"input", "h", "weight_ih", "weight_hh", "bias_ih", "bias_hh"}: ∂L/∂ each, of its shape.
    """
    r, z, n, h_n = gru_gates(x, h, weight_ih, weight_hh, bias_ih, bias_hh)
    d_n = dh_next * (1 - z) * (1 - n**2)  # ∂L/∂(x_n + r ⊙ h_n)
    d_r = d_n * h_n * r * (1 - r)  # ∂L/∂(x_r + h_r)
    d_z = dh_next * (h - n) * z * (1 - z)  # ∂L/∂(x_z + h_z)
    d_input_side = np.concatenate([d_r, d_z, d_n], axis=-1)
    d_hidden_side = np.concatenate([d_r, d_z, d_n * r], axis=-1)  # h_n sits inside r ⊙ (...)
    return {
        "input": d_input_side @ weight_ih,
        "h": dh_next * z + d_hidden_side @ weight_hh,  # directly, and through every gate
        "weight_ih": d_input_side.T @ x,
        "weight_hh": d_hidden_side.T @ h,
        "bias_ih": d_input_side.sum(axis=0),
        "bias_hh": d_hidden_side.sum(axis=0),
    }


def carry_gain(forget_gates, k, t):
    """∂c_t/∂c_k along the LSTM's carry path, as the diagonal of that (H, H) Jacobian.

    forget_gates: (T, H), row s − 1 holding f_s, the forget gate of step s = 1..T; 0 ≤ k ≤ t ≤ T.
    The carry path is c_s = f_s ⊙ c_{s−1} + i_s ⊙ g_s with the gates' inputs held fixed
    (i_s ⊙ g_s does not read c_{s−1}): each step multiplies by diag(f_s). Returns (H,).
    """
    return np.prod(forget_gates[k:t], axis=0)
