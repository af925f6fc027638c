"""The edges of a compiled replay, each once a silently wrong number: names that could clash,
outputs changed in place or sharing memory, arguments that are one tensor, tensors made inside
fn, 0-d gradients, mixed dtypes in the reassociating passes. Each replay equals eager, or raises
where eager raises."""

import numpy as np
import pytest

import minigrad as mg

from .test_compile import same


def leaf(values, dtype=None):
    return mg.tensor(values, requires_grad=True, dtype=dtype)


def test_an_argument_named_like_a_gradients_later_term_gets_a_name_of_its_own():
    def f(h, h_1):  # h's second gradient term would be dh_1, h_1's gradient's name
        return (h * 2.0 + h * 3.0 + h_1 * 4.0).sum()

    compiled = mg.compile(f)
    h, h1 = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    for _ in range(3):  # trace, first replay, generated backward
        h.grad = h1.grad = None
        compiled(h, h1).backward()
        assert h.grad.tolist() == [5.0, 5.0] and h1.grad.tolist() == [4.0, 4.0]
    assert str(compiled.plan).startswith("plan of f(h: float64[2], a1: float64[2])")


def _backward_after(fn, change):
    """backward through fn's result once ``change(result)`` ran: the gradient, or the error."""
    x = leaf([0.5, -1.0, 2.0])
    y = fn(x)
    loss = (y * mg.tensor([1.0, 2.0, 3.0])[: y.shape[0]]).sum()
    change(y, x)
    try:
        loss.backward()
    except RuntimeError as error:
        return str(error)
    return x.grad.tolist()


@pytest.mark.parametrize(
    "change",
    [
        lambda y, x: y.mul_(2),  # the output, which exp's rule reads
        lambda y, x: y.add_(1),
    ],
    ids=["mul_", "add_"],
)
def test_an_output_changed_in_place_after_the_call_is_refused_as_in_eager(change):
    def changed(y, x):
        with mg.no_grad():
            change(y, x)

    def run(fn):
        return _backward_after(fn, changed)

    compiled = mg.compile(lambda a: a.exp())
    compiled(leaf([0.0, 0.0, 0.0]))  # traced
    eager, replay = run(lambda a: a.exp()), run(compiled)
    assert "was modified in place after the op ran" in eager
    assert "was modified in place after the op ran" in replay


def test_an_output_that_is_a_view_of_an_argument_shares_its_version():
    compiled = mg.compile(lambda a: a[0:2])
    compiled(leaf([0.0, 0.0, 0.0]))

    def change(y, x):
        with mg.no_grad():
            x.add_(1.0)  # through the argument: the output's values change too

    for fn in (lambda a: a[0:2], compiled):
        v = leaf([1.0, 2.0])
        x = leaf([0.5, -1.0, 2.0]) * 1
        y = fn(x)
        z = (y * v).sum()
        change(y, x)
        with pytest.raises(RuntimeError, match="modified in place|changed in place"):
            z.backward()


def test_arguments_that_are_one_tensor_at_the_trace_are_one_in_the_signature():
    w = leaf([1.0, 2.0, 3.0])
    fn = lambda a, b: (a * b * w).sum()  # noqa: E731
    compiled = mg.compile(fn)
    x, y = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([-1.0, 0.5, 4.0])
    assert same(compiled(x, x).data, fn(x, x).data)
    assert same(compiled(x, y).data, fn(x, y).data) and compiled.traces == 2
    assert same(compiled(y, y).data, fn(y, y).data) and compiled.traces == 2


CONSTANT = mg.tensor([2.0, -1.0, 0.5])


def test_an_argument_that_is_also_a_global_keeps_the_plan_to_that_tensor():
    w = leaf([1.0, 2.0, 3.0])
    fn = lambda a: (a * CONSTANT * w).sum()  # noqa: E731
    compiled = mg.compile(fn)
    assert same(
        compiled(CONSTANT).data, fn(CONSTANT).data
    )  # traced with the global as the argument
    other = mg.tensor([5.0, 6.0, 7.0])
    assert same(compiled(other).data, fn(other).data) and compiled.traces == 2


def test_detach_inside_the_function_is_replayed_with_each_calls_values():
    w = leaf([1.0, -2.0, 0.5])

    def step(h, x):
        return (h.detach() * w + x).tanh().sum()

    compiled = mg.compile(step)
    x = mg.tensor([0.1, 0.2, 0.3])
    for h in (mg.tensor([1.0, 2.0, 3.0]), mg.tensor([-1.0, 0.0, 4.0]), mg.tensor([0.5] * 3)):
        w.grad = None
        step(h, x).backward()
        expected = w.grad.data.copy()
        w.grad = None
        compiled(h, x).backward()
        assert same(w.grad.data, expected)


def test_a_copy_of_a_tensor_made_inside_the_function_is_refused():
    with pytest.raises(RuntimeError, match=r"compile\(copy\): fn reads a tensor's values .*tensor"):

        @mg.compile
        def copy(a):
            return mg.tensor(a) * 2

        copy(mg.ones(2))


def test_many_0d_gradients_sum_in_a_replay_as_in_eager():
    x = leaf(1.5)
    a, b, c = mg.tensor(2.0), mg.tensor(3.0), mg.tensor(4.0)
    fn = lambda x: (x * a).exp() + (x * b).exp() + (x * c).exp()  # noqa: E731
    compiled = mg.compile(fn)
    grads = []
    for _ in range(3):
        x.grad = None
        compiled(x).backward()
        grads.append(x.grad)
    x.grad = None
    fn(x).backward()
    assert all(same(g.data, x.grad.data) for g in grads)


def _recurrence(x, w_in, w_h):
    h = mg.zeros(2, 3)
    for x_t in x.unbind(0):
        h = (x_t @ w_in + h @ w_h).tanh()
    return h.sum()


def test_not_exactly_a_float32_weight_keeps_float32_gradients_in_both_passes():
    mg.manual_seed(0)
    w_in = mg.randn(4, 3).float().requires_grad_()
    w_h = mg.randn(3, 3).float().requires_grad_()
    x = mg.randn(5, 2, 4)  # float64: products promote, gradients are cast back
    compiled = mg.compile(lambda x: _recurrence(x, w_in, w_h), exact=False)
    for _ in range(3):
        w_in.grad = w_h.grad = None
        compiled(x).backward()
    got = [w_in.grad, w_h.grad]
    w_in.grad = w_h.grad = None
    _recurrence(x, w_in, w_h).backward()
    notes = " ".join(str(p) for p in compiled.plan.passes)
    assert "batch_projections" in notes
    (program,) = compiled.plan.programs.values()
    assert any("stack_products" in str(n) for n in program.notes)
    for g, e in zip(got, [w_in.grad, w_h.grad]):
        assert g.dtype == np.float32 and np.allclose(g.data, e.data, rtol=1e-5, atol=1e-6)


def test_a_change_through_a_slice_of_a_tensor_outside_the_graph_is_refused():
    w = leaf([1.0, 2.0])
    buf = mg.zeros(2, 2)
    row = buf[0]
    with pytest.raises(RuntimeError, match="add_: this tensor shares its memory with another"):
        row += w
    with pytest.raises(RuntimeError, match="__setitem__: this tensor shares its memory"):
        buf[1] = w  # buf has a view (row) outside the graph


def test_a_value_that_requires_grad_written_into_an_integer_tensor_is_refused():
    ints = mg.zeros(3, dtype=mg.int64)
    with pytest.raises(TypeError, match="__setitem__: a value that requires grad cannot be"):
        ints[0:1] = leaf([1.7])
