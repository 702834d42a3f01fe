"""Chapter 02, exercise 3: a kink is gradcheck's blind spot.

|x| has derivative sign(x) away from 0. At 0 the derivative does not exist; minigrad (like PyTorch) uses
sign(0) = 0 there. The central difference at 0 is (|eps| - |-eps|) / (2 eps) = 0: it agrees by luck. At a
point just off 0, closer than eps, it straddles the kink and reports (x + eps - (eps - x)) / (2 eps) = x / eps,
somewhere between -1 and 1, while the rule says +-1: gradcheck fails there although the rule is right.
"""
import numpy as np
from hypothesis import given, settings

import minigrad as mg
from minigrad.testing import GradcheckError, gradcheck
from minigrad.testing import strategies as mst


@settings(max_examples=50, derandomize=True, deadline=None, database=None)
@given(mst.tensors(shape=mst.shapes(), elements=mst.away_from([0.0]), dtype="float64"))
def test_abs_gradient_is_sign_away_from_zero(x):
    x.requires_grad = True
    x.abs().sum().backward()
    assert np.array_equal(x.grad.numpy(), np.sign(x.numpy()))
    assert gradcheck(mg.abs, [x.detach()])


test_abs_gradient_is_sign_away_from_zero()

# at 0 itself: the central difference (|eps| - |-eps|) / (2 eps) = 0 equals the rule's sign(0) = 0, by luck
assert gradcheck(mg.abs, [mg.tensor([0.0], dtype="float64")], grad_outputs=[np.ones(1)])

x = mg.tensor([2e-7], dtype="float64")  # 2e-7 from the kink, closer than eps = 1e-6
try:
    gradcheck(mg.abs, [x], grad_outputs=[np.ones(1)])
    raise AssertionError("gradcheck should have failed next to the kink")
except GradcheckError as e:
    numeric = float(str(e).splitlines()[-1].split()[-2])
    assert abs(numeric - 0.2) < 1e-6, numeric  # x / eps = 0.2, where the rule says 1
    print("next to the kink gradcheck reports", numeric, "= x / eps, the rule says 1")
