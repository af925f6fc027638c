"""The theory module's helpers: their values, and their errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, theory


def test_gamma_and_slopes():
    assert theory.gamma("sigmoid") == 0.25 and theory.gamma("relu") == 1.0
    z = np.array([-2.0, 0.0, 3.0])
    assert np.allclose(
        theory.activation_derivative("sigmoid", z),
        1 / (1 + np.exp(-z)) * (1 - 1 / (1 + np.exp(-z))),
    )
    assert np.allclose(theory.activation_derivative("tanh", mg.tensor(z)), 1 - np.tanh(z) ** 2)
    assert theory.activation_derivative("relu", z).tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="gamma: unknown nonlinearity 'gelu'"):
        theory.gamma("gelu")
    with pytest.raises(ValueError, match="activation_derivative: unknown nonlinearity"):
        theory.activation_derivative("gelu", z)


def test_recurrent_matrix_hits_its_target():
    w = theory.recurrent_matrix(6, lambda1=2.5)
    assert np.allclose(np.linalg.svd(w, compute_uv=False), 2.5)  # every singular value
    g = theory.recurrent_matrix(6, lambda1=2.5, orthogonal=False)
    assert (
        theory.largest_singular_value(g) == pytest.approx(2.5)
        and np.linalg.svd(g, compute_uv=False)[-1] < 2.5
    )
    r = theory.recurrent_matrix(6, spectral_radius=0.7)
    assert theory.spectral_radius(r) == pytest.approx(0.7)
    assert theory.spectral_radius(r) <= theory.largest_singular_value(r)
    with pytest.raises(ValueError, match="exactly one of lambda1 and spectral_radius"):
        theory.recurrent_matrix(3)
    with pytest.raises(ValueError, match="must be non-negative"):
        theory.recurrent_matrix(3, lambda1=-1.0)


def test_recurrent_matrix_uses_the_seeded_generator():
    mg.manual_seed(3)
    a = theory.recurrent_matrix(4, lambda1=1.0)
    mg.manual_seed(3)
    assert np.array_equal(a, theory.recurrent_matrix(4, lambda1=1.0))


def test_set_recurrent_weights_sets_every_gate_block():
    gru = theory.set_recurrent_weights_(nn.GRU(2, 3), 1.5)
    for block in np.split(gru.weight_hh_l0.data, 3):
        assert np.allclose(np.linalg.svd(block, compute_uv=False), 1.5)


def test_bound_and_steps_to_vanish():
    assert theory.bound("sigmoid", 2.0, 3) == pytest.approx(0.125)
    assert theory.steps_to_vanish("tanh", 0.1, 1e-6) == 6
    with pytest.raises(ValueError, match="needs 0 < γλ₁ < 1"):
        theory.steps_to_vanish("sigmoid", 4.0)


def test_the_analytic_jacobian_is_for_plain_rnn_cells_of_one_layer():
    with pytest.raises(TypeError, match="the analytic Jacobian is for RNN cells, got LSTMCell"):
        theory.step_jacobian(nn.LSTMCell(2, 3), mg.zeros(2), mg.zeros(3))
    with pytest.raises(ValueError, match="one-layer, one-direction"):
        theory.unroll(nn.RNN(2, 3, num_layers=2), mg.zeros(4, 2))
    with pytest.raises(TypeError, match="expected an RNN, LSTM or GRU module or cell, got Linear"):
        theory.unroll(nn.Linear(2, 3), mg.zeros(4, 2))
    rnn = nn.RNN(2, 3, nonlinearity="sigmoid")
    states, js = theory.step_jacobians(rnn, mg.randn(4, 2))
    assert len(states) == 5 and len(js) == 4 and js[0].shape == (3, 3)


def test_unroll_keeps_every_hidden_state_and_accepts_batches():
    states = theory.unroll(nn.GRU(2, 3), mg.randn(4, 5, 2))
    assert len(states) == 5 and states[-1].shape == (5, 3)
    states[-1].sum().backward()
    assert all(h.grad is not None and h.grad.shape == (5, 3) for h in states)


def test_gradient_and_jacobian_norms_agree_at_the_last_step():
    mg.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    xs = mg.randn(6, 2)
    j = theory.jacobian_norms(lstm, xs)
    g = theory.gradient_norms(lstm, xs)
    assert j[-1] == pytest.approx(1.0) and g[-1] == pytest.approx(np.sqrt(3))
    assert np.all(g <= j * np.sqrt(3) * (1 + 1e-12))  # ‖Jᵀ 1‖ ≤ ‖J‖₂ ‖1‖
    with pytest.raises(ValueError, match=r"jacobian_norms: expected an unbatched sequence"):
        theory.jacobian_norms(lstm, mg.randn(6, 1, 2))
