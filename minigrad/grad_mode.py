"""Grad mode and anomaly mode, as context managers and decorators named as in PyTorch.

Grad mode decides whether ops record the graph. ``no_grad()`` turns it off,
which is what optimisers, evaluation loops and ``backward()`` itself (unless
``create_graph=True``) use. Anomaly mode makes every op check its forward
output and every backward rule check its gradients for NaN and inf.

Both are switches in ``minigrad.switches.mode``, process-wide (PyTorch keeps
grad mode per thread). In anomaly mode the switch holds the ``detect_anomaly``
whose ``check`` and ``location`` the graph calls.
"""

import functools
import traceback
from pathlib import Path

import numpy as np

from .switches import mode as switches
from .tensor import Tensor


def is_grad_enabled():
    """True when ops record the graph for backward."""
    return switches.grad_enabled


class _GradModeContext:
    """A context manager that is also a decorator, as in PyTorch."""

    enabled = True

    def __enter__(self):
        self._context = set_grad_enabled(self.enabled)
        self._context.__enter__()

    def __exit__(self, *exc_info):
        return self._context.__exit__(*exc_info)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class _NoArgumentContext(_GradModeContext):
    """A context that takes no arguments, so that, as in PyTorch 2, ``@ctx`` decorates a
    function as ``@ctx()`` does: given a function, the class returns it decorated."""

    def __new__(cls, fn=None):
        context = super().__new__(cls)
        if fn is None:
            return context
        if not callable(fn):
            raise TypeError(
                f"{cls.__name__}: takes no arguments (or, as a decorator, a function), got {fn!r}"
            )
        return context(fn)


class no_grad(_NoArgumentContext):
    """Run without recording the graph.

    Use it as ``with minigrad.no_grad(): ...`` or as a decorator, ``@minigrad.no_grad`` or
    ``@minigrad.no_grad()``. Results of ops inside it have ``requires_grad=False``.
    """

    enabled = False


class enable_grad(_NoArgumentContext):
    """Record the graph again inside a ``no_grad`` region (``with``, ``@enable_grad`` or
    ``@enable_grad()``)."""

    enabled = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``; works as a call, a context manager or a decorator.

    As in PyTorch, the plain call ``set_grad_enabled(False)`` takes effect at
    once, so the constructor switches the mode; ``__exit__`` restores it. Used
    as a decorator, the constructor's switch is undone and the mode is set
    only while the function runs.
    """

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._previous = switches.grad_enabled
        switches.grad_enabled = self.enabled

    def __enter__(self):
        pass

    def __exit__(self, *exc_info):
        switches.grad_enabled = self._previous
        return False

    def __call__(self, fn):
        switches.grad_enabled = self._previous

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


class detect_anomaly:
    """Raise as soon as an op produces NaN or inf, forward or backward.

    Inside this context every op records where it was created, checks its
    output, and every backward rule checks the gradients it returns. The error
    names the op and the line of user code that created it. It is slow; use it
    to hunt a NaN, not for training.
    """

    def __enter__(self):
        self._previous = switches.anomaly
        switches.anomaly = self
        return self

    def __exit__(self, *exc_info):
        switches.anomaly = self._previous
        return False

    @staticmethod
    def location():
        """The innermost stack frame outside minigrad, as 'file:line in function'."""
        for frame in reversed(traceback.extract_stack()):
            if not str(Path(frame.filename).resolve()).startswith(_PACKAGE_DIR):
                return f"{frame.filename}:{frame.lineno} in {frame.name}"
        return "<unknown>"  # pragma: no cover - there is always a caller outside the package

    def check_outputs(self, outs, name):
        """Check each output of a call of op ``name``."""
        for t in outs:
            self.check(t.data, f"forward of '{name}'", t.grad_fn)

    def check(self, values, what, node):
        """Raise if ``values`` hold NaN or inf, naming where the op was created."""
        values = values.data if isinstance(values, Tensor) else np.asarray(values)
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            bad = "NaN" if np.isnan(values).any() else "inf"
            where = node.created_at if node is not None and node.created_at else self.location()
            raise RuntimeError(
                f"detect_anomaly: {what} produced {bad}; the op was created at {where}"
            )


_PACKAGE_DIR = str(Path(__file__).resolve().parent)
