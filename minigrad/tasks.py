"""Long-range tasks that show vanishing gradients and their fixes.

**The adding problem** (Hochreiter and Schmidhuber, 1997, in its modern
form). Each of T steps carries a value u_t ~ U[0, 1] and a marker m_t ∈ {0, 1}.
Exactly two markers are set, one in each half of the sequence, and the target
is the sum of the two marked values, scored by mean squared error. The model
must carry a value across up to T steps. Always predicting 1, the mean of the
sum, scores Var(u₁ + u₂) = 2 · 1/12 = 1/6: that is the baseline to beat.
"""

import time
from dataclasses import dataclass

import numpy as np

from . import functional as F
from . import nn, optim, probe
from .compiler import CompiledFunction
from .grad_mode import no_grad
from .options import (
    Config,
    Kind,
    check,
    check_applies,
    non_default,
    option,
    settle,
    shared,
    values_of,
)
from .random import manual_seed
from .tensor import Tensor

BASELINE = 1.0 / 6.0
ADDING_MODELS = ("rnn", "lstm", "lnlstm", "gru")
MODEL_HELP = "recurrent core: rnn, lstm, lnlstm (layer-normalised LSTM) or gru"
AT_LEAST_TWO = Kind(int, lambda v: v >= 2, "an integer of at least 2 (a marked step in each half)")
#: the task's metrics.csv: the training batch's MSE and the held-out sequences' MSE
COLUMNS = ("step", "train_mse", "test_mse")


@dataclass(frozen=True)
class AddingConfig:
    """The options of ``task adding``: the sequence length, and the training options it shares
    with ``train``, as declared on ``Config`` (six with defaults or help of the task's own)."""

    length: int = option(50, "sequence length T", AT_LEAST_TWO)
    model: str = shared(Config, "model", default="lstm", choices=ADDING_MODELS, help=MODEL_HELP)
    nonlinearity: str = shared(Config, "nonlinearity")
    hidden: int = shared(Config, "hidden", default=64)
    batch: int = shared(Config, "batch", default=64, help="sequences per step")
    steps: int = shared(Config, "steps", default=1500, help="training steps")
    lr: float = shared(Config, "lr", default=1e-2, help="Adam learning rate")
    clip: float = shared(Config, "clip")
    seed: int = shared(Config, "seed")
    out: str = shared(Config, "out", help="run folder (runs/adding-MODEL-TIME)")
    log_every: int = shared(Config, "log_every", default=100,
                            help="steps between metrics rows (with a test pass)")  # fmt: skip
    probe: int = shared(Config, "probe", applies=None)

    def __post_init__(self):
        settle(self)
        check(AddingConfig, values_of(self))
        check_applies(AddingConfig, values_of(self), non_default(self))

    def to_dict(self):
        return values_of(self)


def adding_batch(length, batch, rng):
    """(inputs (T, N, 2), targets (N, 1)): values and markers, and the sum of the marked values."""
    if length < 2:
        raise ValueError(f"adding: the sequence needs at least 2 steps, got {length}")
    values = rng.random((length, batch))
    markers = np.zeros((length, batch))
    half = length // 2
    first = rng.integers(0, half, batch)
    second = rng.integers(half, length, batch)
    columns = np.arange(batch)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    targets = values[first, columns] + values[second, columns]
    return np.stack([values, markers], axis=-1), targets[:, None]


class Regressor(nn.Module):
    """A recurrent core read out at the last step by a linear layer."""

    def __init__(self, model, hidden, nonlinearity="tanh"):
        super().__init__()
        if model == "rnn":
            self.rnn = nn.RNN(2, hidden, nonlinearity=nonlinearity)
        elif model == "lstm":
            self.rnn = nn.init.forget_gate_bias_(nn.LSTM(2, hidden), 1.0)
        elif model == "lnlstm":
            self.rnn = nn.init.forget_gate_bias_(nn.LayerNormLSTM(2, hidden), 1.0)
        else:
            self.rnn = nn.GRU(2, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[-1])


def run_adding(config, report=None, compiled=True, probed=None):
    """Train on fresh batches as ``config`` (an AddingConfig) says; return the final test MSE
    (on 1000 held-out sequences) and the seconds it took. ``report(step, train_mse,
    test_mse)`` is called every ``config.log_every`` steps and at the last. With ``compiled``
    the step's forward is traced once and replayed (``minigrad.compile``), with the same
    results bit for bit. With ``config.probe``, ``probed(step, reading)`` gets the probe's
    Reading (``probe.measure``) of every ``config.probe``-th step, taken before its update,
    for the step's loss (the MSE at the last step)."""
    c = config
    manual_seed(c.seed)
    rng = np.random.default_rng(c.seed)
    test_x, test_y = adding_batch(c.length, 1000, np.random.default_rng(c.seed + 10_000))
    net = Regressor(c.model, c.hidden, c.nonlinearity)
    opt = optim.Adam(net.parameters(), lr=c.lr)
    params = list(net.parameters())
    started = time.perf_counter()

    @no_grad()
    def test_mse():
        return F.mse_loss(net(Tensor(test_x)), Tensor(test_y)).item()

    def loss_of(x, y):
        return F.mse_loss(net(x), y)

    def reading(x, y):
        """The probe's Reading of the step about to train on (x, y): the same loss, read from
        the last hidden state."""
        target = Tensor(y)
        return probe.measure(net.rnn, Tensor(x), lambda hs: F.mse_loss(net.head(hs[-1]), target))

    step_loss = CompiledFunction(loss_of) if compiled else loss_of
    # A diverging run overflows to inf and NaN; its MSE says so, so numpy need not warn.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, c.steps + 1):
            x, y = adding_batch(c.length, c.batch, rng)
            if probed is not None and c.probe is not None and step % c.probe == 0:
                probed(step, reading(x, y))
            loss = step_loss(Tensor(x), Tensor(y))
            opt.zero_grad()
            loss.backward()
            if c.clip > 0:
                nn.utils.clip_grad_norm_(params, c.clip)
            opt.step()
            if report is not None and (step % c.log_every == 0 or step == c.steps):
                report(step, loss.item(), test_mse())
        return test_mse(), time.perf_counter() - started
