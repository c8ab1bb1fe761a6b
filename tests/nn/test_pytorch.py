"""MLP.to_torch / MLP.from_torch: the same function, the same gradients, the same weights back.

PyTorch in float64 is the oracle. "Agree to 1e-12" means max|chainrule − torch| is at most
1e-12 times the largest |torch| entry of the tensor compared (a loss, an output row, a layer's
dW or db): summation order differs between a fused dot and a matrix product, so an entry that
is itself a near-cancellation is judged on the scale of its tensor. Skipped without torch.
"""

import random
import sys

import pytest

import nn
from nn.losses import LOSSES

TOL = 1e-12
ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _assert_agree(ours, theirs):
    ours, theirs = [float(v) for v in ours], [float(v) for v in theirs]
    assert len(ours) == len(theirs)
    scale = max(abs(v) for v in theirs)
    worst = max(abs(a - b) for a, b in zip(ours, theirs))
    assert worst <= TOL * scale, f"differ by {worst:.3g} on a scale of {scale:.3g}"


def _flat(rows):
    return [v for row in rows for v in (row if isinstance(row, list) else [row])]


def _problem(loss_name: str, m: int = 7, nin: int = 4, k: int = 3, seed: int = 0):
    """Inputs and targets of m examples that `loss_name` accepts, k outputs each."""
    rng = random.Random(seed)
    X = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(m)]
    if loss_name == "cross_entropy":
        y = [rng.randrange(k) for _ in range(m)]
    elif loss_name == "hinge":
        y = [[rng.choice((-1.0, 1.0)) for _ in range(k)] for _ in range(m)]
    elif loss_name == "mse":
        y = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(m)]
    else:  # bce, bce_with_logits: soft targets in [0, 1], the ends included
        y = [[rng.choice((0.0, 1.0, rng.random())) for _ in range(k)] for _ in range(m)]
    return X, y


def _torch_loss(torch, loss_name: str, out, y):
    """The loss of `nn.losses` in torch's words: a sum over every entry divided by the m examples."""
    F = torch.nn.functional
    m = out.shape[0]
    if loss_name == "cross_entropy":
        return F.cross_entropy(out, torch.tensor(y))
    t = torch.tensor(y, dtype=torch.float64)
    if loss_name == "bce":
        return F.binary_cross_entropy(out, t, reduction="sum") / m
    if loss_name == "bce_with_logits":
        return F.binary_cross_entropy_with_logits(out, t, reduction="sum") / m
    if loss_name == "mse":
        return F.mse_loss(out, t, reduction="sum") / (2 * m)
    if loss_name == "hinge":
        return torch.relu(1.0 - t * out).sum() / m
    raise AssertionError(f"no torch twin for loss {loss_name!r}; add one")


def test_every_loss_has_a_torch_twin(torch):
    out = torch.zeros(2, 3, dtype=torch.float64)
    for name in LOSSES:
        _, y = _problem(name, m=2)
        assert _torch_loss(torch, name, torch.sigmoid(out) if name == "bce" else out, y).ndim == 0


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_outputs_loss_and_gradients_agree_with_torch_float64(torch, activation, loss_name):
    output_activation = "sigmoid" if loss_name == "bce" else "linear"
    model = nn.MLP(4, [6, 5, 3], activation=activation, output_activation=output_activation, seed=1)
    X, y = _problem(loss_name)
    seq = model.to_torch()

    preds = [model(x) for x in X]
    J = LOSSES[loss_name](preds, y)
    model.zero_grad()
    J.backward()

    out = seq(torch.tensor(X, dtype=torch.float64))
    J_torch = _torch_loss(torch, loss_name, out, y)
    J_torch.backward()

    for pred, row in zip(preds, out.tolist()):
        _assert_agree([p.data for p in pred], row)
    _assert_agree([J.data], [J_torch.item()])
    dWs, dbs = model.to_numpy(grad=True)
    linears = [mod for mod in seq if isinstance(mod, torch.nn.Linear)]
    for dW, db, lin in zip(dWs, dbs, linears, strict=True):
        _assert_agree(dW.ravel(), lin.weight.grad.ravel().tolist())
        _assert_agree(db.ravel(), lin.bias.grad.tolist())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_to_torch_is_float64_linear_layers_and_the_activation_modules(torch, activation):
    model = nn.MLP(3, [4, 2], activation=activation, output_activation="sigmoid", seed=0)
    seq = model.to_torch()
    kinds = [type(mod).__name__ for mod in seq]
    hidden = {"relu": ["ReLU"], "tanh": ["Tanh"], "sigmoid": ["Sigmoid"], "linear": []}[activation]
    assert kinds == ["Linear", *hidden, "Linear", "Sigmoid"]
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    assert [tuple(mod.weight.shape) for mod in seq if isinstance(mod, torch.nn.Linear)] == [(4, 3), (2, 4)]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_round_trip_through_torch_gives_back_every_weight_exactly(torch, activation):
    model = nn.MLP(5, [7, 6, 3], activation=activation, output_activation="tanh", seed=3)
    back = nn.MLP.from_torch(model.to_torch())
    assert repr(back) == repr(model)
    assert back.state_dict() == model.state_dict()


def test_round_trip_from_torch_gives_back_every_tensor_exactly(torch):
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(6, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 4),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 2),
    ).double()
    again = nn.MLP.from_torch(seq).to_torch()
    assert [type(a) for a in again] == [type(a) for a in seq]
    for a, b in zip(again.parameters(), seq.parameters(), strict=True):
        assert torch.equal(a, b)


def test_float32_weights_are_read_exactly(torch):
    torch.manual_seed(1)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Sigmoid())
    model = nn.MLP.from_torch(seq)
    assert repr(model) == "MLP(3 -> 2 sigmoid)"
    assert [n.b.data for n in model.layers[0].neurons] == seq[0].bias.double().tolist()
    assert torch.equal(model.to_torch()[0].weight, seq[0].weight.double())


def test_the_two_models_share_no_memory(torch):
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    seq = model.to_torch()
    with torch.no_grad():
        seq[0].weight.add_(1.0)
    assert model.state_dict() == before
    back = nn.MLP.from_torch(seq)
    with torch.no_grad():
        seq[0].bias.add_(1.0)
    assert back.layers[0].neurons[0].b.data == 0.0


@pytest.mark.parametrize(
    "optimizer",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
        ("Adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
    ],
    ids=["SGD", "Adam"],
)
def test_the_same_optimiser_steps_the_same_weights_in_both(torch, optimizer):
    name, kwargs = optimizer
    model = nn.MLP(4, [5, 3], activation="tanh", seed=2)
    seq = model.to_torch()
    ours = getattr(nn.optim, name)(model.parameters(), **kwargs)
    theirs = getattr(torch.optim, name)(seq.parameters(), **kwargs)
    X, y = _problem("cross_entropy")
    for _ in range(5):
        ours.zero_grad()
        nn.losses.cross_entropy([model(x) for x in X], y).backward()
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(seq(torch.tensor(X, dtype=torch.float64)), torch.tensor(y)).backward()
        theirs.step()
    for ours_p, theirs_p in zip(nn.MLP.from_torch(seq).parameters(), model.parameters(), strict=True):
        assert abs(ours_p.data - theirs_p.data) <= TOL * max(1.0, abs(theirs_p.data))


def _refused(torch):
    L, N = torch.nn.Linear, torch.nn
    return {
        "not a Sequential": (L(2, 2), TypeError, "got Linear"),
        "empty": (N.Sequential(), ValueError, "empty Sequential"),
        "no bias": (
            N.Sequential(L(2, 3), N.ReLU(), L(3, 1, bias=False)),
            ValueError,
            "layer 2 .*no bias",
        ),
        "unknown activation": (
            N.Sequential(L(2, 3), N.LeakyReLU(), L(3, 1)),
            ValueError,
            "layer 1 \\(LeakyReLU",
        ),
        "activation first": (
            N.Sequential(N.Tanh(), L(2, 1)),
            ValueError,
            "layer 0 \\(Tanh\\(\\)\\) comes before",
        ),
        "two activations": (
            N.Sequential(L(2, 3), N.ReLU(), N.Tanh()),
            ValueError,
            "layer 2 \\(Tanh\\(\\)\\) follows",
        ),
        "sizes do not chain": (
            N.Sequential(L(2, 3), L(4, 1)),
            ValueError,
            "layer 1 .*takes 4 inputs .* gives 3",
        ),
        "dropout": (
            N.Sequential(L(2, 3), N.Dropout(0.5), L(3, 1)),
            ValueError,
            "layer 1 \\(Dropout",
        ),
        "nested": (
            N.Sequential(N.Sequential(L(2, 1))),
            ValueError,
            "layer 0 \\(Sequential",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "not a Sequential",
        "empty",
        "no bias",
        "unknown activation",
        "activation first",
        "two activations",
        "sizes do not chain",
        "dropout",
        "nested",
    ],
)
def test_from_torch_refuses_what_an_mlp_cannot_be_naming_the_layer(torch, case):
    module, error, message = _refused(torch)[case]
    with pytest.raises(error, match=message) as info:
        nn.MLP.from_torch(module)
    assert "\n" not in str(info.value)


def test_to_torch_refuses_a_registered_activation_naming_the_layer(torch):
    nn.activations.register("softsign_for_test", lambda z: z / (1 + abs(z)))
    model = nn.MLP(2, [3, 1], activation="softsign_for_test", seed=0)
    with pytest.raises(ValueError, match="layer 0 .*'softsign_for_test'"):
        model.to_torch()


def test_without_torch_each_direction_fails_in_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    for call in (
        lambda: nn.MLP(2, [1], seed=0).to_torch(),
        lambda: nn.MLP.from_torch(object()),
    ):
        with pytest.raises(ImportError) as info:
            call()
        assert "pip install 'chainrule[torch]'" in str(info.value) and "\n" not in str(info.value)


def test_from_torch_on_a_subclass_builds_that_subclass(torch):
    class Named(nn.MLP):
        pass

    back = Named.from_torch(nn.MLP(2, [3, 1], seed=0).to_torch())
    assert type(back) is Named and repr(back) == "MLP(2 -> 3 relu -> 1 linear)"
