"""See the graph: ``to_dot`` writes Graphviz DOT text (no dependency), ``draw`` a PNG or SVG
(with the optional ``plot`` extra, matplotlib, which pip installs on its own).

Both show the graph behind some tensors, as micrograd's ``draw_dot`` does:

* one box per tensor: its shape, and, when they are small enough to print, its
  values and its gradient. Leaves that require grad are marked ``leaf``, or
  ``parameter`` for an ``nn.Parameter``, with its name when a module is
  passed; tensors that need no gradient are marked ``constant``;
* one ellipse per op call, with arrows from its inputs and to its output.

The gradient in a box is ∂(sum of the roots)/∂(the tensor), computed for the
picture by the engine's own pass (``engine.gradients``) without touching any
``.grad``, so every tensor has one, not only the leaves. It is shown when the
roots are scalars that require grad.

A graph with more than ``max_ops`` op calls (an RNN unrolled over 50 steps has
hundreds) is cut: the calls nearest the roots are drawn, and the rest become
one box that counts them by op, so a picture stays readable.
"""

from collections import Counter
from pathlib import Path

import numpy as np

from .engine import gradients, toposort
from .grad_mode import no_grad
from .graph import edge
from .tensor import Tensor

MAX_VALUES = 12  # a tensor with more elements is shown by its shape alone


class Picture:
    """The graph as items and arrows, ready to be written as DOT or drawn.

    ``items`` maps a key to (kind, lines), kind being ``"tensor"``, ``"op"`` or
    ``"cut"``; ``arrows`` are (from key, to key) pairs, from inputs to outputs.
    """

    def __init__(self, roots, values=True, grads=True, module=None, names=None, max_ops=60):
        self.values, self.max_ops = values, max_ops
        self.names = {id(p): n for n, p in module.named_parameters()} if module else {}
        self.names.update((id(t), n) for n, t in (names or {}).items())
        self.items, self.arrows = {}, []
        nodes = list(toposort(_nodes_of(roots)))
        self.shown, hidden = nodes[:max_ops], nodes[max_ops:]
        self.grads = _gradients(roots, nodes) if grads else {}
        for node in self.shown:
            self._add_call(node)
        if hidden:
            self._add_cut(hidden)
        for root in roots:
            self._mark_output(root)

    def _mark_output(self, root):
        key = _key(root)
        if key not in self.items:
            self._add_tensor(key, root, root.data)
        kind, lines = self.items[key]
        self.items[key] = (kind, [lines[0] + "  (output)", *lines[1:]])

    def _add_call(self, node):
        op_key = ("op", id(node))
        self.items[op_key] = ("op", [node.name])
        for k, out in enumerate(node.outs[: node.n_outputs - node.op.hidden]):
            self._add_tensor(("node", id(node), k), None, out)
            self.arrows.append((op_key, ("node", id(node), k)))
        for t, parent in zip(node.inputs, node.parents):
            key = _key(t, parent)
            if type(parent) is tuple and parent[0] not in self.shown:
                key = ("cut",)
            elif key not in self.items:
                self._add_tensor(key, t, t.data)
            self.arrows.append((key, op_key))

    def _add_tensor(self, key, t, array):
        """A box: what the tensor is, its shape and dtype, its values and its gradient."""
        lines = [self._title(key, t), f"{array.dtype.name}{list(array.shape)}"]
        if self.values and array.size <= MAX_VALUES:
            lines += _numbers("value", array)
        grad = self.grads.get(key)
        if grad is not None and grad.size <= MAX_VALUES:
            lines += _numbers("grad", grad)
        self.items[key] = ("tensor", lines)

    def _title(self, key, t):
        if key[0] == "node":
            return "tensor"
        if id(t) in self.names:
            return self.names[id(t)]
        if t.requires_grad:
            return "parameter" if type(t).__name__ == "Parameter" else "leaf"
        return "constant"

    def _add_cut(self, hidden):
        counts = Counter(node.name for node in hidden)
        listed = ", ".join(f"{name} ×{n}" for name, n in counts.most_common())
        self.items[("cut",)] = ("cut", [f"… {len(hidden)} more op calls, not drawn:", listed])

    def to_dot(self):
        ids = {key: f"n{i}" for i, key in enumerate(self.items)}
        lines = ["digraph minigrad {", "  rankdir=LR;", '  node [fontname="monospace"];']
        for key, (kind, text) in self.items.items():
            shape = {"tensor": "box", "op": "ellipse", "cut": "note"}[kind]
            label = "\\n".join(_escaped(line) for line in text)
            lines.append(f'  {ids[key]} [shape={shape}, label="{label}"];')
        lines += [f"  {ids[a]} -> {ids[b]};" for a, b in dict.fromkeys(self.arrows)]
        return "\n".join(lines + ["}"]) + "\n"


def _key(t, parent=None):
    """Where a tensor's box is: the output of a node it is, or the tensor itself (a leaf, a
    constant)."""
    if type(parent) is tuple:
        return ("node", id(parent[0]), parent[1])
    if parent is None and t.grad_fn is not None:
        return ("node", id(t.grad_fn), t.output_nr)
    return ("tensor", id(t))


def _edge_key(edge):
    """The box of a key of the engine's pass: ``(node, k)`` or a leaf."""
    return ("node", id(edge[0]), edge[1]) if type(edge) is tuple else ("tensor", id(edge))


def _nodes_of(roots):
    return list(dict.fromkeys(r.grad_fn for r in roots if r.grad_fn is not None))


def _keys_of(nodes):
    """Every key of the engine's pass in ``nodes``: each output of each node, and each leaf."""
    leaves = {p for node in nodes for p in node.parents if isinstance(p, Tensor)}
    return leaves | {(node, k) for node in nodes for k in range(node.n_outputs)}


def _gradients(roots, nodes):
    """∂(Σ roots)/∂(each node's output and each leaf), by the engine's own pass, for scalar
    roots that require grad; {} otherwise. Keyed by the id of the node or the leaf."""
    if not roots or not all(r.requires_grad and r.data.size == 1 for r in roots):
        return {}
    with no_grad():
        keys = [edge(r, "to_dot") for r in roots]
        found = gradients(keys, [np.ones(r.shape, r.dtype) for r in roots], _keys_of(nodes))
    return {_edge_key(k): np.asarray(g) for k, g in found.items()}


def _numbers(what, array):
    """``what`` and the numbers of ``array``, one line per row of a matrix."""
    rows = array.reshape(-1, array.shape[-1]) if array.ndim > 1 else [array]
    texts = [np.array2string(r, precision=4, separator=", ", suppress_small=True) for r in rows]
    texts = [" ".join(t.split()) for t in texts]
    return [f"{what} {texts[0]}", *[" " * (len(what) + 1) + t for t in texts[1:]]]


def _escaped(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(*tensors, values=True, grads=True, module=None, names=None, max_ops=60):
    """The graph behind ``tensors`` as Graphviz DOT text (render it with ``dot -Tpng``, or
    with ``draw``). ``module`` names its parameters; ``names`` maps names to tensors."""
    picture = Picture(_check(tensors, "to_dot"), values, grads, module, names, max_ops)
    return picture.to_dot()


def draw(*tensors, path, values=True, grads=True, module=None, names=None, max_ops=60):
    """Draw the graph behind ``tensors`` to ``path`` (.png or .svg) with matplotlib: the same
    boxes as ``to_dot``, laid out in columns from the inputs on the left to the roots on the
    right. Returns the path."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"draw: path must end in .png or .svg, got {str(path)!r}")
    picture = Picture(_check(tensors, "draw"), values, grads, module, names, max_ops)
    try:
        from ._drawing import render
    except ImportError as error:
        raise ImportError(
            "draw: needs matplotlib; install the plot extra with: pip install -e '.[plot]' "
            "(to_dot needs nothing)"
        ) from error
    render(picture, path)
    return path


def _check(tensors, name):
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        got = ", ".join(type(t).__name__ for t in tensors) or "nothing"
        raise TypeError(f"{name}: expected one or more Tensors, got {got}")
    return tensors
