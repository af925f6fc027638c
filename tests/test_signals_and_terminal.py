"""Signals in one place (SIGHUP as SIGTERM, a signal during the imports says nothing was saved),
and output that cannot fail on the terminal's encoding; with the numeric edges that used to
reach the user as a warning or a traceback."""

import csv
import os
import signal
import subprocess
import sys

import pytest

import minigrad as mg
from minigrad import signals
from minigrad.metrics import DETERMINISTIC
from minigrad.runfolder import LATEST
from minigrad.terminal import ASCII, safe_output
from tests.usage import LONG, TINY, clean_exit, command, minigrad, spawn, stopped


def rows(out):
    with open(out / "metrics.csv", newline="") as f:
        return [[row[k] for k in DETERMINISTIC] for row in csv.DictReader(f)]


# ---- signals ----------------------------------------------------------------------------------


def test_sighup_saves_like_sigterm_and_the_run_resumes_exactly(text_file, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--log-every",
             "1", "--save-every", "4", "--sample-length", "0"]  # fmt: skip
    proc = minigrad("train", "--text", text_file, "--out", whole, "--steps", "14", *train)
    assert proc.returncode == 0, proc.stderr
    proc = stopped(signal.SIGHUP, 5, "train", "--text", text_file, "--out", parts, "--steps",
                   "100000", *train)  # fmt: skip
    step = mg.load(parts / LATEST)["step"]
    clean_exit(proc, 129, f"SIGHUP at step {step}: the run is saved in {parts}",
               f"continue with: python -m minigrad train --resume {parts}")  # fmt: skip
    assert 5 <= step < 14
    proc = minigrad("train", "--resume", parts, "--steps", "14", "--quiet")
    clean_exit(proc, 0, lines=0)
    assert rows(parts) == rows(whole)


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_second_signal_right_after_the_first_changes_nothing(text_file, tmp_path, second):
    out = tmp_path / "run"
    proc = spawn("train", "--text", text_file, "--out", out, *LONG)
    proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    proc.send_signal(second)  # Ctrl-C pressed twice, or a kill soon after
    _, err = proc.communicate(timeout=60)
    proc.stderr = err
    assert proc.returncode in (130, 128 + second), proc.returncode
    clean_exit(proc, proc.returncode, f"the run is saved in {out}")
    step = mg.load(out / LATEST)["step"]
    clean_exit(minigrad("train", "--resume", out, "--steps", step + 1, "--quiet"), 0, lines=0)


def until_numpy_is_imported(proc):
    """Read the import times (``-X importtime``) until numpy is being imported."""
    for line in proc.stderr:
        if "numpy" in line:
            return
    raise AssertionError("numpy was never imported")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("what", ["train", "vanishing"])
def test_a_signal_during_the_imports_is_one_line_and_nothing_is_saved(tmp_path, signum, what):
    args = ["train", "--out", tmp_path / "run"] if what == "train" else ["vanishing"]
    argv = command(*args)
    proc = subprocess.Popen([argv[0], "-X", "importtime", *argv[1:]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    until_numpy_is_imported(proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    proc.stderr = "\n".join(line for line in err.splitlines() if "import time:" not in line)
    name = signal.Signals(signum).name
    expected = (f"{name} before training began: nothing was saved" if what == "train"
                else f"minigrad vanishing: stopped by {name}")  # fmt: skip
    clean_exit(proc, 128 + signum, expected)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("argv", "started"),
    [(["python", "-m", "minigrad", "train"], True),
     (["python", "-X", "importtime", "-m", "minigrad"], True),
     (["python", "-mminigrad"], True),
     (["python", "-m", "pytest"], False),
     (["python", "-c", "import minigrad", "-m", "minigrad"], False),
     (["python", "script.py", "-m", "minigrad"], False),
     (["python", "minigrad"], False),
     (["python"], False)],
)  # fmt: skip
def test_minigrad_holds_signals_at_import_only_when_started_as_the_command(argv, started):
    assert signals.launched_as_command(argv) is started


def test_the_console_script_beside_python_counts_as_the_command(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "minigrad")
    assert signals.launched_as_command(["python", script, "train"]) is os.path.exists(script)
    elsewhere = tmp_path / "minigrad"
    elsewhere.write_text("")
    assert not signals.launched_as_command(["python", str(elsewhere)])


def test_imported_as_a_library_minigrad_leaves_signals_alone():
    probe = ("import signal; before = signal.getsignal(signal.SIGTERM); import minigrad; "
             "assert signal.getsignal(signal.SIGTERM) is before; print('ok')")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.stdout == "ok\n", proc.stderr


def test_a_signal_outside_training_stops_a_command_at_once(tmp_path):
    proc = spawn(
        "task", "adding", "--steps", "100000", "--hidden", "4", "--batch", "4", cwd=tmp_path
    )
    proc.stdout.readline()  # the baseline: the task is under way
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    proc.stderr = err
    clean_exit(proc, 129, "minigrad task: stopped by SIGHUP")


def test_held_signals_are_taken_once():
    held = signals.Signals()
    with held.hold():
        os.kill(os.getpid(), signal.SIGHUP)
        assert held.take() == signal.SIGHUP and held.take() is None
    with held, pytest.raises(signals.Interrupted) as raised:
        os.kill(os.getpid(), signal.SIGTERM)
    assert raised.value.status == 143 and raised.value.name == "SIGTERM"


# ---- the terminal's encoding ------------------------------------------------------------------

ASCII_ENV = {**os.environ, "PYTHONIOENCODING": "ascii"}


@pytest.mark.parametrize(
    "args",
    [["tour"], ["vanishing", "--steps", "3", "--hidden", "2"], ["vanishing", "--help"],
     ["train", "--help"], ["--help"]],
)  # fmt: skip
def test_a_terminal_that_shows_ascii_only_gets_ascii_spellings(args):
    proc = minigrad(*args, env=ASCII_ENV)
    clean_exit(proc, 0, lines=0)
    assert proc.stdout.isascii()
    if args[0] == "tour":
        assert "y = sigma(Wx + b), L = sum y" in proc.stdout
        assert "dL/dW = (dL/dz) x^T" in proc.stdout


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_text_the_terminal_cannot_show_is_trained_on_and_sampled(tmp_path, encoding):
    text = tmp_path / "russian.txt"
    text.write_text("привет, мир; добрый день. " * 80, encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text, "--out", out, *TINY, "--steps", "3", env=env)
    clean_exit(proc, 0, lines=0)
    assert "sample (temperature 0.8, seed 0):\n" in proc.stdout and "?" in proc.stdout
    proc = minigrad("sample", "--checkpoint", out, "--prime", "мир", "--length", "20", env=env)
    clean_exit(proc, 0, "sampling from")
    assert proc.stdout.startswith("???")


def test_a_file_name_that_is_not_valid_utf8_is_spelled_with_its_bytes(text_file, tmp_path):
    out = os.fsencode(tmp_path) + b"/run-\xff"
    proc = minigrad("train", "--text", text_file, "--out", out, *TINY, "--steps", "1")
    clean_exit(proc, 0, lines=0)
    assert "run folder: " + str(tmp_path) + "/run-\\xff  (1 steps)" in proc.stdout


def test_every_ascii_spelling_is_ascii():
    assert all(spelling.isascii() for spelling in ASCII.values())


def test_safe_output_leaves_a_stream_that_is_not_a_real_file_alone(capsys):
    safe_output()  # capsys's streams: nothing to reconfigure
    print("σ")
    assert capsys.readouterr().out == "σ\n"


# ---- numbers at the edge ----------------------------------------------------------------------


@pytest.mark.parametrize("rollbacks", ["0", "1"])
def test_a_rate_that_overflows_the_update_is_rolled_back_without_a_numpy_warning(
    text_file, tmp_path, rollbacks
):
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--out", out, *TINY, "--lr", "1e308",
                    "--max-rollbacks", rollbacks)  # fmt: skip
    clean_exit(proc, 1, "training diverged", f"--resume {out} with a lower --lr",
               lines=2 + 2 * int(rollbacks))  # fmt: skip
    assert "step 1: the update made the parameters non-finite (learning rate 1e+308)" in (
        proc.stderr
    )


def test_a_rate_gamma_lambda_whose_lambda_overflows_is_one_line():
    clean_exit(minigrad("vanishing", "--lambdas", "1e308", "--steps", "3", "--hidden", "2"), 2,
               "--lambdas 1e+308: for the sigmoid model", "give values up to 4e307")  # fmt: skip
    proc = minigrad("vanishing", "--lambdas", "4e307", "--steps", "3", "--hidden", "2")
    clean_exit(proc, 0, lines=0)


def test_a_model_too_large_for_memory_is_one_line(text_file, tmp_path):
    proc = minigrad("train", "--text", text_file, "--out", tmp_path / "run", "--hidden",
                    "3000000", "--embed", "4", "--seq-len", "8", "--batch", "2")  # fmt: skip
    clean_exit(proc, 1, "out of memory")
    assert not (tmp_path / "run").exists()


def test_a_long_run_still_accepts_a_resume_of_its_own(text_file, tmp_path):
    out = tmp_path / "run"
    proc = spawn("train", "--text", text_file, "--out", out, *LONG)
    proc.stderr.readline()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 143
    step = mg.load(out / LATEST)["step"]
    clean_exit(minigrad("train", "--resume", out, "--steps", step + 2, "--quiet"), 0, lines=0)


def test_the_ascii_spellings_stand_in_for_what_an_encoding_lacks():
    from minigrad.terminal import ERRORS

    assert "σ(z) ‖∂h‖ é \udcff".encode("ascii", errors=ERRORS) == b"sigma(z) ||dh|| ? \\xff"
    assert "ü σ".encode("latin-1", errors=ERRORS) == b"\xfc sigma"


def test_safe_output_makes_a_real_stream_spell_what_it_cannot_show(monkeypatch):
    import io

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    safe_output()
    print("y = σ(z)")
    stream.flush()
    assert raw.getvalue() == b"y = sigma(z)\n"


def test_a_signal_held_during_the_imports_is_handed_to_the_command_line(monkeypatch):
    monkeypatch.setattr(signals, "launched_as_command", lambda: True)
    with signals.SIGNALS:
        signals.hold_during_imports()
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the imports are held
        assert signals.release_import_hold() == signal.SIGTERM
        assert signals.release_import_hold() is None  # the hold is over


def test_the_command_line_reports_a_signal_held_during_the_imports(monkeypatch, capsys):
    from minigrad import cli

    monkeypatch.setattr(cli, "release_import_hold", lambda: signal.SIGHUP)
    assert cli.main(["train"]) == 129
    assert capsys.readouterr().err == "SIGHUP before training began: nothing was saved\n"


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [(MemoryError(), 1, "out of memory: the model or the text is too large for this machine; "
      "give smaller sizes"),
     (OSError(28, "No space left on device"), 1, "No space left on device"),
     (OSError(5, "Input/output error", "/data/text.txt"), 1, "Input/output error: /data/text.txt")],
)  # fmt: skip
def test_a_failure_of_the_machine_is_one_line(monkeypatch, capsys, failure, status, message):
    from minigrad import cli

    def fail(args):
        raise failure

    monkeypatch.setattr(cli, "_trainer", fail)
    assert cli.main(["train"]) == status
    assert capsys.readouterr().err == f"minigrad train: error: {message}\n"
