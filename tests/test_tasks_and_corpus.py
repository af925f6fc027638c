"""The adding problem and the text pipeline of the language model."""

import fnmatch
import gzip
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from minigrad import cli, corpus
from minigrad.corpus import Batches, CorpusError, Vocabulary, frozen_corpus, split, unigram_bits
from minigrad.tasks import BASELINE, AddingConfig, adding_batch, run_adding


def test_an_adding_batch_marks_one_value_in_each_half_and_targets_their_sum():
    x, y = adding_batch(10, 500, np.random.default_rng(0))
    assert x.shape == (10, 500, 2) and y.shape == (500, 1)
    values, markers = x[..., 0], x[..., 1]
    assert np.all(markers[:5].sum(axis=0) == 1) and np.all(markers[5:].sum(axis=0) == 1)
    assert np.allclose((values * markers).sum(axis=0), y[:, 0])
    assert values.min() >= 0 and values.max() < 1


def test_always_predicting_one_scores_one_sixth():
    _, y = adding_batch(8, 200_000, np.random.default_rng(1))
    assert np.mean((y - 1.0) ** 2) == pytest.approx(BASELINE, rel=0.01)


def test_adding_needs_two_steps():
    with pytest.raises(ValueError, match="at least 2 steps"):
        adding_batch(1, 3, np.random.default_rng(0))


def test_run_adding_reports_and_returns_a_finite_test_mse():
    seen = []
    small = dict(length=6, hidden=4, batch=8, steps=4)
    mse, seconds = run_adding(
        AddingConfig(model="gru", log_every=2, **small), lambda *r: seen.append(r)
    )
    assert np.isfinite(mse) and seconds >= 0 and [r[0] for r in seen] == [2, 4]
    mse_rnn, _ = run_adding(AddingConfig(model="rnn", nonlinearity="sigmoid", clip=0.0, **small))
    mse_lstm, _ = run_adding(AddingConfig(model="lstm", **small))
    assert np.isfinite(mse_rnn) and np.isfinite(mse_lstm)


def test_task_command_prints_the_baseline_and_the_result(capsys, tmp_path):
    assert (
        cli.main(
            [
                "task",
                "adding",
                "--out",
                str(tmp_path / "run"),
                "--length",
                "6",
                "--steps",
                "4",
                "--hidden",
                "4",
                "--batch",
                "8",
                "--model",
                "rnn",
                "--nonlinearity",
                "sigmoid",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "adding problem, T = 6, sigmoid-rnn: baseline (always predict 1) MSE = 0.1667" in out
    assert "step      4  train MSE" in out and "final test MSE" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["task", "adding", "--length", "1"],
            "argument --length: expected an integer of at least 2 (a marked step in each half), "
            "got '1'",
        ),
        (["task", "adding", "--model", "cnn"], "argument --model: invalid choice: 'cnn'"),
        (["task", "copy"], "argument name: invalid choice: 'copy'"),
        (["task", "adding", "--steps", "0"], "argument --steps: expected a positive integer"),
    ],
)
def test_bad_task_options_get_one_line_and_exit_status_2(args, message, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# ---- corpus -----------------------------------------------------------------------------------


def test_the_frozen_corpus_is_minigrads_own_source_and_does_not_change_between_calls():
    text = frozen_corpus()
    assert "# minigrad/engine.py\n" in text and "class Tensor(" in text
    assert text == frozen_corpus() and len(text) > 100_000


def test_the_corpus_file_in_the_package_is_the_one_the_code_names():
    data = (resources.files("minigrad") / "data" / corpus.CORPUS_FILE).read_bytes()
    assert len(data) == corpus.CORPUS_FILE_BYTES
    assert hashlib.sha256(data).hexdigest() == corpus.CORPUS_FILE_SHA256
    text = frozen_corpus()
    assert len(text) == corpus.CORPUS_CHARS
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == corpus.CORPUS_SHA256
    assert f"corpus v{corpus.CORPUS_VERSION}" in corpus.CORPUS_NAME


def test_the_corpus_file_is_package_data_so_a_plain_install_has_it():
    tomllib = pytest.importorskip("tomllib")
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    globs = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]["minigrad"]
    assert any(fnmatch.fnmatch(f"data/{corpus.CORPUS_FILE}", glob) for glob in globs)


def test_a_damaged_corpus_file_is_an_error_that_says_to_reinstall(monkeypatch, tmp_path):
    package = tmp_path / "minigrad"
    (package / "data").mkdir(parents=True)
    monkeypatch.setattr(corpus.resources, "files", lambda name: package)
    (package / "data" / corpus.CORPUS_FILE).write_bytes(b"not gzip")
    with pytest.raises(CorpusError, match="cannot be read .*; reinstall minigrad"):
        frozen_corpus()
    (package / "data" / corpus.CORPUS_FILE).write_bytes(gzip.compress(b"another text"))
    with pytest.raises(CorpusError, match="is not corpus v1; reinstall minigrad"):
        frozen_corpus()


def test_two_runs_on_the_frozen_corpus_give_the_same_numbers(tmp_path):
    from minigrad.metrics import DETERMINISTIC
    from minigrad.options import Config
    from minigrad.terminal import Status
    from minigrad.train import Trainer

    config = Config(hidden=8, embed=4, seq_len=8, batch=4, steps=4, log_every=2, save_every=2,
                    val_chars=256, sample_length=0)  # fmt: skip
    rows = []
    for name in ("first", "second"):
        logged = Trainer(config, tmp_path / name, status=Status(quiet=True)).run()
        rows.append([[row[k] for k in DETERMINISTIC] for row in logged])
    assert rows[0] == rows[1] and len(rows[0]) == 2


def test_source_text_is_how_a_corpus_is_made(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    (package / "b.py").write_text("B = 2\n")
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "c.py").write_text("C = 3\n")
    (package / "__pycache__" / "a.cpython-311.py").write_text("not source\n")
    (package / "notes.txt").write_text("not source\n")
    assert corpus.source_text(package) == (
        "# pkg/a.py\nA = 1\n\n# pkg/b.py\nB = 2\n\n# pkg/sub/c.py\nC = 3\n\n"
    )


def test_vocabulary_round_trips_and_names_unknown_characters():
    vocab = Vocabulary("hello world")
    assert len(vocab) == 8 and vocab.decode(vocab.encode("hold")) == "hold"
    with pytest.raises(CorpusError, match="characters not in the vocabulary: 'xz'"):
        vocab.encode("zx")


def test_the_split_interleaves_every_tenth_block_for_validation():
    ids = np.arange(25_000)
    train, valid = split(ids)
    assert len(valid) == 2000 and len(train) == 23_000
    assert valid[:3].tolist() == [9000, 9001, 9002] and valid[1000] == 19_000
    short_train, short_valid = split(np.arange(100))
    assert len(short_valid) == 10 and short_train[-1] == 89


def test_batches_continue_each_stream_from_one_step_to_the_next():
    ids = np.arange(101)
    batches = Batches(ids, batch=2, seq_len=10)
    assert len(batches) == 5
    x0, y0, first = batches.get(0)
    x1, _, second = batches.get(1)
    assert x0.shape == (10, 2) and first and not second
    assert np.array_equal(y0[:, 0], x0[:, 0] + 1)  # targets are the next characters
    assert x1[0, 0] == x0[-1, 0] + 1 and x1[0, 1] == 50 + 10  # each row carries on
    assert batches.get(5)[2]  # after the last chunk it starts over
    with pytest.raises(
        CorpusError, match="the text is too short: 30 characters for --batch 4 and --seq-len 10"
    ):
        Batches(np.arange(30), batch=4, seq_len=10)


def test_unigram_bits_is_the_cross_entropy_of_smoothed_counts():
    train, valid = np.array([0, 0, 0, 1]), np.array([0, 1])
    p = np.array([4.0, 2.0]) / 6.0  # counts + 1
    assert unigram_bits(train, valid, 2) == pytest.approx(-(np.log2(p[0]) + np.log2(p[1])) / 2)


def test_the_adding_task_gives_the_same_result_compiled_and_eager():
    config = AddingConfig(length=8, model="lstm", hidden=4, batch=8, steps=5)
    assert run_adding(config, compiled=True)[0] == run_adding(config, compiled=False)[0]
