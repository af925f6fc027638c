"""The ops that are compositions of other ops (minigrad/ops/activations.py, norms.py,
selection.py) against SymPy, with the harness of the op table: value, VJP, JVP, finite
differences, float32 and second derivatives. They define no rule of their own; these rows
check that the ops they are made of add up to the function PyTorch documents."""

import numpy as np
import pytest
import sympy as sp

import minigrad as mg
from minigrad.testing import (
    ANY,
    CHECKS,
    NONZERO,
    UNARY,
    Case,
    Problem,
    Row,
    Uniform,
    elementwise,
    reduce_along,
)


def _piecewise(positive, negative):
    return elementwise(lambda x: sp.Piecewise((positive(x), x > 0), (negative(x), True)))


def _var(X, axis=None, unbiased=None, keepdims=False, correction=None):
    c = 1 if correction is None else correction

    def variance(xs):
        mean = sp.Add.fromiter(xs) / len(xs)
        return sp.Add.fromiter((x - mean) ** 2 for x in xs) / (len(xs) - c)

    return reduce_along(X, axis, keepdims, variance)


def _norm(X, p="fro", axis=None, keepdims=False):
    if p == np.inf:
        return reduce_along(X, axis, keepdims, lambda xs: sp.Max(*map(sp.Abs, xs)))
    p = 2 if p == "fro" else p
    return reduce_along(
        X,
        axis,
        keepdims,
        lambda xs: sp.Add.fromiter(sp.Abs(x) ** p for x in xs) ** sp.Rational(1, p),
    )


def _gelu_tanh(x):
    return x * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Float("0.044715") * x**3))) / 2


MASK = np.array(
    [[True, False, False, True], [False, False, True, False], [True, True, False, False]]
)
NUMPY_MODES = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def _gather(X, axis=0, index=None):
    """torch.gather: X cut to the index's length along the other axes, then read along ``axis``."""
    axis = axis % X.ndim
    cut = tuple(slice(None) if d == axis else slice(n) for d, n in enumerate(index.shape))
    return np.take_along_axis(X[cut], index, axis)


def _pad(X, pad=(), mode="constant"):
    """F.pad: (before, after) pairs from the last axis back; a negative amount crops."""
    given = [tuple(pad[i : i + 2]) for i in range(0, len(pad), 2)][::-1]
    pairs = [(0, 0)] * (X.ndim - len(given)) + given
    X = X[tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(pairs, X.shape))]
    return np.pad(X, [(max(b, 0), max(a, 0)) for b, a in pairs], mode=NUMPY_MODES[mode])


ROWS = [
    Row(
        "logsigmoid", elementwise(lambda x: -sp.log(1 + sp.exp(-x))), UNARY, function=mg.logsigmoid
    ),
    Row("silu", elementwise(lambda x: x / (1 + sp.exp(-x))), UNARY, function=mg.silu),
    Row(
        "gelu", elementwise(lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2), UNARY, function=mg.gelu
    ),
    Row(
        "gelu_tanh",
        elementwise(_gelu_tanh),
        UNARY,
        function=lambda x: mg.gelu(x, approximate="tanh"),
    ),
    Row(
        "elu", _piecewise(lambda x: x, lambda x: sp.exp(x) - 1), UNARY, (NONZERO,), function=mg.elu
    ),
    Row(
        "elu_alpha",
        _piecewise(lambda x: x, lambda x: sp.Rational(3, 2) * (sp.exp(x) - 1)),
        UNARY,
        (NONZERO,),
        function=lambda x: mg.elu(x, alpha=1.5),
    ),
    Row(
        "leaky_relu",
        _piecewise(lambda x: x, lambda x: x / 5),
        UNARY,
        (NONZERO,),
        function=lambda x: mg.leaky_relu(x, 0.2),
    ),
    Row(
        "var",
        _var,
        [
            Case(((4,),)),
            Case(((3, 4),), {"axis": 1, "keepdims": True}),
            Case(((3, 4),), {"axis": 0, "correction": 0}),
            Case(((2, 3, 2),), {"axis": (0, 2), "correction": 2}),
        ],
        function=mg.var,
    ),
    Row(
        "std",
        lambda X, **params: elementwise(sp.sqrt)(_var(X, **params)),
        [Case(((4,),)), Case(((3, 4),), {"axis": -1, "correction": 0})],
        function=mg.std,
    ),
    Row(
        "norm",
        _norm,
        [
            Case(((4,),)),
            Case(((3, 4),), {"p": 2, "axis": 1}),
            Case(((3, 4),), {"p": 1, "axis": 0, "keepdims": True}),
            Case(((3, 4),), {"p": 3}),
            Case(((3, 4),), {"p": 0.5, "axis": 1}),
            Case(((3, 4),), {"p": np.inf, "axis": 1}),
        ],
        (NONZERO,),
        function=mg.norm,
    ),
    Row(
        "flip",
        lambda X, axis=None: np.flip(X, axis),
        [
            Case(((4,),), {"axis": 0}),
            Case(((3, 4),), {"axis": (0, 1)}),
            Case(((3, 4),), {"axis": -1}),
        ],
        function=mg.flip,
    ),
    Row(
        "roll",
        lambda X, shifts=0, axis=None: np.roll(X, shifts, axis),
        [
            Case(((5,),), {"shifts": 2}),
            Case(((3, 4),), {"shifts": -1, "axis": 1}),
            Case(((3, 4),), {"shifts": (1, 5), "axis": (0, 1)}),
            Case(((3, 4),), {"shifts": 7}),  # flattened
        ],
        function=mg.roll,
    ),
    Row(
        "pad",
        _pad,
        [
            Case(((3, 4),), {"pad": (1, 2), "mode": "constant"}),
            Case(((3, 4),), {"pad": (1, 0, 2, 1), "mode": "reflect"}),
            Case(((3, 4),), {"pad": (2, 1), "mode": "replicate"}),
            Case(((3, 4),), {"pad": (1, 1, 1, 1), "mode": "circular"}),
            Case(((3, 4),), {"pad": (-1, 2), "mode": "constant"}),
        ],
        function=mg.pad,
    ),
    Row(
        "tril",
        lambda X, diagonal=0: np.tril(X, diagonal),
        [Case(((3, 4),)), Case(((2, 3, 3),), {"diagonal": -1}), Case(((3, 4),), {"diagonal": 1})],
        function=mg.tril,
    ),
    Row(
        "triu",
        lambda X, diagonal=0: np.triu(X, diagonal),
        [Case(((3, 4),)), Case(((2, 3, 3),), {"diagonal": 1}), Case(((4, 3),), {"diagonal": -1})],
        function=mg.triu,
    ),
    Row(
        "gather",
        _gather,
        [
            Case(((3, 3),), {"axis": 1, "index": np.array([[2, 0], [1, 1], [0, 2]])}),
            Case(((3, 3),), {"axis": 0, "index": np.array([[1, 0, 1], [1, 1, 2]])}),  # repeats
            Case(((3, 4, 2),), {"axis": -2, "index": np.array([[[3], [0]], [[1], [1]]])}),
        ],
        function=mg.gather,
    ),
    Row(
        "masked_fill",
        lambda X, mask=None, value=None: np.where(mask, value, X),
        [
            Case(((3, 4),), {"mask": MASK, "value": 2.5}),
            Case(((3, 4),), {"mask": MASK[0], "value": -1.0}),
        ],
        function=mg.masked_fill,
    ),
    Row(
        "masked_fill_tensor_value",  # a 0-d value that requires grad gets the masked gradient
        lambda X, V, mask=None: np.where(mask, V, X),
        [Case(((3, 4), ()), {"mask": MASK})],
        (ANY, Uniform(-1, 1)),
        function=lambda x, v, mask=None: mg.masked_fill(x, mask, v),
    ),
]

CASES = [(r, i, c) for r in ROWS for i in range(len(r.cases)) for c in CHECKS]


@pytest.mark.parametrize(("row", "i", "check"), CASES, ids=[f"{r.op}-{i}-{c}" for r, i, c in CASES])
def test_composition_matches_its_sympy_definition(row, i, check):
    CHECKS[check](Problem(row, row.cases[i]))
