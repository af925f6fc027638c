"""Indexing ops: ``x[index]`` (getitem) and its adjoint, ``index_put``.

``index`` is anything numpy accepts: ints, slices, None, Ellipsis, integer
arrays (advanced indexing) and bool masks. With integer arrays an element can
be read more than once (``x[[0, 0, 1]]``); its gradient is then the sum of the
gradients of every read.
"""

import numpy as np

from ..graph import Op, Scatter

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


class GetItem(Op):
    """z = x[index].    ∂L/∂x = zeros like x, with ∂L/∂z added at ``index``.

    Backward returns that gradient as a ``Scatter`` so the engine can add the
    slices of a tensor read piece by piece into one buffer.
    """

    name = "getitem"
    view = True

    def forward(self, x, index=None):
        return x[index]

    def backward(self, grad, z, x, index=None):
        return Scatter(x.shape, index, grad)


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
        return self.apply((x, values), {"index": index, "accumulate": accumulate})


getitem = GetItem()
index_put = IndexPut()
