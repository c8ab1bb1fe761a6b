"""Readable, distinct Python names for nodes: labels and module scopes shortened (L1N0_w3), v1, v2, ... otherwise."""

from __future__ import annotations

import keyword
import re

# ---- names ------------------------------------------------------------------------------------
_RESERVED = {"total", "abs", "inf", "nan"}
_OP_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}


_NOT_WORD = re.compile(r"\W+", flags=re.ASCII)


def _identifier(text: str) -> str:
    """A valid, ASCII Python name made from ``text`` (never one of the names the code binds)."""
    if (
        text.isascii()
        and text.isidentifier()
        and text[0] != "_"
        and not keyword.iskeyword(text)
        and text not in _RESERVED
    ):
        return text  # the common case, already a name
    name = _NOT_WORD.sub("_", text).strip("_")
    if not name or name[0].isdigit():
        name = "v" + name
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    return name


def _short_scope(path: str) -> str:
    """ "layers.1.neurons.0" -> "L1N0": a module path as a short prefix."""
    return "".join(p if p.isdigit() else p[:1].upper() for p in path.split(".") if p)


class _Names:
    """Hands out distinct identifiers: the first ``z`` is z, the next z_2, z_3, ..."""

    def __init__(self, taken=()):
        self._taken = set(taken)
        self._count: dict = {}

    def fresh(self, base: str) -> str:
        base = _identifier(base)
        if base == "v":  # an unnamed node: v1, v2, ... in the order they are written
            k = self._count.get("v", 0)
            while f"v{k + 1}" in self._taken:
                k += 1
            self._count["v"] = k + 1
            self._taken.add(f"v{k + 1}")
            return f"v{k + 1}"
        name = base
        while name in self._taken:
            k = self._count.get(base, 1) + 1
            self._count[base] = k
            name = f"{base}_{k}"
        self._taken.add(name)
        return name


def _short_label(label: str) -> str:
    """ "layers.1.neurons.0.w.3" -> "L1N0_w3": a dotted path shortened, its last name kept."""
    parts = label.split(".")
    k = max((i for i, p in enumerate(parts) if not p.isdigit()), default=0)
    prefix, last = _short_scope(".".join(parts[:k])), "".join(parts[k:])
    return f"{prefix}_{last}" if prefix else last


def _node_base(node) -> str:
    """A readable base name: the label, under its scope's short prefix, else the op's name."""
    label, scope = node.label, node.scope
    prefix = _short_scope(scope) if scope else ""
    if label:
        if scope and label.startswith(scope + "."):
            label = label[len(scope) + 1 :]
        label = _short_label(label)
        return f"{prefix}_{label}" if prefix else label
    if node.parents:
        word = _OP_WORDS.get(node.op, node.op)
        return f"{prefix}_{word}" if prefix else "v"
    return f"{prefix}_leaf" if prefix else "leaf"


def _bind(globals_: dict, obj, base: str) -> str:
    """The name under which generated code calls ``obj``: bound once as a global of its module."""
    for name, bound in globals_.items():
        if bound is obj:
            return name
    name = f"_{_identifier(base)}"
    k = 1
    while name in globals_:
        k += 1
        name = f"_{_identifier(base)}{k}"
    globals_[name] = obj
    return name
