"""The engine: where backward happens.

``gradients`` is the one reverse-mode pass. It visits the nodes in
topological order (``toposort``), consumers before producers, so a node runs
once every consumer has added its share to the gradients of its outputs.
Each node applies its own rule (``Node.vjp``, in graph.py), and
``accumulate`` adds each result to the gradient of where that input came
from: an output of another node, ``(node, k)``, or a leaf.
``backward()`` stores the gradients the pass finds in ``.grad``;
``minigrad.grad()`` (autograd/functional.py) returns them.

Without ``create_graph`` the rules run on plain numpy arrays, and nothing is
recorded. With ``create_graph=True`` grad mode stays on, the rules get
Tensors, and the backward pass is recorded like any other computation, so the
gradients can be differentiated again.

The walk and the pass know a node only by ``parents``, ``n_outputs``,
``retained`` and its rule, so ``minigrad.compile`` runs them, unchanged, over
the steps of a plan.
"""

import heapq

import numpy as np

from . import hooks
from .grad_mode import set_grad_enabled
from .graph import Node, edge, parent_nodes
from .tensor import Tensor


def toposort(roots, parents=parent_nodes):
    """Yield every node reachable from ``roots`` once, after every node that uses its output.

    ``parents(node)`` gives the nodes whose outputs ``node`` used. Kahn's
    algorithm, and iterative, so a chain of 100,000 ops needs no recursion:
    count each node's consumers, then yield a node once all of its consumers
    have been yielded. Of the nodes ready, the newest (``Node.number``) goes
    first, as in PyTorch: so each node runs as soon as the graph allows, and a
    gradient is used soon after its last consumer adds to it (a sequence's
    steps do not leave their inputs' gradients waiting until the very end).
    """
    consumers, parents_of = _count_consumers(roots, parents)
    ready = [(-node.number, node) for node, count in consumers.items() if count == 0]
    heapq.heapify(ready)
    while ready:
        node = heapq.heappop(ready)[1]
        yield node
        for parent in parents_of[node]:
            consumers[parent] -= 1
            if consumers[parent] == 0:
                heapq.heappush(ready, (-parent.number, parent))


def _count_consumers(roots, parents):
    """For each node reachable from ``roots``: how many reachable nodes use its output; and
    its parents, as ``parents`` gives them."""
    consumers, parents_of = dict.fromkeys(roots, 0), {}
    stack = list(consumers)
    while stack:
        node = stack.pop()
        parents_of[node] = parents(node)
        for parent in parents_of[node]:
            if parent not in consumers:
                stack.append(parent)
            consumers[parent] = consumers.get(parent, 0) + 1
    return consumers, parents_of


def accumulate(total, g):
    """total + g: the one place where gradients are summed (``total`` is None at first)."""
    return g if total is None else total + g


def gradients(roots, grads, targets=None, vjp=None):
    """Reverse mode: the gradient of Σ root·grad with respect to each target, in a dict.

    Roots and targets are keys of the graph (``edge``): ``(node, k)``, standing
    for output k of a node, or a leaf tensor. With ``targets=None`` the targets
    are what ``backward()`` stores: every leaf that is reached, and every output
    whose tensor called ``retain_grad()``. With a set of targets, only the nodes
    on a path to one of them run their rule. ``vjp(node, grads)`` applies a
    node's rule (by default ``node.vjp(grads)``; a compiled plan passes its own).
    """
    vjp = vjp or Node.vjp
    keep = _stored_by_backward if targets is None else targets.__contains__
    pending, found = {}, {}
    for root, g in zip(roots, grads):
        pending[root] = accumulate(pending.get(root), g)
    nodes = toposort(_nodes_of(pending))
    for node in nodes if targets is None else _leading_to(nodes, targets):
        out_grads = _take(pending, node, keep, found)
        if out_grads:
            for parent, g in vjp(node, out_grads):
                pending[parent] = accumulate(pending.get(parent), g)
    found.update((key, hooks.on_final(key, g)) for key, g in pending.items() if keep(key))
    return found


def _nodes_of(keys):
    """The nodes among the keys ``(node, k)``, once each, in order (a leaf is no node)."""
    return list(dict.fromkeys(key[0] for key in keys if type(key) is tuple))


def _take(pending, node, keep, found):
    """The gradients of node's outputs, taken from ``pending`` (None for an output that got
    none), or [] if none got one; ``found`` keeps those of outputs that are targets."""
    grads = [pending.pop((node, k), None) for k in range(node.n_outputs)]
    if node.hooks is not None:  # register_hook on an output's tensor (hooks.py)
        grads = hooks.on_outputs(node, grads)
    if node.retained is not None or keep is not _stored_by_backward:  # an output may be a target
        _keep_targets(node, grads, keep, found)
    for g in grads:
        if g is not None:
            return grads
    return []


def _keep_targets(node, grads, keep, found):
    for k, g in enumerate(grads):
        if g is not None and keep((node, k)):
            found[(node, k)] = g


def _stored_by_backward(key):
    return type(key) is not tuple or key[0].retained is not None and key[1] in key[0].retained


def _leading_to(nodes, targets):
    """Of ``nodes`` (in topological order), the ones on a path to a target, in the same order."""
    nodes = list(nodes)
    leading = set()
    for node in reversed(nodes):  # a node's parents come after it, so they are decided first
        if any(p in targets or type(p) is tuple and p[0] in leading for p in node.parents):
            leading.add(node)
    return [node for node in nodes if node in leading]


def backward(tensors, grad_tensors=None, create_graph=False):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf they depend on.

    ``grad_tensors`` are the cotangents (dL/d tensor); they may be omitted for
    scalar outputs. This is what ``Tensor.backward()`` calls. Each ``.grad``
    becomes a new tensor: the old one plus this pass's gradient.
    """
    roots, grads = roots_and_cotangents(tensors, grad_tensors, create_graph, "backward")
    with set_grad_enabled(create_graph):
        for key, g in gradients(roots, grads).items():
            t = key[0].retained[key[1]]() if type(key) is tuple else key  # alive: used by a node
            t.grad = accumulate(t.grad, handed_out(g))


def handed_out(g):
    """A gradient given to the user: a Tensor of the recorded graph, or one with its own array
    (a rule's array may be read-only, or shared with another gradient)."""
    if isinstance(g, Tensor):
        return g if g._requires_grad else Tensor._wrap(g.data.copy())
    return Tensor._wrap(np.array(g))


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def roots_and_cotangents(outputs, gradients, create_graph, where):
    """The outputs' keys in the graph, and their cotangents: Tensors when the pass is recorded,
    arrays otherwise."""
    outputs = as_list(outputs)
    gradients = [None] * len(outputs) if gradients is None else as_list(gradients)
    if len(gradients) != len(outputs):
        raise ValueError(f"{where}: got {len(gradients)} gradients for {len(outputs)} outputs")
    grads = [_cotangent(y, g, where) for y, g in zip(outputs, gradients)]
    return [edge(y, where) for y in outputs], grads if create_graph else [g.data for g in grads]


def _cotangent(y, g, where):
    """dL/dy as a Tensor of y's shape and dtype (ones for a scalar y when g is None)."""
    if not isinstance(y, Tensor) or not y._requires_grad:
        raise RuntimeError(f"{where}: the output does not require grad (made under no_grad()?)")
    if g is None and y.data.size != 1:
        raise RuntimeError(f"{where}: the output has shape {y.shape}, so pass its gradient")
    g = np.ones(y.shape, y.dtype) if g is None else g
    g = g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g, dtype=y.dtype))
    if g.shape != y.shape:
        raise ValueError(f"{where}: gradient has shape {g.shape} but the output has {y.shape}")
    return g if g.dtype == y.dtype else g.to(y.dtype)
