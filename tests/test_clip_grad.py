"""Gradient clipping: every edge case of PyTorch's semantics."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm


def params_with(*grads):
    params = [nn.Parameter(np.zeros(np.shape(g))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = mg.tensor(g)
    return params


def test_returns_the_total_norm_from_before_clipping():
    params = params_with([3.0, 4.0], [12.0])
    total = clip_grad_norm_(params, 1.0)
    assert total.item() == 13.0 and total.dtype == np.float64
    assert np.isclose(get_total_norm([p.grad for p in params]).item(), 1.0, rtol=1e-6)


def test_the_total_is_the_p_norm_of_the_per_tensor_p_norms():
    grads = [np.array([3.0, -4.0]), np.array([1.0, 2.0, -2.0])]
    for p in (1.0, 2.0, 3.0, 0.5):
        expected = sum(np.sum(np.abs(g) ** p) for g in grads) ** (1 / p)
        assert np.isclose(
            get_total_norm([mg.tensor(g) for g in grads], p).item(), expected, rtol=1e-14
        )
    assert get_total_norm([mg.tensor(g) for g in grads], math.inf).item() == 4.0


def test_every_gradient_is_multiplied_by_max_norm_over_total_plus_1e6():
    params = params_with([3.0, 4.0])
    clip_grad_norm_(params, 1.0)
    assert np.allclose(params[0].grad.data, np.array([3.0, 4.0]) * (1.0 / (5.0 + 1e-6)), rtol=1e-15)


def test_below_the_threshold_nothing_changes():
    params = params_with([0.3, 0.4])
    clip_grad_norm_(params, 10.0)
    assert params[0].grad.tolist() == [0.3, 0.4]


def test_a_norm_exactly_at_max_norm_is_scaled_by_max_over_max_plus_1e6():
    params = params_with([3.0, 4.0])
    clip_grad_norm_(params, 5.0)  # the factor 5 / (5 + 1e-6) < 1, so it still applies
    assert np.allclose(
        params[0].grad.data, [3.0 * 5 / (5 + 1e-6), 4.0 * 5 / (5 + 1e-6)], rtol=1e-15
    )


def test_a_zero_norm_changes_nothing():
    params = params_with([0.0, 0.0])
    assert clip_grad_norm_(params, 1.0).item() == 0.0
    assert params[0].grad.tolist() == [0.0, 0.0]


def test_parameters_without_grad_are_skipped_and_no_grads_at_all_gives_zero():
    a, b = params_with([3.0, 4.0])[0], nn.Parameter([1.0])
    assert clip_grad_norm_([a, b], 1.0).item() == 5.0 and b.grad is None
    assert clip_grad_norm_([nn.Parameter([1.0])], 1.0).item() == 0.0
    assert get_total_norm([]).item() == 0.0


def test_a_single_tensor_or_a_generator_consumed_once():
    (p,) = params_with([3.0, 4.0])
    assert clip_grad_norm_(p, 1.0).item() == 5.0
    (q,) = params_with([6.0, 8.0])
    assert clip_grad_norm_((t for t in [q]), 1.0).item() == 10.0
    assert np.isclose(np.linalg.norm(q.grad.data), 1.0, rtol=1e-5)


def test_the_norm_is_computed_in_float64():
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    p.grad = mg.tensor(np.array([3e20, 4e20], dtype=np.float32))  # its square overflows float32
    total = clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float64 and np.isclose(total.item(), 5e20, rtol=1e-6)
    assert p.grad.dtype == np.float32 and np.isfinite(p.grad.data).all()


def test_error_if_nonfinite_raises_before_any_gradient_changes():
    params = params_with([np.inf, 1.0], [2.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert params[1].grad.tolist() == [2.0]
    nan_params = params_with([np.nan, 1.0])
    with pytest.raises(RuntimeError, match="is nan"):
        clip_grad_norm_(nan_params, 1.0, error_if_nonfinite=True)


def test_without_the_error_an_inf_total_zeroes_finite_entries_and_a_nan_total_spreads_nan():
    inf_params = params_with([np.inf, 1.0], [2.0])
    assert clip_grad_norm_(inf_params, 1.0).item() == np.inf
    assert np.isnan(inf_params[0].grad.data[0]) and inf_params[0].grad.data[1] == 0.0
    assert inf_params[1].grad.tolist() == [0.0]
    nan_params = params_with([np.nan, 1.0], [2.0])
    assert np.isnan(clip_grad_norm_(nan_params, 1.0).item())
    assert all(np.isnan(p.grad.data).all() for p in nan_params)


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_norm must be non-negative"):
        clip_grad_norm_(params_with([1.0]), -1.0)
    with pytest.raises(ValueError, match="norm_type must be positive or inf"):
        clip_grad_norm_(params_with([1.0]), 1.0, norm_type=0)
    with pytest.raises(ValueError, match="clip_value must be non-negative"):
        clip_grad_value_(params_with([1.0]), -1.0)


def test_clip_grad_value_clamps_each_element_and_skips_missing_grads():
    p, q = params_with([-2.0, 0.5, 3.0])[0], nn.Parameter([1.0])
    clip_grad_value_([p, q], 1.0)
    assert p.grad.tolist() == [-1.0, 0.5, 1.0] and q.grad is None


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("clip", [clip_grad_norm_, clip_grad_value_], ids=lambda f: f.__name__)
def test_a_nan_limit_is_refused_before_any_gradient_changes(clip):
    key = "max_norm" if clip is clip_grad_norm_ else "clip_value"
    params = params_with([3.0, 4.0])
    with pytest.raises(
        ValueError,
        match=rf"^{clip.__name__}: {key} must be non-negative \(inf for no limit\), got nan$",
    ):
        clip(params, NAN)
    assert params[0].grad.tolist() == [3.0, 4.0]


@pytest.mark.parametrize("clip", [clip_grad_norm_, clip_grad_value_], ids=lambda f: f.__name__)
def test_an_infinite_limit_clips_nothing_as_in_pytorch(clip):
    params = params_with([3.0, -40.0], [1e150])
    clip(params, INF)
    assert params[0].grad.tolist() == [3.0, -40.0] and params[1].grad.tolist() == [1e150]


@pytest.mark.parametrize("clip", [clip_grad_norm_, clip_grad_value_], ids=lambda f: f.__name__)
@pytest.mark.parametrize("limit", ["1.0", None, True, mg.tensor(1.0)], ids=repr)
def test_a_limit_that_is_not_a_number_is_a_type_error(clip, limit):
    with pytest.raises(TypeError, match=rf"^{clip.__name__}: .* must be a number >= 0, got "):
        clip(params_with([1.0]), limit)
