"""In-place changes, as PyTorch has them.

* On a tensor in the graph the change is recorded: the op's node becomes the
  tensor's ``grad_fn``, and backward is exact.
* Backward raises only when a rule would read a value that was overwritten
  after its op ran; ``add``, ``sum``, ``reshape`` and the like read nothing.
* A leaf that requires grad changes in place only under ``no_grad()``.
* A view shares its base's version, so a change through either is seen by both.
"""

import numpy as np
import pytest

import minigrad as mg


def leaf(values):
    return mg.tensor(values, requires_grad=True)


X = [0.5, -1.5, 2.0]
W = [3.0, 0.25, -2.0]
K = [1.0, -2.0, 0.5]  # weights of the final sum, so every gradient element differs


def gradients_of(program):
    """Run ``program(x, w)`` on fresh leaves and backpropagate Σ k·result."""
    x, w = leaf(X), leaf(W)
    (program(x, w) * mg.tensor(K)).sum().backward()
    return x.grad.tolist(), w.grad.tolist()


def _set_part(h, w):
    h[1:] = w[:2]
    return h


# (in-place program, the same program out of place)
CHANGES = {
    "+=": (lambda h, w: h.__iadd__(w), lambda h, w: h + w),
    "-=": (lambda h, w: h.__isub__(w), lambda h, w: h - w),
    "*=": (lambda h, w: h.__imul__(w), lambda h, w: h * w),
    "/=": (lambda h, w: h.__itruediv__(w), lambda h, w: h / w),
    "add_ alpha": (lambda h, w: h.add_(w, alpha=0.5), lambda h, w: h + 0.5 * w),
    "sub_ alpha": (lambda h, w: h.sub_(w, alpha=3), lambda h, w: h - 3 * w),
    "mul_ number": (lambda h, w: h.mul_(4.0) + w, lambda h, w: h * 4.0 + w),
    "copy_": (lambda h, w: h.copy_(w * 2), lambda h, w: w * 2 + 0 * h),
    "fill_": (lambda h, w: h.fill_(7.0) * w, lambda h, w: (0 * h + 7.0) * w),
    "zero_": (lambda h, w: h.zero_() + w, lambda h, w: 0 * h + w),
    "clamp_": (lambda h, w: h.clamp_(-1, 1) * w, lambda h, w: h.clamp(-1, 1) * w),
    "setitem": (_set_part, lambda h, w: mg.cat([h[:1], w[:2]])),
}


@pytest.mark.parametrize("name", CHANGES)
def test_an_in_place_change_of_a_tensor_in_the_graph_gives_the_out_of_place_gradients(name):
    in_place, out_of_place = CHANGES[name]
    got = gradients_of(lambda x, w: in_place(x * 1.5, w))
    expected = gradients_of(lambda x, w: out_of_place(x * 1.5, w))
    assert np.allclose(got, expected, rtol=1e-15, atol=0)


def test_the_changed_tensor_keeps_its_array_and_its_grad_fn_becomes_the_new_node():
    h = leaf(X) * 2
    array, before = h.data, h.grad_fn
    h += 1
    assert h.data is array and h.tolist() == [2.0, -2.0, 5.0]
    assert h.grad_fn.name == "add"
    # add's rule reads nothing (Op.saves), so no copy of the old values is made
    assert h.grad_fn.parents[0] == (before, 0)


def test_an_in_place_op_whose_rule_reads_the_old_values_reads_a_clone_of_them():
    w = leaf(W)
    h = leaf(X) * 2
    before = h.grad_fn
    h *= w  # ∂/∂w reads the old h, so the product reads a clone of it
    copy = h.grad_fn.parents[0][0]
    assert copy.name == "clone" and copy.parents[0] == (before, 0)
    (h * mg.tensor(K)).sum().backward()
    assert w.grad.tolist() == [2 * x * k for x, k in zip(X, K)]


def test_an_in_place_op_whose_rule_does_not_read_the_old_values_makes_no_clone():
    h = leaf(X) * 2
    before = h.grad_fn
    h *= 3.0  # the constant needs no gradient, so ∂/∂(old h) = 3 reads nothing
    assert h.grad_fn.name == "mul" and h.grad_fn.parents[0] == (before, 0)


def test_a_value_that_requires_grad_written_into_a_constant_makes_it_part_of_the_graph():
    w = leaf(W)
    buf = mg.zeros(3)
    buf += w
    assert buf.requires_grad and not buf.is_leaf
    (buf * buf).sum().backward()
    assert w.grad.tolist() == [2 * v for v in W]


def test_a_rule_that_reads_an_overwritten_input_raises_naming_the_op_and_the_input():
    w = leaf(W)
    h = leaf(X) * 1
    y = (h * w).sum()  # d/dw reads h
    h += 1
    with pytest.raises(RuntimeError, match=r"backward of 'mul': input 0 was modified in place"):
        y.backward()


def test_a_rule_that_reads_its_overwritten_output_raises():
    y = leaf(X).exp()  # d/dx = grad · y reads the output
    y += 1
    with pytest.raises(RuntimeError, match=r"backward of 'exp': its output was modified in place"):
        y.sum().backward()


READ_NOTHING = {
    "add": lambda h: h + 3.0,
    "sub": lambda h: 3.0 - h,
    "neg": lambda h: -h,
    "sum": lambda h: h.sum(),
    "mean": lambda h: h.mean(),
    "reshape": lambda h: h.reshape(3, 1),
    "permute": lambda h: h.reshape(1, 3).T,
    "broadcast_to": lambda h: h.broadcast_to((2, 3)),
    "getitem": lambda h: h[1:],
    "mul by a constant": lambda h: h * 2.0,
    "div by a constant": lambda h: h / 4.0,
}


@pytest.mark.parametrize("name", READ_NOTHING)
def test_a_rule_that_does_not_read_an_input_lets_it_be_overwritten(name):
    op = READ_NOTHING[name]
    x = leaf(X)
    h = x * 2
    total = op(h).sum()
    h += 10  # op's rule does not read h, so backward through it is still exact
    total.backward()
    expected = leaf(X)
    op(expected * 2).sum().backward()
    assert x.grad.tolist() == expected.grad.tolist()


def test_only_the_gradient_that_reads_an_overwritten_value_raises():
    x, w = leaf(X), mg.tensor(W)
    h = x * 1
    y = (h * w).sum()  # d/dh reads w only: w is a constant, so h's value is never read
    h += 1
    y.backward()
    assert x.grad.tolist() == W


def test_the_stand_in_for_an_overwritten_value_still_gives_its_shape_and_dtype():
    x = leaf(np.ones((2, 3)))
    h = x * 1
    y = h.sum(axis=0)  # sum's rule reads x.shape to spread the gradient back
    h.mul_(2)
    y.sum().backward()
    assert x.grad.shape == (2, 3) and x.grad.dtype == np.float64


def test_a_leaf_that_requires_grad_cannot_be_written_into_while_recording():
    w = leaf(W)
    with pytest.raises(RuntimeError, match=r"__setitem__: a leaf that requires grad"):
        w[0] = 1.0
    with mg.no_grad():
        w[0] = 1.0
    assert w.tolist()[0] == 1.0 and w.is_leaf


def test_a_tensor_in_the_graph_changed_under_no_grad_raises_where_its_value_is_read():
    w = leaf(W)
    h = leaf(X) * 1
    y = (h * w).sum()
    with mg.no_grad():
        h.add_(1)  # allowed, as in PyTorch; the change is not recorded
    with pytest.raises(RuntimeError, match="input 0 was modified in place"):
        y.backward()
    with pytest.raises(RuntimeError, match="mul: the tensor made by 'mul' was changed in place"):
        h * 2  # its graph still says h = x·1


def test_a_view_sees_an_in_place_change_of_its_base():
    h = leaf(X) * 1
    view = h[1:]
    h += 1
    assert view.tolist() == [X[1] + 1, X[2] + 1]


def test_a_view_made_before_its_base_changed_cannot_be_used_in_the_graph():
    x = leaf(X)
    h = x * 1
    view = h[1:]
    h *= 2  # the view's values are now 2·x[1:], but its graph says x[1:]
    with pytest.raises(RuntimeError, match="sum: the tensor made by 'getitem' was changed"):
        view.sum()
    h.sum().backward()  # the base itself is fine
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_an_in_place_change_through_a_view_is_recorded_on_the_view_and_its_base_is_out_of_date():
    x, w = leaf(X), leaf(W)
    h = x * 1
    view = h[1:]
    view += w[1:]
    assert h.tolist() == [X[0], X[1] + W[1], X[2] + W[2]]  # one memory
    view.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0] and w.grad.tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="the tensor made by 'mul' was changed in place"):
        h.sum()  # h's graph does not know about the change; h[i] = h[i] + v records it


def test_writing_part_of_a_tensor_out_of_place_then_back_is_recorded():
    x, w = leaf(X), leaf(W)
    h = x * 1
    h[1:] = h[1:] + w[1:]  # what h[1:] += w[1:] means; the in-place form changes a view
    (h * mg.tensor(K)).sum().backward()
    assert x.grad.tolist() == K and w.grad.tolist() == [0.0, K[1], K[2]]


def test_retain_grad_follows_the_tensor_through_an_in_place_change():
    x = leaf(X)
    h = x * 2
    h.retain_grad()
    h += x
    (h * h).sum().backward()
    assert h.grad.tolist() == [2 * 3 * v for v in X]  # d(h²)/dh at h = 3x


def test_second_derivatives_pass_through_a_recorded_in_place_change():
    x = leaf(X)
    h = x * x
    h += x**3
    (g,) = mg.grad(h.sum(), x, create_graph=True)  # 2x + 3x²
    (gg,) = mg.grad(g.sum(), x)  # 2 + 6x
    assert np.allclose(g.data, [2 * v + 3 * v * v for v in X], rtol=1e-15)
    assert np.allclose(gg.data, [2 + 6 * v for v in X], rtol=1e-15)


def test_in_place_under_no_grad_writes_the_same_array_and_leaves_no_graph():
    w = leaf(W)
    array = w.data
    with mg.no_grad():
        w -= 0.5 * mg.ones(3)
    assert w.data is array and w.is_leaf and w.grad_fn is None
