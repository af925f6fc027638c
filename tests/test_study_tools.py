"""The study tools: the graph as DOT text and as a picture (minigrad.viz), backward as it runs
(trace_backward), and the tour of the first example."""

import re
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, viz
from minigrad.autograd import trace_backward
from minigrad.engine import toposort
from minigrad.graph import Node


def first_example():
    mg.manual_seed(0)
    W = mg.randn(3, 4, requires_grad=True)
    b = mg.zeros(3, requires_grad=True)
    x = mg.randn(4)
    z = W @ x + b
    loss = z.sigmoid().sum()
    return W, b, x, z, loss


def dot_items(dot):
    """{dot id: (shape, label lines)} and the arrows of DOT text written by to_dot."""
    items = {m[0]: (m[1], m[2].split("\\n")) for m in re.findall(r'(n\d+) \[shape=(\w+), label="(.*?)"\];', dot)}  # fmt: skip
    arrows = re.findall(r"(n\d+) -> (n\d+);", dot)
    return items, arrows


# ---- the graph ---------------------------------------------------------------------------------


def test_to_dot_has_a_box_per_tensor_an_ellipse_per_op_and_arrows_between_them():
    W, b, x, z, loss = first_example()
    loss.backward()
    dot = viz.to_dot(loss, names=dict(W=W, b=b, x=x))
    assert dot.startswith("digraph minigrad {") and dot.rstrip().endswith("}")
    items, arrows = dot_items(dot)
    ops = sorted(lines[0] for shape, lines in items.values() if shape == "ellipse")
    assert ops == ["add", "matmul", "sigmoid", "sum"]
    boxes = {lines[0]: lines for shape, lines in items.values() if shape == "box"}
    assert set(boxes) == {"W", "b", "x", "tensor", "tensor  (output)"}
    assert boxes["W"][1] == "float64[3, 4]" and boxes["x"][1] == "float64[4]"
    assert all(a in items and b in items for a, b in arrows) and len(arrows) == 10
    by_label = {lines[0]: key for key, (_, lines) in items.items()}
    matmul = next(k for k, (s, lines) in items.items() if lines[0] == "matmul")
    assert {(by_label["W"], matmul), (by_label["x"], matmul)} <= set(arrows)


def test_every_box_shows_the_gradient_of_the_root_which_equals_the_engines():
    W, b, x, z, loss = first_example()
    z.retain_grad()
    loss.backward()
    items, _ = dot_items(viz.to_dot(loss, names=dict(W=W, b=b, x=x)))
    labels = {lines[0]: lines for _, lines in items.values()}
    assert "grad [0.1838, 0.1825, 0.0611]" in labels["b"]
    printed = " ".join(np.array2string(z.grad.data, precision=4, separator=", ").split())
    assert sum(f"grad {printed}" in lines for lines in labels.values()) >= 1
    assert not any(line.startswith("grad") for line in labels["x"])  # a constant has none
    assert W.grad is not None and np.array_equal(b.grad.data, z.grad.data)  # .grad untouched


def test_leaves_parameters_and_constants_are_marked_and_a_module_names_its_parameters():
    layer = nn.Linear(2, 3)
    x = mg.randn(2)
    out = layer(x).sum()
    labels = [lines[0] for _, lines in dot_items(viz.to_dot(out))[0].values()]
    assert labels.count("parameter") == 2 and "constant" in labels
    labels = [lines[0] for _, lines in dot_items(viz.to_dot(out, module=layer))[0].values()]
    assert {"weight", "bias", "constant"} <= set(labels)
    leaf = mg.randn(2, requires_grad=True)
    assert "leaf" in [lines[0] for _, lines in dot_items(viz.to_dot(leaf * 2))[0].values()]


def test_values_and_gradients_too_large_to_print_are_left_out():
    x = mg.randn(5, 5, requires_grad=True)
    items, _ = dot_items(viz.to_dot((x * 2).sum()))
    big = [lines for shape, lines in items.values() if shape == "box" and "[5, 5]" in lines[1]]
    assert big and all(len(lines) == 2 for lines in big)  # the kind and the shape only
    items, _ = dot_items(viz.to_dot(mg.ones(2, requires_grad=True).sum(), values=False))
    assert not any(line.startswith("value") for _, lines in items.values() for line in lines)


def test_a_graph_too_large_to_read_is_cut_with_a_count_of_what_is_left_out():
    rnn = nn.RNN(3, 4)
    out, _ = rnn(mg.randn(50, 1, 3))
    loss = out.sum()
    total = len(list(toposort([loss.grad_fn])))
    items, arrows = dot_items(viz.to_dot(loss, max_ops=30, module=rnn))
    ops = [lines for shape, lines in items.values() if shape == "ellipse"]
    (cut,) = [lines for shape, lines in items.values() if shape == "note"]
    assert len(ops) == 30 and cut[0] == f"… {total - 30} more op calls, not drawn:"
    counted = sum(int(n) for n in re.findall(r"×(\d+)", cut[1]))
    assert counted == total - 30 and "addmm" in cut[1]


def test_draw_writes_a_png_or_an_svg(tmp_path):
    pytest.importorskip("matplotlib")
    W, b, x, z, loss = first_example()
    loss.backward()
    png = viz.draw(loss, path=tmp_path / "g.png", names=dict(W=W, b=b, x=x))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = viz.draw(loss, path=tmp_path / "g.svg")
    assert "<svg" in svg.read_text()
    rnn = nn.GRU(2, 3)
    viz.draw(rnn(mg.randn(40, 1, 2))[0].sum(), path=tmp_path / "cut.png", max_ops=25)


def test_a_drawing_that_fails_midway_leaves_the_previous_picture_whole(tmp_path, monkeypatch):
    plt = pytest.importorskip("matplotlib.pyplot")
    W, b, x, z, loss = first_example()
    png = viz.draw(loss, path=tmp_path / "g.png")
    before = png.read_bytes()

    def crash(fig, f, **kwargs):
        f.write(b"half a picture")
        raise KeyboardInterrupt("killed while drawing")

    monkeypatch.setattr(plt.Figure, "savefig", crash)
    with pytest.raises(KeyboardInterrupt):
        viz.draw(loss * 2, path=png)
    assert png.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.png"]  # no temporary file left


def test_draw_and_to_dot_name_their_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"draw: path must end in \.png or \.svg, got '.*g\.pdf'"):
        viz.draw(mg.ones(1), path=tmp_path / "g.pdf")
    with pytest.raises(TypeError, match="to_dot: expected one or more Tensors, got ndarray"):
        viz.to_dot(np.ones(2))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "minigrad._drawing", raising=False)
    with pytest.raises(ImportError, match=r"draw: needs matplotlib; .*pip install -e '\.\[plot\]'"):
        viz.draw(mg.ones(1), path=tmp_path / "g.png")


# ---- backward as it runs -----------------------------------------------------------------------


def test_the_trace_lists_the_nodes_in_the_order_the_engine_visits_them():
    W, b, x, z, loss = first_example()
    order = [node.name for node in toposort([loss.grad_fn])]
    with trace_backward(names=dict(W=W, b=b, x=x)) as trace:
        loss.backward()
    assert (
        [visit.node.name for visit in trace.visits] == order == ["sum", "sigmoid", "add", "matmul"]
    )
    text = str(trace)
    assert "backward visited 4 nodes" in text and "x: none (needs no gradient)" in text
    row = next(line for line in text.splitlines() if " matmul " in line)
    assert row.split()[:3] == ["4", "matmul", "[3]"]
    assert f"W: {np.linalg.norm(W.grad.data):.4g};" in row


def test_what_each_input_received_is_the_engines_gradient_and_the_leaves_sum_to_grad():
    W, b, x, z, loss = first_example()
    z.retain_grad()
    with trace_backward() as trace:
        loss.backward()
    by_op = {visit.node.name: visit for visit in trace.visits}
    assert np.array_equal(by_op["sigmoid"].received[0], z.grad.data)
    assert np.array_equal(by_op["add"].grad, z.grad.data)
    assert np.array_equal(trace.added(W), W.grad.data) and np.array_equal(
        trace.added(b), b.grad.data
    )
    # a leaf reached twice: the trace adds both contributions, as .grad does
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with trace_backward() as twice:
        (w * w + w.exp()).sum().backward()
    assert np.allclose(twice.added(w), w.grad.data, rtol=1e-15, atol=0)
    assert len([p for visit in twice.visits for p, _ in visit.leaves if p is w]) == 3


def test_tracing_costs_nothing_when_off_and_nests():
    original = Node.vjp
    with trace_backward() as outer:
        with trace_backward() as inner:
            (mg.ones(2, requires_grad=True) * 3).sum().backward()
        assert Node.vjp is not original
    assert Node.vjp is original
    assert len(inner.visits) == len(outer.visits) == 2
    with pytest.raises(RuntimeError), trace_backward():
        mg.ones(1).backward()  # does not require grad
    assert Node.vjp is original


def test_a_recorded_pass_indexing_and_a_compiled_call_are_traced():
    x = mg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    with trace_backward() as trace:
        (g,) = mg.grad((x**3).sum(), [x], create_graph=True)
    assert np.allclose(trace.visits[-1].received[0], 3 * x.data**2)
    with trace_backward() as trace:
        (x[0] * x[2] + x[1]).backward()
    assert [v.node.name for v in trace.visits].count("getitem") == 3
    compiled = mg.compile(lambda t: (t * t).sum())
    compiled(x)
    with trace_backward() as trace:
        compiled(x).backward()
    assert [v.node.name for v in trace.visits] == ["compiled <lambda>"]


# ---- the tour ----------------------------------------------------------------------------------


def test_the_tour_shows_each_gradient_beside_the_chain_rule_by_hand(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "minigrad", "tour"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for part in (
        "1. forward",
        "2. the graph",
        "digraph minigrad",
        "3. backward",
        "4. each gradient",
    ):
        assert part in out
    differences = [float(d) for d in re.findall(r"largest \|difference\| (\S+)", out)]
    assert len(differences) == 7 and max(differences) < 1e-12
    assert "∂L/∂W = (∂L/∂z) xᵀ" in out and "b     [3]     0.2661" in out


def test_the_tour_can_draw_its_graph(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "tour.png"
    proc = subprocess.run([sys.executable, "-m", "minigrad", "tour", "--png", str(png)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0 and f"drawn to {png}" in proc.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_the_tours_engine_gradients_are_the_tensors_own():
    from minigrad.tour import example, gradients

    tensors, trace = example()
    rows = {name: (engine, hand) for name, _, engine, hand in gradients(tensors, trace)}
    assert np.array_equal(rows["∂L/∂W"][0], tensors["W"].grad.data)
    y = tensors["y"].data
    assert np.max(np.abs(rows["∂L/∂z"][0] - y * (1 - y))) < 1e-12


def test_the_tour_command_in_process_and_its_png_option_without_matplotlib(
    tmp_path, capsys, monkeypatch
):
    from minigrad import cli

    assert cli.main(["tour"]) == 0
    out = capsys.readouterr().out
    assert float(re.search(r"largest difference over every gradient: (\S+)", out)[1]) < 1e-12
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert cli.main(["tour", "--png", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--png needs matplotlib" in err
    assert not (tmp_path / "g.png").exists()
