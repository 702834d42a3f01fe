"""Tutorials run as doctests: each starts from the same random seed so printed numbers are stable."""
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    import minigrad as mg
    mg.manual_seed(0)
    np.set_printoptions(precision=4, suppress=True)
    yield
