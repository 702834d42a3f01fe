"""`mg.nn`: modules, layers, losses and initialisers (PyTorch's names).

    import minigrad as mg
    from minigrad import nn
    import minigrad.nn.functional as F
"""
from . import init
from .module import (Module, Parameter, RemovableHandle, WeightClip, register_module_forward_hook,
                     register_module_forward_pre_hook)
