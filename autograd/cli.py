"""Old name of `autograd.expr`, the checked expression grammar (kept so ``from autograd import cli`` works).

The command line itself moved above `nn`, to `nn.cli` (`nn.cli.args` holds `Parser`, `CommandError`
and `one_line`; `nn.cli.graph` the `graph` subcommand): `autograd` never imports `nn`, so asking
this module for one of those names raises an AttributeError that says where it went.
"""

from . import expr as _expr
from .expr import MAX_DEPTH, MAX_LENGTH, ExpressionError, assignments, evaluate, first_anomaly, functions

__all__ = ["evaluate", "functions", "assignments", "first_anomaly", "ExpressionError", "MAX_LENGTH", "MAX_DEPTH"]

_MOVED = {
    "Parser": "nn.cli.args",
    "CommandError": "nn.cli.args",
    "one_line": "nn.cli.args",
    "EXIT_STATUS": "nn.cli.args",
    "add_graph_command": "nn.cli.graph",
    "FORMATS": "nn.cli.graph",
    "write_output": "nn.cli.files",
    "check_output_path": "nn.cli.files",
}


def __getattr__(name: str):
    if name in _MOVED:
        raise AttributeError(f"autograd.cli.{name} moved to {_MOVED[name]}.{name} (the command line lives above nn)")
    return getattr(_expr, name)  # any other name of the grammar, as before (an AttributeError names expr)
