"""Hypothesis strategies for property-testing ops: shapes, broadcastable shapes, tensors, axes, and
element strategies that keep values away from kinks and poles.

    from hypothesis import given
    from minigrad.testing import strategies as mst

    @given(mst.tensors(shape=mst.shapes(), elements=mst.away_from([0.0])))
    def test_abs(x): ...

Finite differences are only right where a function is smooth: |x| and relu have a kink at 0, log and
1/x a pole there. `away_from(points, margin)` draws floats at least `margin` from every point, so a
central difference with step eps << margin never straddles the kink.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "arrays", "tensors", "axes", "floats", "away_from", "positive",
           "well_separated"]


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes (tuples), scalars () included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(n, min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Tuples of `n` shapes that broadcast together (as numpy does), e.g. ((3, 1), (4,))."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda s: s.input_shapes)


def floats(min_value=-3.0, max_value=3.0):
    """Finite float64 numbers in [min_value, max_value]."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)


def away_from(points, margin=0.1, min_value=-3.0, max_value=3.0):
    """Floats in [min_value, max_value] at least `margin` from every one of `points` (kinks, poles).

    A drawn value that lands too close to a point is pushed out to the nearer edge of the forbidden band,
    so nothing is rejected. Points should be more than 2 * margin apart.
    """
    points = sorted(float(p) for p in points)

    def push(x):
        # task 2.4: away from kinks
        for p in points:
            if abs(x - p) < margin:
                side = 1.0 if x >= p else -1.0
                x = p + side * margin
                if not min_value <= x <= max_value:
                    x = p - side * margin
        # end task
        return x

    return floats(min_value, max_value).map(push)


def positive(margin=0.1, max_value=3.0):
    """Floats in [margin, max_value]: for log, sqrt, a base with a real power, a divisor."""
    return floats(margin, max_value)


def arrays(shape, dtype=np.float64, elements=None):
    """ndarrays of `shape` (a tuple or a strategy). Elements are drawn as float64 and then cast to `dtype`,
    so float32 arrays never trip Hypothesis' exact-representation check."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return hnp.arrays(bool, shape, elements=elements)
    if dtype.kind in "iu":
        return hnp.arrays(dtype, shape, elements=st.integers(-5, 5) if elements is None else elements)
    return hnp.arrays(np.float64, shape, elements=floats() if elements is None else elements).map(lambda a: a.astype(dtype))


def tensors(shape=None, dtype=np.float64, elements=None, requires_grad=False):
    """minigrad Tensors. shape: a tuple, a strategy of tuples, or None for `shapes()`; dtype: float64 by default
    (what gradient checks need); elements: a strategy of scalars, e.g. `away_from([0])`."""
    shape = shapes() if shape is None else shape
    grad = requires_grad and np.dtype(dtype).kind == "f"
    return arrays(shape, dtype, elements).map(lambda a: Tensor(a, requires_grad=grad))


def axes(ndim, allow_none=True, allow_int=True, allow_tuple=True):
    """Valid `axis` arguments for a reduction over `ndim` dimensions: None, an int (negative ones too), or
    a tuple of distinct axes (possibly empty)."""
    options = []
    if allow_none:
        options.append(st.none())
    if allow_int and ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        options.append(hnp.valid_tuple_axes(ndim))
    if not options:
        raise ValueError("axes: allow at least one of None, int and tuple axes")
    return st.one_of(options)


def well_separated(shape, spacing=0.37, low=-3.0):
    """Float64 arrays of `shape` whose entries are pairwise at least `spacing` apart, in random order:
    for max, min and sort-like ops, whose gradient jumps where two entries tie."""
    shape = shapes() if shape is None else shape
    shape = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    return shape.flatmap(lambda s: st.permutations(range(int(np.prod(s)))).map(
        lambda p: (np.array(p, dtype=np.float64) * spacing + low).reshape(s)))
