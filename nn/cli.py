"""The `chainrule` command: ``graph`` (from `autograd.cli`) and ``train``, which trains an MLP on a
dataset and writes what a person wants to look at.

``train`` writes ``loss.png`` (loss and accuracy per epoch, train and test),
``decision_boundary.png`` (train and test points), ``model.json`` (loadable with `nn.load`),
``neuron_backprop.html`` (the backward pass of one neuron on one example, frame by frame) and,
with ``--movie FILE.html``, a training movie (`nn.movie`). On the handwritten digits (``--data
digits``: 64 pixels a row, no plane to draw a boundary in, and a neuron of 131 nodes, too many
frames to step through) it writes ``confusion_matrix.png``, ``misclassified.png`` and
``first_layer_weights.png`` instead of the boundary and the step-through. A picture this machine cannot draw (no matplotlib, no
Graphviz) is skipped with one line saying how to get it, and the model is saved all the same. The command's entry point is `main` here, the top floor,
because it sees both packages; `autograd` never imports `nn`.
"""

from __future__ import annotations

import argparse
import html
import io
import math
import os
import pathlib
import sys
import time

from autograd import Value, dot, no_grad, viz
from autograd._optional import MissingExtraError, hint
from autograd.cli import EXIT_STATUS, CommandError, Parser, add_graph_command, one_line

from . import datasets, doctor, movie, optim, plots, serialize
from .module import MLP
from .train import accuracy, fit, predict, track

__all__ = ["main", "TrainError", "add_arguments", "validate", "run", "LIMITS"]

_NO_DOT = (
    "it needs Graphviz's 'dot' program, which is not on PATH: install Graphviz ('sudo apt-get install "
    "graphviz', 'brew install graphviz' or https://graphviz.org/download/)"
)
LOSS_NAMES = {"hinge": "hinge", "bce": "bce_with_logits", "cross_entropy": "cross_entropy"}
REAL_DATA = ("digits",)
# Defaults where the two kinds of data differ: the toy sets are generated, digits is fixed.
# Digits train compiled: the traced per-example loop measured fastest there (10 epochs: 4.6 s, against
# 17.8 s building graphs and 33 s for NumPy's replay of a 2,552-node graph over batches of 32).
TOY_DEFAULTS = {"samples": 200, "hidden": "16,16", "epochs": 100, "adam_lr": 0.02, "test_size": 0.25, "compile": "off"}
DIGITS_DEFAULTS = {
    "samples": None,
    "hidden": "32",
    "epochs": 10,
    "adam_lr": 0.01,
    "test_size": 0.2,
    "compile": "python",
}


class TrainError(Exception):
    """A failure of `chainrule train`, reported in one line: a bad option (status 2) or at run time (status 1)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        choices=sorted(datasets.DATASETS) + list(REAL_DATA),
        default="moons",
        help="the dataset: a generated 2-D toy set, or digits (scikit-learn's 8x8 handwritten "
        "digits, 1,797 images) (default moons)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        metavar="N",
        help="examples to generate, 8 to 100000 (default 200); for digits, a seeded subset of N images (default all)",
    )
    parser.add_argument("--noise", type=float, default=None, help="the toy dataset's noise, 0 to 10 (default: its own)")
    parser.add_argument(
        "--hidden",
        default=None,
        metavar="SIZES",
        help="hidden layer sizes, comma-separated, at most 100 of them and 10**6 parameters in the "
        "whole network (default 16,16; 32 for digits)",
    )
    parser.add_argument(
        "--activation",
        default="relu",
        choices=("relu", "tanh", "sigmoid", "linear"),
        help="hidden activation (default relu)",
    )
    parser.add_argument(
        "--loss",
        default="auto",
        choices=("auto", *LOSS_NAMES),
        help="hinge or bce (logits) for two classes, cross_entropy for more; auto picks hinge "
        "for two classes and cross_entropy for more (default auto)",
    )
    parser.add_argument("--optimizer", default="adam", choices=("sgd", "adam"), help="default adam")
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate, a finite number > 0 (default 0.02 for adam, 0.01 on digits; 0.1 for sgd)",
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="passes over the training set, 1 to 10000 (default 100; 10 for digits)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="examples per step, up to 100000; 0 for full batch (default 32)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the data, the weights and the batches (default 0)")
    parser.add_argument(
        "--out",
        default="out",
        metavar="DIR",
        help="where to write the results: a directory, or a path where one can be made (default out/)",
    )
    parser.add_argument(
        "--compile",
        default=None,
        choices=("off", "python", "numpy"),
        help="run each step as code written from one traced example: off (build the graph every "
        "step; the default, python for digits), python, or numpy (the batch as arrays; needs "
        "NumPy)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_movie_arguments(parser)


def _add_movie_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--movie",
        default=None,
        metavar="FILE.html",
        help="also write a training movie: one self-contained HTML page replaying the training "
        "(network, decision boundary, loss curves) with a slider",
    )
    parser.add_argument(
        "--movie-every",
        type=int,
        default=None,
        metavar="K",
        help="record a movie frame every K epochs (default: enough for about 100 frames)",
    )


def _check_movie(args) -> None:
    every = getattr(args, "movie_every", None)
    if every is not None and every < 1:
        raise TrainError(f"--movie-every must be at least 1, got {every}")
    if every is not None and getattr(args, "movie", None) is None:
        raise TrainError("--movie-every needs --movie FILE.html")
    if getattr(args, "movie", None) is not None:
        path = pathlib.Path(args.movie)
        if path.is_dir() or path.name == "":
            raise TrainError(f"--movie takes a file name such as out/training.html, got {args.movie!r}")


def _movie(args, epochs, model, X_train, y_train, X_test, y_test, loss_name):
    """The `fit` callback that records the movie, or None without --movie."""
    if getattr(args, "movie", None) is None:
        return None
    every = args.movie_every or max(1, -(-epochs // 100))
    return movie.Movie(model, X_train, y_train, X_test, y_test, loss=loss_name, every=every)


def _write_movie(recorded, path: pathlib.Path, title: str) -> pathlib.Path:
    """Save the movie and say how big it is and how long its frames took to record."""
    start = time.perf_counter()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        recorded.save(path, title)
    except OSError as err:
        raise CommandError(f"cannot write {path}: {err.strerror or err}", 1) from None
    seconds = recorded.seconds + time.perf_counter() - start
    print(
        f"movie: {len(recorded)} frames, {path.stat().st_size / 1e6:.2f} MB, made in {seconds:.1f} s "
        f"(recording and writing, on top of training)"
    )
    return path


# ---- option limits: every option is checked here, before any work ---------------------------------
LIMITS = {
    "samples": (8, 100_000),  # examples generated
    "noise": (0.0, 10.0),  # the dataset's noise (a standard deviation, in the data's units)
    "epochs": (1, 10_000),
    "batch_size": (0, 100_000),  # 0: full batch
    "hidden_layers": (1, 100),  # how many sizes --hidden lists
    "parameters": (1, serialize.MAX_PARAMETERS),  # of the whole network: every model train writes, nn.load reads
}
OUTPUT_NAMES = (
    "loss.png",
    "decision_boundary.png",
    "model.json",
    "neuron_backprop.html",
    "confusion_matrix.png",
    "misclassified.png",
    "first_layer_weights.png",
)


def validate(args) -> list[int]:
    """Check every option against `LIMITS` (refusing with TrainError, status 2); returns the hidden sizes.

    The network's size depends on the dataset too: `check_network` checks it once the data is made.
    """
    if args.samples is not None:
        _within("--samples", args.samples, *LIMITS["samples"])
    if args.noise is not None:
        _within("--noise", args.noise, *LIMITS["noise"])
    if args.data in REAL_DATA and args.noise is not None:
        raise TrainError(f"--noise applies to the generated sets, not to {args.data} (real images)")
    if args.data in REAL_DATA and getattr(args, "movie", None) is not None:
        raise TrainError(f"--movie draws the decision boundary in a plane; {args.data} has 64 inputs")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise TrainError(f"--lr must be a finite number > 0, got {args.lr}")
    if args.epochs is not None:
        _within("--epochs", args.epochs, *LIMITS["epochs"])
    _within("--batch-size", args.batch_size, *LIMITS["batch_size"])
    _check_movie(args)
    defaults = DIGITS_DEFAULTS if args.data in REAL_DATA else TOY_DEFAULTS
    hidden = _hidden(args.hidden if args.hidden is not None else defaults["hidden"])
    check_network(None, hidden, None)  # a lower bound already, before any data: refuses --hidden 100000000 at once
    _check_out(pathlib.Path(args.out))
    return hidden


def check_network(nin: int | None, hidden: list[int], nout: int | None) -> int:
    """The parameter count of an MLP nin -> hidden -> nout, refused above the limit.

    With nin and nout None (the data not made yet) it counts a one-input, one-output network,
    the least these hidden layers can make.
    """
    sizes = [nin or 1, *hidden, nout or 1]
    count = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    limit = LIMITS["parameters"][1]
    if count > limit:
        at_least = "at least " if nin is None else f"{' -> '.join(map(str, sizes))}: "
        raise TrainError(
            f"--hidden {','.join(map(str, hidden))} makes a network of {at_least}{count} parameters; "
            f"the limit is {limit}"
        )
    return count


def _within(option: str, value, low, high) -> None:
    if not low <= value <= high:  # also refuses nan, which compares false
        raise TrainError(f"{option} must be between {low} and {high}, got {value}")


def _hidden(text: str) -> list[int]:
    low, high = LIMITS["hidden_layers"]
    if text.count(",") >= high:
        raise TrainError(f"--hidden lists more than {high} layer sizes")
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise TrainError(f"--hidden takes whole numbers separated by commas, as in 16,16; got {text[:40]!r}") from None
    if any(s < 1 for s in sizes):
        raise TrainError(f"--hidden sizes must be at least 1, got {text!r}")
    return sizes


def _check_out(out: pathlib.Path) -> None:
    """--out must be a folder, or a path where one can be made, with room for the files train writes."""
    if out.exists() and not out.is_dir():
        raise TrainError(f"--out {out} exists and is not a directory")
    if out.is_dir():
        for name in OUTPUT_NAMES:
            path = out / name
            if path.exists() and not path.is_file():
                raise TrainError(f"--out {out}: {path} exists and is not a regular file, so it cannot be written")
        if not os.access(out, os.W_OK | os.X_OK):
            raise TrainError(f"--out {out}: the directory is not writable")
        return
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise TrainError(f"--out {out} cannot be created: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TrainError(f"--out {out} cannot be created: {parent} is not writable")


def run(args) -> dict:
    """Train as the options say, write the four files, and return the figures it printed."""
    hidden = validate(args)
    digits = args.data in REAL_DATA
    defaults = DIGITS_DEFAULTS if digits else TOY_DEFAULTS
    compile_mode = args.compile if args.compile is not None else defaults["compile"]
    if compile_mode == "numpy":
        try:
            import numpy  # noqa: F401 - checked before training, not after
        except ImportError:
            raise TrainError(
                "chainrule train --compile numpy needs NumPy: pip install 'chainrule[notebooks]'"
            ) from None
    epochs = args.epochs if args.epochs is not None else defaults["epochs"]
    X, y = _digits(args.samples, args.seed) if digits else _generated(args)
    classes = list(range(10)) if digits else sorted(set(y))  # a small subset of digits may miss one
    multiclass = len(classes) > 2
    loss = args.loss
    if loss == "auto":
        loss = "cross_entropy" if multiclass else "hinge"
    if multiclass and loss != "cross_entropy":
        raise TrainError(f"--data {args.data} has {len(classes)} classes: use --loss cross_entropy")
    if not multiclass and loss == "cross_entropy":
        raise TrainError(f"--data {args.data} has two classes: use --loss hinge or bce")

    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=defaults["test_size"], seed=args.seed)
    images_test = X_test  # as they were, to draw
    X_train, mean, std = datasets.normalize(X_train)
    X_test, _, _ = datasets.normalize(X_test, mean, std)
    outputs = len(classes) if multiclass else 1
    check_network(len(X[0]), hidden, outputs)
    out = pathlib.Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise TrainError(f"--out {out} cannot be created: {err.strerror or err}") from None
    model = MLP(len(X[0]), [*hidden, outputs], activation=args.activation, seed=args.seed)
    lr = args.lr if args.lr is not None else (defaults["adam_lr"] if args.optimizer == "adam" else 0.1)
    optimizer = (
        optim.Adam(model.parameters(), lr=lr) if args.optimizer == "adam" else optim.SGD(model.parameters(), lr=lr)
    )
    loss_name = LOSS_NAMES[loss]

    print(
        f"training {model!r} on {args.data} ({len(X_train)} train / {len(X_test)} test), "
        f"{loss} loss, {args.optimizer} lr={lr:g}, {epochs} epochs"
        + ("" if compile_mode == "off" else f", compiled ({compile_mode})")
    )
    recorder = _movie(args, epochs, model, X_train, y_train, X_test, y_test, loss_name)
    callbacks = [track(X_test, y_test, loss=loss_name)] + ([recorder] if recorder else [])
    start = time.perf_counter()
    history = fit(
        model,
        X_train,
        y_train,
        loss=loss_name,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=args.batch_size or None,
        progress=not args.no_progress,
        seed=args.seed,
        callback=callbacks,
        compile=compile_mode,
    )
    seconds = time.perf_counter() - start
    _check_converged(history, model)
    train_acc = accuracy(model, X_train, y_train, loss=loss_name)
    test_acc = accuracy(model, X_test, y_test, loss=loss_name)
    print(f"trained in {seconds:.1f} s: train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%}")

    files = [(out / "loss.png", lambda path: plots.history(history, path))]
    if digits:  # no plane to draw a boundary in; a neuron reading 64 pixels is too many frames to step through
        files += [
            *_digit_pictures(model, X_test, images_test, y_test, loss_name, out),
            (out / "model.json", model.save),
        ]
    else:
        files += [
            (
                out / "decision_boundary.png",
                lambda path: plots.decision_boundary(
                    model, X_train, y_train, multiclass, path, X_test=X_test, y_test=y_test, loss=loss_name
                ),
            ),
            (out / "model.json", model.save),
            (out / "neuron_backprop.html", lambda path: _neuron_backprop(model, X_train, path)),
        ]
    if recorder is not None:
        title = f"chainrule: training {model!r} on {args.data}, {loss} loss, {args.optimizer} lr={lr:g}"
        files.append((pathlib.Path(args.movie), lambda path: _write_movie(recorder, path, title)))
    written, skipped = [], []
    for path, write in files:
        try:
            write(path)
        except MissingExtraError as err:
            skipped.append(_skip(path, str(err)))
        except viz.GraphvizNotFoundError:
            skipped.append(_skip(path, _NO_DOT))
        except (OSError, ValueError) as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise TrainError(f"cannot write {path}: {why}", 1) from None
        else:
            print(one_line(f"wrote {path}"))
            written.append(path)
    return {
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "seconds": seconds,
        "written": written,
        "skipped": skipped,
    }


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
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>\n'
        f'<body style="font-family:sans-serif">\n<h1 style="font-size:16px">{html.escape(title)}</h1>\n'
        f'<p style="font-size:13px;max-width:60em">{html.escape(caption)}</p>\n{body}\n</body></html>\n',
        encoding="utf-8",
    )
    return path


# ---- the `chainrule` command ------------------------------------------------------------------
def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="chainrule",
        description="See backpropagation: pictures of the chain rule on a computation graph, "
        "and an MLP trained on a toy dataset.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_graph_command(commands)
    train = commands.add_parser(
        "train",
        help="train an MLP on a toy dataset or handwritten digits; write its plots, the model and a backprop step-through",
        description="Train an MLP with a progress bar, print train/test accuracy, and write\n"
        "loss.png, decision_boundary.png, model.json and neuron_backprop.html (and, with --movie,\n"
        "a training movie); for --data digits: loss.png, confusion_matrix.png, misclassified.png,\n"
        "first_layer_weights.png and model.json. Every option is checked before any work; a picture\n"
        "this machine cannot draw is skipped in one line.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(train)
    train.set_defaults(run=_train)
    check = commands.add_parser(
        "doctor",
        help="check this installation, one line per dependency; exit status 0 when the core works",
        description=doctor.DESCRIPTION,
        epilog=doctor.EXIT_STATUS,
    )
    doctor.add_arguments(check)
    check.set_defaults(run=doctor.run)
    return parser


def _train(args) -> None:
    try:
        run(args)
    except TrainError as err:
        raise CommandError(str(err), err.status) from None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("chainrule")
    except Exception:  # not installed, only on the path
        return "(not installed)"


def main(argv=None) -> int:
    """Run the `chainrule` command; returns the exit status (0 when all went well, see `EXIT_STATUS`).

    Output never fails on a terminal that cannot show a character (it is written as an escape,
    e.g. ``\\u03b8``), and a reader that stops early (``chainrule --help | head -c1``) ends the
    command quietly, as the Python documentation recommends for SIGPIPE.
    """
    _tolerant_streams()
    try:
        try:
            return _run_command(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows up here, inside the try, not at interpreter exit
    except BrokenPipeError:
        _discard_stdout()
        return 1
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130


def _run_command(argv) -> int:
    args = _build_parser().parse_args(argv)
    try:
        status = args.run(args)
    except CommandError as err:
        print(one_line(f"chainrule {args.command}: error: {err}"), file=sys.stderr)
        return err.status
    return status or 0


def _tolerant_streams() -> None:
    """Write characters the terminal's encoding lacks as backslash escapes instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _discard_stdout() -> None:
    """Point stdout at devnull so Python's final flush finds no broken pipe to complain about."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (e.g. captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
