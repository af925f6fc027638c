"""The "Add an op" recipe, done from outside the package.

The harness picks a new op up, passes it when its derivative is right, and
fails it when its derivative is wrong. The recipe of docs/extending.md, and
the README's short one, run as written from a folder outside the repository.
(conftest.py removes the ops each test registers.)
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
from minigrad import Op
from minigrad.testing import UNARY, Row, check_row, elementwise
from spec.op_table import ROWS
from spec.test_op_table import missing_rows
from tests.test_docs import ROOT, python_blocks

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


# ---- defining an op again, as a notebook cell run twice does ---------------------------------


def test_defining_an_op_again_says_how_to_replace_it():
    first = _Softplus()
    with pytest.raises(
        ValueError,
        match=r"^Op: an op named 'test_softplus' is already registered; to define it again, "
        r"make it with _Softplus\(replace=True\), or first call "
        r"minigrad\.ops\.unregister\('test_softplus'\)$",
    ):
        _Softplus()
    assert mg.ops.registry()["test_softplus"] is first  # the refused op took nothing


def test_an_op_made_with_replace_true_can_be_made_again_and_again():
    for _ in range(3):  # the first time registers the name, the others replace it
        softplus = _Softplus(replace=True)
        assert mg.ops.registry()["test_softplus"] is softplus
        check_row(Row("test_softplus", SOFTPLUS, UNARY))


def test_replace_true_puts_a_corrected_op_in_the_place_of_a_wrong_one():
    wrong = _SoftplusWithWrongDerivative()
    row = Row("test_softplus_wrong", SOFTPLUS, UNARY)
    with pytest.raises(AssertionError, match="test_softplus_wrong vjp"):
        check_row(row)

    class Corrected(_Softplus):
        name = "test_softplus_wrong"

    corrected = Corrected(replace=True)
    assert mg.ops.registry()["test_softplus_wrong"] is corrected is not wrong
    check_row(row)


def test_unregister_frees_the_name_for_a_new_op():
    first = _Softplus()
    mg.ops.unregister("test_softplus")
    assert "test_softplus" not in mg.ops.registry()
    second = _Softplus()
    assert mg.ops.registry()["test_softplus"] is second is not first


# ---- a backward rule written with numpy: right once, named when differentiated again ----------


class _SinWithNumpyRule(Op):
    """y = sin x, its rule written with numpy's cos: fine on arrays, refused on Tensors."""

    name = "test_numpy_sin"

    def forward(self, x):
        return np.sin(x)

    def backward(self, grad, y, x):
        return grad * np.cos(x)


class _SinWithDeferredRule(_SinWithNumpyRule):
    """The rule returned as a function to call later, which the engine refuses: a rule that
    computes only what is needed declares ``needs_input_grad`` instead."""

    name = "test_sin_deferred"

    def backward(self, grad, y, x):
        return lambda: grad * mg.cos(x)


def numpy_refused(name):
    """The error for op ``name`` whose rule gave a Tensor to a numpy function."""
    return (
        rf"^backward of '{name}': operand 'Tensor' does not support ufuncs "
        r"\(__array_ufunc__=None\)\. numpy's functions take arrays, not Tensors, and a backward "
        r"rule gets Tensors when the backward pass is recorded \(create_graph=True\) so that it "
        r"can be differentiated: write it with minigrad's ops and operators, which take both, "
        r"e\.g\. minigrad\.cos\(x\) for np\.cos\(x\)$"
    )


def test_a_rule_returning_a_function_instead_of_a_gradient_is_named():
    op = _SinWithDeferredRule()
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with pytest.raises(
        TypeError, match=r"^backward of 'test_sin_deferred': a function for input 0"
    ):
        op(x).sum().backward()


@pytest.mark.parametrize("op_class", [_SinWithNumpyRule])
def test_a_rule_written_with_numpy_names_its_op_when_differentiated_again(op_class):
    op = op_class()
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (first,) = mg.grad(op(x).sum(), [x])  # arrays: numpy's cos is fine
    assert first.tolist() == np.cos(x.data).tolist()
    with pytest.raises(TypeError, match=numpy_refused(op.name)) as raised:
        mg.grad(op(x).sum(), [x], create_graph=True)
    assert "__array_ufunc__=None" in str(raised.value.__cause__)  # numpy's own error, kept


def test_check_row_reports_a_rule_written_with_numpy_by_its_op():
    _SinWithNumpyRule()
    with pytest.raises(TypeError, match=numpy_refused("test_numpy_sin")):
        check_row(Row("test_numpy_sin", elementwise(sp.sin), UNARY))


def test_the_same_rule_written_with_minigrads_cos_differentiates_again():
    class SinWithMinigradRule(_SinWithNumpyRule):
        name = "test_minigrad_sin"

        def backward(self, grad, y, x):  # mg.cos takes the arrays and the Tensors alike
            return grad * mg.cos(x)

    SinWithMinigradRule()
    check_row(Row("test_minigrad_sin", elementwise(sp.sin), UNARY))


class _NotAGradient(_SinWithNumpyRule):
    name = "test_not_a_gradient"

    def backward(self, grad, y, x):
        return "cos"


def test_a_rule_that_returns_no_array_is_named():
    op = _NotAGradient()
    with pytest.raises(
        TypeError, match=r"^backward of 'test_not_a_gradient': a str for input 0, not an array"
    ):
        op(mg.tensor([1.0], requires_grad=True)).sum().backward()


# ---- the recipe of docs/extending.md and the README, as a script in a folder of its own -------


def run_in(folder, code):
    """Run ``code`` as a script in ``folder`` with this Python (minigrad installed, editable),
    warnings as errors, and no PYTHONPATH: the repository is not on its path."""
    script = folder / "recipe.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-W", "error", script.name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def recipe():
    blocks = python_blocks(ROOT / "docs" / "extending.md", section="The recipe")
    assert len(blocks) == 2  # the op, then its row
    return "\n".join(blocks)


def short_recipe():
    blocks = python_blocks(ROOT / "README.md", section="Extend it with an op")
    assert len(blocks) == 1
    return blocks[0]


@pytest.mark.parametrize("code", [recipe, short_recipe], ids=["docs/extending.md", "README.md"])
def test_the_recipe_runs_unchanged_outside_the_repository(tmp_path, code):
    done = run_in(tmp_path, code())
    assert (done.returncode, done.stderr) == (0, "")
    elsewhere = run_in(tmp_path, "import spec")  # the repository's spec is out of reach there
    assert "ModuleNotFoundError: No module named 'spec'" in elsewhere.stderr


def test_the_recipe_with_a_wrong_derivative_fails_outside_the_repository(tmp_path):
    right = "return grad / mg.sqrt(1 + x * x)"
    assert right in recipe()
    done = run_in(tmp_path, recipe().replace(right, "return grad * mg.sqrt(1 + x * x)"))
    assert done.returncode == 1
    assert re.search(r"AssertionError: asinh vjp for input 0: .* exceeds 1e-10", done.stderr)


# ---- a forward that breaks the contract is named when the op is called ------------------------


class _MinMax(Op):
    """(min x, max x): an op with two outputs. ∂min/∂x is 1 at the minimum, ∂max/∂x at the
    maximum (no ties in the tests)."""

    name = "test_minmax"
    saves = {"x": "x out"}

    def forward(self, x):
        return np.min(x), np.max(x)

    def backward(self, grads, outs, x):
        g = np.zeros(x.shape)
        for grad, out in zip(grads, outs):
            if grad is not None:
                g = g + grad * (x == out)
        return g


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


def test_a_forward_that_returns_a_tuple_makes_an_op_with_an_output_each():
    minmax = _MinMax()
    x = mg.tensor([1.0, 3.0, -2.0], requires_grad=True)
    low, high = minmax(x)
    assert (low.item(), high.item()) == (-2.0, 3.0)
    assert low.grad_fn is high.grad_fn and (low.output_nr, high.output_nr) == (0, 1)
    (2 * low + 5 * high).backward()
    assert x.grad.tolist() == [0.0, 5.0, 2.0]
    x.grad = None
    high.backward()  # the rule gets None for the output without a gradient
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    assert minmax(np.array([1.0, 3.0])) == (1.0, 3.0)  # arrays in, a tuple of arrays out


def test_a_forward_that_returns_a_list_is_named_not_stacked():
    minmax = _MinMaxList()
    expected = r"^test_minmax_list: forward returned a list; several outputs are a tuple$"
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
    minmax, floor = _MinMaxList(), _Floor()
    x = mg.tensor([1.5, -0.5], requires_grad=True)
    with pytest.raises(TypeError, match="^test_minmax_list: forward returned a list"):
        mg.compile(lambda t: minmax(t))(x)
    with pytest.raises(TypeError, match="^test_floor: forward returned int64 values"):
        mg.compile(lambda t: floor(t))(x)
