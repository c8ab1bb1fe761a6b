"""autograd.compile: generated code equals eager value_and_grad bit for bit, on random graphs of every
op, on branches (guards), higher derivatives, parameters, batches and whole training runs."""

import math
import struct
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd import Value, ops, value_and_grad
from autograd.extend import primitive

finite = st.floats(-3, 3, allow_nan=False)
anything = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 1.0, -1.0])


def same(a, b) -> bool:
    """Bit-identical floats (nan equals nan), recursively through tuples and lists."""
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    return a == b


# ---- random expression graphs of every op ----------------------------------------------------------
UNARY = [
    lambda a: -a,
    abs,
    ag.exp,
    ag.log,
    ag.sqrt,
    ag.tanh,
    ag.sigmoid,
    ag.relu,
    ag.sin,
    ag.cos,
    lambda a: ops.identity(a),
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / b,
    lambda a, b: a**b,
    lambda a, b: a * 2.5 - b,
    lambda a, b: 0.5 / (b + a),
]
NARY = [
    lambda xs: ag.sum(xs),
    lambda xs: ag.mean(xs),
    lambda xs: ag.logsumexp(xs),
    lambda xs: ag.dot(xs, xs[::-1]),
    lambda xs: ag.dot(xs, xs, bias=xs[0]),
    lambda xs: ag.softmax(xs)[0],
]
ALL_OPS = len(UNARY) + len(BINARY) + len(NARY)

programs = st.lists(
    st.tuples(
        st.integers(0, ALL_OPS - 1),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(1, 4),
    ),
    min_size=1,
    max_size=12,
)


def run(program, x, y, z):
    """Build a graph from a list of instructions; each reads earlier values by index."""
    vals = [x, y, z]
    for op, i, j, n in program:
        a, b = vals[i % len(vals)], vals[j % len(vals)]
        if op < len(UNARY):
            vals.append(UNARY[op](a))
        elif op < len(UNARY) + len(BINARY):
            vals.append(BINARY[op - len(UNARY)](a, b))
        else:
            picks = [vals[(i + k * j) % len(vals)] for k in range(n)]
            vals.append(NARY[op - len(UNARY) - len(BINARY)](picks))
    return vals[-1] + vals[-2] * 0.25


def test_every_op_of_the_table_is_in_the_random_programs():
    for k in range(ALL_OPS):
        assert run([(k, 0, 1, 3)], Value(0.3), Value(0.7), Value(1.1)).parents


@given(programs, finite, finite, finite, finite, finite, finite)
def test_compiled_random_graphs_equal_value_and_grad_bit_for_bit(program, x, y, z, x2, y2, z2):
    def f(x, y, z):
        return run(program, x, y, z)

    g = ag.compile(f, argnums=(0, 1, 2))
    eager = value_and_grad(f, argnums=(0, 1, 2))
    assert same(g(x, y, z), eager(x, y, z))  # the call that traces
    assert same(g(x2, y2, z2), eager(x2, y2, z2))  # new numbers through the same code


@given(programs, anything, anything, anything)
def test_compiled_code_keeps_eagers_ieee_answers_at_zeros_and_infinities(program, x, y, z):
    def f(x, y, z):
        return run(program, x, y, z)

    g = ag.compile(f, argnums=(0, 1, 2))
    g(0.5, 0.25, 1.5)
    assert same(g(x, y, z), value_and_grad(f, argnums=(0, 1, 2))(x, y, z))


def test_the_inline_forward_templates_in_ops_equal_their_rules():
    @given(st.lists(anything, min_size=1, max_size=7))
    def check(xs):
        for prim in (ops._sum, ops._mean, ops._dot):
            names = [f"x{i}" for i in range(len(xs))]
            expr = prim.inline(*names)
            got = eval(expr, {"total": ops.total}, dict(zip(names, xs)))
            assert same(got, prim.forward(*xs))

    check()


ARRAY_PRIMS = [p for p in vars(ops).values() if isinstance(p, ag.extend.Primitive) and p.on_arrays is not None]


@pytest.mark.parametrize("prim", ARRAY_PRIMS, ids=[p.name for p in ARRAY_PRIMS])
def test_the_array_rules_in_ops_equal_the_float_rules_elementwise(prim):
    np = pytest.importorskip("numpy")
    forward, derivative = prim.on_arrays(np)
    n = 2 if prim.arity == 2 else (1 if prim.arity == 1 else 3)
    labelled = prim is ops._log_softmax_labelled  # its first input is a class: 0, 1 or 2 of the other three
    n += labelled

    @given(st.lists(st.lists(anything, min_size=n, max_size=n), min_size=1, max_size=5))
    def check(rows):
        if labelled:
            rows = [[float(k % 3), *row[1:]] for k, row in enumerate(rows)]
        cols = [np.array(c, dtype=float) for c in zip(*rows)]
        with np.errstate(all="ignore"):
            ans = (forward or prim.forward)(*cols)
            d = derivative(ans, *cols) if derivative else None
        for k, row in enumerate(rows):
            want = prim.forward(*row)
            assert float(ans[k]) == pytest.approx(want, rel=1e-12, abs=1e-300, nan_ok=True)
            if d is not None:
                got = d if prim.arity == 1 else tuple(d)
                want_d = prim.local_grads(_node(prim, want, row))
                for gk, wk in zip((got,) if prim.arity == 1 else got, want_d):
                    assert float(np.broadcast_to(gk, ans.shape)[k]) == pytest.approx(
                        wk, rel=1e-12, abs=1e-300, nan_ok=True
                    )

    check()


def _node(prim, ans, row):
    v = Value(ans)
    v._parents = tuple(Value(x) for x in row)  # a stand-in node, only for local_grads
    v._op = prim
    return v


def test_compiled_code_reads_each_rule_off_the_table_or_calls_it():
    """Compile never restates a derivative: a user primitive's rule is written out when it is
    arithmetic and comparisons, and called when it is anything else (here, a call of math)."""
    smooth = primitive("smooth", derivative=lambda ans, x: 2.0 * x * ans)(lambda x: math.exp(x * x))
    kinked = primitive("kinked", derivative=lambda ans, x: 3.0 if x > 1 else -0.5)(
        lambda x: 3.0 * x if x > 1 else -0.5 * x
    )
    wavy = primitive("wavy", derivative=lambda ans, x: math.cos(x))(math.sin)

    def f(x):
        return smooth(x) * kinked(x) + kinked(x * x) + wavy(x)

    g = ag.compile(f)
    for x in (0.3, 1.4, -2.0, 1.0):
        assert same(g(x), value_and_grad(f)(x))
    assert "(2.0 * x) * " in g.source  # smooth's rule, written out
    assert "3.0 if " in g.source  # kinked's branch, a conditional expression
    assert "_d_wavy(" in g.source  # wavy's rule, called


def test_a_rule_that_acts_otherwise_on_symbols_is_called_not_written_out():
    def cautious(ans, x):
        try:
            return ag.cos(x) * 2.0  # a TypeError on symbols, caught below: the symbols would say 0.0
        except TypeError:
            return 0.0

    odd = primitive("odd", derivative=cautious)(lambda x: 2.0 * math.sin(x))
    g = ag.compile(lambda x: odd(x) * x)
    for x in (0.3, -1.2):
        assert same(g(x), value_and_grad(lambda x: odd(x) * x)(x))
    assert "_d_odd(" in g.source


# ---- guards: branches on Values are never stale ---------------------------------------------------
def test_a_branch_on_a_value_traces_again_when_the_numbers_take_the_other_way():
    def f(x):
        return x * x if x > 0 else -3.0 * x

    g = ag.compile(f)
    for x in (2.0, -1.5, 3.0, -0.5, 0.0):
        assert same(g(x), value_and_grad(f)(x))
    assert g.stats["traces"] == 2  # one per branch, both kept
    assert "raise _Stale" in g.source


def test_detach_is_a_guard_on_the_number_it_baked_in():
    def f(x):
        return x * x.detach()  # the second factor is a constant to the chain rule

    g = ag.compile(f)
    for x in (2.0, 3.0, 2.0):
        assert same(g(x), value_and_grad(f)(x))
    assert g(3.0) == (9.0, 3.0)


def test_float_of_a_traced_value_is_refused_as_eagerly():
    def f(x):
        return x * float(x)  # would drop the second factor's gradient

    for run in (ag.compile(f), value_and_grad(f)):
        with pytest.raises(TypeError, match=r"float\(\) of a Value would drop its gradient"):
            run(2.0)


def test_no_grad_inside_f_runs_every_call_eagerly():
    def f(x):
        with ag.no_grad():
            c = x * 2.0
        return x * c

    g = ag.compile(f)
    assert same(g(1.5), value_and_grad(f)(1.5))
    assert same(g(2.5), value_and_grad(f)(2.5))
    assert g.stats["eager"] == 2


def test_the_cache_keeps_at_most_cache_size_traces():
    g = ag.compile(lambda x, n: x ** float(n), static_argnums=1, cache_size=2)
    for n in (1, 2, 3, 1):
        assert same(g(1.5, n), value_and_grad(lambda x, n=n: x ** float(n))(1.5))
    assert g.stats["traces"] == 4  # n=1 was evicted by n=3, so traced again


def test_argument_structure_lists_and_static_arguments():
    def f(w, xs, scale):
        return ag.dot([w, w], xs) * scale

    g = ag.compile(f)
    assert same(g(0.5, [1.0, 2.0], 3), value_and_grad(f)(0.5, [1.0, 2.0], 3))
    assert same(g(0.5, [1.0, 2.0, 4.0][:2], 3), value_and_grad(f)(0.5, [1.0, 2.0], 3))
    assert g.stats["traces"] == 1  # ints are inputs too; only the structure keys the cache


# ---- higher order and composition -------------------------------------------------------------------
@given(finite)
def test_compile_of_grad_gives_the_second_derivative(x):
    def f(x):
        return ag.tanh(x) * x**3.0 + ag.relu(x) * ag.sin(x)

    g = ag.compile(ag.grad(f))
    assert same(g(x), value_and_grad(ag.grad(f))(x))
    assert same(g(x / 2 + 0.1), value_and_grad(ag.grad(f))(x / 2 + 0.1))


def test_a_compiled_function_inside_grad_runs_eagerly_and_differentiates_again():
    def f(x):
        return ag.exp(x) * x

    g = ag.compile(f)
    second = ag.grad(lambda x: g(x)[1])(0.7)  # d/dx of the compiled gradient
    assert second == pytest.approx((2 + 0.7) * math.exp(0.7), rel=1e-12)


# ---- parameters and aux outputs ----------------------------------------------------------------------
def test_params_accumulate_into_grad_exactly_as_backward_does():
    model = nn.MLP(3, [4, 2], activation="tanh", seed=0)
    params = model.parameters()
    x = [0.5, -1.0, 2.0]

    def loss(x):
        out = model(x)
        return out[0] * out[1] + ag.dot(params, params)

    for p in params:
        p.grad = 0.125  # backward adds onto whatever is there
    J = loss(x)
    J.backward()
    want = [p.grad for p in params]
    for p in params:
        p.grad = 0.125
    g = ag.compile(loss, params=params)
    value, grads = g(x)
    assert grads == () and value == J.data
    assert [p.grad for p in params] == want


def test_has_aux_returns_the_aux_values_as_floats():
    g = ag.compile(lambda x: (x * x, [x + 1.0, (ag.exp(x), 2)]), has_aux=True)
    (value, aux), dx = g(1.0)
    assert (value, dx) == (1.0, 2.0) and aux == [2.0, (math.e, 2.0)]


# ---- batches ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["python", "numpy"])
def test_a_batch_is_the_mean_of_the_examples_and_its_gradient(mode):
    if mode == "numpy":
        pytest.importorskip("numpy")
    model = nn.MLP(2, [5, 1], activation="relu", seed=1)
    params = model.parameters()
    X = [[0.1 * i, 1.0 - 0.2 * i] for i in range(7)]
    Y = [(-1.0) ** i for i in range(7)]

    def example(x, y):
        return nn.losses.mse([model(x)], [y])

    eager = nn.losses.mse([model(x) for x in X], Y)
    for p in params:
        p.grad = 0.0
    eager.backward()
    want = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    value, _ = ag.compile(example, params=params, batch=mode)(X, Y)
    assert value == pytest.approx(eager.data, rel=1e-14)
    assert [p.grad for p in params] == pytest.approx(want, rel=1e-13, abs=1e-16)


@given(programs, st.lists(st.tuples(finite, finite), min_size=1, max_size=4))
def test_batch_replays_of_random_graphs_equal_the_eager_mean(program, rows):
    """Every op, run by the batch loop and by NumPy (whose exp, log, ... may differ from math's in the last bit)."""
    np = pytest.importorskip("numpy")
    w = Value(0.7)
    X, Y = [r[0] for r in rows], [r[1] for r in rows]

    def f(x, y):
        return run(program, x, y, w)

    dw = 0.0
    for x, y in reversed(rows):  # eager: each example's graph, its gradient scaled by 1/m
        dw += ag.grad(lambda v, x=x, y=y: run(program, Value(x), Value(y), v))(w.data) * (1.0 / len(rows))
    eager = (ops.total([f(Value(x), Value(y)).data for x, y in rows]) / len(rows), dw)
    for mode in ("python", "numpy"):
        w.grad = 0.0
        with np.errstate(all="ignore"):
            value, _ = ag.compile(f, params=[w], batch=mode)(X, Y)
        assert (value, w.grad) == pytest.approx(eager, rel=1e-6, abs=1e-9, nan_ok=True)


def test_numpy_missing_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[notebooks\]'"):
        ag.compile(lambda x: x, params=[Value(1.0)], batch="numpy")


# ---- the source ----------------------------------------------------------------------------------------
def test_the_source_names_nodes_after_labels_and_scopes_and_comments_each_op():
    neuron = nn.Neuron(2, activation="tanh", seed=0)
    g = ag.compile(lambda x0, x1: neuron([x0, x1]), argnums=(0, 1), params=neuron.parameters())
    g(1.0, 2.0)
    src = g.source
    assert "# forward" in src and "# backward" in src
    assert "total((w_0 * x0, w_1 * x1,)) + b  # dot" in src
    assert "# tanh" in src and "g_w_0 += " in src
    namespace = {"total": ops.total, "_f_tanh": ops.tanh.forward}
    exec(src, namespace)  # noqa: S102 - readable and executable as it stands
    assert (
        namespace[g._fname]((1.0, 2.0), [w.data for w in neuron.w] + [neuron.b.data], [0.0] * 3)[0]
        == neuron([1.0, 2.0]).data
    )


def test_a_big_graph_is_compiled_in_parts_and_long_sums_stay_one_call():
    def f(x):
        return ag.sum([x * float(k % 7) for k in range(20_000)]) + ag.tanh(x)

    g = ag.compile(f)
    assert same(g(0.3), value_and_grad(f)(0.3))
    assert same(g(-1.7), value_and_grad(f)(-1.7))
    assert "_f_part3(_V, " in g.source  # more than 2 x 10,000 statements: cut into parts
    assert g.source.count("total((") == 1  # the 20,000-term sum is one call of the shared routine


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(TypeError, match="needs a function"):
        ag.compile(3)
    with pytest.raises(TypeError, match="argnums must be"):
        ag.compile(lambda x: x, argnums="x")
    with pytest.raises(ValueError, match="batch must be"):
        ag.compile(lambda x: x, batch="gpu")
    with pytest.raises(ValueError, match="params only"):
        ag.compile(lambda x: x, batch="python")
    with pytest.raises(ValueError, match="out of range"):
        ag.compile(lambda x: x, argnums=2)(1.0)
    with pytest.raises(TypeError, match="return a scalar"):
        ag.compile(lambda x: [x])(1.0)


# ---- training ----------------------------------------------------------------------------------------
OPTIMIZERS = {
    "sgd": lambda ps: nn.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "adam": lambda ps: nn.optim.Adam(ps, lr=0.05),
}


@pytest.mark.parametrize("loss", list(nn.losses.LOSSES))
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_fit_compiled_trains_exactly_as_eager(loss, opt):
    X, y = nn.datasets.moons(24, noise=0.1, seed=3)
    runs = {}
    for mode in (False, True, "numpy"):
        if mode == "numpy" and "numpy" not in sys.modules and not _has_numpy():
            continue
        model = nn.MLP(
            2,
            [4, 2 if loss == "cross_entropy" else 1],
            activation="relu",
            output_activation="sigmoid" if loss == "bce" else "linear",
            seed=5,
        )
        history = nn.fit(
            model,
            X,
            y,
            loss=loss,
            optimizer=OPTIMIZERS[opt](model.parameters()),
            epochs=4,
            batch_size=10,
            progress=False,
            seed=1,
            compile=mode,
        )
        runs[mode] = (history, [p.data for p in model.parameters()])
    eager_history, eager_weights = runs.pop(False)
    for mode, (history, weights) in runs.items():
        # NumPy's layers as matrices add a batch's gradients in the matrix product's order, not
        # backward()'s: 1e-16 apart per step, which Adam's division by sqrt(v) can grow to 2e-10
        # in four epochs (measured); the Python loop adds in backward()'s order, bit for bit
        rel = 1e-8 if mode == "numpy" else 1e-10
        assert history["loss"] == pytest.approx(eager_history["loss"], rel=rel)
        assert weights == pytest.approx(eager_weights, rel=rel, abs=1e-12)
        if mode is True:  # the same sums in the same order as backward: the very same weights
            assert weights == eager_weights and history["accuracy"] == eager_history["accuracy"]
        # (NumPy sums a batch in its own order: an output of 5.6e-18 can come out 0.0 and flip a
        # prediction sitting exactly on the threshold, so its accuracy is not compared)


def _has_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def test_fit_refuses_compile_with_a_loss_function():
    model = nn.MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="needs a named loss"):
        nn.fit(
            model,
            [[0.0, 1.0]],
            [1.0],
            loss=lambda p, t: p[0],
            epochs=1,
            progress=False,
            compile=True,
        )
