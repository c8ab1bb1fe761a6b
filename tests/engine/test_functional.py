"""grad and value_and_grad: closed-form first and higher derivatives, nesting, purity, errors."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value, grad, is_grad_enabled, no_grad, value_and_grad

xs = st.floats(-2, 2, allow_nan=False)


def sig(x):
    return 1 / (1 + math.exp(-x))


# f, f', f'', f''' in closed form
CLOSED_FORMS = [
    (
        "tanh",
        ag.tanh,
        lambda x: 1 - math.tanh(x) ** 2,
        lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
        lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2),
    ),
    (
        "sigmoid",
        ag.sigmoid,
        lambda x: sig(x) * (1 - sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) ** 2),
    ),
    ("sin", ag.sin, math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x)),
    ("exp", ag.exp, math.exp, math.exp, math.exp),
    ("cube", lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x, lambda x: 6.0),
    (
        "log1+x2",
        lambda x: ag.log(1.0 + x * x),
        lambda x: 2 * x / (1 + x * x),
        lambda x: (2 - 2 * x * x) / (1 + x * x) ** 2,
        lambda x: (4 * x**3 - 12 * x) / (1 + x * x) ** 3,
    ),
]


@pytest.mark.parametrize("name, f, d1, d2, d3", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_first_second_and_third_derivatives_match_closed_forms(name, f, d1, d2, d3):
    @given(xs)
    def check(x):
        assert grad(f)(x) == pytest.approx(d1(x), rel=1e-9, abs=1e-12)
        assert grad(grad(f))(x) == pytest.approx(d2(x), rel=1e-9, abs=1e-12)
        assert grad(grad(grad(f)))(x) == pytest.approx(d3(x), rel=1e-8, abs=1e-12)

    check()


def test_top_level_returns_floats_and_nested_returns_values():
    seen = []

    def inner_checked(x):
        g = grad(ag.tanh)(x)
        seen.append(type(g))
        return g

    assert type(grad(ag.tanh)(0.3)) is float
    grad(inner_checked)(0.3)
    assert seen == [Value]


def test_value_and_grad_with_several_argnums():
    f = lambda x, y: x * x * y + ag.sin(y)  # noqa: E731
    value, (dx, dy) = value_and_grad(f, argnums=(0, 1))(1.5, -0.5)
    assert value == pytest.approx(1.5**2 * -0.5 + math.sin(-0.5))
    assert dx == pytest.approx(2 * 1.5 * -0.5) and dy == pytest.approx(1.5**2 + math.cos(-0.5))


def test_argnums_selects_which_argument_is_differentiated():
    f = lambda x, y: x * y * y  # noqa: E731
    assert grad(f, argnums=1)(2.0, 3.0) == pytest.approx(12.0)


def test_nested_grad_does_not_confuse_the_inner_and_outer_variable():
    # d/dx [ d/dy (x·y) at y=x ] = d/dx x = 1, not 2
    assert grad(lambda x: grad(lambda y: x * y)(x))(3.0) == pytest.approx(1.0)
    assert grad(lambda x: grad(lambda y: x * y)(2.0))(3.0) == pytest.approx(1.0)


def test_mixed_partial_derivative():
    f = lambda x, y: ag.exp(x * y)  # noqa: E731
    d2 = grad(lambda x: grad(f, argnums=1)(x, 0.7))(0.4)  # ∂²/∂x∂y e^{xy} = e^{xy}(1 + xy)
    assert d2 == pytest.approx(math.exp(0.28) * (1 + 0.28))


def test_grad_leaves_every_nodes_grad_untouched():
    w = Value(0.5)
    g = grad(lambda x: (w * x).tanh())(2.0)
    assert g == pytest.approx(0.5 * (1 - math.tanh(1.0) ** 2))
    assert w.grad == 0.0


def test_grad_of_a_constant_function_is_zero():
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert grad(grad(lambda x: x))(1.0) == 0.0


def test_grad_with_a_value_argument_at_top_level_builds_a_differentiable_gradient():
    x = Value(0.5)
    g = grad(lambda t: t**3)(x)
    assert isinstance(g, Value) and g.data == pytest.approx(0.75)
    g.backward()
    assert x.grad == pytest.approx(3.0)  # d/dx 3x² = 6x


def test_grad_reports_bad_arguments_clearly():
    with pytest.raises(TypeError, match="needs a function"):
        grad(3.0)
    with pytest.raises(TypeError, match="argnums"):
        grad(ag.tanh, argnums="0")
    with pytest.raises(ValueError, match="out of range"):
        grad(ag.tanh, argnums=2)(0.1)
    with pytest.raises(TypeError, match="scalar"):
        grad(lambda x: [x])(0.1)


def test_grad_and_value_and_grad_give_true_gradients_inside_no_grad():
    with no_grad():
        assert grad(lambda t: t * t)(3.0) == 6.0
        assert value_and_grad(lambda t: t * t * t)(2.0) == (8.0, 12.0)
        assert grad(grad(lambda t: t * t * t))(2.0) == 12.0
        assert grad(lambda a, b: a * b, argnums=(0, 1))(2.0, 5.0) == (5.0, 2.0)
        x = Value(3.0)
        assert grad(lambda t: t * t)(x).data == 6.0
        assert not is_grad_enabled()  # the caller's mode is left as it was
        assert (x * x).is_leaf  # and still applies outside the transform
    assert is_grad_enabled()
