"""Tracing: the first call of a compiled function runs it eagerly and records its plan.

While fn runs, ``mode.trace`` is a ``Trace``: ``Op.apply`` (and each draw from
the seeded generator, and each recorded in-place write) reports every call to
``record``, which adds a step to the plan. A tensor becomes a value of the
plan the first time it is seen: an argument, a tensor read from outside
(``c0``, ``c1``, ...: a module's parameters, or a constant fn made), or an
output of a step. An in-place change in the graph makes the changed tensor
stand for the step's new output from then on.

What a replay could not reproduce is refused, naming fn: reading a tensor's
values for Python (``item()``, ``.data``, ``np.asarray``), changing a tensor
from outside in place, running backward inside fn, and changing a module's
``training`` flag inside fn.
"""

import contextlib
import sys

from ..switches import mode
from ..tensor import Tensor
from .plan import Plan, Step, Value


class Trace:
    """One call of fn being recorded."""

    def __init__(self, name, args, names):
        self.name = name
        self.steps = []
        self.count = 0  # values made by steps
        self.seen = {}  # id(tensor) -> (value, tensor, its version then); holding it keeps the id
        self.args = []  # (position or keyword, value)
        self.captured = []  # (value, tensor)
        self.by_node = {}  # (node, k) -> the value of that output, for tensors written in place
        self.outside = {}  # arguments and captured tensors -> (version, .grad) when first seen
        self.modules = {}  # id -> every module fn called or whose training flag it read
        self.counters = {}  # id of a version counter -> the first value seen with it
        self.flags = {}  # (id of a module, flag's name) -> its value, as fn first read it
        for key, a in args:
            if isinstance(a, Tensor):
                self.args.append((key, self._add(a, names(key))))
                self.outside[a] = (a._version, a.grad)

    def _add(self, t, name):
        value = Value(name, t.shape, t.dtype, t.requires_grad)
        self.seen[id(t)] = (value, t, t._version)
        self._share(value, t)
        return value

    def _share(self, value, t):
        """Note which earlier value ``t`` is a view of (the first with its version counter)."""
        base = self.counters.setdefault(id(t._version_counter), value)
        value.view_of = None if base is value else base

    def value(self, t):
        """The value tensor ``t`` stands for: one of the trace, or a new tensor from outside."""
        entry = self.seen.get(id(t))
        if entry is None:
            value = self._add(t, f"c{len(self.captured)}")
            self.captured.append((value, t))
            self.outside[t] = (t._version, t.grad)
            return value
        value, _, version = entry
        if t._version == version:
            return value
        value = self.by_node.get((t.grad_fn, t.output_nr))  # written in place, in the graph
        if value is None:
            raise RuntimeError(
                f"compile({self.name}): fn changed a tensor of shape {t.shape} in place outside "
                "the graph (under no_grad, or a tensor that does not require grad), which a "
                "replay would not do; write it out of place inside a compiled function"
            )
        self.seen[id(t)] = (value, t, t._version)
        return value

    def record(self, op, tensors, params, result, outs):
        """``op(*tensors, **params)`` gave ``result`` (forward's array, or tuple of them, hidden
        outputs too), returned as the tensors ``outs``: a step of the plan."""
        inputs = [self.value(t) for t in tensors]
        arrays = result if type(result) is tuple else (result,)
        values = [Value(f"v{self.count + k}", a.shape, a.dtype) for k, a in enumerate(arrays)]
        self.count += len(values)
        step = Step(op, inputs, params, values, type(result) is not tuple, mode.grad_enabled)
        self.steps.append(step)
        for k, t in enumerate(outs):
            self.seen[id(t)] = (values[k], t, t._version)
            self._share(values[k], t)
            if t.grad_fn is not None:
                self.by_node[(t.grad_fn, t.output_nr)] = values[k]

    def changed(self, t):
        """``t`` was just changed in place: refused for a tensor fn was given or read from
        outside, or one it has not touched yet (which is from outside too)."""
        if id(t) not in self.seen or t in self.outside:
            raise self._changed_from_outside(t)

    def _changed_from_outside(self, t):
        return RuntimeError(
            f"compile({self.name}): fn changed a tensor of shape {t.shape} that it was "
            "given or read from outside in place, which a replay would not do; change "
            "it outside the compiled function"
        )

    def module(self, m):
        """fn called module ``m`` (or read its ``training`` flag): the plan holds only while
        m's state (parameters, submodules, flags, numbers) is as it is now (``guards.py``)."""
        self.modules.setdefault(id(m), m)

    def guard(self, obj, name, value):
        """fn read ``obj.name`` (a module's ``training``): the plan holds only while it is
        ``value``. fn may not change it meanwhile, which a replay would not do."""
        self.module(obj)
        key = (id(obj), name)
        first = self.flags.setdefault(key, value)
        if first != value:
            raise RuntimeError(
                f"compile({self.name}): fn changed the {name} of a {type(obj).__name__} while it "
                "ran (train() or eval()), which a replay would not do; change it outside"
            )

    def refuse_read(self, t, what):
        raise RuntimeError(
            f"compile({self.name}): fn reads a tensor's values for Python ({what}), which would "
            "freeze them into the plan; return the tensor and read it after the call, or "
            "call the function without compile"
        )

    def plan(self, outputs):
        """The plan of this call, once fn returned ``outputs``."""
        single = isinstance(outputs, Tensor)
        outputs = (outputs,) if single else outputs
        if not isinstance(outputs, tuple) or not all(isinstance(o, Tensor) for o in outputs):
            raise TypeError(
                f"compile({self.name}): fn must return a Tensor or a tuple of Tensors, "
                f"got {type(outputs).__name__}"
            )
        self._check_no_side_effects()
        values = [self.value(o) for o in outputs]
        return Plan(self.name, self.args, self.captured, self.steps, values, single)

    def _check_no_side_effects(self):
        """fn may not change what it was given or read from outside: a replay would not."""
        for t, (version, grad) in self.outside.items():
            if t._version != version:
                raise self._changed_from_outside(t)
            if t.grad is not grad:
                raise RuntimeError(
                    f"compile({self.name}): fn runs backward (a .grad changed), which a replay "
                    "would not do; compile the forward and call backward() on its result"
                )


@contextlib.contextmanager
def tracing(trace):
    """Make ``trace`` the trace every op call reports to, and refuse ``.data`` read by fn (not by
    minigrad itself) while it runs: a property stands in for the slot until the block ends."""
    slot = Tensor.__dict__["data"]

    def read(t):
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller != "minigrad" and not caller.startswith("minigrad."):
            trace.refuse_read(t, ".data")
        return slot.__get__(t, Tensor)

    mode.trace = trace
    Tensor.data = property(read, slot.__set__)
    try:
        yield trace
    finally:
        Tensor.data = slot
        mode.trace = None
