"""gradcheck agrees with correct rules and reports the exact entry of a wrong one."""

import pytest

import autograd as ag
from autograd import GradcheckError, Value, gradcheck, primitive


def test_gradcheck_accepts_correct_gradients():
    assert gradcheck(lambda x, y: (x * y).tanh() + ag.log(x * x + 1.0), 0.3, -1.2)


def test_gradcheck_rejects_a_wrong_rule_and_shows_the_table():
    wrong_square = primitive("wrong_square", derivative=lambda ans, x: 3.0 * x)(lambda x: x * x)
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda x, y: wrong_square(x) + y, 0.5, 2.0)
    message = str(err.value)
    assert isinstance(err.value, AssertionError)
    assert "analytic" in message and "numeric" in message and "difference" in message
    assert "1.5" in message  # analytic 3·0.5
    lines = message.splitlines()
    assert "<-- differs" in lines[2] and "<-- differs" not in lines[3]


def test_gradcheck_flags_nan_gradients():
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: (x * 0.0).sqrt(), 1.0)


def test_gradcheck_needs_inputs_and_a_function():
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(ag.tanh)
    with pytest.raises(TypeError, match="function"):
        gradcheck(1.0, 2.0)


def _math_sin():
    """A sine whose derivative rule calls math.cos: right as a number, a constant to `grad`."""
    import math

    return primitive("math_sin", derivative=lambda ans, x: math.cos(x))(math.sin)


def test_a_derivative_written_with_math_passes_order_1_and_is_refused_at_order_2():
    math_sin = _math_sin()
    assert gradcheck(math_sin, 0.7)
    with pytest.raises(TypeError, match=r"float\(\) of a Value would drop its gradient"):
        gradcheck(math_sin, 0.7, order=2)  # math.cos(x) on a Value: the second derivative would be lost


def test_order_2_and_3_accept_correct_rules_with_several_inputs():
    assert gradcheck(lambda x, y: (x * y).tanh() + ag.log(x * x + 1.0) + x.sigmoid() * y.exp(), 0.3, -1.2, order=2)
    assert gradcheck(lambda x, y: (x * y).sin() + x**3 / y, 0.4, 1.3, order=3)


def _number(x):
    return x.data if isinstance(x, Value) else x


def test_order_2_sees_a_wrong_second_derivative_in_a_mixed_partial():
    # a product whose rule treats the other factor as a plain number: ∂²(x·y)/∂x∂y comes out 0, not 1
    flat_mul = primitive("flat_mul", derivative=lambda ans, a, b: (_number(b), _number(a)))(lambda a, b: a * b)
    assert gradcheck(flat_mul, 0.5, 2.0)
    with pytest.raises(GradcheckError):
        gradcheck(flat_mul, 0.5, 2.0, order=2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"eps": 0.0},
        {"eps": -1e-6},
        {"eps": float("nan")},
        {"eps": float("inf")},
        {"eps": "1e-6"},
        {"atol": -1.0},
        {"atol": float("nan")},
        {"rtol": float("inf")},
        {"rtol": None},
        {"order": 0},
        {"order": 1.5},
        {"order": True},
        {"order": 5},
    ],
)
def test_bad_eps_tolerances_or_order_raise_value_error(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        gradcheck(ag.tanh, 0.3, **kwargs)


def test_gradcheck_inside_no_grad_checks_true_gradients():
    with ag.no_grad():
        assert gradcheck(lambda x, y: x * y + x.exp(), 0.3, 0.7, order=2)
        wrong_square = primitive("wrong_square2", derivative=lambda ans, x: 3.0 * x)(lambda x: x * x)
        with pytest.raises(GradcheckError):
            gradcheck(wrong_square, 0.5)
