"""The ops and spellings of tests/fixtures/op_cases.py, minigrad against PyTorch, live. This runs
only where PyTorch happens to be installed; tests/test_torch_reference.py checks the same cases
against numbers PyTorch recorded, everywhere."""

import pytest

import minigrad as mg
import minigrad.functional as mF

from .fixtures.op_cases import OP_CASES, assert_same, outcome

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _float64_by_default():
    """PyTorch's default float is float32; minigrad's float64, as the recorded numbers are."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.mark.parametrize("name", list(OP_CASES))
def test_minigrad_gives_pytorchs_values_and_gradients(name):
    theirs = outcome(name, torch, torch.nn.functional)
    ours = outcome(name, mg, mF)
    assert_same(ours, theirs, OP_CASES[name][2])
