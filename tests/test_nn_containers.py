"""ModuleList, ModuleDict, ParameterList and Module.apply: PyTorch's names in named_parameters and
state_dict, and the list and dict operations. tests/test_torch_reference.py loads a PyTorch model
built of them; tests/test_torch_bridge.py does it both ways, live."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def linears(*sizes):
    return [nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(linears(3, 4, 4))
        self.heads = nn.ModuleDict(
            {"mean": nn.Linear(4, 2), "scale": nn.Sequential(*linears(4, 4, 2))}
        )
        self.gains = nn.ParameterList([nn.Parameter(np.ones(2)), mg.zeros(2)])


def test_containers_name_their_contents_as_pytorch_does():
    assert list(Net().state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
        "heads.mean.weight", "heads.mean.bias",
        "heads.scale.0.weight", "heads.scale.0.bias", "heads.scale.1.weight", "heads.scale.1.bias",
        "gains.0", "gains.1",
    ]  # fmt: skip


def test_a_state_dict_round_trips_through_containers():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert np.array_equal(x, y), name


def test_a_module_in_two_containers_is_one_set_of_parameters():
    shared = nn.Linear(2, 2)
    holder = nn.Module()
    holder.first = nn.ModuleList([shared])
    holder.second = nn.ModuleDict({"again": shared})
    assert [name for name, _ in holder.named_parameters()] == ["first.0.weight", "first.0.bias"]


def test_module_list_indexes_slices_and_renumbers_as_a_list():
    a, b, c = linears(1, 2, 3, 4)
    modules = nn.ModuleList([a, b])
    modules.append(c)
    assert modules[-1] is c and len(modules) == 3 and list(modules) == [a, b, c]
    assert isinstance(modules[1:], nn.ModuleList) and list(modules[1:]) == [b, c]
    del modules[0]
    assert list(modules._modules) == ["0", "1"] and list(modules) == [b, c]
    modules.insert(0, a)
    assert list(modules) == [a, b, c] and modules.pop(1) is b and list(modules) == [a, c]
    modules[1] = b
    assert list(modules) == [a, b] and list(modules + nn.ModuleList([c])) == [a, b, c]
    modules += [c]
    assert [name for name, _ in modules.named_parameters()][-1] == "2.bias"


def test_module_list_refuses_what_is_not_a_module_and_indices_out_of_range():
    with pytest.raises(TypeError, match="^ModuleList: expected a Module, got Tensor$"):
        nn.ModuleList([mg.zeros(2)])
    with pytest.raises(IndexError, match="^ModuleList: index 2 is out of range for length 2$"):
        nn.ModuleList(linears(1, 2, 3))[2]
    with pytest.raises(
        TypeError, match="^ModuleList: indices must be integers or slices, got str$"
    ):
        nn.ModuleList()["0"]


def test_module_list_has_no_forward_of_its_own():
    with pytest.raises(NotImplementedError, match="ModuleList does not define forward"):
        nn.ModuleList(linears(1, 2))(mg.zeros(1))


def test_sequential_keeps_its_list_operations_and_slices_to_a_sequential():
    a, b = linears(2, 3, 1)
    model = nn.Sequential(a)
    model.append(b)
    assert isinstance(model[:1], nn.Sequential) and model[-1] is b
    assert model(mg.ones(2)).shape == (1,)
    with pytest.raises(TypeError, match="^Sequential: expected a Module, got int$"):
        model.append(3)


def test_module_dict_keeps_the_order_and_behaves_as_a_dict():
    a, b, c = linears(1, 2, 3, 4)
    heads = nn.ModuleDict([("x", a), ("y", b)])
    heads.update({"z": c, "x": b})
    assert list(heads) == ["x", "y", "z"] and heads["x"] is b and "z" in heads
    assert list(heads.keys()) == ["x", "y", "z"] and list(heads.values()) == [b, b, c]
    assert heads.pop("y") is b and len(heads) == 2 and not hasattr(heads, "y")
    del heads["x"]
    assert dict(heads.items()) == {"z": c}
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


@pytest.mark.parametrize(
    "key, error, message",
    [
        ("a.b", ValueError, "add_module: the name must be non-empty, without '.', got 'a.b'"),
        ("", ValueError, "add_module: the name must be non-empty, without '.', got ''"),
        ("keys", ValueError, "add_module: ModuleDict already has an attribute named 'keys'"),
        (
            "training",
            ValueError,
            "add_module: ModuleDict already has an attribute named 'training'",
        ),
        (3, TypeError, "add_module: the name must be a str, got int"),
    ],
)
def test_module_dict_refuses_keys_that_are_not_names(key, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        nn.ModuleDict({key: nn.Linear(1, 1)})


def test_module_dict_refuses_what_is_not_a_module_and_unknown_keys():
    with pytest.raises(TypeError, match="^ModuleDict: expected a Module, got float$"):
        nn.ModuleDict({"a": 1.0})
    with pytest.raises(KeyError):
        nn.ModuleDict()["missing"]
    with pytest.raises(TypeError, match=r"ModuleDict.update: expected \(key, module\) pairs"):
        nn.ModuleDict(["ab c"])


def test_parameter_list_makes_a_tensor_a_parameter_sharing_its_data():
    t = mg.zeros(3)
    params = nn.ParameterList([t])
    assert type(params[0]) is nn.Parameter and params[0].requires_grad
    t.data[0] = 5.0
    assert params[0].data[0] == 5.0
    params.append(nn.Parameter(np.ones(2)))
    params[0] = mg.ones(1)
    assert [name for name, _ in params.named_parameters()] == ["0", "1"]
    assert params[0].shape == (1,) and isinstance(params[:1], nn.ParameterList)
    params += [mg.ones(4)]
    assert len(params) == 3 and [p.shape for p in params] == [(1,), (2,), (4,)]


def test_parameter_list_refuses_what_is_not_a_tensor():
    with pytest.raises(
        TypeError, match="^ParameterList: expected a Parameter or Tensor, got list$"
    ):
        nn.ParameterList([[1.0, 2.0]])
    with pytest.raises(IndexError, match="ParameterList: index -2 is out of range for length 1"):
        nn.ParameterList([mg.ones(1)])[-2]


def test_a_parameter_list_is_trained_with_the_module_that_holds_it():
    holder = nn.Module()
    holder.gains = nn.ParameterList([mg.ones(2)])
    (holder.gains[0] * 3.0).sum().backward()
    assert holder.gains[0].grad.tolist() == [3.0, 3.0]
    assert list(holder.parameters()) == [holder.gains[0]]


def test_apply_visits_children_before_parents_and_returns_the_module():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(m)) is net
    assert [type(m).__name__ for m in seen] == [
        "Linear", "Linear", "ModuleList", "Linear", "Linear", "Linear", "Sequential",
        "ModuleDict", "ParameterList", "Net",
    ]  # fmt: skip
    assert seen[0] is net.layers[0] and seen[-1] is net


def test_apply_initialises_every_linear_layer():
    def zero_biases(module):
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)

    net = Net().apply(zero_biases)
    biases = [p for name, p in net.named_parameters() if name.endswith("bias")]
    assert len(biases) == 5 and all(not b.data.any() for b in biases)


def test_apply_needs_a_function():
    with pytest.raises(TypeError, match="^apply: expected a function of a module, got str$"):
        Net().apply("zeros_")


def test_deleting_a_slice_of_a_module_list_renumbers_the_rest():
    a, b, c = linears(1, 2, 3, 4)
    modules = nn.ModuleList([a, b, c])
    del modules[:2]
    assert list(modules._modules) == ["0"] and modules[0] is c


def test_deleting_a_key_a_module_dict_lacks_is_a_key_error():
    with pytest.raises(KeyError, match="missing"):
        del nn.ModuleDict()["missing"]


def test_an_empty_parameter_list_holds_nothing():
    assert len(nn.ParameterList()) == 0 and list(nn.ParameterList().parameters()) == []


def test_add_module_takes_a_module_or_none_only():
    holder = nn.Module()
    holder.register_module("empty", None)
    assert list(holder.named_children()) == [] and holder.empty is None
    with pytest.raises(TypeError, match="^add_module: expected a Module or None, got int$"):
        holder.add_module("three", 3)
