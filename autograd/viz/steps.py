"""`step_through`: the backward pass as frames over one picture, a self-contained HTML widget for
Jupyter or a page of its own, played by the shared frame player."""

from __future__ import annotations

import hashlib
import html
import pathlib
import re

from ..engine import Value, topological_order
from ..functional import gradients
from . import player, style
from .graph import MAX_NODES, check_options
from .marks import Marks
from .marks import problems as find_problems
from .picture import still_html
from .scene import Scene

_COMMENT = re.compile(r"<!--.*?-->", re.S)  # dot's SVG comments: bytes nobody reads


def step_through(root, *, show_local_grads=True, rankdir="LR", max_nodes=MAX_NODES, problems=True) -> StepThrough:
    """The backward pass of `root` as frames, one per node in the order backward visits them.

    The order is ``reversed(topological_order(root))`` and includes the leaves: a node's grad is
    complete when it is visited, since every node that uses it came before. Frame k highlights
    the k-th node and fills in the grads of nodes visited so far (blank after); a reused node's
    sum of shares grows as its users are visited, and the caption of the frame that completes
    it says so. The grads are this one pass's, from `functional.gradients`; no `.grad` is
    touched. One layout for all frames: the page's script applies each frame's changes.
    """
    check_options(root, rankdir, None, max_nodes)
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(
            f"the graph has {len(order)} nodes, more than max_nodes={max_nodes} frames: "
            f"pass a bigger max_nodes= to step through it"
        )
    visits = order[::-1]
    grads = dict(zip(visits, gradients(root, visits)))  # this one pass's grads; no .grad is touched
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    scene = Scene(order, root, None, ids)
    marks = Marks(problems=find_problems(order, root, grads.get) if problems else {}, shares=scene.shares(grads.get))
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
                sums[p].append([k, style.sum_text(terms, scene.hidden.get(p, 0), done)])
                if done:
                    notes.append(
                        f"{_name(p)} now has all {len(terms)} shares: grad {style.fmt(grads[p])} {style.sum_text(terms)}"
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
        return f"'{style.printable(node.label)}'"
    return f"the {style.glyph_text(node)} node" if node.parents else f"a {node.role}"


def _caption(k: int, n: int, node: Value, grad: float, marks) -> str:
    name, where = _name(node), f"step {k + 1}/{n}: "
    shares = marks.shares.get(node)
    total = f"grad {style.fmt(grad)}" + (
        f" {style.sum_text(list(shares.values()))} (the sum of its uses' shares)" if shares else ""
    )
    if node.parents:
        return f"{where}{name} has {total}; each of its inputs gets grad × ∂out/∂in (edge labels)"
    if node.role == "constant":
        what = (
            f"{name} is a constant ({style.fmt(node.data)})" if node.label else f"the constant {style.fmt(node.data)}"
        )
        return f"{where}{what}: nothing needs its grad"
    return f"{where}{name} is a leaf; its {total} is complete"


class StepThrough:
    """A backward pass as frames over one picture: `.order` (the visited nodes), `.captions`,
    `.graph` (the Digraph of the last frame, every grad filled in), `.plan` (what each frame
    changes), `.svg` (rendered by one `dot` run on first use), `shown(k)`, `_repr_html_()` for
    Jupyter, `fragment()` (the widget as HTML), `page()` and `.save(path)`."""

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
            out = _COMMENT.sub("", out[out.index("<svg") :]).strip()
            if re.search(r"<!--|</script", out, re.I):  # dot escapes user text; this would end the script holding it
                raise ValueError("the picture's SVG holds '<!--' or '</script', which its page cannot carry")
            self._svg = out
        return self._svg

    def _repr_html_(self) -> str:
        """Jupyter's form: the widget, with a still picture of the last frame (a PNG) in place of the
        player where scripts do not run (an untrusted notebook, a static viewer)."""
        return self.fragment(still=True)

    def fragment(self, still: bool = False) -> str:
        """One self-contained HTML fragment: controls, the SVG and the frames' changes (as script
        data, so a sanitizer that drops scripts drops them whole), the player's script and style
        inlined. With `still`, a PNG of the last frame shows until the script replaces it."""
        svg = self.svg
        colours = {"share": style.SHARE, "lit": style.HIGHLIGHT_FILL, "litEdge": style.HIGHLIGHT_EDGE["color"]}
        data = player.json_for_script({"captions": self.captions, "colours": colours, **self.plan})
        # an id derived from the content: unique per picture, yet the same on every run
        uid = "chainrule-" + hashlib.sha1((svg + data).encode("utf-8")).hexdigest()[:12]
        if still:
            picture = still_html(
                svg,
                self.graph.png(),
                alt="the computation graph, every grad filled in",
                full_size=False,
            )
            note = _STILL
        else:
            picture, note = "", ""
        return player.fill(
            player.asset("step_through.html"),
            uid=uid,
            last=len(self) - 1,
            count=len(self),
            still=picture,
            note=html.escape(note),
            svg=svg,
            data=data,
            style=player.style(),
            script=player.script() + "\n" + player.asset("step_through.js"),
        )

    def page(self, title: str | None = None, explanation: str | None = None) -> str:
        """A standalone HTML page: a heading, a line saying what it shows, and the widget."""
        root = self.order[0]
        name = f" of {_name(root)}" if root.label else ""
        title = title or f"chainrule: the backward pass{name}, step by step"
        explanation = explanation or _EXPLAINED
        return player.fill(
            player.asset("page.html"),
            title=html.escape(title),
            explanation=html.escape(explanation),
            body=self.fragment(),
        )

    def save(self, path, title: str | None = None, explanation: str | None = None) -> pathlib.Path:
        """Write `page(title, explanation)` to `path` (UTF-8); returns the path."""
        path = pathlib.Path(path)
        path.write_text(self.page(title, explanation), encoding="utf-8")
        return path


_STILL = (
    "A still picture: the whole backward pass, every grad filled in. To step through it node by node, "
    "run this cell (or trust the notebook), or save it with .save('backprop.html') and open that in a browser."
)
_EXPLAINED = (
    "Each frame is one node of the backward pass, in the order backward visits them, the output first: "
    "the node is highlighted and the grads of the nodes visited so far are filled in, each input getting "
    "grad × ∂out/∂in along its edge. Keys: ← → Home End step, space plays, + − zoom."
)
