"""Every built-in operation: its forward rule and, beside it, its local derivative ∂ans/∂input.

One line per primitive, made through the same door users have (`extend.primitive`). Each
derivative is written with arithmetic and these same functions, so it runs on floats in
`backward` and on `Value`s inside `grad` (which is how higher derivatives come out). Each
function accepts floats or `Value`s: ``tanh(0.5)`` is a float, ``tanh(Value(0.5))`` a node.
"""

from __future__ import annotations

from math import isfinite as _isfinite
from operator import mul as _mul

from . import _ieee
from .engine import Value, _node, constant
from .extend import primitive

__all__ = [
    "add", "sub", "mul", "div", "power", "neg", "absolute", "identity",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos",
    "sum", "mean", "dot", "logsumexp", "softmax", "PUBLIC", "export",
]  # fmt: skip

# ---- arithmetic ------------------------------------------------------------------------------
add = primitive("+", derivative=lambda ans, a, b: (1.0, 1.0))(lambda a, b: a + b)
sub = primitive("-", derivative=lambda ans, a, b: (1.0, -1.0))(lambda a, b: a - b)
mul = primitive("*", derivative=lambda ans, a, b: (b, a))(lambda a, b: a * b)
div = primitive("/", derivative=lambda ans, a, b: (1.0 / b, -ans / b))(_ieee.div)
neg = primitive("neg", derivative=lambda ans, x: -1.0)(lambda x: -x)
identity = primitive("id", derivative=lambda ans, x: 1.0)(lambda x: x)


def _sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


absolute = primitive(
    "abs", derivative=lambda ans, x: _sign(x), on_arrays=lambda np: (None, lambda ans, x: _sign_arrays(np, x))
)(abs)


def _sign_arrays(np, x):
    return np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))


def _xlogy(ans, x):
    """ans · log x, taken as 0 where ans = 0 (d/dy 0**y = 0, as PyTorch). ans is tested with
    comparisons, not by reading .data, so a compile trace of a higher derivative records it."""
    return 0.0 if ans >= 0.0 and ans <= 0.0 else ans * log(x)


def _power_arrays(np):
    def derivative(ans, x, y):
        return y * np.power(x, y - 1.0), np.where(ans == 0.0, 0.0, ans * np.log(x))

    return np.power, derivative


# d/dx x**y = y·x**(y−1);  d/dy x**y = x**y · log x
power = primitive(
    "**", derivative=lambda ans, x, y: (y * power(x, y - 1.0), _xlogy(ans, x)), on_arrays=_power_arrays
)(_ieee.pow)


# ---- elementary functions --------------------------------------------------------------------
# on_arrays: the same rules on NumPy arrays, for `autograd.compile(..., batch="numpy")`; None
# where the float rule is plain arithmetic and so already works elementwise.
def _sigmoid_arrays(np):
    def forward(x):
        e = np.exp(np.minimum(x, 0.0))  # e^x for x < 0, never overflowing
        return np.where(x >= 0.0, 1.0 / (1.0 + np.exp(-np.maximum(x, 0.0))), e / (1.0 + e))

    return forward, None


exp = primitive("exp", derivative=lambda ans, x: ans, on_arrays=lambda np: (np.exp, None))(_ieee.exp)
log = primitive("log", derivative=lambda ans, x: 1.0 / x, on_arrays=lambda np: (np.log, None))(_ieee.log)
sqrt = primitive("sqrt", derivative=lambda ans, x: 0.5 / ans, on_arrays=lambda np: (np.sqrt, None))(_ieee.sqrt)
tanh = primitive("tanh", derivative=lambda ans, x: 1.0 - ans * ans, on_arrays=lambda np: (np.tanh, None))(_ieee.tanh)
sigmoid = primitive("sigmoid", derivative=lambda ans, x: ans * (1.0 - ans), on_arrays=_sigmoid_arrays)(_ieee.sigmoid)
relu = primitive(
    "relu",
    derivative=lambda ans, x: 1.0 if x > 0 else 0.0,
    on_arrays=lambda np: (lambda x: np.where(x > 0.0, x, 0.0), lambda ans, x: np.where(x > 0, 1.0, 0.0)),
)(lambda x: x if x > 0.0 else 0.0)
sin = primitive(
    "sin", derivative=lambda ans, x: cos(x), on_arrays=lambda np: (np.sin, lambda ans, x: np.cos(x))
)(_ieee.sin)
cos = primitive(
    "cos", derivative=lambda ans, x: -sin(x), on_arrays=lambda np: (np.cos, lambda ans, x: -np.sin(x))
)(_ieee.cos)


# ---- fused n-ary nodes: one node however many inputs ----------------------------------------
_builtin_sum = sum


# Σ terms: Python's built-in sum (compensated from Python 3.12 on) is the one summation routine
# of every fused node, and the code `autograd.compile` writes calls it too, so both agree bit for bit.
total = _builtin_sum


def _sum_forward(*xs):
    return total(xs)


def _tuple_text(names) -> str:
    return f"({', '.join(names)},)" if names else "()"


# inline: the forward rule as a Python expression, for `autograd.compile` (a test checks it against the rule)
_sum = primitive(
    "sum", derivative=lambda ans, *xs: (1.0,) * len(xs), inline=lambda *xs: f"total({_tuple_text(xs)})"
)(_sum_forward)
_mean = primitive(
    "mean",
    derivative=lambda ans, *xs: (1.0 / len(xs),) * len(xs),
    inline=lambda *xs: f"total({_tuple_text(xs)}) / {len(xs)}",
)(lambda *xs: total(xs) / len(xs))


def _dot_forward(*args):
    """Σ wᵢxᵢ (+ b when the inputs are w₁..wₙ, x₁..xₙ, b)."""
    n = len(args) // 2
    products = total(map(_mul, args[:n], args[n : 2 * n]))
    return products + args[-1] if len(args) % 2 else products


def _dot_inline(*args) -> str:
    n = len(args) // 2
    products = f"total({_tuple_text([f'{w} * {x}' for w, x in zip(args[:n], args[n : 2 * n])])})"
    return f"{products} + {args[-1]}" if len(args) % 2 else products


def _dot_derivative(ans, *args):
    """∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1."""
    n = len(args) // 2
    return args[n : 2 * n] + args[:n] + ((1.0,) if len(args) % 2 else ())


_dot = primitive("dot", derivative=_dot_derivative, inline=_dot_inline)(_dot_forward)


def _logsumexp_forward(*xs):
    """log Σ exp xᵢ, shifted by the max so no term overflows."""
    m = max(xs)
    if not _isfinite(m):  # ±inf or nan dominates the sum
        return m
    return m + _ieee.log(total(_ieee.exp(x - m) for x in xs))


def _logsumexp_arrays(np):
    def forward(*xs):
        m = xs[0]
        for x in xs[1:]:
            m = np.maximum(m, x)
        finite = np.isfinite(m)
        shift = np.where(finite, m, 0.0)
        return np.where(finite, shift + np.log(total(np.exp(x - shift) for x in xs)), m)

    return forward, lambda ans, *xs: tuple(np.exp(x - ans) for x in xs)


# ∂/∂xᵢ log Σ exp x = softmax(x)ᵢ = exp(xᵢ − ans)
_logsumexp = primitive(
    "logsumexp", derivative=lambda ans, *xs: tuple(exp(x - ans) for x in xs), on_arrays=_logsumexp_arrays
)(_logsumexp_forward)


def sum(values):  # noqa: A001 - the math name, like numpy.sum
    """Σ values as one node (0.0 for no values)."""
    values = _as_sequence(values, "sum")
    return _sum(*values) if values else 0.0


def mean(values):
    """(1/n) Σ values as one node."""
    values = _as_sequence(values, "mean")
    if not values:
        raise ValueError("mean() of no values")
    return _mean(*values)


def dot(ws, xs, bias=None):
    """Σ wᵢ·xᵢ (+ bias) as one node: a neuron's pre-activation z = wᵀx + b. xs may mix floats and Values."""
    if type(ws) is not list:  # lists skip the call: this is the hot path of every neuron
        ws = _as_sequence(ws, "dot")
    if type(xs) is not list:
        xs = _as_sequence(xs, "dot")
    if len(ws) != len(xs):
        raise ValueError(f"dot() needs equally long inputs, got {len(ws)} weights and {len(xs)} inputs")
    args = (*ws, *xs) if bias is None else (*ws, *xs, bias)
    if not args:
        return 0.0
    for a in args:
        if type(a) is not Value:
            return _dot(*args)  # the general path wraps plain numbers as constants
    return _node(_dot_forward(*[a.data for a in args]), args, _dot)  # all Values: the fast path


def logsumexp(values):
    """log Σ exp(values), stable for large inputs, as one node."""
    values = _as_sequence(values, "logsumexp")
    if not values:
        raise ValueError("logsumexp() of no values")
    return _logsumexp(*values)


def softmax(values) -> list:
    """exp(xᵢ − logsumexp(x)) for each i: stable, and a list of Values when any input is one."""
    values = _as_sequence(values, "softmax")
    lse = logsumexp(values)
    return [exp(v - lse) for v in values]


def _as_sequence(values, where: str):
    if type(values) is tuple or type(values) is list:  # the common case, checked first
        return values
    if isinstance(values, (Value, str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{where}() needs a sequence of numbers or Values, got {type(values).__name__}")
    return tuple(values)


# ---- the public table: what `autograd` exports and the command line accepts ----------------------
PUBLIC = {}  # name -> function; `autograd.__all__`, `chainrule graph`'s grammar and its --help read it


def export(name: str, fn):
    """List `fn` in the public table under `name`: ``import autograd`` exports it, and a one-input
    primitive becomes a function of `chainrule graph` expressions (shown in its --help)."""
    if type(name) is not str or not name.isidentifier():
        raise ValueError(f"export() needs an identifier as the name, got {name!r}")
    if not callable(fn):
        raise TypeError(f"export() needs a function, got {type(fn).__name__}")
    PUBLIC[name] = fn
    return fn


for _fn in (exp, log, sqrt, tanh, sigmoid, relu, sin, cos, sum, mean, dot, logsumexp, softmax):
    export(getattr(_fn, "name", None) or _fn.__name__, _fn)
export("abs", absolute)  # shadows the builtin on `from autograd import *`; it takes the same inputs
del _fn


# ---- Value's operators and methods are these primitives ------------------------------------------
def _unary_method(op):
    forward = op.forward

    def method(self):
        return _node(forward(self.data), (self,), op)

    method.__name__ = op.name
    method.__doc__ = f"{op.name}(self) as a node."
    return method


def _binary_method(op, reflected=False):
    forward = op.forward

    if reflected:

        def method(self, other):
            other = constant(other)
            return _node(forward(other.data, self.data), (other, self), op)

    else:

        def method(self, other):
            if type(other) is not Value:
                other = constant(other)
            return _node(forward(self.data, other.data), (self, other), op)

    return method


for _name, _op in [("add", add), ("sub", sub), ("mul", mul), ("truediv", div), ("pow", power)]:
    setattr(Value, f"__{_name}__", _binary_method(_op))
    setattr(Value, f"__r{_name}__", _binary_method(_op, reflected=True))
for _name, _op in [("__neg__", neg), ("__abs__", absolute), ("exp", exp), ("log", log), ("sqrt", sqrt),
                   ("tanh", tanh), ("sigmoid", sigmoid), ("relu", relu), ("sin", sin), ("cos", cos)]:  # fmt: skip
    setattr(Value, _name, _unary_method(_op))
del _name, _op
