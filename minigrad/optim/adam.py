"""Adam (Kingma and Ba, 2015) with PyTorch's bias correction and operation order."""

import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    """For gradient g at step t (as ``torch.optim.Adam``):

    g ← −g                             if maximize
    g ← g + weight_decay · θ           (L2 penalty, not AdamW's decoupled decay)
    m ← m + (1 − β₁)(g − m)            = β₁ m + (1 − β₁) g
    v ← β₂ v + (1 − β₂) g²
    v̂ ← max(v̂, v)                      with amsgrad (v̂ is then used for v)
    θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def check_group(self, group):
        for key in ("lr", "eps", "weight_decay"):
            if group[key] < 0:
                raise ValueError(f"Adam: {key} must be non-negative, got {group[key]}")
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Adam: betas[{i}] must be in [0, 1), got {beta}")

    def update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param.data
        if not state:
            state["step"] = 0.0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param.data)
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
