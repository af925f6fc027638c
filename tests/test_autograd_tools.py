"""minigrad.autograd: gradcheck, jacobian, hessian, vjp, jvp, hvp and detect_anomaly."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import Op
from minigrad.autograd import (
    GradcheckError,
    detect_anomaly,
    gradcheck,
    hessian,
    hvp,
    jacobian,
    jvp,
    vjp,
)


def leaf(values):
    return mg.tensor(values, requires_grad=True)


class _WrongSquare(Op):
    """y = x², with the derivative deliberately off by a factor 1.01."""

    name = "test_wrong_square"

    def forward(self, x):
        return x * x

    def backward(self, grad, out, x):
        return grad * 2.02 * x


@pytest.fixture
def wrong_square():
    return _WrongSquare()


# ---- gradcheck ------------------------------------------------------------------------------


def test_gradcheck_passes_a_correct_gradient():
    a, b = leaf(np.random.default_rng(0).standard_normal((2, 3))), leaf(np.ones((3, 2)))
    assert gradcheck(lambda a, b: (a @ b).tanh(), (a, b)) is True


def test_gradcheck_names_the_input_element_and_both_values_when_wrong(wrong_square):
    x = leaf([1.0, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong_square, x)
    message = str(info.value)
    assert "input 0, element (0,)" in message
    assert "analytic np.float64(2.02)" in message and "numeric np.float64(2.0" in message


def test_gradcheck_only_checks_inputs_that_require_grad():
    x, c = leaf([1.0, 2.0]), mg.tensor([3.0, 4.0])
    assert gradcheck(lambda x, c: x * c, (x, c))


def test_gradcheck_handles_several_outputs():
    x = leaf([0.5, 1.5])
    assert gradcheck(lambda x: (x.exp(), x * x), x)


def test_gradcheck_needs_something_to_check():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x * 2, mg.tensor([1.0]))


def test_gradcheck_warns_about_float32():
    x = mg.tensor([1.0], dtype=mg.float32, requires_grad=True)
    with pytest.warns(UserWarning, match="float32; finite differences need float64"):
        gradcheck(lambda x: x * 2, x, eps=1e-2)


def test_gradcheck_fast_mode_also_catches_a_wrong_derivative(wrong_square):
    x = leaf([1.0, 2.0, -0.5])
    with pytest.raises(GradcheckError, match="fast mode.*input 0"):
        gradcheck(wrong_square, x, fast_mode=True)
    assert gradcheck(lambda x: (x * x).sum() + x.exp(), x, fast_mode=True)


def test_gradcheck_can_check_a_function_that_itself_differentiates():
    x = leaf([0.3, -1.2])

    def first_derivative(x):
        (g,) = mg.grad(x.sigmoid().sum(), x, create_graph=True)
        return g

    assert gradcheck(first_derivative, x)  # a second-order check


def test_vjp_of_several_outputs_and_hvp_checks_its_vectors():
    (a, b), g = vjp(lambda x: (x * 2, x.sum()), mg.tensor([1.0, 2.0]), (mg.ones(2), mg.tensor(3.0)))
    assert a.tolist() == [2.0, 4.0] and g.tolist() == [5.0, 5.0]
    with pytest.raises(ValueError, match="vjp: got 1 cotangents for 2 outputs"):
        vjp(lambda x: (x, x), mg.ones(2), [mg.ones(2)])
    f = lambda x: (x * x).sum()  # noqa: E731
    with pytest.raises(ValueError, match=r"hvp: vector 0 has shape \(1,\), its input has \(3,\)"):
        hvp(f, mg.ones(3), mg.ones(1))
    with pytest.raises(ValueError, match="hvp: got 2 vectors for 1 inputs"):
        hvp(f, mg.ones(3), (mg.ones(3), mg.ones(3)))


def test_gradcheck_pass_rule_is_atol_plus_rtol_times_numeric(wrong_square):
    # |2.02 - 2| = 0.02 at x = 1 passes once atol + rtol*2 covers it.
    assert gradcheck(wrong_square, leaf([1.0]), atol=0.0, rtol=0.011)
    with pytest.raises(GradcheckError):
        gradcheck(wrong_square, leaf([1.0]), atol=0.0, rtol=0.009)


# ---- jacobian, hessian, vjp, hvp ------------------------------------------------------------


def test_jacobian_has_shape_out_shape_plus_in_shape():
    A = np.arange(6.0).reshape(2, 3)
    J = jacobian(lambda x: mg.tensor(A) @ x, mg.ones(3))
    assert J.shape == (2, 3) and np.array_equal(J.data, A)
    J2 = jacobian(lambda x: x * 2, mg.ones(2, 2))
    assert J2.shape == (2, 2, 2, 2)
    assert J2.data[1, 0, 1, 0] == 2.0 and J2.data[1, 0, 0, 1] == 0.0


def test_jacobian_inputs_need_not_require_grad_and_keep_their_flag():
    x = mg.tensor([1.0, 2.0])
    J = jacobian(lambda x: x * x, x)
    assert np.array_equal(J.data, np.diag([2.0, 4.0]))
    assert not x.requires_grad


def test_jacobian_of_tuples():
    x, y = mg.tensor([1.0, 2.0]), mg.tensor([3.0])
    (jx, jy), (kx, ky) = jacobian(lambda x, y: (x * y, x.sum() + 0 * y.sum()), (x, y))
    assert jx.shape == (2, 2) and jy.shape == (2, 1) and kx.shape == (2,) and ky.shape == (1,)
    assert np.array_equal(jy.data, [[1.0], [2.0]]) and np.array_equal(ky.data, [0.0])


def test_jacobian_of_an_input_the_output_ignores_is_zero():
    _, jy = jacobian(lambda x, y: x * 2, (mg.ones(2), mg.ones(3)))
    assert np.array_equal(jy.data, np.zeros((2, 3)))


def test_jacobian_of_a_constant_output_is_zero():
    J = jacobian(lambda x: mg.ones(2), mg.ones(3))
    assert np.array_equal(J.data, np.zeros((2, 3)))


def test_jacobian_needs_float_inputs_and_tensor_outputs():
    with pytest.raises(TypeError, match="jacobian: inputs must be floating point"):
        jacobian(lambda x: x, mg.tensor([1]))
    with pytest.raises(TypeError, match="jacobian: outputs must be Tensors"):
        jacobian(lambda x: 3.0, mg.ones(1))


def test_jacobian_with_create_graph_can_be_differentiated_again():
    x = leaf([1.0, 2.0])
    J = jacobian(lambda x: x**3, x, create_graph=True)  # diag(3x²)
    J.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose():
    A = np.array([[1.0, 2.0], [0.5, 3.0]])
    H = hessian(lambda x: x @ mg.tensor(A) @ x, mg.tensor([0.3, -0.7]))
    assert np.allclose(H.data, A + A.T, rtol=0, atol=1e-15)


def test_hessian_of_a_tuple_of_inputs_gives_every_block():
    blocks = hessian(lambda x, y: (x * x * y).sum(), (mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])))
    assert np.array_equal(blocks[0][0].data, np.diag([6.0, 8.0]))
    assert np.array_equal(blocks[0][1].data, np.diag([2.0, 4.0]))
    assert np.array_equal(blocks[1][1].data, np.zeros((2, 2)))


def test_hessian_needs_a_scalar_function():
    with pytest.raises(ValueError, match="hessian: the function must return a one-element Tensor"):
        hessian(lambda x: x * x, mg.ones(2))


def test_vjp_returns_the_output_and_v_transpose_j():
    out, g = vjp(lambda x: x * x, mg.tensor([1.0, 2.0]), mg.tensor([1.0, 10.0]))
    assert out.tolist() == [1.0, 4.0] and g.tolist() == [2.0, 40.0]
    _, (ga, gb) = vjp(lambda a, b: (a * 3).sum(), (mg.ones(2), mg.ones(2)))
    assert ga.tolist() == [3.0, 3.0] and gb.tolist() == [0.0, 0.0]


def test_hvp_equals_the_hessian_times_v():
    f = lambda x: (x.sigmoid() * x.exp()).sum()  # noqa: E731
    x, v = mg.tensor([0.1, -0.4, 0.9]), mg.tensor([1.0, -2.0, 0.5])
    _, hv = hvp(f, x, v)
    assert np.allclose(hv.data, hessian(f, x).data @ v.data, rtol=1e-14, atol=0)
    _, (ha, hb) = hvp(
        lambda a, b: (a * a * b).sum(), (mg.ones(1), mg.ones(1)), (mg.ones(1), mg.ones(1))
    )
    assert ha.tolist() == [4.0] and hb.tolist() == [2.0]


def test_hvp_v_may_be_omitted_for_one_one_element_input():
    _, hv = hvp(lambda x: (x**3).sum(), mg.tensor([2.0]))
    assert hv.tolist() == [12.0]  # 6x · 1


# ---- jvp ------------------------------------------------------------------------------------


def test_jvp_returns_the_output_and_j_times_v():
    out, jv = jvp(lambda x: x * x, mg.tensor([1.0, 2.0]), mg.tensor([1.0, 10.0]))
    assert out.tolist() == [1.0, 4.0] and jv.tolist() == [2.0, 40.0]
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    _, jv = jvp(lambda x: mg.tensor(A) @ x, mg.ones(3), mg.tensor([1.0, 2.0, 3.0]))
    assert jv.tolist() == (A @ [1.0, 2.0, 3.0]).tolist()


def test_jvp_of_tuples_sums_over_inputs_and_is_shaped_like_the_outputs():
    f = lambda a, b: ((a * b).sum(), a - 2 * b)  # noqa: E731
    a, b = mg.tensor([1.0, 2.0]), mg.tensor([3.0, 4.0])
    (s, d), (js, jd) = jvp(f, (a, b), (mg.tensor([1.0, 0.0]), mg.tensor([0.0, 1.0])))
    assert s.item() == 11.0 and d.tolist() == [-5.0, -6.0]
    assert js.shape == () and js.item() == 3.0 + 2.0  # b·v_a + a·v_b
    assert jd.tolist() == [1.0, -2.0]


def test_jvp_of_an_output_that_ignores_the_inputs_is_zero():
    (_, k), (jx, jk) = jvp(lambda x: (x * 3, mg.ones(2)), mg.ones(2), mg.ones(2))
    assert jx.tolist() == [3.0, 3.0] and jk.tolist() == [0.0, 0.0] and k.tolist() == [1.0, 1.0]
    _, jy = jvp(lambda x, y: x * 2, (mg.ones(2), mg.ones(3)), (mg.zeros(2), mg.ones(3)))
    assert jy.tolist() == [0.0, 0.0]


def test_jvp_v_may_be_omitted_only_for_one_one_element_input():
    out, jv = jvp(lambda x: x.exp(), mg.tensor(1.0))
    assert out.item() == jv.item() == np.exp(1.0)
    for inputs in (mg.ones(2), (mg.ones(1), mg.ones(1))):
        with pytest.raises(ValueError, match="jvp: v may be omitted only when the input is one"):
            jvp(lambda *xs: xs[0] * 2, inputs)


def test_jvp_checks_its_tangents_and_types_and_names_itself():
    f = lambda x: x * x  # noqa: E731
    with pytest.raises(ValueError, match=r"jvp: vector 0 has shape \(1,\), its input has \(3,\)"):
        jvp(f, mg.ones(3), mg.ones(1))
    with pytest.raises(ValueError, match="jvp: got 2 vectors for 1 inputs"):
        jvp(f, mg.ones(3), (mg.ones(3), mg.ones(3)))
    with pytest.raises(TypeError, match="jvp: v must be Tensors, got ndarray"):
        jvp(f, mg.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="jvp: inputs must be Tensors, got list"):
        jvp(f, [[1.0, 2.0]], mg.ones(2))
    with pytest.raises(TypeError, match="jvp: inputs must be floating point, got dtype int64"):
        jvp(f, mg.tensor([1, 2]), mg.ones(2))
    with pytest.raises(TypeError, match="jvp: outputs must be Tensors, got float"):
        jvp(lambda x: 3.0, mg.ones(2), mg.ones(2))


def test_jvp_leaves_its_inputs_alone_and_detaches_unless_create_graph():
    x = mg.tensor([1.0, 2.0])
    out, jv = jvp(lambda x: x**3, x, mg.ones(2))
    assert not (x.requires_grad or out.requires_grad or jv.requires_grad)
    x = leaf([1.0, 2.0])
    out, jv = jvp(lambda x: x**3, x, mg.ones(2), create_graph=True)  # J v = 3x²
    assert out.requires_grad and jv.requires_grad and jv.tolist() == [3.0, 12.0]
    jv.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0] and x.grad_fn is None


def test_jvp_with_create_graph_is_differentiable_in_the_tangent_too():
    x, v = mg.tensor([1.0, 2.0]), leaf([1.0, 1.0])
    _, jv = jvp(lambda x: x * x, x, v, create_graph=True)  # J v = 2x ⊙ v
    jv.sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]


# ---- detect_anomaly -------------------------------------------------------------------------


def test_detect_anomaly_stops_at_the_op_whose_forward_made_nan_and_names_where():
    x = leaf([np.inf, 1.0])
    with (
        detect_anomaly(),
        np.errstate(invalid="ignore"),
        pytest.raises(
            RuntimeError, match=r"forward of 'mul' produced NaN.*test_autograd_tools.py:\d+"
        ),
    ):
        x * 0.0


def test_detect_anomaly_stops_at_the_op_whose_backward_made_inf():
    x = leaf([0.0, 1.0])
    with detect_anomaly(), np.errstate(divide="ignore"):
        y = mg.sqrt(x).sum()
        with pytest.raises(
            RuntimeError,
            match=r"backward of 'sqrt' \(gradient for input 0\) produced inf.*test_autograd_tools",
        ):
            y.backward()


def test_without_detect_anomaly_nothing_is_checked():
    x = leaf([0.0])
    with np.errstate(divide="ignore"):
        mg.sqrt(x).sum().backward()
    assert x.grad.tolist() == [np.inf]


def test_detect_anomaly_is_switched_off_on_exit():
    with detect_anomaly():
        pass
    assert mg.switches.mode.anomaly is None


def test_fast_mode_is_not_fooled_by_a_projection_that_happens_to_be_zero():
    assert gradcheck(mg.log, leaf([1.0, 1.0]), fast_mode=True)  # vᵀ log(x) = 0 at x = 1
    assert gradcheck(lambda x: x * 0.0 + mg.ones(2), leaf([1.0, 2.0]), fast_mode=True)
