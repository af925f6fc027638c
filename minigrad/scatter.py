"""Scatter: the gradient of indexing, kept sparse until it is needed whole.

``x[index]`` reads part of x, so its gradient is zero except at ``index``.
Indexing's backward rule returns that gradient as a ``Scatter`` instead of a
full-size array of zeros. ``engine.accumulate`` adds Scatters by collecting
their parts, so a tensor read slice by slice costs one full-size array in
all, not one per slice. ``dense`` makes the whole gradient once, when a rule
or a ``.grad`` needs it.
"""

import numpy as np

from .tensor import Tensor

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def is_basic_index(index):
    """True when ``index`` selects each element at most once (no arrays, lists or bools)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, _BASIC) and not isinstance(p, bool) for p in parts)


def add_at(array, index, values):
    """``array[index] += values`` in place, where an element named twice gets both values."""
    if is_basic_index(index):
        array[index] += values
    else:
        np.add.at(array, index, values)


class Scatter:
    """zeros(shape) with ``values`` added at ``index``: the gradient of x[index] for x of ``shape``.

    ``parts`` lists the (index, values) pairs. ``engine.accumulate`` extends
    the list when another Scatter for the same tensor arrives: each Scatter
    comes from one call of indexing's rule and reaches one input only, so its
    list is never shared.
    """

    __slots__ = ("shape", "parts")

    def __init__(self, shape, index, values):
        self.shape = tuple(shape)
        self.parts = [(index, values)]

    @property
    def dtype(self):
        return self.parts[0][1].dtype

    def dense(self):
        """The whole gradient. With Tensor values (a recorded backward pass) it is built with
        ``index_put``, so it can be differentiated; with arrays, in one buffer, in place."""
        first = self.parts[0][1]
        if isinstance(first, Tensor):
            total = Tensor._wrap(np.zeros(self.shape, first.dtype))
            for index, values in self.parts:
                total = total.index_put(index, values, accumulate=True)
            return total
        total = np.zeros(self.shape, first.dtype)
        for index, values in self.parts:
            add_at(total, index, values)
        return total


def dense(g):
    """``g`` as an array or a Tensor: a Scatter made whole, anything else as it is."""
    return g.dense() if type(g) is Scatter else g
