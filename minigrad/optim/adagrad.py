"""Adagrad (Duchi, Hazan and Singer, 2011), as ``torch.optim.Adagrad``."""

import numpy as np

from .optimizer import Optimizer, descent_gradient, flag, non_negative


class Adagrad(Optimizer):
    """Scale each coordinate's step by the root of its summed squared gradients. For gradient g
    at step t (as ``torch.optim.Adagrad``):

        g ← −g,  g ← g + weight_decay · θ          (``descent_gradient``)
        lr_t ← lr / (1 + (t − 1) · lr_decay)
        s ← s + g²                                  (sum, starting at initial_accumulator_value)
        θ ← θ − lr_t · g / (√s + eps)

    As in PyTorch, every parameter's state (step 0 and its sum) exists from the start, so
    ``state_dict()`` lists it before the first step. Each group's sum starts at that group's
    ``initial_accumulator_value`` (PyTorch uses the constructor's for every group). lr,
    lr_decay, weight_decay, initial_accumulator_value and eps must be >= 0 and finite.
    """

    hyperparameters = dict(
        lr=non_negative,
        lr_decay=non_negative,
        weight_decay=non_negative,
        initial_accumulator_value=non_negative,
        eps=non_negative,
        maximize=flag,
    )

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def add_param_group(self, group):
        super().add_param_group(group)
        added = self.param_groups[-1]
        for p in added["params"]:
            self.state[p] = _initial_state(p, added)

    def update(self, param, grad, state, group):
        if not state:  # a loaded state_dict may leave a parameter out
            state.update(_initial_state(param, group))
        state["step"] += 1
        grad = descent_gradient(param, grad, group)
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"]
        total += grad * grad
        param.add_(-lr * grad / (np.sqrt(total) + group["eps"]))


def _initial_state(param, group):
    return {"step": 0.0, "sum": np.full_like(param.data, group["initial_accumulator_value"])}
