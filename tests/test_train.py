"""minigrad train and sample, end to end at toy sizes: outputs, exact resume, crash safety,
rollback, SIGINT, corpus errors, sampling determinism and bad options."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad import cli
from minigrad.corpus import CorpusError
from minigrad.metrics import COLUMNS, DETERMINISTIC
from minigrad.models import generate
from minigrad.options import Config
from minigrad.runfolder import CHECKPOINT, LATEST, load_for_sampling
from minigrad.terminal import Status
from minigrad.train import Trainer

TEXT = ("def add(a, b):\n    return a + b\n\n" * 40) + "class Tensor:\n    pass\n" * 20
TINY = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--log-every", "3",
        "--save-every", "3", "--sample-length", "20", "--quiet"]  # fmt: skip


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return str(path)


def quiet(config, out, **kw):
    """A Trainer that prints notes (rollbacks, warnings) only."""
    return Trainer(config, out, status=Status(quiet=True), **kw)


def tiny_config(text_file, out, **kw):
    fields = dict(text=text_file, hidden=8, embed=4, seq_len=8, batch=2, log_every=3, save_every=3,
                  steps=12, out=str(out), sample_length=0)  # fmt: skip
    fields.update(kw)
    return Config(**fields)


def metric_rows(out):
    with open(os.path.join(out, "metrics.csv"), newline="") as f:
        return list(csv.DictReader(f))


def test_train_end_to_end_writes_a_run_folder_and_prints_a_summary(text_file, tmp_path, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "--text", text_file, "--steps", "6", "--out", out, *TINY]) == 0
    printed = capsys.readouterr().out
    assert (
        "validation:" in printed
        and "unigram baseline" in printed
        and "sample (temperature 0.8" in printed
    )
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "config.json", "metrics.csv"]
    rows = metric_rows(out)
    assert [int(r["step"]) for r in rows] == [3, 6]
    assert list(rows[0]) == list(COLUMNS)
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["hidden"] == 8
    checkpoint = mg.load(os.path.join(out, CHECKPOINT))
    assert checkpoint["step"] == 6 and "".join(checkpoint["vocab"]) == "".join(sorted(set(TEXT)))
    assert {"model", "optimizer", "rng", "config", "hidden", "counters"} <= set(checkpoint)


def test_the_status_line_shows_progress(text_file, tmp_path, capsys):
    out = str(tmp_path / "run")
    args = [a for a in TINY if a != "--quiet"]
    assert cli.main(["train", "--text", text_file, "--steps", "3", "--out", out, *args]) == 0
    status = capsys.readouterr().err
    for part in ("step 3/3", "bpc", "val", "grad", "clipped", "tok/s", "ETA"):
        assert part in status


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_a_run_stopped_and_resumed_gives_the_metrics_of_an_uninterrupted_run(
    text_file, tmp_path, dropout
):
    whole = tmp_path / "whole"
    quiet(tiny_config(text_file, whole, dropout=dropout), whole).run()

    parts = tmp_path / "parts"
    first = quiet(tiny_config(text_file, parts, dropout=dropout), parts)
    step_once = first.train_step_or_rollback

    def stop_at_five():
        made = step_once()
        if first.state.step == 5:
            first.signals.received = signal.SIGINT  # as the SIGINT handler does
        return made

    first.train_step_or_rollback = stop_at_five
    with pytest.raises(KeyboardInterrupt):
        first.run()
    assert mg.load(parts / LATEST)["step"] == 5 and mg.load(parts / CHECKPOINT)["step"] == 3
    quiet(tiny_config(text_file, parts, dropout=dropout), parts, resume=True).run()
    assert not (parts / LATEST).exists()  # superseded by the next checkpoint

    a, b = metric_rows(whole), metric_rows(parts)
    assert [[r[k] for k in DETERMINISTIC] for r in a] == [[r[k] for k in DETERMINISTIC] for r in b]
    final_a, final_b = mg.load(whole / CHECKPOINT), mg.load(parts / CHECKPOINT)
    for name, value in final_a["model"].items():
        assert np.array_equal(value, final_b["model"][name]), name


def test_resume_through_the_cli_extends_a_run_and_drops_rows_after_the_checkpoint(
    text_file, tmp_path
):
    out = str(tmp_path / "run")
    assert cli.main(["train", "--text", text_file, "--steps", "6", "--out", out, *TINY]) == 0
    with open(os.path.join(out, "metrics.csv"), "a") as f:
        f.write("9,1,1,1,0,0.003,0,1,1\n")  # a row logged after the last checkpoint, then a crash
    assert cli.main(["train", "--resume", out, "--steps", "9", "--quiet"]) == 0
    assert [int(r["step"]) for r in metric_rows(out)] == [3, 6, 9]
    assert mg.load(os.path.join(out, CHECKPOINT))["step"] == 9


def _poisoned(trainer, at_step, times=1):
    """Make the step after ``at_step`` produce a NaN loss, the first ``times`` times."""
    step_once = trainer.train_step

    def step():
        if trainer.state.step == at_step and trainer.state.rollbacks < times:
            trainer.state.model.head.bias.data[0] = np.nan  # a fault: the next loss is NaN
        return step_once()

    trainer.train_step = step
    return trainer


def test_a_fault_is_rolled_back_with_half_the_learning_rate_and_training_goes_on(
    text_file, tmp_path, capsys
):
    out = tmp_path / "run"
    trainer = _poisoned(quiet(tiny_config(text_file, out, steps=9, log_every=1), out), 4)
    returned = trainer.run()
    assert trainer.state.step == 9 and trainer.state.rollbacks == 1
    assert trainer.state.optimizer.param_groups[0]["lr"] == pytest.approx(3e-3 / 2)
    assert np.isfinite(trainer.state.model.head.bias.data).all()
    messages = capsys.readouterr().err
    assert (
        "step 5: non-finite loss" in messages
        and "rollback 1/5: back to step 3, learning rate 0.003 -> 0.0015" in messages
    )
    rows = metric_rows(out)  # one row per step; step 4's first row, logged before the fault,
    # went with the rollback, and step 4 was logged again
    assert [(int(r["step"]), int(r["rollbacks"])) for r in rows] == [
        (1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (9, 1)
    ]  # fmt: skip
    assert [row["step"] for row in returned] == list(range(1, 10))
    assert all(np.isfinite(float(r["grad_norm"])) for r in rows)
    assert all(row["tokens_per_s"] > 0 for row in returned)


def test_each_rollback_halves_the_learning_rate_again(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    trainer = _poisoned(quiet(tiny_config(text_file, out, steps=6), out), 4, times=2)
    trainer.run()
    assert trainer.state.rollbacks == 2
    assert trainer.state.optimizer.param_groups[0]["lr"] == pytest.approx(3e-3 / 4)
    messages = capsys.readouterr().err
    assert "learning rate 0.003 -> 0.0015" in messages
    assert "learning rate 0.0015 -> 0.00075" in messages


@pytest.mark.parametrize("stop", ["ctrl-c", "end of a shorter run"])
def test_a_run_stopped_and_resumed_rolls_back_like_an_uninterrupted_one(text_file, tmp_path, stop):
    """A state saved off the save grid (Ctrl-C at step 4, or the end of a 4-step run) is not a
    rollback target: a fault right after it takes both runs back to step 3."""
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    _poisoned(quiet(tiny_config(text_file, whole), whole), 4).run()
    if stop == "ctrl-c":
        first = quiet(tiny_config(text_file, parts), parts)
        step_once = first.train_step_or_rollback

        def stop_at_four():
            made = step_once()
            first.signals.received = signal.SIGINT if first.state.step == 4 else None
            return made

        first.train_step_or_rollback = stop_at_four
        with pytest.raises(KeyboardInterrupt):
            first.run()
    else:
        quiet(tiny_config(text_file, parts, steps=4), parts).run()
    assert mg.load(parts / LATEST)["step"] == 4 and mg.load(parts / CHECKPOINT)["step"] == 3
    _poisoned(quiet(tiny_config(text_file, parts), parts, resume=True), 4).run()
    assert not (parts / LATEST).exists()  # removed by the rollback, then superseded anyway
    a, b = metric_rows(whole), metric_rows(parts)
    assert [[r[k] for k in DETERMINISTIC] for r in a] == [[r[k] for k in DETERMINISTIC] for r in b]
    assert int(a[-1]["rollbacks"]) == 1


def test_a_rollback_removes_a_newer_off_grid_state(text_file, tmp_path):
    out = tmp_path / "run"
    quiet(tiny_config(text_file, out, steps=4), out).run()
    with quiet(tiny_config(text_file, out), out, resume=True) as trainer:
        assert _poisoned(trainer, 4).train_step_or_rollback() is False and trainer.state.step == 3
    assert not (out / LATEST).exists()  # so a kill now resumes from step 3, not a stale step 4


def test_a_saved_config_with_unknown_or_missing_options_still_loads():
    config = Config.from_dict({"hidden": 8, "an_option_from_another_version": 1}, "config.json")
    assert config.hidden == 8 and config.steps == Config().steps


def test_a_run_that_keeps_diverging_stops_cleanly_with_every_checkpoint_loadable(
    text_file, tmp_path, capsys
):
    out = str(tmp_path / "run")
    # A relu RNN is unbounded, so a huge unclipped step overflows (gated models saturate instead).
    code = cli.main(["train", "--text", text_file, "--steps", "12", "--out", out, "--optim", "sgd",
                     "--model", "rnn", "--nonlinearity", "relu", "--lr", "1e30", "--clip", "0",
                     "--max-rollbacks", "2", *TINY])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("no update applied") == 3 and "rollback 2/2" in err
    assert "training diverged 3 times (--max-rollbacks 2); stopping" in err
    checkpoint = mg.load(os.path.join(out, CHECKPOINT))
    assert all(np.isfinite(v).all() for v in checkpoint["model"].values())


def test_a_resumed_run_refuses_a_different_text(text_file, tmp_path):
    out = tmp_path / "run"
    quiet(tiny_config(text_file, out, steps=3), out).run()
    other = tmp_path / "other.txt"
    other.write_text(TEXT + "é", encoding="utf-8")
    with pytest.raises(CorpusError, match="the text is not the one the run in .* trained on"):
        quiet(tiny_config(str(other), out), out, resume=True)


def _spawn(args):
    return subprocess.Popen([sys.executable, "-m", "minigrad", "train", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_sigint_saves_and_exits_cleanly(text_file, tmp_path):
    out = str(tmp_path / "run")
    args = ["--text", text_file, "--steps", "100000", "--out", out, "--save-every", "100000", "--log-every", "1",
            "--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--sample-length", "0"]  # fmt: skip
    proc = _spawn(args)
    proc.stderr.readline()  # the first status line: training is under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert (
        "Traceback" not in err and f"continue with: python -m minigrad train --resume {out}" in err
    )
    assert mg.load(os.path.join(out, LATEST))["step"] > 0


def test_killing_the_process_at_any_moment_never_leaves_a_corrupt_checkpoint(text_file, tmp_path):
    out = str(tmp_path / "run")
    args = ["--text", text_file, "--steps", "100000", "--out", out, "--save-every", "1", "--log-every", "1",
            "--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--sample-length", "0"]  # fmt: skip
    steps = []
    for delay in (0.0, 0.013, 0.031, 0.047, 0.071):
        proc = _spawn(["--resume", out, "--steps", "100000", "--quiet"] if steps else args)
        while not os.path.exists(os.path.join(out, CHECKPOINT)):
            time.sleep(0.005)
        time.sleep(0.4 + delay)  # saving every step, so the kill lands in or near a save
        proc.kill()
        proc.communicate(timeout=60)
        steps.append(mg.load(os.path.join(out, CHECKPOINT))["step"])  # loads: never half-written
    assert steps == sorted(steps) and steps[-1] > 0


def test_corpus_errors_get_one_line_and_exit_status_2(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"abc\xff\xfe")
    short = tmp_path / "short.txt"
    short.write_text("ab", encoding="utf-8")
    cases = [
        (str(tmp_path / "missing.txt"), "no such file"),
        (str(empty), "the file is empty"),
        (str(binary), "not UTF-8 (byte 0xff at offset 3)"),
        (str(short), "the text is too short"),
        (str(tmp_path), "is a folder, not a file"),
    ]
    for path, message in cases:
        assert cli.main(["train", "--text", path, "--out", str(tmp_path / "r"), *TINY]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "-5"], "argument --steps: expected a positive integer, got '-5'"),
        (["--lr", "-1"], "argument --lr: expected a positive number"),
        (["--clip", "-0.5"], "argument --clip: expected a non-negative number"),
        (["--model", "transformer"], "argument --model: invalid choice: 'transformer'"),
        (["--nonlinearity", "gelu"], "argument --nonlinearity: invalid choice"),
        (
            ["--out", "/etc/hostname/run"],
            "cannot create the run folder /etc/hostname/run: Not a directory; choose another --out",
        ),
        (
            ["--resume", "/nonexistent"],
            "/nonexistent: no such folder; --resume takes a run's folder",
        ),
    ],
)
def test_bad_train_options_get_one_line_and_exit_status_2(args, message, capsys):
    assert cli.main(["train", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_resume_refuses_new_training_options_and_a_used_out_folder_is_refused(
    text_file, tmp_path, capsys
):
    out = str(tmp_path / "run")
    assert cli.main(["train", "--text", text_file, "--steps", "3", "--out", out, *TINY]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--resume", out, "--hidden", "16"]) == 2
    assert (
        f"--hidden 16: the run in {out} has --hidden 8, which defines its model or data"
        in capsys.readouterr().err
    )
    assert cli.main(["train", "--text", text_file, "--out", out, *TINY]) == 2
    assert (
        f"{out} already holds a run (config.json, metrics.csv, checkpoint.npz); "
        f"continue a run with --resume {out}" in capsys.readouterr().err
    )
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert cli.main(["train", "--text", text_file, "--out", str(a_file), *TINY]) == 2
    assert f"{a_file} is a file, not a folder; choose another --out" in capsys.readouterr().err


def test_plot_writes_both_curves(text_file, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = str(tmp_path / "run")
    assert (
        cli.main(["train", "--text", text_file, "--steps", "6", "--out", out, "--plot", *TINY]) == 0
    )
    for name in ("loss.png", "grad_norm.png"):
        with open(os.path.join(out, name), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_is_refused_before_training(
    text_file, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = str(tmp_path / "run")
    assert cli.main(["train", "--text", text_file, "--out", out, "--plot", *TINY]) == 2
    assert "pip install -e '.[plot]'" in capsys.readouterr().err and not os.path.exists(out)


# ---- sample -----------------------------------------------------------------------------------


@pytest.fixture
def trained(text_file, tmp_path):
    out = str(tmp_path / "run")
    assert cli.main(["train", "--text", text_file, "--steps", "6", "--out", out, *TINY]) == 0
    return out


def test_sampling_is_deterministic_for_a_seed(trained, capsys):
    capsys.readouterr()
    runs = []
    for seed in ("1", "1", "2"):
        assert (
            cli.main(
                [
                    "sample",
                    "--checkpoint",
                    trained,
                    "--prime",
                    "def ",
                    "--length",
                    "60",
                    "--seed",
                    seed,
                ]
            )
            == 0
        )
        runs.append(capsys.readouterr().out)
    assert runs[0] == runs[1] != runs[2]
    assert runs[0].startswith("def ") and len(runs[0]) == len("def ") + 60 + 1


def test_sampling_without_a_prime_and_from_the_checkpoint_file(trained, capsys):
    capsys.readouterr()
    path = os.path.join(trained, CHECKPOINT)
    assert cli.main(["sample", "--checkpoint", path, "--length", "10", "--temperature", "0.5"]) == 0
    assert len(capsys.readouterr().out) == 11 + 1


def test_sample_errors(trained, tmp_path, capsys):
    capsys.readouterr()
    assert cli.main(["sample", "--checkpoint", trained, "--prime", "ß"]) == 2
    assert "characters not in the vocabulary: 'ß'" in capsys.readouterr().err
    assert cli.main(["sample", "--checkpoint", str(tmp_path / "nothing")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    assert cli.main(["sample", "--checkpoint", trained, "--temperature", "0"]) == 2
    assert "argument --temperature: expected a positive number" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert cli.main(["sample", "--checkpoint", str(bad)]) == 2
    assert "bad.npz" in capsys.readouterr().err


def test_generate_rejects_a_non_positive_temperature(trained):
    model, vocab, _, _ = load_for_sampling(trained, print)
    with pytest.raises(ValueError, match="temperature must be positive"):
        generate(model, vocab, "", 3, 0.0, 0)


def test_sampling_from_a_run_folder_takes_its_newest_checkpoint(text_file, tmp_path, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "--text", text_file, "--steps", "5", "--out", out, *TINY]) == 0
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "config.json", LATEST, "metrics.csv"]
    capsys.readouterr()
    texts = {}
    for where in (out, os.path.join(out, LATEST), os.path.join(out, CHECKPOINT)):
        assert cli.main(["sample", "--checkpoint", where, "--length", "40", "--seed", "3"]) == 0
        texts[where] = capsys.readouterr().out
    assert texts[out] == texts[os.path.join(out, LATEST)] != texts[os.path.join(out, CHECKPOINT)]


def test_resume_refuses_fewer_steps_than_the_run_has_made(trained, capsys):
    capsys.readouterr()
    assert cli.main(["train", "--resume", trained, "--steps", "3", "--quiet"]) == 2
    assert (
        f"--steps 3: the run in {trained} is already at step 6; give at least that many"
        in capsys.readouterr().err
    )


# ---- the compiled step --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        dict(model="gru"),
        dict(model="lstm", layers=2),
        dict(model="rnn", optim="sgd"),
        dict(model="gru", layers=2, dropout=0.3),
    ],
)
def test_a_compiled_run_writes_the_metrics_of_an_eager_run_bit_for_bit(text_file, tmp_path, model):
    runs = {}
    for compiled in (True, False):
        out = tmp_path / str(compiled)
        trainer = Trainer(tiny_config(text_file, out, **model), out, compiled=compiled)
        trainer.run()
        assert isinstance(trainer.loss_and_state, mg.compiler.CompiledFunction) == compiled
        rows = [[row[k] for k in DETERMINISTIC] for row in metric_rows(out)]
        runs[compiled] = rows, [p.data.tobytes() for p in trainer.state.model.parameters()]
    assert runs[True] == runs[False] and len(runs[True][0]) == 4


def test_the_train_step_is_compiled_by_default_and_traced_once_per_state_kind(text_file, tmp_path):
    with Trainer(tiny_config(text_file, tmp_path / "run", steps=4), tmp_path / "run") as trainer:
        for _ in range(4):
            trainer.train_step()
    assert trainer.loss_and_state.traces == 2  # the first step has no state yet, the others do


def test_no_compile_is_an_option_of_train_and_task_and_of_a_resumed_run(text_file, tmp_path):
    out = str(tmp_path / "run")
    command = [sys.executable, "-m", "minigrad"]
    first = subprocess.run([*command, "train", "--text", text_file, "--steps", "3", "--out", out,
                            "--no-compile", *TINY], capture_output=True, text=True)  # fmt: skip
    assert first.returncode == 0, first.stderr
    resumed = subprocess.run([*command, "train", "--resume", out, "--steps", "6", "--no-compile",
                              "--quiet"], capture_output=True, text=True)  # fmt: skip
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr
    task = subprocess.run([*command, "task", "adding", "--length", "6", "--hidden", "4",
                           "--batch", "8", "--steps", "2", "--no-compile", "--quiet"],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert task.returncode == 0 and "final test MSE" in task.stdout, task.stderr


def test_with_dropout_validation_runs_in_eval_mode_and_training_mode_comes_back(
    text_file, tmp_path
):
    out = tmp_path / "run"
    with Trainer(tiny_config(text_file, out, dropout=0.5, layers=2), out) as trainer:
        first = trainer.validate()
        assert trainer.state.model.training and trainer.validate() == first
        trainer.train_step()
        assert trainer.state.model.training and trainer.state.model.rnn.training
        assert trainer.loss_and_state.traces == 1  # the plan still fits after validating


def test_dropout_is_an_option_of_train_that_a_resumed_run_keeps(text_file, tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "--text", text_file, "--steps", "3", "--out", out, "--dropout", "0.2"]
    assert cli.main([*args, *TINY]) == 0
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["dropout"] == 0.2
    capsys.readouterr()
    assert cli.main(["train", "--resume", out, "--dropout", "0.5"]) == 2
    assert "--dropout 0.5: the run in" in capsys.readouterr().err
    assert cli.main(["train", "--text", text_file, "--dropout", "1", *TINY]) == 2
    assert "argument --dropout: expected a probability in [0, 1), got '1'" in (
        capsys.readouterr().err
    )
