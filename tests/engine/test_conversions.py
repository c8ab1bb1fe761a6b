"""A Value turned into a plain Python number: float() refuses while gradients are recorded (math.sin(v)
would drop the gradient without a word), bool() reads the value, formatting stays pleasant."""

import math
from math import sin

import pytest

import autograd as ag
from autograd import Value, no_grad

REFUSAL = r"float\(\) of a Value would drop its gradient .*ag\.sin\(v\).*v\.data"


def _exercise(sin):
    """An exercise sheet's function: df/db = 3 cos(3b) + 2.5 b**1.5, which is 10.257 at b = 3."""
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    f = -(a**3) + sin(3 * b) - 1.0 / c + b**2.5 - a**0.5
    f.backward()
    return a, b, c


def test_the_exercise_with_autograds_sin_gives_the_closed_form():
    a, b, c = _exercise(ag.sin)
    assert b.grad == pytest.approx(3 * math.cos(9.0) + 2.5 * 3.0**1.5, rel=1e-15)
    assert b.grad == pytest.approx(10.2570, abs=1e-4)
    assert a.grad == pytest.approx(-3 * 4.0 - 0.5 / math.sqrt(2.0)) and c.grad == pytest.approx(1 / 16)


def test_the_exercise_with_maths_sin_is_refused_instead_of_giving_12_99():
    with pytest.raises(TypeError, match=REFUSAL):
        _exercise(sin)  # it used to give df/db = 12.99: the sin term's share silently lost


@pytest.mark.parametrize("fn", [math.tanh, math.exp, math.sqrt, math.isfinite, float])
def test_grad_of_a_math_function_refuses_instead_of_returning_zero(fn):
    with pytest.raises(TypeError, match=REFUSAL):
        ag.grad(lambda x: fn(x))(1.0)


def test_float_is_the_number_inside_no_grad_where_no_gradient_can_be_lost():
    x = Value(0.5)
    with no_grad():
        assert float(x) == 0.5 and math.sin(x) == math.sin(0.5)
    with pytest.raises(TypeError, match=REFUSAL):
        float(x)


def test_the_refusal_is_one_line():
    with pytest.raises(TypeError) as err:
        float(Value(1.0))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "data, truth", [(0.0, False), (-0.0, False), (1e-300, True), (-2.0, True), (math.nan, True), (math.inf, True)]
)
def test_bool_reads_the_value_as_python_and_pytorch_do(data, truth):
    assert bool(Value(data)) is truth is bool(data)
    loss = Value(data) * 1.0
    assert (1 if loss else 0) == int(truth)


def test_bool_of_a_zero_loss_takes_the_false_branch():
    x = Value(3.0)
    loss = x - 3.0
    assert not loss and (loss or "default") == "default"


def test_formatting_reads_the_forward_value():
    v = Value(2.0) * 1.5
    assert f"{v:.3f}" == "3.000" and f"{v:>6.1f}" == "   3.0" and f"{v:e}" == "3.000000e+00"
    assert f"{v}" == str(v) == repr(v) and v.data == 3.0
