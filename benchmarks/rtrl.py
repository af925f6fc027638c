"""``make rtrl-cost``: what the σ-RNN gradient costs forward in time (RTRL) and backward (BPTT).

Both compute the same ∂J/∂θ of the σ-RNN language model of spec/bptt_reference.py
(checked here first, to 1e-10 relative). RTRL (``minigrad.theory.rtrl_gradients``)
carries P_t = ∂h_t/∂θ, H·P numbers per sequence, and spends O(H·H·P) per step on
W_hh P_{t−1}; BPTT (``spec.bptt_reference``) keeps the T hidden states and spends
O(H²) per step on the recurrence. With P ≈ H², RTRL's memory is O(H³) and flat in T,
its time O(T·H⁴); BPTT's memory is O(T·H), its time O(T·H²).

One sequence (B = 1), one thread. Times are the median of ``--repeats`` runs;
memory is the peak that ``tracemalloc`` sees during one run (numpy reports its
arrays to it), in a run of its own. The script prints a markdown table and asserts
nothing about speed.
"""

import argparse
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

from minigrad import theory  # noqa: E402
from spec.bptt_reference import NAMES, init_params, loss_and_gradients  # noqa: E402

VOCAB, EMBED = 16, 8


def problem(hidden, steps, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(VOCAB, EMBED, hidden, rng)
    inputs, targets = rng.integers(0, VOCAB, (steps, 1)), rng.integers(0, VOCAB, (steps, 1))
    return params, inputs, targets


def check_they_agree(params, inputs, targets):
    _, rtrl = theory.rtrl_gradients(params, inputs, targets)
    _, bptt = loss_and_gradients(params, inputs, targets)
    for name in NAMES:
        error = np.max(np.abs(rtrl[name] - bptt[name]), initial=0.0)
        if error > 1e-10 * np.max(np.abs(bptt[name]), initial=0.0):
            raise SystemExit(f"RTRL and BPTT disagree on {name}: max error {error:.3e}")


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


def measure(hidden, steps, repeats):
    params, inputs, targets = problem(hidden, steps)
    check_they_agree(params, inputs, targets)
    runs = {
        "rtrl": lambda: theory.rtrl_gradients(params, inputs, targets),
        "bptt": lambda: loss_and_gradients(params, inputs, targets),
    }
    count = sum(params[name].size for name in theory.RECURRENT_PARAMETERS)
    row = {"H": hidden, "T": steps, "P": count, "carried": hidden * count}
    row["kept"] = (steps + 1) * hidden  # BPTT's hidden states h_0..h_T
    for name, run in runs.items():
        row[f"{name} time"] = seconds(run, repeats)
        row[f"{name} memory"] = peak_bytes(run)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="8,16,32,64", help="hidden sizes H (8,16,32,64)")
    parser.add_argument("--lengths", default="25,50,100", help="sequence lengths T (25,50,100)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (3)")
    args = parser.parse_args(argv)
    rows = [
        measure(h, t, args.repeats)
        for h in (int(v) for v in args.hidden.split(","))
        for t in (int(v) for v in args.lengths.split(","))
    ]
    print(
        f"σ-RNN language model, V = {VOCAB}, E = {EMBED}, one sequence; "
        "RTRL and BPTT gradients agree to 1e-10 relative at every size.\n"
    )
    print(markdown(rows))
    return rows


if __name__ == "__main__":
    main()
