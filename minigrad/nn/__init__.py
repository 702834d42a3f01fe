"""`mg.nn`: modules, layers, losses and initialisers (PyTorch's names).

    import minigrad as mg
    from minigrad import nn
    import minigrad.nn.functional as F
"""
from . import init
from .module import (Module, Parameter, RemovableHandle, WeightClip, register_module_forward_hook,
                     register_module_forward_pre_hook)
from . import functional
from .layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, BCEWithLogitsLoss, Conv2d,
                     CrossEntropyLoss, Dropout, Flatten, GELU, Hardtanh, Identity, L1Loss, LeakyReLU, Linear,
                     LogSoftmax, MaxPool2d, ModuleList, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax,
                     SquaredHingeLoss, Tanh)
from .binary import BinaryConv2d, BinaryLinear, LSQ, PACT, QuantConv2d, QuantLinear, Quantize, Sign

__all__ = ["init", "functional", "Module", "Parameter", "RemovableHandle", "WeightClip",
           "register_module_forward_hook", "register_module_forward_pre_hook",
           "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "BCEWithLogitsLoss", "Conv2d",
           "CrossEntropyLoss", "Dropout", "Flatten", "GELU", "Hardtanh", "Identity", "L1Loss", "LeakyReLU", "Linear",
           "LogSoftmax", "MaxPool2d", "ModuleList", "MSELoss", "NLLLoss", "ReLU", "Sequential", "Sigmoid", "Softmax",
           "SquaredHingeLoss", "Tanh", "BinaryConv2d", "BinaryLinear", "LSQ", "PACT", "QuantConv2d", "QuantLinear",
           "Quantize", "Sign"]
