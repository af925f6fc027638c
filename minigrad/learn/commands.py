"""What ``python -m minigrad learn`` does: list the track, start, check and hint an exercise.

Each function prints to stdout and returns the exit status: 0, or 1 for a check
that did not pass. A folder or file that is not what the track needs is a
``LearnError`` (one line, exit status 2), reported by the command line.
"""

import importlib
import textwrap

from . import grading
from .folder import DEFAULT, Folder, LearnError
from .track import BY_ID, EXERCISES, MODULES

WIDTH = 100


def command(action, folder):
    """``python -m minigrad learn ACTION ...`` as the learner typed it, with ``--dir`` when the
    folder is not the default."""
    where = "" if folder.given == DEFAULT else f" --dir {folder.given}"
    return f"python -m minigrad learn {action}{where}"


def open_folder(path):
    return Folder(path, set(BY_ID))


# ---- the list ------------------------------------------------------------------------------------


def listing(folder):
    progress = folder.progress()
    statuses = {e.id: folder.status(e.id, progress) for e in EXERCISES}
    passed = sum(s == "passed" for s in statuses.values())
    lines = [
        f"The exercise track: {len(EXERCISES)} exercises in {len(MODULES)} modules, in the "
        "reading order of docs/study.md.",
        f"Your folder: {folder.given} ({passed} of {len(EXERCISES)} passed)",
    ]
    width = max(len(e.id) for e in EXERCISES)
    for module in MODULES:
        optional = " (optional)" if module.optional else ""
        lines += ["", f"{module.number}. {module.title}{optional}, graded {module.grader}"]
        for e in module.exercises:
            lines.append(f"   {e.id:<{width}}  {statuses[e.id]:<11}  {e.title}")
            lines.append(f"   {'':<{width}}  {'':<11}  {e.asks}")
    lines += ["", _next_step(statuses, folder)]
    print("\n".join(lines))
    return 0


def _next_step(statuses, folder):
    for e in EXERCISES:
        if statuses[e.id] != "passed":
            action = "check" if statuses[e.id] == "started" else "start"
            return f"next: {command(f'{action} {e.id}', folder)}"
    return "every exercise is passed"


def ids():
    print("\n".join(e.id for e in EXERCISES))
    return 0


# ---- start ---------------------------------------------------------------------------------------


def start(exercise, folder):
    folder.progress()  # a progress file that is not one is refused before anything is written
    check_command = command(f"check {exercise.id}", folder)
    hint_command = command(f"hint {exercise.id}", folder)
    files = {
        "exercise.py": exercise.exercise_text(check_command, hint_command),
        "README.md": exercise.readme_text(folder.given, check_command, hint_command),
    }
    written = folder.start(exercise.id, files)
    shown = [folder.shown(exercise.id, name) for name in written]
    print(f"{exercise.id}: {exercise.title}. Wrote {' and '.join(shown)}.")
    kept = [name for name in files if name not in written]
    if kept:
        print(f"Kept the {' and '.join(kept)} already in {folder.shown(exercise.id)}.")
    print(f"Write {exercise.units_text} in {folder.shown(exercise.id, 'exercise.py')},")
    print(f"then: {check_command}")
    return 0


# ---- check ---------------------------------------------------------------------------------------


def check(exercise, folder, reference=False):
    units = exercise.units_text
    if reference:
        namespace = importlib.import_module(exercise.source)
        verdict = grading.grade(exercise, namespace)
        title = f"{exercise.id}, the package's own {units} ({exercise.source_path})"
    else:
        verdict, progress = _learners_verdict(exercise, folder)
        title = f"{exercise.id} ({units})"
        progress.results[exercise.id] = "passed" if verdict.passed else "failed"
        folder.save(progress)
    print(f"{title}: {'passed' if verdict.passed else 'not passed'}")
    print("\n".join(verdict.lines))
    if not verdict.passed:
        if verdict.mistake is not None:
            mistake = verdict.mistake
            print(_wrap(f"This looks like a typical mistake, {mistake.name}: {mistake.advice}."))
        print(f"A hint: {command(f'hint {exercise.id}', folder)}")
    elif not reference:
        print(_after(exercise, folder))
    return 0 if verdict.passed else 1


def _learners_verdict(exercise, folder):
    path = folder.exercise(exercise.id)
    if not path.is_file():
        raise LearnError(
            f"{exercise.id} is not started (no {folder.shown(exercise.id, 'exercise.py')}); "
            f"start it with: {command(f'start {exercise.id}', folder)}"
        )
    progress = folder.progress()
    shown = folder.shown(exercise.id, "exercise.py")
    try:
        namespace = grading.load(path)
    except grading.LoadError as error:
        return grading.Verdict(False, str(error).splitlines()), progress
    return grading.grade(exercise, namespace, path, shown), progress


def _after(exercise, folder):
    later = EXERCISES[EXERCISES.index(exercise) + 1 :]
    step = f"next: {command(f'start {later[0].id}', folder)}" if later else "that was the last."
    return f"Read the package's own version in {exercise.source_path}; {step}"


# ---- hint ----------------------------------------------------------------------------------------


def hint(exercise, folder):
    progress = folder.progress()
    given = progress.hints.get(exercise.id, 0)
    total = len(exercise.hints)
    if given >= total:
        print(f"{exercise.id}: no more hints ({total} of {total} given).")
        print(f"What passing looks like: {command(f'check {exercise.id}', folder)} --reference")
        print(f"The package's own version: {exercise.units_text} in {exercise.source_path}")
        return 0
    progress.hints[exercise.id] = given + 1
    folder.save(progress)
    print(f"{exercise.id}, hint {given + 1} of {total}:")
    print(_wrap(exercise.hints[given], indent="  "))
    return 0


def _wrap(text, indent=""):
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)
