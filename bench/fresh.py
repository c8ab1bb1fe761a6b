"""Side by side, each library in its own fresh process: the targets of "layers as matrices".

Every measurement runs in a new Python process (``python bench/fresh.py worker CASE LIB``),
so no library inherits another's heap, caches or warmed-up code. Rounds alternate the
libraries; the first call (tracing, compiling, the first epoch) is reported apart from the
steady state. Before each timed step the heap is collected (``gc.collect()``) and the
collector stays on during the step, for every library alike. Ratios are per round (the two
processes of one round) and given as their median with the spread (min–max) over rounds.

Cases:
- ``demo W``: micrograd's demo step (MLP 2-W-W-1 ReLU, 100 moons, hinge + 1e-4 L2, SGD): micrograd,
  chainrule eager, ``compile(batch="python")``, ``batch="numpy"`` (layers as matrices), and the
  same step written by hand in NumPy matrices (the floor); step 0's loss must agree to 1e-9.
- ``moons``: ``nn.fit`` on the demo's data, eager against ``compile="numpy"``, per steady epoch.
- ``digits``: 64-32-10 tanh, cross-entropy, Adam, batches of 32: ``fit(compile="numpy")``,
  PyTorch float64 (the same initial weights, the same shuffles) and hand-written NumPy, per steady
  epoch, and the held-out accuracy of each.
- ``v1``: chainrule's eager demo step today against v1 (commit b608803), from ``git archive``.
- ``chain``: a 10⁶-node chain built and backpropagated: seconds and peak memory (max RSS).

Run: ``python bench/fresh.py`` (``--quick`` for fewer rounds and no micrograd at width 64).
"""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALPHA = 1e-4
V1 = "b608803"


# ---- the workers: one case, one library, one fresh process ---------------------------------------
def _timed(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _moons():
    import nn

    X, labels = nn.datasets.moons(100, noise=0.1, seed=1337)
    return X, [2.0 * t - 1.0 for t in labels]


def _demo_weights(width):
    """micrograd's initial weights for MLP 2-w-w-1 (its own random init after seed 1337), as floats."""
    random.seed(1337)
    import micrograd.nn

    return [p.data for p in micrograd.nn.MLP(2, [width, width, 1]).parameters()]


def _chainrule_model(width, weights):
    import nn

    model = nn.MLP(2, [width, width, 1], activation="relu", output_activation="linear")
    for p, w in zip(model.parameters(), weights, strict=True):
        p.data = w
    return model


def demo_worker(lib, width, steps):
    weights = _demo_weights(width)
    X, y = _moons()
    if lib == "micrograd":
        import micrograd.engine
        import micrograd.nn

        random.seed(1337)
        model = micrograd.nn.MLP(2, [width, width, 1])
        sys.setrecursionlimit(50_000)  # its L2 term is a chain of additions, deeper than its recursive backward allows

        def step(k):
            Value = micrograd.engine.Value
            scores = [model(list(map(Value, x))) for x in X]
            losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
            total = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in model.parameters())
            model.zero_grad()
            total.backward()
            for p in model.parameters():
                p.data -= (1.0 - 0.9 * k / 100) * p.grad
            return total.data

    elif lib == "hand":
        import numpy as np

        step = _hand_demo(np, width, weights, X, y)
    else:
        import autograd as ag
        import nn

        model = _chainrule_model(width, weights)
        params = model.parameters()

        def sgd(k):
            for p in params:
                p.data -= (1.0 - 0.9 * k / 100) * p.grad

        if lib == "eager":

            def step(k):
                total = nn.losses.hinge([model(x) for x in X], y) + ALPHA * ag.dot(params, params)
                model.zero_grad()
                total.backward()
                sgd(k)
                return total.data

        else:
            data_loss = ag.compile(lambda x, t: nn.losses.hinge([model(x)], [t]), params=params, batch=lib)
            reg_loss = ag.compile(lambda: ALPHA * ag.dot(params, params), params=params)

            def step(k):
                model.zero_grad()
                total = data_loss(X, y)[0] + reg_loss()[0]
                sgd(k)
                return total

    first, loss0 = _timed(lambda: step(0))
    steady = [_timed(lambda k=k: step(k))[0] for k in range(1, steps + 1)]
    return {"first": first, "steady": steady, "loss0": loss0}


def _hand_demo(np, width, weights, X, y):
    """The demo step in NumPy matrices: Z = W A + b, ReLU, hinge, L2, SGD (examples as columns)."""
    sizes = [2, width, width, 1]
    Ws, bs, k0 = [], [], 0
    for nin, nout in zip(sizes, sizes[1:]):  # micrograd's order: neuron by neuron, its weights then its bias
        W, b = np.empty((nout, nin)), np.empty((nout, 1))
        for i in range(nout):
            W[i] = weights[k0 : k0 + nin]
            b[i] = weights[k0 + nin]
            k0 += nin + 1
        Ws.append(W)
        bs.append(b)
    A0, Y = np.array(X).T, np.array(y)[None, :]
    m = A0.shape[1]

    def step(k):
        As, Zs = [A0], []
        for i, (W, b) in enumerate(zip(Ws, bs)):
            Zs.append(W @ As[-1] + b)
            As.append(np.maximum(Zs[-1], 0.0) if i < 2 else Zs[-1])
        margins = 1.0 - Y * As[-1]
        loss = np.maximum(margins, 0.0).mean() + ALPHA * sum((W * W).sum() + (b * b).sum() for W, b in zip(Ws, bs))
        dZ = np.where(margins > 0, -Y, 0.0) / m
        lr = 1.0 - 0.9 * k / 100
        for i in reversed(range(3)):
            dW, db = dZ @ As[i].T + 2 * ALPHA * Ws[i], dZ.sum(axis=1, keepdims=True) + 2 * ALPHA * bs[i]
            if i:
                dZ = (Ws[i].T @ dZ) * (Zs[i - 1] > 0)
            Ws[i] -= lr * dW
            bs[i] -= lr * db
        return float(loss)

    return step


def moons_worker(lib, epochs):
    import nn

    X, y = nn.datasets.moons(100, noise=0.1, seed=1337)
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    mode = False if lib == "eager" else "numpy"
    times, marks = [], []
    callback = lambda m, h: marks.append(time.perf_counter())  # noqa: E731
    gc.collect()
    start = time.perf_counter()
    nn.fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=optimizer,
        epochs=epochs + 1,
        progress=False,
        compile=mode,
        callback=callback,
    )
    times = [b - a for a, b in zip([start, *marks], marks)]
    return {"first": times[0], "steady": times[1:]}


def _digits():
    import nn

    X, y = nn.datasets.digits()
    Xtr, Xte, ytr, yte = nn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    Xtr, mu, sd = nn.datasets.normalize(Xtr)
    Xte, _, _ = nn.datasets.normalize(Xte, mu, sd)
    return Xtr, Xte, ytr, yte


def _digit_orders(n, epochs):
    rng = random.Random(7)
    orders = []
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        orders.append(order)
    return orders


def digits_worker(lib, epochs):
    import nn

    Xtr, Xte, ytr, yte = _digits()
    model = nn.MLP(64, [32, 10], activation="tanh", seed=0)
    if lib == "chainrule":
        marks = []
        optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
        gc.collect()
        start = time.perf_counter()
        nn.fit(
            model,
            Xtr,
            ytr,
            loss="cross_entropy",
            optimizer=optimizer,
            epochs=epochs + 1,
            batch_size=32,
            seed=7,
            compile="numpy",
            progress=False,
            callback=lambda m, h: marks.append(time.perf_counter()),
        )
        times = [b - a for a, b in zip([start, *marks], marks)]
        return {"first": times[0], "steady": times[1:], "accuracy": nn.accuracy(model, Xte, yte)}
    orders = _digit_orders(len(Xtr), epochs + 1)
    if lib == "torch":
        import torch

        torch.set_num_threads(1)
        net = model.to_torch()
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        lossf = torch.nn.CrossEntropyLoss()
        X, Y = torch.tensor(Xtr, dtype=torch.float64), torch.tensor(ytr)

        def epoch(order):
            idx_all = torch.tensor(order)
            for s in range(0, len(order), 32):
                idx = idx_all[s : s + 32]
                opt.zero_grad()
                lossf(net(X[idx]), Y[idx]).backward()
                opt.step()

        times = [_timed(lambda o=o: epoch(o))[0] for o in orders]
        with torch.no_grad():
            acc = float((net(torch.tensor(Xte, dtype=torch.float64)).argmax(1) == torch.tensor(yte)).double().mean())
        return {"first": times[0], "steady": times[1:], "accuracy": acc, "threads": 1}
    import numpy as np

    (W1, W2), (b1, b2) = model.to_numpy()
    X, Y = np.array(Xtr).T, np.array(ytr)
    params = [W1, b1, W2, b2]
    ms, vs, t = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params], [0]

    def epoch(order):
        for s in range(0, len(order), 32):
            idx = order[s : s + 32]
            A0, y = X[:, idx], Y[idx]
            m = A0.shape[1]
            Z1 = W1 @ A0 + b1
            A1 = np.tanh(Z1)
            Z2 = W2 @ A1 + b2
            E = np.exp(Z2 - Z2.max(axis=0))
            dZ2 = E / E.sum(axis=0)
            dZ2[y, np.arange(m)] -= 1.0
            dZ2 /= m
            dZ1 = (W2.T @ dZ2) * (1.0 - A1 * A1)
            grads = [dZ1 @ A0.T, dZ1.sum(axis=1, keepdims=True), dZ2 @ A1.T, dZ2.sum(axis=1, keepdims=True)]
            t[0] += 1
            c1, c2 = 1.0 - 0.9 ** t[0], 1.0 - 0.999 ** t[0]
            for p, g, mm, vv in zip(params, grads, ms, vs):
                mm *= 0.9
                mm += 0.1 * g
                vv *= 0.999
                vv += 0.001 * g * g
                p -= 0.01 * (mm / c1) / (np.sqrt(vv / c2) + 1e-8)

    times = [_timed(lambda o=o: epoch(o))[0] for o in orders]
    Zte = W2 @ np.tanh(W1 @ np.array(Xte).T + b1) + b2
    return {"first": times[0], "steady": times[1:], "accuracy": float((Zte.argmax(axis=0) == np.array(yte)).mean())}


def v1_worker(lib, steps):
    """The eager demo step at width 16 with whatever chainrule PYTHONPATH gives (today's or v1's)."""
    return demo_worker("eager", 16, steps)


def chain_worker(lib, n):
    import autograd as ag

    def build_and_backward():
        x = ag.Value(0.5)
        v = x
        for _ in range(n // 2):
            v = v * 1.0000001 + 1e-9  # two nodes a step (the constants fold into the ops' inputs)
        v.backward()
        return x.grad

    seconds, grad = _timed(build_and_backward)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"first": seconds, "steady": [seconds], "peak_mib": peak_kib / 1024, "grad": grad}


WORKERS = {"demo": demo_worker, "moons": moons_worker, "digits": digits_worker, "v1": v1_worker, "chain": chain_worker}


def worker(argv) -> None:
    case, lib, arg, steps = argv[0], argv[1], int(argv[2]), int(argv[3])
    fn = WORKERS[case]
    out = fn(lib, arg, steps) if case == "demo" else fn(lib, steps if case != "chain" else arg)
    print("RESULT " + json.dumps(out))


# ---- the orchestra --------------------------------------------------------------------------------
def run_one(case, lib, arg=0, steps=0, pythonpath=None) -> dict | None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(pythonpath or ROOT)
    env.pop("PYTHONHASHSEED", None)
    cmd = [sys.executable, str(Path(__file__).resolve()), "worker", case, lib, str(arg), str(steps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(pythonpath or ROOT), timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    print(f"  {case} {lib}: failed: {tail[0]}", flush=True)
    return None


def _has(module: str) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def _steady(r):
    return statistics.median(r["steady"])


def _median_steady(runs) -> float:
    """The median over rounds of each round's median steady step."""
    return statistics.median(_steady(x) for x in runs)


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def _ratio_text(ratios) -> str:
    if not ratios:
        return "–"
    med = statistics.median(ratios)
    return (
        f"{med:,.1f}x ({min(ratios):,.1f}–{max(ratios):,.1f})"
        if med < 100
        else f"{med:,.0f}x ({min(ratios):,.0f}–{max(ratios):,.0f})"
    )


def _ms(s) -> str:
    return f"{s * 1e3:,.2f} ms" if s < 10 else f"{s:,.1f} s"


def run(quick: bool = False) -> dict:
    rounds = 2 if quick else 3
    have_torch, have_micrograd = _has("torch"), _has("micrograd")
    results: dict = {"rounds": rounds, "torch": have_torch, "micrograd": have_micrograd}
    v1_dir = tempfile.mkdtemp(prefix="chainrule-v1-")  # every target row, --quick too (v1's step costs seconds)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", V1], capture_output=True)
    if archive.returncode == 0:
        subprocess.run(["tar", "-x", "-C", v1_dir], input=archive.stdout, check=True)
    else:
        v1_dir = None
    plan = []
    for width, libs in [
        (16, ["micrograd", "eager", "python", "numpy", "hand"]),
        (64, ["micrograd", "eager", "python", "numpy", "hand"]),
    ]:
        for lib in libs:
            if lib == "micrograd" and (not have_micrograd or (width == 64 and quick)):
                continue
            steps = {"micrograd": 1 if width == 64 else 2, "eager": 5, "python": 10, "numpy": 20, "hand": 50}[lib]
            plan.append((("demo", width), lib, dict(case="demo", lib=lib, arg=width, steps=steps)))
    plan += [
        (("moons", 0), lib, dict(case="moons", lib=lib, steps=4 if lib == "eager" else 10))
        for lib in ("eager", "numpy")
    ]
    plan += [
        (("digits", 0), lib, dict(case="digits", lib=lib, steps=5))
        for lib in ("chainrule", "torch", "hand")
        if lib != "torch" or have_torch
    ]
    if v1_dir:
        plan += [
            (("v1", 0), "today", dict(case="v1", lib="today", steps=10)),
            (("v1", 0), "v1", dict(case="v1", lib="v1", steps=10, pythonpath=v1_dir)),
        ]
    plan.append((("chain", 0), "chainrule", dict(case="chain", lib="chainrule", arg=1_000_000)))
    for r in range(rounds):
        print(f"round {r + 1} of {rounds} ...", flush=True)
        order = plan[r % len(plan) :] + plan[: r % len(plan)] if r else plan  # a different library first each round
        for key, lib, kw in order:
            if key[0] == "demo" and key[1] == 64 and lib == "micrograd" and r >= 2:
                continue  # about a minute a step: two rounds of it
            if key[0] == "chain" and r >= 1:
                continue
            res = run_one(**kw)
            if res is not None:
                results.setdefault(key, {}).setdefault(lib, []).append(res)
    return results


def report(results) -> str:
    rounds = results["rounds"]
    lines = []
    # micrograd's demo step
    lines += [
        "| micrograd demo step, MLP 2-w-w-1 | w | first call | steady step (median) | vs micrograd, per round | vs eager | step-0 loss − micrograd's |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {
        "micrograd": "micrograd 0.1.0",
        "eager": "chainrule eager",
        "python": 'compile(batch="python")',
        "numpy": 'compile(batch="numpy"), layers as matrices',
        "hand": "NumPy matrices written by hand (the floor)",
    }
    targets = []
    for width in (16, 64):
        runs = results.get(("demo", width), {})
        mg = runs.get("micrograd", [])
        for lib in ("micrograd", "eager", "python", "numpy", "hand"):
            rs = runs.get(lib)
            if not rs:
                continue
            vs_mg = [_steady(m) / _steady(x) for m, x in zip(mg, rs)]
            vs_eager = [_steady(e) / _steady(x) for e, x in zip(runs.get("eager", []), rs)]
            gap = max(abs(x["loss0"] - mg[0]["loss0"]) for x in rs) if mg else None
            lines.append(
                f"| {names[lib]} | {width} | {_ms(statistics.median(x['first'] for x in rs))} | {_ms(_median_steady(rs))} "
                f"| {_ratio_text(vs_mg) if lib != 'micrograd' else '1x'} "
                f"| {'1x' if lib == 'eager' else '–' if lib == 'micrograd' else _ratio_text(vs_eager)} "
                f"| {'–' if gap is None or lib == 'micrograd' else f'{gap:.1e}'} |"
            )
            if lib == "numpy" and mg:
                med = statistics.median(vs_mg)
                targets.append(
                    f'- `batch="numpy"` at width {width}: {med:,.0f}x micrograd (target ≥ 1,000x): {_met(med >= 1000)}'
                )
            if lib == "numpy" and width == 64:
                first = statistics.median(x["first"] for x in rs)
                targets.append(
                    f'- first call of `batch="numpy"` at width 64 (trace, lift, write, compile, one step): {first:.2f} s (target < 0.5 s): {_met(first < 0.5)}'
                )
    lines.append("")
    lines.append(
        f"Each cell: {rounds} rounds (micrograd at width 64: 2), each library in its own fresh process; "
        "the heap collected before every timed step, the collector on during it; ratios per round, median (min–max)."
    )
    # moons fit
    runs = results.get(("moons", 0), {})
    if runs.get("eager") and runs.get("numpy"):
        ratios = [_steady(e) / _steady(x) for e, x in zip(runs["eager"], runs["numpy"])]
        med = statistics.median(ratios)
        lines += [
            "",
            f"`nn.fit` on the moons (2-16-16-1, hinge, SGD, full batch) per steady epoch: eager {_ms(_median_steady(runs['eager']))}, "
            f'`compile="numpy"` {_ms(_median_steady(runs["numpy"]))} (first epoch {_ms(statistics.median(x["first"] for x in runs["numpy"]))}): {_ratio_text(ratios)}.',
        ]
        targets.append(
            f'- moons `fit(compile="numpy")`: {med:,.1f}x eager per steady epoch (target ≥ 40x): {_met(med >= 40)}'
        )
    # digits
    runs = results.get(("digits", 0), {})
    if runs:
        lines += [
            "",
            "| digits 64-32-10, tanh, cross-entropy, Adam, batches of 32 | first epoch | steady epoch (median) | held-out accuracy |",
            "| --- | --- | --- | --- |",
        ]
        labels = {
            "chainrule": 'chainrule `fit(compile="numpy")`',
            "torch": "PyTorch float64 (1 thread)",
            "hand": "NumPy written by hand (the floor)",
        }
        for lib in ("chainrule", "torch", "hand"):
            rs = runs.get(lib)
            if not rs:
                lines.append(f"| {labels[lib]} | not installed | – | – |")
                continue
            lines.append(
                f"| {labels[lib]} | {_ms(statistics.median(x['first'] for x in rs))} | {_ms(_median_steady(rs))} | {statistics.median(x['accuracy'] for x in rs):.1%} |"
            )
        if runs.get("chainrule") and runs.get("torch"):
            ratios = [_steady(t) / _steady(c) for c, t in zip(runs["chainrule"], runs["torch"])]
            med = statistics.median(ratios)
            acc = statistics.median(x["accuracy"] for x in runs["chainrule"])
            lines += ["", f"PyTorch's epoch ÷ chainrule's: {_ratio_text(ratios)}."]
            targets.append(
                f"- digits epoch with `compile=\"numpy\"`: {med:.2f}x PyTorch float64's speed (target ≥ 1x, no longer than PyTorch's): {_met(med >= 1)}; held-out accuracy {acc:.1%} (target ≥ 93%): {_met(acc >= 0.93)}"
            )
    # v1
    runs = results.get(("v1", 0), {})
    if runs.get("today") and runs.get("v1"):
        ratios = [_steady(o) / _steady(t) for t, o in zip(runs["today"], runs["v1"])]
        med = statistics.median(ratios)
        lines += [
            "",
            f"The eager demo step (width 16) today {_ms(_median_steady(runs['today']))} against v1 ({V1}) "
            f"{_ms(_median_steady(runs['v1']))}: {_ratio_text(ratios)} v1's speed.",
        ]
        targets.append(f"- eager step: {med:.2f}x v1's speed (target ≥ 1.1x): {_met(med >= 1.1)}")
    runs = results.get(("chain", 0), {})
    if runs.get("chainrule"):
        r = runs["chainrule"][0]
        lines += [
            "",
            f"A 10⁶-node chain (v·c + d, 500,000 steps) built and backpropagated in a fresh process: {r['first']:.2f} s, peak memory (max RSS) {r['peak_mib']:,.0f} MiB.",
        ]
        targets.append(
            f"- 10⁶-node chain built and backpropagated: {r['first']:.2f} s (target < 5 s): {_met(r['first'] < 5)}"
        )
    return "\n".join(lines) + "\n\nTargets:\n" + "\n".join(targets)


def main(argv) -> None:
    if argv and argv[0] == "worker":
        worker(argv[1:])
        return
    print(report(run(quick="--quick" in argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
