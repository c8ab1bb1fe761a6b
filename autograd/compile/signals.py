"""Why a call leaves compiled code: a guard failed (`_Stale`), or the call cannot use it (`_Eager`)."""

from __future__ import annotations


class _Stale(Exception):
    """A guard of the trace failed: these numbers take another branch than the traced ones."""


class _Eager(Exception):
    """This call cannot use compiled code (Values among the arguments, no_grad in f): run eagerly."""
