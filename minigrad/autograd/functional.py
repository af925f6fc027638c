"""Derivatives returned rather than stored: ``grad``, and whole derivatives of a function,
``jacobian``, ``hessian``, ``vjp``, ``jvp`` and ``hvp``.

``grad`` is ``torch.autograd.grad``: the engine's one gradient pass
(``engine.gradients``), asked for chosen tensors, with ``.grad`` left alone.
As in ``torch.autograd.functional``, the other functions' inputs need not
require grad: each differentiates with respect to fresh leaves that share the
inputs' data. Reverse mode gives one row of a Jacobian per backward pass;
``jvp`` is forward mode (``forward_ad``), one column per forward pass.
"""

import numpy as np

from ..engine import as_list, gradients, handed_out, roots_and_cotangents
from ..grad_mode import enable_grad, set_grad_enabled
from ..graph import edge
from ..ops import stack
from ..tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) · grad_outputs as a tuple, without touching any ``.grad``.

    As ``torch.autograd.grad``: ``inputs`` may be leaves or intermediate
    tensors, and only the part of the graph that leads to them is visited. An
    input the outputs do not depend on raises, unless ``allow_unused=True``,
    which returns None for it.
    """
    inputs = as_list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    keys = [edge(t, "grad") for t in inputs]
    roots, grads = roots_and_cotangents(outputs, grad_outputs, create_graph, "grad")
    with set_grad_enabled(create_graph):
        found = gradients(roots, grads, set(keys))
    for i, (t, key) in enumerate(zip(inputs, keys)):
        if key not in found and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return tuple(handed_out(found[key]) if key in found else None for key in keys)


def _as_tuple(x, name, what):
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}: {what} must be Tensors, got {type(item).__name__}")
    return items, is_tuple


def _leaves(inputs, create_graph, name):
    """Leaves to differentiate with respect to.

    With ``create_graph``, an input that already requires grad is used itself,
    so that the result stays connected to it and can be differentiated again.
    """
    leaves = []
    for x in inputs:
        if x.dtype.kind != "f":
            raise TypeError(f"{name}: inputs must be floating point, got dtype {x.dtype}")
        leaves.append(x if create_graph and x.requires_grad else x.detach().requires_grad_())
    return leaves


def _zeros(x):
    return Tensor._wrap(np.zeros(x.shape, dtype=x.dtype))


def _grads_or_zeros(ys, xs, cotangents=None, create_graph=False):
    """grad(ys, xs, cotangents), with zeros instead of None where ys do not depend on x.

    ``ys`` is a Tensor or a tuple of them (``cotangents`` then matches it).
    """
    outputs, vs = _differentiable_outputs(ys, cotangents)
    if not outputs:
        return tuple(_zeros(x) for x in xs)
    grads = grad(outputs, xs, vs, create_graph=create_graph, allow_unused=True)
    return tuple(_zeros(x) if g is None else g for g, x in zip(grads, xs))


def _differentiable_outputs(ys, cotangents):
    """The outputs among ``ys`` that require grad, as a list, and their cotangents (a list, or
    None where none was given)."""
    ys = ys if isinstance(ys, tuple) else (ys,)
    cotangents = cotangents if isinstance(cotangents, tuple) else (cotangents,) * len(ys)
    kept = [(y, v) for y, v in zip(ys, cotangents) if y.requires_grad]
    vs = [v for _, v in kept]
    return [y for y, _ in kept], None if all(v is None for v in vs) else vs


def _check_like(vs, xs, name):
    """``vs`` must match ``xs`` one to one, in shape."""
    if len(vs) != len(xs):
        raise ValueError(f"{name}: got {len(vs)} vectors for {len(xs)} inputs")
    for i, (v, x) in enumerate(zip(vs, xs)):
        if v.shape != x.shape:
            raise ValueError(f"{name}: vector {i} has shape {v.shape}, its input has {x.shape}")


def _blocks(y, xs, create_graph):
    """∂y/∂x for each x, of shape y.shape + x.shape: one backward pass per element of y."""
    rows = []
    for i in range(y.data.size):
        cotangent = np.zeros(y.shape, dtype=y.dtype)
        cotangent.flat[i] = 1
        rows.append(_grads_or_zeros(y, xs, Tensor._wrap(cotangent), create_graph))
    blocks = []
    for j, x in enumerate(xs):
        column = [row[j] for row in rows]
        if not column:
            blocks.append(Tensor._wrap(np.zeros(y.shape + x.shape, dtype=x.dtype)))
        elif create_graph:
            blocks.append(stack(column).reshape(y.shape + x.shape))
        else:
            blocks.append(
                Tensor._wrap(np.stack([g.data for g in column]).reshape(y.shape + x.shape))
            )
    return tuple(blocks)


def jacobian(fn, inputs, create_graph=False, strategy="reverse-mode"):
    """The Jacobian of ``fn`` at ``inputs``: J[i..., j...] = ∂ out[i...] / ∂ in[j...].

    Each block has shape ``out.shape + in.shape``. With one input and one
    output the result is a Tensor; with a tuple of inputs, a tuple over inputs;
    with a tuple of outputs, a tuple over outputs (of tuples over inputs).

    ``strategy`` is PyTorch's: "reverse-mode" finds J a row at a time, one
    backward pass per output element; "forward-mode" a column at a time, one
    forward-mode pass (``jvp``) per input element. Pick the one with fewer
    passes: forward mode for few inputs and many outputs.
    """
    xs, inputs_are_tuple = _as_tuple(inputs, "jacobian", "inputs")
    if strategy == "forward-mode":
        blocks, outputs_are_tuple = _forward_blocks(fn, xs, create_graph)
    elif strategy == "reverse-mode":
        with enable_grad():
            leaves = _leaves(xs, create_graph, "jacobian")
            ys, outputs_are_tuple = _as_tuple(fn(*leaves), "jacobian", "outputs")
            blocks = [_blocks(y, leaves, create_graph) for y in ys]
    else:
        raise ValueError(
            f'jacobian: strategy must be "reverse-mode" or "forward-mode", got {strategy!r}'
        )
    blocks = [b if inputs_are_tuple else b[0] for b in blocks]
    return tuple(blocks) if outputs_are_tuple else blocks[0]


def _forward_blocks(fn, xs, create_graph):
    """∂y/∂x for each output y and input x, a column (one element of x) per forward pass."""
    columns = [
        [] for _ in xs
    ]  # columns[j][e]: the tangents of the outputs along x_j's e-th element
    for j, x in enumerate(xs):
        for e in range(x.data.size):
            vs = [_zeros(other) for other in xs]
            vs[j].data.flat[e] = 1
            ys, outputs_are_tuple, jv = _forward(fn, xs, vs, create_graph)
            columns[j].append(jv)
    if not any(columns):  # no input has an element: fn's outputs give the blocks' shapes
        ys, outputs_are_tuple, _ = _forward(fn, xs, [_zeros(x) for x in xs], create_graph)
    blocks = [tuple(_block([col[i] for col in cols], y, x, create_graph)
                    for cols, x in zip(columns, xs)) for i, y in enumerate(ys)]  # fmt: skip
    return blocks, outputs_are_tuple


def _block(column, y, x, create_graph):
    """The tangents of y along each element of x, as the block of shape y.shape + x.shape."""
    shape = y.shape + x.shape
    if not column:
        return Tensor._wrap(np.zeros(shape, dtype=y.dtype))
    if create_graph:
        return stack(column, -1).reshape(shape)
    return Tensor._wrap(np.stack([t.data for t in column], -1).reshape(shape))


def _scalar_output(fn, leaves, name):
    y = fn(*leaves)
    if not isinstance(y, Tensor) or y.data.size != 1:
        got = y.shape if isinstance(y, Tensor) else type(y).__name__
        raise ValueError(f"{name}: the function must return a one-element Tensor, got {got}")
    return y


def hessian(fn, inputs):
    """The Hessian of scalar ``fn``: H[i..., j...] = ∂²fn / ∂x[i...] ∂x[j...].

    It is the Jacobian of the gradient, which backward records with
    ``create_graph=True``. For a tuple of inputs the result is a tuple of
    tuples, H[a][b] = ∂²fn / ∂x_a ∂x_b.
    """
    xs, is_tuple = _as_tuple(inputs, "hessian", "inputs")

    def gradient(*leaves):
        y = _scalar_output(fn, leaves, "hessian")
        return _grads_or_zeros(y, leaves, create_graph=True)

    blocks = jacobian(gradient, xs)
    return blocks if is_tuple else blocks[0][0]


def vjp(fn, inputs, v=None):
    """(fn(inputs), vᵀJ): the output and its vector-Jacobian product with cotangent ``v``.

    For a tuple of outputs, ``v`` is a tuple too; it may be omitted when every
    output has one element.
    """
    xs, is_tuple = _as_tuple(inputs, "vjp", "inputs")
    with enable_grad():
        leaves = _leaves(xs, False, "vjp")
        ys, outputs_are_tuple = _as_tuple(fn(*leaves), "vjp", "outputs")
        vs = v if isinstance(v, (tuple, list)) else (v,) * len(ys)
        if len(vs) != len(ys):
            raise ValueError(f"vjp: got {len(vs)} cotangents for {len(ys)} outputs")
        grads = _grads_or_zeros(ys, leaves, tuple(vs))
    outputs = tuple(y.detach() for y in ys)
    return outputs if outputs_are_tuple else outputs[0], grads if is_tuple else grads[0]


def _tangents(v, xs, name):
    """``v`` as a tuple of tangents matching ``xs``; ones when omitted for a one-element input."""
    if v is None:
        if len(xs) != 1 or xs[0].data.size != 1:
            raise ValueError(
                f"{name}: v may be omitted only when the input is one Tensor with one element"
            )
        return (Tensor._wrap(np.ones(xs[0].shape, dtype=xs[0].dtype)),)
    vs, _ = _as_tuple(v, name, "v")
    _check_like(vs, xs, name)
    return vs


def jvp(fn, inputs, v=None, create_graph=False):
    """(fn(inputs), J v): the output and its Jacobian-vector product with tangent ``v``.

    As ``torch.autograd.functional.jvp``: ``v`` matches ``inputs`` (a Tensor,
    or a tuple of them), and may be omitted when the input is one Tensor with
    one element; the product is shaped like the output (a tuple for a tuple of
    outputs), zero for an output that does not depend on the inputs. With
    ``create_graph`` the output and the product stay differentiable.
    PyTorch's ``strict`` is not taken (nor by ``vjp``).

    This is forward mode (``forward_ad``): the inputs carry ``v`` as their
    tangents through one run of fn, each op applying its JVP rule, and the
    outputs' tangents are J v. Cost: about one more forward pass, and no
    graph kept for a backward one. Inside fn the inputs require grad, so fn
    may itself call ``grad(..., create_graph=True)``: ``jvp`` of a gradient
    is forward-over-reverse, a Hessian-vector product.
    """
    xs, _ = _as_tuple(inputs, "jvp", "inputs")
    ys, outputs_are_tuple, jv = _forward(fn, xs, _tangents(v, xs, "jvp"), create_graph)
    outputs = ys if create_graph else tuple(y.detach() for y in ys)
    if outputs_are_tuple:
        return outputs, jv
    return outputs[0], jv[0]


def _forward(fn, xs, vs, create_graph):
    """fn's outputs at ``xs``, whether they are a tuple, and their tangents for tangents ``vs``."""
    from . import forward_ad

    with enable_grad(), forward_ad.dual_level(record=create_graph):
        leaves = _leaves(xs, create_graph, "jvp")
        duals = [forward_ad.make_dual(x, w) for x, w in zip(leaves, vs)]
        ys, outputs_are_tuple = _as_tuple(fn(*duals), "jvp", "outputs")
        jv = [forward_ad.unpack_dual(y).tangent for y in ys]
    jv = tuple(
        _zeros(y) if t is None else t if create_graph else t.detach() for y, t in zip(ys, jv)
    )
    return ys, outputs_are_tuple, jv


def hvp(fn, inputs, v=None):
    """(fn(inputs), Hv): a Hessian-vector product without forming H (two reverse passes).

    ``v`` matches ``inputs``; as in PyTorch, it may be omitted for one one-element input.
    """
    xs, is_tuple = _as_tuple(inputs, "hvp", "inputs")
    vs = _tangents(v, xs, "hvp")
    with enable_grad():
        leaves = _leaves(xs, False, "hvp")
        y = _scalar_output(fn, leaves, "hvp")
        grads = _grads_or_zeros(y, leaves, create_graph=True)
        dot = sum((g * w).sum() for g, w in zip(grads, vs))
        hv = _grads_or_zeros(dot, leaves)
    return y.detach(), hv if is_tuple else hv[0]
