"""One property test per op, built from the op and its NumPy reference.

    from minigrad.testing import op_test
    test_mul = op_test(mg.mul, np.multiply, n_inputs=2)          # pytest collects it

For random shapes (broadcasting included) and random values, the test checks that
  1. the forward pass equals NumPy's (values, shape; float64 in, float64 out);
  2. the backward pass equals central finite differences (`gradcheck`, random upstream gradient),
     and, with `second_order=True`, so does the gradient of the gradient (`gradgradcheck`);
  3. the op mutates none of its inputs, in forward or in backward;
  4. no gradient shares memory with an input or with another input's gradient;
  5. float32 inputs give float32 outputs and float32 gradients (a float32 graph stays float32).
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ..autograd import backward as _backward
from ..tensor import Tensor
from . import strategies as mst
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["op_test", "check_op"]


def _listed(out, what):
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise AssertionError(f"{what} returned {type(o).__name__}, not a Tensor")
    return outs


def _close(what, got, want, rtol, atol):
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy gives {want.shape}"
    if want.dtype.kind in "biu" or got.dtype.kind in "biu":
        assert np.array_equal(got, want), f"{what}: values differ from NumPy\n got {got}\nwant {want}"
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def check_op(mg_fn, np_fn, arrays, kwargs=None, *, grad=True, second_order=True, float32=True,
             forward_rtol=1e-6, forward_atol=1e-6, atol=1e-5, rtol=1e-3, name=None, rng=None):
    """Run every check of `op_test` on one set of float64 input `arrays` and keyword arguments."""
    kwargs = kwargs or {}
    name = name or getattr(mg_fn, "__name__", "op")
    rng = np.random.default_rng(0) if rng is None else rng
    originals = [np.array(a) for a in arrays]
    leaves = [Tensor(np.array(a, dtype=np.float64), requires_grad=grad) for a in arrays]

    # 1. forward against NumPy
    want = np_fn(*[np.array(a) for a in originals], **kwargs)
    wants = list(want) if isinstance(want, (tuple, list)) else [want]
    outs = _listed(mg_fn(*leaves, **kwargs), name)
    assert len(outs) == len(wants), f"{name}: {len(outs)} outputs, NumPy gives {len(wants)}"
    for i, (o, w) in enumerate(zip(outs, wants)):
        _close(f"{name}: output {i}", o.data, w, forward_rtol, forward_atol)
        if o.dtype.kind == "f":
            assert o.dtype == np.float64, f"{name}: float64 inputs gave a {o.dtype} output {i}"

    if not grad:  # e.g. argmax: the result carries no gradient even when an input requires one
        probe = [Tensor(np.array(a), requires_grad=True) for a in arrays]
        for i, o in enumerate(_listed(mg_fn(*probe, **kwargs), name)):
            assert not o.requires_grad and o.grad_fn is None, f"{name}: output {i} should carry no gradient"
        for leaf, a in zip(leaves, originals):
            assert np.array_equal(leaf.data, a, equal_nan=True), f"{name}: forward modified its input"
        return

    # 3, 4. one backward pass: inputs untouched, gradients own their memory
    live = [o for o in outs if o.requires_grad]
    if live:
        _backward(live, [Tensor(rng.standard_normal(o.shape)) for o in live])
    # task 2.5: mutation and aliasing checks
    for i, (leaf, a) in enumerate(zip(leaves, originals)):
        assert np.array_equal(leaf.data, a, equal_nan=True), f"{name}: input {i} was modified by forward or backward"
    grads = [leaf.grad for leaf in leaves]
    for i, g in enumerate(grads):
        if g is None:
            continue
        assert g.shape == leaves[i].shape, f"{name}: gradient {i} has shape {g.shape}, input {leaves[i].shape}"
        assert g.dtype == np.float64, f"{name}: gradient {i} is {g.dtype}, its input float64"
        for j, leaf in enumerate(leaves):
            assert not np.shares_memory(g.data, leaf.data), f"{name}: gradient {i} shares memory with input {j}"
        for j, other in enumerate(grads[:i]):
            assert other is None or not np.shares_memory(g.data, other.data), \
                f"{name}: gradients {j} and {i} share memory (changing one in place would change the other)"
    # end task

    # 2. gradients against finite differences, first and second order
    def fn(*xs):
        return mg_fn(*xs, **kwargs)
    fn.__qualname__ = name
    gradcheck(fn, [Tensor(np.array(a), requires_grad=True) for a in originals], atol=atol, rtol=rtol)
    if second_order:
        gradgradcheck(fn, [Tensor(np.array(a), requires_grad=True) for a in originals], atol=atol, rtol=rtol)

    # 5. a float32 graph stays float32
    if float32:
        leaves32 = [Tensor(a.astype(np.float32), requires_grad=True) for a in originals]
        outs32 = _listed(mg_fn(*leaves32, **kwargs), name)
        for i, (o, w) in enumerate(zip(outs32, wants)):
            if o.dtype.kind == "f":
                assert o.dtype == np.float32, f"{name}: float32 inputs gave a {o.dtype} output {i}"
                _close(f"{name}: float32 output {i}", o.data, w, 1e-3, 1e-4)
        live32 = [o for o in outs32 if o.requires_grad]
        if live32:
            _backward(live32, [Tensor(np.ones(o.shape, np.float32)) for o in live32])
        for i, leaf in enumerate(leaves32):
            if leaf.grad is not None:
                assert leaf.grad.dtype == np.float32, f"{name}: float32 input {i} got a {leaf.grad.dtype} gradient"


def _input_strategy(n_inputs, broadcast, shapes, elements, max_side):
    if shapes is None:
        if broadcast and n_inputs > 1:
            shapes = mst.broadcastable_shapes(n_inputs, max_side=max_side)
        else:  # one shape, drawn once, for every input (broadcast=False means equal shapes)
            shapes = mst.shapes(max_side=max_side).map(lambda s: (s,) * n_inputs)
    if not isinstance(elements, (list, tuple)):
        elements = [elements] * n_inputs
    if len(elements) != n_inputs:
        raise ValueError(f"op_test: {len(elements)} element strategies for {n_inputs} inputs")
    return shapes.flatmap(lambda ss: st.tuples(*[mst.arrays(s, elements=e) for s, e in zip(ss, elements)]))


def op_test(mg_fn, np_fn, n_inputs=1, *, broadcast=True, shapes=None, elements=None, inputs=None, kwargs=None,
            grad=True, second_order=True, float32=True, max_side=3, forward_rtol=1e-6, forward_atol=1e-6,
            atol=1e-5, rtol=1e-3, name=None):
    """Build the property test of an op (a function pytest collects): see the module docstring for the checks.

    mg_fn(*tensors, **kw) and np_fn(*arrays, **kw) take the same arguments.
    n_inputs, broadcast: how many tensor inputs; by default their shapes broadcast together; with
              broadcast=False every input has the same shape.
    shapes:   a strategy of a tuple of `n_inputs` shapes (overrides broadcast).
    elements: a strategy of floats (e.g. `away_from([0])`, `positive()`), or a list of them, one per input.
    inputs:   a strategy of a tuple of float64 arrays, for inputs the two options above can't describe.
    kwargs:   a function of the drawn arrays giving a strategy of keyword-argument dicts (axis, shape, ...).
    grad:     False for an op without gradient (argmax): then the test checks that none flows.
    """
    name = name or getattr(mg_fn, "__name__", "op")
    strategy = inputs if inputs is not None else _input_strategy(n_inputs, broadcast, shapes, elements, max_side)

    @given(data=st.data())
    def test(data):
        arrays = data.draw(strategy, label="inputs")
        kw = data.draw(kwargs(*arrays), label="kwargs") if kwargs is not None else {}
        check_op(mg_fn, np_fn, arrays, kw, grad=grad, second_order=second_order, float32=float32,
                 forward_rtol=forward_rtol, forward_atol=forward_atol, atol=atol, rtol=rtol, name=name)

    test.__name__ = test.__qualname__ = f"test_{name}"
    test.__doc__ = f"Property test of {name}: forward vs NumPy, gradients vs finite differences, no mutation."
    return test
