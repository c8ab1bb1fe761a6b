"""The checked expression grammar behind ``chainrule graph "tanh(w*x + b)" w=-0.5 x=2 b=0.1``.

The expression is read with `ast` and checked against a small grammar (numbers, variables,
``+ - * / **``, unary ``-``/``+`` and the one-input functions of the op table) before anything
is computed; it is never passed to eval, exec or compile. A mistake raises `ExpressionError`
with one line for the user. No argparse here: the command line (`nn.cli`) reads its arguments
and turns these errors into exit statuses.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata

from . import ops
from .anomaly import detect_anomaly
from .engine import Primitive, Value

__all__ = [
    "evaluate",
    "functions",
    "assignments",
    "first_anomaly",
    "ExpressionError",
    "MAX_LENGTH",
    "MAX_DEPTH",
]
MAX_LENGTH = 2000  # characters in an expression
MAX_DEPTH = 100  # levels of nesting in its syntax tree

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


def assignments(items: list) -> dict:
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
