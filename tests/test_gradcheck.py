"""gradcheck agrees with correct rules and reports the exact entry of a wrong one."""

import pytest

import autograd as ag
from autograd import GradcheckError, gradcheck, primitive


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
