"""The recurrent layers against PyTorch's documented equations, written out here in plain numpy,
and gradcheck of every layer over every combination of its arguments."""

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import gradcheck
from minigrad.models import CharRNN


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


ACTIVATIONS = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0), "sigmoid": sigma}


def reference_step(kind, x, state, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """One step of PyTorch's documented equations, in numpy (biases may be None)."""
    b_ih = 0 if b_ih is None else b_ih
    b_hh = 0 if b_hh is None else b_hh
    if kind == "RNN":
        return ACTIVATIONS[nonlinearity](x @ w_ih.T + b_ih + state @ w_hh.T + b_hh)
    if kind == "LSTM":
        h, c = state
        i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
        c = sigma(f) * c + sigma(i) * np.tanh(g)
        return sigma(o) * np.tanh(c), c
    gi = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
    gh = np.split(state @ w_hh.T + b_hh, 3, axis=-1)
    r = sigma(gi[0] + gh[0])
    z = sigma(gi[1] + gh[1])
    n = np.tanh(gi[2] + r * gh[2])
    return (1 - z) * n + z * state


def reference_run(module, kind, x, h0, c0=None, nonlinearity="tanh"):
    """A whole multi-layer, possibly bidirectional run on time-major x: (L, N, H_in)."""
    params = {k: v.data for k, v in module.named_parameters()}
    D = 2 if module.bidirectional else 1
    finals_h, finals_c = [], []
    layer_in = x
    for layer in range(module.num_layers):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w = [
                params.get(f"{name}{sfx}")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            k = layer * D + d
            state = (h0[k], c0[k]) if kind == "LSTM" else h0[k]
            out = [None] * len(layer_in)
            for t in reversed(range(len(layer_in))) if d else range(len(layer_in)):
                state = reference_step(kind, layer_in[t], state, *w, nonlinearity)
                out[t] = state[0] if kind == "LSTM" else state
            outs.append(np.stack(out))
            finals_h.append(state[0] if kind == "LSTM" else state)
            if kind == "LSTM":
                finals_c.append(state[1])
        layer_in = np.concatenate(outs, axis=-1)
    return layer_in, np.stack(finals_h), (np.stack(finals_c) if kind == "LSTM" else None)


KINDS = [("RNN", "tanh"), ("RNN", "relu"), ("RNN", "sigmoid"), ("LSTM", None), ("GRU", None)]


def make(kind, nonlinearity, **kwargs):
    if kind == "RNN":
        return nn.RNN(3, 4, nonlinearity=nonlinearity, **kwargs)
    return getattr(nn, kind)(3, 4, **kwargs)


@pytest.mark.parametrize(("kind", "nonlinearity"), KINDS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_outputs_follow_the_documented_equations(kind, nonlinearity, num_layers, bidirectional):
    mg.manual_seed(1)
    module = make(kind, nonlinearity, num_layers=num_layers, bidirectional=bidirectional)
    L, N, D = 5, 2, 2 if bidirectional else 1
    x = mg.randn(L, N, 3)
    h0 = mg.randn(D * num_layers, N, 4)
    c0 = mg.randn(D * num_layers, N, 4)
    out, state = module(x, (h0, c0) if kind == "LSTM" else h0)
    h_ref = reference_run(module, kind, x.data, h0.data, c0.data, nonlinearity or "tanh")
    assert out.shape == (L, N, D * 4)
    assert np.allclose(out.data, h_ref[0], rtol=1e-13, atol=1e-15)
    h_n = state[0] if kind == "LSTM" else state
    assert h_n.shape == (D * num_layers, N, 4)
    assert np.allclose(h_n.data, h_ref[1], rtol=1e-13, atol=1e-15)
    if kind == "LSTM":
        assert np.allclose(state[1].data, h_ref[2], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(("kind", "nonlinearity"), KINDS)
def test_bidirectional_output_is_forward_then_reverse_on_the_last_axis(kind, nonlinearity):
    module = make(kind, nonlinearity, bidirectional=True)
    x = mg.randn(4, 1, 3)
    out, _ = module(x)
    forward_only, _ = reference_run(
        module, kind, x.data, np.zeros((2, 1, 4)), np.zeros((2, 1, 4)), nonlinearity or "tanh"
    )[:2]
    assert np.allclose(out.data[..., :4], forward_only[..., :4], rtol=1e-13)
    # the reverse direction's output at the last step saw only that step
    last = x.data[-1]
    w = [module.weights(0, reverse=True)[i].data for i in range(4)]
    zero = np.zeros((1, 4))
    first_reverse = reference_step(
        kind, last, (zero, zero) if kind == "LSTM" else zero, *w, nonlinearity or "tanh"
    )
    first_reverse = first_reverse[0] if kind == "LSTM" else first_reverse
    assert np.allclose(out.data[-1, :, 4:], first_reverse, rtol=1e-13)


@pytest.mark.parametrize(("kind", "nonlinearity"), KINDS)
def test_batch_first_and_unbatched_inputs_give_the_same_numbers(kind, nonlinearity):
    module = make(kind, nonlinearity, num_layers=2)
    x = mg.randn(5, 2, 3)
    out, state = module(x)
    first = make(kind, nonlinearity, num_layers=2, batch_first=True)
    first.load_state_dict(module.state_dict())
    out_bf, state_bf = first(x.transpose(0, 1))
    assert out_bf.shape == (2, 5, 4)
    assert np.allclose(out_bf.data.transpose(1, 0, 2), out.data, rtol=1e-14)
    h = state[0] if kind == "LSTM" else state
    h_bf = state_bf[0] if kind == "LSTM" else state_bf
    assert np.allclose(h_bf.data, h.data, rtol=1e-14)  # h_n is not batch-first
    single, single_state = module(x[:, 0])
    assert single.shape == (5, 4)
    assert np.allclose(single.data, out.data[:, 0], rtol=1e-14)
    h_single = single_state[0] if kind == "LSTM" else single_state
    assert h_single.shape == (2, 4)


@pytest.mark.parametrize(("kind", "nonlinearity"), KINDS)
def test_the_initial_state_defaults_to_zeros(kind, nonlinearity):
    module = make(kind, nonlinearity, num_layers=2, bidirectional=True)
    x = mg.randn(3, 2, 3)
    zeros = mg.zeros(4, 2, 4)
    default, _ = module(x)
    explicit, _ = module(x, (zeros, zeros) if kind == "LSTM" else zeros)
    assert np.array_equal(default.data, explicit.data)


@pytest.mark.parametrize(("kind", "nonlinearity"), KINDS)
def test_a_module_is_its_cell_applied_at_every_step(kind, nonlinearity):
    module = make(kind, nonlinearity)
    cell = module.cell(0)
    assert type(cell).__name__ == f"{kind}Cell"
    assert cell.weight_hh is module.weight_hh_l0
    x = mg.randn(4, 2, 3)
    out, _ = module(x)
    state = None
    for t in range(4):
        state = cell(x[t], state)
        h = state[0] if kind == "LSTM" else state
        assert np.allclose(h.data, out.data[t], rtol=1e-14)


def test_making_a_cell_view_does_not_move_the_random_generator():
    module = nn.RNN(3, 4)
    mg.manual_seed(9)
    module.cell(0)
    after = mg.randn(3).data
    mg.manual_seed(9)
    assert np.array_equal(mg.randn(3).data, after)


# ---- parameters: names, shapes, initialisation ----------------------------------------------


def test_parameter_names_and_shapes_match_pytorch():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    shapes = {k: tuple(v.shape) for k, v in lstm.named_parameters()}
    assert list(shapes)[:8] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_ih_l0_reverse",
        "weight_hh_l0_reverse",
        "bias_ih_l0_reverse",
        "bias_hh_l0_reverse",
    ]
    assert shapes["weight_ih_l0"] == (16, 3) and shapes["weight_hh_l0"] == (16, 4)
    assert shapes["weight_ih_l1"] == (16, 8) and shapes["bias_hh_l1_reverse"] == (16,)
    assert tuple(nn.GRU(3, 4).weight_ih_l0.shape) == (12, 3)
    assert tuple(nn.RNN(3, 4).weight_hh_l0.shape) == (4, 4)
    assert [k for k, _ in nn.GRUCell(3, 4).named_parameters()] == [
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
    ]
    assert [k for k, _ in nn.RNN(3, 4, bias=False).named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
    ]


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_every_recurrent_parameter_starts_uniform_in_plus_minus_one_over_sqrt_h(layer):
    mg.manual_seed(0)
    module = layer(20, 64)
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    bound = 1 / np.sqrt(64)
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.mean()) < 0.01 * bound  # U(-b, b): mean 0, variance b²/3
    assert abs(values.var() / (bound**2 / 3) - 1) < 0.05


def test_linear_and_embedding_initialisation_match_pytorchs_distributions():
    mg.manual_seed(0)
    linear = nn.Linear(100, 300)
    bound = 1 / np.sqrt(100)
    w = linear.weight.data
    assert w.shape == (300, 100) and w.min() >= -bound and w.max() <= bound
    assert abs(w.var() / (bound**2 / 3) - 1) < 0.05
    assert linear.bias.data.min() >= -bound and linear.bias.data.max() <= bound
    emb = nn.Embedding(1000, 50).weight.data
    assert abs(emb.mean()) < 0.01 and abs(emb.std() - 1) < 0.01


def test_manual_seed_makes_initialisation_reproducible():
    mg.manual_seed(3)
    a = nn.LSTM(3, 4).state_dict()
    mg.manual_seed(3)
    b = nn.LSTM(3, 4).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_reprs():
    assert (
        repr(nn.RNN(3, 4, num_layers=2, nonlinearity="sigmoid"))
        == "RNN(3, 4, num_layers=2, nonlinearity='sigmoid')"
    )
    assert (
        repr(nn.LSTM(3, 4, batch_first=True, bidirectional=True))
        == "LSTM(3, 4, batch_first=True, bidirectional=True)"
    )
    assert (
        repr(nn.RNNCell(3, 4, bias=False, nonlinearity="relu"))
        == "RNNCell(3, 4, bias=False, nonlinearity='relu')"
    )
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"
    assert repr(nn.Embedding(5, 2)) == "Embedding(5, 2)"


# ---- wrong input ----------------------------------------------------------------------------


def test_wrong_rank_or_feature_size_names_expected_and_received_shapes():
    rnn = nn.RNN(3, 4)
    with pytest.raises(
        ValueError, match=r"RNN: expected input of shape \(L, N, 3\) or \(L, 3\), got \(5, 2, 7\)"
    ):
        rnn(mg.zeros(5, 2, 7))
    with pytest.raises(ValueError, match=r"got \(5, 2, 3, 1\)"):
        rnn(mg.zeros(5, 2, 3, 1))
    with pytest.raises(ValueError, match=r"GRU: expected input of shape \(N, L, 3\)"):
        nn.GRU(3, 4, batch_first=True)(mg.zeros(5, 2))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_every_recurrent_layer_names_a_wrong_rank_or_feature_size(kind):
    layer = getattr(nn, kind)(3, 4)
    expected = rf"{kind}: expected input of shape \(L, N, 3\) or \(L, 3\), got"
    with pytest.raises(ValueError, match=rf"{expected} \(5, 2, 7\)$"):
        layer(mg.zeros(5, 2, 7))
    with pytest.raises(ValueError, match=rf"{expected} \(3,\)$"):
        layer(mg.zeros(3))
    with pytest.raises(ValueError, match=rf"{expected} \(1, 5, 2, 3\)$"):
        layer(mg.zeros(1, 5, 2, 3))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_sequence_of_no_time_steps_is_named_not_stacked(kind):
    expected = rf"{kind}: expected input of shape \({{}}\) or \(L, 3\) with L ≥ 1, got"
    with pytest.raises(ValueError, match=rf"{expected.format('L, N, 3')} \(0, 2, 3\)"):
        getattr(nn, kind)(3, 4)(mg.zeros(0, 2, 3))
    with pytest.raises(ValueError, match=rf"{expected.format('L, N, 3')} \(0, 3\)"):
        getattr(nn, kind)(3, 4)(mg.zeros(0, 3))
    with pytest.raises(ValueError, match=rf"{expected.format('N, L, 3')} \(2, 0, 3\)"):
        getattr(nn, kind)(3, 4, batch_first=True)(mg.zeros(2, 0, 3))
    assert getattr(nn, kind)(3, 4, batch_first=True)(mg.zeros(0, 1, 3))[0].shape == (0, 1, 4)


def test_char_rnn_names_tokens_of_no_time_steps_or_the_wrong_rank():
    model = CharRNN(5, 3, 4, model="lstm")
    with pytest.raises(
        ValueError,
        match=r"CharRNN: expected tokens of shape \(T, N\) or \(T,\) with T ≥ 1, got \(0, 2\)",
    ):
        model(np.zeros((0, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"CharRNN: .* got \(4, 2, 1\)"):
        model(mg.tensor(np.zeros((4, 2, 1), dtype=np.int64)))
    assert model(np.zeros(4, dtype=np.int64))[0].shape == (4, 5)


def test_an_initial_state_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"RNN: expected h0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        nn.RNN(3, 4, num_layers=2)(mg.zeros(5, 2, 3), mg.zeros(1, 2, 4))
    with pytest.raises(
        ValueError, match=r"LSTM: expected c0 of shape \(1, 2, 4\), got \(1, 2, 5\)"
    ):
        nn.LSTM(3, 4)(mg.zeros(5, 2, 3), (mg.zeros(1, 2, 4), mg.zeros(1, 2, 5)))
    with pytest.raises(ValueError, match=r"LSTM: hx must be a tuple \(h0, c0\)"):
        nn.LSTM(3, 4)(mg.zeros(5, 2, 3), mg.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"GRU: expected h0 of shape \(1, 4\), got \(1, 1, 4\)"):
        nn.GRU(3, 4)(mg.zeros(5, 3), mg.zeros(1, 1, 4))


def test_cells_check_their_input_and_state():
    with pytest.raises(
        ValueError, match=r"RNNCell: expected input of shape \(N, 3\) or \(3,\), got \(2, 4\)"
    ):
        nn.RNNCell(3, 4)(mg.zeros(2, 4))
    with pytest.raises(
        ValueError,
        match=r"GRUCell: expected a hidden state of shape \(2, 4\) for input of shape \(2, 3\), "
        r"got \(4,\)",
    ):
        nn.GRUCell(3, 4)(mg.zeros(2, 3), mg.zeros(4))
    with pytest.raises(ValueError, match=r"LSTMCell: hx must be a tuple \(h, c\)"):
        nn.LSTMCell(3, 4)(mg.zeros(2, 3), mg.zeros(2, 4))


def test_bad_constructor_arguments():
    with pytest.raises(
        ValueError, match="RNN: nonlinearity must be 'tanh', 'relu' or 'sigmoid', got 'gelu'"
    ):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="LSTM: hidden_size must be positive, got 0"):
        nn.LSTM(3, 0)
    with pytest.raises(TypeError, match="Linear: in_features must be an int"):
        nn.Linear(2.5, 3)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("argument", "value"), [("proj_size", 2), ("device", "cpu")])
def test_pytorch_arguments_that_minigrad_lacks_are_named(kind, argument, value):
    with pytest.raises(TypeError, match=f"^{kind}: {argument} is not supported by minigrad$"):
        getattr(nn, kind)(3, 4, **{argument: value})


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_name_pytorchs_device_and_any_unknown_argument(kind):
    with pytest.raises(TypeError, match=f"^{kind}: device is not supported by minigrad$"):
        getattr(nn, kind)(3, 4, device="cpu")
    with pytest.raises(TypeError, match=f"^{kind}: got an unexpected keyword argument 'hiden'$"):
        getattr(nn, kind)(3, 4, hiden=4)


def test_an_unknown_or_misplaced_argument_is_named_not_ignored():
    with pytest.raises(
        TypeError, match="^LSTM: got an unexpected keyword argument 'nonlinearity'$"
    ):
        nn.LSTM(3, 4, nonlinearity="relu")
    # PyTorch's RNN takes nonlinearity fourth; dropout is sixth in both
    with pytest.raises(TypeError, match="^RNN: bias must be a bool, got 'relu'$"):
        nn.RNN(3, 4, 1, "relu")
    gru = nn.GRU(3, 4, 2, True, False, 0.5)
    assert gru.dropout == 0.5 and gru.bidirectional is False
    with pytest.raises(TypeError, match="^GRU: bidirectional must be a bool, got 0.5$"):
        nn.GRU(3, 4, 2, True, False, 0.0, 0.5)
    with pytest.raises(TypeError, match="^LSTMCell: bias must be a bool, got 'cpu'$"):
        nn.LSTMCell(3, 4, "cpu")
    with pytest.raises(TypeError, match="^Linear: bias must be a bool, got None$"):
        nn.Linear(3, 4, None)
    rnn = nn.RNN(3, 4, bias=np.bool_(False))
    assert [name for name, _ in rnn.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


def test_linear_checks_its_input():
    with pytest.raises(
        ValueError, match=r"Linear: expected input of shape \(\*, 3\), got \(2, 4\)"
    ):
        nn.Linear(3, 2)(mg.zeros(2, 4))


def test_losses_as_modules():
    logits, targets = mg.randn(4, 3), np.array([0, 2, 1, 1])
    assert (
        nn.CrossEntropyLoss()(logits, targets).item()
        == mg.functional.cross_entropy(logits, targets).item()
    )
    assert nn.CrossEntropyLoss(reduction="none")(logits, targets).shape == (4,)
    assert nn.MSELoss(reduction="sum")(mg.ones(3), mg.zeros(3)).item() == 3.0
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        nn.CrossEntropyLoss(reduction="avg")


def test_embedding_picks_rows():
    emb = nn.Embedding(5, 2)
    assert np.array_equal(emb(np.array([[4, 0]])).data, emb.weight.data[[[4, 0]]])


# ---- gradcheck of every layer over every argument combination -------------------------------


def _loss_of_everything(module, kind):
    """A scalar loss of all the module returns, with fixed random weights, as a function of the
    input and of every parameter (gradcheck's leaves put in their place with functional_call),
    so that gradcheck covers every gradient."""
    names = [n for n, _ in module.named_parameters()]
    weights = {}

    def loss(x, *params):
        out, state = nn.utils.functional_call(module, dict(zip(names, params)), (x,))
        parts = [out, *(state if kind == "LSTM" else (state,))]
        total = 0
        for i, part in enumerate(parts):
            w = weights.setdefault(i, np.random.default_rng(i).standard_normal(part.shape))
            total = total + (part * mg.tensor(w)).sum()
        return total

    return loss


COMBOS = list(
    itertools.product(KINDS, [1, 2], [False, True], [False, True], [False, True], [True, False])
)


@pytest.mark.parametrize(
    ("kind_nl", "num_layers", "bidirectional", "batch_first", "batched", "bias"),
    COMBOS,
    ids=[f"{k[0]}-{k[1]}-L{n}-bi{b}-bf{f}-batched{u}-bias{s}" for k, n, b, f, u, s in COMBOS],
)
def test_every_recurrent_layer_passes_gradcheck_in_every_configuration(
    kind_nl, num_layers, bidirectional, batch_first, batched, bias
):
    kind, nonlinearity = kind_nl
    mg.manual_seed(2)
    module = make(
        kind,
        nonlinearity,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=batch_first,
        bias=bias,
    )
    shape = ((2, 3, 3) if batch_first else (3, 2, 3)) if batched else (3, 3)
    x = mg.randn(*shape, requires_grad=True)
    params = [mg.tensor(p.data, requires_grad=True) for p in module.parameters()]
    assert gradcheck(_loss_of_everything(module, kind), (x, *params), fast_mode=True)


@pytest.mark.parametrize(("kind", "nonlinearity"), KINDS)
def test_every_recurrent_layer_passes_the_full_jacobian_gradcheck(kind, nonlinearity):
    mg.manual_seed(2)
    module = make(kind, nonlinearity)
    x = mg.randn(3, 2, 3, requires_grad=True)
    params = [mg.tensor(p.data, requires_grad=True) for p in module.parameters()]
    assert gradcheck(_loss_of_everything(module, kind), (x, *params))


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
@pytest.mark.parametrize("batched", [True, False])
def test_every_cell_passes_gradcheck(cell, batched):
    mg.manual_seed(4)
    module = cell(3, 4)
    x = mg.randn(*((2, 3) if batched else (3,)), requires_grad=True)
    hidden_shape = (2, 4) if batched else (4,)
    h = mg.randn(*hidden_shape, requires_grad=True)
    c = mg.randn(*hidden_shape, requires_grad=True)

    def loss(x, h, c):
        state = module(x, (h, c) if cell is nn.LSTMCell else h)
        parts = state if isinstance(state, tuple) else (state,)
        return sum((p * mg.arange(1.0, 1.0 + p.numel()).reshape(p.shape)).sum() for p in parts)

    assert gradcheck(loss, (x, h, c))
