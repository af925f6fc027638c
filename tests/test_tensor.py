"""Tensor mechanics: construction, dtypes, attributes, constructors, in-place updates."""

import numpy as np
import pytest

import minigrad as mg

# ---- construction and dtypes ----------------------------------------------------------------


def test_python_floats_become_float64_the_default_dtype():
    assert mg.tensor([1.0, 2.0]).dtype == np.float64
    assert mg.tensor(3.5).dtype == np.float64


def test_python_ints_become_int64_and_bools_stay_bool():
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_


def test_numpy_arrays_keep_their_dtype_unless_one_is_given():
    assert mg.tensor(np.ones(2, np.float32)).dtype == np.float32
    assert mg.tensor(np.ones(2, np.float32), dtype=mg.float64).dtype == np.float64


def test_tensor_copies_its_data_but_from_numpy_shares_it():
    a = np.zeros(3)
    copied, shared = mg.tensor(a), mg.from_numpy(a)
    a[0] = 7.0
    assert copied.data[0] == 0.0
    assert shared.data[0] == 7.0


def test_from_numpy_rejects_other_types():
    with pytest.raises(TypeError, match="from_numpy"):
        mg.from_numpy([1.0])
    with pytest.raises(TypeError, match="from_numpy"):
        mg.from_numpy(np.array(["a"]))


def test_integer_and_bool_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only float32 and float64"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="got dtype bool"):
        mg.tensor([True], requires_grad=True)
    t = mg.tensor([1, 2])
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad = True


def test_float16_cannot_require_grad():
    with pytest.raises(TypeError, match="float16"):
        mg.tensor([1.0], dtype=np.float16, requires_grad=True)


def test_ragged_and_non_numeric_data_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match="Tensor: cannot make a tensor"):
        mg.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="unsupported dtype"):
        mg.tensor(["a", "b"])
    with pytest.raises(TypeError, match="unsupported dtype"):
        mg.tensor([1 + 2j])


def test_a_tensor_made_from_a_tensor_copies_its_values():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor(a)
    assert np.array_equal(b.data, a.data) and b.data is not a.data and not b.requires_grad


# ---- attributes -----------------------------------------------------------------------------


def test_shape_ndim_dtype_size_and_numel():
    t = mg.zeros(2, 3)
    assert t.shape == (2, 3) and isinstance(t.shape, tuple)
    assert t.ndim == t.dim() == 2
    assert t.size() == (2, 3) and t.size(1) == 3
    assert t.numel() == 6


def test_T_reverses_axes_and_mT_swaps_the_last_two():
    t = mg.zeros(2, 3, 4)
    assert t.T.shape == (4, 3, 2)
    assert t.mT.shape == (2, 4, 3)


def test_leaves_and_non_leaves():
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    assert y.grad_fn.name == "mul"
    assert mg.tensor([1.0]).is_leaf


def test_numpy_shares_memory_and_refuses_tensors_that_require_grad():
    t = mg.tensor([1.0, 2.0])
    assert t.numpy() is t.data
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.detach().numpy()[0] == 1.0


def test_item_needs_exactly_one_element():
    assert mg.tensor([[2.5]]).item() == 2.5
    with pytest.raises(ValueError, match=r"item: .*shape \(2,\)"):
        mg.tensor([1.0, 2.0]).item()


def test_python_conversions():
    assert float(mg.tensor(2.5)) == 2.5
    assert int(mg.tensor(3)) == 3
    assert [10, 20, 30][mg.tensor(1)] == 20
    assert bool(mg.tensor([1.0]))
    assert mg.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="integer"):
        [1][mg.tensor(0.0)]


def test_len_and_iteration_walk_the_first_axis():
    t = mg.arange(6).reshape(3, 2)
    assert len(t) == 3
    assert [row.tolist() for row in t] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0))


def test_detach_shares_data_but_leaves_the_graph():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None
    z = x.detach()
    assert z.data is x.data


def test_repr_shows_data_grad_fn_and_requires_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x.sigmoid()).endswith("grad_fn=<sigmoid>)")
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float32" in repr(mg.tensor([1.0], dtype=mg.float32))


def test_requires_grad_cannot_be_turned_off_on_a_non_leaf():
    y = mg.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        y.requires_grad = False
    assert mg.tensor([1.0]).requires_grad_().requires_grad


def test_grad_can_be_assigned_only_a_tensor_of_the_same_shape():
    x = mg.zeros(2, requires_grad=True)
    x.grad = mg.ones(2)
    assert x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"grad: shape \(3,\)"):
        x.grad = mg.ones(3)
    with pytest.raises(TypeError, match="grad: expected a Tensor"):
        x.grad = np.ones(2)
    x.grad = None
    assert x.grad is None


def test_comparisons_give_bool_tensors_outside_the_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    results = [x == 2, x != 2, x < 2, x <= 2, x > 2, x >= 2]
    assert [r.tolist() for r in results] == [
        [False, True, False],
        [True, False, True],
        [True, False, False],
        [True, True, False],
        [False, False, True],
        [False, True, True],
    ]
    assert all(r.dtype == np.bool_ and not r.requires_grad for r in results)
    assert (x == mg.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]


def test_tensors_hash_by_identity_so_they_can_be_dict_keys():
    a, b = mg.zeros(1), mg.zeros(1)
    assert len({a: 1, b: 2}) == 2


# ---- constructors ---------------------------------------------------------------------------


def test_shapes_can_be_given_as_ints_or_as_one_tuple():
    assert mg.zeros(2, 3).shape == mg.zeros((2, 3)).shape == mg.zeros([2, 3]).shape == (2, 3)
    assert mg.ones(4).tolist() == [1.0] * 4
    assert mg.randn(2, 3).shape == mg.rand((2, 3)).shape == (2, 3)
    assert mg.zeros().shape == ()


def test_constructors_take_dtype_and_requires_grad():
    t = mg.zeros(2, dtype=mg.float32, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad and t.is_leaf
    assert mg.randn(3, dtype=mg.float32).dtype == np.float32
    with pytest.raises(TypeError, match="zeros: only float32 and float64"):
        mg.zeros(2, dtype=mg.int64, requires_grad=True)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match=r"zeros: negative dimension -1 in shape \(2, -1\)"):
        mg.zeros(2, -1)
    with pytest.raises(TypeError, match="randn: a shape holds ints"):
        mg.randn(2.5)


def test_full_and_like_constructors():
    assert mg.full((2,), 7.0).tolist() == [7.0, 7.0]
    base = mg.tensor([[1.0, 2.0]], dtype=mg.float32)
    assert mg.zeros_like(base).dtype == np.float32 and mg.zeros_like(base).shape == (1, 2)
    assert mg.ones_like(base).tolist() == [[1.0, 1.0]]


def test_arange_follows_pytorch_dtypes():
    assert mg.arange(4).tolist() == [0, 1, 2, 3] and mg.arange(4).dtype == np.int64
    assert mg.arange(0, 1, 0.5).dtype == np.float64
    assert mg.arange(1, 7, 2).tolist() == [1, 3, 5]
    with pytest.raises(ValueError, match="step must not be zero"):
        mg.arange(0, 3, 0)


def test_manual_seed_makes_random_draws_reproducible():
    mg.manual_seed(123)
    first = (mg.randn(3).data, mg.rand(2).data, mg.randint(0, 10, (4,)).data)
    mg.manual_seed(123)
    second = (mg.randn(3).data, mg.rand(2).data, mg.randint(0, 10, (4,)).data)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert mg.initial_seed() == 123


def test_rng_state_round_trips_exactly():
    mg.manual_seed(5)
    state = mg.get_rng_state()
    a = mg.randn(4).data
    mg.set_rng_state(state)
    assert np.array_equal(mg.randn(4).data, a)


def test_bad_seeds_and_ranges_are_rejected():
    with pytest.raises(ValueError, match="manual_seed"):
        mg.manual_seed(-1)
    with pytest.raises(ValueError, match="randint: need low < high"):
        mg.randint(3, 3, (2,))


# ---- in-place updates -----------------------------------------------------------------------


def test_in_place_methods_change_the_data_and_return_self():
    t = mg.tensor([1.0, 2.0])
    assert t.add_(1) is t and t.tolist() == [2.0, 3.0]
    t.sub_(mg.tensor([1.0, 1.0]), alpha=2)
    assert t.tolist() == [0.0, 1.0]
    t.mul_(4).div_(2)
    assert t.tolist() == [0.0, 2.0]
    t.add_(mg.tensor([1.0, 1.0]), alpha=0.5)
    assert t.tolist() == [0.5, 2.5]
    t.clamp_(0, 1)
    assert t.tolist() == [0.5, 1.0]
    t.fill_(3.0)
    assert t.tolist() == [3.0, 3.0]
    t.copy_(mg.tensor([4.0, 5.0]))
    assert t.tolist() == [4.0, 5.0]
    t.zero_()
    assert t.tolist() == [0.0, 0.0]
    t[1] = 9.0
    assert t.tolist() == [0.0, 9.0]


def test_augmented_assignment_is_in_place_as_in_pytorch():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    same = w
    with mg.no_grad():
        w -= 0.5 * mg.ones(2)
    assert w is same and w.tolist() == [0.5, 1.5] and w.requires_grad and w.is_leaf


def test_in_place_ops_bump_the_version():
    t = mg.zeros(2)
    before = t._version
    t.add_(1)
    middle = t._version
    t[0] = 2.0
    assert before < middle < t._version


def test_a_leaf_that_requires_grad_cannot_change_in_place_while_recording():
    w = mg.zeros(2, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"add_: a leaf that requires grad may change in place only under no_grad\(\)",
    ):
        w.add_(1)
    with mg.no_grad():
        w.add_(1)
    assert w.tolist() == [1.0, 1.0]


def test_a_tensor_produced_by_an_op_changes_in_place_and_records_the_change():
    x = mg.zeros(2, requires_grad=True)
    y = x.sigmoid()
    array = y.data
    y.mul_(2)
    assert y.data is array and y.tolist() == [1.0, 1.0]  # the same array, written into
    assert y.grad_fn.name == "mul" and y.requires_grad and not y.is_leaf


def test_in_place_errors_name_the_method_and_the_shape():
    t = mg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"add_: .*shape \(2, 3\)"):
        t.add_(mg.ones(4))
    with pytest.raises(TypeError, match="add_"):
        mg.zeros(2, dtype=mg.int64).add_(0.5)


def test_shape_helpers():
    t = mg.zeros(2, 1, 3)
    assert t.squeeze().shape == (2, 3)
    assert t.squeeze(1).shape == (2, 3)
    assert t.squeeze(0).shape == (2, 1, 3)
    assert t.unsqueeze(0).shape == (1, 2, 1, 3)
    assert t.unsqueeze(-1).shape == (2, 1, 3, 1)
    assert t.flatten().shape == (6,)
    assert t.view(3, 2).shape == (3, 2)
    assert t.expand(4, -1, 2, -1).shape == (4, 2, 2, 3)
    assert t.broadcast_to((2, 5, 3)).shape == (2, 5, 3)
    with pytest.raises(ValueError, match="unsqueeze: axis 5 is out of range"):
        t.unsqueeze(5)


def test_dtype_casts():
    t = mg.tensor([1.5, 2.5])
    assert t.float().dtype == np.float32
    assert t.float().double().dtype == np.float64
    assert t.to(mg.float64) is t
    assert t.to(mg.int64).tolist() == [1, 2]


@pytest.mark.parametrize("number", [2, 2.0, np.int64(2), np.int32(2), np.float64(2), np.float16(2)])
def test_a_number_takes_the_tensors_float_dtype_but_arrays_and_tensors_promote(number):
    x = mg.ones(2, dtype=mg.float32)
    assert (x * number).dtype == np.float32 and (number - x).dtype == np.float32
    assert (x * mg.ones(2)).dtype == np.float64 and (x * np.ones(2)).dtype == np.float64
