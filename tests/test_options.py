"""Each option is declared once, on Config: the command lines of train and task are generated
from the declaration, values from Python and from files meet the same rules, an option given
where it does not apply is refused, and the library and the command line resume by the same
rules."""

import argparse
import dataclasses
import math
import os
import shlex
import subprocess

import pytest

from minigrad import cli
from minigrad.options import (
    CHANGE,
    KEEP,
    POSITIVE,
    Config,
    Kind,
    OptionError,
    add_arguments,
    flag,
    given,
    options,
)
from minigrad.runfolder import RunFolderError
from minigrad.tasks import AddingConfig
from minigrad.terminal import Status
from minigrad.train import Trainer
from tests.usage import TINY, clean_exit, command, minigrad


def flags(parser, command):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {o for a in sub.choices[command]._actions for o in a.option_strings}


def test_every_field_of_config_is_an_option_and_every_option_an_argument_of_train():
    declared = {"--" + f.name.replace("_", "-") for f in options(Config)}
    assert declared == {"--" + f.name.replace("_", "-") for f in dataclasses.fields(Config)}
    run_only = {"-h", "--help", "--resume", "--quiet", "--plot", "--no-compile"}
    assert flags(cli.build_parser(), "train") == declared | run_only


def test_task_shares_trains_declarations_with_defaults_of_its_own():
    ours = {f.name: f for f in options(AddingConfig)}
    theirs = {f.name: f for f in options(Config)}
    for name in ("model", "nonlinearity", "hidden", "batch", "steps", "lr", "clip", "seed"):
        mine, train = ours[name].metadata["option"], theirs[name].metadata["option"]
        task_only = {"lnlstm"} if name == "model" else set()  # the layer-normalised LSTM
        assert mine.kind is train.kind and set(mine.choices or ()) - task_only == set(
            train.choices or ()
        )
        assert mine.applies == train.applies
    assert [n for n in ours if ours[n].default != theirs.get(n, ours[n]).default] == [
        "model", "hidden", "batch", "steps", "lr", "log_every"
    ]  # fmt: skip
    assert flags(cli.build_parser(), "task") == {
        "-h", "--help", "--quiet", "--plot", "--no-compile", *(flag(name) for name in ours)
    }  # fmt: skip


def test_the_generated_help_gives_each_default():
    parser = argparse.ArgumentParser()
    add_arguments(parser, Config)
    text = parser.format_help()
    assert "learning rate (0.003)" in text and "characters per step (truncated BPTT" in text


def test_given_returns_only_the_options_on_the_command_line():
    parser = argparse.ArgumentParser()
    add_arguments(parser, Config)
    args = parser.parse_args(["--lr", "0.1", "--model", "lstm"])
    assert given(args, Config) == {"lr": 0.1, "model": "lstm"}


@pytest.mark.parametrize(
    ("values", "message"),
    [({"lr": -1}, "--lr -1: expected a positive number"),
     ({"hidden": 8.5}, "--hidden 8.5: expected a positive integer"),
     ({"hidden": True}, "--hidden True: expected a positive integer"),
     ({"dropout": 1.0}, "--dropout 1.0: expected a probability in [0, 1)"),
     ({"model": "cnn"}, "--model 'cnn': choose from rnn, lstm, gru"),
     ({"text": ""}, "--text '': expected a path"),
     ({"lr": math.inf}, "--lr inf: expected a positive number"),
     ({"model": "lstm", "nonlinearity": "relu"}, "--nonlinearity applies to --model rnn only"),
     ({"momentum": 0.9}, "--momentum applies to --optim sgd only, and this run's --optim is "
      "adam"),
     ({"seq_len": 100_000}, "--seq-len 100000 is longer than --val-chars 16384")],
)  # fmt: skip
def test_a_config_made_in_python_meets_the_rules_of_the_command_line(values, message):
    with pytest.raises(OptionError, match=f"^{message.replace('[', '.').replace(')', '.')}"):
        Config(**values)


def test_an_int_is_a_float_and_a_default_none_may_stay_none():
    assert Config(lr=1, clip=0).lr == 1 and Config().text is None
    assert Kind(float, lambda v: v > 0, "x").accepts(2) and not POSITIVE.accepts("1")


def test_from_dict_ignores_unknown_options_and_names_the_file_for_a_bad_value():
    assert Config.from_dict({"hidden": 8, "from_the_future": 1}, "c.json").hidden == 8
    with pytest.raises(OptionError, match='^c.json: "clip": -1: expected a non-negative number'):
        Config.from_dict({"clip": -1}, "c.json")


def test_each_option_says_whether_a_resumed_run_may_change_it():
    rules = {f.name: f.metadata["option"].resume for f in options(Config)}
    assert {name for name, rule in rules.items() if rule == CHANGE} == {
        "steps", "lr", "save_every", "log_every", "probe", "max_rollbacks", "sample_length",
        "temperature", "prime"
    }  # fmt: skip
    assert rules["hidden"] == rules["model"] == rules["seed"] == KEEP


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"hidden": 16}, "--hidden 16: the run in {run} has --hidden 8"),
     ({"steps": 2}, "--steps 2: the run in {run} is already at step 6"),
     ({"nonlinearity": "tanh"}, "--nonlinearity applies to --model rnn only"),
     ({"out": "elsewhere"}, "--out elsewhere: a resumed run stays in its folder")],
)  # fmt: skip
def test_the_library_and_the_command_line_resume_by_the_same_rules(
    text_file, tmp_path, changes, message
):
    run = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", "6", "--out", run, *TINY)
    assert proc.returncode == 0
    with pytest.raises(OptionError, match=message.format(run=run)):
        Trainer(changes, run, resume=True, status=Status(quiet=True))
    args = [f"--{k.replace('_', '-')}={v}" for k, v in changes.items()]
    clean_exit(minigrad("train", "--resume", run, *args), 2, message.format(run=run))


def test_a_library_resume_takes_a_configs_differences_as_its_changes(text_file, tmp_path):
    run = tmp_path / "run"
    config = Config(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2, steps=3)
    Trainer(config, run, status=Status(quiet=True)).run()
    resumed = Trainer(dataclasses.replace(config, steps=5), run, resume=True,
                      status=Status(quiet=True))  # fmt: skip
    assert resumed.config.steps == 5 and resumed.state.step == 3
    resumed.run()
    with pytest.raises(RunFolderError, match="already holds a run"):
        Trainer(config, run, status=Status(quiet=True))


# ---- as a user meets it -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--model", "lstm", "--nonlinearity", "relu"], "--nonlinearity applies to --model rnn "
      "only, and this run's --model is lstm; leave --nonlinearity out"),
     (["--model", "gru", "--nonlinearity", "tanh"], "--nonlinearity applies to --model rnn only"),
     (["--optim", "adam", "--momentum", "0.9"], "--momentum applies to --optim sgd only"),
     (["--momentum", "0"], "--momentum applies to --optim sgd only"),
     (["--seq-len", "100000"], "--seq-len 100000 is longer than --val-chars 16384, and one "
      "validation chunk predicts --seq-len characters; give a shorter --seq-len or a larger "
      "--val-chars"),
     (["--text", ""], "argument --text: expected a path, got ''")],
)  # fmt: skip
def test_options_that_do_not_apply_or_do_not_fit_are_one_line_before_anything_is_written(
    tmp_path, args, message
):
    proc = minigrad("train", *args, "--out", tmp_path / "run")
    clean_exit(proc, 2, message)
    assert not (tmp_path / "run").exists()


def test_task_refuses_an_option_that_does_not_apply_as_train_does():
    clean_exit(minigrad("task", "adding", "--model", "lstm", "--nonlinearity", "relu"), 2,
               "minigrad task: error: --nonlinearity applies to --model rnn only")  # fmt: skip


def test_a_resumed_run_refuses_an_option_that_does_not_apply(text_file, tmp_path):
    run = tmp_path / "run"
    assert (
        minigrad("train", "--text", text_file, "--steps", "3", "--out", run, *TINY).returncode == 0
    )
    clean_exit(minigrad("train", "--resume", run, "--momentum", "0"), 2,
               "--momentum applies to --optim sgd only")  # fmt: skip


@pytest.mark.parametrize("how", ["pipe", "redirect"])
def test_standard_input_is_refused_as_a_text_a_resume_could_not_read_again(
    text_file, tmp_path, how
):
    out = tmp_path / "run"
    if how == "pipe":
        train = shlex.join(command("train", "--text", "/dev/stdin", "--out", out, *TINY))
        proc = subprocess.run(f"cat {shlex.quote(str(text_file))} | {train}", shell=True,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    else:
        with open(text_file) as stdin:
            proc = minigrad("train", "--text", "/dev/stdin", "--out", out, *TINY, stdin=stdin)
    clean_exit(proc, 2, "--text /dev/stdin: a stream of the system's, not a saved file",
               "save the text to a file and give that")  # fmt: skip
    assert not out.exists()


def test_a_fifo_is_refused_without_waiting_for_it(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    clean_exit(minigrad("train", "--text", fifo, "--out", tmp_path / "run"), 2,
               "not a regular file (a pipe, device or socket)")  # fmt: skip
