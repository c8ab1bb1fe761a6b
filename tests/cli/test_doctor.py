"""`chainrule doctor`: one line per dependency, exit status 0 when the core works and 1 when it does not."""

from __future__ import annotations

import importlib.metadata
import re
import sys

import pytest

from nn.cli import main

NAMES = [
    "chainrule",
    "Python",
    "engine",
    "graphviz",
    "Graphviz dot",
    "tqdm",
    "matplotlib",
    "NumPy",
    "scikit-learn",
    "PyTorch",
    "Jupyter",
    "JupyterLab",
    "HIPS autograd",
    "notebook kernel",
]
LINE = re.compile(r"^(ok  |--  |FAIL) (.{16}) (.+)$")


def _doctor(capsys) -> tuple[int, dict, str]:
    status = main(["doctor"])
    lines = capsys.readouterr().out.splitlines()
    report = {}
    for line in lines[:-1]:
        match = LINE.match(line)
        assert match, f"not a report line: {line!r}"
        report[match[2].strip()] = (match[1].strip(), match[3])
    return status, report, lines[-1]


@pytest.mark.needs("matplotlib", "numpy", "torch", "sklearn", "ipywidgets")
def test_doctor_reports_every_dependency_in_one_line_each_and_exits_0_here(capsys):
    status, report, verdict = _doctor(capsys)
    assert list(report) == NAMES
    assert status == 0 and verdict.startswith("the core works")
    optional = {"JupyterLab"}  # an extra of its own; reported either way
    assert all(mark == "ok" for name, (mark, _) in report.items() if name not in optional), report
    assert report["JupyterLab"][0] == "ok" or "pip install 'chainrule[notebooks]'" in report["JupyterLab"][1]
    assert report["chainrule"][1].startswith(importlib.metadata.version("chainrule") + " at ")
    assert sys.executable in report["Python"][1]
    assert re.search(r"graphviz version \d", report["Graphviz dot"][1])
    assert "imports chainrule" in report["notebook kernel"][1]


def test_doctor_without_dot_or_matplotlib_says_how_to_get_them_and_still_exits_0(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, report, verdict = _doctor(capsys)
    assert status == 0 and verdict.startswith("the core works;")
    assert report["Graphviz dot"][0] == "--" and "install Graphviz" in report["Graphviz dot"][1]
    assert report["matplotlib"] == ("--", "not installed: pip install 'chainrule[plot]'")


@pytest.mark.parametrize("module", ["tqdm", "graphviz"])
def test_doctor_without_a_core_dependency_fails_with_exit_status_1(capsys, monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)
    status, report, verdict = _doctor(capsys)
    assert status == 1
    assert report[module][0] == "FAIL" and "pip install chainrule" in report[module][1]
    assert verdict == f"the core does not work: {module} (see above)"


def test_doctor_names_a_hips_autograd_installed_elsewhere_on_the_path(capsys, monkeypatch, tmp_path):
    info = tmp_path / "autograd-1.9.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: autograd\nVersion: 1.9.1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    status, report, _ = _doctor(capsys)
    assert status == 0
    assert (
        "1.9.1 is also installed" in report["HIPS autograd"][1]
        and "separate virtual environments" in report["HIPS autograd"][1]
    )


def test_doctor_help_says_what_the_exit_status_means(capsys):
    with pytest.raises(SystemExit) as done:
        main(["doctor", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit status 0 when the core works, 1 when it does not" in text


@pytest.mark.needs("torch", "sklearn")
def test_doctor_names_the_pytorch_build_and_scikit_learn(capsys):
    import sklearn
    import torch

    _, report, _ = _doctor(capsys)
    build = "CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build"
    assert report["PyTorch"][0] == "ok" and report["PyTorch"][1].startswith(f"{torch.__version__}, {build}")
    assert report["scikit-learn"] == (
        "ok",
        f"{sklearn.__version__} at {__import__('pathlib').Path(sklearn.__file__).parent}",
    )


def test_doctor_without_pytorch_scikit_learn_or_jupyterlab_says_how_to_get_them(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: (
            (_ for _ in ()).throw(importlib.metadata.PackageNotFoundError(name)) if name == "jupyterlab" else real(name)
        ),
    )
    status, report, _ = _doctor(capsys)
    assert status == 0
    assert report["PyTorch"] == ("--", "not installed: pip install 'chainrule[torch]'")
    assert report["scikit-learn"] == ("--", "not installed: pip install 'chainrule[data]'")
    assert report["JupyterLab"][0] == "--" and "pip install 'chainrule[notebooks]'" in report["JupyterLab"][1]
