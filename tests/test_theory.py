"""The theory module's helpers: their values, and their errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, theory
from minigrad.models import CharRNN


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


# ---- RTRL -------------------------------------------------------------------------------------


def rtrl_model(seed=0):
    mg.manual_seed(seed)
    return CharRNN(7, 3, 4, model="rnn", nonlinearity="sigmoid")


def test_rtrl_takes_a_state_dict_or_tensors_and_names_every_parameter():
    model = rtrl_model()
    inputs = np.array([[1, 2], [3, 0], [6, 6]])
    loss, grads = theory.rtrl_gradients(model.state_dict(), inputs, inputs[::-1])
    tensors = dict(model.named_parameters())
    assert theory.rtrl_gradients(tensors, inputs, inputs[::-1])[0] == loss
    assert set(grads) == set(theory.RECURRENT_PARAMETERS + theory.HEAD_PARAMETERS)
    assert all(grads[name].shape == p.shape for name, p in tensors.items())


def test_immediate_jacobian_is_the_engines_dz_dtheta_with_the_previous_state_fixed():
    params = rtrl_model(1).state_dict()
    tokens, h_prev = np.array([2, 5, 2]), np.random.default_rng(0).standard_normal((3, 4))
    theta = tuple(mg.tensor(params[name]) for name in theory.RECURRENT_PARAMETERS)

    def z(embedding, w_ih, w_hh, b_ih, b_hh):
        return embedding[tokens] @ w_ih.T + b_ih + mg.tensor(h_prev) @ w_hh.T + b_hh

    blocks = mg.autograd.jacobian(z, theta)
    engine = np.concatenate([b.data.reshape(3, 4, -1) for b in blocks], axis=2)
    analytic = theory.immediate_jacobian(params, tokens, h_prev)
    assert analytic.shape == (3, 4, 7 * 3 + 4 * 3 + 4 * 4 + 4 + 4)
    assert np.array_equal(analytic, engine)


def test_activation_is_the_engines_and_knows_its_names():
    z = np.array([-1.0, 0.0, 2.0])
    assert theory.activation("relu", z).tolist() == [0.0, 0.0, 2.0]
    assert np.array_equal(theory.activation("tanh", z), mg.tensor(z).tanh().data)
    with pytest.raises(ValueError, match="activation: unknown nonlinearity 'gelu'"):
        theory.activation("gelu", z)


def test_rtrl_checks_its_arguments_before_the_first_step():
    params = rtrl_model().state_dict()
    inputs = np.zeros((3, 2), dtype=int)
    with pytest.raises(ValueError, match="rtrl_gradients: params lacks head.weight, head.bias"):
        theory.rtrl_gradients({k: params[k] for k in theory.RECURRENT_PARAMETERS}, inputs, inputs)
    with pytest.raises(
        ValueError, match=r"rtrl_gradients: inputs must be token ids of shape \(T, B\)"
    ):
        theory.rtrl_gradients(params, np.zeros(3, dtype=int), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"with T ≥ 1, got \(0, 2\)"):
        theory.rtrl_sensitivities(params, np.zeros((0, 2), dtype=int))
    with pytest.raises(
        ValueError, match=r"rtrl_gradients: targets have shape \(3,\), inputs \(3, 2\)"
    ):
        theory.rtrl_gradients(params, inputs, inputs[:, 0])
    with pytest.raises(ValueError, match="activation: unknown nonlinearity 'gelu'"):
        theory.rtrl_sensitivities(params, inputs, "gelu")
    without = {k: v for k, v in params.items() if k != "rnn.weight_hh_l0"}
    with pytest.raises(ValueError, match="rtrl_sensitivities: params lacks rnn.weight_hh_l0$"):
        theory.rtrl_sensitivities(without, inputs)


# ---- gradient flow: unroll and gradient_norms ----------------------------------------------------


def test_unroll_without_retain_grad_leaves_the_states_gradients_to_hooks():
    mg.manual_seed(0)
    states = theory.unroll(nn.RNN(2, 3), mg.randn(4, 5, 2), retain_grad=False)
    seen = []
    states[2].register_hook(lambda g: seen.append(g.shape))
    states[-1].sum().backward()
    assert seen == [(5, 3)] and all(h.grad is None for h in states[1:])


def test_unroll_of_an_lstm_starts_from_a_given_cell_state():
    mg.manual_seed(0)
    lstm, xs = nn.LSTM(2, 3), mg.randn(4, 5, 2)
    h0, c0 = mg.randn(5, 3), mg.randn(5, 3)
    _, (h_n, _) = lstm(xs, (h0.unsqueeze(0), c0.unsqueeze(0)))
    states = theory.unroll(lstm, xs, (h0, c0))
    assert np.array_equal(states[0].data, h0.data)
    assert np.allclose(states[-1].data, h_n.data[0], rtol=1e-14, atol=0)
    zeros_c = theory.unroll(lstm, xs, h0)[-1]
    assert not np.allclose(zeros_c.data, h_n.data[0])  # c_0 = 0 is another start


def test_gradient_norms_of_a_loss_at_every_step_are_the_engines():
    mg.manual_seed(0)
    gru, xs = nn.GRU(2, 3), mg.randn(6, 4, 2)
    norms = theory.gradient_norms(
        gru, xs, every_step=True, loss=lambda hs: (mg.stack(hs) ** 2).sum()
    )
    states = theory.unroll(gru, xs)
    (mg.stack(states[1:]) ** 2).sum().backward()
    assert norms.tolist() == [np.linalg.norm(h.grad.data) for h in states]
    default = theory.gradient_norms(gru, xs, every_step=True)
    states = theory.unroll(gru, xs)
    mg.stack(states[1:]).sum().backward()
    assert default.tolist() == [np.linalg.norm(h.grad.data) for h in states]


def test_a_gated_cells_preactivation_holds_every_gate_side_by_side():
    mg.manual_seed(0)
    lstm = nn.LSTMCell(2, 3)
    x, h = mg.randn(5, 2), mg.randn(5, 3)
    z = theory.preactivation(lstm, x, h).data
    w = lambda p: p.data  # noqa: E731
    expected = x.data @ w(lstm.weight_ih).T + w(lstm.bias_ih) + h.data @ w(lstm.weight_hh).T
    assert z.shape == (5, 12) and np.allclose(z, expected + w(lstm.bias_hh), rtol=1e-14, atol=0)
