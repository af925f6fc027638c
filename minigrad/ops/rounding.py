"""Rounding and integer arithmetic: ``//`` (floor_divide), ``%`` (remainder), ``round``, and the
bitwise ``&``, ``|``, ``^``, ``~``.

On integers these are outside the graph, as in PyTorch: integers never require
grad, so no node is recorded. On floats, ``//`` and ``round`` are step
functions, whose derivative is 0 wherever it exists (as ``sign``'s), and ``%``
is x minus a step function, so its derivative with respect to x is 1.

An integer division by zero is a ZeroDivisionError, as in Python and PyTorch
(numpy gives 0 with a warning). A float one gives ±inf or NaN, with numpy's
warning, as ``/`` does.
"""

import numpy as np

from ..graph import Op
from ..tensor import Tensor
from .elementwise import compare, either


def _check_integer_divisor(x, y, name):
    if np.result_type(x, y).kind in "iu" and np.any(np.asarray(y) == 0):
        raise ZeroDivisionError(
            f"{name}: integer division by zero (a divisor of shape {np.shape(y)} holds 0); "
            "divide floats for ±inf"
        )


class FloorDivide(Op):
    """z = ⌊x / y⌋, as numpy's ``floor_divide`` and ``x // y``.    ∂z/∂x = ∂z/∂y = 0.

    z is constant between the jumps, so its derivative is 0 wherever it exists
    (PyTorch raises that it is not implemented).
    """

    name = "floor_divide"
    saves = {"x": "", "y": ""}

    def forward(self, x, y):
        _check_integer_divisor(x, y, "floor_divide")
        return np.floor_divide(x, y)

    def backward(self, grad, z, x, y):
        return grad * 0, grad * 0

    def jvp(self, tangents, z, x, y):
        return None  # a tangent of zeros


class Remainder(Op):
    """z = x − ⌊x / y⌋·y, with the sign of y, as numpy's ``remainder``, Python's and PyTorch's
    ``x % y`` (computed exactly, not by that subtraction).

    ∂z/∂x = 1,   ∂z/∂y = −⌊x / y⌋.
    """

    saves = {"x": "", "y": "x y"}

    def forward(self, x, y):
        _check_integer_divisor(x, y, "remainder")
        return np.remainder(x, y)

    def backward(self, grad, z, x, y, needs_input_grad):
        return grad, (-grad * floor_divide(x, y) if needs_input_grad[1] else None)

    def jvp(self, tangents, z, x, y):
        tx, ty = tangents
        return either(tx, None if ty is None else -ty * floor_divide(x, y))


class Round(Op):
    """z = x rounded to ``decimals`` decimal places, halves to even (numpy's and PyTorch's
    ``round``; ``round(t)`` and ``round(t, n)`` in Python).    dz/dx = 0, as in PyTorch."""

    saves = {"x": ""}

    def forward(self, x, decimals=0):
        return np.round(x, decimals)

    def backward(self, grad, z, x, decimals=0):
        return grad * 0

    def jvp(self, tangents, z, x, decimals=0):
        return None  # a tangent of zeros


BITWISE_NAMES = {"&": "bitwise_and", "|": "bitwise_or", "^": "bitwise_xor", "~": "bitwise_not"}
_UFUNCS = {"&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor, "~": np.invert}


def bitwise(symbol, *operands):
    """``&``, ``|``, ``^`` or ``~`` of integer or bool tensors (or Python ints and bools), outside
    the graph: bitwise on integers, logical on bools, as in PyTorch. Floats are a TypeError."""
    dtypes = [v.dtype if isinstance(v, Tensor) else np.asarray(v).dtype for v in operands]
    floats = [str(d) for d in dtypes if d.kind not in "biu"]
    if floats:
        raise TypeError(
            f"{BITWISE_NAMES[symbol]} ({symbol}): expected integer or bool tensors, got "
            f"{', '.join(floats)}; compare floats first (x > 0) for a bool tensor"
        )
    return compare(_UFUNCS[symbol], *operands)


floor_divide = FloorDivide()
remainder = Remainder()
round = Round()  # noqa: A001 - the op is called round, as torch.round
