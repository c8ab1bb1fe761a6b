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

The modules: `graph` (draw), `scene` (what one picture holds, as DOT), `marks` (problems and the
finite-difference check), `steps` (step_through), `sliders` (explore), `picture` (the Digraph
that renders), `style` (colours and text), `player` (the frame player and page templates in
``static/``, shared with `nn.movie`).
"""

from .graph import MAX_NODES, draw
from .marks import EXPLODING, VANISHING
from .picture import GraphvizNotFoundError
from .sliders import explore
from .steps import StepThrough, step_through

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
