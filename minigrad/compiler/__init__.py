"""``minigrad.compile``: trace a function once, then replay it as generated numpy code.

``step = minigrad.compile(fn)``, or ``@minigrad.compile`` above ``def fn``. The
first call with a new signature runs fn eagerly and records its **plan**
(``trace.py``, ``plan.py``): every op it called, in order, with where each input
came from. The passes (``passes/``) rewrite the plan; the forward is written as
straight-line Python (``codegen.py``). A later call with the same signature, whose
guards hold (``guards.py``), replays it: each op's numpy forward, on arrays,
with no Tensor or Node per op. The results hang off one node of the eager graph
(``run.py``), whose rule is the plan's backward: the engine's own pass over the
plan's steps, written down as straight-line code after its first run
(``backward.py``).

A replay equals an eager call bit for bit, by construction: the same forwards
and rules in the same order, summed by the same pass. ``exact=False`` adds the
passes that sum in another order (equal to about 1e-12 relative in float64).
docs/compile.md shows a plan, its passes and its generated code, and the table of
what is guarded.

Read in this order: ``plan.py`` (the program as data), ``trace.py`` (how it is
recorded), ``run.py`` (how it runs forward and backward), ``backward.py`` (the
backward written down), ``codegen.py``, one pass, then ``guards.py`` and
``function.py`` (the cache).
"""

from .function import CompiledFunction, compile

__all__ = ["CompiledFunction", "compile"]
