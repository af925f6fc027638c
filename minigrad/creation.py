"""Tensor constructors: tensor, zeros, ones, empty, full, eye, *_like, randn, rand, randint,
arange, linspace, from_numpy, and dropout's mask. ``requires_grad`` must be True or False in each.

A shape may be given as separate ints or as one tuple, as in PyTorch:
``zeros(2, 3)`` and ``zeros((2, 3))`` are the same.

What is drawn from the seeded generator goes through a ``Draw``, which a
function being compiled records (``minigrad.compile``): each replay draws
afresh, in the same order as eager code, so it stays equal to eager bit for
bit. Other constructors make constants of a compiled function's plan.
"""

import numpy as np

from .array_methods import DEFAULT_DTYPE, check_can_require_grad, check_requires_grad
from .ops.shape import shape_arg
from .random import default_generator
from .switches import mode
from .tensor import Tensor


def _shape(args, name):
    shape = shape_arg(args)
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{name}: a shape holds ints, got {shape}")
        if n < 0:
            raise ValueError(f"{name}: negative dimension {n} in shape {shape}")
    return tuple(int(n) for n in shape)


def tensor(data, requires_grad=False, dtype=None):
    """Make a Tensor from a list, number, numpy array or Tensor, copying the data, as
    ``torch.tensor``. ``requires_grad`` must be True or False."""
    return Tensor(data, requires_grad=check_requires_grad(requires_grad, "tensor"), dtype=dtype)


def _make(array, requires_grad, name):
    t = Tensor._wrap(array)
    if check_requires_grad(requires_grad, name):
        check_can_require_grad(array.dtype, name)
        t._requires_grad = True
    return t


def _float_dtype(dtype):
    return DEFAULT_DTYPE if dtype is None else np.dtype(dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape(shape, "zeros"), _float_dtype(dtype)), requires_grad, "zeros")


def ones(*shape, dtype=None, requires_grad=False):
    return _make(np.ones(_shape(shape, "ones"), _float_dtype(dtype)), requires_grad, "ones")


def empty(*shape, dtype=None, requires_grad=False):
    """A tensor whose values are not to be read before they are written, as ``torch.empty``.
    minigrad fills it with zeros, so that a run never depends on what memory held."""
    return _make(np.zeros(_shape(shape, "empty"), _float_dtype(dtype)), requires_grad, "empty")


def eye(n, m=None, dtype=None, requires_grad=False):
    """The n×m matrix with ones on the diagonal and zeros elsewhere (m = n by default), as
    ``torch.eye``."""
    _shape((n,) if m is None else (n, m), "eye")
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, "eye")


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``shape`` holding ``fill_value``. Without ``dtype`` it is the value's, as in
    PyTorch: bool for a bool, int64 for an int, float64 for a float."""
    array = np.full(_shape((shape,), "full"), fill_value, dtype or _value_dtype(fill_value))
    return _make(array, requires_grad, "full")


def _value_dtype(value):
    kind = np.asarray(value).dtype.kind
    return {"b": np.dtype(bool), "i": np.dtype(np.int64), "u": np.dtype(np.int64)}.get(
        kind, DEFAULT_DTYPE
    )


def zeros_like(t, dtype=None, requires_grad=False):
    return _make(np.zeros(t.shape, dtype or t.dtype), requires_grad, "zeros_like")


def ones_like(t, dtype=None, requires_grad=False):
    return _make(np.ones(t.shape, dtype or t.dtype), requires_grad, "ones_like")


class Draw:
    """One way of drawing an array from the seeded generator: ``forward(**params)`` draws.

    It is shaped like an op with no inputs, so that a compiled function's plan
    holds it as a step and replays it (``minigrad.compile``); it has no
    gradient, and it is not registered.
    """

    def __init__(self, name, sample):
        self.name = name
        self.forward = sample

    def __call__(self, requires_grad=False, **params):
        t = _make(self.forward(**params), requires_grad, self.name)
        if mode.trace is not None:
            mode.trace.record(self, [], params, t.data, [t])
        return t

    def __repr__(self):
        return f"<draw {self.name}>"


def _dropout_mask(shape, p, dtype):
    """0 with probability p, else 1/(1 − p): inverted dropout's mask (all 0 for p = 1)."""
    keep = 1.0 - p
    scale = 1.0 / keep if keep > 0 else 0.0
    return ((default_generator.random(shape) < keep) * scale).astype(dtype)


_randn = Draw("randn", lambda shape, dtype: default_generator.standard_normal(shape).astype(dtype))
_rand = Draw("rand", lambda shape, dtype: default_generator.random(shape).astype(dtype))
_randint = Draw("randint", default_generator.integers)
_dropout = Draw("dropout_mask", _dropout_mask)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from the seeded generator."""
    dtype = _float_dtype(dtype).name
    return _randn(requires_grad, shape=_shape(shape, "randn"), dtype=dtype)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples on [0, 1) from the seeded generator."""
    return _rand(requires_grad, shape=_shape(shape, "rand"), dtype=_float_dtype(dtype).name)


def randint(low, high, size, dtype=np.int64):
    """Integers uniform on [low, high) from the seeded generator."""
    if high <= low:
        raise ValueError(f"randint: need low < high, got low={low}, high={high}")
    shape = _shape((size,), "randint")
    return _randint(low=low, high=high, size=shape, dtype=np.dtype(dtype).name)


def dropout_mask(shape, p, dtype=None):
    """Inverted dropout's mask, drawn from the seeded generator: each element is 0 with
    probability ``p`` and 1/(1 − p) otherwise, so that ``x * mask`` keeps x's mean."""
    return _dropout(shape=_shape((shape,), "dropout_mask"), p=float(p),
                    dtype=_float_dtype(dtype).name)  # fmt: skip


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in [start, end), as ``torch.arange``: int64 for ints, else float64."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    all_ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dtype = (
        np.dtype(dtype) if dtype is not None else np.dtype(np.int64 if all_ints else DEFAULT_DTYPE)
    )
    return _make(np.arange(start, end, step, dtype=dtype), requires_grad, "arange")


def linspace(start, end, steps, dtype=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included, as
    ``torch.linspace`` (float64 by default)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be an int >= 0, got {steps!r}")
    array = np.linspace(start, end, steps, dtype=_float_dtype(dtype))
    return _make(array, requires_grad, "linspace")


def from_numpy(array):
    """A Tensor sharing memory with ``array`` (no copy), as ``torch.from_numpy``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype}")
    return Tensor._wrap(array)
