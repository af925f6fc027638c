"""Composite functions (``minigrad.functional``) against SymPy, with the same harness as the ops,
and the identity behind the language model's input: embedding = one-hot, then a matrix product."""

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import ANY, CHECKS, Case, Problem, Row, assert_close, reduce_along


def _log_softmax(X, axis=-1):
    lse = reduce_along(X, axis, True, lambda xs: sp.log(sp.Add.fromiter(map(sp.exp, xs))))
    return X - lse


def _softmax(X, axis=-1):
    return np.vectorize(sp.exp, otypes=[object])(_log_softmax(X, axis))


def _cross_entropy(X, target=None, reduction="mean"):
    rows = X.reshape(-1, X.shape[-1])
    picked = np.asarray(target).reshape(-1)
    losses = np.array(
        [sp.log(sp.Add.fromiter(map(sp.exp, r))) - r[t] for r, t in zip(rows, picked)],
        dtype=object,
    ).reshape(np.shape(target))
    return {"mean": lambda: losses.sum() / losses.size, "sum": losses.sum, "none": lambda: losses}[
        reduction
    ]()


def _mse(X, Y, reduction="mean"):
    d = (X - Y) ** 2
    return {"mean": lambda: d.sum() / d.size, "sum": d.sum, "none": lambda: d}[reduction]()


TARGETS = np.array([0, 3, 1])

ROWS = [
    Row(
        "softmax",
        _softmax,
        [Case(((4,),)), Case(((3, 4),), {"axis": -1}), Case(((3, 4),), {"axis": 0})],
        function=F.softmax,
    ),
    Row(
        "cross_entropy",
        _cross_entropy,
        [
            Case(((3, 4),), {"target": TARGETS, "reduction": "mean"}),
            Case(((3, 4),), {"target": TARGETS, "reduction": "sum"}),
            Case(((3, 4),), {"target": TARGETS, "reduction": "none"}),
            Case(((4,),), {"target": np.array(2), "reduction": "mean"}),
        ],
        function=F.cross_entropy,
    ),
    Row(
        "mse_loss",
        _mse,
        [Case(((3, 4), (3, 4)), {"reduction": r}) for r in ("mean", "sum", "none")],
        function=F.mse_loss,
    ),
    Row(
        "embedding",
        lambda W, indices=None: np.eye(W.shape[0], dtype=int)[indices] @ W,
        [Case(((5, 3),), {"indices": np.array([[0, 4], [4, 2]])})],
        (ANY,),
        function=lambda W, indices=None: F.embedding(indices, W),
    ),
]

CASES = [(r, i, c) for r in ROWS for i in range(len(r.cases)) for c in CHECKS]


@pytest.mark.parametrize(("row", "i", "check"), CASES, ids=[f"{r.op}-{i}-{c}" for r, i, c in CASES])
def test_function_matches_its_sympy_definition(row, i, check):
    CHECKS[check](Problem(row, row.cases[i]))


def test_embedding_is_one_hot_times_weight_in_value_and_gradient():
    indices = np.array([[1, 0, 3], [3, 3, 2]])
    weight_a = mg.randn(4, 5, requires_grad=True)
    weight_b = mg.tensor(weight_a.data, requires_grad=True)
    cotangent = mg.randn(2, 3, 5)
    picked = F.embedding(indices, weight_a)
    product = F.one_hot(indices, 4) @ weight_b
    assert_close(picked.data, product.data, 1e-15, "embedding value")
    picked.backward(cotangent)
    product.backward(cotangent)
    assert_close(weight_a.grad.data, weight_b.grad.data, 1e-14, "embedding gradient")


def test_cross_entropy_is_negative_log_softmax_at_the_target():
    logits = mg.randn(6, 5)
    targets = np.array([0, 4, 4, 1, 2, 3])
    per_row = F.cross_entropy(logits, targets, reduction="none")
    expected = -F.log_softmax(logits).data[np.arange(6), targets]
    assert_close(per_row.data, expected, 1e-15, "cross entropy")
