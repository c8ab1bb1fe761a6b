"""Reading a picture's DOT text in tests: statements keyed by what they define, and the ids draw gives nodes."""

import re

from autograd import topological_order


def dot_lines(source: str) -> dict:
    """DOT statement lines keyed by what they define: node id, or (tail, head) for an edge."""
    out = {}
    for line in source.splitlines():
        m = re.match(r"\s*(\w+) -> (\w+)(.*)", line)
        if m:
            out[m[1], m[2]] = m[3]
            continue
        m = re.match(r"\s*(\w+) \[(.*)\]$", line)
        if m:
            out[m[1]] = m[2]
    return out


def node_ids(root) -> dict:
    """The id `draw` gives each value node: v0, v1, ... in topological order."""
    return {node: f"v{i}" for i, node in enumerate(topological_order(root))}


def op_id(node_id: str) -> str:
    """The id of the op node that made value node `node_id`."""
    return "o" + node_id[1:]
