"""`gradcheck`: backward's gradients against central finite differences, entry by entry.

Like ``torch.autograd.gradcheck``: it says what it compared and at which tolerances, and on
failure shows, for every input, the analytic and numeric derivative and their difference.
"""

from __future__ import annotations

from .engine import Value, no_grad

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised when an analytic derivative differs from its finite-difference estimate."""


def gradcheck(f, *inputs, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4) -> bool:
    """True when, for every input xᵢ, |analytic − numeric| ≤ atol + rtol·|numeric|.

    analytic: ∂f/∂xᵢ from `Value.backward()`; numeric: (f(xᵢ + eps) − f(xᵢ − eps)) / (2·eps).
    `f` takes the inputs as `Value`s and returns a `Value` (or a number).
    """
    if not callable(f):
        raise TypeError(f"gradcheck() needs a function, got {type(f).__name__}")
    if not inputs:
        raise ValueError("gradcheck() needs at least one input")
    point = [x.data if isinstance(x, Value) else Value(x).data for x in inputs]

    leaves = [Value(x) for x in point]
    out = f(*leaves)
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
        lines = [
            f"gradcheck failed (eps={eps}, atol={atol}, rtol={rtol}):",
            f"{'input':>5}  {'at':>12}  {'analytic':>14}  {'numeric':>14}  {'difference':>11}",
        ]
        for i, x, a, n, diff, bad in rows:
            mark = "  <-- differs" if bad else ""
            lines.append(f"{i:>5}  {x:>12.6g}  {a:>14.8g}  {n:>14.8g}  {diff:>11.3g}{mark}")
        raise GradcheckError("\n".join(lines))
    return True
