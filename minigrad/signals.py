"""SIGINT, SIGTERM and SIGHUP: the one place the command line and the training loop meet them.

Ctrl-C (SIGINT), ``kill`` (SIGTERM) and a closed terminal (SIGHUP) mean the
same thing: stop. ``SIGNALS`` handles all three, in one of two ways:

* outside a ``hold()`` block a signal raises ``Interrupted`` (a
  KeyboardInterrupt) at once: ``sample``, ``task``, ``vanishing`` and
  ``tour`` stop there, and the command line says so in one line;
* inside ``hold()`` it is only noted in ``received``: ``train`` holds
  signals from its start to its end, and checks between steps, so that a
  signal never cuts a checkpoint, or the run folder's set-up, in half. The
  state is saved, then the run stops.

Started as a command (``python -m minigrad``, or the ``minigrad`` script),
minigrad holds signals from the first line of its package, before numpy is
imported (``hold_during_imports``), and the command line reports one that
came meanwhile: "SIGINT before training began: nothing was saved". Imported
as a library, minigrad leaves signals alone until a training run holds them.

The exit status after a signal is 128 + its number (130, 143, 129), as a shell
reports a process the signal ended.
"""

import os
import signal
import sys
import threading
from contextlib import contextmanager

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A signal stopped the command. ``step`` and ``folder`` say where a training run stopped
    and was saved; None for both means before anything was written."""

    def __init__(self, signum, step=None, folder=None):
        super().__init__(signum, step, folder)
        self.signum, self.step, self.folder = signum, step, folder

    @property
    def name(self):
        return signal.Signals(self.signum).name

    @property
    def status(self):
        return 128 + self.signum


class Signals:
    """The handlers of SIGINT, SIGTERM and SIGHUP while entered (``with SIGNALS:``; entering
    again inside is allowed, and the handlers before are restored when the outermost block
    exits). Only the main thread may set handlers; elsewhere signals keep their usual
    effect."""

    def __init__(self):
        self.received = None
        self.holding = 0
        self.depth = 0
        self.previous = {}

    def __enter__(self):
        if self.depth == 0 and threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self.previous[signum] = signal.signal(signum, self._handle)
        self.depth += 1
        return self

    def __exit__(self, *exc):
        self.depth -= 1
        if self.depth == 0:
            for signum, handler in self.previous.items():
                signal.signal(signum, handler)
            self.previous.clear()

    @contextmanager
    def hold(self):
        """Inside, a signal is noted in ``received`` instead of raised."""
        with self:
            self.holding += 1
            try:
                yield self
            finally:
                self.holding -= 1

    def take(self):
        """The signal received while holding (or None), forgotten once taken."""
        signum, self.received = self.received, None
        return signum

    def _handle(self, signum, frame):
        if self.holding:
            self.received = signum
        else:
            raise Interrupted(signum)


def as_interrupted(error):
    """A KeyboardInterrupt as ``Interrupted``: Python's own (no handler of ours) is SIGINT."""
    return error if isinstance(error, Interrupted) else Interrupted(signal.SIGINT)


def ignore_from_now():
    """Ignore these signals for the rest of the process: its command has ended, and a second
    signal (Ctrl-C pressed twice) must not kill it while it exits."""
    for signum in HANDLED:
        signal.signal(signum, signal.SIG_IGN)


SIGNALS = Signals()  # the process's handlers
_import_hold = []  # the hold begun by hold_during_imports, until the command line ends it


def hold_during_imports():
    """Started as a command, hold signals until the command line takes them over
    (``release_import_hold``); imported as a library, do nothing."""
    if launched_as_command() and not _import_hold:
        hold = SIGNALS.hold()
        hold.__enter__()
        _import_hold.append(hold)


def release_import_hold():
    """End the hold that ``hold_during_imports`` began, if it did, and return the signal that
    came during the imports (or None). Call it inside ``with SIGNALS:``, so that the handlers
    stay in place."""
    if not _import_hold:
        return None
    _import_hold.pop().__exit__(None, None, None)
    return SIGNALS.take()


def launched_as_command(argv=None):
    """Whether this process is ``python [options] -m minigrad ...`` or the ``minigrad`` script
    installed beside this Python, from the command line it was started with."""
    argv = list(sys.orig_argv if argv is None else argv)
    script = argv[1] if len(argv) > 1 and not argv[1].startswith("-") else None
    if script is not None:
        beside = os.path.join(os.path.dirname(sys.executable), "minigrad")
        return os.path.basename(script) == "minigrad" and _same(script, beside)
    return _module_run(argv[1:]) == "minigrad"


def _module_run(args):
    """The module of ``-m MODULE`` among the interpreter's options ``args``, or None."""
    takes_value = {"-X", "-W", "--check-hash-based-pycs"}
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg == "-m":
            return args[i + 1] if i + 1 < len(args) else None
        if arg.startswith("-m"):
            return arg[2:]
        if arg == "-c" or arg == "-":
            return None
        i += 2 if arg in takes_value else 1
    return None


def _same(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


hold_during_imports()  # minigrad/__init__.py imports this module first of all
