"""minigrad.compile: a replay equals eager bit for bit, retraces when it must, and refuses
what it cannot replay, naming the function."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.models import CharRNN
from minigrad.testing import Problem
from spec.op_table import ROWS


def leaf(values):
    return mg.tensor(values, requires_grad=True)


def same(a, b):
    """Equal bit for bit: the same dtype, shape and bytes (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# ---- every op of the spec table, forward and vector-Jacobian product ---------------------------

CASES = [(row, case) for row in ROWS for case in row.cases]


@pytest.mark.parametrize(
    ("row", "case"), CASES, ids=[f"{row.op}-{i}" for i, (row, _) in enumerate(CASES)]
)
def test_a_replay_of_every_op_gives_eagers_values_and_vjp_bit_for_bit(row, case):
    p = Problem(row, case)
    compiled = mg.compile(lambda *xs: p.run(xs))
    results = []
    for _ in range(3):  # the first call traces (and is eager); the others replay
        tensors = p.tensors()
        out = compiled(*tensors)
        v = mg.tensor(np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype))
        grads = mg.grad(out, [tensors[k] for k in p.diff], v, allow_unused=True)
        results.append([out.data] + [None if g is None else g.data for g in grads])
    assert compiled.traces == 1
    eager, *replays = results
    for replay in replays:
        assert all(same(a, b) for a, b in zip(eager, replay) if a is not None)


# ---- a training step of a recurrent model, 5 optimiser steps ------------------------------------


class _Core(CharRNN):
    """CharRNN with a bidirectional or batch-first core (its head reads both directions)."""

    def __init__(self, kind, bidirectional=False, batch_first=False):
        super().__init__(11, 4, 6, model=kind)
        core = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.rnn = core(4, 6, bidirectional=bidirectional, batch_first=batch_first)
        self.head = nn.Linear(12 if bidirectional else 6, 11)


MODELS = {
    "rnn sigmoid": lambda: CharRNN(11, 4, 6, model="rnn", nonlinearity="sigmoid"),
    "rnn tanh": lambda: CharRNN(11, 4, 6, model="rnn", nonlinearity="tanh"),
    "rnn relu": lambda: CharRNN(11, 4, 6, model="rnn", nonlinearity="relu"),
    "lstm": lambda: CharRNN(11, 4, 6, model="lstm"),
    "gru": lambda: CharRNN(11, 4, 6, model="gru"),
    "rnn 2 layers": lambda: CharRNN(11, 4, 6, model="rnn", num_layers=2),
    "lstm 2 layers": lambda: CharRNN(11, 4, 6, model="lstm", num_layers=2),
    "gru 2 layers": lambda: CharRNN(11, 4, 6, model="gru", num_layers=2),
    "lstm bidirectional": lambda: _Core("lstm", bidirectional=True),
    "gru bidirectional": lambda: _Core("gru", bidirectional=True),
    "rnn batch_first": lambda: _Core("rnn", batch_first=True),
    "lstm batch_first": lambda: _Core("lstm", batch_first=True),
}


def _training(model_name, compiled, steps=5):
    """Losses, gradients and parameters after each of ``steps`` steps of truncated BPTT."""
    mg.manual_seed(0)
    model = MODELS[model_name]()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(tokens, targets, *state):
        logits, hidden = model(tokens, None if not state else state if len(state) > 1 else state[0])
        loss = F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
        return (loss, *hidden) if isinstance(hidden, tuple) else (loss, hidden)

    run = mg.compile(step) if compiled else step
    rng = np.random.default_rng(0)
    state, history = (), []
    for _ in range(steps):
        tokens, targets = (mg.tensor(rng.integers(0, 11, (5, 3))) for _ in range(2))
        opt.zero_grad()
        loss, *hidden = run(tokens, targets, *state)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        grads = [p.grad.data.copy() for p in model.parameters()]
        opt.step()
        state = tuple(h.detach() for h in hidden)
        history.append([loss.data, *grads, *[p.data.copy() for p in model.parameters()]])
    return history


@pytest.mark.parametrize("model_name", MODELS)
def test_a_compiled_training_step_equals_eager_bit_for_bit_over_5_steps(model_name):
    eager, compiled = _training(model_name, False), _training(model_name, True)
    for step_eager, step_compiled in zip(eager, compiled):
        assert all(same(a, b) for a, b in zip(step_eager, step_compiled))


# ---- closures and explicit arguments -------------------------------------------------------------


def test_a_function_of_explicit_tensor_arguments_replays_with_their_new_values():
    def f(x, w, b):
        return ((x @ w + b).tanh() ** 2).mean()

    compiled = mg.compile(f)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x, w, b = (
            mg.tensor(rng.standard_normal((4, 3))),
            leaf(rng.standard_normal((3, 2))),
            leaf(rng.standard_normal(2)),
        )
        got = compiled(x, w, b)
        got.backward()
        w2, b2 = leaf(w.data), leaf(b.data)
        expected = f(x, w2, b2)
        expected.backward()
        assert same(got.data, expected.data)
        assert same(w.grad.data, w2.grad.data) and same(b.grad.data, b2.grad.data)
    assert compiled.traces == 1


def test_the_same_tensor_passed_twice_replays_as_eager():
    compiled = mg.compile(lambda a, b: (a * b + a).sum())
    for _ in range(2):
        x = leaf([1.0, 2.0])
        out = compiled(x, x)
        out.backward()
        assert out.item() == 8.0 and x.grad.tolist() == [3.0, 5.0]  # d/dx (x² + x) = 2x + 1


def test_a_closure_reads_the_parameters_afresh_after_an_optimiser_updates_them():
    layer = nn.Linear(3, 2)
    compiled = mg.compile(lambda x: layer(x).sum())
    x = mg.ones(1, 3)
    first = compiled(x).item()
    with mg.no_grad():
        layer.bias.add_(1.0)
    assert compiled(x).item() == pytest.approx(first + 2.0, rel=1e-15)
    assert compiled.traces == 1


def test_the_result_hangs_off_one_node_whose_inputs_are_the_arguments_and_the_parameters():
    layer = nn.Linear(3, 2)
    compiled = mg.compile(lambda x: layer(x).relu().sum())
    x = leaf(np.ones((1, 3)))
    compiled(x)
    out = compiled(x)  # a replay
    node = out.grad_fn
    assert node.name == "compiled <lambda>"  # fn's name
    assert node.parents[0] is x and set(node.parents[1:]) == {layer.weight, layer.bias}


# ---- what works on a compiled result ----------------------------------------------------------


def _model_and_compiled():
    mg.manual_seed(0)
    layer = nn.Linear(3, 3)
    return layer, mg.compile(lambda x: (layer(x).sigmoid(), layer(x).sum()))


def test_eager_code_before_and_after_a_compiled_call_backpropagates_through_it():
    layer, compiled = _model_and_compiled()
    x = leaf(np.arange(6.0).reshape(2, 3))
    grads = []
    for fn in (compiled, compiled.fn, compiled):  # trace, eager, replay
        layer.zero_grad()
        x.grad = None
        hidden, total = fn(x * 2)
        ((hidden * hidden).sum() + 3 * total).backward()
        grads.append((x.grad.data, layer.weight.grad.data))
    assert np.allclose(grads[2][0], grads[1][0], rtol=1e-14)
    assert np.allclose(grads[2][1], grads[1][1], rtol=1e-14)


def test_retain_grad_and_grad_work_on_compiled_outputs():
    layer, compiled = _model_and_compiled()
    x = leaf(np.ones((2, 3)))
    compiled(x)
    hidden, total = compiled(x)
    hidden.retain_grad()
    (hidden.sum() * 2).backward()
    assert hidden.grad.tolist() == [[2.0] * 3] * 2
    (g,) = mg.grad(total, x)
    assert g.shape == (2, 3)


def test_an_output_without_a_gradient_leaves_the_others_exact():
    layer, compiled = _model_and_compiled()
    x = leaf(np.ones((2, 3)))
    hidden, total = compiled(x)  # traced: eager
    total.backward()
    eager = x.grad.data.copy()
    x.grad = None
    hidden, total = compiled(x)
    total.backward()
    assert same(x.grad.data, eager)


def test_under_no_grad_a_replay_records_nothing():
    layer, compiled = _model_and_compiled()
    x = mg.ones(2, 3)
    compiled(x)
    with mg.no_grad():
        hidden, _ = compiled(x)
        assert hidden.grad_fn is None and not hidden.requires_grad
    assert compiled.traces == 2  # grad mode is part of the signature


def test_an_in_place_change_inside_the_function_replays_exactly():
    def f(a, b):
        c = a + b
        c += c + 1  # recorded: micrograd's style
        c *= b
        return (c * c).sum()

    compiled = mg.compile(f)
    results = []
    for _ in range(2):
        a, b = leaf([1.0, -2.0]), leaf([0.5, 3.0])
        compiled(a, b).backward()
        results.append((a.grad.data, b.grad.data))
    assert compiled.traces == 1
    assert same(results[0][0], results[1][0]) and same(results[0][1], results[1][1])


def test_create_graph_through_a_compiled_result_is_refused():
    compiled = mg.compile(lambda x: (x**3).sum())
    x = leaf([1.0, 2.0])
    compiled(x)
    with pytest.raises(RuntimeError, match="create_graph=True is not supported through a compiled"):
        mg.grad(compiled(x), x, create_graph=True)


# ---- the signature and the cache ---------------------------------------------------------------


def test_a_new_shape_dtype_requires_grad_or_constant_retraces_and_the_same_one_does_not():
    compiled = mg.compile(lambda x, k: (x * k).sum())
    compiled(mg.ones(2), 2.0)
    compiled(mg.ones(2) * 3, 2.0)
    assert compiled.traces == 1
    compiled(mg.ones(3), 2.0)
    compiled(mg.ones(3, dtype=mg.float32), 2.0)
    compiled(leaf(np.ones(3)), 2.0)
    compiled(mg.ones(3), 5.0)
    assert compiled.traces == 5


def test_a_second_shape_reuses_nothing_of_the_first_plan():
    compiled = mg.compile(lambda x: (x.exp() * 2).sum())
    compiled(mg.ones(2))
    first = compiled.plan
    compiled(mg.ones(3))
    second = compiled.plan
    assert first is not second
    assert not {id(s) for s in first.plan.steps} & {id(s) for s in second.plan.steps}
    assert compiled(mg.ones(2) * 0).item() == 4.0  # the first plan replays as before


def test_a_captured_tensor_changing_dtype_retraces():
    layer = nn.Linear(2, 2)
    compiled = mg.compile(lambda x: layer(x).sum())
    compiled(mg.ones(1, 2))
    layer.float()
    out = compiled(mg.ones(1, 2, dtype=mg.float32))
    assert out.dtype == np.float32 and compiled.traces == 2


def test_the_cache_keeps_only_the_most_recent_plans():
    compiled = mg.compile(lambda x: x.sum(), cache_size=2)
    for n in (1, 2, 3):
        compiled(mg.ones(n))
    assert len(compiled.plans) == 2
    compiled(mg.ones(1))  # evicted: traced again
    assert compiled.traces == 4


def test_compile_works_as_a_decorator_with_and_without_arguments():
    @mg.compile
    def double(x):
        return x * 2

    @mg.compile(cache_size=1)
    def triple(x):
        return x * 3

    assert double(mg.ones(2)).tolist() == [2.0, 2.0] and double.__name__ == "double"
    assert triple(mg.ones(1)).tolist() == [3.0] and triple.cache_size == 1


# ---- what cannot be replayed is refused, naming the function ------------------------------------


@pytest.mark.parametrize(
    ("read", "what"),
    [
        (lambda t: t.sum().item(), r"item\(\)"),
        (lambda t: float(t.sum()), r"item\(\)"),
        (lambda t: t.numpy(), r"numpy\(\)"),
        (lambda t: t.tolist(), r"tolist\(\)"),
        (lambda t: bool(t.sum() > 0), "a comparison"),
        (lambda t: t.argmax(), r"argmax\(\)"),
        (lambda t: F.one_hot(t.to(mg.int64), 3), "one_hot"),
    ],
)
def test_reading_a_tensors_values_for_python_is_refused_naming_the_function(read, what):
    def reads(x):
        read(x)
        return x * 2

    with pytest.raises(RuntimeError, match=rf"compile\(reads\): fn reads .*\({what}"):
        mg.compile(reads)(mg.ones(2))


def test_changing_a_captured_tensor_or_an_argument_in_place_is_refused():
    buffer = mg.zeros(2)

    def bumps(x):
        buffer.add_(1)
        return x + buffer

    with pytest.raises(RuntimeError, match=r"compile\(bumps\): fn changed a tensor of shape"):
        mg.compile(bumps)(mg.ones(2))
    with pytest.raises(RuntimeError, match="given or read from outside in place"):
        mg.compile(lambda x: x.mul_(2))(mg.ones(2))


def test_changing_a_tensor_in_place_outside_the_graph_is_refused():
    def f(x):
        y = x * 2
        with mg.no_grad():
            y.add_(1)
        return y * 3

    with pytest.raises(RuntimeError, match="in place outside the graph"):
        mg.compile(f)(leaf([1.0]))


def test_running_backward_inside_the_function_is_refused():
    w = leaf([1.0])

    def f(x):
        (w * x).sum().backward()
        return x

    with pytest.raises(RuntimeError, match="fn runs backward"):
        mg.compile(f)(mg.ones(1))


def test_bad_arguments_and_results_are_refused():
    with pytest.raises(TypeError, match=r"argument 0 is a ndarray; pass Tensors"):
        mg.compile(lambda x: x)(np.ones(2))
    with pytest.raises(TypeError, match="must return a Tensor or a tuple of Tensors, got float"):
        mg.compile(lambda x: 1.0)(mg.ones(1))
    with pytest.raises(TypeError, match="compile: expected a function"):
        mg.compile(3)
    with pytest.raises(ValueError, match="cache_size must be a positive int"):
        mg.compile(lambda x: x, cache_size=0)


def test_a_replay_names_the_op_whose_forward_fails():
    compiled = mg.compile(lambda x, i: x[i])
    compiled(mg.ones(3), mg.tensor([0, 2]))
    with pytest.raises(IndexError, match="getitem: index 5 is out of bounds"):
        compiled(mg.ones(3), mg.tensor([0, 5]))


def test_in_anomaly_mode_and_inside_another_trace_a_compiled_function_runs_eagerly():
    inner = mg.compile(lambda x: x * 2)
    outer = mg.compile(lambda x: inner(x) + 1)
    assert outer(mg.ones(2)).tolist() == [3.0, 3.0] and inner.traces == 0
    with mg.detect_anomaly():
        inner(mg.ones(2))
    assert inner.traces == 0


# ---- the plan, printed ----------------------------------------------------------------------


def test_a_plan_prints_its_ops_shapes_and_backward_order():
    w = leaf(np.ones((3, 2)))

    def f(x):
        return (x @ w).sigmoid().sum()

    compiled = mg.compile(f)
    compiled(mg.ones(4, 3)).backward()
    compiled(mg.ones(4, 3)).backward()  # the first backward of a replay writes the program
    lines = str(compiled.plan).splitlines()
    assert lines[0] == "plan of f(x: float64[4, 3]): 3 ops"
    assert lines[1] == "  c0: float64[3, 2], read from outside, a parameter (requires grad)"
    assert lines[2].split() == ["v0", "=", "matmul(x,", "c0)", "float64[4,", "2]"]
    assert lines[3].split() == ["v1,", "[v2]", "=", "sigmoid(v0)", "float64[4,", "2]"]
    assert lines[5:] == [
        "  return v3",
        "  backward:",
        "    dv1 = backward of sum(g0)",
        "    dv0 = backward of sigmoid(dv1, None)",
        "    _, dc0 = backward of matmul(dv0)",
        "    return dc0",
    ]


def test_the_generated_code_uses_the_names_of_the_listing():
    w = leaf(np.ones((3, 2)))
    compiled = mg.compile(lambda x: (x @ w).sigmoid().sum())
    for _ in range(2):
        compiled(mg.ones(4, 3)).backward()
    forward = compiled.plan.forward.source
    (backward,) = compiled.plan.generated.values()
    assert "    v0 = _forward_matmul(x, c0)\n" in forward
    assert "    v1, v2 = _forward_sigmoid(v0)\n" in forward
    assert "dv0 = _one(_backward_sigmoid((dv1, None), (v1, v2), _v0_meta))" in backward.source
    assert "_, dc0 = _backward_matmul(dv0, _v0_meta, x, c0, needs_input_grad=(False, True))" in (
        backward.source
    )
    assert backward.source.rstrip().endswith("return [dc0]")


def test_after_its_first_backward_a_plan_runs_a_generated_backward_equal_to_eager():
    w = leaf(np.linspace(-1, 1, 6).reshape(3, 2))
    compiled = mg.compile(lambda x: ((x @ w).tanh() * x[:, :2]).sum())
    results = []
    for _ in range(4):  # trace; first replay (the engine's pass, which writes the code); code
        w.grad = None
        compiled(mg.tensor(np.arange(12.0).reshape(4, 3) / 10)).backward()
        results.append(w.grad.data)
    ((key, backward),) = compiled.plan.generated.items()
    program = compiled.plan.programs[key]
    assert backward.source.startswith("def backward(saved, leaves, g0):")
    rules = [i for i in program.instructions if type(i).__name__ == "Rule"]
    # x needs no gradient: x[:, :2] has no node, and matmul's rule is asked for w's alone
    assert [r.step.name for r in rules] == ["sum", "mul", "tanh", "matmul"]
    assert rules[-1].needs == (False, True)
    assert all(same(results[0], r) for r in results[1:])
