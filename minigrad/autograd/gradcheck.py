"""``gradcheck``: compare the engine's gradients with central finite differences.

For every input x that requires grad, every element j of x and every element
i of the output:

    numeric  = (f(x + ε e_j)_i − f(x − ε e_j)_i) / 2ε
    analytic = ∂f_i/∂x_j from backward

and the check passes when |analytic − numeric| ≤ atol + rtol·|numeric|, the
rule ``torch.autograd.gradcheck`` uses. Use float64: in float32 the
difference quotient has only a few correct digits.

``fast_mode=True`` (as in PyTorch) compares one number per input instead of
the whole Jacobian: vᵀJu for a random cotangent v and a random direction u,
analytic from one backward pass, numeric from two evaluations along u.
"""

import warnings

import numpy as np

from ..grad_mode import enable_grad
from ..tensor import Tensor
from .functional import _as_tuple, grad, jacobian


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _outputs(fn, inputs):
    ys, _ = _as_tuple(fn(*inputs), "gradcheck", "outputs")
    return ys


def _copied_values(fn, inputs):
    return [np.array(y.data, dtype=np.float64) for y in _outputs(fn, inputs)]


def _numeric_jacobian(fn, inputs, k, eps):
    """∂ outputs / ∂ inputs[k] by central differences: one block per output."""
    x = inputs[k].data
    blocks = [np.zeros(y.shape + x.shape) for y in _outputs(fn, inputs)]
    for j in np.ndindex(x.shape):
        original = x[j]
        x[j] = original + eps
        plus = _copied_values(fn, inputs)  # copied: an output may be a view of x
        x[j] = original - eps
        minus = _copied_values(fn, inputs)
        x[j] = original
        for block, p, m in zip(blocks, plus, minus):
            block[(..., *j)] = (p - m) / (2 * eps)
    return blocks


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False):
    """Check the gradients of ``fn`` with respect to every input that requires grad.

    Returns True, or raises ``GradcheckError`` naming the input, the element
    and both values at the first disagreement.
    """
    inputs, _ = _as_tuple(inputs, "gradcheck", "inputs")
    checked = [k for k, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for k in checked:
        if inputs[k].dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {k} is {inputs[k].dtype}; finite differences need float64",
                UserWarning,
                stacklevel=2,
            )
    if fast_mode:
        _check_projections(fn, inputs, checked, eps, atol, rtol)
        return True
    for k in checked:
        analytic = jacobian(lambda x, k=k: fn(*inputs[:k], x, *inputs[k + 1 :]), inputs[k])
        analytic = analytic if isinstance(analytic, tuple) else (analytic,)
        numeric = _numeric_jacobian(fn, inputs, k, eps)
        for o, (a, n) in enumerate(zip(analytic, numeric)):
            _compare(a.data.astype(np.float64), n, k, o, inputs[k].shape, atol, rtol)
    return True


def _compare(analytic, numeric, k, o, input_shape, atol, rtol):
    bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
    if bad.any():
        where = np.unravel_index(np.flatnonzero(bad)[0], analytic.shape)
        out_index = where[: analytic.ndim - len(input_shape)]
        in_index = where[analytic.ndim - len(input_shape) :]
        raise GradcheckError(
            f"gradcheck: input {k}, element {tuple(map(int, in_index))}, output {o} element "
            f"{tuple(map(int, out_index))}: analytic {analytic[where]!r} but numeric "
            f"{numeric[where]!r} (allowed |a - n| <= {atol} + {rtol}*|n|)"
        )


def _check_projections(fn, inputs, checked, eps, atol, rtol):
    """fast_mode: vᵀJu per input, analytic (one backward pass) against numeric (along u)."""
    rng = np.random.default_rng(0)
    vs, grads = _projected_gradients(fn, inputs, checked, rng)
    for k, g in zip(checked, grads):
        u = rng.standard_normal(inputs[k].shape)
        numeric = _numeric_projection(fn, inputs, inputs[k].data, vs, u, eps)
        analytic = 0.0 if g is None else float(np.sum(g.data * u))
        if abs(analytic - numeric) > atol + rtol * abs(numeric):
            raise GradcheckError(
                f"gradcheck (fast mode): input {k}, along a random direction: analytic "
                f"{analytic!r} but numeric {numeric!r} (allowed |a - n| <= {atol} + {rtol}*|n|)"
            )


def _projected_gradients(fn, inputs, checked, rng):
    """Random output weights v, and ∂(Σ vᵀy)/∂x for each checked input x (None where no
    output depends on it), by one backward pass."""
    with enable_grad():
        leaves = [x.detach().requires_grad_() if k in checked else x for k, x in enumerate(inputs)]
        ys = _outputs(fn, leaves)
        vs = [rng.standard_normal(y.shape) for y in ys]
        total = sum((y * v).sum() for y, v in zip(ys, vs) if y.requires_grad)
        wrt = [leaves[k] for k in checked]
        if isinstance(total, Tensor) and total.requires_grad:
            return vs, grad(total, wrt, allow_unused=True)
        return vs, [None] * len(wrt)  # no output depends on any checked input


def _numeric_projection(fn, inputs, x, vs, u, eps):
    """vᵀ (f(x + εu) − f(x − εu)) / 2ε, moving the input array ``x`` in place and back."""
    original = x.copy()
    x[...] = original + eps * u
    plus = _copied_values(fn, inputs)
    x[...] = original - eps * u
    minus = _copied_values(fn, inputs)
    x[...] = original
    return sum(np.sum(v * (p - m)) for v, p, m in zip(vs, plus, minus)) / (2 * eps)
