"""A row of an op table: the op's name, its SymPy reference, where its inputs come from, and
the shapes to try. Only numpy is needed to write one; SymPy runs when a row is checked.

* ``Row(op, reference, cases, inputs=(ANY,))``: ``reference(*arrays, **params)`` is the op
  written with SymPy on object arrays of symbols (``elementwise(sp.exp)``, ``lambda X, Y:
  X @ Y``), the definition the engine's value and exact derivatives are checked against.
* ``Case(shapes, params)``: one shape per tensor input, and the op's parameters.
* ``UNARY``, ``BINARY``: the cases of an elementwise op, including the broadcasting shapes
  scalar, (n,), (m, n) with (n,), and (m, 1) with (1, n).
* where inputs are drawn from, away from kinks: ``Uniform(lo, hi, avoid, margin)``, ``Mask()``
  (booleans, not differentiable), and ``ANY`` = [−3, 3], ``NONZERO`` (|x| ≥ 0.3),
  ``POSITIVE`` = [0.1, 5].
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Uniform:
    """Floats uniform on [lo, hi], staying ``margin`` away from each point in ``avoid``."""

    lo: float = -3.0
    hi: float = 3.0
    avoid: tuple = ()
    margin: float = 0.1
    differentiable = True

    def sample(self, rng, shape):
        x = rng.uniform(self.lo, self.hi, size=shape)
        for _ in range(1000):
            near = np.zeros(np.shape(x), dtype=bool)
            for point in self.avoid:
                near |= np.abs(x - point) < self.margin
            if not near.any():
                return x
            x = np.where(near, rng.uniform(self.lo, self.hi, size=shape), x)
        raise RuntimeError("Uniform.sample: could not stay away from the points to avoid")


@dataclass(frozen=True)
class Mask:
    """Random booleans (a condition input: not differentiable)."""

    differentiable = False

    def sample(self, rng, shape):
        return rng.random(shape) < 0.5


ANY = Uniform()
NONZERO = Uniform(avoid=(0.0,), margin=0.3)
POSITIVE = Uniform(0.1, 5.0)


@dataclass
class Case:
    shapes: tuple  # one shape per tensor input
    params: dict = field(default_factory=dict)


@dataclass
class Row:
    op: str
    reference: object  # (*object arrays, **params) -> object array
    cases: list
    inputs: tuple = (ANY,)  # one sampler per input; the last one repeats
    not_applicable: dict = field(default_factory=dict)  # check name -> why it cannot apply
    function: object = None  # for composite functions: called instead of the registered op

    def sampler(self, k):
        return self.inputs[min(k, len(self.inputs) - 1)]


UNARY = [Case(((),)), Case(((4,),)), Case(((3, 4),))]
BINARY = [
    Case(((), ())),
    Case(((4,), (4,))),
    Case(((3, 4), (4,))),
    Case(((3, 1), (1, 4))),
    Case(((), (3, 4))),
]
