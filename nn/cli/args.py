"""The argument plumbing every subcommand shares: a `Parser` whose mistakes are one line (naming the
subcommand's usage and the nearest option), `CommandError` with its exit status, and `one_line`."""

from __future__ import annotations

import argparse
import difflib

__all__ = ["EXIT_STATUS", "Parser", "CommandError", "one_line", "positive_int", "nearest_option"]

EXIT_STATUS = """\
exit status:
  0  done (for graph: also when a value or gradient is inf or nan, which gets one warning line)
  1  a failure while running, in one line on stderr: a file that cannot be written, Graphviz's
     dot missing, training that diverged
  2  a bad option, argument or expression, refused in one line on stderr before any work"""

_OPERATOR_CHARACTERS = frozenset("*+() \t")  # in an expression, never (or hardly ever) in a file name


class CommandError(Exception):
    """An error to report in one line, with its exit status (2: the user's input, 1: at run time)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


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

    def unknown(self, extras: list) -> None:
        """Refuse arguments this (sub)command does not know, suggesting its nearest option."""
        hint = next((f"; did you mean {m}?" for a in extras if (m := nearest_option(self, a))), "")
        self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")

    def _parse_optional(self, arg_string):
        if self.dash_positionals and _is_dash_positional(arg_string, self._option_string_actions):
            return None
        return super()._parse_optional(arg_string)


def nearest_option(parser: argparse.ArgumentParser, given: str) -> str | None:
    """The parser's option closest to a mistyped one (``--hiden`` -> ``--hidden``), or None."""
    if not given.startswith("-"):
        return None
    name = given.partition("=")[0]
    found = difflib.get_close_matches(name, list(parser._option_string_actions), n=1, cutoff=0.6)
    return found[0] if found else None


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


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return n
