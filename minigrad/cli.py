"""The command line: ``python -m minigrad COMMAND`` (or the ``minigrad`` script).

Commands:
  vanishing   print ‖∂h_T/∂h_k‖ against distance for σ-RNN, tanh-RNN, LSTM and GRU

A bad option gets a one-line error and exit status 2, never a traceback.
"""

import argparse
import os
import sys


class UsageError(Exception):
    """A bad option: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


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


def build_parser():
    parser = _Parser(prog="minigrad", description="minigrad's experiments and tools")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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
    return args.run(args)
