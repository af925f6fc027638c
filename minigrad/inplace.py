"""In-place changes, as PyTorch has them: versions, recording, and what backward may still read.

Read this after the core (tensor.py, graph.py, engine.py): the core calls it
through a few marked hooks, and nothing here is needed to follow backward.

* **Versions.** Every change of a tensor's values in place (``+=``, ``add_``,
  ``x[i] = v``, an optimiser's update under no_grad) adds 1 to its version, a
  counter its views share, since a change to one is a change to all. A node
  saves the version of each value it keeps (its inputs and outputs), as
  PyTorch's saved tensors do. When backward hands a rule a value whose version
  has moved on, the rule gets an ``Overwritten`` stand-in, which raises if the
  rule reads it: so a value may be overwritten exactly when the rule does not
  read it (``add``, ``sum``, the sigmoid's input), and backward is never
  silently wrong.
* **Recording.** On a tensor in the graph (grad mode on, and the tensor or
  the operand requires grad), the change is itself recorded: the op computes
  the new values from the old ones, they are written into the tensor's own
  array, and the op's node becomes the tensor's ``grad_fn``. The op reads a
  ``clone`` of the old values only when its rule needs them (``h *= w`` with
  w requiring grad: ∂/∂w reads the old h), which ``Op.saves`` says.
* **Writing into a buffer.** ``buf[t] = h`` writes h's values into ``buf``'s
  array in place and records an in-place ``index_put``: O(size of h), with no
  copy of ``buf``. Its rule hands the gradient of the old ``buf`` on unchanged,
  zeroing the written positions only where the values they held depended on
  something that requires grad (a bool mask per buffer says where). So a
  buffer of zeros filled step by step costs O(T · step) forward and backward,
  not O(T²).
"""

import numpy as np

from .switches import mode


class VersionCounter:
    """How many times a tensor's values were changed in place: one counter for the tensor and
    every view of it, since a change to one is a change to all. ``shared`` once a second tensor
    uses it (a view, a ``detach()``)."""

    count = 0
    shared = False


# ---- the hooks the core calls ----------------------------------------------------------------


def share_views(outs, base):
    """An op's outputs that are views of its input ``base`` share its version counter."""
    for out in outs:
        if np.may_share_memory(out.data, base.data):
            out._share_memory_with(base)


def save_versions(inputs, outputs, n_outputs):
    """For a node: (counter, version) of each output, then of each input. A hidden output has
    no tensor, and None: nothing can change it."""
    versions = [(t._version_counter, t._version_counter.count) for t in (*outputs, *inputs)]
    if n_outputs > len(outputs):
        versions[len(outputs) : len(outputs)] = [None] * (n_outputs - len(outputs))
    return versions


def changed_since(saved):
    """Whether a value whose (counter, version) a node saved has been changed in place since."""
    return saved is not None and saved[0].count != saved[1]


def changed_outside_the_graph(t, where):
    """Refuse a tensor whose values changed after its node made them by a change that was not
    recorded (under no_grad, through ``detach()``, through a view or its base): its graph no
    longer gives its gradient."""
    raise RuntimeError(
        f"{where}: the tensor made by '{t.grad_fn.name}' was changed in place outside the "
        "graph (under no_grad, through detach() or a view); compute it again"
    )


def unchanged(node, values):
    """``values`` (a node's outputs, then its inputs) with an ``Overwritten`` stand-in for each
    one changed in place since the op ran."""
    return [
        Overwritten(value, node, i) if changed_since(saved) else value
        for i, (value, saved) in enumerate(zip(values, node.versions))
    ]


def same_version(out, node, k):
    """A tensor standing for output k of ``node`` shares that output's version counter."""
    if node.versions[k] is not None:
        out._version_counter = node.versions[k][0]
    return out


class StandIn:
    """Stands in, for a backward rule, for a value it must not read: its ``shape``, ``ndim``
    and ``dtype`` can be read; using its values in any way raises ``self.refusal()``."""

    def __init__(self, value):
        self.shape, self.ndim, self.dtype = tuple(value.shape), len(value.shape), value.dtype

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(self.refusal())

    __getattr__ = __array__ = __bool__ = __len__ = __iter__ = __getitem__ = _refuse
    __neg__ = __abs__ = __pos__ = __invert__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __and__ = __or__ = _refuse


class Overwritten(StandIn):
    """A value changed in place after its op ran: a rule that reads it raises, naming the op
    and the value."""

    def __init__(self, value, node, i):
        super().__init__(value)
        n, shown = node.n_outputs, node.n_outputs - node.op.hidden
        which = f"input {i - n}" if i >= n else "its output" if shown == 1 else f"its output {i}"
        self.what = f"backward of '{node.name}': {which}"

    def refusal(self):
        return (
            f"{self.what} was modified in place after the op ran, so its gradient would be "
            "wrong. Use an out-of-place op, or recompute the forward pass."
        )


def reads(op, name, needs):
    """Whether ``op``'s rule, asked for the gradients ``needs`` marks, reads the value ``name``
    (an input's name, or ``out``), by ``op.saves``; True when the op does not say."""
    return op.saves is None or name in _read(op, needs)[1]


def read_by_rule(op, needs):
    """Which values ``op``'s rule reads, asked for the gradients ``needs`` marks: (the outputs?,
    [each input?]), by ``op.saves``; all of them when the op does not say."""
    if op.saves is None:
        return True, [True] * len(needs)
    names, read = _read(op, needs)
    return "out" in read, [name in read for name in names]


def _read(op, needs):
    """The inputs' names (a variadic last one repeated), and the names the rule reads."""
    names, n = list(op.input_names), len(needs)
    names = names if op.n_inputs is not None else names[:-1] + names[-1:] * (n - len(names) + 1)
    return names, {r for name, need in zip(names, needs) if need for r in op.saves[name].split()}


# ---- the Tensor's in-place methods -----------------------------------------------------------


class InplaceMethods:
    """The in-place part of a Tensor: versions, views, and the methods that end in ``_``."""

    __slots__ = ()

    @property
    def _version(self):
        """How many times the values were changed in place (through this tensor or a view)."""
        return self._version_counter.count

    def _bump_version(self):
        """Count an in-place change: a graph that read the old values must refuse backward."""
        self._version_counter.count += 1
        if mode.trace:  # minigrad.compile cannot replay a change to a tensor from outside
            mode.trace.changed(self)

    def _share_memory_with(self, base):
        """Make this tensor a view of ``base``: one memory, so one version counter."""
        self._version_counter = base._version_counter
        self._version_counter.shared = True
        return self

    def _inplace(self, name, write, op, operand=None, params=None):
        """Change the values in place, as PyTorch does.

        Outside the graph, ``write(array, value)`` writes them into the array.
        When the graph must record the change (grad mode is on, and this tensor
        or ``operand`` requires grad), ``op(old, operand, **params)`` computes
        them and records a node, which becomes this tensor's ``grad_fn``; ``old``
        is a clone of the old values where op's rule reads them (``Op.saves``).
        """
        if mode.forward:  # the tangent changes too (autograd/forward_ad.py)
            args, params = () if operand is None else (operand,), params or {}
            again = lambda: self._inplace(name, write, op, operand, params)  # noqa: E731
            return _forward_ad().in_place(
                self, operand, lambda old: op(old, *args, **params), again
            )
        if not _in_graph(self, operand):
            return _write(self, name, write, operand.data if _is_tensor(operand) else operand)
        inputs = (self,) if operand is None else (self, operand)
        reads_old = reads(op, op.input_names[0], [_requires_grad(x) for x in inputs])
        return _record(self, name, lambda old: op(old, *inputs[1:], **(params or {})), reads_old)

    def add_(self, other, alpha=1):
        """self += alpha · other, in place."""
        return self._inplace(
            "add_", _ufunc(np.add), _ops().add, other if alpha == 1 else other * alpha
        )

    def sub_(self, other, alpha=1):
        """self −= alpha · other, in place."""
        return self._inplace(
            "sub_", _ufunc(np.subtract), _ops().sub, other if alpha == 1 else other * alpha
        )

    def mul_(self, other):
        """self *= other, in place."""
        return self._inplace("mul_", _ufunc(np.multiply), _ops().mul, other)

    def div_(self, other):
        """self /= other, in place."""
        return self._inplace("div_", _ufunc(np.true_divide), _ops().div, other)

    def copy_(self, src):
        """Overwrite the values with ``src`` (broadcast to this shape), in place. In the graph
        the old values get a zero gradient: the new ones are ``where(False, old, src)``."""
        keep = np.zeros(self.shape, dtype=bool)
        if mode.forward:  # the tangent changes too (autograd/forward_ad.py)
            put = lambda old: _ops().where(keep, old, src)  # noqa: E731
            return _forward_ad().in_place(self, src, put, lambda: self.copy_(src))
        if not _in_graph(self, src):
            return _write(self, "copy_", _copy, src.data if _is_tensor(src) else src)
        return _record(self, "copy_", lambda old: _ops().where(keep, old, src), reads_old=False)

    def fill_(self, value):
        """Set every element to ``value``, in place."""
        return self.copy_(value)

    def zero_(self):
        """Set every element to zero, in place."""
        return self.copy_(0)

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        """Clip the values to [min, max], in place."""
        write = lambda a, _: np.clip(a, min, max, out=a)  # noqa: E731
        return self._inplace("clamp_", write, _ops().clip, params={"min": min, "max": max})

    def __setitem__(self, index, value):
        """self[index] = value, in place (recorded as ``index_put`` when in the graph)."""
        if mode.forward:  # the tangent changes too (autograd/forward_ad.py)
            put = lambda old: _ops().index_put(old, index, value)  # noqa: E731
            return _forward_ad().in_place(self, value, put, lambda: self.__setitem__(index, value))
        value = _ops().indexing.numpy_values(index, self.ndim, value)  # PyTorch's placement
        if _in_graph(self, value):
            return _record_write(self, index, value)
        indexing = _ops().indexing
        return _write(self, "__setitem__", _copy_at(indexing.numpy_index(index)), value)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


# ---- recording ------------------------------------------------------------------------------


def _ops():
    from . import ops  # the ops are built on Tensor, which is built on this module

    return ops


def _forward_ad():
    from .autograd import forward_ad

    return forward_ad


def _is_tensor(x):
    return hasattr(x, "_requires_grad")


def _requires_grad(x):
    return _is_tensor(x) and x._requires_grad


def _in_graph(t, other):
    """Whether an in-place change of ``t`` by ``other`` is recorded: grad mode is on, and t or
    other requires grad."""
    return mode.grad_enabled and (t._requires_grad or _requires_grad(other))


def _write(t, name, write, value):
    try:
        write(t.data, value)
    except (TypeError, ValueError) as error:  # numpy's casting or broadcasting complaint
        from .array_methods import named_error

        raise named_error(error, name, f" (tensor has shape {t.shape})") from error
    t._bump_version()
    return t


def _recordable(t, name):
    """Refuse a change the graph could not follow: of a leaf that requires grad, or one that
    brings into the graph a tensor that shares its memory with another (a slice of a tensor
    outside the graph, or a tensor with views), which would stay outside it."""
    if t.is_leaf and t._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf that requires grad may change in place only under no_grad()"
        )
    if t.grad_fn is None and (t.data.base is not None or t._version_counter.shared):
        raise RuntimeError(
            f"{name}: this tensor shares its memory with another (it is a view, or has views), "
            "and a change that requires grad would put it in the graph without the other; "
            "make a copy first (t = t.clone()), or change the tensor it is a view of"
        )


def _record(t, name, compute, reads_old):
    """Record ``compute(old t)`` and make its node t's grad_fn, its values t's values."""
    _recordable(t, name)
    old = _ops().clone(t) if reads_old else t
    new = compute(old)
    _write(t, name, _copy, new.data)
    _become_output(new.grad_fn, t)
    return t


def _become_output(node, t):
    """Make ``node`` (which just computed t's new values) t's grad_fn, as output 0. A node never
    holds its own output, so where t itself was the node's input, a shell of t takes its place;
    a ``retain_grad()`` on t moves to the new node."""
    if t.grad_fn is not None and t.output_nr in (t.grad_fn.retained or ()):
        node.retained = {0: t.grad_fn.retained.pop(t.output_nr)}
    node.inputs = [_shell(t) if x is t else x for x in node.inputs]
    node.outs = (t.data,)
    node.versions[0] = (t._version_counter, t._version_counter.count)
    t.grad_fn, t.output_nr, t._requires_grad = node, 0, True


def _shell(t):
    """A tensor with t's array, version counter, shape and dtype, and nothing else: what a node
    keeps of an input it does not read."""
    shell = type(t)._wrap(t.data)
    return shell._share_memory_with(t)


def _record_write(t, index, value):
    """``t[index] = value`` recorded as an in-place ``index_put``, written in place (O(size of
    value)); see the module docstring."""
    _recordable(t, "__setitem__")
    if t.dtype.kind != "f":
        raise TypeError(
            f"__setitem__: a value that requires grad cannot be written into a {t.dtype} "
            "tensor; only floats can require grad"
        )
    from .graph import Node, _constant

    ops = _ops()
    template, arrays = ops.indexing.split_index(index)
    value = value if _is_tensor(value) else _constant(value, t.dtype, "__setitem__")
    arrays = [a if _is_tensor(a) else type(t)._wrap(a) for a in arrays]
    mask = _written_mask(t)
    where = ops.indexing.join_index(template, [a.data for a in arrays])
    ops.indexing.check_unique(t.shape, where, "__setitem__")
    params = {"index": template, "accumulate": False, "zero": bool(mask[where].any())}
    node_inputs = [t, value, *arrays]
    node = Node(ops.index_put, node_inputs, params, t.data, [])
    _become_output(node, t)
    if mode.trace:
        mode.trace.record(ops.index_put, node_inputs, params, t.data, [t])
    _write(t, "__setitem__", _copy_at(where), value.data)
    mask[where] = value._requires_grad  # the previous write's node decided with it already
    node.written = mask
    node.versions[0] = (t._version_counter, t._version_counter.count)
    return t


def _written_mask(t):
    """Where t's values depend on something that requires grad: the mask the last recorded write
    into t left, or all of t (or none of it) as t requires grad."""
    mask = getattr(t.grad_fn, "written", None)
    if mask is None:
        return np.full(t.shape, t._requires_grad)
    return mask


def _ufunc(ufunc):
    """``write`` for an in-place op: the numpy ufunc with the array as its own output."""
    return lambda array, value: ufunc(array, value, out=array)


def _copy(array, value):
    """Write ``value`` (broadcast, and cast within its kind) into the array."""
    np.copyto(array, value, casting="same_kind")


def _copy_at(index):
    return lambda array, value: array.__setitem__(index, value)
