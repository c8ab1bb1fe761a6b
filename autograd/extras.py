"""Optional dependencies: import one, or fail in one line that names the extra to install (public: `nn` and users use it).

chainrule's core needs only graphviz and tqdm; matplotlib, NumPy, PyTorch, scikit-learn and
Jupyter come with extras (see pyproject.toml). Both packages import them through `require`, so
a missing one always reads the same way:
"to_numpy needs NumPy: pip install 'chainrule[notebooks]'".
"""

from __future__ import annotations

import importlib

__all__ = ["MissingExtraError", "require", "hint", "EXTRAS"]

# import name -> (name people know it by, the chainrule extra that installs it)
EXTRAS = {
    "matplotlib": ("matplotlib", "plot"),
    "numpy": ("NumPy", "notebooks"),
    "torch": ("PyTorch", "torch"),
    "sklearn": ("scikit-learn", "data"),
    "ipywidgets": ("ipywidgets", "notebooks"),
    "ipykernel": ("ipykernel", "notebooks"),
    "nbclient": ("nbclient", "notebooks"),
    "nbformat": ("nbformat", "notebooks"),
}


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message is one line naming the extra to install."""


def hint(module: str) -> str:
    """How to get `module`: "pip install 'chainrule[EXTRA]'"."""
    return f"pip install 'chainrule[{EXTRAS[module.partition('.')[0]][1]}]'"


def require(module: str, what: str):
    """Import and return `module` (e.g. "matplotlib.pyplot"), or raise `MissingExtraError` saying
    "`what` needs NAME: pip install 'chainrule[EXTRA]'"."""
    top = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        if err.name is not None and err.name.partition(".")[0] != top:
            raise  # the module is there but one of its own imports is broken: show that
        name, _ = EXTRAS[top]
        raise MissingExtraError(f"{what} needs {name}: {hint(top)}", name=top) from None
