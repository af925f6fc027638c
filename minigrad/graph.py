"""The graph: how calling an op records what backward will need.

Calling an ``Op`` runs its numpy ``forward``. When grad mode is on and some
input requires grad, the results get a ``Node``: the op, its input Tensors,
its parameters, its output *arrays*, and for each input the place its gradient
goes (``edge``). A Node never holds its output Tensors, so the graph has no
reference cycles and is freed as soon as the last tensor that uses it is
dropped. ``Node.vjp`` applies the op's backward rule; ``minigrad.engine``
walks the nodes.
"""

import inspect
import itertools

import numpy as np

from . import inplace
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
        one array, of floats whenever an input requires grad, or a tuple of
        arrays for an op with several outputs (``unbind``, ``split``).

    ``backward(self, grad, out, *inputs, **params)``
        ``grad`` is dL/d(out). Return dL/d(input) for each input (a tuple when
        there are several; None where there is no gradient). For an op with
        several outputs, ``grad`` and ``out`` are tuples, one entry per output,
        and an output that received no gradient has None. Write the rule with
        operators (``+ * @ .T .reshape .sum``) and minigrad functions
        (``sigmoid``, ``where``, ...): the engine calls it with Tensors when the
        backward pass is itself recorded (``create_graph=True``), so the
        gradient can be differentiated again, and with plain numpy arrays
        otherwise. (numpy's functions refuse Tensors: ``cos(x)``, not
        ``np.cos(x)``.) A returned gradient may keep the broadcast shape of
        ``out``: the engine sums it back to the input. A rule that declares a
        ``needs_input_grad`` argument gets a tuple of bools, one per input, as
        in PyTorch, and computes only those gradients.

    Two class attributes describe what the rule uses:

    * ``saves``: for each input, the values its gradient formula reads: a dict
      from the input's name to names among the inputs and ``out``, as PyTorch's
      ``derivatives.yaml`` lists them (``{"x": "y", "y": "x"}`` for a product).
      None (the default) means the rule may read everything. In-place changes
      (``minigrad/inplace.py``) and ``minigrad.compile`` rely on it.
    * ``hidden``: how many of forward's last outputs are kept for the rule only
      and not returned (the sigmoid keeps 1 − σ(x) so that its rule is exact).

    The class docstring states the math. Making an instance registers the op
    under ``name`` (the class name in lower case by default), and the instance
    is the function users call: ``exp = Exp()``, then ``exp(x)``. Called with
    no Tensor at all (numbers and numpy arrays only), an op is just its numpy
    forward and returns an ndarray: without a Tensor there is no graph.

    A second op under a registered name is a ValueError, unless it is made with
    ``replace=True`` (``Asinh(replace=True)``, for a notebook cell run again):
    then it takes the name's place in the registry. ``minigrad.ops.unregister``
    removes a name.
    """

    name = None
    view = False  # forward may return views of input 0; if it does, they share its version
    hidden = 0  # the last outputs kept for the rule only
    saves = None  # {input name: the names its gradient reads}; None: all of them
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
        self.input_names = tuple(a.name for a in arguments if a.default is a.empty)
        variadic = any(a.kind is a.VAR_POSITIONAL for a in arguments)
        self.n_inputs = None if variadic else len(self.input_names)
        self.takes_needs = "needs_input_grad" in inspect.signature(self.backward).parameters

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
        if tensors is None:  # no Tensor among the inputs: arrays in, arrays out, no graph
            result = self.run_forward(list(map(_list_as_array, inputs)), params)
            return self.returned(result, self.visible(result))
        recorded = mode.grad_enabled and any([t._requires_grad for t in tensors])
        result = self.run_forward([t.data for t in tensors], params, recorded)
        outs = list(map(Tensor._wrap, self.visible(result)))
        if self.view:
            inplace.share_views(outs, tensors[0])
        if recorded:
            Node(self, tensors, params, result, outs)  # the inputs, and the outputs
        if mode.anomaly:
            mode.anomaly.check_outputs(outs, self.name)
        if mode.trace:
            mode.trace.record(self, tensors, params, result, outs)
        if mode.forward:  # forward mode: the outputs' tangents (autograd/forward_ad.py)
            mode.forward.propagate(self, tensors, params, result, outs)
        return self.returned(result, outs)

    def run_forward(self, arrays, params, recorded=False):
        """forward(*arrays, **params): an ndarray, or a tuple of them for several outputs, with
        errors that name the op; floats when the call is ``recorded`` in the graph, since only
        floats can require grad. (``minigrad.compile`` traces through here, so what it replays
        was checked.)"""
        try:
            out = self.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError) as error:
            raise named_error(error, self.name) from error
        if type(out) is tuple:
            out = tuple(map(np.asarray, out))
        elif isinstance(out, list):  # numpy would stack it into one array without a word
            raise TypeError(f"{self.name}: forward returned a list; several outputs are a tuple")
        else:
            out = np.asarray(out)
        if recorded:
            _check_floats(out, self.name)
        return out

    def visible(self, result):
        """The outputs a call returns, as a tuple: forward's, less the hidden ones."""
        arrays = result if type(result) is tuple else (result,)
        return arrays[: len(arrays) - self.hidden] if self.hidden else arrays

    def returned(self, result, visible):
        """What a call gives back: the output of a forward that returned one array; the tuple
        of outputs of one that returned a tuple; and the one visible output of an op that
        hides the others (the sigmoid)."""
        if type(result) is not tuple or self.hidden and len(visible) == 1:
            return visible[0]
        return tuple(visible)

    def __repr__(self):
        return f"<op {self.name}>"


def _check_floats(out, name):
    """Only floats can require grad: a recorded op must return them."""
    for a in out if type(out) is tuple else [out]:
        if a.dtype.kind != "f":
            raise TypeError(
                f"{name}: forward returned {a.dtype} values, but an input requires grad; a "
                "differentiable op must return floats"
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
    """Where the gradient of tensor ``t`` goes: (its node, which output of it ``t`` is), ``t``
    itself for a leaf that requires grad, or None. A tensor changed in place outside the graph
    since its node made it is refused: its graph no longer gives its gradient."""
    node = t.grad_fn
    if node is None:
        return t if t._requires_grad else None
    if inplace.changed_since(node.versions[t.output_nr]):
        inplace.changed_outside_the_graph(t, where)
    return (node, t.output_nr)


def parent_nodes(node):
    """The nodes whose outputs ``node`` used (a leaf is no node): the graph's edges, for
    ``engine.toposort``."""
    return [e[0] for e in node.parents if type(e) is tuple]


numbers = itertools.count()  # Node.number: the order nodes (and a plan's steps) are made in


class Node:
    """A recorded call of an op: everything its backward rule needs, nothing that points back.

    * ``op``, ``inputs`` (the input Tensors) and ``params``;
    * ``parents``: for each input, where its gradient goes (``edge``);
    * ``outs``: the output *arrays* (``n_outputs`` of them; ``single`` when
      forward returned one array, not a tuple). Never the output Tensors:
      that would make a reference cycle;
    * ``versions``: what in-place changes (``minigrad/inplace.py``) need to
      know to refuse a rule that would read a value overwritten since;
    * ``number``: its place in the order nodes were made (``utils/checkpoint.py``
      finds a function's nodes by it).
    """

    hooks = None  # {output number: its tensor's hooks}, after register_hook (hooks.py)

    def __init__(self, op, inputs, params, result, outputs):
        self.op = op
        self.name = op.name
        self.inputs = inputs
        self.params = params
        self.parents = [edge(t, op.name) for t in inputs]
        self.single = type(result) is not tuple
        self.outs = (result,) if self.single else result
        self.n_outputs = len(self.outs)
        self.retained = None  # {output number: weakref to its tensor}, after retain_grad()
        self.created_at = mode.anomaly.location() if mode.anomaly else None
        self.number = next(numbers)
        self.versions = inplace.save_versions(inputs, outputs, self.n_outputs)  # in-place hook
        for k, t in enumerate(outputs):
            t.grad_fn, t.output_nr, t._requires_grad = self, k, True

    @property
    def needs(self):
        """For each input, whether it needs a gradient (``needs_input_grad``)."""
        return tuple([p is not None for p in self.parents])

    def vjp(self, grads):
        """(parent, gradient) for each input that needs a gradient, given ``grads``, the
        gradient of each output (None for an output that received none).

        The rule gets Tensors when grad mode is on (the backward pass is recorded,
        ``create_graph``), so its gradients can be differentiated again, and the
        numpy arrays otherwise. ``fit`` makes each gradient it returns match
        its input. A TypeError in the rule (numpy refusing the Tensor it got, as
        ``np.cos(x)`` does) is raised again naming the op, with what to do.
        """
        results = run_rule(self, grads, self.saved_values())
        return [
            (parent, fit(g, t.data, self, i))
            for i, (parent, g, t) in enumerate(zip(self.parents, results, self.inputs))
            if parent is not None and g is not None
        ]

    def saved_values(self):
        """The outputs and the inputs, for the rule: Tensors when the backward pass is recorded,
        arrays otherwise; a stand-in that refuses to be read for one changed in place since."""
        if mode.grad_enabled:
            values = [*map(self.output_tensor, range(self.n_outputs)), *self.inputs]
        else:
            values = [*self.outs, *[t.data for t in self.inputs]]
        return inplace.unchanged(self, values)  # the in-place hook

    def output_tensor(self, k):
        """Output k as a Tensor made by this node, for a rule that is recorded."""
        out = Tensor._wrap(self.outs[k])
        out.grad_fn, out.output_nr, out._requires_grad = self, k, True
        return inplace.same_version(out, self, k)


def run_rule(node, grads, values):
    """The rule of ``node``'s op on the gradients of its outputs and the saved ``values`` (its
    outputs, then its inputs): one result per input. (A compiled plan's steps run it too.)"""
    n = node.n_outputs
    grad, out = (grads[0], values[0]) if node.single else (tuple(grads), tuple(values[:n]))
    params = {**node.params, "needs_input_grad": node.needs} if node.op.takes_needs else node.params
    try:
        results = node.op.backward(grad, out, *values[n:], **params)
    except TypeError as error:  # numpy refusing a Tensor, say: named after the op
        raise named_error(error, f"backward of '{node.name}'") from error
    results = results if type(results) is tuple else (results,)
    if len(results) != len(node.inputs):
        raise RuntimeError(
            f"backward of '{node.name}': {len(results)} gradients for {len(node.inputs)} inputs"
        )
    return results


def fit(g, like, node, i):
    """Make rule output ``g`` the gradient of input i, whose values ``like`` (an array, or
    anything with its shape and dtype) are: summed back over broadcast axes (the one place
    broadcasting is undone), and cast to its dtype."""
    if not hasattr(g, "shape"):
        raise TypeError(
            f"backward of '{node.name}': a {type(g).__name__} for input {i}, not an array or None"
        )
    if g.shape != like.shape:
        g = sum_to_shape(g, like.shape, node.name)
    if g.dtype != like.dtype:
        g = g.to(like.dtype) if isinstance(g, Tensor) else g.astype(like.dtype)
    if mode.anomaly:
        mode.anomaly.check(g, f"backward of '{node.name}' (gradient for input {i})", node)
    return g


def sum_to_shape(g, shape, name):
    """Sum a broadcast gradient back to ``shape``."""
    lead = g.ndim - len(shape)
    if lead < 0 or any(n not in (1, m) for n, m in zip(shape, g.shape[lead:])):
        raise RuntimeError(
            f"backward of '{name}': a gradient of shape {g.shape} for an input of shape {shape}"
        )
    axes = (*range(lead), *(lead + i for i, n in enumerate(shape) if n == 1))
    return g.sum(axes, keepdims=True).reshape(shape)
