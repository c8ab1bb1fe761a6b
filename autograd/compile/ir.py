"""The statements the emitters write, as data: each knows the names it assigns and reads, so cutting
a long function into parts is slicing the list, and what crosses a cut is read off the list."""

from __future__ import annotations

from typing import NamedTuple


class Stmt(NamedTuple):
    """One statement of generated code (or a comment: no writes, no reads)."""

    text: str
    writes: tuple = ()
    reads: tuple = ()


def live_across(chunks: list) -> list:
    """For each chunk of statements: (names it reads that an earlier chunk assigned, names it
    assigns that a later chunk reads), both sorted."""
    defs, uses = [], []
    for chunk in chunks:
        d, u = set(), set()
        for stmt in chunk:
            u |= set(stmt.reads) - d  # read before this chunk assigns it
            d |= set(stmt.writes)
        defs.append(d)
        uses.append(u)
    out = []
    for k in range(len(chunks)):
        earlier = set().union(*defs[:k])
        later = set().union(*uses[k + 1 :])
        out.append((sorted(uses[k] & earlier), sorted(defs[k] & later)))
    return out
