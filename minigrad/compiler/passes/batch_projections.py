"""Reassociating pass: per-step products with one matrix become one product over all steps.

Code written step by step often multiplies every slice of one tensor by the
same matrix: ``for x_t in x.unbind(0): ... x_t @ W ...``. Each product is a
small matrix product; all of them together are one product of the whole
tensor, ``x @ W``, which BLAS does faster. This pass replaces the per-step
products by that one, and its ``unbind``: each slice of the product takes the
place (and the name) of the per-step product it replaces, so nothing after it
changes. The products' rounding differs, so results equal eager's to about
1e-12 relative in float64, not bit for bit; gradients are the engine's own
for the new steps.
"""

import numpy as np

from ...ops import matmul, unbind
from ..plan import Step, Value


def run(plan):
    groups = {}  # (unbind step, the matrix) -> {slice index: product step}
    for step in plan.steps:
        source = _slice_times_matrix(step)
        if source is not None:
            (unbound, k), matrix = source
            groups.setdefault((unbound, matrix), {})[k] = step
    done = [(key, members) for key, members in groups.items() if len(members) > 1]
    for (unbound, matrix), members in done:
        _rewrite(plan, unbound, matrix, members)
    if done:
        plan.relink()
        return "; ".join(f"{len(m)} products {u.inputs[0].name}[t] @ {w.name} as one"
                         for (u, w), m in done)  # fmt: skip
    return None


def _slice_times_matrix(step):
    """((the unbind step, slice index), matrix) for ``unbind(X, axis=0)[k] @ W``, else None."""
    if step.name != "matmul" or len(step.inputs[1].shape) != 2:
        return None
    x = step.inputs[0]
    made_by = x.step
    if made_by is None or made_by.name != "unbind" or made_by.params.get("axis") != 0:
        return None
    if len(x.shape) != 2:
        return None
    return (made_by, x.k), step.inputs[1]


def _rewrite(plan, unbound, matrix, members):
    source = unbound.inputs[0]
    steps = list(members.values())
    first = min(map(plan.steps.index, steps))
    shape, dtype = (*source.shape[:-1], matrix.shape[1]), np.result_type(source.dtype, matrix.dtype)
    product = Value(f"{members[min(members)].outs[0].name}_all", shape, dtype)
    slices = [
        members[k].outs[0] if k in members else Value(f"{product.name}_t{k}", shape[1:], dtype)
        for k in range(source.shape[0])
    ]
    grad_enabled = steps[0].grad_enabled
    new = [
        Step(matmul, [source, matrix], {}, [product], True, grad_enabled),
        Step(unbind, [product], {"axis": 0}, slices, False, grad_enabled),
    ]
    kept = [s for s in plan.steps if s not in steps]
    plan.steps = kept[:first] + new + kept[first:]
