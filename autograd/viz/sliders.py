"""`explore`: live sliders in Jupyter, one per input of a function, and its graph redrawn as they move."""

from __future__ import annotations

import html
import math

from .._optional import require
from ..engine import Value
from .graph import draw

_EXPLORE_STEPS = 200  # slider positions across each range


def explore(f, *, show_local_grads=True, rankdir="LR", collapse=None, check=False, problems=True, **ranges):
    """An ipywidgets widget: one slider per input of `f`, and `f`'s graph (data, grads, local
    derivatives, problem marks) redrawn as they move.

    ``explore(lambda x, y: (x * y).tanh(), x=(-2, 2), y=(0, 1))``: each range is (low, high) or
    (low, high, start); `f` gets one labelled `Value` per name, as keywords, and must return a
    `Value`. The widget is a ``VBox`` of the sliders and an ``HTML`` holding the picture; its
    ``.graph`` is the `graphviz.Digraph` last drawn. Needs ipywidgets (the notebooks extra).
    """
    widgets = require("ipywidgets", "explore")
    if not callable(f):
        raise TypeError(f"explore() needs a function, got {type(f).__name__}")
    if not ranges:
        raise ValueError("explore() needs a range for each input of f, as in explore(f, x=(-2, 2))")
    sliders = [_slider(widgets, name, spec) for name, spec in ranges.items()]
    picture = widgets.HTML()
    box = widgets.VBox([*sliders, picture])
    options = dict(
        show_local_grads=show_local_grads, rankdir=rankdir, collapse=collapse, check=check, problems=problems
    )

    def redraw(_change=None):
        inputs = {s.description: Value(s.value, label=s.description) for s in sliders}
        try:
            root = f(**inputs)
            if not isinstance(root, Value):
                raise TypeError(f"explore() needs f to return a Value, got {type(root).__name__}")
            root.backward()
            box.graph = draw(root, **options)
            picture.value = box.graph.pipe(format="svg").decode("utf-8")
        except (ArithmeticError, ValueError, TypeError) as err:  # show it in place of the picture: keep sliding
            box.graph = None
            picture.value = f"<pre>{html.escape(f'{type(err).__name__}: {err}')}</pre>"

    for s in sliders:
        s.observe(redraw, names="value")
    redraw()
    return box


def _slider(widgets, name: str, spec):
    """A FloatSlider for one input: spec (low, high) starts in the middle, (low, high, start) at start."""
    if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
        raise ValueError(f"explore(): {name}= needs (low, high) or (low, high, start), got {spec!r}")
    try:
        low, high, *start = (float(x) for x in spec)
    except (TypeError, ValueError):
        raise ValueError(f"explore(): {name}= needs numbers, got {spec!r}") from None
    start = start[0] if start else (low + high) / 2
    if not (math.isfinite(low) and math.isfinite(high) and low < high and low <= start <= high):
        raise ValueError(f"explore(): {name}= needs finite low < high and low <= start <= high, got {spec!r}")
    return widgets.FloatSlider(
        value=start,
        min=low,
        max=high,
        step=(high - low) / _EXPLORE_STEPS,
        description=name,
        continuous_update=True,
        readout_format=".3f",
    )
