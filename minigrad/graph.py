"""The graph: how calling an op records what backward will need.

Calling an ``Op`` runs its numpy ``forward``. When grad mode is on and some
input requires grad, the result gets a ``Node``: the op, its input Tensors,
its parameters, its output *array*, and for each input the place its gradient
goes (``edge``). A Node never holds its output Tensor, so the graph has no
reference cycles and is freed as soon as the last tensor that uses it is
dropped. ``Node.vjp`` applies the op's backward rule; ``minigrad.engine``
walks the nodes.
"""

import inspect

import numpy as np

from .array_methods import named_error, to_array
from .switches import mode
from .tensor import Tensor


class Op:
    """One differentiable operation: a numpy forward and its vector-Jacobian product.

    Subclass it and write, next to each other:

    ``forward(self, *arrays, **params)``
        numpy in, numpy out. Arguments without a default are the tensor
        inputs (they arrive as ndarrays); arguments with a default are
        non-differentiable parameters such as ``axis`` or ``shape``. It returns
        one array (a tuple or a list is a TypeError: write one op per result),
        of floats whenever an input requires grad.

    ``backward(self, grad, out, *inputs, **params)``
        ``grad`` is dL/d(out). Return dL/d(input) for each input (a tuple when
        there are several; None where there is no gradient). Write it with
        operators (``+ * @ .T .reshape .sum``) and minigrad functions
        (``sigmoid``, ``where``, ...): the engine calls it with Tensors when
        the backward pass is itself recorded (``create_graph=True``), so the
        gradient can be differentiated again, and with the plain numpy arrays
        otherwise. (numpy's functions refuse Tensors: ``cos(x)``, not
        ``np.cos(x)``.) A returned gradient may keep the broadcast shape of ``out``:
        the engine sums it back to the input. To compute a gradient only if its
        input needs one, return a function of no arguments in its place.

    A value changed in place after the op ran reaches the rule as an
    ``Overwritten`` stand-in, which raises if the rule reads it; its shape and
    dtype can still be read. So an input may be overwritten exactly when the
    rule does not read it, as for ``add`` or ``sum``. A gradient that reads
    another input is best returned as a function: then it reads that input
    only when it is needed.

    The class docstring states the math. Making an instance registers the op
    under ``name`` (the class name in lower case by default), and the instance
    is the function users call: ``exp = Exp()``, then ``exp(x)``. Called with
    no Tensor at all (numbers and numpy arrays only), an op is just its numpy
    forward and returns an ndarray: without a Tensor there is no graph.

    A second op under a registered name is a ValueError, unless it is made with
    ``replace=True`` (``Softplus(replace=True)``, for a notebook cell run again):
    then it takes the name's place in the registry. ``minigrad.ops.unregister``
    removes a name.
    """

    name = None
    view = False  # forward may return a view of input 0; if it does, they share a version
    registry = {}  # every op made, by name (``minigrad.ops.registry()``)

    def __init__(self, replace=False):
        self.name = self.name or type(self).__name__.lower()
        if self.name in Op.registry and not replace:
            raise ValueError(
                f"Op: an op named {self.name!r} is already registered; to define it again, make it "
                f"with {type(self).__name__}(replace=True), or first call "
                f"minigrad.ops.unregister({self.name!r})"
            )
        Op.registry[self.name] = self
        arguments = inspect.signature(self.forward).parameters.values()
        self.param_names = tuple(a.name for a in arguments if a.default is not a.empty)
        variadic = any(a.kind is a.VAR_POSITIONAL for a in arguments)
        self.n_inputs = None if variadic else len(arguments) - len(self.param_names)

    def __call__(self, *args, **params):
        """op(*inputs, *params, **params): the parameters by position after the inputs, or by
        name. Python's own call of ``forward`` rejects unknown names and missing inputs."""
        n = len(args) if self.n_inputs is None else self.n_inputs
        if len(args) > n:
            params = self._by_name(args[n:], params)
        return self.apply(args[:n], params)

    def _by_name(self, values, params):
        """The parameters given by position, added by name to those given by name."""
        given = dict(zip(self.param_names, values))
        if len(values) > len(self.param_names) or given.keys() & params.keys():
            raise TypeError(
                f"{self.name}: takes {self.n_inputs} tensor inputs, then the parameters "
                f"{self.param_names}, each once; got {len(values)} parameters by position "
                f"and {sorted(params)} by name"
            )
        return {**given, **params}

    def apply(self, inputs, params):
        """Run forward on ``inputs`` (Tensors, numbers or arrays) and record a Node if needed."""
        tensors = _as_tensors(inputs, self.name)
        if tensors is None:  # no Tensor among the inputs: arrays in, array out, no graph
            return self.run_forward(list(map(_list_as_array, inputs)), params)
        recorded = mode.grad_enabled and any([t._requires_grad for t in tensors])
        out = Tensor._wrap(self.run_forward([t.data for t in tensors], params, recorded))
        if self.view and np.may_share_memory(out.data, tensors[0].data):
            out._share_memory_with(tensors[0])
        if recorded:
            Node(self, tensors, params, out)
        if mode.anomaly:
            mode.anomaly.check(out.data, f"forward of '{self.name}'", out.grad_fn)
        if mode.trace:
            mode.trace.record(self, tensors, params, out)
        return out

    def run_forward(self, arrays, params, recorded=False):
        """forward(*arrays, **params) as an ndarray, with errors that name the op. forward must
        return one array, not a tuple that numpy would stack, and floats when the call is
        ``recorded`` in the graph, since only floats can require grad. (``minigrad.compile``
        traces through here, so the forwards it replays were checked.)"""
        try:
            out = self.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError) as error:
            raise named_error(error, self.name) from error
        if isinstance(out, (tuple, list)) or recorded and np.asarray(out).dtype.kind != "f":
            raise TypeError(f"{self.name}: forward returned {_returned(out)}")
        return np.asarray(out)

    def __repr__(self):
        return f"<op {self.name}>"


def _returned(out):
    """What is wrong with ``out``, a forward's result that ``run_forward`` refuses."""
    if isinstance(out, (tuple, list)):
        return f"a {type(out).__name__}; an op returns one array (one op per output)"
    return (
        f"{np.asarray(out).dtype} values, but an input requires grad; a differentiable op "
        "must return floats"
    )


def _as_tensors(inputs, name):
    """The inputs as Tensors, or None when none of them is a Tensor (then there is no graph).

    A number (Python's or numpy's, not a bool) takes the float dtype of the
    first float tensor input, as in PyTorch; a list or an array keeps its own.
    """
    tensors = [x for x in inputs if isinstance(x, Tensor)]
    if not tensors or len(tensors) == len(inputs):
        return tensors or None
    like = next((t.dtype for t in tensors if t.dtype.kind == "f"), None)
    return [x if isinstance(x, Tensor) else _constant(x, like, name) for x in inputs]


def _constant(value, float_dtype, name):
    """An input that is not a Tensor, as a Tensor of its own copy (as ``tensor()`` makes one, so
    a later change to an array does not reach backward): a number (Python's or numpy's, not a
    bool) takes ``float_dtype``; a list or an array keeps its own dtype."""
    weak = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return Tensor._wrap(to_array(value, float_dtype if weak else None, name))


def _list_as_array(x):
    """A list or tuple as an array (forward rules may read .dtype or .shape); others as they are."""
    return np.asarray(x) if isinstance(x, (list, tuple)) else x


def edge(t, where):
    """Where the gradient of tensor ``t`` goes: the node that made it, ``t`` itself for a leaf
    that requires grad, or None.

    A tensor whose values changed after its node made them, by a change not
    recorded on it (under no_grad, through ``detach()``, through a view or its
    base), no longer has a graph that gives its gradient: using it raises.
    """
    node = t.grad_fn
    if node is None:
        return t if t._requires_grad else None
    if t._version_counter.count != node.saved[0][1]:
        raise RuntimeError(
            f"{where}: the tensor made by '{node.name}' was changed in place outside the graph "
            "(under no_grad, through detach() or a view); compute it again"
        )
    return node


class Node:
    """A recorded call of an op: everything its backward rule needs, nothing that points back.

    * ``op``, ``inputs`` (the input Tensors) and ``params``;
    * ``parents``: for each input, where its gradient goes (``edge``);
    * ``out``: the output's *array*. Never the output Tensor: that would make a
      reference cycle;
    * ``saved``: for the output and each input, its version counter and its
      version when the op ran. A value whose version has moved on since was
      changed in place, and the rule may not read it.
    """

    def __init__(self, op, inputs, params, out):
        self.op = op
        self.name = op.name
        self.inputs = inputs
        self.params = params
        self.parents = [edge(t, op.name) for t in inputs]
        self.saved = [None] + [(t._version_counter, t._version_counter.count) for t in inputs]
        self.retained = None
        self.created_at = mode.anomaly.location() if mode.anomaly else None
        self.become_output_of(out)

    def become_output_of(self, t):
        """Make tensor ``t`` this node's output. (An in-place op makes its node the output of
        the tensor it wrote into; a ``retain_grad()`` on that tensor moves with it.)"""
        if t.grad_fn is not None:
            self.retained, t.grad_fn.retained = t.grad_fn.retained, None
        self.out = t.data
        self.saved[0] = (t._version_counter, t._version_counter.count)
        t.grad_fn = self
        t._requires_grad = True

    def vjp(self, grad):
        """(parent, gradient) for each input that needs a gradient, given grad = dL/d(out).

        The rule gets Tensors when grad mode is on (the backward pass is recorded,
        ``create_graph``), so its gradients can be differentiated again, and the
        numpy arrays otherwise. ``_fit`` makes each gradient it returns match
        its input. A TypeError in the rule (numpy refusing the Tensor it got, as
        ``np.cos(x)`` does) is raised again naming the op, with what to do.
        """
        grad = grad if isinstance(grad, Tensor) else np.asarray(grad)  # a Scatter made whole
        try:
            grads = self.op.backward(grad, *self._saved_values(), **self.params)
            grads = grads if type(grads) is tuple else (grads,)
            if len(grads) != len(self.inputs):
                raise RuntimeError(
                    f"backward of '{self.name}': {len(grads)} gradients for {len(self.inputs)} "
                    "inputs"
                )
            return [
                (parent, _fit(g, t, self, i))
                for i, (parent, g, t) in enumerate(zip(self.parents, grads, self.inputs))
                if parent is not None and g is not None
            ]
        except TypeError as error:  # numpy refusing a Tensor, say: named after the op
            raise named_error(error, f"backward of '{self.name}'") from error

    def _saved_values(self):
        """The output and the inputs, for the rule: Tensors when the backward pass is recorded,
        arrays otherwise; an Overwritten stand-in for one changed in place since."""
        if mode.grad_enabled:
            values = [self._output_tensor(), *self.inputs]
        else:
            values = [self.out, *[t.data for t in self.inputs]]
        return [
            value if counter.count == version else Overwritten(value, self, i)
            for i, (value, (counter, version)) in enumerate(zip(values, self.saved))
        ]

    def _output_tensor(self):
        """The output as a Tensor made by this node, for a rule that is recorded."""
        out = Tensor._wrap(self.out)
        out._version_counter = self.saved[0][0]
        out.grad_fn = self
        out._requires_grad = True
        return out


def _fit(g, t, node, i):
    """Make rule output ``g`` the gradient of input ``t``: computed if the rule deferred it,
    summed back over broadcast axes (the one place broadcasting is undone), cast to t's dtype."""
    if callable(g):
        g = g()
    if not hasattr(g, "shape"):  # a TypeError, which vjp names after the op
        raise TypeError(f"a {type(g).__name__} for input {i}, not an array or None")
    if g.shape != t.data.shape:
        g = _sum_to_shape(g, t.shape, node.name)
    if g.dtype != t.data.dtype:
        g = g.to(t.dtype) if isinstance(g, Tensor) else g.astype(t.dtype)
    if mode.anomaly:
        mode.anomaly.check(g, f"backward of '{node.name}' (gradient for input {i})", node)
    return g


def _sum_to_shape(g, shape, name):
    """Sum a broadcast gradient back to ``shape``."""
    lead = g.ndim - len(shape)
    if lead < 0 or any(n not in (1, m) for n, m in zip(shape, g.shape[lead:])):
        raise RuntimeError(
            f"backward of '{name}': a gradient of shape {g.shape} for an input of shape {shape}"
        )
    axes = (*range(lead), *(lead + i for i, n in enumerate(shape) if n == 1))
    return g.sum(axes, keepdims=True).reshape(shape)


class Overwritten:
    """Stands in, for a backward rule, for a value changed in place after its op ran.

    Its ``shape``, ``ndim`` and ``dtype`` are right (in-place changes keep
    them); using its values in any way raises, naming the op and the value.
    """

    def __init__(self, value, node, i):
        self.shape, self.ndim, self.dtype = value.shape, value.ndim, value.dtype
        self.what = f"backward of '{node.name}': " + (f"input {i - 1}" if i else "its output")

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(
            f"{self.what} was modified in place after the op ran, so its gradient would be "
            "wrong. Use an out-of-place op, or recompute the forward pass."
        )

    __getattr__ = __array__ = __bool__ = __len__ = __iter__ = __getitem__ = _refuse
    __neg__ = __abs__ = __pos__ = __invert__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __and__ = __or__ = _refuse
