"""The pictures `chainrule train` writes, drawn with matplotlib (the optional extra ``[plot]``).

`history`: loss and accuracy per epoch, train and (when recorded with `nn.train.track`) test.
`decision_boundary`: the plane of two inputs shaded by what the model predicts there (smoothly,
from the output's probability or score on a fine grid, see `nn.train.readout`), the decision
boundary drawn as a line, train and test points with different markers, labelled axes, a legend.
Pictures of a classifier on images, returned as Figures to show in a notebook or `save`:
`confusion_matrix` (true class against predicted class), `misclassified` (the images it gets
wrong, each titled true→predicted) and `weight_images` (each first-layer neuron's weights laid
out as the image it responds to).
"""

from __future__ import annotations

import math
import operator
import os
import pathlib

from autograd import no_grad, ops
from autograd.extras import require

from . import train as _train

__all__ = [
    "history",
    "decision_boundary",
    "grid_readout",
    "CLASS_COLOURS",
    "confusion_matrix",
    "misclassified",
    "weight_images",
    "save",
]

# One colour per class (matplotlib's tab10), shared by shading, points and legend.
CLASS_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def history(hist: dict, path: pathlib.Path, *, log: bool = True) -> pathlib.Path:
    """Loss (left) and accuracy (right) per epoch as a PNG: training solid, test dashed when
    ``hist`` holds "test_loss"/"test_accuracy" (recorded by the `nn.train.track` callback).

    The loss axis is logarithmic (``log=False`` for a linear one): on a linear axis the curve is
    flat after the first epochs, while a log axis keeps the late epochs' progress readable. A loss
    that reaches 0 (a hinge loss on separated data) gets a symmetric log axis, linear near 0."""
    return _save(_history_figure(hist, log=log), path)


def _loss_scale(ax, values, log: bool) -> None:
    """A log axis for the loss when asked and every value is > 0; symlog when one is 0; else linear from 0."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not log or not finite or min(finite) < 0:
        ax.set_ylim(bottom=0)
    elif min(finite) > 0:
        ax.set_yscale("log")
    else:
        positive = [v for v in finite if v > 0]
        ax.set_yscale("symlog", linthresh=min(positive) if positive else 1e-3)
        ax.set_ylim(bottom=0)


def _history_figure(hist: dict, log: bool = True):
    plt = _pyplot()
    has_accuracy = any(a is not None for a in hist.get("accuracy", []))
    fig, axes = plt.subplots(1, 2 if has_accuracy else 1, figsize=(9 if has_accuracy else 5, 3.6), squeeze=False)
    panels = [("loss", "loss (lower is better)", axes[0][0])]
    if has_accuracy:
        panels.append(("accuracy", "accuracy (fraction correct)", axes[0][1]))
    for key, ylabel, ax in panels:
        epochs = range(1, len(hist[key]) + 1)
        ax.plot(epochs, _finite(hist[key]), color="tab:blue", label="train (mean over the epoch's batches)")
        test = hist.get(f"test_{key}")
        if test:
            ax.plot(
                range(1, len(test) + 1),
                _finite(test),
                color="tab:orange",
                linestyle="--",
                label="test (at the epoch's end)",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both" if key == "loss" else "major")
        if key == "accuracy":
            ax.set_ylim(0, 1.02)
        else:
            _loss_scale(ax, list(hist[key]) + list(test or []), log)
            if ax.get_yscale() != "linear":
                ax.set_ylabel(f"{ylabel}, {ax.get_yscale()} scale")
        ax.legend(fontsize=8, loc="best")
    axes[0][0].set_title("loss per epoch")
    if has_accuracy:
        axes[0][1].set_title("accuracy per epoch")
    fig.tight_layout()
    return fig


def decision_boundary(
    model, X, y, multiclass: bool, path: pathlib.Path, steps: int = 200, *, X_test=None, y_test=None, loss="auto"
) -> pathlib.Path:
    """What the model predicts over the plane of its two inputs, with the points, as a PNG.

    Two classes: the shade is `nn.train.readout`'s (P(class 1), or the hinge score clipped to
    ±1) on a ``steps`` × ``steps`` grid, drawn as a smoothly interpolated image (no bands) with a
    colour bar, and the
    boundary (shade 0.5) as a black line. Several classes: each class's own colour where it is
    the argmax, as strong as its softmax probability, and black lines where the argmax changes;
    no class index is interpolated, so no false band of a third class appears between two.
    Train points are filled circles, test points (``X_test``, ``y_test``) white-filled
    triangles, both coloured by their true class. ``loss`` says how to read the output, as in `fit`.
    """
    return _save(_boundary_figure(model, X, y, multiclass, steps, X_test, y_test, loss), path)


def _boundary_figure(model, X, y, multiclass, steps, X_test, y_test, loss):
    plt = _pyplot()
    np = require("numpy", "this plot")

    points = [list(p) for p in X] + [list(p) for p in (X_test or [])]
    if not points or any(len(p) != 2 for p in points):
        raise ValueError("decision_boundary needs examples with exactly two inputs")
    name = _train.loss_name(model, loss)
    gx, gy = _lattice(points, steps)
    classes, shades = grid_readout(model, gx, gy, name)
    classes, shades = np.array(classes, dtype=float), np.array(shades, dtype=float)
    fig, ax = plt.subplots(figsize=(6.2, 5.6))
    n_classes = max([int(t) for t in y] + [int(t) for t in (y_test or [])] + [1]) + 1
    if multiclass:
        rgba = np.zeros((*shades.shape, 4))
        for k in range(n_classes):
            rgba[classes == k, :3] = _rgb(CLASS_COLOURS[k % len(CLASS_COLOURS)])
        low = 1.0 / n_classes  # the confidence of a uniform guess: no colour
        rgba[..., 3] = 0.65 * np.clip((shades - low) / (1.0 - low), 0.0, 1.0) + 0.1
        ax.imshow(rgba, origin="lower", extent=(gx[0], gx[-1], gy[0], gy[-1]), aspect="auto", interpolation="bilinear")
        for k in range(n_classes):  # where class k stops being the argmax
            ax.contour(gx, gy, (classes == k).astype(float), levels=[0.5], colors="k", linewidths=1.0)
    else:
        cmap = plt.get_cmap("RdBu_r")
        filled = ax.imshow(
            shades,
            origin="lower",
            extent=(gx[0], gx[-1], gy[0], gy[-1]),
            aspect="auto",
            interpolation="bilinear",
            cmap=cmap,
            alpha=0.55,
            vmin=0,
            vmax=1,
        )
        if shades.min() < 0.5 < shades.max():
            ax.contour(gx, gy, shades, levels=[0.5], colors="k", linewidths=1.5)
        bar = fig.colorbar(filled, ax=ax, ticks=[0, 0.25, 0.5, 0.75, 1])
        if name == "hinge":
            bar.set_ticklabels(["−1", "−0.5", "0", "0.5", "1"])
        bar.set_label(
            _train.SHADE_MEANING.get(name, "shade") + "; black line: 0.5 (the boundary)"
            if name != "hinge"
            else "hinge score s, clipped to [−1, 1]; black line: s = 0"
        )
    _scatter(ax, X, y, "o", "train", filled=True, binary=not multiclass)
    if X_test:
        _scatter(ax, X_test, y_test, "^", "test", filled=False, binary=not multiclass)
    _legend(ax, plt, n_classes, has_test=bool(X_test))
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel("x0 (normalised)")
    ax.set_ylabel("x1 (normalised)")
    ax.set_title(f"decision boundary of {model!r}", fontsize=9)
    fig.tight_layout()
    return fig


def grid_readout(model, gx, gy, name: str):
    """(classes, shades): classes[j][i] and shades[j][i] are `nn.train.readout` (for loss
    ``name``) of the model's output at the point (gx[i], gy[j]). An MLP of built-in activations
    is evaluated with NumPy in one go when NumPy is installed, else on plain floats through the
    op table's forward rules (a few times faster than building nodes); anything else through
    the model itself, point by point."""
    cells = [[a, b] for b in gy for a in gx]
    outputs = _outputs_numpy(model, cells)
    if outputs is None:
        outputs = _outputs_floats(model, cells)
    if outputs is None:
        with no_grad():
            outputs = [model(c) for c in cells]
    read = [_train.readout(name, o) for o in outputs]
    n = len(gx)
    classes = [[c for c, _ in read[j * n : (j + 1) * n]] for j in range(len(gy))]
    shades = [[s for _, s in read[j * n : (j + 1) * n]] for j in range(len(gy))]
    return classes, shades


def _lattice(points, steps: int, margin: float = 0.5):
    """steps evenly spaced values along each axis, covering the points and a margin around them."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs) - margin, max(xs) + margin
    y0, y1 = min(ys) - margin, max(ys) + margin
    gx = [x0 + (x1 - x0) * i / (steps - 1) for i in range(steps)]
    gy = [y0 + (y1 - y0) * j / (steps - 1) for j in range(steps)]
    return gx, gy


def _outputs_numpy(model, cells):
    """The MLP's outputs at every cell through `nn.reference.forward`, or None if it cannot."""
    if not (hasattr(model, "to_numpy") and hasattr(model, "layers")):
        return None
    try:
        import numpy as np

        from . import reference
    except ImportError:  # no NumPy: the caller falls back to floats
        return None
    activations = [layer.activation for layer in model.layers]
    if any(a not in reference.ACTIVATIONS for a in activations):
        return None
    Ws, bs = model.to_numpy()
    _, As = reference.forward(Ws, bs, activations, np.array(cells, dtype=float).T)
    out = As[-1].T  # (cells, outputs)
    return [float(row[0]) for row in out] if out.shape[1] == 1 else [list(map(float, row)) for row in out]


def _outputs_floats(model, cells):
    """The MLP's outputs at every cell on plain floats, or None if it has a registered activation."""
    rules = {"linear": None, "relu": ops.PUBLIC["relu"], "tanh": ops.PUBLIC["tanh"], "sigmoid": ops.PUBLIC["sigmoid"]}
    layers = getattr(model, "layers", None)
    if not layers or any(layer.activation not in rules for layer in layers):
        return None
    weights = [
        ([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons], rules[layer.activation])
        for layer in layers
    ]
    outputs = []
    for x in cells:
        for W, b, g in weights:
            z = [sum(map(operator.mul, row, x)) + bias for row, bias in zip(W, b)]
            x = z if g is None else [g(v) for v in z]
        outputs.append(x[0] if len(x) == 1 else x)
    return outputs


def _scatter(ax, X, y, marker, what, filled, binary) -> None:
    colours = [CLASS_COLOURS[int(t) % len(CLASS_COLOURS)] for t in y]
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    if filled:
        ax.scatter(xs, ys, c=colours, marker=marker, s=22, edgecolors="k", linewidths=0.5, zorder=3)
    else:
        ax.scatter(xs, ys, c="white", marker=marker, s=34, edgecolors=colours, linewidths=1.4, zorder=4)


def _legend(ax, plt, n_classes, has_test) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            marker="s",
            linestyle="",
            markersize=9,
            markerfacecolor=CLASS_COLOURS[k % 10],
            markeredgecolor="none",
            label=f"class {k}",
        )
        for k in range(n_classes)
    ]
    handles.append(Line2D([], [], marker="o", linestyle="", color="grey", markeredgecolor="k", label="train point"))
    if has_test:
        handles.append(
            Line2D(
                [],
                [],
                marker="^",
                linestyle="",
                markerfacecolor="white",
                markeredgecolor="grey",
                markeredgewidth=1.4,
                label="test point",
            )
        )
    handles.append(Line2D([], [], color="k", linewidth=1.5, label="decision boundary"))
    ax.legend(
        handles=handles,
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncol=min(len(handles), 4),
        frameon=False,
    )


def _rgb(colour: str) -> tuple:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


def _finite(values) -> list:
    """None (no accuracy) as NaN, so matplotlib leaves a gap."""
    return [float("nan") if v is None else v for v in values]


def _save(fig, path) -> pathlib.Path:
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend; without matplotlib, one line naming the extra."""
    matplotlib = require("matplotlib", "this plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ---- a classifier on images ---------------------------------------------------------------------
def _figure(width: float, height: float):
    """A matplotlib Figure outside pyplot's state (nothing to close, no window); without
    matplotlib, one line naming the extra."""
    return require("matplotlib.figure", "this plot").Figure(figsize=(width, height))


def confusion_matrix(y_true, y_pred, classes=None, title: str | None = None):
    """Counts of (true class, predicted class): row i, column j = examples of class i predicted as j.

    ``classes`` fixes the order of the rows and columns (default: every label seen, sorted). The
    diagonal holds the correct answers; the title gives the accuracy they add up to.
    """
    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if not y_true:
        raise ValueError("no examples to count")
    classes = sorted(set(y_true) | set(y_pred)) if classes is None else list(classes)
    where = {c: i for i, c in enumerate(classes)}
    unknown = [c for c in set(y_true) | set(y_pred) if c not in where]
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among classes {classes}")
    counts = [[0] * len(classes) for _ in classes]
    for t, p in zip(y_true, y_pred):
        counts[where[t]][where[p]] += 1
    correct = sum(counts[i][i] for i in range(len(classes)))
    k = len(classes)
    fig = _figure(1.2 + 0.45 * k, 0.9 + 0.45 * k)
    ax = fig.add_subplot()
    ax.imshow(counts, cmap="Blues")
    top = max(max(row) for row in counts)
    for i in range(k):
        for j in range(k):
            if counts[i][j]:
                color = "white" if counts[i][j] > top / 2 else "black"
                ax.text(
                    j,
                    i,
                    str(counts[i][j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=color,
                )
    ax.set_xticks(range(k), [str(c) for c in classes])
    ax.set_yticks(range(k), [str(c) for c in classes])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = f"{correct} of {len(y_true)} right ({correct / len(y_true):.1%})"
    ax.set_title(accuracy if title is None else f"{title}: {accuracy}", fontsize=10)
    fig.tight_layout()
    return fig


def misclassified(X, y_true, y_pred, shape=(8, 8), limit: int = 24, title: str = "misclassified"):
    """Up to ``limit`` of the examples with y_pred ≠ y_true, each row of X drawn as a ``shape`` image
    titled "true→predicted"; the figure's title says how many were wrong in all."""
    X, y_true, y_pred = list(X), list(y_true), list(y_pred)
    if not len(X) == len(y_true) == len(y_pred):
        raise ValueError(f"X, y_true and y_pred must have the same length, got {len(X)}, {len(y_true)}, {len(y_pred)}")
    height, width = _check_shape(shape)
    wrong = [i for i, (t, p) in enumerate(zip(y_true, y_pred)) if t != p]
    shown = wrong[: max(0, limit)]
    cols = min(8, max(1, len(shown)))
    rows = max(1, math.ceil(len(shown) / cols))
    fig = _figure(1.1 * cols + 0.2, 1.2 * rows + 0.5)
    fig.suptitle(
        f"{title}: {len(wrong)} of {len(X)}" + (f", first {len(shown)} shown" if len(shown) < len(wrong) else ""),
        fontsize=10,
    )
    if not shown:
        fig.text(0.5, 0.4, "none", ha="center", va="center")
    for n, i in enumerate(shown):
        ax = fig.add_subplot(rows, cols, n + 1)
        ax.imshow(_image(X[i], height, width, f"row {i} of X"), cmap="gray_r")
        ax.set_title(f"{y_true[i]}→{y_pred[i]}", fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def weight_images(model, shape=(8, 8), limit: int = 32, title: str = "first layer's weights"):
    """Each of the first ``limit`` neurons of the model's first layer, its input weights drawn as
    a ``shape`` image on a red (negative) to blue (positive) scale centred on 0, shared by all and
    shown by a colour bar: the pattern of ink that excites it most."""
    layer = model.layers[0] if hasattr(model, "layers") else model
    height, width = _check_shape(shape)
    if layer.nin != height * width:
        raise ValueError(f"the first layer takes {layer.nin} inputs, which do not make a {height}x{width} image")
    neurons = layer.neurons[: max(1, limit)]
    images = [_image([w.data for w in n.w], height, width, "a neuron's weights") for n in neurons]
    scale = max(abs(v) for img in images for row in img for v in row) or 1.0
    cols = min(8, len(images))
    rows = math.ceil(len(images) / cols)
    fig = _figure(1.1 * cols + 0.2, 1.1 * rows + 0.5)
    fig.suptitle(f"{title} ({len(images)} of {layer.nout} neurons)", fontsize=10)
    fig.set_size_inches(1.1 * cols + 1.2, 1.1 * rows + 0.5)
    for n, img in enumerate(images):
        ax = fig.add_subplot(rows, cols, n + 1)
        shown = ax.imshow(img, cmap="RdBu", vmin=-scale, vmax=scale)
        ax.set_title(str(n), fontsize=8)
        ax.set_axis_off()
    right = 1 - 0.9 / fig.get_figwidth()  # room for the colour bar
    fig.tight_layout(rect=(0, 0, right, 1))
    bar = fig.colorbar(
        shown, cax=fig.add_axes((right + 0.1 / fig.get_figwidth(), 0.12, 0.15 / fig.get_figwidth(), 0.7))
    )
    bar.set_label("weight (red −, blue +)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return fig


def save(fig, path, dpi: int = 100):
    """Write ``fig`` to ``path`` (the suffix picks the format, e.g. .png) and return the path."""
    fig.savefig(os.fspath(path), dpi=dpi)
    return path


def _check_shape(shape) -> tuple[int, int]:
    try:
        height, width = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (height, width), got {shape!r}") from None
    if height < 1 or width < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    return height, width


def _image(row, height: int, width: int, what: str) -> list:
    row = list(row)
    if len(row) != height * width:
        raise ValueError(f"{what} has {len(row)} values, not the {height}x{width} = {height * width} of an image")
    return [row[r * width : (r + 1) * width] for r in range(height)]
