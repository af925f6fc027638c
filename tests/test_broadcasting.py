"""Broadcasting, swept with hypothesis: every gradient comes back in its input's shape, with
each element's gradient the sum over every output position that read it."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg
from minigrad.autograd import gradcheck

SETTINGS = settings(max_examples=40, deadline=None)


def brute_force_broadcast_grad(shape, result_shape, per_output):
    """Σ of per_output over all output positions that read each element of an input of ``shape``."""
    grad = np.zeros(shape)
    lead = len(result_shape) - len(shape)
    for out_index in np.ndindex(result_shape):
        in_index = tuple(0 if n == 1 else i for i, n in zip(out_index[lead:], shape))
        grad[in_index] += per_output[out_index]
    return grad


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), st.integers(0, 2**16))
def test_a_product_gradient_is_summed_back_to_each_broadcast_input(shapes, seed):
    rng = np.random.default_rng(seed)
    (sa, sb), result = shapes.input_shapes, shapes.result_shape
    a, b = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in (sa, sb))
    cotangent = rng.standard_normal(result)
    out = a * b
    assert out.shape == result
    out.backward(mg.tensor(cotangent))
    b_seen = np.broadcast_to(b.data, result)
    a_seen = np.broadcast_to(a.data, result)
    assert a.grad.shape == sa and b.grad.shape == sb
    assert np.allclose(
        a.grad.data,
        brute_force_broadcast_grad(sa, result, cotangent * b_seen),
        rtol=1e-13,
        atol=1e-13,
    )
    assert np.allclose(
        b.grad.data,
        brute_force_broadcast_grad(sb, result, cotangent * a_seen),
        rtol=1e-13,
        atol=1e-13,
    )


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), st.integers(0, 2**16))
def test_where_with_three_broadcast_inputs_passes_gradcheck(shapes, seed):
    rng = np.random.default_rng(seed)
    sc, sa, sb = shapes.input_shapes
    cond = mg.tensor(rng.random(sc) < 0.5)
    a, b = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in (sa, sb))
    assert gradcheck(lambda a, b: mg.where(cond, a, b) * 1.5, (a, b))


@SETTINGS
@given(
    st.lists(st.integers(1, 3), min_size=0, max_size=2),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 3),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_batched_matmul_with_broadcast_batches_passes_gradcheck(batch, m, n, p, share, seed):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((*batch, m, n)), requires_grad=True)
    y_shape = (n, p) if share else (*[1] * len(batch), n, p)
    y = mg.tensor(rng.standard_normal(y_shape), requires_grad=True)
    assert gradcheck(lambda x, y: x @ y, (x, y))


@SETTINGS
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.data())
def test_sum_and_mean_over_any_axes_spread_the_gradient_back(shape, data):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
    axis = tuple(axes) if axes else None
    keepdims = data.draw(st.booleans())
    x = mg.tensor(np.ones(shape), requires_grad=True)
    x.sum(axis, keepdims).sum().backward()
    assert np.array_equal(x.grad.data, np.ones(shape))
    x.grad = None
    x.mean(axis, keepdims).sum().backward()
    count = np.prod([shape[a] for a in (axis if axis is not None else range(len(shape)))])
    assert np.allclose(x.grad.data, np.full(shape, 1.0 / count), rtol=1e-15)
