"""Grading: the learner's file run as a module, an exercise's grader run on it, and its verdict.

* ``load(path)`` compiles the file and runs it as a new module each time (no
  ``.pyc`` is written beside it and nothing stays in ``sys.modules``), so a check
  always reads the file as it is now.
* ``grade(exercise, namespace, path)`` runs the exercise's grader and returns a
  ``Verdict``: passed, with what was checked; or not, with the lines that say
  where (the case: values, shape, dtype; the entry), what was expected (SymPy's
  expression where there is one) and what came instead, and the typical
  mistake it looks like.
* An error raised in the learner's code is shown as theirs: its traceback
  trimmed to the frames of their file.

Graders raise ``Failure`` and wrap each case in ``case(text)``, which tells a
failure, or an error in the learner's code, which case it happened in.
"""

import signal
import traceback
import types
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..array_methods import TENSOR_REFUSED
from .blank import BLANK
from .folder import LearnError


@dataclass(frozen=True)
class Mistake:
    """A typical mistake: its name, and what it is and how to put it right."""

    name: str
    advice: str


class Failure(Exception):
    """A check found the code wrong: ``lines`` say where and how, ``mistake`` is the typical
    mistake the answer looks like (or None)."""

    def __init__(self, lines, mistake=None):
        super().__init__("\n".join(lines))
        self.lines, self.mistake = list(lines), mistake


@dataclass(frozen=True)
class Verdict:
    passed: bool
    lines: list
    mistake: Mistake = None


NUMPY_IN_A_RULE = Mistake(
    "a numpy function in a rule",
    "a rule gets Tensors when backward is itself recorded (create_graph=True), and numpy's "
    "functions refuse them: write the rule with operators and minigrad's ops (exp(x), not "
    "np.exp(x)), as the real code does",
)


def find(namespace, dotted):
    """``namespace.A.b`` for ``"A.b"``; a Failure saying what is missing if it is not there."""
    found = namespace
    for part in dotted.split("."):
        if not hasattr(found, part):
            raise Failure(
                [f"there is no {dotted} in your file: keep the name the exercise gave it"]
            )
        found = getattr(found, part)
    return found


@contextmanager
def case(text):
    """Whatever goes wrong inside, a failure or an error, happened in the case ``text``."""
    try:
        yield
    except Exception as error:
        if getattr(error, "learn_case", None) is None:
            error.learn_case = text
        raise


class StillRunning(Exception):
    """A check was still running when its guard ran out."""


@contextmanager
def loop_guard(seconds, what):
    """Raise ``StillRunning`` if the block is still running after ``seconds`` (the main thread
    only). A guard against a loop that never ends, never a verdict on speed: give it many
    times what the slowest machine needs."""

    def expire(signum, frame):
        raise StillRunning(f"{what} was still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- the learner's file --------------------------------------------------------------------------


class LoadError(Exception):
    """The learner's file could not be run: its error, shown as theirs."""


def load(path):
    """The learner's file, run as a new module: its namespace. Raises LoadError with the
    error shown as theirs if it does not run."""
    path = Path(path)
    source = path.read_text(encoding="utf-8")
    module = types.ModuleType(f"minigrad_learn_{path.parent.name.replace('-', '_')}")
    module.__file__ = str(path)
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - their code
    except Exception as error:
        raise LoadError("\n".join(shown_as_theirs(error, path))) from None
    return module


def shown_as_theirs(error, path, shown_as=None):
    """An error raised in the learner's file, as its traceback trimmed to that file's frames
    (a SyntaxError as Python shows one), with the file named as ``shown_as``."""
    path, shown_as = str(path), shown_as or str(path)
    if isinstance(error, SyntaxError):
        lines = traceback.format_exception_only(type(error), error)
        return [line.rstrip("\n").replace(path, shown_as) for line in lines]
    lines = _traceback_lines(_their_frames(error, path), shown_as)
    return lines + traceback.format_exception_only(type(error), error)[-1].rstrip().splitlines()


def _their_frames(error, path):
    """The frames in the file ``path`` of the first error in ``error``'s chain that has any
    (none if no error has)."""
    for raised in _chain(error):
        frames = [f for f in traceback.extract_tb(raised.__traceback__) if f.filename == path]
        if frames:
            return frames
    return []


def _traceback_lines(frames, shown_as):
    """``frames`` as Python prints a traceback, the file named as ``shown_as`` (no lines if
    there are no frames)."""
    lines = ["Traceback (most recent call last), in your file only:"] if frames else []
    for frame in frames:
        lines += [f'  File "{shown_as}", line {frame.lineno}, in {frame.name}']
        lines += [f"    {frame.line}"] if frame.line else []
    return lines


def _chain(error):
    """The error, then the errors it was raised from or while handling."""
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


# ---- a verdict -----------------------------------------------------------------------------------


def grade(exercise, namespace, path=None, shown_as=None):
    """The verdict on ``namespace`` (the learner's module from ``path``, or the package's)."""
    try:
        with np.errstate(all="ignore"):  # NaN and inf are the grader's to find and name
            checked = exercise.grade(namespace)
    except Failure as failure:
        return Verdict(False, _in_case(failure, failure.lines), failure.mistake)
    except LearnError:
        raise
    except NotImplementedError as error:
        blank = _blank_line(error, path)
        if blank is None:
            return _error_verdict(error, path, shown_as)
        where = f"{shown_as or path}, line {blank}"
        return Verdict(
            False, [f"{where} is still the blank: {BLANK}", f"write there: {exercise.write}"]
        )
    except Exception as error:
        return _error_verdict(error, path, shown_as)
    return Verdict(True, checked)


def _in_case(error, lines):
    where = getattr(error, "learn_case", None)
    return ([where] if where else []) + [f"  {line}" if where else line for line in lines]


def _blank_line(error, path):
    """The line of the learner's file that raised, if it is a blank left as it is."""
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    if path is not None and last and last.filename == str(path) and last.line == BLANK:
        return last.lineno
    return None


def _error_verdict(error, path, shown_as):
    mistake = NUMPY_IN_A_RULE if TENSOR_REFUSED in str(error) else None
    mistake = getattr(error, "learn_mistake", None) or mistake
    if path is None:
        shown = traceback.format_exception_only(type(error), error)[-1].rstrip().splitlines()
    else:
        shown = shown_as_theirs(error, path, shown_as)
    if not any(line.startswith("Traceback") for line in shown):
        shown = ["your code's result made minigrad raise:", *shown]
    return Verdict(False, _in_case(error, shown), mistake)
