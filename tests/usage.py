"""The command line as a user meets it: a subprocess, its exit status and what it printed, and
the files it must leave alone. Shared by the tests of the training job's promises."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

TEXT = ("def add(a, b):\n    return a + b\n\n" * 40) + "class Tensor:\n    pass\n" * 20
TINY = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--log-every", "3",
        "--save-every", "3", "--sample-length", "20", "--quiet"]  # fmt: skip
LONG = ["--steps", "100000", "--save-every", "5", "--log-every", "1", "--hidden", "8", "--embed",
        "4", "--seq-len", "8", "--batch", "2", "--sample-length", "0"]  # fmt: skip
# Root ignores file permissions; without these two capabilities it meets them as anyone does.
AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def command(*args):
    """The argument list of ``python -m minigrad ARGS``: paths, bytes and numbers as text."""
    return [sys.executable, "-m", "minigrad", *(a if isinstance(a, str) else
                                                os.fsdecode(a) if isinstance(a, (bytes, os.PathLike))
                                                else str(a) for a in args)]  # fmt: skip


def minigrad(*args, cwd=None, env=None, user=False, stdin=None):
    """``python -m minigrad ARGS``, as a user runs it (``user``: without root's powers)."""
    prefix = AS_A_USER if user and os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command(*args)], cwd=cwd, env=env, stdin=stdin,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def spawn(*args, user=False, env=None, cwd=None):
    """``python -m minigrad ARGS`` started, its stderr to be read line by line."""
    prefix = AS_A_USER if user and os.geteuid() == 0 else []
    return subprocess.Popen([*prefix, *command(*args)], stdout=subprocess.PIPE, cwd=cwd,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip


def stopped(signum, lines, *args):
    """``python -m minigrad ARGS`` stopped by ``signum`` once it has written ``lines`` lines on
    stderr (status lines: training is under way); it has ended, and its ``stderr`` is the
    text it wrote."""
    proc = spawn(*args)
    for _ in range(lines):
        proc.stderr.readline()
    proc.send_signal(signum)
    _, proc.stderr = proc.communicate(timeout=60)
    return proc


def can_meet_permissions():
    """Whether a test can run minigrad as someone whom file permissions bind."""
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


def clean_exit(proc, status, *parts, lines=1):
    """The command ended with ``status`` (0, 1 or 2, or 128 + a signal), printed no traceback
    and at most ``lines`` lines on stderr besides status lines, and the last of them holds
    every one of ``parts``."""
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Warning:" not in proc.stderr, proc.stderr
    said = [line for line in proc.stderr.splitlines() if not line.startswith("step ")]
    assert len(said) <= lines, proc.stderr
    for part in parts:
        assert part in (said[-1] if said else ""), (part, proc.stderr)


def snapshot(folder):
    """Every file under ``folder`` with its bytes and modification time: what "untouched"
    means."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in [*files, *dirs]:
            path = os.path.join(root, name)
            stat = os.lstat(path)
            content = Path(path).read_bytes() if os.path.isfile(path) else None
            found[os.path.relpath(path, folder)] = (content, stat.st_mtime_ns, stat.st_mode)
    return found
