"""Reductions made of other ops: var, std and norm, with PyTorch's arguments.

None defines a gradient: each is a composition of sum, mean, abs, pow, max
and sqrt, so its backward and its JVP come from theirs. A root (std, norm)
of 0 has an infinite slope; there the gradient is taken as 0, as in PyTorch
(``_root``): the norm of x is smallest at x = 0, and 0 is its subgradient.
"""

import math

from .arguments import takes_dim
from .elementwise import abs, sqrt, where
from .reduction import _axis, _count, max, mean, min, sum


def _correction(unbiased, correction, name):
    """The number subtracted from n: PyTorch's ``correction`` (1 by default, Bessel's), or its
    older ``unbiased`` (True is 1, False is 0); not both."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: got both unbiased= and correction=; pass one of them")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


@takes_dim
def var(x, axis=None, unbiased=None, keepdims=False, *, correction=None):
    """The variance along ``axis``, as ``torch.var``: Σ (x − mean)² / (n − correction).

    ``correction`` is 1 unless given (the unbiased estimate); ``unbiased=False``
    is ``correction=0``. As in PyTorch, ``x.var(False)`` passes ``unbiased``.
    d var / dx_i = 2 (x_i − mean) / (n − correction). Where n − correction ≤ 0
    there is no variance to estimate: a ValueError (PyTorch gives inf or NaN).
    """
    return _variance(x, axis, unbiased, keepdims, correction, "var")


def _variance(x, axis, unbiased, keepdims, correction, name):
    if isinstance(axis, bool) and unbiased is None:  # torch.var(x, unbiased)
        axis, unbiased = None, axis
    c = _correction(unbiased, correction, name)
    axis = _axis(axis)
    n = _count(x.shape, axis)
    if n - c <= 0:
        raise ValueError(
            f"{name}: {n} element(s) per result with correction {c} leave no degrees of freedom "
            f"(input shape {x.shape}, axis {axis}); pass correction=0 for the population variance"
        )
    d = x - mean(x, axis, keepdims=True)
    return sum(d * d, axis, keepdims) / (n - c)


@takes_dim
def std(x, axis=None, unbiased=None, keepdims=False, *, correction=None):
    """The standard deviation along ``axis``, √var, as ``torch.std`` (same arguments as ``var``).

    d std / dx_i = (x_i − mean) / ((n − correction)·std), and 0 where std = 0.
    """
    return _root(_variance(x, axis, unbiased, keepdims, correction, "std"), 2)


def _root(s, p):
    """s^(1/p) for s ≥ 0, with the gradient 0 where s = 0 (the slope there is infinite)."""
    positive = s > 0
    safe = where(positive, s, 1.0)
    return where(positive, sqrt(safe) if p == 2 else safe ** (1 / p), 0.0)


@takes_dim
def norm(x, p="fro", axis=None, keepdims=False):
    """The p-norm of x along ``axis`` (all of x by default), as ``torch.norm``:

    * p > 0: (Σ |x|^p)^(1/p); ``"fro"`` (the default) is p = 2;
    * p = inf: max |x|;  p = −inf: min |x|;
    * p = 0: the number of nonzero elements (not differentiable).

    The gradient at x = 0 is 0, as in PyTorch (``_root``). Other p are a ValueError.
    """
    p = 2 if p == "fro" else p
    if isinstance(p, str) or not p >= 0 and p != -math.inf:
        raise ValueError(f"norm: p must be 'fro', a number > 0, 0, inf or -inf; got {p!r}")
    a = abs(x)
    if p == math.inf:
        return max(a, axis, keepdims)
    if p == -math.inf:
        return min(a, axis, keepdims)
    if p == 0:
        return sum((x != 0).to(x.dtype), axis, keepdims)
    if p == 2:
        return _root(sum(x * x, axis, keepdims), 2)
    nonzero = a > 0
    powers = where(nonzero, where(nonzero, a, 1.0) ** p, 0.0)  # 0^p, with the gradient 0 at 0
    return _root(sum(powers, axis, keepdims), p)
