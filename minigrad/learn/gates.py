"""Module 4, gates: the LSTM cell's backward, the GRU cell's, and the forget gate's carry path.

The cells are graded with PyTorch's recorded gradients for nn.LSTMCell and
nn.GRUCell (learn/data/pytorch.npz, copied from tests/fixtures/torch_reference.npz),
and where PyTorch recorded none (the gradients of the incoming state), with
the engine's own; a second case of other sizes is graded by the engine alone.
The carry path is graded by the engine's gradient of c_t with respect to c_k
when the gates read the state detached, so that only the carry path is left.
"""

import itertools

import numpy as np

from .by_hand import gru_gates, lstm_gates
from .checks import array_text, compare
from .exercise import Exercise
from .grading import Failure, Mistake, case, find
from .through_time import DATA, TOLERANCE

TITLE = "Gates"
GRADER = "by PyTorch's recorded gradients for its LSTM and GRU cells, and the engine's"
OPTIONAL = False

WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _torch_case(name, keys):
    """PyTorch's record of one cell: its arguments, and the gradients it recorded."""
    ref = np.load(DATA, allow_pickle=False)
    args = {"x": ref[f"{name}/input"], "h": ref[f"{name}/state_in0"]}
    if name == "LSTMCell":
        args["c"] = ref[f"{name}/state_in1"]
    args.update({w: ref[f"{name}/state/{w}"] for w in WEIGHTS})
    args["dh_next"] = ref[f"{name}/weight0"]
    if name == "LSTMCell":
        args["dc_next"] = ref[f"{name}/weight1"]
    grads = {k: ref[f"{name}/grad/{'input' if k == 'input' else k}"] for k in keys}
    return args, grads, str(ref["torch_version"])


def _random_case(kind, n, i, h, seed):
    rng = np.random.default_rng(seed)
    gates = {"LSTMCell": 4, "GRUCell": 3}[kind] * h
    args = {"x": rng.standard_normal((n, i)), "h": rng.standard_normal((n, h))}
    if kind == "LSTMCell":
        args["c"] = rng.standard_normal((n, h))
    args.update(
        weight_ih=rng.uniform(-1, 1, (gates, i)),
        weight_hh=rng.uniform(-1, 1, (gates, h)),
        bias_ih=rng.uniform(-1, 1, gates),
        bias_hh=rng.uniform(-1, 1, gates),
    )
    args["dh_next"] = rng.standard_normal((n, h))
    if kind == "LSTMCell":
        args["dc_next"] = rng.standard_normal((n, h))
    return args


def engine_gradients(kind, args):
    """The engine's gradients of L = Σ dh_next ⊙ h' (+ Σ dc_next ⊙ c') for one step of the
    package's nn.LSTMCell or nn.GRUCell with these weights."""
    import minigrad as mg

    from .. import nn

    n, i = args["x"].shape
    cell = getattr(nn, kind)(i, args["h"].shape[1])
    with mg.no_grad():
        for w in WEIGHTS:
            getattr(cell, w).copy_(args[w])
    x, h = mg.tensor(args["x"], requires_grad=True), mg.tensor(args["h"], requires_grad=True)
    if kind == "LSTMCell":
        c = mg.tensor(args["c"], requires_grad=True)
        h_new, c_new = cell(x, (h, c))
        loss = (h_new * mg.tensor(args["dh_next"])).sum() + (
            c_new * mg.tensor(args["dc_next"])
        ).sum()
    else:
        loss = (cell(x, h) * mg.tensor(args["dh_next"])).sum()
    loss.backward()
    found = {
        "input": x.grad.data,
        "h": h.grad.data,
        **{w: getattr(cell, w).grad.data for w in WEIGHTS},
    }
    if kind == "LSTMCell":
        found["c"] = c.grad.data
    return found


def _check_result(mine, want, variants):
    """Each gradient of ``want`` ({name: array}) in the learner's dict, in ``want``'s order."""
    if not isinstance(mine, dict):
        raise Failure(
            [
                f"yours returned a {type(mine).__name__}; return a dict with the keys "
                f"{', '.join(want)}"
            ]
        )
    for key, expected in want.items():
        if key not in mine:
            raise Failure([f"yours has no {key!r}; return a dict with the keys {', '.join(want)}"])
        got = np.asarray(getattr(mine[key], "data", mine[key]), dtype=np.float64)
        if got.shape == np.shape(expected)[::-1] and got.ndim == 2 and got.shape[0] != got.shape[1]:
            raise Failure(
                [f"∂L/∂{key}: yours has shape {got.shape}, expected {np.shape(expected)}"],
                TRANSPOSED_WEIGHT,
            )
        compare(f"∂L/∂{key}", got, expected, variants.get(key, ()))


TRANSPOSED_WEIGHT = Mistake(
    "a weight's gradient transposed",
    "W_ih is (gates·H, I), so ∂L/∂W_ih = ∂L/∂aᵀ x: (gates·H, N) times (N, I); the same for W_hh",
)
GATE_ORDER = Mistake(
    "the gates in another order",
    "PyTorch stacks the LSTM's gates i, f, g, o (the GRU's r, z, n) along the first axis of "
    "the weights and biases, and the gradients follow the same order",
)


def _permuted_blocks(expected, blocks):
    """``expected`` with its ``blocks`` equal blocks in every other order."""
    parts = np.split(np.asarray(expected), blocks, axis=0)
    orders = itertools.permutations(range(blocks))
    return [
        np.concatenate([parts[k] for k in order])
        for order in orders
        if list(order) != sorted(order)
    ]


# ---- the LSTM cell -------------------------------------------------------------------------------

FORGET_LEFT_OUT = Mistake(
    "the LSTM's cell-state gradient without the forget gate",
    "c' = f ⊙ c + i ⊙ g, so ∂c'/∂c = diag(f): ∂L/∂c is ∂L/∂c' ⊙ f. That factor is the carry "
    "path the forget gate keeps open (or closes)",
)
THROUGH_H_LEFT_OUT = Mistake(
    "∂L/∂c' through h' left out",
    "c' reaches L directly (dc_next) and through h' = o ⊙ tanh(c'): ∂L/∂c' in all is "
    "dc_next + dh_next ⊙ o ⊙ (1 − tanh²c')",
)
DIRECT_LEFT_OUT = Mistake(
    "∂L/∂c' given directly left out",
    "c' is carried to the next step, which gives its gradient, dc_next: add it to what comes "
    "through h'",
)
TANH_SLOPE_LEFT_OUT = Mistake(
    "tanh' left out on the way from h' to c'",
    "h' = o ⊙ tanh(c'): ∂h'/∂c' = o ⊙ (1 − tanh²c')",
)
LSTM_KEYS = ("c", "bias_ih", "bias_hh", "weight_ih", "weight_hh", "input", "h")


def grade_lstm(namespace):
    backward = find(namespace, "lstm_cell_backward")
    cases = _two_cases("LSTMCell", "h and c", seed=11)
    _grade_cases(backward, cases, "LSTMCell", LSTM_KEYS, _lstm_variants)
    return [
        f"lstm_cell_backward, to {TOLERANCE:g}: ∂L/∂ x, h, c and the four weights, for two cells;",
        "  the first against PyTorch's recorded gradients (the engine's for h and c, which PyTorch "
        "did not record), the second against the engine's.",
    ]


def _two_cases(cell, engine_for, seed):
    """A cell's two cases, (text, args, wanted gradients): nn.<cell>(3, 4) with N = 2, graded
    by PyTorch's recorded gradients (the engine's for the states ``engine_for``, which PyTorch
    did not record), and a random cell (I = 2, H = 3, N = 3) graded by the engine's."""
    args, torch, version = _torch_case(cell, ("input", *WEIGHTS))
    recorded = (
        f"nn.{cell}(3, 4), N = 2: PyTorch's gradients (torch {version}), and the engine's "
        f"for {engine_for}"
    )
    return [
        (recorded, args, {**engine_gradients(cell, args), **torch}),
        ("I = 2, H = 3, N = 3: the engine's gradients", _random_case(cell, 3, 2, 3, seed), None),
    ]


def _grade_cases(backward, cases, cell, keys, variants):
    """Run the learner's ``backward`` on each (text, args, wanted gradients) case of ``cell``,
    the engine's gradients where none are given, and compare the ``keys``, naming the typical
    mistakes that ``variants(args, want)`` describes."""
    for i, (text, args, want) in enumerate(cases, 1):
        want = want or engine_gradients(cell, args)
        with case(f"case {i} of {len(cases)}: {text}"):
            mine = backward(**{k: np.array(v) for k, v in args.items()})
            _check_result(mine, {k: want[k] for k in keys}, variants(args, want))


def _lstm_variants(args, want):
    weights = [args[w] for w in WEIGHTS]
    i, f, g, o, c_new = lstm_gates(args["x"], args["h"], args["c"], *weights)
    dh, dc = args["dh_next"], args["dc_next"]
    through_h = dh * o * (1 - np.tanh(c_new) ** 2)
    orders = _permuted_blocks(want["bias_ih"], 4)
    return {
        "c": [
            (FORGET_LEFT_OUT, "∂L/∂c' (no ⊙ f)", dc + through_h),
            (THROUGH_H_LEFT_OUT, "dc_next ⊙ f", dc * f),
            (DIRECT_LEFT_OUT, "(dh_next ⊙ o ⊙ (1 − tanh²c')) ⊙ f", through_h * f),
            (TANH_SLOPE_LEFT_OUT, "(dc_next + dh_next ⊙ o) ⊙ f", (dc + dh * o) * f),
        ],
        "bias_ih": [(GATE_ORDER, "the gates' gradients in another order", v) for v in orders],
    }


# ---- the GRU cell --------------------------------------------------------------------------------

PATHS_LEFT_OUT = Mistake(
    "∂L/∂h through the gates left out",
    "h' = (1 − z) ⊙ n + z ⊙ h reads h directly, and through r, z and n, which all read "
    "h W_hhᵀ: ∂L/∂h = dh_next ⊙ z + (the gates' gradients) W_hh",
)
R_LEFT_OUT = Mistake(
    "r left out of h_n's gradient",
    "n = tanh(x_n + r ⊙ h_n) with h_n = h W_hnᵀ + b_hn inside r ⊙ (...): the gradients of "
    "W_hn and b_hn carry the factor r, those of W_in and b_in do not",
)
Z_SWAPPED = Mistake(
    "z and 1 − z swapped",
    "PyTorch's GRU keeps the old state with z: h' = (1 − z) ⊙ n + z ⊙ h",
)
GRU_KEYS = ("bias_ih", "bias_hh", "weight_ih", "weight_hh", "input", "h")


def grade_gru(namespace):
    backward = find(namespace, "gru_cell_backward")
    cases = _two_cases("GRUCell", "h", seed=12)
    _grade_cases(backward, cases, "GRUCell", GRU_KEYS, _gru_variants)
    return [
        f"gru_cell_backward, to {TOLERANCE:g}: ∂L/∂ x, h and the four weights, for two cells;",
        "  the first against PyTorch's recorded gradients (the engine's for h, which PyTorch did "
        "not record), the second against the engine's.",
    ]


def _gru_variants(args, want):
    r, z, n, h_n = gru_gates(args["x"], args["h"], *(args[w] for w in WEIGHTS))
    dh = args["dh_next"]
    d_n = dh * (1 - n**2)
    swapped = np.concatenate(
        [d_n * z * h_n * r * (1 - r), dh * (n - args["h"]) * z * (1 - z), d_n * z], axis=-1
    )
    hidden = want["bias_hh"].copy()
    hidden[2 * len(hidden) // 3 :] = want["bias_ih"][2 * len(hidden) // 3 :]
    return {
        "h": [(PATHS_LEFT_OUT, "dh_next ⊙ z alone", dh * z)],
        "bias_ih": [
            (Z_SWAPPED, "h' = z ⊙ n + (1 − z) ⊙ h", swapped.sum(axis=0)),
            *(
                (GATE_ORDER, "the gates' gradients in another order", v)
                for v in _permuted_blocks(want["bias_ih"], 3)
            ),
        ],
        "bias_hh": [(R_LEFT_OUT, "b_hn's gradient without ⊙ r", hidden)],
    }


# ---- the forget gate's carry path ----------------------------------------------------------------

SUMMED = Mistake(
    "the forget gates summed",
    "each step multiplies the carried state by its forget gate: ∂c_t/∂c_k is the product "
    "f_{k+1} ⊙ ⋯ ⊙ f_t",
)
ONE_MINUS = Mistake(
    "1 − f for f",
    "c_s = f_s ⊙ c_{s−1} + i_s ⊙ g_s: f is the part kept, not the part forgotten",
)
RANGE = Mistake(
    "the product over the wrong steps",
    "from c_k to c_t the state passes steps k + 1, ..., t: the forget gates f_{k+1}, ..., f_t, "
    "rows k to t − 1 of forget_gates",
)
NOT_DIAGONAL = Mistake(
    "the whole matrix for its diagonal",
    "the Jacobian diag(∏ f) is diagonal: return its diagonal, shape (H,)",
)


def grade_forget_gate(namespace):
    carry_gain = find(namespace, "carry_gain")
    rng = np.random.default_rng(5)
    gates = rng.uniform(0.05, 0.95, (5, 3))
    cases = [(gates, 1, 4), (gates, 0, 5), (gates, 2, 2)]
    n = len(cases) + 1
    for i, (f, k, t) in enumerate(cases, 1):
        with case(f"case {i} of {n}: k = {k}, t = {t}, forget_gates = {array_text(f)}"):
            _check_gain(carry_gain(f.copy(), k, t), np.prod(f[k:t], axis=0), f, k, t)
    with case(
        f"case {n} of {n}: an nn.LSTMCell over 40 steps, forget bias 3: the engine's "
        "∂c_40/∂c_10 with the gates reading h detached"
    ):
        f, measured = _carry_path(40, 10)
        _check_gain(carry_gain(f.copy(), 10, 40), measured, f, 10, 40)
    kept = float(np.mean(measured))
    return [
        f"carry_gain, to {TOLERANCE:g}: against ∏ f worked out by hand for three (k, t), and "
        "against the engine's ∂c_40/∂c_10 along the carry path of an LSTM cell.",
        f"  Over those 30 steps the carry path keeps {kept:.3g} of c_10 (the mean of ∏ f); a "
        f"σ-RNN's gradient is bounded by (γλ₁)^30 = {0.25**30:.2g} for λ₁ = 1.",
    ]


def _check_gain(mine, want, f, k, t):
    mine = np.asarray(getattr(mine, "data", mine), dtype=np.float64)
    if mine.shape == (len(want), len(want)):
        raise Failure([f"yours has shape {mine.shape}, expected ({len(want)},)"], NOT_DIAGONAL)
    variants = [
        (SUMMED, "Σ f", np.sum(f[k:t], axis=0)),
        (ONE_MINUS, "∏ (1 − f)", np.prod(1 - f[k:t], axis=0)),
        *(
            (RANGE, f"∏ of rows {a} to {b - 1}", np.prod(f[a:b], axis=0))
            for a, b in ((k - 1, t), (k, t + 1), (k + 1, t), (k - 1, t - 1), (0, len(f)))
            if a >= 0
        ),
    ]
    compare("∂c_t/∂c_k", mine, want, variants)


def _carry_path(steps, k):
    """An LSTM cell whose gates read the state detached, run over ``steps`` steps: its forget
    gates, (steps, H), and the engine's ∂(Σ c_steps)/∂c_k, (H,)."""
    import minigrad as mg

    from .. import nn

    mg.manual_seed(0)
    cell = nn.LSTMCell(2, 3)
    with mg.no_grad():
        cell.bias_ih[3:6] = 3.0  # the forget gate's bias (gates i, f, g, o)
    h, c, forget = mg.zeros(1, 3), mg.zeros(1, 3), []
    xs = mg.randn(steps, 1, 2)
    weights = [getattr(cell, w).data for w in WEIGHTS]
    for s in range(steps):
        if s == k:
            c = c.detach().requires_grad_()
            start = c
        forget.append(lstm_gates(xs.data[s], h.data, c.data, *weights)[1][0])
        h, c = cell(xs[s], (h.detach(), c))
    c.sum().backward()
    return np.array(forget), start.grad.data[0]


EXERCISES = [
    Exercise(
        id="lstm-cell",
        title="the LSTM cell's backward",
        asks="by_hand.lstm_cell_backward: every gradient of one step, by hand",
        source="minigrad.learn.by_hand",
        units=("lstm_cell_backward",),
        task="""\\
Write lstm_cell_backward: the gradients of one LSTM step, by hand, given ∂L/∂h' and ∂L/∂c'.
lstm_gates (imported above) runs the step forward and gives the gates and c'. The
engine never writes this out: it composes the ops' rules. PyTorch's numbers grade it.""",
        write="return the dict of ∂L/∂ input, h, c and the four weights",
        hints=(
            "Start at c': it reaches L directly (dc_next) and through h' = o ⊙ tanh(c'): "
            "dc = dc_next + dh_next ⊙ o ⊙ (1 − tanh²c').",
            "c' = f ⊙ c + i ⊙ g gives ∂L/∂c = dc ⊙ f, ∂L/∂f = dc ⊙ c, ∂L/∂i = dc ⊙ g, ∂L/∂g = "
            "dc ⊙ i; and ∂L/∂o = dh_next ⊙ tanh(c'). Then through each gate's activation: σ' = "
            "σ(1 − σ), tanh' = 1 − tanh².",
            "Stack the four pre-activation gradients in the order i, f, g, o into da, (N, 4H): "
            "∂L/∂x = da W_ih, ∂L/∂h = da W_hh, ∂L/∂W_ih = daᵀ x, ∂L/∂W_hh = daᵀ h, and both "
            "biases get da summed over the batch.",
        ),
        grade=grade_lstm,
    ),
    Exercise(
        id="gru-cell",
        title="the GRU cell's backward",
        asks="by_hand.gru_cell_backward: the gate inside r ⊙ (...) included",
        source="minigrad.learn.by_hand",
        units=("gru_cell_backward",),
        task="""\\
Write gru_cell_backward: the gradients of one GRU step, by hand, given ∂L/∂h'. gru_gates
(imported above) runs the step forward and gives r, z, n and h_n = h W_hnᵀ + b_hn, which
sits inside r ⊙ (...): that is where the GRU differs from the LSTM. PyTorch's numbers
grade it.""",
        write="return the dict of ∂L/∂ input, h and the four weights",
        hints=(
            "h' = (1 − z) ⊙ n + z ⊙ h: ∂L/∂n = dh ⊙ (1 − z), ∂L/∂z = dh ⊙ (h − n), and h gets "
            "dh ⊙ z directly.",
            "n = tanh(a_n), a_n = x_n + r ⊙ h_n: ∂L/∂a_n = ∂L/∂n ⊙ (1 − n²); then ∂L/∂r = "
            "∂L/∂a_n ⊙ h_n and ∂L/∂h_n = ∂L/∂a_n ⊙ r. r and z go through σ' = σ(1 − σ).",
            "The input side gets (d_r, d_z, ∂L/∂a_n), the hidden side (d_r, d_z, ∂L/∂a_n ⊙ r), "
            "each stacked in the order r, z, n: the weights' gradients are their products with "
            "x and h, the biases' their sums, and ∂L/∂h adds the hidden side times W_hh.",
        ),
        grade=grade_gru,
    ),
    Exercise(
        id="forget-gate",
        title="the forget gate keeps the carry path open",
        asks="by_hand.carry_gain: ∂c_t/∂c_k along the carry path",
        source="minigrad.learn.by_hand",
        units=("carry_gain",),
        task="""\\
Write carry_gain(forget_gates, k, t): how much of the LSTM's cell state c_k reaches c_t
along the carry path c_s = f_s ⊙ c_{s−1} + i_s ⊙ g_s, the gates' inputs held fixed: the
diagonal of ∂c_t/∂c_k. The grader compares it with what the engine measures through
40 steps of a real cell, and puts it beside the σ-RNN's bound: that is why gates help.""",
        write="return ∏ f_s over s = k + 1, ..., t, as an (H,) array",
        hints=(
            "One step: ∂c_s/∂c_{s−1} = diag(f_s), since i_s ⊙ g_s does not read c_{s−1}.",
            "From k to t: the product of the diagonals, f_{k+1} ⊙ ⋯ ⊙ f_t; f_s is row s − 1 of "
            "forget_gates, so rows k to t − 1.",
        ),
        grade=grade_forget_gate,
    ),
]
