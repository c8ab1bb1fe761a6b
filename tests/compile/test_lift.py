"""Layers as matrices: `compile(batch="numpy")` finds the layers in the scalar graph and runs them
as matrix products, with gradients equal to eager's and to the closed forms in NumPy.

The lifted code must (1) be found: the source has ``Z1 = W1 @ A0 + b1`` and the closed forms'
backward lines; (2) give eager's value and gradients to 1e-12 (a matrix product adds in
another order than ``total``); (3) equal `nn.reference`'s vectorised closed forms.
"""

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd.compile.ir import program
from autograd.compile.lift import Layer, Map, lift
from nn import losses, reference

pytestmark = pytest.mark.needs("numpy")

RTOL, ATOL = 1e-12, 1e-14
ACTS = ["sigmoid", "tanh", "relu", "linear"]


def _model(nin, nouts, acts, seed):
    model = nn.MLP(nin, nouts, activation=acts[:-1], output_activation=acts[-1], seed=seed)
    rng = random.Random(seed)
    for p in model.parameters():
        if p.label.endswith(".b") or p.label == "b":
            p.data = rng.gauss(0.0, 0.5)  # init leaves biases at 0, which would hide a broadcasting slip
    return model


def _data(loss, nin, nout, m, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, nin))
    if loss == "cross_entropy":
        y = [int(k) for k in rng.integers(0, nout, size=m)]
    elif loss == "hinge":
        y = rng.choice([-1.0, 1.0], size=(m, nout))
        y = [float(r[0]) if nout == 1 else r.tolist() for r in y]
    elif loss == "bce":
        y = [float(v) if nout == 1 else None for v in rng.integers(0, 2, size=m)]
    else:
        y = [float(r[0]) if nout == 1 else r.tolist() for r in rng.normal(size=(m, nout))]
    return X.tolist(), y


def _grads_eager(model, loss, X, y):
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    J = losses.LOSSES[loss]([model(x) for x in X], y)
    J.backward()
    return J.data, [p.grad for p in params]


def _grads_compiled(model, loss, X, y):
    params = model.parameters()
    static = () if loss in ("mse", "hinge") else (1,)

    def example(x, t):
        return losses.LOSSES[loss]([model(x)], [t])

    g = ag.compile(example, params=params, static_argnums=static, batch="numpy")
    for p in params:
        p.grad = 0.0
    value, _ = g(X, y)
    return value, [p.grad for p in params], g


def _close(a, b):
    return all(math.isclose(u, v, rel_tol=RTOL, abs_tol=ATOL) for u, v in zip(a, b))


@settings(max_examples=60, deadline=None)
@given(
    acts=st.lists(st.sampled_from(ACTS), min_size=1, max_size=3),
    loss=st.sampled_from(["mse", "hinge", "cross_entropy", "bce"]),
    nin=st.integers(1, 4),
    width=st.integers(1, 5),
    m=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_lifted_mlp_equals_eager(acts, loss, nin, width, m, seed):
    """Random MLPs, every activation, four losses: the lifted batch equals eager backward()."""
    nout = 1 if loss == "bce" else (3 if loss == "cross_entropy" else 2)
    if loss == "bce":
        acts = [*acts[:-1], "sigmoid"]
    nouts = [width] * (len(acts) - 1) + [nout]
    model = _model(nin, nouts, acts, seed)
    X, y = _data(loss, nin, nout, m, seed)
    v_eager, g_eager = _grads_eager(model, loss, X, y)
    v_comp, g_comp, g = _grads_compiled(model, loss, X, y)
    assert "W1 @ A0" in g.source, g.source
    assert math.isclose(v_comp, v_eager, rel_tol=RTOL, abs_tol=ATOL)
    assert _close(g_comp, g_eager), max(abs(a - b) for a, b in zip(g_comp, g_eager))


@settings(max_examples=40, deadline=None)
@given(
    hidden=st.sampled_from(ACTS),
    n0=st.integers(1, 4),
    n1=st.integers(1, 5),
    m=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_lifted_gradients_are_the_closed_forms(hidden, n0, n1, m, seed):
    """dW = (1/m) dZ Aᵀ, db = (1/m) Σ dZ, dZ_prev = Wᵀ dZ ∗ g′(Z): nn.reference's NumPy, to 1e-12."""
    model = _model(n0, [n1, 1], [hidden, "sigmoid"], seed)
    X, y = _data("bce", n0, 1, m, seed)
    _, grads, g = _grads_compiled(model, "bce", X, y)
    Ws, bs = model.to_numpy()
    Y = np.array([y])
    dWs, dbs = reference.backward(Ws, bs, [hidden, "sigmoid"], np.array(X).T, Y, "bce")
    want = []
    for dW, db in zip(dWs, dbs):
        for i in range(dW.shape[0]):
            want += [*dW[i].tolist(), float(db[i, 0])]
    np.testing.assert_allclose(grads, want, rtol=1e-11, atol=1e-14)
    lines = ["Z1 = W1 @ A0 + b1", "dW1 = dZ1 @ A0.T", "db1 = dZ1.sum(axis=1)"]
    lines.append("dZ1 = W2.T @ dZ2" if hidden == "linear" else "dA1 = W2.T @ dZ2")  # linear makes no node
    for line in lines:
        assert line in g.source, (line, g.source)


def test_hand_written_layers_are_found_without_nn():
    """Dots written by hand, no scopes, no bias, a parameter tied between two neurons and a
    number from the closure: found as layers all the same, gradients as eager's."""
    rng = random.Random(3)
    W1 = [[ag.parameter(rng.gauss(0, 1)) for _ in range(3)] for _ in range(4)]
    W1[2][1] = W1[0][0]  # tied: used twice, its gradient is the sum
    W2 = [ag.parameter(rng.gauss(0, 1)) for _ in range(4)]
    c = ag.Value(0.5)  # read, not trained
    params = [p for row in W1 for p in row if p is not W1[2][1] or row is W1[0]] + W2

    def loss(x, t):
        h = [ag.tanh(ag.dot(row, x)) * c for row in W1]
        return (ag.dot(W2, h) - t) ** 2

    X = [[rng.gauss(0, 1) for _ in range(3)] for _ in range(9)]
    T = [rng.gauss(0, 1) for _ in range(9)]
    for p in params:
        p.grad = 0.0
    J = ag.mean([loss(x, t) for x, t in zip(X, T)])
    J.backward()
    want = [p.grad for p in params]
    g = ag.compile(loss, params=params, batch="numpy")
    for p in params:
        p.grad = 0.0
    value, _ = g(X, T)
    assert "W1 @ A0" in g.source and "_np.add.at" in g.source  # the tied weight adds in place twice
    assert math.isclose(value, J.data, rel_tol=RTOL)
    assert _close([p.grad for p in params], want)


def test_lift_finds_layers_and_elementwise_groups():
    """The structure: two layers of dots and an elementwise group of tanh between them."""
    model = nn.MLP(3, [4, 2], activation="tanh", seed=0)
    x = [ag.Value(0.1), ag.Value(0.2), ag.Value(0.3)]
    out = ag.sum(model(x))
    from autograd.compile.trace import _Trace

    trace = _Trace(out, x, ["x0", "x1", "x2"], [], model.parameters(), [], [], None)
    order, groups, _, _ = lift(program(trace))
    kinds = [type(u).__name__ for u in order if type(u) in (Layer, Map)]
    assert kinds == ["Layer", "Map", "Layer"]
    assert [len(u.members) for u in order if type(u) in (Layer, Map)] == [4, 4, 2]


def test_nothing_to_lift_keeps_one_array_per_node():
    """No dot with parameter weights: the per-node NumPy code, as before."""
    w = ag.parameter(0.3)
    g = ag.compile(lambda x: ag.tanh(w * x), params=[w], batch="numpy")
    w.grad = 0.0
    g([0.1, 0.2, 0.3])
    assert "@" not in g.source
    assert w.grad == pytest.approx(sum((1 - math.tanh(0.3 * x) ** 2) * x for x in (0.1, 0.2, 0.3)) / 3)


# ---- hypothesis-drawn programs with layers in them --------------------------------------------
UNARY = {
    "tanh": ag.tanh,
    "relu": ag.relu,
    "sigmoid": ag.sigmoid,
    "square": lambda v: v * v,
    "scale": lambda v: v * 0.5 - 0.25,
}


@st.composite
def layered_programs(draw):
    """A recipe: inputs, then steps that add layers (dots over a drawn vector of earlier values, with
    parameter weights, maybe a tied one, maybe a bias), elementwise ops over the newest group, or
    a scalar op of two earlier values; the loss sums a few values, maybe after a branch."""
    n_inputs = draw(st.integers(1, 4))
    steps, size = [], n_inputs
    groups = [list(range(n_inputs))]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["layer", "layer", "map", "scalar"]))
        if kind == "layer":
            xs = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=4))
            width = draw(st.integers(1, 4))
            bias = draw(st.booleans())
            tie = draw(st.booleans())
            steps.append(("layer", xs, width, bias, tie))
            groups.append(list(range(size, size + width)))
            size += width
        elif kind == "map":
            op = draw(st.sampled_from(sorted(UNARY)))
            steps.append(("map", op, groups[-1]))
            groups.append(list(range(size, size + len(groups[-1]))))
            size += len(groups[-1])
        else:
            a, b = draw(st.integers(0, size - 1)), draw(st.integers(0, size - 1))
            steps.append(("scalar", draw(st.sampled_from(["+", "*", "-"])), a, b))
            size += 1
    outs = [size - 1, *draw(st.lists(st.integers(0, size - 1), max_size=2))]  # the newest value, and others
    branch = draw(st.booleans())
    return n_inputs, steps, outs, branch, draw(st.integers(0, 2**16))


def _build(recipe):
    n_inputs, steps, outs, branch, seed = recipe
    rng = random.Random(seed)
    params, leaves = [], []
    shapes = []
    for step in steps:
        if step[0] == "layer":
            _, xs, width, bias, tie = step
            W = [[ag.parameter(rng.gauss(0, 0.7)) for _ in xs] for _ in range(width)]
            if tie and width > 1:
                W[-1][0] = W[0][0]
            b = [ag.parameter(rng.gauss(0, 0.5)) for _ in range(width)] if bias else None
            shapes.append((W, b))
            for row in W:
                params.extend(p for p in row if p not in params)
            params.extend(b or [])
        else:
            shapes.append(None)
    scale = ag.Value(0.75)  # a leaf f reads but nobody trains
    leaves.append(scale)

    def f(*x):
        vals = list(x)
        for step, shape in zip(steps, shapes):
            if step[0] == "layer":
                W, b = shape
                xs = [vals[i] for i in step[1]]
                vals += [ag.dot(row, xs) if b is None else ag.dot(row, xs, bias=b[k]) for k, row in enumerate(W)]
            elif step[0] == "map":
                vals += [UNARY[step[1]](vals[i]) for i in step[2]]
            else:
                a, c = vals[step[2]], vals[step[3]]
                vals.append(a + c if step[1] == "+" else a * c if step[1] == "*" else a - c)
        total = ag.sum([vals[i] for i in outs]) * scale
        if branch:
            total = total * 2.0 if total > 0 else -total  # a guard: per-example outcomes may differ
        return total

    return f, params, n_inputs


@settings(max_examples=120, deadline=None)
@given(layered_programs(), st.integers(1, 6), st.integers(0, 2**16))
def test_lifted_programs_equal_eager(recipe, m, data_seed):
    """Drawn programs with layers, shared and tied weights, elementwise groups, scalar ops and a
    branch: the NumPy batch (lifted where layers are found) equals eager backward() to 1e-10."""
    f, params, n_inputs = _build(recipe)
    rng = random.Random(data_seed)
    X = [[rng.gauss(0, 1) for _ in range(n_inputs)] for _ in range(m)]
    for p in params:
        p.grad = 0.0
    J = ag.mean([f(*x) for x in X])
    J.backward()
    want = [p.grad for p in params]
    g = ag.compile(f, params=params, batch="numpy")
    for _ in range(2):  # the call that traces, and one that runs the written code only
        for p in params:
            p.grad = 0.0
        value, _ = g(*zip(*X))
        assert math.isclose(value, J.data, rel_tol=1e-10, abs_tol=1e-12)
        got = [p.grad for p in params]
        assert all(math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-12) for a, b in zip(got, want)), (g.source, got, want)
