"""Every file of a run folder is checked when it is read: metrics.csv line by line, a checkpoint
against the rules of the options and the shapes of its model, config.json as options. A damaged
file is a one-line error that names it and says what to do, or a warning and a way round it;
never a traceback, and never a silent wrong answer."""

import json
import os

import numpy as np
import pytest

import minigrad as mg
from minigrad.metrics import HEADER, MetricsError, MetricsFile, parse
from minigrad.runfolder import CHECKPOINT, LATEST, RunState, check_run, load_run
from minigrad.serialization import CheckpointError
from tests.usage import TINY, clean_exit, minigrad, snapshot


def steps_logged(out):
    return [line.split(",")[0] for line in (out / "metrics.csv").read_text().splitlines()[1:]]


def resume(run, *more):
    return minigrad("train", "--resume", run, "--steps", "9", "--quiet", *more)


# ---- metrics.csv ------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["deleted", "emptied"])
def test_a_run_whose_metrics_were_deleted_or_emptied_resumes_and_says_so(run, damage):
    if damage == "deleted":
        (run / "metrics.csv").unlink()
    else:
        (run / "metrics.csv").write_text("")
    proc = resume(run)
    clean_exit(proc, 0, f"warning: {run / 'metrics.csv'} is missing or empty; the record starts "
               "again at step 6")  # fmt: skip
    assert (run / "metrics.csv").read_text().splitlines()[0] == HEADER
    assert steps_logged(run) == ["9"]


@pytest.mark.parametrize("blank", ["\n", "\r\n", "\n\n  \n"])
def test_blank_lines_at_the_end_of_metrics_are_fine(run, blank):
    with open(run / "metrics.csv", "a") as f:
        f.write(blank)  # as an editor saving the file adds
    clean_exit(resume(run), 0, lines=0)
    assert steps_logged(run) == ["3", "6", "9"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [("garbage,row\n", "2 fields, not 9"), ("9,a,b,c,d,e,f,g,h\n", "not a row of numbers"),
     ("3,1,1,1,0,0.003,0,1,1\n", "step 3 does not follow step 6"),
     ("7.5,1,1,1,0,0.003,0,1,1\n", "step 7.5 does not follow step 6")],
)  # fmt: skip
def test_a_garbage_row_in_metrics_is_one_line_naming_the_file_and_the_line(run, row, problem):
    with open(run / "metrics.csv", "a") as f:
        f.write(row)
    before = snapshot(run)
    proc = resume(run)
    clean_exit(proc, 2, f"{run / 'metrics.csv'}, line 4: {problem}",
               "fix or delete that line, or remove the file to start the record again")  # fmt: skip
    assert snapshot(run) == before


def test_a_metrics_header_edited_away_is_one_line(run):
    text = (run / "metrics.csv").read_text()
    (run / "metrics.csv").write_text(text.replace("val_bpc", "validation"))
    clean_exit(resume(run), 2, f"{run / 'metrics.csv'}, line 1: not the header minigrad writes")


@pytest.mark.parametrize("cut", ["9,4.1,4.2", "9", "9,4.1,4.2,0.3,0.0,0.003,0,1000.0,1."])
def test_a_row_cut_short_is_dropped_with_a_warning_and_plot_still_draws(run, cut):
    pytest.importorskip("matplotlib")
    with open(run / "metrics.csv", "a", newline="") as f:
        f.write(cut)  # killed while writing the row: no line end
    proc = resume(run, "--plot")
    clean_exit(proc, 0, lines=1)
    assert f"warning: the last row of {run / 'metrics.csv'} was cut short" in proc.stderr
    assert steps_logged(run) == ["3", "6", "9"]
    assert (run / "loss.png").exists() and (run / "grad_norm.png").exists()


def test_a_header_cut_short_starts_the_record_again():
    assert parse(HEADER[:10].encode(), "metrics.csv") == ([], True)
    assert parse(b"", "metrics.csv") == ([], False)


def test_a_metrics_file_that_is_not_text_is_one_line(tmp_path):
    (tmp_path / "metrics.csv").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(MetricsError, match="is not a text file; remove it"):
        MetricsFile(tmp_path / "metrics.csv", print).read()


def test_a_metrics_file_removed_while_training_starts_again(tmp_path, capsys):
    metrics = MetricsFile(tmp_path / "metrics.csv", print)
    row = dict.fromkeys(HEADER.split(","), 1.0) | {"step": 3}
    metrics.append(row)
    assert "was removed; it starts again from this row" in capsys.readouterr().out
    assert [r["step"] for r in metrics.read()] == [3.0]


# ---- checkpoints ------------------------------------------------------------------------------


def edited(path, edit):
    """The checkpoint at ``path`` changed by ``edit(checkpoint)``, as a hand or another version
    of minigrad might have left it."""
    checkpoint = mg.load(path)
    edit(checkpoint)
    mg.save(checkpoint, path)


def without(key):
    return lambda checkpoint: checkpoint["config"].pop(key)


def setting(key, value):
    return lambda checkpoint: checkpoint["config"].__setitem__(key, value)


def test_a_checkpoint_whose_config_lacks_an_option_takes_its_default(run):
    edited(run / CHECKPOINT, without("lr"))
    clean_exit(resume(run), 0, lines=0)
    proc = minigrad("sample", "--checkpoint", run, "--length", "5")
    clean_exit(proc, 0, "sampling from")


@pytest.mark.parametrize(
    ("edit", "message"),
    [(setting("lr", -1), '"lr": -1: expected a positive number'),
     (setting("model", "transformer"), '"model": "transformer": choose from rnn, lstm, gru'),
     (setting("hidden", "16"), '"hidden": "16": expected a positive integer'),
     (setting("hidden", 16), "its weights do not fit the model its config describes "
      "(rnn.weight_ih_l0: checkpoint has shape (24, 4), the model has (48, 4))"),
     (setting("layers", 2), "its weights do not fit the model its config describes "
      "(missing key: rnn.weight_ih_l1)"),
     (setting("seq_len", 10**6), "--seq-len 1000000 is longer than --val-chars"),
     (lambda c: c.__setitem__("config", "gru"), "its config is not a set of options"),
     (lambda c: c.__setitem__("step", -1), "its step -1 is not a count"),
     (lambda c: c.__setitem__("vocab", ["ab"]), "its vocabulary is damaged"),
     (lambda c: c.__setitem__("vocab_counts", [1]), "its character counts are damaged"),
     (lambda c: c["counters"].pop("clipped"), "its counters are damaged"),
     (lambda c: c.__setitem__("rng", {"state": 1}), "its random state cannot be restored"),
     (lambda c: c["optimizer"].pop("param_groups"), "its optimiser state does not fit"),
     (lambda c: c.__setitem__("hidden", [np.zeros(3)]), "its carried hidden state does not "
      "have the shape (1, 2, 8)"),
     (lambda c: c["model"]["head.bias"].__setitem__(0, np.nan), "its weights are not all finite"),
     (lambda c: c.__setitem__("vocab", c["vocab"][::-1]), "its vocabulary is damaged"),
     (lambda c: c["optimizer"]["state"].pop(0), "its optimiser state covers 6 of 7 parameters")],
)  # fmt: skip
@pytest.mark.parametrize("command", ["resume", "sample"])
def test_a_checkpoint_edited_by_hand_is_one_line_naming_the_file(run, edit, message, command):
    (run / LATEST).unlink(missing_ok=True)
    edited(run / CHECKPOINT, edit)
    before = snapshot(run)
    if command == "resume":
        proc = resume(run)
    else:
        proc = minigrad("sample", "--checkpoint", run / CHECKPOINT, "--length", "5")
    clean_exit(proc, 2, str(run / CHECKPOINT), message)
    assert snapshot(run) == before


def test_a_checkpoint_without_the_hidden_state_a_step_carries_is_one_line(run):
    edited(run / CHECKPOINT, lambda checkpoint: checkpoint.__setitem__("hidden", None))
    (run / LATEST).unlink(missing_ok=True)
    clean_exit(resume(run), 2, f"{run / CHECKPOINT}: its carried hidden state is missing")


def test_a_rollback_to_a_checkpoint_deleted_meanwhile_is_one_line(run, monkeypatch, capsys):
    """The checkpoint a rollback returns to went missing while the run trained."""
    from minigrad import cli, train

    poisoned = train.Trainer.train_step

    def step_then_lose_the_checkpoint(self):
        if self.state.step == 7:
            (run / CHECKPOINT).unlink()
            self.state.model.head.bias.data[0] = np.nan  # the next loss is NaN: a rollback
        return poisoned(self)

    monkeypatch.setattr(train.Trainer, "train_step", step_then_lose_the_checkpoint)
    assert cli.main(["train", "--resume", str(run), "--steps", "12", "--quiet"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"minigrad train: error: cannot roll back: no checkpoint at {run / CHECKPOINT}; the run "
        "stopped, and no checkpoint of it can be read"
    )


def test_a_checkpoint_of_an_option_that_did_not_apply_reads_it_as_its_default(run):
    """A checkpoint of an older minigrad, which accepted --nonlinearity relu for a GRU and
    ignored it, still loads."""
    edited(run / CHECKPOINT, setting("nonlinearity", "relu"))
    (run / LATEST).unlink(missing_ok=True)
    state = RunState.from_dict(load_run(run / CHECKPOINT), run / CHECKPOINT)
    assert state.config.nonlinearity == "tanh"
    clean_exit(resume(run), 0, lines=0)


def test_a_checkpoint_that_is_not_a_dict_is_not_a_runs():
    with pytest.raises(CheckpointError, match="not of a training run$"):
        check_run([1, 2], "ck.npz")


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_corrupt_latest_falls_back_to_the_checkpoint_and_says_so(text_file, tmp_path):
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", "5", "--out", out, *TINY)
    assert proc.returncode == 0 and mg.load(out / LATEST)["step"] == 5
    truncate(out / LATEST)
    sample = minigrad("sample", "--checkpoint", out, "--length", "5")
    clean_exit(sample, 0, f"sampling from {out / CHECKPOINT} (step 3)", lines=2)
    assert f"warning: load: {out / LATEST} is truncated" not in sample.stderr
    assert f"{out / LATEST} is truncated or corrupt" in sample.stderr.splitlines()[0]
    proc = minigrad("train", "--resume", out, "--steps", "9", "--quiet")
    clean_exit(proc, 0, f"using {out / CHECKPOINT} (step 3) instead")
    assert proc.stderr.startswith(f"warning: {out / LATEST} is truncated or corrupt")
    assert not (out / LATEST).exists() and mg.load(out / CHECKPOINT)["step"] == 9


def test_a_corrupt_checkpoint_falls_back_to_latest_which_becomes_the_rollback_point(
    text_file, tmp_path
):
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", "5", "--out", out, *TINY)
    assert proc.returncode == 0
    truncate(out / CHECKPOINT)
    proc = minigrad("train", "--resume", out, "--steps", "5", "--quiet")
    clean_exit(proc, 0, f"using {out / LATEST} (step 5) instead")
    assert mg.load(out / CHECKPOINT)["step"] == 5 and not (out / LATEST).exists()


def test_both_checkpoints_corrupt_is_one_line_naming_both(run, text_file):
    proc = minigrad("train", "--resume", run, "--steps", "7", "--quiet")
    assert proc.returncode == 0 and (run / LATEST).exists()
    truncate(run / CHECKPOINT)
    (run / LATEST).write_bytes(b"")
    clean_exit(resume(run), 2, str(run / CHECKPOINT), str(run / LATEST),
               f"{run} holds no other checkpoint that can be read")  # fmt: skip


# ---- config.json ------------------------------------------------------------------------------


def edit_config(run, **options):
    config = json.loads((run / "config.json").read_text())
    config.update(options)
    (run / "config.json").write_text(json.dumps(config))


def test_a_hand_edit_to_config_json_is_taken_as_a_given_option(run):
    edit_config(run, lr=0.01, steps=9)
    proc = minigrad("train", "--resume", run, "--quiet")
    clean_exit(proc, 0, lines=0)
    assert steps_logged(run) == ["3", "6", "9"]
    config = json.loads((run / "config.json").read_text())
    assert (config["lr"], config["steps"]) == (0.01, 9)
    assert mg.load(run / CHECKPOINT)["optimizer"]["param_groups"][0]["lr"] == 0.01


def test_the_command_line_wins_over_an_edit_to_config_json(run):
    edit_config(run, lr=0.01, steps=2)  # --steps 2 would be refused: the run is at step 6
    clean_exit(resume(run, "--lr", "0.002"), 0, lines=0)
    config = json.loads((run / "config.json").read_text())
    assert (config["lr"], config["steps"]) == (0.002, 9)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"hidden": 16}, "--hidden 16 (in {config}): the run in {run} has --hidden 8, which "
      "defines its model or data"),
     ({"lr": -1}, '{config}: "lr": -1: expected a positive number'),
     ({"steps": 2}, "--steps 2 (in {config}): the run in {run} is already at step 6"),
     ({"nonlinearity": "relu"}, "--nonlinearity relu (in {config}): the run in {run} has "
      "--nonlinearity tanh")],
)  # fmt: skip
def test_an_edit_to_config_json_that_a_resume_may_not_make_is_one_line(run, options, message):
    edit_config(run, **options)
    before = snapshot(run)
    proc = minigrad("train", "--resume", run, "--quiet")
    clean_exit(proc, 2, message.format(config=run / "config.json", run=run))
    assert snapshot(run) == before


@pytest.mark.parametrize("content", ["{bad json", "[1, 2]", "\xff"])
def test_a_config_json_that_cannot_be_read_is_one_line(run, content):
    (run / "config.json").write_bytes(content.encode("latin-1"))
    proc = resume(run)
    clean_exit(proc, 2, str(run / "config.json"), "fix it, or remove it")


def test_a_run_without_config_json_resumes_and_writes_it_again(run):
    (run / "config.json").unlink()
    clean_exit(resume(run), 0, lines=0)
    assert json.loads((run / "config.json").read_text())["steps"] == 9


def test_a_moved_folder_resumes_and_config_json_names_its_new_place(run, tmp_path):
    moved = tmp_path / "moved"
    os.rename(run, moved)
    clean_exit(minigrad("train", "--resume", moved, "--steps", "9", "--quiet"), 0, lines=0)
    assert json.loads((moved / "config.json").read_text())["out"] == str(moved)


def test_keeping_rows_of_a_missing_record_starts_it_and_warns_only_if_rows_were_lost(tmp_path):
    said = []
    metrics = MetricsFile(tmp_path / "metrics.csv", said.append)
    metrics.keep_until(0)
    assert (tmp_path / "metrics.csv").read_text().splitlines() == [HEADER] and said == []
    (tmp_path / "metrics.csv").unlink()
    metrics.keep_until(6)
    assert said == [f"warning: {tmp_path / 'metrics.csv'} is missing or empty; the record "
                    "starts again at step 6"]  # fmt: skip


def test_a_metrics_file_that_cannot_be_read_is_one_line(tmp_path):
    (tmp_path / "metrics.csv").mkdir()
    with pytest.raises(MetricsError, match="cannot read .*metrics.csv: Is a directory"):
        MetricsFile(tmp_path / "metrics.csv", print).read()


def test_keeping_rows_drops_later_ones_and_keeps_each_line_as_written(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_bytes(f"{HEADER}\r\n3,4.1,nan,0.5,0.0,0.003,0,1.0,2.0\r\n\r\n"
                     "6,4.0,4.2,0.5,0.0,0.003,0,1.0,2.0\r\n9,3.9".encode())  # fmt: skip
    said = []
    MetricsFile(path, said.append).keep_until(3)
    assert path.read_bytes() == f"{HEADER}\r\n3,4.1,nan,0.5,0.0,0.003,0,1.0,2.0\r\n".encode()
    assert len(said) == 1 and "was cut short" in said[0]


def test_a_record_of_other_columns_is_checked_by_them_and_its_rows_rise_in_every_key(tmp_path):
    record = MetricsFile(tmp_path / "probe.csv", print, ("step", "k", "norm"), keys=2)
    record.start()
    record.append({"step": 5, "k": 0, "norm": 1.0}, {"step": 5, "k": 1, "norm": 0.5})
    record.append({"step": 10, "k": 0, "norm": 2.0})
    assert record.path.read_text().splitlines() == ["step,k,norm", "5,0,1.0", "5,1,0.5", "10,0,2.0"]
    assert [(r["step"], r["k"]) for r in record.read()] == [(5, 0), (5, 1), (10, 0)]
    record.keep_until(5)
    assert [(r["step"], r["k"]) for r in record.read()] == [(5, 0), (5, 1)]
    with open(record.path, "a") as f:
        f.write("5,0,3.0\n")
    with pytest.raises(MetricsError, match=r"probe.csv, line 4: step 5, k 0 does not follow step "
                       r"5, k 1; fix or delete that line"):  # fmt: skip
        record.read()


def test_a_record_read_with_other_columns_names_the_header_it_wanted(tmp_path):
    (tmp_path / "metrics.csv").write_text(f"{HEADER}\n")
    with pytest.raises(MetricsError, match=r"line 1: not the header minigrad writes \(step,mse\)"):
        MetricsFile(tmp_path / "metrics.csv", print, ("step", "mse")).read()


def test_resuming_in_process_falls_back_from_a_corrupt_latest(text_file, tmp_path, capsys):
    from minigrad import cli

    out = tmp_path / "run"
    args = ["train", "--text", str(text_file), "--steps", "5", "--out", str(out), *TINY]
    assert cli.main(args) == 0
    truncate(out / LATEST)
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(out), "--steps", "6", "--quiet"]) == 0
    assert capsys.readouterr().err.startswith(f"warning: {out / LATEST} is truncated or corrupt")
    assert mg.load(out / CHECKPOINT)["step"] == 6
