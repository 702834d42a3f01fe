"""minigrad: a readable reverse-mode autodiff engine over NumPy.

    import minigrad as mg
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * 3).tanh().sum(); y.backward()
"""
import warnings as _warnings

# NumPy warns when an op meets a floating-point exception (log(0), 0/0, exp overflow); PyTorch returns the same
# inf and nan silently. minigrad's ops follow PyTorch: the warnings NumPy raises inside minigrad's own modules are
# not shown (a user's own NumPy code keeps its warnings). To find where a nan or an inf came from, use
# mg.detect_anomaly(), which names the op.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"minigrad(\.|$)",
                         message=r"(divide by zero|invalid value|overflow|underflow) encountered|Mean of empty slice"
                                 r"|Degrees of freedom <= 0")

from .tensor import (Tensor, arange, default_rng, eye, full, manual_seed, ones, ones_like, rand, randn, tensor,
                     zeros, zeros_like)
from .autograd import (Cost, Function, backward_rules, detect_anomaly, enable_grad, grad, is_grad_enabled,
                       no_grad, set_grad_enabled)
from .ops import *  # noqa: F401,F403  (the differentiable functions: mg.exp, mg.matmul, ...)
from . import ops
from . import linalg
from . import ste
from . import nn
from . import optim, data
from .serialization import save, load
from . import testing
from .trace import trace
from .viz import explain
from . import viz
from .profile import profile
from . import interop, onnx

__version__ = "0.1.0"
