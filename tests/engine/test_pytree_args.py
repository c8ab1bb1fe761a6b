"""`grad`/`value_and_grad` take list and tuple arguments and aux outputs as JAX does, through the
one pytree helper that `compile` uses too (issue 19)."""

import math

import pytest

import autograd as ag
from autograd.compile import pytree as compile_pytree
from autograd.pytree import flatten, to_floats, unflatten


def test_a_list_argument_gets_its_gradient_in_its_own_shape():
    def f(ws, x):
        return ag.tanh(ag.dot(ws[0], [x, x]) + ws[1] * x)

    ws = ([0.3, -0.2], 0.5)
    value, (gws, gx) = ag.value_and_grad(f, argnums=(0, 1))(ws, 1.5)
    z = 0.3 * 1.5 - 0.2 * 1.5 + 0.5 * 1.5
    d = 1 - math.tanh(z) ** 2
    assert value == pytest.approx(math.tanh(z))
    assert type(gws) is tuple and type(gws[0]) is list
    assert gws[0] == pytest.approx([d * 1.5, d * 1.5]) and gws[1] == pytest.approx(d * 1.5)
    assert gx == pytest.approx(d * (0.3 - 0.2 + 0.5))


def test_has_aux_returns_the_aux_as_floats_and_grad_puts_it_second():
    def f(x):
        y = x * x
        return y * 3.0, [y, (x, 2)]

    (value, aux), g = ag.value_and_grad(f, has_aux=True)(2.0)
    assert (value, g) == (12.0, 12.0) and aux == [4.0, (2.0, 2.0)]
    assert ag.grad(f, has_aux=True)(2.0) == (12.0, [4.0, (2.0, 2.0)])
    compiled = ag.compile(f, has_aux=True)
    assert compiled(2.0) == ((value, aux), g)  # the same answer, the same shapes


def test_nested_grad_through_a_list_argument():
    def f(xs):
        return xs[0] * xs[0] * xs[1]

    hess_row = ag.grad(lambda xs: ag.grad(f)(xs)[0])([3.0, 2.0])  # d/dxs of (2 x0 x1)
    assert hess_row == [4.0, 6.0]


def test_a_non_number_in_a_differentiated_argument_is_refused_in_one_line():
    with pytest.raises(TypeError, match=r"^grad\(\): argument 0 is differentiated.*got str$"):
        ag.grad(lambda xs: xs[0])([1.0, "2"])
    with pytest.raises(TypeError, match="needs f to return a pair"):
        ag.value_and_grad(lambda x: x, has_aux=True)(1.0)


def test_one_flatten_for_compile_and_the_transforms():
    tree = [1.0, (2.0, [3.0]), ag.Value(4.0)]
    leaves, shape = flatten(tree)
    assert leaves[:3] == [1.0, 2.0, 3.0] and unflatten(shape, [0, 1, 2, 3]) == [0, (1, [2]), 3]
    assert to_floats(tree) == [1.0, (2.0, [3.0]), 4.0]
    assert compile_pytree._aux_floats is to_floats and compile_pytree._rebuild_aux(shape, leaves)[0] == 1.0
