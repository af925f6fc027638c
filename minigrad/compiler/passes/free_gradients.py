"""Exact pass: drop each gradient of the backward program once its last reader has run.

The generated backward keeps every gradient in a local variable. A gradient
that has been handed to its node's rule (and to nothing later) is deleted
(``del dv3``) right after, so its memory is reused for the gradients that
follow, as the engine's pass drops a gradient once it has popped it. Nothing
is computed differently: the same bits, in less memory.
"""

from ..backward import Add, Fit, Return, Rule


class Free:
    """``del names``: gradients no later instruction reads."""

    def __init__(self, names):
        self.names = names

    def text(self):
        return None  # the listing shows what is computed; the code shows what is dropped

    def write(self, source):
        source.add("del " + ", ".join(self.names))


def _reads(ins):
    """The gradient names an instruction reads."""
    if isinstance(ins, Rule):
        return [g for g in ins.grads if g]
    if isinstance(ins, Add):
        return [ins.total, ins.term]
    if isinstance(ins, Fit):
        return [ins.name]
    if isinstance(ins, Return):
        return []
    return [n for n in getattr(ins, "reads", lambda: [])()]


def _last_reads(program):
    """{position of an instruction: the gradients it is the last to read}, but those returned
    and the output gradients the program was given (``g0``, ...)."""
    last = {}
    for n, ins in enumerate(program.instructions):
        for name in _reads(ins):
            last[name] = n
    returned = {name for ins in program.instructions if isinstance(ins, Return)
                for name in ins.names if name}  # fmt: skip
    after = {}
    for name, n in last.items():
        if name not in returned and name not in program.arguments:
            after.setdefault(n, []).append(name)
    return after


def run(program):
    after = _last_reads(program)
    body = []
    for n, ins in enumerate(program.instructions):
        body.append(ins)
        if n in after:
            body.append(Free(sorted(after[n])))
    program.instructions = body
    count = sum(map(len, after.values()))
    return f"{count} gradient(s) dropped after their last reader" if count else None
