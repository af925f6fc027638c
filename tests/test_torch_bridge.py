"""Both directions of the PyTorch bridge, live. This runs only where PyTorch happens to be
installed (it is never a dependency); tests/test_torch_reference.py checks the same facts from
recorded numbers everywhere else."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

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
