"""nn.predict reads a model's outputs as the loss does (as nn.accuracy counts them), and keeps no graph."""

import pytest

import autograd
import nn


@pytest.mark.parametrize(
    "loss, output_activation, targets",
    [
        ("cross_entropy", "linear", [0, 1, 2, 2, 1, 0, 2, 1]),
        ("bce_with_logits", "linear", [0, 1, 1, 0, 1, 0, 0, 1]),
        ("bce", "sigmoid", [0, 1, 1, 0, 1, 0, 0, 1]),
        ("hinge", "linear", [0, 1, 1, 0, 1, 0, 0, 1]),
        ("mse", "linear", [0, 1, 1, 0, 1, 0, 0, 1]),
    ],
)
def test_predictions_are_what_accuracy_counts_as_right(loss, output_activation, targets):
    X, _ = nn.datasets.moons(len(targets), seed=1)
    outputs = 3 if loss == "cross_entropy" else 1
    model = nn.MLP(2, [5, outputs], output_activation=output_activation, seed=4)
    predicted = nn.predict(model, X, loss=loss)
    assert all(type(p) is int for p in predicted)
    agree = sum(p == t for p, t in zip(predicted, targets)) / len(targets)
    assert agree == nn.accuracy(model, X, targets, loss=loss)


def test_predict_picks_the_largest_logit_and_the_threshold_of_one_output():
    model = nn.MLP(1, [3], activation="linear", output_activation="linear", init="zeros")
    model.load_state_dict(
        {
            **model.state_dict(),
            "layers.0.neurons.2.b": 1.0,
            "layers.0.neurons.1.w.0": 2.0,
        }
    )
    assert nn.predict(model, [[0.0], [1.0]]) == [2, 1]
    one = nn.MLP(1, [1], output_activation="sigmoid", init="zeros")
    one.load_state_dict({"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.b": 0.0})
    assert nn.predict(one, [[-0.1], [0.1]]) == [0, 1]  # sigmoid output: bce, p > 0.5


def test_predict_runs_the_model_without_recording_a_graph():
    seen = []

    class Spy(nn.MLP):
        def __call__(self, x):
            seen.append(autograd.is_grad_enabled())
            return super().__call__(x)

    nn.predict(Spy(2, [3], seed=0), [[0.0, 1.0], [1.0, 0.0]])
    assert seen == [False, False]


def test_predict_refuses_a_custom_loss():
    with pytest.raises(ValueError, match="predict has no reading"):
        nn.predict(nn.MLP(2, [3], seed=0), [[0.0, 1.0]], loss=lambda p, t: p)
