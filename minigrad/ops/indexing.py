"""Indexing ops: ``x[index]`` (getitem) and its adjoint, ``index_put``.

``index`` is anything numpy accepts: ints, slices, None, Ellipsis, integer
arrays (advanced indexing) and bool masks. With integer arrays an element can
be read more than once (``x[[0, 0, 1]]``); its gradient is then the sum of the
gradients of every read.
"""

import numpy as np

from ..graph import Op
from ..tensor import Tensor

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def is_basic_index(index):
    """True when ``index`` selects each element at most once (no arrays, lists or bools)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, _BASIC) and not isinstance(p, bool) for p in parts)


def add_at(array, index, values):
    """``array[index] += values`` in place, where repeated indices add up (``np.add.at``)."""
    if is_basic_index(index):
        array[index] += values
    elif isinstance(index, np.ndarray) and index.dtype.kind in "iu" and array.dtype.kind == "f":
        _add_rows(array, index, values)
    else:
        np.add.at(array, index, values)


def _add_rows(array, rows, values):
    """array[rows] += values for an integer array of row numbers (an embedding's gradient).

    One ``np.bincount`` over the flat positions does what ``np.add.at`` does,
    several times faster, and sums in float64.
    """
    row_size = array[0].size if len(array) else 0
    rows = np.where(rows < 0, rows + len(array), rows)  # numpy's negative indices
    positions = (rows.reshape(-1, 1) * row_size + np.arange(row_size)).reshape(-1)
    values = np.broadcast_to(values, rows.shape + array.shape[1:]).reshape(-1)
    totals = np.bincount(positions, weights=values, minlength=array.size)
    array += totals.reshape(array.shape).astype(array.dtype, copy=False)


class Scatter:
    """zeros(shape) with ``values`` added at ``index``: the gradient of x[index], kept sparse.

    Indexing's rule returns it instead of a full-size array that is zero but
    for the slice it read. ``+`` is all the engine asks of a gradient
    (``engine.accumulate``): Scatter + Scatter keeps both parts, with no array
    made; Scatter + array adds the parts into a copy of the array. So a tensor
    read slice by slice, x[t] for every t, gets one full-size gradient in all,
    made once (``np.asarray``) when a rule or ``.grad`` needs it, rather than
    one per slice.

    ``parts`` is an (index, values) pair, or a list of two ``parts``: a tree,
    so that adding is O(1) and no Scatter is ever changed once made.
    """

    __slots__ = ("shape", "dtype", "parts")
    __array_ufunc__ = None  # `array + scatter` comes to __radd__

    def __init__(self, shape, parts, dtype):
        self.shape = tuple(shape)
        self.parts = parts
        self.dtype = dtype

    @classmethod
    def at(cls, shape, index, values):
        """The gradient of x[index] for x of ``shape``: ``values`` at ``index``."""
        return cls(shape, (index, values), values.dtype)

    def __add__(self, other):
        if isinstance(other, Scatter):
            return Scatter(self.shape, [self.parts, other.parts], self.dtype)
        return self._add_into(np.array(other, dtype=np.result_type(other, self.dtype)))

    __radd__ = __add__

    def __array__(self, dtype=None, copy=None):
        return self._add_into(np.zeros(self.shape, dtype or self.dtype))

    def _add_into(self, total):
        stack = [self.parts]
        while stack:
            part = stack.pop()
            if type(part) is list:
                stack.extend(part)
            else:
                add_at(total, *part)
        return total


def own_index(index):
    """``index`` with every tensor, list or array in it copied to an array of its own: the graph
    keeps the index, so changing the caller's index later must not move a gradient."""
    if isinstance(index, tuple):
        return tuple([_own_part(part) for part in index])
    return _own_part(index)


def _own_part(part):
    if isinstance(part, Tensor):
        return part.data.copy()
    if isinstance(part, (list, np.ndarray)):
        return np.array(part)
    return part


class GetItem(Op):
    """z = x[index].    ∂L/∂x = zeros like x, with ∂L/∂z added at ``index``.

    Backward returns that gradient as a ``Scatter``, which stays sparse when
    added to the gradients of other slices of x.
    """

    name = "getitem"
    view = True

    def forward(self, x, index=None):
        return x[index]

    def backward(self, grad, z, x, index=None):
        if isinstance(grad, Tensor):  # a recorded backward pass: a gradient built with ops
            zeros = Tensor._wrap(np.zeros(x.shape, grad.dtype))
            return index_put(zeros, index, grad, accumulate=True)
        return Scatter.at(x.shape, index, grad)

    def __call__(self, x, index):
        return self.apply((x,), {"index": own_index(index)})


class IndexPut(Op):
    """z = x with z[index] = values (or z[index] += values with ``accumulate=True``).

    ∂L/∂x = ∂L/∂z, with zeros at ``index`` unless accumulating.
    ∂L/∂values = (∂L/∂z)[index], summed back over broadcast axes of ``values``.
    Without ``accumulate`` an index must not name a position twice: only one of
    the values would be kept, and which one has no gradient that is right.
    """

    name = "index_put"

    def forward(self, x, values, index=None, accumulate=False):
        out = x.copy()
        if accumulate:
            add_at(out, index, values)
            return out
        if not is_basic_index(index):
            positions = np.arange(x.size).reshape(x.shape)[index]
            if np.unique(positions).size != positions.size:
                raise ValueError(
                    "index_put: the index names a position more than once; "
                    "use accumulate=True to add the values up"
                )
        out[index] = values
        return out

    def backward(self, grad, z, x, values, index=None, accumulate=False):
        dx = grad if accumulate else index_put(grad, index, 0)
        return dx, getitem(grad, index)

    def __call__(self, x, index, values, accumulate=False):
        """As ``torch.index_put(x, index, values, accumulate)``."""
        return self.apply((x, values), {"index": own_index(index), "accumulate": accumulate})


getitem = GetItem()
index_put = IndexPut()
