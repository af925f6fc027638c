"""Chapters 1, 2, 4, 5 and 6: the chain-rule product of backprop through an RNN.

∂h_t/∂h_{t−1} = diag(act'(z_t)) W_hh,     ∂h_t/∂h_k = ∏_{i=k+1..t} diag(act'(z_i)) W_hh
‖∂h_t/∂h_k‖₂ ≤ (γ λ₁)^(t−k),              γ = max act' (1/4 for σ, 1 for tanh)
"""

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
from minigrad import nn, theory
from minigrad.autograd import jacobian
from minigrad.testing import assert_close

NONLINEARITIES = ["sigmoid", "tanh", "relu"]


def cell_with(nonlinearity, hidden=6, inputs=3, lambda1=None, seed=0):
    mg.manual_seed(seed)
    cell = nn.RNNCell(inputs, hidden, nonlinearity=nonlinearity)
    if lambda1 is not None:
        w = theory.recurrent_matrix(hidden, lambda1, orthogonal=False)
        with mg.no_grad():
            cell.weight_hh.copy_(w)
    return cell


def run_from(cell, xs, k, t):
    """h_k ↦ h_t: the cell applied to steps k+1..t (xs[k] .. xs[t-1])."""

    def f(h):
        for x in xs[k:t]:
            h = cell(x, h)
        return h

    return f


# ---- chapter 1: one step ----------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_one_step_jacobian_is_diag_of_the_slope_times_w_hh(nonlinearity):
    cell = cell_with(nonlinearity)
    x, h = mg.randn(3), mg.randn(6)
    engine = jacobian(lambda h: cell(x, h), h)
    analytic = theory.step_jacobian(cell, x, h)
    assert_close(engine.data, analytic, 1e-12, f"{nonlinearity} one step")


SYMBOLS = 3  # units; the SymPy σ-RNN runs 3 steps


def symbolic_rnn():
    n = SYMBOLS
    W = sp.Matrix(n, n, sp.symbols(f"w0:{n * n}", real=True))
    U = sp.Matrix(n, 2, sp.symbols(f"u0:{2 * n}", real=True))
    b = sp.Matrix(n, 1, sp.symbols(f"b0:{n}", real=True))
    h0 = sp.Matrix(n, 1, sp.symbols(f"h0_0:{n}", real=True))
    xs = [sp.Matrix(2, 1, sp.symbols(f"x{t}_0:2", real=True)) for t in range(1, 4)]
    h, zs = h0, []
    for x in xs:
        z = W * h + U * x + b
        zs.append(z)
        h = z.applyfunc(lambda v: 1 / (1 + sp.exp(-v)))
    return W, U, b, h0, xs, zs, h


def test_sympy_jacobian_over_three_steps_equals_the_engines_at_random_points():
    W, U, b, h0, xs, _, h3 = symbolic_rnn()
    J = h3.jacobian(h0)  # exact ∂h_3/∂h_0
    symbols = [*W, *U, *b, *h0, *(s for x in xs for s in x)]
    exact = sp.lambdify(symbols, J, modules="numpy")
    rng = np.random.default_rng(0)
    for _ in range(5):
        w, u, bias, start = (
            rng.standard_normal((3, 3)),
            rng.standard_normal((3, 2)),
            rng.standard_normal(3),
            rng.standard_normal(3),
        )
        inputs = rng.standard_normal((3, 2))
        cell = nn.RNNCell(2, 3, nonlinearity="sigmoid")
        with mg.no_grad():
            cell.weight_hh.copy_(w)
            cell.weight_ih.copy_(u)
            cell.bias_ih.copy_(bias)
            cell.bias_hh.zero_()
        engine = jacobian(run_from(cell, mg.tensor(inputs), 0, 3), mg.tensor(start))
        values = [*w.ravel(), *u.ravel(), *bias, *start, *inputs.ravel()]
        assert_close(engine.data, np.array(exact(*values), dtype=float), 1e-12, "∂h_3/∂h_0")


def test_sympy_jacobian_simplifies_to_the_ordered_product_of_diag_slope_times_w():
    W, _, _, h0, _, zs, h3 = symbolic_rnn()
    J = h3.jacobian(h0)
    z = sp.Symbol("z", real=True)
    sigma = 1 / (1 + sp.exp(-z))
    slope = sp.diff(sigma, z)
    product = sp.eye(SYMBOLS)
    for zi in zs:  # latest step on the left
        product = sp.diag(*[slope.subs(z, v) for v in zi]) * W * product
    # Name each e^(−z_i): both sides become polynomials in these names and the weights,
    # and their difference expands to exactly zero.
    names = {
        sp.exp(-v): sp.Symbol(f"e{i}_{j}", positive=True)
        for i, zi in enumerate(zs)
        for j, v in enumerate(zi)
    }
    difference = (J - product).xreplace(names).applyfunc(sp.expand)
    assert difference == sp.zeros(SYMBOLS, SYMBOLS)
    # ... and the slope is σ(1 − σ), so J = ∏ diag(σ(z_i)(1 − σ(z_i))) W_hh.
    assert sp.simplify(slope - sigma * (1 - sigma)) == 0


# ---- chapter 2: many steps --------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_engine_jacobian_over_many_steps_equals_the_ordered_product(nonlinearity):
    cell = cell_with(nonlinearity, lambda1=1.2)
    xs = mg.randn(50, 3)
    _, jacobians = theory.step_jacobians(cell, xs)
    for k, t in [(49, 50), (40, 50), (25, 50), (0, 50), (10, 30)]:
        states, _ = theory.step_jacobians(cell, xs[:k])
        engine = jacobian(run_from(cell, xs, k, t), states[-1])
        assert_close(engine.data, theory.ordered_product(jacobians, k, t), 1e-12, f"∂h_{t}/∂h_{k}")


def test_jacobian_norms_measured_by_the_engine_are_the_norms_of_the_products():
    cell = cell_with("tanh", lambda1=1.5)
    xs = mg.randn(30, 3)
    _, jacobians = theory.step_jacobians(cell, xs)
    measured = theory.jacobian_norms(cell, xs)
    analytic = [np.linalg.norm(theory.ordered_product(jacobians, k, 30), 2) for k in range(31)]
    np.testing.assert_allclose(measured, analytic, rtol=1e-10)


def test_ordered_product_checks_its_range_and_is_the_identity_at_distance_zero():
    js = [np.full((2, 2), 2.0), np.eye(2)]
    assert np.array_equal(theory.ordered_product(js, 1, 1), np.eye(2))
    with pytest.raises(ValueError, match="need 0 <= k <= t <= 2"):
        theory.ordered_product(js, 1, 3)


# ---- chapter 4: the bound ---------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
@pytest.mark.parametrize("multiple", [0.5, 0.9, 2.0, 8.0])
def test_the_norm_of_the_product_never_exceeds_gamma_lambda1_to_the_distance(
    nonlinearity, multiple
):
    gamma = theory.gamma(nonlinearity)
    for seed in range(3):
        cell = cell_with(nonlinearity, hidden=8, lambda1=multiple / gamma, seed=seed)
        assert theory.largest_singular_value(cell.weight_hh) == pytest.approx(
            multiple / gamma, rel=1e-12
        )
        xs = mg.randn(40, 3)
        measured = theory.jacobian_norms(cell, xs)
        bound = theory.bound(nonlinearity, multiple / gamma, 40 - np.arange(41))
        assert np.all(measured <= bound * (1 + 1e-10)), (measured / bound).max()


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
@pytest.mark.parametrize("multiple", [0.5, 0.9])
def test_below_one_over_gamma_the_norm_falls_below_1e6_within_the_steps_the_bound_predicts(
    nonlinearity, multiple
):
    gamma = theory.gamma(nonlinearity)
    steps = theory.steps_to_vanish(nonlinearity, multiple / gamma, 1e-6)
    assert steps == {0.5: 20, 0.9: 132}[multiple]  # ⌈ln 1e-6 / ln(γλ₁)⌉
    cell = cell_with(nonlinearity, hidden=8, lambda1=multiple / gamma)
    measured = theory.jacobian_norms(cell, mg.randn(steps, 3))
    assert measured[0] < 1e-6  # distance = steps


def test_vanishing_shows_in_the_loss_too():
    """‖∂J_t/∂h_k‖ = ‖(∂h_t/∂h_k)ᵀ ∂J_t/∂h_t‖ ≤ (γλ₁)^(t−k) ‖∂J_t/∂h_t‖: it falls with t − k."""
    cell = cell_with("sigmoid", hidden=8, lambda1=0.9 / 0.25)
    xs = mg.randn(30, 3)
    norms = theory.gradient_norms(cell, xs, loss=lambda h: (h * h).sum())
    bound = theory.bound("sigmoid", 0.9 / 0.25, 30 - np.arange(31))
    assert np.all(norms <= norms[-1] * bound * (1 + 1e-10))
    assert norms[0] < 1e-3 * norms[-1]
    assert np.all(np.diff(np.log(norms[::5])) > 0)  # growing towards the loss, every 5 steps


def test_sympy_shows_max_tanh_slope_is_one():
    x = sp.Symbol("x", real=True)
    slope = sp.diff(sp.tanh(x), x)
    assert sp.simplify(slope - (1 - sp.tanh(x) ** 2)) == 0
    assert sp.maximum(slope, x, sp.S.Reals) == 1
    assert slope.subs(x, 0) == 1 and theory.gamma("tanh") == 1.0
    assert theory.gamma("sigmoid") == float(sp.Rational(1, 4))  # proved in test_sigmoid.py


# ---- chapter 5: exploding, and clipping as the fix ---------------------------------------------


def test_with_lambda1_far_above_one_over_gamma_the_product_grows_geometrically():
    """tanh, λ₁ = 8/γ, started near 0 where tanh' ≈ 1: ‖∂h_T/∂h_k‖ ≈ 8^(T−k), the bound itself."""
    mg.manual_seed(0)
    cell = nn.RNNCell(1, 8)
    with mg.no_grad():
        cell.weight_hh.copy_(theory.recurrent_matrix(8, lambda1=8.0))
        cell.weight_ih.zero_()
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    h0 = mg.tensor(1e-12 * np.random.default_rng(0).standard_normal(8))
    measured = theory.jacobian_norms(cell, mg.zeros(10, 1), h0)
    distance = 10 - np.arange(11)
    np.testing.assert_allclose(measured, 8.0**distance, rtol=1e-5)
    np.testing.assert_allclose(measured[:-1] / measured[1:], 8.0, rtol=1e-5)


def exploding_model(T):
    """A relu RNN kept on the positive orthant, where it is exactly linear: W_hh = 8·(a cyclic
    permutation), so λ₁ = 8 = 8/γ; inputs 0, a tiny positive bias, output Σ h_T, target 2."""
    rnn, head = nn.RNN(1, 8, nonlinearity="relu"), nn.Linear(8, 1)
    with mg.no_grad():
        rnn.weight_hh_l0.copy_(8.0 * np.roll(np.eye(8), 1, axis=0))
        rnn.weight_ih_l0.zero_()
        rnn.bias_ih_l0.fill_(8.0**-T)
        rnn.bias_hh_l0.zero_()
        head.weight.fill_(1.0)
        head.bias.zero_()
    params = [*rnn.parameters(), *head.parameters()]
    x = mg.zeros(T, 1, 1)

    def loss():
        with np.errstate(over="ignore", invalid="ignore"):
            out, _ = rnn(x)
            return ((head(out[-1]) - 2.0) ** 2).mean()

    return params, loss


def sgd_step(params, lr):
    with mg.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=lr)


def test_an_unclipped_sgd_step_on_an_exploding_rnn_gives_inf_or_nan():
    params, loss = exploding_model(90)
    before = loss()
    assert np.isfinite(before.item()) and before.item() < 1.0
    before.backward()
    assert nn.utils.get_total_norm([p.grad for p in params]).item() > 1e70  # grows like 8^T
    sgd_step(params, 0.1)
    assert not np.isfinite(loss().item())


def test_the_same_step_with_clipping_stays_finite_and_keeps_the_direction():
    """Clipping bounds the step, not the model: each parameter moves by at most lr·max_norm and
    the step points exactly where the gradient does. The loss after it is still large (the
    forward map has gain 8^T), but finite."""
    params, loss = exploding_model(90)
    loss().backward()
    raw = np.concatenate([p.grad.data.ravel() for p in params])
    before = np.concatenate([p.data.ravel() for p in params])
    nn.utils.clip_grad_norm_(params, max_norm=1.0)
    clipped = np.concatenate([p.grad.data.ravel() for p in params])
    assert raw @ clipped / (np.linalg.norm(raw) * np.linalg.norm(clipped)) == pytest.approx(
        1.0, abs=1e-12
    )
    sgd_step(params, 0.1)
    moved = np.concatenate([p.data.ravel() for p in params]) - before
    assert np.linalg.norm(moved) == pytest.approx(0.1, rel=1e-6)
    assert np.isfinite(loss().item())


# ---- chapter 6: the fixes for vanishing --------------------------------------------------------


def gradient_at_distance_50(kind, seed):
    mg.manual_seed(100 + seed)
    model = {
        "sigmoid": lambda: nn.RNN(32, 32, nonlinearity="sigmoid"),
        "tanh": lambda: nn.RNN(32, 32),
        "lstm": lambda: nn.init.forget_gate_bias_(nn.LSTM(32, 32), 1.0),
        "gru": lambda: nn.GRU(32, 32),
    }[kind]()
    mg.manual_seed(seed)
    xs = mg.randn(50, 32)  # the same inputs, N(0, 1), for every model
    norms = theory.gradient_norms(model, xs)
    return norms[0] / norms[-1]  # ‖∂L/∂h_0‖ relative to ‖∂L/∂h_50‖


def test_lstm_and_gru_keep_the_gradient_orders_of_magnitude_larger_than_the_sigma_rnn():
    """‖∂L/∂h_0‖ / ‖∂L/∂h_50‖, measured here (PyTorch's default initialisation, H = 32, seeds
    0, 1, 2): σ-RNN 4e-42, 9e-44, 2e-43; tanh-RNN 1e-15, 7e-18, 1e-17; GRU 2e-11, 1e-11, 3e-11;
    LSTM with forget bias 1: 2e-6, 2e-6, 4e-6. The LSTM keeps about 36 more orders of magnitude
    than the σ-RNN, the GRU about 31. The assertions leave at least ten orders of margin on
    each ratio to the σ-RNN, and a few on each ratio to the tanh-RNN."""
    for seed in range(3):
        sigmoid, tanh, lstm, gru = (
            gradient_at_distance_50(k, seed) for k in ("sigmoid", "tanh", "lstm", "gru")
        )
        assert sigmoid < 1e-30
        assert lstm > 1e25 * sigmoid and lstm > 1e5 * tanh
        assert gru > 1e20 * sigmoid and gru > 1e2 * tanh
