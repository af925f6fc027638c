"""The passes over a plan: the exact ones keep every bit, and say what they did; the
reassociating ones (``compile(fn, exact=False)``) keep results within 1e-12 relative in float64
and 1e-5 in float32 of eager's, over the op table and the CharRNN configurations."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.models import CharRNN
from minigrad.testing import Problem, assert_close
from spec.op_table import ROWS

from .test_compile import MODELS, same

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def _rnn_step(T=6, model="rnn", dtype=np.float64):
    mg.manual_seed(0)
    net = CharRNN(11, 4, 6, model=model, nonlinearity="sigmoid" if model == "rnn" else "tanh")
    if dtype == np.float32:
        net.float()

    def step(tokens, targets):
        logits, _ = net(tokens)
        return F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))

    rng = np.random.default_rng(0)
    batches = [tuple(mg.tensor(rng.integers(0, 11, (T, 3))) for _ in range(2)) for _ in range(3)]
    return net, step, batches


def _loss_and_grads(net, fn, tokens, targets):
    net.zero_grad()
    loss = fn(tokens, targets)
    loss.backward()
    return [loss.data] + [p.grad.data.copy() for p in net.parameters()]


# ---- the exact passes ---------------------------------------------------------------------------


def test_the_exact_passes_run_and_say_what_they_changed():
    net, step, batches = _rnn_step()
    compiled = mg.compile(step)
    for tokens, targets in batches:
        _loss_and_grads(net, compiled, tokens, targets)
    notes = {p.name: p.note for p in compiled.plan.passes}
    assert notes["dead_steps"].startswith("removed 1 step(s) nothing reads: v")  # final state
    assert "stack(...)" in notes["dead_steps"]
    assert notes["free_temporaries"].startswith("dropped ")
    (program,) = compiled.plan.programs.values()
    in_place, freed = program.notes
    assert in_place.name == "accumulate_in_place" and in_place.kind == "exact"
    assert str(in_place).startswith("accumulate_in_place (exact): 4 sum(s) into a buffer")
    assert str(freed).startswith("free_gradients (exact): ")
    assert "    del dv" in next(iter(compiled.plan.generated.values())).source


def test_the_raw_listing_shows_the_plan_before_the_passes():
    net, step, batches = _rnn_step()
    compiled = mg.compile(step)
    compiled(*batches[0])
    raw, final = compiled.plan.raw.splitlines(), str(compiled.plan).splitlines()
    assert raw[0].endswith(": 38 ops") and final[0].endswith(": 37 ops")
    (gone,) = [line for line in raw[1:] if line not in final]  # the final state, which no one reads
    assert gone.split()[:3] == ["v32", "=", "stack(v29,"]


def test_a_value_backward_reads_is_kept_and_one_it_does_not_is_dropped_after_its_last_reader():
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    compiled = mg.compile(lambda x: ((x * 2).exp() + 1).sigmoid().sum())
    compiled(x)
    forward = compiled.plan.forward.source
    # v0 = x * 2 is read by exp alone, whose rule reads its output: v0 goes once exp ran
    assert "v1 = _forward_exp(v0)\n    del v0\n" in forward
    assert "return (v5,), (v1, v3, v4)" in forward  # exp's output, the sigmoid's pair


def test_in_place_sums_give_the_bits_of_new_arrays():
    net, step, batches = _rnn_step(T=12)
    eager = [_loss_and_grads(net, step, *b) for b in batches]
    compiled = mg.compile(step)
    for b, expected in zip(batches, eager):
        got = _loss_and_grads(net, compiled, *b)
        assert all(same(mg.tensor(a), mg.tensor(e)) for a, e in zip(got, expected))
    (program,) = compiled.plan.programs.values()
    assert sum(getattr(i, "into", False) for i in program.instructions) == 10


# ---- the reassociating passes -------------------------------------------------------------------

CASES = [(row, case) for row in ROWS for case in row.cases]


@pytest.mark.parametrize(
    ("row", "case"), CASES, ids=[f"{row.op}-{i}" for i, (row, _) in enumerate(CASES)]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_op_compiled_not_exactly_equals_eager_within_the_tolerance(row, case, dtype):
    p = Problem(row, case)
    compiled = mg.compile(lambda *xs: p.run(xs), exact=False)
    for call in range(3):
        tensors = p.tensors(dtype)
        out = compiled(*tensors)
        v = mg.tensor(np.random.default_rng(call).standard_normal(out.shape).astype(out.dtype))
        got = mg.grad(out, [tensors[k] for k in p.diff], v, allow_unused=True)
        tensors = p.tensors(dtype)
        eager = p.run(tensors)
        expected = mg.grad(eager, [tensors[k] for k in p.diff], v, allow_unused=True)
        assert_close(out.data, eager.data, TOLERANCE[dtype], f"{row.op} value")
        for g, e in zip(got, expected):
            if e is not None:
                assert_close(g.data, e.data, TOLERANCE[dtype], f"{row.op} gradient")


def _training(model_name, **options):
    mg.manual_seed(0)
    model = MODELS[model_name]()

    def step(tokens, targets):
        logits, _ = model(tokens)
        return F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))

    run = mg.compile(step, **options) if options else step
    rng = np.random.default_rng(0)
    results = []
    for _ in range(3):
        tokens, targets = (mg.tensor(rng.integers(0, 11, (5, 3))) for _ in range(2))
        results.append(_loss_and_grads(model, run, tokens, targets))
    return results


@pytest.mark.parametrize("model_name", MODELS)
def test_a_training_step_compiled_not_exactly_equals_eager_within_the_tolerance(model_name):
    eager, fast = _training(model_name), _training(model_name, exact=False)
    for step_eager, step_fast in zip(eager, fast):
        for e, g in zip(step_eager, step_fast):
            assert_close(g, e, 1e-12, model_name)


def test_not_exactly_the_recurrent_weights_gradient_is_one_stacked_product():
    net, step, batches = _rnn_step(T=6)
    compiled = mg.compile(step, exact=False)
    results = [_loss_and_grads(net, compiled, *b) for b in batches]
    eager = [_loss_and_grads(net, step, *b) for b in batches]
    (program,) = compiled.plan.programs.values()
    notes = [str(n) for n in program.notes]
    assert notes[0] == "stack_products (reassociating): dv6: 6 per-step products as one"
    # the states and gradients of the 6 steps, in the order backward reached them
    assert "dv6 = _stacked_product((v26, v23, v20, v17, v14, v1,), (dv28, dv25, dv22, dv19, " in (
        next(iter(compiled.plan.generated.values())).source
    )
    for got, expected in zip(results, eager):
        for g, e in zip(got, expected):
            assert_close(g, e, 1e-12, "stacked")


def test_not_exactly_per_step_products_with_one_matrix_become_one_product():
    mg.manual_seed(0)
    w_ih, w_hh = mg.randn(3, 5, requires_grad=True), mg.randn(5, 5, requires_grad=True)

    def loop(x):  # written step by step, as a user might
        h = mg.zeros(2, 5)
        for x_t in x.unbind(0):
            h = (x_t @ w_ih + h @ w_hh * 0.5).tanh()
        return h.sum()

    compiled = mg.compile(loop, exact=False)
    x = mg.randn(7, 2, 3, requires_grad=True)
    for _ in range(2):
        for t in (w_ih, w_hh, x):
            t.grad = None
        out = compiled(x)
        out.backward()
    got = [out.data, w_ih.grad.data, w_hh.grad.data, x.grad.data]
    for t in (w_ih, w_hh, x):
        t.grad = None
    eager = loop(x)
    eager.backward()
    expected = [eager.data, w_ih.grad.data, w_hh.grad.data, x.grad.data]
    notes = [str(p) for p in compiled.plan.passes]
    assert notes[0] == "batch_projections (reassociating): 7 products x[t] @ w_ih as one" or (
        notes[0].startswith("batch_projections (reassociating): 7 products")
    )
    assert "matmul(x, c0)" in str(compiled.plan)
    for g, e in zip(got, expected):
        assert_close(g, e, 1e-12, "batched")


def test_not_exactly_every_call_comes_from_the_plan_the_first_too():
    net, step, batches = _rnn_step()
    first = _loss_and_grads(net, mg.compile(step, exact=False), *batches[0])
    again = _loss_and_grads(net, mg.compile(step, exact=False), *batches[0])
    assert all(same(mg.tensor(a), mg.tensor(b)) for a, b in zip(first, again))


def test_exact_must_be_a_bool():
    with pytest.raises(TypeError, match="compile: exact must be True or False, got 'no'"):
        mg.compile(lambda x: x, exact="no")


_ = nn  # the CharRNN configurations come from test_compile.MODELS


def test_a_replay_reuses_freed_memory_instead_of_faulting_pages_in_again():
    resource = pytest.importorskip("resource")
    from minigrad.compiler.memory import keep_freed_memory

    if not keep_freed_memory():
        pytest.skip("the C library is not glibc")
    net, step, batches = _rnn_step(T=64)
    big = [(mg.tensor(np.tile(t.data, (1, 40))), mg.tensor(np.tile(y.data, (1, 40))))
           for t, y in batches]  # fmt: skip
    compiled = mg.compile(step)
    for tokens, targets in big * 2:
        _loss_and_grads(net, compiled, tokens, targets)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for tokens, targets in big * 2:
        _loss_and_grads(net, compiled, tokens, targets)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 50
