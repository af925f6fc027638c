"""The command line: ``python -m minigrad COMMAND`` (or the ``minigrad`` script).

Commands:
  train       train the character-level language model (the main job)
  sample      generate text from a trained model's checkpoint
  task        the long-range tasks (the adding problem) that show vanishing and its fixes
  vanishing   print ‖∂h_T/∂h_k‖ against distance for σ-RNN, tanh-RNN, LSTM and GRU

A bad option gets a one-line error and exit status 2, never a traceback.
"""

import argparse
import math
import os
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


def positive_float(text):
    return _number(float, text, lambda v: v > 0 and v != float("inf"), "a positive number")


def non_negative_float(text):
    return _number(float, text, lambda v: v >= 0 and v != float("inf"), "a non-negative number")


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_floats(text):
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


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


def writable_file(text):
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
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--plot", type=writable_file, metavar="FILE.png",
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
    "--seed": (non_negative_int, "random seed"),
    "--save-every": (positive_int, "steps between checkpoints"),
    "--log-every": (positive_int, "steps between metrics rows (with a validation pass)"),
    "--max-rollbacks": (non_negative_int, "rollbacks allowed before giving up"),
    "--sample-length": (non_negative_int, "characters of the closing sample"),
    "--temperature": (positive_float, "temperature of the closing sample"),
}
CHOICES = {"--model": ("rnn", "lstm", "gru"), "--nonlinearity": ("sigmoid", "tanh", "relu"),
           "--optim": ("sgd", "adam")}  # fmt: skip


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
                   help="continue the run in DIR up to --steps in total")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.add_argument(
        "--plot", action="store_true", help="write loss.png and grad_norm.png to the run folder"
    )
    p.add_argument("--no-compile", action="store_true",
                   help="run the step eagerly, not traced and replayed (same results)")  # fmt: skip
    p.set_defaults(run=run_train)


def _train_config(args):
    """The run's Config and folder, from the options (or from the run folder with --resume)."""
    import dataclasses

    from .train import CHECKPOINT, Config, config_from, newest_checkpoint

    given = {
        o[2:].replace("-", "_"): getattr(args, o[2:].replace("-", "_")) for o in TRAINING_OPTIONS
    }
    given = {k: v for k, v in given.items() if v is not None}
    if args.resume:
        if given or args.out:
            names = ", ".join("--" + k.replace("_", "-") for k in given) or "--out"
            raise UsageError(
                f"--resume continues a run with its own options; drop {names} "
                "(only --steps, --quiet, --plot and --no-compile apply)"
            )
        checkpoint = newest_checkpoint(args.resume)
        config = config_from(checkpoint["config"])
        if args.steps is not None:
            if args.steps < checkpoint["step"]:
                raise UsageError(
                    f"--steps {args.steps}: the run in {args.resume} is already at step "
                    f"{checkpoint['step']}; give at least that many"
                )
            config = dataclasses.replace(config, steps=args.steps)
        return config, args.resume
    config = Config(**given, **({"steps": args.steps} if args.steps else {}))
    if config.text is not None and not os.path.exists(config.text):
        raise UsageError(f"--text {config.text}: no such file")
    out = args.out or os.path.join("runs", f"{config.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    if os.path.exists(os.path.join(out, CHECKPOINT)):
        raise UsageError(
            f"--out {out} already holds a run; continue it with --resume {out}, "
            "or choose another folder"
        )
    return dataclasses.replace(config, out=out), out


def run_train(args):
    from .corpus import CorpusError
    from .train import Stopped, Trainer, generate, plot_metrics, read_metrics

    if args.plot and not matplotlib_available():
        raise UsageError(f"--plot needs matplotlib; {PLOT_HINT}")
    config, out = _train_config(args)
    trainer = None
    try:
        trainer = Trainer(
            config, out, resume=bool(args.resume), quiet=args.quiet, compiled=not args.no_compile
        )
        started_at, started = trainer.step, time.perf_counter()
        rows = trainer.run()
        elapsed = time.perf_counter() - started
    except CorpusError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        step = trainer.step if trainer else 0
        print(f"\ninterrupted at step {step}; the checkpoint is saved in {out}; continue with: "
              f"python -m minigrad train --resume {out}", file=sys.stderr)  # fmt: skip
        return 130
    except Stopped as error:
        print(f"minigrad train: {error}", file=sys.stderr)
        return 1
    logged_last = rows and rows[-1]["step"] == trainer.step
    final = rows[-1]["val_bpc"] if logged_last else trainer.validate()
    steps_run = trainer.step - started_at
    print(
        f"trained steps {started_at}..{trainer.step} of {config.steps} in {elapsed:.0f}s "
        f"({steps_run * config.batch * config.seq_len / max(elapsed, 1e-9) / 1000:.1f}k chars/s); "
        f"{trainer.clipped} steps clipped in all, {trainer.rollbacks} rollbacks"
    )
    print(
        f"validation: {final:.3f} bits per character   (unigram baseline {trainer.unigram:.3f}; "
        f"uniform over {len(trainer.vocab)} characters {math.log2(len(trainer.vocab)):.3f})"
    )
    files = sorted(name for name in os.listdir(out) if name.endswith((".npz", ".csv", ".json")))
    print(f"run folder: {out}  ({', '.join(files)})")
    if config.sample_length:
        text = generate(
            trainer.model,
            trainer.vocab,
            "def ",
            config.sample_length,
            config.temperature,
            config.seed,
        )
        print(f"sample (temperature {config.temperature:g}, seed {config.seed}):\n{text}")
    if args.plot:
        plot_metrics(read_metrics(out), config.clip, out)
        print(f"wrote {os.path.join(out, 'loss.png')} and {os.path.join(out, 'grad_norm.png')}")
    return 0


# ---- sample -----------------------------------------------------------------------------------


def _add_sample(commands):
    p = commands.add_parser(
        "sample",
        help="generate text from a checkpoint",
        description="Print text generated by a trained language model.",
    )
    p.add_argument("--checkpoint", type=checkpoint_path, required=True, metavar="DIR",
                   help="a run folder (its newest checkpoint), or a checkpoint file")  # fmt: skip
    p.add_argument("--prime", default="", help="text to start from")
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
        model, vocab, _ = load_for_sampling(args.checkpoint)
        print(generate(model, vocab, args.prime, args.length, args.temperature, args.seed))
    except (CorpusError, CheckpointError) as error:
        raise UsageError(str(error)) from None
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
    p.add_argument("--model", choices=("rnn", "lstm", "gru"), default="lstm", help="lstm")
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
            print(f"step {step:>6}  train MSE {train:.4f}  test MSE {test:.4f}", flush=True)

    mse, seconds = run_adding(args.length, args.model, args.nonlinearity, args.hidden, args.batch,
                              args.steps, args.lr, args.clip, args.seed, report,
                              compiled=not args.no_compile)  # fmt: skip
    print(
        f"final test MSE {mse:.4f} (baseline {BASELINE:.4f}) "
        f"after {args.steps} steps in {seconds:.0f}s"
    )
    return 0


def build_parser():
    parser = _Parser(
        prog="minigrad", description="minigrad's language model, experiments and tools"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train(commands)
    _add_sample(commands)
    _add_task(commands)
    _add_vanishing(commands)
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        command = next(
            (a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("-")), ""
        )
        print(f"minigrad {command}: error: {error}".replace("  ", " "), file=sys.stderr)
        return 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as error:
        print(f"minigrad {args.command}: error: {error}", file=sys.stderr)
        return 2
