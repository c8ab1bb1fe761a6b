"""nn.reference: the vectorized closed forms checked against central finite differences."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nn import reference as ref
from nn.reference import ACTIVATIONS, LOSSES, activation, activation_derivative, backward, forward, loss

H = 1e-6  # central-difference step
RTOL, ATOL = 1e-6, 1e-8
KINK_MARGIN = 1e-4  # stay this far from the kinks of relu (Z = 0) and hinge (1 − Y Z = 0)


def numerical_gradients(Ws, bs, activations, X, Y, loss_name):
    """(J(θ + h) − J(θ − h)) / 2h for every entry of every W and b, float64."""

    def J():
        return loss(loss_name, forward(Ws, bs, activations, X)[1][-1], Y)

    grads = []
    for params in (Ws, bs):
        layer_grads = []
        for P in params:
            G = np.zeros_like(P)
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + H
                up = J()
                P[idx] = old - H
                down = J()
                P[idx] = old
                G[idx] = (up - down) / (2 * H)
            layer_grads.append(G)
        grads.append(layer_grads)
    return grads


def make_targets(loss_name, n_L, m, rng):
    if loss_name in ("bce", "bce_with_logits"):
        return rng.integers(0, 2, size=(n_L, m)).astype(float)
    if loss_name == "mse":
        return rng.normal(size=(n_L, m))
    if loss_name == "hinge":
        return rng.choice([-1.0, 1.0], size=(n_L, m))
    labels = rng.integers(0, n_L, size=m)
    return labels if rng.random() < 0.5 else np.eye(n_L)[:, labels]


def make_network(seed, depth, m, loss_name, hidden, output):
    """Random float64 network and data; for bce with a non-sigmoid output, A_L is kept in (0, 1)."""
    rng = np.random.default_rng(seed)
    n_out = int(rng.integers(2, 5)) if loss_name == "cross_entropy" else int(rng.integers(1, 4))
    sizes = [int(rng.integers(1, 5)) for _ in range(depth)] + [n_out]
    Ws = [rng.normal(size=(sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]) for i in range(depth)]
    bs = [rng.normal(size=(sizes[i + 1], 1)) for i in range(depth)]
    X = rng.normal(size=(sizes[0], m))
    activations = [hidden] * (depth - 1) + [output]
    if loss_name == "bce" and output != "sigmoid":
        # A_L = g(Z_L) must be a probability: squeeze Z_L into [0.2, 0.8].
        A_prev = forward(Ws, bs, activations, X)[1][-2]
        Ws[-1] *= 0.3 / (np.abs(Ws[-1] @ A_prev).max() + 1e-12)
        bs[-1][:] = 0.5
    return Ws, bs, activations, X, make_targets(loss_name, n_out, m, rng)


def well_conditioned(Ws, bs, activations, X, Y, loss_name):
    """Away from the kinks, and for bce away from A = 0 or 1 where log(1 − A) loses digits."""
    Zs, As = forward(Ws, bs, activations, X)
    if loss_name == "bce" and np.abs(As[-1] - 0.5).max() > 0.5 - 1e-3:
        return False
    for Z, g in zip(Zs, activations):
        if g == "relu" and np.abs(Z).min() < KINK_MARGIN:
            return False
    if loss_name == "hinge" and np.abs(1 - Y * As[-1]).min() < KINK_MARGIN:
        return False
    return True


@pytest.mark.parametrize("output", ACTIVATIONS)
@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize("loss_name", LOSSES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 4), m=st.integers(1, 8))
def test_backward_matches_finite_differences(loss_name, hidden, output, seed, depth, m):
    """dW, db from the closed forms equal central differences of loss(forward(...)), any depth."""
    Ws, bs, activations, X, Y = make_network(seed, depth, m, loss_name, hidden, output)
    assume(well_conditioned(Ws, bs, activations, X, Y, loss_name))
    dWs, dbs = backward(Ws, bs, activations, X, Y, loss_name)
    num_dWs, num_dbs = numerical_gradients(Ws, bs, activations, X, Y, loss_name)
    for dW, num in zip(dWs + dbs, num_dWs + num_dbs):
        np.testing.assert_allclose(dW, num, rtol=RTOL, atol=ATOL)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 4), m=st.integers(1, 8))
def test_gradients_have_the_shapes_of_the_parameters(seed, depth, m):
    Ws, bs, activations, X, Y = make_network(seed, depth, m, "mse", "tanh", "linear")
    Zs, As = forward(Ws, bs, activations, X)
    dWs, dbs = backward(Ws, bs, activations, X, Y, "mse")
    assert [dW.shape for dW in dWs] == [W.shape for W in Ws]
    assert [db.shape for db in dbs] == [b.shape for b in bs]
    assert [Z.shape for Z in Zs] == [(W.shape[0], m) for W in Ws]
    assert len(As) == depth + 1 and np.array_equal(As[0], X)


def test_backward_mixes_activations_per_layer():
    """One activation per layer, all four in one net, against finite differences."""
    Ws, bs, _, X, Y = make_network(7, 4, 5, "cross_entropy", "tanh", "linear")
    activations = ["relu", "sigmoid", "tanh", "linear"]
    assert well_conditioned(Ws, bs, activations, X, Y, "cross_entropy")
    dWs, dbs = backward(Ws, bs, activations, X, Y, "cross_entropy")
    num_dWs, num_dbs = numerical_gradients(Ws, bs, activations, X, Y, "cross_entropy")
    for dW, num in zip(dWs + dbs, num_dWs + num_dbs):
        np.testing.assert_allclose(dW, num, rtol=RTOL, atol=ATOL)


def test_dW_matches_the_two_layer_formulas_line_by_line():
    """dz² = a² − Y, dW² = (1/m) dz² a¹ᵀ, dz¹ = W²ᵀ dz² ∗ f'(z¹), dW¹ = (1/m) dz¹ xᵀ."""
    Ws, bs, activations, X, Y = make_network(3, 2, 6, "bce", "tanh", "sigmoid")
    (z1, z2), (_, a1, a2) = forward(Ws, bs, activations, X)
    m = X.shape[1]
    dz2 = a2 - Y
    dz1 = Ws[1].T @ dz2 * (1 - np.tanh(z1) ** 2)
    dWs, dbs = backward(Ws, bs, activations, X, Y, "bce")
    np.testing.assert_allclose(dWs[1], dz2 @ a1.T / m, rtol=1e-12)
    np.testing.assert_allclose(dbs[1], dz2.sum(axis=1, keepdims=True) / m, rtol=1e-12)
    np.testing.assert_allclose(dWs[0], dz1 @ X.T / m, rtol=1e-12)
    np.testing.assert_allclose(dbs[0], dz1.sum(axis=1, keepdims=True) / m, rtol=1e-12)


def test_dW3_of_a_three_layer_bce_net_is_the_per_example_sum():
    """∂J/∂W³ = −(1/m) Σ (y − a³) a²ᵀ, summed example by example."""
    Ws, bs, activations, X, Y = make_network(11, 3, 7, "bce", "sigmoid", "sigmoid")
    _, As = forward(Ws, bs, activations, X)
    a2, a3 = As[2], As[3]
    m = X.shape[1]
    expected = -sum(np.outer(Y[:, i] - a3[:, i], a2[:, i]) for i in range(m)) / m
    np.testing.assert_allclose(backward(Ws, bs, activations, X, Y, "bce")[0][2], expected, rtol=1e-12)


def test_bce_shortcut_equals_general_rule_for_sigmoid_output():
    """A − Y equals dA ∗ σ'(Z) with dA = −Y/A + (1−Y)/(1−A): σ' = A(1−A) cancels the denominators."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2, 5))
    Y = rng.integers(0, 2, size=(2, 5)).astype(float)
    A = activation("sigmoid", Z)
    general = (-Y / A + (1 - Y) / (1 - A)) * activation_derivative("sigmoid", Z)
    np.testing.assert_allclose(A - Y, general, rtol=1e-10, atol=1e-12)


def test_slipped_plus_g_prime_formula_disagrees_with_finite_differences():
    """dz¹ = W²ᵀ dz² + g'(z¹) (the slip) fails the gradient check; ∗ passes it."""
    Ws, bs, activations, X, Y = make_network(5, 2, 6, "bce", "sigmoid", "sigmoid")
    num_dWs, num_dbs = numerical_gradients(Ws, bs, activations, X, Y, "bce")
    dWs, dbs = backward(Ws, bs, activations, X, Y, "bce")
    bad_dWs, bad_dbs = ref.slipped_backward_plus(Ws, bs, activations, X, Y, "bce")
    np.testing.assert_allclose(dWs[0], num_dWs[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dbs[0], num_dbs[0], rtol=RTOL, atol=ATOL)
    assert not np.allclose(bad_dWs[0], num_dWs[0], rtol=1e-3, atol=1e-3)
    assert not np.allclose(bad_dbs[0], num_dbs[0], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(bad_dWs[1], dWs[1], rtol=1e-12)  # the slip is only in layer 1


def test_slipped_backward_plus_rejects_other_depths():
    Ws, bs, activations, X, Y = make_network(0, 3, 4, "bce", "sigmoid", "sigmoid")
    with pytest.raises(ValueError, match="2-layer"):
        ref.slipped_backward_plus(Ws, bs, activations, X, Y)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 8))
def test_linear_network_collapses_to_one_affine_map(seed, m):
    """With g(z) = z, a³ = W³W²W¹x + b̃ = W̃x + b̃, b̃ = W³W²b¹ + W³b² + b³."""
    Ws, bs, _, X, _ = make_network(seed, 3, m, "mse", "linear", "linear")
    (W1, W2, W3), (b1, b2, b3) = Ws, bs
    W_tilde = W3 @ W2 @ W1
    b_tilde = W3 @ W2 @ b1 + W3 @ b2 + b3
    A3 = forward(Ws, bs, ["linear"] * 3, X)[1][-1]
    np.testing.assert_allclose(A3, W_tilde @ X + b_tilde, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivative_matches_finite_differences(name):
    Z = np.array([[-3.0, -0.7, -0.2, 0.3, 0.9, 2.5]])
    numeric = (activation(name, Z + H) - activation(name, Z - H)) / (2 * H)
    np.testing.assert_allclose(activation_derivative(name, Z), numeric, rtol=1e-7, atol=1e-9)


def test_activation_values_and_relu_derivative_at_zero():
    Z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(activation("sigmoid", Z), 1 / (1 + np.exp(-Z)))
    np.testing.assert_allclose(activation("relu", Z), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(activation_derivative("relu", Z), [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(activation_derivative("linear", Z), [[1.0, 1.0, 1.0]])


def test_sigmoid_does_not_overflow_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_allclose(activation("sigmoid", np.array([[-800.0, 800.0]])), [[0.0, 1.0]])


def test_loss_values_match_their_formulas():
    A = np.array([[0.2, 0.9, 0.6]])
    Y = np.array([[0.0, 1.0, 1.0]])
    m = 3
    assert loss("bce", A, Y) == pytest.approx(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
    assert loss("mse", A, Y) == pytest.approx(np.sum((A - Y) ** 2) / (2 * m))
    Z = np.array([[2.0, -0.5, 0.3]])
    assert loss("bce_with_logits", Z, Y) == pytest.approx(loss("bce", 1 / (1 + np.exp(-Z)), Y))
    T = np.array([[1.0, -1.0, 1.0]])
    assert loss("hinge", Z, T) == pytest.approx((0 + 0.5 + 0.7) / m)


def test_cross_entropy_accepts_integer_labels_or_one_hot():
    Z = np.array([[1.0, 0.0, -1.0, 2.0], [0.5, 0.5, 3.0, -2.0], [0.0, 1.0, 0.0, 0.0]])
    labels = np.array([0, 2, 1, 0])
    onehot = np.eye(3)[:, labels]
    softmax = np.exp(Z) / np.exp(Z).sum(axis=0)
    expected = -np.mean(np.log(softmax[labels, np.arange(4)]))
    assert loss("cross_entropy", Z, labels) == pytest.approx(expected)
    assert loss("cross_entropy", Z, onehot) == pytest.approx(expected)


def test_hinge_gradient_is_zero_at_the_kink():
    """At 1 − y z = 0 the subgradient used is 0."""
    Ws, bs, X = [np.array([[1.0]])], [np.array([[0.0]])], np.array([[1.0]])
    dWs, dbs = backward(Ws, bs, ["linear"], X, np.array([[1.0]]), "hinge")
    assert dWs[0][0, 0] == 0.0 and dbs[0][0, 0] == 0.0


# --- errors -----------------------------------------------------------------------------


def _net():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(3, 2)), rng.normal(size=(1, 3))], [np.zeros((3, 1)), np.zeros((1, 1))]


def test_unknown_activation_or_loss_lists_the_valid_names():
    with pytest.raises(ValueError, match="softplus.*sigmoid, tanh, relu, linear"):
        activation("softplus", np.zeros((1, 1)))
    with pytest.raises(ValueError, match="softplus.*sigmoid, tanh, relu, linear"):
        activation_derivative("softplus", np.zeros((1, 1)))
    with pytest.raises(ValueError, match="l1.*bce, bce_with_logits, mse, cross_entropy, hinge"):
        loss("l1", np.zeros((1, 2)), np.zeros((1, 2)))
    Ws, bs = _net()
    with pytest.raises(ValueError, match="elu"):
        forward(Ws, bs, ["elu", "sigmoid"], np.zeros((2, 4)))


def test_W_with_wrong_fan_in_names_expected_and_given_shapes():
    Ws, bs = _net()
    Ws[1] = np.zeros((1, 4))
    with pytest.raises(ValueError, match=r"Ws\[1\].*\(1, 4\).*expected \(1, 3\)"):
        forward(Ws, bs, ["tanh", "sigmoid"], np.zeros((2, 5)))


def test_X_with_wrong_feature_count_is_rejected():
    Ws, bs = _net()
    with pytest.raises(ValueError, match=r"Ws\[0\].*\(3, 2\).*expected \(3, 5\)"):
        forward(Ws, bs, ["tanh", "sigmoid"], np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"X.*2-D.*\(2,\)"):
        forward(Ws, bs, ["tanh", "sigmoid"], np.zeros(2))


def test_b_must_be_a_column_that_broadcasts_over_m():
    Ws, bs = _net()
    bs[0] = np.zeros(3)
    with pytest.raises(ValueError, match=r"bs\[0\].*\(3,\).*expected \(3, 1\)"):
        forward(Ws, bs, ["tanh", "sigmoid"], np.zeros((2, 4)))
    bs[0] = np.zeros((3, 4))  # a common slip: b as (n, m), one bias per example
    with pytest.raises(ValueError, match=r"\(3, 4\).*expected \(3, 1\)"):
        forward(Ws, bs, ["tanh", "sigmoid"], np.zeros((2, 4)))


def test_one_W_b_and_activation_per_layer():
    Ws, bs = _net()
    with pytest.raises(ValueError, match="2 Ws, 2 bs and 1 activations"):
        forward(Ws, bs, ["tanh"], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least one layer"):
        forward([], [], [], np.zeros((2, 4)))


def test_Y_with_wrong_shape_names_expected_and_given_shapes():
    Ws, bs = _net()
    X = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"Y has shape \(4,\), expected \(1, 4\)"):
        backward(Ws, bs, ["tanh", "sigmoid"], X, np.zeros(4), "bce")
    with pytest.raises(ValueError, match=r"Y has shape \(1, 3\), expected \(1, 4\)"):
        loss("mse", np.zeros((1, 4)), np.zeros((1, 3)))


def test_targets_outside_the_loss_domain_are_rejected():
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        loss("hinge", np.zeros((1, 2)), np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        loss("bce", np.full((1, 2), 0.5), np.array([[2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        loss("cross_entropy", np.zeros((3, 2)), np.array([0, 3]))
    with pytest.raises(ValueError, match="one-hot"):
        loss("cross_entropy", np.zeros((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="integer"):
        loss("cross_entropy", np.zeros((3, 2)), np.array([0.0, 1.0]))
