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
