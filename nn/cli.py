"""`chainrule train`: train an MLP on a dataset and write what a person wants to look at.

Writes ``loss.png`` (loss and accuracy per epoch), ``decision_boundary.png``, ``model.json``
(loadable with `nn.load`) and ``neuron_backprop.html`` (the backward pass of one neuron on one
example, frame by frame). `autograd.cli` registers the command; this module owns its options.
"""

from __future__ import annotations

import argparse
import pathlib
import time

from . import datasets, optim
from .module import MLP
from .train import accuracy, fit

__all__ = ["TrainError", "add_arguments", "run"]

LOSS_NAMES = {"hinge": "hinge", "bce": "bce_with_logits", "cross_entropy": "cross_entropy"}


class TrainError(Exception):
    """A bad option, reported in one line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", choices=sorted(datasets.DATASETS), default="moons", help="the dataset (default moons)")
    parser.add_argument("--samples", type=int, default=200, metavar="N", help="examples to generate (default 200)")
    parser.add_argument("--noise", type=float, default=None, help="the dataset's noise (default: its own)")
    parser.add_argument("--hidden", default="16,16", metavar="SIZES", help="hidden layer sizes, comma-separated (default 16,16)")
    parser.add_argument("--activation", default="relu", choices=("relu", "tanh", "sigmoid", "linear"),
                        help="hidden activation (default relu)")  # fmt: skip
    parser.add_argument("--loss", default="auto", choices=("auto", *LOSS_NAMES),
                        help="hinge or bce (logits) for two classes, cross_entropy for more; auto picks hinge "
                             "for two classes and cross_entropy for more (default auto)")  # fmt: skip
    parser.add_argument("--optimizer", default="adam", choices=("sgd", "adam"), help="default adam")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default 0.02 for adam, 0.1 for sgd)")
    parser.add_argument("--epochs", type=int, default=100, help="passes over the training set (default 100)")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step; 0 for full batch (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the data, the weights and the batches (default 0)")
    parser.add_argument("--out", default="out", metavar="DIR", help="where to write the results (default out/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise TrainError(f"--hidden takes whole numbers separated by commas, as in 16,16; got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise TrainError(f"--hidden sizes must be at least 1, got {text!r}")
    return sizes


def _check(args) -> None:
    if args.samples < 8:
        raise TrainError(f"--samples must be at least 8, got {args.samples}")
    if args.noise is not None and not args.noise >= 0:
        raise TrainError(f"--noise must be >= 0, got {args.noise}")
    if args.lr is not None and not args.lr > 0:
        raise TrainError(f"--lr must be a positive number, got {args.lr}")
    if args.epochs < 1:
        raise TrainError(f"--epochs must be at least 1, got {args.epochs}")
    if args.batch_size < 0:
        raise TrainError(f"--batch-size must be 0 (full batch) or more, got {args.batch_size}")


def run(args) -> dict:
    """Train as the options say, write the four files, and return the figures it printed."""
    _check(args)
    try:
        import matplotlib  # noqa: F401 - checked before training, not after
    except ImportError:
        raise TrainError("chainrule train draws its plots with matplotlib: pip install 'chainrule[dev]'") from None
    hidden = _hidden(args.hidden)
    make = datasets.DATASETS[args.data]
    kwargs = {"n": args.samples, "seed": args.seed}
    if args.noise is not None:
        kwargs["noise"] = args.noise
    X, y = make(**kwargs)
    classes = sorted(set(y))
    multiclass = len(classes) > 2
    loss = args.loss
    if loss == "auto":
        loss = "cross_entropy" if multiclass else "hinge"
    if multiclass and loss != "cross_entropy":
        raise TrainError(f"--data {args.data} has {len(classes)} classes: use --loss cross_entropy")
    if not multiclass and loss == "cross_entropy":
        raise TrainError(f"--data {args.data} has two classes: use --loss hinge or bce")

    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.25, seed=args.seed)
    X_train, mean, std = datasets.normalize(X_train)
    X_test, _, _ = datasets.normalize(X_test, mean, std)
    outputs = len(classes) if multiclass else 1
    model = MLP(len(X[0]), [*hidden, outputs], activation=args.activation, seed=args.seed)
    lr = args.lr if args.lr is not None else (0.02 if args.optimizer == "adam" else 0.1)
    optimizer = optim.Adam(model.parameters(), lr=lr) if args.optimizer == "adam" else optim.SGD(model.parameters(), lr=lr)
    loss_name = LOSS_NAMES[loss]

    print(f"training {model!r} on {args.data} ({len(X_train)} train / {len(X_test)} test), "
          f"{loss} loss, {args.optimizer} lr={lr:g}, {args.epochs} epochs")  # fmt: skip
    start = time.perf_counter()
    history = fit(model, X_train, y_train, loss=loss_name, optimizer=optimizer, epochs=args.epochs,
                  batch_size=args.batch_size or None, progress=not args.no_progress, seed=args.seed)  # fmt: skip
    seconds = time.perf_counter() - start
    train_acc = accuracy(model, X_train, y_train, loss=loss_name)
    test_acc = accuracy(model, X_test, y_test, loss=loss_name)
    print(f"trained in {seconds:.1f} s: train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%}")

    out = pathlib.Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise TrainError(f"cannot create {out}: {err.strerror or err}") from None
    written = [
        _plot_history(history, out / "loss.png"),
        _plot_boundary(model, X_train, y_train, multiclass, out / "decision_boundary.png"),
        _save_model(model, out / "model.json"),
        _neuron_backprop(model, X_train, out / "neuron_backprop.html"),
    ]
    for path in written:
        print(f"wrote {path}")
    return {"train_accuracy": train_acc, "test_accuracy": test_acc, "seconds": seconds, "written": written}


def _plot_history(history: dict, path: pathlib.Path) -> pathlib.Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(history["loss"], label="loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    if any(a is not None for a in history["accuracy"]):
        twin = ax.twinx()
        twin.plot(history["accuracy"], color="tab:orange", label="accuracy")
        twin.set_ylabel("training accuracy")
        twin.set_ylim(0, 1.02)
    ax.set_title("training loss (blue) and accuracy (orange) per epoch")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_boundary(model, X, y, multiclass: bool, path: pathlib.Path, steps: int = 60) -> pathlib.Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autograd import no_grad

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


def _predict(out, multiclass: bool) -> float:
    if multiclass:
        scores = [o.data for o in out]
        return float(scores.index(max(scores)))
    return 1.0 if out.data > 0 else 0.0


def _save_model(model, path: pathlib.Path) -> pathlib.Path:
    model.save(path)
    return path


def _neuron_backprop(model, X, path: pathlib.Path) -> pathlib.Path:
    """The first neuron on the first example that makes its pre-activation positive: a ReLU at
    rest passes no gradient back, which would make a dull picture of all zeros."""
    from autograd import Value, dot, no_grad, viz

    neuron = model.layers[0].neurons[0]
    with no_grad():
        x = next((x for x in X if dot(neuron.w, x, bias=neuron.b).data > 0), X[0])
    out = neuron([Value(v, label=f"x{i}") for i, v in enumerate(x)])
    out.label = "a"
    out.backward()
    viz.step_through(out).save(path)
    return path
