"""The HIPS `autograd` clash is caught at import, in every shape pip can leave it, in one line.

Each test lays out a site folder as pip would leave it (copies of chainrule's `autograd/` and `nn/`
with HIPS autograd's files mixed in, or HIPS's package in place or in front) and imports from it
in a fresh Python that sees nothing else (``-S``: no site-packages). tests/install/test_install.py does
the same with real pip installs of both distributions.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The shape of HIPS autograd's package: its own __init__ and extend (the two files both ship),
# and files chainrule never has.
HIPS_INIT = "from .differential_operators import grad\nfrom . import tracer\n"
HIPS_FILES = {
    "differential_operators.py": "def grad(f):\n    return f\n",
    "tracer.py": "",
    "core.py": "",
    "extend.py": "from .tracer import *\n",
    "numpy/__init__.py": "",
    "scipy/__init__.py": "",
}
FIX = "pip uninstall -y autograd chainrule && pip install chainrule"


def _chainrule_site(folder: pathlib.Path) -> pathlib.Path:
    """A site folder holding chainrule's two packages, as `pip install chainrule` leaves them."""
    for package in ("autograd", "nn"):
        shutil.copytree(ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _add_hips(autograd: pathlib.Path, *, init: bool) -> None:
    """Write HIPS autograd's files into `autograd`; with `init`, its __init__.py and extend.py win."""
    for name, text in HIPS_FILES.items():
        if name == "extend.py" and not init:
            continue
        (autograd / name).parent.mkdir(parents=True, exist_ok=True)
        (autograd / name).write_text(text)
    if init:
        (autograd / "__init__.py").write_text(HIPS_INIT)


def _python(code: str, *sites, argv0: str | None = None) -> subprocess.CompletedProcess:
    """Run `code` (or the script argv0) in a Python that sees only `sites`."""
    env = {"PYTHONPATH": ":".join(map(str, sites)), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    args = [sys.executable, "-S", argv0] if argv0 else [sys.executable, "-S", "-c", code]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, cwd=sites[0])


def _assert_names_hips_in_one_line(text: str) -> str:
    line = text.strip().splitlines()[-1]
    assert "HIPS autograd" in line and "'autograd'" in line and FIX in line and "separate virtual environment" in line
    return line


def test_hips_installed_after_chainrule_its_init_in_place_import_nn_names_hips(tmp_path):
    site = _chainrule_site(tmp_path)
    _add_hips(site / "autograd", init=True)
    done = _python("import nn", site)
    assert done.returncode == 1
    line = _assert_names_hips_in_one_line(done.stderr)
    assert line.startswith("autograd._clash.AutogradClashError: HIPS autograd is installed alongside chainrule")


def test_hips_installed_before_chainrule_its_files_left_beside_ours_import_autograd_names_hips(tmp_path):
    site = _chainrule_site(tmp_path)
    _add_hips(site / "autograd", init=False)
    for code in ("import autograd", "import nn", "from autograd import Value"):
        done = _python(code, site)
        assert done.returncode == 1, code
        _assert_names_hips_in_one_line(done.stderr)
        assert "AutogradClashError" in done.stderr and "cannot import name" not in done.stderr


def test_hips_package_in_front_on_the_path_import_nn_names_hips(tmp_path):
    hips = tmp_path / "hips"
    (hips / "autograd").mkdir(parents=True)
    _add_hips(hips / "autograd", init=True)
    site = _chainrule_site(tmp_path / "site")
    done = _python("import nn", hips, site)
    assert done.returncode == 1
    _assert_names_hips_in_one_line(done.stderr)


def test_hips_uninstalled_after_both_says_to_reinstall_chainrule(tmp_path):
    site = _chainrule_site(tmp_path)
    for name in ("__init__.py", "extend.py"):  # what uninstalling HIPS takes away: the files both ship
        (site / "autograd" / name).unlink()
    done = _python("import nn", site)
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert "lost its __init__.py" in line and "pip install --force-reinstall --no-deps chainrule" in line


@pytest.mark.parametrize("hips_init", [True, False], ids=["hips-init-in-place", "hips-files-beside-ours"])
def test_the_chainrule_command_prints_the_same_message_in_one_line_and_exits_1(tmp_path, hips_init):
    site = _chainrule_site(tmp_path / "site")
    _add_hips(site / "autograd", init=hips_init)
    script = tmp_path / "bin" / "chainrule"  # as pip writes the entry point: import main, call it
    script.parent.mkdir()
    entry = _entry_point()
    script.write_text(f"import sys\nfrom {entry[0]} import {entry[1]}\nsys.exit({entry[1]}())\n")
    done = _python("", site, argv0=str(script))
    assert done.returncode == 1
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("chainrule: error: HIPS autograd is installed alongside chainrule")
    _assert_names_hips_in_one_line(done.stderr)


def _entry_point() -> tuple[str, str]:
    """(module, function) of the `chainrule` command, read from pyproject.toml."""
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        if line.replace(" ", "").startswith("chainrule="):
            module, _, function = line.split("=", 1)[1].strip().strip('"').partition(":")
            return module, function
    raise AssertionError("no chainrule entry point in pyproject.toml")


def test_chainrules_own_folder_passes_the_check():
    import autograd
    from autograd import _clash

    assert getattr(autograd, _clash.MARKER) is True
    assert _clash.hips_files(autograd.__path__) == []
    _clash.check()
