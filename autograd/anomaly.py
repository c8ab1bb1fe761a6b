"""`detect_anomaly()`: stop at the first operation whose value or gradient is nan or inf.

Like ``torch.autograd.detect_anomaly``: slower, for debugging. It names the operation, its
input values and the file:line (outside the engine) where the node was made.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager

from . import engine

__all__ = ["detect_anomaly"]

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_site() -> str:
    """file:line of the innermost frame outside the autograd package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _ENGINE_DIR:
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _describe(node) -> str:
    inputs = ", ".join(repr(p.data) for p in node._parents)
    return f"{node.op!r} with inputs ({inputs})"


class AnomalyMode:
    """Where each node was made while the mode is on, and the checks themselves."""

    def __init__(self):
        self.sites: dict[int, tuple] = {}  # id(node) -> (node, "file:line"); the node keeps its id unique

    def site(self, node) -> str:
        entry = self.sites.get(id(node))
        return entry[1] if entry and entry[0] is node else "<made outside detect_anomaly()>"

    def created(self, node) -> None:
        site = _user_site()
        self.sites[id(node)] = (node, site)
        if not math.isfinite(node.data):
            raise FloatingPointError(f"detect_anomaly: {_describe(node)} gave {node.data} at {site}")

    def check(self, node, partials) -> None:
        """Called by the chain-rule loop before it applies `node`'s local derivatives."""
        g = node.grad
        for i, (p, d) in enumerate(zip(node._parents, partials)):
            contribution = g * d
            if not math.isfinite(contribution) and p.role != "constant":  # nobody reads a constant's grad
                raise FloatingPointError(
                    f"detect_anomaly: the gradient through {_describe(node)} is {contribution} "
                    f"for input {i} (local derivative {d}, incoming gradient {g}); "
                    f"the node was made at {self.site(node)}"
                )


@contextmanager
def detect_anomaly():
    """Raise FloatingPointError at the first nan or inf, forward or backward, naming the op and where."""
    state = engine._state
    outer = state.anomaly
    state.anomaly = AnomalyMode() if outer is None else outer
    engine._enter_mode()
    try:
        yield
    finally:
        engine._leave_mode()
        state.anomaly = outer
