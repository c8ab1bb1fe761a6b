"""Edges where IEEE leaves a choice: each one as PyTorch float64 decides it, or better where documented.

Every expected number is written here, so the tests mean something without PyTorch; where
PyTorch is installed the same cases are also computed with it and compared.
"""

import itertools
import math
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value

nan, inf = math.nan, math.inf


def same(a: float, b: float, rel: float = 0.0) -> bool:
    """Equal as PyTorch would print them: nan equals nan, and the sign of a zero or inf counts."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return math.copysign(1.0, a) == math.copysign(1.0, b)
    return abs(a - b) <= rel * abs(b)


def same_grad(a: float, b: float, rel: float = 0.0) -> bool:
    """`same`, but −0 equals +0: a leaf's grad starts at +0 and accumulates, so a gradient of −0
    reads +0 (PyTorch assigns the first gradient instead)."""
    return (a == 0.0 and b == 0.0) or same(a, b, rel)


def grads(f, *xs):
    """(value, [∂f/∂xᵢ]) by backward."""
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def torch_grads(f, *xs):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


# ---- pow at base 0: the derivative rules mask as PyTorch's do ------------------------------------
# case, f (the same code runs on Values and on tensors), point, value, gradients
POW_EDGES = [
    ("x**0 at x = 0", lambda x: x**0, (0.0,), 1.0, [0.0]),
    ("x**y at (0, 0)", lambda x, y: x**y, (0.0, 0.0), 1.0, [0.0, 0.0]),
    ("0**y at y = 0", lambda y: 0.0**y, (0.0,), 1.0, [0.0]),
    ("0**y at y = 2", lambda y: 0.0**y, (2.0,), 0.0, [0.0]),
    ("0**y at y = -1", lambda y: 0.0**y, (-1.0,), inf, [-inf]),
    ("x**y at (0, 0.5)", lambda x, y: x**y, (0.0, 0.5), 0.0, [inf, 0.0]),
    ("x**y at (0, -1)", lambda x, y: x**y, (0.0, -1.0), inf, [-inf, -inf]),
    ("x**y at (-0.0, 2)", lambda x, y: x**y, (-0.0, 2.0), 0.0, [-0.0, 0.0]),
    ("x**y at (nan, 0)", lambda x, y: x**y, (nan, 0.0), 1.0, [0.0, nan]),
    ("x**y at (-3, 2): log of a negative base", lambda x, y: x**y, (-3.0, 2.0), 9.0, [-6.0, nan]),
    ("x**y at (inf, -1)", lambda x, y: x**y, (inf, -1.0), 0.0, [-0.0, nan]),
]


@pytest.mark.parametrize("case, f, point, value, expected", POW_EDGES, ids=[c[0] for c in POW_EDGES])
def test_pow_derivatives_at_base_zero_are_masked_as_in_pytorch(case, f, point, value, expected):
    got_value, got = grads(f, *point)
    assert same(got_value, value)
    assert all(same_grad(g, e) for g, e in zip(got, expected)), (case, got, expected)


@pytest.mark.parametrize("case, f, point, value, expected", POW_EDGES, ids=[c[0] for c in POW_EDGES])
def test_pow_edges_equal_pytorch_float64(case, f, point, value, expected):
    torch_value, torch_got = torch_grads(f, *point)
    assert same(torch_value, value) and all(same_grad(g, e) for g, e in zip(torch_got, expected))


# ---- relu: nan propagates in value; a cut-off branch passes nothing ---------------------------------
MASKED = [
    ("sqrt(relu(x)) at -1", lambda x: x.relu().sqrt(), -1.0, 0.0, 0.0),
    ("log(relu(x)) at -1", lambda x: x.relu().log(), -1.0, -inf, 0.0),
    ("relu(x)**0.5 at -1", lambda x: x.relu() ** 0.5, -1.0, 0.0, 0.0),
    ("relu(x) at nan", lambda x: x.relu(), nan, nan, 1.0),
    ("relu(x) at -0.0", lambda x: x.relu(), -0.0, -0.0, 0.0),
    ("1/relu(x) at 0", lambda x: 1.0 / x.relu(), 0.0, inf, 0.0),
    # not piecewise: IEEE's inf·0 = nan flows on, in PyTorch too
    ("log(x*0) at 1", lambda x: (x * 0.0).log(), 1.0, -inf, nan),
    ("sqrt(x*0) at 1", lambda x: (x * 0.0).sqrt(), 1.0, 0.0, nan),
    ("sqrt(x**2) at 0", lambda x: (x**2).sqrt(), 0.0, 0.0, nan),
    ("sqrt(abs(x)) at 0: abs is sign(x)·grad, not a mask", lambda x: abs(x).sqrt(), 0.0, 0.0, nan),
    ("abs(x) at nan", lambda x: abs(x), nan, nan, 0.0),
]


@pytest.mark.parametrize("case, f, x, value, expected", MASKED, ids=[c[0] for c in MASKED])
def test_a_cut_off_branch_passes_nothing_while_arithmetic_keeps_inf_times_zero(case, f, x, value, expected):
    got_value, (got,) = grads(f, x)
    assert same(got_value, value) and same_grad(got, expected), (case, got_value, got)


@pytest.mark.parametrize("case, f, x, value, expected", MASKED, ids=[c[0] for c in MASKED])
def test_masked_and_unmasked_edges_equal_pytorch_float64(case, f, x, value, expected):
    torch_value, (torch_got,) = torch_grads(f, x)
    assert same(torch_value, value) and same_grad(torch_got, expected), (case, torch_value, torch_got)


def test_pow_is_no_mask_so_its_masked_zero_meets_an_inf_gradient_as_nan_where_pytorch_gives_0():
    # the one documented difference at pow's edges (docs/edge-policy.md): x**0 = 1, log(1 − 1) = −inf
    value, (g,) = grads(lambda x: (x**0 - 1.0).log(), 2.0)
    assert value == -inf and math.isnan(g)
    torch_value, (torch_g,) = torch_grads(lambda x: (x**0 - 1.0).log(), 2.0)
    assert torch_value == -inf and torch_g == 0.0


def test_relu_of_nan_is_nan():
    assert math.isnan(Value(nan).relu().data)
    assert math.isnan(ag.relu(nan))


def test_relu_masks_an_infinite_incoming_gradient_but_mul_by_zero_does_not():
    x = Value(-1.0)
    (x.relu() * inf).backward()  # incoming inf, local derivative 0: nothing passes
    assert x.grad == 0.0
    y = Value(1.0)
    ((y * 0.0) * inf).backward()  # mul's derivative 0 is a number, not a branch: inf·0 = nan
    assert math.isnan(y.grad)


def test_masked_relu_keeps_second_derivatives():
    assert ag.grad(ag.grad(lambda x: x.relu() * x.relu()))(2.0) == 2.0
    assert ag.grad(ag.grad(lambda x: x.relu() * x.relu()))(-2.0) == 0.0


def test_a_primitive_declared_masking_passes_nothing_through_a_zero_partial():
    step = ag.primitive("step_up", derivative=lambda ans, x: 0.0 if x < 0 else 1.0, masks=True)(
        lambda x: 0.0 if x < 0 else x
    )
    plain = ag.primitive("step_plain", derivative=lambda ans, x: 0.0 if x < 0 else 1.0)(lambda x: 0.0 if x < 0 else x)
    assert step.masks and not plain.masks
    x = Value(-1.0)
    step(x).log().backward()
    assert x.grad == 0.0
    x = Value(-1.0)
    plain(x).log().backward()
    assert math.isnan(x.grad)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -3.0, 2.0, inf, -inf, nan, 1e-310, 800.0, -800.0]
UNARY = ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "neg", "abs"]
BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def _unary(name):
    if name == "neg":
        return lambda v: -v
    if name == "abs":
        return abs
    return lambda v: getattr(v, name)()


@pytest.mark.parametrize("name", UNARY)
def test_every_unary_op_at_special_points_equals_pytorch_value_and_gradient(name):
    torch = pytest.importorskip("torch")
    f = _unary(name)
    tf = {
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "sin": torch.sin,
        "cos": torch.cos,
        "neg": torch.neg,
        "abs": torch.abs,
    }[name]
    for x in SPECIAL:
        value, (g,) = grads(f, x)
        torch_value, (torch_g,) = torch_grads(tf, x)
        assert same(value, torch_value, 1e-15) and same_grad(g, torch_g, 1e-14), (name, x, value, torch_value, g)


@pytest.mark.parametrize("name", BINARY)
def test_every_binary_op_at_special_points_equals_pytorch_value_and_gradients(name):
    f = BINARY[name]
    for a, b in itertools.product(SPECIAL, repeat=2):
        value, got = grads(f, a, b)
        torch_value, torch_got = torch_grads(f, a, b)
        assert same(value, torch_value) and all(map(same_grad, got, torch_got)), (name, a, b, value, got, torch_got)


# ---- softmax: exp(x − max) / Σ, with the fused backward sᵢ(δᵢⱼ − sⱼ) ---------------------------------
def _exact_terms(xs):
    """exp(xⱼ − max x) of the given floats in 50-digit decimals (below e^-2000: 0, far under an ulp)."""
    with localcontext() as ctx:
        ctx.prec = 50
        m = max(Decimal(x) for x in xs)
        return [(Decimal(x) - m).exp() if Decimal(x) - m > -2000 else Decimal(0) for x in xs]


def _exact_softmax(xs):
    terms = _exact_terms(xs)
    with localcontext() as ctx:
        ctx.prec = 50
        total = sum(terms)
        return [t / total for t in terms]


def _exact_softmax_jacobian(xs):
    """∂sᵢ/∂xⱼ = sᵢ(δᵢⱼ − sⱼ) in 50 digits, with 1 − sᵢ summed from the other terms (no cancellation)."""
    terms = _exact_terms(xs)
    with localcontext() as ctx:
        ctx.prec = 50
        total = sum(terms)
        s = [t / total for t in terms]
        rest = [sum(terms[:i] + terms[i + 1 :]) / total for i in range(len(terms))]
        return [[s[i] * rest[i] if i == j else -s[i] * s[j] for j in range(len(xs))] for i in range(len(xs))]


def _ulps(got: float, exact: Decimal) -> float:
    return float(abs(Decimal(got) - exact) / Decimal(math.ulp(float(exact))))


def test_softmax_of_two_equal_huge_inputs_is_exactly_one_half():
    assert ag.softmax([Value(1e9), Value(1e9)])[0].data == 0.5
    assert ag.softmax([Value(-1e9), Value(-1e9)])[1].data == 0.5
    assert ag.softmax([1e3, 1e3]) == [0.5, 0.5]


@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=6), st.sampled_from([1.0, 1e3, 1e6]))
def test_softmax_values_are_within_three_ulps_of_the_exact_ones_at_any_scale(xs, spread):
    # measured on 20,000 random inputs up to 1e9: 95% within 1 ulp, the worst 2.4 ulps (the old
    # exp(x − logsumexp) was off by eps·|x|: 5e8 ulps at 1e9)
    xs = [x / spread for x in xs]
    exact = _exact_softmax(xs)
    got = [s.data for s in ag.softmax([Value(x) for x in xs])]
    for g, e in zip(got, exact):
        assert e == 0 and g < 1e-300 or _ulps(g, e) <= 3.0, (xs, got, exact)


def test_softmax_of_far_apart_inputs_recovers_the_rounding_of_the_shift():
    xs = [100.3, 400.7]  # x₀ − x₁ is rounded in floats; exp(x₀ − x₁) alone would be 98 ulps off
    exact = _exact_softmax(xs)
    for g, e in zip(ag.softmax(xs), exact):
        assert _ulps(g, e) <= 1.0


@pytest.mark.parametrize("base", [0.0, 1e3, 1e6, 1e9, -1e9])
@pytest.mark.parametrize("gap", [1.0, 30.0, 700.0])
def test_saturated_softmax_gradients_are_within_1e_12_of_the_exact_ones(base, gap):
    xs = [base, base - gap, base - gap / 2]  # integers and halves: exact in floats at these sizes
    jacobian = _exact_softmax_jacobian(xs)
    for i in range(3):
        vs = [Value(x) for x in xs]
        ag.softmax(vs)[i].backward()
        for j, v in enumerate(vs):
            want = jacobian[i][j]
            if abs(want) < Decimal("1e-300"):  # below the normal floats: nothing to compare digits with
                assert abs(v.grad) < 1e-300
            else:
                assert abs(Decimal(v.grad) - want) <= Decimal(1e-12) * abs(want), (i, j, v.grad, want)


@pytest.mark.parametrize("base", [0.0, 1e6, 1e9])
def test_logsumexp_gradient_is_the_exact_softmax_at_any_scale(base):
    xs = [base, base - 30.0]
    exact = _exact_softmax(xs)
    vs = [Value(x) for x in xs]
    ag.logsumexp(vs).backward()
    for v, e in zip(vs, exact):
        assert abs(Decimal(v.grad) - e) <= Decimal(1e-15) * e


def test_softmax_is_one_node_per_output_over_every_input():
    xs = [Value(0.1), Value(2.0), Value(-1.0)]
    out = ag.softmax(xs)
    assert [s.op for s in out] == ["softmax"] * 3
    assert all(s.parents == tuple(xs) for s in out)


def test_softmax_second_derivatives_match_finite_differences():
    assert ag.gradcheck(lambda a, b, c: ag.softmax([a, b, c])[1] * 3.0, 0.3, -1.2, 2.0, order=2)
    assert ag.gradcheck(lambda a, b: ag.logsumexp([a, b]), 0.3, -1.2, order=2)


SOFTMAX_POINTS = [
    (0.0, 2.0),
    (1e9, 1e9),
    (-1e9, 1e9),
    (0.0, 745.0),
    (inf, 1.0),
    (-inf, -inf),
    (-inf, 0.0),
    (nan, 1.0),
    (1.0, nan),
    (inf, nan),
]


@pytest.mark.parametrize("xs", SOFTMAX_POINTS)
def test_softmax_and_logsumexp_at_edges_equal_pytorch(xs):
    torch = pytest.importorskip("torch")
    t = torch.tensor(xs, dtype=torch.float64)
    assert all(map(same, ag.softmax(list(xs)), torch.softmax(t, 0).tolist()))
    assert same(ag.logsumexp(list(xs)), torch.logsumexp(t, 0).item())


def test_softmax_and_logsumexp_at_non_finite_inputs():
    assert all(math.isnan(s) for s in ag.softmax([inf, 1.0]))  # exp(inf − inf) is nan, and so is the sum
    assert ag.softmax([-inf, 0.0]) == [0.0, 1.0]
    assert all(math.isnan(s) for s in ag.softmax([1.0, nan]))
    assert math.isnan(ag.logsumexp([inf, nan]))  # not inf: a nan anywhere makes the sum nan
    assert ag.logsumexp([-inf, -inf]) == -inf


# ---- log softmax and cross-entropy: exact where the label's probability is near 1 ------------------
def _exact_log_softmax(xs, k):
    terms = _exact_terms(xs)
    with localcontext() as ctx:
        ctx.prec = 50
        m = max(Decimal(x) for x in xs)
        return (Decimal(xs[k]) - m) - sum(terms).ln()


@pytest.mark.parametrize(
    "xs, k",
    [
        ([0.0, -30.0], 0),
        ([1e9, 1e9 - 30.0], 0),
        ([1e9, 1e9 - 1.0], 1),
        ([2.0, -1.0, 0.5], 2),
        ([-1e9, 1e9], 0),
        ([100.3, 400.7], 0),
    ],
)
def test_log_softmax_is_exact_at_any_scale_and_at_saturation(xs, k):
    exact = _exact_log_softmax(xs, k)
    got = ag.log_softmax(xs, k)
    assert got == ag.log_softmax(xs)[k]
    assert abs(Decimal(got) - exact) <= Decimal(4e-16) * abs(exact), (got, exact)


def test_cross_entropy_keeps_the_digits_of_a_tiny_loss_and_of_its_gradient():
    from nn.losses import cross_entropy

    z = [Value(1e9), Value(1e9 - 30.0)]
    loss = cross_entropy([z], [0])
    loss.backward()
    rest = Decimal(-30).exp()
    with localcontext() as ctx:
        ctx.prec = 50
        exact_loss = (1 + rest).ln()  # log1p(e^-30)
        s1 = rest / (1 + rest)
    assert abs(Decimal(loss.data) - exact_loss) <= Decimal(1e-15) * exact_loss
    assert abs(Decimal(z[0].grad) + s1) <= Decimal(1e-15) * s1  # −(1 − s₀), summed as −s₁
    assert abs(Decimal(z[1].grad) - s1) <= Decimal(1e-15) * s1


def test_cross_entropy_and_log_softmax_equal_pytorch_where_pytorch_is_exact():
    torch = pytest.importorskip("torch")
    from nn.losses import cross_entropy

    rows, labels = [[0.3, -1.2, 2.0], [5.0, 5.0, -3.0], [-0.5, 0.25, 0.0]], [2, 0, 1]
    zs = [[Value(x) for x in row] for row in rows]
    loss = cross_entropy(zs, labels)
    loss.backward()
    t = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(t, torch.tensor(labels))
    tl.backward()
    assert loss.data == pytest.approx(tl.item(), rel=1e-15)
    np_grads = [[v.grad for v in row] for row in zs]
    for got_row, want_row in zip(np_grads, t.grad.tolist()):
        assert got_row == pytest.approx(want_row, rel=1e-14, abs=1e-16)
    for xs in ([float("inf"), 1.0], [-float("inf"), 0.0], [1.0, float("nan")]):
        want = torch.log_softmax(torch.tensor(xs, dtype=torch.float64), 0).tolist()
        assert all(map(same, ag.log_softmax(xs), want)), (xs, ag.log_softmax(xs), want)


def test_log_softmax_second_derivatives_match_finite_differences():
    assert ag.gradcheck(lambda a, b, c: ag.log_softmax([a, b, c], 1), 0.3, -1.2, 2.0, order=2)


def test_log_softmax_index_is_checked():
    with pytest.raises(ValueError, match="index"):
        ag.log_softmax([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="index"):
        ag.log_softmax([1.0, 2.0], True)
