"""Differentiable ops, one family a file, and the Tensor methods and operators built on them.

Each family file declares its public functions (`__all__`) and the Tensor methods it provides (`METHODS`);
this file gathers them.
"""
from ..tensor import Tensor
from . import (activation, creation, elementwise, exp_log, indexing, inplace, linalg, logic, norms, reduce, rounding,
               scan, shape, sort, trig, xp)

FAMILIES = (elementwise, activation, trig, exp_log, rounding, logic, reduce, norms, scan, sort, shape, indexing, linalg,
            creation, inplace)
__all__ = [name for family in FAMILIES for name in family.__all__] + ["xp"]

from .activation import *  # noqa: E402,F401,F403
from .creation import *  # noqa: E402,F401,F403
from .elementwise import *  # noqa: E402,F401,F403
from .exp_log import *  # noqa: E402,F401,F403
from .indexing import *  # noqa: E402,F401,F403
from .linalg import *  # noqa: E402,F401,F403
from .logic import *  # noqa: E402,F401,F403
from .norms import *  # noqa: E402,F401,F403
from .reduce import *  # noqa: E402,F401,F403
from .rounding import *  # noqa: E402,F401,F403
from .scan import *  # noqa: E402,F401,F403
from .shape import *  # noqa: E402,F401,F403
from .sort import *  # noqa: E402,F401,F403
from .trig import *  # noqa: E402,F401,F403

for _family in FAMILIES:
    for _name, _method in _family.METHODS.items():
        setattr(Tensor, _name, _method)
for _name in inplace.VARIANTS:  # x.exp_(), x.sigmoid_(), ...: in place, with and without a graph
    setattr(Tensor, _name + "_", inplace.variant(getattr(Tensor, _name), _name + "_"))
for _operator, _name in inplace.OPERATORS.items():  # x //= y, x &= y, ...
    setattr(Tensor, _operator, getattr(Tensor, _name))
