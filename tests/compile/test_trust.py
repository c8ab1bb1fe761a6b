"""Where a compiled function could be silently wrong, it gives eager's answer or refuses (issue 19)."""

import copy
import threading

import pytest

import autograd as ag
from autograd import Value, no_grad, ops

np = pytest.importorskip("numpy")


def test_a_first_call_inside_no_grad_still_traces_a_graph():
    g = ag.compile(lambda x: x * x)
    with no_grad():
        assert g(3.0) == (9.0, 6.0)
    assert g(5.0) == (25.0, 10.0)
    w = Value(2.0)
    h = ag.compile(lambda x: w * x, params=[w], batch="python")
    with no_grad():
        h([3.0])
    assert w.grad == 3.0


def test_numpy_batches_bind_each_traces_parameters_in_its_own_order():
    w, b = Value(2.0), Value(-1.0)

    def f(x, k):
        return w * x if k == 0 else b * x + w  # the two traces meet w and b in other orders

    def g(x, k):
        return b * x + w if k else w * x

    for fn in (f, g):
        w.grad = b.grad = 0.0
        comp = ag.compile(fn, params=[w, b], static_argnums=1, batch="numpy")
        value, _ = comp([1.0, 3.0, 5.0], [0, 1, 1])
        want = (2.0 * 1.0 + (-3.0 + 2.0) + (-5.0 + 2.0)) / 3
        assert value == pytest.approx(want, abs=1e-15)
        assert (w.grad, b.grad) == (pytest.approx(1.0), pytest.approx(8.0 / 3))


def test_guards_tell_minus_zero_from_zero_and_compare_huge_ints_exactly():
    def f(x, t):
        return x * 2.0 if t >= 0.0 and str(t)[0] != "-" else x * -2.0  # branches on the sign of zero

    g = ag.compile(f, argnums=0)
    assert g(1.0, 0.0) == (2.0, 2.0)
    assert g(1.0, -0.0) == (-2.0, -2.0)
    big = 2**53 + 1
    h = ag.compile(lambda x: x * 3.0 if x >= big else x)
    assert h(float(2**53)) == ag.value_and_grad(lambda x: x * 3.0 if x >= big else x)(float(2**53))
    assert h(float(2**53)) == (float(2**53), 1.0)
    k = ag.compile(lambda x: x if x > 10**400 else -x)
    assert k(1.0) == (-1.0, -1.0)
    assert k(2.0) == (-2.0, -1.0)


def test_cache_keys_are_exact_for_zero_signs_nan_and_int_vs_float():
    calls = []

    def f(x, c):
        calls.append(c)
        return x * (1.0 if repr(c).startswith("-") else 2.0) + (0.5 if type(c) is int else 0.0)

    g = ag.compile(f, argnums=0)
    assert g(1.0, 0.0)[0] == 2.0
    assert g(1.0, -0.0)[0] == 1.0
    assert g(1.0, 0)[0] == 2.5
    nan = float("nan")
    g(1.0, nan)
    n = len(calls)
    g(1.0, nan)
    assert len(calls) == n  # the same nan finds its trace


def test_numbers_not_differentiated_reach_f_as_the_caller_passed_them():
    def f(x, n, eps):
        assert type(n) is int and type(eps) is float
        out = x
        if n == 1:
            out = out * 3.0
        if eps:
            out = out + eps
        return out

    g = ag.compile(f, argnums=0)
    for args in [(2.0, 1, 0.0), (2.0, 2, 0.5), (2.0, 1, 0.5)]:
        assert g(*args) == ag.value_and_grad(f)(*args)


def test_a_global_or_closure_number_that_changes_traces_again():
    k = 2.0

    def closure(x):
        return x * k

    g = ag.compile(closure)
    assert g(1.0) == (2.0, 2.0)
    k = 5.0  # noqa: F841 - read by closure through its cell
    assert g(1.0) == (5.0, 5.0)
    global FACTOR
    FACTOR = 2.0
    h = ag.compile(_times_factor)
    assert h(1.0) == (2.0, 2.0)
    FACTOR = -1.0
    assert h(1.0) == (-1.0, -1.0)
    w = Value(1.0)
    b = ag.compile(lambda x: w * x * FACTOR, params=[w], batch="python")
    assert b([1.0])[0] == -1.0
    FACTOR = 3.0
    assert b([1.0])[0] == 3.0


FACTOR = 2.0


def _times_factor(x):
    return x * FACTOR


def test_a_copy_of_a_traced_input_follows_the_new_number():
    f = lambda x: x * copy.copy(x)  # noqa: E731
    g = ag.compile(f)
    for x in (2.0, 3.0, -1.5):
        assert g(x) == ag.value_and_grad(f)(x)
    h = ag.compile(lambda x: x + Value(x.data))
    assert h(2.0) == (4.0, 1.0)
    assert h(5.0) == (10.0, 1.0)


def test_a_parameter_listed_twice_is_refused():
    w = Value(1.0)
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] are the same Value"):
        ag.compile(lambda x: w * x, params=[w, w])


@pytest.mark.parametrize("batch", [None, "python", "numpy"])
def test_detect_anomaly_is_honoured(batch):
    w = Value(0.0)
    g = ag.compile(lambda x: ag.log(w * x), params=[w], batch=batch)
    arg = [1.0] if batch else 1.0
    g(arg)  # -inf, no anomaly mode: IEEE answers
    with ag.detect_anomaly(), pytest.raises(FloatingPointError):
        g(arg)
    assert g.stats["eager"] >= 1


@pytest.mark.parametrize("batch", ["python", "numpy"])
def test_batch_modes_are_thread_safe(batch):
    w, b = Value(0.5), Value(-0.25)
    f = lambda x, k: ag.relu(w * x + b) if k % 2 else ag.tanh(w * x - b)  # noqa: E731
    g = ag.compile(f, params=[w, b], static_argnums=1, batch=batch)
    xs, ks = [0.1 * i - 1.0 for i in range(40)], [i % 5 for i in range(40)]
    want = ops.total([f(x, k).data for x, k in zip(xs, ks)]) / 40
    errors, values = [], []

    def work():
        try:
            for _ in range(20):
                values.append(g(xs, ks)[0])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(v == pytest.approx(want, abs=1e-15) for v in values)


def test_batch_caches_are_bounded():
    w = Value(1.0)
    g = ag.compile(lambda x, c: w * x * c, params=[w], static_argnums=1, batch="python")
    for c in range(200):
        g([1.0], [float(c)])
    assert len(g._flatteners) <= 64 and len(g._batch_traces) <= 16


def _one_example(name, fn):
    """A per-example function over two inputs using op `name`."""
    if name in ("sum", "mean", "logsumexp"):
        return lambda a, b: fn([a, b * 2.0])
    if name == "dot":
        return lambda a, b: fn([a, b], [b, 3.0])
    if name == "softmax":
        return lambda a, b: fn([a, b, 0.5])[1]
    if name == "log_softmax":
        return lambda a, b: fn([a, b, 0.5])[0] + fn([a, b], 1)
    if name in ("log", "sqrt"):
        return lambda a, b: fn(a * a + b * b + 0.1)
    return lambda a, b: fn(a * b + a)


@pytest.mark.parametrize("name", sorted(ops.PUBLIC))
def test_every_public_op_has_a_numpy_form(name):
    w = Value(0.7)
    per = _one_example(name, ops.PUBLIC[name])
    f = lambda a, b: per(w * a, b)  # noqa: E731
    xs, ys = [0.3, -1.2, 2.0, 0.0], [1.5, -0.4, 0.25, -2.0]
    g = ag.compile(f, params=[w], batch="numpy")
    value, _ = g(xs, ys)
    assert "numpy_fallbacks" not in g.stats and g.stats["eager"] == 0
    eager = ops.total([f(a, b).data for a, b in zip(xs, ys)]) / 4
    assert value == pytest.approx(eager, rel=1e-14, abs=1e-15)
