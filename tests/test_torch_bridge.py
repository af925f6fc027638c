"""Both directions of the PyTorch bridge, live: layers and models of containers, optimiser and
schedule states loaded each way, the losses, layer_norm, format and numpy's reductions. This runs
only where PyTorch happens to be installed (it is never a dependency);
tests/test_torch_reference.py checks the same facts from recorded numbers everywhere else."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.testing import assert_close
from tests.test_micrograd import more_ops

torch = pytest.importorskip("torch")

PAIRS = [
    (
        lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True),
        lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
    ),
    (lambda: nn.GRU(3, 4, batch_first=True), lambda: torch.nn.GRU(3, 4, batch_first=True)),
    (lambda: nn.RNN(3, 4, nonlinearity="relu"), lambda: torch.nn.RNN(3, 4, nonlinearity="relu")),
]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_a_minigrad_state_dict_loads_into_pytorch_and_gives_the_same_outputs(ours, theirs):
    mg.manual_seed(0)
    a = ours()
    b = theirs().double()
    b.load_state_dict({k: torch.from_numpy(v) for k, v in a.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    out_a = a(mg.tensor(x))[0].data
    out_b = b(torch.from_numpy(x))[0].detach().numpy()
    assert np.allclose(out_a, out_b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_a_pytorch_state_dict_loads_into_minigrad_and_gives_the_same_outputs(ours, theirs):
    b = theirs().double()
    a = ours()
    a.load_state_dict({k: v.detach().numpy() for k, v in b.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    assert np.allclose(
        a(mg.tensor(x))[0].data, b(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-12, atol=1e-14
    )


def test_the_bench_checks_pytorchs_gradients_against_the_hand_derived_ones(monkeypatch):
    from benchmarks import bench

    assert bench.check_gradients("tiny", torch)
    real = bench.TorchStep.gradients
    monkeypatch.setattr(
        bench.TorchStep,
        "gradients",
        lambda self: {**real(self), "head.bias": real(self)["head.bias"] * 1.01},
    )
    with pytest.raises(AssertionError, match="tiny, PyTorch: gradient of head.bias differs"):
        bench.check_gradients("tiny", torch)


def _more_ops(make):
    """micrograd's test_more_ops program, its augmented assignments in place on either side."""
    a, b, g = more_ops(make)
    return [float(g.detach().item()), float(a.grad.item()), float(b.grad.item())]


def test_micrograds_in_place_program_gives_pytorchs_values_and_gradients():
    ours = _more_ops(lambda v: mg.tensor(v, requires_grad=True))
    theirs = _more_ops(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    assert np.allclose(ours, theirs, rtol=1e-15, atol=0)


def _set_part(h, w):
    h[1:] = w[:2]
    return h


IN_PLACE = {
    "mul_ by a tensor that requires grad": lambda h, w: h.mul_(w),
    "clamp_": lambda h, w: h.clamp_(-1.0, 1.0).mul_(w),
    "div_": lambda h, w: h.div_(w),
    "setitem of a value that requires grad": _set_part,
    "copy_": lambda h, w: h.copy_(w * 3),
}


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_ops_in_the_graph_give_pytorchs_gradients(name):
    def run(make):
        x, w = make([0.5, -1.5, 2.0]), make([3.0, 0.25, -2.0])
        h = x * 1.5
        out = IN_PLACE[name](h, w)
        (out * out).sum().backward()
        return np.concatenate([np.asarray(x.grad.tolist()), np.asarray(w.grad.tolist())])

    ours = run(lambda v: mg.tensor(v, requires_grad=True))
    theirs = run(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    assert np.allclose(ours, theirs, rtol=1e-15, atol=0)


# ---- containers ---------------------------------------------------------------------------------


def _container_pair():
    from tests.fixtures.cases import container_net

    mg.manual_seed(3)
    ours = container_net(mg, mg.ones, mg.zeros)
    for p in ours.gains:
        nn.init.normal_(p)
    return ours, container_net(torch, torch.ones, torch.zeros).double()


def test_a_model_of_containers_loads_both_ways_and_gives_the_same_outputs():
    ours, theirs = _container_pair()
    x = np.random.default_rng(2).standard_normal((4, 3))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    assert np.allclose(ours(mg.tensor(x)).data, expected, rtol=1e-13, atol=1e-15)
    for p in theirs.parameters():
        torch.nn.init.normal_(p)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    assert np.allclose(ours(mg.tensor(x)).data, expected, rtol=1e-13, atol=1e-15)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_apply_visits_the_modules_in_the_order_pytorch_does():
    ours, theirs = _container_pair()
    seen = {id(ours): [], id(theirs): []}
    for model in (ours, theirs):
        model.apply(lambda m, model=model: seen[id(model)].append(type(m).__name__))
    assert seen[id(ours)] == seen[id(theirs)]


# ---- optimisers and schedules -------------------------------------------------------------------


def _optimizer_cases():
    from tests.fixtures.cases import OPTIMIZERS

    return list(OPTIMIZERS.items())


def _steps(param, opt, grads, tensor):
    for g in grads:
        param.grad = tensor(g)
        opt.step()


@pytest.mark.parametrize(
    ("name", "case"), _optimizer_cases(), ids=[n for n, _ in _optimizer_cases()]
)
def test_an_optimiser_state_loads_both_ways_and_training_continues_as_in_pytorch(name, case):
    cls, kwargs = case
    rng = np.random.default_rng(9)
    start, grads = rng.standard_normal(6), rng.standard_normal((20, 6))
    p, q = nn.Parameter(start.copy()), torch.tensor(start, requires_grad=True)
    ours, theirs = getattr(mg.optim, cls)([p], **kwargs), getattr(torch.optim, cls)([q], **kwargs)
    _steps(p, ours, grads[:10], mg.tensor)
    _steps(q, theirs, grads[:10], torch.from_numpy)
    assert_close(p.data, q.detach().numpy(), 1e-15, f"{name} after 10 steps")
    # swap: minigrad's state into PyTorch, PyTorch's into minigrad, and go on for 10 more steps
    to_torch = ours.state_dict()
    to_torch["state"] = {
        i: {k: torch.tensor(v) for k, v in s.items()} for i, s in to_torch["state"].items()
    }
    from_torch = theirs.state_dict()
    from_torch["state"] = {
        i: {k: v.numpy() for k, v in s.items()} for i, s in from_torch["state"].items()
    }
    p2, q2 = (
        nn.Parameter(q.detach().numpy().copy()),
        torch.tensor(p.data.copy(), requires_grad=True),
    )
    ours2, theirs2 = (
        getattr(mg.optim, cls)([p2], **kwargs),
        getattr(torch.optim, cls)([q2], **kwargs),
    )
    ours2.load_state_dict(from_torch)
    theirs2.load_state_dict(to_torch)
    _steps(p2, ours2, grads[10:], mg.tensor)
    _steps(q2, theirs2, grads[10:], torch.from_numpy)
    assert_close(p2.data, q2.detach().numpy(), 1e-15, f"{name} after the swap")


def _schedule_cases():
    from tests.fixtures.cases import SCHEDULES

    return list(SCHEDULES.items())


def _run_schedule(lib, make, metrics, steps, state=None):
    params = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    opt = lib.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1)
    scheduler = make(lib.optim.lr_scheduler, opt)
    if state is not None:
        rates, saved = state
        scheduler.load_state_dict(saved)
        for group, rate in zip(opt.param_groups, rates):
            group["lr"] = rate
    rates = []
    for step in steps:
        opt.step()
        scheduler.step() if metrics is None else scheduler.step(metrics[step])
        rates.append([g["lr"] for g in opt.param_groups])
    return rates, ([g["lr"] for g in opt.param_groups], scheduler.state_dict())


@pytest.mark.parametrize(("name", "case"), _schedule_cases(), ids=[n for n, _ in _schedule_cases()])
def test_a_schedule_state_loads_both_ways_and_the_rates_go_on_as_pytorchs(name, case):
    make, metrics = case
    first, second = range(12), range(12, 25)
    ours, our_state = _run_schedule(mg, make, metrics, first)
    theirs, their_state = _run_schedule(torch, make, metrics, first)
    assert ours == theirs
    ours_after, _ = _run_schedule(mg, make, metrics, second, their_state)
    theirs_after, _ = _run_schedule(torch, make, metrics, second, our_state)
    assert ours_after == theirs_after


# ---- losses and layer_norm ----------------------------------------------------------------------


LOSS_CALLS = {
    "nll_loss": lambda F, x, t: F.nll_loss(F.log_softmax(x, -1), t, reduction="sum", ignore_index=1),
    "cross_entropy": lambda F, x, t: F.cross_entropy(x, t, label_smoothing=0.15),
    "cross_entropy_none": lambda F, x, t: F.cross_entropy(x, t, reduction="none", ignore_index=3),
    "bce": lambda F, x, t: F.binary_cross_entropy_with_logits(x, t.double() / 3, reduction="none"),
    "layer_norm": lambda F, x, t: F.layer_norm(x, (4,), eps=0.01),
}  # fmt: skip


@pytest.mark.parametrize("name", list(LOSS_CALLS))
def test_the_losses_and_layer_norm_give_pytorchs_values_and_gradients(name):
    import minigrad.nn.functional as F

    rng = np.random.default_rng(11)
    x, t = rng.standard_normal((7, 4)) * 3, rng.integers(0, 4, 7)
    t[::3] = -100
    if name in ("nll_loss", "cross_entropy_none"):
        t[::3] = 1 if name == "nll_loss" else 3
    if name in ("bce", "layer_norm"):
        t = rng.integers(0, 4, (7, 4))
    a, b = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = (
        LOSS_CALLS[name](F, a, mg.tensor(t)),
        LOSS_CALLS[name](torch.nn.functional, b, torch.from_numpy(t)),
    )
    assert_close(ours.data, theirs.detach().numpy(), 1e-14, f"{name} value")
    cotangent = rng.standard_normal(ours.shape)
    ours.backward(mg.tensor(cotangent))
    theirs.backward(torch.from_numpy(cotangent))
    assert_close(a.grad.data, b.grad.numpy(), 1e-14, f"{name} gradient")


# ---- numpy, format and argument types -----------------------------------------------------------


def test_numpys_reductions_of_a_tensor_are_a_type_error_in_both():
    for function in (np.sum, np.mean, np.max, np.std, np.any):
        for t in (torch.tensor([1.0, 2.0]), mg.tensor([1.0, 2.0])):
            with pytest.raises(TypeError):
                function(t)


@pytest.mark.parametrize("spec", ["", ".2f", "+.3e", "10.4g", ".1%"])
@pytest.mark.parametrize("value", [1.23456789, -0.5, 2.0**60, float("inf")])
def test_a_0_d_tensor_formats_as_in_pytorch(value, spec):
    assert format(mg.tensor(value), spec) == format(torch.tensor(value, dtype=torch.float64), spec)


def test_a_format_spec_for_a_tensor_of_several_numbers_is_a_type_error_in_both():
    for t in (torch.tensor([1.5]), mg.tensor([1.5])):
        with pytest.raises(TypeError):
            format(t, ".2f")


def test_requires_grad_must_be_a_bool_in_both():
    for make in (torch.tensor, mg.tensor):
        with pytest.raises(TypeError):
            make([1.0], requires_grad="no")
