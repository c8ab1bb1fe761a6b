"""The old private name of `autograd.extras`, kept so code that imported it keeps working."""

from .extras import EXTRAS, MissingExtraError, hint, require

__all__ = ["MissingExtraError", "require", "hint", "EXTRAS"]
