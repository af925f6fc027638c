"""Containers, as in ``torch.nn``: Sequential, ModuleList, ModuleDict and ParameterList.

A container registers what it holds under PyTorch's names: the modules of a
Sequential or ModuleList, and the parameters of a ParameterList, are named
0, 1, 2, ...; a ModuleDict's modules are named by their keys. So a model
built with them has PyTorch's ``state_dict`` keys (``layers.0.weight``,
``heads.out.bias``, ``scales.1``), and a PyTorch state_dict loads into it.
"""

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _position(index, length, owner):
    """An int index in [−length, length) as a position in [0, length)."""
    if isinstance(index, bool) or not hasattr(index, "__index__"):
        raise TypeError(f"{owner}: indices must be integers or slices, got {type(index).__name__}")
    index = index.__index__()
    if not -length <= index < length:
        raise IndexError(f"{owner}: index {index} is out of range for length {length}")
    return index % length


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: modules named 0, 1, 2, ... kept in order."""

    def _module(self, module):
        if not isinstance(module, Module):
            owner, kind = type(self).__name__, type(module).__name__
            raise TypeError(f"{owner}: expected a Module, got {kind}")
        return module

    def _renumber(self, modules):
        """Hold exactly ``modules``, renamed 0, 1, 2, ..."""
        for name in list(self._modules):
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), self._module(module))

    def append(self, module):
        self.add_module(str(len(self)), self._module(module))
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self)
        modules.insert(index, self._module(module))
        self._renumber(modules)

    def pop(self, index=-1):
        modules = list(self)
        module = modules.pop(_position(index, len(modules), type(self).__name__))
        self._renumber(modules)
        return module

    def __getitem__(self, index):
        modules = list(self)
        if isinstance(index, slice):
            return type(self)._of(modules[index])
        return modules[_position(index, len(modules), type(self).__name__)]

    def __setitem__(self, index, module):
        self.add_module(str(_position(index, len(self), type(self).__name__)), self._module(module))

    def __delitem__(self, index):
        modules = list(self)
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position(index, len(modules), type(self).__name__)]
        self._renumber(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return type(self)._of([*self, *other])


class Sequential(_ModuleSequence):
    """``Sequential(a, b, c)(x) = c(b(a(x)))``; sub-modules are named 0, 1, 2, ... as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        self.extend(modules)

    @classmethod
    def _of(cls, modules):
        return cls(*modules)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules, as ``torch.nn.ModuleList``: indexing, slicing, ``append``,
    ``extend``, ``insert``, ``pop``, ``del``, ``len``, iteration and ``+``. It has no forward:
    the module that holds it says how its modules are used. Modules are named 0, 1, 2, ...,
    and renumbered when one is inserted or removed."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @classmethod
    def _of(cls, modules):
        return cls(modules)


class ModuleDict(Module):
    """An ordered dict of modules, as ``torch.nn.ModuleDict``: each is registered under its key,
    which must be a str without a dot and not a name the ModuleDict already has (``keys``,
    ``training``). Keys keep the order they were first set in."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: expected a Module, got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key):
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add or replace modules from a mapping, or from an iterable of (key, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for pair in pairs:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"ModuleDict.update: expected (key, module) pairs, got {pair!r}")
            self[pair[0]] = pair[1]

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self._modules):
            del self[key]


class ParameterList(Module):
    """A list of Parameters, as ``torch.nn.ParameterList``, named 0, 1, 2, ... A Tensor that is
    not a Parameter becomes one, sharing its data, as in PyTorch; anything else is a
    TypeError (PyTorch would keep it as a plain attribute)."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    @staticmethod
    def _parameter(value):
        if isinstance(value, Parameter):
            return value
        if isinstance(value, Tensor):
            return Parameter(value)
        kind = type(value).__name__
        raise TypeError(f"ParameterList: expected a Parameter or Tensor, got {kind}")

    def append(self, value):
        self.register_parameter(str(len(self)), self._parameter(value))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __getitem__(self, index):
        params = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(params[index])
        return params[_position(index, len(params), "ParameterList")]

    def __setitem__(self, index, value):
        name = str(_position(index, len(self), "ParameterList"))
        self.register_parameter(name, self._parameter(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, values):
        return self.extend(values)
