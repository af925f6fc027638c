"""The command line: ``python -m minigrad COMMAND`` (or the ``minigrad`` script).

Commands:
  train       train the character-level language model (the main job)
  sample      generate text from a trained model's checkpoint
  task        the long-range tasks (the adding problem) that show vanishing and its fixes
  vanishing   print ‖∂h_T/∂h_k‖ against distance for σ-RNN, tanh-RNN, LSTM and GRU
  tour        the first example step by step: values, graph, backward, the chain rule by hand

A bad option gets a one-line error and exit status 2, never a traceback.
"""

import argparse
import math
import os
import re
import signal
import sys
import time


class UsageError(Exception):
    """A bad option: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _number(kind, text, ok, wanted):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
    return value


def non_negative_int(text):
    return _number(int, text, lambda v: v >= 0, "a non-negative integer")


def positive_int(text):
    return _number(int, text, lambda v: v > 0, "a positive integer")


def positive_float(text):
    return _number(float, text, lambda v: 0 < v < math.inf, "a positive number")


def non_negative_float(text):
    return _number(float, text, lambda v: 0 <= v < math.inf, "a non-negative number")


def probability(text):
    return _number(float, text, lambda v: 0 <= v < 1, "a probability in [0, 1)")


def positive_floats(text):
    """Comma-separated positive, finite numbers."""
    wanted = "comma-separated positive numbers"
    return [_number(float, part, lambda v: 0 < v < math.inf, wanted) for part in text.split(",")]


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


def writable_folder(text):
    """A folder that exists and is writable, or that can be created."""
    path = os.path.abspath(text)
    probe = path
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write to {text!r}: {probe} is not a writable folder"
        )
    return text


def existing_run(text):
    from .train import CHECKPOINT

    if not os.path.isfile(os.path.join(text, CHECKPOINT)):
        raise argparse.ArgumentTypeError(f"{text!r} holds no {CHECKPOINT} to continue from")
    return text


def checkpoint_path(text):
    from .train import CHECKPOINT

    file = os.path.join(text, CHECKPOINT) if os.path.isdir(text) else text
    if not os.path.isfile(file):
        raise argparse.ArgumentTypeError(f"no checkpoint at {file!r}")
    return text  # a run folder stays one: sampling takes its newest checkpoint


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


def _add_vanishing(commands):
    from .vanishing import MODELS

    p = commands.add_parser(
        "vanishing",
        help="gradient norms against distance, with the bound (γλ₁)^d",
        description="Print ‖∂h_T/∂h_k‖₂ against the distance T − k, measured by the engine, for "
        "several γλ₁ (λ₁ in units of 1/γ), beside the bound (γλ₁)^(T−k).",
    )
    p.add_argument("--steps", type=positive_int, default=50, help="sequence length T (50)")
    p.add_argument("--hidden", type=positive_int, default=32, help="hidden units (32)")
    p.add_argument("--lambdas", type=positive_floats, default=[0.5, 1.0, 2.0, 4.0, 8.0],
                   help="values of γλ₁, comma-separated (0.5,1,2,4,8)")  # fmt: skip
    p.add_argument("--models", type=choices_list(MODELS), default=list(MODELS),
                   help="comma-separated, from sigmoid,tanh,lstm,gru (all)")  # fmt: skip
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (0)")
    p.add_argument("--plot", type=png_file, metavar="FILE.png",
                   help="also draw the curves (needs: pip install -e '.[plot]')")  # fmt: skip
    p.set_defaults(run=run_vanishing)


def run_vanishing(args):
    from . import vanishing

    results = vanishing.measure(args.models, args.lambdas, args.steps, args.hidden, args.seed)
    print(vanishing.table(results, args.steps))
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
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

TRAINING_OPTIONS = {  # option: (type, help); defaults come from minigrad.train.Config
    "--text": (str, "train on this UTF-8 file instead of minigrad's own source"),
    "--model": (None, "recurrent core: rnn, lstm or gru"),
    "--nonlinearity": (None, "for --model rnn: sigmoid, tanh or relu"),
    "--layers": (positive_int, "recurrent layers"),
    "--hidden": (positive_int, "hidden units"),
    "--embed": (positive_int, "embedding size"),
    "--seq-len": (positive_int, "characters per step (truncated BPTT length)"),
    "--batch": (positive_int, "parallel streams of text"),
    "--lr": (positive_float, "learning rate"),
    "--optim": (None, "sgd or adam"),
    "--momentum": (non_negative_float, "SGD momentum"),
    "--clip": (non_negative_float, "max global gradient norm; 0 turns clipping off"),
    "--dropout": (probability, "dropout before the head and between layers; 0 is off"),
    "--seed": (non_negative_int, "random seed"),
    "--save-every": (positive_int, "steps between checkpoints"),
    "--log-every": (positive_int, "steps between metrics rows (with a validation pass)"),
    "--val-chars": (positive_int, "validation characters to predict, at most"),
    "--max-rollbacks": (non_negative_int, "rollbacks allowed before giving up"),
    "--sample-length": (non_negative_int, "characters of the closing sample"),
    "--temperature": (positive_float, "temperature of the closing sample"),
    "--prime": (str, "start of the closing sample (the text's most frequent character)"),
}
CHOICES = {"--model": ("rnn", "lstm", "gru"), "--nonlinearity": ("sigmoid", "tanh", "relu"),
           "--optim": ("sgd", "adam")}  # fmt: skip
# What a resumed run may change; the other options define its model or its data, so a
# resumed run keeps them (given again, they must equal the run's). --text may name the same
# text at a new path: its content is checked.
MAY_CHANGE_ON_RESUME = ("steps", "lr", "max_rollbacks", "log_every", "save_every",
                        "sample_length", "temperature", "prime")  # fmt: skip


def _add_train(commands):
    from .train import Config

    defaults = Config()
    p = commands.add_parser(
        "train",
        help="train the character-level language model",
        description="Train a character-level language model with truncated BPTT, gradient "
        "clipping, checkpoints and rollback. Without --text it trains on minigrad's own source.",
    )
    for option, (kind, text) in TRAINING_OPTIONS.items():
        default = getattr(defaults, option[2:].replace("-", "_"))
        p.add_argument(option, type=kind, choices=CHOICES.get(option), default=None,
                       help=f"{text} ({default})" if default is not None else text)  # fmt: skip
    p.add_argument(
        "--steps", type=positive_int, default=None, help=f"total steps ({defaults.steps})"
    )
    p.add_argument("--out", type=writable_folder, default=None, help="run folder (runs/MODEL-TIME)")
    p.add_argument("--resume", type=existing_run, metavar="DIR",
                   help="continue the run in DIR (what may change: docs/training.md)")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.add_argument(
        "--plot", action="store_true", help="write loss.png and grad_norm.png to the run folder"
    )
    p.add_argument("--no-compile", action="store_true",
                   help="run the step eagerly, not traced and replayed (same results)")  # fmt: skip
    p.set_defaults(run=run_train)


def _given(args):
    """The training options given on the command line, by Config field name."""
    names = [o[2:].replace("-", "_") for o in [*TRAINING_OPTIONS, "--steps"]]
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if "text" in given:
        given["text"] = os.path.abspath(given["text"])
    return given


def _train_config(args):
    """The run's Config and folder, from the options (or from the run folder with --resume)."""
    import dataclasses

    from .train import Config, run_files

    if args.resume:
        return _resume_config(args), args.resume
    config = Config(**_given(args))
    if config.text is not None and not os.path.exists(config.text):
        raise UsageError(f"--text {config.text}: no such file")
    _check_val_chars(config)
    out = args.out or os.path.join("runs", f"{config.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    found = run_files(out)
    if found:
        raise UsageError(
            f"--out {out} already holds a run ({', '.join(found)}); continue it with "
            f"--resume {out}, or choose another folder"
        )
    return dataclasses.replace(config, out=out), out


def _check_val_chars(config):
    if config.val_chars < config.seq_len:
        raise UsageError(
            f"--val-chars {config.val_chars}: one validation chunk predicts --seq-len "
            f"{config.seq_len} characters, so at least that many are needed"
        )


def _resume_config(args):
    """The resumed run's Config: its own, with the options that may change changed."""
    import dataclasses

    from .serialization import CheckpointError
    from .train import config_from, newest_checkpoint

    try:
        _, checkpoint = newest_checkpoint(args.resume)
    except CheckpointError as error:
        raise UsageError(f"--resume {args.resume}: {error}") from None
    saved = config_from(checkpoint["config"])
    if args.out and os.path.abspath(args.out) != os.path.abspath(args.resume):
        raise UsageError(f"--out {args.out}: a resumed run stays in its folder, {args.resume}")
    given = _given(args)
    for name, value in given.items():
        if name not in (*MAY_CHANGE_ON_RESUME, "text") and value != getattr(saved, name):
            option = "--" + name.replace("_", "-")
            raise UsageError(
                f"{option} {value}: the run in {args.resume} has {option} "
                f"{getattr(saved, name)}, which defines its model or data; a resumed run keeps "
                "it (start a new run with --out to change it)"
            )
    if given.get("steps", math.inf) < checkpoint["step"]:
        raise UsageError(
            f"--steps {given['steps']}: the run in {args.resume} is already at step "
            f"{checkpoint['step']}; give at least that many"
        )
    config = dataclasses.replace(saved, **given)
    if config.text is not None and not os.path.isfile(config.text):
        raise UsageError(
            f"the run's text {config.text} is missing; if it moved, give its new path with --text"
        )
    return config


def run_train(args):
    from .corpus import CorpusError
    from .train import Interrupted, RunFolderBusy, RunFolderError, Stopped, StopSignals, Trainer

    if args.plot and not matplotlib_available():
        raise UsageError(f"--plot needs matplotlib; {PLOT_HINT}")
    trainer, stop = None, StopSignals()
    try:
        config, out = _train_config(args)
        with stop:  # from here on, SIGINT and SIGTERM wait for the end of a step
            trainer = Trainer(config, out, resume=bool(args.resume), quiet=args.quiet,
                              compiled=not args.no_compile, stop=stop)  # fmt: skip
            print("\n".join(trainer.banner(resumed=bool(args.resume))), flush=True)
            started_at = trainer.step
            rows = trainer.run()
    except CorpusError as error:
        raise UsageError(str(error)) from None
    except RunFolderBusy as error:
        print(f"minigrad train: error: {error}", file=sys.stderr)
        return 1
    except RunFolderError as error:
        raise UsageError(str(error)) from None
    except Interrupted as error:
        name, status = _signal_name(error)
        print(f"\n{name} at step {error.step}: the run is saved in {out}; continue with: "
              f"python -m minigrad train --resume {out}", file=sys.stderr)  # fmt: skip
        return status
    except KeyboardInterrupt as error:  # before the run folder was touched
        name, status = _signal_name(error)
        print(f"\n{name} before training began: nothing was saved", file=sys.stderr)
        return status
    except Stopped as error:
        print(f"minigrad train: {error}", file=sys.stderr)
        return 1
    finally:
        if trainer is not None:
            trainer.close()  # run() has, unless something failed before it began
    _summary(trainer, started_at, rows)
    if args.plot:
        from .train import plot_metrics, read_metrics

        plot_metrics(read_metrics(out), config.clip, out)
        print(f"wrote {os.path.join(out, 'loss.png')} and {os.path.join(out, 'grad_norm.png')}")
    return 0


def _summary(trainer, started_at, rows):
    """What the run did, how good the model is, where it is, and a sample of its text."""
    from .train import duration, generate

    config = trainer.config
    final = rows[-1]["val_bpc"] if rows and rows[-1]["step"] == trainer.step else trainer.validate()
    print(
        f"trained steps {started_at}..{trainer.step} of {config.steps} in "
        f"{duration(trainer.elapsed())} "
        f"({trainer.tokens_per_second() / 1000:.1f}k tok/s, validation passes not counted); "
        f"{trainer.clipped} steps clipped in all, {trainer.rollbacks} rollbacks"
    )
    print(
        f"validation: {final:.3f} bits per character   (unigram baseline {trainer.unigram:.3f}; "
        f"uniform over {len(trainer.vocab)} characters {math.log2(len(trainer.vocab)):.3f})"
    )
    files = sorted(f for f in os.listdir(trainer.out) if f.endswith((".npz", ".csv", ".json")))
    print(f"run folder: {trainer.out}  ({', '.join(files)})")
    if config.sample_length:
        text = generate(trainer.model, trainer.vocab, trainer.prime, config.sample_length,
                        config.temperature, config.seed)  # fmt: skip
        print(f"sample (temperature {config.temperature:g}, seed {config.seed}):\n{text}")


# ---- sample -----------------------------------------------------------------------------------


def _add_sample(commands):
    p = commands.add_parser(
        "sample",
        help="generate text from a checkpoint",
        description="Print text generated by a trained language model. Without --prime it "
        "starts from the training text's most frequent character.",
    )
    p.add_argument("--checkpoint", type=checkpoint_path, required=True, metavar="DIR",
                   help="a run folder (its newest checkpoint), or a checkpoint file")  # fmt: skip
    p.add_argument(
        "--prime", default="", help="text to start from (the text's most frequent character)"
    )
    p.add_argument(
        "--length", type=non_negative_int, default=400, help="characters to generate (400)"
    )
    p.add_argument(
        "--temperature", type=positive_float, default=0.8, help="sampling temperature (0.8)"
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (0)")
    p.set_defaults(run=run_sample)


def run_sample(args):
    from .corpus import CorpusError
    from .serialization import CheckpointError
    from .train import generate, load_for_sampling

    try:
        model, vocab, path, step = load_for_sampling(args.checkpoint)
        text = generate(model, vocab, args.prime, args.length, args.temperature, args.seed)
    except (CorpusError, CheckpointError) as error:
        raise UsageError(str(error)) from None
    print(f"sampling from {path} (step {step})", file=sys.stderr)
    if step == 0:
        print(f"warning: {path} is from step 0: the model is untrained", file=sys.stderr)
    if text:
        print(text)
    return 0


# ---- task -------------------------------------------------------------------------------------


def _add_task(commands):
    p = commands.add_parser(
        "task",
        help="long-range tasks: the adding problem",
        description="Train on the adding problem: the sum of two marked values among T. "
        "Always predicting 1 scores an MSE of 1/6.",
    )
    p.add_argument("name", choices=("adding",), help="the task")
    p.add_argument("--length", type=positive_int, default=50, help="sequence length T (50)")
    p.add_argument("--model", choices=("rnn", "lstm", "gru"), default="lstm",
                   help="recurrent core: rnn, lstm or gru (lstm)")  # fmt: skip
    p.add_argument("--nonlinearity", choices=("sigmoid", "tanh", "relu"), default="tanh",
                   help="for --model rnn (tanh)")  # fmt: skip
    p.add_argument("--hidden", type=positive_int, default=64, help="hidden units (64)")
    p.add_argument("--batch", type=positive_int, default=64, help="sequences per step (64)")
    p.add_argument("--steps", type=positive_int, default=1500, help="training steps (1500)")
    p.add_argument("--lr", type=positive_float, default=1e-2, help="Adam learning rate (0.01)")
    p.add_argument(
        "--clip", type=non_negative_float, default=1.0, help="max gradient norm; 0 is off (1)"
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (0)")
    p.add_argument("--quiet", action="store_true", help="print the result only")
    p.add_argument("--no-compile", action="store_true",
                   help="run the step eagerly, not traced and replayed (same results)")  # fmt: skip
    p.set_defaults(run=run_task)


def run_task(args):
    from .tasks import BASELINE, run_adding

    if args.length < 2:
        raise UsageError("--length: the adding problem needs at least 2 steps")
    name = args.model if args.model != "rnn" else f"{args.nonlinearity}-rnn"
    print(
        f"adding problem, T = {args.length}, {name}: "
        f"baseline (always predict 1) MSE = {BASELINE:.4f}"
    )

    def report(step, train, test):
        if not args.quiet:
            print(f"step {step:>6}  train MSE {mse_text(train)}  test MSE {mse_text(test)}",
                  flush=True)  # fmt: skip

    mse, seconds = run_adding(args.length, args.model, args.nonlinearity, args.hidden, args.batch,
                              args.steps, args.lr, args.clip, args.seed, report,
                              compiled=not args.no_compile)  # fmt: skip
    print(
        f"final test MSE {mse_text(mse)} (baseline {BASELINE:.4f}) "
        f"after {args.steps} steps in {seconds:.0f}s"
    )
    if not math.isfinite(mse):
        print(
            f"minigrad task: error: training diverged (test MSE {mse}); lower --lr, or clip "
            "with --clip",
            file=sys.stderr,
        )
        return 1
    return 0


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
    return parser


COMMANDS = ("train", "sample", "task", "vanishing", "tour")
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


class Terminated(KeyboardInterrupt):
    """SIGTERM, outside the training loop (which saves first): stop as for Ctrl-C."""

    signum = signal.SIGTERM


def _terminate(signum, frame):
    raise Terminated


def _signal_name(error):
    """The name of the signal behind a KeyboardInterrupt, and the exit status it gives."""
    signum = getattr(error, "signum", signal.SIGINT)
    return signal.Signals(signum).name, 128 + signum


def main(argv=None):
    """Run a command; return its exit status: 0, 1 for a failure, 2 for a usage error, 128 + the
    signal's number when SIGINT or SIGTERM stopped it. Every error is one line on stderr."""
    argv = _join_negative_values(sys.argv[1:] if argv is None else list(argv))
    command = next((a for a in argv if a in COMMANDS), None)
    if not argv:
        build_parser().print_help()
        return 2
    if command is None and argv[0].startswith("-") and not {"-h", "--help"} & set(argv):
        print(f"minigrad: error: no command given; choose one of {', '.join(COMMANDS)} "
              "(options go after the command: minigrad train --steps 100)",
              file=sys.stderr)  # fmt: skip
        return 2
    prefix = f"minigrad {command}" if command else "minigrad"
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(argv, command)
    except UsageError as error:
        print(f"{prefix}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as error:
        name, status = _signal_name(error)
        print(f"\n{prefix}: stopped by {name}", file=sys.stderr)
        return status
    except BrokenPipeError:
        # The reader of the output (head, say) has gone: point stdout at nothing, so that
        # Python's last flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{prefix}: error: the output was closed early", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(argv, command):
    args = build_parser().parse_args(argv)
    return args.run(args)
