"""Linear algebra: matrix products with numpy's ``@`` semantics."""

import numpy as np

from ..graph import Op
from .elementwise import either


def _fold_batch(x):
    """(..., n) as (rows, n): a stack of matrices that share one right operand is one matrix."""
    return x.reshape(-1, x.shape[-1])


class Matmul(Op):
    """z = x @ y, with numpy's rules: 1-D, 2-D and batched (broadcast) operands.

    For matrices, with G = ∂L/∂z:   ∂L/∂x = G yᵀ,   ∂L/∂y = xᵀ G.

    A 1-D x acts as a row (1, n) and a 1-D y as a column (n, 1); the rule
    works on those matrix forms and the engine sums any broadcast batch axes.
    When a batch of x shares one matrix y (``(T, B, n) @ (n, m)``, as in a
    layer applied to every time step), the batch is folded into rows, so both
    directions are a single matrix product instead of one per batch element.
    """

    saves = {"x": "y", "y": "x"}

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(
                f"matmul: operands must have at least one axis, got shapes {x.shape} and "
                f"{y.shape}; use * to multiply by a scalar"
            )
        inner = y.shape[-2] if y.ndim > 1 else y.shape[0]
        if x.shape[-1] != inner:
            raise ValueError(
                f"matmul: shapes {x.shape} and {y.shape} are not aligned ({x.shape[-1]} != {inner})"
            )
        if x.ndim > 2 and y.ndim == 2:
            return (_fold_batch(x) @ y).reshape(*x.shape[:-1], y.shape[-1])
        return np.matmul(x, y)

    def backward(self, grad, z, x, y, needs_input_grad):
        dx, dy = needs_input_grad
        if x.ndim == 2 and y.ndim == 2:  # the plain matrix product
            return (grad @ y.T if dx else None), (x.T @ grad if dy else None)
        xm = x if x.ndim > 1 else x.reshape(1, -1)
        ym = y if y.ndim > 1 else y.reshape(-1, 1)
        batch = np.broadcast_shapes(xm.shape[:-2], ym.shape[:-2])
        g = grad.reshape((*batch, xm.shape[-2], ym.shape[-1]))
        # matmul, not @: it folds a batch that shares one matrix
        return (matmul(g, ym.mT) if dx else None), (_matmul_dy(g, xm, ym, y) if dy else None)

    def jvp(self, tangents, z, x, y):
        tx, ty = tangents
        return either(None if tx is None else matmul(tx, y), None if ty is None else matmul(x, ty))


def _matmul_dy(g, xm, ym, y):
    """∂L/∂y of x @ y from the gradient g of the matrix form, summed over a shared batch."""
    if xm.ndim > 2 and ym.ndim == 2:
        d = _fold_batch(xm).mT @ _fold_batch(g)
    else:
        d = xm.mT @ g
    return d.squeeze(-1) if y.ndim == 1 else d


class Addmm(Op):
    """z = x + a @ b for matrices a (n, k) and b (k, m); x broadcasts to (n, m) (as torch.addmm).

    ∂L/∂x = G (summed back to x's shape by the engine),  ∂L/∂a = G bᵀ,  ∂L/∂b = aᵀ G.
    One op instead of two for the step of a recurrence, x_t W_ihᵀ + h W_hhᵀ.
    """

    saves = {"x": "", "a": "b", "b": "a"}

    def forward(self, x, a, b):
        if a.ndim != 2 or b.ndim != 2:
            raise ValueError(f"addmm: a and b must be matrices, got shapes {a.shape} and {b.shape}")
        if a.shape[1] != b.shape[0]:
            inner = f"{a.shape[1]} != {b.shape[0]}"
            raise ValueError(f"addmm: shapes {a.shape} and {b.shape} are not aligned ({inner})")
        return np.add(x, a @ b)

    def backward(self, grad, z, x, a, b, needs_input_grad):
        dx, da, db = needs_input_grad
        return grad, (grad @ b.T if da else None), (a.T @ grad if db else None)

    def jvp(self, tangents, z, x, a, b):
        tx, ta, tb = tangents
        product = either(None if ta is None else ta @ b, None if tb is None else a @ tb)
        return either(tx, product)


matmul = Matmul()
addmm = Addmm()
