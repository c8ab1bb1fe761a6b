"""`grad` and `value_and_grad`: derivatives as functions, in the style of JAX and HIPS autograd.

Built on the same rules as `backward`, but pure: they touch no node's `.grad`, and they record
their graphs even inside `no_grad()` (a transform means its derivative whatever the caller's
mode, as in JAX). Called with numbers at top level they return floats. Inside an outer `grad` (or called with `Value`s) the
gradient is itself built from `Value`s, so it can be differentiated again, to any order.
"""

from __future__ import annotations

import numbers
import threading

from .engine import Value, _checked_pass, _enable_grad, constant, gc_paused, topological_order
from .ops import identity
from .pytree import flatten, to_floats, unflatten

__all__ = ["grad", "value_and_grad"]


class _Depth(threading.local):
    level = 0  # how many `grad`s are evaluating their function in this thread


_depth = _Depth()


def grad(f, argnums=0, *, has_aux=False):
    """The function x ↦ ∂f/∂x (a tuple of partials when argnums is a tuple; with ``has_aux``,
    (∂f/∂x, aux)). An argument may be a list or tuple of numbers: its gradient has its shape."""
    vg = value_and_grad(f, argnums, has_aux=has_aux)

    def gradient(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g  # JAX's order: (gradient, aux)

    gradient.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return gradient


def value_and_grad(f, argnums=0, *, has_aux=False):
    """The function x ↦ (f(x), ∂f/∂x), as JAX's.

    An argument being differentiated may be a number or a list/tuple of numbers (nested too): its
    gradient comes back in the same shape. has_aux: ``f`` returns ``(value, aux)``; the call
    returns ``((value, aux), grads)``, aux's Values as floats at top level (as compile does)."""
    if not callable(f):
        raise TypeError(f"value_and_grad() needs a function, got {type(f).__name__}")
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums or not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")

    def value_and_gradient(*args, **kwargs):
        for i in nums:
            if not -len(args) <= i < len(args):
                raise ValueError(f"argnums {i} is out of range for {len(args)} positional argument(s)")
        with _enable_grad():
            return _evaluate(f, nums, single, list(args), kwargs, has_aux)

    value_and_gradient.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_gradient


def _evaluate(f, nums, single, args, kwargs, has_aux=False):
    wrt, shapes = [], []
    for i in nums:
        leaves, shape = flatten(args[i], lambda a, i=i: _check_number(a, i))
        # a fresh node per number, so d/dx never confuses this x with an outer one
        xs = [identity(a) if type(a) is Value else Value(a) for a in leaves]
        args[i] = unflatten(shape, xs)
        wrt += xs
        shapes.append((shape, len(xs)))
    as_values = _depth.level > 0 or any(x.parents for x in wrt)  # a Value argument: inside another grad
    _depth.level += 1
    try:
        out = f(*args, **kwargs)
    finally:
        _depth.level -= 1
    aux = None
    if has_aux:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("value_and_grad(has_aux=True) needs f to return a pair (value, aux)")
        out, aux = out
        aux = aux if as_values else to_floats(aux)
    if type(out) is not Value:
        if isinstance(out, Value) or not _is_real(out):
            raise TypeError(f"grad() needs f to return a scalar (a Value or a number), got {type(out).__name__}")
        out = constant(out)
    with gc_paused():
        grads = gradients(out, wrt, as_values=as_values)
    value = out if as_values else out.data
    per_arg, k = [], 0
    for shape, n in shapes:  # each argument's gradient in its own shape
        per_arg.append(unflatten(shape, grads[k : k + n]))
        k += n
    result = per_arg[0] if single else tuple(per_arg)
    return ((value, aux), result) if has_aux else (value, result)


def _check_number(a, i) -> None:
    if type(a) is not Value and (isinstance(a, bool) or not _is_real(a)):
        raise TypeError(
            f"grad(): argument {i} is differentiated, so it must hold numbers (a number, or lists/tuples of them), "
            f"got {type(a).__name__}"
        )


def gradients(out: Value, wrt: list, *, as_values: bool = False) -> list:
    """∂out/∂w for each w in `wrt`, by the one chain-rule loop over the nodes that lead to a w.

    Pure: the pass sums into a dict of its own, so no node's `.grad` is read or written, and
    threads differentiating through shared parameters never see each other's sums. `wrt` may
    hold any nodes of the graph, inner ones too (the pictures ask for every node's gradient)."""
    order = topological_order(out)
    targets = set(wrt)
    leads = set()  # nodes from which some target can be reached
    for node in order:  # parents come first
        if node in targets or any(p in leads for p in node._parents):
            leads.add(node)
    into = {out: 1.0}
    path = [node for node in order if node in leads or node is out]
    # whoever watches (anomaly mode) checks the partials, and only where a gradient is wanted
    _checked_pass(path, lambda: leads, as_values=as_values, into=into)
    result = [into.get(w, 0.0) if w in leads or w is out else 0.0 for w in wrt]
    if as_values:
        result = [r if type(r) is Value else constant(r) for r in result]
    return result


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real)
