"""Result dtypes of elementwise ops and reductions for every input dtype, as PyTorch gives them.

The table (tests/data/dtype_table.json) was generated once from PyTorch by running this file
(`python tests/dtype_table.py`, PyTorch installed); tests/test_dtypes.py checks minigrad against it always,
and re-checks the table against PyTorch when PyTorch is installed. An entry is a dtype name, or
"error:<ExceptionClass>" where PyTorch refuses the combination.

Operands: a tensor with dims or a 0-d tensor of each dtype, or a Python number (bool, int, float). Values are
small positive numbers, so no entry depends on a value (only on dtypes and on which operands are 0-d).
"""
import glob
import importlib
import json
import os

import numpy as np

import op_table  # noqa: F401  (loads every op_rows file, which imports op_table, before this file does)

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = {"py-bool": True, "py-int": 2, "py-float": 2.5}
PATH = os.path.join(os.path.dirname(__file__), "data", "dtype_table.json")

# name -> fn(lib, *operands); families add theirs in tests/op_rows_<family>.py as DTYPE_UNARY / DTYPE_BINARY
UNARY = {
    "neg": lambda m, x: m.neg(x), "abs": lambda m, x: m.abs(x), "exp": lambda m, x: m.exp(x),
    "log": lambda m, x: m.log(x), "sqrt": lambda m, x: m.sqrt(x), "sin": lambda m, x: m.sin(x),
    "cos": lambda m, x: m.cos(x), "tanh": lambda m, x: m.tanh(x), "sigmoid": lambda m, x: m.sigmoid(x),
    "relu": lambda m, x: m.relu(x), "erf": lambda m, x: m.erf(x),
    "gelu": lambda m, x: m.nn.functional.gelu(x), "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x),
    "sum": lambda m, x: m.sum(x), "mean": lambda m, x: m.mean(x), "var": lambda m, x: m.var(x, correction=0),
    "amax": lambda m, x: m.amax(x), "argmax": lambda m, x: m.argmax(x), "logsumexp": lambda m, x: m.logsumexp(x, 0),
    "softmax": lambda m, x: m.softmax(x, 0), "clamp_int": lambda m, x: m.clamp(x, 1),
    "clamp_float": lambda m, x: m.clamp(x, 0.5), "square_op": lambda m, x: x * x,
}
BINARY = {
    "add": lambda m, a, b: m.add(a, b), "sub": lambda m, a, b: m.sub(a, b), "mul": lambda m, a, b: m.mul(a, b),
    "div": lambda m, a, b: m.div(a, b), "pow": lambda m, a, b: m.pow(a, b),
    "maximum": lambda m, a, b: m.maximum(a, b), "minimum": lambda m, a, b: m.minimum(a, b),
    "eq": lambda m, a, b: a == b, "lt": lambda m, a, b: a < b,
    "where": lambda m, a, b: m.where(m.tensor(True), a, b),
}


def _family_tables():
    for path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "op_rows_*.py"))):
        module = importlib.import_module(os.path.basename(path)[:-3])
        UNARY.update(getattr(module, "DTYPE_UNARY", {}))
        BINARY.update(getattr(module, "DTYPE_BINARY", {}))


_family_tables()


def operand_kinds(unary):
    kinds = [f"{shape}:{d}" for d in DTYPES for shape in ("dims", "0d")]
    return kinds if unary else kinds + list(SCALARS)


def make_operand(lib, kind, shape=(2,)):
    """The operand `kind` names ('dims:int32', '0d:float16', 'py-float') for lib (minigrad or torch)."""
    if kind in SCALARS:
        return SCALARS[kind]
    where, dtype = kind.split(":")
    values = np.full(shape if where == "dims" else (), 2, dtype=dtype)
    if lib.__name__ == "torch":
        return lib.from_numpy(values)
    return lib.tensor(values)


def result_of(lib, fn, kinds, shapes=None):
    """'float32', or 'error:RuntimeError' when the call raises."""
    shapes = shapes or [(2,)] * len(kinds)
    try:
        out = fn(lib, *[make_operand(lib, k, s) for k, s in zip(kinds, shapes)])
    except Exception as e:  # the table records which exception class
        return f"error:{type(e).__name__}"
    return str(out.dtype).replace("torch.", "")


def entries():
    """Every (key, op, fn, kinds) the table holds."""
    for name, fn in sorted(UNARY.items()):
        for k in operand_kinds(True):
            yield f"{name}|{k}", name, fn, (k,)
    for name, fn in sorted(BINARY.items()):
        for a in operand_kinds(False):
            for b in operand_kinds(False):
                if a in SCALARS and b in SCALARS:
                    continue
                yield f"{name}|{a}|{b}", name, fn, (a, b)


def generate(torch):
    return {key: result_of(torch, fn, kinds) for key, _, fn, kinds in entries()}


def load():
    with open(PATH) as f:
        return json.load(f)


if __name__ == "__main__":
    import warnings

    import torch
    warnings.simplefilter("ignore")
    table = generate(torch)
    with open(PATH, "w") as f:
        json.dump(table, f, indent=0, sort_keys=True)
    print(f"{len(table)} entries written to {PATH}")
