"""The command line under misuse, met as a user meets it: a subprocess, its exit status, one
line on stderr and never a traceback; and the promises of train, sample, task and vanishing
that an ordinary run does not exercise (odd texts, resumed runs, run folders, signals)."""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest

import minigrad as mg
from minigrad import cli, runfolder, terminal, train
from minigrad.metrics import DETERMINISTIC
from minigrad.options import Config
from minigrad.runfolder import CHECKPOINT, FILES, LATEST, LOCK, RUN_FILES, RunFolder, RunFolderBusy
from minigrad.terminal import Status
from minigrad.train import Trainer

QUIET = Status(quiet=True)

TEXT = ("def add(a, b):\n    return a + b\n\n" * 40) + "class Tensor:\n    pass\n" * 20
DNA = "".join(np.random.default_rng(0).choice(list("ACGT"), size=2000))
TINY = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--log-every", "3",
        "--save-every", "3", "--sample-length", "20", "--quiet"]  # fmt: skip


def minigrad(*args, cwd=None, env=None):
    """``python -m minigrad ARGS``, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "minigrad", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def one_line_error(proc, status, *parts):
    """The process failed with ``status`` and one line on stderr holding every part."""
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    for part in parts:
        assert part in proc.stderr, (part, proc.stderr)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def metric_rows(out):
    with open(os.path.join(out, "metrics.csv"), newline="") as f:
        return list(csv.DictReader(f))


def deterministic(rows):
    return [[row[k] for k in DETERMINISTIC] for row in rows]


# ---- 1. any text trains to the end -------------------------------------------------------------


def test_a_text_without_def_trains_to_the_end_and_samples_from_its_most_frequent_character(
    tmp_path,
):
    dna = tmp_path / "dna.txt"
    dna.write_text(DNA, encoding="utf-8")
    out = tmp_path / "run"
    proc = minigrad("train", "--text", dna, "--steps", "4", "--out", out, *TINY)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    sample = proc.stdout.split("sample (temperature 0.8, seed 0):\n")[1]
    assert sample.startswith(Counter(DNA).most_common(1)[0][0]) and set(sample) <= set("ACGT\n")
    primed = tmp_path / "primed"
    proc = minigrad("train", "--text", dna, "--steps", "4", "--out", primed, "--prime", "GATT",
                    *TINY)  # fmt: skip
    assert proc.stdout.split("seed 0):\n")[1].startswith("GATT")
    assert json.loads((primed / "config.json").read_text())["prime"] == "GATT"


def test_plot_files_are_written_for_any_text(tmp_path):
    pytest.importorskip("matplotlib")
    dna = tmp_path / "dna.txt"
    dna.write_text(DNA, encoding="utf-8")
    out = tmp_path / "run"
    proc = minigrad("train", "--text", dna, "--steps", "4", "--out", out, "--plot", *TINY)
    assert proc.returncode == 0, proc.stderr
    assert (out / "loss.png").exists() and (out / "grad_norm.png").exists()


def test_a_prime_outside_the_text_is_refused_before_anything_is_written(tmp_path):
    dna = tmp_path / "dna.txt"
    dna.write_text(DNA, encoding="utf-8")
    out = tmp_path / "run"
    proc = minigrad("train", "--text", dna, "--out", out, "--prime", "def ", *TINY)
    one_line_error(proc, 2, "--prime 'def '", "characters not in the vocabulary: ' def'")
    assert not out.exists()


# ---- 2. metrics.csv always has the final step --------------------------------------------------


@pytest.mark.parametrize(("steps", "log_every", "logged"), [(7, 3, [3, 6, 7]), (2, 5, [2])])
def test_the_final_step_is_always_logged_and_the_summary_reports_it(
    text_file, tmp_path, steps, log_every, logged
):
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", steps, "--out", out, *TINY,
                    "--log-every", log_every)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = metric_rows(out)
    assert [int(r["step"]) for r in rows] == logged
    assert f"validation: {float(rows[-1]['val_bpc']):.3f} bits per character" in proc.stdout


def test_a_run_extended_later_logs_the_rows_of_an_uninterrupted_run_and_its_own_end(
    text_file, tmp_path
):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    Trainer(Config(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2, log_every=3,
                   save_every=3, steps=12), whole, status=QUIET).run()  # fmt: skip
    config = Config(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2, log_every=3,
                    save_every=3, steps=7)  # fmt: skip
    Trainer(config, parts, status=QUIET).run()
    Trainer(Config(**{**config.__dict__, "steps": 12}), parts, resume=True, status=QUIET).run()
    rows = metric_rows(parts)
    assert [int(r["step"]) for r in rows] == [3, 6, 7, 9, 12]
    assert deterministic([r for r in rows if r["step"] != "7"]) == deterministic(metric_rows(whole))


# ---- 3. --resume can rescue a run --------------------------------------------------------------


@pytest.fixture
def run(text_file, tmp_path):
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", "3", "--out", out, *TINY)
    assert proc.returncode == 0, proc.stderr
    return out


def test_resume_accepts_the_runs_own_options(run, text_file):
    proc = minigrad("train", "--resume", run, "--steps", "6", "--hidden", "8", "--batch", "2",
                    "--model", "gru", "--text", text_file, "--out", run, "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert mg.load(run / CHECKPOINT)["step"] == 6


@pytest.mark.parametrize(
    ("option", "value", "saved"),
    [("--hidden", "16", "8"), ("--model", "lstm", "gru"), ("--seed", "3", "0"),
     ("--clip", "0.5", "1.0"), ("--val-chars", "100", "16384")],
)  # fmt: skip
def test_resume_refuses_a_change_to_the_model_or_the_data_naming_both_values(
    run, option, value, saved
):
    before = (run / "metrics.csv").read_bytes()
    proc = minigrad("train", "--resume", run, option, value)
    one_line_error(proc, 2, f"{option} {value}: the run in {run} has {option} {saved}")
    assert (run / "metrics.csv").read_bytes() == before


def test_resume_may_change_the_rate_and_the_run_length_and_config_json_follows(run):
    proc = minigrad("train", "--resume", run, "--steps", "6", "--lr", "0.0005", "--log-every",
                    "2", "--save-every", "2", "--max-rollbacks", "9", "--sample-length", "5",
                    "--temperature", "0.5", "--prime", "cl", "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("seed 0):\n")[1].startswith("cl")
    config = json.loads((run / "config.json").read_text())
    assert (config["steps"], config["lr"], config["log_every"], config["max_rollbacks"]) == (
        6, 0.0005, 2, 9
    )  # fmt: skip
    assert [(r["step"], float(r["lr"])) for r in metric_rows(run)] == [
        ("3", 0.003), ("4", 0.0005), ("6", 0.0005)
    ]  # fmt: skip
    assert mg.load(run / CHECKPOINT)["optimizer"]["param_groups"][0]["lr"] == 0.0005


def test_a_run_stopped_by_max_rollbacks_is_rescued_with_a_lower_rate(text_file, tmp_path):
    out = tmp_path / "run"
    diverging = ["--model", "rnn", "--nonlinearity", "relu", "--optim", "sgd", "--lr", "1e6",
                 "--clip", "0", "--max-rollbacks", "1"]  # fmt: skip
    proc = minigrad("train", "--text", text_file, "--steps", "6", "--out", out, *TINY,
                    *diverging)  # fmt: skip
    assert proc.returncode == 1 and "training diverged 2 times" in proc.stderr, proc.stderr
    assert f"--resume {out} with a lower --lr" in proc.stderr
    again = minigrad("train", "--resume", out, "--quiet")
    assert again.returncode == 1 and "training diverged" in again.stderr  # the same divergence
    rescued = minigrad("train", "--resume", out, "--lr", "0.01", "--max-rollbacks", "3",
                       "--quiet")  # fmt: skip
    assert rescued.returncode == 0, rescued.stderr
    rows = metric_rows(out)
    assert int(rows[-1]["step"]) == 6 and float(rows[-1]["lr"]) == 0.01
    assert json.loads((out / "config.json").read_text())["lr"] == 0.01


def test_a_moved_text_is_found_again_by_its_content(run, text_file, tmp_path):
    moved = tmp_path / "elsewhere" / "moved.txt"
    moved.parent.mkdir()
    shutil.move(text_file, moved)
    proc = minigrad("train", "--resume", run, "--steps", "6")
    one_line_error(proc, 2, f"the run's text {text_file} is missing", "--text")
    changed = tmp_path / "changed.txt"
    changed.write_text(TEXT.replace("add", "sub"), encoding="utf-8")
    proc = minigrad("train", "--resume", run, "--steps", "6", "--text", changed)
    one_line_error(proc, 2, "the text is not the one the run in", "SHA-256")
    proc = minigrad("train", "--resume", run, "--steps", "6", "--text", moved, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "config.json").read_text())["text"] == str(moved)


def test_a_relative_text_path_is_stored_absolute_so_a_run_resumes_from_anywhere(
    text_file, tmp_path
):
    proc = minigrad("train", "--text", "text.txt", "--steps", "3", "--out", "run", *TINY,
                    cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["text"] == str(text_file)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = minigrad("train", "--resume", tmp_path / "run", "--steps", "6", "--quiet",
                    cwd=elsewhere)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_resume_keeps_its_folder(run, tmp_path):
    proc = minigrad("train", "--resume", run, "--out", tmp_path / "other")
    one_line_error(proc, 2, "a resumed run stays in its folder")


# ---- 4. errors in the user's numbers -----------------------------------------------------------


def test_a_short_text_is_reported_in_the_users_own_numbers(tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("abcdefghij" * 2 + "\n", encoding="utf-8")
    proc = minigrad("train", "--text", short, "--out", tmp_path / "r", "--batch", "2",
                    "--seq-len", "8")  # fmt: skip
    one_line_error(proc, 2, "the text is too short: 21 characters", "--batch 2 and --seq-len 8",
                   "need at least 17 for training and 9 for validation")  # fmt: skip
    assert not (tmp_path / "r").exists()


def test_val_chars_sets_the_validation_text_and_must_hold_one_chunk(text_file, tmp_path):
    proc = minigrad("train", "--text", text_file, "--out", tmp_path / "r", *TINY,
                    "--val-chars", "7")  # fmt: skip
    one_line_error(proc, 2, "--seq-len 8 is longer than --val-chars 7, and one validation chunk "
                   "predicts --seq-len characters")  # fmt: skip
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", "3", "--out", out, *TINY,
                    "--val-chars", "40")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "40 to predict in validation" in proc.stdout


# ---- 5. speed is training speed; 6. feedback from the first second -----------------------------


class FakeClock:
    """time for minigrad.train: it moves only when a step (1 s) or a validation (10 s) runs."""

    def __init__(self):
        self.now = 100.0

    def perf_counter(self):
        return self.now


def test_tokens_per_second_leaves_the_validation_passes_out(text_file, tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(train, "time", clock)
    config = Config(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2, log_every=2,
                    save_every=2, steps=4)  # fmt: skip
    trainer = Trainer(config, tmp_path / "run", status=QUIET)
    step, validate = trainer.train_step, trainer.validate

    def timed(seconds, work):
        def run():
            clock.now += seconds
            return work()

        return run

    trainer.train_step, trainer.validate = timed(1, step), timed(10, validate)
    rows = trainer.run()
    assert [row["elapsed_s"] for row in rows] == [12, 24]  # 2 and 4 steps, 1 and 2 validations
    assert [row["tokens_per_s"] for row in rows] == [8 * 2, 8 * 2]  # seq_len × batch per second
    assert trainer.clock.tokens_per_second() == 16


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_status_line_moves_between_logged_rows(text_file, tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(train, "time", clock)
    monkeypatch.setattr(terminal, "time", clock)
    config = Config(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2, log_every=100,
                    save_every=100, steps=3)  # fmt: skip
    screen = FakeTerminal()
    trainer = Trainer(config, tmp_path / "run", status=Status(screen))
    step = trainer.train_step

    def a_second_each():
        clock.now += 1
        return step()

    trainer.train_step = a_second_each
    trainer.run()
    drawn = screen.getvalue().split("\r")[1:]
    steps = ["step 1/3", "step 2/3", "step 3/3", "step 3/3"]  # the last one is the logged row
    assert [line.split(" |")[0] for line in drawn] == steps
    assert all("val - bpc" in line for line in drawn[:3]) and "val - bpc" not in drawn[-1]
    assert "ETA 2s" in drawn[0] and "ETA 0s" in drawn[-1]


def test_the_banner_names_the_folder_the_model_and_the_text(text_file, tmp_path):
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", "3", "--out", out, *TINY)
    banner = proc.stdout.splitlines()[:3]
    model, _, _, _ = runfolder.load_for_sampling(out, print)
    n_params = sum(p.data.size for p in model.parameters())
    assert banner[0] == f"run folder: {out}  (3 steps)"
    assert banner[1].startswith("model: gru, 1 layer(s) of 8 units, embedding 4: ")
    assert f"{n_params:,} parameters" in banner[1]
    assert banner[2].startswith(f"text: {text_file}: {len(TEXT):,} characters, "
                                f"{len(set(TEXT))} distinct; ")  # fmt: skip
    proc = minigrad("train", "--resume", out, "--steps", "5", "--quiet")
    assert proc.stdout.startswith(f"run folder: {out}  (resumed at step 3 of 5)")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(7.4, "7s"), (187, "3m07s"), (18420, "5h07m"), (1_054_800, "12d05h"), (1e40, "> 99 days"),
     (float("nan"), "?")],
)  # fmt: skip
def test_durations_stay_readable(seconds, text):
    assert terminal.duration(seconds) == text


def test_an_absurd_step_count_gets_a_readable_eta(text_file, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--text", text_file, "--steps", str(10**30), "--out", out, "--log-every",
            "1", "--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "minigrad", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    line = proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert line.startswith(f"step 1/{10**30} |") and line.rstrip().endswith("ETA > 99 days")


# ---- 7. run folders are protected --------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_out_refuses_a_folder_holding_any_file_a_run_writes_and_leaves_it_as_it_was(
    text_file, tmp_path, name
):
    out = tmp_path / "run"
    out.mkdir()
    (out / name).write_bytes(b"another run's file, or the user's picture")
    proc = minigrad("train", "--text", text_file, "--out", out, "--plot", *TINY)
    held = f"a run ({name})" if name in RUN_FILES else f"{name}, which --plot writes"
    one_line_error(proc, 2, f"{out} already holds {held}", f"--resume {out}")
    assert os.listdir(out) == [name]
    assert (out / name).read_bytes() == b"another run's file, or the user's picture"


def test_a_folder_in_use_is_refused_and_left_as_it_was(run):
    before = (run / "metrics.csv").read_bytes()
    holder = RunFolder.open(run, print)
    try:
        proc = minigrad("train", "--resume", run, "--steps", "9")
        one_line_error(proc, 1, f"{run} is in use: process {os.getpid()} is training in it")
        with pytest.raises(RunFolderBusy, match="is in use"):
            Trainer(None, run, resume=True)
    finally:
        holder.release()
    assert (run / "metrics.csv").read_bytes() == before and not (run / LOCK).exists()
    proc = minigrad("train", "--resume", run, "--steps", "6", "--quiet")
    assert proc.returncode == 0, proc.stderr


def _spawn_training(out, text_file, *more):
    args = ["train", "--text", text_file, "--steps", "100000", "--out", out, "--save-every",
            "100000", "--log-every", "1", "--hidden", "8", "--embed", "4", "--seq-len", "8",
            "--batch", "2", "--sample-length", "0", *more]  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "minigrad", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_sigterm_saves_like_sigint_and_exits_143(text_file, tmp_path):
    out = tmp_path / "run"
    proc = _spawn_training(out, text_file)
    proc.stderr.readline()  # a status line: training is under way
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err
    assert (
        "SIGTERM at step" in err
        and f"continue with: python -m minigrad train --resume {out}" in err
    )
    step = mg.load(out / LATEST)["step"]
    assert step > 0 and f"SIGTERM at step {step}:" in err
    proc = minigrad("train", "--resume", out, "--steps", step + 1, "--quiet")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_the_run_folders_set_up_waits_and_the_folder_resumes(
    text_file, tmp_path, monkeypatch, capsys, signum
):
    write_config = RunFolder.write_config

    def write_config_signalled(self, config):
        os.kill(os.getpid(), signum)  # arrives half way through setting up the folder
        return write_config(self, config)

    monkeypatch.setattr(RunFolder, "write_config", write_config_signalled)
    out = tmp_path / "run"
    assert cli.main(["train", "--text", str(text_file), "--out", str(out), *TINY]) == 128 + signum
    assert f"{signal.Signals(signum).name} at step 0: the run is saved in {out}" in (
        capsys.readouterr().err
    )
    monkeypatch.undo()
    assert cli.main(["train", "--resume", str(out), "--steps", "2", "--quiet"]) == 0


def test_an_interrupt_before_the_run_folder_is_touched_says_nothing_was_saved(
    text_file, tmp_path, monkeypatch, capsys
):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_trainer", interrupted)
    out = tmp_path / "run"
    assert cli.main(["train", "--text", str(text_file), "--out", str(out), *TINY]) == 130
    assert "SIGINT before training began: nothing was saved" in capsys.readouterr().err
    assert not out.exists()


def test_sigint_at_any_moment_of_the_set_up_leaves_a_resumable_folder_or_says_nothing_was_saved(
    text_file, tmp_path
):
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        proc = _spawn_training(out, text_file)
        while not out.exists() and proc.poll() is None:
            time.sleep(0.001)
        proc.send_signal(signal.SIGINT)  # as early as the folder exists
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "Traceback" not in err, err
        if "nothing was saved" in err:
            assert not out.exists() or not {*os.listdir(out)} & {*RUN_FILES}
        else:
            assert f"the run is saved in {out}" in err
            step = runfolder.read_newest(out, print)[1]["step"]
            resumed = minigrad("train", "--resume", out, "--steps", step + 1, "--quiet")
            assert resumed.returncode == 0, resumed.stderr


# ---- 8. never a traceback ----------------------------------------------------------------------


def test_resuming_a_truncated_checkpoint_is_one_line(run):
    data = (run / CHECKPOINT).read_bytes()
    (run / CHECKPOINT).write_bytes(data[: len(data) // 2])
    one_line_error(minigrad("train", "--resume", run), 2, f"{run / CHECKPOINT} is truncated or "
                   "corrupt", f"{run} holds no other checkpoint that can be read")  # fmt: skip


def test_resuming_a_checkpoint_that_is_not_a_runs_is_one_line(tmp_path):
    folder = tmp_path / "not-a-run"
    folder.mkdir()
    mg.save({"weights": np.ones(3)}, folder / CHECKPOINT)
    proc = minigrad("train", "--resume", folder)
    one_line_error(proc, 2, "is a minigrad checkpoint, but not of a training run",
                   "it lacks model, optimizer, step")  # fmt: skip
    proc = minigrad("sample", "--checkpoint", folder)
    one_line_error(proc, 2, "not of a training run")


def test_an_out_folder_that_cannot_be_made_is_one_line(text_file):
    proc = minigrad("train", "--text", text_file, "--out", "/proc/minigrad-run", *TINY)
    one_line_error(proc, 2, "/proc")


def test_output_closed_early_is_one_line(run):
    proc = subprocess.Popen([sys.executable, "-m", "minigrad", "sample", "--checkpoint", str(run),
                             "--length", "50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    proc.stdout.close()  # as `| head -0` does
    with proc.stderr:
        err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err
    assert err.splitlines()[-1] == "minigrad sample: error: the output was closed early"


def test_options_without_a_command_are_one_line():
    one_line_error(minigrad("--steps", "5"), 2, "minigrad: error: no command given",
                   "train, sample, task, vanishing")  # fmt: skip


@pytest.mark.parametrize("value", ["-1e-3", "-0.5", "-inf", "nan", "inf"])
def test_a_negative_or_non_finite_rate_is_named(value):
    one_line_error(minigrad("train", "--lr", value), 2,
                   f"argument --lr: expected a positive number, got '{value}'")  # fmt: skip


# ---- 9. sample ---------------------------------------------------------------------------------


def test_sample_says_which_checkpoint_and_step_it_used(run):
    proc = minigrad("sample", "--checkpoint", run, "--length", "5")
    assert proc.returncode == 0
    assert proc.stderr == f"sampling from {run / CHECKPOINT} (step 3)\n"


def test_sampling_an_untrained_model_warns(text_file, tmp_path):
    out = tmp_path / "run"
    config = Config(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2)
    Trainer(config, out).close()  # set up, not trained: only the step-0 checkpoint
    proc = minigrad("sample", "--checkpoint", out, "--length", "5")
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        f"sampling from {out / CHECKPOINT} (step 0)",
        f"warning: {out / CHECKPOINT} is from step 0: the model is untrained",
    ]


def test_sample_length_zero_prints_nothing(run):
    proc = minigrad("sample", "--checkpoint", run, "--length", "0", "--prime", "def")
    assert proc.returncode == 0 and proc.stdout == ""


def test_a_tiny_temperature_samples_greedily(run):
    texts = set()
    for seed in (1, 2):
        proc = minigrad("sample", "--checkpoint", run, "--length", "30", "--temperature",
                        "1e-320", "--seed", seed)  # fmt: skip
        assert proc.returncode == 0 and "Warning" not in proc.stderr, proc.stderr
        texts.add(proc.stdout)
    model, vocab, _, _ = runfolder.load_for_sampling(run, print)
    ids = [vocab.index[vocab.start]]
    logits, state = model(np.array([ids]))
    for _ in range(30):
        ids.append(int(np.argmax(logits.data[-1, 0])))
        logits, state = model(np.array([[ids[-1]]]), state)
    assert texts == {vocab.decode(ids) + "\n"}


def test_without_a_prime_sampling_starts_from_the_most_frequent_character(run):
    proc = minigrad("sample", "--checkpoint", run, "--length", "3")
    assert proc.stdout[0] == Counter(TEXT).most_common(1)[0][0] == " "


# ---- 10. task; 11. vanishing -------------------------------------------------------------------


def test_a_diverging_task_prints_scientific_numbers_and_a_nan_result_fails(tmp_path):
    common = ["task", "adding", "--model", "rnn", "--nonlinearity", "relu", "--clip", "0",
              "--steps", "5", "--hidden", "4", "--batch", "4", "--length", "6"]  # fmt: skip
    large = minigrad(*common, "--lr", "1e8", cwd=tmp_path)
    assert large.returncode == 0 and "e+" in large.stdout.splitlines()[-1]
    printed = [line for line in large.stdout.splitlines() if not line.startswith("run folder:")]
    assert max(len(word) for line in printed for word in line.split()) < 12
    nan = minigrad(*common, "--lr", "1e200", cwd=tmp_path)
    assert "final test MSE nan" in nan.stdout
    one_line_error(nan, 1, "minigrad task: error: training diverged (test MSE nan)")


def test_task_help_lists_every_model():
    proc = minigrad("task", "--help")
    lines = proc.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("--model"))
    assert "recurrent core: rnn, lstm, lnlstm (layer-normalised" in lines[at + 1]
    assert "LSTM) or gru (lstm)" in lines[at + 2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "argument --seed: expected a non-negative integer, got '-1'"),
        (["--lambdas", "inf"], "argument --lambdas: expected comma-separated positive numbers"),
        (["--lambdas", "1,nan"], "got 'nan'"),
        (["--plot", "curves"], "expected a file name ending in .png, got 'curves'"),
        (["--plot", "."], "'.' is a folder; give a file name ending in .png"),
    ],
)
def test_vanishing_misuse_is_one_line(args, message, tmp_path):
    proc = minigrad("vanishing", "--steps", "3", "--hidden", "2", *args, cwd=tmp_path)
    one_line_error(proc, 2, message)
    assert os.listdir(tmp_path) == []
