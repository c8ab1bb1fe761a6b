"""The statements the emitters write, as data: each knows the names it assigns and reads, so cutting
a long function into parts is slicing the list, and what crosses a cut is read off the list."""

from __future__ import annotations

from typing import NamedTuple


class Stmt(NamedTuple):
    """One statement of generated code (or a comment: no writes, no reads)."""

    text: str
    writes: tuple = ()
    reads: tuple = ()


def live_across(chunks: list) -> list:
    """For each chunk of statements: (names it reads that an earlier chunk assigned, names it
    assigns that a later chunk reads), both sorted."""
    defs, uses = [], []
    for chunk in chunks:
        d, u = set(), set()
        for stmt in chunk:
            u |= set(stmt.reads) - d  # read before this chunk assigns it
            d |= set(stmt.writes)
        defs.append(d)
        uses.append(u)
    out = []
    for k in range(len(chunks)):
        earlier = set().union(*defs[:k])
        later = set().union(*uses[k + 1 :])
        out.append((sorted(uses[k] & earlier), sorted(defs[k] & later)))
    return out


# ---- the program of one trace: equations and guards ---------------------------------------------
class Var(NamedTuple):
    """A variable of a program: its number (an index into ``Program.nodes``)."""

    n: int


class Lit(NamedTuple):
    """A literal input of an equation (a constant's number) or of a guard (an exact int or float)."""

    value: object


class Eqn(NamedTuple):
    """``out = prim(*inputs)``: one node of the traced graph (inputs are `Var`s or `Lit`s)."""

    out: Var
    prim: object
    inputs: tuple


class Guard(NamedTuple):
    """A branch the trace took: ``var op other`` was ``expected`` ("float": var's number read
    by ``detach()``; ``expected`` is then that number, to be matched bit for bit)."""

    var: Var
    op: str
    other: object  # a Var or a Lit
    expected: object


class Program(NamedTuple):
    """A trace as data, in the spirit of a jaxpr: what it reads, its equations in forward order,
    its guards, and which variables are its value and its aux outputs.

    ``nodes[v.n]`` is the traced `Value` behind each variable (for its label and scope only:
    the emitters write names from them, never numbers)."""

    nodes: list
    inputs: list  # Vars, in flattened argument order
    leaves: list  # Vars read at every call (parameters, Values of closures)
    eqns: list
    guards: list
    out: object  # a Var, or a Lit when f returned a constant
    aux: list


def program(trace) -> Program:
    """The equations and guards of a recorded trace (`trace._Trace`)."""
    from ..engine import Value

    number: dict = {}
    nodes: list = []

    def var(node) -> Var:
        if node not in number:
            number[node] = len(nodes)
            nodes.append(node)
        return Var(number[node])

    inputs = [var(v) for v in trace.inputs]
    leaves = [var(v) for v in trace.leaves]
    known = set(trace.inputs) | set(trace.leaves)

    def atom(node):
        if node in known or node.parents:
            return var(node)
        return Lit(node.data)  # a constant: its number is part of the equation

    eqns = []
    for node in trace.forward_order:
        if node.parents:
            ins = tuple(atom(p) for p in node.parents)
            eqns.append(Eqn(var(node), node.primitive, ins))
    guards = []
    for node, op, other, result in trace.guards:
        rhs = atom(other) if type(other) is Value else Lit(other)
        guards.append(Guard(atom(node), op, rhs, result))
    return Program(nodes, inputs, leaves, eqns, guards, atom(trace.out), [atom(v) for v in trace.aux_values])


# ---- the backward program: equations the chain rule appends -------------------------------------
class Partials(NamedTuple):
    """``out = ∂eqn.out/∂eqn.inputs``: every local derivative of a forward equation, from its op's
    rule in ops.py (``out`` names them when the rule is called; an arithmetic rule is read off as
    expressions and needs no variable)."""

    out: str
    eqn: Eqn


class Term(NamedTuple):
    """One term of the chain rule: ``target (+)= grad · ∂eqn.out/∂eqn.inputs[index]``.

    mode: "new" (a variable of its own), "add" (into a sum begun before), "running" (a parameter's
    running sum, as ``backward()`` keeps ``.grad``). grad: the incoming gradient's name, None for
    exactly 1.0. eqn None: the output itself is a target (its gradient is the seed)."""

    target: str
    mode: str
    grad: object
    eqn: object
    index: int
