"""Real installs into throwaway virtual environments: what a new user, and pip, actually do.

- `pip install .` from a clean copy of the project (no extras): `chainrule train` trains, saves the
  model and says how to get each skipped picture, with and without Graphviz's `dot`;
- `python -m build` makes a wheel and an sdist, each of which installs and passes a smoke test;
- HIPS autograd (from PyPI) installed next to chainrule, in either order: `import nn` and the
  `chainrule` command name HIPS in one line, and the fix they print works.

Marked slow (each builds virtual environments; about a minute in all, the pip cache helps), and
network where PyPI is needed; `make test` runs them, `-m "not slow"` leaves them out.
"""

from __future__ import annotations

import math
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

import autograd

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
_SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "out",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    "notebooks",
    "bench",
)


def _run(args, *, env=None, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


def _venv(folder: pathlib.Path) -> pathlib.Path:
    """A new virtual environment with nothing in it (pip is run from outside with --python)."""
    done = _run([sys.executable, "-m", "venv", "--without-pip", folder])
    assert done.returncode == 0, done.stderr
    return folder / "bin" / "python"


def _pip(python: pathlib.Path, *args, cwd=None) -> None:
    done = _run([sys.executable, "-m", "pip", "--python", python, *args, "--quiet"], cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]


def _env(python: pathlib.Path, *, dot: bool) -> dict:
    """The venv's bin first on PATH, and the system's (where `dot` is) only when asked."""
    path = str(python.parent) + (os.pathsep + "/usr/local/bin:/usr/bin:/bin" if dot else "")
    return {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}, "PATH": path}


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict:
    """`python -m build` on a clean copy of the project: {"wheel": path, "sdist": path}."""
    source = tmp_path_factory.mktemp("source") / "chainrule"
    shutil.copytree(ROOT, source, ignore=_SKIP)
    out = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "build", "--outdir", out, source])
    assert done.returncode == 0, done.stderr[-3000:]
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz")), "source": source}


def test_pip_install_dot_without_extras_trains_and_says_how_to_get_each_skipped_picture(tmp_path, dists):
    python = _venv(tmp_path / "venv")
    _pip(python, "install", ".", cwd=dists["source"])
    chainrule = python.parent / "chainrule"
    skipped_plot = ": this plot needs matplotlib: pip install 'chainrule[plot]'"

    done = _run([chainrule, "train", "--epochs", "2", "--out", "o"], env=_env(python, dot=False), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "model.json").stat().st_size > 0
    assert "Traceback" not in done.stdout + done.stderr
    notes = [ln for ln in done.stderr.splitlines() if ln.startswith("skipped ")]
    assert notes[:2] == [f"skipped o/loss.png{skipped_plot}", f"skipped o/decision_boundary.png{skipped_plot}"]
    assert notes[2].startswith("skipped o/neuron_backprop.html: ") and "install Graphviz" in notes[2]
    assert len(notes) == 3

    done = _run([chainrule, "train", "--epochs", "2", "--out", "o2"], env=_env(python, dot=True), cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    page = (tmp_path / "o2" / "neuron_backprop.html").read_text()
    assert page.count("<svg") == 1 and page.count("step ") > 1  # one picture, several frames
    assert [ln for ln in done.stderr.splitlines() if ln.startswith("skipped ")] == [
        n.replace(" o/", " o2/") for n in notes[:2]
    ]

    done = _run([chainrule, "doctor"], env=_env(python, dot=True), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--   matplotlib       not installed: pip install 'chainrule[plot]'" in done.stdout.splitlines()


def test_the_wheel_holds_only_the_two_packages_and_the_sdist_what_builds_them(dists):
    names = zipfile.ZipFile(dists["wheel"]).namelist()
    assert {n.split("/")[0] for n in names} == {"autograd", "nn", f"chainrule-{autograd.__version__}.dist-info"}
    assert "autograd/_clash.py" in names and "nn/doctor.py" in names
    import tarfile

    members = {m.split("/", 1)[1] for m in tarfile.open(dists["sdist"]).getnames() if "/" in m}
    assert {"pyproject.toml", "README.md", "autograd/__init__.py", "nn/__init__.py"} <= members


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_built_wheel_and_sdist_install_into_a_clean_venv_and_pass_a_smoke_test(tmp_path, dists, kind):
    python = _venv(tmp_path / "venv")
    _pip(python, "install", dists[kind])
    env = _env(python, dot=True)
    done = _run([python.parent / "chainrule", "graph", "x*x + 3*x", "x=2"], env=env, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.splitlines() == ["value = 10", "x.grad = 7"], done.stdout + done.stderr
    smoke = (
        "import autograd, nn\n"
        "model = nn.MLP(2, [4, 1], seed=0)\n"
        "X, y = nn.datasets.moons(40, seed=0)\n"
        "history = nn.fit(model, X, y, epochs=3, progress=False)\n"
        "assert history['loss'][-1] < history['loss'][0], history\n"
        "print(autograd.grad(autograd.grad(autograd.tanh))(0.5))"
    )
    done = _run([python, "-c", smoke], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    t = math.tanh(0.5)
    assert abs(float(done.stdout) - (-2 * t * (1 - t * t))) < 1e-12  # tanh'' by the closed form
    done = _run([python.parent / "chainrule", "doctor"], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout


@pytest.mark.network
@pytest.mark.parametrize("order", ["chainrule-then-hips", "hips-then-chainrule"])
def test_hips_autograd_installed_next_to_chainrule_is_named_in_one_line_either_order(tmp_path, dists, order):
    python = _venv(tmp_path / "venv")
    steps = [dists["wheel"], "autograd"] if order == "chainrule-then-hips" else ["autograd", dists["wheel"]]
    for requirement in steps:
        _pip(python, "install", requirement)
    env = _env(python, dot=True)

    done = _run([python, "-c", "import nn"], env=env, cwd=tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("autograd._clash.AutogradClashError: HIPS autograd is installed alongside chainrule")
    assert "'autograd'" in last and "pip uninstall -y autograd chainrule && pip install chainrule" in last

    done = _run([python.parent / "chainrule", "train", "--epochs", "1"], env=env, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [f"chainrule: error: {last.split(': ', 1)[1]}"]

    # the fix the message gives (here with the wheel standing in for PyPI's chainrule)
    _pip(python, "uninstall", "-y", "autograd", "chainrule")
    _pip(python, "install", dists["wheel"])
    done = _run([python, "-c", "import nn, autograd; print(autograd.Value(2.0) ** 2)"], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
