"""RMSprop (Tieleman and Hinton, 2012; Graves, 2013, trains with it), as ``torch.optim.RMSprop``."""

import numpy as np

from .optimizer import Optimizer, descent_gradient, flag, non_negative


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients. For gradient g
    (in this order, as ``torch.optim.RMSprop``):

        g ← −g,  g ← g + weight_decay · θ      (``descent_gradient``)
        v ← α v + (1 − α) g²                    (square_avg)
        ḡ ← ḡ + (1 − α)(g − ḡ)                  (grad_avg, with centered)
        s ← √(v − ḡ²) + eps  with centered, else  s ← √v + eps
        b ← momentum · b + g / s,  θ ← θ − lr · b     when momentum > 0
        θ ← θ − lr · g / s                             otherwise

    Centering divides by an estimate of the gradient's standard deviation instead of its root
    mean square (Graves, 2013, eq. 38-41, has it with momentum). As PyTorch: lr, alpha, eps,
    weight_decay and momentum must be >= 0; every number must also be finite.
    """

    hyperparameters = dict(
        lr=non_negative,
        alpha=non_negative,
        eps=non_negative,
        weight_decay=non_negative,
        momentum=non_negative,
        centered=flag,
        maximize=flag,
    )

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        *,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def update(self, param, grad, state, group):
        grad = descent_gradient(param, grad, group)
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state.update(step=0.0, square_avg=np.zeros_like(param.data))
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * grad * grad
        if group["centered"]:
            mean = state.setdefault("grad_avg", np.zeros_like(param.data))
            mean += (1 - alpha) * (grad - mean)
            scale = np.sqrt(v - mean * mean) + group["eps"]
        else:
            scale = np.sqrt(v) + group["eps"]
        if momentum > 0:
            buffer = state.setdefault("momentum_buffer", np.zeros_like(param.data))
            buffer *= momentum
            buffer += grad / scale
            param.add_(buffer, alpha=-group["lr"])
        else:
            param.add_(-group["lr"] * grad / scale)
