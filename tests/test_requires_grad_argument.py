"""``requires_grad`` must be True or False wherever it is accepted, as in PyTorch: "no", 1 or
None would otherwise be taken for their truth values (``requires_grad="no"`` was True)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

CONSTRUCTORS = {
    "tensor": lambda flag: mg.tensor([1.0], requires_grad=flag),
    "zeros": lambda flag: mg.zeros(2, requires_grad=flag),
    "ones": lambda flag: mg.ones(2, requires_grad=flag),
    "full": lambda flag: mg.full((2,), 3.0, requires_grad=flag),
    "zeros_like": lambda flag: mg.zeros_like(mg.ones(2), requires_grad=flag),
    "ones_like": lambda flag: mg.ones_like(mg.ones(2), requires_grad=flag),
    "randn": lambda flag: mg.randn(2, requires_grad=flag),
    "rand": lambda flag: mg.rand(2, requires_grad=flag),
    "arange": lambda flag: mg.arange(0.0, 2.0, requires_grad=flag),
    "Parameter": lambda flag: nn.Parameter(np.ones(2), requires_grad=flag),
    "Linear.requires_grad_": lambda flag: nn.Linear(1, 1).requires_grad_(flag),
}
NOT_BOOLS = ["no", 1, 0, None, 1.0]


@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
@pytest.mark.parametrize("name", list(CONSTRUCTORS))
def test_requires_grad_that_is_not_a_bool_is_a_type_error_naming_the_function(name, value):
    with pytest.raises(
        TypeError,
        match=rf"^{name}: requires_grad must be True or False, got {type(value).__name__} ",
    ):
        CONSTRUCTORS[name](value)


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_], ids=repr)
@pytest.mark.parametrize("name", [n for n in CONSTRUCTORS if n != "Linear.requires_grad_"])
def test_true_and_false_and_numpys_bools_are_taken(name, value):
    made = CONSTRUCTORS[name](value)
    assert made.requires_grad is bool(value)


def test_module_requires_grad_sets_every_parameter():
    layer = nn.Linear(2, 2).requires_grad_(False)
    assert [p.requires_grad for p in layer.parameters()] == [False, False]


# The Tensor's own paths go through its requires_grad setter (tensor.py), which checks the flag
# as the functions above do.
THROUGH_THE_SETTER = {
    "Tensor": lambda: mg.Tensor([1.0], requires_grad="no"),
    "requires_grad_": lambda: mg.tensor([1.0]).requires_grad_("no"),
    "assignment": lambda: setattr(mg.tensor([1.0]), "requires_grad", "no"),
}


@pytest.mark.parametrize("name", list(THROUGH_THE_SETTER))
def test_the_tensors_own_paths_refuse_a_flag_that_is_not_a_bool(name):
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        THROUGH_THE_SETTER[name]()
