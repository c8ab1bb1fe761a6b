"""micrograd's own demo, step for step on micrograd and on chainrule, from the same initial weights.

The demo (micrograd's demo.ipynb): a 2-16-16-1 ReLU MLP on 100 moons points, max-margin loss
plus 1e-4 L2, plain SGD with a decaying rate, full batch. `demo_step` is its loop body,
unchanged but for taking the library as an argument; both libraries run it alternately in one
process, their losses must agree to 1e-9 at every step, and the medians of the per-step times
give the ratio. A second variant trains the same way as chainrule's guide teaches (float inputs,
the fused hinge loss, an L2 term as one dot node, nn.optim.SGD) and must reach the same losses.

Run: `make bench` (or `python bench/moons.py --steps 20`).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd  # noqa: E402
import nn  # noqa: E402

try:
    import micrograd.engine
    import micrograd.nn
except ImportError:  # pragma: no cover - `make bench` installs it
    sys.exit("bench/moons.py needs micrograd: pip install -e '.[bench]' (make bench does this)")

TOLERANCE = 1e-9


def demo_step(k, model, Value, X, y):
    """One step of micrograd's demo loop, verbatim but for its imports."""
    Xb, yb = X, y
    inputs = [list(map(Value, xrow)) for xrow in Xb]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, sum(accuracy) / len(accuracy)


def idiomatic_step(k, model, optimizer, X, y):
    """The same training as chainrule's guide writes it: fused loss and an optimiser."""
    scores = [model(x) for x in X]
    params = model.parameters()
    total_loss = nn.losses.hinge(scores, y) + 1e-4 * autograd.dot(params, params)
    optimizer.zero_grad()
    total_loss.backward()
    optimizer.lr = 1.0 - 0.9 * k / 100
    optimizer.step()
    return total_loss.data


def models():
    """micrograd's model, and chainrule's with the very same initial weights."""
    random.seed(1337)
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    ours = nn.MLP(2, [16, 16, 1], activation="relu", output_activation="linear")
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        p.data = q.data
    return theirs, ours


def run(steps: int) -> dict:
    X, labels = nn.datasets.moons(100, noise=0.1, seed=1337)
    y = [2.0 * t - 1.0 for t in labels]  # y in {-1, 1}, as the demo makes it

    theirs, ours = models()
    _, idiomatic = models()
    optimizer = nn.optim.SGD(idiomatic.parameters(), lr=1.0)

    times = {"micrograd": [], "verbatim": [], "idiomatic": []}
    worst = {"verbatim": 0.0, "idiomatic": 0.0}
    last = None
    for k in range(steps):
        # each step starts from a collected heap, so no library pays for the other's garbage
        # (micrograd's closures make reference cycles that only the cyclic collector frees)
        gc.collect()
        t = time.perf_counter()
        loss_theirs, acc = demo_step(k, theirs, micrograd.engine.Value, X, y)
        times["micrograd"].append(time.perf_counter() - t)

        gc.collect()
        t = time.perf_counter()
        loss_ours, acc_ours = demo_step(k, ours, autograd.Value, X, y)
        times["verbatim"].append(time.perf_counter() - t)

        gc.collect()
        t = time.perf_counter()
        loss_idiomatic = idiomatic_step(k, idiomatic, optimizer, X, y)
        times["idiomatic"].append(time.perf_counter() - t)

        for name, loss in (("verbatim", loss_ours), ("idiomatic", loss_idiomatic)):
            gap = abs(loss - loss_theirs)
            worst[name] = max(worst[name], gap)
            if not gap <= TOLERANCE:
                raise AssertionError(
                    f"step {k}: {name} loss {loss!r} differs from micrograd's {loss_theirs!r} by {gap:.3g}"
                )
        assert acc == acc_ours, f"step {k}: accuracy {acc_ours} differs from micrograd's {acc}"
        last = (loss_theirs, acc)
    median = {name: statistics.median(ts) for name, ts in times.items()}
    return {"steps": steps, "median": median, "worst": worst, "last": last}


def report(r) -> str:
    m = r["median"]
    return "\n".join(
        [
            "| micrograd demo (MLP 2-16-16-1, 100 moons, hinge + L2, SGD) | seconds per step (median) | speed-up vs micrograd | largest loss difference vs micrograd |",
            "| --- | --- | --- | --- |",
            f"| micrograd 0.1.0 | {m['micrograd']:.4f} | 1.0x | – |",
            f"| chainrule, micrograd's loop verbatim | {m['verbatim']:.4f} | {m['micrograd'] / m['verbatim']:.1f}x | {r['worst']['verbatim']:.1e} |",
            f"| chainrule, as the guide teaches | {m['idiomatic']:.4f} | {m['micrograd'] / m['idiomatic']:.1f}x | {r['worst']['idiomatic']:.1e} |",
            "",
            f"{r['steps']} steps each, alternating the three in one process, the heap collected before each timed step; losses agree to {TOLERANCE:g} at every "
            f"step (last step: loss {r['last'][0]:.6f}, accuracy {r['last'][1]:.0%}).",
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps to run on each (default 20)")
    args = parser.parse_args(argv)
    if args.steps < 3:
        parser.error("--steps must be at least 3")
    print(report(run(args.steps)))


if __name__ == "__main__":
    main()
