"""Module 5, optional: a pass over a compiled plan, dead-step elimination.

The learner's ``run(plan)`` is put in the place of the compiler's own pass
(``minigrad/compiler/passes/dead_steps.py``) while small functions are
compiled. Each case checks the plan's steps after the passes against the list
worked out by hand, and that the replay (the second call, which runs the plan)
gives what eager gives, bit for bit, values and gradients, with the seeded
generator started at the same point.
"""

from collections import Counter

import numpy as np

from .checks import in_place_of, run_cases
from .exercise import Exercise
from .grading import Failure, Mistake, find

TITLE = "A compiler pass"
GRADER = "by the compiler: your pass in its place, its replay against eager"
OPTIONAL = True

NOTHING_REMOVED = Mistake(
    "a step nothing reads kept",
    "a step none of whose outputs is read, by a live step or as an output of the plan, can go: "
    "its values are never used, so no result changes",
)
ONE_PASS = Mistake(
    "only the steps nothing reads directly removed",
    "a step read only by a removed step is dead too: walk the steps backwards from the plan's "
    "outputs, marking what each live step reads, so that a step's readers are decided before it",
)
DRAW_REMOVED = Mistake(
    "a draw from the seeded generator removed",
    "a replay must draw what eager draws, in the same order, or every later draw differs: keep "
    "every step whose op is a Draw, read or not",
)
SEVERAL_OUTPUTS = Mistake(
    "a step with several outputs, one of them read, removed",
    "a step is live when any one of its outputs is read (step.outs)",
)
OUTPUT_REMOVED = Mistake(
    "an output of the plan removed",
    "the plan's outputs (plan.outputs) are read by its caller: they are live from the start",
)
ORDER_CHANGED = Mistake(
    "the steps' order changed",
    "keep the steps that stay in the order they ran: a walk backwards collects them last "
    "first, so reverse what it kept",
)
READ_REMOVED = Mistake(
    "a step that is read removed",
    "a step is live when one of its outputs is read, by a live step or by the plan's caller "
    "(plan.outputs): start with the plan's outputs live, and walk the steps backwards",
)
SAID_WHEN_NOTHING = Mistake(
    "a note with nothing removed",
    "a pass says what it changed, and returns None when it changed nothing; "
    "plan.passes lists only the passes that did something",
)


def grade_dead_steps(namespace):
    import minigrad as mg

    from ..compiler.passes import dead_steps

    run = find(namespace, "run")
    cases = [
        ("x.sin() unread; (x·2).exp().sum()", _unread, NOTHING_REMOVED),
        ("x.sin().cos() unread; (x·2).sum()", _unread_chain, ONE_PASS),
        ("an unread randn(3) before the one read; (x·randn(3)).sum()", _draws, DRAW_REMOVED),
        ("u, w = x.split([2, 1]), w unread; (u·u).sum()", _split, SEVERAL_OUTPUTS),
        ("two outputs, x.exp() and (x·2).sum()", _outputs, OUTPUT_REMOVED),
        ("nothing to remove: (x.exp()·3).sum()", _nothing, SAID_WHEN_NOTHING),
    ]
    with in_place_of(dead_steps, "run", run):
        run_cases(cases, mg)
    return [
        f"run, in the place of the compiler's dead_steps pass: {len(cases)} functions compiled, "
        "each plan's steps after the passes against the list worked out by hand,",
        "  and each replay against eager, bit for bit (values and gradients, the seeded "
        "generator started at the same point).",
    ]


def _check(mg, fn, steps, removing=READ_REMOVED):
    """Compile ``fn``; its plan must hold ``steps`` (op names, in order) after the passes,
    and its replay must give what eager gives. Returns the compiled plan. A plan that lost a
    step it needs is taken for ``removing``; one that kept too much, for the case's mistake."""
    compiled = mg.compile(fn)
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    eager = _run(mg, fn, x)
    _run(mg, compiled, x)  # the trace, and the passes
    got = [s.name for s in compiled.plan.plan.steps]
    if got != steps:
        lost = Counter(steps) - Counter(got)
        mistake = ORDER_CHANGED if sorted(got) == sorted(steps) else removing if lost else None
        raise Failure(
            [f"the plan's steps after the passes: {', '.join(got)}; expected {', '.join(steps)}"],
            mistake,
        )
    replayed = _run(mg, compiled, x)
    for what, a, b in zip(("the values", "x.grad"), replayed, eager):
        if not np.array_equal(a, b):
            raise Failure([f"the replay's {what} differ from eager's: {a} against {b}"])
    return compiled.plan


def _run(mg, fn, x):
    """fn(x), seeded; its outputs summed and differentiated: (values, x.grad)."""
    mg.manual_seed(0)
    x.grad = None
    out = fn(x)
    outs = out if isinstance(out, tuple) else (out,)
    sum(o.sum() for o in outs).backward()
    return np.concatenate([o.data.ravel() for o in outs]), x.grad.data.copy()


def _unread(mg):
    def f(x):
        x.sin()
        return (x * 2).exp().sum()

    _check(mg, f, ["mul", "exp", "sum"])


def _unread_chain(mg):
    def f(x):
        x.sin().cos()
        return (x * 2).sum()

    _check(mg, f, ["mul", "sum"])


def _draws(mg):
    def f(x):
        mg.randn(3)
        return (x * mg.randn(3)).sum()

    _check(mg, f, ["randn", "randn", "mul", "sum"], DRAW_REMOVED)


def _split(mg):
    def f(x):
        u, w = x.split([2, 1])
        return (u * u).sum()

    _check(mg, f, ["split", "mul", "sum"], SEVERAL_OUTPUTS)


def _outputs(mg):
    def f(x):
        return x.exp(), (x * 2).sum()

    _check(mg, f, ["exp", "mul", "sum"], OUTPUT_REMOVED)


def _nothing(mg):
    def f(x):
        return (x.exp() * 3).sum()

    plan = _check(mg, f, ["exp", "mul", "sum"])
    said = [p.note for p in plan.passes if p.name == "dead_steps"]
    if said:
        raise Failure([f"with nothing to remove, the pass said {said[0]!r}"])


EXERCISES = [
    Exercise(
        id="dead-steps",
        title="dead-step elimination",
        asks="compiler/passes/dead_steps.run: a pass over a plan (optional)",
        source="minigrad.compiler.passes.dead_steps",
        units=("run",),
        task="""\\
Optional, once you have read docs/compile.md. Write run(plan), the compiler's first
pass: remove the steps whose outputs nothing reads, and say what was removed (a line of
text), or return None if nothing was. A plan is data: plan.steps in the order they ran,
each with .inputs, .outs and .op; plan.outputs, the values the function returns.""",
        write="keep the live steps, in order, in plan.steps; return a note, or None",
        hints=(
            "Walk plan.steps backwards, starting with live = set(plan.outputs): a step is "
            "live when one of its outs is in live; then its inputs are live too.",
            "A step whose op is a Draw (isinstance(step.op, Draw)) stays, read or not: a "
            "replay must draw what eager draws.",
            "plan.steps = the kept steps, reversed back into their order. If some were removed, "
            "return a line naming them (_outs(step) gives a step's outputs' names).",
        ),
        grade=grade_dead_steps,
    ),
]
