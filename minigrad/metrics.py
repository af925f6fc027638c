"""metrics.csv, a run's record: one row per logged step, read back only after it is checked.

A row holds ``COLUMNS``: the step, the training and validation bits per
character, the gradient norm before clipping, the share of steps clipped,
the learning rate, the rollbacks so far, and the speed and time (the two
columns a resumed run does not reproduce). A record of other columns (the
adding task's, probe.csv) is a ``MetricsFile`` too, made with its own
``columns``; its first ``keys`` columns, the step first, name a row.

Reading the file back (on ``--resume``, after a rollback, for ``--plot``)
checks it line by line. A blank line is skipped (editors add one at the
end). A last row without its line end was cut short by a kill while it was
written: it is dropped, with a warning. Any other line that is not a row of
numbers, with steps (and the other keys) rising, is a one-line error naming
the file and the line. A missing or empty file starts the record again from
the header, with a warning when rows were lost.
"""

import csv
import io

from .files import replacing, save_figure

COLUMNS = ("step", "train_bpc", "val_bpc", "grad_norm", "clipped_share", "lr", "rollbacks",
           "tokens_per_s", "elapsed_s")  # fmt: skip
DETERMINISTIC = COLUMNS[:7]  # the columns a resumed run reproduces exactly (the rest are timings)
HEADER = ",".join(COLUMNS)


class MetricsError(ValueError):
    """metrics.csv cannot be read as a run's record; the message names the line."""


class MetricsFile:
    """A run folder's metrics.csv, or another record of ``columns`` whose first ``keys``
    columns name a row (``probe.py``'s (step, k)); ``say`` prints a warning."""

    def __init__(self, path, say, columns=COLUMNS, keys=1):
        self.path = path
        self.say = say
        self.columns, self.keys = columns, keys

    def start(self):
        """A new record: the header only."""
        with replacing(self.path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow(self.columns)

    def append(self, *rows):
        """Add rows (dicts with every column); a file removed meanwhile starts again."""
        if not self.path.exists():
            self.say(f"warning: {self.path} was removed; it starts again from this row")
            self.start()
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([_format(row[k]) for k in self.columns] for row in rows)

    def read(self):
        """The rows, as dicts of floats, after the checks above; [] for a missing file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise MetricsError(f"cannot read {self.path}: {error.strerror}") from None
        return [row for row, _ in self._lines(raw)]

    def _lines(self, raw):
        lines, cut = parse(raw, self.path, self.columns, self.keys)
        if cut:
            self.say(f"warning: the last row of {self.path} was cut short (a write stopped "
                     "midway); it is dropped")  # fmt: skip
        return lines

    def keep_until(self, step):
        """Keep the rows up to ``step`` (a resumed or rolled-back run logs the later steps
        again), and write the file back whole: checked, and without a cut row."""
        if not self.path.exists() or not self.path.stat().st_size:
            if step > 0:
                self.say(f"warning: {self.path} is missing or empty; the record starts "
                         f"again at step {step}")  # fmt: skip
            self.start()
            return
        lines = self._lines(self.path.read_bytes())
        kept = [",".join(self.columns)] + [line for row, line in lines if row["step"] <= step]
        with replacing(self.path, "w", newline="", encoding="utf-8") as f:
            f.write("".join(line + "\r\n" for line in kept))  # csv's own line end


def parse(raw, path, columns=COLUMNS, keys=1):
    """The rows of the bytes of a record of ``columns``, each as (a dict of floats, its line as
    written), and whether a cut-short last line was dropped."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MetricsError(f"{path} is not a text file; remove it to start the record "
                           "again") from None  # fmt: skip
    lines = [(n, line) for n, line in enumerate(text.splitlines(keepends=True), 1)
             if line.strip()]  # fmt: skip
    cut = bool(lines) and not lines[-1][1].endswith(("\n", "\r"))
    if cut:
        lines.pop()
    if not lines:
        return [], cut
    n, header = lines[0]
    if header.strip() != ",".join(columns):
        raise MetricsError(f"{path}, line {n}: not the header minigrad writes "
                           f"({','.join(columns)}); {_WHAT_TO_DO}")  # fmt: skip
    rows = []
    for n, line in lines[1:]:
        row = _row(line, rows[-1][0] if rows else None, f"{path}, line {n}", columns, keys)
        rows.append((row, line.rstrip("\r\n")))
    return rows, cut


_WHAT_TO_DO = "fix or delete that line, or remove the file to start the record again"


def _row(line, previous, where, columns, keys):
    """A dict of floats from one line, after checking that its ``keys`` first columns, whole
    numbers, follow those of the row before, ``previous`` (None for the first)."""
    fields = next(csv.reader(io.StringIO(line)))
    if len(fields) != len(columns):
        raise MetricsError(f"{where}: {len(fields)} fields, not {len(columns)}; {_WHAT_TO_DO}")
    try:
        row = {k: float(v) for k, v in zip(columns, fields)}
    except ValueError:
        raise MetricsError(f"{where}: not a row of numbers; {_WHAT_TO_DO}") from None
    _check_order(row, fields, previous, columns[:keys], where)
    return row


def _check_order(row, fields, previous, names, where):
    """Raise unless the row's keys ``names`` are whole numbers that follow the row before."""
    ours = [row[k] for k in names]
    before = [-1] * len(names) if previous is None else [previous[k] for k in names]
    if not (all(key.is_integer() for key in ours) and before < ours):
        given = ", ".join(f"{name} {field}" for name, field in zip(names, fields))
        after = ", ".join(f"{name} {key:g}" for name, key in zip(names, before))
        raise MetricsError(f"{where}: {given} does not follow {after}; {_WHAT_TO_DO}")


def _format(value):
    return repr(value) if isinstance(value, float) else str(value)


def plot_metrics(rows, clip, loss_path, grad_norm_path):
    """loss.png (training and validation bits per character) and grad_norm.png (log scale, the
    clip threshold dashed). Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [r["train_bpc"] for r in rows], label="train")
    ax.plot(steps, [r["val_bpc"] for r in rows], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("bits per character")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, loss_path, dpi=90)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(steps, [r["grad_norm"] for r in rows], label="gradient norm before clipping")
    if clip > 0:
        ax.axhline(clip, color="C3", linestyle="--", label=f"clip threshold {clip:g}")
    ax.set_xlabel("step")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, grad_norm_path, dpi=90)
    plt.close(fig)
