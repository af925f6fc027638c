"""The track: five modules in the reading order of docs/study.md, and their exercises.

Each module's exercises are declared in the file that grades them:

1. ``derivatives.py``: derivatives as rules (SymPy, by ``rules.py``);
2. ``engine_parts.py``: the engine (its spec: orders, sums, modes);
3. ``through_time.py``: backpropagation through time by hand (hand-derived BPTT);
4. ``gates.py``: the LSTM's and the GRU's gates (PyTorch's recorded numbers);
5. ``compiler_pass.py``: a pass over a compiled plan (the replay against eager), optional.
"""

from . import compiler_pass, derivatives, engine_parts, gates, through_time
from .exercise import Module

PARTS = (derivatives, engine_parts, through_time, gates, compiler_pass)


def _assemble():
    modules = []
    for number, part in enumerate(PARTS, 1):
        module = Module(number, part.TITLE, part.GRADER, tuple(part.EXERCISES), part.OPTIONAL)
        for exercise in module.exercises:
            object.__setattr__(exercise, "module", module)  # the one back-reference
        modules.append(module)
    return modules


MODULES = _assemble()
EXERCISES = [e for m in MODULES for e in m.exercises]
BY_ID = {e.id: e for e in EXERCISES}
