"""`explore`: live sliders in Jupyter, one per input of a function, and its graph redrawn as they move."""

from __future__ import annotations

import functools
import html
import math

from .._optional import require
from ..engine import Value, topological_order
from ..functional import gradients
from .graph import MAX_NODES
from .graph import picture as picture_of

_EXPLORE_STEPS = 200  # slider positions across each range


def explore(f, *, show_local_grads=True, rankdir="LR", collapse=None, check=False, problems=True, **ranges):
    """An ipywidgets widget: one slider per input of `f`, and `f`'s graph (data, grads, local
    derivatives, problem marks) redrawn as they move.

    ``explore(lambda x, y: (x * y).tanh(), x=(-2, 2), y=(0, 1))``: each range is (low, high) or
    (low, high, start); `f` gets one labelled `Value` per name, as keywords, and must return a
    `Value`. Each position's gradients are computed afresh, as `value_and_grad` would at that
    point, and no `.grad` is touched (a parameter `f` closes over keeps the grad its owner gave
    it). The picture fits the widget's width; "full size" shows it unscaled, scrolling. The
    widget is a ``VBox`` of the sliders, the "full size" box and an ``HTML`` holding the
    picture; its ``.graph`` is the `graphviz.Digraph` last drawn. Needs ipywidgets (the
    notebooks extra).
    """
    widgets = require("ipywidgets", "explore")
    if not callable(f):
        raise TypeError(f"explore() needs a function, got {type(f).__name__}")
    if not ranges:
        raise ValueError("explore() needs a range for each input of f, as in explore(f, x=(-2, 2))")
    sliders = [_slider(widgets, name, spec) for name, spec in ranges.items()]
    full = widgets.Checkbox(value=False, description="full size", indent=False)
    picture = widgets.HTML()
    box = _explorer_class(widgets)([*sliders, full, picture])
    box.names = tuple(ranges)
    options = dict(
        show_local_grads=show_local_grads,
        rankdir=rankdir,
        collapse=collapse,
        check=check,
        problems=problems,
        max_nodes=MAX_NODES,
        highlight=None,
        legend=True,
        focus=None,
    )

    def show(_change=None):
        if box.graph is not None:
            picture.value = _shown(box.graph.svg(), full.value)

    def redraw(_change=None):
        inputs = {s.description: Value(s.value, label=s.description) for s in sliders}
        try:
            root = f(**inputs)
            if not isinstance(root, Value):
                raise TypeError(f"explore() needs f to return a Value, got {type(root).__name__}")
            order = topological_order(root)
            grads = dict(zip(order, gradients(root, order)))  # this position's own; every .grad left as it was
            box.graph = picture_of(root, grads.get, **options)
            show()
        except (ArithmeticError, ValueError, TypeError) as err:  # show it in place of the picture: keep sliding
            box.graph = None
            picture.value = f"<pre>{html.escape(f'{type(err).__name__}: {err}')}</pre>"

    box.graph = None
    for s in sliders:
        s.observe(redraw, names="value")
    full.observe(show, names="value")
    redraw()
    return box


@functools.cache
def _explorer_class(widgets):
    """A VBox whose text form says what it is: a saved notebook, which keeps no widget state, shows
    that line in place of the sliders."""

    class Explorer(widgets.VBox):
        def __repr__(self):
            names = ", ".join(getattr(self, "names", ()))
            return f"explore({names}): live sliders and the graph they redraw; run the notebook to move them"

    return Explorer


def _shown(svg: str, full: bool) -> str:
    """The picture as the widget shows it: fitted to the width (the SVG's own style), or at full
    size in a box that scrolls."""
    svg = svg[svg.index("<svg") :]
    if not full:
        return svg
    return '<div style="overflow:auto;max-height:90vh">' + svg.replace("max-width:100%", "max-width:none", 1) + "</div>"


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
