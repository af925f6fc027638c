"""The engine: how ops record the graph, and how backward walks it.

**Forward.** Calling an ``Op`` runs its numpy ``forward``. When grad mode is on
and some input requires grad, the result gets a ``Node``: the op, its input
Tensors, its parameters and its output *array*. A Node never holds its output
Tensor, so the graph has no reference cycles and is freed as soon as the last
tensor that uses it is dropped.

**Backward.** ``backward()`` counts, for every node reachable from the roots,
how many consumers it has, then visits nodes in Kahn's order: a node runs once
every consumer has added its share to the node's gradient. The loop is
iterative, so a chain of 100,000 ops needs no recursion. For each node the
engine calls the op's backward rule and then does all the bookkeeping itself:

* it skips inputs that do not require grad;
* it sums a gradient back to its input's shape, undoing broadcasting
  (``_sum_to_shape``), and casts it to the input's dtype;
* it accumulates: into the pending gradient of the input's node, or into a
  leaf's ``.grad`` (``+=`` across backward calls, as in PyTorch).

Without ``create_graph`` the rules run under ``no_grad``: nothing is recorded
and gradients that the engine allocated itself are summed in place. With
``create_graph=True`` the rules are recorded like any other computation, so
the gradients are differentiable and second derivatives come for free.
"""

import inspect
import traceback
import weakref
from pathlib import Path

import numpy as np

from . import grad_mode
from .errors import with_op_name
from .tensor import Tensor

_SWITCHES = grad_mode.switches
_REGISTRY = {}


# ---- ops ------------------------------------------------------------------------------------


class Op:
    """One differentiable operation: a numpy forward and its vector-Jacobian product.

    Subclass it and write, next to each other:

    ``forward(self, *arrays, **params)``
        numpy in, numpy out. Arguments without a default are the tensor
        inputs (they arrive as ndarrays); arguments with a default are
        non-differentiable parameters such as ``axis`` or ``shape``.

    ``backward(self, grad, out, *inputs, **params)``
        ``grad`` is dL/d(out). Return dL/d(input) for each input (a tuple when
        there are several; None where there is no gradient). Inputs, ``out``
        and ``grad`` are Tensors, and the rule must use minigrad ops, so that
        it can itself be differentiated. A returned gradient may keep the
        broadcast shape of ``out``: the engine sums it back to the input.

    The class docstring states the math. Making an instance registers the op
    under ``name`` (the class name in lower case by default), and the instance
    is the function users call: ``exp = Exp()``, then ``exp(x)``.
    """

    name = None
    view = False  # forward may return a view of input 0, so the two share a version counter

    def __init__(self):
        if self.name is None:
            self.name = type(self).__name__.lower()
        arguments = list(inspect.signature(self.forward).parameters.values())
        self._variadic = any(a.kind is a.VAR_POSITIONAL for a in arguments)
        self._n_inputs = sum(
            a.kind is a.POSITIONAL_OR_KEYWORD and a.default is a.empty for a in arguments
        )
        self._defaults = {a.name: a.default for a in arguments if a.default is not a.empty}
        register(self)

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad, out, *inputs, **params):
        raise NotImplementedError

    def __call__(self, *args, **params):
        n = len(args) if self._variadic else self._n_inputs
        if len(args) < n:
            raise TypeError(f"{self.name}: expected {n} tensor inputs, got {len(args)}")
        if len(args) > n or params:
            params = self._bind(args[n:], params)
        else:
            params = self._defaults
        return self.apply(args[:n], params)

    def _bind(self, extra, given):
        names = tuple(self._defaults)
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
        tensors = _as_tensors(inputs, self.name)
        try:
            data = self.forward(*[t.data for t in tensors], **params)
        except (ValueError, TypeError, IndexError) as error:
            raise with_op_name(error, self.name) from error
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        out = Tensor._wrap(data)
        if self.view:
            out._version = tensors[0]._version
        if _SWITCHES.grad_enabled:
            for t in tensors:
                if t._requires_grad:
                    out._requires_grad = True
                    out.grad_fn = Node(self, tensors, params, data)
                    break
        if _SWITCHES.anomaly_enabled:
            _check_finite(data, f"forward of '{self.name}'", out.grad_fn)
        return out

    def __repr__(self):
        return f"<op {self.name}>"


def _as_tensors(inputs, name):
    """Inputs as Tensors; a Python number takes the dtype of the first float tensor input."""
    if all(isinstance(x, Tensor) for x in inputs):
        return inputs
    like = next(
        (x.data.dtype for x in inputs if isinstance(x, Tensor) and x.data.dtype.kind == "f"), None
    )
    return tuple(x if isinstance(x, Tensor) else _constant(x, like, name) for x in inputs)


def _constant(value, float_dtype, name):
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float_dtype is not None:
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


# ---- the graph ------------------------------------------------------------------------------


class Node:
    """A recorded call of an op: everything its backward rule needs, nothing that points back.

    ``versions`` remembers each input's version counter at record time, so that
    backward can refuse to use an input that was changed in place since.
    """

    __slots__ = ("op", "inputs", "params", "out", "versions", "retained", "created_at")

    def __init__(self, op, inputs, params, out):
        self.op = op
        self.inputs = inputs
        self.params = params
        self.out = out
        self.versions = tuple(t._version[0] for t in inputs)
        self.retained = None
        self.created_at = _user_code_location() if _SWITCHES.anomaly_enabled else None

    @property
    def name(self):
        return self.op.name

    def retain(self, tensor):
        """Make backward() store this node's output gradient on ``tensor.grad``."""
        self.retained = weakref.ref(tensor)

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
        from .ops.indexing import add_at

        add_at(array, self.index, self.values.data)

    def dense(self, dtype):
        """The same gradient as a dense Tensor built with differentiable ops."""
        from .ops.indexing import index_put

        zeros = Tensor._wrap(np.zeros(self.shape, dtype=dtype))
        return index_put(zeros, self.index, self.values, accumulate=True)


# ---- backward -------------------------------------------------------------------------------


def backward(tensors, grad_tensors=None, create_graph=False):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf they depend on.

    ``grad_tensors`` are the cotangents (dL/d tensor); they may be omitted for
    scalar outputs. This is what ``Tensor.backward()`` calls.
    """
    roots, grads = _roots(tensors, grad_tensors, "backward")
    _BackwardPass(create_graph).run(roots, grads)


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) · grad_outputs as a tuple, without touching any ``.grad``.

    As ``torch.autograd.grad``: ``inputs`` may be leaves or intermediate
    tensors; an input the outputs do not depend on raises, unless
    ``allow_unused=True``, which returns None for it.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots, grads = _roots(outputs, grad_outputs, "grad")
    captured = _BackwardPass(create_graph, capture=inputs).run(roots, grads)
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(i)
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)


def _roots(outputs, gradients, where):
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if gradients is None:
        gradients = [None] * len(outputs)
    elif isinstance(gradients, Tensor) or not isinstance(gradients, (list, tuple)):
        gradients = [gradients]
    if len(gradients) != len(outputs):
        raise ValueError(f"{where}: got {len(gradients)} gradients for {len(outputs)} outputs")
    grads = []
    for y, g in zip(outputs, gradients):
        if not isinstance(y, Tensor) or not y._requires_grad:
            raise RuntimeError(
                f"{where}: the output does not require grad and has no grad_fn; "
                "did a parameter lose requires_grad, or was it computed under no_grad()?"
            )
        if g is None:
            if y.data.size != 1:
                raise RuntimeError(
                    f"{where}: the gradient can be implied only for a scalar output; this output "
                    f"has shape {y.shape}, so pass gradient= with that shape"
                )
            g = Tensor._wrap(np.ones(y.shape, dtype=y.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor._wrap(np.asarray(g, dtype=y.dtype))
        if g.shape != y.shape:
            raise ValueError(f"{where}: gradient has shape {g.shape} but the output has {y.shape}")
        grads.append(g if g.dtype == y.dtype else g.to(y.dtype))
    return outputs, grads


def _count_consumers(nodes):
    """For every node reachable from ``nodes``: how many edges lead into it from reachable nodes."""
    consumers = {}
    stack = list(nodes)
    seen = set(stack)
    while stack:
        for t in stack.pop().inputs:
            parent = t.grad_fn
            if parent is not None:
                consumers[parent] = consumers.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return consumers


class _BackwardPass:
    """One run of reverse mode, from root gradients to leaves (or to ``capture`` tensors)."""

    def __init__(self, create_graph, capture=None):
        self.create_graph = create_graph
        self.pending = {}  # node -> gradient of its output, summed over the consumers seen so far
        self.owned = set()  # nodes whose pending gradient is a buffer this pass may add into
        self.capture = capture
        self.captured = {}  # input position -> gradient, for grad()
        if capture is not None:
            self.capture_at = {}
            for i, t in enumerate(capture):
                self.capture_at.setdefault(t.grad_fn or id(t), []).append(i)

    def run(self, roots, grads):
        previous = _SWITCHES.grad_enabled
        _SWITCHES.grad_enabled = self.create_graph
        try:
            for t, g in zip(roots, grads):
                self.deliver(t, g)
            consumers = _count_consumers(self.pending)
            ready = [node for node in self.pending if node not in consumers]
            while ready:
                node = ready.pop()
                grad = self.pending.pop(node, None)
                if grad is not None:
                    self.visit(node, grad)
                for t in node.inputs:
                    parent = t.grad_fn
                    if parent is not None:
                        consumers[parent] -= 1
                        if consumers[parent] == 0:
                            ready.append(parent)
        finally:
            _SWITCHES.grad_enabled = previous
        return self.captured

    def visit(self, node, grad):
        """Call the node's backward rule and pass each input's gradient on."""
        if self.capture is None and node.retained is not None:
            self.retain(node, grad)
        elif self.capture is not None and node in self.capture_at:
            for i in self.capture_at[node]:
                self.captured[i] = grad
        _check_versions(node)
        out = Tensor._wrap(node.out)
        if self.create_graph:  # so that gradients can flow into the op through its output too
            out._requires_grad = True
            out.grad_fn = node
        grads = _run_rule(node, grad, out)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(node.inputs):
            raise RuntimeError(
                f"backward of '{node.name}' returned {len(grads)} gradients for "
                f"{len(node.inputs)} inputs"
            )
        for i, (t, g) in enumerate(zip(node.inputs, grads)):
            if g is not None and t._requires_grad:
                self.deliver(t, _fit(g, t, node, i))

    def deliver(self, t, g):
        """Add gradient ``g`` to whatever collects the gradient of tensor ``t``."""
        node = t.grad_fn
        if node is not None:
            self.pending[node], owned = self.add(self.pending.get(node), g, node in self.owned, t)
            if owned:
                self.owned.add(node)
        elif self.capture is not None:
            for i in self.capture_at.get(id(t), ()):
                self.captured[i], _ = self.add(self.captured.get(i), g, False, t)
        else:
            self.accumulate_grad(t, g)

    def accumulate_grad(self, t, g):
        """leaf.grad += g. The first gradient is copied, so ``.grad`` never aliases an array
        that something else holds."""
        owned = t._grad is not None and not t._grad._requires_grad
        if t._grad is None and not self.create_graph and isinstance(g, Tensor):
            g = Tensor._wrap(g.data.copy())
        t._grad, _ = self.add(t._grad, g, owned, t)

    def retain(self, node, grad):
        t = node.retained()
        if t is not None:
            self.accumulate_grad(t, grad)

    def add(self, total, g, owned, like):
        """``total + g``, in place when ``total`` is a buffer we own. Returns (sum, owned)."""
        scattered = type(g) is Scatter
        if self.create_graph:
            g = g.dense(like.dtype) if scattered else g
            return (g if total is None else total + g), False
        if total is None:
            if not scattered:
                return g, False
            total, owned = Tensor._wrap(np.zeros(g.shape, dtype=like.dtype)), True
        if not owned:
            if not scattered:
                return Tensor._wrap(total.data + g.data), True
            total = Tensor._wrap(total.data.copy())
        if scattered:
            g.add_into(total.data)
        else:
            np.add(total.data, g.data, out=total.data)
        return total, True


def _run_rule(node, grad, out):
    """Call the node's backward rule. In anomaly mode the ops inside the rule are not checked
    one by one: the gradients it returns are (in ``_fit``), so the error names this node."""
    if not _SWITCHES.anomaly_enabled:
        return node.op.backward(grad, out, *node.inputs, **node.params)
    _SWITCHES.anomaly_enabled = False
    try:
        return node.op.backward(grad, out, *node.inputs, **node.params)
    finally:
        _SWITCHES.anomaly_enabled = True


def _fit(g, t, node, i):
    """Make rule output ``g`` a gradient for input ``t``: check it, unbroadcast it, cast it."""
    if type(g) is Scatter:
        return g
    if not isinstance(g, Tensor):
        raise TypeError(
            f"backward of '{node.name}' returned {type(g).__name__} for input {i}; "
            "expected a Tensor or None"
        )
    if g.shape != t.shape:
        g = _sum_to_shape(g, t.shape, node.name)
    if g.dtype != t.dtype:
        g = g.to(t.dtype)
    if _SWITCHES.anomaly_enabled:
        _check_finite(g.data, f"backward of '{node.name}' (gradient for input {i})", node)
    return g


def _sum_to_shape(g, shape, name):
    """Sum a broadcast gradient back to ``shape``: the one place where broadcasting is undone."""
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


def _check_versions(node):
    for i, (t, version) in enumerate(zip(node.inputs, node.versions)):
        if t._version[0] != version:
            raise RuntimeError(
                f"backward of '{node.name}': input {i} (shape {t.shape}) was modified in place "
                f"after it was used (version {version}, now {t._version[0]}); its gradient "
                "would be wrong. Use an out-of-place op, or recompute the forward pass."
            )


# ---- anomaly mode ---------------------------------------------------------------------------

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _user_code_location():
    """The innermost stack frame outside minigrad, as 'file:line in function'."""
    for frame in reversed(traceback.extract_stack()):
        if not str(Path(frame.filename).resolve()).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"  # pragma: no cover - there is always a caller outside the package


def _check_finite(array, what, node):
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = "NaN" if np.isnan(array).any() else "inf"
        where = node.created_at if node is not None and node.created_at else _user_code_location()
        raise RuntimeError(f"detect_anomaly: {what} produced {bad}; the op was created at {where}")
