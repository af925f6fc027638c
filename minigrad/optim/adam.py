"""Adam (Kingma and Ba, 2015) with PyTorch's bias correction and operation order, and AdamW
(Loshchilov and Hutter, 2019): Adam with decoupled weight decay."""

import math

import numpy as np

from .optimizer import Optimizer, check_number, descent_gradient, flag, non_negative


def betas_pair(owner, key, value):
    """A tuple or list of two finite numbers, each in [0, 1); returned as a tuple."""
    expected = "a pair of numbers in [0, 1)"
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{owner}: {key} must be {expected}, got {type(value).__name__} {value!r}")
    if len(value) != 2:
        raise ValueError(f"{owner}: {key} must be {expected}, got {len(value)} values {value!r}")
    return tuple(
        check_number(owner, f"{key}[{i}]", beta, "a number in [0, 1)", lambda x: 0 <= x < 1)
        for i, beta in enumerate(value)
    )


class Adam(Optimizer):
    """For gradient g at step t (as ``torch.optim.Adam``):

    g ← −g                             if maximize
    g ← g + weight_decay · θ           (L2 penalty), or, with decoupled_weight_decay (AdamW),
    θ ← θ (1 − lr · weight_decay)      instead
    m ← m + (1 − β₁)(g − m)            = β₁ m + (1 − β₁) g
    v ← β₂ v + (1 − β₂) g²
    v̂ ← max(v̂, v)                      with amsgrad (v̂ is then used for v)
    θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)

    As PyTorch: lr, eps and weight_decay must be >= 0 and each beta in [0, 1); every number must
    also be finite.
    """

    hyperparameters = dict(
        lr=non_negative,
        betas=betas_pair,
        eps=non_negative,
        weight_decay=non_negative,
        amsgrad=flag,
        maximize=flag,
        decoupled_weight_decay=flag,
    )

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        maximize=False,
        *,
        decoupled_weight_decay=False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        if not group["decoupled_weight_decay"]:
            grad = descent_gradient(param, grad, group)
        else:
            grad = -grad if group["maximize"] else grad
            if group["weight_decay"] != 0:
                param.mul_(1 - group["lr"] * group["weight_decay"])
        if not state:
            state.update(_moments(param, group["amsgrad"]))
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (grad - m)
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step = state["step"]
        step_size = group["lr"] / (1 - beta1**step)
        denom = np.sqrt(v) / math.sqrt(1 - beta2**step) + group["eps"]
        param.add_(-step_size * m / denom)


def _moments(param, amsgrad):
    """Adam's first state: step 0 and zero moments (and their running maximum, with amsgrad)."""
    state = {"step": 0.0, "exp_avg": np.zeros_like(param.data)}
    state["exp_avg_sq"] = np.zeros_like(param.data)
    if amsgrad:
        state["max_exp_avg_sq"] = np.zeros_like(param.data)
    return state


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as ``torch.optim.AdamW``:
    each step first shrinks θ ← θ (1 − lr · weight_decay), then takes Adam's step on the
    gradient alone, so the decay is not rescaled by √v. weight_decay defaults to 1e-2.
    ``decoupled_weight_decay`` is always True, as in PyTorch (a loaded state cannot turn it off).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True
        )

    def check_group(self, group, owner=None):
        super().check_group(group, owner)
        group["decoupled_weight_decay"] = True
