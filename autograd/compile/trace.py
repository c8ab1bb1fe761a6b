"""One recorded run of f: what the trace watches through the engine's hook (guards, leaves made inside f),
the graph it recorded in forward order, and the numbers f reads from its closure and globals."""

from __future__ import annotations

from ..engine import Observer, Value, topological_order
from .pytree import _key


class _TraceObserver(Observer):
    """What a trace watches through the engine's hook: comparisons become guards; a leaf made inside
    f is remembered (its number is this call's, so the trace cannot be reused); no_grad refuses.
    Nodes being made and backward passes are not its business."""

    def __init__(self):
        self.guards: list = []
        self.made: set = set()
        self.refused = False

    def saw(self, what, node, other, result) -> None:
        if what == "made" or what == "pass":
            return
        if what == "leaf":
            self.made.add(node)
        elif what == "no_grad" or what == "observer":  # a block the replay could not honour: run eagerly
            self.refused = True
        else:
            if not (type(other) is Value or type(other) in (int, bool) or isinstance(other, float)):
                self.refused = True  # a Fraction, a Decimal: no exact literal to check it against
            self.guards.append((node, what, other, result))


# ---- the trace ----------------------------------------------------------------------------------
class _Trace:
    """One recorded run of f: its output, inputs, outside leaves, guards and aux outputs."""

    def __init__(
        self,
        out,
        inputs,
        input_names,
        wrt_inputs,
        params,
        guards,
        aux_values,
        aux_shape,
    ):
        self.out = out
        self.inputs = inputs  # the input leaves, in flattened argument order
        self.input_names = input_names
        self.wrt_inputs = wrt_inputs  # positions in `inputs` of the differentiated arguments
        self.params = params
        self.guards = guards
        self.aux_values = aux_values
        self.aux_shape = aux_shape
        roots = [out, *aux_values]
        for node, _, other, _ in guards:
            roots.append(node)
            if type(other) is Value:
                roots.append(other)
        self.backward_order = topological_order(out)
        self.forward_order = _merged_order(self.backward_order, roots[1:])
        input_set = set(inputs)
        self.leaves = [
            v for v in self.forward_order if not v.parents and v not in input_set and v.role != "constant"
        ]  # outside leaves (parameters, Values of closures): read at every call
        # the params first, in their order (a model's layout: layers as strided views of one array),
        # then any other outside leaf in the order the trace met it
        ordered = [p for p in params if p not in input_set]
        listed = set(ordered)
        self.leaves = ordered + [v for v in self.leaves if v not in listed]


def _merged_order(order: list, extra_roots: list) -> list:
    seen = set(order)
    merged = list(order)
    for root in extra_roots:
        if root not in seen:
            for node in topological_order(root):
                if node not in seen:
                    seen.add(node)
                    merged.append(node)
    return merged


_MISSING = object()


def _env_reader(f):
    """A function reading the numbers f's code takes from its closure and its module's globals, as
    exact keys: a trace bakes them in, so a changed one must trace again. (Numbers read by functions
    that f calls are not seen: pass them as arguments.)"""
    code = getattr(f, "__code__", None)
    if code is None:
        return lambda: ()
    cells = f.__closure__ or ()
    globals_ = getattr(f, "__globals__", {})
    names = [n for n in code.co_names if n in globals_ and _is_number(globals_[n])]

    def read():
        out = []
        for cell in cells:
            try:
                v = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if _is_number(v):
                out.append(_key(v))
        for n in names:
            v = globals_.get(n, _MISSING)
            out.append((n, _key(v) if _is_number(v) else None))
        return tuple(out)

    return read


def _is_number(v) -> bool:
    import numbers

    return isinstance(v, numbers.Number) and type(v) is not Value
