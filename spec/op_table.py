"""The op table: one row per registered op, stating its math as a SymPy reference.

Each row (``minigrad.testing.Row``) gives

* ``reference``: the op written with SymPy on object arrays of symbols. It is
  the definition the engine is checked against, value and exact derivatives.
* ``inputs``: where each input is drawn from (the op's domain, away from kinks).
* ``cases``: the input shapes and parameters to try, including the
  broadcasting shapes scalar, (n,), (m, n) with (n,), and (m, 1) with (1, n).

``spec/test_op_table.py`` runs every check of ``minigrad.testing`` (its
``harness.py``) on every row and case, and fails if a registered op has no row here.
"""

import numpy as np
import sympy as sp

from minigrad.testing import (
    ANY,
    BINARY,
    NONZERO,
    POSITIVE,
    UNARY,
    Case,
    Mask,
    Row,
    Uniform,
    elementwise,
    reduce_along,
)


def _reductions():
    cases = [Case(((4,),), {"axis": None, "keepdims": False})]
    for axis in (None, 0, 1, -1, (0, 1)):
        for keepdims in (False, True):
            cases.append(Case(((2, 3),), {"axis": axis, "keepdims": keepdims}))
    cases.append(Case(((2, 3, 2),), {"axis": (0, 2), "keepdims": False}))
    return cases


def _sum(X, axis=None, keepdims=False):
    return reduce_along(X, axis, keepdims, sp.Add.fromiter)


def _mean(X, axis=None, keepdims=False):
    return reduce_along(X, axis, keepdims, lambda xs: sp.Add.fromiter(xs) / len(xs))


def _logsumexp(X, axis=None, keepdims=False):
    return reduce_along(X, axis, keepdims, lambda xs: sp.log(sp.Add.fromiter(map(sp.exp, xs))))


def _index_put(X, V, index=None, accumulate=False):
    out = X.copy()
    if accumulate:
        np.add.at(out, index, V)
    else:
        out[index] = V
    return out


def _log_softmax(X, axis=-1):
    return X - _logsumexp(X, axis, keepdims=True)


def _max(X, axis=None, keepdims=False):
    return reduce_along(X, axis, keepdims, lambda xs: sp.Max(*xs))


def _min(X, axis=None, keepdims=False):
    return reduce_along(X, axis, keepdims, lambda xs: sp.Min(*xs))


def _clip(X, min=None, max=None):  # noqa: A002 - the op's parameter names
    lo = -sp.oo if min is None else min
    hi = sp.oo if max is None else max
    return elementwise(lambda x: sp.Min(sp.Max(x, lo), hi))(X)


class Floor(sp.Function):
    """⌊x⌋, whose derivative is 0 away from its jumps (SymPy leaves floor's unevaluated): the
    step inside ``//``, ``%`` and ``round``. Points are drawn away from the jumps."""

    @classmethod
    def eval(cls, arg):
        return sp.floor(arg) if arg.is_Number else None

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _numpycode(self, printer):
        return f"numpy.floor({printer._print(self.args[0])})"


def _round(X, decimals=0):
    scale = sp.Integer(10) ** decimals
    return elementwise(lambda x: Floor(x * scale + sp.Rational(1, 2)) / scale)(X)


def _prod(X, axis=None, keepdims=False):
    return reduce_along(X, axis, keepdims, sp.Mul.fromiter)


def _softplus(X, beta=1.0, threshold=20.0):
    def f(x):
        return sp.Piecewise((x, beta * x > threshold), (sp.log(1 + sp.exp(beta * x)) / beta, True))

    return elementwise(f)(X)


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), the definition every sigmoid claim starts from."""
    return 1 / (1 + sp.exp(-x))


ROWS = [
    # elementwise arithmetic
    Row("add", lambda X, Y: X + Y, BINARY),
    Row("sub", lambda X, Y: X - Y, BINARY),
    Row("mul", lambda X, Y: X * Y, BINARY),
    Row("div", lambda X, Y: X / Y, BINARY, (ANY, NONZERO)),
    Row("pow", elementwise(lambda x, y: x**y), BINARY, (Uniform(0.5, 2.0), ANY)),
    Row("floor_divide", elementwise(lambda x, y: Floor(x / y)), BINARY, (ANY, NONZERO)),
    Row("remainder", elementwise(lambda x, y: x - Floor(x / y) * y), BINARY, (ANY, NONZERO)),
    Row(
        "round",
        _round,
        [*UNARY, Case(((3, 4),), {"decimals": 1}), Case(((3, 4),), {"decimals": -1})],
        (Uniform(avoid=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5), margin=0.01),),
    ),
    Row("neg", lambda X: -X, UNARY),
    Row("clone", lambda X: X + 0, UNARY),
    # elementwise functions
    Row("exp", elementwise(sp.exp), UNARY),
    Row("log", elementwise(sp.log), UNARY, (POSITIVE,)),
    Row("log1p", elementwise(lambda x: sp.log(1 + x)), UNARY, (Uniform(-0.9, 3.0),)),
    Row("expm1", elementwise(lambda x: sp.exp(x) - 1), UNARY),
    Row("erf", elementwise(sp.erf), UNARY),
    Row("sin", elementwise(sp.sin), UNARY),
    Row("cos", elementwise(sp.cos), UNARY),
    Row("sqrt", elementwise(sp.sqrt), UNARY, (POSITIVE,)),
    Row("abs", elementwise(sp.Abs), UNARY, (NONZERO,)),
    Row("sign", elementwise(sp.sign), UNARY, (NONZERO,)),
    Row("sigmoid", elementwise(sigmoid), UNARY, (Uniform(-6, 6),)),
    Row("tanh", elementwise(sp.tanh), UNARY),
    Row("relu", elementwise(lambda x: sp.Max(x, 0)), UNARY, (NONZERO,)),
    Row(
        "softplus",
        _softplus,
        [*UNARY, Case(((3, 4),), {"beta": 2.0, "threshold": 1.0})],
        (Uniform(avoid=(0.5,)),),
    ),
    Row("maximum", elementwise(sp.Max), BINARY),
    Row("minimum", elementwise(sp.Min), BINARY),
    Row(
        "where",
        lambda C, X, Y: np.where(C, X, Y),
        [Case(((4,), (4,), (4,))), Case(((3, 4), (3, 1), (4,))), Case(((3, 4), (), (3, 4)))],
        (Mask(), ANY),
    ),
    Row(
        "clip",
        _clip,
        [
            Case(((4,),), {"min": -1.0, "max": 1.0}),
            Case(((3, 4),), {"min": -1.0, "max": None}),
            Case(((3, 4),), {"min": None, "max": 0.5}),
        ],
        (Uniform(-2, 2, avoid=(-1.0, 0.5, 1.0)),),
    ),
    Row(
        "to",
        lambda X, dtype=None: X,
        [Case(((3, 4),), {"dtype": np.dtype(np.float32)})],
        not_applicable={
            "gradcheck": "the output is rounded to float32, so a difference quotient with "
            "eps = 1e-6 measures the rounding, not the derivative (exactly 1)"
        },
    ),
    # reductions
    Row("sum", _sum, _reductions()),
    Row("mean", _mean, _reductions()),
    Row("max", _max, _reductions()),
    Row("min", _min, _reductions()),
    Row("prod", _prod, _reductions()),
    Row("logsumexp", _logsumexp, _reductions()),
    Row(
        "cumsum",
        lambda X, axis=None: np.cumsum(X, axis) if X.ndim else X,
        [
            Case(((4,),), {"axis": 0}),
            Case(((2, 3),), {"axis": 1}),
            Case(((2, 3, 2),), {"axis": -2}),
            Case(((),), {"axis": 0}),
        ],
    ),
    Row(
        "log_softmax",
        _log_softmax,
        [Case(((4,),)), Case(((3, 4),), {"axis": -1}), Case(((3, 4),), {"axis": 0})],
    ),
    # shape
    Row(
        "reshape",
        lambda X, shape=None: np.reshape(X, shape),
        [
            Case(((2, 3),), {"shape": (3, 2)}),
            Case(((2, 3),), {"shape": (-1,)}),
            Case(((6,),), {"shape": (2, 1, 3)}),
            Case(((),), {"shape": (1, 1)}),
        ],
    ),
    Row(
        "permute",
        lambda X, axes=None: np.transpose(X, axes),
        [
            Case(((2, 3),), {"axes": (1, 0)}),
            Case(((2, 3, 4),), {"axes": (2, 0, 1)}),
            Case(((2, 3, 4),), {"axes": (-1, 1, 0)}),
            Case(((2, 3, 4),), {}),  # axes=None: all reversed, as numpy
        ],
    ),
    Row(
        "broadcast_to",
        lambda X, shape=None: np.broadcast_to(X, shape),
        [
            Case(((),), {"shape": (2, 2)}),
            Case(((3,),), {"shape": (2, 3)}),
            Case(((2, 1),), {"shape": (2, 3)}),
            Case(((2, 1),), {"shape": (4, 2, 3)}),
        ],
    ),
    Row(
        "stack",
        lambda *Xs, axis=0: np.stack(Xs, axis=axis),
        [
            Case(((3,), (3,)), {"axis": 0}),
            Case(((2, 3), (2, 3), (2, 3)), {"axis": 1}),
            Case(((2, 3), (2, 3)), {"axis": -1}),
        ],
    ),
    Row(
        "concatenate",
        lambda *Xs, axis=0: np.concatenate(Xs, axis=axis),
        [
            Case(((2, 3), (1, 3)), {"axis": 0}),
            Case(((2, 1), (2, 2), (2, 3)), {"axis": 1}),
            Case(((3,), (2,)), {"axis": -1}),
        ],
    ),
    Row(
        "split",
        lambda X, sizes=(), axis=0: tuple(np.split(X, np.cumsum(sizes)[:-1], axis)),
        [
            Case(((5,),), {"sizes": (2, 3), "axis": 0}),
            Case(((2, 6),), {"sizes": (1, 0, 3, 2), "axis": 1}),  # an empty piece too
            Case(((4, 3),), {"sizes": (4,), "axis": 0}),  # a single piece
        ],
    ),
    Row(
        "unbind",
        lambda X, axis=0: tuple(np.moveaxis(X, axis, 0)),
        [
            Case(((3,),), {"axis": 0}),  # slices of a vector are 0-d
            Case(((2, 3),), {"axis": 1}),
            Case(((3, 2, 2),), {"axis": 0}),
            Case(((1, 4),), {"axis": 0}),  # a single slice
        ],
    ),
    Row(
        "backward_hook",  # an identity (hooks.py passes a module's inputs through it)
        lambda *Xs, hook=None: tuple(Xs),
        [Case(((3,),)), Case(((2, 3), (3,)))],
    ),
    # indexing
    Row(
        "getitem",
        lambda X, index=None: X[index],
        [
            Case(((4,),), {"index": 1}),
            Case(((4, 3),), {"index": slice(1, 3)}),
            Case(((4, 3),), {"index": (slice(None), 2)}),
            Case(((4, 3),), {"index": (Ellipsis, None, slice(None, None, -1))}),
            Case(((4, 3),), {"index": np.array([0, 2, 0, 0])}),  # repeats accumulate
            Case(((4, 3),), {"index": (np.array([0, 1, 1]), np.array([2, 2, 2]))}),
            Case(((4, 3),), {"index": np.array([True, False, True, True])}),
        ],
    ),
    Row(
        "index_put",
        _index_put,
        [
            Case(((4, 3), (2, 3)), {"index": np.array([0, 0]), "accumulate": True}),
            Case(((4, 3), (3,)), {"index": np.array([1, 3]), "accumulate": True}),
            Case(((4, 3), (3,)), {"index": 2, "accumulate": False}),
            Case(((4, 3), ()), {"index": (slice(None), 1), "accumulate": False}),
        ],
    ),
    # linear algebra
    Row(
        "matmul",
        lambda X, Y: np.matmul(X, Y),
        [
            Case(((3,), (3,))),
            Case(((2, 3), (3,))),
            Case(((3,), (3, 2))),
            Case(((2, 3), (3, 4))),
            Case(((2, 2, 3), (3, 4))),
            Case(((2, 2, 3), (2, 3, 2))),
            Case(((2, 1, 2, 3), (3, 3, 2))),
            Case(((3,), (2, 3, 2))),
        ],
    ),
]

ROWS.append(
    Row(
        "addmm",
        lambda X, A, B: X + np.matmul(A, B),
        [Case(((2, 3), (2, 4), (4, 3))), Case(((3,), (2, 4), (4, 3))), Case(((), (1, 2), (2, 2)))],
    )
)

TABLE = {row.op: row for row in ROWS}
