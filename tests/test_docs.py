"""The documentation is executed: README.md, docs/*.md and spec/README.md, read by Sybil.

* Every ```python block runs, in the order of its page, in one namespace per
  page, as a reader pasting them in turn would run them.
* A ```text block right after a python block is what that block prints, exactly.
* Every other ```text block is a command's output, and the paragraph before it
  says how to reproduce it (``Reproduce: `command` ``). Where the command's
  output does not depend on timing (``tour``, ``vanishing``), this test runs it
  and the page must show exactly what it prints.
* Every relative link resolves to a file, and to a heading where it names one.
"""

import contextlib
import inspect
import io
import re
import shlex
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.markdown import CodeBlockParser

from minigrad import cli, engine

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "spec" / "README.md"]
SHOWN = "__output_of_the_block_before__"  # the namespace key a python block leaves its output in


PYTHON = PythonEvaluator()


def run_and_keep_output(example):
    """Run a python block as Sybil does, keeping what it printed and where it ended."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        PYTHON(example)
    example.namespace[SHOWN] = (example.region.end, printed.getvalue())


def check_shown_output(example):
    """A text block right after a python block must be what it printed (Sybil reports a
    returned string as the failure)."""
    end, printed = example.namespace.pop(SHOWN, (None, None))
    if end is None or example.document.text[end : example.region.start].strip():
        return None  # a command's output: test_command_outputs_are_real checks those
    if printed != example.parsed:
        return f"the block before printed:\n{printed}\nbut the page shows:\n{example.parsed}"
    return None


SYBIL = Sybil(
    parsers=[
        CodeBlockParser("python", run_and_keep_output),
        CodeBlockParser("text", check_shown_output),
    ]
)


def page_id(page):
    return str(page.relative_to(ROOT))


def test_every_page_is_read():
    assert len(PAGES) >= 9 and all(page.exists() for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_of_the_page_runs_and_prints_what_the_page_shows(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    for example in SYBIL.parse(page).examples():  # (conftest.py removes the ops a page makes)
        example.evaluate()


def code_blocks(page):
    """(language, source, start, end) of every python and text block of a page, in order, as
    Sybil reads them."""
    language = {run_and_keep_output: "python", check_shown_output: "text"}
    return [
        (language[e.region.evaluator], str(e.parsed), e.region.start, e.region.end)
        for e in SYBIL.parse(page).examples()
    ]


def python_blocks(page, section=None):
    """The source of each python block of a page; with ``section``, only those under the
    heading of that title, up to the next heading of its level or above."""
    text = page.read_text(encoding="utf-8")
    start, end = 0, len(text)
    if section is not None:
        heading = re.search(rf"^(#+) {re.escape(section)}\n", text, flags=re.M)
        after = re.compile(rf"^#{{1,{len(heading[1])}}} ", flags=re.M).search(text, heading.end())
        start, end = heading.end(), after.start() if after else end
    blocks = code_blocks(page)
    return [source for kind, source, at, _ in blocks if kind == "python" and start <= at < end]


def test_the_readme_quotes_the_backward_loop_as_it_is_in_the_engine():
    assert inspect.getsource(engine.gradients) in python_blocks(ROOT / "README.md")


def test_the_readmes_first_example_prints_a_tensor_with_its_grad_fn(capsys):
    exec(python_blocks(ROOT / "README.md")[0], {})
    assert "grad_fn=<sigmoid>" in capsys.readouterr().out


# ---- command outputs ----------------------------------------------------------------------------


def command_outputs():
    """(page, command, the text block shown) for every text block that is not a python block's
    output; the command is the last ``Reproduce: `...` `` between the block before and this one,
    or None."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = code_blocks(page)
        for before, (kind, shown, start, _) in zip([None, *blocks], blocks):
            since = before[3] if before else 0
            output = before is not None and before[0] == "python" and not text[since:start].strip()
            if kind != "text" or output:
                continue  # a python block, or its output (checked above)
            commands = re.findall(r"Reproduce: `([^`]+)`", text[since:start])
            found.append((page, commands[-1] if commands else None, shown))
    return found


# Commands whose output does not depend on timing: run here, and shown exactly.
DETERMINISTIC = {"tour", "vanishing"}


def test_every_command_output_says_how_to_reproduce_it():
    outputs = command_outputs()
    unsaid = [(page_id(page), shown[:60]) for page, command, shown in outputs if command is None]
    assert unsaid == []
    assert {"make demo", "python -m minigrad vanishing"} <= {c for _, c, _ in outputs}


def test_every_fenced_block_names_its_language():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        fences = re.findall(r"^```(\w*)$", text, flags=re.M)
        opening = fences[0::2]  # fences alternate: an opening one names the language
        assert "" not in opening, page_id(page)


def checked_outputs():
    return [
        pytest.param(page, command, shown, id=f"{page_id(page)}: {command}")
        for page, command, shown in command_outputs()
        if command
        and command.startswith("python -m minigrad ")
        and command.split()[3] in DETERMINISTIC
    ]


@pytest.mark.parametrize("page, command, shown", checked_outputs())
def test_command_outputs_are_real(page, command, shown, tmp_path, capsys):
    """Run the command (``python -m minigrad ...``) in process, files it writes going to tmp_path,
    and compare what it prints with the page."""
    argv = shlex.split(command)[3:]
    paths = {a: str(tmp_path / Path(a).name) for a in argv if a.endswith(".png")}
    status = cli.main([paths.get(a, a) for a in argv])
    printed = capsys.readouterr().out
    for real, temporary in paths.items():
        printed = printed.replace(temporary, real)
    assert status == 0
    assert printed == shown


# ---- links ------------------------------------------------------------------------------------


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page):
    """The anchors of a page's headings (outside code blocks), numbered as GitHub numbers
    repeats."""
    text = re.sub(r"^```.*?^```$", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    seen, found = {}, set()
    for heading in re.findall(r"^#+ (.*)$", text, flags=re.M):
        base = slug(heading)
        found.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return found


def relative_links(page):
    """(target, anchor) of every link of a page that is not to the web, outside code blocks."""
    text = re.sub(r"^```.*?^```$", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    return [tuple((link.split("#", 1) + [""])[:2]) for link in links if "://" not in link]


def test_slugs_are_githubs():
    assert slug("Compiled steps: `minigrad.compile`") == "compiled-steps-minigradcompile"
    assert slug("6. Forward mode, and the chain-rule product") == (
        "6-forward-mode-and-the-chain-rule-product"
    )
    assert slug("1. Every op (`test_op_table.py`)") == "1-every-op-test_op_tablepy"
    assert slug("`python -m minigrad vanishing`") == "python--m-minigrad-vanishing"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_resolves_to_a_file_and_a_heading(page):
    broken = []
    for target, anchor in relative_links(page):
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (path.suffix != ".md" or anchor not in anchors(path)):
            broken.append(f"{target}#{anchor}: no such heading")
    assert broken == []


def test_the_docs_link_every_page_from_the_readme():
    linked = {target for target, _ in relative_links(ROOT / "README.md")}
    assert {f"docs/{page.name}" for page in PAGES if page.parent.name == "docs"} <= linked


# ---- the session of docs/learn.md ---------------------------------------------------------------

FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", flags=re.M | re.S)


def apply_change(diff):
    """Apply a ```diff block of a page (``--- path`` and ``+++ path``, then lines kept, taken
    out and put in, each after one character saying which) to the file it names."""
    lines = diff.splitlines()
    path = Path(lines[0].removeprefix("--- "))
    assert lines[1] == f"+++ {path}", lines[:2]
    old = "".join(line[1:] + "\n" for line in lines[2:] if line[:1] in (" ", "-"))
    new = "".join(line[1:] + "\n" for line in lines[2:] if line[:1] in (" ", "+"))
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path} does not hold, once:\n{old}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def replay_session(page):
    """Each block of ``page`` in turn, in the current folder: a ```diff block changes a file,
    a ```text block is what its ``Reproduce: `python -m minigrad learn ...` `` prints. Yields
    (command, what it printed, what the page shows)."""
    text = page.read_text(encoding="utf-8")
    since = 0
    for block in FENCE.finditer(text):
        kind, body = block[1], block[2]
        if kind == "diff":
            apply_change(body)
        elif kind == "text":
            command = re.findall(r"Reproduce: `([^`]+)`", text[since : block.start()])[-1]
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                cli.main(shlex.split(command)[3:])
            yield command, printed.getvalue(), body
        since = block.end()


def test_the_session_of_docs_learn_md_is_what_the_commands_print(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = list(replay_session(ROOT / "docs" / "learn.md"))
    assert [c.split()[4] for c, _, _ in shown if c.split()[3:4] == ["learn"]][:2] == [
        "start",
        "check",
    ]
    for command, printed, page in shown:
        assert printed == page, command
