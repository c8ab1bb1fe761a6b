"""``chainrule graph "tanh(w*x + b)" w=-0.5 x=2 b=0.1 -o graph.svg``: an expression's gradients and picture.

The expression is read with `ast` and checked against a small grammar (numbers, variables,
``+ - * / **``, unary ``-``/``+`` and the one-input functions of the op table) before anything
is computed; it is never passed to eval, exec or compile. Every user mistake ends in one line
on stderr and exit status 2; a picture that cannot be rendered or written, in one line and
status 1. A value or gradient that is inf or nan is printed as it is, with one warning line
naming the first operation that made one (found by rerunning under `detect_anomaly`); the
status stays 0. The `chainrule` command itself (`nn.cli`) adds this subcommand with
`add_graph_command`.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import math
import pathlib
import re
import sys
import unicodedata

from . import ops, viz
from .anomaly import detect_anomaly
from .engine import Primitive, Value, topological_order

__all__ = [
    "evaluate",
    "functions",
    "first_anomaly",
    "one_line",
    "ExpressionError",
    "CommandError",
    "Parser",
    "add_graph_command",
    "write_output",
    "check_output_path",
    "EXIT_STATUS",
]
MAX_LENGTH = 2000  # characters in an expression
MAX_DEPTH = 100  # levels of nesting in its syntax tree
FORMATS = (".svg", ".png", ".pdf", ".dot")

_BINARY = {ast.Add: ops.add, ast.Sub: ops.sub, ast.Mult: ops.mul, ast.Div: ops.div, ast.Pow: ops.power}
_UNARY = {ast.USub: ops.neg, ast.UAdd: None}
_OPERATORS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}
_CONSTRUCTS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Slice: "slices",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and' and 'or'",
    ast.IfExp: "if-else expressions",
    ast.NamedExpr: "':=' assignments",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.Starred: "'*' unpacking",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
}


class ExpressionError(ValueError):
    """The expression or its variables break the rules; the message is one line for the user."""


def functions() -> dict:
    """The functions an expression may call: every one-input primitive of the op table, by name."""
    return {name: fn for name, fn in ops.PUBLIC.items() if isinstance(fn, Primitive) and fn.arity == 1}


def _allowed() -> str:
    return "allowed: numbers, variables, + - * / **, unary - and +, and the functions " + " ".join(functions())


# ---- the safe evaluator -----------------------------------------------------------------------
def evaluate(text: str, values: dict, *, max_length: int | None = MAX_LENGTH):
    """Compute `text` on `Value`s: returns (root, {name: Value}), each variable a leaf labelled by its name.

    The text is parsed with `ast` and every node is checked before anything is computed; a
    mistake raises `ExpressionError`. The root is a plain float when no variable is used.
    """
    tree = _parse(text, max_length)
    table = functions()
    names = _check(tree, text, table)
    variables = _variables(names, values, table)
    return _run(tree.body, variables, table), variables


def _parse(text: str, max_length) -> ast.Expression:
    if max_length is not None and len(text) > max_length:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {max_length}")
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as err:
        where = f" at column {err.offset}" if err.offset else ""
        raise ExpressionError(f"syntax error in the expression{where}: {err.msg}") from None
    except (RecursionError, MemoryError):  # the parser's own limits on deep nesting
        raise ExpressionError("the expression is nested too deeply to parse") from None
    except ValueError as err:  # e.g. a null byte
        raise ExpressionError(f"cannot parse the expression: {err}") from None


def _snippet(text: str, node) -> str:
    seg = ast.get_source_segment(text, node) or type(node).__name__
    seg = " ".join(seg.split())
    return seg if len(seg) <= 40 else seg[:39] + "…"


def _not_allowed(what: str) -> ExpressionError:
    return ExpressionError(f"not allowed: {what}; {_allowed()}")


def _describe_constant(value, snippet: str) -> str:
    kinds = {str: "the string", bytes: "the bytes", complex: "the complex number"}
    return f"{kinds[type(value)]} {snippet}" if type(value) in kinds else snippet


def _check(tree: ast.Expression, text: str, funcs: dict) -> list:
    """Walk the tree without recursion, reject anything outside the grammar, and list the variable names used."""
    names, stack = [], [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression nests more than {MAX_DEPTH} levels deep")
        kind = type(node)
        if kind is ast.Constant:
            if type(node.value) not in (int, float):
                raise _not_allowed(_describe_constant(node.value, _snippet(text, node)))
        elif kind is ast.Name:
            if node.id in funcs:
                raise ExpressionError(f"{node.id} is a function: call it, as in {node.id}(x)")
            names.append(node.id)
        elif kind is ast.BinOp or kind is ast.UnaryOp:
            table = _BINARY if kind is ast.BinOp else _UNARY
            if type(node.op) not in table:
                raise _not_allowed(f"the operator '{_OPERATORS.get(type(node.op), type(node.op).__name__)}'")
            children = [node.left, node.right] if kind is ast.BinOp else [node.operand]
            stack.extend((c, depth + 1) for c in reversed(children))
        elif kind is ast.Call:
            if type(node.func) is not ast.Name or node.func.id not in funcs:
                raise _not_allowed(f"calling {_snippet(text, node.func)}")
            if node.keywords or len(node.args) != 1 or type(node.args[0]) is ast.Starred:
                raise ExpressionError(f"{node.func.id}() takes exactly one argument: {_snippet(text, node)}")
            stack.append((node.args[0], depth + 1))
        else:
            raise _not_allowed(f"{_CONSTRUCTS.get(kind, type(node).__name__)}, as in {_snippet(text, node)}")
    return names


def _variables(names: list, values: dict, table: dict) -> dict:
    """One labelled leaf per variable, in the order of `values`; every name needs a value and every value a use."""
    for name in names:
        if name not in values:
            raise ExpressionError(f"the variable {name} has no value: add {name}=NUMBER")
    for name in values:
        if name not in names:
            raise ExpressionError(f"{name}={values[name]:g} is not used in the expression")
    return {name: Value(v, label=name) for name, v in values.items()}


def _run(node, variables: dict, table: dict):
    """Evaluate a checked tree with the engine's primitives (depth is bounded by `_check`)."""
    kind = type(node)
    if kind is ast.Constant:
        try:
            return float(node.value)
        except OverflowError:
            raise ExpressionError(f"the number {str(node.value)[:20]}… is too large") from None
    if kind is ast.Name:
        return variables[node.id]
    if kind is ast.BinOp:
        return _BINARY[type(node.op)](_run(node.left, variables, table), _run(node.right, variables, table))
    if kind is ast.UnaryOp:
        x = _run(node.operand, variables, table)
        op = _UNARY[type(node.op)]
        return x if op is None else op(x)
    if kind is ast.Call:
        return table[node.func.id](_run(node.args[0], variables, table))
    raise AssertionError(f"_check let {kind.__name__} through")


def _assignments(items: list) -> dict:
    """Parse name=value arguments into {name: float}, in the order given."""
    values = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python normalises identifiers
        if not sep or not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"bad assignment {item!r}: expected name=number, as in x=2")
        if name in functions():
            raise ExpressionError(f"bad assignment {item!r}: {name} is a function, not a variable")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"bad assignment {item!r}: {number.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"bad assignment {item!r}: the value must be a finite number")
        if name in values:
            raise ExpressionError(f"{name} is assigned twice")
        values[name] = value
    return values


# ---- the command line ----------------------------------------------------------------------------
EXIT_STATUS = """\
exit status:
  0  done (for graph: also when a value or gradient is inf or nan, which gets one warning line)
  1  a failure while running, in one line on stderr: a file that cannot be written, Graphviz's
     dot missing, training that diverged
  2  a bad option, argument or expression, refused in one line on stderr before any work"""

_OPERATOR_CHARACTERS = frozenset("*+() \t")  # in an expression, never (or hardly ever) in a file name


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr like every other error here.

    With ``dash_positionals=True`` an argument that starts with one '-' and is not one of the
    parser's options (``-x*y``, ``-2*x``, ``-tanh(x)``) is a positional argument, not an unknown
    option; ``-o FILE``, ``-oFILE`` and ``--anything`` keep their usual meaning.
    """

    def __init__(self, *args, dash_positionals: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.dash_positionals = dash_positionals

    def error(self, message):
        self.exit(2, one_line(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n")

    def _parse_optional(self, arg_string):
        if self.dash_positionals and _is_dash_positional(arg_string, self._option_string_actions):
            return None
        return super()._parse_optional(arg_string)


# C0 and C1 controls (C1 holds U+0085, a line break to str.splitlines) and the Unicode line/paragraph separators
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(32), *range(127, 160)]} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters written as escapes, so it stays one line."""
    return text.translate(_CONTROL)


def _is_dash_positional(arg: str, options: dict) -> bool:
    if arg[:1] != "-" or arg[:2] == "--" or len(arg) < 2 or arg in options:
        return False
    shorts = [o for o in options if len(o) == 2 and o[1] != "-"]
    attached = any(arg.startswith(o) for o in shorts) and not (set(arg[2:]) & _OPERATOR_CHARACTERS)
    return not attached  # "-ofile.svg" is -o with its value; "-x*y" is an expression


class CommandError(Exception):
    """An error to report in one line, with its exit status (2: the user's input, 1: at run time)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


_GRAPH_HELP = """\
Evaluate EXPR on chainrule Values, run backward, print the value and each variable's
gradient, and draw the computation graph (data and grad on every node).

EXPR may use numbers, the variables given as name=value, + - * / **, unary - and +,
and the functions {functions}. Nothing else is accepted
(no attributes, other calls, strings, ...), and the text is never run as Python."""

_GRAPH_EXAMPLES = """\
examples:
  chainrule graph "tanh(w*x + b)" w=-0.5 x=2 b=0.1 -o graph.svg
  chainrule graph "x*x + 3*x" x=2 --local-grads -o square.png --step-through square.html
  chainrule graph "-x*y" x=1 y=2 -o neg.svg

"""


def add_graph_command(commands) -> None:
    """Add the `graph` subcommand to an argparse subparsers object (the `chainrule` command's)."""
    graph = commands.add_parser(
        "graph",
        help="draw the computation graph of an expression and print its gradients",
        description=_GRAPH_HELP.format(functions=" ".join(functions())),
        epilog=_GRAPH_EXAMPLES + EXIT_STATUS,
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
        type=_positive_int,
        default=viz.MAX_NODES,
        metavar="N",
        help=f"refuse expressions whose graph has more than N nodes (default {viz.MAX_NODES}, the limit "
        "draw and step_through share: a step-through that big takes a few seconds and a few MB)",
    )
    graph.set_defaults(run=_graph)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return n


def _graph(args) -> None:
    """`chainrule graph`: evaluate, backpropagate, print the gradients, write the pictures."""
    suffix = pathlib.Path(args.output).suffix.lower() if args.output else None
    if args.output and suffix not in FORMATS:
        raise CommandError(f"cannot tell the picture format from {args.output!r}: end it in {', '.join(FORMATS)}", 2)
    for option, path in (("-o", args.output), ("--step-through", args.step_through)):
        if path:
            check_output_path(option, path)
    try:
        root, variables = evaluate(args.expression, _assignments(args.assignments))
    except ExpressionError as err:
        raise CommandError(str(err), 2) from None
    if not isinstance(root, Value):
        raise CommandError("the expression has no variables: there is nothing to differentiate", 2)
    size = len(topological_order(root))
    if size > args.max_nodes:
        raise CommandError(f"the expression makes {size} nodes, more than --max-nodes {args.max_nodes}", 2)
    root.backward()
    print(f"value = {root.data:.6g}")
    for name, v in variables.items():
        print(f"{name}.grad = {v.grad:.6g}")
    if not all(math.isfinite(x) for x in [root.data, *(v.grad for v in variables.values())]):
        where = first_anomaly(args.expression, _assignments(args.assignments))
        print(one_line(f"chainrule graph: warning: a value or gradient is inf or nan; {where}"), file=sys.stderr)
    if args.output or args.step_through:
        _pictures(root, args, suffix)


def first_anomaly(text: str, values: dict) -> str:
    """Where the first inf or nan comes from, in a few words: evaluates `text` again under `detect_anomaly`."""
    try:
        with detect_anomaly():
            root, _ = evaluate(text, values)
            root.backward()
    except FloatingPointError as err:
        message = re.sub(r"^detect_anomaly: ", "", str(err))
        message = re.sub(
            r";? (the node was made )?at (<[^>]*>|\S+:\d+)$", "", message
        )  # where in Python: not the user's concern
        return f"detect_anomaly finds it first where {message}"
    return "detect_anomaly found no single operation that made it"


def _pictures(root: Value, args, suffix) -> None:
    if not root.label:
        text = " ".join(args.expression.split())
        root.label = text if len(text) <= 40 else text[:39] + "…"
    try:
        if args.output:
            graph = viz.draw(root, show_local_grads=args.local_grads, rankdir=args.rankdir, max_nodes=args.max_nodes)
            data = graph.source.encode("utf-8") if suffix == ".dot" else graph.pipe(format=suffix[1:])
            write_output(args.output, lambda path: path.write_bytes(data))
        if args.step_through:
            steps = viz.step_through(root, rankdir=args.rankdir, max_nodes=args.max_nodes)
            write_output(args.step_through, steps.save)
    except viz.GraphvizNotFoundError as err:
        raise CommandError(str(err), 1) from None


def check_output_path(option: str, path: str) -> None:
    """Refuse (status 2), before any work, an output path that names a folder or lies below a file."""
    target = pathlib.Path(path)
    if target.is_dir():
        raise CommandError(f"{option} {path} is a directory; give a file name", 2)
    blocker = next((p for p in target.absolute().parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise CommandError(f"{option} {path} cannot be written: {blocker} is not a directory", 2)


def write_output(path: str, write) -> None:
    """Call `write(Path)` after making the folder, then say so; a failure is one line (status 1)."""
    target = pathlib.Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(target)
    except OSError as err:
        raise CommandError(f"cannot write {path}: {err.strerror or err}", 1) from None
    print(one_line(f"wrote {path}"))
