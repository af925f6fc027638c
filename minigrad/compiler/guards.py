"""Guards: the Python state a plan was traced under, checked before every replay.

A replay reruns the ops of the traced call. Anything else fn read from Python
is frozen into the plan: a number that decides a loop's length, a scale, which
tensor a global names, a module's flag. So before a plan is replayed, every
such thing it read must still be what it was; if one is not, the call
retraces (within ``cache_size``) instead of replaying a stale plan.

What is guarded, found when fn is traced:

* **fn's globals and closure cells**, and those of the Python functions they
  name (fn's helpers, followed a few levels deep, outside minigrad and numpy):
  numbers, strings, bools, None and tuples of them by value; numpy arrays by
  identity and contents; anything else by identity (``is``): a tensor, a
  module, a function, a list (its elements are not guarded);
* for a bound method (or a callable object), its object, and for any other
  object those reach, the attributes their code names: by the same rules;
* **every module fn called** (or whose ``training`` flag it read), and every
  submodule of one: its parameters, buffers and submodules by identity (a
  parameter replaced with ``lin.weight = Parameter(...)``, a submodule
  swapped), its ``training`` flag, and the numbers and strings its class's
  code names (``p``, ``num_layers``) by value;
* **every tensor read from outside**: its shape, dtype and ``requires_grad``
  (its values are read afresh at each replay, so in-place updates are fine).

Not guarded (docs/compile.md says so): an element of a list or a dict changed
in place, an attribute of a plain object reached through another object, and
state read by code in minigrad or numpy.
"""

import dis
import sys
import types

import numpy as np

from ..tensor import Tensor

_CONSTANTS = (bool, int, float, complex, str, bytes, type(None), np.generic)
_MISSING = object()
_DEPTH = 3  # how many levels of helper functions are followed


class Guards:
    """Three lists of checks: ``(container, key, expected)`` read with ``container.get``."""

    def __init__(self):
        self.same = []  # ... is expected
        self.equal = []  # ... == expected, and of the same type
        self.arrays = []  # (container, key, array, its copy): the same array, the same values
        self.tensors = []  # (tensor, shape, dtype, requires_grad)
        self._seen = set()

    def hold(self):
        """Whether the plan still fits: every guarded thing is as it was when it was traced."""
        return (
            all(container.get(key, _MISSING) is expected for container, key, expected in self.same)
            and all(_equal(container.get(key, _MISSING), v) for container, key, v in self.equal)
            and all(
                _same_array(container.get(key, _MISSING), a, copy)
                for container, key, a, copy in self.arrays
            )  # fmt: skip
            and all(_same_kind(t, *kind) for t, *kind in self.tensors)
        )

    def tensors_seen(self):
        """Every tensor a guard holds by identity, and every tensor read from outside."""
        held = [x for _, _, x in self.same if isinstance(x, Tensor)]
        return held + [t for t, *_ in self.tensors]

    def __len__(self):
        return len(self.same) + len(self.equal) + len(self.arrays) + len(self.tensors)

    # ---- what is found when fn is traced ----------------------------------------------------

    def add(self, container, key, value, depth=0, names=()):
        """Guard ``container[key]``, which holds ``value``, by the rules of the module docstring;
        ``names`` are the attribute names the code that reads it uses."""
        if _is_constant(value):
            self.equal.append((container, key, value))
            return
        if isinstance(value, np.ndarray):
            self.arrays.append((container, key, value, value.copy()))
            return
        self.same.append((container, key, value))
        if isinstance(value, types.FunctionType) and depth < _DEPTH and _users(value):
            self.function(value, depth + 1)
        elif hasattr(value, "_modules"):
            self.module(value)
        elif _plain_object(value) or _users_module(value):
            self.instance(value, names)

    def function(self, fn, depth=0):
        """Guard what fn reads from its globals and closure (and its helpers', to _DEPTH)."""
        if id(fn) in self._seen:
            return
        self._seen.add(id(fn))
        if isinstance(fn, types.MethodType):
            self.add({"self": fn.__self__}, "self", fn.__self__, depth, _names(fn.__func__))
            fn = fn.__func__
        if not isinstance(fn, types.FunctionType):  # a callable object
            call = getattr(type(fn).__call__, "__func__", type(fn).__call__)
            if not isinstance(call, types.FunctionType):
                return
            self.add({"self": fn}, "self", fn, depth, _names(call))
            fn = call
        names = _names(fn)
        for name in _global_names(fn.__code__):
            if name in fn.__globals__:
                self.add(fn.__globals__, name, fn.__globals__[name], depth, names)
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            self.add(_Cell(cell), name, _Cell(cell).get(name, _MISSING), depth, names)

    def instance(self, obj, names):
        """Guard the attributes of a plain object that the code reading it names."""
        if id(obj) in self._seen:
            return
        self._seen.add(id(obj))
        state = vars(obj)
        for key in names:
            if key in state:
                self.add(state, key, state[key], _DEPTH)

    def module(self, m):
        """Guard a module: its parameters, buffers and submodules (each a module too) by
        identity, its training flag, and the numbers and strings its class's code names."""
        if id(m) in self._seen:
            return
        self._seen.add(id(m))
        for registry in (m._parameters, m._buffers, m._modules):
            for key, value in registry.items():
                self.same.append((registry, key, value))
                if value is not None and hasattr(value, "_modules"):
                    self.module(value)
        state = vars(m)
        self.equal.append((state, "_training", state.get("_training", _MISSING)))
        for key in _class_names(type(m)):
            if key in state and _is_constant(state[key]):
                self.equal.append((state, key, state[key]))
        for method in _user_methods(type(m)):  # what a module of the user's class reads
            self.function(method, _DEPTH - 1)

    def tensor(self, t):
        self.tensors.append((t, t.shape, t.dtype, t.requires_grad))


def _equal(value, expected):
    """The same constant: identical, or of the same type and equal (a NaN is itself)."""
    return value is expected or type(value) is type(expected) and value == expected


def _same_array(value, array, copy):
    return value is array and np.array_equal(array, copy)


def _same_kind(t, shape, dtype, requires_grad):
    return t.shape == shape and t.dtype == dtype and t.requires_grad == requires_grad


class _Cell:
    """A closure cell, read like a dict (an empty cell is missing)."""

    __slots__ = ("cell",)

    def __init__(self, cell):
        self.cell = cell

    def get(self, key, default):
        try:
            return self.cell.cell_contents
        except ValueError:
            return default


def _is_constant(value):
    if isinstance(value, tuple):
        return all(map(_is_constant, value))
    return isinstance(value, _CONSTANTS) and not isinstance(value, Tensor)


def _users_module(value):
    """A Python module of the user's (a config module, say), not the standard library's,
    minigrad's or numpy's: its attributes that the code names are guarded."""
    if not isinstance(value, types.ModuleType):
        return False
    name = value.__name__.partition(".")[0]
    return name not in sys.stdlib_module_names and name not in ("minigrad", "numpy", "builtins")


def _user_methods(cls):
    """The functions defined in the user's classes among cls and its bases."""
    for klass in cls.__mro__:
        if _users(klass) and klass.__module__ != "builtins":
            yield from (f for f in vars(klass).values() if isinstance(f, types.FunctionType))


def _plain_object(value):
    """An instance of a class of the user's (not a module of Python's, a class, a function)."""
    plain = not isinstance(value, (types.ModuleType, type, types.FunctionType, types.MethodType))
    return plain and hasattr(value, "__dict__") and _users(type(value))


def _users(fn):
    """Whether fn is user code, to be followed: not minigrad's, numpy's or the standard
    library's (their state is theirs to keep)."""
    module = getattr(fn, "__module__", "") or ""
    return not module.startswith(("minigrad", "numpy", "functools", "collections"))


def _names(fn):
    """Every name fn's code uses (globals, attributes, ...), its nested code's included."""
    names, stack = set(), [fn.__code__]
    while stack:
        code = stack.pop()
        names.update(code.co_names)
        stack.extend(k for k in code.co_consts if isinstance(k, types.CodeType))
    return names


def _class_names(cls):
    """The names the methods of a class (and of its bases but object) use."""
    names = set()
    for klass in cls.__mro__[:-1]:
        for member in vars(klass).values():
            if isinstance(member, types.FunctionType):
                names |= _names(member)
    return sorted(names)


def _global_names(code):
    """The global names code reads, its nested functions' and comprehensions' included."""
    names = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(_loaded_globals(c))
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return sorted(names)


def _loaded_globals(code):
    loads = ("LOAD_GLOBAL", "LOAD_NAME")
    return {i.argval for i in dis.get_instructions(code) if i.opname in loads}


def of(fn, trace):
    """The guards of a plan: what fn (and its helpers) read, the modules it used, and the shape,
    dtype and requires_grad of each tensor it read from outside."""
    guards = Guards()
    guards.function(fn)
    for m in trace.modules.values():
        guards.module(m)
    for _, t in trace.captured:
        guards.tensor(t)
    return guards
