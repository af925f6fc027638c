"""The backward of a plan, written down once as a program.

After a plan's first backward, every decision the engine makes at each call is
known: which rules run, in what order, which gradients are summed back over
broadcast axes or cast, and where each gradient adds up. ``write_backward``
finds them by running ``engine.gradients`` itself once more over the plan's
steps, with names in place of arrays: the engine's walk and pass, unchanged,
call ``vjp`` and ``+`` on ``Grad`` objects, and each call appends an
instruction to the program. So the program does what the engine does, in the
engine's order, by construction; ``codegen.py`` turns it into Python, and the
passes (``passes/``) rewrite it first.

An instruction is one of:

* ``Rule``: call a step's backward rule on the gradients of its outputs and
  bind what it returns, one name per input (``_`` for one not wanted);
* ``Fit``: sum a gradient back to its input's shape, or cast it;
* ``Add``: ``total = total + term`` (``into=True``: ``np.add(total, term,
  out=total)``, the same bits, in a buffer the program owns);
* ``Return``: the gradients of the plan's inputs.
"""

from ..engine import gradients


class Rule:
    """``results = rule(step)(grads, saved values)``, in the engine's calling convention."""

    def __init__(self, step, grads, results, needs):
        self.step, self.grads, self.results, self.needs = step, grads, results, needs

    def text(self):
        grads = ", ".join(g or "None" for g in self.grads)
        bound = ", ".join(r or "_" for r in self.results)
        return f"{bound} = backward of {self.step.name}({grads})"


class Fit:
    """``name = sum_to_shape(name, shape)`` and/or ``name = name.astype(dtype)``."""

    def __init__(self, name, shape, dtype, step):
        self.name, self.shape, self.dtype, self.step = name, shape, dtype, step

    def text(self):
        parts = [f"summed to {list(self.shape)}"] if self.shape is not None else []
        parts += [f"cast to {self.dtype.name}"] if self.dtype is not None else []
        return f"{self.name}: {' and '.join(parts)}"


class Add:
    """``total = total + term``, or with ``into``, in place into total's own buffer; ``shape``
    is the gradient's (a 0-d one is a numpy scalar once summed: no buffer to add into)."""

    def __init__(self, total, term, shape=None, into=False):
        self.total, self.term, self.shape, self.into = total, term, shape, into

    def text(self):
        if self.into:
            return f"{self.total} += {self.term}"
        return f"{self.total} = {self.total} + {self.term}"


class Return:
    def __init__(self, names):
        self.names = names

    def text(self):
        return "return " + ", ".join(n or "None" for n in self.names)


class Grad:
    """A gradient while the program is written: the name of its variable. ``+``, the engine's
    ``accumulate``, appends an ``Add``; the sum keeps the total's name."""

    __slots__ = ("name", "writer", "shape")

    def __init__(self, name, writer, shape):
        self.name, self.writer, self.shape = name, writer, shape

    def __add__(self, other):
        self.writer.program.append(Add(self.name, other.name, self.shape))
        return Grad(self.name, self.writer, self.shape)


class Program:
    """A backward, as instructions; ``receiving`` marks the outputs whose gradients it takes,
    ``needs`` the inputs whose gradients it gives."""

    def __init__(self, plan, receiving, needs):
        self.plan, self.receiving, self.needs = plan, receiving, needs
        self.instructions = []
        self.notes = []  # what the passes did, one line each

    def append(self, instruction):
        self.instructions.append(instruction)

    @property
    def arguments(self):
        """The names of the output gradients it takes, in order."""
        return [f"g{k}" for k, got in enumerate(self.receiving) if got]

    def listing(self):
        """The instructions as text, as the plan's listing shows them (a dropped gradient is
        in the generated code only)."""
        return [text for text in (i.text() for i in self.instructions) if text is not None]


class _Writer:
    """The ``vjp`` and the ``Grad`` objects that ``engine.gradients`` runs on, to write a
    program: a step's rule is a ``Rule`` whose results get names, and each result that the
    first backward saw summed or cast gets a ``Fit``."""

    def __init__(self, program):
        self.program = program
        self.count = {}  # name of a gradient -> how many terms it has had

    def vjp(self, step, out_grads):
        names = [self._name(step, i, r) for i, r in enumerate(step.rule_results)]
        grads = [None if g is None else g.name for g in out_grads]
        self.program.append(Rule(step, grads, names, step.needs))
        pairs = []
        for i, (parent, name) in enumerate(zip(step.parents, names)):
            if name is not None:
                self._fit(step, i, name)
                pairs.append((parent, Grad(name, self, step.inputs[i].shape)))
        return pairs

    def _name(self, step, i, returned):
        """A new name for the term rule ``step`` gives its input i, or None if it is unused:
        ``dv3`` for the first term of v3's gradient, then ``dv3_1``, ``dv3_2``, ..."""
        if returned is None or step.parents[i] is None:
            return None
        base = "d" + step.inputs[i].name
        n = self.count.get(base, 0)
        self.count[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def _fit(self, step, i, name):
        shape, dtype = step.rule_results[i]
        value = step.inputs[i]
        summed = value.shape if shape != value.shape else None
        cast = value.dtype if dtype != value.dtype else None
        if summed is not None or cast is not None:
            self.program.append(Fit(name, summed, cast, step))


def write_backward(plan, receiving, needs):
    """The program of the backward that takes the gradients of the outputs marked in
    ``receiving`` and gives those of the plan's inputs marked in ``needs``: the engine's pass
    over the plan, run with names. Every step that runs must have run once already, so that
    ``step.rule_results`` holds what its rule gave."""
    program = Program(plan, receiving, needs)
    writer = _Writer(program)
    roots = [_key(v) for v, got in zip(plan.outputs, receiving) if got]
    outputs = [v for v, got in zip(plan.outputs, receiving) if got]
    grads = [Grad(name, writer, v.shape) for name, v in zip(program.arguments, outputs)]
    targets = [v for v, need in zip(plan.leaves, needs) if need]
    found = gradients(roots, grads, set(targets), writer.vjp)
    program.append(Return([found[v].name if v in found else None for v in targets]))
    return program


def _key(value):
    """Where the gradient of a value of the plan goes: the output of its step, or the value."""
    return (value.step, value.k) if value.step is not None else value
