import pytest

import minigrad as mg
from tests.usage import TEXT, TINY, minigrad


@pytest.fixture(autouse=True)
def _forget_ops_registered_by_the_test():
    """Tests may define and register ops of their own; each is removed when its test ends."""
    before = set(mg.ops.registry())
    yield
    for name in set(mg.ops.registry()) - before:
        mg.ops.unregister(name)


@pytest.fixture
def text_file(tmp_path):
    """A small UTF-8 text to train on."""
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture
def run(text_file, tmp_path):
    """A run folder that ``python -m minigrad train`` left after 6 steps of a tiny model
    (test_cli_misuse.py has one of 3 steps)."""
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--steps", "6", "--out", out, *TINY)
    assert proc.returncode == 0, proc.stderr
    return out
