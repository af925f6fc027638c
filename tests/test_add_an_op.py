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


# ---- a forward that breaks the contract is named when the op is called ------------------------


class _MinMax(Op):
    """(min x, max x): two results, which an op cannot return."""

    name = "test_minmax"

    def forward(self, x):
        return np.min(x), np.max(x)

    def backward(self, grad, out, x):
        return grad


class _MinMaxList(_MinMax):
    name = "test_minmax_list"

    def forward(self, x):
        return [np.min(x), np.max(x)]


class _Floor(Op):
    """y = ⌊x⌋ as integers, which cannot require grad."""

    name = "test_floor"

    def forward(self, x):
        return np.floor(x).astype(np.int64)

    def backward(self, grad, y, x):
        return grad * 0


@pytest.mark.parametrize(("op", "kind"), [(_MinMax, "tuple"), (_MinMaxList, "list")])
def test_a_forward_that_returns_several_arrays_is_named_not_stacked(op, kind):
    minmax = op()
    expected = rf"^{minmax.name}: forward returned a {kind}; an op returns one array"
    for x in (mg.tensor([1.0, 3.0], requires_grad=True), mg.tensor([1.0, 3.0]), np.ones(2)):
        with pytest.raises(TypeError, match=expected):
            minmax(x)


def test_a_forward_that_returns_integers_for_an_input_that_requires_grad_is_named():
    floor = _Floor()
    x = mg.tensor([1.5, -0.5], requires_grad=True)
    with pytest.raises(
        TypeError,
        match=r"^test_floor: forward returned int64 values, but an input requires grad; "
        "a differentiable op must return floats$",
    ):
        floor(x)
    with mg.no_grad():
        assert floor(x).tolist() == [1, -1] and floor(x).grad_fn is None
    y = floor(x.detach())  # nothing to record: integers are a fine result
    assert y.dtype == np.int64 and not y.requires_grad


def test_a_compiled_function_names_a_forward_that_breaks_the_contract():
    minmax, floor = _MinMax(), _Floor()
    x = mg.tensor([1.5, -0.5], requires_grad=True)
    with pytest.raises(TypeError, match="^test_minmax: forward returned a tuple"):
        mg.compile(lambda t: minmax(t))(x)
    with pytest.raises(TypeError, match="^test_floor: forward returned int64 values"):
        mg.compile(lambda t: floor(t))(x)
