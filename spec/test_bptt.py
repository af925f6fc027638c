"""Chapter 3: backprop through time by hand. The engine's gradient of every parameter of a
σ-RNN (and tanh-RNN) language model equals the hand-derived BPTT of spec/bptt_reference.py
to 1e-10 relative, in float64, for sequences up to T = 100 and batches of several."""

import numpy as np
import pytest

import minigrad.functional as F
from minigrad.models import CharRNN
from minigrad.testing import assert_close

from .bptt_reference import NAMES, init_params, loss_and_gradients

V, E, H = 11, 5, 8


def engine_loss_and_gradients(params, inputs, targets, nonlinearity):
    model = CharRNN(V, E, H, model="rnn", nonlinearity=nonlinearity)
    model.load_state_dict(params)
    logits, _ = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    loss.backward()
    return loss.item(), {name: p.grad.data for name, p in model.named_parameters()}


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
@pytest.mark.parametrize(("T", "B"), [(1, 1), (7, 3), (100, 4)])
def test_engine_gradients_equal_hand_derived_bptt(nonlinearity, T, B):
    rng = np.random.default_rng(T * 10 + B)
    params = init_params(V, E, H, rng)
    inputs, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    loss_ref, grads_ref = loss_and_gradients(params, inputs, targets, nonlinearity)
    loss, grads = engine_loss_and_gradients(params, inputs, targets, nonlinearity)
    assert loss == pytest.approx(loss_ref, rel=1e-13)
    assert set(grads) == set(NAMES)
    for name in NAMES:
        assert_close(grads[name], grads_ref[name], 1e-10, f"{nonlinearity} T={T} B={B} {name}")


def test_the_reference_itself_agrees_with_finite_differences():
    """The hand derivation is checked independently of the engine, too."""
    rng = np.random.default_rng(0)
    params = init_params(V, E, H, rng)
    inputs, targets = rng.integers(0, V, (6, 2)), rng.integers(0, V, (6, 2))
    _, grads = loss_and_gradients(params, inputs, targets)
    eps = 1e-6
    for name in NAMES:
        direction = rng.standard_normal(params[name].shape)
        plus = {**params, name: params[name] + eps * direction}
        minus = {**params, name: params[name] - eps * direction}
        numeric = (
            loss_and_gradients(plus, inputs, targets)[0]
            - loss_and_gradients(minus, inputs, targets)[0]
        ) / (2 * eps)
        assert np.sum(grads[name] * direction) == pytest.approx(numeric, rel=1e-6, abs=1e-9), name


def test_embedding_in_the_reference_is_one_hot_times_the_matrix():
    rng = np.random.default_rng(1)
    params = init_params(V, E, H, rng)
    tokens = rng.integers(0, V, (3, 2))
    one_hot = np.eye(V)[tokens]
    assert np.allclose(
        params["embedding.weight"][tokens], one_hot @ params["embedding.weight"], rtol=1e-15
    )
    assert np.array_equal(F.one_hot(tokens, V).data, one_hot)
