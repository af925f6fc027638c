"""Checkpoints: ``save`` and ``load`` a nested structure of arrays, numbers and strings.

A checkpoint is one ``.npz`` file. Each array is stored as an entry of its
own; the structure around them (dicts, lists, tuples, numbers, strings,
None) is stored as JSON in the entry ``__minigrad__``. Nothing is pickled,
so loading a checkpoint never runs code.

``save`` is atomic (``files.replacing``): it writes a temporary file in the same
folder, flushes and fsyncs it, then renames it over the target with
``os.replace``. A crash at any moment leaves either the old file or the new
one, never a half-written one.
"""

import errno
import json
import zipfile
from pathlib import Path

import numpy as np

from .files import replacing
from .tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
MANIFEST = "__minigrad__"


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint."""


# ---- encoding: Python structure <-> JSON plus arrays -------------------------------------------


def _encode(obj, arrays, where, open_containers):
    """JSON for ``obj``, its arrays moved to ``arrays``. ``where`` is its place in the structure
    (``<root>.model[0]``); ``open_containers`` maps each container being encoded around it to its
    place, so a structure that contains itself is refused rather than recursed into forever."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        array = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
        if array.dtype.kind not in "biufcSU":
            raise TypeError(f"cannot store an array of dtype {array.dtype} at {where}")
        key = f"a{len(arrays)}"
        arrays[key] = array
        return {"__array__": key}
    if not isinstance(obj, (dict, list, tuple)):
        raise TypeError(f"cannot store an object of type {type(obj).__name__} at {where}")
    if id(obj) in open_containers:
        raise ValueError(f"the structure contains itself: {where} is {open_containers[id(obj)]}")
    open_containers[id(obj)] = where
    encoded = _encode_container(obj, arrays, where, open_containers)
    del open_containers[id(obj)]
    return encoded


def _encode_container(obj, arrays, where, open_containers):
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"dict keys must be str or int, got {k!r} at {where}")
            items.append([k, _encode(v, arrays, f"{where}.{k}", open_containers)])
        return {"__dict__": items}
    encoded = [_encode(v, arrays, f"{where}[{i}]", open_containers) for i, v in enumerate(obj)]
    return {"__tuple__": encoded} if isinstance(obj, tuple) else encoded


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


def _cannot_write(error_type, path, reason, code=None):
    """An ``error_type`` that names the user's ``path`` (never the temporary file), with the
    errno ``code`` of the OSError it replaces."""
    error = error_type(f"save: cannot write {path}: {reason}")
    if code is not None:
        error.errno = code
    return error


def _check_target(path):
    """Refuse, before anything is written, a path in a missing folder or that is a folder."""
    if not path.parent.exists():
        raise _cannot_write(
            FileNotFoundError, path, f"the folder {path.parent} does not exist", errno.ENOENT
        )
    if path.is_dir():
        raise _cannot_write(IsADirectoryError, path, "it is a folder", errno.EISDIR)


def _write(path, manifest, arrays):
    with replacing(path, "wb") as f:
        np.savez(f, **{MANIFEST: np.array(manifest)}, **arrays)


def save(obj, path):
    """Write ``obj`` (nested dicts, lists, tuples of arrays, Tensors, numbers, strings, None)
    to ``path`` atomically.

    Every error names ``path``, and leaves no temporary file: an object it cannot store
    (TypeError, with its place in the structure), a structure that contains itself
    (ValueError, with both places), a missing folder (FileNotFoundError), a path that is a
    folder (IsADirectoryError), or any other failure to write (OSError, with its errno).
    """
    path = Path(path)
    _check_target(path)
    arrays = {}
    try:
        tree = _encode(obj, arrays, "<root>", {})
    except (TypeError, ValueError) as error:
        raise _cannot_write(type(error), path, error) from None
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    try:
        _write(path, manifest, arrays)
    except OSError as error:
        raise _cannot_write(type(error), path, error.strerror or error, error.errno) from None


# ---- load -------------------------------------------------------------------------------------

# How a zip file, and so an npz archive, begins: its first entry, or the end record of an empty one.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def load(path):
    """Read a checkpoint written by ``save``. Never unpickles.

    Raises FileNotFoundError for a missing file and CheckpointError, naming the
    file, for one that cannot be read, is not an npz archive at all, is
    truncated or corrupt, holds pickled objects, or is not a minigrad
    checkpoint.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load: no checkpoint at {path}")
    try:
        # The file is opened here, not by np.load, so it is closed even when numpy fails
        # half way through reading a damaged zip.
        with open(path, "rb") as f:
            header, arrays = _read_npz(f, path)
    except OSError as error:  # the file itself cannot be read (npz errors are CheckpointErrors)
        raise CheckpointError(f"load: cannot read {path}: {error.strerror or error}") from None
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


def _read_npz(f, path):
    """The manifest (parsed) and the arrays of the npz archive open as ``f``."""
    # np.load reads an .npy file as one array and anything else as a pickle (refusing which,
    # it blames pickling), so an npz archive is recognised here, by how a zip file begins.
    if f.read(len(ZIP_MAGIC[0])) not in ZIP_MAGIC:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint (not an npz archive)")
    f.seek(0)
    try:
        with np.load(f, allow_pickle=False) as npz:
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
    return header, arrays
