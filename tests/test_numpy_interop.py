"""A Tensor meeting numpy and Python's format(), as a PyTorch tensor does: np.asarray gives the
numbers of a tensor that needs no gradient, numpy's reductions are a TypeError saying what to
write, and a 0-d tensor formats as its number."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.array_methods import NUMPY_REDUCTIONS

# ---- np.asarray and numpy's other functions -----------------------------------------------------


def test_np_asarray_gives_the_numbers_of_a_tensor_that_needs_no_gradient():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    array = np.asarray(t)
    assert type(array) is np.ndarray and array.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_np_asarray_of_a_tensor_that_requires_grad_names_detach():
    with pytest.raises(TypeError, match=r"np.asarray: the tensor requires grad.*t.detach\(\)"):
        np.asarray(mg.tensor([1.0], requires_grad=True))


@pytest.mark.parametrize("function", list(NUMPY_REDUCTIONS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_numpys_reductions_of_a_tensor_are_a_type_error_saying_what_to_write(
    function, requires_grad
):
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=requires_grad)
    name, method = function.__name__, NUMPY_REDUCTIONS[function]
    with pytest.raises(
        TypeError,
        match=rf"^np.{name}: numpy's reductions do not take a Tensor, as in PyTorch; use the "
        rf"tensor's own \(t.{method}\(\)\) to keep the graph, or np.{name}\(t.detach\(\).numpy\(\)\)",
    ):
        function(t)


def test_the_named_methods_are_the_tensors_own():
    assert all(
        hasattr(mg.Tensor, m) for m in NUMPY_REDUCTIONS.values() if m not in ("std", "var", "prod")
    )


def test_numpys_other_functions_run_on_the_numbers_as_on_np_asarray():
    t = mg.tensor([3.0, 1.0, 2.0])
    assert np.stack([t, t]).tolist() == [[3.0, 1.0, 2.0]] * 2
    assert np.argmax(t) == 0 and np.allclose(t, [3.0, 1.0, 2.0])
    assert np.concatenate([t, np.zeros(1)]).tolist() == [3.0, 1.0, 2.0, 0.0]
    with pytest.raises(TypeError, match=r"np.asarray: the tensor requires grad.*detach"):
        np.stack([mg.tensor([1.0], requires_grad=True)])


# ---- format -------------------------------------------------------------------------------------


def test_a_0_d_tensor_formats_as_its_number():
    t = mg.tensor(1.23456)
    assert f"{t:.2f}" == "1.23" and f"{t:>8.3e}" == "1.235e+00"
    assert f"{t}" == "1.23456"  # the number, as in PyTorch, where str(t) is tensor(1.2346)
    assert f"{mg.tensor(7):03d}" == "007" and f"{mg.tensor(True):.1f}" == "1.0"


def test_a_0_d_tensor_in_the_graph_formats_too():
    loss = (mg.tensor([1.5, 2.0], requires_grad=True) ** 2).sum()
    assert f"loss {loss:.3f}" == "loss 6.250"
    assert f"{nn.Parameter(np.array(0.5)):.1%}" == "50.0%"


def test_a_format_spec_for_a_tensor_of_several_numbers_is_a_type_error():
    with pytest.raises(
        TypeError,
        match=r"^format: a format spec such as '.2f' applies to a 0-d tensor \(one number\), "
        r"got shape \(1,\)",
    ):
        f"{mg.tensor([1.5]):.2f}"


def test_without_a_spec_a_tensor_of_several_numbers_formats_as_it_prints():
    t = mg.tensor([1.5, 2.0], requires_grad=True)
    assert f"{t}" == str(t) == "tensor([1.5, 2. ], requires_grad=True)"


def test_a_compiled_function_cannot_format_a_value_it_computes():
    @mg.compile
    def f(x):
        print(f"{x.sum():.2f}")
        return x * 2

    with pytest.raises(RuntimeError, match=r"compile\(f\): fn reads a tensor's values"):
        f(mg.tensor([1.0, 2.0]))
