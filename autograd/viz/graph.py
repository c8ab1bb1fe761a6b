"""`draw`: the computation graph of a `Value` as a picture, data and grad on every node and, on
request, ∂out/∂in on every edge, problem marks and a finite-difference check."""

from __future__ import annotations

from ..engine import Value, topological_order
from .marks import Marks, mismatches
from .marks import problems as find_problems
from .picture import Digraph
from .scene import NO_GRAD, Scene, around

# The one limit on the value nodes a picture may hold: `draw`, `step_through` and
# `chainrule graph --max-nodes` all default to it. Measured: a 1,000-node step-through takes 1-3 s
# (nearly all of it one `dot` run), 1.6-1.7 MB of HTML and under 40 MB of memory; at 2,000 nodes
# `dot` alone takes about 10 s, so the limit stays at 1,000 (collapse= and focus= draw bigger graphs).
MAX_NODES = 1000


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
) -> Digraph:
    """The computation graph of `root` as a `Digraph`.

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
    grad_of = (lambda n: n.grad) if show_grad else (lambda n: NO_GRAD)
    return picture(
        root,
        grad_of,
        show_local_grads=show_local_grads,
        rankdir=rankdir,
        collapse=collapse,
        max_nodes=max_nodes,
        highlight=highlight,
        legend=legend,
        focus=focus,
        check=check,
        problems=problems,
    )


def picture(
    root, grad_of, *, show_local_grads, rankdir, collapse, max_nodes, highlight, legend, focus, check, problems
) -> Digraph:
    """`draw` with each node's grad read from `grad_of(node)` (`.grad`, or a pass's own grads that
    leave every `.grad` alone, as `explore` draws them)."""
    check_options(root, rankdir, collapse, max_nodes)
    order = topological_order(root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    full = order
    if focus is not None:
        if not isinstance(focus, Value) or focus not in ids:
            raise ValueError(f"focus: {focus!r} is not a node of this graph")
        order = around(order, focus)
    if collapse is None and len(order) > max_nodes:
        raise too_big(len(order), max_nodes, collapse)
    scene = Scene(order, root, collapse, ids, focus=focus, full=full)
    if scene.size > max_nodes:
        raise too_big(scene.size, max_nodes, collapse)
    marks = Marks(
        problems=find_problems(order, root, grad_of) if problems else {},
        mismatch=mismatches(order, root) if check else {},
        shares=scene.shares(grad_of),
    )
    lit = scene.targets(highlight if highlight is not None else focus)
    return scene.digraph(grad_of, show_local_grads, rankdir, lit, legend, marks)


def check_options(root, rankdir, collapse, max_nodes) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"draw() needs a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if collapse not in (None, "neuron", "layer"):
        raise ValueError(f"collapse must be None, 'neuron' or 'layer', got {collapse!r}")
    if type(max_nodes) is not int or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def too_big(size: int, max_nodes: int, collapse) -> ValueError:
    hint = {
        None: "focus=node, collapse='neuron' or collapse='layer' (for nn models) or ",
        "neuron": "collapse='layer' or ",
    }
    return ValueError(
        f"the picture would have {size} nodes, more than max_nodes={max_nodes}: "
        f"pass {hint.get(collapse, 'focus=node or ')}a bigger max_nodes="
    )
