"""Reductions: sum, mean, max, min, prod and logsumexp over ``axis`` (None, an int or a
tuple), and the running sum ``cumsum`` (one axis).

Each follows numpy's ``axis``/``keepdims`` convention, and takes PyTorch's
``dim``/``keepdim`` too (``arguments.py``). A 0-d tensor may be reduced over
axis 0 or −1, as in PyTorch. Backward undoes the reduction: the gradient is
reshaped so the reduced axes have length 1, then broadcast back over them
(``_unreduce``).
"""

import math

import numpy as np

from ..array_methods import values_of
from ..graph import Op
from ..tensor import Tensor
from .arguments import takes_dim
from .elementwise import exp, where
from .selection import flip
from .shape import broadcast_to


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _reduced_axes(ndim, axis):
    """The set of axes a reduction over ``axis`` removes (axis already checked by numpy). A 0-d
    tensor has none, though numpy and PyTorch take axis 0 and −1 for it."""
    if axis is None or ndim == 0:
        return set(range(ndim))
    return {a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))}


def _kept_shape(shape, axis):
    """``shape`` with the reduced axes set to 1 (the keepdims shape)."""
    axes = _reduced_axes(len(shape), axis)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape, axis):
    """How many elements each result of a reduction over ``axis`` combines."""
    return math.prod(shape[a] for a in _reduced_axes(len(shape), axis))


def _unreduce(t, shape, axis, keepdims):
    """A reduced tensor ``t`` reshaped so that it broadcasts against the input ``shape``."""
    return t if keepdims else t.reshape(_kept_shape(shape, axis))


@takes_dim
class Sum(Op):
    """z = Σ x over ``axis``.    ∂z/∂x = 1 for every summed element."""

    saves = {"x": ""}

    def forward(self, x, axis=None, keepdims=False):
        with np.errstate(invalid="ignore"):  # inf + (−inf) is nan, as the IEEE rules say
            return np.sum(x, axis=_axis(axis), keepdims=keepdims)

    def backward(self, grad, z, x, axis=None, keepdims=False):
        return broadcast_to(_unreduce(grad, x.shape, _axis(axis), keepdims), x.shape)

    def jvp(self, tangents, z, x, axis=None, keepdims=False):
        return sum(tangents[0], axis, keepdims)


@takes_dim
class Mean(Op):
    """z = (1/n) Σ x over ``axis`` (n elements).    ∂z/∂x = 1/n.

    Over an empty axis (n = 0) there is no mean: a ValueError naming the input's
    shape, where PyTorch returns NaN.
    """

    saves = {"x": ""}

    def forward(self, x, axis=None, keepdims=False):
        with np.errstate(invalid="ignore"):  # inf + (−inf) is nan, as the IEEE rules say
            total = np.sum(x, axis=_axis(axis), keepdims=keepdims)  # also checks axis
        count = _count(x.shape, _axis(axis))
        if count == 0:
            raise ValueError(f"mean: cannot average over an empty axis (input shape {x.shape})")
        return total / count

    def backward(self, grad, z, x, axis=None, keepdims=False):
        axis = _axis(axis)
        return broadcast_to(_unreduce(grad, x.shape, axis, keepdims), x.shape) / _count(
            x.shape, axis
        )

    def jvp(self, tangents, z, x, axis=None, keepdims=False):
        return mean(tangents[0], axis, keepdims)


@takes_dim
class _Extremum(Op):
    """Shared backward of max and min: the gradient goes to the elements equal to the result.

    When several elements tie for the extremum, each gets an equal share
    (1/count), so the shares still sum to 1. A row holding NaN has NaN as its
    extremum, and the gradient goes to the NaN (shared among several), as in PyTorch.
    """

    saves = {"x": "x out"}

    def backward(self, grad, z, x, axis=None, keepdims=False):
        axis = _axis(axis)
        return _unreduce(grad, x.shape, axis, keepdims) * _shares(z, x, axis, keepdims)

    def jvp(self, tangents, z, x, axis=None, keepdims=False):
        return sum(tangents[0] * _shares(z, x, _axis(axis), keepdims), _axis(axis), keepdims)


def _shares(z, x, axis, keepdims):
    """1/k at each of the k elements equal to the extremum z (NaN counting as equal to NaN), 0
    elsewhere: a constant, computed on the arrays."""
    x = x.data if isinstance(x, Tensor) else x
    z = _unreduce(z.data if isinstance(z, Tensor) else z, x.shape, axis, keepdims)
    hits = (x == z) | (np.isnan(x) & np.isnan(z))
    return hits / hits.sum(axis, keepdims=True)


class Max(_Extremum):
    """z = max x over ``axis``.    ∂z/∂x = 1 at the maximum, else 0 (1/k each for a k-way tie)."""

    def forward(self, x, axis=None, keepdims=False):
        return np.max(x, axis=_axis(axis), keepdims=keepdims)


class Min(_Extremum):
    """z = min x over ``axis``.    ∂z/∂x = 1 at the minimum, else 0 (1/k each for a k-way tie)."""

    def forward(self, x, axis=None, keepdims=False):
        return np.min(x, axis=_axis(axis), keepdims=keepdims)


@takes_dim
class Prod(Op):
    """z = Π x over ``axis``.    ∂z/∂x_i = Π_{j≠i} x_j, the product of the others.

    Where no element is 0 that is z/x_i. Where some are, it is found without
    dividing by them (``_others``), so the gradient at a zero is the product of
    the others, as in PyTorch, and second derivatives are exact there too.
    """

    saves = {"x": "x out"}

    def forward(self, x, axis=None, keepdims=False):
        return np.prod(x, axis=_axis(axis), keepdims=keepdims)

    def backward(self, grad, z, x, axis=None, keepdims=False):
        axis = _axis(axis)
        return _unreduce(grad, x.shape, axis, keepdims) * _others(z, x, axis, keepdims)

    def jvp(self, tangents, z, x, axis=None, keepdims=False):
        axis = _axis(axis)
        return sum(tangents[0] * _others(z, x, axis, keepdims), axis, keepdims)


def _others(z, x, axis, keepdims):
    """Π_{j≠i} x_j along ``axis`` for every element i: z/x_i where the row holds no 0.

    Otherwise, with p the product of the row's nonzero elements (a 0 taken as
    1), it is p/x_i (p at a zero) times the product of the *other* zeros: 1
    where there is none; that zero where there is one (its value is 0, but its
    derivative, 1, is the second derivative of z); and 0 where there are more.
    """
    zero = (x.data if isinstance(x, Tensor) else x) == 0
    if not zero.any():
        return _unreduce(z, x.shape, axis, keepdims) / x
    other_zeros = zero.sum(axis, keepdims=True) - zero  # how many of the others are 0
    safe = where(zero, 1.0, x)
    zeros = where(zero, x, 0.0)
    the_other_zero = sum(zeros, axis, True) - zeros
    factor = where(other_zeros == 0, 1.0, where(other_zeros == 1, the_other_zero, 0.0))
    return prod(safe, axis, True) / safe * factor


@takes_dim
class Cumsum(Op):
    """z_i = Σ_{j≤i} x_j along ``axis`` (one axis, needed, as in ``torch.cumsum``).

    ∂L/∂x_j = Σ_{i≥j} ∂L/∂z_i: the running sum of the gradient from the end
    (flipped, summed, flipped back).
    """

    saves = {"x": ""}

    def forward(self, x, axis=None):
        if axis is None or isinstance(axis, (tuple, list)):
            raise TypeError(f"cumsum: needs one axis (dim), an int; got {axis!r}")
        return np.cumsum(x, axis) if x.ndim else x.copy()

    def backward(self, grad, z, x, axis=None):
        return flip(cumsum(flip(grad, axis), axis), axis) if x.ndim else grad

    def jvp(self, tangents, z, x, axis=None):
        return cumsum(tangents[0], axis)


def _minus_max(x, axis):
    """(x − m, m) with m = max x along ``axis``, kept as an axis of length 1; m is taken as 0
    where that maximum is ±inf, so that such rows stay what they are.

    x − m ≤ 0, and e^(x − m) ≤ 1 cannot overflow. x − m itself can: for x = −1e308 beside
    m = 1e308 the exact −2e308 lies beyond float64's range, and −inf is its correctly rounded
    value (PyTorch's too). It is also the right input for what follows: e^(−inf) = 0 as e^(−2e308)
    rounds to 0, and a log-probability of −inf is the correctly rounded one. So numpy's overflow
    warning for this subtraction only, which reports that rounding, is not raised.
    """
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(over="ignore"):
        return x - m, m


@takes_dim
class Logsumexp(Op):
    """z = ln Σ eˣ over ``axis``, computed as m + ln Σ e^(x−m) with m = max x (no overflow).

    ∂z/∂x = e^(x−z) = softmax(x) along ``axis``, computed as e^(log_softmax(x)): for |m| near
    float64's limit, z rounds away the ln Σ e^(x−m) ≤ ln n, and e^(x−z) would lose it.
    """

    saves = {"x": "x"}

    def forward(self, x, axis=None, keepdims=False):
        axis = _axis(axis)
        shifted, m = _minus_max(x, axis)
        with np.errstate(divide="ignore"):  # a row of -inf: ln 0 = -inf
            z = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)) + m
        return z if keepdims else np.squeeze(z, axis=axis)

    def backward(self, grad, z, x, axis=None, keepdims=False):
        axis = _axis(axis)
        return _unreduce(grad, x.shape, axis, keepdims) * exp(log_softmax(x, axis))

    def jvp(self, tangents, z, x, axis=None, keepdims=False):
        axis = _axis(axis)
        return sum(exp(log_softmax(x, axis)) * tangents[0], axis, keepdims)


@takes_dim
class LogSoftmax(Op):
    """z = x − logsumexp(x) along ``axis`` (an int, a tuple or None): log softmax, computed as
    (x − m) − ln Σ e^(x−m) with m = max x, without overflow.

    ∂L/∂x = G − softmax(x) · Σ G along ``axis``,  with softmax(x) = e^z.
    """

    name = "log_softmax"
    saves = {"x": "out"}

    def forward(self, x, axis=-1):
        shifted, _ = _minus_max(x, axis)
        with np.errstate(divide="ignore"):
            return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    def backward(self, grad, z, x, axis=-1):
        return grad - exp(z) * grad.sum(axis, keepdims=True)

    def jvp(self, tangents, z, x, axis=-1):
        t = tangents[0]
        return t - sum(exp(z) * t, axis, True)


def _outside_the_graph(function, x, axis, keepdims, what):
    """``function`` (a numpy reduction) of x's values as a tensor outside the graph."""
    values = values_of(x, what) if isinstance(x, Tensor) else np.asarray(x)
    return Tensor._wrap(np.asarray(function(values, axis=_axis(axis), keepdims=keepdims)))


@takes_dim
def argmax(x, axis=None, keepdims=False):
    """The index of the maximum along ``axis`` (in the flattened tensor for None), as int64.
    Indices are not differentiable; ``max`` returns the values only, as numpy's does."""
    return _outside_the_graph(np.argmax, x, axis, keepdims, "argmax()")


@takes_dim
def argmin(x, axis=None, keepdims=False):
    """The index of the minimum along ``axis`` (in the flattened tensor for None), as int64."""
    return _outside_the_graph(np.argmin, x, axis, keepdims, "argmin()")


@takes_dim
def any(x, axis=None, keepdims=False):  # noqa: A001 - as torch.any
    """Whether any element along ``axis`` is true (a bool tensor, not differentiable)."""
    return _outside_the_graph(np.any, x, axis, keepdims, "any()")


@takes_dim
def all(x, axis=None, keepdims=False):  # noqa: A001 - as torch.all
    """Whether every element along ``axis`` is true (a bool tensor, not differentiable)."""
    return _outside_the_graph(np.all, x, axis, keepdims, "all()")


sum = Sum()  # noqa: A001 - the op is called sum, as torch.sum
mean = Mean()
max = Max()  # noqa: A001
min = Min()  # noqa: A001
prod = Prod()
cumsum = Cumsum()
logsumexp = Logsumexp()
log_softmax = LogSoftmax()
