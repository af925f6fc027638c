"""Indexing ops: ``x[index]`` (getitem) and its adjoint, ``index_put``.

``index`` is anything numpy accepts: ints, slices, None, Ellipsis, integer
arrays (advanced indexing) and bool masks. With integer arrays an element can
be read more than once (``x[[0, 0, 1]]``); its gradient is then the sum of the
gradients of every read.
"""

import math

import numpy as np

from ..graph import Op
from ..tensor import Tensor
from .shape import permute, reshape

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
    gradient. Reading a tensor slice by slice, x[t] for every t, makes one
    full-size gradient per slice, as in PyTorch: ``unbind`` (one op, one
    gradient) is the way to take every slice.
    """

    name = "getitem"
    view = True
    saves = {"x": "arrays", "arrays": ""}

    def forward(self, x, *arrays, index=None):
        return x[join_index(index, arrays)]

    def backward(self, grad, z, x, *arrays, index=None):
        index = join_index(index, arrays)
        if isinstance(grad, Tensor):  # a recorded backward pass: a gradient built with ops
            zeros = Tensor._wrap(np.zeros(x.shape, grad.dtype))
            dx = numpy_index_put(zeros, index, grad, accumulate=True)
        else:
            dx = np.zeros(x.shape, grad.dtype)
            add_at(dx, index, grad)
        return (dx, *[None] * len(arrays))

    def jvp(self, tangents, z, x, *arrays, index=None):
        return numpy_getitem(tangents[0], join_index(index, arrays))

    def __call__(self, x, index):
        template, arrays = split_index(index)
        out = self.apply((x, *arrays), {"index": template})
        moved = torch_placement(template, arrays, np.ndim(x))
        return out if moved is None else permute(out, moved)


def torch_placement(template, arrays, ndim):
    """The permutation that takes numpy's result of ``x[index]`` to PyTorch's, or None where they
    agree (``template`` and ``arrays`` from ``split_index``; x has ``ndim`` axes).

    The rule both follow: the index arrays are broadcast together and give their
    axes once; when the arrays stand side by side in the index, those axes go
    where the arrays are, and otherwise they go first. The two differ in what
    counts as an index array. numpy counts an int as one; PyTorch applies an int
    as basic indexing (as ``x[1]`` before the rest), so ints between arrays do
    not keep them apart, and an int elsewhere does not draw their axes to the
    front (``_placements_differ``). For x of shape (2, 3, 4, 5) and idx of shape
    (1, 2), ``x[1, :, idx, 0:2]`` has shape (3, 1, 2, 2) in PyTorch, (1, 2, 3, 2)
    in numpy: numpy puts the arrays' axes first, and PyTorch after the axes of
    the index entries before the first array.
    """
    kinds = _kinds(template)
    if not _placements_differ(kinds):
        return None
    rest = _axes_taken_whole(kinds, arrays, ndim)
    first = kinds.index("array")
    before = sum(rest if k == "..." else k in ("slice", "None") for k in kinds[:first])
    n = max(1 if _is_mask(a) else np.ndim(a) for a in arrays)  # the arrays' axes
    out_ndim = n + rest + sum(k in ("slice", "None") for k in kinds)
    basic = list(range(n, out_ndim))
    return tuple(basic[:before] + list(range(n)) + basic[before:])


def _placements_differ(kinds):
    """True when numpy and PyTorch place the index arrays' axes differently, for an index of
    these ``kinds`` (``_kind``). That is when ints are among the advanced entries and stand
    apart from the rest of them (numpy sees them not side by side, and puts the axes first),
    while only ints stand between the first and the last array (PyTorch sees the arrays
    side by side, and keeps the axes where the arrays are)."""
    at = [i for i, k in enumerate(kinds) if k == "array"]
    advanced = [i for i, k in enumerate(kinds) if k in ("array", "int")]
    if not at or len(advanced) == len(at):
        return False
    numpy_together = advanced[-1] - advanced[0] + 1 == len(advanced)
    torch_together = all(k in ("array", "int") for k in kinds[at[0] : at[-1] + 1])
    return torch_together and not numpy_together


def _axes_taken_whole(kinds, arrays, ndim):
    """How many of x's ``ndim`` axes no entry of the index reads, so that an Ellipsis, or the
    end of the index, takes them whole. An int, a slice or an integer array reads one axis;
    a bool mask reads as many as it has (and gives one)."""
    masks = [a for a in arrays if _is_mask(a)]
    read = sum(k in ("int", "slice") for k in kinds) + len(arrays) + sum(m.ndim - 1 for m in masks)
    return ndim - read


def numpy_values(index, ndim, values):
    """``values`` for ``x[index] = values``, laid out as PyTorch places the index arrays' axes
    (``torch_placement``), laid out as numpy places them, for ``index_put``."""
    template, arrays = split_index(index)
    moved = torch_placement(template, arrays, ndim)
    if moved is None:
        return values
    lead = (1,) * (len(moved) - np.ndim(values))  # broadcasting adds leading axes; make them
    return permute(
        reshape(values, lead + np.shape(values)), tuple(int(a) for a in np.argsort(moved))
    )


def _is_mask(a):
    return (a.dtype if isinstance(a, Tensor) else np.asarray(a).dtype).kind == "b"


def _kinds(template):
    """The kind of each entry of ``template`` (a tuple, or one entry), as ``_kind`` names it."""
    parts = template if isinstance(template, tuple) else (template,)
    return [_kind(p) for p in parts]


def _kind(part):
    if part is ARRAY:
        return "array"
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool):
        return "int"
    return {type(None): "None", type(Ellipsis): "...", slice: "slice"}.get(type(part), "other")


def check_unique(shape, index, name):
    """Refuse an index that names a position twice: only one of the values written there would
    be kept, and which one has no gradient that is right."""
    if not is_basic_index(index):
        positions = np.arange(math.prod(shape)).reshape(shape)[index]
        if np.unique(positions).size != positions.size:
            raise ValueError(
                f"{name}: the index names a position more than once; "
                "use accumulate=True to add the values up"
            )


class IndexPut(Op):
    """z = x with z[index] = values (or z[index] += values with ``accumulate=True``).

    ∂L/∂x = ∂L/∂z, with zeros at ``index`` unless accumulating.
    ∂L/∂values = (∂L/∂z)[index], summed back over broadcast axes of ``values``.
    Without ``accumulate`` an index must not name a position twice: only one of
    the values would be kept, and which one has no gradient that is right.
    The array parts of the index are inputs, as for ``getitem``.

    ``zero=False`` passes ∂L/∂z on to x without zeroing the written positions:
    right where x's values there depended on nothing that requires grad, as
    in a buffer written step by step (``buf[t] = h``, minigrad/inplace.py).
    """

    name = "index_put"
    saves = {"x": "arrays", "values": "arrays", "arrays": ""}

    def forward(self, x, values, *arrays, index=None, accumulate=False, zero=True):
        index = join_index(index, arrays)
        out = x.copy()
        if accumulate:
            add_at(out, index, values)
            return out
        check_unique(x.shape, index, "index_put")
        out[index] = values
        return out

    def backward(self, grad, z, x, values, *arrays, index=None, accumulate=False, zero=True):
        index = join_index(index, arrays)
        dx = grad if accumulate or not zero else numpy_index_put(grad, index, 0)
        return (dx, numpy_getitem(grad, index), *[None] * len(arrays))

    def jvp(self, tangents, z, x, values, *arrays, index=None, accumulate=False, zero=True):
        tx, tv = tangents[:2]
        tx = np.zeros(x.shape, x.dtype) if tx is None else tx
        tv = np.zeros(values.shape, values.dtype) if tv is None else tv
        return numpy_index_put(tx, join_index(index, arrays), tv, accumulate)

    def __call__(self, x, index, values, accumulate=False):
        """As ``torch.index_put(x, index, values, accumulate)``, with PyTorch's placement of the
        index arrays' axes (``torch_placement``)."""
        values = numpy_values(index, np.ndim(x), values)
        template, arrays = split_index(index)
        return self.apply((x, values, *arrays), {"index": template, "accumulate": accumulate})


def numpy_getitem(x, index):
    """x[index] with numpy's placement of the index arrays' axes, for the rules."""
    template, arrays = split_index(index)
    return getitem.apply((x, *arrays), {"index": template})


def numpy_index_put(x, index, values, accumulate=False):
    """index_put with values laid out as numpy places the index arrays' axes, for the rules."""
    template, arrays = split_index(index)
    return index_put.apply((x, values, *arrays), {"index": template, "accumulate": accumulate})


getitem = GetItem()
index_put = IndexPut()
