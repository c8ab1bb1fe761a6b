"""``chainrule graph "tanh(w*x + b)" w=-0.5 x=2 b=0.1 -o graph.svg``: an expression's gradients and picture.

validate (the options, the output paths, the expression and its size) -> work (backward, print the
gradients) -> write (the picture and the step-through, through the safe writer). The grammar is
`autograd.expr`'s; every user mistake ends in one line and status 2, a picture that cannot be
rendered or written in one line and status 1. A value or gradient that is inf or nan is printed
as it is, with one warning line naming the first operation that made one; the status stays 0.
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys

from autograd import Value, topological_order, viz
from autograd.expr import ExpressionError, assignments, evaluate, first_anomaly, functions

from .args import EXIT_STATUS, CommandError, one_line, positive_int
from .files import Outputs

__all__ = ["add_graph_command", "FORMATS", "run"]
FORMATS = (".svg", ".png", ".pdf", ".dot")

_HELP = """\
Evaluate EXPR on chainrule Values, run backward, print the value and each variable's
gradient, and draw the computation graph (data and grad on every node).

EXPR may use numbers, the variables given as name=value, + - * / **, unary - and +,
and the functions {functions}. Nothing else is accepted
(no attributes, other calls, strings, ...), and the text is never run as Python."""

_EXAMPLES = """\
examples:
  chainrule graph "tanh(w*x + b)" w=-0.5 x=2 b=0.1 -o graph.svg
  chainrule graph "x*x + 3*x" x=2 --local-grads -o square.png --step-through square.html
  chainrule graph "-x*y" x=1 y=2 -o neg.svg

"""


def add_graph_command(commands):
    """Add the `graph` subcommand to an argparse subparsers object (the `chainrule` command's)."""
    graph = commands.add_parser(
        "graph",
        help="draw the computation graph of an expression and print its gradients",
        description=_HELP.format(functions=" ".join(functions())),
        epilog=_EXAMPLES + EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        dash_positionals=True,
    )
    graph.add_argument("expression", metavar="EXPR", help='the expression, quoted, e.g. "tanh(w*x + b)"')
    graph.add_argument("assignments", metavar="name=value", nargs="*", help="a number for each variable, e.g. w=-0.5")
    graph.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the picture here; the suffix picks the format: .svg .png .pdf (rendered by "
        "Graphviz's dot) or .dot (the DOT text); without -o only the gradients are printed",
    )
    graph.add_argument(
        "--local-grads",
        action="store_true",
        help="write the local derivative d(out)/d(in), at the current values, on every edge",
    )
    graph.add_argument(
        "--step-through",
        metavar="FILE.html",
        help="also write the backward pass one node per frame, as a standalone HTML page",
    )
    graph.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="left to right (default) or top to bottom")
    graph.add_argument(
        "--max-nodes",
        type=positive_int,
        default=viz.MAX_NODES,
        metavar="N",
        help=f"refuse expressions whose graph has more than N nodes (default {viz.MAX_NODES}, the limit "
        "draw and step_through share: a step-through that big takes a few seconds and a few MB)",
    )
    graph.set_defaults(run=run)
    return graph


def run(args) -> None:
    """`chainrule graph`: validate, backpropagate and print, then write the pictures."""
    outputs = _claim_outputs(args)
    root, variables, values = _evaluate(args)
    root.backward()
    _print_gradients(args, root, variables, values)
    if args.output or args.step_through:
        _pictures(root, args, outputs)


def _claim_outputs(args) -> Outputs:
    """The picture's format from its suffix, and both output paths claimed (never one file for both)."""
    outputs = Outputs()
    if args.output:
        if pathlib.Path(args.output).suffix.lower() not in FORMATS:
            raise CommandError(
                f"cannot tell the picture format from {args.output!r}: end it in {', '.join(FORMATS)}", 2
            )
        outputs.claim("-o", args.output)
    if args.step_through:
        outputs.claim("--step-through", args.step_through)
    return outputs


def _evaluate(args):
    """The expression on Values, refused (status 2) when it breaks the grammar, has no variable or is too big."""
    try:
        values = assignments(args.assignments)
        root, variables = evaluate(args.expression, values)
    except ExpressionError as err:
        raise CommandError(str(err), 2) from None
    if not isinstance(root, Value):
        raise CommandError("the expression has no variables: there is nothing to differentiate", 2)
    size = len(topological_order(root))
    if size > args.max_nodes:
        raise CommandError(f"the expression makes {size} nodes, more than --max-nodes {args.max_nodes}", 2)
    return root, variables, values


def _print_gradients(args, root: Value, variables: dict, values: dict) -> None:
    print(f"value = {root.data:.6g}")
    for name, v in variables.items():
        print(f"{name}.grad = {v.grad:.6g}")
    if not all(math.isfinite(x) for x in [root.data, *(v.grad for v in variables.values())]):
        where = first_anomaly(args.expression, values)
        print(one_line(f"chainrule graph: warning: a value or gradient is inf or nan; {where}"), file=sys.stderr)


def _pictures(root: Value, args, outputs: Outputs) -> None:
    if not root.label:
        text = " ".join(args.expression.split())
        root.label = text if len(text) <= 40 else text[:39] + "…"
    try:
        if args.output:
            suffix = pathlib.Path(args.output).suffix.lower()
            graph = viz.draw(root, show_local_grads=args.local_grads, rankdir=args.rankdir, max_nodes=args.max_nodes)
            data = graph.source.encode("utf-8") if suffix == ".dot" else graph.pipe(format=suffix[1:])
            outputs.write(args.output, lambda path: path.write_bytes(data))
        if args.step_through:
            steps = viz.step_through(root, rankdir=args.rankdir, max_nodes=args.max_nodes)
            outputs.write(args.step_through, steps.save)
    except viz.GraphvizNotFoundError as err:
        raise CommandError(str(err), 1) from None
