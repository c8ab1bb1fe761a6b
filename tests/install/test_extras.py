"""What a plain `pip install chainrule` does without the extras: train, save the model, and say in
one line per skipped picture how to get it; every optional import fails in one line naming its extra.

Missing modules are simulated in-process (``sys.modules[name] = None`` makes importing it fail) and
a missing Graphviz ``dot`` by a PATH without it; tests/install/test_install.py does the real thing in a
throwaway virtual environment.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import sys

import pytest

import nn
from autograd._optional import EXTRAS, MissingExtraError, require
from nn.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python >= 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements) -> set:
    """Distribution names of requirement strings, without versions or markers."""
    return {
        r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in requirements
    }


def test_core_dependencies_are_only_the_graphviz_binding_and_tqdm():
    assert _names(_pyproject()["dependencies"]) == {"graphviz", "tqdm"}


def test_each_extra_holds_what_its_line_promises():
    extras = _pyproject()["optional-dependencies"]
    distribution = {"sklearn": "scikit-learn"}
    for module, (_, extra) in EXTRAS.items():
        assert distribution.get(module, module) in _names(extras[extra]), (module, extra)
    assert {"matplotlib", "numpy", "nbclient", "nbformat", "ipykernel", "ipywidgets"} <= _names(extras["notebooks"])
    dev = extras["dev"]
    assert any(
        r.replace(" ", "").startswith("chainrule[") and all(e in r for e in ("plot", "notebooks", "torch", "data"))
        for r in dev
    )
    assert any(r.startswith("chainrule[") and "test" in r for r in dev)
    assert {"pytest", "hypothesis", "ruff"} <= _names(extras["test"]) and {"build", "playwright"} <= _names(dev)


def test_to_numpy_without_numpy_fails_in_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(MissingExtraError) as caught:
        nn.MLP(2, [3, 1], seed=0).to_numpy()
    assert str(caught.value) == "to_numpy needs NumPy: pip install 'chainrule[notebooks]'"
    assert isinstance(caught.value, ImportError) and caught.value.name == "numpy"


def test_nn_reference_without_numpy_fails_in_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    monkeypatch.delitem(sys.modules, "nn.reference", raising=False)
    with pytest.raises(MissingExtraError, match=r"^nn\.reference needs NumPy: pip install 'chainrule\[notebooks\]'$"):
        importlib.import_module("nn.reference")


@pytest.mark.parametrize(
    "module, extra, name",
    [("sklearn", "data", "scikit-learn"), ("torch", "torch", "PyTorch"), ("matplotlib.pyplot", "plot", "matplotlib")],
)
def test_require_names_the_extra_for_each_optional_package(monkeypatch, module, extra, name):
    top = module.partition(".")[0]
    for loaded in [m for m in sys.modules if m.startswith(top + ".")]:  # an earlier test may have imported it
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setitem(sys.modules, top, None)
    with pytest.raises(MissingExtraError) as caught:
        require(module, "this feature")
    assert str(caught.value) == f"this feature needs {name}: pip install 'chainrule[{extra}]'"


def test_require_shows_a_broken_dependency_of_an_installed_package_as_it_is(monkeypatch, tmp_path):
    (tmp_path / "matplotlib").mkdir()
    (tmp_path / "matplotlib" / "__init__.py").write_text("import a_module_that_is_not_there\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    with pytest.raises(ModuleNotFoundError) as caught:
        require("matplotlib", "drawing it")
    assert not isinstance(caught.value, MissingExtraError) and caught.value.name == "a_module_that_is_not_there"


def _train(tmp_path, capsys) -> tuple[int, pathlib.Path, str, str]:
    out = tmp_path / "o"
    status = main(["train", "--epochs", "2", "--samples", "40", "--no-progress", "--out", str(out)])
    captured = capsys.readouterr()
    return status, out, captured.out, captured.err


def _without_matplotlib(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def _without_dot(monkeypatch, tmp_path):
    empty = tmp_path / "no-dot-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_train_without_matplotlib_saves_the_model_and_says_how_to_get_the_plots(tmp_path, capsys, monkeypatch):
    _without_matplotlib(monkeypatch)
    status, out, printed, errors = _train(tmp_path, capsys)
    assert status == 0
    assert nn.load(out / "model.json").parameters() and (out / "neuron_backprop.html").stat().st_size > 0
    assert not (out / "loss.png").exists() and not (out / "decision_boundary.png").exists()
    assert errors.splitlines() == [
        f"skipped {out / 'loss.png'}: this plot needs matplotlib: pip install 'chainrule[plot]'",
        f"skipped {out / 'decision_boundary.png'}: this plot needs matplotlib: pip install 'chainrule[plot]'",
    ]
    assert f"wrote {out / 'model.json'}" in printed and "Traceback" not in printed + errors


@pytest.mark.needs("matplotlib")
def test_train_without_graphviz_dot_saves_the_model_and_says_how_to_get_the_step_through(tmp_path, capsys, monkeypatch):
    _without_dot(monkeypatch, tmp_path)
    status, out, printed, errors = _train(tmp_path, capsys)
    assert status == 0
    assert json.loads((out / "model.json").read_text()) and (out / "loss.png").stat().st_size > 0
    assert not (out / "neuron_backprop.html").exists()
    (line,) = errors.splitlines()
    assert line.startswith(f"skipped {out / 'neuron_backprop.html'}: ") and "install Graphviz" in line


def test_train_with_neither_still_exits_0_with_one_line_per_skipped_picture(tmp_path, capsys, monkeypatch):
    _without_matplotlib(monkeypatch)
    _without_dot(monkeypatch, tmp_path)
    status, out, printed, errors = _train(tmp_path, capsys)
    assert status == 0 and (out / "model.json").exists()
    assert [ln.split(":")[0] for ln in errors.splitlines()] == [
        f"skipped {out / name}" for name in ("loss.png", "decision_boundary.png", "neuron_backprop.html")
    ]
    assert "train accuracy" in printed


def test_fit_shows_a_widget_progress_bar_in_jupyter():
    """tqdm.auto: in a notebook the bar is an ipywidgets widget, not lines of text."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    code = (
        "import nn\nX, y = nn.datasets.moons(20, seed=0)\n"
        "nn.fit(nn.MLP(2, [4, 1], seed=0), X, y, epochs=2, progress=True)['loss'][-1]"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    kinds = {key for o in outputs for key in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in kinds, outputs
    assert not any(o.output_type == "error" for o in outputs)


def test_train_movie_needs_neither_matplotlib_nor_numpy(tmp_path, capsys, monkeypatch):
    _without_matplotlib(monkeypatch)
    for name in [m for m in sys.modules if m == "numpy" or m.startswith("numpy.") or m == "nn.reference"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "numpy", None)
    movie = tmp_path / "training.html"
    status = main(
        [
            "train",
            "--epochs",
            "2",
            "--samples",
            "40",
            "--hidden",
            "4",
            "--no-progress",
            "--out",
            str(tmp_path / "o"),
            "--movie",
            str(movie),
        ]
    )
    captured = capsys.readouterr()
    assert status == 0 and f"wrote {movie}" in captured.out
    assert 'id="movie-data"' in movie.read_text(encoding="utf-8")
