"""Passes over a plan: each rewrites the plan's forward or a backward program, and says what
it changed. ``print(f.plan)`` shows the plan after them; ``f.plan.passes`` what each did,
and ``f.plan.raw`` the listing before any.

Two kinds:

* **exact** passes keep every bit of every result, so a replay still equals an eager call
  bit for bit; they are always on:

  - ``dead_steps``: a step whose outputs nothing reads (and that draws nothing from the
    seeded generator) is removed;
  - ``free_temporaries``: each forward value that backward does not read is dropped once its
    last reader has run, so its memory is reused for the values that follow;
  - ``accumulate_in_place``: a gradient that sums three terms or more is summed into the
    buffer its first sum made (``np.add(total, term, out=total)``: the same bits as
    ``total + term``, without a new array per term);
  - ``free_gradients``: each gradient of the backward is dropped (``del``) once its last
    reader has run, as the engine's pass drops one it has popped.

* **reassociating** passes change the order of floating-point sums, so a replay equals eager
  to about 1e-12 relative in float64 (1e-5 in float32), not bit for bit. They are on with
  ``compile(fn, exact=False)``:

  - ``batch_projections``: the same matrix multiplying every slice of one tensor, step by
    step (``x_t @ W`` for each ``x_t`` of ``x.unbind()``), becomes one product over all
    the slices, then unbound;
  - ``stack_products``: a weight's gradient that is a sum of per-step products, Σ_t a_tᵀ g_t
    (the recurrent weight W_hh of a recurrence, through ``addmm`` or ``matmul``), becomes one
    product of the states and gradients stacked over all steps.
"""

from . import (
    accumulate_in_place,
    batch_projections,
    dead_steps,
    free_gradients,
    free_temporaries,
    stack_products,
)

FORWARD = {"exact": [dead_steps], "reassociating": [batch_projections]}
BACKWARD = {"exact": [accumulate_in_place, free_gradients], "reassociating": [stack_products]}
LAST = [free_temporaries]  # after every other forward pass: it needs the final steps
