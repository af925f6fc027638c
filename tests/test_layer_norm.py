"""nn.LayerNorm and the layer-normalised LSTM (Ba, Kiros and Hinton, 2016): their parameters,
shapes and errors, the cell against its equations written in numpy here, the sequence module
against the cell step by step, and the adding task. spec/test_losses_and_layer_norm.py checks
their gradients against SymPy; tests/test_torch_reference.py layer_norm against PyTorch."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.autograd import gradcheck
from minigrad.tasks import AddingConfig, Regressor, run_adding
from minigrad.testing import assert_close

RNG = np.random.default_rng(5)

# ---- LayerNorm ----------------------------------------------------------------------------------


def test_layer_norm_starts_as_pytorchs_with_ones_and_zeros():
    norm = nn.LayerNorm(4)
    assert list(norm.state_dict()) == ["weight", "bias"] and norm.normalized_shape == (4,)
    assert norm.weight.tolist() == [1.0] * 4 and norm.bias.tolist() == [0.0] * 4
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm((2, 3), elementwise_affine=False).parameters()) == []
    assert repr(norm) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"


def test_each_sample_comes_out_with_mean_zero_and_variance_one():
    x = mg.tensor(RNG.standard_normal((3, 2, 5)) * 7 + 3)
    y = nn.LayerNorm((2, 5), eps=0.0)(x).data.reshape(3, -1)
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(y.var(axis=1), 1.0, rtol=1e-14)


def test_layer_norm_scales_and_shifts_by_its_weight_and_bias():
    x = RNG.standard_normal((4, 3))
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    centred = x - x.mean(axis=1, keepdims=True)
    expected = centred / np.sqrt((centred**2).mean(axis=1, keepdims=True) + 0.5) * w + b
    out = F.layer_norm(mg.tensor(x), 3, mg.tensor(w), mg.tensor(b), eps=0.5)
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)


def test_layer_norm_is_the_same_in_training_and_evaluation():
    norm, x = nn.LayerNorm(3), mg.tensor(RNG.standard_normal((2, 3)))
    assert np.array_equal(norm(x).data, norm.eval()(x).data)


LAYER_NORM_MISUSE = [
    (lambda: F.layer_norm(mg.zeros(2, 3), (2,)), ValueError,
     r"layer_norm: input must end with the normalized shape \(2,\), got \(2, 3\)"),
    (lambda: F.layer_norm(mg.zeros(3), 3, mg.ones(2)), ValueError,
     r"layer_norm: weight must have the normalized shape \(3,\), got \(2,\)"),
    (lambda: F.layer_norm(mg.zeros(3), 3, eps=-1.0), ValueError,
     "layer_norm: eps must be a finite number >= 0, got -1.0"),
    (lambda: F.layer_norm(mg.zeros(3), 3, eps="small"), TypeError,
     "layer_norm: eps must be a number >= 0, got 'small'"),
    (lambda: nn.LayerNorm(0), ValueError, r"LayerNorm: normalized_shape must hold ints > 0, got \(0,\)"),
    (lambda: nn.LayerNorm(2.5), TypeError, "LayerNorm: normalized_shape must be an int or ints, got 2.5"),
    (lambda: nn.LayerNorm(3, elementwise_affine=1), TypeError,
     "LayerNorm: elementwise_affine must be a bool, got 1"),
]  # fmt: skip


@pytest.mark.parametrize(
    "call, error, message", LAYER_NORM_MISUSE, ids=[m for *_, m in LAYER_NORM_MISUSE]
)
def test_layer_norm_refuses_bad_arguments_naming_them(call, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        call()


# ---- the layer-normalised LSTM ------------------------------------------------------------------


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def ln(z, gain, bias=0.0, eps=1e-5):
    centred = z - z.mean(axis=-1, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + eps) * gain + bias


def ba_step(cell, x, h, c):
    """Ba et al.'s layer-normalised LSTM step, in numpy, from the cell's parameters."""
    p = {name: t.data for name, t in cell.named_parameters()}
    gates = (ln(x @ p["weight_ih"].T, p["norm_ih.weight"]) + p["bias_ih"]
             + ln(h @ p["weight_hh"].T, p["norm_hh.weight"]) + p["bias_hh"])  # fmt: skip
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(ln(c, p["norm_c.weight"], p["norm_c.bias"])), c


def randomised(cell):
    for param in cell.parameters():  # gains and biases away from 1 and 0, so each one counts
        param.data[...] = RNG.standard_normal(param.shape)
    return cell


def test_the_cell_follows_ba_et_als_equations():
    cell = randomised(nn.LayerNormLSTMCell(3, 4))
    x, h, c = (RNG.standard_normal((2, n)) for n in (3, 4, 4))
    ours = cell(mg.tensor(x), (mg.tensor(h), mg.tensor(c)))
    for got, expected in zip(ours, ba_step(cell, x, h, c)):
        np.testing.assert_allclose(got.data, expected, rtol=1e-13, atol=1e-15)


def test_the_cell_has_lstms_names_and_its_gains():
    cell = nn.LayerNormLSTMCell(3, 4)
    assert [(k, v.shape) for k, v in cell.state_dict().items()] == [
        ("weight_ih", (16, 3)), ("weight_hh", (16, 4)), ("bias_ih", (16,)), ("bias_hh", (16,)),
        ("norm_ih.weight", (16,)), ("norm_hh.weight", (16,)),
        ("norm_c.weight", (4,)), ("norm_c.bias", (4,)),
    ]  # fmt: skip
    assert np.abs(cell.weight_hh.data).max() <= 0.5  # U(−1/√H, 1/√H)


def test_the_cells_gradient_agrees_with_finite_differences():
    cell = randomised(nn.LayerNormLSTMCell(2, 3))
    inputs = [mg.tensor(RNG.standard_normal((2, n)), requires_grad=True) for n in (2, 3, 3)]
    assert gradcheck(lambda x, h, c: mg.cat([t.reshape(-1) for t in cell(x, (h, c))]), inputs)


def test_the_sequence_module_is_the_cell_at_every_step():
    lstm = nn.LayerNormLSTM(2, 3)
    randomised(lstm.cell)
    x, h0, c0 = (
        RNG.standard_normal((5, 4, 2)),
        RNG.standard_normal((1, 4, 3)),
        RNG.standard_normal((1, 4, 3)),
    )
    out, (h_n, c_n) = lstm(mg.tensor(x), (mg.tensor(h0), mg.tensor(c0)))
    h, c = h0[0], c0[0]
    for t in range(5):
        h, c = ba_step(lstm.cell, x[t], h, c)
        np.testing.assert_allclose(out.data[t], h, rtol=1e-13, atol=1e-15)
    assert h_n.shape == c_n.shape == (1, 4, 3) and np.allclose(c_n.data[0], c, rtol=1e-13)


def test_the_sequence_module_takes_lstms_layouts():
    lstm = nn.LayerNormLSTM(2, 3)
    x = mg.tensor(RNG.standard_normal((5, 4, 2)))
    out, (h_n, _) = lstm(x)
    lstm.batch_first = True
    out_bf, _ = lstm(x.transpose(0, 1))
    assert np.array_equal(out_bf.data, out.data.transpose(1, 0, 2))
    lstm.batch_first = False
    single, (h1, c1) = lstm(x[:, 1])
    assert single.shape == (5, 3) and h1.shape == c1.shape == (1, 3)
    assert_close(
        single.data, out.data[:, 1], 1e-14, "unbatched against batched"
    )  # BLAS may differ by ulps


LSTM_MISUSE = [
    (lambda: nn.LayerNormLSTM(2, 3)(mg.zeros(5, 4, 3)), ValueError,
     r"LayerNormLSTM: expected input of shape \(L, N, 2\) or \(L, 2\) with L ≥ 1, got \(5, 4, 3\)"),
    (lambda: nn.LayerNormLSTM(2, 3, batch_first=True)(mg.zeros(4, 0, 2)), ValueError,
     r"LayerNormLSTM: expected input of shape \(N, L, 2\) or \(L, 2\) with L ≥ 1, got \(4, 0, 2\)"),
    (lambda: nn.LayerNormLSTM(2, 3)(mg.zeros(5, 4, 2), (mg.zeros(4, 3), mg.zeros(4, 3))), ValueError,
     r"LayerNormLSTM: expected h and c of shape \(1, 4, 3\), got \(4, 3\)"),
    (lambda: nn.LayerNormLSTM(2, 3)(mg.zeros(5, 4, 2), mg.zeros(1, 4, 3)), ValueError,
     r"LayerNormLSTM: hx must be a tuple \(h, c\)"),
    (lambda: nn.LayerNormLSTMCell(2, 3)(mg.zeros(4, 3)), ValueError,
     r"LayerNormLSTMCell: expected input of shape \(N, 2\) or \(2,\), got \(4, 3\)"),
    (lambda: nn.LayerNormLSTMCell(2, 0), ValueError, "LayerNormLSTMCell: hidden_size must be positive, got 0"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", LSTM_MISUSE, ids=[m for *_, m in LSTM_MISUSE])
def test_the_layer_normalised_lstm_refuses_bad_shapes_naming_them(call, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        call()


def test_forget_gate_bias_finds_the_biases_of_a_nested_lstm():
    model = Regressor("lnlstm", 4)
    assert model.rnn.cell.bias_ih.data[4:8].tolist() == [1.0] * 4
    assert model.rnn.cell.bias_hh.data[4:8].tolist() == [0.0] * 4


def test_the_adding_task_trains_the_layer_normalised_lstm_the_same_compiled_and_eager():
    config = AddingConfig(length=8, model="lnlstm", hidden=4, batch=8, steps=5)
    compiled, _ = run_adding(config, compiled=True)
    assert np.isfinite(compiled) and compiled == run_adding(config, compiled=False)[0]


def test_the_cell_starts_from_zeros_and_prints_its_sizes():
    cell = randomised(nn.LayerNormLSTMCell(2, 3))
    x = RNG.standard_normal(2)
    h, c = cell(mg.tensor(x))
    for got, expected in zip((h, c), ba_step(cell, x, np.zeros(3), np.zeros(3))):
        assert_close(got.data, expected, 1e-14, "from zeros")
    assert repr(nn.LayerNormLSTM(2, 3, batch_first=True)).startswith(
        "LayerNormLSTM(batch_first=True\n  (cell): LayerNormLSTMCell(2, 3\n"
    )
