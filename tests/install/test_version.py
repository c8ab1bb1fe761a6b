"""The version is written once: pyproject reads autograd.__version__, and the changelog's newest entry names it."""

import importlib.metadata
import re
from pathlib import Path

import autograd

REPO = Path(__file__).resolve().parents[2]


def test_the_installed_version_is_autograd_version():
    assert importlib.metadata.version("chainrule") == autograd.__version__


def test_pyproject_reads_the_version_instead_of_writing_it():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "autograd.__version__"' in pyproject
    assert not re.search(r"^version\s*=\s*\"", pyproject, flags=re.M)


def test_the_changelog_newest_entry_is_this_version():
    entries = re.findall(r"^## (\d+\.\d+\.\d+)", (REPO / "CHANGELOG.md").read_text(), flags=re.M)
    assert entries[0] == autograd.__version__
    assert entries == sorted(entries, key=lambda v: tuple(map(int, v.split("."))), reverse=True)
