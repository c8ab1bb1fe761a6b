"""The frame player (slider, play/pause, keys, zoom) and the page templates, read from the static
files shipped inside the package: the step-through and the training movie inline them, so every
page stays one self-contained file."""

from __future__ import annotations

import functools
import json
import string
from importlib import resources

__all__ = ["asset", "script", "style", "fill", "json_for_script"]


@functools.cache
def asset(name: str) -> str:
    """The text of one of the package's static files (``player.js``, ``player.css``, a template)."""
    text = resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")
    if name.endswith((".js", ".css")) and "</" in text:
        raise ValueError(f"static/{name} holds '</', which would end the <script> or <style> it is inlined into")
    return text


def script() -> str:
    """The player's JavaScript: defines ``chainrulePlayer(box, {count, show, interval})`` once per page."""
    return asset("player.js")


def style() -> str:
    """The player's CSS (its controls' layout)."""
    return asset("player.css")


def fill(template: str, **values) -> str:
    """A template's text (``$name`` placeholders, e.g. ``asset("page.html")``) filled with `values`,
    which the caller has escaped; a placeholder left without a value is an error."""
    return string.Template(template).substitute(values)


def json_for_script(data) -> str:
    """`data` as JSON that is safe inside a <script> element: every <, > and & written as a \\u escape,
    so no text in the data (a name holding '</script>' or '<!--') can end or change the script."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
