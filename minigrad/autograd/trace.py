"""Watch backward run: ``trace_backward`` records each node as the engine visits it.

    with minigrad.autograd.trace_backward() as trace:
        loss.backward()
    print(trace)

The table lists, in the order the engine visited them: each node and its op,
the shapes of its output and inputs, the norm of the gradient that arrived at
it (∂L/∂output), and the norm of what each input received from its rule; then,
for each leaf, the norm of what the pass added to its ``.grad``.

While the block runs, ``Node.vjp``, the one call through which the engine
applies a rule, is wrapped by one that records its argument and its result;
outside the block nothing is wrapped, so tracing costs nothing when it is off.
Each visit keeps the arrays themselves too (``Visit.grad``, ``Visit.received``).
"""

import numpy as np

from ..graph import Node
from ..tensor import Tensor


def _array(g):
    """A gradient as an array: a Tensor's data (a recorded pass), or the array itself."""
    return g.data if isinstance(g, Tensor) else g


class Visit:
    """One node as the engine visited it: the gradient that arrived at each of its outputs
    (``grads``; ``grad`` for the first), and what each input got (None for an input that
    needs no gradient)."""

    def __init__(self, node, grads, pairs):
        self.node = node
        self.grads = [None if g is None else _array(g) for g in grads]
        self.grad = self.grads[0]
        self.received = [None] * len(node.inputs)
        i = 0
        for parent, g in pairs:  # in input order: the first input from i on with this parent
            while node.parents[i] is not parent:
                i += 1
            self.received[i] = _array(g)
            i += 1
        self.leaves = [(p, self.received[i]) for i, p in enumerate(node.parents)
                       if isinstance(p, Tensor)]  # fmt: skip


class trace_backward:  # noqa: N801 - a context manager, named like no_grad
    """Record every node that backward visits (see the module docstring).

    ``module`` names the leaves that are its parameters; ``names`` maps more names to
    tensors. The trace is a list of ``Visit`` (``trace.visits``); ``str(trace)`` is the
    table; ``trace.added(leaf)`` is what the pass added to that leaf's ``.grad``.
    """

    def __init__(self, module=None, names=None):
        self.visits = []
        self.names = {id(p): n for n, p in module.named_parameters()} if module else {}
        self.names.update((id(t), n) for n, t in (names or {}).items())
        self._vjp = None

    def __enter__(self):
        self._vjp = vjp = Node.vjp
        visits = self.visits

        def recorded(node, grads):
            pairs = vjp(node, grads)
            visits.append(Visit(node, grads, pairs))
            return pairs

        Node.vjp = recorded
        return self

    def __exit__(self, *exc):
        Node.vjp = self._vjp

    def added(self, leaf):
        """The sum of what the pass gave ``leaf``: what it added to ``leaf.grad``."""
        parts = [g for visit in self.visits for p, g in visit.leaves if p is leaf]
        return sum(parts[1:], parts[0].copy()) if parts else None

    def leaves(self):
        """The leaves that received a gradient, in the order they first did."""
        seen = {}
        for visit in self.visits:
            for p, _ in visit.leaves:
                seen.setdefault(id(p), p)
        return list(seen.values())

    def name(self, t, fallback):
        return self.names.get(id(t), fallback)

    def __str__(self):
        rows = [("step", "node", "output", "inputs", "‖grad in‖", "each input received, ‖·‖")]
        for step, visit in enumerate(self.visits, 1):
            node = visit.node
            inputs = ", ".join(_shape(t.shape) for t in node.inputs)
            got = "; ".join(
                self._received(i, t, g) for i, (t, g) in enumerate(zip(node.inputs, visit.received))
            )
            shown = node.outs[: len(node.outs) - node.op.hidden]
            outputs = ", ".join(_shape(o.shape) for o in shown)
            grad_in = [g for g in visit.grads if g is not None]
            rows.append((str(step), node.name, outputs, inputs, _norm(grad_in), got))
        lines = [f"backward visited {len(self.visits)} nodes, in this order:", *_table(rows)]
        lines.append("leaves: what the pass added to .grad")
        leaf_rows = [(self.name(leaf, f"leaf {i}"), _shape(leaf.shape), _norm(self.added(leaf)))
                     for i, leaf in enumerate(self.leaves())]  # fmt: skip
        return "\n".join(lines + _table([("leaf", "shape", "‖added‖"), *leaf_rows]))

    def _received(self, i, t, g):
        label = self.name(t, f"input {i}")
        return f"{label}: none (needs no gradient)" if g is None else f"{label}: {_norm(g)}"

    def __repr__(self):
        return f"<trace_backward: {len(self.visits)} visits>"


def _shape(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


def _norm(g):
    """‖g‖, or the norm of all of them together for a list (a node's several outputs)."""
    parts = g if isinstance(g, list) else [g]
    return f"{float(np.sqrt(sum(np.sum(np.square(p)) for p in parts))):.4g}"


def _table(rows):
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    return ["  " + line.rstrip() for line in lines]
