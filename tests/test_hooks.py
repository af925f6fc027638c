"""Hooks behave as PyTorch's: when they are called and with what, the order of calls, a replaced
gradient flowing on, and a removed hook staying silent. Each scenario runs in minigrad and,
where torch can be imported, in PyTorch too, and the two logs of calls must agree."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def _log_hooks(lib, log):
    """A scenario in ``lib`` (minigrad or torch): y = 3x, z = y², w = y·z; hooks on x, y and z
    (two on y, the second replacing the gradient); a backward; then one hook removed and a
    second backward. ``log`` gets (what, values) for each call."""
    x = lib.tensor([1.0, 2.0], requires_grad=True, dtype=lib.float64)
    y = x * 3
    z = y * y
    w = (y * z).sum()

    def named(name, factor=None):
        def hook(g):
            log.append((name, [round(float(v), 9) for v in g.detach().numpy().ravel()]))
            return None if factor is None else g * factor

        return hook

    handles = [
        y.register_hook(named("y first")),
        y.register_hook(named("y second, doubled", 2.0)),
        z.register_hook(named("z")),
        x.register_hook(named("x")),
    ]
    w.backward(retain_graph=True)
    log.append(("x.grad", [round(float(v), 9) for v in x.grad.numpy().ravel()]))
    handles[1].remove()
    w.backward()
    log.append(("x.grad", [round(float(v), 9) for v in x.grad.numpy().ravel()]))


def test_tensor_hooks_run_in_order_replace_and_stay_silent_once_removed():
    log = []
    _log_hooks(mg, log)
    # dw/dz = y = [3, 6]; dw/dy = z + 2y·y = 3y² = [27, 108], doubled by the second hook
    assert log[:5] == [
        ("z", [3.0, 6.0]),
        ("y first", [27.0, 108.0]),
        ("y second, doubled", [27.0, 108.0]),
        ("x", [162.0, 648.0]),
        ("x.grad", [162.0, 648.0]),
    ]
    assert log[5:] == [
        ("z", [3.0, 6.0]),
        ("y first", [27.0, 108.0]),
        ("x", [81.0, 324.0]),
        ("x.grad", [243.0, 972.0]),  # accumulated: 162 + 81, 648 + 324
    ]


def test_tensor_hooks_match_pytorchs_calls():
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    _log_hooks(mg, ours)
    _log_hooks(torch, theirs)
    assert ours == theirs


def test_a_leaf_hook_sees_the_gradient_before_it_is_added_to_grad():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 0)
    (x * 5).sum().backward()
    assert seen == [[5.0, 5.0]] and x.grad.tolist() == [0.0, 0.0]


def test_retain_grad_keeps_the_gradient_a_hook_returned():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g + 100)
    y.sum().backward()
    assert y.grad.tolist() == [101.0, 101.0] and x.grad.tolist() == [202.0, 202.0]


def test_grad_returns_the_gradient_a_hook_returned():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 3)
    (gy,) = mg.grad((y * y).sum(), [y])
    assert gy.tolist() == [12.0, 24.0]


def test_with_create_graph_a_hook_gets_a_tensor_of_the_graph_and_its_result_differentiates():
    x = mg.tensor([1.5], requires_grad=True)
    y = x * x
    got = []
    hook = y.register_hook(lambda g: got.append(g.requires_grad) or g * x)  # 2y = 2x², times x
    (gx,) = mg.grad((y * y).sum(), [x], create_graph=True)  # 2x³ · 2x = 4x⁴
    hook.remove()
    (gxx,) = mg.grad(gx.sum(), [x])  # 16x³
    assert got == [True] and gx.tolist() == [4 * 1.5**4] and gxx.tolist() == [16 * 1.5**3]


def test_a_hook_on_an_output_of_a_node_with_several_outputs():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a, b = x.unbind(0)
    b.register_hook(lambda g: g * 10)
    (a + b).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [10.0, 10.0]]


def test_a_hook_must_return_a_tensor_of_the_same_shape_or_none():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_hook(lambda g: 5.0)
    with pytest.raises(TypeError, match="a hook returned a float; return a Tensor or None"):
        x.sum().backward()
    h.remove()
    x.register_hook(lambda g: mg.ones(3))
    with pytest.raises(ValueError, match=r"a hook returned a gradient of shape \(3,\)"):
        x.sum().backward()


def test_a_hook_on_a_tensor_without_a_gradient_is_refused():
    with pytest.raises(RuntimeError, match="register_hook: the tensor does not require grad"):
        mg.ones(2).register_hook(lambda g: g)


def test_a_handle_removes_its_hook_at_the_end_of_a_with_block():
    x = mg.tensor([1.0], requires_grad=True)
    calls = []
    with x.register_hook(lambda g: calls.append(1)):
        x.sum().backward()
    x.sum().backward()
    assert calls == [1]


# ---- compiled functions -----------------------------------------------------------------------


def test_a_hook_registered_inside_a_compiled_function_is_refused():
    def f(x):
        y = x * 2
        y.register_hook(lambda g: g)
        return y.sum()

    with pytest.raises(RuntimeError, match="register_hook: a hook registered inside a compiled"):
        mg.compile(f)(mg.tensor([1.0], requires_grad=True))


def test_hooks_on_a_compiled_functions_parameters_and_results_work():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    compiled = mg.compile(lambda x: (x * w).sum())
    calls = []
    w.register_hook(lambda g: calls.append(g.tolist()) or g * 2)
    for _ in range(3):
        w.grad = None
        out = compiled(mg.tensor([3.0, 4.0]))
        out.register_hook(lambda g: g * 10)
        out.backward()
        assert w.grad.tolist() == [60.0, 80.0]
    assert calls == [[30.0, 40.0]] * 3


def test_a_module_with_hooks_is_refused_inside_a_compiled_function():
    layer = nn.Linear(2, 2)
    layer.register_forward_hook(lambda m, args, out: out)
    with pytest.raises(RuntimeError, match="compile: a Linear with hooks was called while"):
        mg.compile(lambda x: layer(x).sum())(mg.ones(1, 2))


# ---- module hooks ---------------------------------------------------------------------------


def _module_log(lib, log):
    """A Linear with a forward pre-hook (scaling the input), a forward hook (adding to the
    output) and a full backward hook (logging, then halving grad_input)."""
    nn_ = lib.nn
    lib.manual_seed(0)
    layer = nn_.Linear(3, 2).double() if lib.__name__ == "torch" else nn_.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], dtype=lib.float64))
        layer.bias.copy_(lib.tensor([0.1, -0.2], dtype=lib.float64))

    def rounded(t):
        return None if t is None else [round(float(v), 9) for v in t.detach().numpy().ravel()]

    def pre(m, args):
        log.append(("pre", rounded(args[0])))
        return (args[0] * 2,)

    def post(m, args, out):
        log.append(("forward", rounded(out)))
        return out + 1

    def back(m, grad_input, grad_output):
        log.append(
            ("backward", [rounded(g) for g in grad_input], [rounded(g) for g in grad_output])
        )
        return tuple(None if g is None else g / 2 for g in grad_input)

    handles = [layer.register_forward_pre_hook(pre), layer.register_forward_hook(post),
               layer.register_full_backward_hook(back)]  # fmt: skip
    x = lib.tensor([[1.0, -1.0, 0.5]], requires_grad=True, dtype=lib.float64)
    out = layer(x)
    (out * lib.tensor([[1.0, 3.0]], dtype=lib.float64)).sum().backward()
    log.append(("x.grad", rounded(x.grad)))
    for h in handles:
        h.remove()
    x.grad = None
    layer(x).sum().backward()
    log.append(("x.grad, no hooks", rounded(x.grad)))


def test_module_hooks_see_and_replace_inputs_outputs_and_gradients():
    log = []
    _module_log(mg, log)
    assert log[0] == ("pre", [1.0, -1.0, 0.5])
    assert log[1] == ("forward", [1.1, -3.2])  # W (2x) + b with 2x = [2, -2, 1]
    (name, grad_input, grad_output) = log[2]
    # the forward hook's "+ 1" is after the module: grad_output is the loss's [1, 3]
    assert name == "backward" and grad_output == [[1.0, 3.0]]
    assert grad_input == [[-2.0, 3.5, 3.0]]  # Wᵀ [1, 3] = [-2, 3.5, 3], before the pre-hook's 2
    assert log[3] == ("x.grad", [-2.0, 3.5, 3.0])  # halved by the hook, doubled by the pre-hook
    assert log[4] == ("x.grad, no hooks", [0.0, 2.5, 3.0])


def test_module_hooks_match_pytorchs_calls():
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    _module_log(mg, ours)
    _module_log(torch, theirs)
    assert ours == theirs


def test_a_module_hook_must_be_callable():
    with pytest.raises(TypeError, match="register_forward_hook: a hook must be callable"):
        nn.Linear(1, 1).register_forward_hook(3)


_ = np  # the logs are lists of Python floats
