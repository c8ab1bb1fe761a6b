"""The scene: which nodes, boxes and edges one picture holds, and the DOT it becomes. With
``collapse`` each module's nodes fold into one box; with ``focus`` only what feeds and uses one
node is kept."""

from __future__ import annotations

import html

from ..engine import Value, local_grads, topological_order
from . import style
from .marks import LEGEND
from .picture import Digraph

NO_GRAD = object()  # grad_of() result meaning "this picture shows no grads"


def users_of(order) -> dict:
    """node -> the nodes that take it as a parent (one entry per distinct user)."""
    users = {}
    for node in order:
        for p in dict.fromkeys(node.parents):
            users.setdefault(p, []).append(node)
    return users


def around(order, focus) -> list:
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


def layer_of(path: str) -> str:
    """The layer a neuron's scope belongs to: nn's "layers.0.neurons.3" -> "layers.0"; a bare
    Layer's "neurons.3" -> "layer" (the whole picture is one layer); a hand-made scope keeps
    its first two parts."""
    parts = path.split(".")
    if len(parts) >= 2 and parts[-1].isdigit():
        return ".".join(parts[:-2]) or "layer"
    return ".".join(parts[:2])


def groups(order, users, collapse) -> dict:
    """Each folded node's box: its scope cut to the level; untagged parameter and constant
    leaves join the one box that uses them, and a leaf used outside its box stays visible."""
    group = {}
    for node in order:
        scope = node.scope
        if scope:
            group[node] = scope if collapse == "neuron" else layer_of(scope)
    for node in order:
        if node.parents:
            continue
        boxes = {group.get(u) for u in users.get(node, ())}
        if node in group and boxes != {group[node]}:
            del group[node]
        elif node not in group and len(boxes) == 1 and None not in boxes and node.role != "input":
            group[node] = boxes.pop()
    return group


def without_id(attrs: dict) -> dict:
    if "id" not in attrs:
        return attrs
    attrs = dict(attrs)
    del attrs["id"]
    return attrs


# ---- the scene: which nodes, boxes and edges one picture holds -----------------------------------
class Scene:
    """What one picture holds: every node, or with `collapse` each module's nodes folded into one box."""

    def __init__(self, order, root, collapse, ids, *, focus=None, full=None):
        """`order`: the nodes drawn; `full`: the whole graph when `focus` keeps only part of it
        (boxes are formed and counted over the whole graph, so a box reads the same either way)."""
        self.order, self.root, self.ids = order, root, ids
        self.kept = set(order)
        full = order if full is None else full
        users = users_of(order)
        all_users = users if full is order else users_of(full)
        self.group = groups(full, all_users, collapse) if collapse else {}
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
        if isinstance(highlight, Value):
            nodes = [highlight]
        elif isinstance(highlight, (list, tuple, set, frozenset)):
            nodes = list(highlight)
        else:
            raise TypeError(
                f"highlight must be a Value of this graph or a list of them, got {type(highlight).__name__}"
            )
        for n in nodes:
            if not isinstance(n, Value):
                raise TypeError(
                    f"highlight must be a Value of this graph or a list of them, got a {type(n).__name__} in it"
                )
            if n not in self.ids:
                raise ValueError(f"highlight: {n!r} is not in this graph")
        return set(nodes)

    def digraph(self, grad_of, show_local_grads, rankdir, highlight, legend, marks, element_ids=False) -> Digraph:
        """The picture, with each value node's grad given by `grad_of(node)` (None: blank).
        ``element_ids`` gives every node and edge an SVG id (the step-through's script finds them so)."""
        g = Digraph(
            name="chainrule",
            graph_attr={"rankdir": rankdir, "fontname": style.FONT, "newrank": "true"},
            node_attr={"fontname": style.FONT, "fontsize": "11", "shape": "box", "margin": "0.06,0.03"},
            edge_attr={"fontname": style.FONT, "color": "#6b7280", "arrowsize": "0.6"},
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
                    label=f"<{style.escape(path)}>",
                    style="rounded,filled",
                    fillcolor="#eef2ff",
                    color="#6366f1",
                    fontsize="10",
                )
                for name, attrs in members:
                    c.node(name, **(attrs if element_ids else without_id(attrs)))
        for name, attrs in nodes:
            g.node(name, **(attrs if element_ids else without_id(attrs)))
        for head, k in stubs.items():
            g.node(f"s{head}", label=f"{k} other input{'s' * (k != 1)}", **style.STUB_STYLE)
            edges.append((f"s{head}", head, {"style": "dashed", "color": "#9ca3af"}))
        for tail, head, attrs in edges:
            g.edge(tail, head, **(attrs if element_ids else without_id(attrs)))
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
            grad = NO_GRAD
        cells = [f"<B>{style.escape(node.label)}</B>"] if node.label else []
        cells.append(f"data {style.fmt(node.data)}")
        if grad is None:  # not computed yet
            cells.append("grad " + "&#160;" * 7)
        elif grad is not NO_GRAD:
            cells.append(f"grad {style.fmt(grad)}")
        shares = marks.shares.get(node)
        if shares is not None and grad is not NO_GRAD:
            cells.append(
                f'<FONT COLOR="{style.SHARE}">{style.sum_text(list(shares.values()), self.hidden.get(node, 0))}</FONT>'
            )
        words = marks.words(node)
        if words:
            cells.append(f'<FONT COLOR="{style.PROBLEM_TEXT}"><B>{" ".join(words)}</B></FONT>')
        if node in marks.mismatch:
            a, n = marks.mismatch[node]
            cells.append(
                f'<FONT COLOR="{style.PROBLEM_TEXT}">engine {style.fmt(a)} · finite diff. {style.fmt(n)}</FONT>'
            )
        attrs = {"id": self.ids[node], "label": style.html_label(cells), **style.KIND_STYLE[kind]}
        attrs["tooltip"] = f"data={node.data!r}" + (f" grad={grad!r}" if isinstance(grad, float) else "")
        if node is self.root:
            attrs.update(style.ROOT_STYLE)
        if words:
            attrs["fillcolor"] = style.PROBLEM_FILL[words[0]]
        if lit:
            attrs["fillcolor"] = style.HIGHLIGHT_FILL
        return attrs

    def _box_attrs(self, path, box, lit, words) -> dict:
        ops, params = self.counts[path]
        cells = [f"{ops} op{'s' * (ops != 1)} · {params} parameter{'s' * (params != 1)}"]
        if words:
            cells.append(
                f'<FONT COLOR="{style.PROBLEM_TEXT}"><B>{" · ".join(f"{k} {w}" for w, k in words.items())}</B></FONT>'
            )
        fill = (
            style.HIGHLIGHT_FILL
            if lit
            else style.PROBLEM_FILL[next(iter(words))]
            if words
            else style.BOX_STYLE["fillcolor"]
        )
        return {**style.BOX_STYLE, "id": box, "label": style.html_label(cells), "fillcolor": fill}

    def _edge_attrs(self, parent, head, local, lit, marks) -> dict:
        """An edge into an op or box: ∂out/∂in in blue (when asked), a reused parent's share in green."""
        attrs = {"id": f"{self.ids[parent]}-{head}"}
        share = marks.shares.get(parent, {}).get(head)
        if share is not None:
            text = f'<FONT COLOR="{style.SHARE}">{style.fmt(share)}</FONT>'
            if local is not None:
                text = f'<FONT COLOR="{style.EDGE_LABEL["fontcolor"]}">{style.fmt(local)}</FONT><BR/>{text}'
            attrs.update(label=f"<{text}>", fontsize=style.EDGE_LABEL["fontsize"])
        elif local is not None:
            attrs.update(label=style.fmt(local), **style.EDGE_LABEL)
        return {**attrs, **(style.HIGHLIGHT_EDGE if lit else {})}

    def _op(self, node, nodes, edges, show_local_grads, lit, marks) -> None:
        """The op node that made `node`, its edge to it, and one edge per distinct parent."""
        op_id = self.op_id(node)
        nodes.append(
            (
                op_id,
                {
                    **style.OP_STYLE,
                    "id": op_id,
                    "label": f"<{style.glyph(node)}>",  # HTML-like: a name's backslashes and quotes stay literal
                    **({"fillcolor": style.HIGHLIGHT_FILL} if lit else {}),
                },
            )
        )
        edges.append(
            (op_id, self.ids[node], {"id": f"{op_id}-{self.ids[node]}", **(style.HIGHLIGHT_EDGE if lit else {})})
        )
        local = self.summed_locals(node) if show_local_grads else {}
        for tail, head, p in self.in_edges(node):
            edges.append((tail, head, self._edge_attrs(p, head, local.get(p), lit, marks)))

    def _legend(self, g, show_local_grads, highlighted, marks) -> None:
        """A one-row key under the picture: a sample of each kind of node that appears in it."""
        kinds = {n.role for n in self.visible if n is not self.root}
        entries = [(k, style.KIND_STYLE[k]) for k in ("input", "parameter", "constant") if k in kinds]
        if None in kinds:
            entries.append(("computed", style.KIND_STYLE[None]))
        entries.append(
            ("root", {**style.KIND_STYLE[self.root.role], "color": style.ROOT_STYLE["color"], "border": "3"})
        )
        if any(n.parents for n in self.visible if n not in self.group):
            entries.append(("op", style.OP_STYLE))
        if self.boxes:
            entries.append(("folded module", style.BOX_STYLE))
        if highlighted:
            entries.append(("highlighted", {**style.KIND_STYLE[None], "fillcolor": style.HIGHLIGHT_FILL}))
        seen = {w for n in self.order for w in marks.words(n)}
        for word, text in LEGEND.items():
            if word in seen:
                entries.append(
                    (html.escape(text, quote=False), {**style.KIND_STYLE[None], "fillcolor": style.PROBLEM_FILL[word]})
                )
        cells = "".join(
            f'<TD BORDER="{a.get("border", "1")}" COLOR="{a["color"]}" BGCOLOR="{a["fillcolor"]}"'
            f"{style.CELL_STYLE.get(a['style'], '')}>{text}</TD>"
            for text, a in entries
        )
        if show_local_grads:
            cells += f'<TD><FONT COLOR="{style.EDGE_LABEL["fontcolor"]}">0.1234</FONT> on an edge: ∂out/∂in</TD>'
        if marks.shares:
            cells += (
                f"<TD><FONT COLOR=\"{style.SHARE}\">green</FONT>: a reused node's grad is the sum of its uses' "
                f"shares, grad(out)·∂out/∂in, each on its edge</TD>"
            )
        key = f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR><TD>key:</TD>{cells}</TR></TABLE>>'
        g.attr(label=key, labelloc="b", labeljust="l", fontsize="9")
