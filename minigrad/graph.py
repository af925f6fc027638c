"""The graph: how calling an op records what backward will need.

Calling an ``Op`` runs its numpy ``forward``. When grad mode is on and some
input requires grad, the result gets a ``Node``: the op, its input Tensors,
its parameters and its output *array*. A Node never holds its output Tensor,
so the graph has no reference cycles and is freed as soon as the last tensor
that uses it is dropped. ``minigrad.engine`` walks these nodes backward.
"""

import inspect
import operator
import weakref

import numpy as np

from . import grad_mode
from .errors import with_op_name
from .tensor import Tensor

_SWITCHES = grad_mode.switches
_REGISTRY = {}
_wrap = Tensor._wrap
_DATA = operator.attrgetter("data")
_REQUIRES_GRAD = operator.attrgetter("_requires_grad")


class Op:
    """One differentiable operation: a numpy forward and its vector-Jacobian product.

    Subclass it and write, next to each other:

    ``forward(self, *arrays, **params)``
        numpy in, numpy out. Arguments without a default are the tensor
        inputs (they arrive as ndarrays); arguments with a default are
        non-differentiable parameters such as ``axis`` or ``shape``.

    ``backward(self, grad, out, *inputs, **params)``
        ``grad`` is dL/d(out). Return dL/d(input) for each input (a tuple when
        there are several; None where there is no gradient). Write it with
        operators (``+ * @ .T .reshape .sum``) and minigrad functions
        (``sigmoid``, ``where``, ...): the engine calls it with Tensors when
        the backward pass is itself recorded (``create_graph=True``), so the
        gradient can be differentiated again, and with the plain numpy arrays
        otherwise, so it costs what the numpy would. A returned gradient may
        keep the broadcast shape of ``out``: the engine sums it back to the
        input. To compute a gradient only if its input needs one, return a
        function of no arguments in its place.

    The class docstring states the math. Making an instance registers the op
    under ``name`` (the class name in lower case by default), and the instance
    is the function users call: ``exp = Exp()``, then ``exp(x)``. Called with
    no Tensor at all (numbers and numpy arrays only), an op is just its numpy
    forward and returns an ndarray: without a Tensor there is no graph.
    """

    name = None
    view = False  # forward may return a view of input 0; if it does, they share a version counter

    def __init__(self):
        if self.name is None:
            self.name = type(self).__name__.lower()
        arguments = list(inspect.signature(self.forward).parameters.values())
        self._variadic = any(a.kind is a.VAR_POSITIONAL for a in arguments)
        self._n_inputs = sum(
            a.kind is a.POSITIONAL_OR_KEYWORD and a.default is a.empty for a in arguments
        )
        self._defaults = {a.name: a.default for a in arguments if a.default is not a.empty}
        self._param_names = tuple(self._defaults)
        register(self)

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad, out, *inputs, **params):
        raise NotImplementedError

    def __call__(self, *args, **params):
        n = len(args) if self._variadic else self._n_inputs
        if not params:  # the common calls: every parameter defaulted, or every one given in order
            if len(args) == n:
                return self.apply(args, self._defaults)
            if len(args) == n + len(self._param_names):
                return self.apply(args[:n], dict(zip(self._param_names, args[n:])))
        if len(args) < n:
            raise TypeError(f"{self.name}: expected {n} tensor inputs, got {len(args)}")
        return self.apply(args[:n], self._bind(args[n:], params))

    def _bind(self, extra, given):
        names = self._param_names
        if len(extra) > len(names):
            raise TypeError(
                f"{self.name}: takes {self._n_inputs} tensor inputs and the parameters "
                f"{names}, got {self._n_inputs + len(extra)} positional arguments"
            )
        params = dict(self._defaults)
        params.update(zip(names, extra))
        for key in given:
            if key not in params:
                raise TypeError(f"{self.name}: unexpected argument {key!r}; parameters are {names}")
        params.update(given)
        return params

    def apply(self, inputs, params):
        """Run forward on ``inputs`` (Tensors or numbers) and record a Node if needed."""
        tensors = inputs
        for x in inputs:  # a loop here, not a helper: this runs for every op call
            if not isinstance(x, Tensor):
                if not _any_tensor(inputs):
                    return self.run_forward(_as_arrays(inputs), params)  # arrays in, array out
                tensors = _as_tensors(inputs, self.name)
                break
        data = self.run_forward(list(map(_DATA, tensors)), params)
        out = _wrap(data)
        if self.view and np.may_share_memory(data, tensors[0].data):
            out._version = tensors[0]._version  # a view: in-place changes reach both
        if _SWITCHES.grad_enabled:
            for t in tensors:
                if t._requires_grad:
                    out._requires_grad = True
                    out.grad_fn = Node(self, tensors, params, out)
                    break
        if _SWITCHES.anomaly_enabled:
            grad_mode.check_finite(data, f"forward of '{self.name}'", out.grad_fn)
        return out

    def run_forward(self, arrays, params):
        """forward(*arrays, **params) as an ndarray, with errors that name the op."""
        try:
            data = self.forward(*arrays, **params) if params else self.forward(*arrays)
        except (ValueError, TypeError, IndexError) as error:
            raise with_op_name(error, self.name) from error
        return data if type(data) is np.ndarray else np.asarray(data)

    def __repr__(self):
        return f"<op {self.name}>"


def _any_tensor(inputs):
    for x in inputs:
        if isinstance(x, Tensor):
            return True
    return False


def _as_arrays(inputs):
    """Inputs with lists and tuples made arrays (forward rules may read .dtype or .shape)."""
    return [np.asarray(x) if isinstance(x, (list, tuple)) else x for x in inputs]


def _as_tensors(inputs, name):
    """Inputs as Tensors; a number takes the dtype of the first float tensor input."""
    like = next(
        (x.data.dtype for x in inputs if isinstance(x, Tensor) and x.data.dtype.kind == "f"), None
    )
    return tuple(x if isinstance(x, Tensor) else _input_tensor(x, like, name) for x in inputs)


_WEAK = (int, float, np.integer, np.floating)


def _input_tensor(value, float_dtype, name):
    """A number, list or array given as an op input, as a constant Tensor. A number (Python's
    or a numpy scalar, not a bool) takes the float dtype of the other inputs, as in PyTorch."""
    if isinstance(value, _WEAK) and not isinstance(value, bool) and float_dtype is not None:
        return Tensor._wrap(np.asarray(value, dtype=float_dtype))
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: cannot use a {type(value).__name__} as a tensor input")
    return Tensor._wrap(array)


def register(op):
    """Add ``op`` to the registry (done by ``Op.__init__``)."""
    if op.name in _REGISTRY:
        raise ValueError(f"register: an op named {op.name!r} is already registered")
    _REGISTRY[op.name] = op


def unregister(name):
    """Remove an op from the registry (for ops defined in tests or notebooks)."""
    del _REGISTRY[name]


def registry():
    """Every registered op, by name."""
    return dict(_REGISTRY)


class Node:
    """A recorded call of an op: everything its backward rule needs, nothing that points back.

    It keeps the output's *array* and *version counter*, not the output
    Tensor. A version counter holds the epoch (the running count of in-place
    changes anywhere) of its tensor's last in-place change, and ``epoch`` is
    that count when the op ran: an input or output whose counter is newer was
    changed since, and backward refuses it. ``needs_grad`` remembers which
    inputs required grad.
    """

    __slots__ = (
        "op",
        "inputs",
        "params",
        "out",
        "out_version",
        "needs_grad",
        "epoch",
        "retained",
        "created_at",
    )

    def __init__(self, op, inputs, params, out):
        self.op = op
        self.inputs = inputs
        self.params = params
        self.out = out.data
        self.out_version = out._version
        self.needs_grad = list(map(_REQUIRES_GRAD, inputs))
        self.epoch = _SWITCHES.inplace_epoch
        self.retained = None
        self.created_at = grad_mode.user_code_location() if _SWITCHES.anomaly_enabled else None

    @property
    def name(self):
        return self.op.name

    def retain(self, tensor):
        """Make backward() store this node's output gradient on ``tensor.grad``."""
        self.retained = weakref.ref(tensor)

    def check_versions(self):
        """Raise if an input or the output was changed in place after the op ran."""
        if self.epoch == _SWITCHES.inplace_epoch:
            return
        counters = (*(t._version for t in self.inputs), self.out_version)
        for i, counter in enumerate(counters):
            if counter[0] > self.epoch:
                what = "its output" if i == len(self.inputs) else f"input {i}"
                raise RuntimeError(
                    f"backward of '{self.name}': {what} was modified in place after the op ran, "
                    "so its gradient would be wrong. Use an out-of-place op, or recompute "
                    "the forward pass."
                )

    def __repr__(self):
        return f"<{self.op.name}>"


class Scatter:
    """A gradient that is zero except at ``index``: zeros(shape) with ``values`` added there.

    Indexing ops return it from backward. When a tensor is read slice by slice
    (``x[t]`` for every time step t), the engine adds every slice into one
    buffer in place, which costs the size of the slices rather than one
    full-size array of zeros per slice. Repeated indices add up.
    """

    __slots__ = ("shape", "index", "values")

    def __init__(self, shape, index, values):
        self.shape = shape
        self.index = index
        self.values = values

    def add_into(self, array):
        """array[index] += values, in place, accumulating repeated indices."""
        values = self.values
        _OPS.indexing.add_at(
            array, self.index, values.data if isinstance(values, Tensor) else values
        )

    def dense(self, dtype):
        """The same gradient as a dense Tensor built with differentiable ops."""
        zeros = Tensor._wrap(np.zeros(self.shape, dtype=dtype))
        return _OPS.index_put(zeros, self.index, self.values, accumulate=True)


class _LazyOps:
    """minigrad.ops, which is built on this module and so cannot be imported at its top.
    The first use replaces this stand-in with the module itself."""

    def __getattr__(self, name):
        global _OPS
        from . import ops

        _OPS = ops
        return getattr(ops, name)


_OPS = _LazyOps()
