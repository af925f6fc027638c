"""Hooks, with PyTorch's semantics: run your own code on a gradient, or on a module's call.

* ``t.register_hook(fn)``: ``fn(grad)`` is called when t's gradient has been
  computed (the whole of it, every path summed), before it flows on: to t's
  node's rule for a tensor made by an op, into ``.grad`` for a leaf. It may
  return a new gradient, which is used instead. Hooks run in the order they
  were registered, each given what the one before returned, in every backward
  pass and in ``minigrad.grad``, with ``create_graph`` too (then the gradient is
  a Tensor of the recorded graph).
* ``module.register_forward_pre_hook(fn)``: ``fn(module, args)`` before
  ``forward``; it may return new arguments (a tuple, or one value).
* ``module.register_forward_hook(fn)``: ``fn(module, args, output)`` after it;
  it may return a new output.
* ``module.register_full_backward_hook(fn)``: ``fn(module, grad_input,
  grad_output)`` once the gradients with respect to the module's tensor inputs
  are computed (``grad_output``: with respect to its outputs); it may return
  a new ``grad_input``. The module's inputs and outputs pass through one
  ``backward_hook`` op each, an identity whose rule sees all their gradients
  at once, as PyTorch's ``BackwardHookFunction`` does.

Each ``register_*`` returns a ``RemovableHandle``; ``handle.remove()`` takes the
hook away (``with handle:`` removes it at the end of the block). The engine
calls ``on_outputs`` and ``on_final`` (engine.py), and nothing else here.

A compiled function replays ops, not Python: a hook registered inside it, or a
module with hooks called by it, is refused when it is traced. Hooks on its
arguments, on the parameters it reads, and on its results work as usual.
"""

import itertools
import weakref
from collections import OrderedDict

import numpy as np

from .graph import Op
from .switches import mode

_ids = itertools.count()


class RemovableHandle:
    """Takes a hook away again (``remove()``), as ``torch.utils.hooks.RemovableHandle``."""

    def __init__(self, hooks):
        self.id = next(_ids)
        self._hooks = hooks

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _registered(hooks, fn, where):
    if not callable(fn):
        raise TypeError(f"{where}: a hook must be callable, got {type(fn).__name__}")
    if mode.trace is not None:
        raise RuntimeError(
            f"{where}: a hook registered inside a compiled function would run only when it is "
            "traced; register it outside (on the arguments, the parameters or the results)"
        )
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


# ---- tensor hooks ---------------------------------------------------------------------------


def register_tensor_hook(t, fn):
    """``t.register_hook(fn)``: see the module docstring."""
    if not t.requires_grad:
        raise RuntimeError("register_hook: the tensor does not require grad, so no gradient "
                           "will reach a hook")  # fmt: skip
    if t.grad_fn is None:  # a leaf: its hooks run before its gradient reaches .grad
        if id(t) not in _leaf_hooks:
            weakref.finalize(t, _leaf_hooks.pop, id(t), None)
        hooks = _leaf_hooks.setdefault(id(t), OrderedDict())
    else:  # kept by the node that made t, for its output t.output_nr
        if t.grad_fn.hooks is None:
            t.grad_fn.hooks = {}
        hooks = t.grad_fn.hooks.setdefault(t.output_nr, OrderedDict())
    return _registered(hooks, fn, "register_hook")


_leaf_hooks = {}  # id of a leaf -> its hooks, while the leaf lives


def on_outputs(node, grads):
    """The gradients of node's outputs, each through the hooks registered on its tensor."""
    return [g if g is None else _run(node.hooks.get(k), g) for k, g in enumerate(grads)]


def on_final(key, g):
    """A gradient the pass hands out (to ``.grad`` or ``minigrad.grad``), through its hooks."""
    if type(key) is tuple:
        hooks = key[0].hooks
        return g if hooks is None else _run(hooks.get(key[1]), g)
    return _run(_leaf_hooks.get(id(key)), g) if _leaf_hooks else g


def _run(hooks, g):
    """g through each hook in turn; a hook returning None leaves it as it is."""
    if not hooks:
        return g
    from .tensor import Tensor

    recorded = isinstance(g, Tensor)
    for fn in list(hooks.values()):
        new = fn(g if recorded else Tensor._wrap(g))
        if new is not None:
            g = _replacement(new, g, recorded)
    return g


def _replacement(new, g, recorded):
    from .tensor import Tensor

    if not isinstance(new, Tensor):
        raise TypeError(f"a hook returned a {type(new).__name__}; return a Tensor or None")
    if new.shape != np.shape(g):
        raise ValueError(f"a hook returned a gradient of shape {new.shape} for one of "
                         f"shape {np.shape(g)}")  # fmt: skip
    return new if recorded else new.data


# ---- module hooks ---------------------------------------------------------------------------


class BackwardHook(Op):
    """z_i = x_i for each input: an identity whose rule gets every output's gradient at once,
    and hands them to ``hook(grads)``, which may return new ones (a module's full backward
    hook). ∂z_i/∂x_i = 1."""

    name = "backward_hook"
    view = True
    saves = {"xs": ""}

    def forward(self, *xs, hook=None):
        return tuple(xs)

    def backward(self, grads, outs, *xs, hook=None):
        return tuple(grads) if hook is None else tuple(hook(tuple(grads)))

    def jvp(self, tangents, outs, *xs, hook=None):
        return tuple(tangents)


backward_hook = BackwardHook()


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its forward pre-hooks, forward hooks and full backward
    hooks, as PyTorch calls them."""
    if mode.trace is not None:
        raise RuntimeError(
            f"compile: a {type(module).__name__} with hooks was called while a compiled "
            "function was traced; its hooks would run only then. Remove them, or call the "
            "function without compile"
        )
    for fn in list(module._forward_pre_hooks.values()):
        new = fn(module, args)
        if new is not None:
            args = new if isinstance(new, tuple) else (new,)
    call = _BackwardHookCall(module) if module._backward_hooks else None
    if call is not None:
        args = call.inputs(args)
    output = module.forward(*args, **kwargs)
    for fn in list(module._forward_hooks.values()):
        new = fn(module, args, output)
        if new is not None:
            output = new
    return output if call is None else call.outputs(output)


class _BackwardHookCall:
    """One call of a module with full backward hooks: its tensor inputs and outputs pass
    through a ``backward_hook`` op each; the outputs' rule keeps grad_output, the inputs'
    rule calls the hooks with grad_input and grad_output (Tensors, None for a value that
    gets no gradient)."""

    def __init__(self, module):
        self.module, self.n_args, self.where, self.grad_output = module, 0, [], ()

    def inputs(self, args):
        self.n_args, self.where = len(args), _differentiable(args)
        return _passed(args, self.where, self._hook_inputs)

    def outputs(self, output):
        from .tensor import Tensor

        single = isinstance(output, Tensor)
        outs = (output,) if single else output
        if not isinstance(outs, tuple):
            return output
        passed = _passed(outs, _differentiable(outs), self._keep_outputs)
        return passed[0] if single else passed

    def _keep_outputs(self, grads):
        self.grad_output = tuple(map(_as_tensor, grads))
        return grads

    def _hook_inputs(self, grads):
        grad_input = [None] * self.n_args
        for i, g in zip(self.where, grads):
            grad_input[i] = _as_tensor(g)
        grad_input = tuple(grad_input)
        for fn in list(self.module._backward_hooks.values()):
            new = fn(self.module, grad_input, self.grad_output)
            if new is not None:
                grad_input = tuple(new)
        return tuple(_like(grad_input[i], g) for i, g in zip(self.where, grads))


def _differentiable(values):
    from .tensor import Tensor

    return [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]


def _passed(values, where, hook):
    """``values`` with those at ``where`` passed through one ``backward_hook`` op."""
    if not where:
        return values
    passed = backward_hook.apply(tuple(values[i] for i in where), {"hook": hook})
    values = list(values)
    for i, t in zip(where, passed if isinstance(passed, tuple) else (passed,)):
        values[i] = t
    return tuple(values)


def _as_tensor(g):
    from .tensor import Tensor

    return g if g is None or isinstance(g, Tensor) else Tensor._wrap(g)


def _like(new, old):
    """A hook's replacement for gradient ``old``, as the engine holds it (array or Tensor)."""
    from .tensor import Tensor

    if new is None or isinstance(old, Tensor) or not isinstance(new, Tensor):
        return new
    return new.data
