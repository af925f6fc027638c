"""Elementwise ops: arithmetic, exp/log, sin/cos, activations, comparisons-as-selection, casts.

Binary ops broadcast by numpy's rules. Their backward rules return gradients
in the broadcast shape of the output; the engine sums them back to each
input's shape. A comparison such as ``x > 0`` inside a rule is a mask: a
constant, whose derivative is zero.
"""

import numpy as np

from ..array_methods import FLOAT_DTYPES, values_of
from ..grad_mode import no_grad
from ..graph import Op
from ..tensor import Tensor


def either(a, b):
    """a + b, where either may be None (a tangent an input does not carry)."""
    return b if a is None else a if b is None else a + b


class Add(Op):
    """z = x + y.    ∂z/∂x = 1,   ∂z/∂y = 1."""

    saves = {"x": "", "y": ""}

    def forward(self, x, y):
        return x + y

    def backward(self, grad, z, x, y):
        return grad, grad

    def jvp(self, tangents, z, x, y):
        return either(*tangents)


class Sub(Op):
    """z = x − y.    ∂z/∂x = 1,   ∂z/∂y = −1."""

    saves = {"x": "", "y": ""}

    def forward(self, x, y):
        return x - y

    def backward(self, grad, z, x, y):
        return grad, -grad

    def jvp(self, tangents, z, x, y):
        tx, ty = tangents
        return either(tx, None if ty is None else -ty)


class Mul(Op):
    """z = x · y.    ∂z/∂x = y,   ∂z/∂y = x.

    Each gradient reads the other input, so each is computed only if needed
    (``x * 2`` never reads x, and x may then be changed in place).
    """

    saves = {"x": "y", "y": "x"}

    def forward(self, x, y):
        return x * y

    def backward(self, grad, z, x, y, needs_input_grad):
        dx, dy = needs_input_grad
        return (grad * y if dx else None), (grad * x if dy else None)

    def jvp(self, tangents, z, x, y):
        tx, ty = tangents
        return either(None if tx is None else tx * y, None if ty is None else x * ty)


class Div(Op):
    """z = x / y.    ∂z/∂x = 1/y,   ∂z/∂y = −x/y², computed as −(x/y)/y."""

    saves = {"x": "y", "y": "x y"}

    def forward(self, x, y):
        return x / y

    def backward(self, grad, z, x, y, needs_input_grad):
        dx, dy = needs_input_grad
        return (grad / y if dx else None), (-grad * (x / y) / y if dy else None)

    def jvp(self, tangents, z, x, y):
        tx, ty = tangents
        return either(None if tx is None else tx / y, None if ty is None else -ty * (x / y) / y)


class Pow(Op):
    """z = x ** y.    ∂z/∂x = y·x^(y−1),   ∂z/∂y = x^y·ln x.

    Rules where the formulas break down:

    * a negative base with a non-integer exponent has no real value: ValueError;
    * 0 to a negative power is +inf, and ∂z/∂x there (y·0^(y−1)) is ±inf, without
      numpy's divide-by-zero warning: the values are right (PyTorch's too);
    * ∂z/∂y needs ln x, so it exists only for x > 0. At x = 0 it is taken as its
      limit from x > 0: 0 for y > 0, and −inf for y < 0 (z = +inf, ln 0 = −inf);
      at y = 0 as 0. These are PyTorch's values. For x < 0 backward raises ValueError;
    * ∂z/∂x at y = 0 is 0 (z is the constant 1), also at x = 0.
    """

    saves = {"x": "x y", "y": "x y out"}

    def forward(self, x, y):
        negative = x < 0
        if np.any(negative) and np.any((np.round(y) != y) & negative):
            raise ValueError(
                "pow: a negative base with a non-integer exponent has no real value "
                f"(bases of shape {np.shape(x)}, exponents of shape {np.shape(y)})"
            )
        with np.errstate(divide="ignore"):  # 0 ** −2 is inf, exactly
            return x**y

    def backward(self, grad, z, x, y, needs_input_grad):
        dx, dy = needs_input_grad
        return (_pow_dx(grad, x, y) if dx else None), (_pow_dy(grad, z, x, y) if dy else None)

    def jvp(self, tangents, z, x, y):
        tx, ty = tangents
        return either(None if tx is None else _pow_dx(tx, x, y),
                      None if ty is None else _pow_dy(ty, z, x, y))  # fmt: skip


def _pow_dx(grad, x, y):
    safe_y = where(y == 0, 1, y)  # y·x^(y−1) is 0 at y = 0; avoid 0·inf at x = 0
    with np.errstate(divide="ignore"):  # 0 ** 0.3 − 1 is inf, exactly: ∂/∂x √x at 0
        return grad * y * x ** (safe_y - 1)


def _pow_dy(grad, z, x, y):
    """Only when the exponent needs a gradient: x ** 2 has none to give."""
    if (x < 0).any():
        raise ValueError(
            "pow: the gradient with respect to the exponent needs ln(base), which is "
            f"undefined for negative bases (min base {x.min()})"
        )
    positive = x > 0
    at_zero = where(y < 0, -np.inf, 0.0)  # the limit of x^y·ln x as x → 0+
    return grad * where(positive, where(positive, z, 1) * log(where(positive, x, 1)), at_zero)


class Clone(Op):
    """z = x, in an array of its own (``torch.clone``).    dz/dx = 1.

    An in-place op in the graph reads a clone of the tensor it changes, so its
    rule may read the old values (``h *= w``: ∂/∂w reads the old h).
    """

    saves = {"x": ""}

    def forward(self, x):
        return x.copy()

    def backward(self, grad, z, x):
        return grad

    def jvp(self, tangents, z, x):
        return tangents[0]


class Neg(Op):
    """z = −x.    dz/dx = −1."""

    saves = {"x": ""}

    def forward(self, x):
        return -x

    def backward(self, grad, z, x):
        return -grad

    def jvp(self, tangents, z, x):
        return -tangents[0]


class Exp(Op):
    """z = eˣ.    dz/dx = eˣ = z."""

    saves = {"x": "out"}

    def forward(self, x):
        return np.exp(x)

    def backward(self, grad, z, x):
        return grad * z

    def jvp(self, tangents, z, x):
        return tangents[0] * z


class Sin(Op):
    """z = sin x.    dz/dx = cos x.

    The rule is written with ``cos``, an op, so under create_graph it is
    recorded and differentiates again: d²z/dx² = −sin x.
    """

    saves = {"x": "x"}

    def forward(self, x):
        with np.errstate(invalid="ignore"):  # sin(±inf) is nan, as in PyTorch, without a word
            return np.sin(x)

    def backward(self, grad, z, x):
        return grad * cos(x)

    def jvp(self, tangents, z, x):
        return tangents[0] * cos(x)


class Cos(Op):
    """z = cos x.    dz/dx = −sin x (with ``sin``, an op, so it differentiates again)."""

    saves = {"x": "x"}

    def forward(self, x):
        with np.errstate(invalid="ignore"):  # cos(±inf) is nan, as in PyTorch, without a word
            return np.cos(x)

    def backward(self, grad, z, x):
        return -grad * sin(x)

    def jvp(self, tangents, z, x):
        return -tangents[0] * sin(x)


def check_domain(name, x, low=0):
    """Refuse values below ``low``, where the op has no real value: an error, not NaN."""
    if np.any(x < low):
        bad = np.count_nonzero(x < low)
        raise ValueError(
            f"{name}: defined for x >= {low}, got {bad} value(s) below {low} (min {np.min(x)}) "
            f"in an input of shape {np.shape(x)}"
        )


def quotient(t, d):
    """t / d, where d = 0 gives ±inf without numpy's divide-by-zero warning: a rule's value
    there is the derivative's, as in PyTorch (ln'(0) = +inf). A 0 in t still gives NaN with
    numpy's warning, since 0·inf has no value."""
    with np.errstate(divide="ignore"):
        return t / d


class Log(Op):
    """z = ln x  (x ≥ 0; ln 0 = −inf).    dz/dx = 1/x (+inf at 0)."""

    saves = {"x": "x"}

    def forward(self, x):
        check_domain("log", x)
        with np.errstate(divide="ignore"):
            return np.log(x)

    def backward(self, grad, z, x):
        return quotient(grad, x)

    def jvp(self, tangents, z, x):
        return quotient(tangents[0], x)


class Sqrt(Op):
    """z = √x  (x ≥ 0).    dz/dx = 1/(2√x) = 1/(2z): +inf at x = 0, as in PyTorch."""

    saves = {"x": "out"}

    def forward(self, x):
        check_domain("sqrt", x)
        return np.sqrt(x)

    def backward(self, grad, z, x):
        return quotient(grad, 2 * z)

    def jvp(self, tangents, z, x):
        return quotient(tangents[0], 2 * z)


class Abs(Op):
    """z = |x|.    dz/dx = sign(x), with the subgradient 0 chosen at x = 0."""

    saves = {"x": "x"}

    def forward(self, x):
        return np.abs(x)

    def backward(self, grad, z, x):
        return grad * sign(x)

    def jvp(self, tangents, z, x):
        return tangents[0] * sign(x)


class Sign(Op):
    """z = sign(x) ∈ {−1, 0, 1}.    dz/dx = 0 (everywhere but at 0, where it does not exist)."""

    saves = {"x": ""}

    def forward(self, x):
        return np.sign(x)

    def backward(self, grad, z, x):
        return grad * 0

    def jvp(self, tangents, z, x):
        return tangents[0] * 0


_EXP_OVERFLOW = {}


def _exp_overflow(dtype):
    """A little above the x below which e^(−x) overflows in the dtype of σ(x) (cached)."""
    if dtype not in _EXP_OVERFLOW:
        _EXP_OVERFLOW[dtype] = -0.99 * np.log(np.finfo(np.result_type(dtype, 1.0)).max)
    return _EXP_OVERFLOW[dtype]


def stable_sigmoid(x):
    """σ(x) = 1/(1+e^(−x)) for numpy arrays, exact to a few ulps and free of overflow."""
    return stable_sigmoid_pair(x)[0]


def stable_sigmoid_pair(x):
    """(σ(x), σ(−x)) for numpy arrays, each exact to a few ulps and free of overflow.

    The direct form σ(x) = 1/(1+e), e = e^(−x), with σ(−x) = e·σ(x), overflows
    only where e does (below x ≈ −709 in float64, −88 in float32); elsewhere it
    is exact, and cheapest, so it is used when no element is that negative.
    Otherwise, with e = e^(−|x|) ≤ 1: σ(|x|) = 1/(1+e) and σ(−|x|) = e/(1+e),
    so exp never sees a positive argument.
    """
    x = np.asarray(x)
    if np.minimum.reduce(x, axis=None, initial=0.0) > _exp_overflow(x.dtype):
        e = np.exp(-x)
        z = 1.0 / (1.0 + e)
        return z, e * z
    e = np.exp(-np.abs(x))
    big, small = 1.0 / (1.0 + e), e / (1.0 + e)
    positive = x >= 0
    return np.where(positive, big, small), np.where(positive, small, big)


class Sigmoid(Op):
    """z = σ(x) = 1/(1+e^(−x)).    dz/dx = σ(x)(1 − σ(x)) = σ(x)·σ(−x).

    1 − σ(x) and σ(−x) are equal, but the rounding error of σ(x) (about ε)
    becomes a relative error of e^x·ε in 1 − σ(x): for large x the subtraction
    cancels to 0, while σ(−x) stays exact. So forward computes both, σ(x) and
    its complement c = σ(−x), and keeps c as a hidden output for the rule:
    σ' = z·c is exact to a few ulps for every x (σ'(700) = 9.86e-305, not 0),
    and the rule reads only outputs, as PyTorch's does, so x may be changed in
    place after the op. As c is an output too, dc/dx = −z·c, and a gradient
    recorded through the rule (``create_graph``) reaches x through both.
    """

    hidden = 1
    saves = {"x": "out"}

    def forward(self, x):
        return stable_sigmoid_pair(x)

    def backward(self, grads, outs, x):
        dz, dc = grads
        z, c = outs
        g = dz if dc is None else -dc if dz is None else dz - dc
        return g * (z * c)

    def jvp(self, tangents, outs, x):
        z, c = outs
        dz = tangents[0] * (z * c)
        return dz, -dz


class Tanh(Op):
    """z = tanh x.    dz/dx = 1 − tanh²x = 1 − z²."""

    saves = {"x": "out"}

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad, z, x):
        return grad * (1 - z * z)

    def jvp(self, tangents, z, x):
        return tangents[0] * (1 - z * z)


class Relu(Op):
    """z = max(x, 0).    dz/dx = 1 for x > 0, else 0 (the subgradient 0 is chosen at x = 0).

    z > 0 exactly where x > 0, so the rule reads the output, as PyTorch's does.
    """

    saves = {"x": "out"}

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad, z, x):
        return grad * (z > 0)

    def jvp(self, tangents, z, x):
        return tangents[0] * (z > 0)


def _tie_split(wins, ties):
    """1 where the first input wins, ½ where the two tie, 0 elsewhere (a constant)."""
    return wins + ties * 0.5


def _split_tangents(tangents, share):
    """share·t_x + (1 − share)·t_y: the tangent of max or min, split at ties as the gradient is."""
    tx, ty = tangents
    return either(None if tx is None else tx * share, None if ty is None else ty * (1 - share))


class Maximum(Op):
    """z = max(x, y) elementwise.    ∂z/∂x = 1 where x > y, ½ where x = y, 0 where x < y.

    At ties the gradient is split evenly between the two inputs, as in PyTorch.
    """

    saves = {"x": "x y", "y": "x y"}

    def forward(self, x, y):
        return np.maximum(x, y)

    def backward(self, grad, z, x, y):
        share = _tie_split(x > y, x == y)
        return grad * share, grad * (1 - share)

    def jvp(self, tangents, z, x, y):
        return _split_tangents(tangents, _tie_split(x > y, x == y))


class Minimum(Op):
    """z = min(x, y) elementwise.    ∂z/∂x = 1 where x < y, ½ where x = y, 0 where x > y.

    At ties the gradient is split evenly between the two inputs, as in PyTorch.
    """

    saves = {"x": "x y", "y": "x y"}

    def forward(self, x, y):
        return np.minimum(x, y)

    def backward(self, grad, z, x, y):
        share = _tie_split(x < y, x == y)
        return grad * share, grad * (1 - share)

    def jvp(self, tangents, z, x, y):
        return _split_tangents(tangents, _tie_split(x < y, x == y))


class Where(Op):
    """z = x where cond else y.    ∂z/∂x = [cond],   ∂z/∂y = [not cond];  cond gets no gradient."""

    saves = {"cond": "", "x": "cond", "y": "cond"}

    def forward(self, cond, x, y):
        cond = np.asarray(cond)
        if cond.dtype != bool:
            raise TypeError(f"where: the condition must be a bool tensor, got dtype {cond.dtype}")
        return np.where(cond, x, y)

    def backward(self, grad, z, cond, x, y):
        return None, where(cond, grad, 0), where(cond, 0, grad)

    def jvp(self, tangents, z, cond, x, y):
        _, tx, ty = tangents
        return where(cond, 0 if tx is None else tx, 0 if ty is None else ty)


class Clip(Op):
    """z = min(max(x, min), max).    dz/dx = 1 where min ≤ x ≤ max, else 0 (as PyTorch's clamp)."""

    saves = {"x": "x"}

    def forward(self, x, min=None, max=None):  # noqa: A002 - numpy's and PyTorch's names
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        return np.clip(x, min, max)

    def backward(self, grad, z, x, min=None, max=None):  # noqa: A002
        if min is not None:
            grad = where(x >= min, grad, 0)
        if max is not None:
            grad = where(x <= max, grad, 0)
        return grad

    def jvp(self, tangents, z, x, min=None, max=None):  # noqa: A002
        return self.backward(tangents[0], z, x, min, max)  # a diagonal Jacobian: Jt = Jᵀt


def compare(ufunc, *operands):
    """A comparison, test or bitwise ``ufunc`` of the operands (tensors, numbers or arrays) as a
    tensor outside the graph (bool, or integer for bitwise ops on integers)."""
    values = [values_of(v, "a comparison") if isinstance(v, Tensor) else v for v in operands]
    return Tensor._wrap(np.asarray(ufunc(*values)))


def isnan(x):
    """Where x is NaN: a bool tensor, outside the graph."""
    return compare(np.isnan, x)


def isinf(x):
    """Where x is +inf or −inf: a bool tensor, outside the graph."""
    return compare(np.isinf, x)


def isfinite(x):
    """Where x is neither ±inf nor NaN: a bool tensor, outside the graph."""
    return compare(np.isfinite, x)


def _numeric_dtype(dtype):
    """np.dtype(dtype) for a bool, integer or float dtype; anything else is a TypeError."""
    try:
        valid = dtype is not None and np.dtype(dtype).kind in "biuf"
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise TypeError(
            f"to: expected a bool, integer or float dtype such as float64, got {dtype!r}"
        )
    return np.dtype(dtype)


class To(Op):
    """z = x cast to ``dtype``.    dz/dx = 1 (the gradient is cast back to x's dtype).

    Casting to an integer or bool dtype is not differentiable: the result does
    not require grad. Casting to the tensor's own dtype returns it unchanged.
    """

    saves = {"x": ""}

    def forward(self, x, dtype=None):
        return x.astype(dtype)

    def backward(self, grad, z, x, dtype=None):
        return to(grad, x.dtype)

    def jvp(self, tangents, z, x, dtype=None):
        return to(tangents[0], dtype)

    def __call__(self, x, dtype):
        dtype = _numeric_dtype(dtype)
        if not isinstance(x, (Tensor, np.ndarray)):
            x = np.asarray(x)  # a number or a list
        if x.dtype == dtype:
            return x
        if dtype not in FLOAT_DTYPES:
            with no_grad():
                return self.apply((x,), {"dtype": dtype})
        return self.apply((x,), {"dtype": dtype})


add = Add()
sub = Sub()
mul = Mul()
div = Div()
pow = Pow()  # noqa: A001 - the op is called pow, as torch.pow
clone = Clone()
neg = Neg()
exp = Exp()
log = Log()
sin = Sin()
cos = Cos()
sqrt = Sqrt()
abs = Abs()  # noqa: A001 - as torch.abs
sign = Sign()
sigmoid = Sigmoid()
tanh = Tanh()
relu = Relu()
maximum = Maximum()
minimum = Minimum()
where = Where()
clip = Clip()
clamp = clip
to = To()
