"""Module 3, backpropagation through time by hand: the step Jacobian, the recursion, the bound,
and clipping that keeps the direction.

The graders are independent of the code they grade: the step Jacobian is
compared with the engine's Jacobian of one step (``autograd.jacobian``); the
recursion with the chain rule summed over every path, ∂J/∂z_t =
act'(z_t) ⊙ Σ_{s≥t} (J_s ⋯ J_{t+1})ᵀ ∂J/∂h_s, and with the engine's gradients
of a σ-RNN; the bound with (γλ₁)^d worked out by hand and with the norms the
engine measures; clipping with PyTorch's recorded numbers.
"""

from pathlib import Path

import numpy as np

from .checks import array_text, compare
from .exercise import Exercise
from .grading import Failure, Mistake, case, find

TITLE = "Backpropagation through time by hand"
GRADER = "by BPTT derived by hand, the engine's Jacobians and gradients, and PyTorch's numbers"
OPTIONAL = False
TOLERANCE = 1e-12


# ---- the step Jacobian ---------------------------------------------------------------------------

ROWS_NOT_COLUMNS = Mistake(
    "diag(act'(z)) on the wrong side",
    "h_t = act(z_t) unit by unit, so row i of the Jacobian, ∂h_t[i]/∂h_{t−1}, is act'(z_t[i]) "
    "times row i of W_hh: the slope scales rows, slope[:, None] * W_hh",
)
NO_SLOPE = Mistake(
    "act' left out",
    "∂h_t/∂h_{t−1} = diag(act'(z_t)) W_hh: the activation's derivative at z_t multiplies W_hh",
)
ACT_FOR_SLOPE = Mistake(
    "the activation for its derivative",
    "the slope is act'(z_t) (activation_derivative), not act(z_t), which is h_t",
)
TRANSPOSED = Mistake(
    "W_hh transposed",
    "z_t = … + h_{t−1} W_hhᵀ, so ∂z_t[i]/∂h_{t−1}[j] = W_hh[i, j]: W_hh as it is",
)
OTHER_SLOPE = Mistake(
    "one nonlinearity's slope for every cell",
    "the cell's nonlinearity is cell.nonlinearity (sigmoid, tanh or relu); "
    "activation_derivative(nonlinearity, z) takes it",
)


def grade_step_jacobian(namespace):
    import minigrad as mg

    from .. import nn, theory

    step_jacobian = find(namespace, "step_jacobian")
    cases = [("sigmoid", False), ("tanh", False), ("relu", False), ("sigmoid", True)]
    for i, (kind, module) in enumerate(cases, 1):
        mg.manual_seed(i)
        model = nn.RNN(2, 3, nonlinearity=kind) if module else nn.RNNCell(2, 3, nonlinearity=kind)
        cell = theory._cell(model)
        x, h = mg.tensor([0.5, -1.0]), mg.tensor([0.3, -0.6, 0.9])
        what = f"a one-layer nn.RNN, {kind}" if module else f"an nn.RNNCell(2, 3), {kind}"
        with case(
            f"case {i} of {len(cases)}: {what}: x = {array_text(x.data)}, h = {array_text(h.data)}"
        ):
            want = mg.autograd.jacobian(lambda state, cell=cell, x=x: cell(x, state), h).data
            mine = step_jacobian(model, x, h)
            compare("∂h_t/∂h_{t−1}", mine, want, _step_variants(cell, x, h))
    return [
        f"step_jacobian, against the engine's Jacobian of one step (autograd.jacobian): "
        f"{len(cases)} cells, float64, to {TOLERANCE:g}:",
        "  σ, tanh and relu RNNCells, and a one-layer nn.RNN.",
    ]


def _step_variants(cell, x, h):
    from .. import theory

    w = cell.weight_hh.data
    z = theory.preactivation(cell, x, h).data
    slope = theory.activation_derivative(cell.nonlinearity, z)
    others = [theory.activation_derivative(k, z) for k in theory.GAMMA if k != cell.nonlinearity]
    return [
        (ROWS_NOT_COLUMNS, "W_hh·diag(act'(z))", w * slope[None, :]),
        (NO_SLOPE, "W_hh", w),
        (ACT_FOR_SLOPE, "diag(act(z))·W_hh", theory.activation(cell.nonlinearity, z)[:, None] * w),
        (TRANSPOSED, "diag(act'(z))·W_hhᵀ", slope[:, None] * w.T),
        *((OTHER_SLOPE, "another nonlinearity's slope", s[:, None] * w) for s in others),
    ]


# ---- the backward recursion ----------------------------------------------------------------------

NOT_CARRIED = Mistake(
    "the gradient from later steps left out",
    "h_t reaches J through step t's output and through z_{t+1}: the total gradient at h_t adds "
    "what comes back from step t + 1, carried = d_z[t + 1] @ W_hh",
)
SLOPE_ON_OWN_ONLY = Mistake(
    "act' applied to step t's own gradient only",
    "d_z[t] = (d_h_out[t] + carried) ⊙ act'(z_t): the slope multiplies the total gradient at "
    "h_t, what is carried back included",
)
CARRIED_TRANSPOSED = Mistake(
    "W_hh transposed in what is carried",
    "z_{t+1} = … + h_t W_hhᵀ, so ∂J/∂h_t through it is the row d_z[t + 1] times W_hh "
    "(d_z[t + 1] @ W_hh)",
)
FORWARD_IN_TIME = Mistake(
    "the recursion run forward in time",
    "the last step has no later step to hear from, the first hears from all of them: start at "
    "t = T and go back to t = 1",
)


def grade_bptt(namespace):
    backward_through_time = find(namespace, "backward_through_time")
    rng = np.random.default_rng(7)
    small = (
        np.array([[[1.5, -0.5]]]),
        np.array([[[0.2, 0.1]]]),
        np.array([[0.5, -1.0], [2.0, 0.5]]),
    )
    larger = (
        rng.standard_normal((5, 2, 3)),
        rng.uniform(0.01, 0.25, (5, 2, 3)),
        rng.standard_normal((3, 3)),
    )
    cases = [("one step, B = 1, H = 2", small), ("T = 5, B = 2, H = 3", larger)]
    for i, (text, (d_h_out, slope, w_hh)) in enumerate(cases, 1):
        with case(f"case {i} of 3: {text}: slope in (0, 1/4], W_hh = {array_text(w_hh)}"):
            mine = backward_through_time(d_h_out.copy(), slope.copy(), w_hh.copy())
            compare(
                "d_z",
                mine,
                by_paths(d_h_out, slope, w_hh),
                _recursion_variants(d_h_out, slope, w_hh),
            )
    with case(
        "case 3 of 3: a σ-RNN, T = 6, B = 2, H = 4, J = Σ_t ⟨w_t, h_t⟩: the engine's ∂J/∂z_t"
    ):
        d_h_out, slope, w_hh, want = _sigma_rnn()
        mine = backward_through_time(d_h_out.copy(), slope.copy(), w_hh.copy())
        compare("d_z", mine, want, _recursion_variants(d_h_out, slope, w_hh))
    return [
        f"backward_through_time, to {TOLERANCE:g}: against the chain rule summed over every path, "
        "∂J/∂z_t = act'(z_t) ⊙ Σ_{s≥t} (J_s ⋯ J_{t+1})ᵀ ∂J/∂h_s,",
        "  for T = 1 and T = 5; and against the engine's ∂J/∂z_t for a σ-RNN of 6 steps.",
    ]


def by_paths(d_h_out, slope, w_hh):
    """∂J/∂z_t without a recursion: act'(z_t) ⊙ Σ_{s≥t} (J_s ⋯ J_{t+1})ᵀ d_h_out[s], each
    product J_u = diag(act'(z_u)) W_hh multiplied out for every pair (t, s)."""
    T, B, H = slope.shape
    d_z = np.zeros((T, B, H))
    for b in range(B):
        for t in range(T):
            product, total = np.eye(H), np.zeros(H)
            for s in range(t, T):
                if s > t:
                    product = (slope[s, b][:, None] * w_hh) @ product  # J_s ⋯ J_{t+1}
                total += product.T @ d_h_out[s, b]
            d_z[t, b] = slope[t, b] * total
    return d_z


def _recursion(d_h_out, slope, w_hh, carry=True, slope_all=True, transpose=False, forward=False):
    """The recursion, and the typical mistakes made in it (the flags)."""
    d_z, carried = np.empty_like(slope), np.zeros_like(slope[0])
    for t in range(len(slope)) if forward else range(len(slope) - 1, -1, -1):
        own = d_h_out[t] * slope[t]
        d_z[t] = (d_h_out[t] + carried) * slope[t] if slope_all else own + carried
        if carry:
            carried = d_z[t] @ (w_hh.T if transpose else w_hh)
    return d_z


def _recursion_variants(d_h_out, slope, w_hh):
    args = (d_h_out, slope, w_hh)
    return [
        (NOT_CARRIED, "d_h_out ⊙ act'(z) alone", _recursion(*args, carry=False)),
        (SLOPE_ON_OWN_ONLY, "d_h_out[t] ⊙ act'(z_t) + carried", _recursion(*args, slope_all=False)),
        (CARRIED_TRANSPOSED, "carried = d_z[t + 1] @ W_hhᵀ", _recursion(*args, transpose=True)),
        (FORWARD_IN_TIME, "the recursion from t = 1 up", _recursion(*args, forward=True)),
    ]


def _sigma_rnn():
    """A σ-RNN run by the engine: d_h_out, the slopes, W_hh, and the engine's ∂J/∂z_t."""
    import minigrad as mg

    rng = np.random.default_rng(3)
    T, B, H, I = 6, 2, 4, 3
    w_ih, w_hh = mg.tensor(rng.standard_normal((H, I))), mg.tensor(rng.standard_normal((H, H)))
    readout = rng.standard_normal((T, B, H))
    h, zs, hs = mg.zeros(B, H), [], []
    for t in range(T):
        z = mg.tensor(rng.standard_normal((B, I))) @ w_ih.T + h @ w_hh.T
        z = z.detach().requires_grad_() if t == 0 else z
        z.retain_grad()
        h = z.sigmoid()
        zs.append(z)
        hs.append(h.data)
    sum((mg.tensor(w) * z.sigmoid()).sum() for w, z in zip(readout, zs)).backward()
    slope = np.stack([s * (1 - s) for s in hs])
    return readout, slope, w_hh.data, np.stack([z.grad.data for z in zs])


# ---- the bound -----------------------------------------------------------------------------------

NO_GAMMA = Mistake(
    "γ left out",
    "each step's factor is at most γ·λ₁, γ = max act' (1/4 for the sigmoid): the bound is "
    "(γλ₁)^d, gamma(nonlinearity) gives γ",
)
GAMMA_OUTSIDE = Mistake(
    "γ outside the power",
    "every one of the d steps multiplies by at most γλ₁, so γ is raised to the power d too: "
    "(γλ₁)^d",
)
LINEAR = Mistake(
    "a product for a power",
    "d steps multiply d factors: (γλ₁)^d, not γλ₁·d",
)
A_LIST = Mistake(
    "a list of distances",
    "distance may be a number, a list or an array: np.asarray(distance) makes it an array, "
    "and the power is taken entry by entry",
)
NOT_A_BOUND = Mistake(
    "a bound that is not an upper bound",
    "‖∂h_t/∂h_k‖₂ ≤ ∏ ‖diag(act')‖₂ ‖W_hh‖₂ ≤ (γλ₁)^(t−k): the bound must be at least every "
    "norm the engine measures",
)
GAMMAS = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0}  # max act': σ'(0) = 1/4, tanh'(0) = 1


def grade_bound(namespace):
    bound = find(namespace, "bound")
    cases = [
        ("sigmoid", 2.0, 3, None),
        ("tanh", 0.9, np.arange(6), None),
        ("relu", 1.5, [0, 1, 10], A_LIST),
        ("sigmoid", 3.0, np.array([[1, 2], [3, 4]]), None),
    ]
    n = len(cases) + 1
    for i, (kind, lam, d, on_error) in enumerate(cases, 1):
        with case(f"case {i} of {n}: bound({kind!r}, {lam}, {d!r})"):
            try:
                mine = bound(kind, lam, d)
            except (TypeError, ValueError) as error:
                error.learn_mistake = on_error
                raise
            compare("the bound", mine, _bound(kind, lam, d), _bound_variants(kind, lam, d))
    with case(
        f"case {n} of {n}: a σ-RNN with λ₁ = 3 (γλ₁ = 0.75), 8 steps: the norms the engine measures"
    ):
        _check_above_the_measured(bound)
    return [
        f"bound, against (γλ₁)^d worked out by hand (γ = 1/4 for σ, 1 for tanh and relu), to "
        f"{TOLERANCE:g}: {len(cases)} cases, d a number, an array, a list and a matrix;",
        "  and above every ‖∂h_T/∂h_k‖₂ the engine measures in a σ-RNN (theory.jacobian_norms).",
    ]


def _bound(kind, lam, d):
    return (GAMMAS[kind] * lam) ** np.asarray(d, dtype=np.float64)


def _bound_variants(kind, lam, d):
    d, gamma = np.asarray(d, dtype=np.float64), GAMMAS[kind]
    return [
        (NO_GAMMA, "λ₁^d", lam**d),
        (GAMMA_OUTSIDE, "γ·λ₁^d", gamma * lam**d),
        (LINEAR, "γλ₁·d", gamma * lam * d),
    ]


def _check_above_the_measured(bound):
    import minigrad as mg

    from .. import nn, theory

    mg.manual_seed(0)
    cell = nn.RNNCell(4, 4, nonlinearity="sigmoid")
    with mg.no_grad():
        cell.weight_hh.copy_(theory.recurrent_matrix(4, lambda1=3.0, orthogonal=False))
    measured = theory.jacobian_norms(cell, mg.randn(8, 4))[::-1]  # by distance T − k
    mine = np.asarray(bound("sigmoid", 3.0, np.arange(9)), dtype=np.float64)
    below = np.flatnonzero(mine < measured * (1 - 1e-12))
    if below.size:
        d = int(below[0])
        raise Failure(
            [
                f"at distance {d} yours is {mine[d]:.6g}, below ‖∂h_T/∂h_(T−{d})‖₂ = "
                f"{measured[d]:.6g}, which the engine measured"
            ],
            NOT_A_BOUND,
        )


# ---- clipping ------------------------------------------------------------------------------------

DATA = Path(__file__).resolve().parent / "data" / "pytorch.npz"
CLIP_CASES = ("ordinary", "below", "inf_norm", "one_norm", "three_norm", "has_inf", "has_nan")

PER_PARAMETER = Mistake(
    "each parameter clipped separately instead of by the global norm",
    "clipping treats all the gradients as one vector: one total norm, one factor for all, so "
    "the joint step keeps its direction; a factor per parameter turns it",
)
SCALED_UP = Mistake(
    "gradients below the threshold scaled up",
    "the factor is min(1, max_norm / (total + 1e-6)): a gradient already short enough is left "
    "as it is",
)
NO_EPSILON = Mistake(
    "the 1e-6 left out",
    "PyTorch's factor, and minigrad's, is max_norm / (total + 1e-6), as the docstring says",
)
NORM_TYPE_IGNORED = Mistake(
    "norm_type ignored",
    "the total is the norm_type-norm of the gradients (inf: the largest |entry|); "
    "get_total_norm(grads, norm_type) computes it",
)
VALUE_CLIPPING = Mistake(
    "each entry clamped",
    "that is clip_grad_value_, which changes the direction; clip_grad_norm_ scales every "
    "gradient by one factor",
)
TOTAL_AFTER = Mistake(
    "the norm after clipping returned",
    "return the total norm from before clipping: a training loop logs it, and sees from it "
    "whether the step was clipped, or not finite",
)
NOT_IN_PLACE = Mistake(
    ".grad replaced, not changed in place",
    "multiply each .grad in place (g.mul_(factor), under no_grad()): an optimiser, or anyone "
    "holding the gradient, sees the change",
)
GENERATOR = Mistake(
    "the parameters read twice",
    "parameters may be a generator (model.parameters()), empty the second time it is read: "
    "make it a list once (_as_list)",
)
NOT_REFUSED = Mistake(
    "a non-finite total not refused",
    "with error_if_nonfinite=True, a NaN or inf total raises RuntimeError before any gradient "
    "is touched (get_total_norm(..., error_if_nonfinite) does it)",
)


def grade_clip(namespace):
    import minigrad as mg

    clip = find(namespace, "clip_grad_norm_")
    ref = np.load(DATA, allow_pickle=False)
    n = len(CLIP_CASES) + 3
    for i, name in enumerate(CLIP_CASES, 1):
        grads = [ref[f"clip/{name}/in{k}"] for k in range(2)]
        max_norm, norm_type = (
            float(ref[f"clip/{name}/max_norm"]),
            float(ref[f"clip/{name}/norm_type"]),
        )
        with case(
            f"case {i} of {n}: gradients {array_text(grads[0])} and {array_text(grads[1])}, "
            f"max_norm = {max_norm:g}, norm_type = {norm_type:g}; PyTorch's results"
        ):
            _check_clip(clip, grads, max_norm, norm_type, ref, name)
    with case(f"case {n - 2} of {n}: a generator of parameters, one of them without a .grad"):
        _check_generator(clip, mg)
    with case(f"case {n - 1} of {n}: error_if_nonfinite=True with an inf gradient"):
        _check_refusal(clip, mg)
    with case(f"case {n} of {n}: the direction of the joint gradient"):
        _check_direction(clip, mg)
    return [
        f"clip_grad_norm_, against PyTorch's recorded numbers (torch {ref['torch_version']}), to "
        f"{TOLERANCE:g}: {len(CLIP_CASES)} cases, the 2-, 1-, 3- and inf-norms, inf and NaN;",
        "  .grad changed in place, a generator, a parameter without .grad, error_if_nonfinite, "
        "and the direction kept.",
    ]


def _parameters(grads):
    import minigrad as mg

    from .. import nn

    params = [nn.Parameter(np.zeros(len(g))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = mg.tensor(np.array(g, dtype=np.float64))
    return params


def _check_clip(clip, grads, max_norm, norm_type, ref, name):
    params = _parameters(grads)
    before = [p.grad for p in params]
    with np.errstate(all="ignore"):
        total = clip(params, max_norm, norm_type=norm_type)
        variants = _clip_variants(grads, max_norm, norm_type)
    for k, p in enumerate(params):
        if p.grad is not before[k]:
            raise Failure([f"parameter {k}'s .grad is a new tensor"], NOT_IN_PLACE)
        options = [(v[0], v[1], v[2 + k]) for v in variants]
        compare(f"parameter {k}'s .grad", p.grad, ref[f"clip/{name}/grad{k}"], options)
    compare(
        "the total norm returned",
        total,
        ref[f"clip/{name}/total"],
        [(TOTAL_AFTER, "the norm after clipping", variants[0][4])],
    )


def _clip_variants(grads, max_norm, norm_type):
    """(Mistake, formula, clipped gradient 0, clipped gradient 1, and for the first: the norm
    after clipping)."""
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    total = _norm(np.concatenate(grads), norm_type)
    factor = min(1.0, max_norm / (total + 1e-6))
    clipped = [g * factor for g in grads]
    each = [g * min(1.0, max_norm / (_norm(g, norm_type) + 1e-6)) for g in grads]
    two = _norm(np.concatenate(grads), 2.0)
    return [
        (
            TOTAL_AFTER,
            "the norm after clipping",
            *clipped,
            _norm(np.concatenate(clipped), norm_type),
        ),
        (PER_PARAMETER, "a factor per parameter", *each),
        (
            SCALED_UP,
            "max_norm / (total + 1e-6) without min(1, ·)",
            *(g * max_norm / (total + 1e-6) for g in grads),
        ),
        (NO_EPSILON, "max_norm / total", *(g * min(1.0, max_norm / total) for g in grads)),
        (
            NORM_TYPE_IGNORED,
            "the 2-norm's factor",
            *(g * min(1.0, max_norm / (two + 1e-6)) for g in grads),
        ),
        (
            VALUE_CLIPPING,
            "each entry clamped to ±max_norm",
            *(np.clip(g, -max_norm, max_norm) for g in grads),
        ),
    ]


def _norm(a, p):
    a = np.abs(np.asarray(a, dtype=np.float64))
    return float(a.max()) if p == np.inf else float(np.sum(a**p) ** (1 / p))


NONE_GRAD = Mistake(
    "a parameter without a gradient not skipped",
    "a parameter that took no part in the loss has .grad None: leave it out of the norm and "
    "of the scaling",
)


def _check_generator(clip, mg):
    params = _parameters([[3.0, 4.0], [12.0], [1.0]])
    params[2].grad = None
    try:
        total = clip((p for p in params), 1.0)
    except AttributeError as error:
        error.learn_mistake = NONE_GRAD
        raise
    compare("the total norm returned", total, 13.0)
    factor = 1.0 / (13.0 + 1e-6)
    for k, g in enumerate(([3.0, 4.0], [12.0])):
        compare(
            f"parameter {k}'s .grad",
            params[k].grad,
            np.array(g) * factor,
            [(GENERATOR, "the gradients untouched", np.array(g))],
        )
    if params[2].grad is not None:
        raise Failure(["the parameter without a .grad got one"], NONE_GRAD)


def _check_refusal(clip, mg):
    params = _parameters([[np.inf, 1.0], [2.0]])
    try:
        with np.errstate(all="ignore"):
            clip(params, 1.0, error_if_nonfinite=True)
    except RuntimeError:
        pass
    else:
        raise Failure(["no RuntimeError for a total norm of inf"], NOT_REFUSED)
    compare(
        "parameter 1's .grad, after the refusal",
        params[1].grad,
        np.array([2.0]),
        [(NOT_REFUSED, "a gradient touched before the refusal", params[1].grad.data)],
    )


def _check_direction(clip, mg):
    grads = [[0.3, -2.0, 1.1], [4.0, 0.5]]
    params = _parameters(grads)
    clip(params, 1.0)
    before = np.concatenate([np.asarray(g) for g in grads])
    after = np.concatenate([p.grad.data for p in params])
    cosine = after @ before / (np.linalg.norm(after) * np.linalg.norm(before))
    if not abs(cosine - 1) <= 1e-12:
        angle = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
        raise Failure(
            [f"the joint gradient turned by {angle:.3g} degrees (cosine {cosine:.12f})"],
            PER_PARAMETER,
        )
    compare(
        "the joint gradient's norm",
        np.linalg.norm(after),
        1.0 / (1 + 1e-6 / np.linalg.norm(before)),
    )


# ---- the exercises -------------------------------------------------------------------------------

EXERCISES = [
    Exercise(
        id="step-jacobian",
        title="the step Jacobian diag(σ'(z)) W_hh",
        asks="theory.step_jacobian, the factor BPTT multiplies once per step",
        source="minigrad.theory",
        units=("step_jacobian",),
        task="""\
Write step_jacobian(model, x, h): the Jacobian ∂h_t/∂h_{t−1} of one step of an RNN cell,
h_t = act(z_t), z_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh, at (x, h), as an (H, H)
numpy array. BPTT multiplies one of these per step, which is why gradients vanish or
explode. The helpers the real code uses are imported above.""",
        write="return diag(act'(z_t)) W_hh at (x, h), an (H, H) array",
        hints=(
            "_rnn_cell(model) gives the cell (of a one-layer module too); preactivation(cell, x, "
            "h) gives z_t; activation_derivative(cell.nonlinearity, z) gives act'(z_t).",
            "Row i of the Jacobian is ∂h_t[i]/∂h_{t−1} = act'(z_t[i]) · W_hh[i, :]: the slope "
            "scales the rows, slope[:, None] * W_hh.",
            "Work on arrays: cell.weight_hh.data, and z under no_grad() (nothing here is to be "
            "differentiated).",
        ),
        grade=grade_step_jacobian,
    ),
    Exercise(
        id="bptt",
        title="the backward recursion",
        asks="by_hand.backward_through_time, the loop at the heart of BPTT",
        source="minigrad.learn.by_hand",
        units=("backward_through_time",),
        task="""\
Write backward_through_time(d_h_out, slope, w_hh): BPTT's backward recursion, as
spec/bptt_reference.py runs it, for h_t = act(z_t) and z_t = … + h_{t−1} W_hhᵀ. Given
each step's gradient through its own output and act'(z_t), return ∂J/∂z_t for every
step. Every weight's gradient follows from it in one product.""",
        write="return d_z, (T, B, H): ∂J/∂z_t, from t = T back to t = 1",
        hints=(
            "The total gradient at h_t, g_t, is d_h_out[t] plus what comes back through "
            "z_{t+1}: (∂z_{t+1}/∂h_t)ᵀ ∂J/∂z_{t+1}. At t = T nothing comes back.",
            "z_{t+1} = … + h_t W_hhᵀ, so what comes back is the row d_z[t + 1] @ W_hh.",
            "Loop t from T − 1 down to 0: d_z[t] = (d_h_out[t] + carried) * slope[t], then "
            "carried = d_z[t] @ w_hh.",
        ),
        grade=grade_bptt,
    ),
    Exercise(
        id="bound",
        title="the bound (γλ₁)^d",
        asks="theory.bound: how fast the gradient from d steps away can shrink",
        source="minigrad.theory",
        units=("bound",),
        task="""\
Write bound(nonlinearity, lambda1, distance): the upper bound (γλ₁)^d on ‖∂h_t/∂h_k‖₂ for
t − k = d, where γ = max act' (gamma(nonlinearity)) and λ₁ is W_hh's largest singular
value. distance may be a number, a list or an array. The grader checks your bound
against the norms the engine measures in a σ-RNN, too.""",
        write="return (γλ₁)^distance, γ = gamma(nonlinearity), for any array of distances",
        hints=(
            "Each step's Jacobian diag(act'(z)) W_hh has 2-norm at most γ·λ₁: ‖diag(act')‖₂ is "
            "the largest act', at most γ, and ‖W_hh‖₂ = λ₁.",
            "The norm of a product is at most the product of the norms: d steps give (γλ₁)^d.",
            "np.asarray(distance, dtype=np.float64) makes a list or a number an array.",
        ),
        grade=grade_bound,
    ),
    Exercise(
        id="clip",
        title="clipping that keeps the direction",
        asks="nn.utils.clip_grad_norm_, as PyTorch's",
        source="minigrad.nn.utils.clip_grad",
        units=("clip_grad_norm_",),
        task="""\
Write clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
scale every gradient by one factor, so that their total norm is at most max_norm, in
place; return the total from before. The grader compares with PyTorch's numbers for the
same cases, inf and NaN gradients included.""",
        write="one factor, min(1, max_norm / (total + 1e-6)), for every .grad, in place",
        hints=(
            "_as_list(parameters) once; the gradients are p.grad for those that have one.",
            "get_total_norm(grads, norm_type, error_if_nonfinite) is the norm of all of them as "
            "one vector, as a 0-d Tensor (it raises for a non-finite total if asked to).",
            "factor = min(1, max_norm / (total + 1e-6)); multiply each gradient in place under "
            "no_grad() (g.mul_(factor)), and return the total. A NaN factor stays NaN: "
            "min(nan, 1) would not.",
        ),
        grade=grade_clip,
    ),
]
