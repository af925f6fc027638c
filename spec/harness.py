"""The checks every op-table row passes live in the package, as ``minigrad.testing``, so a
project outside this repository can check its own ops; spec's tests may import them from here.
(``minigrad/testing/harness.py`` states the checks and their tolerances.)"""

from minigrad.testing.harness import *  # noqa: F403
