"""chainrule's autodiff engine: scalar `Value`s that record their graph and backpropagate.

    >>> from autograd import Value
    >>> x = Value(2.0); y = (x * x + 1).tanh(); y.backward(); round(x.grad, 6)
    0.000726

The functions (``exp``, ``tanh``, ``sum``, ``dot``, ...) come from the op table
`autograd.ops.PUBLIC`: an op added there is exported here, accepted by ``chainrule graph`` and
listed in its help. ``abs`` and ``sum`` shadow the builtins on ``from autograd import *`` and
accept the same inputs; so does ``compile`` (`autograd.compile`: trace a function once, run it
as generated Python), which takes a function, not source text.
"""

__version__ = "0.4.0"  # the one place the version is written (pyproject reads it; CHANGELOG.md says what changed)
__chainrule__ = True  # tells this package from HIPS autograd's, which has the same import name

from ._clash import check as _check_install

_check_install()  # before anything else: with HIPS's files mixed in, stop with one clear line
# ruff: noqa: E402 - the imports below come after that check, on purpose

from . import ops as _ops  # attaches Value's operators
from .anomaly import detect_anomaly
from .compile import compile  # noqa: A004 - shadows the builtin on `import *` (see its docstring)
from .engine import Value, constant, is_grad_enabled, no_grad, parameter, scope, topological_order
from .extend import primitive
from .functional import grad, value_and_grad
from .gradcheck import GradcheckError, gradcheck

globals().update(_ops.PUBLIC)


def __getattr__(name):
    """`draw` (and the `viz` module) load on first use: pictures pull in graphviz, which the
    engine, `grad` and training never need, and every imported object slows the collector."""
    if name in ("draw", "viz"):
        import importlib

        viz = importlib.import_module(".viz", __name__)  # `from . import viz` would ask this hook again
        return viz if name == "viz" else viz.draw
    if name in _ops.PUBLIC:  # an op registered after import (primitive(..., export=True))
        return _ops.PUBLIC[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Value",
    "parameter",
    "constant",
    "scope",
    "topological_order",
    "no_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "grad",
    "value_and_grad",
    "compile",
    "gradcheck",
    "GradcheckError",
    "primitive",
    "draw",
    *_ops.PUBLIC,
]
