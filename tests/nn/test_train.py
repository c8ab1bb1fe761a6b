"""nn.fit: it trains (moons to >= 95%, xor solved, in 60 epochs), its step is plain
gradient descent, its history and progress bar, mini-batches, and its errors."""

import math

import pytest

import nn
from nn import MLP, datasets, losses
from nn.optim import SGD, Adam
from nn.train import accuracy, evaluate, readout, track


def test_an_mlp_reaches_95_percent_training_accuracy_on_moons_in_60_epochs():
    X, y = datasets.moons(100, noise=0.1)
    model = MLP(2, [8, 8, 1], seed=0)
    history = nn.fit(
        model, X, y, loss="bce_with_logits", optimizer=Adam(model.parameters(), lr=0.05), epochs=60, progress=False
    )
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
    history = nn.fit(
        model, X, y, loss="bce_with_logits", optimizer=SGD(model.parameters(), lr=0.3), epochs=1, progress=False
    )
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
    nn.fit(
        MLP(2, [4, 1], seed=0),
        X,
        y,
        loss=lambda p, t: (seen.append(len(p)), losses.mse(p, t))[1],
        epochs=2,
        batch_size=8,
        progress=False,
    )
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


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y": [0.0]}, "X has 10 examples but y has 1"),
        ({"loss": "nll"}, "unknown loss 'nll'"),
        ({"batch_size": 0}, "batch_size must be None"),
        ({"epochs": -1}, "epochs must be an int >= 0"),
    ],
)
def test_fit_rejects_bad_arguments_with_a_value_error(kwargs, message):
    X, y = datasets.moons(10)
    args = {"y": y, **kwargs}
    with pytest.raises(ValueError, match=message):
        nn.fit(MLP(2, [3, 1]), X, args.pop("y"), progress=False, **args)


# ---- callbacks, evaluation, and reading outputs --------------------------------------------------
def test_callback_runs_after_every_epoch_with_that_epochs_history_and_the_epochs_gradients():
    X, y = datasets.moons(30, noise=0.1, seed=2)
    model = MLP(2, [4, 1], seed=0)
    seen = []

    def spy(m, history):
        assert m is model
        seen.append((len(history["loss"]), history["loss"][-1], any(p.grad != 0.0 for p in m.parameters())))

    history = nn.fit(model, X, y, epochs=3, batch_size=10, progress=False, callback=spy)
    assert [(e, loss) for e, loss, _ in seen] == list(zip([1, 2, 3], history["loss"]))
    assert all(has_grad for _, _, has_grad in seen)


def test_track_records_test_loss_and_accuracy_each_epoch_equal_to_evaluate_at_the_end():
    X, y = datasets.moons(60, noise=0.1, seed=3)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, seed=0)
    model = MLP(2, [6, 1], seed=0)
    calls = []
    history = nn.fit(
        model,
        X_train,
        y_train,
        loss="hinge",
        epochs=4,
        progress=False,
        callback=[track(X_test, y_test, loss="hinge"), lambda m, h: calls.append(len(h["test_loss"]))],
    )
    assert calls == [1, 2, 3, 4]  # callbacks run in order: track's entry is there for the next one
    assert len(history["test_loss"]) == len(history["test_accuracy"]) == 4
    final = evaluate(model, X_test, y_test, loss="hinge")
    assert history["test_loss"][-1] == final["loss"] and history["test_accuracy"][-1] == final["accuracy"]
    assert final["accuracy"] == accuracy(model, X_test, y_test, loss="hinge")
    # hinge reads 0/1 labels as -1/+1, exactly as fit trains: the same J as losses.hinge on ±1 targets
    J = losses.hinge([model(x) for x in X_test], [2.0 * t - 1.0 for t in y_test])
    assert final["loss"] == pytest.approx(J.data, rel=1e-12)


def test_evaluate_keeps_no_graph_and_touches_no_grad():
    model = MLP(2, [3, 1], seed=0)
    evaluate(model, [[0.1, 0.2], [0.3, -0.4]], [0, 1])
    assert all(p.grad == 0.0 for p in model.parameters())


def test_fit_rejects_a_callback_that_is_not_callable():
    with pytest.raises(TypeError, match="callback"):
        nn.fit(MLP(2, [1], seed=0), [[0.0, 0.0]], [0], epochs=1, progress=False, callback=[print, 3])


@pytest.mark.parametrize(
    ("loss", "output", "expected"),
    [
        ("bce_with_logits", 0.0, (0, 0.5)),
        ("bce_with_logits", 2.0, (1, 1 / (1 + math.exp(-2.0)))),
        ("bce_with_logits", -800.0, (0, 0.0)),  # no overflow
        ("bce", 0.75, (1, 0.75)),
        ("mse", 1.7, (1, 1.0)),
        ("hinge", 0.5, (1, 0.75)),
        ("hinge", -3.0, (0, 0.0)),
        ("cross_entropy", [1.0, 3.0, 2.0], (1, math.exp(3) / (math.exp(1) + math.exp(3) + math.exp(2)))),
    ],
)
def test_readout_gives_the_class_accuracy_counts_and_a_shade_in_0_1(loss, output, expected):
    cls, shade = readout(loss, output)
    assert cls == expected[0] and shade == pytest.approx(expected[1], rel=1e-12, abs=1e-300)


def test_readout_class_agrees_with_accuracy_on_a_trained_model():
    X, y = datasets.spiral(60, classes=3, seed=0)
    model = MLP(2, [8, 3], seed=0)
    nn.fit(model, X, y, epochs=5, progress=False)
    right = sum(readout("cross_entropy", model(x))[0] == t for x, t in zip(X, y)) / len(y)
    assert right == accuracy(model, X, y)


class _Recording(nn.MLP):
    """An MLP that notes whether the cyclic collector runs while it builds, and may raise."""

    def __init__(self, *args, fail_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.collector_on, self.calls, self.fail_at = [], 0, fail_at

    def __call__(self, x):
        import gc

        self.calls += 1
        self.collector_on.append(gc.isenabled())
        if self.calls == self.fail_at:
            raise RuntimeError("a forward pass that fails")
        return super().__call__(x)


def test_eager_fit_builds_graphs_with_the_collector_paused_and_always_turns_it_back_on():
    import gc

    assert gc.isenabled()
    X, y = nn.datasets.moons(20, seed=0)
    model = _Recording(2, [4, 1], seed=0)
    nn.fit(model, X, y, epochs=1, batch_size=5, progress=False)
    assert model.collector_on and not any(model.collector_on)  # paused while every graph was built
    assert gc.isenabled()
    failing = _Recording(2, [4, 1], seed=0, fail_at=7)
    with pytest.raises(RuntimeError, match="fails"):
        nn.fit(failing, X, y, epochs=1, batch_size=5, progress=False)
    assert gc.isenabled()  # on again after the exception


def test_the_collector_is_on_again_when_fits_in_several_threads_end():
    import gc
    import threading

    X, y = nn.datasets.moons(20, seed=0)
    errors = []

    def train(seed):
        try:
            nn.fit(nn.MLP(2, [4, 1], seed=seed), X, y, epochs=3, batch_size=4, progress=False)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=train, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and gc.isenabled()
