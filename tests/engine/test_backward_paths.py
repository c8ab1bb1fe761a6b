"""The one chain-rule loop's written-out float cases (`_float_pass`) against the general pass, bit for bit;
rules checked at the call; `grad` pure with respect to every `.grad`, whatever other threads do."""

import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Value, primitive
from autograd.engine import backward_pass, topological_order

from ..compile.test_compile import anything, finite, programs, run, same

four = st.tuples(*[finite] * 4) | st.tuples(*[anything] * 4)


def _both_ways(program, x, y, z):
    """(grads by Value.backward's float pass, grads by the general pass into a dict) for x, y, z."""
    leaves = [Value(x), Value(y), Value(z)]
    out = run(program, *leaves)
    out.backward()
    fast = [v.grad for v in leaves]
    order = topological_order(out)
    into = {out: 1.0}
    backward_pass(order, into=into)
    return fast, [into.get(v, 0.0) for v in leaves]


@given(programs, finite, finite, finite)
def test_the_float_pass_equals_the_general_pass_bit_for_bit(program, x, y, z):
    fast, general = _both_ways(program, x, y, z)
    assert same(fast, general)


@given(programs, anything, anything, anything)
def test_the_float_pass_equals_the_general_pass_at_the_edges(program, x, y, z):
    fast, general = _both_ways(program, x, y, z)
    assert same(fast, general)


def test_each_written_out_case_is_taken_by_some_op():
    from autograd import ops
    from autograd.engine import _BINARY, _DOT, _MASKING_UNARY, _NARY, _UNARY

    paths = {ops.tanh._path, ops.mul._path, ops.relu._path, ops._dot._path, ops._sum._path}
    assert paths == {_UNARY, _BINARY, _MASKING_UNARY, _DOT, _NARY}


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=8), st.booleans(), four)
@settings(max_examples=400)
def test_dots_own_case_equals_the_general_pass_bit_for_bit(pairs, with_bias, data):
    """`dot` reads its partials (its own inputs) in place; any node may be a weight, an input and the bias at once."""
    leaves = [Value(x) for x in data]
    ws, xs = [leaves[i] for i, _ in pairs], [leaves[j] for _, j in pairs]
    out = ag.dot(ws, xs, leaves[0] if with_bias else None) * leaves[3]
    out.backward()
    into = {out: 1.0}
    backward_pass(topological_order(out), into=into)
    assert same([v.grad for v in leaves], [into.get(v, 0.0) for v in leaves])


def _cube_root():
    return primitive("cbrt", derivative=lambda ans, x: (1.0 / 3.0) * x ** (-2.0 / 3.0))(lambda x: abs(x) ** (1 / 3))


def test_a_complex_partial_is_refused_on_the_float_pass_as_on_the_general_one():
    cbrt = _cube_root()
    x = Value(-8.0)
    y = cbrt(x) * 1.0  # a negative float to a fractional power is complex in Python
    with pytest.raises(ValueError, match=r"derivative rule of 'cbrt' returned a complex"):
        y.backward()
    assert x.grad == 0.0  # nothing was added
    with pytest.raises(ValueError, match=r"derivative rule of 'cbrt' returned a complex"):
        ag.grad(lambda v: cbrt(v))(-8.0)


@pytest.mark.parametrize("n_inputs", [1, 2, 3])
def test_a_forward_rule_that_forgets_return_is_refused_at_the_call(n_inputs):
    def forgot(*xs):
        sum(xs)  # no return

    prim = primitive("forgot", derivative=lambda ans, *xs: (1.0,) * len(xs), arity=n_inputs)(forgot)
    with pytest.raises(
        TypeError, match=r"forward rule of 'forgot' returned NoneType, not a real number \(a missing return\?\)"
    ):
        prim(*[Value(1.0)] * n_inputs)


def test_a_forward_rule_returning_an_int_gives_a_float_node():
    prim = primitive("twice", derivative=lambda ans, x: 2.0)(lambda x: int(2 * x))
    v = prim(Value(1.0))
    assert type(v.data) is float and v.data == 2.0


def test_grad_is_pure_while_other_threads_differentiate_through_a_shared_parameter():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so passes interleave
    try:
        _differentiate_in_four_threads()
    finally:
        sys.setswitchinterval(old)


def _differentiate_in_four_threads():
    w = ag.parameter(0.5)
    w.grad = 0.125  # what the user accumulated
    barrier = threading.Barrier(4)
    results, errors = [], []

    def work(k):
        try:
            barrier.wait(timeout=10)
            for i in range(300):
                x = 0.1 * (k + 1) + i * 1e-3
                results.append(ag.grad(lambda x: ag.sum([(w * x).tanh() * w for _ in range(20)]))(x))
                assert w.grad == 0.125, w.grad
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 1200
    assert w.grad == 0.125


def test_grad_leaves_every_grad_of_the_graph_as_it_was():
    w, b = ag.parameter(0.5), ag.parameter(-0.2)
    w.grad, b.grad = 3.0, -1.0
    g = ag.grad(lambda x: (w * x + b).sigmoid())(2.0)
    assert (w.grad, b.grad) == (3.0, -1.0) and g == pytest.approx(0.5 * ag.sigmoid(0.8) * (1 - ag.sigmoid(0.8)))
