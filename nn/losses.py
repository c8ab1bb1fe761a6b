"""Losses J averaged over a batch of m examples, the same formulas as `nn.reference`.

Each takes one prediction per example (a `Value` or float, or a list of them for a network
with several outputs) and one target per example (a number, or a list). Like `nn.reference`,
a loss sums over every output entry and divides by m. Each is built from the engine's fused
nodes, so a batch costs one or two nodes per example plus one `dot` or `sum` for the total.

    binary_cross_entropy             J = −(1/m) Σ [y log p + (1 − y) log(1 − p)]
    binary_cross_entropy_with_logits the same with p = σ(z), from the logits z, stable for any ``|z|``
    mse                              J = 1/(2m) Σ (y − ŷ)²
    cross_entropy                    J = −(1/m) Σ log softmax(z)_y, integer labels y
    hinge                            J = (1/m) Σ max(0, 1 − y·s), targets y = ±1
"""

from __future__ import annotations

import numbers

from autograd import Value, dot, log, log_softmax, logsumexp, relu
from autograd import sum as _sum
from autograd.engine import is_tracing

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse",
    "cross_entropy",
    "hinge",
    "LOSSES",
    "get",
]


def binary_cross_entropy(probs, targets):
    """J = −(1/m) Σ [y log p + (1 − y) log(1 − p)] over every entry, p in (0, 1), y in [0, 1].

    A term whose weight y or 1 − y is 0 is left out, so p = 1 with y = 1 costs 0, not nan.
    A p outside [0, 1] (or nan) is refused, as PyTorch refuses it: its loss would be negative or nan.
    """
    ps, ys, m = _pairs(probs, targets, "binary_cross_entropy")
    coeffs, terms = [], []
    for i, (p, y) in enumerate(zip(ps, ys)):
        prob = p.data if type(p) is Value else p  # .data, not a comparison: a compile trace records no guard
        if not 0.0 <= prob <= 1.0:
            raise ValueError(
                f"binary_cross_entropy inputs must be probabilities in [0, 1], got {prob} at entry {i}; "
                f"for scores (logits) use binary_cross_entropy_with_logits"
            )
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"binary_cross_entropy targets must lie in [0, 1], got {y}")
        if y != 0.0:
            coeffs.append(-y / m)
            terms.append(_log(p))
        if y != 1.0:
            coeffs.append((y - 1.0) / m)
            terms.append(_log(1.0 - p))
    return dot(coeffs, terms)


def binary_cross_entropy_with_logits(logits, targets):
    """J = (1/m) Σ [log(1 + e^z) − y z], i.e. binary cross-entropy of p = σ(z).

    log(1 + e^z) is ``logsumexp([0, z])``, shifted by max(0, z) inside, so nothing overflows
    for any ``|z|`` (z = ±1000 included) and its derivative, σ(z), stays accurate.
    """
    zs, ys, m = _pairs(logits, targets, "binary_cross_entropy_with_logits")
    coeffs = [1.0 / m] * len(zs)
    terms = [logsumexp((0.0, z)) for z in zs]
    for z, y in zip(zs, ys):
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"binary_cross_entropy_with_logits targets must lie in [0, 1], got {y}")
        if y != 0.0:
            coeffs.append(-y / m)
            terms.append(z)
    return dot(coeffs, terms)


def mse(preds, targets):
    """J = 1/(2m) Σ (y − ŷ)² over every entry (∂J/∂ŷ = (ŷ − y)/m): one dot node Σ dᵢ·dᵢ, then the scale."""
    ps, ys, m = _pairs(preds, targets, "mse", traceable=True)
    diffs = [p - y for p, y in zip(ps, ys)]
    return dot(diffs, diffs) * (0.5 / m)


def cross_entropy(logits, labels):
    """J = (1/m) Σ [logsumexp(zᵢ) − zᵢ[yᵢ]]: softmax then negative log-likelihood, stable.

    Each term is −log_softmax(zᵢ)[yᵢ], one fused node: at the largest logit it is
    log1p(Σ others), so a loss of 1e-13 keeps its digits where logsumexp(zᵢ) − zᵢ[yᵢ] would
    cancel them, and the label's gradient −Σ_{j≠y} softmax_j is a sum, not s_y − 1.
    ``logits`` holds one list of K scores per example, ``labels`` one integer class in [0, K)
    per example (an integral float such as 1.0 is accepted).
    """
    rows = _as_batch(logits, "cross_entropy", "logits")
    labels = _as_batch(labels, "cross_entropy", "labels")
    if len(rows) != len(labels):
        raise ValueError(f"cross_entropy got {len(rows)} examples of logits but {len(labels)} labels")
    m = len(rows)
    terms = []
    for i, (row, label) in enumerate(zip(rows, labels)):
        row = _as_row(row, "cross_entropy")
        terms.append(log_softmax(row, _label(label, len(row), i)))
    return dot([-1.0 / m] * m, terms)


def hinge(scores, targets):
    """J = (1/m) Σ max(0, 1 − y·s) over every entry, targets y = −1 or +1 (max-margin, as micrograd's demo).

    Written without a branch on y, so `autograd.compile` can take the targets as inputs of one trace.
    """
    ss, ys, m = _pairs(scores, targets, "hinge", traceable=True)
    for y in ys:
        if type(y) is not Value and y not in (1.0, -1.0):
            raise ValueError(f"hinge targets must be -1 or +1, got {y} (for 0/1 labels pass 2*y - 1)")
    # 1 − y·s as one dot node, 1 + (−y)·s: exactly 1 − s or 1 + s for y = ±1
    return _sum([relu(dot([-y], [s], bias=1.0)) for s, y in zip(ss, ys)]) * (1.0 / m)


LOSSES = {
    "bce": binary_cross_entropy,
    "bce_with_logits": binary_cross_entropy_with_logits,
    "mse": mse,
    "cross_entropy": cross_entropy,
    "hinge": hinge,
}


def get(name: str):
    """The loss function called ``name`` (the names `nn.reference.loss` uses)."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; valid names are {', '.join(LOSSES)}") from None


# ---- batches ---------------------------------------------------------------------------------
def _log(p):
    return p.log() if type(p) is Value else log(p)


def _is_scalar(x) -> bool:
    return isinstance(x, (Value, numbers.Real))


def _as_batch(xs, where: str, what: str) -> list:
    """A list of per-example items; a lone scalar is a batch of one."""
    if _is_scalar(xs):
        return [xs]
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__iter__"):
        raise TypeError(f"{where}() {what} must be a list with one entry per example, got {type(xs).__name__}")
    xs = list(xs)
    if not xs:
        raise ValueError(f"{where}() got no examples")
    return xs


def _as_row(x, where: str) -> list:
    """One example's entries: a scalar is a row of one."""
    if _is_scalar(x):
        return [x]
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise TypeError(f"{where}() entries must be numbers or Values (or lists of them), got {type(x).__name__}")
    return list(x)


def _pairs(preds, targets, where: str, traceable: bool = False):
    """Flatten (prediction, target) entries over every example and output; m is the number of examples.

    traceable: the loss is linear in its targets, so while `autograd.compile` traces, a target
    may be a `Value` (an input of the compiled code) instead of a number."""
    preds = _as_batch(preds, where, "predictions")
    targets = _as_batch(targets, where, "targets")
    if len(preds) != len(targets):
        raise ValueError(f"{where}() got {len(preds)} predictions but {len(targets)} targets")
    if all(_is_scalar(p) for p in preds) and all(_is_scalar(t) for t in targets):
        return preds, [_target(t, where, traceable) for t in targets], len(preds)
    ps, ys = [], []
    for i, (p, t) in enumerate(zip(preds, targets)):
        p, t = _as_row(p, where), _as_row(t, where)
        if len(p) != len(t):
            raise ValueError(f"{where}() example {i} has {len(p)} outputs but {len(t)} targets")
        ps += p
        ys += [_target(y, where, traceable) for y in t]
    return ps, ys, len(preds)


def _target(y, where: str, traceable: bool = False):
    if type(y) is float:
        return y
    if isinstance(y, Value):
        if traceable and y.is_leaf and is_tracing():
            return y
        raise TypeError(f"{where}() targets must be numbers, got a Value (targets are data: pass y.data)")
    if isinstance(y, numbers.Real) and not isinstance(y, bool):
        return float(y)
    raise TypeError(f"{where}() targets must be numbers, got {type(y).__name__}")


def _label(label, k: int, i: int):
    if type(label) is Value:  # a label the graph reads (a compiled step traces it): log_softmax checks it
        return label
    if isinstance(label, bool) or not isinstance(label, numbers.Real):
        raise ValueError(f"cross_entropy label {i} must be an integer class id, got {label!r}")
    if not isinstance(label, numbers.Integral):
        if not float(label).is_integer():
            raise ValueError(f"cross_entropy label {i} must be an integer class id, got {label!r}")
    label = int(label)
    if not 0 <= label < k:
        raise ValueError(f"cross_entropy label {i} is {label}, outside [0, {k}) for {k} classes")
    return label
