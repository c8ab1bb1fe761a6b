"""nn.fit(compile=...) trains as eager fit does: per-batch fallbacks, targets checked, re-traces (issue 19.3)."""

import random

import pytest

import autograd as ag
import nn

pytest.importorskip("numpy")
MODES = [True, "numpy"]


def data(n=40, seed=0):
    rng = random.Random(seed)
    return [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(n)], rng


def fit(mode, make, X, y, loss, **kw):
    return nn.fit(make(), X, y, loss=loss, epochs=2, compile=mode, progress=False, **kw)


@pytest.mark.parametrize("mode", MODES)
def test_cross_entropy_with_20_classes_trains_as_eager_with_one_trace(mode):
    """The label is an input of the trace (log_softmax reads it): 20 classes, one trace, no eager batch."""
    X, _ = data()
    y = [i % 20 for i in range(40)]
    make = lambda: nn.MLP(3, [8, 20], seed=0)  # noqa: E731
    got, want = fit(mode, make, X, y, "cross_entropy"), fit(False, make, X, y, "cross_entropy")
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-12)
    assert sum(got["eager_batches"]) == 0


@pytest.mark.parametrize("mode", MODES)
def test_bce_with_many_soft_targets_trains_as_eager(mode):
    X, rng = data()
    y = [rng.random() for _ in range(40)]
    make = lambda: nn.MLP(3, [4, 1], seed=0, output_activation="sigmoid")  # noqa: E731
    got, want = fit(mode, make, X, y, "bce"), fit(False, make, X, y, "bce")
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-12)
    assert sum(got["eager_batches"]) >= 1  # more distinct targets than traces kept: counted where a user sees it


@pytest.mark.parametrize("mode", MODES)
def test_a_branching_registered_activation_trains_as_eager(mode):
    nn.activations.register("leaky_for_fit_test", lambda z: z if z > 0 else 0.1 * z)
    X, _ = data()
    y = [float(i % 2) for i in range(40)]
    make = lambda: nn.MLP(3, [4, 1], seed=0, activation="leaky_for_fit_test", output_activation="linear")  # noqa: E731
    got, want = fit(mode, make, X, y, "mse"), fit(False, make, X, y, "mse")
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_hinge_targets_are_checked_as_eager_checks_them(mode):
    X, _ = data()
    make = lambda: nn.MLP(3, [4, 1], seed=0, output_activation="linear")  # noqa: E731
    with pytest.raises(ValueError, match="hinge targets must be -1 or"):
        fit(mode, make, X, [0.5] * 40, "hinge")


@pytest.mark.parametrize("mode", MODES)
def test_a_callback_replacing_a_layer_trains_the_new_one(mode):
    X, _ = data()
    y = [float(i % 2) for i in range(40)]

    def replace(model, history):
        if len(history["loss"]) == 1:
            model.layers[-1] = nn.Layer(4, 1, "linear", seed=3)

    make = lambda: nn.MLP(3, [4, 1], seed=0, output_activation="linear")  # noqa: E731
    got = nn.fit(make(), X, y, loss="mse", epochs=3, compile=mode, progress=False, callback=replace)
    want = nn.fit(make(), X, y, loss="mse", epochs=3, compile=False, progress=False, callback=replace)
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_fit_stops_under_detect_anomaly_as_eager_does(mode):
    """Finite at first (the trace sees nothing wrong), then SGD with a huge rate overflows a few
    epochs in: eager stops there with FloatingPointError; compiled must stop at the same epoch,
    naming the same op, not train on through inf and nan."""

    def run(compile_mode):
        X, _ = data()
        y = [float(i % 2) for i in range(40)]
        model = nn.MLP(3, [4, 1], seed=0, activation="linear", output_activation="linear")
        epochs = []
        optimizer = nn.optim.SGD(model.parameters(), lr=20.0)  # the loss grows 0.3, 13, 1e9, 1e33, 1e105, inf
        with ag.detect_anomaly(), pytest.raises(FloatingPointError) as err:
            nn.fit(
                model,
                X,
                y,
                loss="mse",
                optimizer=optimizer,
                epochs=200,
                compile=compile_mode,
                progress=False,
                callback=lambda m, h: epochs.append(h["loss"][-1]),
            )
        return len(epochs), str(err.value).split(" with ")[0]  # the op it names (the batch is one graph eagerly)

    eager_epochs, eager_message = run(False)
    assert eager_epochs >= 2  # it trained a while: the first (traced) batch was finite
    assert run(mode) == (eager_epochs, eager_message)


def _snapshot_each_epoch(mode, change=False):
    X, _ = data()
    y = [i % 3 for i in range(40)]
    model = nn.MLP(3, [6, 3], seed=1)
    seen = []

    def callback(m, history):
        params = m.parameters()
        seen.append(([p.data for p in params], [p.grad for p in params]))
        if change:  # a callback that edits a weight: training goes on from the edited value
            params[0].data = 0.25

    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    nn.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optimizer,
        epochs=3,
        batch_size=8,
        seed=2,
        compile=mode,
        progress=False,
        callback=callback,
    )
    return seen, [p.data for p in model.parameters()]


@pytest.mark.parametrize("change", [False, True])
def test_fit_numpy_keeps_weights_in_an_array_yet_callbacks_see_and_edit_current_ones(change):
    """With compile="numpy" the optimiser steps one array; a callback still sees each epoch's
    weights and last gradients, an edit it makes is trained on, and the model holds the end result."""
    got, got_final = _snapshot_each_epoch("numpy", change)
    want, want_final = _snapshot_each_epoch(False, change)
    for (gw, gg), (ww, wg) in zip(got, want, strict=True):
        assert gw == pytest.approx(ww, rel=1e-9, abs=1e-12)
        assert gg == pytest.approx(wg, rel=1e-7, abs=1e-12)
    assert got_final == pytest.approx(want_final, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_cross_entropy_labels_are_checked_as_eager_checks_them(mode):
    X, _ = data()
    make = lambda: nn.MLP(3, [4, 3], seed=0)  # noqa: E731
    for bad, match in [(3, r"outside \[0, 3\)"), (1.5, "integer class id")]:
        y = [0] * 39 + [bad]
        with pytest.raises(ValueError, match=match):
            fit(False, make, X, y, "cross_entropy")
        with pytest.raises(ValueError, match=match):
            fit(mode, make, X, y, "cross_entropy")
