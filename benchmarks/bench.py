"""``make bench``: a σ-RNN language-model training step in minigrad, eager and compiled
(``minigrad.compile``), beside the same step written by hand in numpy
(spec/bptt_reference.py), PyTorch eager, and JAX ``jit``, when those happen to be installed.

Everything runs in one process, from identical weights and batches. Before any
timing, the bench checks that minigrad and the reference compute the same
gradients, and that a compiled replay's gradients are eager's bit for bit. A step
is: embedding, recurrence, head, cross-entropy (forward); backward,
clip_grad_norm_ and an SGD update (backward). Figures are medians of timed steps
after warm-up, the implementations alternating step by step.
"""

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

# Every implementation runs on one thread: PyTorch is set to one below, and numpy's BLAS is
# limited here, before numpy loads (a variable already set in the environment is kept).
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
BLAS_THREADS = "as numpy was loaded" if "numpy" in sys.modules else None
for _variable in THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")
os.environ.setdefault(  # JAX's XLA, likewise, if it is there
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
BLAS_THREADS = BLAS_THREADS or f"{os.environ['OPENBLAS_NUM_THREADS']} thread(s)"

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import minigrad as mg  # noqa: E402
import minigrad.functional as F  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.models import CharRNN  # noqa: E402
from spec import bptt_reference  # noqa: E402
from spec.bptt_reference import NAMES, forward_loss, init_params  # noqa: E402

SIZES = {
    "tiny": dict(V=11, E=4, H=8, B=2, T=6),
    "small": dict(V=65, E=16, H=32, B=8, T=32),
    "medium": dict(V=65, E=64, H=128, B=32, T=64),
}
LR, CLIP = 1e-3, 1.0
EXACT, FAST = "minigrad compiled", "minigrad compiled, not exact"
TARGETS = [  # (figure, comparison, limit, what it is)
    ("small_vs_numpy", "≤", 1.5, "small σ-RNN step, compiled (not exact) / numpy floor"),
    ("small_exact_vs_numpy", "≤", 1.5, "small σ-RNN step, compiled (exact) / numpy floor"),
    ("medium_vs_numpy", "≤", 1.0, "medium σ-RNN step, compiled (not exact) / numpy floor"),
    ("medium_exact_vs_numpy", "≤", 1.15, "medium σ-RNN step, compiled (exact) / numpy floor"),
    ("small_vs_torch", "<", 1.0, "small σ-RNN step, compiled (not exact) / PyTorch eager"),
    ("medium_vs_torch", "<", 1.0, "medium σ-RNN step, compiled (not exact) / PyTorch eager"),
    ("lstm_speedup_small", "≥", 3.0, "small LSTM step, eager / compiled (not exact)"),
    ("gru_speedup_small", "≥", 3.0, "small GRU step, eager / compiled (not exact)"),
    ("lstm_speedup_medium", "≥", 1.8, "medium LSTM step, eager / compiled (not exact)"),
    ("gru_speedup_medium", "≥", 1.8, "medium GRU step, eager / compiled (not exact)"),
    ("medium_vs_jax", "≤", 1.0, "stretch: medium σ-RNN step, compiled (not exact) / JAX jit"),
    ("backward_scaling", "≤", 1.15, "eager backward at T=10000 / (10 × at T=1000)"),
    ("memory_vs_numpy", "≤", 2.0, "peak memory of a medium step, compiled / numpy reference"),
]
COMPARE = {"≤": lambda a, b: a <= b, "<": lambda a, b: a < b, "≥": lambda a, b: a >= b}


# ---- the three implementations of one training step -----------------------------------------------


class NumpyStep:
    """The hand-derived reference, plus the clipping and SGD update a training step does."""

    def __init__(self, params):
        self.params = {k: v.copy() for k, v in params.items()}

    def forward(self, inputs, targets):
        self.loss, self.cache = forward_loss(self.params, inputs, targets, "sigmoid")

    def backward(self):
        grads = bptt_reference.backward(self.params, self.cache)
        grads["rnn.bias_hh_l0"] = grads["rnn.bias_hh_l0"].copy()  # a parameter's own array
        total = np.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads.values()))
        scale = min(1.0, CLIP / (total + 1e-6))
        for name, g in grads.items():
            g *= scale
            self.params[name] -= LR * g


class MinigradStep:
    """The step in minigrad; with ``compiled``, its forward is traced once and replayed."""

    def __init__(self, params, model="rnn", compiled=False, exact=True):
        V, E = params["embedding.weight"].shape
        H = params["rnn.weight_hh_l0"].shape[1]
        mg.manual_seed(0)
        self.model = CharRNN(V, E, H, model=model, nonlinearity="sigmoid")
        if model == "rnn":
            self.model.load_state_dict(params)
        self.params = list(self.model.parameters())
        self.opt = optim.SGD(self.params, lr=LR)
        self.loss_of = mg.compile(self._loss, exact=exact) if compiled else self._loss

    def _loss(self, tokens, targets):
        logits, _ = self.model(tokens)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    def forward(self, inputs, targets):
        self.loss = self.loss_of(mg.from_numpy(inputs), mg.from_numpy(targets))

    def backward(self):
        self.opt.zero_grad()
        self.loss.backward()
        nn.utils.clip_grad_norm_(self.params, CLIP)
        self.opt.step()

    def gradients(self):
        return {name: p.grad.data for name, p in self.model.named_parameters()}


class TorchStep:
    """The same σ-RNN step in PyTorch eager (float64), written as a PyTorch user would: PyTorch
    has no sigmoid RNN, so the recurrence is a loop of addmm over the input projection, which
    is computed for all steps at once and unbound, as minigrad does."""

    def __init__(self, params, torch):
        self.torch = torch
        self.p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        self.opt = torch.optim.SGD(list(self.p.values()), lr=LR)

    def forward(self, inputs, targets):
        torch, p = self.torch, self.p
        functional = torch.nn.functional
        x = functional.embedding(torch.from_numpy(inputs), p["embedding.weight"])
        xp = functional.linear(x, p["rnn.weight_ih_l0"], p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"])
        h = torch.zeros(inputs.shape[1], p["rnn.weight_hh_l0"].shape[0], dtype=torch.float64)
        w_hh_t = p["rnn.weight_hh_l0"].T
        hs = []
        for xp_t in xp.unbind(0):
            h = torch.sigmoid(torch.addmm(xp_t, h, w_hh_t))
            hs.append(h)
        logits = functional.linear(torch.stack(hs), p["head.weight"], p["head.bias"])
        self.loss = functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), torch.from_numpy(targets.reshape(-1))
        )

    def backward(self):
        self.opt.zero_grad()
        self.loss.backward()
        self.torch.nn.utils.clip_grad_norm_(list(self.p.values()), CLIP)
        self.opt.step()

    def gradients(self):
        return {name: p.grad.numpy() for name, p in self.p.items()}


class JaxStep:
    """The same σ-RNN step in JAX (float64): forward, gradients, clipping and the SGD update,
    all under one ``jax.jit``, the recurrence as ``lax.scan``. Its whole time counts as forward."""

    def __init__(self, params, jax):
        jnp = jax.numpy
        self.p = {k: jnp.asarray(v) for k, v in params.items()}

        def loss_of(p, inputs, targets):
            xp = p["embedding.weight"][inputs] @ p["rnn.weight_ih_l0"].T
            xp = xp + p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"]
            w_hh_t = p["rnn.weight_hh_l0"].T

            def cell(h, xp_t):
                h = jax.nn.sigmoid(xp_t + h @ w_hh_t)
                return h, h

            _, hs = jax.lax.scan(cell, jnp.zeros((inputs.shape[1], w_hh_t.shape[0])), xp)
            logits = hs @ p["head.weight"].T + p["head.bias"]
            logp = jax.nn.log_softmax(logits.reshape(-1, logits.shape[-1]))
            return -jnp.mean(jnp.take_along_axis(logp, targets.reshape(-1, 1), axis=1))

        def step(p, inputs, targets):
            loss, grads = jax.value_and_grad(loss_of)(p, inputs, targets)
            norm = jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(grads)))
            scale = jnp.minimum(1.0, CLIP / (norm + 1e-6))
            return loss, jax.tree_util.tree_map(lambda w, g: w - LR * scale * g, p, grads)

        self.value_and_grad = jax.jit(jax.value_and_grad(loss_of))
        self.step = jax.jit(step)

    def loss_and_gradients(self, inputs, targets):
        loss, grads = self.value_and_grad(self.p, inputs, targets)
        return float(loss), {k: np.asarray(v) for k, v in grads.items()}

    def forward(self, inputs, targets):
        loss, self.p = self.step(self.p, inputs, targets)
        self.loss = loss.block_until_ready()

    def backward(self):
        pass  # the jitted step did it all


# ---- measuring ---------------------------------------------------------------------------------


def data(size, seed=0):
    s = SIZES[size]
    rng = np.random.default_rng(seed)
    params = init_params(s["V"], s["E"], s["H"], rng)
    inputs = rng.integers(0, s["V"], (s["T"], s["B"]))
    targets = rng.integers(0, s["V"], (s["T"], s["B"]))
    return params, inputs, targets


def check_gradients(size, torch=None, jax=None):
    """Assert, before any timing, that minigrad's gradients (and PyTorch's and JAX's, if given)
    equal the reference's to 1e-10 relative, and that a compiled replay's equal eager's bit for
    bit."""
    params, inputs, targets = data(size)
    ref_loss, ref_cache = forward_loss(params, inputs, targets, "sigmoid")
    ref = bptt_reference.backward(params, ref_cache)
    engines = {"minigrad": MinigradStep(params)}
    if torch is not None:
        engines["PyTorch"] = TorchStep(params, torch)
    for engine, step in engines.items():
        step.forward(inputs, targets)
        step.loss.backward()
        _compare(f"bench {size}, {engine}", step.loss.item(), step.gradients(), ref_loss, ref)
    if jax is not None:
        loss, grads = JaxStep(params, jax).loss_and_gradients(inputs, targets)
        _compare(f"bench {size}, JAX", loss, grads, ref_loss, ref)
    eager = engines["minigrad"].gradients()
    for exact in (True, False):
        compiled = MinigradStep(params, compiled=True, exact=exact)
        for _ in range(3):  # the first call traces; the second replays and writes the backward
            compiled.opt.zero_grad()
            compiled.forward(inputs, targets)
            compiled.loss.backward()
        _check_compiled(size, exact, compiled.gradients(), eager)
    return True


def _check_compiled(size, exact, grads, eager):
    """Exact: every gradient eager's, bit for bit; not exact: within 1e-12 of it."""
    for name, g in grads.items():
        if exact and g.tobytes() != eager[name].tobytes():
            raise AssertionError(f"bench {size}: compiled gradient of {name} differs from eager")
        if not exact and not np.max(np.abs(g - eager[name])) <= 1e-12 * np.max(np.abs(eager[name])):
            raise AssertionError(f"bench {size}: compiled (not exact) gradient of {name} differs")


def _compare(what, loss, grads, ref_loss, ref):
    if not abs(loss - ref_loss) <= 1e-12 * abs(ref_loss):
        raise AssertionError(f"{what}: losses differ: {loss} vs {ref_loss}")
    for name in NAMES:
        error = np.max(np.abs(grads[name] - ref[name]))
        scale = np.max(np.abs(ref[name]))
        if not error <= 1e-10 * scale:
            raise AssertionError(
                f"{what}: gradient of {name} differs: {error:.3e} > 1e-10 x {scale:.3e}"
            )


def time_steps(steppers, inputs, targets, repeats, warmup=3):
    """Median forward, backward and total ms per step for each stepper, alternating them."""
    times = {name: {"forward": [], "backward": []} for name in steppers}
    for i in range(warmup + repeats):
        for name, step in steppers.items():
            t0 = time.perf_counter()
            step.forward(inputs, targets)
            t1 = time.perf_counter()
            step.backward()
            t2 = time.perf_counter()
            if i >= warmup:
                times[name]["forward"].append(1e3 * (t1 - t0))
                times[name]["backward"].append(1e3 * (t2 - t1))
    result = {}
    for name, t in times.items():
        totals = [f + b for f, b in zip(t["forward"], t["backward"])]
        result[name] = {
            "forward": statistics.median(t["forward"]),
            "backward": statistics.median(t["backward"]),
            "step": statistics.median(totals),
        }
    return result


def backward_scaling(lengths, repeats=5):
    """Backward time (ms, median) of the small σ-RNN model for each sequence length."""
    s = SIZES["small"]
    out = {}
    for T in lengths:
        rng = np.random.default_rng(T)
        params = init_params(s["V"], s["E"], s["H"], rng)
        inputs = rng.integers(0, s["V"], (T, s["B"]))
        targets = rng.integers(0, s["V"], (T, s["B"]))
        step = MinigradStep(params)
        runs = []
        for _ in range(repeats):
            step.forward(inputs, targets)
            t0 = time.perf_counter()
            step.loss.backward()
            runs.append(1e3 * (time.perf_counter() - t0))
            step.opt.zero_grad()
        out[T] = statistics.median(runs)
    return out


def peak_memory(stepper, inputs, targets):
    """Peak traced bytes of one forward and backward, above what was allocated before it, in
    the steady state (a compiled step traces at its first call and writes its backward code at
    its second)."""
    for _ in range(3):
        stepper.forward(inputs, targets)
        stepper.backward()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    stepper.forward(inputs, targets)
    stepper.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - the BLAS line is informative only
        blas = "unknown"
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__}, BLAS {blas} ({BLAS_THREADS})"


def load_jax(allowed):
    if not allowed:
        return None
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # float64, as the other implementations
    return jax


def load_torch(allowed):
    if not allowed:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)  # as numpy's BLAS (see THREAD_VARIABLES)
    return torch


# ---- the report ---------------------------------------------------------------------------------


def run(sizes, repeats, lengths, allow_torch=True, allow_jax=True):
    torch, jax = load_torch(allow_torch), load_jax(allow_jax)
    report = {
        "machine": machine(),
        "torch": torch.__version__ if torch else None,
        "jax": jax.__version__ if jax else None,
        "sizes": {},
        "gated": {},
    }
    for size in sizes:
        check_gradients(size, torch, jax)
        params, inputs, targets = data(size)
        steppers = {
            "minigrad eager": MinigradStep(params),
            EXACT: MinigradStep(params, compiled=True),
            FAST: MinigradStep(params, compiled=True, exact=False),
            "numpy": NumpyStep(params),
        }
        if torch:
            steppers["pytorch eager"] = TorchStep(params, torch)
        if jax:
            steppers["jax jit"] = JaxStep(params, jax)
        report["sizes"][size] = time_steps(steppers, inputs, targets, repeats)
        gated = {}
        for model in ("lstm", "gru"):
            pair = {
                f"{model} eager": MinigradStep(params, model=model),
                f"{model} compiled": MinigradStep(params, model=model, compiled=True),
                f"{model} compiled, not exact": MinigradStep(
                    params, model=model, compiled=True, exact=False
                ),
            }
            gated.update(time_steps(pair, inputs, targets, repeats))
        report["gated"][size] = gated
    biggest = sizes[-1]
    params, inputs, targets = data(biggest)
    report["memory"] = {
        "size": biggest,
        "minigrad": peak_memory(MinigradStep(params, compiled=True), inputs, targets),
        "numpy": peak_memory(NumpyStep(params), inputs, targets),
    }
    report["scaling"] = backward_scaling(lengths)
    report["figures"] = figures(report)
    return report


def figures(report):
    """The figures the targets are about, from the measured medians."""
    out = {}
    sizes, gated = report["sizes"], report["gated"]
    for size in ("small", "medium"):
        if size not in sizes:
            continue
        fast, exact = sizes[size][FAST]["step"], sizes[size][EXACT]["step"]
        for key, name in (("numpy", "numpy"), ("torch", "pytorch eager"), ("jax", "jax jit")):
            if name in sizes[size]:
                out[f"{size}_vs_{key}"] = fast / sizes[size][name]["step"]
        out[f"{size}_exact_vs_numpy"] = exact / sizes[size]["numpy"]["step"]
    for size, pair in gated.items():
        for model in ("lstm", "gru"):
            fast = pair[f"{model} compiled, not exact"]["step"]
            out[f"{model}_speedup_{size}"] = pair[f"{model} eager"]["step"] / fast
    scaling = report["scaling"]
    if 1000 in scaling and 10000 in scaling:
        out["backward_scaling"] = scaling[10000] / (10 * scaling[1000])
    memory = report["memory"]
    if memory["size"] == "medium":
        out["memory_vs_numpy"] = memory["minigrad"] / memory["numpy"]
    return out


def _others(report):
    notes = [
        f"PyTorch {report['torch']} eager"
        if report["torch"]
        else "PyTorch: not installed, skipped",
        f"JAX {report['jax']} jit (its whole step under forward)"
        if report["jax"]
        else "JAX: not installed, skipped",
    ]
    return "; ".join(notes) + "; one thread each"


def markdown(report):
    lines = [f"Machine: {report['machine']}", ""]
    lines += [f"σ-RNN language-model training step, ms (median). {_others(report)}.", ""]
    lines += [
        "| size | implementation | forward | backward | step | ratio to numpy |",
        "|---|---|---|---|---|---|",
    ]
    for size, result in report["sizes"].items():
        base = result["numpy"]["step"]
        for name, t in result.items():
            lines.append(
                f"| {size} | {name} | {t['forward']:.2f} | {t['backward']:.2f} | {t['step']:.2f} | {t['step'] / base:.2f} |"
            )
    lines += [
        "",
        "LSTM and GRU language-model steps in minigrad, eager and compiled, ms (median):",
        "",
    ]
    lines += [
        "| size | step | forward | backward | step | eager / compiled |",
        "|---|---|---|---|---|---|",
    ]
    for size, result in report["gated"].items():
        for name, t in result.items():
            eager = result[name.split(" ")[0] + " eager"]["step"]
            lines.append(
                f"| {size} | {name} | {t['forward']:.2f} | {t['backward']:.2f} | {t['step']:.2f} | {eager / t['step']:.2f} |"
            )
    lines += ["", "Eager backward time of the small σ-RNN model against sequence length:", ""]
    lines += ["| T | backward, ms | ms per step of T |", "|---|---|---|"]
    for T, ms in report["scaling"].items():
        lines.append(f"| {T} | {ms:.1f} | {ms / T:.3f} |")
    m = report["memory"]
    lines += ["", f"Peak memory of one compiled {m['size']} step (tracemalloc): minigrad {m['minigrad'] / 2**20:.2f} MiB, "
              f"numpy reference {m['numpy'] / 2**20:.2f} MiB, ratio {m['minigrad'] / m['numpy']:.2f}.", ""]  # fmt: skip
    lines += ["| target | limit | measured | met |", "|---|---|---|---|"]
    for key, sign, limit, text in TARGETS:
        value = report["figures"].get(key)
        if value is None:
            lines.append(f"| {text} | {sign} {limit} | not measured | |")
        else:
            met = "yes" if COMPARE[sign](value, limit) else "no"
            lines.append(f"| {text} | {sign} {limit} | {value:.2f} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="small,medium", help="comma-separated: tiny, small, medium"
    )
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per figure (15)")
    parser.add_argument(
        "--lengths", default="100,1000,10000", help="sequence lengths for the backward scaling"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX column")
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results.md"), help="where to write the table"
    )
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    lengths = [int(v) for v in args.lengths.split(",") if v]
    report = run(sizes, args.repeats, lengths, not args.no_torch, not args.no_jax)
    text = markdown(report)
    print(text)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
