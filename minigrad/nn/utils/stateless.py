"""functional_call: run a module with other tensors in place of its parameters, as
``torch.func.functional_call``."""

from contextlib import contextmanager


def _owner(module, dotted):
    """The sub-module that holds ``dotted`` (e.g. 'rnn.weight_ih_l0'), and the last name."""
    *path, name = dotted.split(".")
    for part in path:
        module = module._modules[part]
    return module, name


@contextmanager
def _swapped(module, tensors):
    saved = []
    try:
        for dotted, tensor in tensors.items():
            owner, name = _owner(module, dotted)
            registry = owner._parameters if name in owner._parameters else owner._buffers
            if name not in registry:
                raise KeyError(f"functional_call: the module has no parameter or buffer {dotted!r}")
            saved.append((owner, registry, name, registry[name]))
            registry[name] = tensor
            object.__setattr__(owner, name, tensor)  # any Tensor, not only a Parameter
        yield
    finally:
        for owner, registry, name, original in reversed(saved):
            registry[name] = original
            object.__setattr__(owner, name, original)


def functional_call(module, parameters_and_buffers, args=(), kwargs=None):
    """``module(*args, **kwargs)`` with the given tensors (by dotted name) in place of its own
    parameters and buffers, which are restored afterwards. The tensors may be any Tensors, for
    example leaves that a gradient check differentiates with respect to."""
    if not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, parameters_and_buffers):
        return module(*args, **(kwargs or {}))
