"""Pictures of backpropagation: the graph with data and grad on every node, ∂out/∂in on every edge.

`draw` builds a `graphviz.Digraph` (shown inline by Jupyter; `.source` is DOT text; rendering it
needs Graphviz's `dot` program). `step_through` replays the backward pass one node at a time as a
self-contained HTML widget; `explore` puts a slider on each input in Jupyter. Nodes made inside
`nn` modules carry their module path, so ``collapse="neuron"`` or ``"layer"`` folds a whole
network into a few readable boxes, and ``focus=node`` keeps only what feeds and uses one node.

What the pictures point out on their own (each has a legend entry, shown only when it occurs):
a node used by several ops shows its grad as the sum of each use's share (grad(out)·∂out/∂in,
written in green on the edge); a relu whose input is <= 0 says "dead"; a nan or inf data or grad
is flagged; a grad more than `EXPLODING` times the root's, or non-zero and less than `VANISHING`
times it, is flagged; ``check=True`` compares every grad with a finite-difference estimate.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import pathlib
import re
from contextlib import contextmanager

import graphviz

from ._optional import require
from .engine import Value, local_grads, topological_order
from .functional import gradients

__all__ = [
    "draw",
    "step_through",
    "explore",
    "StepThrough",
    "GraphvizNotFoundError",
    "MAX_NODES",
    "EXPLODING",
    "VANISHING",
]

# The one limit on the value nodes a picture may hold: `draw`, `step_through` and
# `chainrule graph --max-nodes` all default to it. Measured: a 1,000-node step-through takes 1-3 s
# (nearly all of it one `dot` run), 1.6-1.7 MB of HTML and under 40 MB of memory; at 2,000 nodes
# `dot` alone takes about 10 s, so the limit stays at 1,000 (collapse= and focus= draw bigger graphs).
MAX_NODES = 1000
EXPLODING = 1e3  # |grad| > EXPLODING·|grad of the root|: flagged "exploding"
VANISHING = 1e-6  # 0 < |grad| < VANISHING·|grad of the root|: flagged "vanishing"

_INSTALL_HINT = (
    "Graphviz's 'dot' program is not on PATH, so the picture cannot be rendered (its DOT text is in "
    "`.source`); install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu, or 'make test' here), "
    "'brew install graphviz' (macOS), 'conda install -c conda-forge graphviz', or https://graphviz.org/download/"
)

# ---- how things look -------------------------------------------------------------------------
_FONT = "Helvetica"
_KIND_STYLE = {  # leaf kind (None: computed) -> node attributes; shape and colour both differ
    "input": {"style": "filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "parameter": {"style": "filled,rounded", "fillcolor": "#fde68a", "color": "#b45309"},
    "constant": {"style": "filled,dashed", "fillcolor": "#f3f4f6", "color": "#6b7280"},
    None: {"style": "filled", "fillcolor": "#ffffff", "color": "#374151"},
}
_ROOT_STYLE = {"peripheries": "2", "penwidth": "2", "color": "#b91c1c"}
_HIGHLIGHT_FILL = "#fb923c"
_CELL_STYLE = {"filled,dashed": ' STYLE="dashed"'}  # legend cells: HTML tables know dashed, not rounded
_HIGHLIGHT_EDGE = {"color": "#ea580c", "penwidth": "2.5"}
_OP_STYLE = {
    "shape": "ellipse",
    "style": "filled",
    "fillcolor": "#e5e7eb",
    "color": "#6b7280",
    "fontsize": "10",
    "margin": "0.04,0.02",
    "height": "0.3",
}
_BOX_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": "#c7d2fe", "color": "#4338ca"}
_EDGE_LABEL = {"fontcolor": "#1d4ed8", "fontsize": "9"}
_SHARE = "#047857"  # a reused node's shares: green text on its out-edges and after its grad
_STUB_STYLE = {"shape": "plaintext", "fontsize": "9", "fontcolor": "#6b7280"}
# problems, worst first: the first that applies fills the node; each adds its word to the label
_PROBLEM_FILL = {
    "mismatch": "#f0abfc",
    "nan": "#fca5a5",
    "inf": "#fca5a5",
    "exploding": "#fdba74",
    "vanishing": "#a5f3fc",
    "dead": "#d1d5db",
}
_PROBLEM_TEXT = "#be123c"
_LEGEND_PROBLEMS = {
    "mismatch": "grad ≠ finite difference (check=True): an op this node feeds has a wrong derivative rule (or a kink)",
    "nan": "nan data or grad",
    "inf": "inf data or grad",
    "exploding": f"exploding: |grad| > {EXPLODING:g} × root's",
    "vanishing": f"vanishing: 0 < |grad| < {VANISHING:g} × root's",
    "dead": "dead relu: input ≤ 0, passes no grad",
}
_GLYPHS = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^", "abs": "|x|", "sum": "Σ", "logsumexp": "log Σ exp"}
_COMMENT = re.compile(r"<!--.*?-->", re.S)  # dot's SVG comments: bytes nobody reads
_NO_GRAD = object()  # grad_of() result meaning "this picture shows no grads"
_MAX_TERMS = 4  # a sum of shares lists at most this many terms, then "… (k uses)"
_FD_STEP = 1e-6  # check=True: central differences with h = _FD_STEP·max(1, |x|)
_FD_RTOL, _FD_ATOL = 1e-4, 1e-6  # ... agreeing when |a − n| <= _FD_RTOL·max(|a|, |n|) + _FD_ATOL·max(1, |root|)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program and it is missing: the message says how to install it."""

    def __init__(self, message: str = _INSTALL_HINT):
        RuntimeError.__init__(self, message)


@contextmanager
def _dot_needed():
    """Turn graphviz's terse 'executable not found' into an error that says how to install it."""
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as err:
        raise GraphvizNotFoundError() from err


class _Digraph(graphviz.Digraph):
    """A `graphviz.Digraph` whose rendering fails with install instructions when `dot` is missing."""

    def __repr__(self) -> str:  # stable text (no memory address), so saved notebooks do not churn
        return f"<Digraph: {self.source.count(' -> ')} edges; shown as a picture in Jupyter>"

    def pipe(self, *args, **kwargs):
        with _dot_needed():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with _dot_needed():
            return super().render(*args, **kwargs)

    def unflatten(self, *args, **kwargs):
        with _dot_needed():
            return super().unflatten(*args, **kwargs)


# ---- draw --------------------------------------------------------------------------------------
def draw(
    root,
    *,
    show_grad=True,
    show_local_grads=False,
    rankdir="LR",
    collapse=None,
    max_nodes=MAX_NODES,
    highlight=None,
    legend=True,
    focus=None,
    check=False,
    problems=True,
) -> graphviz.Digraph:
    """The computation graph of `root` as a `graphviz.Digraph`.

    Value nodes show label, data and grad (4 decimals); each op is its own small node. Input,
    parameter and constant leaves differ in shape and colour (see the legend); the root has a
    double red border. ``show_local_grads`` writes ∂out/∂in on each edge into an op, so that
    grad(in) = Σ edge × grad(out) can be read off; a parent used twice by one op (``x*x``) gets
    one edge carrying the summed derivative. A node used by several ops shows its grad as the
    sum of their shares, each share (grad(out)·∂out/∂in) in green on its edge.
    ``collapse="neuron"``/``"layer"`` folds the nodes an `nn` module made into one box.
    ``focus`` (a node) keeps only what it depends on and what depends on it; the inputs left
    out are counted in a grey note. ``highlight`` (a node or several) marks nodes, their ops
    and the edges into them. ``problems`` flags dead relus, nan/inf, exploding and vanishing
    grads; ``check=True`` estimates d(root)/d(node) for every node by central differences and
    flags each node where it disagrees with the engine's grad. ``max_nodes`` bounds the value
    nodes and boxes drawn (op nodes are not counted).
    """
    _check_options(root, rankdir, collapse, max_nodes)
    order = topological_order(root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    full = order
    if focus is not None:
        if not isinstance(focus, Value) or focus not in ids:
            raise ValueError(f"focus: {focus!r} is not a node of this graph")
        order = _around(order, focus)
    if collapse is None and len(order) > max_nodes:
        raise _too_big(len(order), max_nodes, collapse)
    scene = _Scene(order, root, collapse, ids, focus=focus, full=full)
    if scene.size > max_nodes:
        raise _too_big(scene.size, max_nodes, collapse)
    grad_of = (lambda n: n.grad) if show_grad else (lambda n: _NO_GRAD)
    marks = _Marks(
        problems=_problems(order, root, grad_of) if problems else {},
        mismatch=_mismatches(order, root) if check else {},
        shares=scene.shares(grad_of) if show_grad else {},
    )
    lit = scene.targets(highlight if highlight is not None else focus)
    return scene.digraph(grad_of, show_local_grads, rankdir, lit, legend, marks)


def _check_options(root, rankdir, collapse, max_nodes) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"draw() needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if collapse not in (None, "neuron", "layer"):
        raise ValueError(f"collapse must be None, 'neuron' or 'layer', got {collapse!r}")
    if type(max_nodes) is not int or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def _too_big(size: int, max_nodes: int, collapse) -> ValueError:
    hint = {
        None: "focus=node, collapse='neuron' or collapse='layer' (for nn models) or ",
        "neuron": "collapse='layer' or ",
    }
    return ValueError(
        f"the picture would have {size} nodes, more than max_nodes={max_nodes}: "
        f"pass {hint.get(collapse, 'focus=node or ')}a bigger max_nodes="
    )


def _fmt(x: float) -> str:
    """4 decimals like micrograd; scientific where 4 decimals would hide the value (tiny or huge)."""
    if x != 0.0 and math.isfinite(x) and not 1e-4 <= abs(x) < 1e6:
        return f"{x:.4e}"
    return f"{x:.4f}"


def _escape(text: str) -> str:
    """User text made safe for a DOT HTML-like label or an HTML page: markup escaped, and every
    character that is not printable (controls, format marks, surrogates, separators) written as
    a visible escape such as \\x07, since `dot` rejects some of them."""
    return html.escape(_printable(text)).replace("]", "&#93;")  # dot misreads a label that is just "]" or "]]"


def _printable(text: str) -> str:
    """`text` with each non-printable character written as its escape (\\x07, \\u200b, \\ud800)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _glyph_text(node: Value) -> str:
    """How an op is named: math glyphs, and dot as Σ w·x (+ b when it has a bias, i.e. odd arity)."""
    if node.op == "dot":
        return "Σ w·x + b" if len(node.parents) % 2 else "Σ w·x"
    return _GLYPHS.get(node.op, node.op)


def _glyph(node: Value) -> str:
    """The op's name as label text (escaped: a primitive's name is user text too)."""
    return _escape(_glyph_text(node))


def _html_label(cells) -> str:
    """A one-row HTML-like label: cells separated by thin rules, whatever the rankdir."""
    row = "".join(f"<TD>{c}</TD>" for c in cells)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLUMNS="*"><TR>{row}</TR></TABLE>>'


def _users_of(order) -> dict:
    """node -> the nodes that take it as a parent (one entry per distinct user)."""
    users = {}
    for node in order:
        for p in dict.fromkeys(node.parents):
            users.setdefault(p, []).append(node)
    return users


def _around(order, focus) -> list:
    """The nodes `focus` depends on and the nodes that depend on it, in `order`'s order."""
    keep = set(topological_order(focus))
    below = {focus}
    for node in order:
        for p in node.parents:
            if p in below:
                below.add(node)
                break
    keep |= below
    return [n for n in order if n in keep]


def _layer_of(path: str) -> str:
    """The layer a neuron's scope belongs to: nn's "layers.0.neurons.3" -> "layers.0"; a bare
    Layer's "neurons.3" -> "layer" (the whole picture is one layer); a hand-made scope keeps
    its first two parts."""
    parts = path.split(".")
    if len(parts) >= 2 and parts[-1].isdigit():
        return ".".join(parts[:-2]) or "layer"
    return ".".join(parts[:2])


def _groups(order, users, collapse) -> dict:
    """Each folded node's box: its scope cut to the level; untagged parameter and constant
    leaves join the one box that uses them, and a leaf used outside its box stays visible."""
    group = {}
    for node in order:
        scope = node.scope
        if scope:
            group[node] = scope if collapse == "neuron" else _layer_of(scope)
    for node in order:
        if node.parents:
            continue
        boxes = {group.get(u) for u in users.get(node, ())}
        if node in group and boxes != {group[node]}:
            del group[node]
        elif node not in group and len(boxes) == 1 and None not in boxes and node.role != "input":
            group[node] = boxes.pop()
    return group


# ---- what a picture says about its nodes --------------------------------------------------------
class _Marks:
    """Per-node notes beyond data and grad: problem words, check mismatches, shares of reused nodes."""

    __slots__ = ("problems", "mismatch", "shares")

    def __init__(self, problems=None, mismatch=None, shares=None):
        self.problems = problems or {}  # node -> [words], e.g. ["dead"], ["nan"], ["vanishing"]
        self.mismatch = mismatch or {}  # node -> (engine's grad, finite-difference estimate)
        self.shares = shares or {}  # reused node -> {drawn target id: its share of the grad}

    def words(self, node) -> list:
        return (["mismatch"] if node in self.mismatch else []) + self.problems.get(node, [])


def _problems(order, root, grad_of) -> dict:
    """node -> the problem words that apply (see the module docstring); healthy nodes are absent."""
    rg = grad_of(root)
    scale = abs(rg) if isinstance(rg, float) and math.isfinite(rg) and rg != 0.0 else None
    low, high = (VANISHING * scale, EXPLODING * scale) if scale else (0.0, math.inf)
    found = {}
    for node in order:
        d, g = node.data, grad_of(node)
        if d - d == 0.0 and (not isinstance(g, float) or (g - g == 0.0 and (g == 0.0 or low <= abs(g) <= high))):
            if node.parents and node.op == "relu" and node.parents[0].data <= 0.0:
                found[node] = ["dead"]
            continue  # finite, and no grad out of bounds: the usual case, decided fast
        words = []
        if node.op == "relu" and node.parents[0].data <= 0.0:
            words.append("dead")
        g = grad_of(node) if node.role != "constant" else None
        for x in (node.data, g):
            if isinstance(x, float) and not math.isfinite(x):
                word = "nan" if math.isnan(x) else "inf"
                if word not in words:
                    words.append(word)
        if isinstance(g, float) and scale and math.isfinite(g) and g != 0.0:
            if abs(g) > EXPLODING * scale:
                words.append("exploding")
            elif abs(g) < VANISHING * scale:
                words.append("vanishing")
        if words:
            found[node] = words
    return found


def _mismatches(order, root) -> dict:
    """node -> (engine's grad, central-difference estimate) where they disagree; every leaf and
    interior node but constants is checked. The estimate perturbs the node's data by ±h and
    replays the primitives' forward rules of everything downstream, in topological order."""
    nodes = [n for n in order if n.role != "constant"]
    engine = gradients(root, nodes)
    index = {n: i for i, n in enumerate(order)}
    atol = _FD_ATOL * max(1.0, abs(root.data)) if math.isfinite(root.data) else _FD_ATOL
    found = {}
    for node, a in zip(nodes, engine):
        h = _FD_STEP * max(1.0, abs(node.data)) if math.isfinite(node.data) else _FD_STEP
        up = _replay(order, index[node], node, node.data + h, root)
        down = _replay(order, index[node], node, node.data - h, root)
        n = (up - down) / (2.0 * h)
        if not _agree(a, n, atol):
            found[node] = (a, n)
    return found


def _replay(order, start, node, value, root) -> float:
    """root's data when `node` holds `value`: forward rules re-run on everything downstream of it."""
    changed = {node: value}
    for m in order[start + 1 :]:
        parents = m.parents
        if parents and any(p in changed for p in parents):
            try:
                changed[m] = m.primitive.forward(*[changed.get(p, p.data) for p in parents])
            except (ArithmeticError, ValueError):
                changed[m] = math.nan
    return changed.get(root, root.data)


def _agree(a: float, n: float, atol: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(n)):
        return a == n or (math.isnan(a) and math.isnan(n))
    return abs(a - n) <= _FD_RTOL * max(abs(a), abs(n)) + atol


def _sum_text(terms: list, hidden: int = 0, complete: bool = True) -> str:
    """'= 3.0000 + 5.0000': a reused node's grad as the sum of its uses' shares (so far)."""
    shown = [_fmt(t) for t in terms[:_MAX_TERMS]]
    text = "= " + " + ".join(shown)
    if len(terms) > _MAX_TERMS:
        text += f" + … ({len(terms)} uses)"
    if hidden:
        text += f" + {hidden} use{'s' * (hidden != 1)} not drawn"
    if not complete:
        text += " + …"
    return text


def _without_id(attrs: dict) -> dict:
    if "id" not in attrs:
        return attrs
    attrs = dict(attrs)
    del attrs["id"]
    return attrs


# ---- the scene: which nodes, boxes and edges one picture holds -----------------------------------
class _Scene:
    """What one picture holds: every node, or with `collapse` each module's nodes folded into one box."""

    def __init__(self, order, root, collapse, ids, *, focus=None, full=None):
        """`order`: the nodes drawn; `full`: the whole graph when `focus` keeps only part of it
        (boxes are formed and counted over the whole graph, so a box reads the same either way)."""
        self.order, self.root, self.ids = order, root, ids
        self.kept = set(order)
        full = order if full is None else full
        users = _users_of(order)
        all_users = users if full is order else _users_of(full)
        self.group = _groups(full, all_users, collapse) if collapse else {}
        if focus is not None and not focus.parents:
            self.group.pop(focus, None)  # the focused leaf stays visible, not folded into a box
        self.boxes = {}  # module path -> box node id, in the order the modules compute
        for node in order:
            path = self.group.get(node)
            if path is not None and node.parents and path not in self.boxes:
                self.boxes[path] = f"m{len(self.boxes)}"
        for node in [n for n, path in self.group.items() if path not in self.boxes]:
            del self.group[node]  # scoped to a module that computes nothing in this picture
        self.counts = {path: [0, 0] for path in self.boxes}  # [ops, parameters] folded into each box
        for node in full:
            path = self.group.get(node)
            if path is not None:
                self.counts[path][0 if node.parents else 1] += bool(node.parents) or node.role == "parameter"
        self.outputs = set()  # folded nodes that stay visible: used outside their box, or the root
        for node in order:
            path = self.group.get(node)
            if path is not None and node.parents:
                if node is root or any(self.group.get(u) != path for u in users.get(node, ())):
                    self.outputs.add(node)
        self.visible = [n for n in order if n not in self.group or n in self.outputs]
        self.size = len(self.visible) + len(self.boxes)
        self.hidden = {}  # node -> how many of its users `focus` leaves out
        if full is not order:
            for n in order:
                k = len(all_users.get(n, ())) - len(users.get(n, ()))
                if k:
                    self.hidden[n] = k
        self._locals = {}

    def op_id(self, node) -> str:
        return "o" + self.ids[node][1:]

    def summed_locals(self, node) -> dict:
        """parent -> ∂node/∂parent, a parent used twice by one op summed into one edge."""
        d = self._locals.get(node)
        if d is None:
            d = self._locals[node] = dict.fromkeys(node.parents, 0.0)
            for p, x in zip(node.parents, local_grads(node)):
                d[p] += x
        return d

    def in_edges(self, node) -> list:
        """(drawn tail id, drawn head id, parent) for each distinct parent of `node` drawn in this picture."""
        path = self.group.get(node)
        head = self.boxes[path] if path is not None else self.op_id(node)
        return [
            (self.ids[p], head, p)
            for p in dict.fromkeys(node.parents)
            if p in self.kept and (path is None or self.group.get(p) != path)
        ]

    def shares(self, grad_of) -> dict:
        """Each visible node used by two or more drawn targets (op nodes or boxes), or by a use
        `focus` leaves out: {target id: grad(out)·∂out/∂in summed over the uses into that target}."""
        shares = {}
        for u in self.order:
            if not u.parents:
                continue
            g = grad_of(u)
            if not isinstance(g, float):
                continue
            local = None
            for _, head, p in self.in_edges(u):
                if p.role == "constant" or (p in self.group and p not in self.outputs):
                    continue
                local = local or self.summed_locals(u)
                into = shares.setdefault(p, {})
                into[head] = into.get(head, 0.0) + g * local[p]
        return {p: s for p, s in shares.items() if len(s) > 1 or self.hidden.get(p)}

    def targets(self, highlight) -> set:
        """The nodes to highlight, as a set; a folded node highlights its box."""
        if highlight is None:
            return set()
        nodes = [highlight] if isinstance(highlight, Value) else list(highlight)
        for n in nodes:
            if n not in self.ids:
                raise ValueError(f"highlight: {n!r} is not in this graph")
        return set(nodes)

    def digraph(
        self, grad_of, show_local_grads, rankdir, highlight, legend, marks, element_ids=False
    ) -> graphviz.Digraph:
        """The picture, with each value node's grad given by `grad_of(node)` (None: blank).
        ``element_ids`` gives every node and edge an SVG id (the step-through's script finds them so)."""
        g = _Digraph(
            name="chainrule",
            graph_attr={"rankdir": rankdir, "fontname": _FONT, "newrank": "true"},
            node_attr={"fontname": _FONT, "fontsize": "11", "shape": "box", "margin": "0.06,0.03"},
            edge_attr={"fontname": _FONT, "color": "#6b7280", "arrowsize": "0.6"},
        )
        clusters = {path: [] for path in self.boxes}
        box_words = {path: {} for path in self.boxes}
        for node in self.order:
            path = self.group.get(node)
            if path is not None and node not in self.outputs:
                for w in marks.words(node):
                    box_words[path][w] = box_words[path].get(w, 0) + 1
        lit_boxes = {self.boxes[self.group[n]] for n in highlight if n in self.group and n not in self.outputs}
        for path, box in self.boxes.items():
            clusters[path].append((box, self._box_attrs(path, box, box in lit_boxes, box_words[path])))
        nodes, edges = [], []
        box_inputs, stubs = set(), {}
        for node in self.order:
            path = self.group.get(node)
            if node in self.outputs or path is None:
                attrs = self._value_attrs(node, grad_of(node), node in highlight, marks)
                (clusters[path] if path is not None else nodes).append((self.ids[node], attrs))
            if not node.parents:
                continue
            missing = 0
            if len(self.kept) < len(self.ids):  # focus left some inputs out: count them
                missing = sum(
                    1
                    for p in dict.fromkeys(node.parents)
                    if p not in self.kept and (path is None or self.group.get(p) != path)
                )
            if path is not None:
                box = self.boxes[path]
                for tail, head, p in self.in_edges(node):
                    if (tail, head) not in box_inputs:
                        box_inputs.add((tail, head))
                        edges.append((tail, head, self._edge_attrs(p, head, None, False, marks)))
                if missing:
                    stubs[box] = stubs.get(box, 0) + missing
                if node in self.outputs:
                    edges.append((box, self.ids[node], {"id": f"{box}-{self.ids[node]}"}))
            else:
                self._op(node, nodes, edges, show_local_grads, node in highlight, marks)
                if missing:
                    stubs[self.op_id(node)] = missing
        for k, (path, members) in enumerate(clusters.items()):
            with g.subgraph(name=f"cluster_{k}") as c:
                c.attr(
                    label=f"<{_escape(path)}>",
                    style="rounded,filled",
                    fillcolor="#eef2ff",
                    color="#6366f1",
                    fontsize="10",
                )
                for name, attrs in members:
                    c.node(name, **(attrs if element_ids else _without_id(attrs)))
        for name, attrs in nodes:
            g.node(name, **(attrs if element_ids else _without_id(attrs)))
        for head, k in stubs.items():
            g.node(f"s{head}", label=f"{k} other input{'s' * (k != 1)}", **_STUB_STYLE)
            edges.append((f"s{head}", head, {"style": "dashed", "color": "#9ca3af"}))
        for tail, head, attrs in edges:
            g.edge(tail, head, **(attrs if element_ids else _without_id(attrs)))
        if legend:
            self._legend(g, show_local_grads, bool(highlight), marks)
        return g

    def _value_attrs(self, node, grad, lit, marks) -> dict:
        """Label and style of a value node: colour and shape by leaf kind, the root double-bordered,
        then its share sum, its problem words and its check numbers, the worst problem filling it.

        A constant shows no grad: nothing reads it, and for an exponent it is ans·log(base), nan
        for a negative base (as in PyTorch), which would only distract."""
        kind = node.role
        if kind == "constant":
            grad = _NO_GRAD
        cells = [f"<B>{_escape(node.label)}</B>"] if node.label else []
        cells.append(f"data {_fmt(node.data)}")
        if grad is None:  # not computed yet
            cells.append("grad " + "&#160;" * 7)
        elif grad is not _NO_GRAD:
            cells.append(f"grad {_fmt(grad)}")
        shares = marks.shares.get(node)
        if shares is not None and grad is not _NO_GRAD:
            cells.append(f'<FONT COLOR="{_SHARE}">{_sum_text(list(shares.values()), self.hidden.get(node, 0))}</FONT>')
        words = marks.words(node)
        if words:
            cells.append(f'<FONT COLOR="{_PROBLEM_TEXT}"><B>{" ".join(words)}</B></FONT>')
        if node in marks.mismatch:
            a, n = marks.mismatch[node]
            cells.append(f'<FONT COLOR="{_PROBLEM_TEXT}">engine {_fmt(a)} · finite diff. {_fmt(n)}</FONT>')
        attrs = {"id": self.ids[node], "label": _html_label(cells), **_KIND_STYLE[kind]}
        attrs["tooltip"] = f"data={node.data!r}" + (f" grad={grad!r}" if isinstance(grad, float) else "")
        if node is self.root:
            attrs.update(_ROOT_STYLE)
        if words:
            attrs["fillcolor"] = _PROBLEM_FILL[words[0]]
        if lit:
            attrs["fillcolor"] = _HIGHLIGHT_FILL
        return attrs

    def _box_attrs(self, path, box, lit, words) -> dict:
        ops, params = self.counts[path]
        cells = [f"{ops} op{'s' * (ops != 1)} · {params} parameter{'s' * (params != 1)}"]
        if words:
            cells.append(
                f'<FONT COLOR="{_PROBLEM_TEXT}"><B>{" · ".join(f"{k} {w}" for w, k in words.items())}</B></FONT>'
            )
        fill = _HIGHLIGHT_FILL if lit else _PROBLEM_FILL[next(iter(words))] if words else _BOX_STYLE["fillcolor"]
        return {**_BOX_STYLE, "id": box, "label": _html_label(cells), "fillcolor": fill}

    def _edge_attrs(self, parent, head, local, lit, marks) -> dict:
        """An edge into an op or box: ∂out/∂in in blue (when asked), a reused parent's share in green."""
        attrs = {"id": f"{self.ids[parent]}-{head}"}
        share = marks.shares.get(parent, {}).get(head)
        if share is not None:
            text = f'<FONT COLOR="{_SHARE}">{_fmt(share)}</FONT>'
            if local is not None:
                text = f'<FONT COLOR="{_EDGE_LABEL["fontcolor"]}">{_fmt(local)}</FONT><BR/>{text}'
            attrs.update(label=f"<{text}>", fontsize=_EDGE_LABEL["fontsize"])
        elif local is not None:
            attrs.update(label=_fmt(local), **_EDGE_LABEL)
        return {**attrs, **(_HIGHLIGHT_EDGE if lit else {})}

    def _op(self, node, nodes, edges, show_local_grads, lit, marks) -> None:
        """The op node that made `node`, its edge to it, and one edge per distinct parent."""
        op_id = self.op_id(node)
        nodes.append(
            (
                op_id,
                {**_OP_STYLE, "id": op_id, "label": _glyph(node), **({"fillcolor": _HIGHLIGHT_FILL} if lit else {})},
            )
        )
        edges.append((op_id, self.ids[node], {"id": f"{op_id}-{self.ids[node]}", **(_HIGHLIGHT_EDGE if lit else {})}))
        local = self.summed_locals(node) if show_local_grads else {}
        for tail, head, p in self.in_edges(node):
            edges.append((tail, head, self._edge_attrs(p, head, local.get(p), lit, marks)))

    def _legend(self, g, show_local_grads, highlighted, marks) -> None:
        """A one-row key under the picture: a sample of each kind of node that appears in it."""
        kinds = {n.role for n in self.visible if n is not self.root}
        entries = [(k, _KIND_STYLE[k]) for k in ("input", "parameter", "constant") if k in kinds]
        if None in kinds:
            entries.append(("computed", _KIND_STYLE[None]))
        entries.append(("root", {**_KIND_STYLE[self.root.role], "color": _ROOT_STYLE["color"], "border": "3"}))
        if any(n.parents for n in self.visible if n not in self.group):
            entries.append(("op", _OP_STYLE))
        if self.boxes:
            entries.append(("folded module", _BOX_STYLE))
        if highlighted:
            entries.append(("highlighted", {**_KIND_STYLE[None], "fillcolor": _HIGHLIGHT_FILL}))
        seen = {w for n in self.order for w in marks.words(n)}
        for word, text in _LEGEND_PROBLEMS.items():
            if word in seen:
                entries.append(
                    (html.escape(text, quote=False), {**_KIND_STYLE[None], "fillcolor": _PROBLEM_FILL[word]})
                )
        cells = "".join(
            f'<TD BORDER="{a.get("border", "1")}" COLOR="{a["color"]}" BGCOLOR="{a["fillcolor"]}"'
            f"{_CELL_STYLE.get(a['style'], '')}>{text}</TD>"
            for text, a in entries
        )
        if show_local_grads:
            cells += f'<TD><FONT COLOR="{_EDGE_LABEL["fontcolor"]}">0.1234</FONT> on an edge: ∂out/∂in</TD>'
        if marks.shares:
            cells += (
                f"<TD><FONT COLOR=\"{_SHARE}\">green</FONT>: a reused node's grad is the sum of its uses' "
                f"shares, grad(out)·∂out/∂in, each on its edge</TD>"
            )
        key = f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR><TD>key:</TD>{cells}</TR></TABLE>>'
        g.attr(label=key, labelloc="b", labeljust="l", fontsize="9")


# ---- step-through ------------------------------------------------------------------------------
def step_through(root, *, show_local_grads=True, rankdir="LR", max_nodes=MAX_NODES, problems=True) -> StepThrough:
    """The backward pass of `root` as frames, one per node in the order backward visits them.

    The order is ``reversed(topological_order(root))`` and includes the leaves: a node's grad is
    complete when it is visited, since every node that uses it came before. Frame k highlights
    the k-th node and fills in the grads of nodes visited so far (blank after); a reused node's
    sum of shares grows as its users are visited, and the caption of the frame that completes
    it says so. The grads are this one pass's, from `functional.gradients`; no `.grad` is
    touched. One layout for all frames: the page's script applies each frame's changes.
    """
    _check_options(root, rankdir, None, max_nodes)
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(
            f"the graph has {len(order)} nodes, more than max_nodes={max_nodes} frames: "
            f"pass a bigger max_nodes= to step through it"
        )
    visits = order[::-1]
    grads = dict(zip(visits, gradients(root, visits)))  # this one pass's grads; no .grad is touched
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    scene = _Scene(order, root, None, ids)
    marks = _Marks(problems=_problems(order, root, grads.get) if problems else {}, shares=scene.shares(grads.get))
    graph = scene.digraph(grads.get, show_local_grads, rankdir, set(), True, marks, element_ids=True)  # the last frame
    arrived = {p: {} for p in marks.shares}  # reused node -> {target: share} received so far
    lit, captions, sums, share_at = [], [], {p: [] for p in marks.shares}, {}
    for k, node in enumerate(visits):
        notes = []
        if node.parents:
            op = scene.op_id(node)
            edges = scene.in_edges(node)
            lit.append([ids[node], op, f"{op}-{ids[node]}", *(f"{t}-{h}" for t, h, _ in edges)])
            for tail, head, p in edges:
                if p not in marks.shares:
                    continue
                share_at[f"{tail}-{head}"] = k
                arrived[p][head] = marks.shares[p][head]
                done = len(arrived[p]) == len(marks.shares[p])
                terms = [s for t, s in marks.shares[p].items() if t in arrived[p]]
                sums[p].append([k, _sum_text(terms, scene.hidden.get(p, 0), done)])
                if done:
                    notes.append(
                        f"{_name(p)} now has all {len(terms)} shares: grad {_fmt(grads[p])} {_sum_text(terms)}"
                    )
        else:
            lit.append([ids[node]])
        captions.append(" · ".join([_caption(k, len(visits), node, grads[node], marks), *notes]))
    plan = {
        "visit": [[ids[n], k] for k, n in enumerate(visits) if n.role != "constant"],
        "sums": [[ids[p], steps] for p, steps in sums.items()],
        "shares": [[edge, k] for edge, k in share_at.items()],
        "lit": lit,
    }
    return StepThrough(visits, graph, captions, plan)


def _name(node: Value) -> str:
    """How a caption names a node: its label, or its op, or its role (plain text, escaped)."""
    if node.label:
        return f"'{_printable(node.label)}'"
    return f"the {_glyph_text(node)} node" if node.parents else f"a {node.role}"


def _caption(k: int, n: int, node: Value, grad: float, marks) -> str:
    name, where = _name(node), f"step {k + 1}/{n}: "
    shares = marks.shares.get(node)
    total = f"grad {_fmt(grad)}" + (
        f" {_sum_text(list(shares.values()))} (the sum of its uses' shares)" if shares else ""
    )
    if node.parents:
        return f"{where}{name} has {total}; each of its inputs gets grad × ∂out/∂in (edge labels)"
    if node.role == "constant":
        what = f"{name} is a constant ({_fmt(node.data)})" if node.label else f"the constant {_fmt(node.data)}"
        return f"{where}{what}: nothing needs its grad"
    return f"{where}{name} is a leaf; its {total} is complete"


class StepThrough:
    """A backward pass as frames over one picture: `.order` (the visited nodes), `.captions`,
    `.graph` (the Digraph of the last frame, every grad filled in), `.plan` (what each frame
    changes), `.svg` (rendered by one `dot` run on first use), `shown(k)`, `_repr_html_()` for
    Jupyter and `.save(path)`."""

    def __init__(self, order, graph, captions, plan):
        self.order, self.graph, self.captions, self.plan = order, graph, captions, plan
        self._svg = None

    def __len__(self) -> int:
        return len(self.order)

    def __repr__(self) -> str:
        return f"<StepThrough: {len(self)} frames>"

    def shown(self, k: int) -> dict:
        """What frame k shows, as the page's script computes it: {"lit": [element ids],
        "grads": {node id: True when its grad is filled in}, "sums": {node id: text},
        "shares": {edge id: True when its share is shown}}."""
        if not 0 <= k < len(self):
            raise IndexError(f"frame {k} of {len(self)}")
        sums = {}
        for node, steps in self.plan["sums"]:
            sums[node] = next((text for at, text in reversed(steps) if at <= k), "")
        return {
            "lit": self.plan["lit"][k],
            "grads": {n: at <= k for n, at in self.plan["visit"]},
            "sums": sums,
            "shares": {e: at <= k for e, at in self.plan["shares"]},
        }

    @property
    def svg(self) -> str:
        """The one picture every frame uses, as inline SVG (comments and XML prologue dropped)."""
        if self._svg is None:
            out = self.graph.pipe(format="svg").decode("utf-8")
            out = out[out.index("<svg") :]
            self._svg = _COMMENT.sub("", out).strip()
        return self._svg

    def _repr_html_(self) -> str:
        """One self-contained fragment: the inline SVG, the frames' changes as JSON, controls, plain JS."""
        svg = self.svg
        # an id derived from the content: unique per picture, yet the same on every run
        data = {"captions": self.captions, **self.plan}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        uid = "chainrule-" + hashlib.sha1((svg + text).encode("utf-8")).hexdigest()[:12]
        return _WIDGET.format(
            uid=uid,
            last=len(self) - 1,
            count=len(self),
            caption=html.escape(self.captions[0]),
            svg=svg,
            data=text,
            share=_SHARE,
            lit=_HIGHLIGHT_FILL,
            lit_edge=_HIGHLIGHT_EDGE["color"],
        )

    def save(self, path) -> pathlib.Path:
        """Write a standalone HTML page holding the widget; returns the path."""
        path = pathlib.Path(path)
        path.write_text(_PAGE.format(body=self._repr_html_()), encoding="utf-8")
        return path


_WIDGET = """<div id="{uid}" data-cr="widget" tabindex="0" style="font-family:sans-serif;font-size:13px">
<div style="margin:4px 0">
<button type="button" data-cr="step" data-by="-1">&#9664; prev</button>
<button type="button" data-cr="play">&#9654; play</button>
<button type="button" data-cr="step" data-by="1">next &#9654;</button>
<input type="range" data-cr="slider" min="0" max="{last}" value="0" step="1" style="vertical-align:middle;width:30%">
<button type="button" data-cr="zoom" data-by="0.8" title="zoom out (-)">&#8722;</button>
<button type="button" data-cr="zoom" data-by="fit" title="fit the width">fit</button>
<button type="button" data-cr="zoom" data-by="1.25" title="zoom in (+)">+</button>
</div>
<div data-cr="caption" style="margin:4px 0;min-height:2.6em">{caption}</div>
<div data-cr="view" data-frame="0" data-count="{count}" style="overflow:auto;max-height:85vh;max-width:100%">{svg}</div>
<script type="application/json" data-cr="data">{data}</script>
</div>
<script>
(function () {{
  var box = document.getElementById("{uid}"); if (!box || box.getAttribute("data-ready")) return;
  box.setAttribute("data-ready", "1");
  var data = JSON.parse(box.querySelector('[data-cr="data"]').textContent), count = data.captions.length;
  var view = box.querySelector('[data-cr="view"]'), svg = view.querySelector("svg");
  var slider = box.querySelector('[data-cr="slider"]'), caption = box.querySelector('[data-cr="caption"]');
  var play = box.querySelector('[data-cr="play"]'), timer = null, byId = {{}}, lit = [];
  svg.querySelectorAll("g[id]").forEach(function (g) {{ byId[g.id] = g; }});
  function texts(id) {{ return byId[id] ? Array.prototype.slice.call(byId[id].querySelectorAll("text")) : []; }}
  function green(id) {{ return texts(id).filter(function (t) {{ return (t.getAttribute("fill") || "").toLowerCase() === "{share}"; }}); }}
  var grads = [];
  data.visit.forEach(function (e) {{  // a node's grad cell: filled in from the frame that visits it
    texts(e[0]).forEach(function (t) {{ if (t.textContent.indexOf("grad") === 0) grads.push({{el: t, full: t.textContent, at: e[1]}}); }});
  }});
  var sums = data.sums.map(function (e) {{ return {{els: green(e[0]), steps: e[1]}}; }});
  var shares = data.shares.map(function (e) {{ return {{els: green(e[0]), at: e[1]}}; }});
  function set(el, attr, v) {{ lit.push([el, attr, el.getAttribute(attr)]); el.setAttribute(attr, v); }}
  function light(ids) {{  // the current node, its op and the edges into it, as draw(highlight=) marks them
    lit.forEach(function (s) {{ if (s[2] === null) s[0].removeAttribute(s[1]); else s[0].setAttribute(s[1], s[2]); }});
    lit = [];
    ids.forEach(function (id) {{
      var g = byId[id]; if (!g) return;
      if (g.getAttribute("class") === "edge") {{
        g.querySelectorAll("path, polygon").forEach(function (s) {{
          set(s, "stroke", "{lit_edge}"); set(s, "stroke-width", "2.5"); if (s.tagName === "polygon") set(s, "fill", "{lit_edge}");
        }});
      }} else g.querySelectorAll("polygon, path, ellipse").forEach(function (s) {{
        var f = s.getAttribute("fill"); if (f && f !== "none") set(s, "fill", "{lit}");
      }});
    }});
  }}
  function show(i) {{
    i = Math.max(0, Math.min(count - 1, i));
    grads.forEach(function (g) {{ g.el.textContent = i >= g.at ? g.full : "grad\\u00a0"; }});
    sums.forEach(function (s) {{
      var text = "\\u00a0"; s.steps.forEach(function (st) {{ if (st[0] <= i) text = st[1]; }});
      s.els.forEach(function (el) {{ el.textContent = text; }});
    }});
    shares.forEach(function (s) {{ s.els.forEach(function (el) {{ el.style.visibility = i >= s.at ? "" : "hidden"; }}); }});
    light(data.lit[i]);
    slider.value = i; caption.textContent = data.captions[i]; view.setAttribute("data-frame", i);
  }}
  // one layout, scaled: fit the width (never below a third of full size: beyond that, scroll), or zoom
  var natural = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width ? svg.viewBox.baseVal.width * 4 / 3 : svg.getBoundingClientRect().width;
  var fitted = true;
  svg.removeAttribute("width"); svg.removeAttribute("height"); svg.style.height = "auto"; svg.style.display = "block";
  function zoom(z) {{ svg.style.width = Math.round(natural * Math.max(0.1, Math.min(4, z))) + "px"; }}
  function fit() {{ fitted = true; zoom(Math.max(1 / 3, Math.min(1, (view.clientWidth - 4) / natural))); }}
  function by(f) {{ fitted = false; zoom(svg.getBoundingClientRect().width / natural * f); }}
  box.querySelectorAll('[data-cr="zoom"]').forEach(function (b) {{
    b.onclick = function () {{ var f = b.getAttribute("data-by"); if (f === "fit") fit(); else by(+f); }};
  }});
  window.addEventListener("resize", function () {{ if (fitted) fit(); }});
  function stop() {{ clearInterval(timer); timer = null; play.innerHTML = "&#9654; play"; }}
  box.querySelectorAll('[data-cr="step"]').forEach(function (b) {{
    b.onclick = function () {{ stop(); show(+slider.value + +b.getAttribute("data-by")); }};
  }});
  slider.oninput = function () {{ stop(); show(+slider.value); }};
  box.addEventListener("keydown", function (e) {{  // left/right arrow, Home, End; + and - zoom; the slider moves itself
    if (e.key === "+" || e.key === "=" || e.key === "-") {{ e.preventDefault(); by(e.key === "-" ? 0.8 : 1.25); return; }}
    var to = {{ArrowLeft: +slider.value - 1, ArrowRight: +slider.value + 1, Home: 0, End: count - 1}}[e.key];
    if (to === undefined || e.target === slider) return;
    e.preventDefault(); stop(); show(to);
  }});
  play.onclick = function () {{
    if (timer) return stop();
    if (+slider.value >= count - 1) show(0);
    play.innerHTML = "&#10074;&#10074; pause";
    timer = setInterval(function () {{ if (+slider.value >= count - 1) stop(); else show(+slider.value + 1); }}, 800);
  }};
  fit(); show(0);
}})();
</script>"""

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>chainrule: the backward pass, step by step</title></head>
<body>
{body}
</body></html>
"""


# ---- live sliders in Jupyter ----------------------------------------------------------------------
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
