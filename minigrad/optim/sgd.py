"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov, as PyTorch."""

from .optimizer import Optimizer, descent_gradient, finite, flag, non_negative


class SGD(Optimizer):
    """θ ← θ − lr · d, where, for gradient g (in this order, as ``torch.optim.SGD``):

        g ← −g                          if maximize
        g ← g + weight_decay · θ        (θ before this step)
        b ← g  on the first step, else  b ← momentum · b + (1 − dampening) · g
        d ← g + momentum · b  with nesterov, else  d ← b        (when momentum ≠ 0)

    With no momentum it is the plain rule θ ← θ − lr · ∇J. As PyTorch: lr, momentum and
    weight_decay must be >= 0, and nesterov needs momentum > 0 and dampening 0; every number must
    also be finite.
    """

    hyperparameters = dict(
        lr=non_negative,
        momentum=non_negative,
        dampening=finite,
        weight_decay=non_negative,
        nesterov=flag,
        maximize=flag,
    )

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_group(self, group, owner=None):
        owner = owner or type(self).__name__
        super().check_group(group, owner)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"{owner}: nesterov needs momentum > 0 and dampening = 0, got momentum "
                f"{group['momentum']} and dampening {group['dampening']}"
            )

    def update(self, param, grad, state, group):
        grad = descent_gradient(param, grad, group)
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.copy()
            else:
                buffer *= momentum
                buffer += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param.add_(grad, alpha=-group["lr"])
