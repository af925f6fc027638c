"""Every option of a training run, declared once, on ``Config``.

Each field of ``Config`` is an option. Its default is the field's default; its
``Option`` (in the field's metadata) holds the rest: the help, the ``Kind`` of
value it takes (a type and a range), its choices, what a resumed run may do
with it, and which models or optimisers it applies to. From that one
declaration come:

* the command line's arguments (``add_arguments``): ``train``'s, and those
  ``task adding`` shares with it (``shared`` copies a declaration, with a
  default of the task's own where it differs);
* the check of every value, from the command line, from Python or from a
  file (``check``): a config read back from a checkpoint or from config.json
  meets the same rules (``Config.from_dict``);
* the refusal of an option given where it does not apply (``check_applies``),
  such as ``--nonlinearity`` with ``--model lstm``;
* the resume rules (``Config.resumed``), which the library and the command
  line both go through;
* an option that may be given alone, without its value (``--probe``): it then
  takes another option's value (``alone``, here ``--log-every``'s), settled
  when the config is made (``settle``), so a resumed run's own value counts.
"""

import argparse
import json
import math
import os
from dataclasses import dataclass, field, fields, replace

# What a resumed run may do with an option.
KEEP = "keep"  # it defines the model or the data: given again, it must equal the run's
CHANGE = "change"  # it may change (the run length, the rate, logging, the closing sample)
MOVE = "move"  # the text: a new path is accepted if its content is the run's (checked by SHA-256)
FOLDER = "folder"  # --out: a resumed run stays in its folder


class OptionError(ValueError):
    """A bad option value, or options that do not go together; the message names them and
    says what to do."""


@dataclass(frozen=True)
class Kind:
    """The values an option takes: a Python type, a test on the value, and how to say what is
    wanted (``"a positive integer"``)."""

    type: type
    ok: object
    wanted: str

    def parse(self, text):
        """The value written as ``text``, or an OptionError saying what was wanted."""
        try:
            value = self.type(text)
        except ValueError:
            raise OptionError(f"expected {self.wanted}, got {text!r}") from None
        if not self.ok(value):
            raise OptionError(f"expected {self.wanted}, got {text!r}")
        return value

    def accepts(self, value):
        """Whether ``value`` (from Python or a file) is of this kind; an int is a float too,
        a bool is neither."""
        if isinstance(value, bool):
            return False
        if self.type is float and isinstance(value, int):
            value = float(value) if abs(value) < 2**1023 else math.inf  # beyond float64
        return isinstance(value, self.type) and bool(self.ok(value))


POSITIVE_INT = Kind(int, lambda v: v > 0, "a positive integer")
NON_NEGATIVE_INT = Kind(int, lambda v: v >= 0, "a non-negative integer")
POSITIVE = Kind(float, lambda v: 0 < v < math.inf, "a positive number")
NON_NEGATIVE = Kind(float, lambda v: 0 <= v < math.inf, "a non-negative number")
PROBABILITY = Kind(float, lambda v: 0 <= v < 1, "a probability in [0, 1)")
TEXT = Kind(str, lambda v: True, "text")
PATH = Kind(str, lambda v: v != "" and "\0" not in v, "a path")


@dataclass(frozen=True)
class Option:
    """An option's declaration, beside its default on a dataclass field (see ``option``).

    ``applies`` is (field, values): the option applies only while that field has one of the
    values, e.g. ``("model", ("rnn",))``; None means always. ``alone`` names the option whose
    value it takes when given alone on the command line (None: it needs a value)."""

    help: str
    kind: Kind
    choices: tuple = None
    resume: str = KEEP
    applies: tuple = None
    metavar: str = None
    alone: str = None


def option(default, help, kind, **declared):
    """A dataclass field that is an option: ``default``, and the ``Option`` made of the rest."""
    return field(default=default, metadata={"option": Option(help, kind, **declared)})


def shared(cls, name, default=None, **changes):
    """Another dataclass's field for the option ``name`` of ``cls``, as declared there, with
    ``default`` (when given) and ``changes`` to its declaration (a help of its own)."""
    declared = next(f for f in fields(cls) if f.name == name)
    value = declared.default if default is None else default
    return field(
        default=value, metadata={"option": replace(declared.metadata["option"], **changes)}
    )


def options(cls):
    """The option fields of a dataclass (or of an instance's), in declaration order."""
    return [f for f in fields(cls) if "option" in f.metadata]


def flag(name):
    """An option's spelling on the command line: ``seq_len`` is ``--seq-len``."""
    return "--" + name.replace("_", "-")


def values_of(config):
    """{option: value} of a dataclass instance."""
    return {f.name: getattr(config, f.name) for f in options(config)}


def check(cls, values, spell=None):
    """Raise an OptionError unless each of ``values`` ({option: value}) is of its option's
    kind in ``cls`` and among its choices (None is allowed where it is the default).
    ``spell(name, value)`` says how the message shows the option, by default as on the
    command line."""
    spell = spell or (lambda name, value: f"{flag(name)} {value!r}")
    declared = {f.name: f for f in options(cls)}
    for name, value in values.items():
        f = declared[name]
        kind, choices = f.metadata["option"].kind, f.metadata["option"].choices
        if value is None and f.default is None:
            continue
        if not kind.accepts(value):
            raise OptionError(f"{spell(name, value)}: expected {kind.wanted}")
        if choices and value not in choices:
            raise OptionError(f"{spell(name, value)}: choose from {', '.join(choices)}")


def inapplicable(cls, values):
    """The options of ``cls`` that do not apply where the options are ``values`` (the others
    at their defaults): an option for another model or optimiser."""
    merged = {f.name: f.default for f in options(cls)} | values
    names = []
    for f in options(cls):
        applies = f.metadata["option"].applies
        if applies is not None and merged[applies[0]] not in applies[1]:
            names.append(f.name)
    return names


def check_applies(cls, values, names):
    """Raise an OptionError if one of the options ``names`` does not apply where the options
    are ``values``: given, it would be silently ignored."""
    for name in inapplicable(cls, values):
        if name in names:
            on, allowed = next(f for f in options(cls) if f.name == name).metadata["option"].applies
            allowed = " or ".join(map(str, allowed))
            raise OptionError(
                f"{flag(name)} applies to {flag(on)} {allowed} only, and this run's {flag(on)} "
                f"is {values.get(on)}; leave {flag(name)} out"
            )


class _Alone:
    """The value of an option given alone, until ``settle`` gives it its ``alone`` option's."""

    def __repr__(self):
        return "ALONE"


ALONE = _Alone()


def settle(config):
    """Give each option of ``config`` given alone (its value ``ALONE``) the value of the option
    its declaration names; in place, as a frozen dataclass's ``__post_init__`` may."""
    for f in options(config):
        if getattr(config, f.name) is ALONE:
            object.__setattr__(config, f.name, getattr(config, f.metadata["option"].alone))


def non_default(config):
    """The options of ``config`` whose value is not their default."""
    return [f.name for f in options(config) if getattr(config, f.name) != f.default]


# ---- the command line -------------------------------------------------------------------------


def add_arguments(parser, cls):
    """An argparse argument per option of ``cls``: its type checks the value as its Kind does,
    its help ends with the default, and it defaults to None, so that ``given`` can tell the
    options a user gave. An option that may be given alone is ``ALONE`` when it is."""
    for f in options(cls):
        declared = f.metadata["option"]
        shown = f" ({f.default})" if f.default is not None else ""
        alone = {"nargs": "?", "const": ALONE} if declared.alone else {}
        parser.add_argument(
            flag(f.name),
            type=argument_type(declared.kind),
            choices=declared.choices,
            default=None,
            metavar=declared.metavar,
            help=declared.help + shown,
            **alone,
        )


def argument_type(kind):
    """An argparse type that parses a value of ``kind``, or says what it wanted."""

    def parse(text):
        try:
            return kind.parse(text)
        except OptionError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = kind.wanted  # what argparse would name in a message of its own
    return parse


def given(args, cls):
    """The options of ``cls`` given on the command line parsed into ``args``: {name: value}."""
    return {
        f.name: getattr(args, f.name) for f in options(cls) if getattr(args, f.name) is not None
    }


# ---- the options of a training run --------------------------------------------------------------

MODELS = ("rnn", "lstm", "gru")
NONLINEARITIES = ("sigmoid", "tanh", "relu")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Config:
    """Every option of a training run; saved as config.json and inside each checkpoint.

    Made from Python, every value is checked as on the command line, and an option set
    to anything but its default where it does not apply is refused.
    """

    text: str = option(None, "train on this UTF-8 file instead of the frozen corpus of "
                       "minigrad's own source", PATH, resume=MOVE, metavar="FILE")  # fmt: skip
    model: str = option("gru", "recurrent core: rnn, lstm or gru", TEXT, choices=MODELS)
    nonlinearity: str = option("tanh", "for --model rnn: sigmoid, tanh or relu", TEXT,
                               choices=NONLINEARITIES, applies=("model", ("rnn",)))  # fmt: skip
    layers: int = option(1, "recurrent layers", POSITIVE_INT)
    hidden: int = option(192, "hidden units", POSITIVE_INT)
    embed: int = option(48, "embedding size", POSITIVE_INT)
    seq_len: int = option(64, "characters per step (truncated BPTT length)", POSITIVE_INT)
    batch: int = option(32, "parallel streams of text", POSITIVE_INT)
    steps: int = option(800, "total steps", POSITIVE_INT, resume=CHANGE)
    lr: float = option(3e-3, "learning rate", POSITIVE, resume=CHANGE)
    optim: str = option("adam", "optimiser: sgd or adam", TEXT, choices=OPTIMIZERS)
    momentum: float = option(0.0, "for --optim sgd: momentum", NON_NEGATIVE,
                             applies=("optim", ("sgd",)))  # fmt: skip
    clip: float = option(1.0, "max global gradient norm; 0 turns clipping off", NON_NEGATIVE)
    dropout: float = option(0.0, "dropout before the head and between layers; 0 is off",
                            PROBABILITY)  # fmt: skip
    seed: int = option(0, "random seed", NON_NEGATIVE_INT)
    out: str = option(None, "run folder (runs/MODEL-TIME)", PATH, resume=FOLDER, metavar="DIR")
    save_every: int = option(100, "steps between checkpoints", POSITIVE_INT, resume=CHANGE)
    log_every: int = option(50, "steps between metrics rows (with a validation pass)",
                            POSITIVE_INT, resume=CHANGE)  # fmt: skip
    probe: int = option(None, "every EVERY steps, record in probe.csv how far the loss's "
                        "gradient reaches back through the recurrent layer (given alone: every "
                        "--log-every steps)", POSITIVE_INT, resume=CHANGE,
                        applies=("layers", (1,)), metavar="EVERY", alone="log_every")  # fmt: skip
    val_chars: int = option(16384, "validation characters to predict, at most", POSITIVE_INT)
    max_rollbacks: int = option(5, "rollbacks allowed before giving up", NON_NEGATIVE_INT,
                                resume=CHANGE)  # fmt: skip
    sample_length: int = option(300, "characters of the closing sample", NON_NEGATIVE_INT,
                                resume=CHANGE)  # fmt: skip
    temperature: float = option(0.8, "temperature of the closing sample", POSITIVE,
                                resume=CHANGE)  # fmt: skip
    prime: str = option(None, "start of the closing sample (the text's most frequent "
                        "character)", TEXT, resume=CHANGE)  # fmt: skip

    def __post_init__(self):
        settle(self)
        values = values_of(self)
        check(Config, values)
        check_applies(Config, values, non_default(self))
        if self.val_chars < self.seq_len:
            raise OptionError(
                f"--seq-len {self.seq_len} is longer than --val-chars {self.val_chars}, and "
                "one validation chunk predicts --seq-len characters; give a shorter --seq-len "
                "or a larger --val-chars"
            )

    def to_dict(self):
        return values_of(self)

    @classmethod
    def from_dict(cls, saved, source):
        """The Config saved in ``source`` (a checkpoint's, or config.json), checked by the
        rules of the options. Options this version does not know are ignored, options the
        file lacks take their defaults, and one that does not apply to the saved model or
        optimiser (it had no effect) is read as its default."""
        if not isinstance(saved, dict):
            raise OptionError(f"{source}: its config is not a set of options")
        known = {f.name for f in options(cls)}
        values = {k: v for k, v in saved.items() if k in known}
        try:
            check(cls, values, spell=_in_file)
            for name in inapplicable(cls, values):
                values.pop(name, None)
            return cls(**values)
        except OptionError as error:
            raise OptionError(f"{source}: {error}") from None

    def edits(self, values, source):
        """The options in ``values`` (config.json as read, or None) whose value differs from
        this config's, checked by the rules (``out`` is where the folder is now, so it is left
        out): edits made by hand, which a resumed run takes as given options."""
        known = {f.name for f in options(self)} - {"out"}
        values = {k: v for k, v in (values or {}).items() if k in known}
        try:
            check(Config, values, spell=_in_file)
        except OptionError as error:
            raise OptionError(f"{source}: {error}") from None
        return {k: v for k, v in values.items() if v != getattr(self, k)}

    def resumed(self, changes, step, folder, where=None):
        """This run's Config, continued at ``step`` in ``folder`` with ``changes`` ({option:
        value}, from the command line or, when ``where`` names it, a file), by the resume
        rules: an option that defines the model or the data keeps its value (given again, it
        must be equal), the run may not end before ``step``, it stays in its folder, and a
        given option must apply."""
        if changes.get("text") is not None:  # stored absolute, so a run resumes from anywhere
            changes = {**changes, "text": os.path.abspath(changes["text"])}
        for name, value in changes.items():
            _check_resume_change(self, name, value, folder, where)
        if changes.get("steps", math.inf) < step:
            raise OptionError(
                f"--steps {changes['steps']}{_from(where)}: the run in {folder} is already at step "
                f"{step}; give at least that many"
            )
        config = replace(self, **{**changes, "out": str(folder)})
        check_applies(Config, values_of(config), changes)
        return config


def _from(where):
    return f" (in {where})" if where else ""


def _in_file(name, value):
    return f"{json.dumps(name)}: {json.dumps(value)}"


def _check_resume_change(config, name, value, folder, where):
    rule = next(f for f in options(config) if f.name == name).metadata["option"].resume
    saved = getattr(config, name)
    if rule == KEEP and value != saved:
        raise OptionError(
            f"{flag(name)} {value}{_from(where)}: the run in {folder} has {flag(name)} {saved}, "
            "which defines its model or data; a resumed run keeps it (start a new run with "
            "--out to change it)"
        )
    if rule == FOLDER and os.path.abspath(value) != os.path.abspath(folder):
        raise OptionError(f"--out {value}: a resumed run stays in its folder, {folder}")
