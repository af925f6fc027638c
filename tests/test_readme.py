"""The README's Python blocks run, in order, as written, and what it quotes is the source."""

import inspect
import re
from pathlib import Path

import minigrad as mg
from minigrad import engine

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks(section=None):
    """The README's Python blocks, in order: all of them, or those of one ``## section``."""
    text = README.read_text(encoding="utf-8")
    if section is not None:
        text = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_readme_has_its_examples():
    assert len(python_blocks()) >= 3


def test_the_readme_quotes_the_backward_loop_as_it_is_in_the_engine():
    assert inspect.getsource(engine.gradients) in python_blocks()


def test_the_readme_shows_the_plan_its_compile_example_prints(capsys):
    blocks = python_blocks()
    example = next(b for b in blocks if "print(loss_of.plan)" in b)
    exec(compile(example, str(README), "exec"), {"__name__": "readme"})
    shown = re.search(r"```text\n(plan of loss_of.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert capsys.readouterr().out == shown.group(1)


def test_every_readme_python_block_runs(capsys):
    namespace = {"__name__": "readme"}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    assert "softplus" in mg.ops.registry()  # the recipe registered its op
    assert "grad_fn=<sigmoid>" in capsys.readouterr().out
