"""Python source for a plan: its forward, and each backward program, as straight-line code.

The generated functions use the plan's own names: a value ``v3`` is the local
variable ``v3``, its gradient ``dv3``, so the code reads beside the listing
(``print(f.plan)``). Each op's forward and rule is called as the eager engine
calls it (``Op.run_forward``, ``graph.run_rule``), in the same order, on the
same arrays, so a replay's numbers are eager's, bit for bit. What the code
needs besides the arrays (each op's functions, parameters that are not plain
numbers) is in its namespace under names starting with ``_``.
"""

import builtins

import numpy as np

from ..graph import sum_to_shape
from .backward import Add, Fit, Return, Rule

_LITERALS = (int, float, bool, str, type(None))


class Source:
    """Lines of a function being written, and the namespace it will run in."""

    def __init__(self, header):
        self.lines = [header]
        self.names = {"_asarray": np.asarray, "_add": np.add, "_sum_to_shape": sum_to_shape,
                      "_one": _one}  # fmt: skip
        self.line_of = {}  # line number -> the step whose call it is

    def add(self, line, step=None):
        self.lines.append("    " + line)
        if step is not None:
            self.line_of[len(self.lines)] = step

    def constant(self, prefix, value):
        """A name for ``value`` in the namespace (a literal stays a literal)."""
        if _is_literal(value):
            return repr(value)
        name = f"_{prefix}"
        existing = self.names.setdefault(name, value)
        if existing is not value and existing != value:  # one name, one value (a method: equal)
            raise RuntimeError(f"compile: two values for {name} in generated code")
        return name

    def function(self, name, filename):
        source = "\n".join(self.lines) + "\n"
        exec(builtins.compile(source, filename, "exec"), self.names)
        fn = self.names[name]
        fn.source, fn.line_of = source, self.line_of
        return fn


def _one(result):
    """The one gradient a rule of one input returned, bare or as a tuple of one (as
    ``graph.run_rule`` takes it)."""
    return result[0] if type(result) is tuple else result


def _is_literal(value):
    if isinstance(value, tuple):
        return all(map(_is_literal, value))
    return isinstance(value, _LITERALS)


def _params(source, prefix, params):
    """``key=value`` for each parameter: literals written in, others named in the namespace."""
    return [f"{k}={source.constant(f'{prefix}_{k}', v)}" for k, v in params.items()]


def _tuple(names):
    """Python's text for a tuple of these names: ``()``, ``(a,)``, ``(a, b)``."""
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def _unpack(names, what):
    """``a, b = what`` (nothing for no names)."""
    if not names:
        return None
    return f"{', '.join(names)}{',' if len(names) == 1 else ''} = {what}"


# ---- forward ---------------------------------------------------------------------------------


def forward_source(plan):
    """``forward(*leaves) -> (outputs, saved)``: each step's forward, in order, each value
    dropped (``del``) once its last reader has run unless backward reads it."""
    source = Source(f"def forward({', '.join(v.name for v in plan.leaves)}):")
    for k, step in enumerate(plan.steps):
        function = source.constant(f"forward_{step.name}", step.op.forward)
        call = ", ".join([v.name for v in step.inputs] + _params(source, f"p{k}", step.params))
        source.add(f"{_bound(step)} = {_wrapped(step, f'{function}({call})')}", step)
        dropped = plan.frees.get(step, ())
        if dropped:
            source.add(f"del {', '.join(v.name for v in dropped)}")
    outputs = _tuple([v.name for v in plan.outputs])
    source.add(f"return {outputs}, {_tuple([v.name for v in plan.saved])}")
    return source.function("forward", f"<forward of {plan.name}>")


def _bound(step):
    names = [v.name for v in step.outs]
    return names[0] if step.single else ", ".join(names) + ("," if len(names) == 1 else "")


def _wrapped(step, call):
    """forward's result as ``Op.run_forward`` makes it: arrays, never numpy scalars."""
    if step.single:
        return f"_asarray({call})" if step.outs[0].shape == () else call
    if any(v.shape == () for v in step.outs):
        return f"tuple(map(_asarray, {call}))"
    return call


# ---- backward --------------------------------------------------------------------------------


def backward_source(program, stand_ins):
    """``backward(saved, leaves, *grads) -> [gradient of each input the program gives]``."""
    plan = program.plan
    source = Source(f"def backward(saved, leaves, {', '.join(program.arguments)}):")
    for line in (_unpack([v.name for v in plan.saved], "saved"),
                 _unpack([v.name for v in plan.leaves], "leaves")):  # fmt: skip
        if line:
            source.add(line)
    for k, ins in enumerate(program.instructions):
        writer = _WRITERS.get(type(ins))
        writer(source, k, ins, stand_ins) if writer else ins.write(source)  # a pass's own
    return source.function("backward", f"<backward of {plan.name}>")


def _value(source, value, stand_ins):
    """A value the rule gets: its variable, or, for a value backward does not keep, a stand-in
    with its shape and dtype (``_v3_meta``)."""
    if value in stand_ins:
        return source.constant(f"{value.name}_meta", stand_ins[value])
    return value.name


def _rule(source, k, ins, stand_ins):
    """The rule's call, with the arguments ``graph.run_rule`` gives it."""
    step = ins.step
    function = source.constant(f"backward_{step.name}", step.op.backward)
    call = f"{function}({', '.join(_rule_arguments(source, k, ins, stand_ins))})"
    if len(ins.results) == 1:  # a rule of one input may return its gradient bare or in a tuple
        source.add(f"{ins.results[0] or '_'} = _one({call})", step)
    else:
        source.add(f"{', '.join(r or '_' for r in ins.results)} = {call}", step)


def _rule_arguments(source, k, ins, stand_ins):
    """grad, out (each a tuple for an op of several outputs), the inputs, the parameters, and
    ``needs_input_grad`` for a rule that takes it."""
    step = ins.step
    grads = [g or "None" for g in ins.grads]
    outs = [_value(source, v, stand_ins) for v in step.outs]
    grad, out = (grads[0], outs[0]) if step.single else (_tuple(grads), _tuple(outs))
    args = [grad, out, *(_value(source, v, stand_ins) for v in step.inputs)]
    args += _params(source, f"q{k}", step.params)
    return args + ([f"needs_input_grad={ins.needs!r}"] if step.op.takes_needs else [])


def _fit(source, k, ins, stand_ins):
    if ins.shape is not None:
        source.add(f"{ins.name} = _sum_to_shape({ins.name}, {ins.shape!r}, {ins.step.name!r})")
    if ins.dtype is not None:
        source.add(f"{ins.name} = {ins.name}.astype({ins.dtype.name!r})")


def _add(source, k, ins, stand_ins):
    if ins.into:
        source.add(f"_add({ins.total}, {ins.term}, out={ins.total})")
    else:
        source.add(f"{ins.total} = {ins.total} + {ins.term}")


def _return(source, k, ins, stand_ins):
    source.add(f"return [{', '.join(n or 'None' for n in ins.names)}]")


_WRITERS = {Rule: _rule, Fit: _fit, Add: _add, Return: _return}
