"""Compile's IR is data (issue 19): a trace is a program of equations and guards, and the chain rule
is a pass that appends backward equations (`Partials` from each op's rule, a `Term` per edge), which
the writers then turn into statements."""

import autograd as ag
from autograd import ops
from autograd.compile.body import _Body
from autograd.compile.ir import Eqn, Guard, Lit, Partials, Term, Var, program
from autograd.compile.names import _RESERVED, _Names
from autograd.compile.trace import _Trace


def _trace(f, *xs):
    inputs = [ag.Value(x) for x in xs]
    guards = []
    with ag.engine.observing(ag.engine._GuardList(guards)):
        out = f(*inputs)
    return _Trace(out, inputs, [f"x{i}" for i in range(len(xs))], list(range(len(xs))), [], guards, [], None)


def test_a_trace_is_equations_and_guards():
    def f(x, y):
        z = x * y + 2.0
        return ag.tanh(z) if z > 0 else z

    prog = program(_trace(f, 0.5, 3.0))
    assert [type(e) for e in prog.eqns] == [Eqn, Eqn, Eqn]
    mul, add, tanh = prog.eqns
    assert (mul.prim.name, add.prim.name, tanh.prim.name) == ("*", "+", "tanh")
    assert add.inputs == (mul.out, Lit(2.0)) and tanh.inputs == (add.out,)
    assert prog.inputs == [Var(0), Var(1)] and prog.out == tanh.out
    assert prog.guards == [Guard(add.out, ">", Lit(0), True)]


def test_the_chain_rule_appends_equations_read_from_each_rule():
    trace = _trace(lambda x, y: x * y, 0.5, 3.0)
    refs = {v: n for v, n in zip(trace.inputs, ["x", "y"])}
    body = _Body(trace, _Names(_RESERVED), refs, {"total": ops.total}, "python", None)
    body.forward()
    equations, grad = body.grad_equations({trace.inputs[0]: "g_x", trace.inputs[1]: "g_y"})
    assert [type(e) for e in equations] == [Partials, Term, Term]
    partials, tx, ty = equations
    assert partials.eqn.prim.name == "*" and (tx.index, ty.index) == (0, 1)
    assert (tx.target, tx.mode, tx.grad) == ("g_x", "running", None)  # seed 1.0: no factor written
    assert grad[trace.inputs[0]] == "g_x"
