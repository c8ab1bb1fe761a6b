"""Nested arguments and outputs: lists and tuples of leaves (numbers or `Value`s), taken apart into
a flat list and a shape, and put back together. `grad`/`value_and_grad` use it for list
arguments and aux outputs, `compile` for its arguments, batches and aux."""

from __future__ import annotations

from .engine import Value

__all__ = ["flatten", "unflatten", "to_floats"]


def flatten(tree, is_leaf=None) -> tuple[list, object]:
    """(leaves, shape): every item that is not a list or tuple, in order, and the nesting as
    ``"v"`` for a leaf or ``("list" | "tuple", (shapes...))``. ``is_leaf(x)`` may refuse an item
    by raising; by default anything that is not a list or tuple is a leaf."""
    leaves: list = []

    def shape(x):
        if isinstance(x, (list, tuple)):  # a namedtuple comes back a plain tuple
            return ("list" if isinstance(x, list) else "tuple", tuple(shape(item) for item in x))
        if is_leaf is not None:
            is_leaf(x)
        leaves.append(x)
        return "v"

    return leaves, shape(tree)


def unflatten(shape, leaves) -> object:
    """The structure ``shape`` (from `flatten`) with ``leaves`` in its places, in order."""
    it = iter(leaves)

    def build(s):
        if s == "v":
            return next(it)
        items = [build(x) for x in s[1]]
        return items if s[0] == "list" else tuple(items)

    return build(shape)


def to_floats(tree):
    """The same nesting with every `Value` replaced by its number and every number made a float
    (None stays None): what a transform hands back at top level, as JAX hands back arrays."""
    if type(tree) is Value:
        return tree.data
    if isinstance(tree, (list, tuple)):
        items = [to_floats(x) for x in tree]
        return items if isinstance(tree, list) else tuple(items)
    return None if tree is None else float(tree)
