"""The gradient-flow probe: how far back a training loss's gradient reaches, in your own run.

``train --probe EVERY`` and ``task adding --probe EVERY`` call ``measure``
every EVERY steps, before the step's update, with the weights and the batch
that step trains on. It runs the recurrent layer's cell over the batch
(``theory.unroll``), registers a hook (``Tensor.register_hook``) on every
hidden state h_0, ..., h_T, and makes one reverse pass from the step's loss L
to h_0 (``minigrad.grad``, so no parameter's ``.grad`` changes). The hook on
h_{T−k} sees ∂L/∂h_{T−k}, the whole of it (every path summed), and keeps its
norm (over the batch and the units, ‖·‖ of an (N, H) array). Beside it go the
weights' side of the chain-rule product (``docs/theory.md``):

* λ₁, the largest singular value of W_hh, and ρ, its spectral radius. For an
  LSTM or a GRU, W_hh stacks one H × H block per gate (i, f, g, o; r, z, n):
  λ₁ and ρ are then the largest over those blocks, as ``theory.set_recurrent_weights_``
  and ``vanishing`` set every block alike;
* for a plain RNN, γ_seen: the largest act'(z) over the batch's
  pre-activations z, every unit and step (at most γ = ``theory.gamma``);
* for an LSTM, the mean forget gate f, for a GRU the mean update gate z, over
  the batch, the units and the steps: the share of the state carried over.

The probe draws no random numbers and changes no weight or ``.grad``, so a
run trains the same, bit for bit, with and without it. Each reading is a row
per distance k = 0..T in probe.csv (``COLUMNS``), the per-step values repeated
on each row; ``plot`` draws probe.png from those rows.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import nn, theory
from .autograd import grad
from .files import save_figure
from .grad_mode import no_grad
from .metrics import MetricsFile
from .ops import stack
from .terminal import warn

#: probe.csv: a row per (step, k); the last four are the step's, on each of its rows (nan where
#: they do not apply: γ_seen for the LSTM and GRU, the gate for the plain RNN)
COLUMNS = ("step", "k", "grad_norm", "lambda1", "spectral_radius", "gamma_seen", "gate_mean")


@dataclass
class Reading:
    """One probe: ``norms[k]`` = ‖∂L/∂h_{T−k}‖ for k = 0..T, and the step's scalars."""

    norms: np.ndarray
    lambda1: float
    spectral_radius: float
    gamma_seen: float = float("nan")
    gate_mean: float = float("nan")

    def rows(self, step):
        """probe.csv's rows for this reading, made at training step ``step``."""
        scalars = {name: getattr(self, name) for name in COLUMNS[3:]}
        return [
            {"step": step, "k": k, "grad_norm": float(norm), **scalars}
            for k, norm in enumerate(self.norms)
        ]


def measure(cell, xs, loss, h0=None):
    """A Reading of ``cell`` (an RNNCell, LSTMCell or GRUCell, or a one-layer module) over
    ``xs`` (T, N, H_in) from the state ``h0`` (zeros by default; an LSTM's may be (h, c)), for
    the loss ``loss([h_1, ..., h_T])``, a scalar Tensor."""
    states = theory.unroll(cell, xs, h0, retain_grad=False)
    norms = np.full(len(states), np.nan)
    for k, h in enumerate(reversed(states)):
        h.register_hook(_keep_norm(norms, k))
    grad(loss(states[1:]), states[0])
    if isinstance(cell, nn.rnn.RNNBase):
        cell = cell.cell(0)
    w_hh = cell.weight_hh.data
    blocks = np.split(w_hh, w_hh.shape[0] // cell.hidden_size)
    finite = np.isfinite(w_hh).all()  # a diverged run's weights have no spectrum
    reading = Reading(
        norms,
        max(map(theory.largest_singular_value, blocks)) if finite else float("nan"),
        max(map(theory.spectral_radius, blocks)) if finite else float("nan"),
    )
    with no_grad():
        z = theory.preactivation(cell, xs, stack(states[:-1])).data
    if isinstance(cell, nn.RNNCell):
        reading.gamma_seen = float(theory.activation_derivative(cell.nonlinearity, z).max())
    else:  # the LSTM's f and the GRU's z are both the second block
        size = cell.hidden_size
        reading.gate_mean = float(theory.activation("sigmoid", z[..., size : 2 * size]).mean())
    return reading


def _keep_norm(norms, k):
    def hook(g):
        norms[k] = np.linalg.norm(g.data)

    return hook


# ---- probe.png ----------------------------------------------------------------------------------


def read(folder):
    """The probe of the run in ``folder``: its probe.csv, checked line by line as a run checks it
    (``metrics.MetricsFile``; a warning goes to stderr), as ``table`` gives it."""
    return table(MetricsFile(Path(folder) / "probe.csv", warn, COLUMNS, keys=2).read())


def table(rows):
    """probe.csv's rows (dicts, as ``MetricsFile.read`` gives them) as arrays: (steps (S,),
    norms (S, T + 1) indexed [step, k], {scalar column: (S,)})."""
    steps = sorted({int(row["step"]) for row in rows})
    at = {step: i for i, step in enumerate(steps)}
    norms = np.full((len(steps), 1 + max(int(row["k"]) for row in rows)), np.nan)
    scalars = {name: np.full(len(steps), np.nan) for name in COLUMNS[3:]}
    for row in rows:
        i = at[int(row["step"])]
        norms[i, int(row["k"])] = row["grad_norm"]
        for name in scalars:
            scalars[name][i] = row[name]
    return np.array(steps), norms, scalars


def plot(rows, path, nonlinearity=None, last_step_loss=True):
    """probe.png: the heatmap of log10 ‖∂L/∂h_{T−k}‖ over (training step, k); beside it the
    weights over training (λ₁ against 1/γ and 1/γ_seen for a plain RNN of ``nonlinearity``, λ₁,
    ρ and the mean gate for the LSTM and GRU); and the latest reading's curve
    ‖∂L/∂h_{T−k}‖ / ‖∂L/∂h_T‖ against k, with, for a plain RNN and a loss at the last step
    (``last_step_loss``), the bound (γλ₁)^k from that step's weights. Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, norms, scalars = table(rows)
    fig, (heat, weights, curve) = plt.subplots(1, 3, figsize=(15, 4.2))
    _heatmap(fig, heat, steps, norms)
    _weights(weights, steps, scalars, nonlinearity)
    _curve(curve, steps, norms, scalars, nonlinearity if last_step_loss else None)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)


def _heatmap(fig, ax, steps, norms):
    with np.errstate(divide="ignore"):  # a gradient of exactly 0 is drawn as the lowest colour
        image = ax.imshow(np.log10(norms).T, origin="lower", aspect="auto", cmap="viridis",
                          extent=_extent(steps, norms.shape[1]))  # fmt: skip
    fig.colorbar(image, ax=ax, label="log10 ‖∂L/∂h_{T−k}‖")
    ax.set_xlabel("training step")
    ax.set_ylabel("k (steps back from the last)")
    ax.set_title("where the gradient reaches")


def _extent(steps, width):
    """imshow's extent: each probed step a column centred on it, each k a row."""
    half = (steps[1] - steps[0]) / 2 if len(steps) > 1 else 0.5
    return (steps[0] - half, steps[-1] + half, -0.5, width - 0.5)


def _weights(ax, steps, scalars, nonlinearity):
    ax.plot(steps, scalars["lambda1"], marker=".", label="λ₁(W_hh)")
    ax.plot(steps, scalars["spectral_radius"], marker=".", label="ρ(W_hh)")
    if nonlinearity is not None:
        ax.axhline(1 / theory.gamma(nonlinearity), color="C3", linestyle="--",
                   label=f"1/γ = {1 / theory.gamma(nonlinearity):g}")  # fmt: skip
        ax.plot(steps, 1 / scalars["gamma_seen"], color="C3", linewidth=0.8, label="1/γ_seen")
        ax.set_title("λ₁ against 1/γ")
    else:
        gates = ax.twinx()
        gates.plot(steps, scalars["gate_mean"], color="C2", marker=".", label="mean gate")
        gates.set_ylim(0, 1)
        gates.set_ylabel("mean forget (LSTM) / update (GRU) gate")
        gates.legend(loc="lower right", fontsize=8)
        ax.set_title("the recurrent weights and the gate")
    ax.set_xlabel("training step")
    ax.legend(loc="upper left", fontsize=8)


def _curve(ax, steps, norms, scalars, nonlinearity):
    k = np.arange(norms.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, style in ((0, ":"), (len(steps) - 1, "-")):
            ax.semilogy(k, norms[i] / norms[i, 0], color="C0", linestyle=style,
                        label=f"measured, step {steps[i]}")  # fmt: skip
        if nonlinearity is not None:
            rate = theory.gamma(nonlinearity) * scalars["lambda1"][-1]
            seen = scalars["gamma_seen"][-1] * scalars["lambda1"][-1]
            ax.semilogy(k, rate**k, color="C3", linestyle="--",
                        label=f"bound (γλ₁)^k, γλ₁ = {rate:.3g}")  # fmt: skip
            ax.semilogy(k, seen**k, color="C3", linewidth=0.8,
                        label=f"(γ_seen λ₁)^k = {seen:.3g}^k")  # fmt: skip
    ax.set_xlabel("k (steps back from the last)")
    ax.set_ylabel("‖∂L/∂h_{T−k}‖ / ‖∂L/∂h_T‖")
    ax.set_title("the latest reading" + (" and its bound" if nonlinearity else ""))
    ax.legend(fontsize=8)
