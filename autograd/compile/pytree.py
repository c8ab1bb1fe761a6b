"""Arguments and aux outputs as structures of numbers: exact cache keys, flattening (and a fast
flattener per structure for batches), rebuilding aux from floats."""

from __future__ import annotations

import builtins
import struct

from ..engine import Value, constant
from ..pytree import flatten, to_floats, unflatten
from .signals import _Eager


def _is_real(x) -> bool:
    import numbers

    return isinstance(x, numbers.Real)


def _number(a, i) -> float:
    if isinstance(a, bool) or not _is_real(a):
        raise TypeError(f"compile(): argument {i} is differentiated, so it must be a number, got {type(a).__name__}")
    return float(a)


def _shape(a, flat: list):
    """The structure of an argument, its numbers appended to ``flat``: "f" for a number (an
    input of the compiled code), a list/tuple of shapes, or ("static", a) for anything else."""
    if type(a) is float:
        flat.append(a)
        return "f"
    if type(a) is Value:
        raise _Eager
    if isinstance(a, (list, tuple)):
        return (
            "list" if isinstance(a, list) else "tuple",
            tuple(_shape(x, flat) for x in a),
        )
    if _is_real(a) and not isinstance(a, bool):
        flat.append(float(a))
        return "f"
    return ("static", _key(a))


def _flattener(desc):
    """A function that flattens an example of this structure to its numbers, or returns None
    when the example is shaped otherwise (then `_describe` looks at it). Written as code, from
    our own description of the structure, for speed: batches call it once per example."""
    lines, checks, outs, statics = [], [], [], []
    counter = [0]

    def walk(d, expr):
        if d == "f":
            checks.append(f"type({expr}) is float")
            outs.append(expr)
            return
        if d[0] == "static":
            statics.append(d[1])
            checks.append(f"_key({expr}) == _static[{len(statics) - 1}]")
            return
        if len(d[1]) > 4 and all(c == "f" for c in d[1]):  # a row of numbers: checked and taken whole
            lines.append(f"    if type({expr}) is not {d[0]} or len({expr}) != {len(d[1])}: return None")
            checks.append(f"set(map(type, {expr})) == _FLOAT")
            outs.append(f"*{expr}")
            return
        names = []
        for _ in d[1]:
            counter[0] += 1
            names.append(f"a{counter[0]}")
        checks.append(f"type({expr}) is {d[0]}")
        lines.append(f"    if type({expr}) is not {d[0]} or len({expr}) != {len(names)}: return None")
        if names:
            lines.append(f"    ({', '.join(names)},) = {expr}")
        for child, name in zip(d[1], names):
            walk(child, name)

    walk(("tuple", desc), "ex")
    body = "\n".join(lines)
    checks = checks[1:] if checks and checks[0] == "type(ex) is tuple" else checks
    statics_first = [c for c in checks if c.startswith("_key(")] + [c for c in checks if not c.startswith("_key(")]
    test = " and ".join(statics_first) or "True"  # a static that differs (a class label) fails first
    source = f"def flatten(ex):\n{body}\n    return ({', '.join(outs)}{',' if outs else ''}) if {test} else None\n"
    namespace = {"_static": statics, "_key": _key, "_FLOAT": {float}}
    exec(builtins.compile(source, "<autograd.compile flattener>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["flatten"]


def _key(a):
    """A cache key for an argument that is exact: floats by their bits (0.0 and -0.0 differ, a nan
    matches itself), ints by value and type (1, 1.0 and True differ), lists and tuples item by item."""
    t = type(a)
    if t is float:
        return (t, struct.pack("<d", a))
    if t is int or t is bool or t is str or a is None:
        return (t, a)
    if t is list or t is tuple:
        return (t, tuple(_key(x) for x in a))
    if t is Value:
        raise _Eager
    if isinstance(a, float):
        return (t, struct.pack("<d", a))
    try:
        hash(a)
    except TypeError:
        raise _Eager from None
    return (t, a)


def _count_inputs(d) -> int:
    if d == "f":
        return 1
    if d[0] == "static":
        return 0
    return sum(_count_inputs(x) for x in d[1])


def _flatten_aux(aux):
    """The Values and numbers of an aux output (numbers as constants), and its shape to rebuild it from floats."""

    def check(a):
        if type(a) is not Value and not _is_real(a):
            raise TypeError(
                f"compile(has_aux=True): aux must hold Values and numbers (in lists/tuples), got {type(a).__name__}"
            )

    if aux is None:
        return [], None
    leaves, shape = flatten(aux, check)
    return [a if type(a) is Value else constant(a) for a in leaves], shape


def _rebuild_aux(shape, floats: list):
    return None if shape is None else unflatten(shape, floats)


_aux_floats = to_floats
