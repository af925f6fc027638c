"""minigrad against numbers PyTorch computed (tests/fixtures/torch_reference.npz, made by
make_torch_reference.py): a PyTorch state_dict loads unchanged and gives the same outputs and
gradients (the layers, and a model built of containers); clipping, the optimisers and the
schedules follow PyTorch step for step; the losses and layer_norm give PyTorch's values and
gradients; every op case of fixtures/op_cases.py gives PyTorch's values, gradients, dtypes
and shapes. PyTorch is not needed."""

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.testing import assert_close

from .fixtures.cases import (
    CLIP_CASES,
    LAYER_NORMS,
    LOSSES,
    OPTIMIZERS,
    SCHEDULE_STEPS,
    SCHEDULES,
    container_net,
)
from .fixtures.op_cases import OP_CASES, assert_same, outcome

REF = np.load(Path(__file__).with_name("fixtures") / "torch_reference.npz", allow_pickle=False)
I, H = 3, 4

LAYERS = {
    "RNN_tanh": lambda: nn.RNN(I, H, num_layers=2, bidirectional=True),
    "RNN_relu": lambda: nn.RNN(I, H, nonlinearity="relu", batch_first=True),
    "LSTM": lambda: nn.LSTM(I, H, num_layers=2, bidirectional=True),
    "GRU": lambda: nn.GRU(I, H, num_layers=2, bidirectional=True, batch_first=True),
    "GRU_nobias": lambda: nn.GRU(I, H, bias=False),
    "RNNCell": lambda: nn.RNNCell(I, H),
    "LSTMCell": lambda: nn.LSTMCell(I, H),
    "GRUCell": lambda: nn.GRUCell(I, H),
    "Linear": lambda: nn.Linear(I, H),
}


def entries(prefix):
    return {k[len(prefix) :]: REF[k] for k in REF.files if k.startswith(prefix)}


def close(a, b):
    return np.allclose(a, b, rtol=1e-12, atol=1e-14)


def run_recorded(name, module):
    x = mg.tensor(REF[f"{name}/input"], requires_grad=True)
    states = [
        mg.tensor(REF[f"{name}/state_in{i}"])
        for i in range(2)
        if f"{name}/state_in{i}" in REF.files
    ]
    state = tuple(states) if len(states) == 2 else (states[0] if states else None)
    result = module(x, state) if state is not None else module(x)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], tuple):
        outputs = [result[0], *result[1]]  # LSTM: out, (h_n, c_n)
    elif isinstance(result, tuple):
        outputs = list(result)
    else:
        outputs = [result]
    return x, outputs


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_pytorch_state_dict_loads_unchanged_and_gives_the_same_outputs_and_gradients(name):
    module = LAYERS[name]()
    state = entries(f"{name}/state/")
    assert list(module.state_dict()) == list(state)  # same names, same order
    assert module.load_state_dict(state) == ([], [])
    x, outputs = run_recorded(name, module)
    loss = 0
    for i, out in enumerate(outputs):
        assert close(out.data, REF[f"{name}/output{i}"])
        loss = loss + (out * mg.tensor(REF[f"{name}/weight{i}"])).sum()
    loss.backward()
    assert close(x.grad.data, REF[f"{name}/grad/input"])
    for key, p in module.named_parameters():
        assert close(p.grad.data, REF[f"{name}/grad/{key}"]), key


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_minigrad_state_dict_has_pytorchs_keys_shapes_and_dtypes(name):
    ours = LAYERS[name]().state_dict()
    theirs = entries(f"{name}/state/")
    assert [(k, v.shape, v.dtype) for k, v in ours.items()] == [
        (k, v.shape, v.dtype) for k, v in theirs.items()
    ]


def test_embedding_matches_pytorch():
    emb = nn.Embedding(7, H)
    emb.load_state_dict(entries("Embedding/state/"))
    out = emb(REF["Embedding/indices"])
    assert close(out.data, REF["Embedding/output0"])
    (out * mg.tensor(REF["Embedding/weight0"])).sum().backward()
    assert close(emb.weight.grad.data, REF["Embedding/grad/weight"])


@pytest.mark.parametrize("case", list(CLIP_CASES))
def test_clip_grad_norm_matches_pytorch_including_inf_and_nan(case):
    grads, max_norm, norm_type = CLIP_CASES[case]
    params = [nn.Parameter(np.zeros(len(g))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = mg.tensor(g)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(total.data, REF[f"clip/{case}/total"], rtol=1e-14)
    for i, p in enumerate(params):
        np.testing.assert_allclose(p.grad.data, REF[f"clip/{case}/grad{i}"], rtol=1e-14)


def test_clip_grad_value_matches_pytorch():
    p = nn.Parameter(np.zeros(3))
    p.grad = mg.tensor([-2.0, 0.5, 3.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert np.array_equal(p.grad.data, REF["clip_value/grad0"])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimiser_trajectories_match_pytorch_for_20_steps(name):
    """Within 1e-15 of the parameters' scale (a few ulps) at every step. PyTorch fuses some
    multiply-adds (``addcmul_``, ``lerp_``, ``add_`` with alpha) into one rounding, where numpy
    rounds twice; so a coordinate passing near zero differs by those ulps, not by 1e-15 of
    itself. Adagrad's trajectories here agree to the bit."""
    cls, kwargs = OPTIMIZERS[name]
    p = nn.Parameter(REF["optim/start"].copy())
    opt = getattr(optim, cls)([p], **kwargs)
    assert len(REF["optim/grads"]) == 20
    for step, g in enumerate(REF["optim/grads"]):
        p.grad = mg.tensor(g)
        opt.step()
        assert_close(p.data, REF[f"optim/{name}"][step], 1e-15, f"{name}, step {step}")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_an_optimisers_state_has_pytorchs_keys(name):
    cls, kwargs = OPTIMIZERS[name]
    p = nn.Parameter(REF["optim/start"].copy())
    opt = getattr(optim, cls)([p], **kwargs)
    p.grad = mg.tensor(REF["optim/grads"][0])
    opt.step()
    state = opt.state_dict()
    assert sorted(state["state"].get(0, {})) == REF[f"optim_keys/{name}/state"].tolist()
    # PyTorch's groups also hold its own switches: foreach, capturable, differentiable, fused
    assert set(state["param_groups"][0]) <= set(REF[f"optim_keys/{name}/group"].tolist())


# ---- containers ---------------------------------------------------------------------------------


def test_a_pytorch_model_of_containers_loads_and_gives_the_same_outputs_and_gradients():
    module = container_net(mg, mg.ones, mg.zeros)
    state = entries("containers/state/")
    assert list(module.state_dict()) == list(state)
    assert module.load_state_dict(state) == ([], [])
    x = mg.tensor(REF["containers/input"], requires_grad=True)
    out = module(x)
    assert close(out.data, REF["containers/output0"])
    (out * mg.tensor(REF["containers/weight0"])).sum().backward()
    assert close(x.grad.data, REF["containers/grad/input"])
    for key, p in module.named_parameters():
        assert close(p.grad.data, REF[f"containers/grad/{key}"]), key


def test_apply_visits_the_modules_in_pytorchs_order():
    visited = []
    container_net(mg, mg.ones, mg.zeros).apply(lambda m: visited.append(type(m).__name__))
    assert visited == REF["containers/apply_order"].tolist()


# ---- schedules ----------------------------------------------------------------------------------


def scheduled_rates(name):
    make, metrics = SCHEDULES[name]
    opt = optim.SGD(
        [{"params": [nn.Parameter([0.0])]}, {"params": [nn.Parameter([0.0])], "lr": 0.5}], lr=0.1
    )
    scheduler = make(optim.lr_scheduler, opt)
    rates = [[g["lr"] for g in opt.param_groups]]
    for step in range(SCHEDULE_STEPS):
        opt.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[step])
        rates.append([g["lr"] for g in opt.param_groups])
    return np.array(rates), scheduler


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_rate_of_a_schedule_is_pytorchs_to_the_bit(name):
    rates, _ = scheduled_rates(name)
    assert np.array_equal(rates, REF[f"schedule/{name}"])


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_schedules_state_has_pytorchs_keys(name):
    _, scheduler = scheduled_rates(name)
    ours, theirs = set(scheduler.state_dict()), set(REF[f"schedule_keys/{name}"].tolist())
    # PyTorch also saves _get_lr_called_within_step, the switch of a warning minigrad does not give
    assert ours <= theirs and theirs - ours <= {"_get_lr_called_within_step"}


# ---- losses and layer_norm ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [*LOSSES, "bce_extremes"])
def test_the_losses_give_pytorchs_values_and_gradients(name):
    function, kwargs, _ = LOSSES.get(
        name, ("binary_cross_entropy_with_logits", {"reduction": "none"}, None)
    )
    kwargs = {k: mg.tensor(REF[f"loss/{name}/{v}"]) if k in ("weight", "pos_weight") else v
              for k, v in kwargs.items()}  # fmt: skip
    x = mg.tensor(REF[f"loss/{name}/input"], requires_grad=True)
    target = REF[f"loss/{name}/target"]
    out = getattr(F, function)(x, target, **kwargs)
    expected = REF[f"loss/{name}/output"]
    assert out.shape == expected.shape and np.allclose(out.data, expected, rtol=1e-14, atol=0)
    out.backward(mg.tensor(REF[f"loss/{name}/cotangent"]))
    assert_close(x.grad.data, REF[f"loss/{name}/grad"], 1e-15, f"{name} gradient")


@pytest.mark.parametrize("name", list(LAYER_NORMS))
def test_layer_norm_gives_pytorchs_values_and_gradients(name):
    shape, normalized, eps = LAYER_NORMS[name]
    args = {
        k: mg.tensor(REF[f"layer_norm/{name}/{k}"], requires_grad=True)
        for k in ("input", "weight", "bias")
    }
    out = F.layer_norm(args["input"], normalized, args["weight"], args["bias"], eps)
    assert_close(out.data, REF[f"layer_norm/{name}/output"], 1e-14, f"{name} output")
    out.backward(mg.tensor(REF[f"layer_norm/{name}/cotangent"]))
    for key, t in args.items():
        assert_close(t.grad.data, REF[f"layer_norm/{name}/grad/{key}"], 1e-14, f"{name} d/d{key}")


# ---- ops ----------------------------------------------------------------------------------------


def recorded_case(name):
    """The inputs PyTorch was given for op case ``name``, the weights of its outputs (None for
    a case without gradients), and what it gave (outputs, weights and gradients)."""
    recorded = entries(f"ops/{name}/")
    inputs = [recorded.pop(f"input{k}") for k in range(len(OP_CASES[name][0]))]
    weights = [recorded[f"weight{k}"] for k in range(len(recorded)) if f"weight{k}" in recorded]
    return inputs, weights or None, recorded


def test_every_op_case_has_numbers_recorded_by_pytorch():
    recorded = {key.split("/")[1] for key in REF.files if key.startswith("ops/")}
    assert sorted(recorded) == sorted(OP_CASES)


@pytest.mark.parametrize("name", list(OP_CASES))
def test_an_op_case_gives_the_values_and_gradients_pytorch_recorded(name):
    inputs, weights, theirs = recorded_case(name)
    ours = outcome(name, mg, F, inputs, weights)
    assert_same(ours, theirs, OP_CASES[name][2])


@pytest.mark.parametrize(("name", "ndigits"), [("round", None), ("round_decimals", 2)])
def test_pythons_round_of_a_tensor_gives_pytorchs_round(name, ndigits):
    (x,), _, theirs = recorded_case(name)
    ours = round(mg.tensor(x), ndigits)
    assert ours.dtype == theirs["output0"].dtype
    np.testing.assert_array_equal(ours.numpy(), theirs["output0"])
