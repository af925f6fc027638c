"""Exact pass: drop each forward value once its last reader has run.

The generated forward keeps every value in a local variable. A value that
backward does not read (``Step.saved``, from each op's ``saves``) and that is
not an output is deleted (``del v3``) right after the last step that reads
it, so numpy can reuse its memory for the values that follow. What backward
reads is kept, and handed to the replay's node, as an eager node keeps what
its rule reads.
"""


def run(plan):
    leaves = set(plan.leaves)
    kept = set(plan.outputs) | set(plan.saved) | leaves
    last = {}
    for step in plan.steps:
        for v in step.inputs:
            last[v] = step
        for v in step.outs:
            last.setdefault(v, step)  # a value nothing reads is dropped where it is made
    plan.frees = {}
    for v, step in last.items():
        if v not in kept:
            plan.frees.setdefault(step, []).append(v)
    n = sum(map(len, plan.frees.values()))
    return f"dropped {n} forward value(s) after their last reader" if n else None
