"""Module 2, the engine: toposort, accumulate, the gradient pass and grad mode, graded by its spec.

Each exercise's code is put in the engine's place while it is graded (the
module attribute the engine reads, restored after), and the engine runs on
small graphs whose gradients are written out by hand, and on the known traps
of small engines (STYLE.md): a value used twice, a diamond, ``backward()``
twice, a 100,000-op chain. The order ``toposort`` yields is checked against
its definition, not against the package's output: every node once, each after
all its consumers, the newest ready node first.
"""

import heapq
import itertools

import numpy as np

from .checks import array_text, first_wrong, in_place_of, run_cases
from .exercise import Exercise
from .grading import Failure, Mistake, StillRunning, case, find, loop_guard

TITLE = "The engine"
GRADER = "by the engine's spec: graphs differentiated by hand, and the traps of small engines"
OPTIONAL = False


def expect(what, got, want, mistake=None):
    """A Failure unless the array ``got`` is ``want`` (shape, and entries to 1e-12)."""
    got = None if got is None else np.asarray(got.data if hasattr(got, "data") else got)
    if got is None or got.shape != np.shape(want) or first_wrong(got, want, 1e-12) is not None:
        shown = "None" if got is None else array_text(got)
        raise Failure([f"{what}: expected {array_text(want)}, yours {shown}"], mistake)


# ---- toposort ------------------------------------------------------------------------------------

RECURSIVE = Mistake(
    "a recursive toposort overflowing Python's stack",
    "a recursive walk goes one Python frame deeper for each op, and Python stops at about 1,000 "
    "(sys.getrecursionlimit()); a chain of 100,000 ops needs a loop over a stack or a queue of "
    "its own: count each node's consumers, then take the nodes whose count is down to 0, as "
    "Kahn's algorithm does",
)
TWICE = Mistake(
    "a node yielded twice",
    "a node reached along two paths (a diamond) must come once: count its consumers, and yield "
    "it when the count reaches 0",
)
PRODUCER_FIRST = Mistake(
    "a node before one of its consumers",
    "backward runs a node once every node that used its output has added its share to it: "
    "consumers first, which is the reverse of the order the ops ran in",
)
NOT_NEWEST = Mistake(
    "a valid order, but not the newest ready node first",
    "of the nodes whose consumers have all been yielded, take the one with the largest "
    "Node.number (made last), as PyTorch does: a heap of (−number, node)",
)
PARENTS_IGNORED = Mistake(
    "the parents argument ignored",
    "toposort learns a node's parents from parents(node) only: minigrad.compile walks a plan's "
    "steps with the same function, and its steps are not Nodes",
)
MISSING = Mistake(
    "a node left out",
    "every node reachable from the roots, through parents(node), comes once",
)


class Step:
    """A node that is not a Node: a name and a number, its parents known from outside."""

    def __init__(self, name, number):
        self.name, self.number = name, number

    def __repr__(self):
        return f"<step {self.name}>"


def grade_toposort(namespace):
    import minigrad as mg

    toposort = find(namespace, "toposort")
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    w = mg.tensor([2.0, 0.5], requires_grad=True)
    b = x * w
    diamond = (b.exp() + b.sin()).sum()
    cases = [
        ("a chain of 3 ops, x·w → exp → sum", [(x * w).exp().sum()]),
        ("a diamond: b = x·w, then b.exp() + b.sin()", [diamond]),
        (
            "two roots sharing a node: (b·2).sum() and b.tanh().sum()",
            [(b * 2).sum(), b.tanh().sum()],
        ),
    ]
    for i, (text, roots) in enumerate(cases, 1):
        with case(f"case {i} of 5: {text}"):
            _guarded(_check_order, toposort, [r.grad_fn for r in roots], mg.graph.parent_nodes)
    with case("case 4 of 5: steps that are not Nodes, with parents(step) given"):
        _guarded(_check_order, toposort, *_steps())
    with case("case 5 of 5: a chain of 100,000 ops (y = −y, 100,000 times)"):
        _guarded(_check_chain, toposort)
    return [
        "toposort, against its definition: every reachable node once, each after all its "
        "consumers, the newest ready node first;",
        "  on a chain, a diamond, two roots, steps known only through parents(step), and a "
        f"chain of 100,000 ops (no RecursionError; parents(node) read at most {READS} times a "
        "node).",
    ]


def _steps():
    """A small plan-like graph: a → b, a → c, (b, c) → d, d → e; parents through a dict."""
    numbers = itertools.count(10**9)
    a, b, c, d, e = (Step(name, next(numbers)) for name in "abcde")
    edges = {e: [d], d: [b, c], c: [a], b: [a], a: []}
    return [e], edges.__getitem__


def _guarded(check, toposort, *args):
    """``check(toposort, *args)`` stopped by ``GUARD``, a guard against a loop that never ends
    and not a time limit: it is many times what the slowest machine needs (the package's walk
    of the 100,000-op chain takes well under a second), and it says so when it stops a check."""
    try:
        with loop_guard(GUARD, "your toposort"):
            check(toposort, *args)
    except StillRunning as error:
        raise Failure(
            [
                f"{error}, and the check stopped there: a guard against a loop that never "
                "ends, not a time limit (the package's walk takes well under a second)"
            ]
        ) from None


def _taken(order, nodes):
    """The order a toposort yields, but at most one node more than the graph holds (so that a
    walk that yields without end is seen to yield a node twice)."""
    return list(itertools.islice(order, nodes + 1))


def _check_order(toposort, roots, parents):
    try:
        order = _taken(toposort(roots, parents), len(_consumers(roots, parents)[0]))
    except AttributeError as error:
        if "parents" in str(error) or "Step" in str(error):
            error.learn_mistake = PARENTS_IGNORED
        raise
    _check(order, roots, parents)


def _check(order, roots, parents):
    consumers, parents_of = _consumers(roots, parents)
    _check_each_once(order, consumers)
    _check_consumers_first(order, parents_of)
    _check_newest_first(order, consumers, parents_of)


def _consumers(roots, parents):
    """The grader's own count of each reachable node's consumers, and each node's parents."""
    consumers, parents_of, stack = dict.fromkeys(roots, 0), {}, list(roots)
    while stack:
        node = stack.pop()
        if node in parents_of:
            continue
        parents_of[node] = list(parents(node))
        for p in parents_of[node]:
            consumers[p] = consumers.get(p, 0) + 1
            stack.append(p)
    return consumers, parents_of


def _name(node):
    return f"{node.name} (number {node.number})"


def _check_each_once(order, consumers):
    seen = set()
    for node in order:
        if node in seen:
            raise Failure([f"{_name(node)} was yielded twice"], TWICE)
        if node not in consumers:
            raise Failure([f"{node!r} was yielded, but it is not reachable from the roots"])
        seen.add(node)
    if len(seen) < len(consumers):
        left = [n for n in consumers if n not in seen]
        raise Failure(
            [f"{len(left)} of {len(consumers)} nodes never came, {_name(left[0])} the first"],
            MISSING,
        )


def _check_consumers_first(order, parents_of):
    place = {node: i for i, node in enumerate(order)}
    for node in order:
        for p in parents_of[node]:
            if place[p] < place[node]:
                raise Failure(
                    [
                        f"{_name(p)} came at {place[p] + 1}, before {_name(node)} at "
                        f"{place[node] + 1}, which uses its output"
                    ],
                    PRODUCER_FIRST,
                )


def _check_newest_first(order, consumers, parents_of):
    left = dict(consumers)
    ready = [(-n.number, id(n), n) for n, count in left.items() if count == 0]
    heapq.heapify(ready)
    for i, node in enumerate(order, 1):
        newest = ready[0][2]
        if node is not newest:
            raise Failure(
                [f"at {i}: {_name(node)} came while {_name(newest)}, made later, was ready too"],
                NOT_NEWEST,
            )
        heapq.heappop(ready)
        for p in parents_of[node]:
            left[p] -= 1
            if left[p] == 0:
                heapq.heappush(ready, (-p.number, id(p), p))


CHAIN = 100_000
READS = 10  # parents(node) calls allowed per node: a walk reads a node's parents once or twice
GUARD = 600  # seconds: only a guard against a loop that never ends (see _guarded)
REREAD = Mistake(
    "a node's parents read again and again",
    "a walk that scans the graph for each node it yields does the graph's work once per node: "
    "read each node's parents once, keep them (a dict), and keep the nodes that are ready in a "
    "heap, so that a step takes the next one without a scan",
)


class TooMuchWork(Exception):
    """The learner's toposort called ``parents`` more often than a walk needs."""


def _check_chain(toposort):
    """The 100,000-op chain, y = −y: it must come out in order without a RecursionError.

    The work is counted, not timed: ``parents`` may be called ``READS`` times a node, and at
    most one node more than the chain holds is taken from the walk, so a walk that reads the
    graph again for each node, or yields without end, fails the same way on any machine.
    """
    import minigrad as mg

    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(CHAIN):
        y = -y
    nodes, calls = CHAIN + 1, itertools.count(1)

    def parents(node):
        if next(calls) > READS * nodes:
            raise TooMuchWork
        return mg.graph.parent_nodes(node)

    try:
        order = _taken(toposort([y.grad_fn], parents), nodes)
    except RecursionError as error:
        raise Failure([f"RecursionError: {error}"], RECURSIVE) from None
    except TooMuchWork:
        raise Failure(
            [f"parents(node) was called more than {READS * nodes:,} times for {nodes:,} nodes"],
            REREAD,
        ) from None
    _check(order, [y.grad_fn], mg.graph.parent_nodes)


# ---- accumulate ----------------------------------------------------------------------------------

ONE_SHARE = Mistake(
    "a gradient replaced, not summed",
    "a value used twice gets a share from each use, and the engine adds them with accumulate: "
    "return total + g (g alone only when total is None, the first)",
)
NONE_FIRST = Mistake(
    "the first gradient forgotten",
    "total is None when the first gradient of a value arrives: return g then",
)
IN_PLACE = Mistake(
    "a gradient summed in place",
    "total += g changes the array total in place, and a rule may hand the same array to two "
    "inputs (an add gives grad to both), or a read-only view (sum's broadcast): make a new one, "
    "total + g",
)


def grade_accumulate(namespace):
    import minigrad as mg

    accumulate = find(namespace, "accumulate")
    x = np.array([0.5, -1.5, 2.0])
    cases = [
        ("x·3, a value used once", lambda t: (t * 3).sum(), 3 * np.ones(3), ONE_SHARE),
        ("x·x, one op reading x twice", lambda t: (t * t).sum(), 2 * x, ONE_SHARE),
        ("a + a", lambda t: (t + t).sum(), 2 * np.ones(3), ONE_SHARE),
        ("b = a + a; c = b + b", lambda t: ((t + t) + (t + t)).sum(), 4 * np.ones(3), ONE_SHARE),
        ("z − z", lambda t: (t.exp() - t.exp()).sum(), np.zeros(3), ONE_SHARE),
        ("(a + b)·1 and a·3: one array for both a and b", None, None, IN_PLACE),
    ]
    n = len(cases) + 2
    with in_place_of(mg.engine, "accumulate", accumulate):
        for i, (text, loss, want, mistake) in enumerate(cases, 1):
            with case(f"case {i} of {n}: {text}, with x = {array_text(x)}"):
                if loss is None:
                    _check_shared_array(mistake)
                else:
                    t = mg.tensor(x, requires_grad=True)
                    _backward(loss(t), mistake)
                    expect("x.grad", t.grad, want, mistake)
        with case(f"case {n - 1} of {n}: backward() twice adds up, as in PyTorch"):
            t = mg.tensor(x, requires_grad=True)
            _backward((t * t).sum(), ONE_SHARE)
            _backward((t * t).sum(), ONE_SHARE)
            expect("x.grad after two passes", t.grad, 4 * x, ONE_SHARE)
        with case(f"case {n} of {n}: d²/dx² Σ x³ = 6x, the gradients Tensors (create_graph=True)"):
            t = mg.tensor(x, requires_grad=True)
            (g,) = mg.grad((t * t * t).sum(), [t], create_graph=True)
            (h,) = mg.grad(g.sum(), [t])
            expect("the second derivative", h, 6 * x, ONE_SHARE)
    return [
        f"accumulate, in the engine's place: {n} graphs whose gradients are written out by hand, "
        "to 1e-12:",
        "  a value used once, twice by one op, a + a, b = a + a; c = b + b, z − z, one array "
        "handed to two inputs, backward() twice, and a second derivative.",
    ]


def _backward(loss, mistake):
    try:
        loss.backward()
    except TypeError as error:
        if "NoneType" in str(error):
            error.learn_mistake = NONE_FIRST
        raise
    except ValueError as error:
        if "read-only" in str(error):
            error.learn_mistake = IN_PLACE
        raise


def _check_shared_array(mistake):
    import minigrad as mg

    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, -1.0], requires_grad=True)
    _backward(((a + b) * 1).sum() + (a * 3).sum(), mistake)
    expect("a.grad", a.grad, np.array([4.0, 4.0]), mistake)
    expect("b.grad", b.grad, np.array([1.0, 1.0]), mistake)


# ---- the gradient pass ---------------------------------------------------------------------------

ACCUMULATE_SKIPPED = Mistake(
    "a gradient replaced, not accumulated",
    "when a parent already has a gradient pending, the new one is added to it: "
    "pending[parent] = accumulate(pending.get(parent), g)",
)
ALL_NODES_RAN = Mistake(
    "every node run, though targets were given",
    "with targets, only the nodes on a path to a target run their rule (_leading_to picks "
    "them, in order); the others' rules may be costly, or unable to run",
)
VJP_IGNORED = Mistake(
    "the vjp argument ignored",
    "a node's rule is applied by vjp(node, grads); Node.vjp only when vjp is None: a compiled "
    "plan passes its own, whose steps are not Nodes",
)
KEPT_WRONG = Mistake(
    "what the pass returns",
    "it returns {key: gradient} for each target reached: with targets=None, the leaves and the "
    "outputs that called retain_grad() (_stored_by_backward); _take pops a node's output "
    "gradients and keeps those of outputs that are targets",
)
FINAL_HOOKS = Mistake(
    "the leaves' hooks not run",
    "a hook registered on a leaf runs on its total gradient, once every path has added to it: "
    "the last line passes each found gradient through hooks.on_final(key, g)",
)


class _Sentinel:
    """An op whose rule must not run: no target is behind it."""

    def __init__(self):
        import minigrad as mg

        class NotBehindATarget(mg.Op):
            name = "not_behind_a_target"

            def forward(self, x):
                return x * 1.0

            def backward(self, grad, out, x):
                raise AssertionError("this node leads to no target, so its rule must not run")

        self.op = NotBehindATarget(replace=True)

    def __enter__(self):
        return self.op

    def __exit__(self, *exc):
        import minigrad as mg

        mg.ops.unregister(self.op.name)


def grade_gradients(namespace):
    import minigrad as mg

    gradients = find(namespace, "gradients")
    cases = [
        ("the README's first example, y = σ(Wx + b), L = Σ y", _first_example, None),
        ("a diamond: b = 2x; L = Σ (eᵇ + sin b)", _diamond, ACCUMULATE_SKIPPED),
        ("retain_grad() on b of the diamond", _retained, KEPT_WRONG),
        ("an op with two outputs, one unused: u, w = x.split([2, 1]); L = Σ u·u", _split, None),
        (
            "minigrad.grad(L, [x]) with targets, beside a node that leads to none",
            _targets,
            ALL_NODES_RAN,
        ),
        ("minigrad.grad(L, [b]) for b inside the graph", _inner_target, KEPT_WRONG),
        ("gradients(..., vjp=...) with a vjp of one's own", _own_vjp, VJP_IGNORED),
        ("a hook on a leaf: x.register_hook(lambda g: 2 * g)", _leaf_hook, FINAL_HOOKS),
    ]
    with (
        in_place_of(mg.engine, "gradients", gradients),
        in_place_of(mg.autograd.functional, "gradients", gradients),
    ):
        run_cases(cases, gradients)
    return [
        f"gradients, in the engine's place (backward() and minigrad.grad): {len(cases)} graphs "
        "whose gradients are written out by hand, to 1e-12:",
        "  the first example, a diamond, retain_grad, an op with an unused output, targets "
        "(and a node leading to none), a target inside the graph, vjp=, and a leaf's hook.",
    ]


def _first_example(gradients):
    import minigrad as mg

    W = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], requires_grad=True)
    b = mg.tensor([0.1, -0.2], requires_grad=True)
    x = mg.tensor([1.0, 2.0, -1.0])
    y = (W @ x + b).sigmoid()
    y.sum().backward()
    s = y.data * (1 - y.data)
    expect("b.grad", b.grad, s)
    expect("W.grad", W.grad, np.outer(s, x.data))
    expect("x.grad (x needs none)", np.zeros(0) if x.grad is None else x.grad, np.zeros(0))


X = np.array([0.5, -1.0, 1.5])


def _diamond(gradients):
    import minigrad as mg

    x = mg.tensor(X, requires_grad=True)
    b = x * 2
    (b.exp() + b.sin()).sum().backward()
    expect("x.grad", x.grad, 2 * (np.exp(2 * X) + np.cos(2 * X)))


def _retained(gradients):
    import minigrad as mg

    x = mg.tensor(X, requires_grad=True)
    b = x * 2
    b.retain_grad()
    (b.exp() + b.sin()).sum().backward()
    expect("b.grad", b.grad, np.exp(2 * X) + np.cos(2 * X))
    expect("x.grad", x.grad, 2 * (np.exp(2 * X) + np.cos(2 * X)))


def _split(gradients):
    import minigrad as mg

    x = mg.tensor(X, requires_grad=True)
    u, w = x.split([2, 1])
    (u * u).sum().backward()
    expect("x.grad", x.grad, np.array([2 * X[0], 2 * X[1], 0.0]))


def _targets(gradients):
    import minigrad as mg

    x = mg.tensor(X, requires_grad=True)
    y = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with _Sentinel() as not_behind_a_target:
        loss = (x * x).sum() + not_behind_a_target(y).sum()
        (gx,) = mg.grad(loss, [x])
    expect("∂L/∂x", gx, 2 * X)


def _inner_target(gradients):
    import minigrad as mg

    x = mg.tensor(X, requires_grad=True)
    b = x * 2
    (gb,) = mg.grad((b.exp() + b.sin()).sum(), [b])
    expect("∂L/∂b", gb, np.exp(2 * X) + np.cos(2 * X))


def _own_vjp(gradients):
    import minigrad as mg

    x = mg.tensor(X, requires_grad=True)
    loss = (x.exp() * 3).sum()
    seen = []

    def vjp(node, grads):
        seen.append(node.name)
        return node.vjp(grads)

    found = gradients([mg.graph.edge(loss, "test")], [np.array(1.0)], None, vjp)
    if sorted(seen) != ["exp", "mul", "sum"]:
        raise Failure([f"vjp was called for {sorted(seen)}; expected exp, mul and sum"])
    expect("the gradient found for x", found.get(x), 3 * np.exp(X))


def _leaf_hook(gradients):
    import minigrad as mg

    x = mg.tensor(X, requires_grad=True)
    x.register_hook(lambda g: 2 * g)
    (x * x).sum().backward()
    expect("x.grad", x.grad, 4 * X)


# ---- grad mode -----------------------------------------------------------------------------------

NOT_AT_ONCE = Mistake(
    "the switch made on entering only",
    "set_grad_enabled(False) as a plain call switches grad mode at once, as in PyTorch: the "
    "constructor switches it (and remembers the mode before), __enter__ has nothing left to do",
)
NOT_RESTORED = Mistake(
    "the mode put back to True, not to what it was",
    "remember the mode in __init__, before switching, and put that back in __exit__: inside "
    "no_grad(), a nested no_grad() must leave grad mode off",
)
DECORATOR_SWITCHED = Mistake(
    "a decorator that switches the mode where it is written",
    "@set_grad_enabled(False) runs the constructor, which switches the mode: __call__ must put "
    "back the mode from before, and switch only while the function runs",
)


def grade_grad_mode(namespace):
    import minigrad as mg

    from ..switches import mode

    mine = find(namespace, "set_grad_enabled")
    cases = [
        ("with no_grad(): y = x·2", _no_grad_block, None),
        ("set_grad_enabled(False), a plain call", _plain_call, NOT_AT_ONCE),
        ("with set_grad_enabled(False):", _with_block, NOT_RESTORED),
        ("no_grad() inside no_grad()", _nested, NOT_RESTORED),
        ("enable_grad() inside no_grad()", _enable_inside, NOT_RESTORED),
        ("an error raised inside no_grad()", _error_inside, NOT_RESTORED),
        ("@set_grad_enabled(False) on a function", _decorator, DECORATOR_SWITCHED),
        ("@no_grad on a function", _no_grad_decorator, None),
    ]
    with in_place_of(mg.grad_mode, "set_grad_enabled", mine):
        run_cases(cases, mine, after=lambda: setattr(mode, "grad_enabled", True))
    return [
        f"set_grad_enabled, in grad_mode's place (no_grad and enable_grad use it): {len(cases)} "
        "uses, the mode checked before, inside and after each:",
        "  no_grad, a plain call, a with block, nesting both ways, an error inside, and both "
        "decorators.",
    ]


def _mode_is(expected, when):
    import minigrad as mg

    if mg.is_grad_enabled() != expected:
        raise Failure(
            [
                f"{when}: grad mode is {'on' if not expected else 'off'}, expected "
                f"{'on' if expected else 'off'}"
            ]
        )


def _no_grad_block(mine):
    import minigrad as mg

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        _mode_is(False, "inside no_grad()")
        y = x * 2
    _mode_is(True, "after no_grad()")
    if y.requires_grad:
        raise Failure(["y = x·2 made inside no_grad() requires grad: the op was recorded"])


def _plain_call(mine):
    mine(False)
    _mode_is(False, "after set_grad_enabled(False)")
    mine(True)
    _mode_is(True, "after set_grad_enabled(True)")


def _with_block(mine):
    with mine(False):
        _mode_is(False, "inside with set_grad_enabled(False)")
    _mode_is(True, "after the block")


def _nested(mine):
    import minigrad as mg

    with mg.no_grad():
        with mg.no_grad():
            _mode_is(False, "inside the inner no_grad()")
        _mode_is(False, "after the inner no_grad(), inside the outer")
    _mode_is(True, "after both")


def _enable_inside(mine):
    import minigrad as mg

    with mg.no_grad():
        with mg.enable_grad():
            _mode_is(True, "inside enable_grad()")
        _mode_is(False, "after enable_grad(), inside no_grad()")
    _mode_is(True, "after both")


def _error_inside(mine):
    import minigrad as mg

    try:
        with mg.no_grad():
            raise KeyError("raised inside the block")
    except KeyError:
        pass
    _mode_is(True, "after the error left the block")


def _decorator(mine):
    @mine(False)
    def inside():
        import minigrad as mg

        return mg.is_grad_enabled()

    _mode_is(True, "after @set_grad_enabled(False) was applied")
    if inside() is not False:
        raise Failure(["the function decorated with @set_grad_enabled(False) ran with grad on"])
    _mode_is(True, "after the decorated function returned")


def _no_grad_decorator(mine):
    import minigrad as mg

    @mg.no_grad
    def inside():
        return mg.is_grad_enabled()

    if inside() is not False:
        raise Failure(["the function decorated with @no_grad ran with grad on"])
    _mode_is(True, "after the decorated function returned")


EXERCISES = [
    Exercise(
        id="toposort",
        title="toposort: Kahn's order, iteratively",
        asks="engine.toposort, newest first; a chain of 100,000 ops must pass",
        source="minigrad.engine",
        units=("toposort", "_count_consumers"),
        task="""\
Write toposort(roots, parents): yield every node reachable from the roots once, each
after every node that uses its output, the newest ready node first; learn a node's
parents from parents(node) only. It must not recurse: the last case is a chain of
100,000 ops. _count_consumers is the real code's helper: write it too if you use it.""",
        write="yield the nodes, consumers first (Kahn's algorithm, with a heap for newest-first)",
        hints=(
            "First walk the graph from the roots with a stack of your own (no recursion), "
            "counting for each node how many reachable nodes use its output.",
            "The nodes no one uses are ready. Yield a ready node, then take one from the count of "
            "each of its parents; a parent whose count reaches 0 is ready.",
            "Keep the ready nodes in a heap of (−node.number, node) (heapq), so that "
            "heapq.heappop gives the newest. Two nodes never share a number.",
        ),
        grade=grade_toposort,
    ),
    Exercise(
        id="accumulate",
        title="accumulate, and a value used twice",
        asks="engine.accumulate, the one place gradients are summed",
        source="minigrad.engine",
        units=("accumulate",),
        task="""\
Write accumulate(total, g): the sum of the gradients that reached a value so far, and
g, the one that arrived now; total is None for the first. The engine calls it for each
gradient it passes on, and backward() for each .grad it adds to.""",
        write="return the running total plus g (or g, the first time)",
        hints=(
            "x·x reads x twice: the rule gives x a gradient for each use, and the engine "
            "must add them.",
            "A new array, not an in-place +=: an add hands the same gradient array to both of "
            "its inputs, and a sum's gradient is a read-only broadcast view.",
        ),
        grade=grade_accumulate,
    ),
    Exercise(
        id="gradients",
        title="the gradient pass",
        asks="engine.gradients, the one reverse-mode pass backward() and grad() wrap",
        source="minigrad.engine",
        units=("gradients",),
        task="""\
Write gradients(roots, grads, targets=None, vjp=None), the pass that backward() and
minigrad.grad() wrap: seed the roots' gradients, visit the nodes in toposort's order,
give each node the gradients of its outputs, and pass what its rule returns on to its
parents, summed with accumulate. Return the gradients of the targets. The helpers the
real code uses are imported above, each with its docstring in minigrad/engine.py.""",
        write="the pass: pending gradients, nodes in toposort's order, vjp, accumulate",
        hints=(
            "pending = {key: gradient}. Seed it with the roots, each through accumulate "
            "(a root may be given twice). The nodes: toposort(_nodes_of(pending)).",
            "For each node, _take(pending, node, keep, found) pops the gradients of its "
            "outputs; if there are any, for parent, g in vjp(node, out_grads): "
            "pending[parent] = accumulate(pending.get(parent), g).",
            "keep = _stored_by_backward without targets, else targets.__contains__; with "
            "targets, visit only _leading_to(nodes, targets). What is left in pending for a "
            "kept key goes into found, through hooks.on_final(key, g).",
        ),
        grade=grade_gradients,
    ),
    Exercise(
        id="no-grad",
        title="no_grad: a switch put back",
        asks="grad_mode.set_grad_enabled, which no_grad and enable_grad use",
        source="minigrad.grad_mode",
        units=(
            "set_grad_enabled.__init__",
            "set_grad_enabled.__enter__",
            "set_grad_enabled.__exit__",
            "set_grad_enabled.__call__",
        ),
        task="""\
Write set_grad_enabled: no_grad() and enable_grad() enter one (their __enter__ makes
set_grad_enabled(False) or (True)), so it is grad mode's one switch. As in PyTorch it
works as a plain call (which switches at once), as a context manager (which puts back
the mode from before) and as a decorator. Grad mode is switches.grad_enabled.""",
        write="switch switches.grad_enabled, remember the mode before, and put it back",
        hints=(
            "__init__ remembers switches.grad_enabled, then sets it to bool(mode); __exit__ "
            "puts back what it remembered and returns False (an error goes on).",
            "__enter__ has nothing left to do: the constructor switched already.",
            "__call__(fn): put back the mode the constructor changed, then return a wrapper "
            "(functools.wraps) that runs fn inside with set_grad_enabled(self.enabled).",
        ),
        grade=grade_grad_mode,
    ),
]
