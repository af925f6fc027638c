"""minigrad: a small reverse-mode autograd engine on numpy, verified by an executable spec.

Start reading at ``tensor.py`` (the Tensor), then ``graph.py`` (how calling an
op records the graph), ``engine.py`` (how backward walks it), then ``ops/``
(each op's forward and backward side by side).
"""

# First: started as a command (python -m minigrad), a signal during the imports below is held
# for the command line to report in one line; imported as a library, nothing changes.
from . import signals as _signals

# isort: split
import numpy as _np

# Tensor first: the engine and the ops are built on it.
from .tensor import Tensor

# isort: split
from . import autograd, functional, nn, ops, optim
from .autograd import grad
from .compiler import compile
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .graph import Op
from .ops import (
    abs,
    add,
    addmm,
    all,
    any,
    argmax,
    argmin,
    broadcast_to,
    cat,
    clamp,
    clip,
    clone,
    concatenate,
    cos,
    cumsum,
    div,
    elu,
    erf,
    exp,
    expm1,
    flatten,
    flip,
    floor_divide,
    gather,
    gelu,
    index_put,
    isfinite,
    isinf,
    isnan,
    leaky_relu,
    log,
    log1p,
    log_softmax,
    logsigmoid,
    logsumexp,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    norm,
    pad,
    permute,
    pow,
    prod,
    relu,
    remainder,
    reshape,
    roll,
    round,
    sigmoid,
    sign,
    silu,
    sin,
    softplus,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
    var,
    where,
)
from .random import get_rng_state, initial_seed, manual_seed, set_rng_state
from .serialization import CheckpointError, load, save

# isort: split
# The study and checking tools, as torch.testing is there after `import torch`: none of them
# imports SymPy or matplotlib until it is used.
from . import testing, theory, utils, viz

float32 = _np.dtype(_np.float32)
float64 = _np.dtype(_np.float64)
int64 = _np.dtype(_np.int64)
bool_ = _np.dtype(bool)

__version__ = "0.1.0"
