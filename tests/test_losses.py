"""The losses beyond their SymPy rows (spec/test_losses_and_layer_norm.py): the gradients derived
by hand, ignore_index in a compiled function, silence at ±1e308, the modules, the errors, and
minigrad.nn.functional as the one namespace. tests/test_torch_reference.py compares the values
and gradients with PyTorch's."""

import importlib
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional
import minigrad.nn.functional as F
from minigrad import nn

LOGITS = np.random.default_rng(3).standard_normal((5, 4))
TARGETS = np.array([2, -100, 0, 3, -100])
KEPT = TARGETS != -100


def leaf(values):
    return mg.tensor(values, requires_grad=True)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# ---- minigrad.nn.functional ---------------------------------------------------------------------


def test_nn_functional_is_the_path_pytorch_users_import():
    module = importlib.import_module("minigrad.nn.functional")
    assert module is F and mg.nn.functional is F


def test_nn_functional_holds_every_function_of_minigrad_functional_itself():
    assert sorted(F.__all__) == sorted(minigrad.functional.__all__)
    for name in minigrad.functional.__all__:
        assert getattr(F, name) is getattr(minigrad.functional, name), name


# ---- cross_entropy and nll_loss -----------------------------------------------------------------


def test_an_ignored_target_adds_nothing_and_the_mean_leaves_it_out():
    x, kept = leaf(LOGITS), leaf(LOGITS[KEPT])
    loss = F.cross_entropy(x, TARGETS)
    reference = F.cross_entropy(kept, TARGETS[KEPT])
    assert loss.item() == pytest.approx(reference.item(), rel=1e-15)
    loss.backward()
    reference.backward()
    assert not x.grad.data[~KEPT].any()
    np.testing.assert_allclose(x.grad.data[KEPT], kept.grad.data, rtol=1e-15)


def test_the_gradient_of_label_smoothing_is_softmax_minus_the_smoothed_target():
    eps, c = 0.15, LOGITS.shape[1]
    x = leaf(LOGITS)
    F.cross_entropy(x, TARGETS, reduction="sum", label_smoothing=eps).backward()
    smoothed = (1 - eps) * np.eye(c)[np.where(KEPT, TARGETS, 0)] + eps / c
    expected = (softmax(LOGITS) - smoothed) * KEPT[:, None]
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-13, atol=1e-16)


def test_label_smoothing_mixes_the_loss_with_the_uniform_targets_loss():
    eps = 0.3
    logp = np.log(softmax(LOGITS))[KEPT]
    plain = -logp[np.arange(3), TARGETS[KEPT]]
    uniform = -logp.mean(axis=-1)
    loss = F.cross_entropy(mg.tensor(LOGITS), TARGETS, label_smoothing=eps)
    assert loss.item() == pytest.approx(((1 - eps) * plain + eps * uniform).mean(), rel=1e-14)


def test_nll_loss_of_log_softmax_is_cross_entropy_in_value_and_gradient():
    a, b = leaf(LOGITS), leaf(LOGITS)
    for reduction in ("mean", "sum"):
        nll = F.nll_loss(F.log_softmax(a, -1), TARGETS, reduction)
        ce = F.cross_entropy(b, TARGETS, reduction)
        assert nll.item() == ce.item()
        nll.backward()
        ce.backward()
    assert np.array_equal(a.grad.data, b.grad.data)


def test_nll_loss_picks_minus_the_input_at_each_target():
    logp = mg.tensor([[-0.5, -1.5], [-2.0, -0.25]])
    assert F.nll_loss(logp, [1, 0], reduction="none").tolist() == [1.5, 2.0]
    assert F.nll_loss(logp, [1, 0]).item() == 1.75
    assert F.nll_loss(logp, [1, 7], ignore_index=7).item() == 1.5
    assert F.nll_loss(logp[0], np.array(0)).item() == 0.5


def test_every_target_ignored_has_no_mean_but_a_sum_of_zero():
    x = mg.tensor(LOGITS[:2])
    with pytest.raises(
        ValueError, match=r"^cross_entropy: every target is ignore_index \(-100\), so the mean"
    ):
        F.cross_entropy(x, [-100, -100])
    assert F.cross_entropy(x, [-100, -100], reduction="sum").item() == 0.0
    assert F.nll_loss(x, [5, 5], reduction="none", ignore_index=5).tolist() == [0.0, 0.0]


def test_a_compiled_loss_recomputes_which_targets_are_ignored_at_each_call():
    x = leaf(LOGITS)
    step = mg.compile(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1))
    for targets in ([0, 1, 2, 3, 0], TARGETS, [-100, 1, -100, 3, 2]):
        t = mg.tensor(np.array(targets))
        ours, eager = step(x, t), F.cross_entropy(x, t, label_smoothing=0.1)
        assert ours.item() == eager.item()
        assert np.array_equal(mg.grad(ours, x)[0].data, mg.grad(eager, x)[0].data)


def test_a_tensor_of_targets_of_any_integer_dtype_gives_the_loss_of_its_values():
    x = leaf(LOGITS.astype(np.float32))
    expected = F.cross_entropy(x, np.array([0, 1, 2, 1, 0]))
    for dtype in (np.uint8, np.int32, np.int64):
        loss = F.cross_entropy(x, mg.tensor(np.array([0, 1, 2, 1, 0], dtype=dtype)))
        assert loss.dtype == np.float32 and loss.item() == expected.item(), dtype


def test_cross_entropy_at_the_ends_of_the_range_stays_silent_with_smoothing_and_ignored_rows():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = leaf([[1e308, -1e308], [-1e308, 1e308], [1e308, 1e308]])
        loss = F.cross_entropy(x, [0, -100, 1], reduction="none", label_smoothing=0.2)
        loss.sum().backward()
    assert loss.tolist() == [
        np.inf,
        0.0,
        pytest.approx(np.log(2.0)),
    ]  # −log 0 is inf, as in PyTorch
    assert x.grad.tolist() == [[1.0 - 0.9, 0.0 - 0.1], [0.0, 0.0], [0.5 - 0.1, 0.5 - 0.9]]


CLASS_MISUSE = [
    (lambda: F.cross_entropy(mg.zeros(2, 3), [0, 1], ignore_index=1.5), TypeError,
     "cross_entropy: ignore_index must be an int, got 1.5"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), [0, 1], label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be a number in \[0, 1\], got 1.5"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), [0, 1], label_smoothing=float("nan")), ValueError,
     r"cross_entropy: label_smoothing must be a number in \[0, 1\], got nan"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), [0, 1], label_smoothing="0.1"), TypeError,
     r"cross_entropy: label_smoothing must be a number in \[0, 1\], got '0.1'"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), [0, -1]), ValueError,
     r"cross_entropy: index -1 is out of range \[0, 3\) and is not ignore_index \(-100\)"),
    (lambda: F.nll_loss(mg.zeros(2, 3, 1), [0, 1]), ValueError,
     r"nll_loss: log-probabilities must be a Tensor of shape \(N, C\) or \(C,\), got \(2, 3, 1\)"),
    (lambda: F.nll_loss(np.zeros((2, 3)), [0, 1]), ValueError,
     r"nll_loss: log-probabilities must be a Tensor .*, got ndarray"),
    (lambda: F.nll_loss(mg.zeros(2, 3), [0]), ValueError,
     r"nll_loss: log-probabilities of shape \(2, 3\) need targets of shape \(2,\), got \(1,\)"),
    (lambda: F.nll_loss(mg.zeros(2, 3), [0, 1], "avg"), ValueError,
     "nll_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", CLASS_MISUSE, ids=[m for *_, m in CLASS_MISUSE])
def test_class_losses_refuse_bad_arguments_naming_them(call, error, message):
    with pytest.raises(error, match=f"^{message}"):
        call()


# ---- binary_cross_entropy_with_logits -----------------------------------------------------------


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_the_binary_loss_gradient_is_sigmoid_minus_the_target_weighted():
    rng = np.random.default_rng(4)
    x, y = leaf(rng.standard_normal((3, 4))), rng.random((3, 4))
    w, p = rng.random(4) + 0.5, rng.random(4) + 0.5
    F.binary_cross_entropy_with_logits(x, y, w, "sum", pos_weight=p).backward()
    expected = w * ((1 + (p - 1) * y) * sigmoid(x.data) - p * y)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)


def test_the_binary_loss_gradient_at_zero_is_a_half_minus_the_target():
    x = leaf([0.0, 0.0, 0.0])
    F.binary_cross_entropy_with_logits(x, np.array([0.0, 0.25, 1.0]), reduction="sum").backward()
    assert x.grad.tolist() == [0.5, 0.25, -0.5]


def test_the_binary_loss_is_cross_entropy_over_the_logits_zero_and_x():
    x = np.array([-2.0, 0.5, 3.0])
    ours = F.binary_cross_entropy_with_logits(
        mg.tensor(x), np.array([1.0, 0.0, 1.0]), reduction="none"
    )
    pairs = mg.tensor(np.stack([np.zeros(3), x], axis=1))
    expected = F.cross_entropy(pairs, [1, 0, 1], reduction="none")
    # the same function; cross_entropy's log-sum-exp rounds differently, by up to 2 ulp
    np.testing.assert_allclose(ours.data, expected.data, rtol=4e-15)


def test_the_binary_loss_is_correctly_rounded_where_the_softplus_is():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x, y = np.array([-2.0, 0.5, 3.0, -30.0, 40.0]), np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    ours = F.binary_cross_entropy_with_logits(mg.tensor(x), y, reduction="none").data
    exact = [float(mpmath.log1p(mpmath.exp(-xi if yi else xi))) for xi, yi in zip(x, y)]
    np.testing.assert_array_equal(ours, exact)


# x, y, loss, d loss/dx = σ(x) − y: exact, where a naive log(σ(x)) would be log 0.
BINARY_EXTREMES = [
    (1e308, 0.0, 1e308, 1.0),
    (1e308, 1.0, 0.0, 0.0),
    (-1e308, 1.0, 1e308, -1.0),
    (-1e308, 0.0, 0.0, 0.0),
    (800.0, 0.5, 400.0, 0.5),
]


@pytest.mark.parametrize("x, y, loss, grad", BINARY_EXTREMES)
def test_the_binary_loss_at_the_ends_of_the_range_is_silent_and_exact(x, y, loss, grad):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logits = leaf([x])
        out = F.binary_cross_entropy_with_logits(logits, np.array([y]))
        out.backward()
    assert out.item() == loss and logits.grad.tolist() == [grad]


def test_the_binary_loss_needs_float_targets_of_the_inputs_shape():
    with pytest.raises(
        TypeError, match="^binary_cross_entropy_with_logits: target must hold float"
    ):
        F.binary_cross_entropy_with_logits(mg.zeros(2), np.array([0, 1]))
    with pytest.raises(
        ValueError, match=r"^binary_cross_entropy_with_logits: target of shape \(3,\) must have"
    ):
        F.binary_cross_entropy_with_logits(mg.zeros(2), np.zeros(3))


# ---- the modules --------------------------------------------------------------------------------


def test_the_loss_modules_call_the_functions_with_their_options():
    x = mg.tensor(LOGITS)
    module = nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.1)
    assert (
        module(x, [3, 1, 2, 3, 0]).item()
        == F.cross_entropy(x, [3, 1, 2, 3, 0], ignore_index=3, label_smoothing=0.1).item()
    )
    assert (
        nn.NLLLoss("sum", ignore_index=0)(x, [0, 1, 2, 3, 0]).item()
        == -LOGITS[[1, 2, 3], [1, 2, 3]].sum()
    )
    y = np.full(LOGITS.shape, 0.25)
    assert nn.BCEWithLogitsLoss()(x, y).item() == F.binary_cross_entropy_with_logits(x, y).item()


def test_bce_with_logits_loss_keeps_its_weights_as_buffers_as_pytorch_does():
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []
    loss = nn.BCEWithLogitsLoss(mg.ones(3), pos_weight=mg.full((3,), 2.0))
    assert list(loss.state_dict()) == ["weight", "pos_weight"] and list(loss.parameters()) == []
    with pytest.raises(TypeError, match="^BCEWithLogitsLoss: pos_weight must be a Tensor or None"):
        nn.BCEWithLogitsLoss(pos_weight=[2.0])


def test_the_loss_modules_check_their_options_when_made():
    with pytest.raises(TypeError, match="^CrossEntropyLoss: ignore_index must be an int"):
        nn.CrossEntropyLoss(ignore_index=None)
    with pytest.raises(ValueError, match=r"^CrossEntropyLoss: label_smoothing must be a number"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="^NLLLoss: reduction must be 'mean', 'sum' or 'none'"):
        nn.NLLLoss("avg")
