"""The learner's folder: their exercise files, each exercise's README, and their progress.

    minigrad-learn/              (the default; ``--dir`` gives another)
      progress.json              hints given and the last check's result, by exercise
      sigmoid/exercise.py        the learner's code: written once by ``learn start``
      sigmoid/README.md

Nothing here ever replaces a file the learner has: a new file is written
beside its final name and linked into place only if that name is free, and
``progress.json`` (the track's own file) is replaced atomically, and only
after it was read and checked. A folder inside the package is refused.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..files import replacing, temporary_name

DEFAULT = "minigrad-learn"
PROGRESS = "progress.json"
PACKAGE = Path(__file__).resolve().parents[1]


class LearnError(Exception):
    """What the command as given cannot do (a file in the way, a progress file that is not
    one, an exercise not started, SymPy missing): one line, exit status 2."""

    status = 2


@dataclass
class Progress:
    """What the track keeps of a learner: hints given and the last check's result, by id."""

    hints: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)  # id -> "passed" or "failed"

    def to_dict(self):
        return {"hints": self.hints, "results": self.results}

    @classmethod
    def from_dict(cls, saved, source, ids):
        """The progress saved in ``source``, checked: a LearnError names what is wrong."""
        hints, results = _hints_and_results(saved, source)
        _check_entries(hints, results, source, ids)
        return cls(dict(hints), dict(results))


def _hints_and_results(saved, source):
    """The two objects of ``{"hints": {...}, "results": {...}}``; a LearnError if ``saved``
    is not of that shape."""
    if not isinstance(saved, dict) or set(saved) != {"hints", "results"}:
        raise _not_progress(source, 'it is not {"hints": ..., "results": ...}')
    hints, results = saved["hints"], saved["results"]
    if not isinstance(hints, dict) or not isinstance(results, dict):
        raise _not_progress(source, "hints and results must be objects")
    return hints, results


def _check_entries(hints, results, source, ids):
    """Every key an exercise id, every hint count an int >= 0, every result "passed" or
    "failed"; a LearnError names the first entry that is not."""
    for key, value in hints.items():
        if key not in ids or type(value) is not int or value < 0:
            raise _not_progress(source, f"hints: {key!r}: {value!r}")
    for key, value in results.items():
        if key not in ids or value not in ("passed", "failed"):
            raise _not_progress(source, f"results: {key!r}: {value!r}")


def _not_progress(source, why):
    return LearnError(
        f"{source} is not the track's progress file ({why}); move it away, and the track "
        "starts a new one"
    )


class Folder:
    """A learner's folder, as given (``path``, shown as typed) and checked."""

    def __init__(self, path, ids):
        self.given = str(path)
        self.path = Path(path)
        self.ids = ids
        if self.path.exists() and not self.path.is_dir():
            raise LearnError(f"--dir {self.given}: a file is in the way; give a folder")
        if self.path.resolve().is_relative_to(PACKAGE):
            raise LearnError(
                f"--dir {self.given} is inside the minigrad package ({PACKAGE}); exercises go "
                "in a folder of your own"
            )

    def shown(self, *parts):
        """A path in the folder as the learner typed the folder."""
        return os.path.join(self.given, *parts)

    def exercise(self, id):
        return self.path / id / "exercise.py"

    def started(self, id):
        return self.exercise(id).is_file()

    # ---- progress --------------------------------------------------------------------------

    def progress(self):
        """The saved progress (empty if there is none yet), checked as it is read."""
        path = self.path / PROGRESS
        if not path.exists():
            return Progress()
        if not path.is_file():
            raise LearnError(f"{self.shown(PROGRESS)} is not a file; move it away")
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _not_progress(self.shown(PROGRESS), f"not JSON: {error}") from None
        return Progress.from_dict(saved, self.shown(PROGRESS), self.ids)

    def save(self, progress):
        self.path.mkdir(parents=True, exist_ok=True)
        with replacing(self.path / PROGRESS) as f:
            json.dump(progress.to_dict(), f, indent=1, sort_keys=True)
            f.write("\n")

    def status(self, id, progress):
        if progress.results.get(id) == "passed":
            return "passed"
        return "started" if self.started(id) else "not started"

    # ---- new files ---------------------------------------------------------------------------

    def start(self, id, files):
        """Write ``files`` ({name: text}) into the exercise's folder; a name already taken is
        kept as it is. Returns the names written. An existing exercise.py is refused."""
        folder = self.path / id
        if folder.exists() and not folder.is_dir():
            raise LearnError(
                f"{self.shown(id)}: a file is in the way; move it, or give "
                "another folder with --dir"
            )
        if self.exercise(id).exists():
            raise LearnError(
                f"{id} is already started: {self.shown(id, 'exercise.py')} is kept as it is "
                f"(to start again, move it away first)"
            )
        folder.mkdir(parents=True, exist_ok=True)
        return [name for name, text in files.items() if write_new(folder / name, text)]


def write_new(path, text):
    """Write ``path`` whole, only if no file has that name; whether it was written. The text
    goes to a temporary file first, linked into place, so a crash never leaves half of it."""
    tmp = path.parent / temporary_name(path.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True
