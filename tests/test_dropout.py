"""Dropout as PyTorch has it: the mask's statistics, the gradient, train and eval modes, the
recurrent layers' dropout between layers, and dropout inside a compiled function."""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.creation import dropout_mask


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_mask_zeroes_a_share_p_and_scales_the_rest_by_one_over_one_minus_p(p, dtype):
    n = 200_000
    mask = dropout_mask((n,), p, dtype).data
    assert mask.dtype == dtype
    assert set(np.unique(mask)) == {dtype(0), dtype(1 / (1 - p))}
    zeros = np.count_nonzero(mask == 0)
    sigma = math.sqrt(n * p * (1 - p))  # the binomial's standard deviation
    assert abs(zeros - n * p) < 5 * sigma
    # inverted dropout keeps the mean: E[m] = 1
    assert abs(mask.astype(np.float64).mean() - 1) < 5 * math.sqrt(p / (1 - p) / n)


def test_masks_of_one_seed_are_equal_and_successive_masks_differ():
    mg.manual_seed(3)
    a, b = dropout_mask((64,), 0.5).data, dropout_mask((64,), 0.5).data
    mg.manual_seed(3)
    assert np.array_equal(dropout_mask((64,), 0.5).data, a) and not np.array_equal(a, b)


def test_neighbouring_mask_elements_are_independent():
    mask = dropout_mask((200_000,), 0.5).data > 0
    both = np.count_nonzero(mask[1:] & mask[:-1]) / (mask.size - 1)
    assert abs(both - 0.25) < 5 * math.sqrt(0.25 * 0.75 / mask.size)


def test_the_gradient_is_the_upstream_gradient_times_the_mask():
    x = mg.ones(50, 40, requires_grad=True)
    y = F.dropout(x, 0.3)
    g = mg.randn(50, 40)
    y.backward(g)
    # with x = 1, y is the mask itself: dL/dx = dL/dy ⊙ m, exactly
    assert np.array_equal(x.grad.data, g.data * y.data)
    assert y.grad_fn.name == "mul"


def test_not_training_or_p_zero_is_the_input_itself_and_p_one_zeroes_everything():
    x = mg.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    y.sum().backward()
    assert not y.data.any() and not x.grad.data.any()


@pytest.mark.parametrize(
    ("p", "error", "message"),
    [(-0.1, ValueError, r"must be in \[0, 1\], got -0.1"),
     (1.5, ValueError, r"must be in \[0, 1\], got 1.5"),
     ("0.5", TypeError, "must be a number, got '0.5'"),
     (True, TypeError, "must be a number, got True")],
)  # fmt: skip
def test_a_bad_probability_is_named(p, error, message):
    with pytest.raises(error, match=f"dropout: the dropout probability {message}"):
        F.dropout(mg.ones(3), p)
    with pytest.raises(error, match=f"Dropout: the dropout probability {message}"):
        nn.Dropout(p)
    with pytest.raises(error, match=f"LSTM: the dropout probability {message}"):
        nn.LSTM(3, 4, 2, dropout=p)


def test_dropout_needs_a_float_tensor():
    with pytest.raises(TypeError, match="dropout: expected a float Tensor, got int64"):
        F.dropout(mg.tensor([1, 2]), 0.5)
    with pytest.raises(TypeError, match="dropout: expected a float Tensor, got list"):
        F.dropout([1.0, 2.0], 0.5)


def test_the_module_drops_in_training_mode_only():
    layer = nn.Dropout(0.5)
    x = mg.ones(200)
    assert layer.training and np.count_nonzero(layer(x).data == 0) > 0
    net = nn.Sequential(nn.Linear(200, 200), layer)
    net.eval()
    assert not layer.training and layer(x) is x
    assert np.array_equal(net(x).data, net[0](x).data)
    net.train()
    assert layer.training and repr(layer) == "Dropout(p=0.5)"
    with pytest.raises(TypeError, match="Dropout: inplace=True is not supported"):
        nn.Dropout(0.5, inplace=True)


# ---- recurrent layers ---------------------------------------------------------------------------


def _layers_of(rnn, kind):
    """Two one-layer modules holding the weights of ``rnn``'s two layers."""
    single = []
    for layer in range(2):
        one = kind(rnn.hidden_size if layer else rnn.input_size, rnn.hidden_size)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(one, f"{name}_l0").data[...] = getattr(rnn, f"{name}_l{layer}").data
        single.append(one)
    return single


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
def test_recurrent_dropout_applies_to_the_first_layers_output_as_the_second_reads_it(kind):
    rnn = kind(3, 5, num_layers=2, dropout=0.4)
    first, second = _layers_of(rnn, kind)
    x = mg.randn(6, 2, 3)
    mg.manual_seed(11)
    out, _ = rnn(x)
    mg.manual_seed(11)
    by_hand, _ = second(F.dropout(first(x)[0], 0.4))
    assert np.array_equal(out.data, by_hand.data)
    rnn.eval()
    out, _ = rnn(x)
    assert np.array_equal(out.data, second(first(x)[0])[0].data)
    assert repr(rnn) == f"{kind.__name__}(3, 5, num_layers=2, dropout=0.4)"


def test_recurrent_dropout_with_one_layer_warns_as_pytorch_does():
    with pytest.warns(UserWarning, match="GRU: dropout=0.2 has no effect with num_layers=1"):
        nn.GRU(3, 4, dropout=0.2)


def test_char_rnn_drops_before_the_head_and_between_layers_and_not_in_eval():
    from minigrad.models import CharRNN

    model = CharRNN(7, 4, 8, model="lstm", num_layers=2, dropout=0.3)
    assert model.rnn.dropout == 0.3 and model.drop.p == 0.3
    tokens = np.arange(12).reshape(6, 2) % 7
    mg.manual_seed(0)
    a, _ = model(tokens)
    b, _ = model(tokens)
    assert not np.array_equal(a.data, b.data)
    model.eval()
    assert np.array_equal(model(tokens)[0].data, model(tokens)[0].data)
    one_layer = CharRNN(7, 4, 8, dropout=0.3)  # no warning: the core gets no dropout
    assert one_layer.rnn.dropout == 0.0 and one_layer.drop.p == 0.3


# ---- compiled ----------------------------------------------------------------------------------


def test_a_compiled_function_draws_a_new_mask_at_every_call_as_eager_does():
    net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))

    def loss(x):
        return net(x).sum()

    compiled = mg.compile(loss)
    x = mg.randn(5, 3)
    results = {}
    for name, fn in (("compiled", compiled), ("eager", loss)):
        mg.manual_seed(1)
        values, grads = [], []
        for _ in range(4):
            net.zero_grad()
            out = fn(x)
            out.backward()
            values.append(out.item())
            grads.append(net[0].weight.grad.data.copy())
        results[name] = values, grads
    assert results["compiled"][0] == results["eager"][0] and len(set(results["eager"][0])) == 4
    assert all(np.array_equal(a, b) for a, b in zip(results["compiled"][1], results["eager"][1]))
    assert compiled.traces == 1 and "dropout_mask(shape=(5, 4), p=0.5" in str(compiled.plan)


def test_a_compiled_function_keeps_a_plan_for_each_training_flag():
    net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    compiled = mg.compile(lambda x: net(x).sum())
    x = mg.randn(5, 3)
    compiled(x)
    net.eval()
    assert compiled(x).item() == net(x).sum().item()  # the identity, not the traced mask
    net.train()
    compiled(x)
    net.eval()
    compiled(x)
    assert compiled.traces == 2


def test_changing_the_training_flag_inside_a_compiled_function_is_refused():
    net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))

    def evaluate(x):
        first = net(x)
        net.eval()
        return first + net(x)

    with pytest.raises(RuntimeError, match=r"compile\(evaluate\): fn changed the training of a "):
        mg.compile(evaluate)(mg.randn(2, 3))


def test_randn_inside_a_compiled_function_is_drawn_afresh():
    def noisy(x):
        return x + mg.randn(3)

    compiled = mg.compile(noisy)
    x = mg.zeros(3)
    mg.manual_seed(5)
    eager = [noisy(x).data for _ in range(3)]
    mg.manual_seed(5)
    replayed = [compiled(x).data for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(eager, replayed))
    assert not np.array_equal(replayed[1], replayed[2])
