"""Exact pass: sum a gradient of three terms or more into the buffer its first sum made.

``total = total + term`` makes a new array for every term. The first such sum
makes an array that nothing else holds (the program made it); every later
term can be added into it, ``np.add(total, term, out=total)``, which computes
the same bits, without a new array. A gradient handed to a rule is not the
program's alone any more (a rule may return it as it is), so it is never
written into after that.
"""

from ..backward import Add, Rule


def run(program):
    owned, count = set(), 0
    for ins in program.instructions:
        if isinstance(ins, Add) and ins.shape != ():  # a 0-d sum is a numpy scalar: no buffer
            if ins.total in owned:
                ins.into, count = True, count + 1
            owned.add(ins.total)
        elif isinstance(ins, Rule):
            owned.difference_update(ins.grads)
    return f"{count} sum(s) into a buffer the program owns" if count else None
