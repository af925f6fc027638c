"""Exact pass: remove the steps whose outputs nothing reads.

A step is live when one of its outputs is an output of the plan or an input
of a live step, or when it draws from the seeded generator (a replay must
draw what eager draws, so that later draws match). Every other step is
removed: its values are never read, so no result changes. (A removed step
would get no gradient either: nothing reads its outputs.)
"""

from ...creation import Draw


def run(plan):
    live = set(plan.outputs)
    kept = []
    for step in reversed(plan.steps):
        if isinstance(step.op, Draw) or any(v in live for v in step.outs):
            kept.append(step)
            live.update(step.inputs)
    removed = [s for s in plan.steps if s not in set(kept)]
    plan.steps = kept[::-1]
    if not removed:
        return None
    return f"removed {len(removed)} step(s) nothing reads: " + ", ".join(
        f"{_outs(s)} = {s.name}(...)" for s in removed
    )


def _outs(step):
    return ", ".join(v.name for v in step.visible)
