"""What a Tensor shares with a numpy array, and nothing of the graph.

* the dtype rules: how data becomes an array, and which dtypes can require grad;
* ``ArrayMethods``, which ``Tensor`` inherits: shape and dtype, conversions to
  Python and numpy (``np.asarray(t)``, and what numpy's functions do with a
  Tensor), ``len`` and iteration, comparisons (bool tensors, outside the
  graph), ``argmax``, printing and ``format``;
* ``named_error``: numpy's errors, named after the op or method that met them.
  numpy refuses a Tensor (``Tensor.__array_ufunc__ = None``, so that no numpy
  function drops the graph silently); that refusal also says what to use.

The autodiff side of the Tensor is in ``tensor.py``.
"""

import numpy as np

from .switches import mode

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
DEFAULT_DTYPE = np.dtype(np.float64)


def check_can_require_grad(dtype, where, flag=True):
    """``flag``, checked as ``requires_grad``: True or False, and True only for a float dtype."""
    if check_requires_grad(flag, where) and dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{where}: only float32 and float64 tensors can require gradients, got dtype {dtype}"
        )
    return bool(flag)


def check_requires_grad(flag, where):
    """``requires_grad`` must be True or False (a numpy bool too), as PyTorch requires: "no", 1
    or None would otherwise be taken for their truth values. Returns it as a bool."""
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(
            f"{where}: requires_grad must be True or False, got {type(flag).__name__} {flag!r}"
        )
    return bool(flag)


def to_array(data, dtype, where):
    """Copy ``data`` into a fresh ndarray; floats default to float64, ints to int64."""
    if dtype is not None:
        dtype = np.dtype(dtype)
    try:
        array = np.array(data, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{where}: cannot make a tensor from {type(data).__name__}: {error}"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: unsupported dtype {array.dtype}; expected bool, integer or floating data"
        )
    return array


# numpy's words when a ufunc (np.cos, np.exp, ...) is given a Tensor
TENSOR_REFUSED = "does not support ufuncs (__array_ufunc__=None)"
USE_MINIGRAD_OPS = (
    ". numpy's functions take arrays, not Tensors, and a backward rule gets Tensors when the "
    "backward pass is recorded (create_graph=True) so that it can be differentiated: write it "
    "with minigrad's ops and operators, which take both, e.g. minigrad.cos(x) for np.cos(x)"
)


def named_error(error, name, detail=""):
    """numpy's ValueError, IndexError or TypeError, its message starting with ``name:``. (numpy
    raises subclasses whose constructors differ, so the plain builtin class is rebuilt.) Where
    numpy refused a Tensor, the message says to use minigrad's ops instead."""
    message = str(error) if str(error).startswith(f"{name}:") else f"{name}: {error}"
    if TENSOR_REFUSED in message:
        detail += USE_MINIGRAD_OPS
    kind = next(k for k in (ValueError, IndexError, TypeError) if isinstance(error, k))
    return kind(message + detail)


def values_of(t, what):
    """``t.data``, for Python to use. While ``minigrad.compile`` traces a function, that would
    freeze the values into the plan, so the trace refuses it, naming ``what`` read them."""
    if mode.trace is not None:
        mode.trace.refuse_read(t, what)
    return t.data


# numpy's functions that would call the Tensor's method of the same name with numpy's own
# arguments (np.sum(t) calls t.sum(axis=None, dtype=None, out=None)), and that method's name
NUMPY_REDUCTIONS = {
    np.sum: "sum", np.mean: "mean", np.std: "std", np.var: "var", np.prod: "prod",
    np.max: "max", np.amax: "max", np.min: "min", np.amin: "min", np.any: "any", np.all: "all",
}  # fmt: skip


class ArrayMethods:
    """The numpy-style part of a Tensor: every method reads ``self.data`` and nothing else of
    the Tensor but ``requires_grad`` and ``grad_fn``."""

    __slots__ = ()

    # numpy must not treat a Tensor as an array: `ndarray * tensor` then falls through to
    # Tensor.__rmul__ and keeps the graph instead of silently dropping it, and a numpy function
    # given a Tensor raises (a TypeError that ``named_error`` completes with what to use).
    __array_ufunc__ = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    def dim(self):
        return self.data.ndim

    def size(self, dim=None):
        """The shape, or the length of axis ``dim`` (PyTorch's ``size``)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the values of a tensor that needs no gradient, as ``numpy()``
        gives them. For one that requires grad it is a TypeError, as in PyTorch: numpy would
        drop its graph without a word."""
        values = values_of(self, "np.asarray")
        if self.requires_grad:
            raise TypeError(
                "np.asarray: the tensor requires grad, and numpy would drop its graph; "
                "use t.detach() (or t.detach().numpy())"
            )
        return np.array(values, dtype=dtype, copy=True) if copy else np.asarray(values, dtype)

    def __array_function__(self, func, types, args, kwargs):
        """What numpy's functions do with a Tensor. Its reductions (``np.sum``, ``np.mean``,
        ``np.max``, ...) are a TypeError saying what to write, as they are on a PyTorch tensor
        (numpy would call ``t.sum`` with numpy's arguments); any other function runs on the
        values, as on ``np.asarray(t)`` (a TypeError naming ``.detach()`` if it requires grad).
        """
        if func in NUMPY_REDUCTIONS:
            name = func.__name__
            raise TypeError(
                f"np.{name}: numpy's reductions do not take a Tensor, as in PyTorch; use the "
                f"tensor's own (t.{NUMPY_REDUCTIONS[func]}()) to keep the graph, or "
                f"np.{name}(t.detach().numpy()) for the numbers"
            )
        return func._implementation(*args, **kwargs)

    def numpy(self):
        """The underlying ndarray (shared, not copied), as ``torch.Tensor.numpy``."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: cannot convert a tensor that requires grad; use .detach().numpy()"
            )
        return values_of(self, "numpy()")

    def item(self):
        """The single value as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python number, "
                f"got shape {self.shape}"
            )
        return values_of(self, "item() (or float(), int())").item()

    def tolist(self):
        return values_of(self, "tolist()").tolist()

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(values_of(self, "bool() (an if or while on a tensor)"))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self}")
        return int(values_of(self, "an index (__index__)").item())

    def __format__(self, spec):
        """``f"{t:.2f}"``, as PyTorch: a 0-d tensor formats as its number, ``t.item()`` (so
        ``f"{t}"`` is the number too); any other tensor only with an empty spec, as
        ``str(t)``, and a spec is a TypeError."""
        if self.data.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(
                f"format: a format spec such as {spec!r} applies to a 0-d tensor (one number), "
                f"got shape {self.shape}; format its elements, e.g. from t.tolist()"
            )
        return str(self)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype not in (DEFAULT_DTYPE, np.dtype(np.int64), np.dtype(bool)):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"
