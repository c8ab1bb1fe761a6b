"""`chainrule train`: train an MLP on a dataset and write what a person wants to look at.

It writes ``loss.png`` (loss and accuracy per epoch, train and test), ``decision_boundary.png``
(train and test points), ``model.json`` (loadable with `nn.load`), ``neuron_backprop.html`` (the
backward pass of one neuron on one example, frame by frame) and, with ``--movie FILE.html``, a
training movie (`nn.movie`), all in ``out/``. On the handwritten digits (``--data digits``: 64
pixels a row, no plane to draw a boundary in, and a neuron of 131 nodes, too many frames to step
through) it writes ``loss.png``, ``confusion_matrix.png``, ``misclassified.png``,
``first_layer_weights.png`` and ``model.json`` into ``out/digits/``. A picture this machine cannot
draw (no matplotlib, no Graphviz) is skipped with one line saying how to get it.

validate (`train_options`: every option, every output path) -> make the data -> train -> write
(through the safe writer `files.Outputs`, so nothing half-written replaces a user's file).
"""

from __future__ import annotations

import html
import math
import pathlib
import sys
import time

from autograd import Value, dot, no_grad, viz
from autograd.extras import MissingExtraError, hint

from .. import datasets, movie, optim, plots
from ..module import MLP
from ..train import accuracy, fit, predict, track
from .args import one_line
from .files import Outputs
from .train_options import (
    LIMITS,
    LOSS_NAMES,
    REAL_DATA,
    TOY_DEFAULTS,
    TrainError,
    add_arguments,
    check_network,
    claim_outputs,
    defaults,
    movie_every,
    validate,
)

__all__ = ["run", "TrainError", "add_arguments", "validate", "LIMITS"]

_NO_DOT = (
    "it needs Graphviz's 'dot' program, which is not on PATH: install Graphviz ('sudo apt-get install "
    "graphviz', 'brew install graphviz' or https://graphviz.org/download/)"
)


class _Setup:
    """What validating the options and making the data decided, for training and writing."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def run(args) -> dict:
    """Train as the options say, write the files, and return the figures it printed."""
    hidden = validate(args)
    outputs = claim_outputs(args)
    setup = _prepare(args, hidden)
    recorder = _movie(args, setup)
    history, seconds = _train(args, setup, recorder)
    train_acc = accuracy(setup.model, setup.X_train, setup.y_train, loss=setup.loss_name)
    test_acc = accuracy(setup.model, setup.X_test, setup.y_test, loss=setup.loss_name)
    print(f"trained in {seconds:.1f} s: train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%}")
    written, skipped = _write_all(outputs, _files(args, setup, history, recorder))
    return {
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "seconds": seconds,
        "written": written,
        "skipped": skipped,
    }


# ---- validate and make the data ------------------------------------------------------------------
def _compile_mode(args) -> str:
    mode = args.compile if args.compile is not None else defaults(args)["compile"]
    if mode == "numpy":
        try:
            import numpy  # noqa: F401 - checked before training, not after
        except ImportError:
            raise TrainError(
                "chainrule train --compile numpy needs NumPy: pip install 'chainrule[notebooks]'"
            ) from None
    return mode


def _loss(args, classes: list) -> str:
    """The loss the options ask for, refused when it does not fit the number of classes."""
    multiclass = len(classes) > 2
    loss = args.loss
    if loss == "auto":
        loss = "cross_entropy" if multiclass else "hinge"
    if multiclass and loss != "cross_entropy":
        raise TrainError(f"--data {args.data} has {len(classes)} classes: use --loss cross_entropy")
    if not multiclass and loss == "cross_entropy":
        raise TrainError(f"--data {args.data} has two classes: use --loss hinge or bce")
    return loss


def _check_points(name: str, X) -> None:
    """Refuse (status 2), before training, a point with an inf or nan coordinate, naming the first."""
    for k, point in enumerate(X):
        if not all(math.isfinite(v) for v in point):
            shown = ", ".join(f"{v:g}" for v in point[:4]) + (", ..." if len(point) > 4 else "")
            raise TrainError(f"{name}: point {k} is ({shown}), not finite; every coordinate must be a finite number")


def _prepare(args, hidden: list) -> _Setup:
    """The data (split and normalised), the loss, the model and the optimizer; nothing trained yet."""
    digits = args.data in REAL_DATA
    compile_mode = _compile_mode(args)
    epochs = args.epochs if args.epochs is not None else defaults(args)["epochs"]
    X, y = _digits(args.samples, args.seed) if digits else _generated(args)
    _check_points(f"--data {args.data}", X)
    classes = list(range(10)) if digits else sorted(set(y))  # a small subset of digits may miss one
    loss = _loss(args, classes)
    X_train, X_test, y_train, y_test = datasets.train_test_split(
        X, y, test_size=defaults(args)["test_size"], seed=args.seed
    )
    images_test = X_test  # as they were, to draw
    X_train, mean, std = datasets.normalize(X_train)
    X_test, _, _ = datasets.normalize(X_test, mean, std)
    _check_points(f"--data {args.data} normalised", X_train + X_test)
    outputs = len(classes) if len(classes) > 2 else 1
    check_network(len(X[0]), hidden, outputs)
    model = MLP(len(X[0]), [*hidden, outputs], activation=args.activation, seed=args.seed)
    lr = args.lr if args.lr is not None else (defaults(args)["adam_lr"] if args.optimizer == "adam" else 0.1)
    optimizer = (
        optim.Adam(model.parameters(), lr=lr) if args.optimizer == "adam" else optim.SGD(model.parameters(), lr=lr)
    )
    return _Setup(
        digits=digits,
        compile_mode=compile_mode,
        epochs=epochs,
        multiclass=len(classes) > 2,
        loss=loss,
        loss_name=LOSS_NAMES[loss],
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        images_test=images_test,
        model=model,
        lr=lr,
        optimizer=optimizer,
        out=pathlib.Path(args.out),
    )


def _movie(args, setup: _Setup):
    """The `fit` callback that records the movie, or None without --movie; refused (status 2) before training."""
    if getattr(args, "movie", None) is None:
        return None
    try:
        return movie.Movie(
            setup.model,
            setup.X_train,
            setup.y_train,
            setup.X_test,
            setup.y_test,
            loss=setup.loss_name,
            every=movie_every(args, setup.epochs),
        )
    except (TypeError, ValueError) as err:
        raise TrainError(f"--movie: {err}") from None


# ---- train -------------------------------------------------------------------------------------------
def _train(args, setup: _Setup, recorder):
    """Fit the model with a progress bar; returns (history, seconds). Diverging is a failure (status 1)."""
    print(
        f"training {setup.model!r} on {args.data} ({len(setup.X_train)} train / {len(setup.X_test)} test), "
        f"{setup.loss} loss, {args.optimizer} lr={setup.lr:g}, {setup.epochs} epochs"
        + ("" if setup.compile_mode == "off" else f", compiled ({setup.compile_mode})")
    )
    callbacks = [track(setup.X_test, setup.y_test, loss=setup.loss_name)] + ([recorder] if recorder else [])
    start = time.perf_counter()
    history = fit(
        setup.model,
        setup.X_train,
        setup.y_train,
        loss=setup.loss_name,
        optimizer=setup.optimizer,
        epochs=setup.epochs,
        batch_size=args.batch_size or None,
        progress=not args.no_progress,
        seed=args.seed,
        callback=callbacks,
        compile=setup.compile_mode,
    )
    seconds = time.perf_counter() - start
    _check_converged(history, setup.model)
    return history, seconds


# ---- write ---------------------------------------------------------------------------------------------
def _files(args, setup: _Setup, history: dict, recorder) -> list:
    """(path, write) for every file of this run, in the order they are written."""
    out, model = setup.out, setup.model
    files = [(out / "loss.png", lambda path: plots.history(history, path))]
    if setup.digits:  # no plane to draw a boundary in; a neuron reading 64 pixels is too many frames to step through
        files += [
            *_digit_pictures(model, setup.X_test, setup.images_test, setup.y_test, setup.loss_name, out),
            (out / "model.json", model.save),
        ]
    else:
        files += [
            (
                out / "decision_boundary.png",
                lambda path: plots.decision_boundary(
                    model,
                    setup.X_train,
                    setup.y_train,
                    setup.multiclass,
                    path,
                    X_test=setup.X_test,
                    y_test=setup.y_test,
                    loss=setup.loss_name,
                ),
            ),
            (out / "model.json", model.save),
            (out / "neuron_backprop.html", lambda path: _neuron_backprop(model, setup.X_train, path)),
        ]
    if recorder is not None:
        title = f"chainrule: training {model!r} on {args.data}, {setup.loss} loss, {args.optimizer} lr={setup.lr:g}"
        files.append((pathlib.Path(args.movie), lambda path: _write_movie(recorder, path, title)))
    return files


def _write_all(outputs: Outputs, files: list):
    """Write each file through the safe writer; a picture this machine cannot draw is skipped in one line."""
    written, skipped = [], []
    for path, write in files:
        try:
            outputs.write(path, write)
        except MissingExtraError as err:
            skipped.append(_skip(path, str(err)))
        except viz.GraphvizNotFoundError:
            skipped.append(_skip(path, _NO_DOT))
        except ValueError as err:
            raise TrainError(f"cannot write {path}: {err}", 1) from None
        else:
            written.append(path)
    return written, skipped


def _write_movie(recorded, path: pathlib.Path, title: str) -> pathlib.Path:
    """Save the movie and say how big it is and how long its frames took to record."""
    start = time.perf_counter()
    recorded.save(path, title)
    seconds = recorded.seconds + time.perf_counter() - start
    print(
        f"movie: {len(recorded)} frames, {path.stat().st_size / 1e6:.2f} MB, made in {seconds:.1f} s "
        f"(recording and writing, on top of training)"
    )
    return path


def _generated(args):
    """A toy set made as the options say."""
    kwargs = {"n": args.samples if args.samples is not None else TOY_DEFAULTS["samples"], "seed": args.seed}
    if args.noise is not None:
        kwargs["noise"] = args.noise
    return datasets.DATASETS[args.data](**kwargs)


def _digits(samples, seed: int):
    """The handwritten digits, all of them or a seeded subset of ``samples`` images."""
    try:
        X, y = datasets.digits()
    except MissingExtraError:
        raise TrainError(f"chainrule train --data digits needs scikit-learn: {hint('sklearn')}") from None
    if samples is None:
        return X, y
    if samples > len(X):
        raise TrainError(f"--samples {samples} is more than the {len(X)} images of digits")
    if samples == len(X):
        return X, y
    _, X_part, _, y_part = datasets.train_test_split(X, y, test_size=samples / len(X), seed=seed)
    return X_part, y_part


def _digit_pictures(model, X_test, images_test, y_test, loss_name: str, out: pathlib.Path) -> list:
    """(path, write) for what a person looks at after training on images: which digits get
    confused with which, the test images it got wrong (drawn as they were, before normalising),
    and what each first-layer neuron looks for."""
    predicted = predict(model, X_test, loss=loss_name)
    figures = {
        "confusion_matrix.png": lambda: plots.confusion_matrix(y_test, predicted, classes=range(10), title="test set"),
        "misclassified.png": lambda: plots.misclassified(
            images_test, y_test, predicted, title="misclassified test images"
        ),
        "first_layer_weights.png": lambda: plots.weight_images(model),
    }
    return [(out / name, lambda path, draw=draw: plots.save(draw(), path)) for name, draw in figures.items()]


def _check_converged(history: dict, model) -> None:
    """Training that ends with an inf or nan loss or weight is a failure (status 1), before anything is written."""
    bad_epoch = next((i for i, x in enumerate(history["loss"], 1) if not math.isfinite(x)), None)
    if bad_epoch is None and all(math.isfinite(p.data) for p in model.parameters()):
        return
    when = (
        f"the loss became {history['loss'][bad_epoch - 1]} in epoch {bad_epoch}"
        if bad_epoch
        else "a weight became inf or nan"
    )
    raise TrainError(f"training diverged: {when}; try a smaller --lr (nothing was written)", 1)


def _skip(path: pathlib.Path, why: str) -> pathlib.Path:
    """Say in one line which file was not written and how to get it."""
    print(one_line(f"skipped {path}: {why}"), file=sys.stderr)
    return path


def _neuron_backprop(model, X, path: pathlib.Path) -> pathlib.Path:
    """The first neuron on the first example that makes its pre-activation positive: a ReLU at
    rest passes no gradient back, which would make a dull picture of all zeros. The page's title
    and heading say which neuron and which example it shows."""
    neuron = model.layers[0].neurons[0]
    with no_grad():
        k = next((k for k, x in enumerate(X) if dot(neuron.w, x, bias=neuron.b).data > 0), 0)
    out = neuron([Value(v, label=f"x{i}") for i, v in enumerate(X[k])])
    if out.parents and out.op != "dot":  # name z and a as the closed forms do: a1[0] = g(z1[0])
        out.parents[0].label = "z1[0]"
    out.label = "a1[0]"
    out.backward()
    point = ", ".join(f"{v:.3g}" for v in X[k])
    title = f"backprop through neuron 0 of layer 1 on training example {k}"
    caption = (
        f"a1[0] = {neuron.activation}(z1[0]), z1[0] = W1[0,:]·x + b1[0], for training example {k} "
        f"(counting from 0), x = ({point}) normalised: the first one on which this neuron is active, so the "
        f"gradient flows back. Each frame is one node of the backward pass."
    )
    return _titled_page(path, title, caption, viz.step_through(out)._repr_html_())


def _titled_page(path: pathlib.Path, title: str, caption: str, body: str) -> pathlib.Path:
    """A standalone page holding an HTML widget under a heading that says what it shows."""
    path = pathlib.Path(path)
    path.write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title></head>\n'
        f'<body style="font-family:sans-serif">\n<h1 style="font-size:16px">{html.escape(title)}</h1>\n'
        f'<p style="font-size:13px;max-width:60em">{html.escape(caption)}</p>\n{body}\n</body></html>\n',
        encoding="utf-8",
    )
    return path
