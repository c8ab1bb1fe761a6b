"""`chainrule train`'s options: their parser arguments, their limits (`LIMITS`) and `validate`, which
checks every one before any work, including the output paths and the movie's frame count."""

from __future__ import annotations

import argparse
import math
import os
import pathlib

from .. import datasets, movie, serialize
from .args import CommandError
from .files import Outputs

__all__ = [
    "TrainError",
    "add_arguments",
    "validate",
    "check_network",
    "default_out",
    "LIMITS",
    "MAX_FRAMES",
    "claim_outputs",
    "movie_every",
    "defaults",
    "OUTPUT_NAMES",
    "TOY_DEFAULTS",
    "DIGITS_DEFAULTS",
    "REAL_DATA",
    "LOSS_NAMES",
]

LOSS_NAMES = {"hinge": "hinge", "bce": "bce_with_logits", "cross_entropy": "cross_entropy"}
REAL_DATA = ("digits",)
# Defaults where the two kinds of data differ: the toy sets are generated, digits is fixed.
# Digits train compiled: the traced per-example loop measured fastest there (10 epochs: 4.6 s, against
# 17.8 s building graphs and 33 s for NumPy's replay of a 2,552-node graph over batches of 32).
# Each writes to its own folder, so training on digits never overwrites the moons demo's files.
TOY_DEFAULTS = {
    "samples": 200,
    "hidden": "16,16",
    "epochs": 100,
    "adam_lr": 0.02,
    "test_size": 0.25,
    "compile": "off",
    "out": "out",
}
DIGITS_DEFAULTS = {
    "samples": None,
    "hidden": "32",
    "epochs": 10,
    "adam_lr": 0.01,
    "test_size": 0.2,
    "compile": "python",
    "out": "out/digits",
}


class TrainError(CommandError):
    """A failure of `chainrule train`, reported in one line: a bad option (status 2) or at run time (status 1)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message, status)


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
        default=None,
        metavar="DIR",
        help="where to write the results: a directory, or a path where one can be made (default out/; "
        "out/digits/ for digits, so the two never overwrite each other's files)",
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


def _check_movie(args, epochs: int) -> None:
    """--movie and --movie-every, and the frame count they make, checked before training (not after it)."""
    every = getattr(args, "movie_every", None)
    if every is not None and every < 1:
        raise TrainError(f"--movie-every must be at least 1, got {every}")
    if every is not None and getattr(args, "movie", None) is None:
        raise TrainError("--movie-every needs --movie FILE.html")
    if getattr(args, "movie", None) is None:
        return
    path = pathlib.Path(args.movie)
    if path.is_dir() or path.name == "":
        raise TrainError(f"--movie takes a file name such as out/training.html, got {args.movie!r}")
    frames = 1 + epochs // movie_every(args, epochs)  # the start, then one every K epochs
    if frames > MAX_FRAMES:
        raise TrainError(
            f"--epochs {epochs} with --movie-every {movie_every(args, epochs)} makes {frames} movie frames; "
            f"at most {MAX_FRAMES}: use --movie-every {-(-epochs // (MAX_FRAMES - 1))} or more"
        )


def movie_every(args, epochs: int) -> int:
    """Record a frame every K epochs: as given, or enough for about 100 frames."""
    return args.movie_every or max(1, -(-epochs // 100))


# ---- option limits: every option is checked here, before any work ---------------------------------
LIMITS = {
    "samples": (8, 100_000),  # examples generated
    "noise": (0.0, 10.0),  # the dataset's noise (a standard deviation, in the data's units)
    "epochs": (1, 10_000),
    "batch_size": (0, 100_000),  # 0: full batch
    "hidden_layers": (1, 100),  # how many sizes --hidden lists
    "parameters": (1, serialize.MAX_PARAMETERS),  # of the whole network: every model train writes, nn.load reads
}
MAX_FRAMES = movie._MAX_FRAMES  # a training movie's frames, the first (epoch 0) included
TOY_OUTPUTS = ("loss.png", "decision_boundary.png", "model.json", "neuron_backprop.html")
DIGITS_OUTPUTS = ("loss.png", "confusion_matrix.png", "misclassified.png", "first_layer_weights.png", "model.json")
OUTPUT_NAMES = tuple(dict.fromkeys(TOY_OUTPUTS + DIGITS_OUTPUTS))


def defaults(args) -> dict:
    """The defaults for this kind of data (generated or digits)."""
    return DIGITS_DEFAULTS if args.data in REAL_DATA else TOY_DEFAULTS


def default_out(args) -> str:
    """--out as given, or the data's own folder: out/ for the toy sets, out/digits/ for digits."""
    return args.out if args.out is not None else defaults(args)["out"]


def validate(args) -> list[int]:
    """Check every option against `LIMITS` (refusing with TrainError, status 2); returns the hidden sizes.

    Sets ``args.out`` to the data's own folder when it was not given. The network's size depends
    on the dataset too: `check_network` checks it once the data is made.
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
    _check_movie(args, args.epochs if args.epochs is not None else defaults(args)["epochs"])
    hidden = _hidden(args.hidden if args.hidden is not None else defaults(args)["hidden"])
    check_network(None, hidden, None)  # a lower bound already, before any data: refuses --hidden 100000000 at once
    args.out = default_out(args)
    _check_out(pathlib.Path(args.out))
    return hidden


def claim_outputs(args) -> Outputs:
    """Every file this run will write, claimed before any work: --movie may not be one of --out's files."""
    outputs = Outputs()
    names = DIGITS_OUTPUTS if args.data in REAL_DATA else TOY_OUTPUTS
    try:
        for name in names:
            outputs.claim("--out", pathlib.Path(args.out) / name)
        if getattr(args, "movie", None) is not None:
            outputs.claim("--movie", args.movie)
    except CommandError as err:
        raise TrainError(str(err), err.status) from None
    return outputs


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
        if not os.access(out, os.W_OK | os.X_OK):
            raise TrainError(f"--out {out}: the directory is not writable")
        return
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise TrainError(f"--out {out} cannot be created: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TrainError(f"--out {out} cannot be created: {parent} is not writable")
