"""Every op is reachable PyTorch-style: as a Tensor method or operator, and as a module function."""

import operator

import numpy as np
import pytest

import minigrad as mg

X = mg.tensor([[0.5, 1.5], [2.0, 0.25]])
Y = mg.tensor([[1.0, 2.0], [3.0, 4.0]])

# registry name -> (how a Tensor spells it, how the module spells it)
SPELLINGS = {
    "add": (operator.add, mg.add),
    "sub": (operator.sub, mg.sub),
    "mul": (operator.mul, mg.mul),
    "div": (operator.truediv, mg.div),
    "pow": (operator.pow, mg.pow),
    "matmul": (operator.matmul, mg.matmul),
    "maximum": (mg.Tensor.maximum, mg.maximum),
    "minimum": (mg.Tensor.minimum, mg.minimum),
}
UNARY = {
    name: (getattr(mg.Tensor, name), getattr(mg, name))
    for name in ["clone", "neg", "exp", "log", "sqrt", "abs", "sign", "sigmoid", "tanh", "relu"]
}
REDUCTIONS = ["sum", "mean", "max", "min", "logsumexp", "log_softmax"]


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_binary_ops_as_operator_method_and_function_agree(name):
    method, function = SPELLINGS[name]
    assert np.array_equal(method(X, Y).data, function(X, Y).data)
    assert method(X, Y).grad_fn is None  # constants: no graph


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_as_method_and_function_agree(name):
    method, function = UNARY[name]
    assert np.array_equal(method(X).data, function(X).data)


def test_neg_and_abs_operators():
    assert np.array_equal((-X).data, mg.neg(X).data)
    assert np.array_equal(abs(-X).data, mg.abs(X).data)


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_as_method_and_function_agree(name):
    assert np.array_equal(getattr(X, name)(axis=0).data, getattr(mg, name)(X, axis=0).data)


def test_shape_ops_as_method_and_function_agree():
    assert np.array_equal(X.reshape(4).data, mg.reshape(X, (4,)).data)
    assert np.array_equal(X.permute(1, 0).data, mg.permute(X, (1, 0)).data)
    assert np.array_equal(X.transpose(0, 1).data, mg.transpose(X, 0, 1).data)
    assert np.array_equal(X.broadcast_to((3, 2, 2)).data, mg.broadcast_to(X, (3, 2, 2)).data)
    assert np.array_equal(X.clip(0, 1).data, mg.clip(X, 0, 1).data)
    assert np.array_equal(X.clamp(0, 1).data, mg.clamp(X, 0, 1).data)
    assert [p.tolist() for p in X.unbind(1)] == [p.tolist() for p in mg.unbind(X, 1)]
    assert np.array_equal(X[0].data, X.data[0])
    assert np.array_equal(X.index_put(0, 7.0).data, mg.index_put(X, 0, 7.0).data)
    assert mg.stack([X, Y]).shape == (2, 2, 2) and mg.cat([X, Y], 1).shape == (2, 4)


def test_where_and_to():
    assert np.array_equal(mg.where(X > 1, X, Y).data, np.where(X.data > 1, X.data, Y.data))
    assert X.to(mg.float32).dtype == np.float32


OPERATORS = {
    "add": "__add__",
    "sub": "__sub__",
    "mul": "__mul__",
    "div": "__truediv__",
    "pow": "__pow__",
    "matmul": "__matmul__",
    "getitem": "__getitem__",
}
FUNCTIONS_ONLY = {"stack", "concatenate"}  # they take a list, as torch.stack and torch.cat
METHODS_ONLY = {"getitem", "to"}  # as in PyTorch: x[i] and x.to(dtype) have no function form


def _package_ops():
    return [n for n, op in mg.ops.registry().items() if type(op).__module__.startswith("minigrad.")]


@pytest.mark.parametrize("name", _package_ops())
def test_every_op_of_the_package_is_a_tensor_method_or_operator(name):
    if name not in FUNCTIONS_ONLY:
        assert hasattr(mg.Tensor, OPERATORS.get(name, name))


@pytest.mark.parametrize("name", _package_ops())
def test_every_op_of_the_package_is_a_module_function(name):
    if name not in METHODS_ONLY:
        assert getattr(mg, name) is mg.ops.registry()[name]
