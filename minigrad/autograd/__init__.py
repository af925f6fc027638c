"""Tools around the engine, named as in ``torch.autograd``.

* ``backward``: reverse mode into ``.grad`` (``minigrad.engine``); ``grad``: the
  same pass, returning the gradients (``functional.py``).
* ``gradcheck``: analytic gradients against central finite differences.
* ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``: whole derivatives of a function
  (``jvp``, forward mode's J v, by two reverse passes).
* ``detect_anomaly``: stop at the first op that produces NaN or inf.
* ``trace_backward``: watch a backward pass run, node by node (``trace.py``).
"""

from ..engine import backward
from ..grad_mode import detect_anomaly, enable_grad, no_grad, set_grad_enabled
from .functional import grad, hessian, hvp, jacobian, jvp, vjp
from .gradcheck import GradcheckError, gradcheck
from .trace import trace_backward

__all__ = [
    "GradcheckError",
    "backward",
    "detect_anomaly",
    "enable_grad",
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
