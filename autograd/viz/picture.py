"""The Digraph every picture is: a `graphviz.Digraph` whose rendering fails with install
instructions when Graphviz's `dot` program is missing."""

from __future__ import annotations

from contextlib import contextmanager

import graphviz

INSTALL_HINT = (
    "Graphviz's 'dot' program is not on PATH, so the picture cannot be rendered (its DOT text is in "
    "`.source`); install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu, or 'make test' here), "
    "'brew install graphviz' (macOS), 'conda install -c conda-forge graphviz', or https://graphviz.org/download/"
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program and it is missing: the message says how to install it."""

    def __init__(self, message: str = INSTALL_HINT):
        RuntimeError.__init__(self, message)


@contextmanager
def dot_needed():
    """Turn graphviz's terse 'executable not found' into an error that says how to install it."""
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as err:
        raise GraphvizNotFoundError() from err


class Digraph(graphviz.Digraph):
    """A `graphviz.Digraph` whose rendering fails with install instructions when `dot` is missing."""

    def __repr__(self) -> str:  # stable text (no memory address), so saved notebooks do not churn
        return f"<Digraph: {self.source.count(' -> ')} edges; shown as a picture in Jupyter>"

    def pipe(self, *args, **kwargs):
        with dot_needed():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with dot_needed():
            return super().render(*args, **kwargs)

    def unflatten(self, *args, **kwargs):
        with dot_needed():
            return super().unflatten(*args, **kwargs)
