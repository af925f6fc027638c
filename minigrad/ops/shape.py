"""Shape ops: reshape, permute/transpose, broadcast_to, stack, concatenate, split, unbind.

view, expand, squeeze, unsqueeze and flatten are reshapes and broadcasts with
PyTorch's conventions, so they are functions of those ops. Where an axis is
named, PyTorch's ``dim`` works as well as numpy's ``axis`` (``arguments.py``).

None of them computes anything: backward moves the gradient back to where
each element came from. ``split`` and ``unbind`` are ops with several outputs,
one per piece, each a view of the input: their rule gets one gradient per
piece and puts them back together in one array, as ``stack`` or
``concatenate`` would.
"""

import math

import numpy as np

from ..graph import Op
from .arguments import takes_dim


class Reshape(Op):
    """z = x laid out with a new ``shape`` (one axis may be −1).    ∂L/∂x = ∂L/∂z reshaped back."""

    view = True
    saves = {"x": ""}

    def forward(self, x, shape=None):
        return np.reshape(x, shape)

    def backward(self, grad, z, x, shape=None):
        return grad.reshape(x.shape)

    def jvp(self, tangents, z, x, shape=None):
        return reshape(tangents[0], shape)


class Permute(Op):
    """z = x with its axes reordered: z.shape[i] = x.shape[axes[i]] (all reversed if None).

    ∂L/∂x = (∂L/∂z) permuted by the inverse permutation, argsort(axes).
    """

    view = True
    saves = {"x": ""}

    def forward(self, x, axes=None):
        return np.transpose(x, axes)

    def backward(self, grad, z, x, axes=None):
        if axes is None:
            return permute(grad)  # reversing is its own inverse
        inverse = np.argsort([a % x.ndim for a in axes])
        return permute(grad, tuple(int(a) for a in inverse))

    def jvp(self, tangents, z, x, axes=None):
        return permute(tangents[0], axes)


class BroadcastTo(Op):
    """z = x repeated along new or length-1 axes to ``shape`` (numpy's broadcasting).

    ∂L/∂x = ∂L/∂z summed over the repeated axes, which the engine does for
    every op; so this rule just passes the gradient on.
    """

    name = "broadcast_to"
    view = True
    saves = {"x": ""}

    def forward(self, x, shape=None):
        return np.broadcast_to(x, shape)

    def backward(self, grad, z, x, shape=None):
        return grad

    def jvp(self, tangents, z, x, shape=None):
        return broadcast_to(tangents[0], shape)


@takes_dim
class Stack(Op):
    """z = the inputs stacked along a new axis: z[..., i, ...] = xs[i].

    ∂L/∂xs[i] = (∂L/∂z)[..., i, ...].
    """

    saves = {"xs": ""}

    def forward(self, *xs, axis=0):
        return np.stack(xs, axis=axis)

    def backward(self, grad, z, *xs, axis=0):
        return unbind(grad, axis)

    def jvp(self, tangents, z, *xs, axis=0):
        return stack(_given(tangents, xs), axis)

    def __call__(self, tensors, axis=0):
        return self.apply(_sequence(tensors, "stack"), {"axis": axis})


@takes_dim
class Concatenate(Op):
    """z = the inputs joined along an existing axis.

    ∂L/∂xs[i] = the slice of ∂L/∂z that xs[i] became.
    """

    saves = {"xs": ""}

    def forward(self, *xs, axis=0):
        return np.concatenate(xs, axis=axis)

    def backward(self, grad, z, *xs, axis=0):
        return split(grad, [x.shape[axis] for x in xs], axis)

    def jvp(self, tangents, z, *xs, axis=0):
        return concatenate(_given(tangents, xs), axis)

    def __call__(self, tensors, axis=0):
        return self.apply(_sequence(tensors, "concatenate"), {"axis": axis})


def shape_arg(args):
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike, as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def normalize_axis(axis, ndim, where):
    if not -ndim <= axis < ndim:
        raise ValueError(f"{where}: axis {axis} is out of range for {ndim} axes")
    return axis % ndim


def view(x, shape):
    """A reshape that must share memory, as ``torch.Tensor.view``: it raises where the data's
    layout would force a copy (a transposed tensor, say); ``reshape`` copies then."""
    out = reshape(x, shape)
    if out.data.size and not np.shares_memory(out.data, x.data):
        raise RuntimeError(
            f"view: a tensor of shape {x.shape} with this memory layout cannot be viewed "
            f"as {out.shape} without a copy; use reshape"
        )
    return out


def expand(x, shape):
    """Broadcast to ``shape``; -1 keeps an axis as it is (PyTorch's ``expand``)."""
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    return broadcast_to(x, shape)


@takes_dim
def squeeze(x, axis=None):
    """Drop axes of length 1; with ``axis``, only that one (kept if its length is not 1). A
    0-d tensor squeezed along axis 0 or −1 stays as it is, as in PyTorch."""
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axis = normalize_axis(axis, max(x.ndim, 1), "squeeze")
    if x.ndim == 0 or x.shape[axis] != 1:
        return reshape(x, x.shape)
    return reshape(x, x.shape[:axis] + x.shape[axis + 1 :])


@takes_dim
def unsqueeze(x, axis):
    """Insert an axis of length 1 at position ``axis``."""
    axis = normalize_axis(axis, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def flatten(x, start_dim=0, end_dim=-1):
    """Axes ``start_dim`` to ``end_dim`` (both included) merged into one, as ``torch.flatten``.

    By default every axis: a 1-D tensor of all the elements (a 0-d tensor too).
    z.shape = x.shape[:start] + (∏ x.shape[start:end + 1],) + x.shape[end + 1:].
    """
    if x.ndim == 0:
        return reshape(x, (1,))
    start = normalize_axis(start_dim, x.ndim, "flatten")
    end = normalize_axis(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
            f"for a tensor of shape {x.shape}"
        )
    merged = math.prod(x.shape[start : end + 1])
    return reshape(x, (*x.shape[:start], merged, *x.shape[end + 1 :]))


def _sequence(tensors, name):
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise ValueError(f"{name}: expected a non-empty list or tuple of tensors, got {tensors!r}")
    return tuple(tensors)


def transpose(x, dim0, dim1):
    """Swap axes ``dim0`` and ``dim1`` (a ``permute``)."""
    axes = list(range(x.ndim))
    try:
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    except IndexError:
        raise ValueError(
            f"transpose: axes ({dim0}, {dim1}) are out of range for a tensor with {x.ndim} axes"
        ) from None
    return permute(x, tuple(axes))


@takes_dim
class Split(Op):
    """zs = the pieces of x along ``axis``, of lengths ``sizes`` (each a view of x).

    ∂L/∂x = the pieces' gradients joined along ``axis``, zeros for a piece that got none.
    """

    view = True
    saves = {"x": ""}

    def forward(self, x, sizes=(), axis=0):
        return tuple(np.split(x, np.cumsum(sizes)[:-1], axis))

    def backward(self, grads, zs, x, sizes=(), axis=0):
        return concatenate(_filled(grads, zs, x.dtype), axis)

    def jvp(self, tangents, zs, x, sizes=(), axis=0):
        return split(tangents[0], list(sizes), axis)

    def __call__(self, x, split_size_or_sections, axis=0):
        """Cut ``x`` along ``axis`` into pieces, as ``torch.split``.

        An int gives pieces of that length (the last may be shorter); a list
        gives the length of each piece, which must add up to the axis length.
        """
        axis = normalize_axis(axis, x.ndim, "split")
        sizes = _piece_sizes(split_size_or_sections, x.shape[axis], axis)
        return self.apply((x,), {"sizes": sizes, "axis": axis})


def _piece_sizes(split_size_or_sections, length, axis):
    """The lengths of split's pieces, checked."""
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: the piece length must be positive, got {size}")
        return tuple(min(size, length - s) for s in range(0, length, size))
    sizes = tuple(int(s) for s in split_size_or_sections)
    if sum(sizes) != length or any(s < 0 for s in sizes):
        raise ValueError(
            f"split: sizes {list(sizes)} do not add up to the length {length} of axis {axis}"
        )
    return sizes


@takes_dim
class Unbind(Op):
    """zs[i] = x[..., i, ...]: the slices along ``axis``, each without it (views of x).

    ∂L/∂x = the slices' gradients stacked along ``axis``, zeros for a slice that got none:
    one array for all T slices, so reading a sequence step by step costs O(T), not O(T²).
    """

    view = True
    saves = {"x": ""}

    def forward(self, x, axis=0):
        return tuple(np.moveaxis(x, axis, 0))

    def backward(self, grads, zs, x, axis=0):
        return stack(_filled(grads, zs, x.dtype), axis)

    def jvp(self, tangents, zs, x, axis=0):
        return unbind(tangents[0], axis)

    def __call__(self, x, axis=0):
        """The slices of ``x`` along ``axis``, each without that axis, as ``torch.unbind``."""
        return self.apply((x,), {"axis": normalize_axis(axis, x.ndim, "unbind")})


def _given(tangents, xs):
    """Each input's tangent, or zeros of its shape for one that carries none."""
    return [np.zeros(x.shape, x.dtype) if t is None else t for t, x in zip(tangents, xs)]


def _filled(grads, outs, dtype):
    """Each output's gradient, or zeros of its shape for one that received none."""
    return [np.zeros(z.shape, dtype) if g is None else g for g, z in zip(grads, outs)]


class _Detached:
    """What a compiled function replays for ``t.detach()``: the same array, outside the graph.
    Not an Op: it has no rule, so no node is ever recorded for it."""

    name = "detach"

    @staticmethod
    def forward(x):
        return x


DETACH = _Detached()
reshape = Reshape()
permute = Permute()
broadcast_to = BroadcastTo()
stack = Stack()
concatenate = Concatenate()
cat = concatenate
split = Split()
unbind = Unbind()
