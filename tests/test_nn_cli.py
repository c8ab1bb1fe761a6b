"""`chainrule train` trains, reports accuracy, and writes four files a person can open."""

import json

import pytest

import nn
from nn.cli import main


@pytest.mark.parametrize("data, extra", [("moons", []), ("spiral", ["--hidden", "8"])])
def test_train_writes_plots_model_and_step_through(tmp_path, capsys, data, extra):
    out = tmp_path / "out"
    status = main(["train", "--data", data, "--epochs", "3", "--samples", "40", "--no-progress", "--out", str(out), *extra])
    printed = capsys.readouterr().out
    assert status == 0
    assert "train accuracy" in printed and "test accuracy" in printed
    for name in ("loss.png", "decision_boundary.png", "model.json", "neuron_backprop.html"):
        assert (out / name).stat().st_size > 0
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = nn.load(out / "model.json")
    assert json.loads((out / "model.json").read_text())
    assert len(model.parameters()) > 0
    html = (out / "neuron_backprop.html").read_text()
    assert "<svg" in html and "http" not in html.split("<svg")[0]


def test_train_on_moons_with_defaults_reaches_high_test_accuracy(tmp_path, capsys):
    assert main(["train", "--no-progress", "--out", str(tmp_path)]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if "test accuracy" in ln][0]
    test_accuracy = float(line.rsplit("test accuracy", 1)[1].strip().rstrip("%"))
    assert test_accuracy >= 90.0


def test_train_compiled_learns_the_same_weights_as_eager(tmp_path, capsys):
    common = ["train", "--epochs", "3", "--samples", "40", "--no-progress", "--batch-size", "8"]
    weights = {}
    for mode in ("off", "python", "numpy"):
        assert main([*common, "--compile", mode, "--out", str(tmp_path / mode)]) == 0
        weights[mode] = json.loads((tmp_path / mode / "model.json").read_text())["state_dict"]
    assert "compiled (python)" in capsys.readouterr().out
    assert weights["python"] == weights["off"]  # the same sums in the same order
    for name, w in weights["off"].items():
        assert weights["numpy"][name] == pytest.approx(w, rel=1e-9, abs=1e-12)


def test_train_compile_numpy_without_numpy_is_one_line(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numpy", None)
    assert main(["train", "--compile", "numpy", "--epochs", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'chainrule[notebooks]'" in err
