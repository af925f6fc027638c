"""Both directions of the PyTorch bridge, live. This runs only where PyTorch happens to be
installed (it is never a dependency); tests/test_torch_reference.py checks the same facts from
recorded numbers everywhere else."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
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
