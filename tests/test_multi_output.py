"""Ops with several outputs: ``unbind`` and ``split`` are one node each, whose rule gets one
gradient per output; and reading a sequence step by step, or writing one into a buffer step by
step, costs O(T) in memory and in work, not O(T²).

"Work" is measured without a clock: ``trace_backward`` records what every rule gave each input,
and ``made`` adds up the elements of the arrays a rule made (those that are not views of, or the
same as, the gradient it received). A full-size gradient per step would make T² of them.
"""

import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import trace_backward


def test_unbind_is_one_node_with_an_output_per_slice():
    x = mg.randn(4, 3, requires_grad=True)
    slices = x.unbind(0)
    assert len(slices) == 4 and all(s.grad_fn is slices[0].grad_fn for s in slices)
    assert [s.output_nr for s in slices] == [0, 1, 2, 3]
    assert slices[0].grad_fn.name == "unbind" and slices[0].grad_fn.n_outputs == 4


def test_a_slice_without_a_gradient_gives_zeros_in_the_inputs_gradient():
    x = mg.randn(4, 3, requires_grad=True)
    a, b, c, d = x.unbind(0)
    (2 * b + c).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3, [2.0] * 3, [1.0] * 3, [0.0] * 3]


def test_split_is_one_node_and_its_pieces_gradients_are_joined():
    x = mg.randn(2, 5, requires_grad=True)
    first, second = x.split([2, 3], axis=1)
    assert first.grad_fn is second.grad_fn and first.shape == (2, 2) and second.shape == (2, 3)
    (second * 3).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 3.0, 3.0, 3.0]] * 2


def test_a_single_piece_is_still_a_tuple_as_in_pytorch():
    x = mg.randn(1, 3, requires_grad=True)
    assert isinstance(x.unbind(0), tuple) and len(x.unbind(0)) == 1
    assert isinstance(x.split(3, axis=1), tuple) and len(x.split(3, axis=1)) == 1


def test_the_pieces_are_views_that_share_the_inputs_version():
    x = mg.randn(3, 2)
    a, b, c = x.unbind(0)
    x.add_(1)
    assert a._version == b._version == x._version == 1


def test_retain_grad_on_one_output_keeps_that_outputs_gradient():
    x = mg.randn(3, 2, requires_grad=True)
    a, b, c = x.unbind(0)
    b.retain_grad()
    (a + 4 * b).sum().backward()
    assert b.grad.tolist() == [4.0, 4.0] and a.grad is None


def test_grad_with_respect_to_an_output_of_a_node_with_several():
    x = mg.randn(3, 2, requires_grad=True)
    a, b, c = x.unbind(0)
    (gb,) = mg.grad((a * b).sum(), [b])
    assert gb.tolist() == a.tolist()


def made(trace):
    """Elements of the arrays the rules made in a backward pass (not views of what they got)."""
    total = 0
    for visit in trace.visits:
        arrived = [g for g in visit.grads if g is not None]
        for g in visit.received:
            if g is not None and not any(np.shares_memory(g, a) for a in arrived):
                total += g.size
    return total


def _rnn_input_gradient(T, B=4, E=3, H=5):
    mg.manual_seed(0)
    rnn = nn.RNN(E, H)
    x = mg.randn(T, B, E, requires_grad=True)
    tracemalloc.start()
    out, _ = rnn(x)
    with trace_backward() as trace:
        out.sum().backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return made(trace), peak


def test_a_recurrent_layers_input_gradient_is_linear_in_the_sequence_length():
    work_1, peak_1 = _rnn_input_gradient(200)
    work_2, peak_2 = _rnn_input_gradient(400)
    assert work_2 / work_1 == pytest.approx(2, rel=0.05)  # O(T²) would be 4
    assert peak_2 / peak_1 < 2.5


def _buffer_written_step_by_step(T, B=4, H=8):
    mg.manual_seed(0)
    w = mg.randn(H, H, requires_grad=True)
    h = mg.randn(B, H)
    tracemalloc.start()
    buf = mg.zeros(T, B, H)
    for t in range(T):
        h = (h @ w * 0.1).tanh()
        buf[t] = h
    with trace_backward() as trace:
        buf.sum().backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return made(trace), peak, w.grad.data


def test_a_buffer_written_step_by_step_is_linear_in_the_number_of_steps():
    work_1, peak_1, _ = _buffer_written_step_by_step(200)
    work_2, peak_2, _ = _buffer_written_step_by_step(400)
    assert work_2 / work_1 == pytest.approx(2, rel=0.05)
    assert peak_2 / peak_1 < 2.5


def test_a_buffer_written_step_by_step_has_the_gradient_of_its_stacked_steps():
    _, _, written = _buffer_written_step_by_step(6)
    mg.manual_seed(0)
    w = mg.randn(8, 8, requires_grad=True)
    h, steps = mg.randn(4, 8), []
    for _ in range(6):
        h = (h @ w * 0.1).tanh()
        steps.append(h)
    mg.stack(steps).sum().backward()
    assert np.allclose(written, w.grad.data, rtol=1e-13, atol=0)


def test_writing_a_position_twice_gives_the_overwritten_value_no_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    buf = mg.zeros(3)
    buf[0] = x[0] * 5
    buf[0] = x[1]  # the first value is gone: no gradient reaches x[0]
    buf[1] = x[0]
    (buf * mg.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [10.0, 1.0]


def test_a_write_into_a_tensor_that_requires_grad_zeroes_what_it_overwrote():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[1] = mg.tensor(7.0)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 2.0]


def test_a_write_that_names_a_position_twice_is_refused():
    buf = mg.zeros(3)
    with pytest.raises(ValueError, match="__setitem__: the index names a position more than once"):
        buf[[0, 0]] = mg.tensor([1.0, 2.0], requires_grad=True)
