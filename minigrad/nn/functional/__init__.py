"""`mg.nn.functional` (import as F): layers and losses as functions of tensors, PyTorch's names.

Everything here is built from minigrad ops, so every function has a gradient of any order and the
tracer counts its cost op by op. One file a family (named so that no file shadows a function):
activation, conv, dense, distance, loss, norm, pool, regularization, sampling, sparse.
"""
from . import activation, conv, dense, loss, norm, pool, regularization, sampling, sparse

__all__ = [name for family in (activation, conv, dense, loss, norm, pool, regularization, sampling, sparse)
           for name in family.__all__]

from .activation import *  # noqa: E402,F401,F403
from .attention import *  # noqa: E402,F401,F403
from .conv import *  # noqa: E402,F401,F403
from .dense import *  # noqa: E402,F401,F403
from .distance import *  # noqa: E402,F401,F403
from .loss import *  # noqa: E402,F401,F403
from .norm import *  # noqa: E402,F401,F403
from .pool import *  # noqa: E402,F401,F403
from .regularization import *  # noqa: E402,F401,F403
from .sampling import *  # noqa: E402,F401,F403
from .sparse import *  # noqa: E402,F401,F403
__all__ += attention.__all__  # noqa: E402,F405 (the attention family: minigrad/nn/functional/attention.py)
__all__ += distance.__all__  # noqa: E402,F405 (the distance family: minigrad/nn/functional/distance.py)
