"""Gradient checkpointing, as ``torch.utils.checkpoint``: keep less in the forward pass and
compute it again in the backward one.

    y = checkpoint(fn, *args)     # fn(*args), keeping none of fn's intermediate values

Backward needs each op's saved values (its inputs and outputs). A long
sequence keeps them for every step: BPTT's O(T·H) memory. ``checkpoint``
runs ``fn`` as usual, graph and all, then drops the values its nodes hold.
When backward reaches one of those nodes, ``fn`` runs again on the same
arguments, and each node gets back the values it had (the nodes are matched
in the order they were made, ``Node.number``); after its rule has run, a node
drops them again. The graph, the walk and the order in which gradients are
added are untouched, so the gradients are bit for bit those without
checkpointing; the cost is one more forward pass of ``fn``. Cut a sequence
into √T segments and the forward keeps √T boundary states, and the backward
one segment's values at a time: O(√T·H) (``make rtrl-cost`` measures it).

As in PyTorch (its default ``preserve_rng_state=True``), the random
generator's state is saved before ``fn`` runs and restored for the second run,
so dropout draws the same masks. A tensor ``fn`` read that changed in place
before backward is refused, and so is a function that changes its arguments in
place, or that makes different ops the second time. Only PyTorch's
non-reentrant form exists (``use_reentrant=False``; True is refused). Without
grad mode, or inside a function being traced by ``minigrad.compile`` (whose
plan keeps what it needs), ``fn`` just runs.
"""

from .. import graph
from ..grad_mode import enable_grad
from ..graph import Node, parent_nodes
from ..inplace import StandIn, read_by_rule
from ..random import get_rng_state, set_rng_state
from ..switches import mode
from ..tensor import Tensor


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, its intermediate values recomputed in backward."""
    if use_reentrant:
        raise ValueError("checkpoint: only the non-reentrant form exists; use use_reentrant=False")
    if not callable(function):
        raise TypeError(f"checkpoint: expected a function, got {type(function).__name__}")
    if not mode.grad_enabled or mode.trace is not None:
        return function(*args, **kwargs)
    return _Segment(function, args, kwargs, preserve_rng_state).run()


class _Segment:
    """One call of a checkpointed function: what it needs to run again, and its nodes."""

    def __init__(self, function, args, kwargs, preserve_rng_state):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state = get_rng_state() if preserve_rng_state else None
        self.nodes, self.outside, self.stand_ins = [], [], {}
        self.made_here, self.released = {}, set()  # by node

    def run(self):
        versions = _versions(self.args)
        outputs, self.nodes = self.call()
        if _versions(self.args) != versions:
            raise RuntimeError(
                "checkpoint: the function changed one of its arguments in place; running it "
                "again in backward would change it twice. Change a copy (x.clone()) instead"
            )
        made, outside = set(self.nodes), {}
        node_class = type("CheckpointedNode", (_CheckpointedNode,), {"segment": self})
        for node in self.nodes:
            node.__class__ = node_class  # no attribute added: a node's own dict stays small
            self.made_here[node] = tuple(i for i, t in enumerate(node.inputs) if t.grad_fn in made)
            outside.update((id(t), (t, t._version_counter.count)) for i, t in
                           enumerate(node.inputs) if i not in self.made_here[node])  # fmt: skip
            self.release(node)
        self.outside = list(outside.values())
        return outputs

    def call(self):
        """Run the function, in grad mode; its outputs, and the nodes it made that they
        depend on, in the order they were made."""
        first = next(graph.numbers)
        with enable_grad():
            outputs = self.function(*self.args, **self.kwargs)
        return outputs, _made_since(first, outputs)

    def recompute(self):
        """Run the function again, as it first ran, and give each node its values back."""
        for t, version in self.outside:
            if t._version_counter.count != version:
                raise RuntimeError(
                    f"checkpoint: a tensor of shape {t.shape} that the function read was "
                    "changed in place after it ran, so its gradient would be wrong; compute "
                    "the function again after the change"
                )
        state = get_rng_state()
        if self.rng_state is not None:
            set_rng_state(self.rng_state)
        try:
            _, nodes = self.call()
        finally:
            if self.rng_state is not None:
                set_rng_state(state)  # the generator goes on as if nothing had been drawn
        if [n.name for n in nodes] != [n.name for n in self.nodes]:
            raise RuntimeError(
                "checkpoint: the function made different ops when run again in backward "
                f"({len(nodes)} ops, against {len(self.nodes)}); it must compute the same thing "
                "from the same arguments each time"
            )
        for node, again in zip(self.nodes, nodes):
            self.restore(node, again)

    def release(self, node):
        """Drop the values ``node`` holds: its outputs and the inputs the function made. What
        stands in their place keeps their shapes and dtypes, for the engine, and is shared by
        the segment's values of one shape, so that a dropped step costs few bytes."""
        node.outs = tuple(self.stand_in(a).data for a in node.outs)
        made_here = self.made_here[node]
        node.inputs = [self.stand_in(t.data) if i in made_here else t
                       for i, t in enumerate(node.inputs)]  # fmt: skip
        self.released.add(node)

    def stand_in(self, value):
        key = (tuple(value.shape), value.dtype)
        if key not in self.stand_ins:
            self.stand_ins[key] = Tensor._wrap(_Dropped(value))
        return self.stand_ins[key]

    def restore(self, node, again):
        """Give ``node`` back the values its rule reads (``Op.saves``), from ``again``, the
        same node made by running the function again.

        In a first-order backward they come as bare arrays, so that ``again`` and the rest of
        the second graph are freed at once: a node the walk reaches late (a weight's
        transpose) then holds only what it reads. A recorded backward (``create_graph``)
        gets the second graph's tensors, through which its gradients can be differentiated
        again. The node keeps its own versions: the second run changed nothing in place
        that the first did not."""
        reads_outs, reads_inputs = read_by_rule(node.op, node.needs)
        node.outs = again.outs if reads_outs else tuple(self.stand_in(a).data for a in again.outs)
        made_here = self.made_here[node]
        node.inputs = [_kept(t) if reads else self.stand_in(t.data) if i in made_here else t
                       for i, (t, reads) in enumerate(zip(again.inputs, reads_inputs))]  # fmt: skip
        self.released.discard(node)


def _kept(t):
    return t if mode.grad_enabled else Tensor._wrap(t.data)


class _CheckpointedNode(Node):
    """A node of a checkpointed function: its values are computed again when its rule needs
    them, and dropped once it has read them."""

    def saved_values(self):
        if self in self.segment.released:
            self.segment.recompute()
        values = super().saved_values()
        self.segment.release(self)
        return values


class _Dropped(StandIn):
    """Stands for a value a checkpointed node dropped (it is computed again before any read)."""

    def refusal(self):
        return "checkpoint: a dropped value was read before it was computed again"


def _made_since(first, outputs):
    """The nodes numbered after ``first`` that ``outputs`` depend on, in the order made, but
    those of a checkpoint inside the function, which keep to their own segment."""
    found = {}
    stack = [t.grad_fn for t in _tensors(outputs) if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node.number > first and node not in found:
            found[node] = None
            stack.extend(parent_nodes(node))
    own = [node for node in found if not isinstance(node, _CheckpointedNode)]
    return sorted(own, key=lambda node: node.number)


def _tensors(outputs):
    """The Tensors among a function's outputs: one, or those in a tuple or list."""
    items = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return [t for t in items if isinstance(t, Tensor)]


def _versions(args):
    return [t._version_counter.count for t in _tensors(args)]
