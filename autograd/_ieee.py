"""Float arithmetic with IEEE-754 results instead of Python exceptions.

Python raises ZeroDivisionError for ``1.0 / 0.0``, OverflowError for ``math.exp(1000)`` and
ValueError for ``math.log(-1)``; NumPy and PyTorch return inf and nan. Every forward rule goes
through these functions so the engine behaves like them. Derivative rules are written with plain
operators for speed; when one raises, the engine evaluates it again on :class:`IEEEFloat`
inputs, whose operators never raise.
"""

from __future__ import annotations

import math

__all__ = ["div", "pow", "exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "IEEEFloat"]

_inf = math.inf
_nan = math.nan


def div(a: float, b: float) -> float:
    """a / b, with x/0 = ±inf and 0/0 = nan."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return _nan
        return math.copysign(_inf, a) * math.copysign(1.0, b)


def pow(a: float, b: float) -> float:  # noqa: A001 - the math name
    """a ** b as IEEE pow: a negative base to a non-integer power is nan, 0 ** -1 is inf."""
    try:
        r = a**b
    except ZeroDivisionError:  # 0.0 ** negative
        odd = b == int(b) and int(b) % 2 == 1 if math.isfinite(b) else False
        return math.copysign(_inf, a) if odd else _inf
    except OverflowError:
        a, b = float(a), float(b)
        if a < 0 and b != int(b):  # a negative base to a non-integer power: nan, however large
            return _nan
        if a < 0 and int(b) % 2 == 1:
            return -_inf
        return _inf
    if type(r) is complex:
        return _nan
    return float(r)


def exp(x: float) -> float:
    """e**x; inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return _inf


def log(x: float) -> float:
    """Natural log; log 0 = -inf, log of a negative = nan."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -_inf
    return _nan


def sqrt(x: float) -> float:
    """Square root; nan for a negative."""
    return math.sqrt(x) if x >= 0.0 else _nan


def tanh(x: float) -> float:
    return math.tanh(x)


def sigmoid(x: float) -> float:
    """σ(x) = 1 / (1 + e^{-x}), computed without overflow for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    if x != x:
        return _nan
    e = exp(x)
    return e / (1.0 + e)


def sin(x: float) -> float:
    return math.sin(x) if math.isfinite(x) else _nan


def cos(x: float) -> float:
    return math.cos(x) if math.isfinite(x) else _nan


class IEEEFloat(float):
    """A float whose arithmetic never raises: the fallback for derivative rules at x/0 or overflow."""

    __slots__ = ()

    def __add__(self, o):
        return IEEEFloat(float(self) + float(o))

    __radd__ = __add__

    def __sub__(self, o):
        return IEEEFloat(float(self) - float(o))

    def __rsub__(self, o):
        return IEEEFloat(float(o) - float(self))

    def __mul__(self, o):
        return IEEEFloat(float(self) * float(o))

    __rmul__ = __mul__

    def __truediv__(self, o):
        return IEEEFloat(div(float(self), float(o)))

    def __rtruediv__(self, o):
        return IEEEFloat(div(float(o), float(self)))

    def __pow__(self, o):
        return IEEEFloat(pow(float(self), float(o)))

    def __rpow__(self, o):
        return IEEEFloat(pow(float(o), float(self)))

    def __neg__(self):
        return IEEEFloat(-float(self))
