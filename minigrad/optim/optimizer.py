"""Optimizer: parameter groups, per-parameter state, and a state_dict that resumes exactly.

A subclass defines ``defaults`` (its hyperparameters), ``hyperparameters``
(the check each one must pass) and ``update``: how one parameter changes
given its gradient. The base class checks every group it is given (at
construction, in ``add_param_group`` and in ``load_state_dict``), walks the
groups, skips parameters without a gradient, and runs under ``no_grad``.
"""

import copy
import math
import numbers

import numpy as np

from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor

# ---- hyperparameter checks ----------------------------------------------------------------------
# Each takes the owner ("SGD", "Adam", ...) for the message, the argument's name and its value, and
# returns the value (numpy scalars and 0-d arrays, as a checkpoint gives them back, become Python
# numbers) or raises TypeError for the wrong kind of value and ValueError for one out of range.


def _unwrap(value):
    if isinstance(value, (np.ndarray, np.generic)) and value.ndim == 0:
        return value.item()
    return value


def check_number(owner, key, value, expected="a finite number", within=lambda x: True):
    """``value`` must be a real number (a bool is not one), finite, and ``within`` it must hold:
    NaN and inf are refused whatever the range."""
    value = _unwrap(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {key} must be {expected}, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and within(value)):
        raise ValueError(f"{owner}: {key} must be {expected}, got {value}")
    return value


def finite(owner, key, value):
    """Any finite real number."""
    return check_number(owner, key, value)


def non_negative(owner, key, value):
    """A finite real number >= 0 (PyTorch's range for lr, eps, momentum, weight_decay)."""
    return check_number(owner, key, value, "a finite number >= 0", lambda x: x >= 0)


def positive(owner, key, value):
    """A finite real number > 0."""
    return check_number(owner, key, value, "a finite number > 0", lambda x: x > 0)


def flag(owner, key, value):
    """True or False (numpy's bool too); 1, 0, "yes" and None are refused."""
    value = _unwrap(value)
    if not isinstance(value, bool):
        raise TypeError(
            f"{owner}: {key} must be True or False, got {type(value).__name__} {value!r}"
        )
    return value


def descent_gradient(param, grad, group):
    """The gradient a step goes against, as PyTorch's optimisers take it (but AdamW):

    g ← −g                      if maximize
    g ← g + weight_decay · θ    (the gradient of the L2 penalty, θ from before the step)
    """
    if group["maximize"]:
        grad = -grad
    if group["weight_decay"] != 0:
        grad = grad + group["weight_decay"] * param.data
    return grad


class Optimizer:
    """Base of SGD, Adam, AdamW, RMSprop and Adagrad, as ``torch.optim.Optimizer``.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups) that
    each hold ``"params"`` plus hyperparameters that override the defaults.
    Every hyperparameter is checked, the defaults included, and a bad one
    raises TypeError or ValueError naming the optimiser, the argument and the
    value.
    """

    hyperparameters = {}  # name -> check (one of the functions above), in a subclass

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.check_group(self.defaults)
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
        """Add a group: a dict with ``"params"`` and any hyperparameters to override (checked as
        the constructor checks its arguments)."""
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

    def check_group(self, group, owner=None):
        """Check each of ``group``'s hyperparameters with its entry in ``hyperparameters`` and
        store the value the check returns. ``owner`` begins the messages (the class name)."""
        owner = owner or type(self).__name__
        for key, check in self.hyperparameters.items():
            group[key] = check(owner, key, group[key])

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
        """Restore state saved by ``state_dict``, so that training continues exactly.

        Everything is checked before anything changes: the number of groups and of parameters
        in each, every hyperparameter (as the constructor checks them), and that each array in
        a parameter's state has that parameter's shape. Arrays are cast to its dtype.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        saved_groups = state_dict["param_groups"]
        self._check_layout(saved_groups, owner)
        groups, where = [], {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            merged = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            self.check_group(merged, f"{owner}: group {i}")
            groups.append(merged)
            for j, (index, p) in enumerate(zip(saved["params"], group["params"])):
                where[index] = (f"parameter {index} (group {i}, position {j})", p)
        state = {}
        for key, values in state_dict["state"].items():
            if int(key) not in where:
                raise ValueError(
                    f"{owner}: the state has an entry for parameter {key}, "
                    f"the optimizer has parameters 0 to {len(where) - 1}"
                )
            name, p = where[int(key)]
            state[p] = _param_state(values, p, f"{owner}: {name}")
        for group, merged in zip(self.param_groups, groups):
            group.update(merged)
        self.state = state

    def _check_layout(self, saved_groups, owner):
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{owner}: the state has {len(saved_groups)} parameter groups, "
                f"the optimizer {len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{owner}: group {i} has {len(saved['params'])} parameters in "
                    f"the state and {len(group['params'])} in the optimizer"
                )

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _param_state(values, param, where):
    """One parameter's loaded state: each array must have the parameter's shape, and is copied
    to its dtype. The step count becomes a Python float, from a number or a 0-d array (PyTorch
    keeps it as a 0-d tensor), so that a state from PyTorch loads; other values are kept."""
    state = {}
    for key, value in values.items():
        if key == "step":
            value = float(non_negative(where, key, np.asarray(value)))
        elif isinstance(value, np.ndarray):
            if value.shape != param.shape:
                raise ValueError(
                    f"{where}: {key} has shape {value.shape} in the state, "
                    f"the parameter has shape {param.shape}"
                )
            value = np.array(value, dtype=param.dtype)
        state[key] = value
    return state
