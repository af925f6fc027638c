"""The README's Python blocks run, in order, as written, and what it quotes is the source."""

import inspect
import re
from pathlib import Path

import pytest

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


def shown_outputs():
    """{python block: the text block right after it}, for the blocks whose output is shown."""
    text = README.read_text(encoding="utf-8")
    blocks = list(re.finditer(r"```(\w*)\n(.*?)```", text, flags=re.S))
    return {
        a[2]: b[2]
        for a, b in zip(blocks, blocks[1:])
        if (a[1], b[1]) == ("python", "text") and not text[a.end() : b.start()].strip()
    }


def test_every_readme_python_block_runs_and_prints_what_is_shown_after_it(capsys):
    namespace = {"__name__": "readme"}
    shown = shown_outputs()
    assert len(shown) >= 1
    printed = []
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
        printed.append(capsys.readouterr().out)
        if block in shown:
            assert printed[-1] == shown[block]
    assert "softplus" in mg.ops.registry()  # the recipe registered its op
    assert "grad_fn=<sigmoid>" in printed[0]


def test_the_readme_shows_the_tours_output(tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.tour import tour

    png = tmp_path / "first-example-graph.png"
    text, largest = tour(png)
    text = text.replace(str(png), "docs/first-example-graph.png")
    readme = README.read_text(encoding="utf-8")
    command = "python -m minigrad tour --png docs/first-example-graph.png"
    assert command in readme and "](docs/first-example-graph.png)" in readme
    assert f"```text\n{text}\n```" in readme
    assert largest < 1e-12
