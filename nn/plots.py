"""The pictures `chainrule train` writes, drawn with matplotlib (the optional extra ``[plot]``)."""

from __future__ import annotations

import pathlib

from autograd import no_grad
from autograd._optional import require

__all__ = ["history", "decision_boundary"]


def history(hist: dict, path: pathlib.Path) -> pathlib.Path:
    """Training loss and accuracy per epoch, as a PNG."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(hist["loss"], label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    if any(a is not None for a in hist["accuracy"]):
        twin = ax.twinx()
        twin.plot(hist["accuracy"], color="tab:orange", label="accuracy")
        twin.set_ylabel("training accuracy")
        twin.set_ylim(0, 1.02)
    ax.set_title("training loss (blue) and accuracy (orange) per epoch")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def decision_boundary(model, X, y, multiclass: bool, path: pathlib.Path, steps: int = 60) -> pathlib.Path:
    """The model's predicted class over the plane of the two (normalised) inputs, with the points, as a PNG."""
    plt = _pyplot()

    xs = [p[0] for p in X]
    ys = [p[1] for p in X]
    x0, x1 = min(xs) - 0.5, max(xs) + 0.5
    y0, y1 = min(ys) - 0.5, max(ys) + 0.5
    gx = [x0 + (x1 - x0) * i / (steps - 1) for i in range(steps)]
    gy = [y0 + (y1 - y0) * j / (steps - 1) for j in range(steps)]
    with no_grad():
        grid = [[_predict(model([a, b]), multiclass) for a in gx] for b in gy]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.contourf(gx, gy, grid, alpha=0.35, cmap="coolwarm" if not multiclass else "viridis")
    ax.scatter(xs, ys, c=y, s=14, cmap="coolwarm" if not multiclass else "viridis", edgecolors="k", linewidths=0.3)
    ax.set_title("decision boundary (normalised inputs)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend; without matplotlib, one line naming the extra."""
    matplotlib = require("matplotlib", "this plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _predict(out, multiclass: bool) -> float:
    if multiclass:
        scores = [o.data for o in out]
        return float(scores.index(max(scores)))
    return 1.0 if out.data > 0 else 0.0
