"""PyTorch's spellings of the axis arguments: ``dim`` for ``axis``, ``keepdim`` for ``keepdims``.

minigrad's ops name their axis arguments as numpy does: ``axis`` and
``keepdims``. PyTorch calls them ``dim`` (``dims`` for ``flip`` and ``roll``)
and ``keepdim``, and takes numpy's names as well, so ``x.sum(dim=0,
keepdim=True)`` and ``x.sum(axis=0, keepdims=True)`` are the same call in
both. ``takes_dim`` gives an op or a function that second spelling. Both
spellings of one argument in one call is a TypeError naming the op, as in
PyTorch.
"""

import functools

NUMPY_NAMES = {"dim": "axis", "dims": "axis", "keepdim": "keepdims"}


def numpy_names(name, params):
    """``params`` (a dict) with PyTorch's names replaced by numpy's, for op ``name``."""
    given = {}
    for key in params:
        given.setdefault(NUMPY_NAMES.get(key, key), []).append(key)
    twice = next((keys for keys in given.values() if len(keys) > 1), None)
    if twice:
        raise TypeError(
            f"{name}: {'= and '.join(twice)}= are two spellings of one argument; pass one of them"
        )
    return {NUMPY_NAMES.get(key, key): value for key, value in params.items()}


def takes_dim(target):
    """Decorate a function, or an ``Op`` class (its calls), to take PyTorch's ``dim``,
    ``dims`` and ``keepdim`` by name too. The op or function itself sees numpy's names."""
    if isinstance(target, type):
        call = target.__call__

        @functools.wraps(call)
        def op_call(self, *args, **params):
            return call(self, *args, **numpy_names(self.name, params))

        target.__call__ = op_call
        return target

    @functools.wraps(target)
    def function_call(*args, **params):
        return target(*args, **numpy_names(target.__name__, params))

    return function_call
