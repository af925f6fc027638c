"""Tools around the engine, named as in ``torch.autograd``.

* ``backward``: reverse mode into ``.grad`` (``minigrad.engine``); ``grad``: the
  same pass, returning the gradients (``functional.py``).
* ``gradcheck``: analytic gradients against central finite differences.
* ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``: whole derivatives of a function
  (``jvp`` is forward mode's J v).
* ``forward_ad``: forward mode, with PyTorch's names (``dual_level``, ``make_dual``,
  ``unpack_dual``): tensors carry tangents, and each op's JVP rule carries them on.
* ``detect_anomaly``: stop at the first op that produces NaN or inf.
* ``trace_backward``: watch a backward pass run, node by node (``trace.py``).
"""

from ..engine import backward
from ..grad_mode import detect_anomaly, enable_grad, no_grad, set_grad_enabled
from . import forward_ad
from .functional import grad, hessian, hvp, jacobian, jvp, vjp
from .gradcheck import GradcheckError, gradcheck
from .trace import trace_backward

__all__ = [
    "GradcheckError",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "forward_ad",
    "grad",
    "gradcheck",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "no_grad",
    "set_grad_enabled",
    "trace_backward",
    "vjp",
]
