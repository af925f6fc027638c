"""Guards: whatever Python state a compiled function read, changed behind the trace's back,
makes the next call retrace (and equal eager) or raise naming compile(fn); never a stale replay.

Each test changes one thing docs/compile.md's guard table lists, and checks the compiled call
against fn called eagerly.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

LOOPS = 2
SCALE = 1.5
WEIGHT = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
OFFSETS = np.array([0.5, 0.0, -0.5])
SETTINGS = (2, "tanh")


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.data.tobytes() == b.data.tobytes()


def check(compiled, *args, traces, **kwargs):
    """The compiled call equals fn eagerly, and fn was traced ``traces`` times in all."""
    out = compiled(*args, **kwargs)
    assert same(out, compiled.fn(*args, **kwargs))
    assert compiled.traces == traces
    return out


def test_a_global_number_changed_retraces():
    global LOOPS

    def f(x):
        for _ in range(LOOPS):  # the loop is unrolled into the plan
            x = x * 2
        return x

    compiled = mg.compile(f)
    x = mg.tensor([1.0, 2.0])
    check(compiled, x, traces=1)
    check(compiled, x, traces=1)
    LOOPS = 3
    try:
        assert check(compiled, x, traces=2).tolist() == [8.0, 16.0]
    finally:
        LOOPS = 2
    check(compiled, x, traces=2)  # the first plan fits again


def test_a_closure_number_changed_retraces():
    scale = 2.0

    def f(x):
        return x * scale

    compiled = mg.compile(f)
    x = mg.tensor([1.0, 2.0])
    check(compiled, x, traces=1)
    scale = 5.0  # noqa: F841 - read by f through its closure cell
    assert check(compiled, x, traces=2).tolist() == [5.0, 10.0]


def test_a_global_tensor_rebound_retraces():
    global WEIGHT
    compiled = mg.compile(lambda x: (x * WEIGHT).sum())
    x = mg.tensor([1.0, 1.0, 1.0])
    check(compiled, x, traces=1)
    saved = WEIGHT
    WEIGHT = mg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    try:
        assert check(compiled, x, traces=2).item() == 60.0
    finally:
        WEIGHT = saved


def test_a_global_array_changed_in_place_retraces():
    compiled = mg.compile(lambda x: x + OFFSETS)
    x = mg.tensor([1.0, 1.0, 1.0])
    check(compiled, x, traces=1)
    OFFSETS[0] = 7.0
    try:
        assert check(compiled, x, traces=2).tolist() == [8.0, 1.0, 0.5]
    finally:
        OFFSETS[0] = 0.5


def test_a_tuple_of_settings_is_guarded_by_value():
    global SETTINGS

    def f(x):
        n, act = SETTINGS
        for _ in range(n):
            x = getattr(x, act)()
        return x

    compiled = mg.compile(f)
    x = mg.tensor([0.3, -0.2])
    check(compiled, x, traces=1)
    SETTINGS = (2, "tanh")  # an equal tuple: no retrace
    check(compiled, x, traces=1)
    SETTINGS = (1, "sigmoid")
    try:
        check(compiled, x, traces=2)
    finally:
        SETTINGS = (2, "tanh")


def _helper(x):
    return x * SCALE


def test_a_number_read_by_a_helper_function_retraces():
    global SCALE
    compiled = mg.compile(lambda x: _helper(x) + 1)
    x = mg.tensor([2.0])
    check(compiled, x, traces=1)
    SCALE = 4.0
    try:
        assert check(compiled, x, traces=2).tolist() == [9.0]
    finally:
        SCALE = 1.5


def test_a_modules_parameter_replaced_retraces():
    mg.manual_seed(0)
    layer = nn.Linear(3, 2)
    compiled = mg.compile(lambda x: layer(x).sum())
    x = mg.ones(4, 3)
    check(compiled, x, traces=1)
    layer.weight = nn.Parameter(mg.ones(2, 3) * 2)
    out = check(compiled, x, traces=2)
    out.backward()
    assert layer.weight.grad.tolist() == [[4.0] * 3] * 2  # the new parameter gets the gradient


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 3)

    def forward(self, x):
        return self.inner(x).tanh()


def test_a_submodule_swapped_retraces():
    mg.manual_seed(0)
    model = Holder()
    compiled = mg.compile(lambda x: model(x).sum())
    x = mg.ones(2, 3)
    check(compiled, x, traces=1)
    model.inner = nn.Linear(3, 3)
    check(compiled, x, traces=2)


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.factor = 2.0
        self.weight = nn.Parameter(mg.ones(3))

    def forward(self, x):
        return x * self.weight * self.factor


def test_a_modules_number_changed_retraces():
    model = Scaled()
    compiled = mg.compile(lambda x: model(x).sum())
    x = mg.ones(3)
    check(compiled, x, traces=1)
    model.factor = 3.0
    assert check(compiled, x, traces=2).item() == 9.0


def test_dropouts_probability_changed_retraces():
    mg.manual_seed(0)
    drop = nn.Dropout(0.5)
    compiled = mg.compile(lambda x: drop(x).sum())
    x = mg.ones(100)
    compiled(x)
    drop.p = 0.0
    assert compiled(x).item() == 100.0 and compiled.traces == 2


class Step:
    def __init__(self):
        self.scale = 2.0

    def loss(self, x):
        return (x * self.scale).sum()


def test_a_bound_methods_object_attribute_changed_retraces():
    step = Step()
    compiled = mg.compile(step.loss)
    x = mg.ones(2)
    check(compiled, x, traces=1)
    step.scale = 10.0
    assert check(compiled, x, traces=2).item() == 20.0


def test_keyword_arguments_are_part_of_the_signature():
    compiled = mg.compile(
        lambda x, scale=1.0, shift=None: x * scale + (0 if shift is None else shift)
    )
    x = mg.ones(2)
    check(compiled, x, scale=2.0, traces=1)
    check(compiled, x, scale=2.0, traces=1)
    assert check(compiled, x, scale=3.0, traces=2).tolist() == [3.0, 3.0]
    shift = mg.tensor([1.0, 2.0], requires_grad=True)
    out = check(compiled, x, scale=3.0, shift=shift, traces=3)
    out.sum().backward()
    assert shift.grad.tolist() == [1.0, 1.0]
    check(compiled, x, scale=3.0, shift=mg.tensor([5.0, 6.0], requires_grad=True), traces=3)


def test_a_keyword_argument_that_cannot_be_a_constant_is_named():
    with pytest.raises(TypeError, match=r"compile\(<lambda>\): keyword argument 'k' is a list"):
        mg.compile(lambda x, k: x)(mg.ones(1), k=[1])


def test_reading_data_inside_the_function_is_refused():
    def f(x):
        return x * float(x.data[0])

    with pytest.raises(RuntimeError, match=r"compile\(f\): fn reads a tensor's values .*\.data"):
        mg.compile(f)(mg.ones(2))
    assert mg.ones(2).data.tolist() == [1.0, 1.0]  # .data reads normally again afterwards


def test_numpy_reading_a_tensor_inside_the_function_is_refused():
    def f(x):
        return x * np.asarray(x).sum()

    with pytest.raises(RuntimeError, match=r"compile\(f\): fn reads a tensor's values .*asarray"):
        mg.compile(f)(mg.ones(2))


def test_minigrads_own_reads_of_data_are_not_refused():
    import minigrad.functional as F

    compiled = mg.compile(lambda logits, t: F.cross_entropy(logits, t))
    out = compiled(mg.randn(3, 4), mg.tensor([0, 1, 3]))
    assert out.shape == () and compiled.traces == 1


def test_a_plan_whose_guards_fail_stays_in_the_cache_for_when_they_hold_again():
    drop = nn.Dropout(0.2)
    compiled = mg.compile(lambda x: drop(x).sum())
    x = mg.ones(4)
    for training in (True, False, True, False):
        drop.train(training)
        compiled(x)
    assert compiled.traces == 2 and len(compiled.plans) == 1
