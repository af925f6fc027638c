"""Text for the language model: the embedded corpus, a vocabulary, and batches for truncated BPTT.

The default corpus is minigrad's own source code, docstrings included, read
from the installed package at run time: nothing to download, the same text
for every copy of a version, and no licence question.
"""

import math
from importlib import resources

import numpy as np


class CorpusError(ValueError):
    """A text that cannot be trained on (missing, empty, not UTF-8, too short)."""


def embedded_corpus():
    """minigrad's own Python source, every file in path order, as one string."""
    root = resources.files("minigrad")
    files = sorted(_python_files(root), key=lambda pair: pair[0])
    return "".join(f"# {name}\n{path.read_text(encoding='utf-8')}\n" for name, path in files)


def _python_files(folder, prefix="minigrad"):
    for entry in folder.iterdir():
        name = f"{prefix}/{entry.name}"
        if entry.is_dir() and entry.name != "__pycache__":
            yield from _python_files(entry, name)
        elif entry.name.endswith(".py"):
            yield name, entry


def read_text(path):
    """The UTF-8 text of ``path``, or a CorpusError that says what is wrong with it."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise CorpusError(f"--text {path}: no such file") from None
    except IsADirectoryError:
        raise CorpusError(f"--text {path}: is a folder, not a file") from None
    except OSError as error:
        raise CorpusError(f"--text {path}: cannot read it ({error.strerror})") from None
    if not raw:
        raise CorpusError(f"--text {path}: the file is empty")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(
            f"--text {path}: not UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None


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
