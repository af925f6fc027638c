"""The vanishing-gradient experiment: ‖∂h_T/∂h_k‖₂ against the distance T − k.

For each model and each rate r = γλ₁ (λ₁ in units of 1/γ), W_hh gets
singular values λ₁ = r/γ (every gate's block, for LSTM and GRU), the same
N(0, 1) inputs run through it, and the engine measures every ∂h_T/∂h_k. For
the σ- and tanh-RNN the table puts the bound (γλ₁)^(T−k) = r^(T−k) beside each
measured column; the gated models have no such bound (their gates multiply
in a second path), so they show the measurement only. The LSTM starts with
a forget-gate bias of 1.
"""

import numpy as np

from . import nn, theory
from .creation import randn
from .files import save_figure
from .random import manual_seed

MODELS = ("sigmoid", "tanh", "lstm", "gru")
TITLES = {
    "sigmoid": "σ-RNN (γ = 1/4)",
    "tanh": "tanh-RNN (γ = 1)",
    "lstm": "LSTM (forget bias 1)",
    "gru": "GRU",
}


def lambda1(kind, rate):
    """λ₁ for the rate γλ₁ = ``rate``: rate/γ for the σ- and tanh-RNN, the rate itself for the
    gated models. It must be finite: the largest rate for the σ-RNN (γ = 1/4) is about
    4.5e307."""
    return rate / theory.gamma(kind) if kind in ("sigmoid", "tanh") else rate


def build(kind, hidden, rate, seed):
    """One model with W_hh's singular values set to λ₁ (``lambda1``)."""
    manual_seed(seed)
    if kind in ("sigmoid", "tanh"):
        model = nn.RNN(hidden, hidden, nonlinearity=kind)
    elif kind == "lstm":
        model = nn.init.forget_gate_bias_(nn.LSTM(hidden, hidden), 1.0)
    else:
        model = nn.GRU(hidden, hidden)
    return theory.set_recurrent_weights_(model, lambda1(kind, rate))


def measure(models, rates, steps, hidden, seed):
    """{model: {rate: ‖∂h_T/∂h_k‖₂ indexed by distance T − k = 0..steps}}."""
    manual_seed(seed)
    xs = randn(steps, hidden)
    return {
        kind: {
            rate: theory.jacobian_norms(build(kind, hidden, rate, seed + 1), xs)[::-1]
            for rate in rates
        }
        for kind in models
    }


def distances(steps):
    """The rows of the table: every step up to 5, then every ``steps // 10``."""
    stride = max(1, steps // 10)
    return sorted({*range(min(steps, 5) + 1), *range(0, steps + 1, stride), steps})


def bound(rate, d):
    """(γλ₁)^d, as float64: inf once it overflows, which at large d it does."""
    with np.errstate(over="ignore"):
        return np.power(float(rate), d, dtype=np.float64)


def table(results, steps):
    """The measured norms (and the bound, for σ and tanh) as text, one block per model."""
    lines = []
    for kind, by_rate in results.items():
        bounded = kind in ("sigmoid", "tanh")
        heading = "measured  bound" if bounded else "measured"
        lines.append(
            f"{TITLES[kind]}: ‖∂h_T/∂h_k‖₂ against d = T − k"
            + (", bound (γλ₁)^d" if bounded else "")
        )
        lines.append("     d " + "".join(f"{'γλ₁ = ' + format(r, 'g'):>20}" for r in by_rate))
        lines.append("       " + "".join(f"{heading:>20}" for _ in by_rate))
        for d in distances(steps):
            cells = []
            for rate, norms in by_rate.items():
                cell = f"{norms[d]:.2e}"
                if bounded:
                    cell += f" {bound(rate, d):.2e}"
                cells.append(f"{cell:>20}")
            lines.append(f"{d:>6} " + "".join(cells))
        lines.append("")
    return "\n".join(lines)


def plot(results, steps, path):
    """The classic curve: log ‖∂h_T/∂h_k‖ against distance, bounds dashed. Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(results), figsize=(4 * len(results), 3.6), sharey=True, squeeze=False
    )
    d = np.arange(steps + 1)
    for ax, (kind, by_rate) in zip(axes[0], results.items()):
        for i, (rate, norms) in enumerate(by_rate.items()):
            color = f"C{i}"
            ax.semilogy(d, np.maximum(norms, 1e-300), color=color, label=f"γλ₁ = {rate:g}")
            if kind in ("sigmoid", "tanh"):
                ax.semilogy(
                    d,
                    np.maximum(bound(rate, d), 1e-300),
                    color=color,
                    linestyle="--",
                    linewidth=0.8,
                )
        ax.set_title(TITLES[kind])
        ax.set_xlabel("distance T − k")
        ax.set_ylim(1e-40, 1e40)
        ax.grid(True, which="major", alpha=0.3)
    axes[0][0].set_ylabel("‖∂h_T/∂h_k‖₂  (dashed: bound)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)
