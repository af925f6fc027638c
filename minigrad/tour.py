"""``python -m minigrad tour``: the README's first example, y = σ(Wx + b), shown step by step.

It prints the forward values, the graph (DOT text, or a PNG with ``--png``),
the backward pass as the engine ran it (``trace_backward``), and each
gradient the engine computed beside the same gradient from the chain rule
written out by hand, with the largest difference between them.
"""

import numpy as np

from . import viz
from .autograd.trace import trace_backward
from .creation import randn, zeros
from .random import manual_seed

CHAIN_RULE = """\
by the chain rule, with z = Wx + b, y = σ(z), L = Σ y:
  ∂L/∂y = 1;  ∂L/∂z = ∂L/∂y ⊙ σ'(z) = y ⊙ (1 − y);  ∂L/∂b = ∂L/∂z;  ∂L/∂(Wx) = ∂L/∂z;
  ∂L/∂W = (∂L/∂(Wx)) xᵀ"""


def example():
    """The tensors of the README's first example, after forward and backward, and the trace."""
    manual_seed(0)
    W = randn(3, 4, requires_grad=True)
    b = zeros(3, requires_grad=True)
    x = randn(4)
    z = W @ x + b
    y = z.sigmoid()
    loss = y.sum()
    with trace_backward(names=dict(W=W, b=b, x=x)) as trace:
        loss.backward()
    return dict(W=W, b=b, x=x, z=z, y=y, loss=loss), trace


def gradients(tensors, trace):
    """(name, formula, the engine's gradient, the gradient by hand) for every gradient the
    pass computed. The engine's come from the trace: what each input received."""
    by_op = {visit.node.name: visit.received for visit in trace.visits}
    y, x = tensors["y"].data, tensors["x"].data
    dz = np.ones_like(y) * (y * (1 - y))
    return [
        ("∂L/∂y", "1", by_op["sum"][0], np.ones_like(y)),
        ("∂L/∂z", "y ⊙ (1 − y)", by_op["sigmoid"][0], dz),
        ("∂L/∂(Wx)", "∂L/∂z", by_op["add"][0], dz),
        ("∂L/∂b", "∂L/∂z", by_op["add"][1], dz),
        ("∂L/∂W", "(∂L/∂z) xᵀ", by_op["matmul"][0], np.outer(dz, x)),
        ("W.grad", "(∂L/∂z) xᵀ", tensors["W"].grad.data, np.outer(dz, x)),
        ("b.grad", "∂L/∂z", tensors["b"].grad.data, dz),
    ]


def tour(png=None):
    """The tour's text, and the largest difference between the engine and the hand."""
    tensors, trace = example()
    lines = ["y = σ(Wx + b), L = Σ y; W and x drawn by randn after manual_seed(0), b = 0", ""]
    lines.append("1. forward")
    for name in ("W", "b", "x", "z", "y", "loss"):
        lines += _values(name, tensors[name].data)
    lines += ["", "2. the graph"]
    names = {k: tensors[k] for k in ("W", "b", "x")}
    if png:
        viz.draw(tensors["loss"], path=png, names=names)
        lines.append(f"drawn to {png}")
    else:
        lines.append("(Graphviz DOT: render it with `dot -Tpng`, or run the tour with --png FILE)")
        lines.append(viz.to_dot(tensors["loss"], names=names).rstrip())
    lines += ["", "3. backward, as the engine ran it", str(trace), ""]
    lines += ["4. each gradient, by the engine and by hand", CHAIN_RULE]
    largest = 0.0
    for name, formula, engine, hand in gradients(tensors, trace):
        difference = float(np.max(np.abs(engine - hand)))
        largest = max(largest, difference)
        lines += [f"{name} = {formula}"]
        lines += _values("  engine ", engine) + _values("  by hand", hand)
        lines.append(f"  largest |difference| {difference:.3g}")
    lines.append(f"largest difference over every gradient: {largest:.3g}")
    return "\n".join(lines), largest


def _values(name, array):
    text = np.array2string(np.asarray(array), precision=6, separator=", ", suppress_small=False)
    rows = text.splitlines()  # a matrix's later rows begin with a space, under the first "["
    pad = " " * (len(name) + 3)
    return [f"{name} = {rows[0]}", *[pad + row for row in rows[1:]]]
