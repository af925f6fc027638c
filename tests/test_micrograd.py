"""micrograd's own engine tests, run on minigrad.

The bodies are micrograd's ``test/test_engine.py`` with only the import and
``Value(x)`` → ``minigrad.tensor(x, requires_grad=True)`` changed. Where micrograd
compares with PyTorch, these compare with SymPy's exact derivative of the same
program, and ``test_more_ops`` also with the values micrograd's README prints
(which PyTorch gives in float64). The augmented assignments (``c += c + 1``)
are in-place ops on tensors in the graph: minigrad records them, as PyTorch does.
"""

import pytest
import sympy as sp

import minigrad


def Value(x):  # noqa: N802 - micrograd's name, so the bodies below are micrograd's
    return minigrad.tensor(x, requires_grad=True)


def sympy_program(program, **values):
    """Run ``program`` on SymPy symbols; return its value and its exact gradient at ``values``."""
    symbols = {name: sp.Symbol(name, real=True) for name in values}
    out = program(**symbols)
    at = {symbols[name]: sp.Rational(v) for name, v in values.items()}
    grads = {name: float(sp.diff(out, s).subs(at)) for name, s in symbols.items()}
    return float(out.subs(at)), grads


def relu(z):
    return sp.Max(z, 0)


def test_sanity_check():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xmg, ymg = x, y

    def program(x):
        z = 2 * x + 2 + x
        q = relu(z) + z * x
        h = relu(z * z)
        return h + q + q * x

    value, grads = sympy_program(program, x=-4)
    assert ymg.item() == pytest.approx(value, rel=1e-15)
    assert xmg.grad.item() == pytest.approx(grads["x"], rel=1e-15)


def more_ops(Value):  # noqa: N803 - micrograd's name
    """micrograd's test_more_ops program, line for line, on whatever ``Value`` makes a leaf of
    (tests/test_torch_bridge.py runs it on PyTorch too). Returns a, b and g."""
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return a, b, g


def test_more_ops():
    amg, bmg, gmg = more_ops(Value)

    def program(a, b):
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + relu(b + a)
        d = d + 3 * d + relu(b - a)
        e = c - d
        f = e**2
        g = f / 2
        return g + 10 / f

    value, grads = sympy_program(program, a=-4, b=2)
    assert gmg.item() == pytest.approx(value, rel=1e-14)
    assert amg.grad.item() == pytest.approx(grads["a"], rel=1e-14)
    assert bmg.grad.item() == pytest.approx(grads["b"], rel=1e-14)
    # the numbers micrograd's README prints, which PyTorch computes in float64
    assert gmg.item() == pytest.approx(24.70408163265306, rel=1e-15)
    assert amg.grad.item() == pytest.approx(138.83381924198252, rel=1e-15)
    assert bmg.grad.item() == pytest.approx(645.5772594752186, rel=1e-15)


def test_more_ops_records_each_augmented_assignment_as_a_node_of_its_own():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    before = c.grad_fn
    c += c + 1
    assert c.grad_fn is not before and c.grad_fn.name == "add"
    assert c.grad_fn.parents[0] == (before, 0)  # the add's first input: c's old value
