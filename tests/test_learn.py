"""``python -m minigrad learn``, the exercise track, through the commands a learner types.

For every exercise, as subprocesses: the blank fails ``check`` with a message that says what
to write, ``check --reference`` passes, and a typical wrong answer fails, naming its mistake.
Also as subprocesses: the list with each exercise's status, ``--ids``, ``start`` never writing
the package or over a file, one more hint each time, progress kept in the learner's folder, an
error in the learner's code shown trimmed to their file, and misuse as one line and exit
status 2. In process: the real code typed into the blank passes; every typical mistake a
grader knows is named from an answer that makes it (the real code with one change, as a
learner gets it wrong); an exercise file is the real code with its bodies removed; a progress
file that is not the track's is refused; the references written by hand pass their graders.
"""

import ast
import inspect
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from minigrad import cli
from minigrad.learn import engine_parts, folder
from minigrad.learn.blank import BLANK
from minigrad.learn.track import BY_ID, EXERCISES, MODULES

from .usage import clean_exit, minigrad, snapshot

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "minigrad"


def start(where, id):
    """``learn start ID --dir WHERE``, in process (the setup of a test of ``check``)."""
    assert cli.main(["learn", "start", id, "--dir", str(where)]) == 0


def unit_node(tree, unit):
    """The function ``unit`` ("f" or "Class.method") in a parsed module."""
    nodes = tree.body
    for part in unit.split("."):
        node = next(n for n in nodes if getattr(n, "name", None) == part)
        nodes = getattr(node, "body", [])
    return node


def real_body(exercise, unit):
    """The body of ``unit`` in the package's own code, its docstring left out, dedented."""
    source = inspect.getsource(sys.modules[exercise.source])
    node = unit_node(ast.parse(source), unit)
    first = node.body[1] if ast.get_docstring(node) is not None else node.body[0]
    lines = source.splitlines()[first.lineno - 1 : node.end_lineno]
    return textwrap.dedent("\n".join(lines))


def answer(where, exercise, **changes):
    """Write an answer into the exercise file in ``where``: each unit's real body, changed as
    ``changes`` say: {unit (dots as __): [(old, new), ...], or a whole body}."""
    path = Path(where) / exercise.id / "exercise.py"
    for unit in exercise.units:
        change = changes.get(unit.replace(".", "__"), [])
        body = change if isinstance(change, str) else real_body(exercise, unit)
        for old, new in [] if isinstance(change, str) else change:
            assert old in body, (unit, old)
            body = body.replace(old, new)
        text = path.read_text(encoding="utf-8")
        raised = unit_node(ast.parse(text), unit).body[-1]
        assert ast.unparse(raised) == BLANK
        lines = text.splitlines()
        indent = " " * raised.col_offset
        lines[raised.lineno - 1 : raised.end_lineno] = [
            indent + line if line else "" for line in body.splitlines()
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check_in_process(where, id, capsys):
    capsys.readouterr()  # what came before
    status = cli.main(["learn", "check", id, "--dir", str(where)])
    return status, capsys.readouterr().out


def exercise_ids(exercises):
    return [e.id for e in exercises]


# ---- every exercise, as a learner meets it: subprocesses ------------------------------------------


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_ids(EXERCISES))
def test_the_blank_fails_check_with_a_message_that_says_what_to_write(exercise, tmp_path):
    start(tmp_path, exercise.id)
    proc = minigrad("learn", "check", exercise.id, "--dir", tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{exercise.id} ({exercise.units_text}): not passed"
    assert lines[1].endswith(f"is still the blank: {BLANK}")
    assert lines[2] == f"write there: {exercise.write}"
    assert proc.stderr == ""


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_ids(EXERCISES))
def test_the_packages_own_code_passes_check_reference(exercise):
    proc = minigrad("learn", "check", exercise.id, "--reference")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert (
        first
        == f"{exercise.id}, the package's own {exercise.units_text} ({exercise.source_path}): passed"
    )
    assert proc.stderr == ""


# One typical wrong answer for each exercise, as the issue names them where it does: the real
# code with one change, or a whole body.
TYPICAL = {
    "sigmoid": ({"Sigmoid__backward": [("g * (z * c)", "g * (z * (1 + z))")]}, "a sign"),
    "tanh": ({"Tanh__backward": [("1 - z * z", "1 - x * x")]}, "the input read as the output"),
    "exp-log": ({"Log__backward": [("quotient(grad, x)", "grad * x")]}, "multiplied, not divided"),
    "mul-div": (
        {
            "Mul__backward": [
                ("grad * y if dx", "grad * x if dx"),
                ("grad * x if dy", "grad * y if dy"),
            ]
        },
        "each input's gradient read from itself",
    ),
    "matmul": (
        {"Matmul__backward": [("grad @ y.T if dx", "grad @ y if dx")]},
        "a missing transpose",
    ),
    "broadcast": (
        {"sum_to_shape": [("return g.sum(axes, keepdims=True).reshape(shape)", "return g")]},
        "not summing over the broadcast axes",
    ),
    "logsumexp": (
        {"Logsumexp__backward": [("exp(log_softmax(x, axis))", "exp(x)")]},
        "eˣ not divided by Σ eˣ",
    ),
    "log-softmax": (
        {"LogSoftmax__backward": [("exp(z) * grad.sum(axis, keepdims=True)", "exp(z)")]},
        "Σ G taken as 1",
    ),
    "toposort": (
        {
            "toposort": """\
order, seen = [], set()

def visit(node):
    if node not in seen:
        seen.add(node)
        for parent in parents(node):
            visit(parent)
        order.append(node)

for root in roots:
    visit(root)
return reversed(order)"""
        },
        "a recursive toposort overflowing Python's stack",
    ),
    "accumulate": ({"accumulate": "return g"}, "a gradient replaced, not summed"),
    "gradients": (
        {
            "gradients": [
                ("pending[parent] = accumulate(pending.get(parent), g)", "pending[parent] = g")
            ]
        },
        "a gradient replaced, not accumulated",
    ),
    "no-grad": (
        {
            "set_grad_enabled____exit__": [
                ("switches.grad_enabled = self._previous", "switches.grad_enabled = True")
            ]
        },
        "the mode put back to True, not to what it was",
    ),
    "step-jacobian": (
        {
            "step_jacobian": [
                ("slope[:, None] * cell.weight_hh.data", "cell.weight_hh.data * slope")
            ]
        },
        "diag(act'(z)) on the wrong side",
    ),
    "bptt": (
        {"backward_through_time": [("carried = d_z[t] @ w_hh", "carried = d_z[t] @ w_hh.T")]},
        "W_hh transposed in what is carried",
    ),
    "bound": ({"bound": [("(gamma(nonlinearity) * lambda1)", "lambda1")]}, "γ left out"),
    "clip": (
        {
            "clip_grad_norm_": """\
total = 0.0
for p in parameters:
    norm = float((p.grad.data**2).sum() ** 0.5)
    total = (total**2 + norm**2) ** 0.5
    with no_grad():
        p.grad.mul_(min(1.0, max_norm / (norm + 1e-6)))
return total"""
        },
        "each parameter clipped separately instead of by the global norm",
    ),
    "lstm-cell": (
        {"lstm_cell_backward": [('"c": dc * f', '"c": dc')]},
        "the LSTM's cell-state gradient without the forget gate",
    ),
    "gru-cell": (
        {"gru_cell_backward": [("d_n * r], axis=-1)", "d_n], axis=-1)")]},
        "r left out of h_n's gradient",
    ),
    "forget-gate": ({"carry_gain": [("np.prod(", "np.sum(")]}, "the forget gates summed"),
    "dead-steps": (
        {"run": [("isinstance(step.op, Draw) or ", "")]},
        "a draw from the seeded generator removed",
    ),
}


def test_every_exercise_has_a_typical_wrong_answer_here():
    assert set(TYPICAL) == set(BY_ID)


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_ids(EXERCISES))
def test_a_typical_wrong_answer_fails_check_naming_its_mistake(exercise, tmp_path):
    start(tmp_path, exercise.id)
    changes, mistake = TYPICAL[exercise.id]
    answer(tmp_path, exercise, **changes)
    proc = minigrad("learn", "check", exercise.id, "--dir", tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == f"{exercise.id} ({exercise.units_text}): not passed"
    said = " ".join(proc.stdout.split())
    assert f"This looks like a typical mistake, {mistake}:" in said
    assert (
        proc.stdout.splitlines()[-1]
        == f"A hint: python -m minigrad learn hint {exercise.id} --dir {tmp_path}"
    )
    assert proc.stderr == ""


# ---- the real code typed into the blank passes: in process -----------------------------------------


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_ids(EXERCISES))
def test_the_real_code_typed_into_the_blank_passes_and_is_recorded(exercise, tmp_path, capsys):
    start(tmp_path, exercise.id)
    answer(tmp_path, exercise)
    status, out = check_in_process(tmp_path, exercise.id, capsys)
    assert status == 0, out
    assert out.splitlines()[0] == f"{exercise.id} ({exercise.units_text}): passed"
    assert f"Read the package's own version in {exercise.source_path}" in out
    saved = json.loads((tmp_path / folder.PROGRESS).read_text(encoding="utf-8"))
    assert saved == {"hints": {}, "results": {exercise.id: "passed"}}


# ---- the list and the ids ------------------------------------------------------------------------


def test_learn_lists_the_track_module_by_module_with_each_exercises_status(tmp_path, capsys):
    first, second = EXERCISES[0], EXERCISES[1]
    start(tmp_path, first.id)
    answer(tmp_path, first)
    assert check_in_process(tmp_path, first.id, capsys)[0] == 0
    start(tmp_path, second.id)
    proc = minigrad("learn", "--dir", tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    out = proc.stdout
    assert f"({1} of {len(EXERCISES)} passed)" in out
    for module in MODULES:
        assert f"\n{module.number}. {module.title}" in out
    rows = {
        line.split()[0]: line
        for line in out.splitlines()
        if line.startswith("   ") and line.split()
    }
    assert f"{first.id}  " in rows[first.id] and " passed " in rows[first.id]
    assert " started " in rows[second.id]
    assert all(" not started " in rows[e.id] for e in EXERCISES[2:])
    assert (
        out.splitlines()[-1] == f"next: python -m minigrad learn check {second.id} --dir {tmp_path}"
    )


def test_learn_ids_prints_only_the_ids_one_a_line_in_track_order():
    proc = minigrad("learn", "--ids")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == "".join(f"{e.id}\n" for e in EXERCISES)


def test_the_track_has_at_least_16_exercises_in_the_five_modules_of_the_reading_order():
    assert len(EXERCISES) >= 16
    assert [m.title for m in MODULES] == [
        "Derivatives as rules",
        "The engine",
        "Backpropagation through time by hand",
        "Gates",
        "A compiler pass",
    ]
    assert [m.optional for m in MODULES] == [False, False, False, False, True]


# ---- start ---------------------------------------------------------------------------------------


def without_bytecode(files):
    """A snapshot without Python's bytecode caches, which other test processes may write."""
    return {path: what for path, what in files.items() if "__pycache__" not in path}


def test_start_writes_the_exercise_and_its_readme_in_the_default_folder_and_never_the_package(
    tmp_path,
):
    package = without_bytecode(snapshot(PACKAGE))
    proc = minigrad("learn", "start", "matmul", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    assert without_bytecode(snapshot(PACKAGE)) == package
    assert sorted(snapshot(tmp_path)) == ["minigrad-learn", *(
        os.path.join("minigrad-learn", *p) for p in [("matmul",), ("matmul", "README.md"),
                                                     ("matmul", "exercise.py")])]  # fmt: skip
    text = (tmp_path / "minigrad-learn" / "matmul" / "exercise.py").read_text(encoding="utf-8")
    assert text.count(BLANK) == len(BY_ID["matmul"].units)
    assert proc.stdout.splitlines()[-1] == "then: python -m minigrad learn check matmul"


def test_a_started_exercise_is_never_overwritten(tmp_path):
    start(tmp_path, "tanh")
    mine = tmp_path / "tanh" / "exercise.py"
    mine.write_text("# my work\n", encoding="utf-8")
    before = snapshot(tmp_path)
    proc = minigrad("learn", "start", "tanh", "--dir", tmp_path)
    clean_exit(proc, 2, f"tanh is already started: {mine} is kept as it is")
    assert proc.stdout == ""
    assert snapshot(tmp_path) == before


def test_start_keeps_a_readme_already_there_and_writes_only_the_exercise(tmp_path):
    readme = tmp_path / "tanh" / "README.md"
    readme.parent.mkdir()
    readme.write_text("my notes\n", encoding="utf-8")
    before = snapshot(tmp_path)["tanh/README.md"]
    proc = minigrad("learn", "start", "tanh", "--dir", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(tmp_path)["tanh/README.md"] == before
    assert f"Kept the README.md already in {tmp_path / 'tanh'}." in proc.stdout
    assert (tmp_path / "tanh" / "exercise.py").is_file()


def test_an_exercise_file_is_the_real_code_with_the_bodies_of_its_units_removed(tmp_path):
    for exercise in EXERCISES:
        text = exercise.exercise_text("check", "hint")
        tree = ast.parse(text)
        real = ast.parse(inspect.getsource(sys.modules[exercise.source]))
        for unit in exercise.units:
            mine, theirs = unit_node(tree, unit), unit_node(real, unit)
            assert ast.unparse(mine.args) == ast.unparse(theirs.args), (exercise.id, unit)
            assert ast.get_docstring(mine) == ast.get_docstring(theirs), (exercise.id, unit)
            assert ast.unparse(mine.body[-1]) == BLANK
            assert len(mine.body) == 1 + (ast.get_docstring(theirs) is not None)
        assert "def jvp(" not in text or exercise.drop != ("jvp",), exercise.id


# ---- hints and progress --------------------------------------------------------------------------


def test_hint_gives_one_more_hint_each_time_and_keeps_count_in_the_learners_folder(tmp_path):
    exercise = BY_ID["bptt"]
    total = len(exercise.hints)
    for i, hint in enumerate(exercise.hints, 1):
        proc = minigrad("learn", "hint", exercise.id, "--dir", tmp_path)
        assert proc.returncode == 0 and proc.stderr == ""
        assert proc.stdout.splitlines()[0] == f"bptt, hint {i} of {total}:"
        assert " ".join(proc.stdout.split()[5:]) == " ".join(hint.split())
        saved = json.loads((tmp_path / folder.PROGRESS).read_text(encoding="utf-8"))
        assert saved == {"hints": {"bptt": i}, "results": {}}
    proc = minigrad("learn", "hint", exercise.id, "--dir", tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == f"bptt: no more hints ({total} of {total} given)."


def test_progress_is_kept_in_the_learners_folder_and_a_failed_check_is_recorded(tmp_path):
    start(tmp_path, "accumulate")
    proc = minigrad("learn", "check", "accumulate", "--dir", tmp_path, cwd=tmp_path)
    assert proc.returncode == 1
    saved = json.loads((tmp_path / folder.PROGRESS).read_text(encoding="utf-8"))
    assert saved == {"hints": {}, "results": {"accumulate": "failed"}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accumulate", folder.PROGRESS]


def test_a_progress_file_that_is_not_one_is_refused_and_left_as_it_is(tmp_path):
    progress = tmp_path / folder.PROGRESS
    progress.write_text('{"hints": {"nope": 1}, "results": {}}', encoding="utf-8")
    before = snapshot(tmp_path)
    proc = minigrad("learn", "hint", "tanh", "--dir", tmp_path)
    clean_exit(proc, 2, f"{progress} is not the track's progress file (hints: 'nope': 1)")
    assert snapshot(tmp_path) == before


# ---- the learner's errors, shown as theirs -------------------------------------------------------


def test_a_traceback_in_the_learners_code_is_shown_trimmed_to_their_file(tmp_path):
    exercise = BY_ID["accumulate"]
    start(tmp_path, exercise.id)
    path = answer(tmp_path, exercise, accumulate="return helper(total, g)")
    path.write_text(path.read_text(encoding="utf-8") + "\n\ndef helper(total, g):\n    return g / 0 + {}\n",
                    encoding="utf-8")  # fmt: skip
    proc = minigrad("learn", "check", exercise.id, "--dir", tmp_path)
    assert proc.returncode == 1 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    start_at = lines.index("  Traceback (most recent call last), in your file only:")
    files = [line for line in lines if line.strip().startswith("File ")]
    assert files and all(f'File "{path}", line ' in line for line in files)
    assert lines[start_at + 1].strip().endswith(", in accumulate")
    assert "return g / 0 + {}" in proc.stdout
    assert any(line.strip().startswith("TypeError: unsupported operand") for line in lines)
    assert "minigrad/engine.py" not in proc.stdout


def test_a_file_that_does_not_run_is_shown_as_python_shows_it(tmp_path):
    start(tmp_path, "tanh")
    path = tmp_path / "tanh" / "exercise.py"
    path.write_text(path.read_text(encoding="utf-8") + "\ndef oops(:\n", encoding="utf-8")
    proc = minigrad("learn", "check", "tanh", "--dir", tmp_path)
    assert proc.returncode == 1 and proc.stderr == ""
    assert f'File "{path}", line ' in proc.stdout
    assert "SyntaxError" in proc.stdout


# ---- misuse: one line on stderr, exit status 2 ---------------------------------------------------

MISUSE = {
    "an unknown id": (["learn", "check", "nope"], "no exercise 'nope'; the ids are sigmoid, "),
    "an unknown flag": (["learn", "--bogus"], "unrecognized arguments: --bogus"),
    "an unknown action": (["learn", "frob"], "invalid choice: 'frob'"),
    "no id": (["learn", "hint"], "the following arguments are required: ID"),
    "--ids with an action": (["learn", "--ids", "start", "tanh"], "--ids prints the ids alone"),
    "a check before the start": (["learn", "check", "tanh"], "tanh is not started"),
    "a folder inside the package": (
        ["learn", "start", "tanh", "--dir", PACKAGE / "x"],
        "is inside the minigrad package",
    ),  # fmt: skip
    "a file for a folder": (["learn", "start", "tanh", "--dir", "a-file"], "a file is in the way"),
}


@pytest.mark.parametrize("args, said", MISUSE.values(), ids=MISUSE)
def test_misuse_is_one_line_on_stderr_and_exit_status_2(args, said, tmp_path):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    before = without_bytecode(snapshot(PACKAGE))
    proc = minigrad(*args, cwd=tmp_path)
    clean_exit(proc, 2, said)
    assert proc.stdout == ""
    assert without_bytecode(snapshot(PACKAGE)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


# ---- every typical mistake a grader names, from an answer that makes it: in process ---------------

QUADRATIC = """\
_, parents_of = _count_consumers(roots, parents)
done = set()
while len(done) < len(parents_of):
    ready = [n for n in parents_of if n not in done
             and all(m in done for m in parents_of if n in parents(m))]
    node = max(ready, key=lambda n: n.number)
    done.add(node)
    yield node"""

MISTAKES = [
    (
        "sigmoid",
        {"Sigmoid__backward": [("g * (z * c)", "g * (z * (1 - z))")]},
        "1 − σ(x) cancelling to 0",
    ),
    (
        "sigmoid",
        {"Sigmoid__backward": [("g * (z * c)", "z * c")]},
        "the incoming gradient left out",
    ),
    (
        "sigmoid",
        {"Sigmoid__backward": [("g * (z * c)", "g * z")]},
        "the function for its derivative",
    ),
    ("sigmoid", {"Sigmoid__backward": [("else dz - dc", "else dz")]}, "c's gradient left out"),
    (
        "tanh",
        {"Tanh__backward": [("grad * (1 - z * z)", "np.multiply(grad, 1 - z * z)")]},
        "a numpy function in a rule",
    ),
    ("exp-log", {"Exp__backward": [("grad * z", "grad * x")]}, "the input for the output"),
    (
        "mul-div",
        {"Div__backward": [("-grad * (x / y) / y", "grad * (x / y) / y")]},
        "the minus sign left out",
    ),
    (
        "matmul",
        {"Matmul__backward": [("x.ndim == 2 and y.ndim == 2", "x.ndim > 1 and y.ndim > 1")]},
        "a batch of matrices",
    ),
    (
        "matmul",
        {"_matmul_dy": [("d.squeeze(-1) if y.ndim == 1 else d", "d")]},
        "a 1-D operand taken as it is",
    ),
    (
        "broadcast",
        {"sum_to_shape": [("g.sum(axes, keepdims=True).reshape(shape)", "g.sum(axes)")]},
        "the length-1 axes summed away",
    ),
    (
        "logsumexp",
        {"Logsumexp__backward": [("_unreduce(grad, x.shape, axis, keepdims) * ", "grad * ")]},
        "∂L/∂z not put back over the reduced axes",
    ),
    (
        "toposort",
        {
            "toposort": "stack = list(roots)\nwhile stack:\n    node = stack.pop()\n    yield node\n"
            "    stack.extend(parents(node))"
        },
        "a node yielded twice",
    ),
    (
        "toposort",
        {
            "toposort": [
                ("(-node.number, node)", "(node.number, node)"),
                ("(-parent.number, parent)", "(parent.number, parent)"),
            ]
        },
        "a valid order, but not the newest ready node first",
    ),
    (
        "toposort",
        {"toposort": "return list(_count_consumers(roots, parents)[1])"},
        "a node before one of its consumers",
    ),
    (
        "toposort",
        {
            "_count_consumers": [
                ("parents(node)", "[e[0] for e in node.parents if type(e) is tuple]")
            ]
        },
        "the parents argument ignored",
    ),
    (
        "toposort",
        {"toposort": [("consumers[parent] == 0", "consumers[parent] == -1")]},
        "a node left out",
    ),
    ("toposort", {"toposort": QUADRATIC}, "a node's parents read again and again"),
    ("accumulate", {"accumulate": "return total + g"}, "the first gradient forgotten"),
    (
        "accumulate",
        {"accumulate": "if total is None:\n    return g\ntotal += g\nreturn total"},
        "a gradient summed in place",
    ),
    (
        "gradients",
        {"gradients": [("nodes if targets is None else _leading_to(nodes, targets)", "nodes")]},
        "every node run, though targets were given",
    ),
    (
        "gradients",
        {"gradients": [("vjp = vjp or Node.vjp", "vjp = Node.vjp")]},
        "the vjp argument ignored",
    ),
    (
        "gradients",
        {"gradients": [(" if targets is None else targets.__contains__", "")]},
        "what the pass returns",
    ),
    ("gradients", {"gradients": [("hooks.on_final(key, g)", "g")]}, "the leaves' hooks not run"),
    (
        "no-grad",
        {
            "set_grad_enabled____init__": [("\nswitches.grad_enabled = self.enabled", "")],
            "set_grad_enabled____enter__": "switches.grad_enabled = self.enabled",
        },
        "the switch made on entering only",
    ),
    (
        "no-grad",
        {"set_grad_enabled____call__": [("switches.grad_enabled = self._previous\n", "")]},
        "a decorator that switches the mode where it is written",
    ),
    (
        "step-jacobian",
        {"step_jacobian": [("slope[:, None] * cell.weight_hh.data", "cell.weight_hh.data")]},
        "act' left out",
    ),
    (
        "step-jacobian",
        {"step_jacobian": [("cell.weight_hh.data", "cell.weight_hh.data.T")]},
        "W_hh transposed",
    ),
    (
        "bptt",
        {"backward_through_time": [("carried = d_z[t] @ w_hh", "pass")]},
        "the gradient from later steps left out",
    ),
    (
        "bptt",
        {
            "backward_through_time": [
                ("(d_h_out[t] + carried) * slope[t]", "d_h_out[t] * slope[t] + carried")
            ]
        },
        "act' applied to step t's own gradient only",
    ),
    (
        "bptt",
        {"backward_through_time": [("range(len(slope) - 1, -1, -1)", "range(len(slope))")]},
        "the recursion run forward in time",
    ),
    (
        "bound",
        {"bound": [("(gamma(nonlinearity) * lambda1) **", "gamma(nonlinearity) * lambda1 **")]},
        "γ outside the power",
    ),
    (
        "bound",
        {"bound": [("(gamma(nonlinearity) * lambda1) **", "(gamma(nonlinearity) * lambda1) *")]},
        "a product for a power",
    ),
    (
        "clip",
        {"clip_grad_norm_": [("factor = factor if math.isnan(factor) else min(factor, 1.0)", "")]},
        "gradients below the threshold scaled up",
    ),
    ("clip", {"clip_grad_norm_": [(" + 1e-6", "")]}, "the 1e-6 left out"),
    (
        "clip",
        {"clip_grad_norm_": [("get_total_norm(grads, norm_type,", "get_total_norm(grads, 2.0,")]},
        "norm_type ignored",
    ),
    (
        "clip",
        {"clip_grad_norm_": [("norm_type, error_if_nonfinite)", "norm_type, False)")]},
        "a non-finite total not refused",
    ),
    (
        "clip",
        {"clip_grad_norm_": [(" if p.grad is not None", "")]},
        "a parameter without a gradient not skipped",
    ),
    (
        "clip",
        {
            "clip_grad_norm_": [
                (
                    'with no_grad(), np.errstate(invalid="ignore"):\n    for g in grads:\n        g.mul_(factor)',
                    "for p in parameters:\n    p.grad = p.grad * factor",
                )
            ]
        },
        ".grad replaced, not changed in place",
    ),
    (
        "lstm-cell",
        {"lstm_cell_backward": [("dc = dc_next + dh_next * o * (1 - tanh_c**2)", "dc = dc_next")]},
        "∂L/∂c' through h' left out",
    ),
    (
        "lstm-cell",
        {"lstm_cell_backward": [("dc = dc_next + dh_next", "dc = dh_next")]},
        "∂L/∂c' given directly left out",
    ),
    (
        "lstm-cell",
        {"lstm_cell_backward": [('"weight_ih": da.T @ x', '"weight_ih": x.T @ da')]},
        "a weight's gradient transposed",
    ),
    (
        "gru-cell",
        {"gru_cell_backward": [("dh_next * z + d_hidden_side @ weight_hh", "dh_next * z")]},
        "∂L/∂h through the gates left out",
    ),
    (
        "forget-gate",
        {"carry_gain": [("np.prod(forget_gates[k:t]", "np.prod(1 - forget_gates[k:t]")]},
        "1 − f for f",
    ),
    (
        "forget-gate",
        {"carry_gain": [("forget_gates[k:t]", "forget_gates[k : t + 1]")]},
        "the product over the wrong steps",
    ),
    (
        "forget-gate",
        {"carry_gain": "return np.diag(np.prod(forget_gates[k:t], axis=0))"},
        "the whole matrix for its diagonal",
    ),
    ("dead-steps", {"run": "return None"}, "a step nothing reads kept"),
    (
        "dead-steps",
        {"run": [("live = set(plan.outputs)", "live = set()")]},
        "a step that is read removed",
    ),
    (
        "dead-steps",
        {"run": [("live = set(plan.outputs)", "live = {plan.outputs[-1]}")]},
        "an output of the plan removed",
    ),
    (
        "dead-steps",
        {"run": [("plan.steps = kept[::-1]", "plan.steps = kept")]},
        "the steps' order changed",
    ),
    (
        "dead-steps",
        {"run": [("if not removed:\n    return None\n", "")]},
        "a note with nothing removed",
    ),
    (
        "dead-steps",
        {"run": [("any(v in live", "all(v in live")]},
        "a step with several outputs, one of them read, removed",
    ),
]


@pytest.mark.parametrize(
    "id, changes, mistake", MISTAKES, ids=[f"{m[0]}: {m[2]}" for m in MISTAKES]
)
def test_a_wrong_answer_fails_check_naming_the_typical_mistake_it_makes(id, changes, mistake,
                                                                      tmp_path, capsys):  # fmt: skip
    start(tmp_path, id)
    answer(tmp_path, BY_ID[id], **changes)
    status, out = check_in_process(tmp_path, id, capsys)
    assert status == 1, out
    assert f"This looks like a typical mistake, {mistake}:" in " ".join(out.split()), out


def test_a_toposort_that_never_ends_is_stopped_by_a_guard_that_says_it_is_not_a_time_limit(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(engine_parts, "GUARD", 0.05)
    start(tmp_path, "toposort")
    answer(tmp_path, BY_ID["toposort"], toposort="while roots:\n    pass\nyield")
    status, out = check_in_process(tmp_path, "toposort", capsys)
    assert status == 1
    assert out.splitlines()[1] == "case 1 of 5: a chain of 3 ops, x·w → exp → sum"
    assert out.splitlines()[2] == (
        "  your toposort was still running after 0.05 s, and the check stopped there: a guard "
        "against a loop that never ends, not a time limit (the package's walk takes well under a "
        "second)"
    )


def test_a_toposort_that_yields_without_end_is_stopped_at_one_node_more_than_the_graph(
    tmp_path, capsys
):
    start(tmp_path, "toposort")
    answer(tmp_path, BY_ID["toposort"], toposort="while True:\n    yield from roots")
    status, out = check_in_process(tmp_path, "toposort", capsys)
    assert status == 1
    assert "a node yielded twice" in out


# ---- the learner's folder, in process --------------------------------------------------------------

NOT_PROGRESS = {
    "not JSON": ("{", "not JSON: "),
    "not an object": ("[]", 'it is not {"hints": ..., "results": ...}'),
    "hints not an object": ('{"hints": [], "results": {}}', "hints and results must be objects"),
    "a count below 0": ('{"hints": {"tanh": -1}, "results": {}}', "hints: 'tanh': -1"),
    "an unknown result": ('{"hints": {}, "results": {"tanh": "done"}}', "results: 'tanh': 'done'"),
}


@pytest.mark.parametrize("text, said", NOT_PROGRESS.values(), ids=NOT_PROGRESS)
def test_a_progress_file_that_is_not_the_tracks_is_refused_by_every_command(text, said, tmp_path,
                                                                         capsys):  # fmt: skip
    (tmp_path / folder.PROGRESS).write_text(text, encoding="utf-8")
    before = snapshot(tmp_path)
    for args in (["learn"], ["learn", "start", "tanh"], ["learn", "hint", "tanh"]):
        assert cli.main([*args, "--dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err and "move it away" in err
    assert snapshot(tmp_path) == before


def test_a_folder_where_the_progress_file_should_be_is_refused(tmp_path, capsys):
    (tmp_path / folder.PROGRESS).mkdir()
    assert cli.main(["learn", "--dir", str(tmp_path)]) == 2
    assert f"{tmp_path / folder.PROGRESS} is not a file; move it away" in capsys.readouterr().err


def test_a_file_where_the_exercises_folder_should_be_is_refused(tmp_path, capsys):
    (tmp_path / "tanh").write_text("", encoding="utf-8")
    assert cli.main(["learn", "start", "tanh", "--dir", str(tmp_path)]) == 2
    assert f"{tmp_path / 'tanh'}: a file is in the way" in capsys.readouterr().err


def test_the_list_says_when_every_exercise_is_passed(tmp_path, capsys):
    results = {e.id: "passed" for e in EXERCISES}
    (tmp_path / folder.PROGRESS).write_text(json.dumps({"hints": {}, "results": results}))
    assert cli.main(["learn", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"({len(EXERCISES)} of {len(EXERCISES)} passed)" in out
    assert out.splitlines()[-1] == "every exercise is passed"


BY_HAND = [e for e in EXERCISES if e.source == "minigrad.learn.by_hand"]


@pytest.mark.parametrize("exercise", BY_HAND, ids=exercise_ids(BY_HAND))
def test_the_references_written_by_hand_pass_their_graders(exercise, capsys):
    assert cli.main(["learn", "check", exercise.id, "--reference"]) == 0, capsys.readouterr().out
