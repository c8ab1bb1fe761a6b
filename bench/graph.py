"""Graph throughput and memory: chainrule against micrograd on the same graphs, in one process.

(a) a chain v ← v·c of 1,000,000 steps; (b) a wide sum of 100,000 products; (c) a 2-16-16-1 MLP
forward over a batch of 100. For each: nodes per second to build, nodes per second for backward,
bytes per node (tracemalloc). micrograd recurses in backward, so it cannot finish (a) or (b):
the table says so instead of crashing. With `torch` importable, the same scalar graphs from 0-d
tensors are timed too, as a reference point.

Run: `make bench` (or `python bench/graph.py`).
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd as ag  # noqa: E402
import nn  # noqa: E402

try:
    import micrograd.engine as mg_engine
    import micrograd.nn as mg_nn
except ImportError:  # pragma: no cover - `make bench` installs it
    sys.exit("bench/graph.py needs micrograd: pip install -e '.[bench]' (make bench does this)")

torch = None  # imported in run(), so that merely loading this module changes no other benchmark's heap


def _import_torch():
    global torch
    try:
        import torch as _torch
    except ImportError:
        return None
    torch = _torch
    return torch


CHAIN = 1_000_000
WIDE = 100_000
BATCH = 100
TORCH_CHAIN = 100_000  # PyTorch's per-op overhead makes 10⁶ steps slow; the rate is what compares
REPEATS = 3


# ---- the graphs, written once per library -------------------------------------------------------------
def chain(Value, n):
    x = Value(0.5)
    v = x
    for _ in range(n):
        v = v * 1.0000001
    return x, v, 2 * n + 1  # each step makes a constant and a product


def wide_sum_ours(n):
    rng = random.Random(0)
    ws = [ag.Value(rng.uniform(-1, 1)) for _ in range(n)]
    xs = [ag.Value(rng.uniform(-1, 1)) for _ in range(n)]
    return ws, ag.sum([w * x for w, x in zip(ws, xs)]), 3 * n + 1


def wide_sum_micrograd(n):
    rng = random.Random(0)
    ws = [mg_engine.Value(rng.uniform(-1, 1)) for _ in range(n)]
    xs = [mg_engine.Value(rng.uniform(-1, 1)) for _ in range(n)]
    return ws, sum(w * x for w, x in zip(ws, xs)), 4 * n + 1  # sum() adds a constant 0 and n adds


def chain_torch(n):
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    v = x
    for _ in range(n):
        v = v * 1.0000001
    return x, v, n + 1  # a Python number is no node in PyTorch


def wide_sum_torch(n):
    rng = random.Random(0)
    ws = [torch.tensor(rng.uniform(-1, 1), dtype=torch.float64, requires_grad=True) for _ in range(n)]
    xs = [torch.tensor(rng.uniform(-1, 1), dtype=torch.float64) for _ in range(n)]
    return ws, sum(w * x for w, x in zip(ws, xs)), 2 * n


def batch_inputs():
    rng = random.Random(1)
    return [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(BATCH)]


def mlp_ours(X):
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = ag.sum([model([ag.Value(a) for a in row]) for row in X])
    return model, out


def mlp_micrograd(X):
    random.seed(0)
    model = mg_nn.MLP(2, [16, 16, 1])
    out = sum(model([mg_engine.Value(a) for a in row]) for row in X)
    return model, out


def count_nodes(root) -> int:
    """Nodes reachable from root, without recursion (works for both libraries)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for p in getattr(node, "_prev", None) or getattr(node, "_parents", ()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


# ---- measuring ------------------------------------------------------------------------------------------
def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def build_and_backward(build, backward, repeats=REPEATS):
    """Median seconds to build and to backward; backward may raise RecursionError (micrograd)."""
    builds, backs, error, nodes = [], [], None, None
    for _ in range(repeats):
        gc.collect()
        t_build, (leaf, root, nodes) = timed(build)
        builds.append(t_build)
        try:
            t_back, _ = timed(lambda r=root: backward(r))
            backs.append(t_back)
        except RecursionError:
            error = "RecursionError"
        del leaf, root
    return statistics.median(builds), (statistics.median(backs) if backs else error), nodes


def bytes_per_node(build):
    gc.collect()
    tracemalloc.start()
    leaf, root, nodes = build()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del leaf, root
    return current / nodes


def chain_peak_memory():
    """Peak traced memory of building and backpropagating the 10⁶ chain (chainrule only)."""
    gc.collect()
    tracemalloc.start()
    x, v, _ = chain(ag.Value, CHAIN)
    v.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del x, v
    return peak


def run() -> dict:
    rows = {}
    sys_limit = sys.getrecursionlimit()

    ours = build_and_backward(lambda: chain(ag.Value, CHAIN), lambda r: r.backward())
    theirs = build_and_backward(lambda: chain(mg_engine.Value, CHAIN), lambda r: r.backward(), repeats=1)
    rows["chain"] = (ours, theirs)

    ours = build_and_backward(lambda: wide_sum_ours(WIDE), lambda r: r.backward())
    theirs = build_and_backward(lambda: wide_sum_micrograd(WIDE), lambda r: r.backward(), repeats=1)
    rows["wide"] = (ours, theirs)

    X = batch_inputs()

    def mlp_build(make):
        def build():
            model, out = make(X)
            return model, out, count_nodes(out)

        return build

    ours = build_and_backward(mlp_build(mlp_ours), lambda r: r.backward(), repeats=5)
    theirs = build_and_backward(mlp_build(mlp_micrograd), lambda r: r.backward(), repeats=5)
    rows["mlp"] = (ours, theirs)

    memory = {
        "chain": (
            bytes_per_node(lambda: chain(ag.Value, 100_000)),
            bytes_per_node(lambda: chain(mg_engine.Value, 100_000)),
        ),
        "wide": (bytes_per_node(lambda: wide_sum_ours(WIDE)), bytes_per_node(lambda: wide_sum_micrograd(WIDE))),
        "mlp": (bytes_per_node(mlp_build(mlp_ours)), bytes_per_node(mlp_build(mlp_micrograd))),
    }
    torch_rows = {}
    if _import_torch() is not None:
        torch_rows["chain"] = build_and_backward(lambda: chain_torch(TORCH_CHAIN), lambda r: r.backward(), repeats=1)
        torch_rows["wide"] = build_and_backward(lambda: wide_sum_torch(WIDE), lambda r: r.backward(), repeats=1)
    assert sys.getrecursionlimit() == sys_limit
    return {"rows": rows, "memory": memory, "torch": torch_rows, "chain_peak": chain_peak_memory()}


NAMES = {
    "chain": f"(a) chain v·c, {CHAIN:,} steps",
    "wide": f"(b) wide sum of {WIDE:,} products",
    "mlp": f"(c) MLP 2-16-16-1 forward, batch {BATCH}",
}


def cell(nodes, seconds):
    """Seconds for the whole graph, with the node rate behind it."""
    if not isinstance(seconds, float):
        return seconds
    return f"{seconds:.3f} s ({nodes / seconds / 1e6:.2f} M nodes/s)"


def speedup(ours, theirs):
    return f"{theirs / ours:.1f}x" if isinstance(ours, float) and isinstance(theirs, float) else "–"


def report(results) -> str:
    lines = [
        "Times are for the whole graph (the same computation in both libraries; micrograd needs more nodes "
        "for it since it has no fused sum or dot), medians of 3 runs (5 for the MLP).",
        "",
        "| graph | nodes, ours / micrograd | build, ours | build, micrograd | build speed-up | backward, ours "
        "| backward, micrograd | backward speed-up | bytes per node, ours / micrograd | memory per graph, micrograd ÷ ours |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, ((ob, obk, on), (tb, tbk, tn)) in results["rows"].items():
        om, tm = results["memory"][key]
        lines.append(
            f"| {NAMES[key]} | {on:,} / {tn:,} | {cell(on, ob)} | {cell(tn, tb)} | {speedup(ob, tb)} "
            f"| {cell(on, obk)} | {cell(tn, tbk)} | {speedup(obk, tbk)} "
            f"| {om:.0f} / {tm:.0f} ({tm / om:.1f}x smaller) | {tm * tn / (om * on):.1f}x |"
        )
    (ob, obk, on), _ = results["rows"]["chain"]
    lines.append("")
    lines.append(
        f"The {CHAIN:,}-step chain ({on:,} nodes, each step a constant and a product): build {ob:.2f} s + "
        f"backward {obk:.2f} s = {ob + obk:.2f} s; peak traced memory {results['chain_peak'] / 2**20:.0f} MiB. "
        f"micrograd builds it but its recursive backward raises RecursionError, as it does on the wide sum "
        f"(its builtin sum makes a 100,000-deep chain of additions)."
    )
    if results["torch"]:
        lines.append("")
        lines.append(
            f"PyTorch {torch.__version__} 0-d float64 tensors, the same scalar graphs (a reference point, not a peer: "
            f"PyTorch is built for tensors, not scalars):"
        )
        names = {"chain": f"chain v·c, {TORCH_CHAIN:,} steps", "wide": f"wide sum of {WIDE:,} products"}
        for key, (tb, tbk, tn) in results["torch"].items():
            lines.append(f"- {names[key]} ({tn:,} nodes): build {cell(tn, tb)}, backward {cell(tn, tbk)}")
    else:
        lines.append("")
        lines.append("PyTorch is not installed here: no PyTorch column.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
