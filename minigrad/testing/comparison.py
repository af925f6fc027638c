"""``assert_close``: the one comparison every check makes (numpy only)."""

import numpy as np


def assert_close(actual, expected, rtol, what, scale=None):
    """max |actual − expected| ≤ rtol · scale, with scale = max |expected| unless given.

    "Relative" is measured against the largest magnitude of the reference, so a
    check neither passes vacuously nor fails on an entry that is exactly zero.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if scale is None:
        scale = np.max(np.abs(expected), initial=0.0)
    error = np.max(np.abs(actual - expected), initial=0.0)
    assert error <= rtol * scale, (
        f"{what}: max error {error:.3e} exceeds {rtol:g} x reference scale {scale:.3e}"
    )
