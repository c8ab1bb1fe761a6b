"""detect_anomaly stops at the first nan or inf, naming the op, its inputs and where it was made."""

import gc
import math
import tracemalloc

import pytest

import autograd as ag
from autograd import Value, detect_anomaly, grad


def test_forward_anomaly_names_the_op_inputs_and_this_file():
    x = Value(0.0)
    with detect_anomaly():
        with pytest.raises(FloatingPointError) as err:
            x.log()
    message = str(err.value)
    assert "'log'" in message and "(0.0)" in message and "test_anomaly.py:" in message


def test_backward_anomaly_names_the_op_whose_gradient_is_not_finite():
    x = Value(0.0)
    with detect_anomaly():
        y = x.sqrt() + 1.0  # sqrt(0) = 0 is fine; its derivative 0.5/0 is inf
        with pytest.raises(FloatingPointError) as err:
            y.backward()
    message = str(err.value)
    assert "'sqrt'" in message and "inf" in message and "test_anomaly.py:" in message


def test_without_anomaly_mode_non_finite_values_pass_silently():
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert x.grad == math.inf


def test_anomaly_mode_computes_the_same_gradients_when_all_is_finite():
    def run():
        x = Value(0.7)
        ((x * x).tanh() + x.exp()).backward()
        return x.grad

    plain = run()
    with detect_anomaly():
        assert run() == plain


def test_no_false_alarm_for_the_unused_exponent_branch_of_a_constant_power():
    # d/dy x**y = x**y·log x is nan at x = −3, but y = 2 is a constant: nobody reads its gradient
    with detect_anomaly():
        assert grad(grad(lambda x: x**2))(-3.0) == 2.0
        assert grad(lambda x: x**3)(-2.0) == 12.0
        x = Value(-3.0)
        (x**2).backward()
        assert x.grad == -6.0


def test_an_anomaly_in_a_derivative_that_is_used_still_raises():
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="'sqrt'"):
            grad(lambda x: x.sqrt())(0.0)  # 0.5/sqrt(0) = inf reaches x
        with pytest.raises(FloatingPointError, match="'log'"):
            grad(grad(lambda x: x.log()))(0.0)


def test_nan_entering_relu_is_reported():
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match="'relu' with inputs \\(nan\\)"):
            Value(math.nan).relu()


def test_anomaly_mode_keeps_no_node_alive_after_the_graph_is_dropped():
    def build_and_drop():
        x = Value(0.5)
        v = x
        for _ in range(20_000):
            v = v * 1.0000001
        v.backward()

    with detect_anomaly():
        build_and_drop()  # warm up: caches of code sites, tags
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            build_and_drop()
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert kept < 200_000, f"{kept} bytes still held after the graph was dropped"  # 40,000 nodes were made


def test_relabelling_a_node_made_in_anomaly_mode_keeps_where_it_was_made():
    x = Value(0.0)
    with detect_anomaly():
        with ag.scope("block"):
            y = x.sqrt()
        y.label = "root"
        with pytest.raises(FloatingPointError) as err:
            y.backward()
    assert y.label == "root" and y.scope == "block"
    assert "test_anomaly.py:" in str(err.value)
