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


class _Slot:
    """Where an array part of an index goes, in an index's template (``split_index``)."""

    def __repr__(self):
        return "<array>"


ARRAY = _Slot()


def split_index(index):
    """An index as a template and its array parts, which become inputs of the op.

    ``x[i, 2:, t]`` with i and t integer tensors is the template
    ``(ARRAY, slice(2, None), ARRAY)`` and the parts ``[i, t]``: the parts are
    inputs of the graph like any tensor (a compiled function reads them afresh
    at every call, and changing one in place before backward is refused), and
    lists and arrays are copied into tensors of their own.
    """
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [p if isinstance(p, Tensor) else np.array(p) for p in parts if _is_array(p)]
    template = tuple(ARRAY if _is_array(p) else p for p in parts)
    return (template if isinstance(index, tuple) else template[0]), arrays


def _is_array(part):
    return isinstance(part, (Tensor, list, np.ndarray))


def numpy_index(index):
    """``index`` as numpy takes it: each tensor part replaced by its array."""
    template, arrays = split_index(index)
    return join_index(template, [a.data if isinstance(a, Tensor) else a for a in arrays])


def join_index(template, arrays):
    """The index ``split_index`` took apart, with ``arrays`` in its slots."""
    if not arrays:
        return template
    arrays = iter(arrays)
    if not isinstance(template, tuple):
        return next(arrays)
    return tuple(next(arrays) if part is ARRAY else part for part in template)


class GetItem(Op):
    """z = x[index].    ∂L/∂x = zeros like x, with ∂L/∂z added at ``index``.

    The array parts of the index are inputs (``split_index``), without a
    gradient. Backward returns ∂L/∂x as a ``Scatter``, which stays sparse when
    added to the gradients of other slices of x.
    """

    name = "getitem"
    view = True

    def forward(self, x, *arrays, index=None):
        return x[join_index(index, arrays)]

    def backward(self, grad, z, x, *arrays, index=None):
        index = join_index(index, arrays)
        if isinstance(grad, Tensor):  # a recorded backward pass: a gradient built with ops
            zeros = Tensor._wrap(np.zeros(x.shape, grad.dtype))
            dx = index_put(zeros, index, grad, accumulate=True)
        else:
            dx = Scatter.at(x.shape, index, grad)
        return (dx, *[None] * len(arrays))

    def __call__(self, x, index):
        template, arrays = split_index(index)
        return self.apply((x, *arrays), {"index": template})


class IndexPut(Op):
    """z = x with z[index] = values (or z[index] += values with ``accumulate=True``).

    ∂L/∂x = ∂L/∂z, with zeros at ``index`` unless accumulating.
    ∂L/∂values = (∂L/∂z)[index], summed back over broadcast axes of ``values``.
    Without ``accumulate`` an index must not name a position twice: only one of
    the values would be kept, and which one has no gradient that is right.
    The array parts of the index are inputs, as for ``getitem``.
    """

    name = "index_put"

    def forward(self, x, values, *arrays, index=None, accumulate=False):
        index = join_index(index, arrays)
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

    def backward(self, grad, z, x, values, *arrays, index=None, accumulate=False):
        index = join_index(index, arrays)
        dx = grad if accumulate else index_put(grad, index, 0)
        return (dx, getitem(grad, index), *[None] * len(arrays))

    def __call__(self, x, index, values, accumulate=False):
        """As ``torch.index_put(x, index, values, accumulate)``."""
        template, arrays = split_index(index)
        return self.apply((x, values, *arrays), {"index": template, "accumulate": accumulate})


getitem = GetItem()
index_put = IndexPut()
