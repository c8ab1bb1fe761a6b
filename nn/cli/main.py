"""The `chainrule` command: its parser and dispatch to `graph`, `train` and `doctor`.

Every mistake is one line on stderr: status 2 for the user's input (a mistyped option names the
subcommand's usage and the nearest option), 1 at run time, 130 on Ctrl-C. Output never fails on a
terminal that cannot show a character, and a reader that stops early ends the command quietly.
"""

from __future__ import annotations

import argparse
import io
import os
import sys

from . import doctor, graph, train
from .args import EXIT_STATUS, CommandError, Parser, one_line

__all__ = ["main", "build_parser"]

_TRAIN_DESCRIPTION = (
    "Train an MLP with a progress bar, print train/test accuracy, and write\n"
    "loss.png, decision_boundary.png, model.json and neuron_backprop.html into out/ (and, with --movie,\n"
    "a training movie); for --data digits: loss.png, confusion_matrix.png, misclassified.png,\n"
    "first_layer_weights.png and model.json into out/digits/. Every option and output path is checked\n"
    "before any work; a picture this machine cannot draw is skipped in one line."
)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The `chainrule` parser and its subcommands' parsers, by name."""
    parser = Parser(
        prog="chainrule",
        description="See backpropagation: pictures of the chain rule on a computation graph, "
        "and an MLP trained on a toy dataset.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub = {"graph": graph.add_graph_command(commands)}
    sub["train"] = commands.add_parser(
        "train",
        help="train an MLP on a toy dataset or handwritten digits; write its plots, the model and a backprop step-through",
        description=_TRAIN_DESCRIPTION,
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_arguments(sub["train"])
    sub["train"].set_defaults(run=_train)
    sub["doctor"] = commands.add_parser(
        "doctor",
        help="check this installation, one line per dependency; exit status 0 when the core works",
        description=doctor.DESCRIPTION,
        epilog=doctor.EXIT_STATUS,
    )
    doctor.add_arguments(sub["doctor"])
    sub["doctor"].set_defaults(run=doctor.run)
    return parser, sub


def _train(args) -> None:
    train.run(args)


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


def _parse(argv) -> argparse.Namespace:
    """Parse, refusing an unknown option through the subcommand's own parser (its usage, the nearest option)."""
    parser, sub = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        sub[args.command].unknown(extras)
    return args


def _run_command(argv) -> int:
    args = _parse(argv)
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
