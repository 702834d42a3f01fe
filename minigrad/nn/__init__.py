"""`mg.nn`: modules, layers, losses and initialisers (PyTorch's names).

    import minigrad as mg
    from minigrad import nn
    import minigrad.nn.functional as F

One file a family of modules (as torch.nn.modules): container, linear, flatten, conv, pooling, normalization,
distance, dropout, activation, loss, sparse, sampling; binary and quantized layers in binary.
"""
from . import init
from .module import (Module, Parameter, RemovableHandle, WeightClip, register_module_forward_hook,
                     register_module_forward_pre_hook)
from . import functional
from .activation import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .binary import BinaryConv2d, BinaryLinear, LSQ, PACT, QuantConv2d, QuantLinear, Quantize, Sign
from . import activation, container, conv, distance, dropout, flatten, linear, loss, normalization, pooling, sampling, sparse

__all__ = (["init", "functional", "Module", "Parameter", "RemovableHandle", "WeightClip",
            "register_module_forward_hook", "register_module_forward_pre_hook",
            "BinaryConv2d", "BinaryLinear", "LSQ", "PACT", "QuantConv2d", "QuantLinear", "Quantize", "Sign"]
           + [name for family in (activation, container, conv, distance, dropout, flatten, linear, loss, normalization, pooling,
                                  sampling, sparse) for name in family.__all__])
from .attention import *  # noqa: E402,F401,F403
__all__ += attention.__all__  # noqa: F405 (the attention family: minigrad/nn/attention.py)
from .bitnet import BitLinear, TernaryParameter  # noqa: E402 (BitNet b1.58: minigrad/nn/bitnet.py)
__all__ += ["BitLinear", "TernaryParameter"]
from . import utils  # noqa: E402 (mg.nn.utils, as torch.nn.utils: gradient clipping, parameters <-> vector)
__all__ += ["utils"]
