"""What a picture says about its nodes beyond data and grad: problem words (dead relu, nan/inf,
exploding or vanishing grads), the finite-difference check of ``draw(check=True)``, and the
shares of a reused node."""

from __future__ import annotations

import heapq
import math

from ..functional import gradients

EXPLODING = 1e3  # |grad| > EXPLODING·|grad of the root|: flagged "exploding"
VANISHING = 1e-6  # 0 < |grad| < VANISHING·|grad of the root|: flagged "vanishing"
FD_STEP = 1e-6  # check=True: central differences with h = FD_STEP·max(1, |x|)
FD_RTOL, FD_ATOL = 1e-4, 1e-6  # ... agreeing when |a − n| <= FD_RTOL·max(|a|, |n|) + FD_ATOL·max(1, |root|)

LEGEND = {  # each problem word, worst first, and what the legend says of it
    "mismatch": "grad ≠ finite difference (check=True): an op this node feeds has a wrong derivative rule (or a kink)",
    "nan": "nan data or grad",
    "inf": "inf data or grad",
    "exploding": f"exploding: |grad| > {EXPLODING:g} × root's",
    "vanishing": f"vanishing: 0 < |grad| < {VANISHING:g} × root's",
    "dead": "dead relu: input ≤ 0, passes no grad",
}


class Marks:
    """Per-node notes beyond data and grad: problem words, check mismatches, shares of reused nodes."""

    __slots__ = ("problems", "mismatch", "shares")

    def __init__(self, problems=None, mismatch=None, shares=None):
        self.problems = problems or {}  # node -> [words], e.g. ["dead"], ["nan"], ["vanishing"]
        self.mismatch = mismatch or {}  # node -> (engine's grad, finite-difference estimate)
        self.shares = shares or {}  # reused node -> {drawn target id: its share of the grad}

    def words(self, node) -> list:
        return (["mismatch"] if node in self.mismatch else []) + self.problems.get(node, [])


def problems(order, root, grad_of) -> dict:
    """node -> the problem words that apply (see the package docstring); healthy nodes are absent."""
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


def mismatches(order, root) -> dict:
    """node -> (engine's grad, central-difference estimate) where they disagree; every leaf and
    interior node but constants is checked. The estimate perturbs the node's data by ±h and
    replays the primitives' forward rules of what lies downstream of it (see `replay`)."""
    nodes = [n for n in order if n.role != "constant"]
    engine = gradients(root, nodes)
    index = {n: i for i, n in enumerate(order)}
    users = {}  # node -> the nodes that take it as a parent, each once
    for m in order:
        for p in dict.fromkeys(m.parents):
            users.setdefault(p, []).append(m)
    atol = FD_ATOL * max(1.0, abs(root.data)) if math.isfinite(root.data) else FD_ATOL
    found = {}
    for node, a in zip(nodes, engine):
        h = FD_STEP * max(1.0, abs(node.data)) if math.isfinite(node.data) else FD_STEP
        up = replay(node, node.data + h, root, index, users)
        down = replay(node, node.data - h, root, index, users)
        n = (up - down) / (2.0 * h)
        if not agree(a, n, atol):
            found[node] = (a, n)
    return found


def replay(node, value, root, index, users) -> float:
    """root's data when `node` holds `value`: the forward rules re-run on the nodes downstream of it,
    in topological order (`index`: node -> position), and only as far as a value changes. The cost
    is the size of what the change reaches, not of the graph: linear overall when each node
    reaches a few others, as in a network's graph."""
    changed = {node: value}
    waiting = [(index[u], u) for u in users.get(node, ())]
    heapq.heapify(waiting)
    queued = {u for _, u in waiting}
    while waiting:
        _, m = heapq.heappop(waiting)
        try:
            v = m.primitive.forward(*[changed.get(p, p.data) for p in m.parents])
        except (ArithmeticError, ValueError):
            v = math.nan
        if v == m.data:
            continue  # the change stops here: nothing below it moves
        changed[m] = v
        for u in users.get(m, ()):
            if u not in queued:
                queued.add(u)
                heapq.heappush(waiting, (index[u], u))
    return changed.get(root, root.data)


def agree(a: float, n: float, atol: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(n)):
        return a == n or (math.isnan(a) and math.isnan(n))
    return abs(a - n) <= FD_RTOL * max(abs(a), abs(n)) + atol
