"""Whole functions from bodies: one call, a batch loop (Python) or arrays over a batch (NumPy); long
functions cut into separately compiled parts; compiled with `compile()` into a namespace of our own."""

from __future__ import annotations

import builtins
import math

from .. import ops
from .body import _Body, _names, _unpack, _wrap
from .ir import Stmt, live_across
from .names import _RESERVED, _Names, _node_base
from .signals import _Stale
from .symbols import _differs
from .trace import _Trace


# ---- the generated function for one call shape --------------------------------------------------
def _base_globals(np=None) -> dict:
    g = {"total": ops.total, "inf": math.inf, "nan": math.nan, "_Stale": _Stale, "_differs": _differs}
    if np is not None:
        g.update(
            {
                "_differs_np": _differs_np_fn(np),
                "_np": np,
                "_all": np.all,
                "_any": np.any,
                "_batch_totals": _batch_totals_fn(np),
            }
        )
    return g


def _differs_np_fn(np):
    def differs(a, b):
        a = np.asarray(a, dtype=float)
        same = (a == b) & (np.signbit(a) == np.signbit(b))
        return ~(same | (np.isnan(a) & np.isnan(b)))

    return differs


def _batch_totals_fn(np):
    def batch_totals(xs, rows):
        """Σ over the batch of each gradient: an array sums, a number counts once per example."""
        table = np.empty((len(xs), rows))
        for i, x in enumerate(xs):
            table[i] = x
        # cumsum adds left to right, as backward() does (np.sum would add pairwise)
        return table.cumsum(axis=1)[:, -1].tolist() if rows else [0.0] * len(xs)

    return batch_totals


def _write_single(trace: _Trace, fname: str):
    """def fname(_inputs, _leaves, _grads) -> (value, aux, input grads, parameter grads)."""
    g = _base_globals()
    names = _Names(_RESERVED)
    refs: dict = {}
    for v, n in zip(trace.inputs, trace.input_names):
        refs[v] = names.fresh(n)
    leaf_names = []
    for v in trace.leaves:
        refs[v] = names.fresh(_node_base(v))
        leaf_names.append(refs[v])
    param_acc = [names.fresh(f"g_{refs[p]}") for p in trace.params]
    body = _Body(trace, names, refs, g, "python", None)
    body.forward()
    body.guards()
    # every wanted gradient is a running sum from 0.0, as in backward() (0.0 + -0.0 is 0.0)
    input_acc = {}
    for i in trace.wrt_inputs:
        v = trace.inputs[i]
        if v not in input_acc:
            input_acc[v] = names.fresh(f"g_{refs[v]}")
    targets = dict(input_acc)
    for p, acc in zip(trace.params, param_acc):
        targets[p] = acc
    body.backward(targets)
    input_grads = [input_acc[trace.inputs[i]] for i in trace.wrt_inputs]
    head = [
        f"def {fname}(_inputs, _leaves, _grads):",
        f'    """{fname}: forward and backward pass of a traced function, written out by autograd.compile."""',
    ]
    input_names = [refs[v] for v in trace.inputs]
    pre = [
        Stmt(_unpack(input_names, "_inputs"), tuple(input_names)),
        Stmt(_unpack(leaf_names, "_leaves"), tuple(leaf_names)),
        *[Stmt(f"{acc} = 0.0  # d out / d {refs[v]}, summed below", (acc,)) for v, acc in input_acc.items()],
    ]
    if param_acc:
        unpack = _unpack(param_acc, "_grads  # running sums of the parameters' gradients, as backward() keeps them")
        pre.append(Stmt(unpack, tuple(param_acc)))
    aux_names = [refs[v] for v in trace.aux_values]
    aux = ", ".join(aux_names)
    ret = Stmt(
        f"return ({refs[trace.out]}, ({aux}{',' if aux else ''}), ({', '.join(input_grads)}"
        f"{',' if input_grads else ''}), ({', '.join(param_acc)}{',' if param_acc else ''}))",
        (),
        _names([refs[trace.out], *aux_names, *input_grads, *param_acc]),
    )
    return _assemble(fname, head, pre, body, ret), g


_CHUNK = 10_000  # statements per separately compiled function, so compile() stays fast and small


def _assemble(fname: str, head, pre, body: _Body, ret) -> list:
    """The function's text, as one or more parts compiled one by one (see `_chunked`).

    Kept ASCII: one non-ASCII character makes CPython's compile() of a large source about 3x
    slower (measured on a 10^5-node graph)."""
    statements = [stmt for stmt in pre if stmt.text] + [Stmt("# forward: one line per node")] + body.lines + [ret]
    if len(statements) > _CHUNK:
        return _chunked(fname, head, statements)
    lines = list(head)
    for stmt in statements:
        lines += _wrap(stmt.text, "    ")
    return ["\n".join(lines) + "\n"]


def _chunked(fname: str, head, statements: list) -> list:
    """A long function cut into parts of `_CHUNK` statements, each its own function compiled on
    its own (CPython's compile() needs ~75 bytes of memory per source byte at once). Variables
    that cross a cut travel in a list, ``_V``, one slot each."""
    chunks = [statements[i : i + _CHUNK] for i in range(0, len(statements), _CHUNK)]
    live = live_across(chunks)  # read off the statements' own lists of names, never off their text
    slot: dict = {}
    parts, calls = [], []
    args = "_V, _inputs, _leaves, _grads"
    for k, chunk in enumerate(chunks):
        live_in, live_out = live[k]
        for name in live_in + live_out:
            slot.setdefault(name, len(slot))
        lines = [f"def _{fname}_part{k + 1}({args}):"]
        if live_in:
            lines += _wrap(f"({', '.join(live_in)},) = ({', '.join(f'_V[{slot[n]}]' for n in live_in)},)", "    ")
        for stmt in chunk:
            lines += _wrap(stmt.text, "    ")
        if live_out:
            lines += _wrap(f"({', '.join(f'_V[{slot[n]}]' for n in live_out)},) = ({', '.join(live_out)},)", "    ")
        parts.append("\n".join(lines) + "\n")
        calls.append(f"    {'return ' if k + 1 == len(chunks) else ''}_{fname}_part{k + 1}({args})")
    main = [
        *head,
        "    _V = [None] * " + str(len(slot)) + "  # the variables that cross from one part to the next",
        *calls,
    ]
    return [*parts, "\n".join(main) + "\n"]


def _write_batch(traces: list, params: list, backend: str, fname: str):
    """One function running a batch: for "python" a loop over the rows with one body per traced
    key, for "numpy" a single body over arrays. Parameters' gradients of the mean are summed in."""
    np = None
    if backend == "numpy":
        import numpy as np
    g = _base_globals(np)
    names = _Names(_RESERVED)  # the function's own variables all start with "_", never a node's name
    leaves = _batch_leaves(traces)
    leaf_refs = {v: names.fresh(_node_base(v)) for v in leaves}
    param_acc = [names.fresh(f"g_{leaf_refs[p]}") if p in leaf_refs else names.fresh("g_param") for p in params]
    lines = [
        f"def {fname}(_rows, _leaves, _grads, _seed):",
        f'    """{fname}: the traced per-example function over a batch, written out by autograd.compile."""',
    ]
    lines += _wrap(_unpack([leaf_refs[v] for v in leaves], "_leaves"), "    ")
    if param_acc:
        lines += _wrap(
            _unpack(param_acc, "_grads  # running sums of the parameters' gradients"),
            "    ",
        )
    lines += ["    _values = []", "    _aux = []"]
    if backend == "python":
        lines.append("    for _key, _row in _rows:  # the examples, last first, as backward() visits them")
        indent = "            " if len(traces) > 1 else "        "
    else:
        lines.append("    _key, _row, _n = _rows  # one column per input, the batch along it")
        indent = "    "
    for k, t in enumerate(traces):
        refs = {v: leaf_refs[v] for v in leaves}
        body_names = _Names(names._taken)
        for v, n in zip(t.inputs, t.input_names):
            refs[v] = body_names.fresh(n)
        body = _Body(t, body_names, refs, g, backend, "_seed")
        body.forward()
        body.guards()
        targets = {p: acc for p, acc in zip(params, param_acc)}
        body.backward(targets)
        if len(traces) > 1:
            lines.append(f"        {'if' if k == 0 else 'elif'} _key == {k}:")
        lines += _wrap(_unpack([refs[v] for v in t.inputs], "_row"), indent)
        lines.append(f"{indent}# forward")
        for stmt in body.lines:
            lines += _wrap(stmt.text, indent)
        aux = ", ".join(refs[v] for v in t.aux_values)
        lines.append(f"{indent}_values.append({refs[t.out]})")
        lines.append(f"{indent}_aux.append(({aux}{',' if aux else ''}))")
    if backend == "numpy":
        lines += _wrap(
            f"return (_values, _aux, _batch_totals(({', '.join(param_acc)}{',' if param_acc else ''}), _n))",
            "    ",
        )
    else:
        lines += _wrap(
            f"return (_values, _aux, ({', '.join(param_acc)}{',' if param_acc else ''}))",
            "    ",
        )
    return "\n".join(lines) + "\n", g


def _build(parts: list, globals_: dict, fname: str):
    """Compile the generated parts, one compile() each, into one namespace; return the function."""
    namespace = dict(globals_)
    for k, part in enumerate(parts):
        code = builtins.compile(part, f"<autograd.compile {fname} part {k + 1}>", "exec")
        exec(code, namespace)  # noqa: S102 - source we generated ourselves, never user text
    return namespace[fname]


def _numpy():
    try:
        import numpy
    except ImportError:
        raise ImportError(
            "compile(batch='numpy') needs NumPy: pip install 'chainrule[notebooks]' (or '[dev]')"
        ) from None
    return numpy


def _batch_leaves(traces) -> list:
    """Every trace's outside leaves, each once, in first-seen order (the order `_write_batch` unpacks)."""
    return list({v: None for t in traces for v in t.leaves})
