"""Forward mode: ``autograd.jvp`` gives J v, SymPy's exact Jacobian times a tangent v.

jvp is forward mode (``autograd.forward_ad``): the inputs carry v as their
tangents, and each op applies its JVP rule (every op's is checked alone in
chapter 1; here they are composed). Each case is a function written twice, with
the engine's ops and with SymPy on object arrays (the harness of chapter 1
builds the exact Jacobian), and checked at a random point against

* SymPy's Σ_k J_k v_k (J_k = ∂y/∂x_k, exact, evaluated there), to 1e-10;
* the engine's own Jacobian (``autograd.jacobian``, one reverse pass per
  output element) times v, to 1e-10;
* vjp, through the adjoint identity ⟨u, J v⟩ = ⟨uᵀJ, v⟩;

and jvp with ``create_graph`` differentiates again to SymPy's second
derivatives, as does jvp of a gradient (forward over reverse); ``jacobian`` with
``strategy="forward-mode"`` (one jvp per input element) is SymPy's Jacobian.
"""

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
from minigrad.autograd import jacobian, jvp, vjp
from minigrad.testing import Problem, assert_close, elementwise
from minigrad.testing import jacobian as sympy_jacobian

from .op_table import Case, Row, _logsumexp, sigmoid

_sigmoid, _tanh, _exp = elementwise(sigmoid), elementwise(sp.tanh), elementwise(sp.exp)


def _rnn_step(x, h, w_ih, w_hh, b, act):
    return act(x @ w_ih.T + h @ w_hh.T + b)


def _engine_rnn_step(x, h, w_ih, w_hh, b):
    return (x @ w_ih.T + h @ w_hh.T + b).sigmoid()


def _engine_three_tanh_steps(h0, w_hh, xs):
    h = h0
    for x in xs:
        h = (x + h @ w_hh.T).tanh()
    return h


def _sympy_three_tanh_steps(h0, w_hh, xs):
    h = h0
    for x in xs:
        h = _tanh(x + h @ w_hh.T)
    return h


ROWS = [
    Row(
        "sigmoid(x) * exp(x)",
        lambda X: _sigmoid(X) * _exp(X),
        [Case(((3, 4),))],
        function=lambda x: x.sigmoid() * x.exp(),
    ),
    Row("matmul", lambda A, B: A @ B, [Case(((2, 3), (3, 4)))], function=lambda a, b: a @ b),
    Row(
        "logsumexp(x, axis=1)",
        lambda X: _logsumexp(X, axis=1),
        [Case(((3, 4),))],
        function=lambda x: x.logsumexp(axis=1),
    ),
    Row(
        "sigma-RNN step",
        lambda *a: _rnn_step(*a, act=_sigmoid),
        [
            Case(((2,), (2,), (2, 2), (2, 2), (2,))),
            Case(((3,), (4,), (4, 3), (4, 4), (4,))),
            Case(((2, 3), (2, 4), (4, 3), (4, 4), (4,))),
        ],
        function=_engine_rnn_step,
    ),
    Row(
        "three tanh-RNN steps",
        _sympy_three_tanh_steps,
        [Case(((3,), (3, 3), (3, 3)))],
        function=_engine_three_tanh_steps,
    ),
]
CASES = [(row, i) for row in ROWS for i in range(len(row.cases))]
IDS = [f"{row.op}-{i}" for row, i in CASES]


def problem_and_tangents(row, i):
    """The problem at its random point, its inputs as Tensors, and one random tangent per input."""
    p = Problem(row, row.cases[i])
    xs = tuple(p.tensors())
    return p, xs, tuple(mg.tensor(p.rng.standard_normal(x.shape)) for x in xs)


def function(p):
    return lambda *xs: p.run(xs)


@pytest.mark.parametrize(("row", "i"), CASES, ids=IDS)
def test_jvp_equals_sympys_exact_jacobian_times_the_tangent(row, i):
    p, xs, vs = problem_and_tangents(row, i)
    out, jv = jvp(function(p), xs, vs)
    assert_close(out.data, p.at_point(p.reference), 1e-12, f"{row.op} value")
    expected = sum(
        np.tensordot(p.at_point(J), v.data, axes=v.ndim) for J, v in zip(p.jacobians, vs)
    )
    assert_close(jv.data, expected, 1e-10, f"{row.op} J v")


@pytest.mark.parametrize(("row", "i"), CASES, ids=IDS)
def test_jvp_equals_the_engines_jacobian_times_the_tangent(row, i):
    p, xs, vs = problem_and_tangents(row, i)
    blocks = jacobian(function(p), xs)
    expected = sum(np.tensordot(J.data, v.data, axes=v.ndim) for J, v in zip(blocks, vs))
    assert_close(jvp(function(p), xs, vs)[1].data, expected, 1e-10, f"{row.op} J v")


@pytest.mark.parametrize(("row", "i"), CASES, ids=IDS)
def test_forward_mode_jacobian_is_sympys_exact_jacobian(row, i):
    """One jvp per input element gives J a column at a time, the same J as reverse mode's rows."""
    p, xs, _ = problem_and_tangents(row, i)
    blocks = jacobian(function(p), xs, strategy="forward-mode")
    for k, (block, J) in enumerate(zip(blocks, p.jacobians)):
        assert_close(block.data, p.at_point(J), 1e-10, f"{row.op} ∂y/∂x_{k}")


@pytest.mark.parametrize(("row", "i"), CASES, ids=IDS)
def test_jvp_and_vjp_are_adjoint(row, i):
    """⟨u, J v⟩ = ⟨uᵀJ, v⟩ for random u and v: both sides sum the same u_i J_ij v_j."""
    p, xs, vs = problem_and_tangents(row, i)
    out, jv = jvp(function(p), xs, vs)
    u = mg.tensor(p.rng.standard_normal(out.shape))
    _, uj = vjp(function(p), xs, u)
    left = float(np.sum(u.data * jv.data))
    right = sum(float(np.sum(g.data * v.data)) for g, v in zip(uj, vs))
    scale = sum(
        float(
            np.abs(u.data.reshape(-1))
            @ np.abs(J.data.reshape(u.data.size, -1))
            @ np.abs(v.data.reshape(-1))
        )
        for J, v in zip(jacobian(function(p), xs), vs)
    )  # Σ |u_i| |J_ij| |v_j|: the size of the terms both sides add up
    assert_close(left, right, 1e-12, f"{row.op} ⟨u, Jv⟩", scale)


SMALL = [k for k, (row, i) in enumerate(CASES) if i == 0 and row is not ROWS[-1]]


def second_derivatives(p, vs, w):
    """SymPy's ∂/∂x_l ⟨w, J v⟩ = Σ_k w_k Σ_j ∂²y_k/∂x_l∂x_j v_j for each input x_l, at p's
    point, and the scale of the first derivatives (for the relative error)."""
    M = sum(
        (np.tensordot(w, J, axes=w.ndim).reshape(-1) * v.data.reshape(-1)).sum()
        for J, v in zip(p.jacobians, vs)
    )
    scale = max(np.max(np.abs(p.at_point(J))) for J in p.jacobians)
    return [p.at_point(sympy_jacobian(M, symbols)) for symbols in p.symbols], scale


@pytest.mark.parametrize(("row", "i"), [CASES[k] for k in SMALL], ids=[IDS[k] for k in SMALL])
def test_jvp_with_create_graph_differentiates_again_to_sympys_second_derivatives(row, i):
    """∂/∂x_l ⟨w, J v⟩ = Σ_k w_k Σ_j ∂²y_k/∂x_l∂x_j v_j: forward mode, then reverse.

    On the first case of each function but the three steps (SymPy's second derivatives of
    those take minutes)."""
    p, xs, vs = problem_and_tangents(row, i)
    leaves = tuple(x.requires_grad_() for x in xs)
    out, jv = jvp(function(p), leaves, vs, create_graph=True)
    w = p.rng.standard_normal(out.shape)
    seconds = mg.grad((jv * mg.tensor(w)).sum(), list(leaves))
    expected, scale = second_derivatives(p, vs, w)
    for k, (g, e) in enumerate(zip(seconds, expected)):
        assert_close(g.data, e, 1e-10, f"{row.op} second derivative, input {k}", scale)


@pytest.mark.parametrize(("row", "i"), [CASES[k] for k in SMALL], ids=[IDS[k] for k in SMALL])
def test_jvp_of_a_gradient_is_sympys_hessian_times_the_tangent(row, i):
    """Forward over reverse: the tangent of ∇_x ⟨w, y(x)⟩ along v is the same Σ_k w_k H_k v.

    The gradient is taken inside the jvp with ``create_graph``; its backward rules are ops,
    so they carry the tangents on, the outputs' saved values included."""
    p, xs, vs = problem_and_tangents(row, i)
    w = p.rng.standard_normal(p.run(xs).shape)

    def gradient(*leaves):
        return mg.grad((p.run(leaves) * mg.tensor(w)).sum(), list(leaves), create_graph=True)

    _, tangents = jvp(gradient, xs, vs)
    expected, scale = second_derivatives(p, vs, w)
    for k, (t, e) in enumerate(zip(tangents, expected)):
        assert_close(t.data, e, 1e-10, f"{row.op} Hessian times v, input {k}", scale)
