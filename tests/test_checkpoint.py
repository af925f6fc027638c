"""Gradient checkpointing (``minigrad.utils.checkpoint``): gradients bit for bit those without
it, random draws replayed, values really dropped, and every misuse refused with what to do.
The memory claim (peak memory sublinear in T with √T segments) is in spec/test_memory.py."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.utils.checkpoint import checkpoint


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _lstm_segments(cell, dropout, xs, use_checkpoint, k=4):
    """An LSTM cell over xs in segments of k steps, with dropout on the inputs; the loss."""

    def segment(h, c, xs):
        for x in xs.unbind(0):
            h, c = cell(dropout(x), (h, c))
        return h, c

    h = c = mg.zeros(xs.shape[1], cell.hidden_size)
    for s in range(0, xs.shape[0], k):
        args = (h, c, xs[s : s + k])
        h, c = checkpoint(segment, *args) if use_checkpoint else segment(*args)
    return (h * h).sum() + c.sum()


def _grads_and_state(use_checkpoint):
    mg.manual_seed(0)
    cell, dropout = nn.LSTMCell(3, 5), nn.Dropout(0.3)
    xs = mg.randn(12, 2, 3, requires_grad=True)
    mg.manual_seed(1)
    loss = _lstm_segments(cell, dropout, xs, use_checkpoint)
    loss.backward()
    grads = [xs.grad.data] + [p.grad.data for p in cell.parameters()]
    return loss.item(), grads, mg.get_rng_state()


def test_gradients_are_bit_for_bit_those_without_checkpointing_dropout_included():
    loss, grads, state = _grads_and_state(False)
    loss_c, grads_c, state_c = _grads_and_state(True)
    assert loss_c == loss and _same(grads_c, grads)
    assert state_c == state  # the second run's draws do not move the generator


def test_grad_and_a_second_backward_give_the_same_gradients_again():
    mg.manual_seed(0)
    w = mg.randn(4, 4, requires_grad=True)
    x = mg.randn(3, 4)

    def f(x):
        return (x @ w).tanh() @ w

    y = checkpoint(f, x)
    loss = (y * y).sum()
    (first,) = mg.grad(loss, [w])
    loss.backward()
    loss.backward()  # twice on one graph: each backward runs f again
    z = f(x)
    (plain,) = mg.grad((z * z).sum(), [w])
    assert np.array_equal(first.data, plain.data)
    assert np.array_equal(w.grad.data, 2 * plain.data)


def test_second_derivatives_through_a_checkpoint_equal_those_without():
    mg.manual_seed(0)
    x = mg.randn(5, requires_grad=True)

    def f(x):
        return (x.sin() * x).exp().sum()

    def hessian_row(use_checkpoint):
        y = checkpoint(f, x) if use_checkpoint else f(x)
        (g,) = mg.grad(y, [x], create_graph=True)
        return mg.grad(g[2], [x])[0].data

    np.testing.assert_allclose(hessian_row(True), hessian_row(False), rtol=1e-14, atol=0)


def test_the_values_of_a_checkpointed_function_are_dropped_after_its_forward_pass():
    mg.manual_seed(0)
    w = mg.randn(50, 50, requires_grad=True)
    y = checkpoint(lambda x: ((x @ w).sigmoid() @ w).tanh(), mg.randn(8, 50))
    node, arrays = y.grad_fn, []
    stack = [node]
    while stack:
        node = stack.pop()
        arrays += [a for a in node.outs if isinstance(a, np.ndarray)]
        stack += [p[0] for p in node.parents if type(p) is tuple]
    assert arrays == []  # the graph holds no array of the function's; y holds its own


def test_hooks_and_retain_grad_on_its_output_work():
    mg.manual_seed(0)
    x = mg.randn(3, requires_grad=True)
    y = checkpoint(lambda x: x.exp() * 2, x)
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()) or g * 3)
    y.retain_grad()
    y.sum().backward()
    assert _same([seen[0], y.grad.data], [np.ones(3), 3 * np.ones(3)])  # as in PyTorch
    np.testing.assert_allclose(x.grad.data, 6 * np.exp(x.data), rtol=1e-15)


def test_without_grad_mode_the_function_just_runs():
    x = mg.randn(3, requires_grad=True)
    with mg.no_grad():
        y = checkpoint(lambda x: x * 2, x)
    assert not y.requires_grad and np.array_equal(y.data, 2 * x.data)


def test_inside_a_compiled_function_it_runs_and_the_plan_keeps_what_it_needs():
    mg.manual_seed(0)
    w = mg.randn(3, 3, requires_grad=True)

    def step(x):
        return checkpoint(lambda x: (x @ w).tanh(), x).sum()

    compiled = mg.compile(step)
    x = mg.randn(2, 3)
    for _ in range(2):
        w.grad = None
        compiled(x).backward()
    got = w.grad.data.copy()
    w.grad = None
    step(x).backward()
    assert np.array_equal(got, w.grad.data)


# ---- misuse ---------------------------------------------------------------------------------


def test_an_input_changed_in_place_before_backward_is_refused():
    w = mg.randn(3, requires_grad=True)
    x = mg.randn(3)
    y = checkpoint(lambda x: (x * w).sin(), x)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match=r"checkpoint: a tensor of shape \(3,\) that the "
                       r"function read was changed in place after it ran"):  # fmt: skip
        y.sum().backward()


def test_a_weight_changed_in_place_before_backward_is_refused():
    w = mg.randn(3, requires_grad=True)
    y = checkpoint(lambda x: (x * w).sin(), mg.randn(3))
    with mg.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match="changed in place after it ran"):
        y.sum().backward()


def test_a_function_that_changes_its_argument_in_place_is_refused():
    x = mg.randn(3, requires_grad=True) * 1.0

    def f(x):
        x.mul_(2.0)
        return x.sin()

    with pytest.raises(RuntimeError, match="checkpoint: the function changed one of its arguments"):
        checkpoint(f, x)


def test_a_function_that_makes_different_ops_the_second_time_is_refused():
    calls = []
    w = mg.randn(3, requires_grad=True)

    def f(x):
        calls.append(1)
        return (x * w).exp() if len(calls) == 1 else (x * w).sin().exp()

    y = checkpoint(f, mg.randn(3))
    with pytest.raises(RuntimeError, match=r"checkpoint: the function made different ops when "
                       r"run again in backward \(3 ops, against 2\)"):  # fmt: skip
        y.sum().backward()


def test_the_reentrant_form_and_a_non_function_are_refused():
    with pytest.raises(ValueError, match="checkpoint: only the non-reentrant form exists"):
        checkpoint(lambda x: x, mg.randn(2), use_reentrant=True)
    with pytest.raises(TypeError, match="checkpoint: expected a function, got Tensor"):
        checkpoint(mg.randn(2), mg.randn(2))


# ---- the recurrent layers' option ----------------------------------------------------------


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("k", [1, 3, 10, 25])
def test_recurrent_layers_checkpoint_every_k_steps_bit_for_bit(layer, k):
    def run(checkpoint_every):
        mg.manual_seed(0)
        net = layer(3, 4, num_layers=2, bidirectional=True, batch_first=True,
                    checkpoint_every=checkpoint_every)  # fmt: skip
        x = mg.randn(2, 10, 3, requires_grad=True)
        out, h = net(x)
        h = h[0] if isinstance(h, tuple) else h
        ((out * out).sum() + h.sum()).backward()
        return [out.data, x.grad.data] + [p.grad.data for p in net.parameters()]

    assert _same(run(k), run(None))


@pytest.mark.parametrize(("value", "error", "message"), [
    (0, ValueError, "LSTM: checkpoint_every must be positive, got 0"),
    (2.5, TypeError, "LSTM: checkpoint_every must be an int, got 2.5"),
])  # fmt: skip
def test_checkpoint_every_must_be_a_positive_int(value, error, message):
    with pytest.raises(error, match=message):
        nn.LSTM(3, 4, checkpoint_every=value)


def test_checkpoint_every_shows_in_the_layers_repr():
    assert repr(nn.GRU(3, 4, checkpoint_every=5)) == "GRU(3, 4, checkpoint_every=5)"


def test_a_checkpoint_inside_a_checkpoint_gives_the_same_gradients():
    mg.manual_seed(0)
    w = mg.randn(4, 4, requires_grad=True)

    def inner(h):
        return (h @ w).tanh()

    def outer(h, nested):
        for _ in range(3):
            h = checkpoint(inner, h) if nested else inner(h)
        return h.sigmoid()

    def grads(nested):
        w.grad = None
        h = mg.ones(2, 4)
        y = checkpoint(outer, h, nested)
        (y * y).sum().backward()
        return w.grad.data.copy()

    assert np.array_equal(grads(True), grads(False))
