"""A plan made runnable: its passes, its generated forward, and its backward through the engine.

``CompiledPlan(plan, exact)`` runs the passes, then writes the forward as
Python (``codegen.py``). A call runs that forward on the arguments' arrays and
the arrays of the tensors fn read from outside, read afresh, and hangs the
results off **one node** of the eager graph: its op is the plan, its inputs
are those tensors, and its rule is the plan's backward. So ``backward()``,
``minigrad.grad``, ``retain_grad()`` and the optimisers see one node, and
eager code may come before and after.

The plan's backward is the engine's own pass, ``engine.gradients``, over the
plan's steps (they are nodes to it: ``plan.py``), with each step's rule run by
``graph.run_rule`` and each gradient made to fit by ``graph.fit``, as in
eager. That first run also records what each rule returned; from then on the
same pass, run once more with names in place of arrays, writes the backward
as straight-line code (``backward.py``), which later calls run instead.
"""

import numpy as np

from ..engine import gradients
from ..graph import Node, fit, run_rule
from ..inplace import Overwritten, StandIn
from ..switches import mode
from ..tensor import Tensor
from . import codegen, passes
from .backward import _key, write_backward
from .memory import keep_freed_memory


class CompiledPlan:
    """A plan, after its passes, with its generated forward and backward programs.

    ``str(plan)`` is the listing after the passes (with the backward, once it
    has run); ``plan.raw`` the listing before them; ``plan.passes`` what each
    pass did; ``plan.forward.source`` and ``plan.generated[...].source`` the code.
    """

    def __init__(self, plan, exact=True):
        keep_freed_memory()  # a replay's arrays reuse the last call's memory (memory.py)
        self.plan, self.exact = plan, exact
        self.name = plan.name
        self.raw = plan.listing()
        self.passes = []
        kinds = ["exact"] if exact else ["reassociating", "exact"]
        for kind in kinds:
            self._run(passes.FORWARD[kind], plan, kind)
        plan.saved = _saved(plan)
        self._run(passes.LAST, plan, "exact")
        self.stand_ins = {v: Unsaved(v, self.name) for v in _read_but_not_saved(plan)}
        self.forward = codegen.forward_source(plan)
        self.programs = {}  # (receiving, needs) -> the backward program, once it is written
        self.generated = {}  # (receiving, needs) -> its generated Python function

    def _run(self, chosen, target, kind):
        for p in chosen:
            note = p.run(target)
            if note:
                self.passes.append(PassNote(p.__name__.rsplit(".", 1)[-1], kind, note))

    # ---- forward ----------------------------------------------------------------------------

    def __call__(self, tensors):
        """Replay on ``tensors`` (the plan's leaves: arguments, then tensors from outside)."""
        try:
            outputs, saved = self.forward(*[t.data for t in tensors])
        except (ValueError, TypeError, IndexError) as error:  # named as Op.run_forward names it
            raise _named(error, self.forward) from error
        outs = self._wrapped(outputs, tensors)
        wanted = any(v.requires_grad for v in self.plan.outputs)
        if mode.grad_enabled and wanted and any(t.requires_grad for t in tensors):
            self._attach(tensors, outputs, saved, outs)
        return outs[0] if self.plan.single else tuple(outs)

    def _wrapped(self, outputs, tensors):
        """The outputs as tensors; one that is a view of a leaf, or of another output, shares
        its version counter, as it would in eager."""
        tensor_of = dict(zip(self.plan.leaves, tensors))
        outs = []
        for array, v in zip(outputs, self.plan.outputs):
            out = Tensor._wrap(array)
            base = tensor_of.get(v.view_of or v)
            if base is not None:
                out._share_memory_with(base)
            tensor_of.setdefault(v.view_of or v, out)
            outs.append(out)
        return outs

    def _attach(self, tensors, outputs, saved, outs):
        """Hang the outputs off one node, whose rule is the plan's backward; an output that
        needs no gradient in eager (an index, a detached state) gets no graph here either."""
        result = outputs[0] if self.plan.single else outputs
        Node(_Replay(self), tensors, {"saved": saved}, result, outs)
        for o, v in zip(outs, self.plan.outputs):
            if not v.requires_grad:
                o.grad_fn, o._requires_grad = None, False

    # ---- backward ---------------------------------------------------------------------------

    def backward(self, saved, leaves, outs, grads, needs):
        """The gradients of the leaves marked in ``needs``, given the outputs' (None where one
        has none). ``leaves`` and ``outs`` are what the node kept: arrays, or ``Overwritten``
        stand-ins for those changed in place since the forward."""
        key = (tuple(g is not None for g in grads), tuple(needs))
        given = [g for g in grads if g is not None]
        changed = _changed(self.plan.leaves + self.plan.outputs, [*leaves, *outs])
        if key in self.generated and not changed:
            return self.generated[key](saved, leaves, *given)
        found = self._interpret(self._env(saved, leaves, changed), key, given)
        if key not in self.generated and not changed:
            self.generated[key] = self._generate(key)
        return found

    def _env(self, saved, leaves, changed):
        """Each value backward may read, by its value of the plan. A value that shares its
        memory with one changed in place since the forward (a leaf, an output, a view of
        either) is an ``Overwritten`` stand-in, as eager's versions would make it."""
        env = dict(zip(self.plan.saved, saved))
        env.update(zip(self.plan.leaves, leaves))
        for v in [*self.plan.saved, *self.plan.leaves]:
            stand_in = changed.get(v.view_of or v)
            if stand_in is not None:
                env[v] = stand_in
        return env

    def _interpret(self, env, key, given):
        """The engine's pass over the steps, on arrays (the first run for ``key``)."""
        receiving, needs = key
        roots = [_key(v) for v, got in zip(self.plan.outputs, receiving) if got]
        targets = [v for v, need in zip(self.plan.leaves, needs) if need]
        found = gradients(roots, given, set(targets), lambda s, g: self._vjp(s, g, env))
        return [found.get(v) for v in targets]

    def _vjp(self, step, out_grads, env):
        """``Node.vjp`` for a step: ``graph.run_rule`` and ``graph.fit``, on the plan's arrays;
        records what the rule returned, for the backward program."""
        values = [env.get(v, self.stand_ins.get(v)) for v in (*step.outs, *step.inputs)]
        results = run_rule(step, out_grads, values)
        step.rule_results = [
            None if r is None else (np.shape(r), np.result_type(r)) for r in results
        ]
        return [
            (parent, fit(g, v, step, i))
            for i, (parent, g, v) in enumerate(zip(step.parents, results, step.inputs))
            if parent is not None and g is not None
        ]

    def _generate(self, key):
        program = write_backward(self.plan, *key)
        kinds = ["exact"] if self.exact else ["reassociating", "exact"]
        for kind in kinds:
            for p in passes.BACKWARD[kind]:
                note = p.run(program)
                if note:
                    program.notes.append(PassNote(p.__name__.rsplit(".", 1)[-1], kind, note))
        self.programs[key] = program
        return codegen.backward_source(program, self.stand_ins)

    # ---- printing ---------------------------------------------------------------------------

    def __str__(self):
        program = next(iter(self.programs.values()), None)
        return self.plan.listing(program)

    def __repr__(self):
        return f"<compiled plan of {self.name}: {len(self.plan.steps)} ops>"


class PassNote:
    """What one pass changed."""

    def __init__(self, name, kind, note):
        self.name, self.kind, self.note = name, kind, note

    def __str__(self):
        return f"{self.name} ({self.kind}): {self.note}"

    __repr__ = __str__


class _Replay:
    """The op of a compiled call's node: its rule is the plan's backward."""

    hidden = 0
    takes_needs = True
    saves = None

    def __init__(self, compiled):
        self.compiled = compiled
        self.name = f"compiled {compiled.name}"

    def backward(self, grad, out, *leaves, saved, needs_input_grad):
        grads = [grad] if self.compiled.plan.single else list(grad)
        if any(isinstance(g, Tensor) for g in grads):
            raise RuntimeError(
                f"backward of '{self.name}': create_graph=True is not supported through a "
                "compiled function; call it without compile to differentiate its gradients"
            )
        outs = [out] if self.compiled.plan.single else list(out)
        found = iter(self.compiled.backward(saved, leaves, outs, grads, needs_input_grad))
        return tuple(next(found) if need else None for need in needs_input_grad)


class Unsaved(StandIn):
    """Stands in for a value the plan does not keep for backward, because its op's ``saves``
    says no rule reads it. A rule that reads it after all raises, naming it."""

    def __init__(self, value, name):
        super().__init__(value)
        self.what = f"compile({name}): a rule read {value.name}"

    def refusal(self):
        return (
            f"{self.what}, which its op's `saves` says it does not read; the op's `saves` "
            "must list every value its rule reads"
        )


def _changed(values, kept):
    """{the memory's first value: its stand-in} for each of ``values`` that the node kept as
    an ``Overwritten`` stand-in (changed in place since the forward)."""
    return {v.view_of or v: x for v, x in zip(values, kept) if isinstance(x, Overwritten)}


def _saved(plan):
    """The values backward reads that the forward must hand on: what the steps' rules read
    (``Step.saved``), but the leaves, which the node keeps."""
    leaves = set(plan.leaves)
    saved = dict.fromkeys(v for step in plan.steps for v in step.saved() if v not in leaves)
    return list(saved)


def _read_but_not_saved(plan):
    """Values a rule gets (its outputs and inputs) that backward does not keep."""
    kept = set(plan.saved) | set(plan.leaves)
    return [
        v for step in plan.steps if step.recorded for v in (*step.outs, *step.inputs)
        if v not in kept
    ]  # fmt: skip


def _named(error, forward):
    """The error, named after the op of the step whose forward raised it."""
    from ..array_methods import named_error

    tb = error.__traceback__
    step = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<forward of"):
            step = forward.line_of.get(tb.tb_lineno)
        tb = tb.tb_next
    return named_error(error, step.name if step is not None else "compiled forward")
