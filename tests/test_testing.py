"""``minigrad.testing``: the op-table harness as part of the package, SymPy only when used."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad.testing
import spec.op_table
import spec.test_jvp
from minigrad import Op
from minigrad.autograd import GradcheckError
from minigrad.testing import UNARY, Row, check_row, elementwise

ROOT = Path(__file__).resolve().parent.parent


def test_importing_minigrad_and_minigrad_testing_does_not_import_sympy():
    code = (
        "import sys\n"
        "import minigrad, minigrad.testing\n"
        "from minigrad.testing import ANY, BINARY, UNARY, Case, Row, Uniform, assert_close\n"
        "print('sympy' in sys.modules)\n"
        "from minigrad.testing import check_row\n"
        "print('sympy' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=300
    )
    assert (done.stdout, done.stderr) == ("False\nTrue\n", "")


@pytest.mark.parametrize(("name", "module"), [("check_row", "harness"), ("jacobian", "symbolic")])
def test_without_sympy_a_name_that_needs_it_says_how_to_install_it(monkeypatch, name, module):
    monkeypatch.setitem(sys.modules, "sympy", None)  # as if SymPy were not installed
    for loaded in ("harness", "symbolic"):
        monkeypatch.delitem(sys.modules, f"minigrad.testing.{loaded}")
    with pytest.raises(
        ModuleNotFoundError,
        match=rf"^minigrad\.testing\.{name} needs SymPy: install minigrad with its spec extra "
        r"\(pip install -e '\.\[spec\]' in minigrad's folder\), or pip install sympy$",
    ) as raised:
        getattr(minigrad.testing, name)
    assert raised.value.name == "sympy"
    assert minigrad.testing.Row is Row  # what needs numpy only still works


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'minigrad.testing' has no attribute 'nope'"):
        minigrad.testing.nope  # noqa: B018


def test_every_name_of_minigrad_testing_is_there():
    assert all(getattr(minigrad.testing, name) is not None for name in minigrad.testing.__all__)


def test_the_spec_extra_brings_sympy_and_minigrad_itself_needs_numpy_only():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert [r for r in project["dependencies"] if not r.startswith("numpy")] == []
    assert any(r.startswith("sympy") for r in extras["spec"])
    assert any(r.startswith("sympy") for r in extras["dev"])  # make test needs it too


def test_spec_uses_the_harness_of_the_package_not_a_copy():
    assert not (ROOT / "spec" / "harness.py").exists()
    assert not (ROOT / "spec" / "symbolic.py").exists()
    assert spec.test_jvp.Problem is minigrad.testing.Problem
    assert spec.test_jvp.assert_close is minigrad.testing.assert_close
    assert spec.op_table.Row is Row and spec.op_table.UNARY is UNARY


def test_check_row_skips_only_what_the_row_marks_not_applicable():
    row = spec.op_table.TABLE["to"]
    assert set(row.not_applicable) == {"gradcheck"}
    check_row(row)
    with pytest.raises(GradcheckError, match=r"\(in Case\(shapes=\(\(3, 4\),\), params="):
        check_row(dataclasses.replace(row, not_applicable={}))


def test_a_row_of_an_op_not_made_yet_says_to_make_it():
    with pytest.raises(
        KeyError, match="no op named 'test_missing' is registered: make an instance of its Op"
    ):
        check_row(Row("test_missing", elementwise(lambda x: x), UNARY))


class _Double(Op):
    """y = 2x, with the derivative 2 everywhere but at the scalar case's shape: a rule that is
    wrong for one case only."""

    name = "test_double"

    def forward(self, x):
        return 2 * x

    def backward(self, grad, y, x):
        return grad * (2 if np.ndim(x) else 3)


def test_a_failing_check_names_the_op_the_check_and_the_case():
    _Double()
    with pytest.raises(
        AssertionError,
        match=r"^test_double vjp for input 0: .* \(in Case\(shapes=\(\(\),\), params=\{\}\)\)$",
    ):
        check_row(Row("test_double", elementwise(lambda x: 2 * x), UNARY))
    check_row(Row("test_double", elementwise(lambda x: 2 * x), UNARY[1:]))  # right elsewhere
