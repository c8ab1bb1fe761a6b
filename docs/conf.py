"""Sphinx configuration for chainrule's documentation site (`make docs`).

The pages are the Markdown files beside this one (MyST); the notebooks are rendered from their
committed outputs, never re-executed (MyST-NB, as JAX's documentation does); the API reference
is read from the docstrings (autodoc). Built with warnings as errors.
"""

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document this checkout, whatever else is installed

import autograd  # noqa: E402

project = "chainrule"
author = "the chainrule developers"
copyright = "2026, the chainrule developers"  # noqa: A001 - Sphinx's name for it
version = release = autograd.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc"]
nb_execution_mode = "off"  # the committed outputs are what readers see
myst_heading_anchors = 3
myst_enable_extensions = [
    "dollarmath",
    "amsmath",
]  # the notebooks write their maths between $ signs, as Jupyter reads it
default_role = "py:obj"  # `Value` in a docstring links to it where it can
autodoc_member_order = "bysource"
autodoc_typehints = "description"

html_theme = "furo"
html_title = f"chainrule {release}"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "notebooks/.ipynb_checkpoints"]


def _copy_notebooks() -> None:
    """The notebooks live in the repository's notebooks/ folder; the site renders copies of them
    (with the pictures their Markdown cells show) from docs/notebooks/, which git ignores."""
    target = DOCS / "notebooks"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(notebook, target / notebook.name)
    shutil.copytree(ROOT / "notebooks" / "img", target / "img")


_copy_notebooks()
