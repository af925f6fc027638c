"""Writing a file so that a crash never leaves it half written: ``replacing(path)``.

The new contents go to a temporary file beside ``path``, which is flushed,
fsynced and renamed over ``path`` with ``os.replace`` only when writing
succeeded. A kill at any moment leaves the old file or the new one; an error
leaves the old file and removes the temporary one; a kill leaves it (a run
folder removes those of its own files when it is next opened: ``is_temporary``).
Checkpoints, the run folder's files and every picture are written through it.
"""

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path


def temporary_name(name):
    """The name of a temporary file for ``name``: ``.NAME.<16 hex digits>.tmp``."""
    return f".{name}.{secrets.token_hex(8)}.tmp"


def is_temporary(candidate, name):
    """Whether the file name ``candidate`` is one ``temporary_name(name)`` gives."""
    return re.fullmatch(rf"\.{re.escape(name)}\.[0-9a-f]{{16}}\.tmp", candidate) is not None


@contextmanager
def replacing(path, mode="w", **open_args):
    """``with replacing(path, "wb") as f: ...`` writes ``path`` atomically, as above."""
    path = Path(path)
    tmp = path.parent / temporary_name(path.name)
    # Mode 0666 less the umask, as for any new file (mkstemp would make it 0600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, mode, **open_args) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        if error.errno is None:
            raise
        raise type(error)(error.errno, error.strerror, str(path)) from None  # not the tmp's name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_figure(fig, path, dpi):
    """Save a matplotlib figure to ``path`` through ``replacing``, in the format its suffix
    names (.png, .svg)."""
    path = Path(path)
    with replacing(path, "wb") as f:
        fig.savefig(f, format=path.suffix[1:].lower(), dpi=dpi)
