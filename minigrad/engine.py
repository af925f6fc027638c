"""The engine: where backward happens.

``backward()`` counts, for every node reachable from the roots, how many
consumers it has, then visits nodes in Kahn's order: a node runs once every
consumer has added its share to the node's gradient. The loop is iterative,
so a chain of 100,000 ops needs no recursion. For each node the engine calls
the op's backward rule and then does all the bookkeeping itself:

* it drops gradients for inputs that did not require grad;
* it sums a gradient back to its input's shape, undoing broadcasting
  (``_sum_to_shape``), and casts it to the input's dtype;
* it accumulates: into the pending gradient of the input's node, or into a
  leaf's ``.grad`` (``+=`` across backward calls, as in PyTorch).

Without ``create_graph`` the rules run on the plain numpy arrays: nothing is
recorded, a rule costs what its numpy does, and arrays the pass allocated
itself are summed into in place. With ``create_graph=True`` the same rules
get Tensors and are recorded like any other computation, so the gradients
are differentiable and second derivatives come for free.
"""

import operator

import numpy as np

from . import grad_mode
from .graph import Scatter
from .tensor import Tensor

_SWITCHES = grad_mode.switches
_DATA = operator.attrgetter("data")


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
    tensors, and only the part of the graph that leads to them is visited. An
    input the outputs do not depend on raises, unless ``allow_unused=True``,
    which returns None for it.
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


def _leading_to(roots, is_target):
    """The nodes whose backward rule must run for a gradient to reach a target tensor.

    A node is needed when one of its inputs is a target, or is produced by a
    needed node. Found by one iterative depth-first pass, children first.
    """
    needed, started = set(), set()
    stack = [(node, False) for node in roots]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            if any(is_target(t) or t.grad_fn in needed for t in node.inputs):
                needed.add(node)
        elif node not in started:
            started.add(node)
            stack.append((node, True))
            stack.extend((t.grad_fn, False) for t in node.inputs if t.grad_fn is not None)
    return needed


class _BackwardPass:
    """One run of reverse mode, from root gradients to the leaves (or to ``capture`` tensors).

    Gradients travel as plain numpy arrays, or as Tensors when the pass itself
    is recorded (``create_graph``); backward rules accept both. Gradients are
    summed in place only into arrays this pass allocated: an array a rule
    returned may be shared (``add`` passes one gradient to both of its inputs),
    so the first sum out of it makes a new array, and later ones add into that.
    """

    def __init__(self, create_graph, capture=None):
        self.create_graph = create_graph
        self.pending = {}  # node -> gradient of its output, summed over the consumers seen so far
        self.owned = set()  # nodes whose pending gradient is an array this pass allocated
        self.capture = capture
        self.captured = {}  # input position -> gradient, for grad()
        self.targets = {}  # node, or id of a leaf -> positions in ``capture``
        for i, t in enumerate(capture or ()):
            self.targets.setdefault(t.grad_fn or id(t), []).append(i)

    def run(self, roots, grads):
        previous = _SWITCHES.grad_enabled
        _SWITCHES.grad_enabled = self.create_graph
        try:
            for t, g in zip(roots, grads):
                self.deliver(t, g if self.create_graph else g.data)
            consumers = _count_consumers(self.pending)
            needed = None
            if self.capture is not None:
                needed = _leading_to(self.pending, lambda t: (t.grad_fn or id(t)) in self.targets)
            ready = [node for node in self.pending if node not in consumers]
            keeping = self.capture is not None
            while ready:
                node = ready.pop()
                grad = self.pending.pop(node, None)
                if grad is not None:
                    if keeping or node.retained is not None:
                        self.receive(node, grad)
                    if needed is None or node in needed:
                        self.visit(node, grad)
                for t in node.inputs:
                    parent = t.grad_fn
                    if parent is not None:
                        consumers[parent] -= 1
                        if consumers[parent] == 0:
                            ready.append(parent)
        finally:
            _SWITCHES.grad_enabled = previous
        return {i: self.as_tensor(g) for i, g in self.captured.items()}

    def as_tensor(self, g):
        """A captured gradient for the caller of grad(): a graph Tensor, or an array of its own
        (a rule's array may be read-only or shared with other gradients)."""
        return g if isinstance(g, Tensor) else Tensor._wrap(np.array(g))

    def receive(self, node, grad):
        """The complete gradient of a node's output: keep it where it was asked for."""
        if self.capture is not None:
            for i in self.targets.get(node, ()):
                self.captured[i] = grad
        elif node.retained is not None:
            t = node.retained()
            if t is not None:
                self.accumulate_grad(t, grad)

    def visit(self, node, grad):
        """Call the node's backward rule and pass each input's gradient on."""
        if node.epoch != _SWITCHES.inplace_epoch:
            node.check_versions()
        if self.create_graph:  # Tensors, and the output joined to the node, so all is recorded
            out = Tensor._wrap(node.out)
            out._requires_grad = True
            out.grad_fn = node
            inputs = node.inputs
        else:
            out = node.out
            inputs = list(map(_DATA, node.inputs))
        if _SWITCHES.anomaly_enabled:
            grads = _run_rule_checked(node, grad, out, inputs)
        elif node.params:
            grads = node.op.backward(grad, out, *inputs, **node.params)
        else:
            grads = node.op.backward(grad, out, *inputs)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(node.inputs):
            raise RuntimeError(
                f"backward of '{node.name}' returned {len(grads)} gradients for "
                f"{len(node.inputs)} inputs"
            )
        pending = self.pending
        for i, (t, g, needs) in enumerate(zip(node.inputs, grads, node.needs_grad)):
            if not needs or g is None:
                continue
            if callable(g):  # computed only now that it is known to be needed
                g = g()
            parent = t.grad_fn
            if (  # the common case, inlined: an array of the right shape, first at its node
                type(g) is np.ndarray
                and parent is not None
                and parent not in pending
                and g.shape == t.data.shape
                and g.dtype == t.data.dtype
                and not _SWITCHES.anomaly_enabled
            ):
                pending[parent] = g
            else:
                self.deliver(t, self.fit(g, t, node, i))

    def fit(self, g, t, node, i):
        """Make rule output ``g`` a gradient for input ``t``: check it, unbroadcast it, cast it."""
        if type(g) is Scatter:
            return g
        if isinstance(g, Tensor):
            if not self.create_graph:
                g = g.data
        elif isinstance(g, np.generic):
            g = np.asarray(g)  # numpy gives scalars, not 0-d arrays, from 0-d arithmetic
        elif not isinstance(g, np.ndarray):
            raise TypeError(
                f"backward of '{node.name}' returned {type(g).__name__} for input {i}; "
                "expected a Tensor, an array or None"
            )
        if g.shape != t.data.shape:
            g = _sum_to_shape(g, t.shape, node.name)
        if g.dtype != t.data.dtype:
            g = g.to(t.dtype) if self.create_graph else g.astype(t.dtype)
        if _SWITCHES.anomaly_enabled:
            data = g.data if self.create_graph else g
            grad_mode.check_finite(
                data, f"backward of '{node.name}' (gradient for input {i})", node
            )
        return g

    def deliver(self, t, g):
        """Add gradient ``g`` to whatever collects the gradient of tensor ``t``."""
        node = t.grad_fn
        if node is not None:
            self.pending[node], owned = self.sum(self.pending.get(node), node in self.owned, g, t)
            if owned:
                self.owned.add(node)
        elif self.capture is not None:
            for i in self.targets.get(id(t), ()):
                self.captured[i], _ = self.sum(self.captured.get(i), False, g, t)
        else:
            self.accumulate_grad(t, g)

    def accumulate_grad(self, t, g):
        """t.grad += g.

        A ``.grad`` that does not require grad is always an array the engine
        allocated for this tensor alone, so later passes may add into it in
        place; the first gradient is therefore copied unless it is part of a
        graph (create_graph).
        """
        current = t._grad
        if self.create_graph:
            total, _ = self.sum(current, False, g, t)
            if not total._requires_grad:  # a constant: make it this tensor's own array
                total = Tensor._wrap(total.data.copy())
        elif current is None or current._requires_grad:
            base = None if current is None else current.data
            total = Tensor._wrap(_owned_copy(*self.sum(base, False, g, t)))
        else:
            self.sum(current.data, True, g, t)  # in place: a graph that used the old .grad
            current._bump_version()  # must refuse to backpropagate through it now
            return
        t._grad = total

    def sum(self, total, owned, g, like):
        """``total + g`` (``total`` may be None). Returns (sum, whether this pass owns it)."""
        scattered = type(g) is Scatter
        if self.create_graph:  # record the sum so that it can be differentiated too
            g = g.dense(like.dtype) if scattered else g
            return (g if total is None else total + g), False
        if total is None:
            if not scattered:
                return g, False  # borrowed: the rule's array may be shared
            total, owned = np.zeros(g.shape, dtype=like.dtype), True
        elif not owned:
            if not scattered:
                return np.asarray(total + g), True
            total, owned = total.copy(), True
        if scattered:
            g.add_into(total)
        else:
            np.add(total, g, out=total)
        return total, True


def _owned_copy(array, owned):
    return array if owned else array.copy()


def _run_rule_checked(node, grad, out, inputs):
    """The node's backward rule in anomaly mode. The ops inside the rule are not checked one
    by one: the gradients it returns are (in ``fit``), so the error names this node."""
    _SWITCHES.anomaly_enabled = False
    try:
        return node.op.backward(grad, out, *inputs, **node.params)
    finally:
        _SWITCHES.anomaly_enabled = True


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
