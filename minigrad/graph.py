"""The graph: how calling an op records what backward will need.

Calling an ``Op`` runs its numpy ``forward``. When grad mode is on and some
input requires grad, the result gets a ``Node``: the op, its inputs, its
parameters, its output *array*, and for each input the place its gradient
goes. A Node never holds its output Tensor, so the graph has no reference
cycles and is freed as soon as the last tensor that uses it is dropped.
``Node.vjp`` runs the op's backward rule; ``minigrad.engine`` walks the nodes.
"""

import inspect
import traceback
import weakref
from pathlib import Path

import numpy as np

from .errors import with_op_name
from .scatter import dense
from .tensor import Tensor


class _Mode:
    """The process-wide switches (``minigrad.no_grad`` and ``detect_anomaly`` set them)."""

    grad_enabled = True  # ops record the graph
    anomaly_enabled = False  # every forward output and every gradient is checked for NaN and inf


mode = _Mode()
_REGISTRY = {}


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
        otherwise. A returned gradient may keep the broadcast shape of ``out``:
        the engine sums it back to the input. To compute a gradient only if its
        input needs one, return a function of no arguments in its place.

    A value changed in place after the op ran reaches the rule as an
    ``Overwritten`` stand-in, which raises if the rule reads it (its shape and
    dtype can still be read). So overwriting an input is fine exactly when the
    rule does not read it, as for ``add`` or ``sum``.

    The class docstring states the math. Making an instance registers the op
    under ``name`` (the class name in lower case by default), and the instance
    is the function users call: ``exp = Exp()``, then ``exp(x)``. Called with
    no Tensor at all (numbers and numpy arrays only), an op is just its numpy
    forward and returns an ndarray: without a Tensor there is no graph.
    """

    name = None
    view = False  # forward may return a view of input 0; if it does, they share a version counter

    def __init__(self):
        self.name = self.name or type(self).__name__.lower()
        arguments = inspect.signature(self.forward).parameters.values()
        variadic = any(a.kind is a.VAR_POSITIONAL for a in arguments)
        required = [
            a for a in arguments if a.kind is a.POSITIONAL_OR_KEYWORD and a.default is a.empty
        ]
        self.n_inputs = None if variadic else len(required)
        self.defaults = {a.name: a.default for a in arguments if a.default is not a.empty}
        self.param_names = tuple(self.defaults)
        register(self)

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad, out, *inputs, **params):
        raise NotImplementedError

    def __call__(self, *args, **params):
        n = len(args) if self.n_inputs is None else self.n_inputs
        names = self.param_names
        unknown = sorted(params.keys() - self.defaults.keys())
        if len(args) < n:
            raise TypeError(f"{self.name}: expected {n} tensor inputs, got {len(args)}")
        if len(args) > n + len(names):
            raise TypeError(
                f"{self.name}: takes {n} tensor inputs and the parameters {names}, "
                f"got {len(args)} positional arguments"
            )
        if unknown:
            raise TypeError(
                f"{self.name}: unexpected argument {unknown[0]!r}; parameters are {names}"
            )
        return self.apply(args[:n], {**self.defaults, **dict(zip(names, args[n:])), **params})

    def apply(self, inputs, params):
        """Run forward on ``inputs`` (Tensors, numbers or arrays) and record a Node if needed."""
        if not any(isinstance(x, Tensor) for x in inputs):  # arrays in, array out: no graph
            return self.run_forward([_as_array(x) for x in inputs], params)
        tensors = _as_tensors(inputs, self.name)
        out = Tensor._wrap(self.run_forward([t.data for t in tensors], params))
        if self.view and np.may_share_memory(out.data, tensors[0].data):
            out._share_memory_with(tensors[0])
        if mode.grad_enabled and any(t._requires_grad for t in tensors):
            Node(self, tensors, params, out)
        if mode.anomaly_enabled:
            check_finite(out.data, f"forward of '{self.name}'", out.grad_fn)
        return out

    def run_forward(self, arrays, params):
        """forward(*arrays, **params) as an ndarray, with errors that name the op."""
        try:
            data = self.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError) as error:
            raise with_op_name(error, self.name) from error
        return np.asarray(data)

    def __repr__(self):
        return f"<op {self.name}>"


def _as_array(x):
    """A list or tuple as an array (forward rules may read .dtype or .shape); others as they are."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def _as_tensors(inputs, name):
    """Inputs as Tensors. A number (Python's or numpy's, not a bool) takes the float dtype of
    the first float tensor input, as in PyTorch; a list or an array keeps its own dtype."""
    like = next((x.dtype for x in inputs if isinstance(x, Tensor) and x.dtype.kind == "f"), None)
    tensors = []
    for x in inputs:
        if not isinstance(x, Tensor):
            weak = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
            array = np.asarray(x, dtype=like if weak else None)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"{name}: cannot use a {type(x).__name__} as a tensor input")
            x = Tensor._wrap(array)
        tensors.append(x)
    return tensors


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


def edge(t, where):
    """Where the gradient of tensor ``t`` goes: the node that made it, ``t`` itself for a leaf
    that requires grad, or None. Raises for a view whose base was changed by a recorded in-place
    op after the view was made: its graph still describes the old values."""
    node = t.grad_fn
    if node is None:
        return t if t._requires_grad else None
    if t._version_counter.recorded > node.out_version:
        raise RuntimeError(
            f"{where}: a tensor made by '{node.name}' shares memory with one that an in-place "
            "op changed after it was made, so its graph no longer gives its gradient; make it "
            "again from the changed tensor"
        )
    return node


class Node:
    """A recorded call of an op: everything its backward rule needs, nothing that points back.

    * ``op``, ``inputs`` (the input Tensors) and ``params``;
    * ``out``: the output's *array*, and ``out_counter``, the output's version
      counter, never the output Tensor: that would be a reference cycle;
    * ``parents``: for each input, where its gradient goes (see ``edge``);
    * ``versions`` and ``out_version``: the versions of the inputs and of the
      output when the op ran. A value whose version moved on since was changed
      in place, and the rule may not read it.
    """

    __slots__ = (
        "op",
        "inputs",
        "params",
        "out",
        "out_counter",
        "out_version",
        "parents",
        "versions",
        "retained",
        "created_at",
    )

    def __init__(self, op, inputs, params, out):
        self.op = op
        self.inputs = inputs
        self.params = params
        self.parents = [edge(t, op.name) for t in inputs]
        self.versions = [t._version for t in inputs]
        self.retained = None
        self.created_at = user_code_location() if mode.anomaly_enabled else None
        self.become_output_of(out)

    @property
    def name(self):
        return self.op.name

    def become_output_of(self, t):
        """Make ``t`` this node's output: its array holds the values the op computed (after an
        in-place op, it is the array written into)."""
        if t.grad_fn is not None and t.grad_fn is not self:
            self.retained = t.grad_fn.retained
        self.out = t.data
        self.out_counter = t._version_counter
        self.out_version = t._version
        t.grad_fn = self
        t._requires_grad = True

    def retain(self, tensor):
        """Make backward() store this node's output gradient on ``tensor.grad``."""
        self.retained = weakref.ref(tensor)

    def vjp(self, grad):
        """The gradient for each input (None where none is needed), given grad = dL/d(out).

        The rule gets Tensors when grad mode is on (the backward pass is recorded,
        ``create_graph``), so its gradients can be differentiated again, and the
        numpy arrays otherwise. Each gradient it returns is summed back over
        broadcast axes and cast to its input's dtype (``_fit``).
        """
        recorded = mode.grad_enabled
        out = self._output_tensor() if recorded else self.out
        out = self._read(out, self.out_counter.count, self.out_version, "its output")
        inputs = [
            self._read(t if recorded else t.data, t._version, version, i)
            for i, (t, version) in enumerate(zip(self.inputs, self.versions))
        ]
        grads = self.op.backward(dense(grad), out, *inputs, **self.params)
        grads = grads if type(grads) is tuple else (grads,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(
                f"backward of '{self.name}' returned {len(grads)} gradients for "
                f"{len(self.inputs)} inputs"
            )
        return [
            None if parent is None or g is None else _fit(g, t, self, i)
            for i, (parent, g, t) in enumerate(zip(self.parents, grads, self.inputs))
        ]

    def _output_tensor(self):
        """The output as a Tensor made by this node, for a rule that is recorded."""
        out = Tensor._wrap(self.out)
        out._version_counter = self.out_counter
        out.grad_fn = self
        out._requires_grad = True
        return out

    def _read(self, value, version, saved_version, what):
        """``value`` for the rule, or an Overwritten stand-in if its version moved on since the
        op ran. ``what`` is "its output" or the input's position."""
        if version == saved_version:
            return value
        what = what if isinstance(what, str) else f"input {what}"
        return Overwritten(
            value,
            f"backward of '{self.name}': {what} was modified in place after the op ran, so its "
            "gradient would be wrong. Use an out-of-place op, or recompute the forward pass.",
        )

    def __repr__(self):
        return f"<{self.op.name}>"


def _fit(g, t, node, i):
    """Make rule output ``g`` the gradient of input ``t``: computed if the rule deferred it,
    summed back over broadcast axes (the one place broadcasting is undone), cast to t's dtype."""
    if callable(g):
        g = g()
    if not hasattr(g, "shape"):
        raise TypeError(
            f"backward of '{node.name}' returned {type(g).__name__} for input {i}; "
            "expected a Tensor, an array or None"
        )
    if isinstance(g, Tensor) and not mode.grad_enabled:
        g = g.data
    if g.shape != t.shape:
        g = _sum_to_shape(g, t.shape, node.name)
    if g.dtype != t.dtype:
        g = g.to(t.dtype) if isinstance(g, Tensor) else g.astype(t.dtype)
    if mode.anomaly_enabled:
        values = dense(g)
        values = values.data if isinstance(values, Tensor) else np.asarray(values)
        check_finite(values, f"backward of '{node.name}' (gradient for input {i})", node)
    return g


def _sum_to_shape(g, shape, name):
    """Sum a broadcast gradient back to ``shape``."""
    lead = g.ndim - len(shape)
    if lead < 0 or any(n not in (1, m) for n, m in zip(shape, g.shape[lead:])):
        raise RuntimeError(
            f"backward of '{name}' returned a gradient of shape {g.shape} for an input of "
            f"shape {shape}, and it does not broadcast to it"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axes, keepdims=True).reshape(shape)


class Overwritten:
    """Stands in, for a backward rule, for a value changed in place after its op ran.

    Its ``shape``, ``ndim`` and ``dtype`` are right (in-place changes keep
    them); using its values in any way raises, naming the op and the value.
    """

    __array_ufunc__ = None  # `array * stand-in` is handed to the stand-in, which raises

    def __init__(self, value, message):
        self.shape = value.shape
        self.ndim = value.ndim
        self.dtype = value.dtype
        self.message = message

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(self.message)

    __getattr__ = __array__ = __bool__ = __len__ = __iter__ = __getitem__ = _refuse
    __neg__ = __abs__ = __pos__ = __invert__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __and__ = __or__ = _refuse


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def user_code_location():
    """The innermost stack frame outside minigrad, as 'file:line in function'."""
    for frame in reversed(traceback.extract_stack()):
        if not str(Path(frame.filename).resolve()).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"  # pragma: no cover - there is always a caller outside the package


def check_finite(array, what, node):
    """In anomaly mode: raise if ``array`` holds NaN or inf, naming where the op was created."""
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "inf"
        where = node.created_at if node is not None and node.created_at else user_code_location()
        raise RuntimeError(f"detect_anomaly: {what} produced {bad}; the op was created at {where}")
