"""`detect_anomaly()`: stop at the first operation whose value or gradient is nan or inf.

Like ``torch.autograd.detect_anomaly``: slower, for debugging. It names the operation, its
input values and the file:line (outside the engine) where the node was made. A gradient nobody
can read (a constant's) is not checked, and a branch cut off by relu passes nothing, so neither
raises a false alarm.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager

from . import engine
from .engine import Value

__all__ = ["detect_anomaly"]

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))
_site_names: dict[tuple, str] = {}  # (file, line) -> "file:line", one string per line of code


def _user_site() -> str:
    """file:line of the innermost frame outside the autograd package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _ENGINE_DIR:
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    key = (frame.f_code.co_filename, frame.f_lineno)
    name = _site_names.get(key)
    if name is None:
        name = _site_names[key] = f"{key[0]}:{key[1]}"
    return name


def _describe(node) -> str:
    inputs = ", ".join(repr(p.data) for p in node.parents)
    return f"{node.op!r} with inputs ({inputs})"


def _number(x) -> float:
    return x.data if isinstance(x, Value) else float(x)


class AnomalyMode(engine.Observer):
    """The checks themselves, an observer of the engine (see `engine.observing`). Where each node
    was made is kept on the node as the observer's note, so the mode holds no node: a graph is
    freed as soon as the program drops it."""

    def __init__(self):
        self.deriving = 0  # >0 while a backward pass runs (gradient graphs are checked through their partials)

    def site(self, node) -> str:
        return engine._note_of(node) or "<made outside detect_anomaly()>"

    def saw(self, what, node, other, result) -> None:
        if what == "made":
            self.created(node)
        elif what == "pass":
            self.deriving += 1 if result else -1

    def created(self, node) -> None:
        site = _user_site()
        engine._set_note(node, site)
        if not self.deriving and not math.isfinite(node.data):
            raise FloatingPointError(f"detect_anomaly: {_describe(node)} gave {node.data} at {site}")

    def check(self, needed):
        """The `check` hook of `engine.backward_pass`, looking only at inputs in ``needed()``: a
        gradient nobody can read (a constant's, or that of a branch no variable leads to,
        such as the exponent of ``x**2``) may be nan without alarm, as in PyTorch."""
        needed = needed()

        def check(node, partials) -> None:
            """Called by the chain-rule loop before it applies `node`'s local derivatives."""
            g = _number(node.grad)
            masks = node.primitive.masks
            for i, (p, d) in enumerate(zip(node.parents, partials)):
                if p not in needed:
                    continue
                if masks and not isinstance(d, Value) and d == 0.0:
                    continue  # a branch cut off passes nothing (relu at x <= 0)
                dd = _number(d)
                contribution = g * dd
                if not math.isfinite(contribution):
                    raise FloatingPointError(
                        f"detect_anomaly: the gradient through {_describe(node)} is {contribution} "
                        f"for input {i} (local derivative {dd}, incoming gradient {g}); "
                        f"the node was made at {self.site(node)}"
                    )

        return check


def detecting() -> bool:
    """True inside `detect_anomaly()` in this thread (compile runs eagerly there, so every node is checked)."""
    return any(isinstance(o, AnomalyMode) for o in engine.observers())


@contextmanager
def detect_anomaly():
    """Raise FloatingPointError at the first nan or inf, forward or backward, naming the op and where."""
    if detecting():  # nested: the outer block already checks everything
        yield
        return
    with engine.observing(AnomalyMode()):
        yield
