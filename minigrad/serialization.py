"""Checkpoints: ``save`` and ``load`` a nested structure of arrays, numbers and strings.

A checkpoint is one ``.npz`` file. Each array is stored as an entry of its
own; the structure around them (dicts, lists, tuples, numbers, strings,
None) is stored as JSON in the entry ``__minigrad__``. Nothing is pickled,
so loading a checkpoint never runs code.

``save`` is atomic: it writes a temporary file in the same folder, flushes and
fsyncs it, then renames it over the target with ``os.replace``. A crash at any
moment leaves either the old file or the new one, never a half-written one.
"""

import json
import os
import secrets
import zipfile
from pathlib import Path

import numpy as np

from .tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
MANIFEST = "__minigrad__"


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint."""


# ---- encoding: Python structure <-> JSON plus arrays -------------------------------------------


def _encode(obj, arrays, path):
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
        if array.dtype.kind not in "biufcSU":
            raise TypeError(f"save: cannot store an array of dtype {array.dtype} at {path}")
        key = f"a{len(arrays)}"
        arrays[key] = array
        return {"__array__": key}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: dict keys must be str or int, got {k!r} at {path}")
            items.append([k, _encode(v, arrays, f"{path}.{k}")])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        encoded = [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]
        return {"__tuple__": encoded} if isinstance(obj, tuple) else encoded
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__} at {path}")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        return arrays[obj["__array__"]]
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    return {k: _decode(v, arrays) for k, v in obj["__dict__"]}


# ---- save -------------------------------------------------------------------------------------


def _fsync_directory(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(obj, path):
    """Write ``obj`` (nested dicts, lists, tuples of arrays, Tensors, numbers, strings, None)
    to ``path`` atomically."""
    arrays = {}
    tree = _encode(obj, arrays, "<root>")
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    tmp = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    # Mode 0666 less the umask, as for any new file (mkstemp would make it 0600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{MANIFEST: np.array(manifest)}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


# ---- load -------------------------------------------------------------------------------------


def load(path):
    """Read a checkpoint written by ``save``. Never unpickles.

    Raises FileNotFoundError for a missing file and CheckpointError, naming the
    file, for one that is truncated, corrupt, holds pickled objects, or is not
    a minigrad checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load: no checkpoint at {path}")
    try:
        # The file is opened here, not by np.load, so it is closed even when numpy fails
        # half way through reading a damaged zip.
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            if MANIFEST not in npz.files:
                raise CheckpointError(
                    f"load: {path} is not a minigrad checkpoint (no {MANIFEST} entry)"
                )
            header = json.loads(str(npz[MANIFEST]))
            arrays = {key: npz[key] for key in npz.files if key != MANIFEST}
    except CheckpointError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise CheckpointError(
                f"load: {path} holds pickled objects, which minigrad never loads"
            ) from None
        raise CheckpointError(f"load: {path} is not a readable checkpoint: {error}") from None
    except (OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError, KeyError) as error:
        raise CheckpointError(f"load: {path} is truncated or corrupt: {error}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"load: {path} has checkpoint format version {header.get('version')}, "
            f"this minigrad reads version {VERSION}"
        )
    try:
        return _decode(header["tree"], arrays)
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"load: {path} has a damaged manifest: {error}") from None
