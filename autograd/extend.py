"""The door for new primitives: a forward rule on floats and its derivative rule, written once.

Every built-in operation (`autograd.ops`) is made through this door, so it is tested by all of
them. Example, a softplus and its derivative σ(x)::

    from autograd import extend, exp, log, sigmoid

    @extend.primitive(derivative=lambda ans, x: sigmoid(x))
    def softplus(x):
        return log(1.0 + exp(x))

``softplus(2.0)`` is a float, ``softplus(Value(2.0))`` a node that backpropagates, and
``autograd.gradcheck(softplus, 0.3)`` checks the rule against finite differences. The
derivative rule takes the forward result ``ans`` and the inputs and returns ∂ans/∂input (one
value for one input, a tuple for several); write it with arithmetic and `autograd`'s functions,
never `math`, so that it also runs on `Value`s and higher derivatives come out right.

Two optional extras are for `autograd.compile`, which writes a traced graph out as Python:

- ``inline(*names) -> str``: the forward rule as one Python expression in the input names.
  Needed only where compile cannot read the rule off by running it on symbols (the fused
  sums, which must call ``total``, the one summation routine eager nodes use too).
- ``on_arrays(np) -> (forward, derivative)``: the rules on NumPy arrays (either may be None,
  meaning the float rule already works elementwise), for rules with Python branches or
  `math` calls. A test checks each against the float rule.
"""

from __future__ import annotations

import inspect

from .engine import Primitive

__all__ = ["primitive", "Primitive"]


def primitive(
    name: str | None = None, *, derivative, arity: int | None = None, inline=None, on_arrays=None, masks: bool = False
):
    """Decorate a float function `forward(*inputs)` into a primitive with `derivative(ans, *inputs)`.

    ``masks=True`` for a piecewise primitive whose local derivative is 0 on a branch that cuts
    the input off (as relu for x ≤ 0): there the input receives nothing, even when the incoming
    gradient is inf or nan, as in PyTorch; without it, IEEE's inf·0 = nan flows on."""
    for what, f in (("derivative", derivative), ("inline", inline), ("on_arrays", on_arrays)):
        if not callable(f) and (f is not None or what == "derivative"):
            raise TypeError(f"primitive() {what} must be callable, got {type(f).__name__}")

    def make(forward) -> Primitive:
        n = arity if arity is not None else _arity_of(forward)
        return Primitive(name or forward.__name__, forward, derivative, n, inline, on_arrays, masks=masks)

    return make


def _arity_of(forward) -> int | None:
    """How many inputs `forward` takes: None when it takes *args."""
    params = inspect.signature(forward).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
