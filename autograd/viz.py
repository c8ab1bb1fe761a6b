"""Pictures of backpropagation: the graph with data and grad on every node, ∂out/∂in on every edge.

`draw` builds a `graphviz.Digraph` (shown inline by Jupyter; `.source` is DOT text; rendering it
needs Graphviz's `dot` program). `step_through` replays the backward pass one node at a time as a
self-contained HTML widget. Nodes made inside `nn` modules carry their module path, so
``collapse="neuron"`` or ``"layer"`` folds a whole network into a few readable boxes.
"""

from __future__ import annotations

import hashlib
import html
import math
import pathlib
from contextlib import contextmanager

import graphviz

from .engine import Value, local_grads, topological_order
from .functional import gradients

__all__ = ["draw", "step_through", "StepThrough", "GraphvizNotFoundError"]

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
_OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#e5e7eb", "color": "#6b7280",
             "fontsize": "10", "margin": "0.04,0.02", "height": "0.3"}  # fmt: skip
_BOX_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": "#c7d2fe", "color": "#4338ca"}
_EDGE_LABEL = {"fontcolor": "#1d4ed8", "fontsize": "9"}
_GLYPHS = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^", "abs": "|x|", "sum": "Σ", "logsumexp": "log Σ exp"}
_NO_GRAD = object()  # grad_of() result meaning "this picture shows no grads"


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
def draw(root, *, show_grad=True, show_local_grads=False, rankdir="LR", collapse=None, max_nodes=500,
         highlight=None, legend=True) -> graphviz.Digraph:  # fmt: skip
    """The computation graph of `root` as a `graphviz.Digraph`.

    Value nodes show label, data and grad (4 decimals); each op is its own small node. Input,
    parameter and constant leaves differ in shape and colour (see the legend); the root has a
    double red border. ``show_local_grads`` writes ∂out/∂in on each edge into an op, so that
    grad(in) = Σ edge × grad(out) can be read off; a parent used twice by one op (``x*x``) gets
    one edge carrying the summed derivative. ``collapse="neuron"``/``"layer"`` folds the nodes an
    `nn` module made into one box; edges into and out of a box carry no derivative. ``highlight``
    (a node or several) marks nodes, their ops and the edges into them. ``max_nodes`` bounds the
    value nodes and boxes drawn (op nodes are not counted).
    """
    _check_options(root, rankdir, collapse, max_nodes)
    order = topological_order(root)
    if collapse is None and len(order) > max_nodes:
        raise _too_big(len(order), max_nodes, collapse)
    scene = _Scene(order, root, collapse)
    if scene.size > max_nodes:
        raise _too_big(scene.size, max_nodes, collapse)
    grad_of = (lambda n: n.grad) if show_grad else (lambda n: _NO_GRAD)
    return scene.digraph(grad_of, show_local_grads, rankdir, scene.targets(highlight), legend)


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
    hint = {None: "collapse='neuron' or collapse='layer' (for nn models) or ", "neuron": "collapse='layer' or "}
    return ValueError(f"the picture would have {size} nodes, more than max_nodes={max_nodes}: "
                      f"pass {hint.get(collapse, '')}a bigger max_nodes=")  # fmt: skip


def _fmt(x: float) -> str:
    """4 decimals like micrograd; scientific where 4 decimals would hide the value (tiny or huge)."""
    if x != 0.0 and math.isfinite(x) and not 1e-4 <= abs(x) < 1e6:
        return f"{x:.4e}"
    return f"{x:.4f}"


def _glyph(node: Value) -> str:
    """How an op is shown: math glyphs, and dot as Σ w·x (+ b when it has a bias, i.e. odd arity)."""
    if node.op == "dot":
        return "Σ w·x + b" if len(node.parents) % 2 else "Σ w·x"
    return _GLYPHS.get(node.op, node.op)


def _html_label(cells) -> str:
    """A one-row HTML-like label: cells separated by thin rules, whatever the rankdir."""
    row = "".join(f"<TD>{c}</TD>" for c in cells)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLUMNS="*"><TR>{row}</TR></TABLE>>'


def _value_label(node: Value, grad) -> str:
    cells = [f"<B>{html.escape(node.label)}</B>"] if node.label else []
    cells.append(f"data {_fmt(node.data)}")
    if grad is None:  # not computed yet (step-through): keep the width so the layout holds still
        cells.append("grad " + "&#160;" * 7)
    elif grad is not _NO_GRAD:
        cells.append(f"grad {_fmt(grad)}")
    return _html_label(cells)


def _users_of(order) -> dict:
    """node -> the nodes that take it as a parent (one entry per use)."""
    users = {}
    for node in order:
        for p in node.parents:
            users.setdefault(p, []).append(node)
    return users


def _groups(order, users, collapse) -> dict:
    """Each folded node's box: its `_scope` cut to the level; untagged parameter and constant
    leaves join the one box that uses them, and a leaf used outside its box stays visible."""
    group = {}
    for node in order:
        scope = node.scope
        if scope:
            group[node] = scope if collapse == "neuron" else ".".join(scope.split(".")[:2])
    for node in order:
        if node.parents:
            continue
        boxes = {group.get(u) for u in users.get(node, ())}
        if node in group and boxes != {group[node]}:
            del group[node]
        elif node not in group and len(boxes) == 1 and None not in boxes and node.role != "input":
            group[node] = boxes.pop()
    return group


class _Scene:
    """What one picture holds: every node, or with `collapse` each module's nodes folded into one box."""

    def __init__(self, order, root, collapse):
        self.order, self.root = order, root
        self.ids = {node: f"v{i}" for i, node in enumerate(order)}
        users = _users_of(order) if collapse else {}
        self.group = _groups(order, users, collapse) if collapse else {}
        self.boxes = {}  # module path -> box node id, in the order the modules compute
        for node in order:
            path = self.group.get(node)
            if path is not None and node.parents and path not in self.boxes:
                self.boxes[path] = f"m{len(self.boxes)}"
        self.counts = {path: [0, 0] for path in self.boxes}  # [ops, parameters] folded into each box
        self.outputs = set()  # folded nodes that stay visible: used outside their box, or the root
        for node in order:
            path = self.group.get(node)
            if path is None:
                continue
            self.counts[path][0 if node.parents else 1] += bool(node.parents) or node.role == "parameter"
            if node.parents and (node is root or any(self.group.get(u) != path for u in users.get(node, ()))):
                self.outputs.add(node)
        self.visible = [n for n in order if n not in self.group or n in self.outputs]
        self.size = len(self.visible) + len(self.boxes)

    def targets(self, highlight) -> set:
        """The nodes to highlight, as a set; a folded node highlights its box."""
        if highlight is None:
            return set()
        nodes = [highlight] if isinstance(highlight, Value) else list(highlight)
        for n in nodes:
            if n not in self.ids:
                raise ValueError(f"highlight: {n!r} is not in this graph")
        return set(nodes)

    def digraph(self, grad_of, show_local_grads, rankdir, highlight, legend) -> graphviz.Digraph:
        """The picture, with each value node's grad given by `grad_of(node)` (None: blank)."""
        g = _Digraph(name="chainrule", graph_attr={"rankdir": rankdir, "fontname": _FONT, "newrank": "true"},
                     node_attr={"fontname": _FONT, "fontsize": "11", "shape": "box", "margin": "0.06,0.03"},
                     edge_attr={"fontname": _FONT, "color": "#6b7280", "arrowsize": "0.6"})  # fmt: skip
        clusters = {path: [] for path in self.boxes}
        lit_boxes = {self.boxes[self.group[n]] for n in highlight if n in self.group and n not in self.outputs}
        for path, box in self.boxes.items():
            clusters[path].append((box, self._box_attrs(path, box in lit_boxes)))
        nodes, edges, box_inputs = [], [], set()
        for node in self.order:
            path = self.group.get(node)
            if node in self.outputs or path is None:
                attrs = self._value_attrs(node, grad_of(node), node in highlight)
                (clusters[path] if path is not None else nodes).append((self.ids[node], attrs))
            if path is not None:
                box = self.boxes[path]
                for p in node.parents:
                    if self.group.get(p) != path and (p, box) not in box_inputs:
                        box_inputs.add((p, box))
                        edges.append((self.ids[p], box, {}))
                if node in self.outputs:
                    edges.append((box, self.ids[node], {}))
            elif node.parents:
                self._op(node, nodes, edges, show_local_grads, node in highlight)
        for k, (path, members) in enumerate(clusters.items()):
            with g.subgraph(name=f"cluster_{k}") as c:
                c.attr(label=f"<{html.escape(path)}>", style="rounded,filled", fillcolor="#eef2ff", color="#6366f1", fontsize="10")
                for name, attrs in members:
                    c.node(name, **attrs)
        for name, attrs in nodes:
            g.node(name, **attrs)
        for tail, head, attrs in edges:
            g.edge(tail, head, **attrs)
        if legend:
            self._legend(g, show_local_grads, bool(highlight))
        return g

    def _value_attrs(self, node, grad, lit) -> dict:
        """Label and style of a value node: colour and shape by leaf kind, the root double-bordered.

        A constant shows no grad: nothing reads it, and for an exponent it is ans·log(base), nan
        for a negative base (as in PyTorch), which would only distract."""
        kind = node.role
        if kind == "constant":
            grad = _NO_GRAD
        attrs = {"label": _value_label(node, grad), **_KIND_STYLE[kind]}
        attrs["tooltip"] = f"data={node.data!r}" + (f" grad={grad!r}" if isinstance(grad, float) else "")
        if node is self.root:
            attrs.update(_ROOT_STYLE)
        if lit:
            attrs["fillcolor"] = _HIGHLIGHT_FILL
        return attrs

    def _box_attrs(self, path, lit) -> dict:
        ops, params = self.counts[path]
        label = _html_label([f"{ops} op{'s' * (ops != 1)} · {params} parameter{'s' * (params != 1)}"])
        return {**_BOX_STYLE, "label": label, "fillcolor": _HIGHLIGHT_FILL if lit else _BOX_STYLE["fillcolor"]}

    def _op(self, node, nodes, edges, show_local_grads, lit) -> None:
        """The op node that made `node`, its edge to it, and one edge per distinct parent."""
        op_id = "o" + self.ids[node][1:]
        nodes.append((op_id, {**_OP_STYLE, "label": _glyph(node), **({"fillcolor": _HIGHLIGHT_FILL} if lit else {})}))
        edges.append((op_id, self.ids[node], _HIGHLIGHT_EDGE if lit else {}))
        summed = dict.fromkeys(node.parents, 0.0)
        if show_local_grads:
            for p, d in zip(node.parents, local_grads(node)):
                summed[p] += d
        for p, d in summed.items():
            attrs = {"label": _fmt(d), **_EDGE_LABEL} if show_local_grads else {}
            edges.append((self.ids[p], op_id, {**attrs, **(_HIGHLIGHT_EDGE if lit else {})}))

    def _legend(self, g, show_local_grads, highlighted) -> None:
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
        cells = "".join(f'<TD BORDER="{a.get("border", "1")}" COLOR="{a["color"]}" BGCOLOR="{a["fillcolor"]}"'
                        f'{_CELL_STYLE.get(a["style"], "")}>{text}</TD>' for text, a in entries)  # fmt: skip
        if show_local_grads:
            cells += f'<TD><FONT COLOR="{_EDGE_LABEL["fontcolor"]}">0.1234</FONT> on an edge: ∂out/∂in</TD>'
        key = f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR><TD>key:</TD>{cells}</TR></TABLE>>'
        g.attr(label=key, labelloc="b", labeljust="l", fontsize="9")


# ---- step-through ------------------------------------------------------------------------------
def step_through(root, *, show_local_grads=True, rankdir="LR", max_nodes=100) -> StepThrough:
    """The backward pass of `root` as frames, one per node in the order backward visits them.

    The order is ``reversed(topological_order(root))`` and includes the leaves: a node's grad is
    complete when it is visited, since every node that uses it came before. Frame k highlights
    the k-th node and fills in the grads of nodes visited so far (blank after). The grads are
    this one pass's, from `functional.gradients`; no `.grad` is touched.
    """
    _check_options(root, rankdir, None, max_nodes)
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(f"the graph has {len(order)} nodes, more than max_nodes={max_nodes} frames: "
                         f"pass a bigger max_nodes= to step through it")  # fmt: skip
    visits = order[::-1]
    grads = dict(zip(visits, gradients(root, visits)))  # this one pass's grads; no .grad is touched
    scene = _Scene(order, root, None)
    shown, graphs, captions = {}, [], []
    for k, node in enumerate(visits):
        shown[node] = grads[node]
        graphs.append(scene.digraph(shown.get, show_local_grads, rankdir, {node}, legend=True))
        captions.append(_caption(k, len(visits), node, grads[node]))
    return StepThrough(visits, graphs, captions)


def _caption(k: int, n: int, node: Value, grad: float) -> str:
    name = f"'{node.label}'" if node.label else (f"the {_glyph(node)} node" if node.parents else f"a {node.role}")
    if node.parents:
        return (f"step {k + 1}/{n}: {name} has grad {_fmt(grad)}; each of its inputs gets "
                f"grad × ∂out/∂in (edge labels)")  # fmt: skip
    return f"step {k + 1}/{n}: {name} is a leaf; its grad {_fmt(grad)} is complete"


class StepThrough:
    """A backward pass as frames: `.order` (the visited nodes), `.graphs` (Digraphs), `.captions`,
    `.frames` (SVG strings, rendered on first use), `_repr_html_()` for Jupyter and `.save(path)`."""

    def __init__(self, order, graphs, captions):
        self.order, self.graphs, self.captions = order, graphs, captions
        self._frames = None

    def __len__(self) -> int:
        return len(self.graphs)

    def __repr__(self) -> str:
        return f"<StepThrough: {len(self)} frames>"

    @property
    def frames(self) -> list:
        """One inline SVG per frame, rendered by a single `dot` run."""
        if self._frames is None:
            data = "\n".join(g.source for g in self.graphs).encode("utf-8")
            with _dot_needed():
                out = graphviz.pipe("dot", "svg", data).decode("utf-8")
            self._frames = [svg[svg.index("<svg") :].strip() for svg in out.split("<?xml")[1:]]
            assert len(self._frames) == len(self.graphs), "dot returned a different number of pictures"
        return self._frames

    def _repr_html_(self) -> str:
        """One self-contained fragment: inline SVG frames, a slider, prev/play/next, plain JS."""
        # an id derived from the content: unique per picture, yet the same on every run
        uid = "chainrule-" + hashlib.sha1("".join(self.frames).encode("utf-8")).hexdigest()[:12]
        frames = "".join(
            f'<div data-cr="frame" data-caption="{html.escape(cap)}" style="overflow:auto;max-height:85vh;{"" if k == 0 else "display:none"}">{svg}</div>'
            for k, (cap, svg) in enumerate(zip(self.captions, self.frames))
        )  # fmt: skip
        return _WIDGET.format(uid=uid, last=len(self) - 1, caption=html.escape(self.captions[0]), frames=frames)

    def save(self, path) -> pathlib.Path:
        """Write a standalone HTML page holding the widget; returns the path."""
        path = pathlib.Path(path)
        path.write_text(_PAGE.format(body=self._repr_html_()), encoding="utf-8")
        return path


_WIDGET = """<div id="{uid}" tabindex="0" style="font-family:sans-serif;font-size:13px">
<div style="margin:4px 0">
<button type="button" data-cr="step" data-by="-1">&#9664; prev</button>
<button type="button" data-cr="play">&#9654; play</button>
<button type="button" data-cr="step" data-by="1">next &#9654;</button>
<input type="range" data-cr="slider" min="0" max="{last}" value="0" step="1" style="vertical-align:middle;width:30%">
<span data-cr="caption">{caption}</span>
</div>
{frames}
</div>
<script>
(function () {{
  var box = document.getElementById("{uid}"); if (!box) return;
  var frames = box.querySelectorAll('[data-cr="frame"]'), slider = box.querySelector('[data-cr="slider"]');
  var caption = box.querySelector('[data-cr="caption"]'), play = box.querySelector('[data-cr="play"]'), timer = null;
  function show(i) {{
    i = Math.max(0, Math.min(frames.length - 1, i));
    for (var k = 0; k < frames.length; k++) frames[k].style.display = k === i ? "" : "none";
    slider.value = i; caption.textContent = frames[i].getAttribute("data-caption");
  }}
  function stop() {{ clearInterval(timer); timer = null; play.innerHTML = "&#9654; play"; }}
  box.querySelectorAll('[data-cr="step"]').forEach(function (b) {{
    b.onclick = function () {{ stop(); show(+slider.value + +b.getAttribute("data-by")); }};
  }});
  slider.oninput = function () {{ stop(); show(+slider.value); }};
  box.addEventListener("keydown", function (e) {{  // left/right arrow, Home, End; the slider moves itself
    var to = {{ArrowLeft: +slider.value - 1, ArrowRight: +slider.value + 1, Home: 0, End: frames.length - 1}}[e.key];
    if (to === undefined || e.target === slider) return;
    e.preventDefault(); stop(); show(to);
  }});
  play.onclick = function () {{
    if (timer) return stop();
    if (+slider.value >= frames.length - 1) show(0);
    play.innerHTML = "&#10074;&#10074; pause";
    timer = setInterval(function () {{ if (+slider.value >= frames.length - 1) stop(); else show(+slider.value + 1); }}, 800);
  }};
}})();
</script>"""

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>chainrule: the backward pass, step by step</title></head>
<body>
{body}
</body></html>
"""
