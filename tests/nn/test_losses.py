"""nn.losses: each loss and its gradient against its closed form (by hand and nn.reference),
stability at large logits, how few nodes a batch costs, and the errors for bad batches."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from autograd.engine import topological_order
from nn import losses, reference


def values(xs):
    return [Value(x) for x in xs]


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# ---- by hand ----------------------------------------------------------------------------------
def test_binary_cross_entropy_and_its_gradient_by_hand():
    p = values([0.9, 0.2, 0.6, 0.5])
    y = [1.0, 0.0, 1.0, 0.25]
    J = losses.binary_cross_entropy(p, y)
    J.backward()
    m = 4
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.6) + 0.25 * math.log(0.5) + 0.75 * math.log(0.5)) / m
    assert J.data == pytest.approx(expected, rel=1e-14)
    for pi, yi in zip(p, y):  # ∂J/∂p = (−y/p + (1 − y)/(1 − p)) / m
        assert pi.grad == pytest.approx((-yi / pi.data + (1 - yi) / (1 - pi.data)) / m, rel=1e-13)


def test_binary_cross_entropy_of_a_certain_right_answer_is_zero_not_nan():
    J = losses.binary_cross_entropy(values([1.0, 0.0]), [1.0, 0.0])
    assert J.data == 0.0


def test_bce_with_logits_and_its_gradient_by_hand():
    z = values([2.0, -1.0, 0.0, 0.5])
    y = [1.0, 0.0, 0.0, 0.3]
    J = losses.binary_cross_entropy_with_logits(z, y)
    J.backward()
    expected = sum(math.log1p(math.exp(zi.data)) - yi * zi.data for zi, yi in zip(z, y)) / 4
    assert J.data == pytest.approx(expected, rel=1e-14)
    for zi, yi in zip(z, y):  # ∂J/∂z = (σ(z) − y) / m
        assert zi.grad == pytest.approx((sigmoid(zi.data) - yi) / 4, rel=1e-13, abs=1e-16)


def test_bce_with_logits_equals_bce_of_the_sigmoid():
    z, y = [0.3, -2.0, 1.7], [1.0, 0.0, 0.6]
    a = losses.binary_cross_entropy_with_logits(values(z), y).data
    b = losses.binary_cross_entropy([Value(zi).sigmoid() for zi in z], y).data
    assert a == pytest.approx(b, rel=1e-13)


@pytest.mark.parametrize(
    "z, y, loss, grad",
    [
        (1000.0, 0.0, 1000.0, 1.0),
        (1000.0, 1.0, 0.0, 0.0),
        (-1000.0, 0.0, 0.0, 0.0),
        (-1000.0, 1.0, 1000.0, -1.0),
        (-30.0, 0.0, math.log1p(math.exp(-30.0)), sigmoid(-30.0)),
    ],
)
def test_bce_with_logits_is_stable_for_large_logits(z, y, loss, grad):
    zv = Value(z)
    J = losses.binary_cross_entropy_with_logits([zv], [y])
    J.backward()
    assert J.data == pytest.approx(loss, rel=1e-12, abs=1e-12)
    assert zv.grad == pytest.approx(grad, rel=1e-12, abs=1e-300)


def test_mse_and_its_gradient_by_hand_with_one_and_several_outputs():
    p = values([1.5, -0.5, 2.0])
    J = losses.mse(p, [1.0, 0.5, 2.0])
    J.backward()
    assert J.data == pytest.approx((0.25 + 1.0 + 0.0) / (2 * 3), rel=1e-15)
    assert [v.grad for v in p] == pytest.approx([0.5 / 3, -1.0 / 3, 0.0], rel=1e-15)
    rows = [values([1.0, 2.0]), values([0.0, -1.0])]  # m = 2 examples of 2 outputs each
    J = losses.mse(rows, [[0.0, 2.0], [1.0, 1.0]])
    assert J.data == pytest.approx((1.0 + 0.0 + 1.0 + 4.0) / (2 * 2), rel=1e-15)


def test_mse_takes_a_lone_scalar_as_a_batch_of_one():
    p = Value(3.0)
    J = losses.mse(p, 1.0)
    J.backward()
    assert (J.data, p.grad) == (2.0, 2.0)


def test_cross_entropy_and_its_gradient_by_hand():
    logits = [values([1.0, 2.0, 0.5]), values([0.0, -1.0, 3.0])]
    labels = [1, 0]
    J = losses.cross_entropy(logits, labels)
    J.backward()
    expected = 0.0
    for row, k in zip(logits, labels):
        zs = [v.data for v in row]
        lse = math.log(sum(math.exp(z) for z in zs))
        expected += (lse - zs[k]) / 2
        for j, v in enumerate(row):  # ∂J/∂z = (softmax(z) − onehot) / m
            assert v.grad == pytest.approx((math.exp(zs[j] - lse) - (j == k)) / 2, rel=1e-13)
    assert J.data == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_is_stable_for_large_logits_and_takes_integral_float_labels():
    row = values([1000.0, -1000.0, 0.0])
    J = losses.cross_entropy([row], [0.0])
    J.backward()
    assert J.data == pytest.approx(0.0, abs=1e-12)
    assert [v.grad for v in row] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert losses.cross_entropy([values([1000.0, -1000.0])], [1]).data == pytest.approx(2000.0)


def test_hinge_and_its_gradient_by_hand():
    s = values([0.5, -2.0, 3.0, 0.2])
    y = [1.0, -1.0, -1.0, -1.0]
    J = losses.hinge(s, y)
    J.backward()
    assert J.data == pytest.approx((0.5 + 0.0 + 4.0 + 1.2) / 4, rel=1e-15)
    assert [v.grad for v in s] == pytest.approx([-0.25, 0.0, 0.25, 0.25], rel=1e-15)


# ---- against nn.reference ------------------------------------------------------------------------
def reference_case(name, n_out, m, rng):
    A = rng.normal(size=(n_out, m))
    if name == "bce":
        A = 1.0 / (1.0 + np.exp(-A))
        Y = rng.random((n_out, m))
    elif name == "bce_with_logits":
        A = A * 10
        Y = rng.integers(0, 2, (n_out, m)).astype(float)
    elif name == "hinge":
        Y = rng.choice([-1.0, 1.0], (n_out, m))
    elif name == "cross_entropy":
        Y = rng.integers(0, n_out, m)
    else:
        Y = rng.normal(size=(n_out, m))
    return A, Y


@settings(max_examples=100)
@given(
    name=st.sampled_from(list(losses.LOSSES)), n_out=st.integers(1, 4), m=st.integers(1, 8), seed=st.integers(0, 10**6)
)
def test_every_loss_and_its_gradient_equal_nn_reference(name, n_out, m, seed):
    A, Y = reference_case(name, n_out, m, np.random.default_rng(seed))
    rows = [[Value(a) for a in A[:, j]] for j in range(m)]
    preds = [row[0] for row in rows] if n_out == 1 and name != "cross_entropy" else rows
    if name == "cross_entropy":
        targets = [int(k) for k in Y]
    else:
        targets = [float(Y[0, j]) if n_out == 1 else Y[:, j].tolist() for j in range(m)]
    J = losses.LOSSES[name](preds, targets)
    J.backward()
    assert J.data == pytest.approx(reference.loss(name, A, Y), rel=1e-12, abs=1e-14)
    # ∂J/∂A_L = dA / m, with reference's dA = ∂(m·J)/∂A_L
    expected = reference._dA(name, A, reference._check_targets(name, A, Y)) / m
    grads = np.array([[v.grad for v in row] for row in rows]).T
    np.testing.assert_allclose(grads, expected, rtol=1e-10, atol=1e-14)


# ---- a batch is a few fused nodes -----------------------------------------------------------------
@pytest.mark.parametrize(
    "name, per_example, extra",
    [
        ("bce_with_logits", 1, 1),
        ("cross_entropy", 1, 1),
        ("mse", 1, 2),
        ("hinge", 2, 2),
        ("bce", 2, 1),
    ],
)
def test_a_loss_over_m_examples_costs_about_one_node_per_example(name, per_example, extra):
    m = 50
    if name == "cross_entropy":
        preds, targets = [values([0.1 * i, -0.2, 0.3]) for i in range(m)], [i % 3 for i in range(m)]
    else:
        preds = [Value(0.01 * i - 0.2).sigmoid() for i in range(m)]
        targets = [float(i % 2) * 2 - 1 if name == "hinge" else float(i % 2) for i in range(m)]
    J = losses.LOSSES[name](preds, targets)
    made_by_loss = [v for v in topological_order(J) if v.parents and v.op != "sigmoid"]
    assert len(made_by_loss) <= per_example * m + extra


# ---- bad batches ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_mismatched_lengths_are_a_value_error(name):
    targets = [0, 1, 1] if name == "cross_entropy" else [1.0, -1.0, 1.0]
    preds = [values([0.1, 0.2])] * 2 if name == "cross_entropy" else values([0.3, 0.6])
    with pytest.raises(ValueError, match="2 .* but 3"):
        losses.LOSSES[name](preds, targets)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_an_empty_batch_is_a_value_error(name):
    with pytest.raises(ValueError, match="no examples"):
        losses.LOSSES[name]([], [])


@pytest.mark.parametrize(
    "labels, message",
    [
        ([3], r"label 0 is 3, outside \[0, 3\)"),
        ([-1], "outside"),
        ([1.5], "integer class id"),
        ([True], "integer class id"),
    ],
)
def test_a_cross_entropy_label_out_of_range_or_not_an_integer_is_a_value_error(labels, message):
    with pytest.raises(ValueError, match=message):
        losses.cross_entropy([values([0.1, 0.2, 0.3])], labels)


@pytest.mark.parametrize(
    "fn, targets, message",
    [
        (losses.hinge, [0.0], "-1 or \\+1"),
        (losses.binary_cross_entropy, [1.5], r"\[0, 1\]"),
        (losses.binary_cross_entropy_with_logits, [-1.0], r"\[0, 1\]"),
        (losses.mse, ["1.0"], "must be numbers"),
        (losses.mse, [Value(1.0)], "got a Value"),
    ],
)
def test_targets_outside_a_loss_domain_are_rejected(fn, targets, message):
    with pytest.raises((ValueError, TypeError), match=message):
        fn(values([0.5]), targets)


def test_an_example_with_a_different_number_of_outputs_and_targets_is_a_value_error():
    with pytest.raises(ValueError, match="example 1 has 2 outputs but 3 targets"):
        losses.mse([values([1.0, 2.0]), values([1.0, 2.0])], [[1.0, 2.0], [1.0, 2.0, 3.0]])


def test_get_finds_a_loss_by_its_reference_name_and_lists_the_valid_ones_otherwise():
    assert losses.get("bce_with_logits") is losses.binary_cross_entropy_with_logits
    assert set(losses.LOSSES) == set(reference.LOSSES)
    with pytest.raises(ValueError, match="valid names are bce, bce_with_logits, mse, cross_entropy, hinge"):
        losses.get("nll")
