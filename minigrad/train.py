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

import contextlib
import csv
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from . import functional as F
from . import nn, optim
from .compiler import CompiledFunction
from .corpus import (
    Batches,
    CorpusError,
    Vocabulary,
    bits,
    check_length,
    embedded_corpus,
    read_text,
    split,
    unigram_bits,
)
from .creation import from_numpy
from .files import replacing, save_figure
from .grad_mode import no_grad
from .models import CharRNN
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import CheckpointError, load, save
from .tensor import Tensor

CHECKPOINT = "checkpoint.npz"  # step 0 and every save_every steps: rollbacks return here
LATEST = "latest.npz"  # a state off that grid (Ctrl-C, a run's end); resume takes the newer file
RUN_FILES = ("config.json", "metrics.csv", CHECKPOINT, LATEST)  # what makes a folder a run's
LOCK = ".lock"  # held by the process training in the folder
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
    dropout: float = 0.0
    seed: int = 0
    out: str = None
    save_every: int = 100
    log_every: int = 50
    val_chars: int = 16384
    max_rollbacks: int = 5
    sample_length: int = 300
    temperature: float = 0.8
    prime: str = None  # the closing sample's start; None: the text's most frequent character


class Stopped(Exception):
    """Training cannot go on (too many rollbacks); the message says why."""


class RunFolderError(Exception):
    """The run folder cannot be used: it cannot be created, or it holds another run."""


class RunFolderBusy(RunFolderError):
    """Another process is training in the run folder."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while training; the state was saved first."""

    def __init__(self, signum, step):
        super().__init__(signum, step)
        self.signum, self.step = signum, step


class StopSignals:
    """While entered, SIGINT and SIGTERM only set ``signum``, which the training loop checks
    between steps: so a signal never cuts a checkpoint or the run folder's set-up in half.
    Entering again inside is allowed; the handlers are restored when the outermost exits."""

    def __init__(self):
        self.signum = None
        self.depth = 0
        self.previous = {}

    def __enter__(self):
        # Only the main thread may set handlers; elsewhere signals keep their usual effect.
        if self.depth == 0 and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.previous[signum] = signal.signal(signum, self._note)
        self.depth += 1
        return self

    def __exit__(self, *exc):
        self.depth -= 1
        if self.depth == 0:
            for signum, handler in self.previous.items():
                signal.signal(signum, handler)
            self.previous.clear()

    def _note(self, signum, frame):
        self.signum = signum


def run_files(folder):
    """The files in ``folder`` that belong to a run (none if it does not exist)."""
    return [name for name in RUN_FILES if (Path(folder) / name).exists()]


class FolderLock:
    """An exclusive lock on a run folder (``flock`` on its ``.lock`` file), so two processes
    never train in one folder. The lock dies with its process; ``release`` removes the file."""

    def __init__(self, folder):
        import fcntl

        self.path = Path(folder) / LOCK
        self.file = open(self.path, "a+")  # noqa: SIM115 - open as long as the lock is held
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RunFolderBusy(
                f"{folder} is in use: process {holder} is training in it; wait for it to end"
            ) from None
        if not _same_file(self.path, self.file):
            self.file.close()  # the holder released it and removed the file as we locked it
            raise RunFolderBusy(f"{folder} changed hands just now; try again")
        self.file.truncate(0)
        self.file.write(str(os.getpid()))
        self.file.flush()

    def release(self):
        if not self.file.closed:
            self.path.unlink(missing_ok=True)
            self.file.close()


def _same_file(path, file):
    """Whether ``path`` still names the open ``file``."""
    return path.exists() and os.stat(path).st_ino == os.fstat(file.fileno()).st_ino


def text_digest(text):
    """The SHA-256 of a text: a resumed run checks that it reads the same text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        dropout=config.dropout,
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
    """One run: its text, model and optimiser, and its folder.

    A new run creates ``out`` and writes ``config.json``, the header of
    ``metrics.csv`` and the step-0 checkpoint; with ``resume`` the run goes on
    from the newest checkpoint in ``out``. Either way the folder is locked
    (``FolderLock``) until ``run`` ends or ``close`` is called. Signals that
    arrive meanwhile are held by ``stop`` (``StopSignals``) until a step ends.
    """

    def __init__(
        self, config, out, resume=False, quiet=False, stream=None, compiled=True, stop=None
    ):
        self.config = config
        self.out = Path(out)
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.stop = stop or StopSignals()
        self._read_text(load_text(config))
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
        self.last_val = self.last_norm = float("nan")
        self.rows = []  # the rows logged by run()
        with self.stop:
            self.lock = self._open_folder(resume)

    def _read_text(self, text):
        """The vocabulary, the training and validation batches, and the unigram baseline."""
        config = self.config
        self.text_sha256 = text_digest(text)
        self.vocab = Vocabulary.of_text(text)
        ids = self.vocab.encode(text)
        train_ids, val_ids = split(ids)
        val_ids = val_ids[: config.val_chars + 1]  # the characters predicted, and one before
        check_length(len(ids), len(train_ids), len(val_ids), config.batch, config.seq_len)
        self.sizes = (len(ids), len(train_ids), len(val_ids))
        self.batches = Batches(train_ids, config.batch, config.seq_len)
        streams = min(config.batch, (len(val_ids) - 1) // config.seq_len)
        self.val_batches = Batches(val_ids, streams, config.seq_len)
        self.unigram = unigram_bits(train_ids, val_ids[1:], len(self.vocab))
        try:
            self.vocab.encode(config.prime or "")
        except CorpusError as error:
            raise CorpusError(f"--prime {config.prime!r}: {error}") from None
        self.prime = config.prime or self.vocab.start

    def _open_folder(self, resume):
        """Lock the run folder; then go back to its newest checkpoint, or start the run."""
        if not resume:
            try:
                self.out.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise RunFolderError(
                    f"cannot create the run folder {self.out}: {error.strerror}"
                ) from None
        lock = FolderLock(self.out)
        try:
            if resume:
                checkpoint = newest_checkpoint(self.out)[1]
                self.restore(checkpoint)
                if checkpoint["config"]["lr"] != self.config.lr:  # a new --lr: the rescue
                    for group in self.optimizer.param_groups:
                        group["lr"] = self.config.lr
                self._truncate_metrics()
            else:
                self._start()
            write_config(self.out, self.config)
        except BaseException:
            lock.release()
            raise
        return lock

    def _start(self):
        """A new run's files: the metrics header and the step-0 checkpoint."""
        found = run_files(self.out)
        if found:
            raise RunFolderError(
                f"{self.out} already holds a run ({', '.join(found)}); continue it with "
                f"--resume {self.out}, or choose another folder"
            )
        with open(self.out / "metrics.csv", "w", newline="") as f:
            csv.writer(f).writerow(METRICS)
        self.save()

    def close(self):
        """Release the run folder (``run`` does when it ends)."""
        self.lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def banner(self, resumed):
        """What is about to run, in three lines: the folder, the model, the text."""
        c = self.config
        core = f"{c.nonlinearity}-rnn" if c.model == "rnn" else c.model
        n_params = sum(p.data.size for p in self.params)
        total, train, val = self.sizes
        source = c.text or "minigrad's own source"
        where = f"resumed at step {self.step} of {c.steps}" if resumed else f"{c.steps} steps"
        return [
            f"run folder: {self.out}  ({where})",
            f"model: {core}, {c.layers} layer(s) of {c.hidden} units, embedding {c.embed}: "
            f"{n_params:,} parameters; {c.optim}, learning rate "
            f"{self.optimizer.param_groups[0]['lr']:g}, clip {c.clip:g}",
            f"text: {source}: {total:,} characters, "
            f"{len(self.vocab)} distinct; {train:,} for training, {val - 1:,} to predict in "
            "validation",
        ]

    # ---- checkpoints ----------------------------------------------------------------------

    def snapshot(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "rng": get_rng_state(),
            "vocab": self.vocab.chars,
            "vocab_counts": self.vocab.counts,
            "text_sha256": self.text_sha256,
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
        same = checkpoint.get("text_sha256", self.text_sha256) == self.text_sha256
        if not same or checkpoint["vocab"] != self.vocab.chars:
            raise CorpusError(
                f"the text is not the one the run in {self.out} trained on (its SHA-256 "
                "differs); a resumed run needs the same text"
            )
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
        with replacing(path, "w", newline="") as f:  # a kill leaves the old file or the new
            csv.writer(f).writerows(kept)

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
                f"{self.out / CHECKPOINT} (step {load_run(self.out / CHECKPOINT)['step']}); "
                f"to go on from it: --resume {self.out} with a lower --lr"
            )
        rates = [group["lr"] for group in self.optimizer.param_groups]
        self.restore(load_run(self.out / CHECKPOINT))
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
        """Bits per character on the validation text, from a fresh state, in eval mode."""
        total, count, hidden = 0.0, 0, None
        with evaluating(self.model):
            for i in range(len(self.val_batches)):
                inputs, targets, _ = self.val_batches.get(i)
                logits, hidden = self.model(inputs, hidden)
                loss = F.cross_entropy(
                    logits.reshape(-1, len(self.vocab)), targets.reshape(-1), reduction="sum"
                )
                total += loss.item()
                count += targets.size
        return bits(total / count)

    def elapsed(self):
        """Seconds since this call of ``run`` began."""
        return time.perf_counter() - self.started

    def train_seconds(self):
        """Seconds spent in this call of ``run``, less the validation passes."""
        return self.elapsed() - self.validation_seconds

    def tokens_per_second(self):
        """Training speed: characters trained on per second, validation left out."""
        tokens = self.steps_made * self.config.batch * self.config.seq_len
        return tokens / max(self.train_seconds(), 1e-9)

    def row(self):
        """The metrics as they stand (``val_bpc`` from the latest validation pass)."""
        return {
            "step": self.step,
            "train_bpc": self.loss_sum / self.loss_count if self.loss_count else float("nan"),
            "val_bpc": self.last_val,
            "grad_norm": self.last_norm,
            "clipped_share": self.clipped / max(self.step, 1),
            "lr": self.optimizer.param_groups[0]["lr"],
            "rollbacks": self.rollbacks,
            "tokens_per_s": self.tokens_per_second(),
            "elapsed_s": self.elapsed(),
        }

    def log(self, end=False):
        """Validate, then write a metrics row. ``train_bpc`` is the mean since the previous
        row on the ``log_every`` grid: a run's last row off that grid (``end``) leaves the
        sum running, so a run continued later logs the rows an uninterrupted run would."""
        began = time.perf_counter()
        self.last_val = self.validate()
        self.validation_seconds += time.perf_counter() - began
        row = self.row()
        if not end:
            self.loss_sum, self.loss_count = 0.0, 0
        with open(self.out / "metrics.csv", "a", newline="") as f:
            csv.writer(f).writerow([_format(row[k]) for k in METRICS])
        self.rows.append(row)
        self.status(row)

    def live(self):
        """On a terminal, the status line between logged rows, redrawn at most 4 times a
        second."""
        if self.quiet or not self.stream.isatty():
            return
        now = time.perf_counter()
        if now - self.drawn >= 0.25:
            self.drawn = now
            self.status(self.row())

    def status(self, row):
        if self.quiet:
            return
        done = max(self.steps_made, 1)
        remaining = (self.config.steps - row["step"]) * row["elapsed_s"] / done
        val = f"{row['val_bpc']:.3f}" if math.isfinite(row["val_bpc"]) else "-"
        line = (
            f"step {row['step']}/{self.config.steps} | loss {row['train_bpc']:.3f} bpc | "
            f"val {val} bpc | grad {row['grad_norm']:.3g} | "
            f"clipped {100 * row['clipped_share']:.0f}% | "
            f"{row['tokens_per_s'] / 1000:.1f}k tok/s | "
            f"ETA {duration(remaining)}"
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
        """Train up to ``config.steps``; returns the rows logged. The last step is always
        logged. SIGINT or SIGTERM saves the state at the end of the step under way, then
        raises ``Interrupted``."""
        self.rows = []
        self.started = self.drawn = time.perf_counter()
        self.validation_seconds = 0.0
        self.steps_made = 0  # in this call, counting steps later undone by a rollback
        try:
            with self.stop:
                self._loop()
        finally:
            self.close()
            if not self.quiet and self.stream.isatty():
                self.stream.write("\n")
        return self.rows

    def _loop(self):
        config = self.config
        while self.step < config.steps:
            self._stop_if_signalled()
            if self.train_step_or_rollback():
                self.steps_made += 1
                if self.step % config.log_every == 0:
                    self.log()
                else:
                    self.live()
                if self.step % config.save_every == 0:
                    self.save()
        if self.steps_made and self.step % config.log_every:
            self.log(end=True)
        if self.step % config.save_every:
            self.save_latest()  # the end of the run, off the save grid
        if self.stop.signum:  # during the last step: the state is saved already
            raise Interrupted(self.stop.signum, self.step)

    def _stop_if_signalled(self):
        if self.stop.signum:
            self.save_latest()
            raise Interrupted(self.stop.signum, self.step)


def _format(value):
    if isinstance(value, float):
        return repr(value)
    return str(value)


def duration(seconds):
    """A duration as a person reads it: 42s, 3m07s, 5h07m, 12d05h; beyond 99 days, "> 99 days"."""
    if not math.isfinite(seconds):
        return "?"
    if seconds >= 100 * 86400:
        return "> 99 days"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def write_config(folder, config):
    """``config.json``, written atomically (a kill leaves the old file or the new one)."""
    with replacing(Path(folder) / "config.json") as f:
        f.write(json.dumps(asdict(config), indent=2) + "\n")


# ---- sampling ----------------------------------------------------------------------------------


@contextlib.contextmanager
def evaluating(model):
    """``model`` in eval mode inside the block (dropout off), then in its mode before."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@no_grad()
def generate(model, vocab, prime, length, temperature, seed):
    """``prime`` followed by ``length`` characters drawn from the model at ``temperature``;
    nothing at all for ``length`` 0.

    Without a prime the text starts from ``vocab.start`` (the most frequent
    character of the training text). As the temperature goes to 0 the draw
    becomes greedy: a temperature so small that the scaled logits overflow
    gives every character but the likeliest probability 0, which is that limit.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if length == 0:
        return ""
    prime = prime or vocab.start
    rng = np.random.default_rng(seed)
    out = []
    with evaluating(model):
        logits, state = model(vocab.encode(prime)[:, None])
        for _ in range(length):
            z = logits.data[-1, 0]
            with np.errstate(over="ignore"):  # (z - max) / tiny is -inf: probability 0, rightly
                p = np.exp((z - z.max()) / temperature)
            nxt = int(rng.choice(len(vocab), p=p / p.sum()))
            out.append(nxt)
            logits, state = model(np.array([[nxt]]), state)
    return prime + vocab.decode(out)


RUN_KEYS = ("model", "optimizer", "step", "rng", "vocab", "config", "hidden", "counters")


def load_run(path):
    """A training run's checkpoint, loaded; a CheckpointError naming the file if it is not a
    minigrad checkpoint, or is one but not of a training run."""
    checkpoint = load(path)
    missing = [k for k in RUN_KEYS if k not in checkpoint] if isinstance(checkpoint, dict) else []
    if not isinstance(checkpoint, dict) or missing:
        lacking = f" (it lacks {', '.join(missing)})" if missing else ""
        raise CheckpointError(
            f"{path} is a minigrad checkpoint, but not of a training run{lacking}"
        )
    return checkpoint


def newest_checkpoint(folder):
    """The newer of a run folder's checkpoint.npz and latest.npz: its path, and it loaded."""
    folder = Path(folder)
    on_grid = load_run(folder / CHECKPOINT)
    if not (folder / LATEST).exists():
        return folder / CHECKPOINT, on_grid
    latest = load_run(folder / LATEST)
    if latest["step"] >= on_grid["step"]:
        return folder / LATEST, latest
    return folder / CHECKPOINT, on_grid


def config_from(saved):
    """A Config from a saved dict: options this version does not know are ignored, and options
    the file lacks take their defaults."""
    known = {f.name for f in fields(Config)}
    return Config(**{k: v for k, v in saved.items() if k in known})


def load_for_sampling(checkpoint):
    """(model, vocabulary, the file used, its step) from a run folder (its newest checkpoint)
    or a checkpoint file."""
    path = Path(checkpoint)
    path, saved = newest_checkpoint(path) if path.is_dir() else (path, load_run(path))
    config = config_from(saved["config"])
    vocab = Vocabulary(saved["vocab"], saved.get("vocab_counts"))
    model = build_model(config, len(vocab))
    model.load_state_dict(saved["model"])
    return model, vocab, path, int(saved["step"])


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
    save_figure(fig, Path(out) / "loss.png", dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(steps, [r["grad_norm"] for r in rows], label="gradient norm before clipping")
    if clip > 0:
        ax.axhline(clip, color="C3", linestyle="--", label=f"clip threshold {clip:g}")
    ax.set_xlabel("step")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, Path(out) / "grad_norm.png", dpi=90)
    plt.close(fig)
