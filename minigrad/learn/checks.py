"""What the graders share: comparing numbers, showing them, and running cases.

* ``first_wrong``, ``same`` and ``compare`` compare the learner's numbers with the expected
  ones, and with the numbers each typical mistake gives, relative to the largest expected
  entry (so that an entry that is exactly 0 neither passes nor fails by accident);
* ``array_text`` shows an array on one line;
* ``run_cases`` runs a grader's cases in order, each failure taken for the case's typical
  mistake unless it names one of its own; ``in_place_of`` puts the learner's code in the
  engine's place for a while.
"""

from contextlib import contextmanager

import numpy as np

from .grading import Failure, case


def array_text(value):
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:
        return f"{float(value):.10g}"
    text = np.array2string(
        value, separator=", ", max_line_width=10**4, formatter={"float_kind": lambda x: f"{x:.4g}"}
    )
    return text.replace("\n", "")


def first_wrong(mine, want, tolerance):
    """The index of the first entry of ``mine`` off from ``want`` by more than ``tolerance``
    times the largest |want| (NaN counts as off), or None."""
    scale = np.max(np.abs(want), initial=0.0)
    off = ~(np.abs(mine - want) <= tolerance * scale)
    return tuple(int(i) for i in np.argwhere(off)[0]) if off.any() else None


def same(mine, theirs, want):
    """Whether ``mine`` are ``theirs`` (NaN for NaN, inf for inf), to 1e-8 of the larger of
    theirs and the expected entries."""
    scale = max(
        np.max(np.abs(theirs[np.isfinite(theirs)]), initial=0.0), np.max(np.abs(want), initial=0.0)
    )
    if mine.shape != theirs.shape:
        return False
    with np.errstate(invalid="ignore"):
        close = (mine == theirs) | (np.abs(mine - theirs) <= 1e-8 * scale)
    return bool(np.all(close | np.isnan(mine) & np.isnan(theirs)))


def compare(what, mine, want, variants=(), tolerance=1e-12):
    """A Failure unless ``mine`` is ``want`` (its shape; its entries to ``tolerance`` of the
    largest, NaN for NaN); it names the first variant, (Mistake, formula, array), that gives
    ``mine``."""
    mine = np.asarray(getattr(mine, "data", mine), dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if mine.shape != want.shape:
        raise Failure([f"{what}: yours has shape {mine.shape}, expected {want.shape}"])
    bad = _first_wrong_or_nan(mine, want, tolerance)
    if bad is None:
        return
    found = next(
        (v for v in variants if same(mine, np.asarray(v[2], dtype=np.float64), want)), None
    )
    entry = f", entry {list(bad)}" if bad else ""
    yours = f"; yours gives {found[1]}" if found else ""
    raise Failure(
        [f"{what}{entry}: expected {float(want[bad]):.10g}, yours {float(mine[bad]):.10g}{yours}"],
        found and found[0],
    )


def _first_wrong_or_nan(mine, want, tolerance):
    nan = np.isnan(want)
    if np.any(nan != np.isnan(mine)):
        return tuple(int(i) for i in np.argwhere(nan != np.isnan(mine))[0])
    with np.errstate(invalid="ignore"):
        infinite = ~np.isfinite(want) & ~nan
        if np.any(infinite & (mine != want)):
            return tuple(int(i) for i in np.argwhere(infinite & (mine != want))[0])
    finite = np.isfinite(want)
    return first_wrong(np.where(finite, mine, 0.0), np.where(finite, want, 0.0), tolerance)


def run_cases(cases, *args, after=None):
    """Run each (text, run, mistake) case as ``run(*args)``; a failure or an error in it is
    taken for the case's typical mistake, unless it names one of its own. ``after()`` runs
    after each case, whatever happened."""
    for i, (text, run, mistake) in enumerate(cases, 1):
        with case(f"case {i} of {len(cases)}: {text}"):
            try:
                run(*args)
            except Failure as failure:
                failure.mistake = failure.mistake or mistake
                raise
            except NotImplementedError:
                raise
            except Exception as error:
                error.learn_mistake = getattr(error, "learn_mistake", None) or mistake
                raise
            finally:
                if after is not None:
                    after()


@contextmanager
def in_place_of(module, name, value):
    """``module.name`` is ``value`` inside the block (the engine reads it from there)."""
    real = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, real)
