"""docs/training.md's recipe for going on in PyTorch, run as written, wherever torch is
importable (it is never a dependency): the run's validation loss is the same float64 number in
PyTorch, and PyTorch's steps from the checkpoint are the steps minigrad would have made."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.options import Config
from minigrad.terminal import Status
from minigrad.train import Trainer
from tests.usage import TEXT

torch = pytest.importorskip("torch")

PAGE = Path(__file__).resolve().parent.parent / "docs" / "training.md"
SECTION = "## Outgrowing one machine: continue in PyTorch"


def recipe():
    """The ```py blocks of the section, in order."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    section = text[start : text.index("\n## ", start + len(SECTION))]
    return re.findall(r"^```py\n(.*?)^```$", section, flags=re.M | re.S)


@pytest.fixture
def float64_by_default():
    """The recipe makes float64 PyTorch's default, as minigrad computes; put it back after."""
    before = torch.get_default_dtype()
    yield
    torch.set_default_dtype(before)


def test_the_page_has_the_recipe_in_two_blocks():
    blocks = recipe()
    assert len(blocks) == 2 and "load_state_dict" in blocks[0] and "optimizer.step()" in blocks[1]


@pytest.mark.parametrize(
    "options",
    [dict(model="gru"), dict(model="lstm", layers=2), dict(model="rnn", nonlinearity="tanh"),
     dict(model="rnn", nonlinearity="relu", optim="sgd", momentum=0.9, lr=0.05, clip=0.0)],
    ids=["gru", "lstm-2-layers", "tanh-rnn", "relu-rnn-sgd-momentum-unclipped"],
)  # fmt: skip
def test_the_recipe_gives_minigrads_validation_loss_and_continues_its_training_exactly(
    tmp_path, monkeypatch, capsys, float64_by_default, options
):
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    run = tmp_path / "runs" / "demo"
    config = Config(text=str(text), hidden=16, embed=8, seq_len=16, batch=4, steps=20,
                    save_every=10, log_every=10, sample_length=0, **options)  # fmt: skip
    Trainer(config, run, status=Status(quiet=True)).run()
    shutil.copytree(run, tmp_path / "copy")

    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in recipe():
        exec(compile(block, str(PAGE), "exec"), namespace)
    first, second = capsys.readouterr().out.splitlines()
    figures = re.fullmatch(r"step 20: validation (\S+) bits per character in minigrad, (\S+) "
                           r"in PyTorch", first)  # fmt: skip
    assert figures and figures[1] == figures[2]
    assert second.startswith("step 120: validation ")

    Trainer({"steps": 120}, tmp_path / "copy", resume=True, status=Status(quiet=True)).run()
    ours = mg.load(tmp_path / "copy" / "checkpoint.npz")["model"]
    theirs = dict(namespace["model"].named_parameters())
    assert list(ours) == list(theirs)
    for name, value in ours.items():
        difference = np.max(np.abs(theirs[name].detach().numpy() - value)) / np.max(np.abs(value))
        assert difference < 1e-12, name
