"""Every differentiable op, grouped by domain; ``registry()`` lists them all.

* ``elementwise``: + − × ÷ **, clone, neg, exp, log, sin, cos, sqrt, abs, sign, sigmoid, tanh,
  relu, maximum, minimum, where, clip, to (+ isnan, isinf, isfinite, outside the graph)
* ``special``: log1p, expm1, erf
* ``activations``: softplus (+ logsigmoid, silu, gelu, elu, leaky_relu: compositions)
* ``rounding``: floor_divide (//), remainder (%), round (+ the bitwise & | ^ ~)
* ``reduction``: sum, mean, max, min, prod, logsumexp, log_softmax, cumsum (+ argmax, argmin,
  any, all: not differentiable)
* ``norms``: var, std, norm (compositions)
* ``shape``: reshape, permute, broadcast_to, stack, concatenate (+ transpose, split, unbind,
  squeeze, unsqueeze, flatten, and view and expand, which are Tensor methods only)
* ``indexing``: getitem, index_put
* ``selection``: flip, roll, pad, tril, triu, gather, masked_fill (compositions)
* ``linalg``: matmul, addmm

``arguments.py`` lets each take PyTorch's ``dim=`` and ``keepdim=`` beside numpy's names.

To add an op, subclass ``minigrad.Op`` (``minigrad/graph.py``) (forward and backward side by
side, the math in the docstring), create one instance, and check it against its SymPy row
with ``minigrad.testing.check_row``; an op of the package has its row in ``spec/op_table.py``.
docs/extending.md has the whole recipe.
"""

from ..graph import Op
from .activations import elu, gelu, leaky_relu, logsigmoid, silu, softplus
from .elementwise import (
    abs,
    add,
    clamp,
    clip,
    clone,
    compare,
    cos,
    div,
    exp,
    isfinite,
    isinf,
    isnan,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    to,
    where,
)
from .indexing import getitem, index_put
from .linalg import addmm, matmul
from .norms import norm, std, var
from .reduction import (
    all,
    any,
    argmax,
    argmin,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    sum,
)
from .rounding import bitwise, floor_divide, remainder, round
from .selection import flip, gather, masked_fill, pad, roll, tril, triu
from .shape import (
    DETACH,
    broadcast_to,
    cat,
    concatenate,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unbind,
    unsqueeze,
)
from .special import erf, expm1, log1p

__all__ = [
    "Op",
    "registry",
    "unregister",
    "abs",
    "add",
    "addmm",
    "all",
    "any",
    "argmax",
    "argmin",
    "bitwise",
    "broadcast_to",
    "cat",
    "clamp",
    "clip",
    "clone",
    "compare",
    "concatenate",
    "cos",
    "cumsum",
    "div",
    "elu",
    "erf",
    "exp",
    "expm1",
    "flatten",
    "flip",
    "floor_divide",
    "gather",
    "gelu",
    "getitem",
    "index_put",
    "isfinite",
    "isinf",
    "isnan",
    "leaky_relu",
    "log",
    "log1p",
    "log_softmax",
    "logsigmoid",
    "logsumexp",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "norm",
    "pad",
    "permute",
    "pow",
    "prod",
    "relu",
    "remainder",
    "reshape",
    "roll",
    "round",
    "sigmoid",
    "sign",
    "silu",
    "sin",
    "softplus",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "tanh",
    "to",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "unsqueeze",
    "var",
    "where",
]


def registry():
    """Every registered op, by name: an instance of an ``Op`` subclass registers itself."""
    return dict(Op.registry)


def unregister(name):
    """Remove an op from the registry (for ops defined in tests or notebooks). To put a new op
    in the place of a registered one, make it with ``replace=True`` instead (``minigrad.Op``)."""
    del Op.registry[name]
