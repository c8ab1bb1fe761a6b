"""A built-in op is made in one place: its `primitive(...)` call lists it in the public table (so
``import autograd`` exports it and ``chainrule graph`` accepts it) and makes it a `Value` method."""

import math

import pytest

import autograd as ag
from autograd import Value, cli, extend, ops


@pytest.fixture
def softplus():
    op = extend.primitive("softplus", derivative=lambda ans, x: ag.sigmoid(x), export=True, method="softplus")(
        lambda x: math.log1p(math.exp(x))
    )
    yield op
    del ops.PUBLIC["softplus"]
    del Value.softplus


def test_one_primitive_call_registers_the_export_the_method_and_the_grammar(softplus):
    assert ops.PUBLIC["softplus"] is softplus is extend.PUBLIC["softplus"]
    x = Value(0.5)
    y = x.softplus()
    assert y.op == "softplus" and y.parents == (x,) and y.data == pytest.approx(math.log1p(math.exp(0.5)))
    y.backward()
    assert x.grad == pytest.approx(ag.sigmoid(0.5))
    assert cli.functions()["softplus"] is softplus and "softplus" in cli._allowed()
    root, variables = cli.evaluate("softplus(x) * 2", {"x": 0.5})
    root.backward()
    assert variables["x"].grad == pytest.approx(2 * ag.sigmoid(0.5))


def test_a_two_input_primitive_becomes_an_operator_and_its_reflection():
    hyp = extend.primitive(
        "hyp", derivative=lambda ans, a, b: (a / ans, b / ans), method=("__matmul__", "__rmatmul__")
    )(lambda a, b: math.hypot(a, b))
    try:
        a = Value(3.0)
        assert (a @ 4.0).data == 5.0 and (4.0 @ a).data == 5.0 and (a @ 4.0).primitive is hyp
        assert (4.0 @ a).parents[1] is a
    finally:
        del Value.__matmul__, Value.__rmatmul__
    assert "hyp" not in ops.PUBLIC  # exported only when asked


def test_export_under_another_name():
    op = extend.primitive("square", derivative=lambda ans, x: 2.0 * x, export="sq")(lambda x: x * x)
    try:
        assert ops.PUBLIC["sq"] is op and "sq" in cli.functions() and not hasattr(Value, "square")
    finally:
        del ops.PUBLIC["sq"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": ("a", "b")}, r"method of 'f' \(1 input\(s\)\): give one name for one input"),
        ({"method": "not a name"}, "method must be a name or a tuple of names"),
        ({"export": 1}, "export must be True, False or a name"),
        ({"export": "not a name"}, "export\\(\\) needs an identifier"),
    ],
)
def test_bad_registrations_are_refused_in_one_line(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        extend.primitive("f", derivative=lambda ans, x: 1.0, **kwargs)(lambda x: x)


def test_every_builtin_method_and_export_is_its_primitive():
    """The table the old code kept by hand, now read off the primitives themselves."""
    x = Value(0.7)
    for name in ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos"]:
        op = ops.PUBLIC[name]
        assert getattr(x, name)().primitive is op is getattr(ops, name) and name in cli.functions()
    assert abs(x).primitive is ops.PUBLIC["abs"] is ops.absolute and (-x).primitive is ops.neg
    for sym, op in [("+", ops.add), ("-", ops.sub), ("*", ops.mul), ("/", ops.div), ("**", ops.power)]:
        assert eval(f"x {sym} 2.0").primitive is op is eval(f"2.0 {sym} x").primitive  # noqa: S307 - our own text
    assert [n for n in ops.PUBLIC if n in ("sum", "mean", "dot", "logsumexp", "softmax", "log_softmax")] == [
        "sum",
        "mean",
        "dot",
        "logsumexp",
        "log_softmax",
        "softmax",
    ]


def test_a_registered_methods_forward_rule_is_checked_at_the_call():
    op = extend.primitive("lazy", derivative=lambda ans, x: 1.0, method="lazy")(lambda x: None)
    try:
        with pytest.raises(TypeError, match="forward rule of 'lazy' returned NoneType"):
            Value(1.0).lazy()
    finally:
        del Value.lazy
    assert op.name == "lazy"


def test_an_op_registered_after_import_is_an_attribute_of_autograd():
    op = extend.primitive("late_square_op", derivative=lambda ans, x: 2.0 * x, export=True)(lambda x: x * x)
    try:
        assert ag.late_square_op is op
    finally:
        del ops.PUBLIC["late_square_op"]
