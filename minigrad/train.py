"""``minigrad train``: a character-level language model with clipping, checkpoints and rollback.

The loop is truncated backprop through time: ``batch`` streams of text are
read ``seq_len`` characters at a time, and the hidden state is carried from
one step to the next, detached, so gradients flow back at most ``seq_len``
steps. Each step clips the global gradient norm (``--clip``; 0 turns it off)
and records the norm from before clipping.

Exploding gradients show up as inf or NaN. When the loss, the gradient norm
or the parameters after an update are not finite, the step does not count:
the run goes back to its last checkpoint on the ``save_every`` grid, halves
the learning rate, and carries on; after ``max_rollbacks`` of those it stops
with a non-zero exit. A run resumed from its checkpoint continues exactly as
if it had never stopped.

The pieces, one file each: the options and the resume rules
(``options.Config``), the run folder and what a checkpoint holds
(``runfolder``: ``RunFolder``, ``RunState``), the record (``metrics``), the
text (``corpus.TextData``), the terminal (``terminal.Status``, the status
line's callback) and the signals (``signals``). This file is the run:
``Trainer``, whose ``run`` is the loop.
"""

import math
import os
import time
from dataclasses import replace

import numpy as np

from . import functional as F
from . import nn, optim, probe
from .compiler import CompiledFunction
from .corpus import CorpusError, TextData, bits, load_text
from .creation import from_numpy
from .grad_mode import no_grad
from .models import evaluating, flat_state, unflat_state
from .ops import stack
from .options import Config, values_of
from .runfolder import CHECKPOINT, CONFIG, LATEST, RunFolder, RunState, check_data
from .signals import SIGNALS, Interrupted
from .terminal import Status


class Stopped(Exception):
    """Training cannot go on (too many rollbacks); the message says why. Exit status 1."""

    status = 1


class Clock:
    """The time of one call of ``Trainer.run``: seconds since it began, those spent in
    validation passes, and the steps it made (counting steps a rollback undid)."""

    def __init__(self, tokens_per_step=0):
        self.started = time.perf_counter()
        self.tokens_per_step = tokens_per_step
        self.validating = 0.0
        self.steps = 0

    def elapsed(self):
        return time.perf_counter() - self.started

    def tokens_per_second(self):
        """Training speed: characters trained on per second, the validation passes left out."""
        return self.steps * self.tokens_per_step / max(self.elapsed() - self.validating, 1e-9)


class Trainer:
    """One run: its text (``data``), its state (``state``, a RunState), its folder (``folder``,
    a RunFolder, locked until ``run`` ends or ``close`` is called) and the step.

    A new run makes its folder (``out``, or ``runs/MODEL-TIME``) and writes the step-0
    checkpoint, config.json and the header of metrics.csv. With ``resume`` the run in ``out``
    goes on from its newest checkpoint, and ``config`` holds the changes (a dict, a Config
    whose differing options are the changes, or None), which follow the resume rules
    (``Config.resumed``), as edits to config.json do. ``status`` (a ``terminal.Status``) hears
    each step's metrics and each note. Signals are held from here to the end of ``run``.
    """

    def __init__(self, config, out=None, resume=False, compiled=True, status=None, signals=None):
        self.status = status or Status()
        self.signals = signals or SIGNALS
        self.last_val = self.last_norm = self.last_loss = float("nan")
        self.fault = None  # why the last step did not count
        self.reading = None  # the probe's reading of the last step (--probe), or None
        self.rows = []  # the rows logged by run()
        self.clock = Clock()
        with self.signals.hold():
            set_up = _resume if resume else _start
            self.data, self.state, self.folder = set_up(config, out, self.signals, self.status.say)
        self.params = list(self.state.model.parameters())
        # The step's forward, traced once and replayed (minigrad.compile), or eager: the
        # results are the same bit for bit, so a run may switch between them.
        step = self._loss_and_state
        self.loss_and_state = CompiledFunction(step) if compiled else step

    @property
    def config(self):
        return self.state.config

    # ---- one step -------------------------------------------------------------------------

    def train_step(self):
        """Forward, backward, clip and update on the next chunk. Returns False, with the reason
        in ``fault``, when the loss, the gradient norm or the updated parameters are not
        finite: the step does not count (the model is then to be rolled back)."""
        s, every = self.state, self.config.probe
        inputs, targets, restart = self.data.train.get(s.step)
        if restart:
            s.hidden = None
        # An exploding run overflows here; that is detected below and rolled back.
        with np.errstate(over="ignore", invalid="ignore"):
            probed = every is not None and (s.step + 1) % every == 0
            self.reading = self.probe_step(inputs, targets) if probed else None
            loss, *hidden = self.loss_and_state(
                from_numpy(inputs), from_numpy(targets), *flat_state(s.hidden)
            )
            s.optimizer.zero_grad()
            loss.backward()
            if self.config.clip > 0:
                norm = nn.utils.clip_grad_norm_(self.params, self.config.clip).item()
            else:
                norm = nn.utils.get_total_norm([p.grad for p in self.params]).item()
            self.last_norm, self.last_loss = norm, loss.item()
            self.fault = _non_finite(self.last_loss, norm) or self._update()
        if self.fault:
            return False
        s.hidden = _detached(unflat_state(hidden))
        s.clipped += int(self.config.clip > 0 and norm > self.config.clip)
        s.loss_sum += bits(self.last_loss)
        s.loss_count += 1
        s.step += 1
        return True

    def _update(self):
        """Update the parameters; the fault if that made one of them non-finite."""
        self.state.optimizer.step()
        if all(np.isfinite(p.data).all() for p in self.params):
            return None
        lr = self.state.optimizer.param_groups[0]["lr"]
        return f"the update made the parameters non-finite (learning rate {lr:g}); it is undone"

    def _loss_and_state(self, inputs, targets, *state):
        """The mean cross-entropy of a chunk, and the final state (its tensors, flat)."""
        logits, hidden = self.state.model(inputs, unflat_state(state))
        return (self._loss(logits, targets), *flat_state(hidden))

    def _loss(self, logits, targets):
        return F.cross_entropy(logits.reshape(-1, len(self.data.vocab)), targets.reshape(-1))

    def probe_step(self, inputs, targets):
        """The probe's Reading (``probe.measure``) of the step about to train on ``inputs``, from
        the carried state, for the step's loss: the mean cross-entropy over every step of the
        chunk, without dropout (its draws would change the run's random stream)."""
        model, targets = self.state.model, from_numpy(targets)
        with no_grad():
            xs = model.embedding(from_numpy(inputs))
        h0 = unflat_state(t[0] for t in flat_state(self.state.hidden))  # the one layer's

        def loss(states):
            return self._loss(model.head(stack(states)), targets)

        return probe.measure(model.rnn.cell(0), xs, loss, h0)

    def rollback(self):
        """Back to the last checkpoint with half the learning rate (or stop)."""
        s, folder = self.state, self.folder
        s.rollbacks += 1
        lr = s.optimizer.param_groups[0]["lr"]
        self.status.say(f"step {s.step + 1}: {self.fault}")
        if s.rollbacks > self.config.max_rollbacks:
            raise _diverged(s, folder)
        rates = [group["lr"] for group in s.optimizer.param_groups]
        s.load(folder.rollback_point(), folder.path / CHECKPOINT)
        for group, rate in zip(s.optimizer.param_groups, rates):
            group["lr"] = rate  # the checkpoint holds an older rate; halve the current one
        folder.drop_latest()  # ahead of the step rolled back to
        folder.keep_rows_until(s.step, probed=self.config.probe is not None)
        self.rows = [row for row in self.rows if row["step"] <= s.step]
        new_lr = optim.lr_scheduler.scale_lr_(s.optimizer, 0.5)[0]
        self.status.say(
            f"rollback {s.rollbacks}/{self.config.max_rollbacks}: back to step {s.step}, "
            f"learning rate {lr:g} -> {new_lr:g}"
        )

    def train_step_or_rollback(self):
        """One step; when it does not count, the rollback instead. Returns whether a step was
        made."""
        if self.train_step():
            return True
        self.rollback()
        return False

    # ---- measuring ------------------------------------------------------------------------

    def validate(self):
        """Bits per character on the validation text (``validation_bits``)."""
        return validation_bits(self.state.model, self.data)

    def row(self):
        """The metrics as they stand (``val_bpc`` from the latest validation pass)."""
        s = self.state
        return {
            "step": s.step,
            "train_bpc": s.loss_sum / s.loss_count if s.loss_count else float("nan"),
            "val_bpc": self.last_val,
            "grad_norm": self.last_norm,
            "clipped_share": s.clipped / max(s.step, 1),
            "lr": s.optimizer.param_groups[0]["lr"],
            "rollbacks": s.rollbacks,
            "tokens_per_s": self.clock.tokens_per_second(),
            "elapsed_s": self.clock.elapsed(),
        }

    def log(self, end=False):
        """Validate, then write a metrics row. ``train_bpc`` is the mean since the previous
        row on the ``log_every`` grid: a run's last row off that grid (``end``) leaves the
        sum running, so a run continued later logs the rows an uninterrupted run would."""
        began = time.perf_counter()
        self.last_val = self.validate()
        self.clock.validating += time.perf_counter() - began
        row = self.row()
        if not end:
            self.state.loss_sum, self.state.loss_count = 0.0, 0
        self.folder.log(row)
        self.rows.append(row)
        self._show(row, logged=True)

    def _show(self, row, logged):
        """Tell the status line: the row, and the time left at this call's pace."""
        left = (self.config.steps - row["step"]) * row["elapsed_s"] / max(self.clock.steps, 1)
        self.status.show(row, self.config.steps, left, logged)

    # ---- the loop -------------------------------------------------------------------------

    def run(self):
        """Train up to ``config.steps``; returns the rows logged. The last step is always
        logged. A signal saves the state at the end of the step under way, then raises
        ``Interrupted``; the folder is released however the run ends."""
        self.rows, self.clock = [], Clock(self.config.batch * self.config.seq_len)
        try:
            with self.signals.hold():
                self._loop()
        finally:
            self.close()
            self.status.end()
        return self.rows

    def _loop(self):
        s, c = self.state, self.config
        while s.step < c.steps:
            self._stop_if_signalled()
            if not self.train_step_or_rollback():
                continue
            self.clock.steps += 1
            if self.reading is not None:
                self.folder.log_probe(self.reading.rows(s.step))
            if s.step % c.log_every == 0:
                self.log()
            else:
                self._show(self.row(), logged=False)
            if s.step % c.save_every == 0:
                self.folder.save(s, on_grid=True)
        if self.clock.steps and s.step % c.log_every:
            self.log(end=True)
        if self.clock.steps and s.step % c.save_every:
            self.folder.save(s, on_grid=False)  # the end of the run, off the save grid
        self._stop_if_signalled(saved=True)  # a signal during the last step

    def _stop_if_signalled(self, saved=False):
        signum = self.signals.take()
        if signum is not None:
            if not saved:
                self.folder.save(self.state, on_grid=False)
            raise Interrupted(signum, self.state.step, self.folder.path)

    def close(self):
        """Release the run folder (``run`` does when it ends)."""
        self.folder.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _diverged(state, folder):
    return Stopped(
        f"training diverged {state.rollbacks} times (--max-rollbacks "
        f"{state.config.max_rollbacks}); stopping. The last good checkpoint is "
        f"{folder.path / CHECKPOINT} (step {folder.checkpoint_step()}); to go on from it: "
        f"--resume {folder.path} with a lower --lr"
    )


def _non_finite(loss, norm):
    """The fault, if the loss or the gradient norm is not finite (nothing is updated then)."""
    if math.isfinite(loss) and math.isfinite(norm):
        return None
    what = "loss" if not math.isfinite(loss) else "gradient norm"
    return f"non-finite {what} (loss {loss:.3g}, gradient norm {norm:.3g}); no update applied"


@no_grad()
@np.errstate(over="ignore", invalid="ignore")
def validation_bits(model, data):
    """Bits per character of ``model`` on the validation text of ``data`` (a TextData), from a
    fresh state, in eval mode."""
    total, count, hidden = 0.0, 0, None
    with evaluating(model):
        for i in range(len(data.val)):
            inputs, targets, _ = data.val.get(i)
            logits, hidden = model(inputs, hidden)
            loss = F.cross_entropy(
                logits.reshape(-1, len(data.vocab)), targets.reshape(-1), reduction="sum"
            )
            total += loss.item()
            count += targets.size
    return bits(total / count)


# ---- setting a run up ---------------------------------------------------------------------------


def default_folder(config, prefix=""):
    """Where a run goes without --out: runs/MODEL-YYYYMMDD-HHMMSS (numbered if taken), the
    adding task's runs/adding-MODEL-... (``prefix`` "adding-")."""
    return os.path.join("runs", f"{prefix}{config.model}-{time.strftime('%Y%m%d-%H%M%S')}")


def _start(config, out, signals, say):
    """A new run: (data, state, folder), the folder made and its files written."""
    if config.text is not None:
        config = replace(config, text=os.path.abspath(config.text))
    data = _data(config, load_text(config.text))
    state = RunState.new(config, data.vocab, data.sha256)
    _stop_if_signalled_before(signals)
    out = out or config.out
    folder = RunFolder.create(out or default_folder(config), say, numbered=out is None)
    try:
        state.config = replace(config, out=str(folder.path))
        folder.save(state, on_grid=True)
        folder.write_config(state.config)
        folder.start_record(probed=config.probe is not None)
    except BaseException:
        folder.release()
        raise
    return data, state, folder


def _stop_if_signalled_before(signals):
    """Stop for a signal that came before the run folder was touched: nothing is saved."""
    signum = signals.take()
    if signum is not None:
        raise Interrupted(signum)


def _resume(changes, out, signals, say):
    """The run in ``out`` going on: (data, state, folder), with the changes applied."""
    _stop_if_signalled_before(signals)
    folder = RunFolder.open(out, say)
    try:
        path, saved, unreadable = folder.newest()
        state = RunState.from_dict(saved, path)
        saved_lr = state.config.lr
        state.config = _resumed_config(folder, state, changes)
        data = _data(state.config, _run_text(state.config, folder.path))
        check_data(state, data, path, folder.path)
        if state.config.lr != saved_lr:  # a new --lr: the rescue of a diverging run
            for group in state.optimizer.param_groups:
                group["lr"] = state.config.lr
        if CHECKPOINT in unreadable:  # so that a rollback has a checkpoint to go back to
            folder.save(state, on_grid=True)
        elif LATEST in unreadable:
            folder.drop_latest()
        folder.keep_rows_until(state.step, probed=state.config.probe is not None)
        folder.write_config(state.config)
    except BaseException:
        folder.release()
        raise
    return data, state, folder


def _resumed_config(folder, state, changes):
    """The run's config with the edits made to config.json, then ``changes``, by the resume
    rules."""
    saved, step = state.config, state.step
    if isinstance(changes, Config):
        theirs, ours = values_of(changes), values_of(saved)
        changes = {k: v for k, v in theirs.items() if v != ours[k] and k != "out"}
    changes = changes or {}
    edits = saved.edits(folder.read_config(), folder.path / CONFIG)
    edits = {k: v for k, v in edits.items() if k not in changes}  # the command line wins
    config = saved.resumed(edits, step, folder.path, where=folder.path / CONFIG)
    return config.resumed(changes, step, folder.path)


def _run_text(config, folder):
    if config.text is not None and not os.path.exists(config.text):
        raise CorpusError(
            f"the run's text {config.text} is missing; if it moved, give its new path with --text"
        )
    return load_text(config.text)


def _data(config, text):
    """The text ready for the run, after checking that the closing sample's prime is in it."""
    data = TextData.of(text, config.batch, config.seq_len, config.val_chars)
    try:
        data.vocab.encode(config.prime or "")
    except CorpusError as error:
        raise CorpusError(f"--prime {config.prime!r}: {error}") from None
    return data


def _detached(state):
    """A recurrent state cut from the graph, so the next step's gradient stops there."""
    return unflat_state(t.detach() for t in flat_state(state))
