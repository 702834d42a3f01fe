"""The chapters run as doctests in the pytest process, after the rest of the test suite. Each chapter's
first block sets what its outputs depend on (the seed, NumPy's print options, where figures go, the BLAS
threads), in plain sight. This file adds nothing to that: it only gives each chapter NumPy's print options
as a fresh Python session has them (in case a test that ran before changed one the chapter does not set),
and puts back the print options and BLAS threads a chapter changed, for the tests after it."""
import numpy as np
import pytest

from minigrad.profile import blas_threads, set_blas_threads

_FRESH = np.get_printoptions()  # read when pytest collects this folder, before any test runs


@pytest.fixture(autouse=True)
def _fresh_session_state():
    threads = blas_threads()
    np.set_printoptions(**_FRESH)
    yield
    np.set_printoptions(**_FRESH)
    if threads is not None:
        set_blas_threads(threads)
