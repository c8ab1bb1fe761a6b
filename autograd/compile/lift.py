"""Layers found in a scalar program: equations doing the same op at the same position across
neurons, done at once as one array operation over a batch.

A network built neuron by neuron is, per example, a list of dots and elementwise ops on scalars.
Dots that share their input vector and take parameters as weights (and bias) are one layer,
``Z = W A + b``; an op applied to every row of such a group, the same way, is one elementwise
op on the whole array (``A = tanh(Z)``), and so on upwards. The groups are found from the
graph's structure alone (whoever built it: `nn` or hand-written ``dot``s); scope names only
name them. What does not group stays one array per node.

``lift(program)`` returns the units in an order that respects every dependency (or None when
nothing groups): `Layer`s, `Map`s and the program's remaining equations.
"""

from __future__ import annotations

import heapq
import math
from typing import NamedTuple

from .. import ops
from .ir import Eqn, Lit, Program, Var
from .symbols import _template

_DOT = ops._dot


class Layer(NamedTuple):
    """Rows ``members[i] = Σ_j weights[i][j] · xs[j] (+ bias[i])``: ``Z = W A + b``."""

    members: tuple  # the Vars of the rows, in order
    weights: tuple  # per row, the leaf Vars of its weights
    xs: tuple  # the shared inputs (Vars), the columns of A
    bias: tuple | None  # per row, the bias leaf Var (or None: no bias)


class Map(NamedTuple):
    """Rows ``members[i] = prim(*inputs)`` where an input ("G", g) is row i of group g, ("S", var)
    the same variable for every row, ("L", number) a literal."""

    members: tuple
    prim: object
    inputs: tuple


def _liftable(prim, n: int) -> bool:
    """An op that can run on a whole (rows, batch) array: an array form, or a rule that is plain
    arithmetic (its symbols' expression), forward and backward, with no branch."""
    if prim is _DOT:
        return False
    forward = derivative = None
    if prim.on_arrays is not None:
        forward, derivative = _array_rules(prim)
    if forward is None:
        tp = _template(prim, n, "forward")
        if tp is None or tp.branchy:
            return False
    if derivative is None:
        tps = _template(prim, n, "derivative")
        if tps is None or any(tp.branchy for tp in tps):
            return False
    return True


_array_cache: dict = {}


def _array_rules(prim):
    if prim not in _array_cache:
        import numpy

        _array_cache[prim] = prim.on_arrays(numpy)
    return _array_cache[prim]


def _literal_key(x):
    """Literals grouped bit for bit (0.0 and -0.0 apart, nan with nan)."""
    if isinstance(x, float):
        return ("f", math.copysign(1.0, x), repr(x))
    return ("x", repr(x))


def lift(prog: Program):
    """(units in order, groups) or None when no layer is found. A unit is a Layer, a Map or an
    Eqn of the program left as it was."""
    leaf_set = set(prog.leaves)
    batched = set(prog.inputs)  # variables that differ across the examples of a batch
    for e in prog.eqns:
        if any(type(a) is Var and a in batched for a in e.inputs):
            batched.add(e.out)
    row_of: dict = {}  # Var -> (group number, row)
    groups: list = []
    grouped: set = set()  # Vars computed by a group

    def add_group(unit) -> None:
        g = len(groups)
        groups.append(unit)
        for i, v in enumerate(unit.members):
            row_of[v] = (g, i)
            grouped.add(v)

    # layers: dots with parameter weights (and bias) that share their input vector
    by_inputs: dict = {}
    for e in prog.eqns:
        if e.prim is not _DOT:
            continue
        n = len(e.inputs) // 2
        ws, xs = e.inputs[:n], e.inputs[n : 2 * n]
        b = e.inputs[2 * n] if len(e.inputs) % 2 else None
        if not n or not all(w in leaf_set for w in ws) or (b is not None and b not in leaf_set):
            continue
        if not all(type(x) is Var and x not in leaf_set for x in xs) or not any(x in batched for x in xs):
            continue
        by_inputs.setdefault((xs, b is not None), []).append((e.out, ws, b))
    for (xs, has_bias), rows in by_inputs.items():
        add_group(
            Layer(
                tuple(r[0] for r in rows),
                tuple(r[1] for r in rows),
                xs,
                tuple(r[2] for r in rows) if has_bias else None,
            )
        )
    if not groups:
        return None

    # elementwise ops over whole groups, up to a fixed point (an op over a group can start a group)
    rest = [e for e in prog.eqns if e.out not in grouped]
    while True:
        candidates: dict = {}
        for e in rest:
            if e.prim is _DOT or not _liftable(e.prim, len(e.inputs)):
                continue
            pattern, row, size = [], None, None
            for a in e.inputs:
                if type(a) is Lit:
                    pattern.append(("L", _literal_key(a.value), a.value))
                elif a in row_of:
                    g, i = row_of[a]
                    if row is not None and i != row or size is not None and len(groups[g].members) != size:
                        break
                    row, size = i, len(groups[g].members)
                    pattern.append(("G", g))
                else:
                    pattern.append(("S", a))
            else:
                if row is not None:
                    key = (e.prim, tuple(p[:2] for p in pattern))
                    slot = candidates.setdefault(key, [size, pattern, {}])
                    slot[2].setdefault(row, []).append(e)
        new = []
        for (prim, _), (size, pattern, by_row) in candidates.items():
            if len(by_row) == size and all(len(es) == 1 for es in by_row.values()):
                if size == 1 and not any(p[0] == "G" and type(groups[p[1]]) is Layer for p in pattern):
                    continue  # one row is one array anyway: only a layer's own activation is named as a group
                members = tuple(by_row[i][0].out for i in range(size))
                inputs = tuple((p[0], p[2]) if p[0] == "L" else p for p in pattern)
                new.append(Map(members, prim, inputs))
        # a group whose shared input is a row of another group formed now waits a pass: then it reads
        # that whole group, not one of its rows
        forming = {v for unit in new for v in unit.members}
        new = [unit for unit in new if not any(kind == "S" and x in forming for kind, x in unit.inputs)] or new
        if not new:
            break
        for unit in new:
            add_group(unit)
        rest = [e for e in rest if e.out not in grouped]

    order = _ordered(prog, groups, rest, row_of)
    if order is None:
        return None
    return order, groups, row_of, batched


def _ordered(prog: Program, groups: list, rest: list, row_of: dict):
    """The units in dependency order, each as soon as it can run (ties: first in the trace
    first), or None if grouping made a cycle (then nothing is lifted)."""
    position = {e.out: k for k, e in enumerate(prog.eqns)}
    units = [*groups, *rest]
    owner = {}  # Var -> unit number
    for u, unit in enumerate(units):
        for v in unit.members if type(unit) is not Eqn else (unit.out,):
            owner[v] = u
    needs = []
    for unit in units:
        if type(unit) is Layer:
            reads = list(unit.xs)
        elif type(unit) is Map:
            reads = [groups[g].members[0] for kind, g in unit.inputs if kind == "G"]
            reads += [a for kind, a in unit.inputs if kind == "S"]
            for kind, g in unit.inputs:  # every row of an input group
                if kind == "G":
                    reads += list(groups[g].members)
        else:
            reads = [a for a in unit.inputs if type(a) is Var]
        needs.append({owner[v] for v in reads if v in owner})
    users: list = [[] for _ in units]
    waiting = [len(n) for n in needs]
    for u, ns in enumerate(needs):
        for w in ns:
            users[w].append(u)

    def first(u):
        unit = units[u]
        return min(position[v] for v in (unit.members if type(unit) is not Eqn else (unit.out,)))

    ready = [(first(u), u) for u, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, u = heapq.heappop(ready)
        out.append(units[u])
        for w in users[u]:
            waiting[w] -= 1
            if waiting[w] == 0:
                heapq.heappush(ready, (first(w), w))
    return out if len(out) == len(units) else None
