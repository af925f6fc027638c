"""Special functions: log1p, expm1 and erf, each exact where the obvious composition is not.

ln(1 + x) and eˣ − 1 lose every digit of x when |x| is near the rounding
error of 1 (x = 1e-17 gives 0); ``log1p`` and ``expm1`` keep them. numpy has
no ``erf``: it is Python's ``math.erf`` (the C library's, correct to about an
ulp) applied to each element.
"""

import math

import numpy as np

from ..graph import Op
from .elementwise import check_domain, clip, exp, quotient


class Log1p(Op):
    """z = ln(1 + x)  (x ≥ −1; log1p(−1) = −inf).    dz/dx = 1/(1 + x) (+inf at −1)."""

    saves = {"x": "x"}

    def forward(self, x):
        check_domain("log1p", x, -1)
        with np.errstate(divide="ignore"):
            return np.log1p(x)

    def backward(self, grad, z, x):
        return quotient(grad, 1 + x)

    def jvp(self, tangents, z, x):
        return quotient(tangents[0], 1 + x)


class Expm1(Op):
    """z = eˣ − 1.    dz/dx = eˣ = z + 1."""

    saves = {"x": "out"}

    def forward(self, x):
        return np.expm1(x)

    def backward(self, grad, z, x):
        return grad * (z + 1)

    def jvp(self, tangents, z, x):
        return tangents[0] * (z + 1)


_math_erf = np.frompyfunc(math.erf, 1, 1)
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Erf(Op):
    """z = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.    dz/dx = (2/√π)·e^(−x²)."""

    saves = {"x": "x"}

    def forward(self, x):
        return np.asarray(_math_erf(x)).astype(np.result_type(x.dtype, np.float32))

    def backward(self, grad, z, x):
        return grad * _erf_slope(x)

    def jvp(self, tangents, z, x):
        return tangents[0] * _erf_slope(x)


def _erf_slope(x):
    """(2/√π)·e^(−x²). x is clipped to [−30, 30] first: beyond, e^(−x²) is 0 in float64 anyway
    (its derivatives too), and x² cannot overflow (with a warning) for |x| > 1e154."""
    c = clip(x, -30.0, 30.0)
    return TWO_OVER_SQRT_PI * exp(-(c * c))


log1p = Log1p()
expm1 = Expm1()
erf = Erf()
