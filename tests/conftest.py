import pytest

import minigrad as mg


@pytest.fixture(autouse=True)
def _forget_ops_registered_by_the_test():
    """Tests may define and register ops of their own; each is removed when its test ends."""
    before = set(mg.ops.registry())
    yield
    for name in set(mg.ops.registry()) - before:
        mg.ops.unregister(name)
