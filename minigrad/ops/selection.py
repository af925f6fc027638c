"""Selections and rearrangements made of the indexing and shape ops, as PyTorch spells them:
flip, roll, pad, tril, triu, gather and masked_fill.

None defines a gradient. Each is a getitem, a concatenate, an index_put or a
where, so its backward moves each gradient back to where its element came
from, and adds up the gradients of an element read more than once (a
``gather`` with a repeated index, a ``pad`` that reflects).
"""

import numpy as np

from ..tensor import Tensor
from .arguments import takes_dim
from .elementwise import where
from .indexing import getitem, index_put
from .shape import concatenate, normalize_axis, reshape


def _axes(axis, ndim, name):
    """``axis`` (an int, or a tuple or list of them) as a tuple of axes in [0, ndim)."""
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(normalize_axis(a, ndim, name) for a in axes)


def _along(axis, part):
    """The index that applies ``part`` along ``axis`` and takes every element of the others."""
    return (slice(None),) * axis + (part,)


@takes_dim
def flip(x, axis):
    """x with its elements in reverse order along ``axis`` (an int or a tuple; PyTorch's
    ``dims``), as ``torch.flip``: the getitem ``x[..., ::-1, ...]``, a view of x. (A 0-d
    tensor flipped along axis 0 stays as it is, as in PyTorch.)"""
    axes = _axes(axis, max(x.ndim, 1), "flip")
    return getitem(
        x, tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim))
    )


@takes_dim
def roll(x, shifts, axis=None):
    """x with its elements moved ``shifts`` places along ``axis`` (PyTorch's ``dims``), those
    pushed past the end coming round to the start, as ``torch.roll``. ``shifts`` and ``axis``
    may be tuples of the same length; without ``axis`` x is rolled flat and reshaped back.
    Each shift joins two slices with ``concatenate``, so the gradient is rolled back."""
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shifts, 0), x.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    axes = _axes(axis, x.ndim, "roll")
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes; give one per axis")
    for shift, a in zip(shifts, axes):
        cut = x.shape[a] - shift % x.shape[a] if x.shape[a] else 0
        if 0 < cut < x.shape[a]:
            x = concatenate([getitem(x, _along(a, slice(cut, None))),
                             getitem(x, _along(a, slice(None, cut)))], a)  # fmt: skip
    return x


_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x, pad, mode="constant", value=0.0):  # noqa: A002 - PyTorch's argument names
    """x padded as ``torch.nn.functional.pad``: ``pad`` holds (before, after) pairs, for the
    last axis first: (left, right) pads the last axis, (left, right, top, bottom) the last two.
    A negative amount crops. ``mode``: ``"constant"`` (fills with ``value``), ``"reflect"``
    (mirrors, without repeating the edge), ``"replicate"`` (repeats the edge) or
    ``"circular"`` (wraps around). As in PyTorch, ``reflect`` pads an axis of n by at most
    n − 1 on each side and ``circular`` by at most n.

    The constant mode writes x into a tensor of ``value`` (``index_put``); the
    others read x at the padded positions (one ``getitem`` with an index array
    per axis), so the gradient of a position read twice adds up.
    """
    pairs = _pad_pairs(pad, x.ndim)
    x, pairs = _crop(x, pairs)
    if mode == "constant":
        return _pad_constant(x, pairs, value)
    if mode not in _NUMPY_MODES:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    _wraps_at_most_once(x.shape, pairs, mode)
    rows = [np.pad(np.arange(n), w, _NUMPY_MODES[mode]) for n, w in zip(x.shape, pairs)]
    return getitem(x, np.ix_(*rows))


def _pad_pairs(pad, ndim):
    """``pad`` (PyTorch's flat amounts, last axis first) as one (before, after) pair per axis,
    first axis first; the leading axes it does not name get (0, 0)."""
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(
            f"pad: expected (before, after) pairs for at most {ndim} axes, got {tuple(pad)}"
        )
    given = [tuple(pad[i : i + 2]) for i in range(0, len(pad), 2)][::-1]  # first axis first
    return [(0, 0)] * (ndim - len(given)) + given


def _crop(x, pairs):
    """x cut down by the negative amounts in ``pairs``, and the pairs left to pad (those
    amounts set to 0): a pad of −k removes k elements from that side."""
    if any(b < 0 or a < 0 for b, a in pairs):
        x = getitem(x, tuple(slice(-min(b, 0), n + min(a, 0)) for (b, a), n in zip(pairs, x.shape)))
        pairs = [(max(b, 0), max(a, 0)) for b, a in pairs]
    return x, pairs


def _pad_constant(x, pairs, value):
    """x inside a tensor of ``value``, ``before`` more along each axis ahead of it and ``after``
    more behind: ``index_put`` writes x into the middle, so its gradient is the middle."""
    shape = tuple(n + b + a for n, (b, a) in zip(x.shape, pairs))
    inside = tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, pairs))
    return index_put(np.full(shape, value, x.dtype), inside, x)


def _wraps_at_most_once(shape, pairs, mode):
    """Refuse what PyTorch refuses: ``reflect`` mirrors at most n − 1 elements of an axis of n
    (the edge is not repeated), ``circular`` wraps around at most once (n elements), and
    neither they nor ``replicate`` can pad an empty axis; numpy would go on reflecting or
    wrapping."""
    most = {"reflect": 1, "circular": 0}.get(mode, -np.inf)
    for axis, (n, (before, after)) in enumerate(zip(shape, pairs)):
        limit = n - most if n else 0
        if max(before, after) > limit:
            raise ValueError(
                f"pad: {mode} padding ({before}, {after}) along axis {axis} of length {n}; "
                f"it can be at most {limit} on each side"
            )


def _triangle(x, mask, name):
    if x.ndim < 2:
        raise ValueError(f"{name}: needs a matrix (or a batch of them), got shape {x.shape}")
    return where(mask, x, 0)


def tril(x, diagonal=0):
    """The lower triangle of the last two axes, as ``torch.tril``: x[..., i, j] where
    j ≤ i + diagonal, else 0. It is where(mask, x, 0), so the gradient is masked the same way."""
    return _triangle(x, np.tri(*x.shape[-2:], k=diagonal, dtype=bool), "tril")


def triu(x, diagonal=0):
    """The upper triangle of the last two axes, as ``torch.triu``: x[..., i, j] where
    j ≥ i + diagonal, else 0."""
    return _triangle(x, ~np.tri(*x.shape[-2:], k=diagonal - 1, dtype=bool), "triu")


@takes_dim
def gather(x, axis, index):
    """Values of x picked along ``axis`` by ``index``, as ``torch.gather``: for axis 1,
    out[i, j, k] = x[i, index[i, j, k], k]. ``index`` is an int64 tensor with x's number of
    axes and no longer than x along the others; out has its shape.

    It is x[...] with ``index`` along ``axis`` and a range along each other axis, so its
    gradient is getitem's: ∂L/∂x gets ∂L/∂out added at each position read (twice for a
    position read twice).
    """
    values = index.data if isinstance(index, Tensor) else np.asarray(index)
    axis = normalize_axis(axis, x.ndim, "gather")
    _check_gather_index(values, x.shape, axis)
    ranges = [
        np.arange(n).reshape([n if e == d else 1 for e in range(x.ndim)])
        for d, n in enumerate(values.shape)
    ]
    ranges[axis] = index if isinstance(index, Tensor) else values
    return getitem(x, tuple(ranges))


def _check_gather_index(values, shape, axis):
    """Refuse an index ``gather`` cannot use on an input of ``shape``: it must hold integers,
    have as many axes as the input, be no longer than it along any axis but ``axis`` (out
    takes the index's shape, and reads the input at the same positions there), and pick
    positions in [0, n) along ``axis``, where the input has n."""
    if values.dtype.kind not in "iu":
        raise TypeError(f"gather: the index must hold integers, got dtype {values.dtype}")
    if not _fits_beside(values.shape, shape, axis):
        raise ValueError(
            f"gather: an index of shape {values.shape} for an input of shape {shape}; it needs "
            f"{len(shape)} axes, none longer than the input's but axis {axis}"
        )
    if values.size and (values.min() < 0 or values.max() >= shape[axis]):
        raise ValueError(f"gather: an index out of range [0, {shape[axis]}) along axis {axis}")


def _fits_beside(index_shape, shape, axis):
    """True when an index of ``index_shape`` has the axes of ``shape`` and is no longer than it
    along each of them but ``axis``."""
    if len(index_shape) != len(shape):
        return False
    return all(index_shape[d] <= shape[d] for d in range(len(shape)) if d != axis)


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def masked_fill(x, mask, value):
    """x with ``value`` where ``mask`` holds, as ``torch.Tensor.masked_fill``: where(mask, value,
    x). ``mask`` is a bool tensor that broadcasts to x's shape; ``value`` a number, or a 0-d
    tensor (which may require grad: its gradient is the sum of x's where the mask holds)."""
    mask_values = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask_values.dtype != bool:
        raise TypeError(
            f"masked_fill: the mask must be a bool tensor, got dtype {mask_values.dtype}"
        )
    if not _broadcasts_to(mask_values.shape, x.shape):
        raise ValueError(
            f"masked_fill: a mask of shape {mask_values.shape} does not broadcast to the input's "
            f"shape {x.shape}"
        )
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(
            f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}"
        )
    return where(mask, value, x)
