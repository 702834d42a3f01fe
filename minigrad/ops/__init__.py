"""Differentiable ops, one family a file, and the Tensor methods and operators built on them."""
from ..tensor import Tensor
from . import elementwise, inplace, linalg, reduce, shape, xp
from .elementwise import (abs, add, astype, clamp, clip, cos, div, erf, exp, gelu, leaky_relu, log, maximum, minimum,
                          mul, neg, pow, relu, sigmoid, sin, sqrt, sub, tanh, where)
from .linalg import matmul
from .reduce import (amax, amin, argmax, argmin, logsumexp, log_softmax, max, mean, min, softmax, std, sum, var)
from .shape import (broadcast_to, cat, clone, concat, concatenate, contiguous, expand, flatten, gather, getitem, pad,
                    permute, reshape, split, squeeze, stack, transpose, unsqueeze, view)

__all__ = ["abs", "add", "astype", "clamp", "clip", "cos", "div", "erf", "exp", "gelu", "leaky_relu", "log", "maximum",
           "minimum", "mul", "neg", "pow", "relu", "sigmoid", "sin", "sqrt", "sub", "tanh", "where", "matmul",
           "amax", "amin", "argmax", "argmin", "logsumexp", "log_softmax", "max", "mean", "min", "softmax", "std", "sum",
           "var", "broadcast_to", "cat", "clone", "concat", "concatenate", "contiguous", "expand", "flatten", "gather",
           "getitem", "pad", "permute", "reshape", "split", "squeeze", "stack", "transpose", "unsqueeze", "view", "xp"]


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _comparison(op):
    return lambda self, other: elementwise.compare(op, self, other)


# The Tensor's methods and operators: each is one of the functions above.
_METHODS = {
    "__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
    "__mul__": mul, "__rmul__": _reflected(mul), "__truediv__": div, "__rtruediv__": _reflected(div),
    "__pow__": pow, "__rpow__": _reflected(pow), "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
    "__neg__": neg, "__abs__": abs, "__getitem__": getitem,
    "__eq__": _comparison(elementwise.Eq), "__ne__": _comparison(elementwise.Ne),
    "__lt__": _comparison(elementwise.Lt), "__le__": _comparison(elementwise.Le),
    "__gt__": _comparison(elementwise.Gt), "__ge__": _comparison(elementwise.Ge),
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "exp": exp, "log": log, "sqrt": sqrt,
    "abs": abs, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "erf": erf,
    "leaky_relu": leaky_relu, "gelu": gelu, "maximum": maximum, "minimum": minimum, "clip": clip, "clamp": clip,
    "astype": astype, "matmul": matmul, "sum": sum, "mean": mean, "var": var, "std": std, "max": max, "min": min,
    "amax": amax, "amin": amin, "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax,
    "argmax": argmax, "argmin": argmin,
    "reshape": reshape, "view": view, "permute": permute, "transpose": transpose, "expand": expand,
    "broadcast_to": broadcast_to, "squeeze": squeeze, "unsqueeze": unsqueeze, "flatten": flatten, "pad": pad,
    "split": split, "clone": clone, "contiguous": contiguous, "gather": gather,
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_, "copy_": inplace.copy_,
    "fill_": inplace.fill_, "zero_": inplace.zero_, "clamp_": inplace.clamp_, "__setitem__": inplace.setitem,
    # x += y is in place with and without grad (as PyTorch); Python rebinds x to the same tensor
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_, "__itruediv__": inplace.div_,
    "float": lambda self: astype(self, "float32"), "double": lambda self: astype(self, "float64"),
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.T = property(lambda self: permute(self, tuple(reversed(range(self.ndim)))), doc="All dims reversed.")
Tensor.mT = property(shape.matrix_transpose, doc="The last two dims swapped (needs at least 2 dims).")
