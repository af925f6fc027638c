"""Optimizer: parameter groups, per-parameter state, and a state_dict that resumes exactly.

A subclass defines ``defaults`` (its hyperparameters), ``check_group`` and
``update``: how one parameter changes given its gradient. The base class
walks the groups, skips parameters without a gradient, and runs under
``no_grad``.
"""

import copy

import numpy as np

from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class Optimizer:
    """Base of SGD and Adam, as ``torch.optim.Optimizer``.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups) that
    each hold ``"params"`` plus hyperparameters that override the defaults.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}  # parameter -> dict of its state (momentum buffer, moments, step)
        self.param_groups = []
        groups = [params] if isinstance(params, Tensor) else list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group: a dict with ``"params"`` and any hyperparameters to override."""
        name = type(self).__name__
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: cannot optimize a non-leaf tensor (it has grad_fn <{p.grad_fn.name}>)"
                )
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter appears in more than one group")
            seen.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check_group(group)
        self.param_groups.append(group)

    def check_group(self, group):
        """Raise ValueError for a hyperparameter out of range."""

    def zero_grad(self, set_to_none=True):
        """Clear the gradients: to None (the default, as in PyTorch), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self.update(p, p.grad.data, self.state.setdefault(p, {}), group)
        return loss

    def update(self, param, grad, state, group):
        """Change ``param`` in place, given its gradient (a numpy array) and its state dict."""
        raise NotImplementedError

    # ---- saving and resuming ------------------------------------------------------------------

    def state_dict(self):
        """PyTorch's layout: ``{"state": {i: {...}}, "param_groups": [{..., "params": [i]}]}``.

        Parameters are numbered in group order; arrays are copies.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: copy.deepcopy(values)
            for p, values in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore state saved by ``state_dict``, so that training continues exactly."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(saved_groups)} parameter groups, "
                f"the optimizer {len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: group {i} has {len(saved['params'])} parameters in "
                    f"the state and {len(group['params'])} in the optimizer"
                )
        by_index = {
            saved_index: p
            for saved, group in zip(saved_groups, self.param_groups)
            for saved_index, p in zip(saved["params"], group["params"])
        }
        state = {}
        for key, values in state_dict["state"].items():
            p = by_index[int(key)]
            state[p] = {
                k: np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray) else v
                for k, v in values.items()
            }
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"
