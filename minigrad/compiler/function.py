"""``CompiledFunction``: fn with its plans, and the signature and guards that pick one.

A call with a signature seen before replays the first of that signature's plans
whose guards hold (``guards.py``); otherwise it traces fn again, and keeps the
new plan. A function keeps its ``cache_size`` most recent plans.
"""

import functools
import inspect
import keyword
import re
from collections import OrderedDict

import numpy as np

from ..switches import mode
from ..tensor import Tensor
from . import guards
from .run import CompiledPlan
from .trace import Trace, tracing

_CONSTANTS = (bool, int, float, str, type(None), np.integer, np.floating)
_VALUE = re.compile(r"^[acgv]\d+$")  # the names the generated code gives its own values
_TERM = re.compile(r"_\d+$")  # the ending of a gradient's later terms: dv3_1, dv3_2
_RESERVED = {"saved", "leaves", "forward", "backward", "type", "tuple", "map", "None"}


def compile(fn=None, *, cache_size=8, exact=True):  # noqa: A001 - PyTorch's name
    """A compiled ``fn``: traced at the first call with each signature, replayed after.

    ``exact=True`` (the default) keeps every result equal to eager's bit for bit;
    ``exact=False`` also runs the reassociating passes (``passes/``), equal to eager
    to about 1e-12 relative in float64.
    """
    if fn is None:
        return functools.partial(compile, cache_size=cache_size, exact=exact)
    return CompiledFunction(fn, cache_size, exact)


class CompiledFunction:
    """``fn`` with its plans. Call it as ``fn``; ``plan`` is the plan of the latest call."""

    def __init__(self, fn, cache_size=8, exact=True):
        if not callable(fn):
            raise TypeError(f"compile: expected a function, got {type(fn).__name__}")
        if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 1:
            raise ValueError(f"compile: cache_size must be a positive int, got {cache_size!r}")
        if not isinstance(exact, bool):
            raise TypeError(f"compile: exact must be True or False, got {exact!r}")
        functools.update_wrapper(self, fn)
        self.fn, self.cache_size, self.exact = fn, cache_size, exact
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.plans = OrderedDict()  # signature -> its plans, newest first; most recent key last
        self.plan = None
        self.traces = 0  # how many times fn has been traced

    def __call__(self, *args, **kwargs):
        if mode.trace is not None or mode.anomaly is not None or mode.forward is not None:
            return self.fn(*args, **kwargs)  # eager: each op is checked, traced or carries tangents
        key = self.signature(args, kwargs)
        plan = next((p for p in self.plans.get(key, ()) if _fits(p, args, kwargs)), None)
        if plan is None:
            return self._trace(key, args, kwargs)
        self.plans.move_to_end(key)
        self.plan = plan
        return plan(_leaves(plan, args, kwargs))

    def signature(self, args, kwargs):
        """What a plan is valid for: grad mode, then each argument's kind and description,
        by position and by keyword, and which tensor arguments are one and the same (the
        plan reads such a tensor once)."""
        named = [*enumerate(args), *((k, kwargs[k]) for k in sorted(kwargs))]
        first = {}
        same = tuple(first.setdefault(id(a), key) for key, a in named if isinstance(a, Tensor))
        parts = [mode.grad_enabled, same]
        return tuple(parts + [(key, self._describe(a, key)) for key, a in named])

    def _describe(self, a, where):
        if isinstance(a, Tensor):
            return ("tensor", a.shape, a.dtype, a.requires_grad)
        if isinstance(a, _CONSTANTS):
            return ("constant", type(a), a)
        kind = f"argument {where}" if isinstance(where, int) else f"keyword argument {where!r}"
        raise TypeError(
            f"compile({self.name}): {kind} is a {type(a).__name__}; pass Tensors, numbers or "
            "strings (a numpy array as minigrad.from_numpy(array))"
        )

    def _trace(self, key, args, kwargs):
        named = [*enumerate(args), *kwargs.items()]
        trace = Trace(self.name, named, _namer(self.fn, len(args)))
        with tracing(trace):
            outputs = self.fn(*args, **kwargs)
        plan = CompiledPlan(trace.plan(outputs), self.exact)
        plan.guards = guards.of(self.fn, trace)
        plan.positions = [key for key, _ in trace.args]
        plan.pinned = _pinned(plan, args, kwargs)
        self.traces += 1
        self._keep(key, plan)
        if not self.exact:  # every result of an inexact plan comes from the plan, the first too
            return plan(_leaves(plan, args, kwargs))
        return outputs  # the traced call's own result: eager, with its whole graph

    def _keep(self, key, plan):
        self.plan = plan
        self.plans[key] = [plan, *self.plans.get(key, ())]
        self.plans.move_to_end(key)
        while sum(map(len, self.plans.values())) > self.cache_size:  # the oldest plan goes
            oldest = next(iter(self.plans))
            self.plans[oldest].pop()
            if not self.plans[oldest]:
                del self.plans[oldest]

    def __repr__(self):
        return f"<compiled {self.name}: {sum(map(len, self.plans.values()))} plan(s)>"


def _argument(args, kwargs, key):
    return args[key] if isinstance(key, int) else kwargs[key]


def _pinned(plan, args, kwargs):
    """The tensor arguments that were also tensors fn can reach from outside (a global, a
    module's parameter): the trace saw one value for both, so the plan holds only while the
    argument is that same tensor."""
    outside = {id(t) for t in plan.guards.tensors_seen()}
    return [(key, a) for key in plan.positions if id(a := _argument(args, kwargs, key)) in outside]


def _fits(plan, args, kwargs):
    """Whether ``plan`` may be replayed on these arguments: its guards hold, and each pinned
    argument is the tensor it was."""
    return plan.guards.hold() and all(_argument(args, kwargs, k) is t for k, t in plan.pinned)


def _leaves(plan, args, kwargs):
    """The tensors a replay runs on: the tensor arguments, then the tensors read from outside."""
    given = [_argument(args, kwargs, k) for k in plan.positions]
    return given + [t for _, t in plan.plan.captured]


def _namer(fn, n_positional):
    """A function giving each argument its name in the plan: the parameter's name where it is
    a safe one (not a name the generated code uses for its own values), else ``a0``, ``a1``."""
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()]
    except (TypeError, ValueError):
        names = []

    def name(key):
        text = key if isinstance(key, str) else names[key] if key < len(names) else ""
        return text if _safe(text, names) else f"a{key}" if isinstance(key, int) else f"a_{key}"

    return name


def _safe(text, names):
    """Whether ``text`` can name a value in generated code: an identifier that is no keyword,
    not one of the code's own names (``v3``, ``c0``, ``g0``, ...), not ending as a gradient's
    later terms do (``_1``), and not the gradient name (``d`` + name) of another value."""
    if not text.isidentifier() or keyword.iskeyword(text) or text.startswith("_"):
        return False
    if text in _RESERVED or _VALUE.match(text) or _TERM.search(text):
        return False
    return not (text[:1] == "d" and (text[1:] in names or _VALUE.match(text[1:])))
