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
        self.names = {"_asarray": np.asarray, "_add": np.add, "_sum_to_shape": sum_to_shape}
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
        self.names[name] = value
        return name

    def function(self, name, filename):
        source = "\n".join(self.lines) + "\n"
        exec(builtins.compile(source, filename, "exec"), self.names)
        fn = self.names[name]
        fn.source, fn.line_of = source, self.line_of
        return fn


def _is_literal(value):
    if isinstance(value, tuple):
        return all(map(_is_literal, value))
    return isinstance(value, _LITERALS)


def _params(source, prefix, params):
    """``key=value`` for each parameter: literals written in, others named in the namespace."""
    return [f"{k}={source.constant(f'{prefix}_{k}', v)}" for k, v in params.items()]


# ---- forward ---------------------------------------------------------------------------------


def forward_source(plan):
    """``forward(*leaves) -> (outputs, saved)``: each step's forward, in order, each value
    dropped (``del``) once its last reader has run unless backward reads it."""
    source = Source(f"def forward({', '.join(v.name for v in plan.leaves)}):")
    for k, step in enumerate(plan.steps):
        source.constant(f"f{k}", step.op.forward)
        call = ", ".join([v.name for v in step.inputs] + _params(source, f"p{k}", step.params))
        source.add(f"{_bound(step)} = {_wrapped(step, f'_f{k}({call})')}", step)
        dropped = plan.frees.get(step, ())
        if dropped:
            source.add(f"del {', '.join(v.name for v in dropped)}")
    outputs = "".join(f"{v.name}, " for v in plan.outputs)
    saved = "".join(f"{v.name}, " for v in plan.saved)
    source.add(f"return ({outputs}), ({saved})")
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
    saved = "".join(f"{v.name}, " for v in plan.saved)
    source.add(f"({saved}) = saved")
    source.add(f"({''.join(f'{v.name}, ' for v in plan.leaves)}) = leaves")
    for k, ins in enumerate(program.instructions):
        writer = _WRITERS.get(type(ins))
        writer(source, k, ins, stand_ins) if writer else ins.write(source)  # a pass's own
    return source.function("backward", f"<backward of {plan.name}>")


def _value(source, value, stand_ins):
    """A value the rule gets: its variable, or the stand-in of a value backward does not keep."""
    if value in stand_ins:
        return source.constant(f"s_{value.name}", stand_ins[value])
    return value.name


def _rule(source, k, ins, stand_ins):
    step = ins.step
    source.constant(f"b{k}", step.op.backward)
    grads = [g or "None" for g in ins.grads]
    outs = [_value(source, v, stand_ins) for v in step.outs]
    grad = grads[0] if step.single else f"({', '.join(grads)},)"
    out = outs[0] if step.single else f"({', '.join(outs)},)"
    args = [grad, out, *(_value(source, v, stand_ins) for v in step.inputs)]
    args += _params(source, f"q{k}", step.params)
    if step.op.takes_needs:
        args.append(f"needs_input_grad={ins.needs!r}")
    call = f"_b{k}({', '.join(args)})"
    if len(step.inputs) == 1:  # a rule of one input may return it bare or in a tuple
        source.add(f"r = {call}", step)
        source.add(f"{ins.results[0] or '_'} = r[0] if type(r) is tuple else r")
    else:
        source.add(f"{', '.join(r or '_' for r in ins.results)} = {call}", step)


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
