"""The one seeded random generator behind randn, rand, randint and every layer's initialisation.

``manual_seed(seed)`` reseeds it in place, so everything that draws from
``default_generator`` becomes reproducible. ``get_rng_state`` and
``set_rng_state`` save and restore it exactly (checkpoints use them).
"""

import numpy as np

DEFAULT_SEED = 0

default_generator = np.random.Generator(np.random.PCG64(DEFAULT_SEED))
_initial_seed = DEFAULT_SEED


def manual_seed(seed):
    """Reseed the generator; returns it, as ``torch.manual_seed``."""
    global _initial_seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be a non-negative int, got {seed!r}")
    default_generator.bit_generator.state = np.random.PCG64(int(seed)).state
    _initial_seed = int(seed)
    return default_generator


def initial_seed():
    """The seed last given to ``manual_seed`` (or the default)."""
    return _initial_seed


def get_rng_state():
    """The generator's full state, a dict of plain numbers."""
    return default_generator.bit_generator.state


def set_rng_state(state):
    """Restore a state from ``get_rng_state``."""
    default_generator.bit_generator.state = state
