"""The "Add an op" recipe, done from outside the package.

The harness picks a new op up, passes it when its derivative is right, and
fails it when its derivative is wrong. (conftest.py removes the ops each test
registers.)
"""

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
from minigrad import Op
from spec.harness import check_row
from spec.op_table import ROWS, UNARY, Row
from spec.symbolic import elementwise
from spec.test_op_table import missing_rows

SOFTPLUS = elementwise(lambda x: sp.log(1 + sp.exp(x)))


class _Softplus(Op):
    """y = ln(1 + eˣ).    dy/dx = σ(x)."""

    name = "test_softplus"

    def forward(self, x):
        return np.logaddexp(0, x)

    def backward(self, grad, y, x):
        return grad * mg.sigmoid(x)


class _SoftplusWithWrongDerivative(_Softplus):
    """The same forward, with σ(−x) where σ(x) belongs: a plausible slip."""

    name = "test_softplus_wrong"

    def backward(self, grad, y, x):
        return grad * mg.sigmoid(-x)


class _SoftplusSlightlyOff(_Softplus):
    """The right derivative times (1 + 1e-8): below finite differences' resolution."""

    name = "test_softplus_off"

    def backward(self, grad, y, x):
        return grad * mg.sigmoid(x) * (1 + 1e-8)


def test_a_new_op_without_a_row_is_reported_missing():
    _Softplus()
    assert missing_rows() == ["test_softplus"]
    assert missing_rows([*ROWS, Row("test_softplus", SOFTPLUS, UNARY)]) == []


def test_a_new_op_with_a_correct_derivative_passes_every_check():
    _Softplus()
    check_row(Row("test_softplus", SOFTPLUS, UNARY))


def test_a_new_op_with_a_wrong_derivative_fails():
    _SoftplusWithWrongDerivative()
    with pytest.raises(AssertionError, match="vjp"):
        check_row(Row("test_softplus_wrong", SOFTPLUS, UNARY))


def test_an_error_of_1e8_that_finite_differences_miss_is_caught_by_sympy():
    _SoftplusSlightlyOff()
    with pytest.raises(AssertionError, match=r"test_softplus_off vjp .* exceeds 1e-10"):
        check_row(Row("test_softplus_off", SOFTPLUS, UNARY))
