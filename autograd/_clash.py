"""Catch the HIPS `autograd` clash: two distributions that both install a package named `autograd`.

HIPS autograd (``pip install autograd``) and chainrule both ship ``autograd/__init__.py`` and
``autograd/extend.py``. Installed into one environment, in either order, pip overwrites the
other's files without a word, and `pip check` sees nothing wrong. So at import `autograd`
(chainrule's ``__init__``) and `nn` look at the package folder and stop with one clear line
instead of a baffling ``cannot import name 'Value'`` or HIPS's code running under our name.
This module uses the standard library only: it must work whichever ``__init__`` ran.
"""

from __future__ import annotations

import pathlib
import sys

__all__ = ["AutogradClashError", "MARKER", "check", "hips_files", "clash_message"]

MARKER = "__chainrule__"  # set by chainrule's autograd/__init__.py; HIPS's has no such name
# Files and folders HIPS autograd installs into autograd/ that chainrule never ships.
_HIPS_ONLY = ("tracer.py", "differential_operators.py", "wrap_util.py", "numpy", "scipy", "misc")
_FIX = (
    "use a separate virtual environment for each, or, to keep chainrule here, run: "
    "pip uninstall -y autograd chainrule && pip install chainrule"
)


class AutogradClashError(ImportError):
    """HIPS autograd's files share the `autograd` package folder with chainrule's; the message says what to do."""


def hips_files(folders) -> list[str]:
    """The HIPS-only entries present in any of the `autograd` package folders given."""
    return [name for name in _HIPS_ONLY if any((pathlib.Path(f) / name).exists() for f in folders)]


def clash_message(folder) -> str:
    """One line: what is wrong, why, and the exact fix."""
    return (
        f"HIPS autograd is installed alongside chainrule (in {folder}): both use the import name "
        f"'autograd', so each overwrites or hides the other's files; {_FIX}"
    )


def _incomplete_message(folder) -> str:
    return (
        f"chainrule's 'autograd' package in {folder} has lost its __init__.py, as happens when HIPS "
        f"autograd (which uses the same import name) is uninstalled from an environment that had both; "
        f"reinstall it: pip install --force-reinstall --no-deps chainrule"
    )


def check(package=None) -> None:
    """Raise `AutogradClashError` unless `package` (default: the imported `autograd`) is chainrule's alone."""
    package = sys.modules["autograd"] if package is None else package
    folders = list(getattr(package, "__path__", ()))
    where = folders[0] if folders else getattr(package, "__file__", "?")
    if hips_files(folders):
        _fail(clash_message(where))
    if getattr(package, "__file__", None) is None:  # a namespace package: no __init__.py left
        _fail(_incomplete_message(where))
    if not getattr(package, MARKER, False):
        _fail(clash_message(where))


def _fail(message: str) -> None:
    """Raise the error; run as the `chainrule` command, let it end in that one line (exit status 1)."""
    if pathlib.Path(sys.argv[0] if sys.argv else "").stem == "chainrule":
        previous = sys.excepthook

        def one_line(kind, err, tb):
            if isinstance(err, AutogradClashError):
                print(f"chainrule: error: {err}", file=sys.stderr)
            else:
                previous(kind, err, tb)

        sys.excepthook = one_line
    raise AutogradClashError(message, name="autograd")
