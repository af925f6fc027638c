"""Forward mode, with PyTorch's names: a tensor carries a tangent, and every op carries it on.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)    # x = primal + ε·tangent
        y = f(x)
        y_primal, jv = forward_ad.unpack_dual(y)     # jv = J·tangent, the directional derivative

Inside ``dual_level`` each op call whose inputs carry tangents computes its
output's tangent at once, by the op's JVP rule: ``jvp(self, tangents, out,
*inputs, **params)``, written next to its ``backward`` with minigrad's ops, the
derivative applied to the tangents (None for an input without one). One
forward pass gives J·v for one direction v, where reverse mode gives vᵀJ for
one cotangent: a recurrence's sensitivities carried forward in time are this
(real-time recurrent learning, ``theory.rtrl_gradients``).

An op without a JVP rule still works: its tangent is found by the double-vjp
trick, J·t = ∂/∂u ⟨Jᵀu, t⟩, from its backward rule (``_by_double_vjp``), so
an op written with only a backward rule works in forward mode too.

The rule gets numpy arrays, or, when the tangents or the inputs require grad
(``autograd.jvp(..., create_graph=True)``), Tensors, so that the tangent can
itself be differentiated.
"""

import weakref
from collections import namedtuple

import numpy as np

from ..grad_mode import enable_grad
from ..graph import run_rule
from ..switches import mode
from ..tensor import Tensor

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class dual_level:  # noqa: N801 - a context manager, named as PyTorch's
    """The block inside which tensors carry tangents (one level at a time).

    As in PyTorch, a tangent is computed with recorded ops (so it can be
    differentiated) when grad mode is on and the tangents or the inputs require
    grad; ``record=False`` computes every tangent on arrays, outside the graph
    (``autograd.jvp`` without ``create_graph``).
    """

    def __init__(self, record=True):
        self.record = record

    def __enter__(self):
        if mode.forward is not None:
            raise RuntimeError("dual_level: levels cannot be nested; use one dual_level block")
        if mode.trace is not None:
            raise RuntimeError(
                "dual_level: forward mode inside a compiled function is not supported; "
                "enter dual_level outside it (the function then runs eagerly)"
            )
        mode.forward = _Level(self.record)
        return self

    def __exit__(self, *exc):
        mode.forward.tangents.clear()  # what a tensor outliving the level carried goes now
        mode.forward = None


class _Level:
    """The tangents of one level. A tangent belongs to a value, as a gradient does: to a node's
    output for a tensor in the graph (so that the Tensors a backward rule is given for it carry
    it too, as forward-over-reverse needs), to the tensor itself otherwise. Kept while that lives.
    """

    def __init__(self, record):
        self.record = record
        self.tangents = {}

    def tangent(self, t):
        return self.get(*_owner(t))

    def attach(self, t, tangent):
        self.put(*_owner(t), tangent)

    def get(self, owner, k):
        entry = self.tangents.get((id(owner), k))
        return None if entry is None or entry[0]() is not owner else entry[1]

    def put(self, owner, k, tangent):
        key = (id(owner), k)
        if key not in self.tangents:
            weakref.finalize(owner, self.tangents.pop, key, None)
        self.tangents[key] = (weakref.ref(owner), tangent)

    def propagate(self, op, inputs, params, result, outs):
        """Carry the inputs' tangents through one op call onto its outputs (a hidden output's
        onto its node, for the rule that reads it)."""
        tangents = [self.tangent(t) for t in inputs]
        if all(t is None for t in tangents):
            return
        mode.forward = None  # the rule's own op calls carry no tangents
        try:
            out_tangents = output_tangents(op, inputs, params, result, outs, tangents, self.record)
        finally:
            mode.forward = self
        arrays = result if type(result) is tuple else (result,)
        node = outs[0].grad_fn if outs else None
        for k, (tangent, like) in enumerate(zip(out_tangents, arrays)):
            if k < len(outs):
                self.attach(outs[k], _as_tensor(tangent, like))
            elif node is not None:
                self.put(node, k, _as_tensor(tangent, like))


def _owner(t):
    return (t.grad_fn, t.output_nr) if t.grad_fn is not None else (t, 0)


def make_dual(tensor, tangent, *, level=None):
    """``tensor`` carrying ``tangent`` (same shape, same float dtype) in the current dual level.

    The result is a view of ``tensor`` in the graph (reverse mode still sees
    through it); ``tensor`` itself carries nothing. ``level`` is taken for
    PyTorch's signature: there is one level at a time.
    """
    _check_level("make_dual")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual: expected a Tensor and its tangent, a Tensor")
    if tangent.shape != tensor.shape or tangent.dtype != tensor.dtype or tensor.dtype.kind != "f":
        raise ValueError(f"make_dual: a tangent of shape {tangent.shape} and dtype "
                         f"{tangent.dtype} for a tensor of shape {tensor.shape} and dtype "
                         f"{tensor.dtype}; they must have the same shape and the same float "
                         "dtype")  # fmt: skip
    from ..ops import reshape

    mode.forward, level = None, mode.forward  # the view itself carries no tangent onward
    try:
        dual = reshape(tensor, tensor.shape)
    finally:
        mode.forward = level
    level.attach(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the tensor's values and the tangent it carries (None if it has none)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual: expected a Tensor, got {type(tensor).__name__}")
    tangent = None if mode.forward is None else mode.forward.tangent(tensor)
    return UnpackedDualTensor(tensor, tangent)


def in_place(t, operand, out_of_place, change):
    """An in-place change of ``t`` in forward mode (``minigrad/inplace.py`` calls it): ``change()``
    makes it as outside forward mode; t's tangent afterwards is that of ``out_of_place(old t)``,
    the same change written with ops, whose JVP rules give it."""
    from ..ops import clone

    level = mode.forward
    carried = any(level.tangent(x) is not None for x in (t, operand) if isinstance(x, Tensor))
    new = out_of_place(clone(t)) if carried else None
    mode.forward = None
    try:
        change()
    finally:
        mode.forward = level
    if carried:
        level.attach(t, level.tangent(new))
    return t


def _check_level(name):
    if mode.forward is None:
        raise RuntimeError(f"{name}: use it inside a forward_ad.dual_level() block")


# ---- one op's tangents ------------------------------------------------------------------------


def output_tangents(op, inputs, params, result, outs, tangents, record=True):
    """The tangent of each output of ``op(*inputs)`` (forward's, hidden ones too), given each
    input's (None for one without): the op's JVP rule, or the double-vjp trick without one."""
    arrays = result if type(result) is tuple else (result,)
    recorded = record and _differentiable(inputs, tangents)
    values = _values(inputs, outs, arrays, recorded)
    ts = [None if t is None else t if recorded else t.data for t in tangents]
    jvp = getattr(op, "jvp", None)
    if jvp is None:
        found = _by_double_vjp(op, inputs, params, result, values, ts, recorded)
    else:
        out = values[0] if type(result) is not tuple else tuple(values[: len(arrays)])
        found = jvp(tuple(ts), out, *values[len(arrays) :], **params)
    return found if type(found) is tuple else (found,)


def _differentiable(inputs, tangents):
    """Whether the tangents must be Tensors in the graph: grad mode is on and an input or a
    tangent requires grad (forward over reverse, or a tangent to be differentiated)."""
    return mode.grad_enabled and any(
        x is not None and x.requires_grad for x in [*inputs, *tangents]
    )


def _values(inputs, outs, arrays, recorded):
    """The outputs (all of forward's) and the inputs, as the rule gets them: Tensors when the
    tangent is recorded, arrays otherwise."""
    if not recorded:
        return [*arrays, *[t.data for t in inputs]]
    node = outs[0].grad_fn if outs else None
    made = [node.output_tensor(k) if node is not None else Tensor._wrap(a)
            for k, a in enumerate(arrays)]  # fmt: skip
    return [*made, *inputs]


class _Call:
    """What ``graph.run_rule`` reads of a node, for one op call (the double-vjp trick)."""

    def __init__(self, op, inputs, params, result):
        self.op, self.name, self.inputs, self.params = op, op.name, inputs, params
        self.single = type(result) is not tuple
        self.n_outputs = 1 if self.single else len(result)
        self.needs = tuple(True for _ in inputs)


def _by_double_vjp(op, inputs, params, result, values, tangents, recorded):
    """J·t for an op without a JVP rule: its rule gives Jᵀu, linear in u, so J·t is the
    gradient of ⟨Jᵀu, t⟩ with respect to u (at u = 0, any u would do)."""
    from .functional import grad

    arrays = result if type(result) is tuple else (result,)
    with enable_grad():
        us = [Tensor(np.zeros(a.shape, a.dtype), requires_grad=True) for a in arrays]
        vals = [v if isinstance(v, Tensor) else Tensor._wrap(v) for v in values]
        results = run_rule(_Call(op, inputs, params, result), us, vals)
        terms = [
            (r * t).sum() for r, t in zip(results, tangents) if r is not None and t is not None
        ]
        if not terms:
            return tuple(None for _ in us)
        return grad(sum(terms), us, allow_unused=True, create_graph=recorded)


def _as_tensor(tangent, out):
    """A tangent, as a Tensor of its output's shape and dtype (zeros for None)."""
    if tangent is None:
        return Tensor._wrap(np.zeros(out.shape, out.dtype))
    tangent = tangent if isinstance(tangent, Tensor) else Tensor._wrap(np.asarray(tangent))
    if tangent.shape != out.shape:
        tangent = tangent.broadcast_to(out.shape)
    return tangent if tangent.dtype == out.dtype else tangent.to(out.dtype)
