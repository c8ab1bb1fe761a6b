"""The HIPS `autograd` clash check, by its public name: `check()`, `AutogradClashError`, `hips_files`.

The code lives in `autograd._clash`, which must also load on its own from its file, with the
standard library only, when another package's ``__init__`` sits in chainrule's folder (`nn` does
that); this module is the name to import.
"""

from ._clash import MARKER, AutogradClashError, check, clash_message, hips_files

__all__ = ["AutogradClashError", "MARKER", "check", "hips_files", "clash_message"]
