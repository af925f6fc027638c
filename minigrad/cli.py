"""The command line: ``python -m minigrad COMMAND`` (or the ``minigrad`` script).

Commands:
  train       train the character-level language model (the main job)
  sample      generate text from a trained model's checkpoint
  task        the long-range tasks (the adding problem) that show vanishing and its fixes
  vanishing   print ‖∂h_T/∂h_k‖ against distance for σ-RNN, tanh-RNN, LSTM and GRU
  tour        the first example step by step: values, graph, backward, the chain rule by hand
  learn       the exercise track: write the engine's parts yourself, graded exactly

Every error is one line on stderr, never a traceback: exit status 2 when the
command as given cannot work (a bad option, a folder that holds another run, a
file that is not a checkpoint), 1 when something fails while it works (a
folder in use or gone, a diverging run, the output closed early), and 128 +
the signal's number after SIGINT, SIGTERM or SIGHUP (``signals.py``).
Training's options are declared once, on ``options.Config``; the parser is
generated from that declaration.
"""

import argparse
import math
import os
import re
import sys
from dataclasses import replace

from . import options
from .options import NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, OptionError, argument_type
from .signals import SIGNALS, Interrupted, as_interrupted, ignore_from_now, release_import_hold
from .terminal import Status, duration, safe_output, warn


class UsageError(Exception):
    """A bad option: reported in one line, exit status 2."""

    status = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def positive_floats(text):
    """Comma-separated positive, finite numbers."""
    return [_positive_in_list(part) for part in text.split(",")]


def _positive_in_list(text):
    try:
        return POSITIVE.parse(text)
    except OptionError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive numbers, got {text!r}"
        ) from None


def choices_list(allowed):
    def parse(text):
        values = [v.strip() for v in text.split(",") if v.strip()]
        unknown = [v for v in values if v not in allowed]
        if unknown or not values:
            raise argparse.ArgumentTypeError(
                f"unknown model {', '.join(unknown) or text!r}; choose from {', '.join(allowed)}"
            )
        return values

    return parse


def matplotlib_available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


PLOT_HINT = "install the plot extra with: pip install -e '.[plot]'"


def png_file(text):
    """A path for a PNG image: ending in .png, not a folder, in a writable folder."""
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name ending in .png")
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"expected a file name ending in .png, got {text!r}")
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write {text!r}: {folder} is not a writable folder"
        )
    return text


# ---- vanishing --------------------------------------------------------------------------------


def _add_vanishing(commands):
    from .vanishing import MODELS

    p = commands.add_parser(
        "vanishing",
        help="gradient norms against distance, with the bound (γλ₁)^d",
        description="Print ‖∂h_T/∂h_k‖₂ against the distance T − k, measured by the engine, for "
        "several γλ₁ (λ₁ in units of 1/γ), beside the bound (γλ₁)^(T−k).",
    )
    p.add_argument("--steps", type=argument_type(POSITIVE_INT), default=50,
                   help="sequence length T (50)")  # fmt: skip
    p.add_argument("--hidden", type=argument_type(POSITIVE_INT), default=32,
                   help="hidden units (32)")  # fmt: skip
    p.add_argument("--lambdas", type=positive_floats, default=[0.5, 1.0, 2.0, 4.0, 8.0],
                   help="values of γλ₁, comma-separated (0.5,1,2,4,8)")  # fmt: skip
    p.add_argument("--models", type=choices_list(MODELS), default=list(MODELS),
                   help="comma-separated, from sigmoid,tanh,lstm,gru (all)")  # fmt: skip
    p.add_argument("--seed", type=argument_type(NON_NEGATIVE_INT), default=0,
                   help="random seed (0)")  # fmt: skip
    p.add_argument("--plot", type=png_file, metavar="FILE.png",
                   help="also draw the curves (needs: pip install -e '.[plot]')")  # fmt: skip
    p.set_defaults(run=run_vanishing)


def run_vanishing(args):
    from . import vanishing

    for kind in args.models:
        for rate in args.lambdas:
            if not math.isfinite(vanishing.lambda1(kind, rate)):
                raise UsageError(f"--lambdas {rate:g}: for the {kind} model λ₁ = γλ₁/γ overflows "
                                 "float64; give values up to 4e307")  # fmt: skip
    results = vanishing.measure(args.models, args.lambdas, args.steps, args.hidden, args.seed)
    print(vanishing.table(results, args.steps))
    if args.plot:
        if not matplotlib_available():
            print(
                "minigrad vanishing: --plot needs matplotlib, which is not installed; "
                "install it with: pip install -e '.[plot]'  (the table above is complete)",
                file=sys.stderr,
            )
            return 1
        vanishing.plot(results, args.steps, args.plot)
        print(f"wrote {args.plot}")
    return 0


# ---- train ------------------------------------------------------------------------------------


def _add_train(commands):
    from .options import Config

    p = commands.add_parser(
        "train",
        help="train the character-level language model",
        description="Train a character-level language model with truncated BPTT, gradient "
        "clipping, checkpoints and rollback. Without --text it trains on minigrad's own source "
        "(the frozen corpus shipped with it).",
    )
    options.add_arguments(p, Config)
    p.add_argument("--resume", metavar="DIR",
                   help="continue the run in DIR (what may change: docs/training.md)")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.add_argument(
        "--plot",
        action="store_true",
        help="write loss.png and grad_norm.png (and with --probe probe.png) to the run folder",
    )
    p.add_argument("--no-compile", action="store_true",
                   help="run the step eagerly, not traced and replayed (same results)")  # fmt: skip
    p.set_defaults(run=run_train)


def run_train(args):
    """Set the run up and train, holding signals until the loop has ended; then the summary."""
    if args.plot and not matplotlib_available():
        raise UsageError(f"--plot needs matplotlib; {PLOT_HINT}")
    with SIGNALS.hold():
        trainer = _trainer(args)
        try:
            print("\n".join(banner(trainer, resumed=bool(args.resume))), flush=True)
            started_at = trainer.state.step
            rows = trainer.run()
        finally:
            trainer.close()
    try:
        _summary(trainer, started_at, rows)
        if args.plot:
            _plot(trainer)
    except Interrupted as error:  # after the run: it is saved
        raise Interrupted(error.signum, trainer.state.step, trainer.folder.path) from None
    return 0


def _trainer(args):
    from .options import Config, check_applies
    from .train import Trainer

    given = options.given(args, Config)
    status = Status(quiet=args.quiet)
    compiled = not args.no_compile
    if args.resume:
        return Trainer(given, args.resume, resume=True, compiled=compiled, status=status)
    check_applies(Config, given, given)
    return Trainer(Config(**given), compiled=compiled, status=status)


def banner(trainer, resumed):
    """What is about to run, in three lines: the folder, the model, the text."""
    from .corpus import CORPUS_NAME

    c, s = trainer.config, trainer.state
    core = f"{c.nonlinearity}-rnn" if c.model == "rnn" else c.model
    n_params = sum(p.data.size for p in trainer.params)
    total, train, val = trainer.data.sizes
    where = f"resumed at step {s.step} of {c.steps}" if resumed else f"{c.steps} steps"
    return [
        f"run folder: {trainer.folder.path}  ({where})",
        f"model: {core}, {c.layers} layer(s) of {c.hidden} units, embedding {c.embed}: "
        f"{n_params:,} parameters; {c.optim}, learning rate "
        f"{s.optimizer.param_groups[0]['lr']:g}, clip {c.clip:g}",
        f"text: {c.text or CORPUS_NAME}: {total:,} characters, "
        f"{len(trainer.data.vocab)} distinct; {train:,} for training, {val - 1:,} to predict "
        "in validation",
    ]


def _summary(trainer, started_at, rows):
    """What the run did, how good the model is, where it is, and a sample of its text."""
    from .models import generate

    c, s, vocab = trainer.config, trainer.state, trainer.data.vocab
    final = rows[-1]["val_bpc"] if rows and rows[-1]["step"] == s.step else trainer.validate()
    print(
        f"trained steps {started_at}..{s.step} of {c.steps} in "
        f"{duration(trainer.clock.elapsed())} "
        f"({trainer.clock.tokens_per_second() / 1000:.1f}k tok/s, validation passes not counted); "
        f"{s.clipped} steps clipped in all, {s.rollbacks} rollbacks"
    )
    print(
        f"validation: {final:.3f} bits per character   (unigram baseline "
        f"{trainer.data.unigram:.3f}; uniform over {len(vocab)} characters "
        f"{math.log2(len(vocab)):.3f})"
    )
    files = sorted(f for f in trainer.folder.present() if f.endswith((".npz", ".csv", ".json")))
    print(f"run folder: {trainer.folder.path}  ({', '.join(files)})")
    if c.sample_length:
        text = generate(s.model, vocab, c.prime or vocab.start, c.sample_length, c.temperature,
                        c.seed)  # fmt: skip
        print(f"sample (temperature {c.temperature:g}, seed {c.seed}):\n{text}")


def _plot(trainer):
    c = trainer.config
    loss, grad_norm = trainer.folder.plot(c.clip)
    if c.probe is None:
        print(f"wrote {loss} and {grad_norm}")
        return
    nonlinearity = c.nonlinearity if c.model == "rnn" else None
    path = trainer.folder.plot_probe(nonlinearity, last_step_loss=False)
    print(f"wrote {loss}, {grad_norm} and {path}")


# ---- sample -----------------------------------------------------------------------------------


def _add_sample(commands):
    p = commands.add_parser(
        "sample",
        help="generate text from a checkpoint",
        description="Print text generated by a trained language model. Without --prime it "
        "starts from the training text's most frequent character.",
    )
    p.add_argument("--checkpoint", required=True, metavar="DIR",
                   help="a run folder (its newest checkpoint), or a checkpoint file")  # fmt: skip
    p.add_argument(
        "--prime", default="", help="text to start from (the text's most frequent character)"
    )
    p.add_argument("--length", type=argument_type(NON_NEGATIVE_INT), default=400,
                   help="characters to generate (400)")  # fmt: skip
    p.add_argument("--temperature", type=argument_type(POSITIVE), default=0.8,
                   help="sampling temperature (0.8)")  # fmt: skip
    p.add_argument("--seed", type=argument_type(NON_NEGATIVE_INT), default=0,
                   help="random seed (0)")  # fmt: skip
    p.set_defaults(run=run_sample)


def run_sample(args):
    from .models import generate
    from .runfolder import load_for_sampling

    if not os.path.lexists(args.checkpoint):
        raise UsageError(f"no checkpoint at {args.checkpoint!r}")
    model, vocab, path, step = load_for_sampling(args.checkpoint, say=warn)
    text = generate(model, vocab, args.prime, args.length, args.temperature, args.seed)
    print(f"sampling from {path} (step {step})", file=sys.stderr)
    if step == 0:
        print(f"warning: {path} is from step 0: the model is untrained", file=sys.stderr)
    if text:
        print(text)
    return 0


# ---- task -------------------------------------------------------------------------------------


def _add_task(commands):
    from .tasks import AddingConfig

    p = commands.add_parser(
        "task",
        help="long-range tasks: the adding problem",
        description="Train on the adding problem: the sum of two marked values among T. "
        "Always predicting 1 scores an MSE of 1/6. Each run writes a run folder (--out).",
    )
    p.add_argument("name", choices=("adding",), help="the task")
    options.add_arguments(p, AddingConfig)
    p.add_argument("--quiet", action="store_true", help="print the result only")
    p.add_argument("--plot", action="store_true",
                   help="with --probe: write probe.png to the run folder")  # fmt: skip
    p.add_argument("--no-compile", action="store_true",
                   help="run the step eagerly, not traced and replayed (same results)")  # fmt: skip
    p.set_defaults(run=run_task)


def run_task(args):
    """Train on the task in a run folder of its own: config.json, metrics.csv, and with
    --probe probe.csv (and with --plot probe.png)."""
    from .options import check_applies
    from .runfolder import RunFolder
    from .tasks import BASELINE, COLUMNS, AddingConfig
    from .train import default_folder

    if args.plot and not matplotlib_available():
        raise UsageError(f"--plot needs matplotlib; {PLOT_HINT}")
    given = options.given(args, AddingConfig)
    check_applies(AddingConfig, given, given)
    config = AddingConfig(**given)
    if args.plot and config.probe is None:
        raise UsageError("--plot draws the probe's picture (probe.png); give --probe too")
    name = config.model if config.model != "rnn" else f"{config.nonlinearity}-rnn"
    print(
        f"adding problem, T = {config.length}, {name}: "
        f"baseline (always predict 1) MSE = {BASELINE:.4f}"
    )
    out = config.out or default_folder(config, "adding-")
    with RunFolder.create(out, warn, numbered=config.out is None, columns=COLUMNS) as folder:
        mse, seconds = _adding_in(folder, replace(config, out=str(folder.path)), args)
    print(
        f"final test MSE {mse_text(mse)} (baseline {BASELINE:.4f}) "
        f"after {config.steps} steps in {seconds:.0f}s"
    )
    if not math.isfinite(mse):
        print(
            f"minigrad task: error: training diverged (test MSE {mse}); lower --lr, or clip "
            "with --clip",
            file=sys.stderr,
        )
        return 1
    return 0


def _adding_in(folder, config, args):
    """Train on the adding task, writing its files to ``folder`` (a RunFolder) as it goes."""
    from .tasks import run_adding

    folder.write_config(config)
    folder.start_record(probed=config.probe is not None)
    print(f"run folder: {folder.path}", flush=True)

    def report(step, train, test):
        folder.log({"step": step, "train_mse": train, "test_mse": test})
        if not args.quiet:
            print(f"step {step:>6}  train MSE {mse_text(train)}  test MSE {mse_text(test)}",
                  flush=True)  # fmt: skip

    def probed(step, reading):
        folder.log_probe(reading.rows(step))

    result = run_adding(config, report, compiled=not args.no_compile, probed=probed)
    if args.plot:
        rnn = config.model == "rnn"
        print(f"wrote {folder.plot_probe(config.nonlinearity if rnn else None)}")
    return result


def mse_text(value):
    """An MSE to 4 decimals, or in scientific notation when that would take too many digits."""
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"


# ---- tour -------------------------------------------------------------------------------------


def _add_tour(commands):
    p = commands.add_parser(
        "tour",
        help="the first example step by step: values, graph, backward, the chain rule by hand",
        description="Run y = σ(Wx + b) and show its forward values, its graph, the backward "
        "pass as the engine ran it, and every gradient beside the chain rule written out by "
        "hand.",
    )
    p.add_argument("--png", type=png_file, metavar="FILE.png",
                   help="draw the graph to FILE.png (needs: pip install -e '.[plot]')")  # fmt: skip
    p.set_defaults(run=run_tour)


def run_tour(args):
    from .tour import tour

    if args.png and not matplotlib_available():
        raise UsageError(f"--png needs matplotlib; {PLOT_HINT}")
    text, largest = tour(args.png)
    print(text)
    return 0 if largest < 1e-12 else 1


# ---- learn ------------------------------------------------------------------------------------


def _add_learn(commands):
    p = commands.add_parser(
        "learn",
        help="the exercise track: write the engine's parts yourself, graded exactly",
        description="The exercise track (docs/learn.md): the real code with its body removed, "
        "graded by SymPy, the engine's spec, BPTT by hand and PyTorch's numbers. Without an "
        "action it lists the track and your progress.",
    )
    p.add_argument("--ids", action="store_true", help="print only the ids, one a line")
    _add_learn_dir(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    for name, help_text in (
        ("start", "write an exercise into your folder (never over a file there)"),
        ("check", "grade your code (exit status 0: passed, 1: not yet)"),
        ("hint", "print the next hint"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("id", type=exercise_id, metavar="ID", help="the exercise")
        _add_learn_dir(action)
        if name == "check":
            action.add_argument("--reference", action="store_true",
                                help="grade the package's own code instead")  # fmt: skip
    p.set_defaults(run=run_learn)


def _add_learn_dir(parser):
    parser.add_argument("--dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="your exercises' folder (./minigrad-learn)")  # fmt: skip


def exercise_id(text):
    from .learn.track import BY_ID

    if text not in BY_ID:
        raise argparse.ArgumentTypeError(
            f"no exercise {text!r}; the ids are {', '.join(BY_ID)} (minigrad learn lists them)"
        )
    return BY_ID[text]


def run_learn(args):
    from .learn import commands
    from .learn.folder import DEFAULT

    if args.ids:
        if args.action or "dir" in args:
            raise UsageError("--ids prints the ids alone; give it without an action or --dir")
        return commands.ids()
    folder = commands.open_folder(getattr(args, "dir", DEFAULT))
    if args.action is None:
        return commands.listing(folder)
    if args.action == "check":
        return commands.check(args.id, folder, args.reference)
    return getattr(commands, args.action)(args.id, folder)


# ---- main -------------------------------------------------------------------------------------


def build_parser():
    parser = _Parser(
        prog="minigrad", description="minigrad's language model, experiments and tools"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train(commands)
    _add_sample(commands)
    _add_task(commands)
    _add_vanishing(commands)
    _add_tour(commands)
    _add_learn(commands)
    return parser


COMMANDS = ("train", "sample", "task", "vanishing", "tour", "learn")
NO_COMMAND = (f"no command given; choose one of {', '.join(COMMANDS)} (options go after the "
              "command: minigrad train --steps 100)")  # fmt: skip
# A negative number, which argparse would take for an option: "-1e-3", "-.5", "-inf".
NEGATIVE_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|-(inf|infinity|nan)", re.I)


def _join_negative_values(argv):
    """``--lr -1e-3`` as ``--lr=-1e-3``, so that the option's own check names the value."""
    joined = []
    for arg in argv:
        after_option = joined and joined[-1].startswith("--") and "=" not in joined[-1]
        if after_option and NEGATIVE_NUMBER.fullmatch(arg):
            joined[-1] = f"{joined[-1]}={arg}"
        else:
            joined.append(arg)
    return joined


def main(argv=None):
    """Run a command; return its exit status (see the top of this file). Every error is one
    line on stderr."""
    safe_output()
    with SIGNALS:  # from here on, SIGINT, SIGTERM and SIGHUP stop the command in one line
        early = release_import_hold()
        argv = _join_negative_values(sys.argv[1:] if argv is None else list(argv))
        command = next((a for a in argv if a in COMMANDS), None)
        prefix = f"minigrad {command}" if command else "minigrad"
        if early is not None:
            return _stopped(Interrupted(early), prefix, command)
        if not argv:
            build_parser().print_help()
            return 2
        if command is None and argv[0].startswith("-") and not {"-h", "--help"} & set(argv):
            return _fail("minigrad", NO_COMMAND, 2)
        return _run(argv, prefix, command)


def entry():
    """The command (``python -m minigrad``, the ``minigrad`` script): ``main``'s status, with
    a second signal during the exit ignored, as the first has been dealt with."""
    status = main()
    ignore_from_now()
    return status


def _run(argv, prefix, command):
    from .corpus import CorpusError
    from .learn.folder import LearnError
    from .metrics import MetricsError
    from .runfolder import RunFolderError
    from .serialization import CheckpointError
    from .train import Stopped

    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (UsageError, OptionError, CorpusError, CheckpointError, MetricsError, RunFolderError,
            LearnError, Stopped) as error:  # fmt: skip
        return _fail(prefix, str(error), getattr(error, "status", 2))
    except KeyboardInterrupt as error:
        return _stopped(error, prefix, command)
    except BrokenPipeError:
        # The reader of the output (head, say) has gone: point stdout at nothing, so that
        # Python's last flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _fail(prefix, "the output was closed early", 1)
    except MemoryError:
        return _fail(prefix, "out of memory: the model or the text is too large for this "
                     "machine; give smaller sizes", 1)  # fmt: skip
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        return _fail(prefix, f"{error.strerror or error}{where}", 1)


def _fail(prefix, message, status):
    print(f"{prefix}: error: {message}", file=sys.stderr)
    return status


def _stopped(error, prefix, command):
    """The one line for a signal, and its exit status."""
    error = as_interrupted(error)
    if error.folder is not None:
        message = (f"{error.name} at step {error.step}: the run is saved in {error.folder}; "
                   f"continue with: python -m minigrad train --resume {error.folder}")  # fmt: skip
    elif command == "train":
        message = f"{error.name} before training began: nothing was saved"
    else:
        message = f"{prefix}: stopped by {error.name}"
    end_of_status_line = "\n" if sys.stderr.isatty() else ""
    print(f"{end_of_status_line}{message}", file=sys.stderr)
    return error.status
