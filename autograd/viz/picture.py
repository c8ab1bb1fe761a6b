"""The Digraph every picture is: a `graphviz.Digraph` that fails with install instructions when
Graphviz's `dot` program is missing, fits the width it is shown in, and carries a PNG beside its
SVG so that viewers which refuse SVG (an untrusted notebook, GitHub) still show a picture.

Why three forms in Jupyter: JupyterLab shows ``image/svg+xml`` only in trusted notebooks, as an
``<img>`` at its full size (a wide graph runs off the output area); ``image/png`` always, fitted
to the width. So the bundle leads with ``text/html``: one ``<img>`` of the SVG scaled to the
width (kept by the sanitizer of untrusted notebooks), with a "full size" view for wide pictures;
viewers that show only images take the PNG or the SVG.
"""

from __future__ import annotations

import base64
import html
import re
from contextlib import contextmanager

import graphviz

INSTALL_HINT = (
    "Graphviz's 'dot' program is not on PATH, so the picture cannot be rendered (its DOT text is in "
    "`.source`); install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu, or 'make test' here), "
    "'brew install graphviz' (macOS), 'conda install -c conda-forge graphviz', or https://graphviz.org/download/"
)
PNG_DPI = 96  # one PNG pixel per CSS pixel at the picture's natural size (when it fits PNG_MAX_INCHES)
PNG_MAX_INCHES = 16  # a PNG is shown fitted to a page's width: 1,536 px a side at most is plenty, and small
FULL_SIZE_FROM = 640  # px: a picture wider than this also offers a "full size" view in Jupyter
_SVG_TAG = re.compile(r"<svg\b[^>]*>")
_SIZE = re.compile(r'\b(width|height)="([\d.]+)pt"')
SVG, PNG, HTML = "image/svg+xml", "image/png", "text/html"


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


def fit_svg(svg: str) -> str:
    """`dot`'s SVG made to fit the width it is shown in: its natural size at most, scaled down
    (aspect kept, the whole picture and its root in view) where there is less room."""
    tag = _SVG_TAG.search(svg)
    if tag is None or "max-width" in tag.group(0):
        return svg
    fitted = tag.group(0)[:-1].rstrip("/") + ' style="max-width:100%;height:auto"'
    fitted += "/>" if tag.group(0).endswith("/>") else ">"
    return svg[: tag.start()] + fitted + svg[tag.end() :]


def natural_size(svg: str) -> tuple:
    """(width, height) of `dot`'s SVG in CSS pixels (it writes points: 1 pt = 4/3 px); (0, 0) if unknown."""
    tag = _SVG_TAG.search(svg)
    sizes = dict(_SIZE.findall(tag.group(0))) if tag else {}
    return tuple(round(float(sizes.get(k, 0)) * 4 / 3) for k in ("width", "height"))


def still_html(svg: str, png: bytes | None = None, alt: str = "", full_size: bool = True) -> str:
    """HTML that shows a picture with no script and survives a notebook's sanitizer: an <img> of
    the SVG (or of `png` when given) scaled to the width, and with `full_size`, for a wide
    picture, a "full size" view that scrolls (a second copy of the image, folded away)."""
    if png is not None:
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    else:
        src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    width, _ = natural_size(svg)
    alt = html.escape(alt)
    fitted = f'<img src="{src}" alt="{alt}" style="max-width:100%;height:auto">'
    if not full_size or width <= FULL_SIZE_FROM:
        return fitted
    full = f'<img src="{src}" alt="{alt}" style="max-width:none;width:{width}px;height:auto">'
    return (
        f'<div>{fitted}<details><summary style="cursor:pointer;font-size:12px">full size ({width} px wide)'
        f'</summary><div style="overflow:auto;max-height:90vh">{full}</div></details></div>'
    )


class Digraph(graphviz.Digraph):
    """A `graphviz.Digraph` whose rendering fails with install instructions when `dot` is missing,
    whose SVG fits the width it is shown in, and which Jupyter shows as HTML, SVG or PNG."""

    def __repr__(self) -> str:  # stable text (no memory address), so saved notebooks do not churn
        return f"<Digraph: {self.source.count(' -> ')} edges; shown as a picture in Jupyter>"

    def pipe(self, *args, **kwargs):
        """As `graphviz.Digraph.pipe`; an SVG comes fitted to its width (see `fit_svg`)."""
        with dot_needed():
            out = super().pipe(*args, **kwargs)
        if _format(self, args, kwargs) == "svg":
            text = out if isinstance(out, str) else out.decode("utf-8")
            text = fit_svg(text)
            return text if isinstance(out, str) else text.encode("utf-8")
        return out

    def render(self, *args, **kwargs):
        with dot_needed():
            path = super().render(*args, **kwargs)
        if str(path).endswith(".svg"):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(fit_svg(text))
        return path

    def unflatten(self, *args, **kwargs):
        with dot_needed():
            return super().unflatten(*args, **kwargs)

    def svg(self) -> str:
        """The picture as SVG text, fitted to its width."""
        return self.pipe(format="svg", encoding="utf-8")

    def png(self, max_inches: float = PNG_MAX_INCHES) -> bytes:
        """The picture as PNG bytes, one pixel per CSS pixel, scaled down to at most `max_inches`
        (96 px each) a side."""
        g = self.copy()
        g.graph_attr.update(dpi=str(PNG_DPI), size=f"{max_inches:g},{max_inches:g}")
        return g.pipe(format="png")

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        """Jupyter's forms of the picture: ``text/html`` (an <img> fitted to the width, shown trusted or
        not), ``image/svg+xml`` and ``image/png`` (for viewers that show only images)."""
        wanted = set(include) if include is not None else {HTML, SVG, PNG}
        wanted -= set(exclude or ())
        bundle = {}
        svg = self.svg() if wanted & {HTML, SVG} else ""
        if PNG in wanted:
            bundle[PNG] = self.png()
        if SVG in wanted:
            bundle[SVG] = svg
        if HTML in wanted:
            bundle[HTML] = still_html(svg, alt=f"a computation graph ({self.source.count(' -> ')} edges)")
        return bundle


def _format(graph, args, kwargs) -> str | None:
    """The format a pipe or render call asks for (its argument, else the graph's own)."""
    if args:
        return args[0]
    return kwargs.get("format") or graph.format
