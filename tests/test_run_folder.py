"""A run folder owns its files, and only those: the user's files beside them are never written,
moved or removed, and a folder that cannot be used is one line naming the last good checkpoint.
Each case runs ``python -m minigrad`` as a user does."""

import os
import shutil
import signal
import time

import pytest

import minigrad as mg
from minigrad import cli, runfolder, train
from minigrad.options import Config
from minigrad.runfolder import CHECKPOINT, LATEST, LOCK, PLOTS, RunFolder, RunFolderError
from minigrad.serialization import save
from minigrad.terminal import Status
from minigrad.train import Trainer
from tests.usage import (
    LONG,
    TINY,
    can_meet_permissions,
    clean_exit,
    minigrad,
    snapshot,
    spawn,
)

needs_permissions = pytest.mark.skipif(
    not can_meet_permissions(), reason="root, and no setpriv to give up its powers"
)


def started(out, text_file, *more, user=False):
    """A long run under way in ``out``: its first status line has been printed."""
    proc = spawn("train", "--text", text_file, "--out", out, *LONG, *more, user=user)
    proc.stderr.readline()
    return proc


# ---- the user's files -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_users_lock_in_the_run_folder_is_never_touched(text_file, tmp_path, kind):
    out = tmp_path / "d"
    out.mkdir()
    if kind == "file":
        (out / ".lock").write_text("the user's own lock\n")
    else:
        (out / ".lock").mkdir()
        (out / ".lock" / "held-by").write_text("another tool\n")
    before = snapshot(out)
    proc = minigrad("train", "--text", text_file, "--steps", "3", "--out", out, *TINY)
    clean_exit(proc, 0, lines=0)
    after = snapshot(out)
    assert {k: v for k, v in after.items() if k.startswith(".lock")} == before
    assert set(after) - set(before) == {"config.json", "metrics.csv", CHECKPOINT}  # ours is gone


def test_out_dot_in_a_project_leaves_every_file_of_the_project_as_it_was(text_file, tmp_path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / ".lock").write_text("poetry's lock")
    (project / "README.md").write_text("# my project\n")
    (project / "src" / "main.py").write_text("print('hi')\n")
    before = snapshot(project)
    proc = minigrad("train", "--text", text_file, "--steps", "3", "--out", ".", *TINY,
                    cwd=project)  # fmt: skip
    clean_exit(proc, 0, lines=0)
    after = snapshot(project)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"config.json", "metrics.csv", CHECKPOINT}


def test_plot_writes_its_pictures_into_the_runs_own_folder_on_resume(run):
    pytest.importorskip("matplotlib")
    proc = minigrad("train", "--resume", run, "--steps", "9", "--quiet", "--plot")
    clean_exit(proc, 0, lines=0)
    for name in PLOTS:
        assert (run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_temporary_files_a_killed_write_left_are_removed_and_no_others(run):
    ours = [f".{CHECKPOINT}.0123456789abcdef.tmp", f".{LATEST}.fedcba9876543210.tmp",
            ".metrics.csv.00000000ffffffff.tmp"]  # fmt: skip
    theirs = [".notes.txt.0123456789abcdef.tmp", f".{CHECKPOINT}.backup.tmp", "checkpoint.npz.tmp"]
    for name in ours + theirs:
        (run / name).write_bytes(b"11 MB, once")
    proc = minigrad("train", "--resume", run, "--steps", "9", "--quiet")
    clean_exit(proc, 0, lines=0)
    left = set(os.listdir(run))
    assert not left & set(ours) and set(theirs) <= left


def test_killed_at_any_moment_a_run_resumes_and_leaves_no_temporary_file(text_file, tmp_path):
    out = tmp_path / "run"
    for attempt, delay in enumerate((0.0, 0.013, 0.029, 0.041, 0.057, 0.083)):
        args = ["--resume", out, "--steps", "100000", "--quiet"] if attempt else [
            "--text", text_file, "--out", out, *LONG]  # fmt: skip
        proc = spawn("train", *args, "--save-every", "1")
        while not (out / CHECKPOINT).exists():
            time.sleep(0.005)
        time.sleep(0.3 + delay)  # saving every step, so the kill lands in or near a write
        proc.kill()
        proc.communicate(timeout=60)
    proc = minigrad("train", "--resume", out, "--steps", mg.load(out / CHECKPOINT)["step"] + 1,
                    "--quiet")  # fmt: skip
    clean_exit(proc, 0, lines=0)
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]


@pytest.mark.parametrize("kind", ["folder", "symlink"])
def test_a_lock_name_taken_by_something_else_is_refused_and_left_alone(run, tmp_path, kind):
    precious = tmp_path / "precious.txt"
    precious.write_text("the user's notes")
    if kind == "folder":
        (run / LOCK).mkdir()
        (run / LOCK / "inside").write_text("x")
    else:
        (run / LOCK).symlink_to(precious)
    before = snapshot(run)
    proc = minigrad("train", "--resume", run, "--steps", "9")
    clean_exit(proc, 2, f"{run / LOCK} is a {'folder' if kind == 'folder' else 'symbolic link'}",
               "remove it")  # fmt: skip
    assert snapshot(run) == before and precious.read_text() == "the user's notes"


def test_an_out_name_too_long_for_the_file_system_is_one_line(text_file, tmp_path):
    name = "x" * 300
    proc = minigrad("train", "--text", text_file, "--out", name, *TINY, cwd=tmp_path)
    clean_exit(
        proc, 2, "cannot create the run folder", "File name too long", "choose another --out"
    )
    assert os.listdir(tmp_path) == ["text.txt"]


def test_an_out_that_is_a_file_is_refused_and_the_file_kept(text_file, tmp_path):
    mine = tmp_path / "results"
    mine.write_text("the user's results")
    proc = minigrad("train", "--text", text_file, "--out", mine, *TINY)
    clean_exit(proc, 2, f"{mine} is a file, not a folder")
    assert mine.read_text() == "the user's results"


def test_two_runs_started_together_without_out_get_folders_of_their_own(text_file, tmp_path):
    procs = [spawn("train", "--text", text_file, "--steps", "2", *TINY, cwd=tmp_path)
             for _ in range(2)]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    folders = sorted(os.listdir(tmp_path / "runs"))
    assert len(folders) == 2 and all(f.startswith("gru-") for f in folders)
    for folder in folders:
        assert runfolder.read_newest(tmp_path / "runs" / folder, print)[1]["step"] == 2


def test_a_default_folder_name_taken_in_the_same_second_gets_a_number(
    text_file, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train.time, "strftime", lambda fmt: "20250101-120000")
    config = Config(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2, steps=1)
    folders = []
    for _ in range(3):
        with Trainer(config, status=Status(quiet=True)) as trainer:
            folders.append(str(trainer.folder.path))
    assert folders == [os.path.join("runs", "gru-20250101-120000" + n) for n in ("", "-2", "-3")]


# ---- a folder that cannot be used -------------------------------------------------------------


@needs_permissions
def test_resuming_a_read_only_folder_is_one_line_naming_the_last_good_checkpoint(run):
    os.chmod(run, 0o555)
    try:
        before = snapshot(run)
        proc = minigrad("train", "--resume", run, "--steps", "9", user=True)
        clean_exit(proc, 1, f"in {run} (Permission denied)",
                   f"the last good checkpoint is {run / CHECKPOINT} (step 6)")  # fmt: skip
        assert snapshot(run) == before
    finally:
        os.chmod(run, 0o755)


@needs_permissions
def test_a_folder_made_read_only_while_training_is_one_line_naming_the_last_good_checkpoint(
    text_file, tmp_path
):
    out = tmp_path / "run"
    proc = started(out, text_file, user=True)
    os.chmod(out, 0o555)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        os.chmod(out, 0o755)
    proc.stderr = err
    clean_exit(proc, 1, f"cannot write {CHECKPOINT} in {out} (Permission denied)",
               f"the last good checkpoint is {out / CHECKPOINT} (step 0)",
               f"--resume {out}")  # fmt: skip
    assert mg.load(out / CHECKPOINT)["step"] == 0


def test_a_folder_saving_fails_in_is_one_line_naming_the_last_good_checkpoint(
    text_file, tmp_path, monkeypatch, capsys
):
    """The same failure as above, made in process (root ignores file permissions)."""
    out = tmp_path / "run"
    written = []

    def save_twice_then_fail(obj, path):
        if len(written) == 2:
            raise PermissionError(13, "save: cannot write: Permission denied")
        written.append(path)
        save(obj, path)

    monkeypatch.setattr(runfolder, "save", save_twice_then_fail)
    args = ["train", "--text", str(text_file), "--steps", "12", "--out", str(out), *TINY]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"minigrad train: error: cannot write {CHECKPOINT} in {out} (Permission denied); the "
        f"last good checkpoint is {out / CHECKPOINT} (step 3); fix that, then continue with "
        f"--resume {out}"
    ]


@pytest.mark.parametrize("how", ["removed", "moved", "moved, and a folder made in its place"])
def test_a_folder_gone_while_training_is_one_line_and_a_moved_one_resumes(text_file, tmp_path, how):
    out, moved = tmp_path / "run", tmp_path / "moved"
    proc = started(out, text_file)
    if how == "removed":
        shutil.rmtree(out)
    else:
        os.rename(out, moved)
    if how.endswith("place"):
        out.mkdir()
        (out / "new.txt").write_text("the user's new folder")
    _, err = proc.communicate(timeout=60)
    proc.stderr = err
    clean_exit(proc, 1, f"the run folder {out} is gone", "its last good checkpoint was",
               "--resume NEW_PLACE")  # fmt: skip
    if how.endswith("place"):
        assert os.listdir(out) == ["new.txt"]
    if how != "removed":
        resumed = minigrad("train", "--resume", moved, "--steps", "12", "--quiet")
        clean_exit(resumed, 0, lines=0)


def test_a_lock_file_removed_while_training_stops_the_run_in_one_line(text_file, tmp_path):
    out = tmp_path / "run"
    proc = started(out, text_file)
    (out / LOCK).unlink()  # another process could now take the folder
    _, err = proc.communicate(timeout=60)
    proc.stderr = err
    clean_exit(proc, 1, f"the lock {out / LOCK} was removed or replaced while the run went on",
               f"the last good checkpoint is {out / CHECKPOINT} (step 0)",
               f"continue with --resume {out}")  # fmt: skip


def test_plot_over_a_folder_named_like_a_picture_is_one_line_and_the_run_is_saved(run):
    pytest.importorskip("matplotlib")
    (run / "loss.png").mkdir()
    (run / "loss.png" / "mine.txt").write_text("the user's")
    proc = minigrad("train", "--resume", run, "--steps", "9", "--quiet", "--plot")
    clean_exit(proc, 1, f"cannot write the plots in {run} (Is a directory)")
    assert (run / "loss.png" / "mine.txt").read_text() == "the user's"
    assert mg.load(run / CHECKPOINT)["step"] == 9


@pytest.mark.parametrize(
    ("make", "message"),
    [(lambda path: path.symlink_to(path.parent / "nowhere"), "is a symbolic link, not to a folder"),
     (lambda path: path.symlink_to("/dev/null"), "is a symbolic link, not to a folder")],
)  # fmt: skip
def test_an_out_that_is_a_link_to_no_folder_is_one_line(text_file, tmp_path, make, message):
    out = tmp_path / "link"
    make(out)
    clean_exit(minigrad("train", "--text", text_file, "--out", out, *TINY), 2, f"{out} {message}")


def test_an_out_in_which_no_file_can_be_made_is_one_line(text_file):
    proc = minigrad("train", "--text", text_file, "--out", "/proc/self", *TINY)
    clean_exit(proc, 2, "cannot use /proc/self as a run folder", "choose another --out")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_after_the_folder_was_moved_is_one_line(text_file, tmp_path, signum):
    out = tmp_path / "run"
    proc = started(out, text_file, "--save-every", "100000")
    os.rename(out, tmp_path / "moved")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    proc.stderr = err
    clean_exit(proc, 1, f"the run folder {out} is gone")


def test_a_folder_that_cannot_be_used_names_the_folder_and_what_to_do(tmp_path):
    folder = RunFolder(tmp_path / "nowhere", print)
    error = folder.failed(OSError(28, "No space left on device"), "write checkpoint.npz")
    assert isinstance(error, RunFolderError) and error.status == 1
    assert "is gone" in str(error)
    folder = RunFolder(tmp_path, print)
    error = folder.failed(OSError(28, "No space left on device"), "write checkpoint.npz")
    assert str(error) == (
        f"cannot write checkpoint.npz in {tmp_path} (No space left on device); no checkpoint of "
        f"it can be read; fix that, then continue with --resume {tmp_path}"
    )
