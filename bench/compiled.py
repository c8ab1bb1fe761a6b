"""micrograd's demo step compiled with `autograd.compile`, against micrograd and eager chainrule.

Same demo as bench/moons.py (MLP 2-w-w-1, 100 moons points, max-margin loss + 1e-4 L2, SGD with
a decaying rate, full batch), from the same initial weights, the variants alternating step by
step in one process (medians of the per-step times; every loss must agree with micrograd's to
1e-9):

- eager: chainrule building the graph at every step, as the guide teaches;
- compiled: one example's loss traced once, run over the 100 examples by a loop written into the
  generated code (``compile(..., batch="python")``), the L2 term a second compiled function;
- NumPy replay: the same trace with every node a NumPy array over the batch (``batch="numpy"``);
- unrolled (width 16 only): the whole step's graph, 100 examples deep, written out as one function.

Then the one-off cost of the first call (trace, write, `compile()`), `nn.fit` with each compile
mode, and a 10⁵-node graph. Timings on a shared machine are noisy: ratios from one run.

Run: `make bench` (or `python bench/compiled.py`).
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd as ag  # noqa: E402
import nn  # noqa: E402

try:
    import micrograd.engine
    import micrograd.nn
except ImportError:  # pragma: no cover - `make bench` installs it
    sys.exit("bench/compiled.py needs micrograd: pip install -e '.[bench]' (make bench does this)")

TOLERANCE = 1e-9
ALPHA = 1e-4


def micrograd_step(k, model, X, y):
    """micrograd's demo loop body (as bench/moons.py runs it). At width 64 its L2 term is a chain
    of ~4,400 additions, deeper than micrograd's recursive backward allows by default: the
    recursion limit is raised for the step, and put back after it."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 50_000))
    try:
        return _micrograd_step(k, model, X, y)
    finally:
        sys.setrecursionlimit(limit)


def _micrograd_step(k, model, X, y):
    Value = micrograd.engine.Value
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    model.zero_grad()
    total_loss.backward()
    for p in model.parameters():
        p.data -= (1.0 - 0.9 * k / 100) * p.grad
    return total_loss.data


def eager_step(model):
    params = model.parameters()

    def step(k, X, y):
        total_loss = nn.losses.hinge([model(x) for x in X], y) + ALPHA * ag.dot(params, params)
        model.zero_grad()
        total_loss.backward()
        _sgd(params, k)
        return total_loss.data

    return step


def compiled_step(model, mode):
    """The demo step as two compiled functions: the mean hinge loss over examples, and the L2 term."""
    params = model.parameters()
    data_loss = ag.compile(lambda x, t: nn.losses.hinge([model(x)], [t]), params=params, batch=mode)
    reg_loss = ag.compile(lambda: ALPHA * ag.dot(params, params), params=params)

    def step(k, X, y):
        model.zero_grad()
        total_loss = data_loss(X, y)[0] + reg_loss()[0]
        _sgd(params, k)
        return total_loss

    return step


def unrolled_step(model):
    """The whole step, every example's graph, written out as one function."""
    params = model.parameters()

    def loss(X, y):
        return nn.losses.hinge([model(x) for x in X], y) + ALPHA * ag.dot(params, params)

    compiled = ag.compile(loss, params=params)

    def step(k, X, y):
        model.zero_grad()
        value = compiled(X, y)[0]
        _sgd(params, k)
        return value

    return step


def _sgd(params, k):
    lr = 1.0 - 0.9 * k / 100
    for p in params:
        p.data -= lr * p.grad


def models(width, copies):
    """micrograd's model and `copies` chainrule models with the very same initial weights."""
    random.seed(1337)
    theirs = micrograd.nn.MLP(2, [width, width, 1])
    ours = []
    for _ in range(copies):
        model = nn.MLP(2, [width, width, 1], activation="relu", output_activation="linear")
        for p, q in zip(model.parameters(), theirs.parameters(), strict=True):
            p.data = q.data
        ours.append(model)
    return theirs, ours


def demo(width: int, steps: int, unrolled: bool) -> dict:
    X, labels = nn.datasets.moons(100, noise=0.1, seed=1337)
    y = [2.0 * t - 1.0 for t in labels]
    names = ["eager", "compiled", "numpy"] + (["unrolled"] if unrolled else [])
    theirs, ours = models(width, len(names))
    makers = {
        "eager": eager_step,
        "compiled": lambda m: compiled_step(m, "python"),
        "numpy": lambda m: compiled_step(m, "numpy"),
        "unrolled": unrolled_step,
    }
    steps_of = {name: makers[name](model) for name, model in zip(names, ours)}
    times = {name: [] for name in ["micrograd", *names]}
    first = {}
    worst = dict.fromkeys(names, 0.0)
    for k in range(steps):
        gc.collect()
        t = time.perf_counter()
        reference = micrograd_step(k, theirs, X, y)
        times["micrograd"].append(time.perf_counter() - t)
        for name in names:
            gc.collect()
            t = time.perf_counter()
            loss = steps_of[name](k, X, y)
            elapsed = time.perf_counter() - t
            if k == 0 and name != "eager":
                first[name] = elapsed  # trace, write, compile(), then the step itself
            else:
                times[name].append(elapsed)
            gap = abs(loss - reference)
            worst[name] = max(worst[name], gap)
            if not gap <= TOLERANCE:
                raise AssertionError(
                    f"width {width}, step {k}: {name} loss {loss!r} differs from micrograd's {reference!r}"
                )
    median = {name: statistics.median(ts) for name, ts in times.items()}
    return {"width": width, "steps": steps, "median": median, "first": first, "worst": worst}


def fit_speed(epochs: int = 8) -> dict:
    """`nn.fit` on the demo's data and model, hinge loss, SGD, full batch, with each compile mode."""
    X, y = nn.datasets.moons(100, noise=0.1, seed=1337)
    seconds, losses = {}, {}
    for mode in (False, True, "numpy"):
        model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
        optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
        gc.collect()
        t = time.perf_counter()
        history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=epochs, progress=False, compile=mode)
        seconds[mode] = (time.perf_counter() - t) / epochs
        losses[mode] = history["loss"]
    for mode in (True, "numpy"):
        for a, b in zip(losses[mode], losses[False]):
            assert abs(a - b) <= 1e-10 * abs(b), f"fit(compile={mode!r}) loss {a!r} differs from eager {b!r}"
    return {"epochs": epochs, "seconds": seconds}


def big_graph(steps: int = 25_000) -> dict:
    """A chain of `steps` × (·w, +0.1, tanh): 10⁵ nodes with their constants, compiled in one go."""

    def chain(x, w):
        v = x
        for _ in range(steps):
            v = ag.tanh(v * w + 0.1)
        return v

    g = ag.compile(chain, argnums=(0, 1))
    t = time.perf_counter()
    first = g(0.3, 0.9)
    first_seconds = time.perf_counter() - t
    t = time.perf_counter()
    again = g(0.4, 0.8)
    again_seconds = time.perf_counter() - t
    t = time.perf_counter()
    eager = ag.value_and_grad(chain, argnums=(0, 1))(0.4, 0.8)
    eager_seconds = time.perf_counter() - t
    nodes = len(ag.topological_order(chain(ag.Value(0.3), ag.Value(0.9))))
    assert again == eager and first == ag.value_and_grad(chain, argnums=(0, 1))(0.3, 0.9)
    return {
        "nodes": nodes,
        "first": first_seconds,
        "again": again_seconds,
        "eager": eager_seconds,
        "lines": g.source.count("\n"),
        "megabytes": len(g.source) / 2**20,
    }


def run() -> dict:
    return {
        "w16": demo(16, steps=20, unrolled=True),
        "w64": demo(64, steps=3, unrolled=False),
        "fit": fit_speed(),
        "big": big_graph(),
    }


LABELS = {
    "eager": "chainrule eager (graph built every step)",
    "compiled": 'compiled: one example traced, a loop over the batch (`batch="python"`)',
    "numpy": 'NumPy replay of that trace over the batch (`batch="numpy"`)',
    "unrolled": "compiled: the whole 100-example step unrolled into one function",
}


def report(r) -> str:
    lines = [
        "| micrograd demo, MLP 2-w-w-1 | w | seconds per step (median) | speed-up vs micrograd | vs chainrule eager | first call: trace, write, compile() | largest loss difference vs micrograd |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key in ("w16", "w64"):
        d = r[key]
        m, w = d["median"], d["width"]
        lines.append(f"| micrograd 0.1.0 | {w} | {m['micrograd']:.4f} | 1x | – | – | – |")
        for name in [n for n in LABELS if n in m]:
            first = f"{d['first'][name]:.3f} s" if name in d["first"] else "–"
            lines.append(
                f"| {LABELS[name]} | {w} | {m[name]:.5f} | {m['micrograd'] / m[name]:,.0f}x | "
                f"{m['eager'] / m[name]:.1f}x | {first} | {d['worst'][name]:.1e} |"
            )
    f = r["fit"]
    s = f["seconds"]
    b = r["big"]
    w16, w64 = r["w16"]["median"], r["w64"]["median"]
    widths = (
        f"Width 16: {r['w16']['steps']} steps, width 64: {r['w64']['steps']} steps, the variants alternating in one "
        "process, the heap collected before each timed step; the first step of a compiled variant is its one-off cost "
        "and is not in the median. From width 16 to 64 the compiled loop goes from "
        f"{w16['micrograd'] / w16['compiled']:,.0f}x to {w64['micrograd'] / w64['compiled']:,.0f}x micrograd, the NumPy "
        f"replay from {w16['micrograd'] / w16['numpy']:,.0f}x to {w64['micrograd'] / w64['numpy']:,.0f}x. The machine "
        "is shared by several jobs, so these are ratios from one run."
    )
    fits = (
        f"`nn.fit` on the same data and model (hinge, SGD, full batch), {f['epochs']} epochs, the first epoch's "
        f"tracing included: eager {s[False]:.4f} s per epoch, `compile=True` {s[True]:.4f} s "
        f'({s[False] / s[True]:.1f}x), `compile="numpy"` {s["numpy"]:.4f} s ({s[False] / s["numpy"]:.1f}x); loss '
        "histories equal to 1e-10."
    )
    big = (
        f"A {b['nodes']:,}-node graph (a chain of ·w, +0.1, tanh): first call {b['first']:.2f} s (trace, "
        f"{b['lines']:,} lines / {b['megabytes']:.1f} MiB of source, `compile()`), then {b['again'] * 1e3:.1f} ms a "
        f"call against {b['eager'] * 1e3:.0f} ms eager."
    )
    lines += ["", widths, "", fits, "", big]
    return "\n".join(lines)


def report_big(b) -> str:
    """One line on the big compiled graph (`big_graph`)."""
    return (
        f"A {b['nodes']:,}-node graph (a chain of ·w, +0.1, tanh) compiled in one go: first call {b['first']:.2f} s "
        f"(trace, {b['lines']:,} lines / {b['megabytes']:.1f} MiB of source, `compile()`), then "
        f"{b['again'] * 1e3:.1f} ms a call against {b['eager'] * 1e3:.0f} ms eager."
    )


def main() -> None:
    print(report(run()))


if __name__ == "__main__":
    main()
