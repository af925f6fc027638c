"""Every registered op, checked against its SymPy row: value, VJP, finite differences,
float32, and second derivatives."""

import pytest

import minigrad as mg
from minigrad.testing import CHECKS, Problem, applicable_checks

from .op_table import ROWS

_PROBLEMS = {}


def _problem(row, i):
    """One Problem per (row, case), shared by its checks so SymPy derives each Jacobian once."""
    if (row.op, i) not in _PROBLEMS:
        _PROBLEMS[row.op, i] = Problem(row, row.cases[i])
    return _PROBLEMS[row.op, i]


CASES = [
    (row, i, check)
    for row in ROWS
    for i in range(len(row.cases))
    for check in applicable_checks(row)
]


def missing_rows(table_rows=ROWS):
    """Registered ops without a row in the table."""
    return sorted(set(mg.ops.registry()) - {row.op for row in table_rows})


def test_every_registered_op_has_a_spec_row():
    assert missing_rows() == []


def test_every_registered_op_has_its_own_jvp_rule():
    """Checked by the "jvp" check of its row; none falls back on the double-vjp trick."""
    assert sorted(n for n, op in mg.ops.registry().items() if not hasattr(op, "jvp")) == []


def test_every_row_names_a_registered_op():
    assert {row.op for row in ROWS} <= set(mg.ops.registry())


@pytest.mark.parametrize(("row", "i", "check"), CASES, ids=[f"{r.op}-{i}-{c}" for r, i, c in CASES])
def test_op_matches_its_sympy_row(row, i, check):
    CHECKS[check](_problem(row, i))
