"""SymPy helpers for the spec: symbol arrays, exact derivatives, and evaluation at a point.

A tensor input becomes a numpy *object* array of real SymPy symbols, so plain
numpy code (``X @ Y``, ``X.sum(0)``, ``X[idx]``, ``np.transpose``) builds the
exact symbolic output of matmul, sum, indexing and the shape ops. Derivatives
are then taken element by element with ``sympy.diff``: no finite differences.
"""

import numpy as np
import sympy as sp

# Away from kinks, the derivative of a step is 0 and a step is 0 or 1.
_EVAL_MODULES = [
    {"DiracDelta": lambda x, *k: 0.0 * x, "Heaviside": lambda x, h=0.5: np.heaviside(x, h)},
    "numpy",
]


def symbol_array(name, shape):
    """An object array of distinct real symbols name0, name1, ... of the given shape."""
    n = int(np.prod(shape, dtype=int))
    symbols = sp.symbols(f"{name}0:{n}", real=True) if n else ()
    return np.array(symbols, dtype=object).reshape(shape)


def as_object_array(expr):
    """A reference output (a SymPy expression or an object array) as an object array."""
    return np.asarray(expr, dtype=object)


def elementwise(fn):
    """Lift a scalar SymPy function to broadcasting object arrays."""
    vectorized = np.vectorize(fn, otypes=[object])
    return lambda *arrays: vectorized(*arrays)


def evaluate(exprs, symbols, values):
    """The float64 values of an object array of expressions at symbols = values."""
    exprs = as_object_array(exprs)
    if exprs.size == 0:
        return np.zeros(exprs.shape)
    fn = sp.lambdify(list(symbols), list(exprs.flat), modules=_EVAL_MODULES)
    return np.array(fn(*values), dtype=np.float64).reshape(exprs.shape)


def jacobian(outputs, inputs):
    """∂ outputs[i...] / ∂ inputs[j...] as an object array of shape outputs.shape + inputs.shape."""
    outputs, inputs = as_object_array(outputs), as_object_array(inputs)
    entries = [sp.diff(y, x) for y in outputs.flat for x in inputs.flat]
    return np.array(entries, dtype=object).reshape(outputs.shape + inputs.shape)


def _axes(axis, ndim):
    """``axis`` (None for all, an int or a tuple) as a tuple of axes in [0, ndim)."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def reduce_along(array, axis, keepdims, fn):
    """Reduce an object array over ``axis`` (None, int or tuple) with ``fn(list_of_exprs)``."""
    array = as_object_array(array)
    ndim = array.ndim
    axes = _axes(axis, ndim)
    kept = [a for a in range(ndim) if a not in axes]
    moved = np.transpose(array, kept + list(axes))
    rows = moved.reshape(tuple(array.shape[a] for a in kept) + (-1,))
    out = np.empty(rows.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = fn(list(rows[index]))
    if keepdims:
        out = out.reshape(tuple(1 if a in axes else n for a, n in enumerate(array.shape)))
    return out
