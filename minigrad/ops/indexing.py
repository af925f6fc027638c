"""Indexing ops: ``x[index]`` (getitem) and its adjoint, ``index_put``.

``index`` is anything numpy accepts: ints, slices, None, Ellipsis, integer
arrays (advanced indexing) and bool masks. With integer arrays an element can
be read more than once (``x[[0, 0, 1]]``); its gradient is then the sum of the
gradients of every read.
"""

import numpy as np

from ..graph import Op
from ..scatter import Scatter, add_at, is_basic_index
from ..tensor import Tensor


def own_index(index):
    """``index`` with every tensor, list or array in it copied to an array of its own: the graph
    keeps the index, so changing the caller's index later must not move a gradient."""
    if isinstance(index, tuple):
        return tuple(own_index(part) for part in index)
    if isinstance(index, Tensor):
        return index.data.copy()
    if isinstance(index, (list, np.ndarray)):
        return np.array(index)
    return index


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
