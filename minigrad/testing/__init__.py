"""Check an op against its math, from any project, as ``torch.testing`` serves PyTorch.

A row states the op in SymPy; ``check_row`` checks the engine against it: the
value (1e-12), the vector-Jacobian product against SymPy's exact derivatives
(1e-10 relative), central finite differences, float32 kept, and second
derivatives through ``create_graph``::

    import sympy as sp
    from minigrad.testing import UNARY, Row, check_row, elementwise

    check_row(Row("softplus", elementwise(lambda x: sp.log(1 + sp.exp(x))), UNARY))

* ``rows.py``: ``Row``, ``Case``, the case lists ``UNARY`` and ``BINARY``, and the
  domains ``Uniform``, ``Mask``, ``ANY``, ``NONZERO``, ``POSITIVE``;
* ``comparison.py``: ``assert_close``;
* ``harness.py``: ``check_row``, the checks (``CHECKS``, ``applicable_checks``) and
  ``Problem``, one row and case made concrete;
* ``symbolic.py``: SymPy on numpy object arrays: ``elementwise``, ``reduce_along``,
  ``symbol_array``, ``jacobian``, ``evaluate``, ``as_object_array``.

The checks need SymPy (``pip install -e '.[spec]'`` installs it with minigrad). It
is imported when a name that needs it is first used, so ``import minigrad.testing``,
and writing rows, need numpy only.
"""

import importlib

from .comparison import assert_close
from .rows import ANY, BINARY, NONZERO, POSITIVE, UNARY, Case, Mask, Row, Uniform

# the names that need SymPy, by the module that defines them
_WITH_SYMPY = {
    "harness": ["CHECKS", "Problem", "applicable_checks", "check_row"],
    "symbolic": [
        "as_object_array",
        "elementwise",
        "evaluate",
        "jacobian",
        "reduce_along",
        "symbol_array",
    ],
}
_MODULE_OF = {name: module for module, names in _WITH_SYMPY.items() for name in names}

__all__ = [
    "ANY",
    "BINARY",
    "NONZERO",
    "POSITIVE",
    "UNARY",
    "Case",
    "Mask",
    "Row",
    "Uniform",
    "assert_close",
    *_MODULE_OF,
]


def __getattr__(name):
    """A name that needs SymPy, imported on first use (PEP 562)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f".{_MODULE_OF[name]}", __name__)
    except ModuleNotFoundError as error:
        if error.name != "sympy":
            raise
        raise ModuleNotFoundError(
            f"minigrad.testing.{name} needs SymPy: install minigrad with its spec extra "
            "(pip install -e '.[spec]' in minigrad's folder), or pip install sympy",
            name="sympy",
        ) from error
    return getattr(module, name)
