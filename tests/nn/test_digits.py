"""Real data: scikit-learn's handwritten digits load as plain lists, an MLP learns them, and
`chainrule train --data digits` writes its pictures. Skipped without scikit-learn."""

import sys

import pytest

import nn
from nn import datasets
from nn.cli import main


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    return datasets.digits()


def test_digits_are_1797_rows_of_64_floats_with_labels_0_to_9(digits):
    X, y = digits
    assert len(X) == len(y) == 1797
    assert all(type(row) is list and len(row) == 64 for row in X)
    assert all(type(v) is float and 0.0 <= v <= 16.0 for row in X for v in row)
    assert all(type(t) is int for t in y)
    assert sorted(set(y)) == list(range(10))
    assert min(y.count(k) for k in range(10)) >= 170  # about 180 of each digit


def test_digits_are_the_images_scikit_learn_ships(digits):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X, y = digits
    assert X == bunch.data.tolist() and y == bunch.target.tolist()
    assert X[0] == [float(v) for v in bunch.images[0].ravel()]  # row by row, 8 pixels a row


def test_digits_split_and_normalise_like_the_other_sets(digits):
    X, y = digits
    X_train, X_test, _, _ = datasets.train_test_split(X, y, test_size=0.2, seed=0)
    assert (len(X_train), len(X_test)) == (1437, 360)
    Xn, _, std = datasets.normalize(X_train)
    assert std[0] == 0.0 and all(row[0] == 0.0 for row in Xn)  # the corner pixel is never inked
    inked = [j for j in range(64) if std[j] > 0]
    for j in inked[:5]:
        assert abs(sum(row[j] for row in Xn) / len(Xn)) < 1e-12


def test_digits_without_scikit_learn_fail_in_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError) as info:
        datasets.digits()
    assert str(info.value) == "nn.datasets.digits needs scikit-learn: pip install 'chainrule[data]'"


def test_a_small_mlp_learns_digits_in_two_epochs(digits):
    """64-16-10, Adam, 2 epochs of mini-batches: about 94% of held-out images right (chance is 10%)."""
    X, y = digits
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.2, seed=0)
    X_train, mean, std = datasets.normalize(X_train)
    X_test, _, _ = datasets.normalize(X_test, mean, std)
    model = nn.MLP(64, [16, 10], seed=0)
    history = nn.fit(
        model,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=nn.optim.Adam(model.parameters(), lr=0.02),
        epochs=2,
        batch_size=32,
        progress=False,
        seed=0,
    )
    assert history["loss"][1] < history["loss"][0]
    assert nn.accuracy(model, X_test, y_test) >= 0.88
    predicted = nn.predict(model, X_test)
    assert sum(p == t for p, t in zip(predicted, y_test)) / len(y_test) == nn.accuracy(model, X_test, y_test)


def test_train_on_digits_writes_its_four_pictures_and_the_model(tmp_path, capsys, digits):
    out = tmp_path / "out"
    status = main(
        [
            "train",
            "--data",
            "digits",
            "--samples",
            "300",
            "--epochs",
            "2",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "MLP(64 -> 32 relu -> 10 linear) on digits (240 train / 60 test)" in printed
    for name in (
        "loss.png",
        "confusion_matrix.png",
        "misclassified.png",
        "first_layer_weights.png",
    ):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "decision_boundary.png").exists()
    assert repr(nn.load(out / "model.json")) == "MLP(64 -> 32 relu -> 10 linear)"


def test_train_on_a_few_digits_still_has_ten_outputs(tmp_path, capsys, digits):
    assert (
        main(
            [
                "train",
                "--data",
                "digits",
                "--samples",
                "8",
                "--epochs",
                "1",
                "--no-progress",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "MLP(64 -> 32 relu -> 10 linear) on digits (6 train / 2 test)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--noise", "0.1"], "--noise applies to the generated sets, not to digits"),
        (
            ["--samples", "2000"],
            "--samples 2000 is more than the 1797 images of digits",
        ),
        (["--loss", "hinge"], "--data digits has 10 classes: use --loss cross_entropy"),
    ],
)
def test_train_on_digits_refuses_options_that_do_not_apply_in_one_line(tmp_path, capsys, digits, args, message):
    assert main(["train", "--data", "digits", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_train_on_digits_without_scikit_learn_says_which_extra_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert main(["train", "--data", "digits", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "chainrule train --data digits needs scikit-learn: pip install 'chainrule[data]'" in err
    assert err.count("\n") == 1


def test_train_on_digits_without_matplotlib_saves_the_model_and_says_how_to_get_each_picture(
    tmp_path, capsys, digits, monkeypatch
):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "out"
    assert (
        main(["train", "--data", "digits", "--samples", "100", "--epochs", "1", "--no-progress", "--out", str(out)])
        == 0
    )
    captured = capsys.readouterr()
    names = ["loss.png", "confusion_matrix.png", "misclassified.png", "first_layer_weights.png"]
    assert captured.err.splitlines() == [
        f"skipped {out / name}: this plot needs matplotlib: pip install 'chainrule[plot]'" for name in names
    ]
    assert f"wrote {out / 'model.json'}" in captured.out and not any((out / name).exists() for name in names)
