"""What each rule reads, against PyTorch's derivatives.yaml: a value changed in place after an op
makes backward refuse exactly when the op's rule reads that value, and ``Op.saves`` says so.

For every op of the spec's table, each input (made by another op, so that it can change in
place) and the output are changed in place, one at a time, after the op ran; backward then
raises "modified in place" exactly for the values in ``READS``. PyTorch's formula reads the
same values, except where the last column of ``READS`` says otherwise.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad.inplace import reads
from minigrad.testing import Problem
from spec.op_table import TABLE

# op: (the values its rule reads when every input needs a gradient, how PyTorch's differs)
READS = {
    "add": (set(), ""),
    "sub": (set(), ""),
    "mul": ({"x", "y"}, ""),
    "div": ({"x", "y"}, ""),
    "pow": ({"x", "y", "out"}, ""),
    "clone": (set(), ""),
    "floor_divide": (set(), "PyTorch has no gradient for floor_divide"),
    "remainder": ({"x", "y"}, ""),
    "round": (set(), ""),
    "neg": (set(), ""),
    "exp": ({"out"}, ""),
    "log1p": ({"x"}, ""),
    "expm1": ({"out"}, ""),
    "erf": ({"x"}, ""),
    "softplus": ({"x"}, ""),
    "log": ({"x"}, ""),
    "sin": ({"x"}, ""),
    "cos": ({"x"}, ""),
    "sqrt": ({"out"}, ""),
    "abs": ({"x"}, ""),
    "sign": (set(), ""),
    "sigmoid": ({"out"}, "PyTorch keeps σ(x); minigrad also keeps σ(−x), a hidden output"),
    "tanh": ({"out"}, ""),
    "relu": ({"out"}, ""),
    "maximum": ({"x", "y"}, ""),
    "minimum": ({"x", "y"}, ""),
    "where": ({"cond"}, ""),
    "clip": ({"x"}, ""),
    "to": (set(), ""),
    "sum": (set(), ""),
    "mean": (set(), ""),
    "max": ({"x", "out"}, ""),
    "min": ({"x", "out"}, ""),
    "prod": ({"x", "out"}, ""),
    "cumsum": (set(), ""),
    "logsumexp": ({"x"}, "PyTorch reads its result too"),
    "log_softmax": ({"out"}, ""),
    "reshape": (set(), ""),
    "permute": (set(), ""),
    "broadcast_to": (set(), ""),
    "stack": (set(), ""),
    "concatenate": (set(), ""),
    "split": (set(), ""),
    "unbind": (set(), ""),
    "backward_hook": (set(), ""),
    "getitem": ({"arrays"}, ""),
    "index_put": ({"arrays"}, ""),
    "matmul": ({"x", "y"}, ""),
    "addmm": ({"a", "b"}, ""),
}


def test_the_table_covers_every_registered_op():
    assert sorted(READS) == sorted(mg.ops.registry())


def _names(op, n):
    names = op.input_names
    return names if op.n_inputs is not None else names[:-1] + names[-1:] * (n - len(names) + 1)


def _run(p, change):
    """The op on inputs made by an op each, then ``change`` (the name of a value, "out" or an
    input's) in place under no_grad, then backward: None, or the error backward raised."""
    leaves = p.tensors()
    inputs = [t * 1 if t.requires_grad else t.clone() for t in leaves]
    op = mg.ops.registry()[p.row.op]
    out = op.apply(tuple(inputs), p.case.params)
    first = out[0] if isinstance(out, tuple) else out
    loss = (first * 1.5).sum()
    names = _names(op, len(inputs))
    with mg.no_grad():
        target = first if change == "out" else inputs[names.index(change)]
        target.copy_(target.data.copy())  # the same values: only the version moves on
    try:
        loss.backward()
    except RuntimeError as error:
        return error
    return None


def _cases():
    """(op, value) for each op and each of its values that can change in place: its output
    (but broadcast_to's, a read-only view) and its inputs."""
    for op in READS:
        names = _names(mg.ops.registry()[op], len(TABLE[op].cases[0].shapes))
        for name in dict.fromkeys(["out", *names]):
            if (op, name) != ("broadcast_to", "out"):
                yield op, name


CASES = list(_cases())


@pytest.mark.parametrize(("op", "changed"), CASES, ids=[f"{o}-{n}" for o, n in CASES])
def test_backward_refuses_exactly_when_the_rule_reads_a_value_changed_in_place(op, changed):
    p = Problem(TABLE[op], TABLE[op].cases[0])
    error = _run(p, changed)
    if changed in READS[op][0]:
        assert error is not None and "modified in place" in str(error), error
        assert f"backward of '{op}'" in str(error)
    else:
        assert error is None, error


@pytest.mark.parametrize("op", sorted(READS))
def test_op_saves_declares_what_the_rule_reads(op):
    o = mg.ops.registry()[op]
    n = len(TABLE[op].cases[0].shapes)
    names = _names(o, n)
    needs = [name not in ("cond", "arrays") for name in names]
    declared = {name for name in {"out", *names} if reads(o, name, needs)}
    assert declared == READS[op][0] & {"out", *names}
    if o.n_inputs is None and o.input_names[-1] == "arrays":  # with an index tensor too
        assert reads(o, "arrays", [*needs, False]) == ("arrays" in READS[op][0])


def test_sigmoid_reads_only_its_outputs_so_its_input_may_change_in_place():
    x = mg.tensor([0.5, -2.0, 30.0], requires_grad=True)
    h = x * 1
    y = h.sigmoid()
    h.add_(1)  # PyTorch allows this; so does minigrad, and the gradient is still exact
    y.sum().backward()
    e = np.exp(-np.array([0.5, -2.0, 30.0]))
    assert np.allclose(x.grad.data, e / (1 + e) ** 2, rtol=1e-12, atol=0)
