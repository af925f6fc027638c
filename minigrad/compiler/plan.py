"""The plan: what one traced call of a function did, as data.

A plan is a small program, like a jaxpr: **values** (the function's tensor
arguments, the tensors it read from outside, and what each op made) and
**steps**, one per op call, in the order they ran::

    plan of loss_of(x: float64[4]): 4 ops
      c0: float64[3, 4], read from outside, a parameter (requires grad)
      v0 = matmul(c0, x)            float64[3]
      ...

A step is a node of a graph, as an eager ``Node`` is: it has ``parents`` (for
each input, where its gradient goes: ``(step, k)`` for output k of another
step, the input's value for an argument or a parameter, or None) and
``n_outputs``. So ``engine.toposort`` and ``engine.gradients`` walk a plan
exactly as they walk an eager graph, and the backward of a replay is the
engine's own pass (``run.py``), not a copy of it.

Every name here is the name the generated Python code uses (``codegen.py``):
a value ``v3`` is the local variable ``v3``, its gradient ``dv3``.
"""

import numpy as np

from ..graph import numbers
from ..switches import mode


class Value:
    """One value of a plan: its name, shape and dtype, and whether it requires grad.

    ``step`` is the step that makes it (None for an argument or a tensor read
    from outside) and ``k`` which of that step's outputs it is; ``view_of`` the
    first value whose memory it shares, if any: an in-place change of one of them
    is a change of all, as eager's version counters say.
    """

    __slots__ = ("name", "shape", "dtype", "requires_grad", "step", "k", "view_of")

    def __init__(self, name, shape, dtype, requires_grad=False, step=None, k=0):
        self.name = name
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.requires_grad = requires_grad
        self.step, self.k = step, k
        self.view_of = None  # the first value whose memory it shares, if it is a view

    def __repr__(self):
        return self.name

    def type_text(self):
        return f"{self.dtype.name}{list(self.shape)}"


class Step:
    """``outs = op(*inputs, **params)``: one op call (or one draw from the seeded generator).

    ``single`` is True when forward returned one array, not a tuple; ``outs``
    holds the hidden outputs too. ``parents``, ``needs`` and ``n_outputs`` make
    it a node for the engine; ``rule_results`` records, for each input, the shape
    and dtype of the gradient its rule returned (None for none) when the
    first backward ran, so that the generated backward can decide once what
    ``graph.fit`` decides at every call.
    """

    def __init__(self, op, inputs, params, outs, single, grad_enabled=True):
        self.op = op
        self.name = op.name
        self.inputs = inputs
        self.params = params
        self.outs = outs
        self.single = single
        self.grad_enabled = grad_enabled  # grad mode when the op was called
        self.n_outputs = len(outs)
        self.parents = [None] * len(inputs)
        self.needs = (False,) * len(inputs)
        self.rule_results = None
        self.number = next(numbers)  # as a Node's: the engine visits the newest first
        self.retained = self.hooks = None  # as a Node's: no output of a step keeps its gradient
        for k, v in enumerate(outs):
            v.step, v.k = self, k

    @property
    def recorded(self):
        """Whether the engine records this call: some input needs a gradient."""
        return any(self.needs)

    @property
    def visible(self):
        """The outputs a call returns (the hidden ones are kept for the rule only)."""
        return self.outs[: self.n_outputs - getattr(self.op, "hidden", 0)]

    def link(self):
        """The step's edges, decided as ``graph.edge`` decides them for a Node: an input made
        by a recorded step goes to that step's output, an input that requires grad and is
        made by no step is a leaf, and anything else gets no gradient. Nothing is recorded
        in no_grad mode, nor for a draw (a leaf of its own)."""
        if not (self.grad_enabled and hasattr(self.op, "backward")):
            return
        parents = [_edge(v) for v in self.inputs]
        recorded = any(p is not None for p in parents)
        self.parents = parents if recorded else [None] * len(parents)
        self.needs = tuple(p is not None for p in self.parents)
        for v in self.outs:
            v.requires_grad = recorded

    def saved(self):
        """The values this step's rule reads, given ``needs`` (``Op.saves``; all without it)."""
        if not self.recorded:
            return []
        saves = getattr(self.op, "saves", None)
        if saves is None:
            return [*self.outs, *self.inputs]
        names = _input_names(self.op, len(self.inputs))
        read = {r for name, need in zip(names, self.needs) if need for r in saves[name].split()}
        outs = self.outs if "out" in read else []
        return [*outs, *(v for v, name in zip(self.inputs, names) if name in read)]

    def __repr__(self):
        return f"<step {', '.join(v.name for v in self.outs)} = {self.name}>"


def _edge(value):
    if value.step is not None:
        return (value.step, value.k) if value.step.recorded else None
    return value if value.requires_grad else None


def _input_names(op, n):
    """The name of each of n inputs: the forward's arguments, the last repeated if variadic."""
    names = op.input_names
    return names if op.n_inputs is not None else names[:-1] + names[-1:] * (n - len(names) + 1)


class Plan:
    """A traced call as data: ``args`` (tensor arguments, by position or keyword), ``captured``
    (tensors read from outside: ``(value, tensor)``), ``steps`` and ``outputs``."""

    def __init__(self, name, args, captured, steps, outputs, single):
        self.name = name
        self.args = args  # (position or keyword, value)
        self.captured = captured  # (value, tensor)
        self.steps = steps
        self.outputs = outputs
        self.single = single  # fn returned one tensor, not a tuple
        self.grad_enabled = mode.grad_enabled
        self.relink()

    def relink(self):
        """Decide every step's edges again (after a pass changed the steps)."""
        for step in self.steps:
            step.link()

    @property
    def leaves(self):
        """The arguments and outside tensors, in the order the replay's node takes them."""
        return [v for _, v in self.args] + [v for v, _ in self.captured]

    def listing(self, backward=None):
        """The plan as text: arguments, outside tensors, each step with the type it makes, the
        outputs, and (given a backward program) the backward in the order the engine runs it."""
        args = ", ".join(f"{v.name}: {v.type_text()}" for _, v in self.args)
        lines = [f"plan of {self.name}({args}): {len(self.steps)} ops"]
        lines += [f"  {v.name}: {v.type_text()}, read from outside, {_kind(v)}"
                  for v, _ in self.captured]  # fmt: skip
        calls = [f"{_outs_text(s)} = {s.name}({_arguments_text(s)})" for s in self.steps]
        width = max((len(c) for c in calls), default=0)
        types = [_types_text(s) for s in self.steps]
        lines += [f"  {c:<{width}}  {t}" for c, t in zip(calls, types)]
        lines.append(f"  return {', '.join(v.name for v in self.outputs)}")
        if backward is not None:
            lines += ["  backward:"] + [f"    {line}" for line in backward.listing()]
        return "\n".join(lines)


def _kind(value):
    return "a parameter (requires grad)" if value.requires_grad else "a constant"


def _outs_text(step):
    """A step's outputs: every name up to 4 of them, else the first and the last; hidden ones
    in brackets."""
    visible = [v.name for v in step.visible]
    hidden = [f"[{v.name}]" for v in step.outs[len(visible) :]]
    if len(visible) > 4:
        visible = [visible[0], "…", visible[-1]]
    return ", ".join(visible + hidden)


def _types_text(step):
    types = [v.type_text() for v in step.visible]
    if len(set(types)) == 1 and len(types) > 1:
        return f"{len(types)} × {types[0]}"
    return ", ".join(types)


def _arguments_text(step):
    """A step's inputs by name, then its parameters (arrays among them left out)."""
    params = [f"{k}={v!r}" for k, v in step.params.items() if not isinstance(v, np.ndarray)]
    return ", ".join([v.name for v in step.inputs] + params)
