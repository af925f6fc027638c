"""The σ-RNN's gradient computed forward in time: real-time recurrent learning (RTRL).

RTRL carries the sensitivity P_t = ∂h_t/∂θ from step to step,

    P_t = diag(σ'(z_t)) (W_hh P_{t−1} + ∂z_t/∂θ),     ∂J/∂θ = Σ_t (∂J/∂h_t) P_t  (+ the head's terms),

so it multiplies the chain-rule product ∏ diag(σ'(z_i)) W_hh in the order the
steps run, where BPTT multiplies it from the loss backwards. This chapter shows
that the two give the same gradient (numerically, and in SymPy for a small
RNN), and counts what each keeps.
"""

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
import minigrad.functional as F
from minigrad import theory
from minigrad.autograd import jvp
from minigrad.testing import assert_close

from .bptt_reference import NAMES, forward, init_params, loss_and_gradients
from .test_bptt import E, H, V, engine_loss_and_gradients

# ---- the same gradient, numerically ------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
@pytest.mark.parametrize(("T", "B"), [(1, 1), (5, 3), (50, 2)])
def test_rtrl_gradients_equal_hand_derived_bptt_and_the_engines(nonlinearity, T, B):
    rng = np.random.default_rng(1000 + T * 10 + B)
    params = init_params(V, E, H, rng)
    inputs, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    loss, grads = theory.rtrl_gradients(params, inputs, targets, nonlinearity)
    loss_bptt, grads_bptt = loss_and_gradients(params, inputs, targets, nonlinearity)
    loss_engine, grads_engine = engine_loss_and_gradients(params, inputs, targets, nonlinearity)
    assert loss == pytest.approx(loss_bptt, rel=1e-13)
    assert loss == pytest.approx(loss_engine, rel=1e-13)
    assert set(grads) == set(NAMES)
    for name in NAMES:
        what = f"{nonlinearity} T={T} B={B} {name}"
        assert_close(grads[name], grads_bptt[name], 1e-10, f"RTRL against BPTT: {what}")
        assert_close(grads[name], grads_engine[name], 1e-10, f"RTRL against the engine: {what}")


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
@pytest.mark.parametrize(("T", "B"), [(1, 1), (5, 3), (20, 2)])
def test_rtrl_on_the_engines_forward_mode_equals_hand_derived_bptt(nonlinearity, T, B):
    """Forward mode = reverse mode: J's tangent along each parameter entry's direction (one
    forward-mode pass per entry, ``method="forward-mode"``) is BPTT's ∂J/∂θ for that entry."""
    rng = np.random.default_rng(2000 + T * 10 + B)
    params = init_params(V, E, H, rng)
    inputs, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    loss, grads = theory.rtrl_gradients(params, inputs, targets, nonlinearity, "forward-mode")
    loss_bptt, grads_bptt = loss_and_gradients(params, inputs, targets, nonlinearity)
    assert loss == pytest.approx(loss_bptt, rel=1e-13)
    assert set(grads) == set(NAMES)
    for name in NAMES:
        what = f"{nonlinearity} T={T} B={B} {name}"
        assert_close(grads[name], grads_bptt[name], 1e-10, f"forward mode against BPTT: {what}")


def engine_hidden_states(inputs, nonlinearity):
    """θ ↦ (h_1, ..., h_T), written with the engine's ops, θ in RTRL's order."""

    def run(embedding, w_ih, w_hh, b_ih, b_hh):
        h, states = mg.zeros(inputs.shape[1], H), []
        for tokens in inputs:
            z = F.embedding(tokens, embedding) @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            h = getattr(z, nonlinearity)()
            states.append(h)
        return tuple(states)

    return run


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
def test_rtrls_sensitivity_along_any_direction_is_the_engines_forward_mode_jvp(nonlinearity):
    """P_t v = (∂h_t/∂θ) v for every t: RTRL is forward-mode differentiation of h_t."""
    rng = np.random.default_rng(7)
    params = init_params(V, E, H, rng)
    inputs = rng.integers(0, V, (20, 3))
    theta = tuple(mg.tensor(params[name]) for name in theory.RECURRENT_PARAMETERS)
    direction = tuple(mg.tensor(rng.standard_normal(p.shape)) for p in theta)
    _, products = jvp(engine_hidden_states(inputs, nonlinearity), theta, direction)
    flat = np.concatenate([v.data.ravel() for v in direction])
    sensitivities = theory.rtrl_sensitivities(params, inputs, nonlinearity)
    for t, ((_, p), product) in enumerate(zip(sensitivities, products), start=1):
        assert_close(p @ flat, product.data, 1e-10, f"{nonlinearity} P_{t} v")


# ---- the same product, in SymPy ----------------------------------------------------------------

UNITS, STEPS = 2, 3


def test_the_product_of_step_jacobians_is_the_same_in_either_order():
    """J_3 (J_2 J_1), RTRL's order, and (J_3 J_2) J_1, BPTT's, expand to the same matrix of
    polynomials in the entries of W_hh and the slopes s_t = σ'(z_t)."""
    W = sp.Matrix(UNITS, UNITS, sp.symbols(f"w0:{UNITS**2}", real=True))
    slopes = [sp.symbols(f"s{t}_0:{UNITS}", positive=True) for t in range(1, STEPS + 1)]
    J = [sp.diag(*s) * W for s in slopes]
    forward_in_time, backward_in_time = sp.eye(UNITS), sp.eye(UNITS)
    for step in J:  # RTRL: P_t = J_t P_{t−1}, the newest factor on the left
        forward_in_time = step * forward_in_time
    for step in reversed(J):  # BPTT: G_{t−1} = G_t J_t, from the loss back
        backward_in_time = backward_in_time * step
    assert forward_in_time == J[2] * (J[1] * J[0]) and backward_in_time == (J[2] * J[1]) * J[0]
    assert (forward_in_time - backward_in_time).applyfunc(sp.expand) == sp.zeros(UNITS, UNITS)
    assert forward_in_time.applyfunc(sp.expand) != sp.zeros(UNITS, UNITS)


def symbolic_sigma_rnn():
    """A 2-unit σ-RNN over 3 steps with symbolic W_hh, W_ih, b, h_0, inputs and read-outs c_t."""
    W = sp.Matrix(UNITS, UNITS, sp.symbols(f"w0:{UNITS**2}", real=True))
    U = sp.Matrix(UNITS, 2, sp.symbols(f"u0:{2 * UNITS}", real=True))
    b = sp.Matrix(UNITS, 1, sp.symbols(f"b0:{UNITS}", real=True))
    h0 = sp.Matrix(UNITS, 1, sp.symbols(f"h0_0:{UNITS}", real=True))
    xs = [sp.Matrix(2, 1, sp.symbols(f"x{t}_0:2", real=True)) for t in range(1, STEPS + 1)]
    cs = [
        sp.Matrix(UNITS, 1, sp.symbols(f"c{t}_0:{UNITS}", real=True)) for t in range(1, STEPS + 1)
    ]
    hs, zs = [h0], []
    for x in xs:
        zs.append(W * hs[-1] + U * x + b)
        hs.append(zs[-1].applyfunc(lambda v: 1 / (1 + sp.exp(-v))))
    loss = sum(((c.T * h)[0, 0] for c, h in zip(cs, hs[1:])), sp.Integer(0))  # L = Σ_t c_tᵀ h_t
    return W, hs, zs, cs, loss


def slope_matrices(zs):
    z = sp.Symbol("z", real=True)
    slope = sp.diff(1 / (1 + sp.exp(-z)), z)
    return [sp.diag(*[slope.subs(z, v) for v in zi]) for zi in zs]


def rtrl_gradient_wrt_w_hh(W, hs, zs, cs):
    """Forward: P_t = D_t (W P_{t−1} + ∂z_t/∂W_hh), P_0 = 0; ∂L/∂W_hh = Σ_t c_tᵀ P_t."""
    P, total = sp.zeros(UNITS, UNITS**2), sp.zeros(1, UNITS**2)
    for D, h_prev, c in zip(slope_matrices(zs), hs, cs):
        immediate = sp.diag(*[h_prev.T] * UNITS)  # ∂z_i/∂W[k, j] = δ_ik h_{t−1, j}
        P = D * (W * P + immediate)
        total += c.T * P
    return total.reshape(UNITS, UNITS)


def bptt_gradient_wrt_w_hh(W, hs, zs, cs):
    """Backward: δ_t = D_t (c_t + Wᵀ δ_{t+1}), δ_{T+1} = 0; ∂L/∂W_hh = Σ_t δ_t h_{t−1}ᵀ."""
    delta, total = sp.zeros(UNITS, 1), sp.zeros(UNITS, UNITS)
    for D, h_prev, c in reversed(list(zip(slope_matrices(zs), hs, cs))):
        delta = D * (c + W.T * delta)
        total += delta * h_prev.T
    return total


def test_rtrl_and_bptt_recursions_both_give_sympys_exact_gradient_for_w_hh():
    """For L = Σ_t c_tᵀ h_t of a 2-unit, 3-step σ-RNN: sympy.diff's ∂L/∂W_hh, the forward
    recursion and the backward one are the same expression (with each e^(−z_t,i) named, the
    differences expand to 0)."""
    W, hs, zs, cs, loss = symbolic_sigma_rnn()
    exact = sp.Matrix(UNITS, UNITS, lambda i, j: sp.diff(loss, W[i, j]))
    names = {
        sp.exp(-v): sp.Symbol(f"e{t}_{i}", positive=True)
        for t, zt in enumerate(zs)
        for i, v in enumerate(zt)
    }

    def expanded(m):
        return m.xreplace(names).applyfunc(sp.expand)

    exact = expanded(exact)
    assert exact != sp.zeros(UNITS, UNITS)
    assert expanded(rtrl_gradient_wrt_w_hh(W, hs, zs, cs)) - exact == sp.zeros(UNITS, UNITS)
    assert expanded(bptt_gradient_wrt_w_hh(W, hs, zs, cs)) - exact == sp.zeros(UNITS, UNITS)


# ---- what each keeps ---------------------------------------------------------------------------


@pytest.mark.parametrize("T", [5, 50])
def test_rtrl_carries_h_times_p_numbers_per_sequence_whatever_t_and_bptt_keeps_t_states(T):
    """Counted, not timed: P_t holds B·H·P floats at every step (P = V·E + H·E + H² + 2H
    recurrent parameters), the same for T = 5 and 50; BPTT's forward keeps (T + 1)·B·H."""
    rng, B = np.random.default_rng(T), 2
    params = init_params(V, E, H, rng)
    inputs = rng.integers(0, V, (T, B))
    P = V * E + H * E + H * H + 2 * H
    sizes = [p.size for _, p in theory.rtrl_sensitivities(params, inputs)]
    assert sizes == [B * H * P] * T
    _, states, _ = forward(params, inputs)
    assert states.size == (T + 1) * B * H
