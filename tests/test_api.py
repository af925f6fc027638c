"""Every op is reachable PyTorch-style: as a Tensor method or operator, and as a module function."""

import operator
import re
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

X = mg.tensor([[0.5, 1.5], [2.0, 0.25]])
Y = mg.tensor([[1.0, 2.0], [3.0, 4.0]])

# registry name -> (how a Tensor spells it, how the module spells it)
SPELLINGS = {
    "add": (operator.add, mg.add),
    "sub": (operator.sub, mg.sub),
    "mul": (operator.mul, mg.mul),
    "div": (operator.truediv, mg.div),
    "pow": (operator.pow, mg.pow),
    "matmul": (operator.matmul, mg.matmul),
    "maximum": (mg.Tensor.maximum, mg.maximum),
    "minimum": (mg.Tensor.minimum, mg.minimum),
}
FUNCTIONS = ["clone", "neg", "exp", "log", "sin", "cos", "sqrt", "abs", "sign"]
ACTIVATIONS = ["sigmoid", "tanh", "relu"]
UNARY = {name: (getattr(mg.Tensor, name), getattr(mg, name)) for name in FUNCTIONS + ACTIVATIONS}
REDUCTIONS = ["sum", "mean", "max", "min", "logsumexp", "log_softmax"]


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_binary_ops_as_operator_method_and_function_agree(name):
    method, function = SPELLINGS[name]
    assert np.array_equal(method(X, Y).data, function(X, Y).data)
    assert method(X, Y).grad_fn is None  # constants: no graph


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_as_method_and_function_agree(name):
    method, function = UNARY[name]
    assert np.array_equal(method(X).data, function(X).data)


def test_neg_and_abs_operators():
    assert np.array_equal((-X).data, mg.neg(X).data)
    assert np.array_equal(abs(-X).data, mg.abs(X).data)


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_as_method_and_function_agree(name):
    assert np.array_equal(getattr(X, name)(axis=0).data, getattr(mg, name)(X, axis=0).data)


def test_shape_ops_as_method_and_function_agree():
    assert np.array_equal(X.reshape(4).data, mg.reshape(X, (4,)).data)
    assert np.array_equal(X.permute(1, 0).data, mg.permute(X, (1, 0)).data)
    assert np.array_equal(X.transpose(0, 1).data, mg.transpose(X, 0, 1).data)
    assert np.array_equal(X.broadcast_to((3, 2, 2)).data, mg.broadcast_to(X, (3, 2, 2)).data)
    assert np.array_equal(X.clip(0, 1).data, mg.clip(X, 0, 1).data)
    assert np.array_equal(X.clamp(0, 1).data, mg.clamp(X, 0, 1).data)
    assert [p.tolist() for p in X.unbind(1)] == [p.tolist() for p in mg.unbind(X, 1)]
    assert np.array_equal(X[0].data, X.data[0])
    assert np.array_equal(X.index_put(0, 7.0).data, mg.index_put(X, 0, 7.0).data)
    assert mg.stack([X, Y]).shape == (2, 2, 2) and mg.cat([X, Y], 1).shape == (2, 4)


def test_where_and_to():
    assert np.array_equal(mg.where(X > 1, X, Y).data, np.where(X.data > 1, X.data, Y.data))
    assert X.to(mg.float32).dtype == np.float32


OPERATORS = {
    "add": "__add__",
    "sub": "__sub__",
    "mul": "__mul__",
    "div": "__truediv__",
    "pow": "__pow__",
    "matmul": "__matmul__",
    "getitem": "__getitem__",
}

# ---- the op table of docs/engine.md is checked against the package ------------------------------

ENGINE_PAGE = Path(__file__).resolve().parent.parent / "docs" / "engine.md"
OP_ROWS = ("elementwise ops", "reductions", "shape ops", "linear algebra")


def op_rows(text=None):
    """The text of the op rows of the table in docs/engine.md, joined (a missing row is a KeyError)."""
    text = ENGINE_PAGE.read_text(encoding="utf-8") if text is None else text
    rows = dict(re.findall(r"^\| ([^|]+?) \| (.*) \|$", text, flags=re.M))
    return " ".join(rows[name] for name in OP_ROWS)


def spellings(rows):
    """The names in the op rows: `name` is a Tensor method (or operator) and a module function,
    `minigrad.name` a module function only, `.name` a Tensor method only."""
    names = {
        prefix: set(re.findall(rf"`{re.escape(prefix)}([A-Za-z_]\w*)`", rows))
        for prefix in ("", "minigrad.", ".")
    }
    return names[""], names["minigrad."], names["."]


def table_problems(rows):
    """Every way the op rows and the package disagree, as sentences (none when they agree)."""
    both, functions_only, methods_only = spellings(rows)
    method = {
        n: hasattr(mg.Tensor, OPERATORS.get(n, n)) for n in both | functions_only | methods_only
    }
    problems = [
        f"{n} is not a module function"
        for n in sorted(both | functions_only)
        if not callable(getattr(mg, n, None))
    ]
    problems += [
        f"{n} is not a Tensor method or operator"
        for n in sorted(both | methods_only)
        if not method[n]
    ]
    problems += [f"{n} is also a Tensor method" for n in sorted(functions_only) if method[n]]
    problems += [f"{n} is also a module function" for n in sorted(methods_only) if hasattr(mg, n)]
    listed = both | functions_only | methods_only | ({"getitem"} if "`x[...]`" in rows else set())
    problems += [f"op {n} is not in the table" for n in _package_ops() if n not in listed]
    return problems


def _package_ops():
    """The ops of minigrad.ops (the package's other ops are its own machinery, such as the
    identity module hooks pass tensors through, hooks.backward_hook)."""
    return [
        n for n, op in mg.ops.registry().items() if type(op).__module__.startswith("minigrad.ops")
    ]


def test_the_op_rows_are_read():
    both, functions_only, methods_only = spellings(op_rows())
    assert {"exp", "sum", "squeeze", "unsqueeze", "flatten", "argmax", "argmin"} <= both
    assert {"stack", "concatenate", "cat"} <= functions_only
    assert {"view", "expand", "to", "T"} <= methods_only


def test_the_op_table_matches_the_package():
    assert table_problems(op_rows()) == []


def test_a_table_that_promises_too_much_fails_the_check():
    rows = op_rows()
    assert table_problems(rows.replace("`.view`", "`view`")) == ["view is not a module function"]
    assert table_problems(rows.replace("`exp`", "`.exp`")) == ["exp is also a module function"]
    assert table_problems(rows.replace("`minigrad.stack`", "`minigrad.split`")) == [
        "split is also a Tensor method",
        "op stack is not in the table",
    ]


def test_the_op_table_needs_each_op_row():
    with pytest.raises(KeyError, match="shape ops"):
        op_rows("| elementwise ops | `exp` |\n| reductions | `sum` |\n")


@pytest.mark.parametrize("name", _package_ops())
def test_every_op_of_the_package_is_a_tensor_method_or_operator(name):
    if name not in spellings(op_rows())[1]:
        assert hasattr(mg.Tensor, OPERATORS.get(name, name))


@pytest.mark.parametrize("name", _package_ops())
def test_every_op_of_the_package_is_a_module_function(name):
    if name != "getitem" and name not in spellings(op_rows())[2]:
        assert getattr(mg, name) is mg.ops.registry()[name]


def test_module_functions_of_the_shape_methods_agree_with_them():
    t = mg.arange(6.0).reshape(2, 1, 3)
    assert np.array_equal(mg.squeeze(t).data, t.squeeze().data)
    assert mg.squeeze(t, 1).shape == t.squeeze(1).shape == (2, 3)
    assert mg.unsqueeze(t, -1).shape == t.unsqueeze(-1).shape == (2, 1, 3, 1)
    assert np.array_equal(mg.flatten(t).data, t.flatten().data)
    assert mg.argmax(X, axis=1).tolist() == X.argmax(axis=1).tolist() == [1, 0]
    assert mg.argmin(X).item() == X.argmin().item() == 3
    assert mg.argmax(X, 0, True).shape == X.argmax(0, True).shape == (1, 2)
