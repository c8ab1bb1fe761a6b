"""`chainrule train` trains, reports accuracy, and writes four files a person can open."""

import json
import re

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


def test_train_with_movie_writes_one_self_contained_page_and_says_its_size(tmp_path, capsys):
    movie = tmp_path / "deeper" / "training.html"
    status = main(["train", "--epochs", "5", "--samples", "40", "--hidden", "4", "--no-progress",
                   "--out", str(tmp_path / "out"), "--movie", str(movie), "--movie-every", "2"])  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0
    page = movie.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="movie-data">(.*?)</script>', page, re.S)[1])
    assert [f["epoch"] for f in data["frames"]] == [0, 2, 4, 5]
    assert "<title>chainrule: training MLP(2 -&gt; 4 relu -&gt; 1 linear) on moons" in page
    (line,) = [ln for ln in printed.splitlines() if ln.startswith("movie:")]
    assert re.fullmatch(r"movie: 4 frames, \d+\.\d\d MB, made in \d+\.\d s .*", line)
    assert f"wrote {movie}" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--movie-every", "0", "--movie", "m.html"], "--movie-every must be at least 1, got 0"),
        (["--movie-every", "3"], "--movie-every needs --movie FILE.html"),
        (["--movie", "."], "--movie takes a file name"),
    ],
)
def test_bad_movie_options_are_refused_in_one_line_before_training(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    status = main(["train", "--epochs", "1", "--no-progress", "--out", str(tmp_path), *args])
    captured = capsys.readouterr()
    assert status == 2 and "training" not in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith("chainrule train: error: ") and message in line


def test_neuron_backprop_page_says_which_neuron_and_which_example(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["train", "--epochs", "1", "--samples", "40", "--no-progress", "--out", str(out)]) == 0
    page = (out / "neuron_backprop.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", page)[1]
    match = re.fullmatch(r"backprop through neuron 0 of layer 1 on training example (\d+)", title)
    assert match, title
    assert f"<h1 style=\"font-size:16px\">{title}</h1>" in page
    assert f"training example {match[1]} (counting from 0), x = (" in page
    for label in ("W1[0,0]", "W1[0,1]", "b1[0]", "z1[0]", "a1[0]", "x0", "x1"):  # the names of the closed forms
        assert f'font-weight="bold" font-size="11.00">{label}</text>' in page, label


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
