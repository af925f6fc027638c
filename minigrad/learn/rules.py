"""Grading an op's rule (its backward) by SymPy's exact derivatives, for module 1.

For each case (chosen values, so that a message can say "at x = 0.5"), the
learner's op runs forward, the engine's pass runs its rule along a cotangent
∂L/∂z, and every gradient entry is compared with ∂(Σ ∂L/∂z ⊙ z)/∂input from
SymPy, to 1e-10 of the largest expected entry. A wrong entry is reported with
its case, what was expected (the rule's formula, and SymPy's own expression
for an elementwise op) and what came instead; then each typical mistake of the
exercise is computed on the same case, and one that gives the learner's
numbers is named. Last, the rule is differentiated again (``create_graph``), as
the spec does, and the second derivative compared with SymPy's
(``minigrad.testing``'s ``check_second_order``).
"""

import importlib
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ..graph import sum_to_shape
from .checks import array_text, first_wrong, same
from .folder import LearnError
from .grading import Failure, Mistake, case, find

TOLERANCE = 1e-10


def need_sympy():
    """SymPy, or a LearnError that says how to install it."""
    try:
        return importlib.import_module("sympy")
    except ModuleNotFoundError:
        raise LearnError(
            "grading this exercise needs SymPy: install minigrad with its spec extra "
            "(pip install -e '.[spec]' in minigrad's folder), or pip install sympy"
        ) from None


@dataclass(frozen=True)
class Point:
    """One case: the inputs' values, the op's parameters and the cotangent ∂L/∂z."""

    values: tuple
    params: dict = field(default_factory=dict)
    cotangent: object = 1.0
    note: str = ""  # what the case is for, said with it
    on_error: Mistake = None  # the mistake an error in this case most likely is


@dataclass(frozen=True)
class Wrong:
    """A typical mistake, as the formula it computes (``yours``) and as numbers:
    ``vjp(values, cotangent, params)`` gives what it returns for each input."""

    mistake: Mistake
    yours: str
    vjp: object


@dataclass(frozen=True)
class Rule:
    """An op's rule to grade: the class in the exercise, its SymPy reference (as a row of
    spec/op_table.py states it), its inputs' names and the formula expected for each."""

    cls: str
    reference: object  # (*object arrays, **params) -> object array
    names: tuple
    expected: tuple  # the formula of each input's gradient, as text
    points: tuple
    second: object  # (shapes, params, samplers) for the second-order check
    wrongs: tuple = ()
    scalar: object = None  # the scalar SymPy function of an elementwise op
    second_advice: Mistake = None


def grader(*rules):
    """``grade(namespace)`` for an exercise made of ``rules``."""

    def grade(namespace):
        need_sympy()
        lines = []
        for rule in rules:
            lines += check_rule(rule, namespace)
        return lines

    return grade


def check_rule(rule, namespace):
    with learner_op(namespace, rule.cls) as op:
        for i, point in enumerate(rule.points, 1):
            with case(_case_text(rule, point, i)):
                _check_point(rule, op, point)
        with case(f"{rule.cls}: the second derivative, your rule differentiated again"):
            _check_second(rule, op)
    shapes = "; ".join(_shapes(rule, p) for p in rule.points)
    return [
        f"{rule.cls}.backward, against SymPy's exact derivatives: {len(rule.points)} cases, "
        f"float64 ({shapes});",
        f"  each gradient along a cotangent ∂L/∂z, to {TOLERANCE:g} of its largest entry; then the "
        f"second derivative (create_graph=True), to {TOLERANCE:g}.",
    ]


@contextmanager
def learner_op(namespace, name):
    """An instance of the op class ``name`` found in ``namespace``, registered under a name of
    its own while it is graded."""
    import minigrad as mg

    cls = find(namespace, name)
    registered = f"your_{name.lower()}"
    op = type(cls.__name__, (cls,), {"name": registered})(replace=True)
    try:
        yield op
    finally:
        if mg.ops.registry().get(registered) is op:
            mg.ops.unregister(registered)


def _shapes(rule, point):
    shapes = ", ".join(f"{n} {np.shape(v)}" for n, v in zip(rule.names, point.values))
    return shapes + (f", {point.note.split(':')[0]}" if point.note else "")


def _case_text(rule, point, i):
    inputs = "; ".join(
        f"{n} = {array_text(v)}" + (f" (shape {np.shape(v)})" if np.ndim(v) else "")
        for n, v in zip(rule.names, point.values)
    )
    params = "".join(f", {k}={v!r}" for k, v in point.params.items())
    note = f" ({point.note})" if point.note else ""
    return (
        f"case {i} of {len(rule.points)}{note}: {rule.cls}, float64{params}: {inputs}; "
        f"∂L/∂z = {array_text(point.cotangent)}"
    )


def _check_point(rule, op, point):
    import minigrad as mg

    tensors = [mg.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in point.values]
    try:
        out = op(*tensors, **point.params)
        v = np.broadcast_to(np.asarray(point.cotangent, dtype=np.float64), out.shape).copy()
        grads = mg.grad(out, tensors, mg.tensor(v), allow_unused=True)
    except Exception as error:
        if point.on_error is not None and not isinstance(error, NotImplementedError):
            error.learn_mistake = point.on_error
        raise
    yours = [np.zeros(t.shape) if g is None else g.data for g, t in zip(grads, tensors)]
    expected = exact_vjp(rule.reference, point.values, v, point.params)
    for k, (mine, want) in enumerate(zip(yours, expected)):
        bad = first_wrong(mine, want, TOLERANCE)
        if bad is not None:
            wrong = _which(rule, point, v, yours, expected)
            raise Failure(
                _wrong_lines(rule, point, k, bad, mine, want, wrong), wrong and wrong.mistake
            )


def _wrong_lines(rule, point, k, index, mine, want, wrong):
    name = rule.names[k]
    entry = f", entry {list(index)}" if index else ""
    yours = f"; yours gives {wrong.yours}" if wrong else ""
    at = ""
    if _elementwise_unary(rule):
        at = f", at {name} = {float(np.asarray(point.values[k])[index]):.10g}"
    lines = [
        f"∂L/∂{name}{entry}: expected {rule.expected[k]}{yours}{at}",
        f"expected {float(want[index]):.10g}, yours {float(mine[index]):.10g}",
    ]
    exact = _sympy_derivative(rule, k)
    if exact:
        lines.append(f"(SymPy's exact derivative: {exact})")
    return lines


def _elementwise_unary(rule):
    return rule.scalar is not None and len(rule.names) == 1


def _sympy_derivative(rule, k):
    if rule.scalar is None:
        return None
    sp = need_sympy()
    symbols = sp.symbols(" ".join(rule.names), real=True, seq=True)
    return sp.sstr(sp.diff(rule.scalar(*symbols), symbols[k]))


def _which(rule, point, v, yours, expected):
    """The first typical mistake (a ``Wrong``) whose numbers are the learner's, or None."""
    values = [np.asarray(x, dtype=np.float64) for x in point.values]
    for wrong in rule.wrongs:
        try:
            with np.errstate(all="ignore"):
                theirs = _fitted(wrong.vjp(*values, v=v, **point.params), values)
        except (ValueError, RuntimeError):  # the mistake's shapes do not fit this case
            continue
        if theirs is not None and all(map(same, yours, theirs, expected)):
            return wrong
    return None


def _fitted(grads, values):
    """A mistake's gradients summed back to the inputs' shapes, as the engine does; None if
    they cannot be (a shape the mistake gets wrong on this case)."""
    try:
        return [
            sum_to_shape(np.asarray(g, dtype=np.float64), x.shape, "")
            for g, x in zip(grads, values)
        ]
    except (RuntimeError, ValueError):
        return None


def exact_vjp(reference, values, cotangent, params):
    """∂(Σ cotangent ⊙ reference(values))/∂ each input, from SymPy, evaluated to 30 digits."""
    sp = need_sympy()
    from ..testing.symbolic import as_object_array, symbol_array

    symbols = [symbol_array(f"a{k}_", np.shape(v)) for k, v in enumerate(values)]
    out = as_object_array(reference(*symbols, **params))
    total = sp.Add(*[sp.Float(float(c)) * e for c, e in zip(np.ravel(cotangent), out.flat)])
    point = {
        s: sp.Float(float(x), 30)
        for sym, v in zip(symbols, values)
        for s, x in zip(sym.flat, np.ravel(v))
    }
    return [
        np.array([float(sp.diff(total, s).evalf(30, subs=point)) for s in sym.flat]).reshape(
            sym.shape
        )
        for sym in symbols
    ]


def _check_second(rule, op):
    from ..testing import Case, Problem, Row
    from ..testing.harness import check_second_order

    shapes, params, samplers = rule.second
    row = Row(op.name, rule.reference, [Case(shapes, params)], samplers, function=op)
    problem = Problem(row, row.cases[0])
    try:
        check_second_order(problem)
    except AssertionError as error:
        at = "; ".join(f"{n} = {array_text(v)}" for n, v in zip(rule.names, problem.values))
        lines = [
            f"at {at}: the Hessian-vector product of your rule (create_graph=True)",
            str(error).replace(op.name, rule.cls),
        ]
        raise Failure(lines, rule.second_advice or SECOND_ORDER) from None


SECOND_ORDER = Mistake(
    "a rule that is right, but not differentiable again",
    "the second derivative differentiates your rule itself: write it with operators and "
    "minigrad's ops on what it is given (grad, the outputs, the inputs), so that it is recorded "
    "when create_graph=True",
)


def lifted(scalar):
    """A scalar SymPy function lifted to object arrays (``minigrad.testing.elementwise``)."""

    def reference(*arrays):
        from ..testing.symbolic import elementwise

        return elementwise(scalar)(*arrays)

    return reference
