"""An exercise and a module of the track, and the text of an exercise's files.

An ``Exercise`` names the real code it blanks (``source``, ``units``), says what it
asks, what to write and its hints, and carries its grader, ``grade(namespace)``: it
finds the units in ``namespace`` (the learner's file run as a module, or the
package's own module for ``--reference``), checks them, and returns the lines
saying what it checked, or raises ``grading.Failure``.
"""

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .blank import blanked


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    asks: str  # one line for the list: what to write
    source: str  # the module of the real code
    units: tuple  # what is blanked: "function" or "Class.method"
    task: str  # the task, at the top of the exercise file and in its README
    write: str  # what to write in place of the blank, said when the blank is checked
    hints: tuple
    grade: object  # grade(namespace) -> lines saying what was checked; raises Failure
    drop: tuple = ("jvp",)  # methods of a blanked class left out (forward mode's rule)
    module: object = field(default=None, repr=False, compare=False)  # set by track.py

    @property
    def units_text(self):
        """The units as a reader names them: ``Matmul.backward and _matmul_dy``, or
        ``set_grad_enabled's __init__, __enter__, __exit__ and __call__``."""
        classes = {unit.partition(".")[0] for unit in self.units}
        if len(self.units) > 2 and len(classes) == 1 and "." in self.units[0]:
            methods = [unit.partition(".")[2] for unit in self.units]
            return f"{classes.pop()}'s {', '.join(methods[:-1])} and {methods[-1]}"
        return " and ".join(self.units)

    @property
    def source_path(self):
        """The real code's file, relative to the folder that holds the package."""
        path = Path(sys.modules[self.source].__file__).resolve()
        return path.relative_to(Path(__file__).resolve().parents[2]).as_posix()

    def exercise_text(self, check_command, hint_command):
        """The exercise file: the task, then the real code with the units' bodies removed."""
        importlib.import_module(self.source)
        units = self.units_text
        header = [
            f"{self.id}: {self.title}  (module {self.module.number}, {self.module.title.lower()})",
            "",
            self.task.strip(),
            "",
            f"Below is {self.source_path} with the body of {units} removed: the signature and",
            "the docstring are the real code's.",
            "",
            f"    {check_command}    grade it",
            f"    {hint_command}    one more hint each time",
        ]
        doc = _undocumented(self)
        if doc:
            header += ["", f"{self.source_path} says:", "", doc]
        quoted = "\n".join(header).replace('"""', "'''")
        return f'"""{quoted}\n"""\n\n' + blanked(self.source, self.units, self.drop)

    def readme_text(self, folder, check_command, hint_command):
        """The exercise's short README."""
        return "\n".join(
            [
                f"# {self.id}: {self.title}",
                "",
                f"Module {self.module.number}, {self.module.title.lower()}. Edit "
                f"`{folder}/{self.id}/exercise.py`.",
                "",
                self.task.strip(),
                "",
                "## Check it",
                "",
                f"    {check_command}",
                "",
                f"It is graded {self.module.grader}. {check_command.split(' --')[0]} --reference "
                "grades the package's own code: what passing looks like.",
                "",
                "## Stuck",
                "",
                f"    {hint_command}",
                "",
                f"prints one more hint each time ({len(self.hints)} in all).",
                "",
                "## Then",
                "",
                f"Read the package's own version: {self.units_text} in {self.source_path}.",
                "",
            ]
        )


def _undocumented(exercise):
    """The real module's docstring, for a blanked function that has none of its own."""
    module = sys.modules[exercise.source]
    for unit in exercise.units:
        if "." not in unit and not getattr(module, unit).__doc__ and module.__doc__:
            return module.__doc__.strip()
    return None


@dataclass(frozen=True)
class Module:
    number: int
    title: str
    grader: str  # how its exercises are graded, completing "It is graded ..."
    exercises: tuple
    optional: bool = False
