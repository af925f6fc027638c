"""Module and Parameter mechanics: registration, traversal, modes, state_dict and its errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4))
        self.register_buffer("count", mg.zeros(1))
        self.note = "not a parameter"

    def forward(self, x):
        return self.inner(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.block(x))


# ---- Parameter ------------------------------------------------------------------------------


def test_a_parameter_always_requires_grad_and_is_a_leaf():
    p = nn.Parameter(np.zeros(3))
    assert p.requires_grad and p.is_leaf and isinstance(p, mg.Tensor)


def test_a_parameter_shares_a_tensors_data_and_copies_an_array():
    t = mg.zeros(2)
    array = np.zeros(2)
    from_tensor, from_array = nn.Parameter(t), nn.Parameter(array)
    t.data[0] = 5.0
    array[0] = 5.0
    assert from_tensor.data[0] == 5.0 and from_array.data[0] == 0.0


def test_a_parameter_must_be_floating_point():
    with pytest.raises(TypeError, match="only float32 and float64"):
        nn.Parameter([1, 2])


def test_parameter_repr():
    assert repr(nn.Parameter([1.0])).startswith("Parameter containing:\ntensor([1.]")


# ---- registration and traversal -------------------------------------------------------------


def test_parameters_and_modules_register_with_dotted_names_in_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["block.scale", "block.inner.weight", "block.inner.bias", "head.weight"]


def test_parameters_yields_the_same_objects():
    net = Net()
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())


def test_a_shared_parameter_is_listed_once():
    net = Net()
    net.head.weight = net.block.inner.weight  # not the same shape use, only sharing
    assert sum(p is net.head.weight for p in net.parameters()) == 1


def test_children_and_modules_walk_the_tree_as_pytorch():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Block", "Linear"]
    assert [name for name, _ in net.named_modules()] == ["", "block", "block.inner", "head"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Block", "Linear", "Linear"]
    assert dict(net.named_children())["head"] is net.head


def test_deleting_an_attribute_unregisters_it():
    block = Block()
    del block.scale
    assert "scale" not in dict(block.named_parameters())
    del block.inner
    assert [n for n, _ in block.named_parameters()] == []


def test_register_parameter_accepts_none_and_rejects_tensors():
    block = Block()
    block.register_parameter("extra", None)
    assert block.extra is None and "extra" not in block.state_dict()
    with pytest.raises(TypeError, match="register_parameter: expected a Parameter or None"):
        block.register_parameter("bad", mg.ones(1))
    with pytest.raises(TypeError, match="register_buffer: expected a Tensor"):
        block.register_buffer("bad", np.ones(1))


def test_assigning_before_init_explains_the_fix():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Broken()


def test_calling_a_module_runs_forward_and_forward_is_required():
    assert Net()(mg.ones(5, 3)).shape == (5, 2)
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(mg.ones(1))


# ---- modes and gradients --------------------------------------------------------------------


def test_train_and_eval_set_the_flag_on_every_module():
    net = Net()
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_none_by_default_or_zeros():
    net = Net()
    net(mg.ones(2, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_dtype_casts():
    net = Net()
    assert not any(p.requires_grad for p in net.requires_grad_(False).parameters())
    net.float()
    assert all(t.dtype == np.float32 for t in [*net.parameters(), *net.buffers()])
    assert net(mg.ones(1, 3, dtype=mg.float32)).dtype == np.float32
    net.double()
    assert net.head.weight.dtype == np.float64


# ---- state_dict -----------------------------------------------------------------------------


def test_state_dict_holds_copies_of_parameters_and_buffers_in_order():
    net = Net()
    state = net.state_dict()
    assert list(state) == [
        "block.scale",
        "block.count",
        "block.inner.weight",
        "block.inner.bias",
        "head.weight",
    ]
    state["head.weight"][...] = 7.0
    assert not np.any(net.head.weight.data == 7.0)
    assert all(isinstance(v, np.ndarray) for v in state.values())


def test_state_dict_round_trips_into_a_fresh_model():
    a, b = Net(), Net()
    assert b.load_state_dict(a.state_dict()) == ([], [])
    x = mg.randn(4, 3)
    assert np.array_equal(a(x).data, b(x).data)


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    net = Net()
    before = net.state_dict()
    bad = dict(before)
    del bad["head.weight"]
    bad["block.scale"] = np.ones(5)
    bad["stray"] = np.ones(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    message = str(info.value)
    assert "block.scale: checkpoint has shape (5,), the model has (4,)" in message
    assert "missing key: head.weight" in message and "unexpected key: stray" in message
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


def test_load_state_dict_non_strict_reports_keys_but_still_rejects_shapes():
    net = Net()
    partial = {"head.weight": np.zeros((2, 4)), "stray": np.ones(1)}
    missing, unexpected = net.load_state_dict(partial, strict=False)
    assert "block.scale" in missing and unexpected == ["stray"]
    assert np.all(net.head.weight.data == 0)
    with pytest.raises(RuntimeError, match="head.weight: checkpoint has shape"):
        net.load_state_dict({"head.weight": np.zeros(3)}, strict=False)


def test_load_state_dict_accepts_tensors_and_casts_to_the_parameter_dtype():
    net = Net().float()
    net.load_state_dict({k: mg.tensor(v.astype(np.float64)) for k, v in Net().state_dict().items()})
    assert net.head.weight.dtype == np.float32


@pytest.mark.parametrize(
    ("value", "kind"),
    [([1.0, 2.0], "list"), (mg.zeros(2), "Tensor"), (None, "NoneType"), ("net.pt", "str")],
)
def test_load_state_dict_of_something_that_is_not_a_mapping_is_a_type_error(value, kind):
    net = Net()
    before = net.state_dict()
    with pytest.raises(TypeError, match=f"load_state_dict: expected a mapping .*, got {kind}$"):
        net.load_state_dict(value)
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())


def test_load_state_dict_bumps_versions_so_stale_graphs_refuse_backward():
    net = Net()
    loss = net(mg.ones(1, 3)).sum()
    net.load_state_dict(Net().state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


# ---- printing and containers ----------------------------------------------------------------


def test_repr_is_readable_and_nested():
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (inner): Linear(in_features=3, out_features=4, bias=True)\n"
        "  )\n"
        "  (head): Linear(in_features=4, out_features=2, bias=False)\n"
        ")"
    )


def test_sequential_applies_its_modules_in_order_and_indexes_like_a_list():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    x = mg.randn(5, 3)
    assert np.array_equal(seq(x).data, seq[1](seq[0](x)).data)
    assert len(seq) == 2 and isinstance(seq[-1], nn.Linear) and len(seq[:1]) == 1
    assert [type(m) for m in seq] == [nn.Linear, nn.Linear]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(TypeError, match="Sequential: expected a Module"):
        seq.append(lambda x: x)


def test_init_functions_fill_in_place_and_return_the_tensor():
    p = nn.Parameter(np.zeros(1000))
    assert nn.init.constant_(p, 2.5) is p and np.all(p.data == 2.5)
    assert np.all(nn.init.zeros_(p).data == 0) and np.all(nn.init.ones_(p).data == 1)
    nn.init.uniform_(p, -2.0, 3.0)
    assert p.data.min() >= -2.0 and p.data.max() <= 3.0 and p.data.std() > 1.0
    nn.init.normal_(p, mean=5.0, std=0.1)
    assert abs(p.data.mean() - 5.0) < 0.02 and abs(p.data.std() - 0.1) < 0.01
    assert p.requires_grad and p.is_leaf


def test_a_parameter_slot_takes_only_a_parameter_or_none_as_in_pytorch():
    lin = nn.Linear(2, 3)
    with pytest.raises(
        TypeError, match="cannot assign a Tensor as parameter 'weight'.*functional_call"
    ):
        lin.weight = lin.weight * 2
    lin.bias = None
    assert "bias" in lin._parameters and lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"] and list(lin.state_dict()) == [
        "weight"
    ]
    lin.bias = nn.Parameter(np.zeros(3))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]


def test_buffers_and_children_keep_their_kind_when_reassigned():
    block = Block()
    block.count = mg.ones(1)
    assert block.state_dict()["count"].tolist() == [1.0]
    with pytest.raises(TypeError, match="cannot assign a int as buffer 'count'"):
        block.count = 3
    with pytest.raises(TypeError, match="cannot assign a int as child module 'inner'"):
        block.inner = 3
    block.inner = None
    assert list(block.children()) == [] and "(inner): None" in repr(block)  # as PyTorch prints it


def test_functional_call_runs_with_other_tensors_and_restores_the_parameters():
    lin = nn.Linear(2, 1)
    x = mg.ones(1, 2)
    w = mg.tensor([[2.0, 3.0]], requires_grad=True)
    out = nn.utils.functional_call(lin, {"weight": w, "bias": mg.zeros(1)}, (x,))
    assert out.tolist() == [[5.0]]
    out.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0]] and lin.weight.grad is None
    assert isinstance(lin.weight, nn.Parameter) and lin._parameters["weight"] is lin.weight
    net = Net()
    before = net(x.reshape(1, 2) @ mg.ones(2, 3))
    y = nn.utils.functional_call(net, {"block.count": mg.ones(1)}, x.reshape(1, 2) @ mg.ones(2, 3))
    assert y.tolist() == before.tolist()
    with pytest.raises(KeyError, match="no parameter or buffer 'head.nothing'"):
        nn.utils.functional_call(net, {"head.nothing": mg.ones(1)}, (x,))
