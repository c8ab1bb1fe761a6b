"""`gradcheck`: backward's gradients against central finite differences, entry by entry.

Like ``torch.autograd.gradcheck``: it says what it compared and at which tolerances, and on
failure shows, for every input, the analytic and numeric derivative and their difference.
With ``order=2`` (or more) it also checks the derivatives of each derivative, as PyTorch's
``gradgradcheck`` and HIPS autograd's ``check_grads(order=2)`` do: a derivative rule written
with `math` instead of `autograd`'s functions passes order 1 and fails order 2.
"""

from __future__ import annotations

import math
import numbers

from .engine import Value, _enable_grad, no_grad
from .functional import grad

__all__ = ["gradcheck", "GradcheckError", "MAX_ORDER"]

MAX_ORDER = 4  # each order multiplies the work by the number of inputs (and nests one more grad)


class GradcheckError(AssertionError):
    """Raised when an analytic derivative differs from its finite-difference estimate."""


def gradcheck(f, *inputs, order: int = 1, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4) -> bool:
    """True when, for every input xᵢ, ``|analytic − numeric| ≤ atol + rtol·|numeric|``.

    analytic: ∂f/∂xᵢ from `Value.backward()`; numeric: (f(xᵢ + eps) − f(xᵢ − eps)) / (2·eps).
    `f` takes the inputs as `Value`s and returns a `Value` (or a number). With ``order`` k > 1
    the same check runs on every derivative ∂f/∂xᵢ (built by `grad`), down to order k.
    The check computes true gradients inside `no_grad()` too.
    """
    if not callable(f):
        raise TypeError(f"gradcheck() needs a function, got {type(f).__name__}")
    if not inputs:
        raise ValueError("gradcheck() needs at least one input")
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"gradcheck() order must be an integer from 1 to {MAX_ORDER}, got {order!r}")
    if not _real(eps) or not 0.0 < eps < math.inf:
        raise ValueError(f"gradcheck() eps must be a finite number > 0, got {eps!r}")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not _real(tol) or not 0.0 <= tol < math.inf:
            raise ValueError(f"gradcheck() {name} must be a finite number >= 0, got {tol!r}")
    point = [x.data if isinstance(x, Value) else Value(x).data for x in inputs]
    _check(f, "f", point, int(order), float(eps), float(atol), float(rtol))
    return True


def _real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check(f, name: str, point: list, order: int, eps: float, atol: float, rtol: float) -> None:
    """Check f's first derivatives at `point`, then (order > 1) those of each ∂f/∂xᵢ."""
    with _enable_grad():
        leaves = [Value(x) for x in point]
        out = f(*leaves)
        if not isinstance(out, (Value, numbers.Real)) or isinstance(out, bool):
            what = f"a {type(out).__name__} of {len(out)}" if isinstance(out, (list, tuple)) else type(out).__name__
            raise TypeError(
                f"gradcheck() needs {name} to return one scalar (a Value or a number), got {what}; "
                f"check each output on its own, e.g. gradcheck(lambda *x: f(*x)[0], ...)"
            )
        if isinstance(out, Value):
            out.backward()
        analytic = [leaf.grad for leaf in leaves]

    def at(i: int, delta: float) -> float:
        shifted = [Value(x + delta) if j == i else Value(x) for j, x in enumerate(point)]
        with no_grad():
            y = f(*shifted)
        return float(y.data if isinstance(y, Value) else y)

    numeric = [(at(i, eps) - at(i, -eps)) / (2 * eps) for i in range(len(point))]
    rows, failed = [], False
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        diff = abs(a - n)
        bad = not (diff <= atol + rtol * abs(n))  # nan fails too
        failed |= bad
        rows.append((i, point[i], a, n, diff, bad))
    if failed:
        what = "" if name == "f" else f" for the derivative {name}"
        lines = [
            f"gradcheck failed{what} (eps={eps}, atol={atol}, rtol={rtol}):",
            f"{'input':>5}  {'at':>12}  {'analytic':>14}  {'numeric':>14}  {'difference':>11}",
        ]
        for i, x, a, n, diff, bad in rows:
            mark = "  <-- differs" if bad else ""
            lines.append(f"{i:>5}  {x:>12.6g}  {a:>14.8g}  {n:>14.8g}  {diff:>11.3g}{mark}")
        raise GradcheckError("\n".join(lines))
    if order > 1:
        for i in range(len(point)):
            inner = f"∂f/∂x{i}" if name == "f" else f"∂({name})/∂x{i}"
            _check(grad(f, argnums=i), inner, point, order - 1, eps, atol, rtol)
