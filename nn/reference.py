"""Vectorized backpropagation in closed form, written out in NumPy as an oracle.

Column-per-example convention: X is (n0, m), W[l] is (n_l, n_{l-1}) (one row per neuron),
b[l] is (n_l, 1) and broadcasts over the m columns, A0 = X. Python lists are 0-based, so
layer l is ``Ws[l-1]``, ``bs[l-1]``, ``Zs[l-1]`` and ``As[l]`` (``As[0]`` is X).

Every dZ below means ∂(m·J)/∂Z: the gradient of the batch's summed loss, which is why
1/m appears in dW and db.
This module is independent of the ``autograd`` engine: it is what the engine is checked
against, so it must not use it.
"""

from __future__ import annotations

from autograd.extras import require

np = require("numpy", "nn.reference")

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "activation",
    "activation_derivative",
    "forward",
    "loss",
    "backward",
    "slipped_backward_plus",
]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
LOSSES = ("bce", "bce_with_logits", "mse", "cross_entropy", "hinge")


# --- activations: g and g' side by side ---------------------------------------------


def _sigmoid(Z):
    """σ(Z) = 1 / (1 + e^{-Z}), computed as exp(-log(1 + e^{-Z})) so it never overflows."""
    return np.exp(-np.logaddexp(0.0, -Z))


_RULES = {
    # name: (g, g') with g' written in terms of Z: σ' = σ(1 − σ), tanh' = 1 − tanh², relu' = 1{Z > 0}.
    "sigmoid": (_sigmoid, lambda Z: _sigmoid(Z) * (1.0 - _sigmoid(Z))),
    "tanh": (np.tanh, lambda Z: 1.0 - np.tanh(Z) ** 2),
    "relu": (lambda Z: np.maximum(Z, 0.0), lambda Z: (Z > 0).astype(np.float64)),
    "linear": (lambda Z: Z.copy(), np.ones_like),
}


def _check_name(kind: str, name, valid: tuple[str, ...]) -> None:
    if name not in valid:
        raise ValueError(f"unknown {kind} {name!r}; valid names are {', '.join(valid)}")


def activation(name: str, Z) -> np.ndarray:
    """A = g(Z), element-wise: sigmoid, tanh, relu = max(Z, 0) or linear g(Z) = Z."""
    _check_name("activation", name, ACTIVATIONS)
    return _RULES[name][0](np.asarray(Z, dtype=np.float64))


def activation_derivative(name: str, Z) -> np.ndarray:
    """g'(Z), element-wise: σ(1−σ), 1 − tanh², 1{Z>0} (0 at Z = 0), 1."""
    _check_name("activation", name, ACTIVATIONS)
    return _RULES[name][1](np.asarray(Z, dtype=np.float64))


# --- shapes ---------------------------------------------------------------------------


def _as_matrix(name: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {array.shape}")
    return array


def _check_network(Ws, bs, activations, X):
    """Coerce to float64 and check every shape against W[l]: (n_l, n_{l-1}), b[l]: (n_l, 1)."""
    Ws, bs, activations = list(Ws), list(bs), list(activations)
    L = len(Ws)
    if L == 0:
        raise ValueError("Ws is empty: a network needs at least one layer")
    if len(bs) != L or len(activations) != L:
        raise ValueError(
            f"need one W, one b and one activation per layer: got {L} Ws, "
            f"{len(bs)} bs and {len(activations)} activations"
        )
    X = _as_matrix("X (expected shape (n0, m), one column per example)", X)
    Ws = [_as_matrix(f"Ws[{i}] (W of layer {i + 1})", W) for i, W in enumerate(Ws)]
    bs = [np.asarray(b, dtype=np.float64) for b in bs]
    n_prev = X.shape[0]
    for i, (W, b, name) in enumerate(zip(Ws, bs, activations)):
        _check_name("activation", name, ACTIVATIONS)
        if W.shape[1] != n_prev:
            raise ValueError(
                f"Ws[{i}] (W of layer {i + 1}) has shape {W.shape}, expected "
                f"({W.shape[0]}, {n_prev}) = (n_{i + 1}, n_{i}) to match " + ("X" if i == 0 else f"Ws[{i - 1}]")
            )
        if b.shape != (W.shape[0], 1):
            raise ValueError(
                f"bs[{i}] (b of layer {i + 1}) has shape {b.shape}, expected "
                f"({W.shape[0]}, 1) = (n_{i + 1}, 1); b broadcasts over the m columns, "
                "one bias per neuron shared by every example"
            )
        n_prev = W.shape[0]
    return Ws, bs, activations, X


def _check_targets(name: str, A_L: np.ndarray, Y) -> np.ndarray:
    """Y as a float (n_L, m) array; integer labels (m,) become one-hot for cross_entropy."""
    _check_name("loss", name, LOSSES)
    Y = np.asarray(Y)
    K, m = A_L.shape
    if name == "cross_entropy" and Y.ndim == 1:
        if Y.shape != (m,) or not np.issubdtype(Y.dtype, np.integer):
            raise ValueError(
                f"integer labels must have shape ({m},) and an integer dtype, got shape {Y.shape} dtype {Y.dtype}"
            )
        if Y.size and (Y.min() < 0 or Y.max() >= K):
            raise ValueError(f"labels must lie in [0, {K}), got min {Y.min()} max {Y.max()}")
        onehot = np.zeros((K, m))
        onehot[Y, np.arange(m)] = 1.0
        return onehot
    Y = Y.astype(np.float64)
    if Y.shape != A_L.shape:
        expected = f"{A_L.shape}" + (f" or integer labels ({m},)" if name == "cross_entropy" else "")
        raise ValueError(f"Y has shape {Y.shape}, expected {expected} = (n_L, m) like A_L")
    if name == "bce" and np.any((Y < 0) | (Y > 1)):
        raise ValueError("bce targets Y must lie in [0, 1]")
    if name == "hinge" and not np.all(np.abs(Y) == 1):
        raise ValueError("hinge targets Y must be -1 or +1")
    if name == "cross_entropy" and not np.allclose(Y.sum(axis=0), 1.0):
        raise ValueError("cross_entropy targets Y must be one-hot: each column sums to 1")
    return Y


# --- losses ----------------------------------------------------------------------------


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    """log softmax over the rows (the K classes) of each column, shifted by the max for stability."""
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def loss(name: str, A_L, Y) -> float:
    """J, averaged over the m columns: bce, bce_with_logits, mse, cross_entropy or hinge.

    bce: J = −(1/m) Σ [Y log A + (1−Y) log(1−A)], A probabilities.
    bce_with_logits: the same loss of σ(A), A the logits, as (1/m) Σ [log(1 + e^A) − Y A].
    mse: J = 1/(2m) Σ (A − Y)² over all entries; the 1/2 cancels the 2 of the square.
    cross_entropy: J = −(1/m) Σ Y log softmax(A), softmax over the K rows.
    hinge: J = (1/m) Σ max(0, 1 − Y A), Y ∈ {−1, +1}.
    """
    A_L = _as_matrix("A_L (expected shape (n_L, m))", A_L)
    Y = _check_targets(name, A_L, Y)
    m = A_L.shape[1]
    if name == "bce":
        total = -np.sum(Y * np.log(A_L) + (1.0 - Y) * np.log(1.0 - A_L))
    elif name == "bce_with_logits":
        total = np.sum(np.logaddexp(0.0, A_L) - Y * A_L)
    elif name == "mse":
        total = 0.5 * np.sum((A_L - Y) ** 2)
    elif name == "cross_entropy":
        total = -np.sum(Y * _log_softmax(A_L))
    else:
        total = np.sum(np.maximum(0.0, 1.0 - Y * A_L))
    return float(total / m)


def _dA(name: str, A_L: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dA = ∂(m·J)/∂A_L: an (n_L, m) array, one entry per example, never a scalar mean over the batch."""
    if name == "bce":
        return -Y / A_L + (1.0 - Y) / (1.0 - A_L)
    if name == "bce_with_logits":
        return _sigmoid(A_L) - Y
    if name == "mse":
        return A_L - Y
    if name == "cross_entropy":
        return np.exp(_log_softmax(A_L)) - Y
    return np.where(1.0 - Y * A_L > 0, -Y, 0.0)


def _output_dZ(name: str, g: str, Z_L: np.ndarray, A_L: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dZ_L: A − Y for sigmoid + bce (σ' cancels the 1/(A(1−A)) of dA), else dA ∗ g'(Z_L), element-wise.

    With a linear output, bce_with_logits gives σ(Z) − Y, cross_entropy softmax(Z) − Y and
    hinge −Y·1{1 − Y Z > 0} (0 at the kink).
    """
    if name == "bce" and g == "sigmoid":
        return A_L - Y
    return _dA(name, A_L, Y) * activation_derivative(g, Z_L)


# --- forward and backward ------------------------------------------------------------


def forward(Ws, bs, activations, X) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Z[l] = W[l] A[l−1] + b[l], A[l] = g[l](Z[l]): W of the layer itself, not of the one before.

    Returns (Zs, As): Zs has L entries (Zs[i] = Ws[i] @ As[i] + bs[i]), As has L + 1
    entries with As[0] = X and As[i + 1] = g(Zs[i]).
    """
    Ws, bs, activations, X = _check_network(Ws, bs, activations, X)
    Zs, As = [], [X]
    for W, b, g in zip(Ws, bs, activations):
        Zs.append(W @ As[-1] + b)
        As.append(activation(g, Zs[-1]))
    return Zs, As


def backward(Ws, bs, activations, X, Y, loss) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ_columns dZ, dZ_prev = Wᵀ dZ ∗ g'(Z_prev), ∗ element-wise.

    Returns (dWs, dbs) = (∂J/∂W, ∂J/∂b) for every layer, same shapes as Ws and bs, for any
    depth; the output dZ is chosen by ``loss`` and the last activation (see ``loss``).
    """
    Ws, bs, activations, X = _check_network(Ws, bs, activations, X)
    Zs, As = forward(Ws, bs, activations, X)
    Y = _check_targets(loss, As[-1], Y)
    m = X.shape[1]
    L = len(Ws)
    dWs, dbs = [None] * L, [None] * L
    dZ = _output_dZ(loss, activations[-1], Zs[-1], As[-1], Y)
    for i in reversed(range(L)):
        dWs[i] = (dZ @ As[i].T) / m
        dbs[i] = np.sum(dZ, axis=1, keepdims=True) / m
        if i > 0:
            dZ = (Ws[i].T @ dZ) * activation_derivative(activations[i - 1], Zs[i - 1])
    return dWs, dbs


def slipped_backward_plus(Ws, bs, activations, X, Y, loss="bce"):
    """WRONG ON PURPOSE: the common slip dZ1 = W2ᵀ dZ2 + g'(Z1), a sum where a product belongs.

    The chain rule multiplies the gradient arriving at A1 by ∂A1/∂Z1 = diag(g'(Z1)), which is
    the element-wise product dZ1 = W2ᵀ dZ2 ∗ g'(Z1). Everything else matches ``backward``, so
    only dW1 and db1 differ; kept to show that a slipped formula fails the gradient check.
    Two-layer networks only.
    """
    Ws, bs, activations, X = _check_network(Ws, bs, activations, X)
    if len(Ws) != 2:
        raise ValueError(f"slipped_backward_plus is for a 2-layer net, got {len(Ws)} layers")
    (Z1, Z2), (_, A1, A2) = forward(Ws, bs, activations, X)
    Y = _check_targets(loss, A2, Y)
    m = X.shape[1]
    dZ2 = _output_dZ(loss, activations[1], Z2, A2, Y)
    dZ1 = Ws[1].T @ dZ2 + activation_derivative(activations[0], Z1)  # the slip: + not ∗
    dWs = [(dZ1 @ X.T) / m, (dZ2 @ A1.T) / m]
    dbs = [np.sum(dZ1, axis=1, keepdims=True) / m, np.sum(dZ2, axis=1, keepdims=True) / m]
    return dWs, dbs
