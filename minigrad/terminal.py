"""What the command line shows: the training status line, durations people read, and output
that never fails on the terminal's encoding.

``Status`` is the training loop's callback for the terminal: the loop hands it
each step's metrics and each note (a rollback, a warning), and it decides what
to print. ``safe_output`` makes stdout and stderr write what a terminal cannot
show in ASCII spellings (σ as sigma, ‖ as ||, ∂ as d) or, for any other
character, as ``?``, instead of failing with UnicodeEncodeError: a terminal
set to ASCII (``PYTHONIOENCODING=ascii``, an old ``LANG``) still gets the
tour, the vanishing table and a sample of a non-ASCII text.
"""

import codecs
import io
import math
import sys
import time

ASCII = {"·": "*", "×": "x", "Σ": "sum", "∏": "prod", "γ": "gamma", "δ": "delta",
         "θ": "theta", "λ": "lambda", "ρ": "rho", "σ": "sigma", "ᵀ": "^T", "‖": "||",
         "₁": "1", "₂": "2", "²": "^2", "³": "^3", "⁴": "^4", "∂": "d", "−": "-", "⊙": "*",
         "…": "...", "⋯": "...", "→": "->", "∈": " in ", "≈": "~", "≤": "<=", "≥": ">=",
         "–": "-", "—": "--", "‘": "'", "’": "'", "“": '"', "”": '"'}  # fmt: skip
ERRORS = "minigrad-ascii"  # the name of the encoding error handler below


def _ascii_spelling(error):
    """For a UnicodeEncodeError: its characters spelled in ASCII (a byte that was not valid
    UTF-8 in a file name, kept by Python as a lone surrogate, as \\xNN), and where to go on."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    spelled = []
    for char in error.object[error.start : error.end]:
        if "\udc80" <= char <= "\udcff":
            spelled.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            spelled.append(ASCII.get(char, "?"))
    return "".join(spelled), error.end


codecs.register_error(ERRORS, _ascii_spelling)


def safe_output():
    """Make stdout and stderr spell what their encoding lacks (see above) instead of raising.
    Streams that are not text files of Python's own (a test's capture) are left alone."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ERRORS)


def warn(message):
    """A warning, a line of its own on stderr (a ``say`` for the files a command reads)."""
    print(message, file=sys.stderr)


def duration(seconds):
    """A duration as a person reads it: 42s, 3m07s, 5h07m, 12d05h; beyond 99 days, "> 99 days"."""
    if not math.isfinite(seconds):
        return "?"
    if seconds >= 100 * 86400:
        return "> 99 days"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


class Status:
    """The status line of a training run, on ``stream`` (stderr by default).

    ``show(row, steps, eta, logged)`` is called after every step with the metrics as they
    stand: a logged row is always printed; on a terminal the line between logged rows is
    redrawn in place, at most 4 times a second. ``say`` prints a note on a line of its own.
    ``quiet`` keeps the notes only.
    """

    def __init__(self, stream=None, quiet=False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.drawn = -math.inf

    def show(self, row, steps, eta, logged):
        if self.quiet or not (logged or self.tty):
            return
        now = time.perf_counter()
        if not logged and now - self.drawn < 0.25:
            return
        self.drawn = now
        val = f"{row['val_bpc']:.3f}" if math.isfinite(row["val_bpc"]) else "-"
        line = (
            f"step {row['step']}/{steps} | loss {row['train_bpc']:.3f} bpc | "
            f"val {val} bpc | grad {row['grad_norm']:.3g} | "
            f"clipped {100 * row['clipped_share']:.0f}% | "
            f"{row['tokens_per_s'] / 1000:.1f}k tok/s | ETA {duration(eta)}"
        )
        self._write("\r" + line.ljust(110) if self.tty else line + "\n")

    def say(self, message):
        self._write(("\n" if self.tty and not self.quiet else "") + message + "\n")

    def end(self):
        """After the last step: leave the line drawn in place."""
        if self.tty and not self.quiet:
            self._write("\n")

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()
