"""The graph and backward: accumulation, grad(), grad mode, deep graphs, the known traps,
reference cycles, in-place detection and the engine's checks on backward rules."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import Op


def leaf(values):
    return mg.tensor(values, requires_grad=True)


# ---- backward() and its errors --------------------------------------------------------------


def test_backward_of_a_scalar_fills_leaf_grads():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_backward_on_a_non_scalar_without_gradient_names_the_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        y.backward()


def test_backward_with_an_explicit_gradient():
    x = leaf([1.0, 2.0])
    (x * 3).backward(mg.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [3.0, 30.0]
    x.grad = None
    (x * 3).backward([2.0, 0.0])  # array-likes are accepted
    assert x.grad.tolist() == [6.0, 0.0]


def test_a_gradient_of_the_wrong_shape_is_rejected():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the output has \(2,\)"):
        y.backward(mg.ones(3))


def test_backward_on_a_tensor_without_a_graph_explains_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_gradients_accumulate_across_backward_calls_as_in_pytorch():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    y.backward(retain_graph=True)  # the graph is kept; retain_graph is accepted and harmless
    assert x.grad.tolist() == [4.0, 8.0]


def test_backward_from_a_leaf_gives_ones():
    x = leaf([1.0, 2.0])
    x.backward(mg.ones(2))
    assert x.grad.tolist() == [1.0, 1.0]


def test_backward_of_a_float32_graph_keeps_float32_grads():
    x = mg.tensor([1.0, 2.0], dtype=mg.float32, requires_grad=True)
    (x.exp() * 2).sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_dtypes_promote_forward_and_cast_each_gradient_back():
    a = mg.tensor([1.0], dtype=mg.float32, requires_grad=True)
    b = mg.tensor([2.0], requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert a.grad.tolist() == [2.0] and b.grad.tolist() == [1.0]


def test_python_scalars_take_the_tensor_dtype():
    x = mg.tensor([1.0], dtype=mg.float32, requires_grad=True)
    assert (x * 2.0).dtype == (2.0 - x).dtype == (x**2).dtype == np.float32


def test_numpy_arrays_on_the_left_of_an_operator_keep_the_graph():
    x = leaf([1.0, 2.0])
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, mg.Tensor) and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_leaf_grad_never_aliases_another_array():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).backward()  # add passes one gradient object to both inputs
    assert a.grad.data is not b.grad.data
    with mg.no_grad():
        a.grad.mul_(10)
    assert b.grad.tolist() == [1.0]


# ---- grad() ---------------------------------------------------------------------------------


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = mg.grad(y, [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None


def test_grad_of_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = mg.grad(y, h)
    assert gh.tolist() == [6.0, 12.0]


def test_grad_with_respect_to_an_unused_input_raises_unless_allowed():
    x, unused = leaf([1.0]), leaf([1.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="input 1 .* was not used"):
        mg.grad(y, [x, unused])
    assert mg.grad(y, [x, unused], allow_unused=True)[1] is None


def test_grad_needs_inputs_that_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="grad: input 0 does not require grad"):
        mg.grad((x * 2).sum(), mg.tensor([1.0]))


def test_grad_takes_several_outputs_with_their_cotangents():
    x = leaf([1.0, 2.0])
    (g,) = mg.grad([x * 2, x * x], x, [mg.ones(2), mg.tensor([1.0, 1.0])])
    assert g.tolist() == [4.0, 6.0]
    with pytest.raises(ValueError, match="got 1 gradients for 2 outputs"):
        mg.grad([x * 2, x * 3], x, [mg.ones(2)])


def test_grad_of_the_same_input_listed_twice():
    x = leaf([1.0])
    g1, g2 = mg.grad((x * 5).sum(), [x, x])
    assert g1.tolist() == g2.tolist() == [5.0]


# ---- grad mode ------------------------------------------------------------------------------


def test_no_grad_as_a_context_manager():
    x = leaf([1.0])
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert mg.is_grad_enabled()


def test_no_grad_as_a_decorator():
    @mg.no_grad()
    def double(t):
        return t * 2

    assert not double(leaf([1.0])).requires_grad
    assert mg.is_grad_enabled()


def test_no_grad_and_enable_grad_decorate_without_parentheses():
    @mg.no_grad
    def double(t):
        """Doubles."""
        return t * 2

    @mg.enable_grad
    def triple(t):
        return t * 3

    assert double.__name__ == "double" and double.__doc__ == "Doubles."
    assert not double(leaf([1.0])).requires_grad
    assert mg.is_grad_enabled()
    with mg.no_grad():
        assert triple(leaf([1.0])).requires_grad
        assert not mg.is_grad_enabled()


def test_no_grad_given_something_other_than_a_function_raises():
    with pytest.raises(TypeError, match="no_grad: takes no arguments .*got False"):
        mg.no_grad(False)
    with pytest.raises(TypeError, match="enable_grad: takes no arguments .*got 1"):
        mg.enable_grad(1)


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with mg.no_grad(), mg.enable_grad():
        assert (x * 2).requires_grad


def test_set_grad_enabled_as_a_call_a_context_and_a_decorator():
    x = leaf([1.0])
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert mg.is_grad_enabled()
    mg.set_grad_enabled(False)
    assert not mg.is_grad_enabled()
    mg.set_grad_enabled(True)

    @mg.set_grad_enabled(False)
    def f():
        return mg.is_grad_enabled()

    assert mg.is_grad_enabled() and f() is False and mg.is_grad_enabled()


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(KeyError), mg.no_grad():
        raise KeyError
    assert mg.is_grad_enabled()


# ---- deep graphs and the classic traps ------------------------------------------------------


def test_backward_through_a_chain_of_100000_ops_needs_no_recursion():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_a_node_reused_as_both_operands_x_times_x():
    x = leaf([3.0])
    (x * x).sum().backward()
    assert x.grad.tolist() == [6.0]


def test_a_plus_a():
    a = leaf([1.0])
    (a + a).sum().backward()
    assert a.grad.tolist() == [2.0]


def test_a_diamond_b_is_a_plus_a_and_c_is_b_plus_b():
    a = leaf([1.0])
    b = a + a
    c = b + b
    c.sum().backward()
    assert a.grad.tolist() == [4.0]


def test_z_minus_z_has_zero_gradient():
    z = leaf([5.0])
    (z - z).sum().backward()
    assert z.grad.tolist() == [0.0]


def test_operand_order_is_kept_x_over_y():
    x, y = leaf([6.0]), leaf([2.0])
    (x / y).sum().backward()
    assert x.grad.tolist() == [0.5] and y.grad.tolist() == [-1.5]


def test_a_bias_broadcast_over_the_batch_gets_the_summed_gradient():
    h, w, b = leaf(np.ones((4, 3))), leaf(np.ones((3, 2))), leaf(np.zeros(2))
    (h @ w + b).sum().backward()
    assert b.grad.shape == (2,) and b.grad.tolist() == [4.0, 4.0]


def test_row_against_column_broadcasting_reduces_both_ways():
    row, col = leaf(np.ones((1, 3))), leaf(np.ones((2, 1)))
    (row * col).sum().backward()
    assert row.grad.shape == (1, 3) and row.grad.tolist() == [[2.0, 2.0, 2.0]]
    assert col.grad.shape == (2, 1) and col.grad.tolist() == [[3.0], [3.0]]


def test_reading_a_tensor_slice_by_slice_adds_every_slice_gradient():
    x = leaf(np.arange(12.0).reshape(4, 3))
    total = sum((row * (i + 1)).sum() for i, row in enumerate(x.unbind(0)))
    total.backward()
    assert x.grad.tolist() == [[1.0] * 3, [2.0] * 3, [3.0] * 3, [4.0] * 3]


def test_repeated_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_slices_accumulate_into_an_existing_grad():
    x = leaf([1.0, 2.0])
    x[0].backward()
    x[0].backward()
    x[1].backward()
    assert x.grad.tolist() == [2.0, 1.0]


# ---- retain_grad ----------------------------------------------------------------------------


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    other = x * 3
    (h * h + other).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]
    assert other.grad is None


def test_retain_grad_on_a_leaf_is_a_no_op_and_needs_requires_grad():
    x = leaf([1.0])
    x.retain_grad()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]
    with pytest.raises(RuntimeError, match="retain_grad: the tensor does not require grad"):
        mg.tensor([1.0]).retain_grad()


# ---- higher order ---------------------------------------------------------------------------


def test_create_graph_makes_the_gradient_differentiable():
    x = leaf([2.0])
    (g,) = mg.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad and g.tolist() == [12.0]
    (h,) = mg.grad(g.sum(), x)
    assert h.tolist() == [12.0]  # d²/dx² x³ = 6x


def test_backward_with_create_graph_records_dot_grad():
    x = leaf([2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    x.grad.sum().backward()  # accumulates d/dx (3x²) = 6x = 12 on top of 12
    assert x.grad.tolist() == [24.0]


def test_without_create_graph_backward_records_nothing():
    x = leaf([2.0])
    (g,) = mg.grad((x * x).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


# ---- memory: no reference cycles ------------------------------------------------------------


def _step(w, x):
    w.grad = None
    ((x @ w).sigmoid().sum()).backward()


def test_a_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        h = x * 2
        y = h.sigmoid()
        y.sum().backward()
        intermediate = weakref.ref(h)
        del h, y  # y's node held h; nothing holds y's node but y
        assert intermediate() is None
    finally:
        gc.enable()


def test_memory_stays_flat_over_many_iterations_without_the_garbage_collector():
    w, x = leaf(np.ones((16, 16))), mg.ones(8, 16)
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        for _ in range(5000):  # warm up: Python's free lists (2000 tuples of each size) and
            _step(w, x)  # numpy's caches fill, then stop growing
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(1000):
            _step(w, x)
        end, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert end - start < 1_000  # bytes: nothing of the last 1000 graphs is left behind
        assert gc.collect() == 0  # and nothing was waiting in a cycle
    finally:
        gc.enable()


# ---- in-place changes after use -------------------------------------------------------------


def test_changing_an_input_in_place_after_use_makes_backward_raise():
    w, x = leaf([1.0, 2.0]), mg.tensor([3.0, 4.0])
    y = (x * w).sum()
    x.add_(1.0)
    with pytest.raises(RuntimeError, match=r"backward of 'mul': input 0 was modified in place"):
        y.backward()


def test_changing_a_base_in_place_is_seen_through_its_views():
    w, x = leaf([1.0, 2.0]), mg.tensor([[3.0, 4.0]])
    y = (x[0] * w).sum()
    x[0, 1] = 0.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_updating_parameters_after_backward_is_fine():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with mg.no_grad():
        w.sub_(w.grad, alpha=0.1)
    assert np.allclose(w.data, [0.8, 1.6])


# ---- what the engine checks on a backward rule -----------------------------------------------


class _Custom(Op):
    """A test op whose backward returns whatever ``result`` holds."""

    def __init__(self, name, result):
        self.name = name
        self.result = result
        super().__init__()

    def forward(self, x):
        return x * 2

    def backward(self, grad, out, x):
        return self.result(grad)


_made = iter(range(10**6))


def custom_op(result):
    return _Custom(f"test_custom_{next(_made)}", result)


def test_a_rule_returning_an_unbroadcastable_shape_is_named():
    op = custom_op(lambda g: mg.ones(5))
    with pytest.raises(
        RuntimeError,
        match=r"backward of 'test_custom_\d+': a gradient of shape \(5,\) for an input of shape \(2,\)",
    ):
        op(leaf([1.0, 2.0])).sum().backward()


def test_a_rule_returning_a_non_tensor_is_named():
    op = custom_op(lambda g: 2.0)
    with pytest.raises(TypeError, match="a float for input 0, not an array"):
        op(leaf([1.0])).sum().backward()


def test_a_rule_returning_the_wrong_number_of_gradients_is_named():
    op = custom_op(lambda g: (g, g))
    with pytest.raises(RuntimeError, match="2 gradients for 1 inputs"):
        op(leaf([1.0])).sum().backward()


def test_a_rule_may_return_a_broadcast_gradient():
    op = custom_op(lambda g: g * mg.ones(3, 2))
    x = leaf([1.0, 2.0])
    op(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_rule_returning_none_for_an_input_gives_it_no_gradient_and_backward_goes_on():
    op = custom_op(lambda g: None)  # a rule may decline to differentiate an input
    x = leaf([1.0, 2.0])
    y = op(x * 3) + x  # the node behind op's input gets no gradient at all
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_the_registry_refuses_a_second_op_with_the_same_name():
    with pytest.raises(ValueError, match="'exp' is already registered"):
        _Custom("exp", None)


# ---- calling ops ----------------------------------------------------------------------------


def test_parameters_can_be_positional_or_keyword():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert mg.sum(x, 1).tolist() == mg.sum(x, axis=1).tolist() == [3.0, 7.0]
    assert mg.sum(x, 0, True).shape == (1, 2)


def test_calling_an_op_wrongly_raises_type_errors():
    x = mg.tensor([1.0])
    with pytest.raises(TypeError, match="sum: .*unexpected keyword argument 'axes'"):
        mg.sum(x, axes=0)
    with pytest.raises(TypeError, match=r"exp: takes 1 tensor inputs, then the parameters \(\)"):
        mg.exp(x, 1)
    with pytest.raises(
        TypeError, match=r"sum: .* each once; got 1 parameters by position and \['axis'\]"
    ):
        mg.sum(x, 0, axis=0)
    with pytest.raises(TypeError, match="add: .*missing 1 required positional argument: 'y'"):
        mg.add(x)
    with pytest.raises(
        TypeError, match="^add: unsupported dtype <U1; expected bool, integer or floating data$"
    ):
        mg.add(x, "a")
    with pytest.raises(ValueError, match="^mul: cannot make a tensor from list: "):
        mg.mul(x, [[1.0], [2.0, 3.0]])


def test_a_constant_array_changed_after_the_op_does_not_change_the_gradient():
    x, a = mg.tensor([1.0, 2.0], requires_grad=True), np.array([3.0, 4.0])
    y = x * a  # a is copied, as tensor(a) would copy it
    a[:] = 0.0
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0] and y.tolist() == [3.0, 8.0]


def test_ops_accept_numbers_lists_and_arrays_as_constant_inputs():
    assert mg.exp(0.0).item() == 1.0
    assert mg.add([1.0, 2.0], np.array([1.0, 1.0])).tolist() == [2.0, 3.0]


def test_registry_lists_every_op_by_name():
    ops = mg.ops.registry()
    assert {"add", "matmul", "sigmoid", "logsumexp", "getitem"} <= set(ops)
    assert repr(ops["exp"]) == "<op exp>"
    assert "eˣ" in ops["exp"].__doc__


# ---- found in review: each was a silent wrong answer or a needless error ----------------------


def test_changing_an_ops_saved_output_through_detach_makes_backward_raise():
    x = leaf([1.0, 2.0])
    y = x.exp()
    total = y.sum()
    y.detach().zero_()
    with pytest.raises(RuntimeError, match="backward of 'exp': its output was modified in place"):
        total.backward()


def test_changing_an_ops_output_through_a_view_makes_backward_raise():
    x = leaf([0.0, 1.0, 2.0])
    y = x.sigmoid()
    total = y.sum()
    with mg.no_grad():
        part = y[0:2]
    part.detach().fill_(0.5)
    with pytest.raises(RuntimeError, match="backward of 'sigmoid': its output was modified"):
        total.backward()


def test_a_tensor_changed_behind_its_graph_cannot_be_used_in_the_graph_again():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.detach().zero_()  # y's values are no longer exp(x), but its graph says they are
    with pytest.raises(RuntimeError, match=r"sum: the tensor made by 'exp' was changed in place"):
        y.sum()
    with pytest.raises(RuntimeError, match=r"backward: the tensor made by 'exp' was changed"):
        y.backward(mg.ones(2))


def test_after_create_graph_a_later_backward_never_writes_into_a_callers_tensor():
    x = leaf([1.0, 1.0])
    g = mg.tensor([1.0, 1.0])
    (x + 0).backward(g, create_graph=True)
    (x + 0).backward(g)
    assert g.tolist() == [1.0, 1.0]
    assert x.grad.tolist() == [2.0, 2.0]


def test_after_create_graph_a_broadcast_gradient_can_still_be_accumulated():
    x = leaf([1.0, 2.0])
    x.sum().backward(create_graph=True)
    x.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_an_in_place_write_of_a_value_that_requires_grad_is_recorded_as_in_pytorch():
    v = leaf([1.0, 2.0])
    buf = mg.zeros(3)
    buf[1:] = v * 2
    assert buf.grad_fn.name == "index_put" and buf.requires_grad and not buf.is_leaf
    (buf * mg.tensor([10.0, 20.0, 30.0])).sum().backward()
    assert v.grad.tolist() == [40.0, 60.0]


def test_grad_of_an_intermediate_does_not_visit_the_graph_behind_it():
    w, c = leaf([1.0]), mg.tensor([2.0])
    h = w * c
    c.add_(1.0)  # would make mul's backward raise, but dL/dh does not need it
    (gh,) = mg.grad((h * 3).sum(), h)
    assert gh.tolist() == [3.0]


def test_switching_off_requires_grad_after_the_forward_pass_does_not_lose_the_gradient():
    a = leaf([2.0])
    y = (a * 3).sum()
    a.requires_grad = False
    y.backward()
    assert a.grad.tolist() == [3.0]


# ---- found in the second review ---------------------------------------------------------------


def test_accumulating_into_dot_grad_makes_a_new_tensor_so_a_graph_that_used_the_old_one_holds():
    x, w = leaf([1.0, 2.0]), leaf([1.0, 1.0])
    (x * x).sum().backward()
    first = x.grad
    uses_grad = (first * w).sum()
    (x * x).sum().backward()
    assert x.grad is not first and first.tolist() == [2.0, 4.0] and x.grad.tolist() == [4.0, 8.0]
    uses_grad.backward()
    assert w.grad.tolist() == [2.0, 4.0]


def test_grad_returns_arrays_of_their_own():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    cotangent = mg.tensor([1.0, 1.0])
    gx, gy = mg.grad(x + y, [x, y], cotangent)
    with mg.no_grad():
        gx.mul_(2)
    assert gy.tolist() == [1.0, 1.0] and cotangent.tolist() == [1.0, 1.0]
    (gs,) = mg.grad(x.sum(), x)  # sum's rule broadcasts a view; the result is still writable
    gs.mul_(3)
    assert gs.tolist() == [3.0, 3.0]


def test_changing_an_index_tensor_after_indexing_makes_backward_raise_as_in_pytorch():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    idx = mg.tensor([0, 1])
    y = x[idx]  # the index tensor is an input of the op, read again by its rule
    idx[0] = 3
    with pytest.raises(RuntimeError, match="backward of 'getitem': input 1 was modified in place"):
        y.sum().backward()


def test_changing_an_index_array_after_indexing_does_not_move_the_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    idx = np.array([0, 1])
    y = x[idx]  # an array index is copied into a tensor of the graph's own
    idx[0] = 3
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_changing_a_copy_made_by_advanced_indexing_does_not_disturb_its_source():
    x, w = leaf([1.0, 2.0, 3.0]), leaf([1.0, 1.0, 1.0])
    y = (x * w).sum()
    with mg.no_grad():
        copy = x[[0, 2]]
    copy.detach().zero_()  # a copy, not a view: x's values are untouched
    y.backward()
    assert w.grad.tolist() == [1.0, 2.0, 3.0]
