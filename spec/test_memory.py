"""What backpropagation through time keeps, and checkpointed BPTT.

BPTT keeps, for the backward pass, every step's values: memory O(T·H) for T
steps of H units. Cut the sequence into segments of k steps and checkpoint each
(``minigrad.utils.checkpoint``): the forward pass keeps one state per segment,
T/k of them, and the backward pass runs one segment's forward again at a time,
holding k steps' values. Memory O(T/k·H + k·H), least for k = √T: O(√T·H), for
one more forward pass. The gradients are not approximated: they are bit for bit
those of the same computation without checkpoints.

(The graph's own bookkeeping, one small node per op, is still kept for every
step: about 1 KB per op whatever H and B are, as PyTorch's non-reentrant
checkpoint keeps its graph too. The values dominate at the sizes below.)
"""

import math
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import theory
from minigrad.testing import assert_close

from .bptt_reference import NAMES, init_params, loss_and_gradients


def engine_gradients(params, inputs, targets, segment=None, checkpointed=False):
    theta = {name: mg.tensor(value, requires_grad=True) for name, value in params.items()}
    loss = theory.language_model_loss(theta, inputs, targets, "sigmoid", segment, checkpointed)
    loss.backward()
    return loss.item(), {name: t.grad.data for name, t in theta.items()}


@pytest.mark.parametrize("T", [1, 16, 50])
def test_checkpointed_bptt_is_bit_for_bit_bptt_and_the_hand_derived_gradient(T):
    rng = np.random.default_rng(T)
    params = init_params(11, 5, 7, rng)
    inputs, targets = rng.integers(0, 11, (T, 3)), rng.integers(0, 11, (T, 3))
    k = max(1, math.isqrt(T))
    loss, grads = engine_gradients(params, inputs, targets, k, checkpointed=True)
    loss_plain, grads_plain = engine_gradients(params, inputs, targets, k)
    loss_ref, grads_ref = loss_and_gradients(params, inputs, targets)
    assert loss == loss_plain and loss == pytest.approx(loss_ref, rel=1e-13)
    for name in NAMES:
        assert np.array_equal(grads[name], grads_plain[name]), name
        assert_close(grads[name], grads_ref[name], 1e-10, f"checkpointed BPTT, T={T}: {name}")


# ---- peak memory ----------------------------------------------------------------------------

H, B, V, D = 256, 32, 16, 8


def peak_bytes(T, checkpointed):
    """The peak that tracemalloc sees (numpy reports its arrays to it) while the σ-RNN language
    model's loss and gradients are computed over T steps, in segments of √T steps."""
    rng = np.random.default_rng(0)
    params = init_params(V, D, H, rng)
    inputs, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    tracemalloc.start()
    try:
        engine_gradients(params, inputs, targets, math.isqrt(T), checkpointed)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpointed_bptt_peak_memory_grows_sublinearly_in_t_and_bptts_linearly():
    """From T = 64 to T = 256 (4×), with √T-step segments: O(√T·H) would grow 2×, O(T·H) 4×.
    Checkpointed BPTT's peak grows at most 2.5×; BPTT's at least 3.5×; and at T = 256 the
    checkpointed peak is under a third of BPTT's."""
    plain = [peak_bytes(T, False) for T in (64, 256)]
    checkpointed = [peak_bytes(T, True) for T in (64, 256)]
    assert checkpointed[1] / checkpointed[0] <= 2.5, checkpointed
    assert plain[1] / plain[0] >= 3.5, plain
    assert checkpointed[1] < plain[1] / 3, (checkpointed, plain)
