"""The sigmoid chapter: σ' = σ(1 − σ), σ'' = σ(1 − σ)(1 − 2σ), max σ' = 1/4, and the
engine's σ, σ', σ'' exact from x = −1e5 to 1e5 without NaN, overflow or warning.

max σ' = 1/4 is γ, the per-step factor in the vanishing-gradient bound (γλ₁)^(t−k).
"""

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
from minigrad.testing import assert_close

from .op_table import sigmoid

x = sp.Symbol("x", real=True)
SIGMA = sigmoid(x)
D1 = sp.diff(SIGMA, x)
D2 = sp.diff(SIGMA, x, 2)

# 201 points across the interesting range, plus the far tails the naive forms get wrong.
POINTS = np.concatenate(
    [np.linspace(-50, 50, 201), [-30.0, 30.0, -100.0, 100.0, -700.0, 700.0, -1e4, 1e4, -1e5, 1e5]]
)
EPS = np.finfo(np.float64).eps


def exact(expr, points):
    """``expr`` at each point, evaluated with 50 significant digits, then rounded to float64."""
    return np.array([float(expr.subs(x, sp.Float(p, 60)).evalf(50)) for p in points])


def engine_derivatives(points):
    t = mg.tensor(points, requires_grad=True)
    y = mg.sigmoid(t)
    (d1,) = mg.grad(y.sum(), t, create_graph=True)
    (d2,) = mg.grad(d1.sum(), t)
    return y.data, d1.data, d2.data


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma():
    assert sp.simplify(D1 - SIGMA * (1 - SIGMA)) == 0


def test_sigmoid_second_derivative_is_sigma_one_minus_sigma_one_minus_two_sigma():
    assert sp.simplify(D2 - SIGMA * (1 - SIGMA) * (1 - 2 * SIGMA)) == 0


def test_sigmoid_derivative_peaks_at_one_quarter_at_zero():
    # The only stationary point of σ' is x = 0 ...
    assert sp.solve(sp.Eq(sp.simplify(D2), 0), x) == [0]
    # ... where σ' = 1/4 and σ''' < 0, a maximum ...
    assert D1.subs(x, 0) == sp.Rational(1, 4)
    assert sp.diff(SIGMA, x, 3).subs(x, 0) < 0
    # ... and σ' falls to 0 at both ends, so it is the global maximum: γ = 1/4.
    assert sp.limit(D1, x, sp.oo) == 0
    assert sp.limit(D1, x, -sp.oo) == 0
    assert sp.maximum(D1, x, sp.S.Reals) == sp.Rational(1, 4)


def test_engine_sigmoid_is_exact_at_every_point_including_the_far_tails():
    y, _, _ = engine_derivatives(POINTS)
    expected = exact(SIGMA, POINTS)
    assert np.all(np.abs(y - expected) <= 4 * EPS * expected)


def test_engine_sigmoid_derivative_matches_sympy_to_1e10_relative_at_every_point():
    _, d1, _ = engine_derivatives(POINTS)
    expected = exact(D1, POINTS)
    assert np.isfinite(d1).all()
    assert np.all(np.abs(d1 - expected) <= 1e-10 * expected)
    assert d1[POINTS == 700.0][0] > 0  # 9.86e-305, where 1 - σ(700) would round to 0


def test_engine_sigmoid_second_derivative_matches_sympy_at_every_point():
    # σ'' crosses zero at x = 0; there the error is a few ulps of σ' (the size of its terms).
    _, d1, d2 = engine_derivatives(POINTS)
    expected = exact(D2, POINTS)
    assert np.isfinite(d2).all()
    assert np.all(np.abs(d2 - expected) <= 1e-10 * np.abs(expected) + 4 * EPS * d1)


MODERATE = np.linspace(-10, 10, 201)  # the range of σ's everyday use, checked on its own


def test_engine_sigmoid_derivative_matches_sympy_on_the_moderate_range():
    _, d1, d2 = engine_derivatives(MODERATE)
    assert np.all(np.abs(d1 - exact(D1, MODERATE)) <= 1e-10 * exact(D1, MODERATE))
    assert np.all(
        np.abs(d2 - exact(D2, MODERATE)) <= 1e-10 * np.abs(exact(D2, MODERATE)) + 4 * EPS * d1
    )


@pytest.mark.parametrize("points", [POINTS, MODERATE], ids=["wide", "moderate"])
def test_engine_sigmoid_derivative_is_accurate_in_float32(points):
    t = mg.tensor(points, dtype=mg.float32, requires_grad=True)
    (d1,) = mg.grad(mg.sigmoid(t).sum(), t)
    expected = exact(D1, points.astype(np.float32).astype(np.float64))
    tiny = np.finfo(np.float32).tiny  # below it float32 has no relative precision to speak of
    assert d1.dtype == np.float32
    assert np.all(np.abs(d1.data - expected) <= 1e-6 * expected + tiny)


def test_engine_sigmoid_matches_sympy_in_float32_too():
    t = mg.tensor(POINTS, dtype=mg.float32, requires_grad=True)
    y = mg.sigmoid(t)
    (d1,) = mg.grad(y.sum(), t)
    assert y.dtype == d1.dtype == np.float32
    assert_close(d1.data, exact(D1, POINTS), 1e-6, "float32 sigmoid'")
