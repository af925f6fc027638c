"""Module: the base class of layers, with PyTorch's registration, traversal and state_dict.

A Module owns Parameters, buffers and sub-modules. Assigning one as an
attribute (``self.weight = Parameter(...)``, ``self.cell = RNNCell(...)``)
registers it under the attribute's name, so ``named_parameters()`` can walk
the tree and produce dotted names such as ``rnn.weight_hh_l0``.
"""

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from .. import hooks
from ..array_methods import check_requires_grad
from ..switches import mode
from ..tensor import Tensor
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


FUNCTIONAL_CALL_ADVICE = "; to run with other values, use minigrad.nn.utils.functional_call"


class Module:
    """Base class for every layer. Subclasses define ``forward``; calling the module runs it."""

    @property
    def training(self):
        """Whether the module is in training mode (``train()``, ``eval()``). A function being
        compiled that reads it makes its plan depend on it: the plan retraces when it changes."""
        if mode.trace is not None:
            mode.trace.guard(self, "training", self._training)
        return self._training

    @training.setter
    def training(self, value):
        object.__setattr__(self, "_training", bool(value))

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        for kind in ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks"):
            object.__setattr__(self, kind, OrderedDict())

    # ---- registration: attributes stay plain attributes, and are also listed by kind ----------

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign '{name}' before Module.__init__() is called; "
                "call super().__init__() first"
            )
        self._check_assignment(name, value)
        store = self._store_for(name, value)
        if store is not None:
            store[name] = value
        object.__setattr__(self, name, value)

    def _check_assignment(self, name, value):
        """A name registered as a parameter, a buffer or a child module takes only its kind, or
        None (a TypeError naming the kind given, as PyTorch)."""
        roles = (
            (self._parameters, Parameter, "parameter", FUNCTIONAL_CALL_ADVICE),
            (self._buffers, Tensor, "buffer", ""),
            (self._modules, Module, "child module", ""),
        )
        for store, kind, role, advice in roles:
            if name in store and not (value is None or isinstance(value, kind)):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} as {role} '{name}' "
                    f"(a {kind.__name__} or None is expected){advice}"
                )

    def _store_for(self, name, value):
        """Where an assignment is registered: a Parameter (or a parameter's name) among the
        parameters, a Module among the children, a buffer's name among the buffers; None for
        a plain attribute."""
        if isinstance(value, Parameter) or name in self._parameters:
            return self._parameters
        if isinstance(value, Module) or name in self._modules:
            return self._modules
        return self._buffers if name in self._buffers else None

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as a disabled bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: expected a Parameter or None, got {type(param).__name__}"
            )
        setattr(self, name, param)
        if param is None:
            self._parameters[name] = None

    def register_buffer(self, name, tensor):
        """Register a Tensor that is part of the state (in ``state_dict``) but not trained."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: expected a Tensor, got {type(tensor).__name__}")
        setattr(self, name, tensor)
        self._buffers[name] = tensor

    def add_module(self, name, module):
        """Register ``module`` (a Module, or None) as the child ``name``, as PyTorch does: the
        name must be a non-empty str without a dot, and not another attribute's name."""
        if not isinstance(name, str):
            raise TypeError(f"add_module: the name must be a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise ValueError(f"add_module: the name must be non-empty, without '.', got {name!r}")
        if hasattr(self, name) and name not in self._modules:
            owner = type(self).__name__
            raise ValueError(f"add_module: {owner} already has an attribute named {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: expected a Module or None, got {type(module).__name__}")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    # ---- calling ------------------------------------------------------------------------------

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return hooks.call_with_hooks(self, args, kwargs)
        if mode.trace is not None:  # a compiled plan holds only while this module is as now
            mode.trace.module(self)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before ``forward``; it may return new arguments (a
        tuple, or one value). Returns a handle whose ``remove()`` takes it away."""
        return hooks._registered(self._forward_pre_hooks, hook, "register_forward_pre_hook")

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after ``forward``; it may return a new output."""
        return hooks._registered(self._forward_hooks, hook, "register_forward_hook")

    def register_full_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` once the gradients with respect to the
        module's tensor inputs are computed; it may return a new ``grad_input``."""
        return hooks._registered(self._backward_hooks, hook, "register_full_backward_hook")

    # ---- traversal ----------------------------------------------------------------------------

    def named_modules(self, prefix=""):
        """This module and every sub-module, depth first, each once, with dotted names."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(n, m) for n, m in module._modules.items() if m is not None]
            for child_name, child in reversed(children):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        yield from ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs; a Parameter shared by two modules is listed once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix=""):
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self):
        for _, buffer in self.named_buffers():
            yield buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, children before parents, ending with this
        module, as PyTorch's ``apply``; returns self. Its use is initialisation:
        ``model.apply(init_weights)`` with ``init_weights`` testing ``isinstance(m, nn.Linear)``."""
        if not callable(fn):
            raise TypeError(f"apply: expected a function of a module, got {type(fn).__name__}")
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ------------------------------------------------------------------

    def train(self, mode=True):
        """Set training mode on this module and every sub-module; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: None (the default, as in PyTorch) or zeros."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.zero_()

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` (True or False) on every parameter; returns self."""
        requires_grad = check_requires_grad(requires_grad, f"{type(self).__name__}.requires_grad_")
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def to(self, dtype):
        """Cast every parameter and buffer to ``dtype`` (float32 or float64) in place."""
        dtype = np.dtype(dtype)
        for tensor in [*self.parameters(), *self.buffers()]:
            tensor.data = tensor.data.astype(dtype)
            tensor._bump_version()
            tensor.grad = None
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # ---- state --------------------------------------------------------------------------------

    def _state_items(self):
        for module_name, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, tensor in registry.items():
                    if tensor is not None:
                        yield (f"{module_name}.{name}" if module_name else name), tensor

    def state_dict(self):
        """An OrderedDict from dotted name to a copy of each parameter and buffer (numpy arrays)."""
        return OrderedDict((name, tensor.data.copy()) for name, tensor in self._state_items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into the parameters and buffers, as PyTorch does.

        Values may be numpy arrays, Tensors or anything ``np.asarray`` takes;
        they are cast to each parameter's dtype. Any shape mismatch raises, and
        with ``strict`` any missing or unexpected key raises too. The error
        lists every problem, and nothing is changed when it raises. Returns
        ``(missing_keys, unexpected_keys)``. Anything but a mapping (a dict, an
        OrderedDict) is a TypeError.
        """
        _check_mapping(state_dict)
        own = OrderedDict(self._state_items())
        values = {
            k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state_dict.items()
        }
        missing = [k for k in own if k not in values]
        unexpected = [k for k in values if k not in own]
        problems = _load_problems(own, values, missing, unexpected, strict)
        if problems:
            raise RuntimeError(
                f"load_state_dict: cannot load into {type(self).__name__}:\n  "
                + "\n  ".join(problems)
            )
        for name, tensor in own.items():
            if name in values:
                np.copyto(tensor.data, values[name], casting="unsafe")
                tensor._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -----------------------------------------------------------------------------

    def extra_repr(self):
        """The text inside this module's parentheses in ``repr``."""
        return ""

    def __repr__(self):
        lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._modules.items()
        ]
        header = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return header + ")"
        return header + "\n  " + "\n  ".join(lines) + "\n)"


def _check_mapping(state_dict):
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            "load_state_dict: expected a mapping from names to values, as state_dict() "
            f"returns, got {type(state_dict).__name__}"
        )


def _load_problems(own, values, missing, unexpected, strict):
    """What stops a state_dict from loading, one line each: every shape that differs, and with
    ``strict`` every missing and unexpected key."""
    problems = [
        f"{k}: checkpoint has shape {values[k].shape}, the model has {own[k].shape}"
        for k in own
        if k in values and values[k].shape != own[k].shape
    ]
    if strict:
        problems += [f"missing key: {k}" for k in missing]
        problems += [f"unexpected key: {k}" for k in unexpected]
    return problems
