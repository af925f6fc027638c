"""``minigrad train``: a character-level language model with clipping, checkpoints and rollback.

The loop is truncated backprop through time: ``batch`` streams of text are
read ``seq_len`` characters at a time, and the hidden state is carried from
one step to the next, detached, so gradients flow back at most ``seq_len``
steps. Each step clips the global gradient norm (``--clip``; 0 turns it off)
and records the norm from before clipping.

Exploding gradients show up as inf or NaN. When the loss or the gradient norm
is not finite, no update is applied: the run goes back to its last checkpoint
on the ``save_every`` grid, halves the learning rate, and carries on; after
``max_rollbacks`` of those it stops with a non-zero exit. Checkpoints are
written atomically, so killing the process at any moment leaves the previous
one intact. A run resumed from its checkpoint continues exactly as if it had
never stopped.
"""

import csv
import json
import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from . import functional as F
from . import nn, optim
from .compiler import CompiledFunction
from .corpus import Batches, Vocabulary, bits, embedded_corpus, read_text, split, unigram_bits
from .creation import from_numpy
from .grad_mode import no_grad
from .models import CharRNN
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import load, save
from .tensor import Tensor

CHECKPOINT = "checkpoint.npz"  # step 0 and every save_every steps: rollbacks return here
LATEST = "latest.npz"  # a state off that grid (Ctrl-C, a run's end); resume takes the newer file
METRICS = ("step", "train_bpc", "val_bpc", "grad_norm", "clipped_share", "lr", "rollbacks",
           "tokens_per_s", "elapsed_s")  # fmt: skip
DETERMINISTIC = METRICS[:7]  # the columns a resumed run reproduces exactly (the rest are timings)


@dataclass
class Config:
    """Every option of a run; saved as config.json and inside each checkpoint."""

    text: str = None  # a UTF-8 file; None means minigrad's own source
    model: str = "gru"
    nonlinearity: str = "tanh"
    layers: int = 1
    hidden: int = 192
    embed: int = 48
    seq_len: int = 64
    batch: int = 32
    steps: int = 800
    lr: float = 3e-3
    optim: str = "adam"
    momentum: float = 0.0
    clip: float = 1.0
    seed: int = 0
    out: str = None
    save_every: int = 100
    log_every: int = 50
    val_chars: int = 16384
    max_rollbacks: int = 5
    sample_length: int = 300
    temperature: float = 0.8


class Stopped(Exception):
    """Training cannot go on (too many rollbacks); the message says why."""


def load_text(config):
    return embedded_corpus() if config.text is None else read_text(config.text)


def build_model(config, vocab_size):
    manual_seed(config.seed)
    return CharRNN(
        vocab_size,
        config.embed,
        config.hidden,
        model=config.model,
        nonlinearity=config.nonlinearity,
        num_layers=config.layers,
        forget_bias=1.0 if config.model == "lstm" else None,
    )


def build_optimizer(config, model):
    if config.optim == "adam":
        return optim.Adam(model.parameters(), lr=config.lr)
    return optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)


def _detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def _flat(state):
    """A recurrent state (None, a Tensor, or the LSTM's (h, c)) as a tuple of Tensors."""
    if state is None:
        return ()
    return tuple(state) if isinstance(state, tuple) else (state,)


def _unflat(tensors):
    """The recurrent state that ``_flat`` made a tuple of."""
    tensors = tuple(tensors)
    return None if not tensors else tensors[0] if len(tensors) == 1 else tensors


def _state_arrays(state):
    if state is None:
        return None
    return [s.data for s in state] if isinstance(state, tuple) else [state.data]


def _state_from(arrays, model_kind):
    if arrays is None:
        return None
    tensors = [Tensor._wrap(np.array(a)) for a in arrays]
    return tuple(tensors) if model_kind == "lstm" else tensors[0]


class Trainer:
    def __init__(self, config, out, resume=False, quiet=False, stream=None, compiled=True):
        self.config = config
        self.out = Path(out)
        self.quiet = quiet
        self.stream = stream or sys.stderr
        ids_text = load_text(config)
        self.vocab = Vocabulary(ids_text)
        ids = self.vocab.encode(ids_text)
        train_ids, val_ids = split(ids)
        self.batches = Batches(train_ids, config.batch, config.seq_len)
        val_ids = val_ids[: config.val_chars + 1]
        streams = min(config.batch, max(1, (len(val_ids) - 1) // config.seq_len))
        self.val_batches = Batches(val_ids, streams, config.seq_len)
        self.unigram = unigram_bits(train_ids, val_ids[1:], len(self.vocab))
        self.model = build_model(config, len(self.vocab))
        self.optimizer = build_optimizer(config, self.model)
        self.params = list(self.model.parameters())
        # The step's forward, traced once and replayed (minigrad.compile), or eager: the
        # results are the same bit for bit, so a run may switch between them.
        if compiled:
            self.loss_and_state = CompiledFunction(self.loss_and_state)
        self.step = 0
        self.hidden = None
        self.clipped = 0
        self.rollbacks = 0
        self.loss_sum = 0.0
        self.loss_count = 0
        self.interrupted = False
        self.last_val = float("nan")
        self.rows = []  # the rows logged by run()
        if resume:
            self.restore(newest_checkpoint(self.out))
            self._truncate_metrics()
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
            with open(self.out / "metrics.csv", "w", newline="") as f:
                csv.writer(f).writerow(METRICS)
            self.save()

    # ---- checkpoints ----------------------------------------------------------------------

    def snapshot(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "rng": get_rng_state(),
            "vocab": self.vocab.chars,
            "config": asdict(self.config),
            "hidden": _state_arrays(self.hidden),
            "counters": {
                "clipped": self.clipped,
                "rollbacks": self.rollbacks,
                "loss_sum": self.loss_sum,
                "loss_count": self.loss_count,
            },
        }

    def save(self):
        """The checkpoint on the save grid (the one a rollback returns to)."""
        save(self.snapshot(), self.out / CHECKPOINT)
        (self.out / LATEST).unlink(missing_ok=True)  # older than this one now

    def save_latest(self):
        """A state off the save grid, so that a rollback still returns where an uninterrupted
        run's would."""
        save(self.snapshot(), self.out / LATEST)

    def restore(self, checkpoint):
        if checkpoint["vocab"] != self.vocab.chars:
            raise Stopped(f"{self.out}: the checkpoint's vocabulary does not match the text")
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.step = int(checkpoint["step"])
        set_rng_state(checkpoint["rng"])
        self.hidden = _state_from(checkpoint["hidden"], self.config.model)
        counters = checkpoint["counters"]
        self.clipped = int(counters["clipped"])
        self.loss_sum = float(counters["loss_sum"])
        self.loss_count = int(counters["loss_count"])
        self.rollbacks = max(self.rollbacks, int(counters["rollbacks"]))

    def _truncate_metrics(self):
        """Drop rows logged after the current step: a resumed or rolled-back run logs those
        steps again."""
        path = self.out / "metrics.csv"
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        kept = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= self.step]
        partial = path.with_name(path.name + ".tmp")
        with open(partial, "w", newline="") as f:
            csv.writer(f).writerows(kept)
        os.replace(partial, path)  # a kill midway leaves the old file, never an empty one

    # ---- one step -------------------------------------------------------------------------

    def train_step(self):
        """Forward, backward, clip and update on the next chunk. Returns False on a non-finite
        loss or gradient norm, in which case nothing was updated."""
        inputs, targets, restart = self.batches.get(self.step)
        if restart:
            self.hidden = None
        # An exploding run overflows here; that is detected below and rolled back.
        with np.errstate(over="ignore", invalid="ignore"):
            loss, *hidden = self.loss_and_state(
                from_numpy(inputs), from_numpy(targets), *_flat(self.hidden)
            )
            self.optimizer.zero_grad()
            loss.backward()
            if self.config.clip > 0:
                norm = nn.utils.clip_grad_norm_(self.params, self.config.clip).item()
            else:
                norm = nn.utils.get_total_norm([p.grad for p in self.params]).item()
        self.last_norm, self.last_loss = norm, loss.item()
        if not (math.isfinite(self.last_loss) and math.isfinite(norm)):
            self.last_fault = "loss" if not math.isfinite(self.last_loss) else "gradient norm"
            return False
        self.optimizer.step()
        self.hidden = _detach(_unflat(hidden))
        self.clipped += int(self.config.clip > 0 and norm > self.config.clip)
        self.loss_sum += bits(loss.item())
        self.loss_count += 1
        self.step += 1
        return True

    def loss_and_state(self, inputs, targets, *state):
        """The mean cross-entropy of a chunk, and the final state (its tensors, flat)."""
        logits, hidden = self.model(inputs, _unflat(state))
        loss = F.cross_entropy(logits.reshape(-1, len(self.vocab)), targets.reshape(-1))
        return (loss, *_flat(hidden))

    def rollback(self):
        """Back to the last checkpoint with half the learning rate (or stop)."""
        self.rollbacks += 1
        lr = self.optimizer.param_groups[0]["lr"]
        self.say(
            f"step {self.step + 1}: non-finite {self.last_fault} (loss {self.last_loss:.3g}, "
            f"gradient norm {self.last_norm:.3g}); no update applied"
        )
        if self.rollbacks > self.config.max_rollbacks:
            raise Stopped(
                f"training diverged {self.rollbacks} times (--max-rollbacks "
                f"{self.config.max_rollbacks}); stopping. The last good checkpoint is "
                f"{self.out / CHECKPOINT} (step {load(self.out / CHECKPOINT)['step']})"
            )
        rates = [group["lr"] for group in self.optimizer.param_groups]
        self.restore(load(self.out / CHECKPOINT))
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate  # the checkpoint holds an older rate; halve the current one
        (self.out / LATEST).unlink(missing_ok=True)  # ahead of the step rolled back to
        self._truncate_metrics()
        self.rows = [row for row in self.rows if row["step"] <= self.step]
        new_lr = optim.lr_scheduler.scale_lr_(self.optimizer, 0.5)[0]
        self.say(
            f"rollback {self.rollbacks}/{self.config.max_rollbacks}: back to step {self.step}, "
            f"learning rate {lr:g} -> {new_lr:g}"
        )

    def train_step_or_rollback(self):
        """One step; on a non-finite loss or gradient, the rollback instead. Returns whether a
        step was made."""
        if self.train_step():
            return True
        self.rollback()
        return False

    # ---- measuring ------------------------------------------------------------------------

    @no_grad()
    @np.errstate(over="ignore", invalid="ignore")
    def validate(self):
        """Bits per character on the validation text, from a fresh state."""
        total, count, hidden = 0.0, 0, None
        for i in range(len(self.val_batches)):
            inputs, targets, _ = self.val_batches.get(i)
            logits, hidden = self.model(inputs, hidden)
            loss = F.cross_entropy(
                logits.reshape(-1, len(self.vocab)), targets.reshape(-1), reduction="sum"
            )
            total += loss.item()
            count += targets.size
        return bits(total / count)

    def log(self, started, tokens):
        self.last_val = self.validate()
        elapsed = time.perf_counter() - started
        row = {
            "step": self.step,
            "train_bpc": self.loss_sum / max(self.loss_count, 1),
            "val_bpc": self.last_val,
            "grad_norm": self.last_norm,
            "clipped_share": self.clipped / max(self.step, 1),
            "lr": self.optimizer.param_groups[0]["lr"],
            "rollbacks": self.rollbacks,
            "tokens_per_s": tokens / max(elapsed, 1e-9),
            "elapsed_s": elapsed,
        }
        self.loss_sum, self.loss_count = 0.0, 0
        with open(self.out / "metrics.csv", "a", newline="") as f:
            csv.writer(f).writerow([_format(row[k]) for k in METRICS])
        self.rows.append(row)
        self.status(row)

    def status(self, row):
        if self.quiet:
            return
        remaining = (
            (self.config.steps - row["step"])
            * row["elapsed_s"]
            / max(row["step"] - self.first_step, 1)
        )
        line = (
            f"step {row['step']}/{self.config.steps} | loss {row['train_bpc']:.3f} bpc | "
            f"val {row['val_bpc']:.3f} bpc | grad {row['grad_norm']:.3g} | "
            f"clipped {100 * row['clipped_share']:.0f}% | "
            f"{row['tokens_per_s'] / 1000:.1f}k tok/s | "
            f"ETA {_duration(remaining)}"
        )
        if self.stream.isatty():
            self.stream.write("\r" + line.ljust(110))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def say(self, message):
        self.stream.write(
            ("\n" if self.stream.isatty() and not self.quiet else "") + message + "\n"
        )
        self.stream.flush()

    # ---- the loop -------------------------------------------------------------------------

    def run(self):
        """Train up to ``config.steps``; returns the list of logged rows."""
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        self.rows = []
        self.first_step = self.step
        started = time.perf_counter()
        tokens_per_step = self.config.batch * self.config.seq_len
        steps_made = 0  # in this call, counting steps later undone by a rollback
        try:
            while self.step < self.config.steps:
                if self.train_step_or_rollback():
                    steps_made += 1
                    if self.step % self.config.log_every == 0:
                        self.log(started, steps_made * tokens_per_step)
                    if self.step % self.config.save_every == 0:
                        self.save()
                if self.interrupted:
                    self.save_latest()
                    raise KeyboardInterrupt
            if self.step % self.config.save_every:
                self.save_latest()  # the end of the run, off the save grid
        finally:
            signal.signal(signal.SIGINT, previous)
        if not self.quiet and self.stream.isatty():
            self.stream.write("\n")
        return self.rows

    def _on_sigint(self, signum, frame):
        self.interrupted = True


def _format(value):
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _duration(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


# ---- sampling ----------------------------------------------------------------------------------


@no_grad()
def generate(model, vocab, prime, length, temperature, seed):
    """``prime`` followed by ``length`` characters drawn from the model at ``temperature``."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(seed)
    ids = vocab.encode(prime) if prime else np.array([rng.integers(len(vocab))])
    logits, state = model(ids[:, None])
    out = []
    for _ in range(length):
        z = logits.data[-1, 0] / temperature
        p = np.exp(z - z.max())
        nxt = int(rng.choice(len(vocab), p=p / p.sum()))
        out.append(nxt)
        logits, state = model(np.array([[nxt]]), state)
    return (prime if prime else vocab.decode(ids)) + vocab.decode(out)


def newest_checkpoint(folder):
    """The newer of a run folder's checkpoint.npz and latest.npz, loaded."""
    folder = Path(folder)
    on_grid = load(folder / CHECKPOINT)
    if not (folder / LATEST).exists():
        return on_grid
    latest = load(folder / LATEST)
    return latest if latest["step"] >= on_grid["step"] else on_grid


def config_from(saved):
    """A Config from a saved dict: options this version does not know are ignored, and options
    the file lacks take their defaults."""
    known = {f.name for f in fields(Config)}
    return Config(**{k: v for k, v in saved.items() if k in known})


def load_for_sampling(checkpoint_dir):
    path = Path(checkpoint_dir)
    checkpoint = newest_checkpoint(path) if path.is_dir() else load(path)
    config = config_from(checkpoint["config"])
    vocab = Vocabulary(checkpoint["vocab"])
    model = build_model(config, len(vocab))
    model.load_state_dict(checkpoint["model"])
    return model, vocab, checkpoint


def read_metrics(out):
    """The rows of ``out``/metrics.csv, as dicts of numbers."""
    with open(Path(out) / "metrics.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def plot_metrics(rows, clip, out):
    """loss.png (train and validation bits per character) and grad_norm.png (log scale, the
    clip threshold dashed) in ``out``. Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [r["train_bpc"] for r in rows], label="train")
    ax.plot(steps, [r["val_bpc"] for r in rows], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("bits per character")
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(out) / "loss.png", dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(steps, [r["grad_norm"] for r in rows], label="gradient norm before clipping")
    if clip > 0:
        ax.axhline(clip, color="C3", linestyle="--", label=f"clip threshold {clip:g}")
    ax.set_xlabel("step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(out) / "grad_norm.png", dpi=90)
    plt.close(fig)
