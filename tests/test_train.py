"""nn.fit: it trains (moons to >= 95%, xor solved, in 60 epochs), its step is plain
gradient descent, its history and progress bar, mini-batches, and its errors."""

import pytest

import nn
from nn import MLP, datasets, losses
from nn.optim import SGD, Adam
from nn.train import accuracy


def test_an_mlp_reaches_95_percent_training_accuracy_on_moons_in_60_epochs():
    X, y = datasets.moons(100, noise=0.1)
    model = MLP(2, [8, 8, 1], seed=0)
    history = nn.fit(model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.05),
                     epochs=60, progress=False)  # fmt: skip
    assert accuracy(model, X, y) >= 0.95
    assert history["accuracy"][-1] >= 0.95


def test_an_mlp_solves_xor_in_60_epochs():
    X, y = datasets.xor(100, noise=0.1)
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    nn.fit(model, X, y, epochs=60, progress=False)  # the defaults: bce_with_logits, Adam(lr=0.05)
    assert accuracy(model, X, y) == 1.0


def test_one_full_batch_epoch_is_one_gradient_descent_step():
    """W := W − η·dW with dW from backward() on the whole batch."""
    X, y = datasets.moons(20, noise=0.1, seed=1)
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    J = losses.binary_cross_entropy_with_logits([model(x) for x in X], y)
    J.backward()
    expected = [p.data - 0.3 * p.grad for p in model.parameters()]
    history = nn.fit(model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=0.3), epochs=1,
                     progress=False)  # fmt: skip
    assert [p.data for p in model.parameters()] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert history["loss"] == [pytest.approx(J.data, rel=1e-12)]


def test_history_has_one_loss_and_accuracy_per_epoch_and_the_loss_falls():
    X, y = datasets.moons(40, noise=0.1)
    history = nn.fit(MLP(2, [6, 1], seed=0), X, y, epochs=12, progress=False)
    assert set(history) == {"loss", "accuracy"}
    assert len(history["loss"]) == len(history["accuracy"]) == 12
    assert history["loss"][-1] < 0.7 * history["loss"][0]
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"])


def test_progress_false_is_silent_and_true_shows_a_bar_with_loss_and_accuracy(capsys):
    X, y = datasets.xor(16)
    nn.fit(MLP(2, [3, 1], seed=0), X, y, epochs=2, progress=False)
    assert capsys.readouterr() == ("", "")
    nn.fit(MLP(2, [3, 1], seed=0), X, y, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss=" in err and "acc=" in err


def test_mini_batches_are_seeded_and_cover_every_example_each_epoch():
    X, y = datasets.moons(30, noise=0.1)
    runs = []
    for _ in range(2):
        model = MLP(2, [4, 1], seed=0)
        runs.append((nn.fit(model, X, y, epochs=3, batch_size=8, progress=False, seed=5), model.state_dict()))
    assert runs[0] == runs[1]
    other = MLP(2, [4, 1], seed=0)
    nn.fit(other, X, y, epochs=3, batch_size=8, progress=False, seed=6)
    assert other.state_dict() != runs[0][1], "a different shuffle trains differently"

    seen = []
    nn.fit(MLP(2, [4, 1], seed=0), X, y, loss=lambda p, t: (seen.append(len(p)), losses.mse(p, t))[1],
           epochs=2, batch_size=8, progress=False)  # fmt: skip
    assert seen == [8, 8, 8, 6] * 2


def test_hinge_takes_0_1_labels_and_cross_entropy_trains_a_multiclass_model():
    X, y = datasets.xor(40, noise=0.1)
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    J = losses.hinge([model(x) for x in X], [2 * t - 1 for t in y]).data
    history = nn.fit(model, X, y, loss="hinge", epochs=60, progress=False)
    assert history["loss"][0] == pytest.approx(J)
    assert accuracy(model, X, y, loss="hinge") == 1.0
    X, y = datasets.spiral(60, classes=3, noise=0.1)
    model = MLP(2, [16, 3], activation="tanh", seed=0)
    history = nn.fit(model, X, y, epochs=60, progress=False)  # auto: 3 outputs -> cross_entropy
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert accuracy(model, X, y) > 0.7  # chance is 1/3


def test_auto_loss_is_bce_for_a_sigmoid_output_and_a_custom_loss_has_no_accuracy():
    X, y = datasets.moons(10)
    model = MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    J = losses.binary_cross_entropy([model(x) for x in X], y).data
    assert nn.fit(model, X, y, epochs=1, progress=False)["loss"] == [pytest.approx(J)]
    history = nn.fit(model, X, y, loss=losses.mse, epochs=2, progress=False)
    assert history["accuracy"] == [None, None]


@pytest.mark.parametrize("kwargs, message", [
    ({"y": [0.0]}, "X has 10 examples but y has 1"),
    ({"loss": "nll"}, "unknown loss 'nll'"),
    ({"batch_size": 0}, "batch_size must be None"),
    ({"epochs": -1}, "epochs must be an int >= 0"),
])  # fmt: skip
def test_fit_rejects_bad_arguments_with_a_value_error(kwargs, message):
    X, y = datasets.moons(10)
    args = {"y": y, **kwargs}
    with pytest.raises(ValueError, match=message):
        nn.fit(MLP(2, [3, 1]), X, args.pop("y"), progress=False, **args)
