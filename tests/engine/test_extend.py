"""The door for new primitives: a user's softplus and leaky ReLU, checked like built-ins."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value, grad, gradcheck, primitive


@primitive(derivative=lambda ans, x: ag.sigmoid(x))
def softplus(x):
    return ag.log(1.0 + ag.exp(x))


@primitive("leaky_relu", derivative=lambda ans, x: 1.0 if x > 0 else 0.01)
def leaky_relu(x):
    return x if x > 0 else 0.01 * x


@given(st.floats(-4, 4).filter(lambda x: abs(x) > 1e-3))
def test_user_primitives_pass_gradcheck(x):
    assert gradcheck(softplus, x)
    assert gradcheck(leaky_relu, x)


def test_user_primitive_is_one_named_node_and_works_on_floats():
    v = softplus(Value(0.5))
    assert v.op == "softplus" and len(v.parents) == 1
    assert type(softplus(0.5)) is float and softplus(0.5) == pytest.approx(math.log1p(math.exp(0.5)))


def test_user_primitive_has_higher_derivatives_through_its_rule():
    s = 1 / (1 + math.exp(-0.3))
    assert grad(grad(softplus))(0.3) == pytest.approx(s * (1 - s))


def test_primitive_with_several_inputs():
    hypot = primitive("hypot", derivative=lambda ans, x, y: (x / ans, y / ans))(lambda x, y: math.hypot(x, y))
    assert hypot.arity == 2
    assert gradcheck(lambda a, b: hypot(a, b), 3.0, 4.0)


def test_primitive_checks_its_arguments():
    with pytest.raises(TypeError, match="derivative must be callable"):
        primitive(derivative=None)
    with pytest.raises(TypeError, match="takes 1 argument"):
        softplus(1.0, 2.0)
    with pytest.raises(TypeError, match="needs a real number, got str"):
        softplus("x")
