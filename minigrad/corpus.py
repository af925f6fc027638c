"""Text for the language model: the frozen corpus, a vocabulary, and batches for truncated BPTT.

The default text is **corpus v1**: minigrad's own source code, docstrings
included, as it stood at version 0.1.0 (commit ef0f5fd), every ``.py`` file
in path order, gzip-compressed in the package (``minigrad/data``). It is
frozen, so editing minigrad does not move the figure the demo reports:
nothing to download, the same text for every copy, and no licence question.
A new version of the corpus is a new file with a new number, made by
``source_text`` from the source of that day; the version is in the banner.
"""

import gzip
import hashlib
import math
import os
import stat
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

CORPUS_VERSION = 1
CORPUS_FILE = f"corpus-v{CORPUS_VERSION}.txt.gz"  # in minigrad/data, shipped as package data
CORPUS_FILE_BYTES = 103_541
CORPUS_FILE_SHA256 = "73ad67ad37511c8a7e3e95fe115e11c0d7a06d42efb93ac3038be9177689ff1a"
CORPUS_CHARS = 351_052
CORPUS_SHA256 = "4b0935b81f56e0fcafe18882182b12eb9208a065e19696a8386f23c8755742c3"  # of its text
CORPUS_NAME = f"minigrad's own source (corpus v{CORPUS_VERSION}, minigrad 0.1.0)"


class CorpusError(ValueError):
    """A text that cannot be trained on (missing, empty, not UTF-8, too short)."""


def frozen_corpus():
    """The text of corpus v1, checked against its SHA-256: a damaged install is an error that
    says to reinstall, never a different text."""
    path = resources.files("minigrad") / "data" / CORPUS_FILE
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise CorpusError(
            f"the corpus file {path} cannot be read ({error}); reinstall minigrad"
        ) from None
    if text_digest(text) != CORPUS_SHA256:
        raise CorpusError(
            f"the corpus file {path} is not corpus v{CORPUS_VERSION}; reinstall minigrad"
        )
    return text


def source_text(root):
    """The Python source under ``root`` (a package folder), every file in path order, as one
    string: what a corpus file is made of (``gzip.compress(source_text(...).encode())``)."""
    root = Path(root)
    files = sorted(_python_files(root, root.name), key=lambda pair: pair[0])
    return "".join(f"# {name}\n{path.read_text(encoding='utf-8')}\n" for name, path in files)


def _python_files(folder, prefix):
    for entry in folder.iterdir():
        name = f"{prefix}/{entry.name}"
        if entry.is_dir() and entry.name != "__pycache__":
            yield from _python_files(entry, name)
        elif entry.name.endswith(".py"):
            yield name, entry


def text_digest(text):
    """The SHA-256 of a text: a resumed run checks that it reads the same text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_text(path):
    """The text at ``path``; None means the frozen corpus."""
    return frozen_corpus() if path is None else read_text(path)


def read_text(path):
    """The UTF-8 text of the regular file ``path``, or a CorpusError that says what is wrong.

    A pipe, a device or a socket (``/dev/stdin``) is refused before it is opened: a run
    reads its text again when it is resumed, and reading a pipe would also wait for ever.
    """
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):
        raise CorpusError(
            f"--text {path}: a stream of the system's, not a saved file; a resumed run reads "
            "its text again, so save the text to a file and give that"
        )
    mode = _read(path, lambda: os.stat(path).st_mode)
    if stat.S_ISDIR(mode):
        raise CorpusError(f"--text {path}: is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise CorpusError(
            f"--text {path}: not a regular file (a pipe, device or socket); a resumed run reads "
            "its text again, so save the text to a file and give that"
        )
    raw = _read(path, lambda: Path(path).read_bytes())
    if not raw:
        raise CorpusError(f"--text {path}: the file is empty")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(
            f"--text {path}: not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None


def _read(path, read):
    """``read()``, its failure a CorpusError naming ``path``."""
    try:
        return read()
    except FileNotFoundError:
        raise CorpusError(f"--text {path}: no such file") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        reason = getattr(error, "strerror", None) or error
        raise CorpusError(f"--text {path}: cannot read it ({reason})") from None


class Vocabulary:
    """The characters of a text, each with an id (sorted, so the ids do not depend on order).

    ``counts``, when known, holds how often each character occurs in the text;
    ``start`` is the character that sampling starts from without a prime: the
    most frequent one, or, without counts, the first in sorted order.
    """

    def __init__(self, chars, counts=None):
        self.chars = sorted(set(chars))
        self.index = {c: i for i, c in enumerate(self.chars)}
        if counts is not None and len(counts) != len(self.chars):
            raise CorpusError(f"Vocabulary: {len(counts)} counts for {len(self.chars)} characters")
        self.counts = None if counts is None else [int(n) for n in counts]

    @classmethod
    def of_text(cls, text):
        """The vocabulary of ``text``, with its character counts."""
        vocab = cls(text)
        vocab.counts = np.bincount(vocab.encode(text), minlength=len(vocab)).tolist()
        return vocab

    @property
    def start(self):
        if self.counts is None:
            return self.chars[0]
        return self.chars[int(np.argmax(self.counts))]

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise CorpusError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def split(ids, every=10, block=1000):
    """Every ``every``-th block of ``block`` characters for validation, the rest for training.

    Interleaving keeps both parts alike: the last tenth of a text is often
    unlike the rest (here, the last few source files).
    """
    starts = np.arange(0, len(ids), block)
    held = (np.arange(len(starts)) % every) == every - 1
    if not held.any():  # a short text: hold out its last tenth
        cut = int(len(ids) * (1 - 1 / every))
        return ids[:cut], ids[cut:]
    pieces = [ids[s : s + block] for s in starts]
    train = np.concatenate([p for p, h in zip(pieces, held) if not h])
    valid = np.concatenate([p for p, h in zip(pieces, held) if h])
    return train, valid


def unigram_bits(train, valid, vocab_size):
    """The unigram baseline: cross-entropy, in bits per character, of character frequencies
    counted on the training text (add-one smoothed) when predicting the validation text."""
    counts = np.bincount(train, minlength=vocab_size) + 1.0
    log_p = np.log2(counts / counts.sum())
    return float(-log_p[valid].mean())


class Batches:
    """Truncated-BPTT batches: ``batch`` parallel streams read ``seq_len`` characters at a time.

    The text is cut into ``batch`` equal streams, one per batch row, so that
    chunk i + 1 of each row continues chunk i and the hidden state can be
    carried across steps. After the last chunk it starts over (``wraps``).
    """

    def __init__(self, ids, batch, seq_len):
        columns = (len(ids) - 1) // batch
        if columns < seq_len:
            need = batch * seq_len + 1
            raise CorpusError(
                f"the text is too short: {len(ids)} characters for --batch {batch} and "
                f"--seq-len {seq_len} (at least {need})"
            )
        self.inputs = ids[: batch * columns].reshape(batch, columns)
        self.targets = ids[1 : batch * columns + 1].reshape(batch, columns)
        self.seq_len = seq_len
        self.chunks = columns // seq_len

    def __len__(self):
        return self.chunks

    def get(self, step):
        """(inputs, targets) of step ``step``, time-major (seq_len, batch); and whether it starts
        a new pass over the text (the carried state should then be reset)."""
        i = step % self.chunks
        cols = slice(i * self.seq_len, (i + 1) * self.seq_len)
        return self.inputs[:, cols].T, self.targets[:, cols].T, i == 0


def check_length(n_chars, n_train, n_val, batch, seq_len):
    """Raise a CorpusError, in the user's own numbers, unless the training part of a text can
    fill ``batch`` streams of ``seq_len`` characters and the validation part one stream."""
    need_train, need_val = batch * seq_len + 1, seq_len + 1
    if n_train < need_train or n_val < need_val:
        raise CorpusError(
            f"the text is too short: {n_chars} characters, of which {n_train} are for training "
            f"and {n_val} for validation; --batch {batch} and --seq-len {seq_len} need at least "
            f"{need_train} for training and {need_val} for validation"
        )


def bits(nats):
    return nats / math.log(2)


@dataclass
class TextData:
    """A text made ready for a run: its vocabulary, the training and validation ``Batches``,
    its sizes (all of it, the training part, the validation part with the one character
    before the first predicted), its SHA-256 and the unigram baseline in bits per character."""

    vocab: Vocabulary
    train: Batches
    val: Batches
    sizes: tuple
    sha256: str
    unigram: float

    @classmethod
    def of(cls, text, batch, seq_len, val_chars):
        """Split ``text`` (every tenth block for validation, cut to ``val_chars`` characters to
        predict) and batch it: ``batch`` streams of ``seq_len`` characters for training, and
        as many streams as fit, up to ``batch``, for validation."""
        vocab = Vocabulary.of_text(text)
        ids = vocab.encode(text)
        train_ids, val_ids = split(ids)
        val_ids = val_ids[: val_chars + 1]  # the characters predicted, and one before
        check_length(len(ids), len(train_ids), len(val_ids), batch, seq_len)
        streams = min(batch, (len(val_ids) - 1) // seq_len)
        return cls(
            vocab,
            Batches(train_ids, batch, seq_len),
            Batches(val_ids, streams, seq_len),
            (len(ids), len(train_ids), len(val_ids)),
            text_digest(text),
            unigram_bits(train_ids, val_ids[1:], len(vocab)),
        )
