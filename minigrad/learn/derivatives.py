"""Module 1, derivatives as rules: the ops' backward rules, and summing a broadcast gradient back.

Each rule is graded by ``rules.py``: SymPy's exact derivatives on chosen cases, the typical
mistakes computed on the same case, and the second derivative.
"""

import numpy as np

from .checks import array_text, first_wrong, same
from .exercise import Exercise
from .grading import Failure, Mistake, case, find
from .rules import TOLERANCE, Point, Rule, Wrong, exact_vjp, grader, lifted, need_sympy

TITLE = "Derivatives as rules"
GRADER = "by SymPy's exact derivatives (SymPy comes with the spec extra)"
OPTIONAL = False


def sympy_sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), as spec/op_table.py defines it."""
    return 1 / (1 + need_sympy().exp(-x))


def _sigma(x):
    return 1 / (1 + np.exp(-x))


def _samplers(*ranges):
    from ..testing import Uniform

    return tuple(Uniform(lo, hi) for lo, hi in ranges)


FORGOT_GRAD = Mistake(
    "the incoming gradient left out",
    "a rule returns ∂L/∂x = ∂L/∂z · dz/dx: multiply by the gradient it is given, as the chain "
    "rule says",
)

SIGMOID = Rule(
    cls="Sigmoid",
    reference=lifted(sympy_sigmoid),
    scalar=sympy_sigmoid,
    names=("x",),
    expected=("σ(x)·(1 − σ(x))",),
    points=(
        Point((0.5,)),
        Point((np.array([-2.0, -0.5, 1.0, 3.0]),), cotangent=np.array([0.3, -1.2, 0.8, 2.0])),
        Point(
            (np.linspace(-6, 6, 12).reshape(3, 4),),
            cotangent=np.linspace(1.5, -1.0, 12).reshape(3, 4),
        ),
        Point((40.0,), note="a large x: σ'(40) = 4.2e-18, and σ(40) rounds to 1 in float64"),
    ),
    second=(((4,),), {}, _samplers((-6, 6))),
    wrongs=(
        Wrong(
            Mistake(
                "a sign",
                "the derivative is σ(x)·(1 − σ(x)), and 1 − σ(x) is σ(−x): the "
                "hidden output c that forward keeps",
            ),
            "σ(x)·(1 + σ(x))",
            lambda x, v: [v * _sigma(x) * (1 + _sigma(x))],
        ),
        Wrong(
            FORGOT_GRAD,
            "σ(x)·(1 − σ(x)), not multiplied by ∂L/∂z",
            lambda x, v: [_sigma(x) * _sigma(-x)],
        ),
        Wrong(
            Mistake(
                "the function for its derivative",
                "σ(x) itself is the output; the rule needs its derivative, σ(x)·(1 − σ(x))",
            ),
            "σ(x)",
            lambda x, v: [v * _sigma(x)],
        ),
        Wrong(
            Mistake(
                "the input read as the output",
                "the rule's x is the input; σ(x) is outs[0] (z), and σ(−x) is outs[1] (c)",
            ),
            "x·(1 − x)",
            lambda x, v: [v * x * (1 - x)],
        ),
        Wrong(
            Mistake(
                "1 − σ(x) cancelling to 0",
                "σ(40) rounds to 1 in float64, so 1 − σ(x) is 0 "
                "and the gradient is lost; c = σ(−x) = outs[1] is the same number, exact: "
                "use z·c, as the docstring says",
            ),
            "0 for large x",
            lambda x, v: [v * _sigma(x) * (1 - _sigma(x))],
        ),
    ),
    second_advice=Mistake(
        "c's gradient left out",
        "when your rule reads c = outs[1] and is itself differentiated (create_graph=True), c "
        "gets a gradient too, grads[1]: it reaches x as −dc·z·c (dc/dx = −z·c, the docstring's "
        "last sentence). Use dz − dc, where either may be None",
    ),
)


def _tanh(x):
    return need_sympy().tanh(x)


def _exp(x):
    return need_sympy().exp(x)


def _log(x):
    return need_sympy().log(x)


def _fixed(seed, *shapes, lo=-3.0, hi=3.0):
    """Values for a case, the same every time: uniform on [lo, hi], to two decimals."""
    rng = np.random.default_rng(seed)
    return tuple(np.round(rng.uniform(lo, hi, shape), 2) for shape in shapes)


THE_INPUT_READ_AS_THE_OUTPUT = "the input read as the output"

TANH = Rule(
    cls="Tanh",
    reference=lifted(_tanh),
    scalar=_tanh,
    names=("x",),
    expected=("1 − tanh²x = 1 − z²",),
    points=(
        Point((0.5,)),
        Point((np.array([-2.0, -0.5, 1.0, 3.0]),), cotangent=np.array([0.3, -1.2, 0.8, 2.0])),
        Point(_fixed(1, (3, 4)), cotangent=_fixed(2, (3, 4))[0]),
    ),
    second=(((4,),), {}, _samplers((-3, 3))),
    wrongs=(
        Wrong(
            Mistake(
                THE_INPUT_READ_AS_THE_OUTPUT,
                "the rule's x is the input; tanh x is the output z, and dz/dx = 1 − z²",
            ),
            "1 − x²",
            lambda x, v: [v * (1 - x * x)],
        ),
        Wrong(
            Mistake("a sign", "d/dx tanh x = 1 − tanh²x"),
            "1 + z²",
            lambda x, v: [v * (1 + np.tanh(x) ** 2)],
        ),
        Wrong(
            Mistake("the square left out", "d/dx tanh x = 1 − tanh²x: z times z"),
            "1 − z",
            lambda x, v: [v * (1 - np.tanh(x))],
        ),
        Wrong(FORGOT_GRAD, "1 − z², not multiplied by ∂L/∂z", lambda x, v: [1 - np.tanh(x) ** 2]),
        Wrong(
            Mistake(
                "the function for its derivative",
                "the output z is tanh x itself; the rule needs its derivative, 1 − z²",
            ),
            "tanh x",
            lambda x, v: [v * np.tanh(x)],
        ),
    ),
)

EXP = Rule(
    cls="Exp",
    reference=lifted(_exp),
    scalar=_exp,
    names=("x",),
    expected=("eˣ = z",),
    points=(
        Point((0.5,)),
        Point((np.array([-2.0, -0.5, 1.0, 3.0]),), cotangent=np.array([0.3, -1.2, 0.8, 2.0])),
        Point(_fixed(3, (3, 4)), cotangent=_fixed(4, (3, 4))[0]),
    ),
    second=(((4,),), {}, _samplers((-3, 3))),
    wrongs=(
        Wrong(
            Mistake("the derivative of x", "d/dx eˣ is eˣ, the output z, not 1"),
            "1",
            lambda x, v: [v * np.ones_like(x)],
        ),
        Wrong(
            Mistake("the input for the output", "d/dx eˣ = eˣ: the output z, not x"),
            "x",
            lambda x, v: [v * x],
        ),
        Wrong(FORGOT_GRAD, "eˣ, not multiplied by ∂L/∂z", lambda x, v: [np.exp(x)]),
    ),
)

LOG = Rule(
    cls="Log",
    reference=lifted(_log),
    scalar=_log,
    names=("x",),
    expected=("1/x",),
    points=(
        Point((2.0,)),
        Point((np.array([0.5, 1.0, 2.0, 4.0]),), cotangent=np.array([0.3, -1.2, 0.8, 2.0])),
        Point(_fixed(5, (3, 4), lo=0.1, hi=5.0), cotangent=_fixed(6, (3, 4))[0]),
    ),
    second=(((4,),), {}, _samplers((0.1, 5))),
    wrongs=(
        Wrong(
            Mistake("multiplied, not divided", "d/dx ln x = 1/x: divide the gradient by x"),
            "x",
            lambda x, v: [v * x],
        ),
        Wrong(
            Mistake(
                "divided by the output", "the rule's z is ln x; d/dx ln x = 1/x reads the input x"
            ),
            "1/ln x",
            lambda x, v: [v / np.log(x)],
        ),
        Wrong(
            Mistake("one derivative too many", "−1/x² is the derivative of 1/x; ln's is 1/x"),
            "−1/x²",
            lambda x, v: [-v / (x * x)],
        ),
        Wrong(FORGOT_GRAD, "1/x, not multiplied by ∂L/∂z", lambda x, v: [1 / x]),
        Wrong(
            Mistake(
                "the function for its derivative",
                "ln x is the output; the rule needs its derivative, 1/x",
            ),
            "ln x",
            lambda x, v: [v * np.log(x)],
        ),
    ),
)

BINARY_POINTS = (
    Point((2.0, -3.0)),
    Point(
        (np.array([1.5, -2.0, 0.5, 3.0]), np.array([2.0, -0.5, 1.5, -3.0])),
        cotangent=np.array([0.3, -1.2, 0.8, 2.0]),
    ),
    Point(
        (_fixed(7, (3, 4))[0], np.array([1.5, -2.5, 0.5, 2.0])),
        cotangent=_fixed(8, (3, 4))[0],
        note="y broadcast over the rows",
    ),
    Point(
        (np.array([[1.0], [-2.0], [0.5]]), np.array([[2.5, -1.5, 0.5, 3.0]])),
        cotangent=_fixed(9, (3, 4))[0],
        note="(3, 1) against (1, 4)",
    ),
)


def _out(*values, v):
    """The inputs broadcast to the output's shape (the cotangent's)."""
    return [np.broadcast_to(x, np.shape(v)) for x in values]


MUL = Rule(
    cls="Mul",
    reference=lambda X, Y: X * Y,
    names=("x", "y"),
    expected=("∂L/∂z·y", "∂L/∂z·x"),
    points=BINARY_POINTS,
    second=(((3, 1), (1, 4)), {}, _samplers((-3, 3), (-3, 3))),
    wrongs=(
        Wrong(
            Mistake(
                "each input's gradient read from itself",
                "z = x·y, so ∂z/∂x = y and ∂z/∂y = x: each gradient reads the other input",
            ),
            "∂L/∂z·x for x and ∂L/∂z·y for y",
            lambda x, y, v: [v * x, v * y],
        ),
        Wrong(FORGOT_GRAD, "y and x, not multiplied by ∂L/∂z", lambda x, y, v: _out(y, x, v=v)),
    ),
)

NONZERO_Y = _samplers((-3, 3))[0].__class__(avoid=(0.0,), margin=0.3)

DIV = Rule(
    cls="Div",
    reference=lambda X, Y: X / Y,
    names=("x", "y"),
    expected=("∂L/∂z/y", "−∂L/∂z·x/y²"),
    points=BINARY_POINTS,
    second=(((3, 1), (1, 4)), {}, (*_samplers((-3, 3)), NONZERO_Y)),
    wrongs=(
        Wrong(
            Mistake("the minus sign left out", "x/y = x·y⁻¹, and d/dy y⁻¹ = −y⁻²"),
            "+∂L/∂z·x/y² for y",
            lambda x, y, v: [v / y, v * x / (y * y)],
        ),
        Wrong(
            Mistake("x left out of ∂z/∂y", "∂(x/y)/∂y = −x/y²: the numerator stays"),
            "−∂L/∂z/y² for y",
            lambda x, y, v: [v / y, -v / (y * y)],
        ),
        Wrong(
            Mistake("one y too few", "∂(x/y)/∂y = −x/y², y squared"),
            "−∂L/∂z·x/y for y",
            lambda x, y, v: [v / y, -v * x / y],
        ),
        Wrong(
            Mistake("multiplied, not divided", "∂(x/y)/∂x = 1/y: divide the gradient by y"),
            "∂L/∂z·y for x",
            lambda x, y, v: [v * y, -v * x / (y * y)],
        ),
    ),
)

ONE_D = Mistake(
    "a 1-D operand taken as it is",
    "a 1-D x acts as a row (1, n) and a 1-D y as a column (n, 1), as the docstring says: reshape "
    "x, y and G to those matrix forms, use the matrix rule, and give each gradient back its "
    "input's shape",
)
BATCH = Mistake(
    "a batch of matrices",
    "with a batch, the matrices are the last two axes: transpose those two only (x.mT, or "
    "x.swapaxes(-1, -2)), not with .T, which reverses every axis; the engine sums a broadcast "
    "batch of a gradient back to its input's shape for you",
)
NO_TRANSPOSE = Mistake(
    "a missing transpose",
    "for z = x·y, ∂L/∂x = G·yᵀ and ∂L/∂y = xᵀ·G (G = ∂L/∂z): check the shapes, G is (n, m), "
    "x (n, k), y (k, m)",
)


def _matrix_point(seed, x_shape, y_shape, on_error=None, note=""):
    x, y = _fixed(seed, x_shape, y_shape)
    out = np.matmul(x, y)
    return Point((x, y), cotangent=_fixed(seed + 100, out.shape)[0], on_error=on_error, note=note)


MATMUL = Rule(
    cls="Matmul",
    reference=lambda X, Y: np.matmul(X, Y),
    names=("x", "y"),
    expected=("G·yᵀ (G = ∂L/∂z)", "xᵀ·G (G = ∂L/∂z)"),
    points=(
        _matrix_point(10, (3, 3), (3, 3), NO_TRANSPOSE, "square matrices"),
        _matrix_point(11, (2, 3), (3, 4), NO_TRANSPOSE),
        _matrix_point(12, (3,), (3,), ONE_D, "two vectors: z is their dot product"),
        _matrix_point(13, (2, 3), (3,), ONE_D),
        _matrix_point(14, (3,), (3, 2), ONE_D),
        _matrix_point(15, (2, 2, 3), (3, 4), BATCH, "a batch of x sharing y"),
        _matrix_point(16, (2, 2, 3), (2, 3, 2), BATCH),
        _matrix_point(17, (2, 1, 2, 3), (3, 3, 2), BATCH, "batches broadcast"),
        _matrix_point(18, (3,), (2, 3, 2), (ONE_D), "a vector against a batch"),
    ),
    second=(((2, 3), (3, 4)), {}, _samplers((-3, 3), (-3, 3))),
    wrongs=(
        Wrong(NO_TRANSPOSE, "G·y for x", lambda x, y, v: [v @ y, x.T @ v]),
        Wrong(NO_TRANSPOSE, "x·G for y", lambda x, y, v: [v @ y.T, x @ v]),
        Wrong(
            Mistake(
                "the factors in the wrong order",
                "matrix products do not commute: "
                "∂L/∂x = G·yᵀ has G on the left, where x stood in x·y, and ∂L/∂y = xᵀ·G "
                "has it on the right",
            ),
            "yᵀ·G for x and G·xᵀ for y",
            lambda x, y, v: [y.T @ v, v @ x.T],
        ),
    ),
)


def sympy_logsumexp(X, axis=None, keepdims=False):
    """ln Σ eˣ over ``axis``, on object arrays (spec/op_table.py's row)."""
    from ..testing.symbolic import reduce_along

    sp = need_sympy()
    return reduce_along(X, axis, keepdims, lambda xs: sp.log(sp.Add(*map(sp.exp, xs))))


def _softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _unreduced(v, x, axis, keepdims):
    """∂L/∂z with the reduced axes put back as axes of length 1."""
    if keepdims or axis is None and np.ndim(v) == 0:
        return v
    axes = (axis,) if isinstance(axis, int) else axis
    return np.expand_dims(v, tuple(a % np.ndim(x) for a in axes))


NOT_PUT_BACK = Mistake(
    "∂L/∂z not put back over the reduced axes",
    "z lacks the reduced axes (unless keepdims=True): reshape ∂L/∂z so that they are there with "
    "length 1 (as _unreduce does), and it broadcasts against x along the right axes",
)

LOGSUMEXP = Rule(
    cls="Logsumexp",
    reference=sympy_logsumexp,
    names=("x",),
    expected=("softmax(x) along the axis, times ∂L/∂z put back over it",),
    points=(
        Point((np.array([0.5, -1.0, 2.0, 0.0]),)),
        Point(_fixed(20, (3, 3)), {"axis": 1}, np.array([0.5, -1.5, 2.0]), on_error=NOT_PUT_BACK),
        Point(_fixed(21, (3, 3)), {"axis": 0}, np.array([1.5, 0.5, -2.0]), on_error=NOT_PUT_BACK),
        Point(
            _fixed(22, (2, 3)),
            {"axis": 1, "keepdims": True},
            np.array([[0.5], [-2.0]]),
            on_error=NOT_PUT_BACK,
        ),
        Point(
            _fixed(23, (2, 3, 2)),
            {"axis": (0, 2)},
            np.array([1.5, -0.5, 2.5]),
            on_error=NOT_PUT_BACK,
        ),
        Point((np.array([800.0, 801.0, 799.0]),), note="e^800 overflows float64"),
    ),
    second=(((2, 3),), {"axis": 1}, _samplers((-3, 3))),
    wrongs=(
        Wrong(
            Mistake("eˣ not divided by Σ eˣ", "∂/∂x ln Σ eˣ = eˣ / Σ eˣ = e^(x − z): softmax"),
            "∂L/∂z·eˣ",
            lambda x, v, axis=None, keepdims=False: [_unreduced(v, x, axis, keepdims) * np.exp(x)],
        ),
        Wrong(
            NOT_PUT_BACK,
            "∂L/∂z broadcast along the last axis",
            lambda x, v, axis=None, keepdims=False: [v * _softmax(x, axis)],
        ),
        Wrong(
            Mistake(
                "eˣ overflowing",
                "e^800 is inf in float64, and inf/inf is NaN: use "
                "e^(x − z), or shift by the max first (the forward's m), or "
                "e^(log_softmax(x)) as the real code does",
            ),
            "NaN",
            lambda x, v, axis=None, keepdims=False: [
                _unreduced(v, x, axis, keepdims) * np.exp(x) / np.exp(x).sum(axis, keepdims=True)
            ],
        ),
    ),
)


def sympy_log_softmax(X, axis=-1):
    return X - sympy_logsumexp(X, axis, keepdims=True)


LOG_SOFTMAX = Rule(
    cls="LogSoftmax",
    reference=sympy_log_softmax,
    names=("x",),
    expected=("G − softmax(x)·Σ G along the axis (G = ∂L/∂z)",),
    points=(
        Point((np.array([0.5, -1.0, 2.0, 0.0]),), {"axis": -1}, np.array([0.3, -1.2, 0.8, 2.0])),
        Point(_fixed(30, (3, 3)), {"axis": -1}, _fixed(31, (3, 3))[0]),
        Point(_fixed(32, (3, 3)), {"axis": 0}, _fixed(33, (3, 3))[0]),
    ),
    second=(((3, 4),), {"axis": 0}, _samplers((-3, 3))),
    wrongs=(
        Wrong(
            Mistake(
                "Σ G taken as 1",
                "cross-entropy's gradient with one target, −onehot/N, "
                "sums to a constant, but a rule gets any G: subtract softmax(x)·Σ G, the "
                "sum along the axis, kept (keepdims=True)",
            ),
            "G − softmax(x)",
            lambda x, v, axis=-1: [v - _softmax(x, axis)],
        ),
        Wrong(
            Mistake(
                "only the Jacobian's diagonal",
                "each z_i = x_i − logsumexp(x) depends on "
                "every x_j along the axis, through the logsumexp: that adds "
                "−softmax(x)_j·Σ_i G_i to every entry",
            ),
            "G·(1 − softmax(x))",
            lambda x, v, axis=-1: [v * (1 - _softmax(x, axis))],
        ),
        Wrong(
            Mistake(
                "Σ G without keepdims",
                "sum with keepdims=True, so that the sum broadcasts "
                "along the axis it was taken over",
            ),
            "G − softmax(x)·Σ G broadcast along the last axis",
            lambda x, v, axis=-1: [v - _softmax(x, axis) * v.sum(axis)],
        ),
        Wrong(
            Mistake("the sum along the other axis", "Σ G is along the axis of the softmax"),
            "G − softmax(x)·Σ G along the other axis",
            lambda x, v, axis=-1: [v - _softmax(x, axis) * v.sum(1 - axis % 2, keepdims=True)],
        ),
    ),
)


# ---- summing a broadcast gradient back: graph.sum_to_shape ---------------------------------------

NOT_SUMMED = Mistake(
    "not summing over the broadcast axes",
    "an input broadcast along an axis was used once for every entry along it, so its gradient "
    "is the sum of g over that axis: over the leading axes g has and the input lacks, and over "
    "the axes where the input has length 1 (kept, with length 1)",
)
SUMMED_AWAY = Mistake(
    "the length-1 axes summed away",
    "a gradient has its input's shape: sum over the axes where the input has length 1 with "
    "keepdims=True, or reshape the sum to the input's shape",
)
BROADCAST_WRONGS = (
    Wrong(
        Mistake(
            "the mean, not the sum",
            "each use of the input adds its share: the sum over the broadcast axes, not the mean",
        ),
        "the mean of g",
        lambda g, shape: _reduced_like(g, shape, np.mean),
    ),
    Wrong(
        Mistake(
            "one slice for the sum",
            "every slice along a broadcast axis used the input: add them all",
        ),
        "the first slice of g",
        lambda g, shape: _reduced_like(g, shape, _first_slice),
    ),
)


def _first_slice(g, axis, keepdims):
    return np.take(g, [0], axis=axis)


def _reduced_like(g, shape, reduce):
    lead = g.ndim - len(shape)
    axes = (*range(lead), *(lead + i for i, n in enumerate(shape) if n == 1))
    out = g
    for axis in sorted(axes, reverse=True):
        out = reduce(out, axis=axis, keepdims=True)
    return out.reshape(shape)


BROADCAST_CASES = (
    ((3, 4), (4,)),
    ((3, 4), (3, 1)),
    ((3, 4), (1, 4)),
    ((3, 4), ()),
    ((4, 2, 5, 3), (2, 1, 3)),
)


def grade_broadcast(namespace):
    need_sympy()
    sum_back = find(namespace, "sum_to_shape")
    n = len(BROADCAST_CASES) + 3
    for i, (g_shape, shape) in enumerate(BROADCAST_CASES, 1):
        g = _fixed(40 + i, g_shape)[0]
        with case(f"case {i} of {n}: g of shape {g_shape} to shape {shape}: g = {array_text(g)}"):
            _check_sum_back(sum_back, g, shape)
    with case(f"case {n - 2} of {n}: g a Tensor, as under create_graph=True, (2, 3) to (3,)"):
        _check_tensor_sum_back(sum_back)
    with case(f"case {n - 1} of {n}: in the engine's pass, (x·y).sum() for x (3, 1), y (1, 4)"):
        _check_in_the_engine(sum_back)
    with case(f"case {n} of {n}: g of shape (3, 4) to shape (5,), which cannot be"):
        _check_refusal(sum_back)
    return [
        f"sum_to_shape, against SymPy's exact derivative of broadcast_to: {n} cases, float64:",
        "  g of shapes " + ", ".join(f"{g} to {s}" for g, s in BROADCAST_CASES) + ", to "
        f"{TOLERANCE:g} of the largest entry;",
        "  a Tensor g (create_graph=True); your function in the engine's pass; and a shape that "
        "cannot be, refused.",
    ]


def _check_sum_back(sum_back, g, shape):
    mine = np.asarray(sum_back(g.copy(), shape, "add"), dtype=np.float64)
    (want,) = exact_vjp(lambda X: np.broadcast_to(X, g.shape), [np.zeros(shape)], g, {})
    if mine.shape != tuple(shape):
        mistake = SUMMED_AWAY if mine.size == want.size else NOT_SUMMED
        raise Failure(
            [f"yours has shape {mine.shape}; the input's shape is {tuple(shape)}"], mistake
        )
    bad = first_wrong(mine, want, TOLERANCE)
    if bad is not None:
        wrong = next((w for w in BROADCAST_WRONGS if same(mine, w.vjp(g, shape), want)), None)
        yours = f"; yours gives {wrong.yours}" if wrong else ""
        raise Failure(
            [
                f"entry {list(bad)}: expected the sum of g over the broadcast axes{yours}",
                f"expected {want[bad]:.10g}, yours {mine[bad]:.10g}",
            ],
            wrong and wrong.mistake,
        )


def _check_tensor_sum_back(sum_back):
    import minigrad as mg

    g = mg.tensor(_fixed(50, (2, 3))[0], requires_grad=True)
    mine = sum_back(g, (3,), "add")
    if not isinstance(mine, mg.Tensor):
        raise Failure(
            [
                f"yours returned a {type(mine).__name__}: under create_graph=True, g is a "
                "Tensor, and the sum must be one too, recorded"
            ],
            NOT_A_TENSOR,
        )
    want = g.data.sum(axis=0)
    if mine.shape != (3,) or first_wrong(mine.data, want, TOLERANCE) is not None:
        raise Failure([f"expected {array_text(want)}, yours {array_text(mine.data)}"])


NOT_A_TENSOR = Mistake(
    "a Tensor made an array",
    "write the sum with the Tensor's own methods, g.sum(axes, keepdims=True).reshape(shape), "
    "which take arrays and Tensors alike",
)


def _check_in_the_engine(sum_back):
    import minigrad as mg

    from .. import graph

    x = mg.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    y = mg.tensor([[1.0, 2.0, 3.0, 4.0]], requires_grad=True)
    real, graph.sum_to_shape = graph.sum_to_shape, sum_back
    try:
        (x * y).sum().backward()
    finally:
        graph.sum_to_shape = real
    for t, want in ((x, y.data.sum() * np.ones((3, 1))), (y, x.data.sum() * np.ones((1, 4)))):
        if t.grad.shape != t.shape or first_wrong(t.grad.data, want, TOLERANCE) is not None:
            raise Failure(
                [f"(x·y).sum() gave {array_text(t.grad.data)}, expected {array_text(want)}"]
            )


def _check_refusal(sum_back):
    try:
        mine = sum_back(np.ones((3, 4)), (5,), "add")
    except NotImplementedError:
        raise
    except Exception:
        return
    raise Failure(
        [
            f"yours returned shape {np.shape(mine)}: no input of shape (5,) broadcasts to "
            "(3, 4), so this gradient is a bug elsewhere; raise an error that says so "
            "(the real code raises RuntimeError naming the op)"
        ]
    )


EXERCISES = [
    Exercise(
        id="sigmoid",
        title="the sigmoid's rule",
        asks="Sigmoid.backward, σ' = σ(1 − σ), the formula this project started from",
        source="minigrad.ops.elementwise",
        units=("Sigmoid.backward",),
        task="""\
The sigmoid's rule, σ'(x) = σ(x)·(1 − σ(x)): the formula this project started from.
Write Sigmoid.backward. Forward returns two outputs, z = σ(x) and its complement
c = σ(−x), which it keeps for the rule (the class docstring says why). So the rule
gets grads = (∂L/∂z, ∂L/∂c), either of which may be None, and outs = (z, c), and
returns ∂L/∂x, written with operators so that it can be differentiated again.""",
        write="return ∂L/∂x from grads = (∂L/∂z, ∂L/∂c) and outs = (z, c) = (σ(x), σ(−x))",
        hints=(
            "The chain rule: ∂L/∂x = ∂L/∂z · dz/dx. Take dz, dc = grads and z, c = outs.",
            "dz/dx = σ(x)·(1 − σ(x)), and 1 − σ(x) = σ(−x) = c: so dz/dx = z·c, with no "
            "subtraction that could cancel to 0 for a large x.",
            "c is an output too, with dc/dx = −z·c. So ∂L/∂x = (dz − dc)·z·c; dc is None unless "
            "something read c (then the factor is dz), and dz is None if only c was read (then "
            "it is −dc).",
        ),
        grade=grader(SIGMOID),
    ),
    Exercise(
        id="tanh",
        title="tanh's rule",
        asks="Tanh.backward, 1 − tanh²x, read from the output",
        source="minigrad.ops.elementwise",
        units=("Tanh.backward",),
        task="""\
Write Tanh.backward: given grad = ∂L/∂z and the output z = tanh x (and the input x),
return ∂L/∂x. The docstring has the derivative; notice which of z and x it reads.""",
        write="return ∂L/∂x = grad · dz/dx, from the output z",
        hints=(
            "The chain rule: ∂L/∂x = ∂L/∂z · dz/dx, and grad is ∂L/∂z.",
            "dz/dx = 1 − tanh²x, and tanh x is the output z: nothing needs computing again.",
        ),
        grade=grader(TANH),
    ),
    Exercise(
        id="exp-log",
        title="exp and log",
        asks="Exp.backward and Log.backward: one reads its output, the other its input",
        source="minigrad.ops.elementwise",
        units=("Exp.backward", "Log.backward"),
        task="""\
Write Exp.backward and Log.backward: given grad = ∂L/∂z, the output z and the input x,
return ∂L/∂x. Each class's docstring has its derivative; saves says what the rule reads.""",
        write="return ∂L/∂x = grad · dz/dx (for exp, from z; for log, from x)",
        hints=(
            "d/dx eˣ = eˣ, and eˣ is the output z, already computed.",
            "d/dx ln x = 1/x: divide grad by the input x.",
        ),
        grade=grader(EXP, LOG),
    ),
    Exercise(
        id="mul-div",
        title="mul and div: reading the other input",
        asks="Mul.backward and Div.backward, with broadcasting left to the engine",
        source="minigrad.ops.elementwise",
        units=("Mul.backward", "Div.backward"),
        task="""\
Write Mul.backward and Div.backward: given grad = ∂L/∂z, the output and both inputs,
return (∂L/∂x, ∂L/∂y). needs_input_grad says which of the two are wanted (you may
compute both, or None for one that is not). The inputs may broadcast: return each
gradient in the output's shape, and the engine sums it back to its input's shape.""",
        write="return (∂L/∂x, ∂L/∂y), each read from the other input",
        hints=(
            "z = x·y: ∂z/∂x = y and ∂z/∂y = x. So the gradient of x reads y, and y's reads x.",
            "z = x/y: ∂z/∂x = 1/y, ∂z/∂y = −x/y² (the real code writes −(x/y)/y).",
            "Leave broadcasting alone: grad has the output's shape, and so may yours.",
        ),
        grade=grader(MUL, DIV),
    ),
    Exercise(
        id="matmul",
        title="matmul: shapes and transposes",
        asks="Matmul.backward, for matrices, vectors and batches",
        source="minigrad.ops.linalg",
        units=("Matmul.backward", "_matmul_dy"),
        task="""\
Write Matmul.backward: given grad = G = ∂L/∂z for z = x @ y, return (∂L/∂x, ∂L/∂y).
Matrices first: the docstring has the two products. Then numpy's other cases: a 1-D
operand, and batches (broadcast over the leading axes). _matmul_dy is the real code's
helper for ∂L/∂y: write it too if you call it, or do without.""",
        write="return (∂L/∂x, ∂L/∂y): G·yᵀ and xᵀ·G for matrices",
        hints=(
            "Check the shapes: x (n, k), y (k, m), G (n, m). ∂L/∂x must be (n, k): G (n, m) times "
            "yᵀ (m, k). ∂L/∂y must be (k, m): xᵀ (k, n) times G.",
            "A 1-D x is a row (1, k), a 1-D y a column (k, 1): reshape them, and G to (…, n, m), "
            "use the matrix rule, and reshape ∂L/∂y back for a 1-D y (the engine does x's).",
            "For batches, transpose the last two axes only: x.mT (not x.T). The products "
            "broadcast over the batch, and the engine sums a broadcast batch back; use matmul "
            "(the op), which also takes Tensors.",
        ),
        grade=grader(MATMUL),
    ),
    Exercise(
        id="broadcast",
        title="summing a broadcast gradient back",
        asks="graph.sum_to_shape, the one place the engine undoes broadcasting",
        source="minigrad.graph",
        units=("sum_to_shape",),
        task="""\
Write sum_to_shape(g, shape, name): g is the gradient of an op's output, in the
broadcast shape; return the gradient of its input of shape ``shape``. An input that
numpy broadcast along an axis was used once for every entry along it, so its gradient
is g summed over that axis: over the leading axes g has and the input lacks, and over
the axes where the input has length 1 (kept, with length 1). g may be an array or,
when backward is recorded, a Tensor. A shape g cannot have come from is a bug: raise
an error naming ``name``, the op.""",
        write="return g summed over the broadcast axes, with the input's shape",
        hints=(
            "For an input of shape (4,) and g of shape (3, 4): g.sum(0). For (3, 1): "
            "g.sum(1, keepdims=True).",
            "lead = g.ndim − len(shape) leading axes to sum, then the axes i where shape[i] == 1 "
            "(at lead + i in g).",
            "One sum over all of them, with keepdims=True, then .reshape(shape): both are "
            "methods of arrays and Tensors alike.",
        ),
        grade=grade_broadcast,
    ),
    Exercise(
        id="logsumexp",
        title="logsumexp: the softmax as a gradient",
        asks="Logsumexp.backward, along any axis, without overflow",
        source="minigrad.ops.reduction",
        units=("Logsumexp.backward",),
        task="""\
Write Logsumexp.backward: z = ln Σ eˣ over ``axis``; given grad = ∂L/∂z, return ∂L/∂x.
z lost the reduced axes (unless keepdims=True), so grad has to be put back over them
before it meets x; and eˣ overflows float64 for x above 709.""",
        write="return ∂L/∂x = softmax(x) along the axis, times grad put back over it",
        hints=(
            "∂/∂x_i ln Σ_j e^(x_j) = e^(x_i) / Σ_j e^(x_j): the softmax of x along the axis.",
            "_unreduce(grad, x.shape, axis, keepdims) reshapes grad so that the reduced axes "
            "have length 1 and it broadcasts against x.",
            "softmax(x) = e^(x − z): no overflow, since x − z ≤ 0. The real code takes "
            "exp(log_softmax(x, axis)), exact even for |x| near float64's limit.",
        ),
        grade=grader(LOGSUMEXP),
    ),
    Exercise(
        id="log-softmax",
        title="log_softmax, the rule under cross-entropy",
        asks="LogSoftmax.backward: G − softmax(x)·Σ G",
        source="minigrad.ops.reduction",
        units=("LogSoftmax.backward",),
        task="""\
Write LogSoftmax.backward: z = x − logsumexp(x) along ``axis``; given grad = G = ∂L/∂z,
return ∂L/∂x. Cross-entropy is −z at the target, so this is the rule every language
model's loss goes through.""",
        write="return ∂L/∂x = G − softmax(x)·(Σ G along the axis)",
        hints=(
            "∂z_i/∂x_j = δ_ij − softmax(x)_j: every output depends on every input of its row.",
            "So ∂L/∂x_j = G_j − softmax(x)_j · Σ_i G_i, the sum along the axis, kept "
            "(keepdims=True) so that it broadcasts back.",
            "softmax(x) = e^z, from the output: exp(z).",
        ),
        grade=grader(LOG_SOFTMAX),
    ),
]
