"""How the pictures look and how they write numbers and user text: colours, shapes, fonts, and the
escaping that keeps a label's text from breaking DOT or HTML."""

from __future__ import annotations

import html
import math

FONT = "Helvetica"
KIND_STYLE = {  # leaf kind (None: computed) -> node attributes; shape and colour both differ
    "input": {"style": "filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "parameter": {"style": "filled,rounded", "fillcolor": "#fde68a", "color": "#b45309"},
    "constant": {"style": "filled,dashed", "fillcolor": "#f3f4f6", "color": "#6b7280"},
    None: {"style": "filled", "fillcolor": "#ffffff", "color": "#374151"},
}
ROOT_STYLE = {"peripheries": "2", "penwidth": "2", "color": "#b91c1c"}
HIGHLIGHT_FILL = "#fb923c"
CELL_STYLE = {"filled,dashed": ' STYLE="dashed"'}  # legend cells: HTML tables know dashed, not rounded
HIGHLIGHT_EDGE = {"color": "#ea580c", "penwidth": "2.5"}
OP_STYLE = {
    "shape": "ellipse",
    "style": "filled",
    "fillcolor": "#e5e7eb",
    "color": "#6b7280",
    "fontsize": "10",
    "margin": "0.04,0.02",
    "height": "0.3",
}
BOX_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": "#c7d2fe", "color": "#4338ca"}
EDGE_LABEL = {"fontcolor": "#1d4ed8", "fontsize": "9"}
SHARE = "#047857"  # a reused node's shares: green text on its out-edges and after its grad
STUB_STYLE = {"shape": "plaintext", "fontsize": "9", "fontcolor": "#6b7280"}
# problems, worst first: the first that applies fills the node; each adds its word to the label
PROBLEM_FILL = {
    "mismatch": "#f0abfc",
    "nan": "#fca5a5",
    "inf": "#fca5a5",
    "exploding": "#fdba74",
    "vanishing": "#a5f3fc",
    "dead": "#d1d5db",
}
PROBLEM_TEXT = "#be123c"
GLYPHS = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^", "abs": "|x|", "sum": "Σ", "logsumexp": "log Σ exp"}
MAX_TERMS = 4  # a sum of shares lists at most this many terms, then "… (k uses)"


def fmt(x: float) -> str:
    """4 decimals like micrograd; scientific where 4 decimals would hide the value (tiny or huge)."""
    if x != 0.0 and math.isfinite(x) and not 1e-4 <= abs(x) < 1e6:
        return f"{x:.4e}"
    return f"{x:.4f}"


def escape(text: str) -> str:
    """User text made safe for a DOT HTML-like label or an HTML page: markup escaped, and every
    character that is not printable (controls, format marks, surrogates, separators) written as
    a visible escape such as \\x07, since `dot` rejects some of them."""
    return html.escape(printable(text)).replace("]", "&#93;")  # dot misreads a label that is just "]" or "]]"


def printable(text: str) -> str:
    """`text` with each non-printable character written as its escape (\\x07, \\u200b, \\ud800)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def glyph_text(node) -> str:
    """How an op is named: math glyphs, and dot as Σ w·x (+ b when it has a bias, i.e. odd arity)."""
    if node.op == "dot":
        return "Σ w·x + b" if len(node.parents) % 2 else "Σ w·x"
    return GLYPHS.get(node.op, node.op)


def glyph(node) -> str:
    """The op's name as label text (escaped: a primitive's name is user text too)."""
    return escape(glyph_text(node))


def html_label(cells) -> str:
    """A one-row HTML-like label: cells separated by thin rules, whatever the rankdir."""
    row = "".join(f"<TD>{c}</TD>" for c in cells)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLUMNS="*"><TR>{row}</TR></TABLE>>'


def sum_text(terms: list, hidden: int = 0, complete: bool = True) -> str:
    """'= 3.0000 + 5.0000': a reused node's grad as the sum of its uses' shares (so far)."""
    shown = [fmt(t) for t in terms[:MAX_TERMS]]
    text = "= " + " + ".join(shown)
    if len(terms) > MAX_TERMS:
        text += f" + … ({len(terms)} uses)"
    if hidden:
        text += f" + {hidden} use{'s' * (hidden != 1)} not drawn"
    if not complete:
        text += " + …"
    return text
