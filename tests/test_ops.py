"""Op behaviour at the edges: documented derivative rules at kinks and ties, numerical
stability, and a clear error for every misuse."""

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


def leaf(values, **kw):
    return mg.tensor(values, requires_grad=True, **kw)


def grad_of(fn, *values):
    xs = [leaf(v) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.tolist() for x in xs]


# ---- derivative rules at kinks and ties -----------------------------------------------------


def test_relu_derivative_at_zero_is_zero():
    assert grad_of(mg.relu, [-1.0, 0.0, 2.0]) == [[0.0, 0.0, 1.0]]


def test_abs_derivative_at_zero_is_zero():
    assert grad_of(mg.abs, [-2.0, 0.0, 3.0]) == [[-1.0, 0.0, 1.0]]


def test_max_splits_the_gradient_evenly_between_ties():
    assert grad_of(lambda x: x.max(), [1.0, 3.0, 3.0]) == [[0.0, 0.5, 0.5]]
    assert grad_of(lambda x: x.max(axis=1), [[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]]) == [
        [[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]]
    ]


def test_min_splits_the_gradient_evenly_between_ties():
    assert grad_of(lambda x: x.min(axis=0, keepdims=True), [[1.0, 2.0], [1.0, 0.0]]) == [
        [[0.5, 0.0], [0.5, 1.0]]
    ]


def test_maximum_and_minimum_split_ties_in_half():
    assert grad_of(mg.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0]) == [
        [0.5, 0.0, 1.0],
        [0.5, 1.0, 0.0],
    ]
    assert grad_of(mg.minimum, [1.0, 2.0], [1.0, 5.0]) == [[0.5, 1.0], [0.5, 0.0]]


def test_clip_passes_the_gradient_inside_the_closed_interval():
    assert grad_of(lambda x: x.clip(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0]) == [
        [0.0, 1.0, 1.0, 1.0, 0.0]
    ]
    assert grad_of(lambda x: x.clamp(min=0.0), [-1.0, 1.0]) == [[0.0, 1.0]]


def test_where_routes_the_gradient_by_the_condition():
    cond = mg.tensor([True, False, True])
    assert grad_of(lambda a, b: mg.where(cond, a, b), [1.0] * 3, [2.0] * 3) == [
        [1.0, 0.0, 1.0],
        [0.0, 1.0, 0.0],
    ]


# ---- pow and its documented domain ----------------------------------------------------------


def test_the_pow_method_is_the_operator_as_in_pytorch():
    x = mg.tensor([0.5, 2.0, 3.0], requires_grad=True)
    y = x.pow(3)
    y.sum().backward()
    assert y.grad_fn.name == "pow" and y.tolist() == (x**3).tolist()
    assert x.grad.tolist() == [3 * 0.5**2, 3 * 2.0**2, 3 * 3.0**2]


def test_pow_with_a_tensor_exponent_uses_log_of_the_base():
    x, y = leaf([2.0]), leaf([3.0])
    (x**y).sum().backward()
    assert x.grad.tolist() == [12.0]
    assert np.isclose(y.grad.item(), 8.0 * np.log(2.0), rtol=1e-15)


def test_pow_of_a_negative_base_with_an_integer_exponent_works_for_the_base():
    assert grad_of(lambda x: x**3, [-2.0]) == [[12.0]]


def test_pow_of_a_negative_base_with_a_fractional_exponent_has_no_real_value():
    with pytest.raises(ValueError, match="pow: a negative base with a non-integer exponent"):
        mg.tensor([-2.0]) ** 0.5


def test_pow_exponent_gradient_is_undefined_for_a_negative_base():
    x, y = mg.tensor([-2.0]), leaf([2.0])
    with pytest.raises(
        ValueError, match=r"pow: the gradient with respect to the exponent needs ln\(base\)"
    ):
        (x**y).sum().backward()


def test_pow_exponent_gradient_at_base_zero_is_zero_for_a_non_negative_exponent():
    x, y = mg.tensor([0.0, 0.0]), leaf([2.0, 0.0])
    (x**y).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0]


def test_pow_exponent_gradient_at_base_zero_is_minus_inf_for_a_negative_exponent():
    """0^y = +inf for y < 0 and ln 0 = −inf: the limit from x > 0 is −inf (PyTorch's value)."""
    x, y = mg.tensor([0.0]), leaf([-2.0])
    (x**y).sum().backward()
    assert y.grad.tolist() == [-np.inf]


def test_pow_base_gradient_for_exponent_zero_is_zero_even_at_zero():
    assert grad_of(lambda x: x**0.0, [0.0, 3.0]) == [[0.0, 0.0]]


def test_reflected_pow():
    assert grad_of(lambda x: 2.0**x, [3.0]) == [[8.0 * np.log(2.0)]]


# ---- numerical stability --------------------------------------------------------------------


def test_sigmoid_of_huge_magnitudes_is_exact_and_silent():
    y = mg.sigmoid(mg.tensor([-1e5, -800.0, 0.0, 800.0, 1e5]))
    assert y.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_logsumexp_of_large_values_does_not_overflow():
    x = mg.tensor([1000.0, 1000.0])
    assert np.isclose(x.logsumexp().item(), 1000.0 + np.log(2.0), rtol=1e-15)


def test_logsumexp_of_an_all_minus_infinity_row_is_minus_infinity():
    x = mg.tensor([[-np.inf, -np.inf], [0.0, 0.0]])
    out = x.logsumexp(axis=1)
    assert out.data[0] == -np.inf and np.isclose(out.data[1], np.log(2.0))


def test_softmax_and_cross_entropy_of_huge_logits_are_finite():
    logits = leaf([[1e4, 0.0, -1e4]])
    assert F.softmax(logits).tolist() == [[1.0, 0.0, 0.0]]
    loss = F.cross_entropy(logits, [1])
    loss.backward()
    assert loss.item() == 1e4 and np.isfinite(logits.grad.data).all()


# Rows at the ends of float64's range: ±1e308. x − max x = −2e308 is beyond the range and
# rounds to −inf, so log_softmax there is −inf and softmax 0 (as e^(−2e308) rounds to 0).
EXTREME_ROWS = {
    "far apart": ([1e308, -1e308], [0.0, -np.inf], [1.0, 0.0], 1e308),
    "both lowest": ([-1e308, -1e308], [-np.log(2.0)] * 2, [0.5, 0.5], -1e308 + np.log(2.0)),
    "both highest": ([1e308, 1e308], [-np.log(2.0)] * 2, [0.5, 0.5], 1e308 + np.log(2.0)),
}


@pytest.mark.parametrize("row", list(EXTREME_ROWS))
def test_log_softmax_softmax_and_logsumexp_at_the_ends_of_the_range_are_silent_and_exact(row):
    values, log_p, p, lse = EXTREME_ROWS[row]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = leaf([values])
        out = mg.log_softmax(x)
        assert out.tolist() == [log_p]
        assert F.softmax(x).tolist() == [p]
        total = mg.logsumexp(x, axis=-1)
        assert total.tolist() == [lse]
        (out.sum() + total.sum()).backward()  # 1 − n·softmax, plus softmax
        assert x.grad.tolist() == [[1.0 - 2.0 * q + q for q in p]]
        (d_total,) = mg.grad(mg.logsumexp(x), x, create_graph=True)
        assert d_total.tolist() == [p]
        (d_d_total,) = mg.grad(d_total[0, 0], x)  # softmax_0 (δ_0j − softmax_j)
        assert d_d_total.tolist() == [[p[0] * (1.0 - p[0]), -p[0] * p[1]]]


@pytest.mark.parametrize("target", [0, 1])
@pytest.mark.parametrize("row", list(EXTREME_ROWS))
def test_cross_entropy_at_the_ends_of_the_range_is_silent_and_exact(row, target):
    values, log_p, p, _ = EXTREME_ROWS[row]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = leaf([values])
        loss = F.cross_entropy(x, [target])
        loss.backward()
        assert loss.item() == -log_p[target]  # inf where the target's probability is 0
        assert x.grad.tolist() == [[q - (j == target) for j, q in enumerate(p)]]


def test_log_softmax_of_float32_rows_at_the_ends_of_the_range_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = leaf([3e38, -3e38], dtype=mg.float32)
        out = mg.log_softmax(x)
        out.sum().backward()
    assert out.dtype == np.float32 and out.tolist() == [0.0, -np.inf]
    assert x.grad.tolist() == [-1.0, 1.0]


def test_log_of_zero_is_minus_infinity_without_a_warning():
    assert mg.log(mg.tensor([0.0])).tolist() == [-np.inf]


# ---- errors ---------------------------------------------------------------------------------


def test_matmul_names_misaligned_shapes():
    with pytest.raises(
        ValueError, match=r"^matmul: shapes \(2, 3\) and \(4, 5\) are not aligned \(3 != 4\)$"
    ):
        mg.zeros(2, 3) @ mg.zeros(4, 5)


def test_matmul_refuses_scalars():
    with pytest.raises(ValueError, match="matmul: operands must have at least one axis"):
        mg.tensor(2.0) @ mg.zeros(2)


def test_matmul_names_incompatible_batches():
    with pytest.raises(ValueError, match="^matmul: "):
        mg.zeros(2, 2, 3) @ mg.zeros(3, 3, 1)


def test_broadcasting_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"add: operands could not be broadcast .*\(2,3\) \(4,\)"):
        mg.zeros(2, 3) + mg.zeros(4)


def test_log_and_sqrt_of_negative_numbers_raise():
    with pytest.raises(
        ValueError, match=r"log: defined for x >= 0, got 1 value\(s\) below 0 \(min -1.0\)"
    ):
        mg.log(mg.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="sqrt: defined for x >= 0"):
        mg.sqrt(mg.tensor([-4.0]))


def test_where_needs_a_bool_condition():
    with pytest.raises(
        TypeError, match="where: the condition must be a bool tensor, got dtype float64"
    ):
        mg.where(mg.ones(2), mg.ones(2), mg.zeros(2))
    with pytest.raises(TypeError, match="where: the condition must be a bool tensor"):
        mg.where([1.0, 0.0], 1.0, 2.0)


def test_where_takes_a_list_condition_like_numpy():
    assert mg.where([True, False], 1.0, 2.0).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype", ["foo", None, object, str, (np.int32, -1)])
def test_casting_to_anything_but_a_numeric_dtype_names_the_op(dtype):
    with pytest.raises(TypeError, match="to: expected a bool, integer or float dtype"):
        mg.ones(2).to(dtype)


def test_a_scalar_condition_works_as_in_numpy():
    assert mg.where(True, 1.0, 2.0) == 1.0


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="clip: at least one of min and max"):
        mg.ones(2).clip()


def test_shape_op_errors_name_the_op():
    with pytest.raises(ValueError, match="reshape: cannot reshape array of size 6 into shape"):
        mg.zeros(2, 3).reshape(4, 2)
    with pytest.raises(
        TypeError, match="reshape: 'float' object cannot be interpreted as an integer"
    ):
        mg.zeros(2).reshape(2.0)
    with pytest.raises(ValueError, match="permute: axes don't match"):
        mg.zeros(2, 3).permute(0, 1, 2)
    with pytest.raises(ValueError, match="broadcast_to: "):
        mg.zeros(3).broadcast_to((2, 4))
    with pytest.raises(ValueError, match="transpose: axes"):
        mg.zeros(2, 3).transpose(0, 5)


def test_indexing_errors_name_the_op():
    with pytest.raises(IndexError, match="getitem: index 5 is out of bounds"):
        mg.zeros(3)[5]


def test_reduction_errors_name_the_op():
    with pytest.raises(ValueError, match="sum: axis 2 is out of bounds"):
        mg.zeros(2, 3).sum(axis=2)
    with pytest.raises(ValueError, match="mean: cannot average over an empty axis"):
        mg.zeros(0, 3).mean(axis=0)
    with pytest.raises(ValueError, match="max: zero-size array"):
        mg.zeros(0).max()


def test_stack_and_concatenate_errors():
    with pytest.raises(ValueError, match="stack: expected a non-empty list"):
        mg.stack([])
    with pytest.raises(ValueError, match="stack: all input arrays must have the same shape"):
        mg.stack([mg.zeros(2), mg.zeros(3)])
    with pytest.raises(ValueError, match="concatenate: "):
        mg.concatenate([mg.zeros(2, 2), mg.zeros(2, 3)], axis=0)


def test_split_follows_pytorch():
    x = mg.arange(5)
    assert [p.tolist() for p in x.split(2)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in mg.split(x, [1, 4])] == [[0], [1, 2, 3, 4]]
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] do not add up to the length 5"):
        x.split([1, 1])
    with pytest.raises(ValueError, match="split: the piece length must be positive"):
        x.split(0)


def test_split_and_concatenate_are_inverse_in_value_and_gradient():
    x = leaf(np.arange(10.0).reshape(5, 2))
    pieces = x.split([2, 3])
    back = mg.cat(pieces)
    assert back.tolist() == x.tolist()
    (back * mg.arange(10.0).reshape(5, 2)).sum().backward()
    assert x.grad.tolist() == np.arange(10.0).reshape(5, 2).tolist()


def test_the_mean_loss_of_an_empty_batch_is_an_error_and_its_sum_is_zero():
    logits, targets = leaf(np.zeros((0, 3))), np.zeros(0, dtype=np.int64)
    with pytest.raises(
        ValueError,
        match=r"^cross_entropy: cannot average the loss of an empty batch \(input of shape "
        r"\(0, 3\)\); reduction='sum' gives 0",
    ):
        F.cross_entropy(logits, targets)
    with pytest.raises(ValueError, match=r"^mse_loss: .* empty batch \(input of shape \(0, 2\)\)"):
        F.mse_loss(mg.zeros(0, 2), mg.zeros(0, 2))
    with pytest.raises(ValueError, match=r"^cross_entropy: .*\(0, 3\)"):
        mg.nn.CrossEntropyLoss()(logits, targets)
    total = F.cross_entropy(logits, targets, reduction="sum")
    total.backward()
    assert total.item() == 0.0 and logits.grad.shape == (0, 3)
    assert F.cross_entropy(logits, targets, reduction="none").shape == (0,)
    assert F.mse_loss(mg.zeros(0, 2), mg.zeros(0, 2), reduction="sum").item() == 0.0


def test_functional_errors():
    logits = mg.zeros(3, 4)
    with pytest.raises(
        TypeError, match="cross_entropy: indices must be integers, got dtype float64"
    ):
        F.cross_entropy(logits, mg.zeros(3))
    with pytest.raises(ValueError, match=r"cross_entropy: index 4 is out of range \[0, 4\)"):
        F.cross_entropy(logits, [0, 1, 4])
    with pytest.raises(
        ValueError, match=r"cross_entropy: logits of shape \(3, 4\) need targets of shape \(3,\)"
    ):
        F.cross_entropy(logits, [0, 1])
    with pytest.raises(ValueError, match="cross_entropy: logits must be"):
        F.cross_entropy(mg.zeros(2, 3, 4), [0])
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        F.cross_entropy(logits, [0, 1, 2], reduction="avg")
    with pytest.raises(
        ValueError, match=r"mse_loss: input shape \(3, 4\) and target shape \(4,\) differ"
    ):
        F.mse_loss(logits, mg.zeros(4))
    with pytest.raises(ValueError, match="embedding: weight must be"):
        F.embedding([0], mg.zeros(3))
    with pytest.raises(ValueError, match=r"embedding: index -1 is out of range \[0, 3\)"):
        F.embedding([-1], mg.zeros(3, 2))


def test_one_hot_matches_pytorch():
    assert F.one_hot(mg.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert F.one_hot([1], num_classes=4).dtype == np.int64


def test_cast_to_an_integer_dtype_is_not_differentiable():
    x = leaf([1.5])
    assert not x.to(mg.int64).requires_grad


def test_to_round_trips_gradients_between_float_dtypes():
    x = leaf([1.5])
    x.float().double().sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [1.0]


def test_index_put_without_accumulate_refuses_a_repeated_position():
    x, v = mg.zeros(3), leaf([1.0, 2.0])
    with pytest.raises(ValueError, match="index_put: the index names a position more than once"):
        mg.index_put(x, np.array([1, 1]), v)
    out = mg.index_put(x, np.array([1, 1]), v, accumulate=True)
    assert out.tolist() == [0.0, 3.0, 0.0]


def test_one_hot_of_an_empty_tensor_needs_num_classes():
    with pytest.raises(ValueError, match="one_hot: cannot infer num_classes from an empty tensor"):
        F.one_hot(np.zeros(0, dtype=int))
    assert F.one_hot(np.zeros(0, dtype=int), num_classes=3).shape == (0, 3)


def test_view_refuses_a_layout_that_needs_a_copy():
    a = mg.arange(6.0).reshape(2, 3)
    assert np.shares_memory(a.view(3, 2).data, a.data)
    with pytest.raises(RuntimeError, match="view: .* cannot be viewed as .* use reshape"):
        a.T.view(-1)
    assert a.T.reshape(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


def test_flatten_merges_the_axes_from_start_dim_to_end_dim_as_torch_flatten():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    assert mg.flatten(x).tolist() == list(range(24))
    assert np.array_equal(mg.flatten(x, 1).data, x.data.reshape(2, 12))
    assert mg.flatten(x, 0, 1).shape == (6, 4) and mg.flatten(x, -2, -1).shape == (2, 12)
    assert mg.flatten(x, 1, 1).shape == (2, 3, 4)
    assert mg.flatten(mg.zeros(0, 3), 1).shape == (0, 3)
    assert mg.flatten(mg.zeros(2, 0, 3), 1).shape == (2, 0)
    assert mg.flatten(mg.tensor(5.0)).tolist() == [5.0]
    (mg.flatten(x, 1) * mg.arange(12.0)).sum().backward()
    assert np.array_equal(x.grad.data, np.tile(np.arange(12.0), 2).reshape(2, 3, 4))


def test_flatten_names_a_bad_range_of_axes():
    x = mg.zeros(2, 3, 4)
    with pytest.raises(
        ValueError, match=r"flatten: start_dim 2 comes after end_dim 1 .* shape \(2, 3, 4\)"
    ):
        mg.flatten(x, 2, 1)
    with pytest.raises(ValueError, match="flatten: axis 3 is out of range for 3 axes"):
        mg.flatten(x, 3)


def test_transpose_needs_both_axes_as_in_pytorch():
    with pytest.raises(TypeError):
        mg.zeros(2, 3).transpose()
    assert mg.zeros(2, 3, 4).transpose(0, 2).shape == (4, 3, 2)


def test_max_returns_values_and_argmax_the_indices():
    x = mg.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert x.max(axis=1).tolist() == [5.0, 7.0]
    assert x.argmax(axis=1).tolist() == [1, 0] and x.argmin().item() == 0
    assert x.argmax(axis=0, keepdims=True).shape == (1, 2)


def test_addmm_is_x_plus_a_at_b_and_names_bad_shapes():
    x, a, b = leaf(np.ones(3)), leaf(np.ones((2, 4))), leaf(np.ones((4, 3)))
    out = mg.addmm(x, a, b)
    assert out.tolist() == [[5.0] * 3] * 2 and x.addmm(a, b).tolist() == out.tolist()
    out.sum().backward()
    assert x.grad.tolist() == [2.0] * 3 and a.grad.tolist() == [[3.0] * 4] * 2
    with pytest.raises(
        ValueError, match=r"addmm: a and b must be matrices, got shapes \(4,\) and \(4, 3\)"
    ):
        mg.addmm(x, mg.ones(4), b)
    with pytest.raises(
        ValueError, match=r"addmm: shapes \(2, 4\) and \(3, 3\) are not aligned \(4 != 3\)"
    ):
        mg.addmm(x, a, mg.ones(3, 3))


@pytest.mark.parametrize(
    ("op", "derivatives"),
    [
        (mg.sin, [np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), np.sin]),
        (mg.cos, [lambda x: -np.sin(x), lambda x: -np.cos(x), np.sin, np.cos]),
    ],
)
def test_sin_and_cos_differentiate_into_each_other_four_times_over(op, derivatives):
    """Each rule is written with the other op, so create_graph differentiates it again:
    sin' = cos, sin'' = −sin, sin''' = −cos, sin'''' = sin (and cos likewise)."""
    x = leaf(np.linspace(-3.0, 3.0, 13))
    y = op(x)
    for derivative in derivatives:
        (y,) = mg.grad(y.sum(), [x], create_graph=True)
        np.testing.assert_allclose(y.data, derivative(x.data), rtol=0, atol=1e-15)
        assert y.grad_fn is not None  # recorded, so the next derivative exists


# ---- misuses of the ops and spellings PyTorch users bring -----------------------------------

_X, _I = np.arange(12.0).reshape(3, 4), np.array([1, 2])

MISUSES = {
    "both spellings of an axis": (lambda: mg.tensor(_X).sum(axis=0, dim=0), TypeError,
        r"^sum: axis= and dim= are two spellings of one argument; pass one of them$"),
    "both spellings of keepdims": (lambda: mg.tensor(_X).mean(0, keepdims=True, keepdim=True),
        TypeError, r"^mean: keepdims= and keepdim= are two spellings"),
    "an integer // by zero": (lambda: mg.tensor(_I) // mg.tensor([0, 1]), ZeroDivisionError,
        r"^floor_divide: integer division by zero \(a divisor of shape \(2,\) holds 0\)"),
    "an integer % by zero": (lambda: mg.tensor(_I) % 0, ZeroDivisionError,
        r"^remainder: integer division by zero \(a divisor of shape \(\) holds 0\)"),
    "& on floats": (lambda: mg.tensor(_X) & mg.tensor(_X), TypeError,
        r"^bitwise_and \(&\): expected integer or bool tensors, got float64, float64"),
    "a reflected & with a float": (lambda: 3.5 & mg.tensor(_I), TypeError,
        r"^bitwise_and \(&\): expected integer or bool tensors, got float64"),
    "~ on floats": (lambda: ~mg.tensor(_X), TypeError,
        r"^bitwise_not \(~\): expected integer or bool tensors, got float64"),
    "var of one element": (lambda: mg.tensor([2.0]).var(), ValueError,
        r"^var: 1 element\(s\) per result with correction 1 leave no degrees of freedom"),
    "std with unbiased and correction": (lambda: mg.tensor(_X).std(unbiased=True, correction=1),
        TypeError, r"^std: got both unbiased= and correction="),
    "std of one element": (lambda: mg.tensor([[2.0]]).std(dim=1), ValueError,
        r"^std: 1 element\(s\) per result with correction 1 .* \(input shape \(1, 1\), axis 1\)"),
    "norm with p < 0": (lambda: mg.tensor(_X).norm(-1), ValueError,
        r"^norm: p must be 'fro', a number > 0, 0, inf or -inf; got -1"),
    "cumsum without an axis": (lambda: mg.tensor(_X).cumsum(None), TypeError,
        r"^cumsum: needs one axis \(dim\), an int; got None"),
    "roll with more shifts than axes": (lambda: mg.tensor(_X).roll((1, 2), 0), ValueError,
        r"^roll: 2 shifts for 1 axes"),
    "pad with half a pair": (lambda: F.pad(mg.tensor(_X), (1,)), ValueError,
        r"^pad: expected \(before, after\) pairs for at most 2 axes, got \(1,\)"),
    "pad with an unknown mode": (lambda: F.pad(mg.tensor(_X), (1, 1), mode="mirror"), ValueError,
        r"^pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got 'mirror'"),
    "reflect beyond the edge": (lambda: F.pad(mg.tensor(_X), (4, 0), mode="reflect"), ValueError,
        r"^pad: reflect padding \(4, 0\) along axis 1 of length 4; it can be at most 3"),
    "circular more than once": (lambda: F.pad(mg.tensor(_X), (0, 0, 1, 4), mode="circular"),
        ValueError, r"^pad: circular padding \(1, 4\) along axis 0 of length 3; .* at most 3"),
    "replicate of an empty axis": (
        lambda: F.pad(mg.zeros(2, 0), (1, 1), mode="replicate"), ValueError,
        r"^pad: replicate padding \(1, 1\) along axis 1 of length 0; it can be at most 0"),
    "tril of a vector": (lambda: mg.tensor(_I).tril(), ValueError,
        r"^tril: needs a matrix \(or a batch of them\), got shape \(2,\)"),
    "gather with a float index": (lambda: mg.tensor(_X).gather(1, mg.tensor([[0.5]])), TypeError,
        r"^gather: the index must hold integers, got dtype float64"),
    "gather with a longer index": (
        lambda: mg.tensor(_X).gather(1, mg.tensor(np.zeros((4, 1), np.int64))), ValueError,
        r"^gather: an index of shape \(4, 1\) for an input of shape \(3, 4\)"),
    "gather with an index of fewer axes": (
        lambda: mg.tensor(_X).gather(1, mg.tensor(np.zeros(4, np.int64))), ValueError,
        r"^gather: an index of shape \(4,\) for an input of shape \(3, 4\); it needs 2 axes"),
    "gather out of range": (
        lambda: mg.tensor(_X).gather(1, mg.tensor(np.full((3, 1), 4))), ValueError,
        r"^gather: an index out of range \[0, 4\) along axis 1"),
    "masked_fill with a float mask": (
        lambda: mg.tensor(_X).masked_fill(mg.tensor([1.0]), 0.0), TypeError,
        r"^masked_fill: the mask must be a bool tensor, got dtype float64"),
    "masked_fill with a mask that does not broadcast": (
        lambda: mg.tensor(_X).masked_fill(mg.tensor(np.ones(3, bool)), 0.0), ValueError,
        r"^masked_fill: a mask of shape \(3,\) does not broadcast to the input's shape \(3, 4\)"),
    "masked_fill with a value that is not 0-d": (
        lambda: mg.tensor(_X).masked_fill(mg.tensor(np.ones(4, bool)), mg.zeros(2)), ValueError,
        r"^masked_fill: value must be a number or a 0-d tensor, got shape \(2,\)"),
    "gelu with an unknown approximation": (lambda: F.gelu(mg.tensor(_X), approximate="x"),
        ValueError, r"^gelu: approximate must be 'none' or 'tanh', got 'x'"),
    "linspace with negative steps": (lambda: mg.linspace(0, 1, -1), ValueError,
        r"^linspace: steps must be an int >= 0, got -1"),
}  # fmt: skip


@pytest.mark.parametrize("misuse", list(MISUSES))
def test_a_misused_op_raises_an_error_naming_the_op_what_it_got_and_what_it_expects(misuse):
    call, error, message = MISUSES[misuse]
    with pytest.raises(error, match=message):
        call()


def test_pythons_round_keeps_the_dtype_and_has_derivative_zero():
    x = leaf([0.5, 1.5, 2.567])
    y = round(x, 2)
    assert y.dtype == np.float64 and y.tolist() == [0.5, 1.5, 2.57]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert round(mg.tensor([7, 12]), -1).tolist() == [10, 10]
