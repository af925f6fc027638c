"""A training run's folder: the files the run writes, and only those; and what a checkpoint
holds (``RunState``).

The run writes these files, and nothing else, in its folder:

==========================  =======================================================
``config.json``             the run's options (``Config``), rewritten on each resume
``metrics.csv``             the record: a row per logged step (``metrics.py``)
``checkpoint.npz``          the state every ``save_every`` steps; a rollback returns here
``latest.npz``              the state off that grid (a signal, a run's end)
``probe.csv``               with ``--probe``: a row per probed step and distance k
``loss.png``                with ``--plot``, and ``grad_norm.png`` beside it
``probe.png``               with ``--plot`` and ``--probe`` (``probe.py``)
``.minigrad-train.lock``    held (``flock``) by the process training in the folder
==========================  =======================================================

The adding task's folder (``task adding``) holds config.json, a metrics.csv
of its own columns, probe.csv and probe.png, under the same rules, and no
checkpoint.

A checkpoint is a ``RunState``, written by ``RunFolder.save`` through
``minigrad.save`` (atomic: a kill at any moment leaves the old file or the
new one). A kill can leave a write's temporary file (``.checkpoint.npz.<hex>.tmp``);
the next process to open the folder removes those of the run's own files.

A new run refuses a folder that holds any of these files (another run's, or
the user's own ``loss.png``), and never writes a file of another name.
Every file is checked when it is read: a checkpoint against the rules of the
options and the shapes of the model (``RunState.from_dict``), ``config.json``
as options, ``metrics.csv`` line by line. When the newer checkpoint cannot be
read, the run goes on from the other, and says so. A folder that cannot be
written, or that disappears while the run goes on, is an error that names the
last good checkpoint.
"""

import contextlib
import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import optim, probe
from .corpus import CorpusError, Vocabulary
from .creation import from_numpy
from .files import is_temporary, replacing
from .metrics import COLUMNS, MetricsFile, plot_metrics
from .models import build_model, flat_state
from .options import Config, OptionError
from .random import get_rng_state, set_rng_state
from .serialization import CheckpointError, load, save

CONFIG = "config.json"
METRICS = "metrics.csv"
CHECKPOINT = "checkpoint.npz"  # step 0 and every save_every steps: rollbacks return here
LATEST = "latest.npz"  # a state off that grid (a signal, a run's end); resume takes the newer
PROBE = "probe.csv"  # with --probe
PLOTS = ("loss.png", "grad_norm.png")
PROBE_PLOT = "probe.png"  # with --plot and --probe
RUN_FILES = (CONFIG, METRICS, CHECKPOINT, LATEST, PROBE)  # what makes a folder a run's
FILES = (*RUN_FILES, *PLOTS, PROBE_PLOT)  # every file a run writes, besides its lock
LOCK = ".minigrad-train.lock"


class RunFolderError(Exception):
    """The run folder cannot be used. ``status`` is the command line's exit status: 2 when the
    folder given is wrong (another run's, a file), 1 when it fails while in use (busy, not
    writable, gone)."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


class RunFolderBusy(RunFolderError):
    """Another process is training in the run folder."""

    def __init__(self, message):
        super().__init__(message, status=1)


# ---- what a checkpoint holds --------------------------------------------------------------------


@dataclass(eq=False)
class RunState:
    """Everything a run needs to go on exactly where it was: the one list of what a checkpoint
    holds. ``to_dict`` is the checkpoint; ``from_dict`` reads one back, checked.

    The random state is minigrad's generator (``minigrad.random``): ``to_dict`` takes it,
    ``load`` puts it back. ``hidden`` is the state carried from one step to the next (None,
    a Tensor, or the LSTM's (h, c)); the counters feed the metrics.
    """

    config: Config
    vocab: Vocabulary
    text_sha256: str
    model: object
    optimizer: object
    step: int = 0
    hidden: object = None
    clipped: int = 0
    rollbacks: int = 0
    loss_sum: float = 0.0
    loss_count: int = 0

    @classmethod
    def new(cls, config, vocab, text_sha256):
        """Step 0: the model initialised from ``config.seed``, and its optimiser."""
        model = build_model(config, len(vocab))
        if config.optim == "adam":
            optimizer = optim.Adam(model.parameters(), lr=config.lr)
        else:
            optimizer = optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
        return cls(config, vocab, text_sha256, model, optimizer)

    def params(self):
        return list(self.model.parameters())

    def to_dict(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "rng": get_rng_state(),
            "vocab": self.vocab.chars,
            "vocab_counts": self.vocab.counts,
            "text_sha256": self.text_sha256,
            "config": self.config.to_dict(),
            "hidden": None if self.hidden is None else [s.data for s in flat_state(self.hidden)],
            "counters": {
                "clipped": self.clipped,
                "rollbacks": self.rollbacks,
                "loss_sum": self.loss_sum,
                "loss_count": self.loss_count,
            },
        }

    @classmethod
    def from_dict(cls, saved, source):
        """The state ``saved`` (a loaded checkpoint) holds, its model and optimiser built from
        its config; a CheckpointError naming ``source`` if any part of it is wrong."""
        config = check_run(saved, source)
        vocab = Vocabulary(saved["vocab"], saved.get("vocab_counts"))
        state = cls.new(config, vocab, saved.get("text_sha256"))
        state.load(saved, source)
        return state

    def load(self, saved, source):
        """Put the state ``saved`` holds into this one, in place: the model and the optimiser
        stay the same objects, so a compiled step still fits (a rollback's way back)."""
        check_run(saved, source)
        _load_part(self.model.load_state_dict, saved["model"], source,
                   "its weights do not fit the model its config describes")  # fmt: skip
        finite = all(np.isfinite(p.data).all() for p in self.model.parameters())
        _check(finite, source, "its weights are not all finite (a run never saves such)")
        hidden = _hidden(saved["hidden"], self.config, source)
        _load_part(self.optimizer.load_state_dict, saved["optimizer"], source,
                   "its optimiser state does not fit the model")  # fmt: skip
        covered, total = len(self.optimizer.state), len(self.params())
        _check(covered in (0, total), source, f"its optimiser state covers {covered} of "
               f"{total} parameters")  # fmt: skip
        _load_part(set_rng_state, saved["rng"], source, "its random state cannot be restored")
        counters = saved["counters"]
        self.step, self.hidden = saved["step"], hidden
        self.clipped, self.loss_sum = counters["clipped"], float(counters["loss_sum"])
        self.loss_count = counters["loss_count"]
        self.rollbacks = max(self.rollbacks, counters["rollbacks"])  # they count on after one


RUN_KEYS = ("model", "optimizer", "step", "rng", "vocab", "config", "hidden", "counters")
EDITED = "it was edited, damaged, or written by another version of minigrad"
COUNTERS = {"clipped": int, "rollbacks": int, "loss_sum": float, "loss_count": int}


def check_run(saved, source):
    """The Config of the training run's checkpoint ``saved``, after checking the parts that
    need no model: its keys, config, step, counters and vocabulary."""
    missing = [k for k in RUN_KEYS if k not in saved] if isinstance(saved, dict) else RUN_KEYS
    if missing:
        lacking = f" (it lacks {', '.join(missing)})" if isinstance(saved, dict) else ""
        raise CheckpointError(f"{source} is a minigrad checkpoint, but not of a training run"
                              f"{lacking}")  # fmt: skip
    try:
        config = Config.from_dict(saved["config"], f"the config in {source}")
    except OptionError as error:
        raise CheckpointError(f"{error}; {EDITED}") from None
    _check(_count(saved["step"]), source, f"its step {saved['step']!r} is not a count")
    _check(_counters_fit(saved["counters"]), source, "its counters are damaged")
    _check_vocabulary(saved["vocab"], saved.get("vocab_counts"), source)
    return config


def _counters_fit(counters):
    if not isinstance(counters, dict) or any(k not in counters for k in COUNTERS):
        return False
    return all(_count(counters[k]) if kind is int else _number(counters[k])
               for k, kind in COUNTERS.items())  # fmt: skip


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check(ok, source, problem):
    if not ok:
        raise CheckpointError(f"{source}: {problem}; {EDITED}")


def _check_vocabulary(chars, counts, source):
    _check(_is_vocabulary(chars), source, "its vocabulary is damaged")
    fits = counts is None or isinstance(counts, list) and len(counts) == len(chars)
    _check(fits and all(_count(n) for n in counts or ()), source,
           "its character counts are damaged")  # fmt: skip


def _is_vocabulary(chars):
    """Distinct single characters, in the sorted order a Vocabulary keeps them (the weights'
    rows follow it)."""
    if not isinstance(chars, list) or not chars:
        return False
    return all(isinstance(c, str) and len(c) == 1 for c in chars) and chars == sorted(set(chars))


def _hidden(arrays, config, source):
    """The carried state from its saved arrays: None, a Tensor, or the LSTM's (h, c)."""
    if arrays is None:
        return None
    shape = (config.layers, config.batch, config.hidden)
    n = 2 if config.model == "lstm" else 1
    ok = isinstance(arrays, list) and len(arrays) == n
    ok = ok and all(isinstance(a, np.ndarray) and a.shape == shape and a.dtype.kind == "f"
                    for a in arrays)  # fmt: skip
    _check(ok, source, f"its carried hidden state does not have the shape {shape} its config gives")
    tensors = tuple(from_numpy(np.array(a)) for a in arrays)
    return tensors if n == 2 else tensors[0]


def _load_part(load_into, value, source, problem):
    """``load_into(value)``; a CheckpointError saying ``problem`` and the first reason given."""
    try:
        load_into(value)
    except (RuntimeError, TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        reasons = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = f" ({reasons[1] if len(reasons) > 1 else reasons[0]})" if reasons else ""
        raise CheckpointError(f"{source}: {problem}{detail}; {EDITED}") from None


def load_run(path):
    """The training run's checkpoint at ``path``, loaded and checked as far as it can be
    without building its model (``check_run``); a CheckpointError naming the file otherwise."""
    try:
        saved = load(path)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except CheckpointError as error:  # its message names the file; "load: " is the library's
        raise CheckpointError(str(error).removeprefix("load: ")) from None
    check_run(saved, path)
    return saved


def read_newest(folder, say):
    """(path, checkpoint, the names of checkpoint files that could not be read) for the newer
    of a folder's checkpoint.npz and latest.npz. When one cannot be read, ``say`` warns, and
    the other is used; when neither can, a CheckpointError names both."""
    folder = Path(folder)
    found, problems = [], {}
    for name in (CHECKPOINT, LATEST):
        if not os.path.lexists(folder / name):
            continue
        try:
            saved = load_run(folder / name)
        except CheckpointError as error:
            problems[name] = str(error)
            continue
        found.append((saved["step"], name == LATEST, name, saved))
    if not found:
        if problems:
            raise CheckpointError(f"{'; and '.join(problems.values())}; {folder} holds no other "
                                  "checkpoint that can be read")  # fmt: skip
        raise CheckpointError(f"{folder} holds no {CHECKPOINT} to continue from")
    step, _, name, saved = max(found, key=lambda item: item[:2])
    for problem in problems.values():
        say(f"warning: {problem}; using {folder / name} (step {step}) instead")
    return folder / name, saved, list(problems)


# ---- the folder ---------------------------------------------------------------------------------


class RunFolder:
    """A run folder held by this process: ``create`` one for a new run, or ``open`` one to
    resume. It knows every file the run writes, and its lock; ``say`` prints a warning.
    ``columns`` are metrics.csv's (the adding task's differ from training's)."""

    def __init__(self, path, say, columns=COLUMNS):
        self.path = Path(path)
        self.say = say
        self.lock = None
        self.metrics = MetricsFile(self.path / METRICS, say, columns)
        self.probe = MetricsFile(self.path / PROBE, say, probe.COLUMNS, keys=2)
        self.steps = {}  # file name: the step of the state in it, as far as this process knows

    @classmethod
    def create(cls, path, say, numbered=False, columns=COLUMNS):
        """A new run's folder, made if need be and locked. With ``numbered``, a folder that
        exists already is not used: ``path-2``, ``path-3``... instead (two runs started in
        the same second). A folder holding any of the run's files is refused before it is
        locked, and again once it is (another process may have started meanwhile)."""
        folder = cls(_make_folder(Path(path), numbered), say, columns)
        folder._refuse_files()
        folder._acquire(status=2)
        try:
            folder._refuse_files()
        except RunFolderError:
            folder.release()
            raise
        return folder

    def _refuse_files(self):
        found = self.present()
        if found:
            held = [name for name in found if name in RUN_FILES]
            plots = f"{', '.join(found)}, which --plot writes"
            what = f"a run ({', '.join(held)})" if held else plots
            raise RunFolderError(f"{self.path} already holds {what}; continue a run with "
                                 f"--resume {self.path}, or choose another folder")  # fmt: skip

    @classmethod
    def open(cls, path, say):
        """A run's folder, to resume it: locked."""
        path = Path(path)
        if not path.is_dir():
            problem = "no such folder" if not os.path.lexists(path) else "not a folder"
            raise RunFolderError(f"{path}: {problem}; --resume takes a run's folder")
        folder = cls(path, say)
        folder._acquire(status=1)
        return folder

    def _acquire(self, status):
        """Lock the folder, then remove the temporary files a killed write left. A new run's
        folder that cannot be used is the wrong --out (status 2); a resumed run's names the
        last good checkpoint (status 1)."""
        try:
            self.lock = _lock(self.path)
            for entry in os.scandir(self.path):
                if any(is_temporary(entry.name, name) for name in FILES):
                    os.unlink(entry.path)
        except OSError as error:
            reason = os.strerror(error.errno) if error.errno else str(error)
            failure = (
                self.failed(error, "use the folder")
                if status == 1
                else RunFolderError(
                    f"cannot use {self.path} as a run folder ({reason}); choose another --out"
                )
            )
            self.release()
            raise failure from None

    def release(self):
        """Unlock the folder and remove the lock file (if it is still this folder's)."""
        if self.lock is not None and not self.lock.closed:
            if _same_file(self.path / LOCK, self.lock):
                with contextlib.suppress(OSError):  # a folder made read-only keeps the file
                    (self.path / LOCK).unlink(missing_ok=True)
            self.lock.close()

    def present(self):
        """The run's files that are in the folder."""
        return [name for name in FILES if os.path.lexists(self.path / name)]

    # ---- checkpoints ----------------------------------------------------------------------

    def save(self, state, on_grid):
        """Write ``state``: to checkpoint.npz ``on_grid`` (and drop latest.npz, which is older
        now), else to latest.npz."""
        name = CHECKPOINT if on_grid else LATEST
        self._writing(lambda: save(state.to_dict(), self.path / name), f"write {name}")
        self.steps[name] = state.step
        if on_grid:
            self.drop_latest()

    def drop_latest(self):
        """Remove latest.npz: a rollback has gone back past it, or a checkpoint is newer."""
        self._writing(lambda: (self.path / LATEST).unlink(missing_ok=True), f"remove {LATEST}")
        self.steps.pop(LATEST, None)

    def newest(self):
        """(path, checkpoint, the names of files that could not be read) of the newest
        checkpoint (``read_newest``)."""
        path, saved, unreadable = read_newest(self.path, self.say)
        self.steps[path.name] = saved["step"]
        return path, saved, unreadable

    def rollback_point(self):
        """The checkpoint on the save grid, which a rollback returns to."""
        try:
            saved = load_run(self.path / CHECKPOINT)
        except CheckpointError as error:
            self.steps.pop(CHECKPOINT, None)
            raise RunFolderError(
                f"cannot roll back: {error}; the run stopped, and {last_good(self)}", status=1
            ) from None
        self.steps[CHECKPOINT] = saved["step"]
        return saved

    def checkpoint_step(self):
        """The step of checkpoint.npz (None if it cannot be read)."""
        if CHECKPOINT not in self.steps:
            try:
                self.steps[CHECKPOINT] = load_run(self.path / CHECKPOINT)["step"]
            except (CheckpointError, OSError):
                return None
        return self.steps[CHECKPOINT]

    # ---- config.json and metrics.csv ------------------------------------------------------

    def read_config(self):
        """The options in config.json, as written or as edited since (a dict), or None if there
        is no config.json; an error naming the file if it is not a JSON object."""
        path = self.path / CONFIG
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            reason = getattr(error, "strerror", None) or getattr(error, "msg", None) or error
            raise RunFolderError(f"cannot read {path} ({reason}); fix it, or remove it (the "
                                 "checkpoint holds the run's options too)") from None  # fmt: skip
        if not isinstance(values, dict):
            raise RunFolderError(f"{path} is not a set of options; fix it, or remove it")
        return values

    def write_config(self, config):
        def write():
            with replacing(self.path / CONFIG, encoding="utf-8") as f:
                f.write(json.dumps(config.to_dict(), indent=2) + "\n")

        self._writing(write, f"write {CONFIG}")

    def start_record(self, probed=False):
        """metrics.csv's header, and with ``probed`` probe.csv's."""
        self._writing(self.metrics.start, f"write {METRICS}")
        if probed:
            self._writing(self.probe.start, f"write {PROBE}")

    def log(self, row):
        self._writing(lambda: self.metrics.append(row), f"write {METRICS}")

    def log_probe(self, rows):
        self._writing(lambda: self.probe.append(*rows), f"write {PROBE}")

    def keep_rows_until(self, step, probed=False):
        """Keep the rows of metrics.csv and probe.csv up to ``step``; with ``probed``, a
        probe.csv the run lacks (the probe is new to it) is started."""
        self._writing(lambda: self.metrics.keep_until(step), f"write {METRICS}")
        if os.path.lexists(self.probe.path):
            self._writing(lambda: self.probe.keep_until(step), f"write {PROBE}")
        elif probed:
            self._writing(self.probe.start, f"write {PROBE}")

    def plot(self, clip):
        """loss.png and grad_norm.png from metrics.csv (``metrics.plot_metrics``); their
        paths."""
        loss, grad_norm = (self.path / name for name in PLOTS)
        rows = self.metrics.read()
        self._writing(lambda: plot_metrics(rows, clip, loss, grad_norm), "write the plots")
        return loss, grad_norm

    def plot_probe(self, nonlinearity=None, last_step_loss=True):
        """probe.png from probe.csv (``probe.plot``; the arguments are its); its path."""
        path = self.path / PROBE_PLOT
        rows = self.probe.read()
        self._writing(lambda: probe.plot(rows, path, nonlinearity, last_step_loss),
                      "write the plots")  # fmt: skip
        return path

    # ---- failures -------------------------------------------------------------------------

    def _lost(self):
        """Whether the folder was locked by this process and is no longer the one at this path
        (it was moved or removed, or its lock file was)."""
        return self.lock is not None and not self.lock.closed and not _same_file(
            self.path / LOCK, self.lock)  # fmt: skip

    def _writing(self, write, doing):
        if self._lost():
            raise self.failed(OSError(errno.ENOENT, "moved"), doing)
        try:
            write()
        except OSError as error:
            raise self.failed(error, doing) from None

    def failed(self, error, doing, status=1):
        """The error for this folder when ``doing`` failed with ``error`` (``failure``)."""
        return failure(self, error, doing, status)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _make_folder(path, numbered):
    """Make the folder ``path`` (with ``numbered``, the first of path, path-2, ... that does
    not exist); a RunFolderError, exit status 2, if it cannot be made."""
    try:
        if not numbered:
            path.mkdir(parents=True, exist_ok=True)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            candidate = path if n == 1 else path.with_name(f"{path.name}-{n}")
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                continue
        raise RunFolderError(f"{path} and 998 numbered folders beside it exist; give --out")
    except FileExistsError:
        what = "a symbolic link, not to a folder" if path.is_symlink() else "a file, not a folder"
        raise RunFolderError(f"{path} is {what}; choose another --out") from None
    except OSError as error:
        raise RunFolderError(f"cannot create the run folder {path}: {error.strerror}; choose "
                             "another --out") from None  # fmt: skip


def _lock(folder):
    """The open lock file of ``folder``, locked with ``flock`` (released by the system if the
    process dies), holding this process's id. Never follows a symbolic link."""
    import fcntl

    path = folder / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except IsADirectoryError:
        raise RunFolderError(
            f"{path} is a folder; minigrad keeps a run's lock there: remove it"
        ) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RunFolderError(f"{path} is a symbolic link; minigrad keeps a run's lock "
                                 "there: remove it") from None  # fmt: skip
        raise
    file = os.fdopen(fd, "r+", encoding="utf-8")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = file.read().strip() or "another process"
        file.close()
        raise RunFolderBusy(
            f"{folder} is in use: process {holder} is training in it; wait for it to end"
        ) from None
    if not _same_file(path, file):
        file.close()  # the holder released it and removed the file as we locked it
        raise RunFolderBusy(f"{folder} changed hands just now; try again")
    file.truncate(0)
    file.write(str(os.getpid()))
    file.flush()
    return file


def _same_file(path, file):
    """Whether ``path`` still names the open ``file``."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(file.fileno()).st_ino
    except OSError:
        return False


def load_for_sampling(checkpoint, say):
    """(model, vocabulary, the file used, its step) from a run folder (its newest readable
    checkpoint) or a checkpoint file, every part checked."""
    path = Path(checkpoint)
    if path.is_dir():
        path, saved, _ = read_newest(path, say)
    else:
        saved = load_run(path)
    state = RunState.from_dict(saved, path)
    return state.model, state.vocab, path, state.step


def check_data(state, data, source, folder):
    """Raise unless ``data`` is the text the run ``state`` (read from ``source``) trained on,
    and the state carries a hidden state wherever the text does not start over."""
    if state.text_sha256 not in (None, data.sha256) or state.vocab.chars != data.vocab.chars:
        raise CorpusError(
            f"the text is not the one the run in {folder} trained on (its SHA-256 differs); "
            "a resumed run needs the same text"
        )
    starts_over = state.step % len(data.train) == 0
    _check(state.hidden is not None or starts_over, source, "its carried hidden state is missing")


def failure(folder, error, doing, status=1):
    """The RunFolderError for a folder that cannot be used while ``doing``: it names what
    went wrong (the folder gone, its lock removed, the system's reason) and the last good
    checkpoint, and says how to go on."""
    lost = folder._lost()
    lock_removed = lost and os.fstat(folder.lock.fileno()).st_nlink == 0
    if not folder.path.is_dir() or (lost and not lock_removed):
        return RunFolderError(
            f"the run folder {folder.path} is gone (moved or removed while in use), so nothing "
            f"more can be saved; {last_good(folder, gone=True)}: if the folder was moved, "
            "continue it from its new place with --resume NEW_PLACE",
            status,
        )
    if lock_removed:
        return RunFolderError(
            f"the lock {folder.path / LOCK} was removed or replaced while the run went on, so "
            "another process may be using the folder: nothing more is written to it; "
            f"{last_good(folder)}: continue with --resume {folder.path}",
            status,
        )
    reason = os.strerror(error.errno) if error.errno else str(error)
    return RunFolderError(
        f"cannot {doing} in {folder.path} ({reason}); {last_good(folder)}; fix that, then "
        f"continue with --resume {folder.path}",
        status,
    )


def last_good(folder, gone=False):
    """Which checkpoint a user can go on from: the newest ``folder`` (a RunFolder) wrote or
    read, or (when it knows none) the newest it holds."""
    if not folder.steps and not gone:
        with contextlib.suppress(CheckpointError, OSError):
            path, saved, _ = read_newest(folder.path, lambda message: None)
            folder.steps[path.name] = saved["step"]
    if not folder.steps:
        return "no checkpoint of it can be read"
    step, name = max((step, name) for name, step in folder.steps.items())
    if gone:
        return f"its last good checkpoint was {name} (step {step})"
    return f"the last good checkpoint is {folder.path / name} (step {step})"
