"""The clipping and SGD chapter, stated as math.

Norm clipping (Pascanu, Mikolov and Bengio, 2013): if ‖g‖ > c then g ← c·g/‖g‖.
It bounds the length of the step and keeps its direction. Plain SGD is
θ_new = θ_old − α∇J.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn, optim
from minigrad.nn.utils import clip_grad_norm_, get_total_norm


def gradients(seed, scale):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    params = [nn.Parameter(np.zeros(s)) for s in shapes]
    for p in params:
        p.grad = mg.tensor(scale * rng.standard_normal(p.shape))
    return params


def global_norm(params):
    return np.sqrt(sum(np.sum(p.grad.data**2) for p in params))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**16), st.floats(1e-3, 1e3), st.floats(1e-3, 1e3))
def test_after_clipping_the_global_norm_is_at_most_max_norm(seed, scale, max_norm):
    params = gradients(seed, scale)
    clip_grad_norm_(params, max_norm)
    assert global_norm(params) <= max_norm * (1 + 1e-6)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**16), st.floats(1.0, 1e6))
def test_every_clipped_gradient_keeps_its_direction(seed, scale):
    params = gradients(seed, scale)
    before = [p.grad.data.copy() for p in params]
    clip_grad_norm_(params, 0.5)
    for g0, p in zip(before, params):
        cosine = np.sum(g0 * p.grad.data) / (np.linalg.norm(g0) * np.linalg.norm(p.grad.data))
        assert cosine == pytest.approx(1.0, abs=1e-12)


def test_the_joint_gradient_keeps_its_direction_too():
    params = gradients(1, 100.0)
    joint_before = np.concatenate([p.grad.data.ravel() for p in params])
    clip_grad_norm_(params, 1.0)
    joint_after = np.concatenate([p.grad.data.ravel() for p in params])
    np.testing.assert_allclose(
        joint_after / np.linalg.norm(joint_after),
        joint_before / np.linalg.norm(joint_before),
        rtol=1e-12,
    )
    assert np.linalg.norm(joint_after) == pytest.approx(1.0, rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**16), st.floats(1e-3, 1.0))
def test_below_the_threshold_gradients_are_untouched(seed, fraction):
    params = gradients(seed, 1.0)
    before = [p.grad.data.copy() for p in params]
    total = get_total_norm([p.grad for p in params]).item()
    clip_grad_norm_(params, total / fraction + 1e-5)
    for g0, p in zip(before, params):
        assert np.array_equal(g0, p.grad.data)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**16), st.floats(1e-4, 10.0))
def test_one_plain_sgd_step_is_theta_minus_alpha_times_the_gradient(seed, lr):
    rng = np.random.default_rng(seed)
    model = nn.Linear(3, 2)
    x, y = mg.tensor(rng.standard_normal((5, 3))), mg.tensor(rng.standard_normal((5, 2)))
    loss = nn.MSELoss()(model(x), y)
    loss.backward()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    grads = {k: p.grad.data.copy() for k, p in model.named_parameters()}
    optim.SGD(model.parameters(), lr=lr).step()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(p.data, before[k] - lr * grads[k], rtol=1e-15, atol=1e-15)
