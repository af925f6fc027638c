"""Forward mode's mechanics (``minigrad.autograd.forward_ad``): levels, duals, the double-vjp
fallback for an op without a JVP rule, ops with several outputs, in-place writes, grad modes,
compiled functions, and the errors. The JVP rule of every op is checked against SymPy in
spec/test_op_table.py, and jvp's compositions in spec/test_jvp.py."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import forward_ad, jacobian, jvp
from minigrad.graph import Op


def _dual_out(fn, x, v):
    """fn's output and its tangent, run inside a level on make_dual(x, v)."""
    with forward_ad.dual_level():
        y = fn(forward_ad.make_dual(x, v))
        return forward_ad.unpack_dual(y)


def _jacobian_times(fn, x, v):
    J = jacobian(fn, x).data
    return np.tensordot(J, v.data, axes=v.ndim)


# ---- levels and duals --------------------------------------------------------------------------


def test_make_dual_outside_a_level_is_refused_with_what_to_do():
    with pytest.raises(RuntimeError, match=r"make_dual: use it inside a forward_ad.dual_level"):
        forward_ad.make_dual(mg.randn(2), mg.randn(2))


def test_levels_do_not_nest():
    inner = forward_ad.dual_level()
    with forward_ad.dual_level(), pytest.raises(RuntimeError, match="levels cannot be nested"):
        inner.__enter__()


@pytest.mark.parametrize(
    ("tangent", "message"),
    [
        (mg.randn(3), r"make_dual: a tangent of shape \(3,\) and dtype float64 for a tensor of "
         r"shape \(2,\) and dtype float64"),
        (mg.tensor([1, 2]), r"make_dual: a tangent of shape \(2,\) and dtype int64"),
        (mg.randn(2).to(mg.float32), r"dtype float32 for a tensor of shape \(2,\) and dtype "
         r"float64; they must have the same shape and the same float dtype"),
    ],
)  # fmt: skip
def test_a_tangent_of_the_wrong_shape_or_dtype_is_refused(tangent, message):
    with forward_ad.dual_level(), pytest.raises(ValueError, match=message):
        forward_ad.make_dual(mg.randn(2), tangent)


def test_make_dual_takes_tensors_only():
    expected = "make_dual: expected a Tensor and its tangent"
    with forward_ad.dual_level(), pytest.raises(TypeError, match=expected):
        forward_ad.make_dual(np.ones(2), mg.ones(2))


def test_a_tensor_without_a_tangent_and_a_tensor_after_its_level_unpack_to_none():
    x, v = mg.randn(3), mg.randn(3)
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, v)
        assert forward_ad.unpack_dual(x).tangent is None  # the original carries nothing
        assert forward_ad.unpack_dual(dual).tangent is v
        assert forward_ad.unpack_dual(dual).primal is dual
        y = dual * 2
    assert forward_ad.unpack_dual(y).tangent is None
    with forward_ad.dual_level():  # a new level does not see the old one's tangents
        assert forward_ad.unpack_dual(y).tangent is None


def test_ops_on_tensors_without_tangents_carry_none():
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(mg.randn(3), mg.randn(3))
        other = mg.randn(3).exp()
        assert forward_ad.unpack_dual(other).tangent is None
        assert forward_ad.unpack_dual(dual + other).tangent is not None


def test_tangents_flow_in_no_grad_and_need_no_graph():
    x, v = mg.randn(4), mg.randn(4)
    with mg.no_grad():
        y, tangent = _dual_out(lambda x: x.tanh() * x, x, v)
    expected = (1 - np.tanh(x.data) ** 2) * x.data * v.data + np.tanh(x.data) * v.data
    np.testing.assert_allclose(tangent.data, expected, rtol=1e-14)
    assert not y.requires_grad and not tangent.requires_grad


def test_a_tangent_has_its_outputs_dtype():
    x = mg.randn(3).to(mg.float32)
    _, tangent = _dual_out(lambda x: x.sigmoid(), x, mg.randn(3).to(mg.float32))
    assert tangent.dtype == mg.float32


# ---- ops: without a rule, several outputs, in place ----------------------------------------------


class _Cube(Op):
    """y = x³.    dy/dx = 3x². No JVP rule: forward mode uses the double-vjp trick."""

    name = "test_cube"

    def forward(self, x):
        return x**3

    def backward(self, grad, y, x):
        return grad * 3 * x * x


class _ScaleBoth(Op):
    """y = a·b with broadcasting, and no JVP rule: the trick sums the rule's broadcast result."""

    name = "test_scale_both"

    def forward(self, a, b):
        return a * b

    def backward(self, grad, y, a, b):
        return grad * b, grad * a


def test_an_op_without_a_jvp_rule_works_in_forward_mode_by_its_backward_rule():
    cube = _Cube()
    assert not hasattr(cube, "jvp")
    x, v = mg.randn(5), mg.randn(5)
    _, tangent = _dual_out(cube, x, v)
    np.testing.assert_allclose(tangent.data, 3 * x.data**2 * v.data, rtol=1e-14)


def test_the_double_vjp_trick_handles_broadcast_inputs_and_second_order():
    scale = _ScaleBoth()
    a, b = mg.randn(3, 4), mg.randn(4)
    va, vb = mg.randn(3, 4), mg.randn(4)
    _, (jv,) = jvp(lambda a, b: (scale(a, b),), (a, b), (va, vb))
    np.testing.assert_allclose(jv.data, va.data * b.data + a.data * vb.data, rtol=1e-14)
    leaf = a.detach().requires_grad_()
    _, jv = jvp(lambda a: scale(a, b) * a, leaf, va, create_graph=True)
    (g,) = mg.grad(jv.sum(), [leaf])  # d/da Σ 2ab·va = 2b·va
    np.testing.assert_allclose(g.data, 2 * b.data * va.data, rtol=1e-14)


def test_ops_with_several_outputs_give_each_its_tangent():
    x, v = mg.randn(6, 2), mg.randn(6, 2)
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, v)
        parts = dual.split([2, 4])
        rows = dual.unbind(0)
        tangents = [forward_ad.unpack_dual(t).tangent.data for t in (*parts, *rows)]
    np.testing.assert_array_equal(tangents[0], v.data[:2])
    np.testing.assert_array_equal(tangents[1], v.data[2:])
    for k in range(6):
        np.testing.assert_array_equal(tangents[2 + k], v.data[k])


def test_an_in_place_write_carries_the_written_tangent_into_the_buffer():
    x, v = mg.randn(3), mg.randn(3)
    with forward_ad.dual_level():
        h = forward_ad.make_dual(x, v).sin()
        buf = mg.zeros(2, 3)
        buf[1] = h
        tangent = forward_ad.unpack_dual(buf).tangent.data
    np.testing.assert_array_equal(tangent[0], 0)
    np.testing.assert_allclose(tangent[1], np.cos(x.data) * v.data, rtol=1e-15)


def test_integer_inputs_need_no_tangent():
    weight, v = mg.randn(5, 3), mg.randn(5, 3)
    tokens = np.array([4, 0, 4])
    _, tangent = _dual_out(lambda w: mg.functional.embedding(tokens, w), weight, v)
    np.testing.assert_array_equal(tangent.data, v.data[tokens])


def test_a_module_runs_in_forward_mode():
    mg.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x, v = mg.randn(5, 2, 3), mg.randn(5, 2, 3)
    _, tangent = _dual_out(lambda x: lstm(x)[0], x, v)
    np.testing.assert_allclose(tangent.data, _jacobian_times(lambda x: lstm(x)[0], x, v),
                               rtol=1e-12, atol=1e-15)  # fmt: skip


# ---- jvp and jacobian ---------------------------------------------------------------------------


def test_jvp_without_create_graph_returns_values_outside_the_graph():
    x = mg.randn(3, requires_grad=True)
    y, jv = jvp(lambda x: x.exp(), x, mg.ones(3))
    assert not y.requires_grad and not jv.requires_grad
    np.testing.assert_allclose(jv.data, np.exp(x.data), rtol=1e-15)


def test_jvp_gives_zeros_for_an_output_that_does_not_depend_on_the_inputs():
    constant = mg.randn(2)
    _, (jv_used, jv_unused) = jvp(lambda x: (x * 2, constant * 1), mg.randn(2), mg.ones(2))
    np.testing.assert_array_equal(jv_used.data, 2)
    np.testing.assert_array_equal(jv_unused.data, 0)


def test_jvp_inside_a_level_is_refused():
    with forward_ad.dual_level(), pytest.raises(RuntimeError, match="levels cannot be nested"):
        jvp(lambda x: x, mg.randn(1))


def test_jacobian_refuses_an_unknown_strategy():
    with pytest.raises(ValueError, match=r'jacobian: strategy must be "reverse-mode" or '
                       r'"forward-mode", got \'sideways\''):  # fmt: skip
        jacobian(lambda x: x, mg.randn(2), strategy="sideways")


def test_forward_mode_jacobian_shapes_match_reverse_modes_including_empty_inputs():
    fn = lambda a, b: (a.sum() * b, b.reshape(2, 1) * 2)  # noqa: E731
    a, b = mg.randn(3, 0), mg.randn(2)
    forward = jacobian(fn, (a, b), strategy="forward-mode")
    reverse = jacobian(fn, (a, b))
    for f_row, r_row in zip(forward, reverse):
        for f, r in zip(f_row, r_row):
            assert f.shape == r.shape
            np.testing.assert_array_equal(f.data, r.data)


def test_forward_mode_jacobian_with_create_graph_stays_differentiable():
    x = mg.randn(3, requires_grad=True)
    J = jacobian(lambda x: x.sin(), x, create_graph=True, strategy="forward-mode")
    (g,) = mg.grad(J.sum(), [x])  # Σ_ij ∂ sin(x_i)/∂x_j = Σ cos(x_i); its gradient −sin(x)
    np.testing.assert_allclose(g.data, -np.sin(x.data), rtol=1e-15)


# ---- compiled functions ----------------------------------------------------------------------


def test_a_compiled_function_runs_eagerly_in_forward_mode_and_carries_tangents():
    fn = mg.compile(lambda x: (x * x).tanh())
    x, v = mg.randn(4), mg.randn(4)
    fn(x)  # traced and planned outside forward mode
    _, tangent = _dual_out(fn, x, v)
    expected = (1 - np.tanh(x.data**2) ** 2) * 2 * x.data * v.data
    np.testing.assert_allclose(tangent.data, expected, rtol=1e-14)


def test_entering_a_level_inside_a_compiled_function_is_refused():
    def fn(x):
        with forward_ad.dual_level():
            return x * 2

    with pytest.raises(RuntimeError, match="dual_level: forward mode inside a compiled function"):
        mg.compile(fn)(mg.randn(2, requires_grad=True))


# ---- against PyTorch --------------------------------------------------------------------------


def test_forward_mode_agrees_with_torch_forward_ad_on_a_gru():
    torch = pytest.importorskip("torch")
    mg.manual_seed(1)
    gru = nn.GRU(3, 4)
    x, v = mg.randn(6, 2, 3), mg.randn(6, 2, 3)
    _, tangent = _dual_out(lambda x: gru(x)[0], x, v)
    ref = torch.nn.GRU(3, 4).double()
    ref.load_state_dict({k: torch.tensor(p.data) for k, p in gru.state_dict().items()})
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(torch.tensor(x.data), torch.tensor(v.data))
        expected = torch.autograd.forward_ad.unpack_dual(ref(dual)[0]).tangent
    np.testing.assert_allclose(tangent.data, expected.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("grad_mode", [True, False])
def test_every_kind_of_in_place_change_changes_the_tangent_too(grad_mode):
    """add_, mul_, clamp_, copy_, fill_ and a write: the tangent is the out-of-place change's."""
    x, v = mg.randn(4), mg.randn(4)
    w, vw = mg.randn(4), mg.randn(4)
    with mg.set_grad_enabled(grad_mode), forward_ad.dual_level():
        a, b = forward_ad.make_dual(x, v), forward_ad.make_dual(w, vw)
        t = a.clone()
        t.mul_(b)  # t = x·w: tangent v·w + x·vw
        after_mul = forward_ad.unpack_dual(t).tangent.data.copy()
        t.add_(b, alpha=3)  # + 3 vw
        after_add = forward_ad.unpack_dual(t).tangent.data.copy()
        t.clamp_(min=0)  # zero where clamped
        after_clamp = forward_ad.unpack_dual(t).tangent.data.copy()
        u = mg.zeros(4)
        u.copy_(a)
        after_copy = forward_ad.unpack_dual(u).tangent.data.copy()
        u.fill_(2.0)
        after_fill = forward_ad.unpack_dual(u).tangent.data.copy()
    xv, wv = x.data, w.data
    np.testing.assert_allclose(after_mul, v.data * wv + xv * vw.data, rtol=1e-14)
    np.testing.assert_allclose(after_add, after_mul + 3 * vw.data, rtol=1e-14)
    np.testing.assert_array_equal(after_clamp, np.where(xv * wv + 3 * wv > 0, after_add, 0))
    np.testing.assert_array_equal(after_copy, v.data)
    np.testing.assert_array_equal(after_fill, 0)
