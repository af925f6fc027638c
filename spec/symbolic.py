"""The SymPy helpers of the spec (symbol arrays, exact derivatives, evaluation at a point)
live in the package, as ``minigrad.testing``; spec's tests may import them from here."""

from minigrad.testing.symbolic import *  # noqa: F403
