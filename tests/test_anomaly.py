"""detect_anomaly stops at the first nan or inf, naming the op, its inputs and where it was made."""

import math

import pytest

from autograd import Value, detect_anomaly


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
