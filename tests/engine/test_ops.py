"""Each primitive's value and local derivative against its closed form, over its domain."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value

finite = st.floats(-5, 5, allow_nan=False)
positive = st.floats(0.05, 20, allow_nan=False)

# name, function on a Value, closed-form value, closed-form derivative, domain
UNARY = [
    ("exp", lambda v: v.exp(), math.exp, math.exp, finite),
    ("log", lambda v: v.log(), math.log, lambda x: 1 / x, positive),
    ("sqrt", lambda v: v.sqrt(), math.sqrt, lambda x: 0.5 / math.sqrt(x), positive),
    ("tanh", lambda v: v.tanh(), math.tanh, lambda x: 1 - math.tanh(x) ** 2, finite),
    (
        "sigmoid",
        lambda v: v.sigmoid(),
        lambda x: 1 / (1 + math.exp(-x)),
        lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
        finite,
    ),
    ("relu", lambda v: v.relu(), lambda x: max(x, 0.0), lambda x: float(x > 0), finite),
    ("sin", lambda v: v.sin(), math.sin, math.cos, finite),
    ("cos", lambda v: v.cos(), math.cos, lambda x: -math.sin(x), finite),
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, finite),
    ("abs", lambda v: abs(v), abs, lambda x: math.copysign(1.0, x) if x else 0.0, finite),
]


@pytest.mark.parametrize("name, f, value, derivative, domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_op_value_and_derivative_match_closed_form(name, f, value, derivative, domain):
    @given(domain)
    def check(x):
        v = Value(x)
        y = f(v)
        y.backward()
        assert y.op == name
        assert y.parents == (v,)
        assert y.data == pytest.approx(value(x), rel=1e-12, abs=1e-300)
        assert v.grad == pytest.approx(derivative(x), rel=1e-9, abs=1e-12)

    check()


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos"])
def test_module_function_on_float_returns_float_equal_to_method(name):
    fn = getattr(ag, name)
    out = fn(0.7)
    assert type(out) is float
    assert out == getattr(Value(0.7), name)().data


@given(finite, finite.filter(lambda b: abs(b) > 1e-3))
def test_binary_arithmetic_and_its_partials(a, b):
    for expr, value, da, db in [
        (lambda x, y: x + y, a + b, 1.0, 1.0),
        (lambda x, y: x - y, a - b, 1.0, -1.0),
        (lambda x, y: x * y, a * b, b, a),
        (lambda x, y: x / y, a / b, 1 / b, -a / b**2),
    ]:
        x, y = Value(a), Value(b)
        out = expr(x, y)
        out.backward()
        assert out.data == pytest.approx(value, rel=1e-12, abs=1e-12)
        assert (x.grad, y.grad) == (pytest.approx(da, rel=1e-12), pytest.approx(db, rel=1e-12))


@given(finite, finite.filter(lambda b: abs(b) > 1e-3))
def test_plain_numbers_work_on_either_side(a, b):
    x = Value(a)
    assert (x + b).data == a + b and (b + x).data == b + a
    assert (x - b).data == a - b and (b - x).data == b - a
    assert (x * b).data == a * b and (b * x).data == b * a
    y = Value(b)
    assert (a / y).data == pytest.approx(a / b) and (y / 2).data == b / 2


@given(positive, st.floats(-3, 3))
def test_power_derivatives_in_base_and_exponent(x0, y0):
    x, y = Value(x0), Value(y0)
    out = x**y
    out.backward()
    assert out.data == pytest.approx(x0**y0, rel=1e-12)
    assert x.grad == pytest.approx(y0 * x0 ** (y0 - 1), rel=1e-9)
    assert y.grad == pytest.approx(x0**y0 * math.log(x0), rel=1e-9, abs=1e-12)


def test_power_with_constant_exponent_and_constant_base():
    x = Value(-3.0)
    (x**2).backward()
    assert x.grad == -6.0
    e = Value(1.5)
    (2.0**e).backward()
    assert e.grad == pytest.approx(2**1.5 * math.log(2))


def test_derivative_of_zero_to_a_positive_power_in_the_exponent_is_zero():
    y = Value(2.0)
    (0.0**y).backward()
    assert y.grad == 0.0


def test_sum_mean_dot_are_one_node_each_however_many_inputs():
    xs = [Value(float(i)) for i in range(50)]
    for node in (ag.sum(xs), ag.mean(xs), ag.dot(xs, range(50)), ag.logsumexp(xs)):
        assert all(not p.parents for p in node.parents)
        assert len([p for p in node.parents if p in xs]) == 50


@given(st.lists(finite, min_size=1, max_size=8))
def test_sum_and_mean_gradients(values):
    xs = [Value(v) for v in values]
    s = ag.sum(xs)
    s.backward()
    assert s.data == pytest.approx(math.fsum(values), abs=1e-12)
    assert all(x.grad == 1.0 for x in xs)
    xs = [Value(v) for v in values]
    m = ag.mean(xs)
    m.backward()
    assert m.data == pytest.approx(math.fsum(values) / len(values), abs=1e-12)
    assert all(x.grad == pytest.approx(1 / len(values)) for x in xs)


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=8), finite, st.booleans())
def test_dot_with_bias_and_mixed_inputs(pairs, b0, mix):
    ws = [Value(w) for w, _ in pairs]
    xs = [x if (mix and i % 2) else Value(x) for i, (_, x) in enumerate(pairs)]
    b = Value(b0)
    z = ag.dot(ws, xs, bias=b)
    z.backward()
    assert z.op == "dot"
    assert z.data == pytest.approx(math.fsum(w * x for w, x in pairs) + b0, abs=1e-9)
    for w, x, (w0, x0) in zip(ws, xs, pairs):
        assert w.grad == x0
        if isinstance(x, Value):
            assert x.grad == w0
    assert b.grad == 1.0


def test_dot_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="2 weights and 3 inputs"):
        ag.dot([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


@given(st.lists(finite, min_size=1, max_size=8))
def test_logsumexp_value_and_gradient_is_softmax(values):
    xs = [Value(v) for v in values]
    out = ag.logsumexp(xs)
    out.backward()
    expected = math.log(math.fsum(math.exp(v) for v in values))
    assert out.data == pytest.approx(expected, rel=1e-12)
    for x, v in zip(xs, values):
        assert x.grad == pytest.approx(math.exp(v - expected), rel=1e-9)


def test_logsumexp_and_softmax_are_stable_for_large_inputs():
    assert ag.logsumexp([1000.0, 1000.0]) == pytest.approx(1000 + math.log(2))
    assert ag.logsumexp([-1000.0, -1000.0]) == pytest.approx(-1000 + math.log(2))
    probs = ag.softmax([Value(1000.0), Value(0.0)])
    assert probs[0].data == pytest.approx(1.0) and probs[1].data == pytest.approx(math.exp(-1000))


@given(st.lists(finite, min_size=2, max_size=6), st.data())
def test_softmax_sums_to_one_and_has_the_softmax_jacobian(values, data):
    i = data.draw(st.integers(0, len(values) - 1))
    j = data.draw(st.integers(0, len(values) - 1))
    xs = [Value(v) for v in values]
    probs = ag.softmax(xs)
    assert math.fsum(p.data for p in probs) == pytest.approx(1.0)
    probs[i].backward()
    s = [p.data for p in probs]
    assert xs[j].grad == pytest.approx(s[i] * ((i == j) - s[j]), abs=1e-12)


def test_softmax_on_floats_returns_floats():
    out = ag.softmax([1.0, 2.0])
    assert all(type(p) is float for p in out)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: Value(0.0).log(), -math.inf),
        (lambda: Value(-1.0).log(), math.nan),
        (lambda: Value(1000.0).exp(), math.inf),
        (lambda: Value(1.0) / 0.0, math.inf),
        (lambda: Value(-1.0) / 0.0, -math.inf),
        (lambda: Value(0.0) / 0.0, math.nan),
        (lambda: Value(-8.0) ** (1 / 3), math.nan),
        (lambda: Value(0.0) ** -1.0, math.inf),
        (lambda: Value(10.0) ** 400.0, math.inf),
        (lambda: Value(-1.0).sqrt(), math.nan),
        (lambda: Value(math.inf).sin(), math.nan),
        (lambda: ag.log(0.0), -math.inf),
        (lambda: ag.exp(1e6), math.inf),
    ],
)
def test_forward_follows_ieee_754_instead_of_raising(make, expected):
    out = make()
    got = out.data if isinstance(out, Value) else out
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected


def test_derivative_rules_follow_ieee_754_at_singular_points():
    x = Value(0.0)
    x.log().backward()
    assert x.grad == math.inf
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf
    y = Value(0.0)
    (1.0 / y).backward()
    assert y.grad == -math.inf or math.isnan(y.grad)


def test_sum_of_nothing_is_zero_and_mean_of_nothing_is_an_error():
    assert ag.sum([]) == 0.0
    with pytest.raises(ValueError, match="no values"):
        ag.mean([])


@pytest.mark.parametrize("fn", [ag.sum, ag.mean, ag.logsumexp, ag.softmax])
def test_n_ary_ops_reject_a_non_sequence(fn):
    with pytest.raises(TypeError, match="sequence"):
        fn(Value(1.0))


def test_every_built_in_n_ary_primitive_takes_the_trusted_path():
    """softmax's and log_softmax's per-output primitives are made on first use, after the module's
    trust loop: each must still be trusted (issue 19), or its nodes take the slow checked case."""
    from autograd import engine, ops

    x = [ag.Value(1.0), ag.Value(2.0), ag.Value(-3.0)]
    ag.softmax(x), ag.log_softmax(x)
    made = ops._SOFTMAX_AT + ops._LOG_SOFTMAX_AT
    assert made and all(p._path is engine._NARY for p in made)
