"""One place pins PyTorch (issue 18) and `make` asks for its CPU-only build (issue 21.8): the Makefile's
TORCH_VERSION is what the install asks for, satisfies pyproject's `torch` extra and is the version
docs/install.md names; where PyTorch's CPU index is unreachable `make torch` says so in one line and
falls back to plain pip quickly. `make torch` runs here with a stand-in Python that records pip's
arguments, so nothing is installed and no network is used."""

import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
VERSION = re.search(r"^TORCH_VERSION\s*:=\s*(\S+)$", MAKEFILE, re.M)[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def test_the_makefile_pins_pytorch_once_and_pyproject_agrees():
    assert len(re.findall(r"torch==\d", MAKEFILE)) == 0, "spell the pin as torch==$(TORCH_VERSION)"
    assert MAKEFILE.count("torch==$(TORCH_VERSION)") >= 2  # the CPU index and the fallback
    tomllib = pytest.importorskip("tomllib")
    specifiers = pytest.importorskip("packaging.specifiers")
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["torch"]
    (requirement,) = [r for r in extra if r.startswith("torch")]
    assert "==" not in requirement, "pin PyTorch in the Makefile only"
    assert VERSION in specifiers.SpecifierSet(requirement[len("torch") :])


def test_the_install_page_names_the_pinned_version_and_how_to_choose_the_build():
    text = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    assert f"torch=={VERSION}" in text
    assert set(re.findall(r"torch==([\d.]+)", text)) == {VERSION}
    assert "TORCH_BUILD=default" in text and "download.pytorch.org/whl/cpu" in text


def _fake_python(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in for the venv's python: runs `-c` probes with the real one, records `-m pip` calls."""
    log = tmp_path / "pip.log"
    fake = tmp_path / "python"
    fake.write_text(
        f'#!/bin/sh\nif [ "$1" = -m ]; then echo "$@" >> {log}; exit 0; fi\nexec {sys.executable} "$@"\n',
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake, log


def _make_torch(fake: Path, index: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "torch", f"PY={fake}", f"TORCH_INDEX={index}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
    )


def test_an_unreachable_cpu_index_falls_back_to_plain_pip_in_one_line(tmp_path):
    fake, log = _fake_python(tmp_path)
    done = _make_torch(fake, "http://127.0.0.1:9/whl/cpu")  # port 9 (discard): refused at once
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and "is not reachable: installing torch==" in lines[0] and "CUDA" in lines[0]
    assert log.read_text().split() == ["-m", "pip", "install", "--quiet", f"torch=={VERSION}"]


def test_a_reachable_cpu_index_is_used(tmp_path):
    (tmp_path / "site" / "torch").mkdir(parents=True)
    (tmp_path / "site" / "torch" / "index.html").write_text("<a>torch</a>")
    server = HTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        fake, log = _fake_python(tmp_path)
        index = f"http://127.0.0.1:{server.server_port}"
        done = _make_torch(fake, index)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"installing PyTorch {VERSION}, CPU-only build, from {index}"]
    assert log.read_text().split() == ["-m", "pip", "install", "--quiet", "--index-url", index, f"torch=={VERSION}"]
