"""``minigrad.compile``: trace a function once, then replay it at numpy speed, bit for bit.

``step = minigrad.compile(fn)``, or ``@minigrad.compile`` above ``def fn``. The first
call with a new signature runs ``fn`` eagerly, as if it were not compiled, and records a
**plan** while it runs:

* the forward: every op ``fn`` called, in order, with where each input comes from;
* the backward: the same ops' rules, in the order the engine would visit them, with
  what the engine decides at every call decided once: which inputs need a gradient, which
  gradients must be summed back after broadcasting or cast to another dtype, and where
  each gradient adds up.

A later call with the same signature replays the plan: each op's numpy ``forward`` on
arrays, then, in backward, each op's rule on arrays. No Tensor and no Node is made per op,
and the arithmetic is the same as eager, in the same order, so the results are equal bit
for bit. After its first backward, when every decision is known, a plan writes its
backward out as one straight-line Python function (each gradient a local variable, each
decision written in); ``plan.generated`` holds them, and each one's ``source`` its text.

The result hangs off **one graph node**, whose inputs are fn's tensor arguments and every
tensor requiring grad that fn read from outside (a module's parameters). So
``backward()``, ``minigrad.grad``, ``clip_grad_norm_``, the optimisers and
``retain_grad()`` work on it as on any tensor, and eager code may come before and after.

The signature is: the shapes, dtypes and ``requires_grad`` of the tensor arguments, the
other arguments (numbers, strings and None: constants of the trace), grad mode, the
shape and dtype of every tensor fn read from outside (kept by identity, and read afresh at
every replay, so parameters the optimiser updates in place are current), and the
``training`` flag of every module fn read it from. Anything else changing retraces; a plan
for each training flag is kept, so ``eval()`` then ``train()`` traces twice, not at every
switch. Each function keeps its most recent plans, ``cache_size`` of them.

Limits, each an error when fn is traced, naming fn:

* fn reads a tensor's values for Python (``item()``, ``numpy()``, ``bool()``, ``float()``,
  ``if t:``, a comparison): a replay would reuse the values of the traced call;
* fn changes an argument, or a tensor from outside, in place: a replay would not;
* fn runs backward (a ``.grad`` changes while it runs).

Python loops and branches that do not depend on tensor values are unrolled by the trace.
What fn draws from the seeded generator (``randn``, ``rand``, ``randint``, dropout's mask)
is drawn afresh at each replay, in the same order as eager, so replays stay equal to eager
runs bit for bit. Any other tensor fn makes itself (``zeros``, ``tensor(...)``) is a
constant of the plan, so pass anything that changes between calls as an argument.
``create_graph=True`` through a compiled result is refused: call fn without compile to
differentiate its gradients. In anomaly mode, and inside another function being traced, fn
simply runs eagerly.
"""

import builtins
import functools
import inspect
from collections import OrderedDict

import numpy as np

from .engine import accumulate
from .graph import Node, named_error
from .graph import sum_to_shape as _sum_to_shape
from .switches import mode
from .tensor import Tensor

_CONSTANTS = (bool, int, float, str, type(None), np.integer, np.floating)


def compile(fn=None, *, cache_size=8):  # noqa: A001 - PyTorch's name, torch.compile
    """A compiled ``fn``: traced at the first call with each signature, replayed after."""
    if fn is None:
        return functools.partial(compile, cache_size=cache_size)
    return CompiledFunction(fn, cache_size)


class CompiledFunction:
    """``fn`` with its plans. Call it as ``fn``; ``plan`` is the plan of the latest call."""

    def __init__(self, fn, cache_size=8):
        if not callable(fn):
            raise TypeError(f"compile: expected a function, got {type(fn).__name__}")
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"compile: cache_size must be a positive int, got {cache_size!r}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.cache_size = cache_size
        # signature -> its plans, which differ in the Python state they hold for (a module's
        # training flag), the newest first; the most recently used signature last
        self.plans = OrderedDict()
        self.plan = None
        self.traces = 0  # how many times fn has been traced

    def __call__(self, *args):
        if mode.trace is not None or mode.anomaly is not None:
            return self.fn(*args)
        key = self.signature(args)
        plan = next((p for p in self.plans.get(key, ()) if p.still_fits()), None)
        if plan is None:
            return self._trace(key, args)
        self.plans.move_to_end(key)
        self.plan = plan
        return plan.run(args)

    def signature(self, args):
        """What a plan is valid for: grad mode, then each argument's kind and description."""
        parts = [mode.grad_enabled]
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                parts.append(("tensor", a.shape, a.dtype, a.requires_grad))
            elif isinstance(a, _CONSTANTS):
                parts.append(("constant", type(a), a))
            else:
                raise TypeError(
                    f"compile({self.name}): argument {i} is a {type(a).__name__}; pass Tensors, "
                    "numbers or strings (a numpy array as minigrad.from_numpy(array))"
                )
        return tuple(parts)

    def _trace(self, key, args):
        trace = Trace(self.name, args)
        mode.trace = trace
        try:
            outputs = self.fn(*args)
        finally:
            mode.trace = None
        plan = trace.plan(outputs, self.fn)
        self.traces += 1
        self.plan = plan
        self.plans[key] = [plan, *self.plans.get(key, ())]
        self.plans.move_to_end(key)
        while sum(map(len, self.plans.values())) > self.cache_size:  # the oldest plan goes
            oldest = next(iter(self.plans))
            self.plans[oldest].pop()
            if not self.plans[oldest]:
                del self.plans[oldest]
        return outputs  # the traced call's own result: eager, with its whole graph

    def __repr__(self):
        return f"<compiled {self.name}: {sum(map(len, self.plans.values()))} plan(s)>"


class Trace:
    """One call of fn being recorded. ``Op.apply`` reports every op call to ``record``.

    Each value gets a *ref*, a number: the arguments first, then each op's output in
    order, and each tensor fn reads from outside (captured) when it is first read.
    """

    def __init__(self, name, args):
        self.name = name
        self.refs = 0  # how many refs are given out
        self.seen = {}  # id(tensor) -> (ref, tensor, its version then); holding it keeps the id
        self.steps = []
        self.args = []  # (position, ref)
        self.arg_types = []  # (shape, dtype) of each
        self.captured = []  # (ref, tensor)
        self.by_node = {}  # node -> ref of its output, for a tensor an in-place op wrote into
        self.outside = {}  # arguments and captured tensors -> (version, .grad) when first seen
        self.guards = {}  # (id(obj), name) -> (obj, name, value): Python state fn read
        for position, a in enumerate(args):
            if isinstance(a, Tensor):
                self.args.append((position, self._add(a)))
                self.arg_types.append((a.shape, a.dtype))
                self.outside[a] = (a._version, a.grad)

    def _add(self, t):
        """A new ref, for ``t``."""
        ref = self.refs
        self.refs += 1
        self.seen[id(t)] = (ref, t, t._version)
        return ref

    def ref(self, t):
        """The ref of tensor ``t``, a value of the trace or a tensor from outside."""
        entry = self.seen.get(id(t))
        if entry is None:
            ref = self._add(t)
            self.captured.append((ref, t))
            self.outside[t] = (t._version, t.grad)
            return ref
        ref, _, version = entry
        if t._version == version:
            return ref
        ref = self.by_node.get(t.grad_fn)  # an in-place op in the graph: its output is t now
        if ref is None:
            raise RuntimeError(
                f"compile({self.name}): fn changed a tensor of shape {t.shape} in place outside "
                "the graph (under no_grad, or a tensor that does not require grad), which a "
                "replay would not do; write it out of place inside a compiled function"
            )
        self.seen[id(t)] = (ref, t, t._version)
        return ref

    def record(self, op, tensors, params, out):
        """``op(*tensors, **params)`` made ``out``: a step of the plan."""
        inputs = [self.ref(t) for t in tensors]
        node = out.grad_fn
        needs = tuple(p is not None for p in node.parents) if node is not None else None
        step = Step(op, inputs, params, self._add(out), needs, tensors, out)
        self.steps.append(step)
        if node is not None:
            self.by_node[node] = step.out

    def changed(self, t):
        """``t`` was just changed in place: refused for a tensor fn was given or read from
        outside, or one it has not touched yet (which is from outside too)."""
        if id(t) not in self.seen or t in self.outside:
            raise self._changed_from_outside(t)

    def _changed_from_outside(self, t):
        return RuntimeError(
            f"compile({self.name}): fn changed a tensor of shape {t.shape} that it was "
            "given or read from outside in place, which a replay would not do; change "
            "it outside the compiled function"
        )

    def guard(self, obj, name, value):
        """fn read ``obj.name`` (a module's ``training``): the plan holds only while it is
        ``value``. fn may not change it meanwhile, which a replay would not do."""
        key = (id(obj), name)
        if self.guards.setdefault(key, (obj, name, value))[2] != value:
            raise RuntimeError(
                f"compile({self.name}): fn changed the {name} of a {type(obj).__name__} while it "
                "ran (train() or eval()), which a replay would not do; change it outside"
            )

    def refuse_read(self, t, what):
        raise RuntimeError(
            f"compile({self.name}): fn reads a tensor's values for Python ({what}), which would "
            "freeze them into the plan; return the tensor and read it after the call, or "
            "call the function without compile"
        )

    def plan(self, outputs, fn):
        """The plan of this call, once fn returned ``outputs``."""
        single = isinstance(outputs, Tensor)
        outputs = (outputs,) if single else outputs
        if not isinstance(outputs, tuple) or not all(isinstance(o, Tensor) for o in outputs):
            raise TypeError(
                f"compile({self.name}): fn must return a Tensor or a tuple of Tensors, "
                f"got {type(outputs).__name__}"
            )
        self._check_no_side_effects()
        refs = [self.ref(o) for o in outputs]
        wanted = [o.requires_grad for o in outputs]
        return Plan(self, fn, refs, single, wanted)

    def _check_no_side_effects(self):
        """fn may not change what it was given or read from outside: a replay would not."""
        for t, (version, grad) in self.outside.items():
            if t._version != version:
                raise self._changed_from_outside(t)
            if t.grad is not grad:
                raise RuntimeError(
                    f"compile({self.name}): fn runs backward (a .grad changed), which a replay "
                    "would not do; compile the forward and call backward() on its result"
                )


class Step:
    """One op call of the plan: ``out = op(*inputs, **params)``, with the refs of its values.

    ``needs`` says which inputs need a gradient (None: the call has no node). The shapes
    and dtypes of the inputs are the ones each gradient must have, and ``fits`` records,
    for each input, whether its gradient must be summed back over broadcast axes or cast,
    the first time a gradient arrives.
    """

    __slots__ = (
        "op",
        "inputs",
        "params",
        "out",
        "needs",
        "values",
        "wanted",
        "shapes",
        "dtypes",
        "fits",
        "result",
    )

    def __init__(self, op, inputs, params, out, needs, tensors, result):
        self.op = op
        self.inputs = inputs
        self.params = params
        self.out = out
        self.needs = needs
        self.values = [out, *inputs]  # the refs of what the rule reads: the output, the inputs
        self.wanted = [(i, r) for i, (r, need) in enumerate(zip(inputs, needs or ())) if need]
        self.shapes = [t.shape for t in tensors]
        self.dtypes = [t.dtype for t in tensors]
        self.fits = [None] * len(tensors)
        self.result = (result.shape, result.dtype)

    def fit(self, i, g):
        """What ``graph._fit`` does to a rule's gradient for input i, decided once."""
        if callable(g):
            g = g()
        if self.fits[i] is None:
            self.fits[i] = (g.shape != self.shapes[i], g.dtype != self.dtypes[i])
        summed, cast = self.fits[i]
        if summed:
            g = _sum_to_shape(g, self.shapes[i], self.op.name)
        return g.astype(self.dtypes[i]) if cast else g


class Plan:
    """What a replay runs: the steps, the refs of the arguments, the captured tensors and the
    outputs, and, for each set of outputs that receive a gradient, the backward schedule."""

    def __init__(self, trace, fn, outputs, single, wanted):
        self.name = trace.name
        self.args = trace.args
        self.arg_types = trace.arg_types
        self.captured = trace.captured
        self.steps = trace.steps
        self.outputs = outputs
        self.single = single
        self.wanted = wanted  # which outputs require grad
        self.guards = [(t, t.shape, t.dtype, t.requires_grad) for _, t in self.captured]
        self.state_guards = list(trace.guards.values())
        grads_from = [(ref, t) for ref, t in self.captured if t.requires_grad]
        self.grad_refs = [ref for _, ref in self.args] + [ref for ref, _ in grads_from]
        self.grad_tensors = [t for _, t in grads_from]
        self.producer = {s.out: k for k, s in enumerate(self.steps)}
        self.schedules = {}
        self.generated = {}  # receiving -> the backward as straight-line Python, once it is known
        self.arg_names = _argument_names(fn, len(trace.args) and max(p for p, _ in trace.args))

    def still_fits(self):
        """Whether every captured tensor still has the shape, dtype and requires_grad the plan
        was traced with (``Module.to`` or ``requires_grad_`` change them), and the Python state
        fn read (a module's ``training``) is as it was."""
        tensors_fit = all(
            t.shape == shape and t.dtype == dtype and t.requires_grad == requires_grad
            for t, shape, dtype, requires_grad in self.guards
        )
        return tensors_fit and all(getattr(o, name) == v for o, name, v in self.state_guards)

    # ---- forward ----------------------------------------------------------------------------

    def run(self, args):
        """Replay the forward on the arguments' arrays; attach one node if a gradient may flow."""
        env = {ref: args[position].data for position, ref in self.args}
        env.update((ref, t.data) for ref, t in self.captured)
        try:
            for s in self.steps:
                out = s.op.forward(*[env[r] for r in s.inputs], **s.params)
                env[s.out] = out if type(out) is np.ndarray else np.asarray(out)
        except (ValueError, TypeError, IndexError) as error:  # as Op.run_forward names them
            raise named_error(error, s.op.name) from error
        arrays = [env[ref] for ref in self.outputs]
        inputs = [args[position] for position, _ in self.args] + self.grad_tensors
        if mode.grad_enabled and any(self.wanted) and any(t.requires_grad for t in inputs):
            outs = self._attach(env, arrays, inputs)
        else:
            outs = [Tensor._wrap(a) for a in arrays]
        return outs[0] if self.single else tuple(outs)

    def _attach(self, env, arrays, inputs):
        """The outputs, hanging off one node whose rule replays the backward."""
        replay = _Replay(self, len(arrays))
        if self.single:
            out = Tensor._wrap(arrays[0])
            Node(replay, inputs, {"env": env}, out)
            return [out]
        packed = Tensor._wrap(np.empty(len(arrays), dtype=object))
        for i, a in enumerate(arrays):
            packed.data[i] = a
        Node(replay, inputs, {"env": env}, packed)
        outs = []
        for i, a in enumerate(arrays):
            outs.append(Tensor._wrap(a))
            if self.wanted[i]:
                Node(_Unpack(i, len(arrays), self.name), [packed], {}, outs[-1])
        return outs

    # ---- backward ---------------------------------------------------------------------------

    def backward(self, env, out_grads, input_values):
        """The gradients of the node's inputs, given the outputs' (None where an output has none).

        ``input_values`` are what the node's rule received for its inputs: the arrays, or
        stand-ins that raise if read, for those changed in place since the forward.
        """
        env.update(zip(self.grad_refs, input_values))
        receiving = tuple(g is not None for g in out_grads)
        if receiving in self.generated:
            return self.generated[receiving](env, out_grads)
        pending = {}
        for ref, g in zip(self.outputs, out_grads):
            if g is not None:
                pending[ref] = accumulate(pending.get(ref), g)
        for s in self.schedule(receiving):
            grad = pending.pop(s.out, None)
            if grad is None:
                continue
            if type(grad) is not np.ndarray:
                grad = np.asarray(grad)  # a Scatter made whole, as in Node.vjp
            grads = s.op.backward(grad, *[env[r] for r in s.values], **s.params)
            grads = grads if type(grads) is tuple else (grads,)
            for i, ref in s.wanted:
                if grads[i] is not None:
                    g = s.fit(i, grads[i])
                    total = pending.get(ref)
                    pending[ref] = g if total is None else total + g  # engine.accumulate
        self.generated[receiving] = self._generate(receiving)  # every fit is decided now
        return [pending.get(ref) for ref in self.grad_refs]

    def _generate(self, receiving):
        """The backward for ``receiving`` as one Python function, written out step by step:
        the same calls and sums as the loop above, in the same order, with each gradient a
        local variable and each fit decided. ``source`` keeps its text."""
        names = {"ndarray": np.ndarray, "asarray": np.asarray, "sum_to_shape": _sum_to_shape}
        lines = ["def backward(env, out_grads):"]
        lines += [f"    d{r} = None" for r in dict.fromkeys(self._gradient_refs(receiving))]
        for k, (ref, g) in enumerate(zip(self.outputs, receiving)):
            if g:
                lines.append(
                    f"    d{ref} = out_grads[{k}] if d{ref} is None else d{ref} + out_grads[{k}]"
                )
        for k, s in enumerate(self.schedule(receiving)):
            names[f"rule{k}"], names[f"params{k}"] = s.op.backward, s.params
            values = ", ".join(f"env[{r}]" for r in s.values)
            call = f"rule{k}(g, {values}, **params{k})" if s.params else f"rule{k}(g, {values})"
            lines += [
                f"    if d{s.out} is not None:",
                f"        g = d{s.out} if type(d{s.out}) is ndarray else asarray(d{s.out})",
                f"        d{s.out} = None",  # freed as the loop's pending.pop frees it
                f"        r = {call}",
                "        r = r if type(r) is tuple else (r,)",
            ]
            for i, ref in s.wanted:
                lines += [
                    f"        if r[{i}] is not None:",
                    f"            t = r[{i}]() if callable(r[{i}]) else r[{i}]",
                    *self._fit_lines(s, k, i, names),
                    f"            d{ref} = t if d{ref} is None else d{ref} + t",
                ]
        lines.append(f"    return [{', '.join(f'd{r}' for r in self.grad_refs)}]")
        source = "\n".join(lines) + "\n"
        exec(builtins.compile(source, f"<backward of {self.name}>", "exec"), names)
        backward = names["backward"]
        backward.source = source
        return backward

    def _gradient_refs(self, receiving):
        refs = [r for r, g in zip(self.outputs, receiving) if g]
        refs += [s.out for s in self.schedule(receiving)]
        refs += [ref for s in self.schedule(receiving) for _, ref in s.wanted]
        return refs + self.grad_refs

    def _fit_lines(self, s, k, i, names):
        """``Step.fit`` for input i of step k, written out as its decision requires."""
        if s.fits[i] is None:  # no gradient reached it yet: decide at run time
            names[f"step{k}"] = s
            return [f"            t = step{k}.fit({i}, t)"]
        summed, cast = s.fits[i]
        names[f"shape{k}_{i}"], names[f"dtype{k}_{i}"] = s.shapes[i], s.dtypes[i]
        lines = []
        if summed:
            lines.append(f"            t = sum_to_shape(t, shape{k}_{i}, {s.op.name!r})")
        if cast:
            lines.append(f"            t = t.astype(dtype{k}_{i})")
        return lines

    def schedule(self, receiving):
        """The steps whose rules run, in the engine's order (``engine.toposort``), when the
        outputs marked in ``receiving`` get a gradient: decided once for each such set."""
        if receiving not in self.schedules:
            roots = [self.producer.get(r) for r, g in zip(self.outputs, receiving) if g]
            roots = [k for k in dict.fromkeys(roots) if k is not None and self.steps[k].needs]
            self.schedules[receiving] = [self.steps[k] for k in self._kahn(roots)]
        return self.schedules[receiving]

    def _parents(self, k):
        s = self.steps[k]
        made = self.producer
        return [made[r] for r, need in zip(s.inputs, s.needs) if need and r in made]

    def _kahn(self, roots):
        """``engine.toposort`` on the steps: the same counts, the same stack, the same order."""
        consumers = dict.fromkeys(roots, 0)
        stack = list(consumers)
        while stack:
            for parent in self._parents(stack.pop()):
                if parent not in consumers:
                    stack.append(parent)
                consumers[parent] = consumers.get(parent, 0) + 1
        ready = [k for k, count in consumers.items() if count == 0]
        while ready:
            k = ready.pop()
            yield k
            for parent in self._parents(k):
                consumers[parent] -= 1
                if consumers[parent] == 0:
                    ready.append(parent)

    # ---- printing ---------------------------------------------------------------------------

    def __str__(self):
        """The plan as a listing: the arguments, the tensors read from outside, each op with
        the shape and dtype it makes, and the order in which backward runs the rules."""
        names = {ref: self.arg_names[position] for position, ref in self.args}
        names.update((ref, f"c{i}") for i, (ref, _) in enumerate(self.captured))
        names.update((s.out, f"%{k}") for k, s in enumerate(self.steps))
        args = [f"{names[ref]}: {_type(*t)}" for (_, ref), t in zip(self.args, self.arg_types)]
        lines = [f"plan of {self.name}({', '.join(args)}): {len(self.steps)} ops"]
        for ref, t in self.captured:
            kind = "a parameter (requires grad)" if t.requires_grad else "a constant"
            lines.append(f"  {names[ref]}: {_type(t.shape, t.dtype)}, read from outside, {kind}")
        calls = [f"{names[s.out]} = {s.op.name}({_arguments_text(s, names)})" for s in self.steps]
        width = max((len(c) for c in calls), default=0)
        lines += [f"  {c:<{width}}  {_type(*s.result)}" for c, s in zip(calls, self.steps)]
        lines.append(f"  return {', '.join(names[r] for r in self.outputs)}")
        rules = self.schedule(tuple(self.wanted)) if any(self.wanted) else []
        order = ", ".join(names[s.out] for s in rules)
        lines.append(f"  backward: {len(rules)} rules, in this order: {order}")
        return "\n".join(lines)


class _Replay:
    """The op of a compiled call's node: its backward rule replays the plan's backward."""

    def __init__(self, plan, n_outputs):
        self.plan = plan
        self.n_outputs = n_outputs
        self.name = f"compiled {plan.name}"

    def backward(self, grad, out, *inputs, env):
        if isinstance(grad, Tensor):
            raise RuntimeError(
                f"backward of '{self.name}': create_graph=True is not supported through a "
                "compiled function; call it without compile to differentiate its gradients"
            )
        out_grads = [grad] if self.n_outputs == 1 else list(grad)
        return tuple(self.plan.backward(env, out_grads, inputs))


class _Unpack:
    """The op of output i of a compiled call with several outputs: its gradient goes to the
    call's node, as that output's share of one gradient for all of them."""

    def __init__(self, i, n, name):
        self.i = i
        self.n = n
        self.name = f"output {i} of compiled {name}"

    def backward(self, grad, out, packed):
        return _OutputGrads([grad if k == self.i else None for k in range(self.n)])


class _OutputGrads:
    """The gradients of a compiled call's outputs (None where one has none), as one value."""

    dtype = np.dtype(object)

    def __init__(self, grads):
        self.grads = grads
        self.shape = (len(grads),)

    def __add__(self, other):
        pairs = zip(self.grads, other.grads)
        return _OutputGrads([b if a is None else a if b is None else a + b for a, b in pairs])

    def __array__(self, dtype=None, copy=None):
        array = np.empty(len(self.grads), dtype=object)
        for i, g in enumerate(self.grads):
            array[i] = g
        return array


def _argument_names(fn, last):
    """Names for the positional arguments up to ``last``, from fn's signature where it has them."""
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"arg{i}" for i in range(last + 1)]


def _type(shape, dtype):
    return f"{np.dtype(dtype).name}{list(shape)}"


def _arguments_text(step, names):
    """A step's inputs by name, then its parameters (arrays among them left out)."""
    params = [f"{k}={v!r}" for k, v in step.params.items() if not isinstance(v, np.ndarray)]
    return ", ".join([names[r] for r in step.inputs] + params)
