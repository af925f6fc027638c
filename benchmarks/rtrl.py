"""``make rtrl-cost``: what the σ-RNN gradient costs forward in time (RTRL) and backward (BPTT).

Every method computes the same ∂J/∂θ of the σ-RNN language model of
spec/bptt_reference.py (each is checked here first, to 1e-10 relative).

In plain numpy: RTRL (``minigrad.theory.rtrl_gradients``) carries P_t = ∂h_t/∂θ,
H·P numbers per sequence, and spends O(H·H·P) per step on W_hh P_{t−1}; BPTT
(``spec.bptt_reference``) keeps the T hidden states and spends O(H²) per step on the
recurrence. With P ≈ H², RTRL's memory is O(H³) and flat in T, its time O(T·H⁴);
BPTT's memory is O(T·H), its time O(T·H²).

On the engine: forward mode (``rtrl_gradients(method="forward-mode")``) is RTRL
with P_t's columns one at a time: one pass per parameter entry, each carrying one
tangent per value, O(T·H²) per entry; it is measured at the ``--forward-hidden``
sizes (seconds per figure). BPTT (reverse mode over ``theory.language_model_loss``)
keeps every step's values, O(T·H); BPTT with √T checkpoints (``segment=√T,
checkpointed=True``) keeps √T states and one segment's values, O(√T·H), for one
more forward pass. Those two are measured by T at a batch and width where the
values, not the graph's bookkeeping, are what memory holds (``--checkpoint-hidden``,
``--checkpoint-batch``, ``--checkpoint-lengths``).

One thread. Times are the median of ``--repeats`` runs (one run for forward mode);
memory is the peak that ``tracemalloc`` sees during one run (numpy reports its
arrays to it), in a run of its own. The script prints markdown tables and asserts
nothing about speed.
"""

import argparse
import math
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import minigrad as mg  # noqa: E402
from minigrad import theory  # noqa: E402
from spec.bptt_reference import NAMES, init_params, loss_and_gradients  # noqa: E402

VOCAB, EMBED = 16, 8


def problem(hidden, steps, batch=1, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(VOCAB, EMBED, hidden, rng)
    shape = (steps, batch)
    return params, rng.integers(0, VOCAB, shape), rng.integers(0, VOCAB, shape)


def engine_bptt(params, inputs, targets, checkpointed=False):
    """J and ∂J/∂θ by the engine's reverse mode, in √T-step segments (checkpointed or not)."""
    theta = {name: mg.tensor(value, requires_grad=True) for name, value in params.items()}
    segment = math.isqrt(len(inputs))
    loss = theory.language_model_loss(theta, inputs, targets, "sigmoid", segment, checkpointed)
    loss.backward()
    return loss.item(), {name: t.grad.data for name, t in theta.items()}


METHODS = {
    "rtrl": lambda p, x, y: theory.rtrl_gradients(p, x, y),
    "bptt": loss_and_gradients,
    "engine": engine_bptt,
    "checkpointed": lambda p, x, y: engine_bptt(p, x, y, checkpointed=True),
    "forward": lambda p, x, y: theory.rtrl_gradients(p, x, y, method="forward-mode"),
}


def check_they_agree(params, inputs, targets, methods):
    _, bptt = loss_and_gradients(params, inputs, targets)
    for method in methods:
        _, grads = METHODS[method](params, inputs, targets)
        for name in NAMES:
            error = np.max(np.abs(grads[name] - bptt[name]), initial=0.0)
            if error > 1e-10 * np.max(np.abs(bptt[name]), initial=0.0):
                raise SystemExit(f"{method} and BPTT disagree on {name}: max error {error:.3e}")


def seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(methods, hidden, steps, repeats, batch=1):
    """One row: the sizes, and each method's time and peak memory."""
    params, inputs, targets = problem(hidden, steps, batch)
    check_they_agree(params, inputs, targets, methods)
    count = sum(params[name].size for name in theory.RECURRENT_PARAMETERS)
    row = {"H": hidden, "T": steps, "B": batch, "P": count, "carried": hidden * count}
    row["kept"] = (steps + 1) * hidden  # BPTT's hidden states h_0..h_T
    row["passes"] = sum(value.size for value in params.values())  # forward mode's
    for method in methods:

        def run(method=method):
            return METHODS[method](params, inputs, targets)

        row[f"{method} time"] = seconds(run, 1 if method == "forward" else repeats)
        row[f"{method} memory"] = peak_bytes(run)
    return row


def kib(n):
    return f"{n / 1024:,.0f} KiB"


def ms(s):
    return f"{s * 1e3:,.1f} ms"


def markdown(rows):
    lines = [
        "| H | T | P | RTRL carries (floats, H·P) | BPTT keeps (floats, (T+1)·H) "
        "| RTRL time | BPTT time | time ratio | RTRL peak memory | BPTT peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['H']} | {r['T']} | {r['P']:,} | {r['carried']:,} | {r['kept']:,} "
            f"| {ms(r['rtrl time'])} | {ms(r['bptt time'])} "
            f"| {r['rtrl time'] / r['bptt time']:,.0f}× "
            f"| {kib(r['rtrl memory'])} | {kib(r['bptt memory'])} |"
        )
    return "\n".join(lines)


def forward_markdown(rows):
    lines = [
        "| H | T | passes (entries of θ) | forward mode time | forward mode peak memory "
        "| RTRL time | RTRL peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['H']} | {r['T']} | {r['passes']:,} | {ms(r['forward time'])} "
            f"| {kib(r['forward memory'])} | {ms(r['rtrl time'])} | {kib(r['rtrl memory'])} |"
        )
    return "\n".join(lines)


def checkpoint_markdown(rows):
    lines = [
        "| H | B | T | segments | BPTT time | √T checkpoints time | time ratio "
        "| BPTT peak memory | √T checkpoints peak memory | memory ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['H']} | {r['B']} | {r['T']} | {math.ceil(r['T'] / math.isqrt(r['T']))} "
            f"| {ms(r['engine time'])} | {ms(r['checkpointed time'])} "
            f"| {r['checkpointed time'] / r['engine time']:.2f}× "
            f"| {kib(r['engine memory'])} | {kib(r['checkpointed memory'])} "
            f"| {r['checkpointed memory'] / r['engine memory']:.2f}× |"
        )
    return "\n".join(lines)


def _ints(text):
    return [int(v) for v in text.split(",") if v]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="8,16,32,64", help="hidden sizes H (8,16,32,64)")
    parser.add_argument("--lengths", default="25,50,100", help="sequence lengths T (25,50,100)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (3)")
    parser.add_argument("--forward-hidden", default="8", help="H for forward mode (8)")
    parser.add_argument("--checkpoint-hidden", type=int, default=256, help="H for BPTT (256)")
    parser.add_argument("--checkpoint-batch", type=int, default=32, help="B for BPTT (32)")
    parser.add_argument(
        "--checkpoint-lengths", default="64,256,1024", help="T for BPTT (64,256,1024)"
    )
    args = parser.parse_args(argv)
    lengths = _ints(args.lengths)
    rows = [
        measure(["rtrl", "bptt"], h, t, args.repeats) for h in _ints(args.hidden) for t in lengths
    ]
    forward = [
        measure(["rtrl", "forward"], h, t, args.repeats)
        for h in _ints(args.forward_hidden)
        for t in lengths
    ]
    checkpointed = [
        measure(
            ["engine", "checkpointed"],
            args.checkpoint_hidden,
            t,
            args.repeats,
            args.checkpoint_batch,
        )  # fmt: skip
        for t in _ints(args.checkpoint_lengths)
    ]
    print(
        f"σ-RNN language model, V = {VOCAB}, E = {EMBED}; every method's gradients agree "
        "with the hand-derived BPTT to 1e-10 relative at every size.\n"
    )
    print("RTRL and BPTT in plain numpy, one sequence:\n")
    print(markdown(rows))
    print("\nThe engine's forward mode (one pass per entry of θ), one sequence:\n")
    print(forward_markdown(forward))
    print("\nBPTT on the engine, with and without √T checkpoints:\n")
    print(checkpoint_markdown(checkpointed))
    return rows, forward, checkpointed


if __name__ == "__main__":
    main()
