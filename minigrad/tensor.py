"""The Tensor: a numpy array plus what reverse-mode autodiff needs.

A Tensor holds

* ``data``: the numpy ndarray with the values;
* ``requires_grad``: whether gradients should flow to it;
* ``grad_fn``: the graph ``Node`` that produced it (None for leaves);
* ``grad``: after ``backward()``, the gradient of the output with respect to it.

Every math method is one line that calls an op from ``minigrad.ops``, where
the op's forward and backward are defined side by side. Calling an op records
the graph (``minigrad.graph``); ``backward()`` walks it (``minigrad.engine``).

A tensor made by an op with several outputs (``unbind``, ``split``) is output
number ``output_nr`` of its ``grad_fn``.

In-place changes (``+=``, ``add_``, ``x[i] = v``, ...) follow PyTorch; they
are the methods ``InplaceMethods`` adds, in ``minigrad/inplace.py``, to be
read after the core.
"""

import weakref

import numpy as np

from .array_methods import ArrayMethods, check_can_require_grad, to_array, values_of
from .inplace import InplaceMethods, VersionCounter
from .switches import mode


class Tensor(ArrayMethods, InplaceMethods):
    """A numpy-backed array that records the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data``. Python
    floats become float64 (the default dtype), Python ints int64, and numpy
    arrays keep their dtype unless ``dtype`` is given.
    """

    __slots__ = ("data", "_grad", "_requires_grad", "grad_fn", "output_nr", "_version_counter",
                 "__weakref__")  # fmt: skip

    def __init__(self, data, requires_grad=False, dtype=None, copy=True):
        data = values_of(data, "tensor(t), a copy") if isinstance(data, Tensor) else data
        self.data = to_array(data, dtype, type(self).__name__) if copy else data
        self._grad = None
        self.grad_fn = None
        self.output_nr = 0
        self._version_counter = VersionCounter()  # counts in-place changes (inplace.py)
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array):
        """A Tensor around ``array`` itself, not copied or checked (for arrays minigrad made)."""
        return cls(array, copy=False)

    # ---- autograd attributes ---------------------------------------------------------------

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag is not False:  # (False, every new op output's, needs no check)
            flag = check_can_require_grad(self.data.dtype, "requires_grad", flag)
        if not flag and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad: cannot turn off gradients of a non-leaf tensor; use .detach()"
            )
        self._requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The accumulated gradient (a Tensor), or None before any backward()."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: expected a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape:
                raise ValueError(
                    f"grad: shape {value.shape} does not match the tensor's shape {self.shape}"
                )
        self._grad = value

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (inputs and parameters)."""
        return self.grad_fn is None

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward(), as leaves do."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        if self.grad_fn is not None:  # backward() then stores the node's gradient here too
            self.grad_fn.retained = self.grad_fn.retained or {}
            self.grad_fn.retained[self.output_nr] = weakref.ref(self)

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Backpropagate from this tensor, adding d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is the cotangent dL/d(self); it may be omitted only for a
        scalar. Gradients **accumulate**: a second backward() adds to ``.grad``,
        as in PyTorch, so call ``zero_grad()`` between steps. minigrad keeps the
        graph until the tensors are dropped, so ``retain_graph`` is accepted for
        PyTorch compatibility and has no effect. With ``create_graph=True`` the
        backward pass is itself recorded, so gradients can be differentiated again.
        """
        return engine.backward([self], None if gradient is None else [gradient], create_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.
        Returns a handle whose ``remove()`` takes the hook away (hooks.py)."""
        return hooks.register_tensor_hook(self, hook)

    def detach(self):
        """A tensor sharing this data (and its version) but cut from the graph."""
        out = Tensor._wrap(self.data)._share_memory_with(self)
        if mode.trace:  # a compiled function replays it as a step of its own
            mode.trace.record(ops.DETACH, [self], {}, out.data, [out])
        return out

    # ---- comparisons and logic: bool (or integer) tensors, never differentiable ------------

    def __eq__(self, other):
        return ops.compare(np.equal, self, other)

    def __ne__(self, other):
        return ops.compare(np.not_equal, self, other)

    def __lt__(self, other):
        return ops.compare(np.less, self, other)

    def __le__(self, other):
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other):
        return ops.compare(np.greater, self, other)

    def __ge__(self, other):
        return ops.compare(np.greater_equal, self, other)

    __hash__ = object.__hash__

    # bitwise on integers, logical on bools (minigrad/ops/rounding.py)

    def __and__(self, other):
        return ops.bitwise("&", self, other)

    def __rand__(self, other):
        return ops.bitwise("&", other, self)

    def __or__(self, other):
        return ops.bitwise("|", self, other)

    def __ror__(self, other):
        return ops.bitwise("|", other, self)

    def __xor__(self, other):
        return ops.bitwise("^", self, other)

    def __rxor__(self, other):
        return ops.bitwise("^", other, self)

    def __invert__(self):
        return ops.bitwise("~", self)

    def isnan(self):
        return ops.isnan(self)

    def isinf(self):
        return ops.isinf(self)

    def isfinite(self):
        return ops.isfinite(self)

    def any(self, *args, **kwargs):
        return ops.any(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return ops.all(self, *args, **kwargs)

    # ---- dtype -----------------------------------------------------------------------------

    def to(self, dtype):
        """This tensor cast to ``dtype`` (differentiable between float dtypes)."""
        return ops.to(self, dtype)

    def double(self):
        return ops.to(self, np.float64)

    def float(self):
        return ops.to(self, np.float32)

    # ---- arithmetic: each line is one op from minigrad.ops ---------------------------------

    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def __floordiv__(self, other):
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return ops.floor_divide(other, self)

    def __mod__(self, other):
        return ops.remainder(self, other)

    def __rmod__(self, other):
        return ops.remainder(other, self)

    def __round__(self, ndigits=None):
        """Python's ``round(t)`` and ``round(t, n)``: a tensor of the same dtype, as numpy's."""
        return ops.round(self, ndigits or 0)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def index_put(self, index, values, accumulate=False):
        """A copy with ``values`` written (or added) at ``index``, as ``torch.Tensor.index_put``."""
        return ops.index_put(self, index, values, accumulate)

    def neg(self):
        return ops.neg(self)

    def floor_divide(self, other):
        return ops.floor_divide(self, other)

    def remainder(self, other):
        return ops.remainder(self, other)

    def round(self, decimals=0):
        return ops.round(self, decimals)

    def clone(self):
        return ops.clone(self)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def sqrt(self):
        return ops.sqrt(self)

    def log1p(self):
        return ops.log1p(self)

    def expm1(self):
        return ops.expm1(self)

    def erf(self):
        return ops.erf(self)

    def abs(self):
        return ops.abs(self)

    def sign(self):
        return ops.sign(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def relu(self):
        return ops.relu(self)

    def maximum(self, other):
        return ops.maximum(self, other)

    def minimum(self, other):
        return ops.minimum(self, other)

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other`` (as ``torch.Tensor.where``)."""
        return ops.where(condition, self, other)

    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return ops.clip(self, min, max)

    clamp = clip

    def matmul(self, other):
        return ops.matmul(self, other)

    def addmm(self, mat1, mat2):
        """self + mat1 @ mat2, as ``torch.Tensor.addmm``."""
        return ops.addmm(self, mat1, mat2)

    # ---- reductions: (axis=None, keepdims=False), or PyTorch's dim= and keepdim= ----------

    def sum(self, *args, **kwargs):
        return ops.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return ops.mean(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        """The maximum values only, as numpy's ``max`` (``argmax`` gives the indices)."""
        return ops.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return ops.min(self, *args, **kwargs)

    def logsumexp(self, *args, **kwargs):
        return ops.logsumexp(self, *args, **kwargs)

    def log_softmax(self, *args, **kwargs):
        return ops.log_softmax(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return ops.prod(self, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        return ops.cumsum(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        """Variance, as ``torch.Tensor.var`` (axis, unbiased, keepdims; correction=)."""
        return ops.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return ops.std(self, *args, **kwargs)

    def norm(self, *args, **kwargs):
        """The p-norm, as ``torch.Tensor.norm`` (p="fro", axis, keepdims)."""
        return ops.norm(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return ops.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return ops.argmin(self, *args, **kwargs)

    # ---- shape -----------------------------------------------------------------------------

    def reshape(self, *shape):
        return ops.reshape(self, ops.shape.shape_arg(shape))

    def view(self, *shape):
        """A reshape that must share memory, as ``torch.Tensor.view``: it raises where the
        data's layout would force a copy (a transposed tensor, say); ``reshape`` copies then."""
        return ops.shape.view(self, ops.shape.shape_arg(shape))

    def permute(self, *axes):
        return ops.permute(self, ops.shape.shape_arg(axes))

    def transpose(self, dim0, dim1):
        """Swap axes ``dim0`` and ``dim1``, as ``torch.transpose``."""
        return ops.transpose(self, dim0, dim1)

    @property
    def T(self):
        """All axes reversed, as numpy's ``.T``."""
        return ops.permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        """The last two axes swapped (a batch of matrices transposed)."""
        return ops.transpose(self, -2, -1)

    def expand(self, *shape):
        """Broadcast to ``shape``; -1 keeps an axis as it is (PyTorch's ``expand``)."""
        return ops.shape.expand(self, ops.shape.shape_arg(shape))

    def broadcast_to(self, shape):
        return ops.broadcast_to(self, tuple(shape))

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.flatten(self, start_dim, end_dim)

    def squeeze(self, *args, **kwargs):
        """Drop axes of length 1; with ``axis``, only that one (kept if its length is not 1)."""
        return ops.squeeze(self, *args, **kwargs)

    def unsqueeze(self, *args, **kwargs):
        """Insert an axis of length 1 at position ``axis``."""
        return ops.unsqueeze(self, *args, **kwargs)

    def flip(self, *args, **kwargs):
        return ops.flip(self, *args, **kwargs)

    def roll(self, *args, **kwargs):
        return ops.roll(self, *args, **kwargs)

    def tril(self, diagonal=0):
        return ops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return ops.triu(self, diagonal)

    def gather(self, *args, **kwargs):
        """Values picked along an axis by an index tensor, as ``torch.Tensor.gather``."""
        return ops.gather(self, *args, **kwargs)

    def masked_fill(self, mask, value):
        return ops.masked_fill(self, mask, value)

    def split(self, *args, **kwargs):
        return ops.split(self, *args, **kwargs)

    def unbind(self, *args, **kwargs):
        return ops.unbind(self, *args, **kwargs)


def tensor(data, requires_grad=False, dtype=None):
    """Make a Tensor from a list, number, numpy array or Tensor, copying the data."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# The one place the import cycle is broken: the graph, the engine and the ops are built on
# Tensor, and Tensor's methods call them, so they are imported once Tensor exists.
from . import engine, hooks, ops  # noqa: E402
