"""The heart of chainrule: backward() on an nn.MLP gives exactly the closed-form dW and db.

Each test builds an MLP, computes the batch loss with nn.losses on Values, calls backward()
and compares every parameter's grad with nn.reference's vectorized closed forms
(dW = (1/m) dZ Aᵀ, db = (1/m) Σ dZ, dZ⁽ˡ⁻¹⁾ = Wᵀ dZ ∗ g′(Z)) to rtol 1e-7. Shapes, seeds,
activations, losses and the batch size m ∈ [1, 8] are drawn by hypothesis.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from nn import losses, reference

ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear"]
RTOL, ATOL = 1e-7, 1e-12

activations = st.sampled_from(ACTIVATIONS)
batch_sizes = st.integers(1, 8)
widths = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)


def build(nin, nouts, acts, seed):
    """An MLP from the public constructor, with random biases (init leaves them at 0, which
    would hide a broadcasting mistake)."""
    model = nn.MLP(nin, nouts, activation=acts[:-1], output_activation=acts[-1], seed=seed)
    rng = np.random.default_rng(seed)
    state = model.state_dict()
    for name in state:
        if name.endswith(".b"):
            state[name] = float(rng.normal(0.0, 0.5))
    model.load_state_dict(state)
    return model


def draw_data(loss, nin, n_out, m, seed):
    """X (nin, m); Y for nn.reference; the same targets one per example for nn.losses."""
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(nin, m))
    if loss == "cross_entropy":
        labels = rng.integers(0, n_out, size=m)
        return X, labels, [int(k) for k in labels]
    if loss in ("bce", "bce_with_logits"):  # hard labels, with some soft ones in [0, 1]
        Y = np.where(rng.random((n_out, m)) < 0.7, rng.integers(0, 2, (n_out, m)), rng.random((n_out, m)))
    elif loss == "hinge":
        Y = rng.choice([-1.0, 1.0], size=(n_out, m))
    else:
        Y = rng.normal(size=(n_out, m))
    targets = [float(Y[0, j]) if n_out == 1 else Y[:, j].tolist() for j in range(m)]
    return X, Y, targets


def assert_backward_matches_reference(nin, nouts, acts, loss, m, seed):
    model = build(nin, nouts, acts, seed)
    X, Y, targets = draw_data(loss, nin, nouts[-1], m, seed)
    outputs = [model(X[:, j].tolist()) for j in range(m)]
    J = losses.LOSSES[loss](outputs, targets)
    J.backward()

    Ws, bs = model.to_numpy()
    _, As = reference.forward(Ws, bs, acts, X)
    np.testing.assert_allclose(J.data, reference.loss(loss, As[-1], Y), rtol=1e-10, atol=1e-13)
    dWs, dbs = reference.backward(Ws, bs, acts, X, Y, loss)
    for l, layer in enumerate(model.layers, start=1):
        gW = np.array([[w.grad for w in neuron.w] for neuron in layer.neurons])
        gb = np.array([[neuron.b.grad] for neuron in layer.neurons])
        context = f"layer {l} of {model!r}, loss {loss}, m={m}, seed={seed}"
        np.testing.assert_allclose(gW, dWs[l - 1], rtol=RTOL, atol=ATOL, err_msg=f"dW{l}, {context}")
        np.testing.assert_allclose(gb, dbs[l - 1], rtol=RTOL, atol=ATOL, err_msg=f"db{l}, {context}")


@settings(max_examples=150)
@given(hidden=activations, n0=widths, n1=widths, m=batch_sizes, seed=seeds)
def test_dW_db_match_closed_form_two_layer_sigmoid_bce(hidden, n0, n1, m, seed):
    """Sigmoid + BCE: dz² = a² − Y, dW² = (1/m) dz² a¹ᵀ, dz¹ = W²ᵀ dz² ∗ f′(z¹), dW¹ = (1/m) dz¹ xᵀ."""
    assert_backward_matches_reference(n0, [n1, 1], [hidden, "sigmoid"], "bce", m, seed)


# Output activation and loss pairs: bce needs probabilities, so a sigmoid output; the others take any output.
OUTPUT_AND_LOSS = [("sigmoid", "bce")] + [
    (out, loss) for loss in ("bce_with_logits", "mse", "cross_entropy", "hinge") for out in ACTIVATIONS
]


@settings(max_examples=300)
@given(
    hidden=activations,
    pair=st.sampled_from(OUTPUT_AND_LOSS),
    n0=widths,
    n1=widths,
    n2=st.integers(1, 3),
    m=batch_sizes,
    seed=seeds,
)
def test_dW_db_match_closed_form_two_layer_every_activation_and_loss(hidden, pair, n0, n1, n2, m, seed):
    """The vectorized forms dW = (1/m) dZ Aᵀ, db = (1/m) np.sum(dZ, axis=1, keepdims=True)."""
    output, loss = pair
    if loss == "cross_entropy":
        n2 += 1  # K >= 2 classes
    assert_backward_matches_reference(n0, [n1, n2], [hidden, output], loss, m, seed)


@settings(max_examples=150)
@given(
    h1=activations,
    h2=activations,
    pair=st.sampled_from([("sigmoid", "bce"), ("linear", "bce_with_logits")]),
    n0=widths,
    n1=widths,
    n2=widths,
    m=batch_sizes,
    seed=seeds,
)
def test_dW_db_match_closed_form_three_layer_bce(h1, h2, pair, n0, n1, n2, m, seed):
    """Three layers: ∂J/∂W⁽³⁾ = −(1/m) Σ (y − a⁽³⁾) a⁽²⁾ᵀ, then back through w⁽²⁾ and w⁽¹⁾."""
    output, loss = pair
    assert_backward_matches_reference(n0, [n1, n2, 1], [h1, h2, output], loss, m, seed)


@settings(max_examples=150)
@given(data=st.data(), depth=st.integers(1, 5), n0=widths, m=batch_sizes, seed=seeds)
def test_dW_db_match_closed_form_L_layer_mse(data, depth, n0, m, seed):
    """MSE: J = 1/(2m) Σ (y − aᴸ)², dZᴸ = (Aᴸ − Y) ∗ g′(Zᴸ), back through L − 1, L − 2, ..."""
    nouts = data.draw(st.lists(widths, min_size=depth - 1, max_size=depth - 1)) + [data.draw(st.integers(1, 3))]
    acts = data.draw(st.lists(activations, min_size=depth, max_size=depth))
    assert_backward_matches_reference(n0, nouts, acts, "mse", m, seed)


@settings(max_examples=100)
@given(hidden=activations, depth=st.integers(1, 3), k=st.integers(2, 4), n0=widths, m=batch_sizes, seed=seeds)
def test_dW_db_match_closed_form_softmax_cross_entropy_over_K_classes(hidden, depth, k, n0, m, seed):
    """One-hot targets, softmax output and J = −Σ yᵢ log ŷᵢ give dZᴸ = softmax(Zᴸ) − Y."""
    nouts = [3] * (depth - 1) + [k]
    assert_backward_matches_reference(n0, nouts, [hidden] * (depth - 1) + ["linear"], "cross_entropy", m, seed)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh"])
def test_slipped_plus_g_prime_disagrees_while_the_element_wise_product_agrees(hidden):
    """The common slip dz¹ = W²ᵀ dz² + g′(z¹) disagrees with autodiff; the element-wise product ∗ matches."""
    model = build(3, [4, 1], [hidden, "sigmoid"], seed=2)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3, 6))
    Y = rng.integers(0, 2, size=(1, 6)).astype(float)
    J = losses.binary_cross_entropy([model(X[:, j].tolist()) for j in range(6)], Y[0].tolist())
    J.backward()
    autodiff_dW1 = np.array([[w.grad for w in n.w] for n in model.layers[0].neurons])
    autodiff_dW2 = np.array([[w.grad for w in n.w] for n in model.layers[1].neurons])

    Ws, bs = model.to_numpy()
    acts = [hidden, "sigmoid"]
    (right_dW1, right_dW2), _ = reference.backward(Ws, bs, acts, X, Y, "bce")
    (slip_dW1, slip_dW2), _ = reference.slipped_backward_plus(Ws, bs, acts, X, Y, "bce")

    np.testing.assert_allclose(autodiff_dW1, right_dW1, rtol=RTOL, atol=ATOL)
    assert np.max(np.abs(autodiff_dW1 - slip_dW1)) > 1e-2, "the slipped formula should visibly disagree"
    np.testing.assert_allclose(autodiff_dW2, slip_dW2, rtol=RTOL, atol=ATOL)  # the slip is in layer 1 only
    np.testing.assert_allclose(autodiff_dW2, right_dW2, rtol=RTOL, atol=ATOL)
