"""chainrule's autodiff engine: scalar `Value`s that record their graph and backpropagate.

    >>> from autograd import Value
    >>> x = Value(2.0); y = (x * x + 1).tanh(); y.backward(); round(x.grad, 6)
    0.000726
"""

from . import ops as _ops  # attaches Value's operators
from .anomaly import detect_anomaly
from .engine import Value, is_grad_enabled, no_grad, topological_order
from .extend import primitive
from .functional import grad, value_and_grad
from .gradcheck import GradcheckError, gradcheck
from .ops import cos, dot, exp, log, logsumexp, mean, relu, sigmoid, sin, softmax, sqrt, sum, tanh
from .ops import absolute as abs  # noqa: A004 - works on floats and Values alike

__all__ = [
    "Value", "topological_order", "no_grad", "is_grad_enabled", "detect_anomaly",
    "grad", "value_and_grad", "gradcheck", "GradcheckError", "primitive",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "abs",
    "sum", "mean", "dot", "logsumexp", "softmax",
]  # fmt: skip
