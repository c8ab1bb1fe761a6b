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

Two more make a primitive a built-in in the same call (how every op of `autograd.ops` is made):

- ``export=True`` (or a name): listed in the public table `PUBLIC`, so ``import autograd``
  exports it, and a one-input primitive is a function of ``chainrule graph`` expressions.
- ``method="name"``: a `Value` method (``v.softplus()``); a two-input primitive takes a pair,
  the operator and its reflection (``method=("__add__", "__radd__")``).
"""

from __future__ import annotations

import inspect

from .engine import Primitive, Value, _node, constant

__all__ = ["primitive", "Primitive", "PUBLIC", "export"]

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


_register = export  # for `primitive`, whose flag of the same name hides it


def primitive(
    name: str | None = None,
    *,
    derivative,
    arity: int | None = None,
    inline=None,
    on_arrays=None,
    masks: bool = False,
    export: bool | str = False,
    method: str | tuple | None = None,
):
    """Decorate a float function `forward(*inputs)` into a primitive with `derivative(ans, *inputs)`.

    ``masks=True`` for a piecewise primitive whose local derivative is 0 on a branch that cuts
    the input off (as relu for x ≤ 0): there the input receives nothing, even when the incoming
    gradient is inf or nan, as in PyTorch; without it, IEEE's inf·0 = nan flows on. ``export``
    and ``method`` register it in the public table and on `Value` (see the module docstring)."""
    for what, f in (("derivative", derivative), ("inline", inline), ("on_arrays", on_arrays)):
        if not callable(f) and (f is not None or what == "derivative"):
            raise TypeError(f"primitive() {what} must be callable, got {type(f).__name__}")
    if not (type(export) is bool or type(export) is str):
        raise TypeError(f"primitive() export must be True, False or a name, got {type(export).__name__}")

    def make(forward) -> Primitive:
        n = arity if arity is not None else _arity_of(forward)
        op = Primitive(name or forward.__name__, forward, derivative, n, inline, on_arrays, masks=masks)
        if method is not None:
            _attach(op, method)
        if export:
            _register(op.name if export is True else export, op)
        return op

    return make


def _attach(op: Primitive, method) -> None:
    """Make `op` a `Value` method: one name for a one-input op, (operator, reflected) for a two-input one."""
    names = (method,) if type(method) is str else tuple(method)
    if not names or not all(type(m) is str and m.isidentifier() for m in names):
        raise ValueError(f"primitive() method must be a name or a tuple of names, got {method!r}")
    if (op.arity, len(names)) in ((1, 1), (2, 2)):
        _bind(op, names, checked=True)
        _ATTACHED[op] = names
    else:
        raise ValueError(
            f"primitive() method of {op.name!r} ({op.arity} input(s)): give one name for one input, "
            f"(operator, reflected) for two, got {method!r}"
        )


# ---- Value's operators and methods are primitives ------------------------------------------------
_ATTACHED: dict = {}  # Primitive -> the Value attributes it was made


def _bind(op: Primitive, names: tuple, *, checked: bool) -> None:
    if op.arity == 1:
        setattr(Value, names[0], (_unary_method if checked else _trusted_unary_method)(op, names[0]))
    else:
        setattr(Value, names[0], (_binary_method if checked else _trusted_binary_method)(op))
        setattr(Value, names[1], (_binary_method if checked else _trusted_binary_method)(op, reflected=True))


def _trust_methods(op: Primitive) -> None:
    """A built-in's methods without the check of the forward result (its rules are tested at every
    edge): the operators are the hot path of every graph. A user's primitive stays checked."""
    names = _ATTACHED.get(op)
    if names:
        _bind(op, names, checked=False)


def _trusted_unary_method(op, name):
    forward = op.forward

    def method(self):
        return _node(forward(self.data), (self,), op)

    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = f"{op.name}(self) as a node."
    return method


def _trusted_binary_method(op, reflected=False):
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


def _unary_method(op, name):
    forward = op.forward

    def method(self):
        ans = forward(self.data)
        return _node(ans if type(ans) is float else op._checked_forward(ans), (self,), op)

    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = f"{op.name}(self) as a node."
    return method


def _binary_method(op, reflected=False):
    forward = op.forward

    if reflected:

        def method(self, other):
            other = constant(other)
            ans = forward(other.data, self.data)
            return _node(ans if type(ans) is float else op._checked_forward(ans), (other, self), op)

    else:

        def method(self, other):
            if type(other) is not Value:
                other = constant(other)
            ans = forward(self.data, other.data)
            return _node(ans if type(ans) is float else op._checked_forward(ans), (self, other), op)

    return method


def _arity_of(forward) -> int | None:
    """How many inputs `forward` takes: None when it takes *args."""
    params = inspect.signature(forward).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
