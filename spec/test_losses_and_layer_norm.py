"""The losses and layer_norm, compositions of ops, against SymPy with the op table's harness:
value (1e-12), VJP and second derivatives (1e-10) from exact derivatives, finite differences, and
float32. The SymPy definitions are written from the formulas, not from the code: nll_loss picks
−x at the target, cross_entropy smooths with the uniform distribution, the binary loss is
−[p y log σ(x) + (1 − y) log(1 − σ(x))], and layer_norm divides by the biased variance."""

import numpy as np
import pytest
import sympy as sp

import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn.utils import functional_call
from minigrad.testing import ANY, CHECKS, Case, Problem, Row, Uniform


def _reduce(losses, reduction, count):
    losses = np.asarray(losses, dtype=object)
    return {"mean": lambda: losses.sum() / count, "sum": losses.sum, "none": lambda: losses}[
        reduction
    ]()


def _rows(X, target):
    return X.reshape(-1, X.shape[-1]), np.asarray(target).reshape(-1)


def _nll(X, target=None, reduction="mean", ignore_index=-100):
    rows, targets = _rows(X, target)
    losses = [-r[t] if t != ignore_index else sp.Integer(0) for r, t in zip(rows, targets)]
    kept = int(np.sum(targets != ignore_index))
    return _reduce(np.reshape(losses, np.shape(target)), reduction, kept)


def _cross_entropy(X, target=None, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    rows, targets = _rows(X, target)
    eps = sp.Rational(label_smoothing).limit_denominator(1000)
    losses = []
    for r, t in zip(rows, targets):
        lse = sp.log(sp.Add.fromiter(map(sp.exp, r)))
        uniform = sp.Add.fromiter(lse - x for x in r) / len(r)
        losses.append(0 if t == ignore_index else (1 - eps) * (lse - r[t]) + eps * uniform)
    kept = int(np.sum(targets != ignore_index))
    return _reduce(np.reshape(losses, np.shape(target)), reduction, kept)


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


def _bce(X, Y, W=None, P=None, reduction="mean"):
    W = np.ones(X.shape, dtype=object) if W is None else np.broadcast_to(W, X.shape)
    P = np.ones(X.shape, dtype=object) if P is None else np.broadcast_to(P, X.shape)
    losses = [
        -w * (p * y * sp.log(_sigmoid(x)) + (1 - y) * sp.log(1 - _sigmoid(x)))
        for x, y, w, p in zip(X.flat, Y.flat, W.flat, P.flat)
    ]
    return _reduce(np.reshape(losses, X.shape), reduction, X.size)


def _layer_norm(X, W=None, B=None, normalized_shape=None, eps=1e-5):
    eps = sp.Float(eps, 30)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    axes = tuple(range(-len(shape), 0))
    n = int(np.prod(shape))
    mu = X.sum(axis=axes, keepdims=True) / n
    var = ((X - mu) ** 2).sum(axis=axes, keepdims=True) / n
    out = (X - mu) / np.vectorize(sp.sqrt, otypes=[object])(var + eps)
    return out * (1 if W is None else W) + (0 if B is None else B)


TARGETS = np.array([0, -100, 3])
PROBABILITY = Uniform(0.0, 1.0)

ROWS = [
    Row(
        "nll_loss",
        _nll,
        [Case(((3, 4),), {"target": TARGETS, "reduction": r}) for r in ("mean", "sum", "none")]
        + [
            Case(((3, 4),), {"target": np.array([2, 1, 2]), "ignore_index": 1}),
            Case(((4,),), {"target": np.array(2)}),
        ],
        function=F.nll_loss,
    ),
    Row(
        "cross_entropy with ignore_index and label_smoothing",
        _cross_entropy,
        [
            Case(((3, 4),), {"target": TARGETS, "reduction": "mean"}),
            Case(((3, 4),), {"target": TARGETS, "reduction": "none", "label_smoothing": 0.2}),
            Case(((3, 4),), {"target": TARGETS, "reduction": "mean", "label_smoothing": 0.1}),
            Case(
                ((3, 4),),
                {"target": np.array([0, 3, 3]), "reduction": "sum", "label_smoothing": 1.0},
            ),
            Case(((4,),), {"target": np.array(1), "label_smoothing": 0.3}),
        ],
        function=F.cross_entropy,
    ),
    Row(
        "binary_cross_entropy_with_logits",
        lambda X, Y, reduction="mean": _bce(X, Y, reduction=reduction),
        [Case(((3, 4), (3, 4)), {"reduction": r}) for r in ("mean", "sum", "none")]
        + [Case(((), ()))],
        (ANY, PROBABILITY),
        function=F.binary_cross_entropy_with_logits,
    ),
    Row(
        "binary_cross_entropy_with_logits with weight and pos_weight",
        lambda X, Y, W, P, reduction="mean": _bce(X, Y, W, P, reduction),
        [
            Case(((3, 4), (3, 4), (3, 4), (4,)), {"reduction": "mean"}),
            Case(((2, 3), (2, 3), (3,), ()), {"reduction": "none"}),
        ],
        (ANY, PROBABILITY, Uniform(0.2, 2.0)),
        function=lambda x, y, w, p, reduction="mean": F.binary_cross_entropy_with_logits(
            x, y, w, reduction, pos_weight=p
        ),
    ),
    Row(
        "layer_norm",
        _layer_norm,
        [
            Case(((2, 4), (4,), (4,)), {"normalized_shape": (4,)}),
            Case(((2, 1, 3), (1, 3), (1, 3)), {"normalized_shape": (1, 3), "eps": 0.1}),
            Case(((4,), (4,), (4,)), {"normalized_shape": 4}),
        ],
        function=lambda x, w, b, normalized_shape=None, eps=1e-5: F.layer_norm(
            x, normalized_shape, w, b, eps
        ),
    ),
    Row(
        "nn.LayerNorm, its weight and bias swapped in by functional_call",
        lambda X, W, B: _layer_norm(X, W, B, normalized_shape=(3,), eps=1e-5),
        [Case(((2, 3), (3,), (3,)))],
        function=lambda x, w, b: functional_call(nn.LayerNorm(3), {"weight": w, "bias": b}, (x,)),
    ),
    Row(
        "layer_norm without weight and bias",
        lambda X, normalized_shape=None: _layer_norm(X, normalized_shape=normalized_shape),
        [Case(((2, 2, 2),), {"normalized_shape": (2, 2)})],
        function=lambda x, normalized_shape=None: F.layer_norm(x, normalized_shape),
    ),
]

CASES = [(r, i, c) for r in ROWS for i in range(len(r.cases)) for c in CHECKS]


@pytest.mark.parametrize(("row", "i", "check"), CASES, ids=[f"{r.op}-{i}-{c}" for r, i, c in CASES])
def test_function_matches_its_sympy_definition(row, i, check):
    CHECKS[check](Problem(row, row.cases[i]))
