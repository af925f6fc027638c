"""Reassociating pass: a weight's gradient summed over steps becomes one stacked product.

A recurrence multiplies the same weight at every step: ``addmm(x_t, h, W)``
(or ``h @ W``). Its gradient is a sum over the steps, Σ_t h_tᵀ g_t, and the
engine computes it as it walks back: one small product per step, added up.
This pass asks each of those rules not to compute that gradient
(``needs_input_grad`` marks it False), keeps the per-step states h_t and
gradients g_t, and after the last of them computes the gradient once:
[h_1; …; h_T]ᵀ [g_1; …; g_T], one product of the states and gradients stacked
over the steps, which BLAS does faster than T small ones. The sum runs in
another order, so the result equals eager's to rounding (1e-12 relative in
float64), not bit for bit.
"""

import numpy as np

from ..backward import Add, Fit, Rule


class StackedProduct:
    """``total = [a_1; …; a_n]ᵀ [g_1; …; g_n]``: Σ_k a_kᵀ g_k in one product."""

    def __init__(self, name, pairs, dtype=None):
        self.name, self.pairs, self.dtype = name, pairs, dtype

    def text(self):
        a = ", ".join(a for a, _ in self.pairs)
        g = ", ".join(g for _, g in self.pairs)
        return f"{self.name} = [{a}]ᵀ [{g}]  (one product for {len(self.pairs)} steps)"

    def reads(self):
        return [g for _, g in self.pairs]

    def write(self, source):
        """The line of generated code: the parts stacked along their first axis, one product."""
        source.names["_stacked_product"] = stacked_product
        a = ", ".join(a for a, _ in self.pairs)
        g = ", ".join(g for _, g in self.pairs)
        cast = "" if self.dtype is None else f".astype({self.dtype.name!r})"
        source.add(f"{self.name} = _stacked_product(({a},), ({g},)){cast}")


def stacked_product(a_parts, g_parts):
    """Σ_k a_kᵀ g_k as [a_1; …; a_n]ᵀ [g_1; …; g_n]."""
    return np.concatenate(a_parts).T @ np.concatenate(g_parts)


def _weight_input(step):
    """Which input of ``step`` is a weight whose gradient is aᵀ·grad, with a the input at the
    returned second index: addmm(x, a, b) → (2, 1); 2-D matmul(x, y) → (1, 0)."""
    if step.name == "addmm":
        return 2, 1
    if step.name == "matmul" and all(len(v.shape) == 2 for v in step.inputs):
        return 1, 0
    return None


def _groups(program):
    """gradient name -> [(a Rule, its weight input, its a input)] for each per-step product."""
    groups = {}
    for ins in program.instructions:
        where = _weight_input(ins.step) if isinstance(ins, Rule) else None
        if where is not None and ins.results[where[0]] is not None and ins.grads[0] is not None:
            groups.setdefault(_total(ins.results[where[0]]), []).append((ins, *where))
    return groups


def run(program):
    groups = _groups(program)
    rewritten = [(name, members) for name, members in groups.items() if len(members) > 1]
    for name, members in rewritten:
        _rewrite(program, name, members)
    if not rewritten:
        return None
    return "; ".join(f"{name}: {len(m)} per-step products as one" for name, m in rewritten)


def _total(name):
    """The gradient a term adds to: ``dv3_2`` is a term of ``dv3``."""
    base, _, n = name.rpartition("_")
    return base if n.isdigit() and base else name


def _rewrite(program, name, members):
    """Take the members' terms out of ``name``'s sum, and add their stacked product instead,
    right after the last member's rule."""
    terms = {ins.results[w] for ins, w, _ in members}
    stacked = StackedProduct(name, [_drop_term(ins, w, a) for ins, w, a in members])
    stacked.dtype = _cast(program, terms)
    body = [ins for ins in program.instructions if not _is_term(ins, terms)]
    body.insert(body.index(members[-1][0]) + 1, stacked)
    body = list(_renamed(body, name, stacked))
    program.instructions = [i for i in body if not (isinstance(i, Rule) and not any(i.needs))]


def _cast(program, terms):
    """The dtype the terms were cast to (by their ``Fit``), which their product takes too."""
    fits = [i for i in program.instructions if isinstance(i, Fit) and i.name in terms]
    return next((i.dtype for i in fits if i.dtype is not None), None)


def _renamed(body, name, stacked):
    """The instructions, where the sum's first term binds it: the stacked product, or the first
    term left (an Add becomes a Bind); a stacked product that comes later is added to it."""
    bound = False
    for ins in body:
        if ins is stacked and bound:
            yield StackedProduct(f"{name}_stacked", stacked.pairs, stacked.dtype)
            yield Add(name, f"{name}_stacked")
        elif isinstance(ins, Add) and ins.total == name and not bound:
            yield Bind(name, ins.term)
        else:
            yield ins
        bound = bound or _binds(ins, name)


def _drop_term(ins, w, a):
    """Ask rule ``ins`` not to compute its weight's gradient; the pair (a, grad) it leaves."""
    ins.results = [None if i == w else r for i, r in enumerate(ins.results)]
    ins.needs = tuple(need and i != w for i, need in enumerate(ins.needs))
    return ins.step.inputs[a].name, ins.grads[0]


class Bind:
    """``name = term``: the first term of a sum whose first term went into a stacked product."""

    def __init__(self, name, term):
        self.name, self.term = name, term

    def text(self):
        return f"{self.name} = {self.term}"

    def reads(self):
        return [self.term]

    def write(self, source):
        source.add(f"{self.name} = {self.term}")


def _is_term(ins, terms):
    """An instruction that fits or adds one of the terms the stacked product replaces."""
    return isinstance(ins, Add) and ins.term in terms or isinstance(ins, Fit) and ins.name in terms


def _binds(ins, name):
    """Whether ``ins`` gives ``name`` a value."""
    if isinstance(ins, Rule):
        return name in ins.results
    if isinstance(ins, Add):
        return ins.total == name
    return isinstance(ins, (Bind, StackedProduct)) and ins.name == name
