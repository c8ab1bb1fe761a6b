"""`compile`: trace a function once, then run its forward and backward pass as generated Python.

A scalar engine rebuilds the same graph at every training step although only the numbers
change. ``g = autograd.compile(f)`` calls ``f`` once with `Value`s (a *trace*), and writes the
graph out as one straight-line Python function — the Wengert list a textbook draws:

- a forward section, one assignment per node, named after the node's label or module scope
  where it has one, with the operation in a trailing comment;
- a backward section, the chain rule unrolled in reverse topological order, each node's
  gradient accumulated over its children, a multiplication by a derivative that is exactly
  1.0 left out (x · 1.0 = x bit for bit; a factor 0.0 is kept, since 0 · inf is nan).

Later calls run that function on the new numbers. ``g.source`` shows it.

The local derivatives are never written here. Each node's rule comes from its `Primitive`
(``autograd.ops``): compile runs the rule once on symbols, and where the rule is plain
arithmetic the symbols spell out the expression (mul's rule ``(b, a)`` becomes ``g_z * b``);
where it is not (a Python branch, a call of ``math``), the generated code calls the rule
itself. The fused sums call ``total``, the summation routine eager nodes use too. So results
equal `value_and_grad` bit for bit, and a changed rule in ops.py changes compiled code with it.

Branches are never stale: comparisons of `Value`s (``x > 0``) and ``float(v)`` made while
tracing are recorded as guards and checked on every call; a call whose numbers take another
branch traces again (a few traces are kept per argument structure, most recent first).
A call that hits an arithmetic error (x/0, overflow: where eager answers with IEEE inf/nan)
or that passes `Value`s is run eagerly. What a trace cannot see, it cannot guard: reading
``v.data`` inside ``f`` bakes the number in, and ``==`` on Values compares identity (as it
always does); ``no_grad`` inside ``f`` makes every call eager.

Higher order: ``compile(grad(f))`` works — the trace of ``grad(f)`` is the graph of the
gradient, so its compiled gradient is the second derivative. Called with `Value`s (inside
``grad``), a compiled function runs eagerly, so it composes like `value_and_grad`.

Batches (``batch="python"`` or ``"numpy"``): for a loss that is a mean over examples of one
per-example function, trace that function once and run it over every example, in a loop
written into the generated code, or with each node a NumPy array over the batch. The root's
gradient is seeded with 1/m and the examples are added last first, as ``backward()`` on the
batch loss adds them, so ``nn.fit`` trains to the very same weights with the loop. Examples
whose static arguments differ (class labels a loss branches on) get a trace each.

Where results are not bit-identical, and why:

- NumPy's exp, log, tanh, ... may differ from `math`'s in the last bit (about 1e-16 relative);
- a batch's value is the mean of the examples' values, ``total(values) / m``, which need not
  round like the batch loss written as one formula (its gradients are the same either way);
- a rule that branches (relu) has its NumPy form declared beside it in ops.py (``on_arrays``);
  the float and array forms are tested equal, not derived from each other.

Large graphs: the generated text is ASCII and cut into functions of 10,000 statements, each
compiled on its own, so compile() stays fast and its memory bounded (a 10^5-node graph: a
few seconds). Note: ``import autograd.compile`` gives this module, but the attribute
``autograd.compile`` is the function.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import re
import struct
import threading
from collections import OrderedDict

from . import engine, ops
from .engine import Value, _enable_grad, constant, gc_paused, observing, topological_order
from .functional import gradients

__all__ = ["Compiled", "compile"]

_BATCH_MODES = (None, "python", "numpy")


def compile(  # noqa: A001 - the name the issue asks for; `autograd.compile` takes a function, not source
    f,
    argnums=None,
    *,
    params=None,
    has_aux=False,
    static_argnums=(),
    batch=None,
    cache_size=8,
):
    """``f`` traced once and run as generated Python: returns what ``value_and_grad(f, argnums)`` returns.

    ``g = compile(f, argnums=(0, 1)); value, (dx, dy) = g(x, y)``. Arguments that are numbers
    (or lists and tuples of numbers) are inputs of the compiled code; other arguments, those
    in ``static_argnums`` and keyword arguments are baked in (a new value traces again).

    params: `Value` leaves (``model.parameters()``) whose gradients are added to their
    ``.grad`` on each call, as ``backward()`` does, so optimisers work unchanged; argnums then
    defaults to () and the call returns ``(value, ())``.
    has_aux: ``f`` returns ``(value, aux)``; the call returns ``((value, aux), grads)`` with the
    aux Values as floats (as in JAX).
    batch: "python" or "numpy" — each positional argument is a sequence with one entry per
    example and the call returns the mean of ``f`` over the examples (params' gradients of that
    mean go to ``.grad``; needs params, and argnums ()). "numpy" needs NumPy.

    Note: ``from autograd import *`` brings this `compile` over Python's builtin of that name.
    """
    return Compiled(f, argnums, params, has_aux, static_argnums, batch, cache_size)


class _TraceObserver:
    """What a trace watches through the engine's hook: comparisons become guards; a leaf made inside
    f is remembered (its number is this call's, so the trace cannot be reused); no_grad refuses."""

    def __init__(self):
        self.guards: list = []
        self.made: set = set()
        self.refused = False

    def saw(self, what, node, other, result) -> None:
        if what == "leaf":
            self.made.add(node)
        elif what == "no_grad":
            self.refused = True
        else:
            if not (type(other) is Value or type(other) in (int, bool) or isinstance(other, float)):
                self.refused = True  # a Fraction, a Decimal: no exact literal to check it against
            self.guards.append((node, what, other, result))


class _Stale(Exception):
    """A guard of the trace failed: these numbers take another branch than the traced ones."""


class _Eager(Exception):
    """This call cannot use compiled code (Values among the arguments, no_grad in f): run eagerly."""


# ---- reading a rule off by running it on symbols ----------------------------------------------
class _NotSymbolic(BaseException):
    """The rule did something with a number that symbols cannot record. A BaseException, like
    `_Branch`, so that a rule's own ``except Exception`` cannot swallow it."""


def _refuse(*_):
    raise _NotSymbolic


class _Sym:
    """A stand-in for a float that records arithmetic as Python source.

    A comparison becomes a `_Cond`, whose truth the exploring run decides (both ways, in turn),
    so ``1.0 if x > 0 else 0.0`` is read off as that conditional expression. Anything else a
    rule might do with a number (pass it to math, test it bare) refuses, and the rule is then
    called at run time instead.
    """

    __slots__ = ("atomic", "text")

    def __init__(self, text: str, atomic: bool):
        self.text = text
        self.atomic = atomic

    def __neg__(self):
        return _Sym(f"-{_operand(self)}", False)

    def __pos__(self):
        return self

    def __abs__(self):
        return _Sym(f"abs({self.text})", True)

    __bool__ = __float__ = __int__ = __index__ = __round__ = __iter__ = _refuse
    __eq__ = __ne__ = __hash__ = _refuse


class _Cond:
    """A comparison of symbols: its truth is asked of the current exploration."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __bool__(self):
        return _explorer.decide(self.text)


class _Branch(BaseException):
    """The run reached a comparison the exploration has not decided yet."""

    def __init__(self, text: str):
        self.text = text


class _Explorer(threading.local):
    """Answers comparisons along one path of decisions; an undecided one stops the run."""

    def __init__(self):
        self.path: list = []
        self.asked = 0

    def decide(self, text: str) -> bool:
        if self.asked == len(self.path):
            raise _Branch(text)
        self.asked += 1
        return self.path[self.asked - 1]


_explorer = _Explorer()


def _comparison(symbol):
    def method(self, other):
        return _Cond(f"{_operand(self, ints=True)} {symbol} {_operand(other, ints=True)}")

    return method


for _name, _symbol in [("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">=")]:
    setattr(_Sym, f"__{_name}__", _comparison(_symbol))


def _operand(x, ints: bool = False) -> str:
    if type(x) is _Sym:
        return x.text if x.atomic else f"({x.text})"
    if type(x) is float:
        return _float_text(x)
    if ints and type(x) is int:  # x > 0 compares exactly as x > 0.0 does
        return repr(x)
    raise _NotSymbolic  # ints, Values, anything else: not a float rule we can write out


def _binary(symbol):
    def method(self, other):
        return _Sym(f"{_operand(self)} {symbol} {_operand(other)}", False)

    def reflected(self, other):
        return _Sym(f"{_operand(other)} {symbol} {_operand(self)}", False)

    return method, reflected


for _name, _symbol in [
    ("add", "+"),
    ("sub", "-"),
    ("mul", "*"),
    ("truediv", "/"),
    ("pow", "**"),
]:
    _method, _reflected = _binary(_symbol)
    setattr(_Sym, f"__{_name}__", _method)
    setattr(_Sym, f"__r{_name}__", _reflected)
del _name, _symbol, _method, _reflected


def _literal(x) -> str:
    """A number compared with a Value, written exactly: an int as itself (Python compares a float with
    an int exactly, 2**53 + 1 and 10**400 included), a float by its repr."""
    if type(x) is int or type(x) is bool:
        return repr(int(x))
    return _float_text(float(x))


def _differs(a: float, b: float) -> bool:
    """Not the same float bit for bit (as far as arithmetic can tell): 0.0 and -0.0 differ, nan equals nan."""
    if a == b:
        return a == 0.0 and math.copysign(1.0, a) != math.copysign(1.0, b)
    return not (a != a and b != b)


def _float_text(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "(-inf)"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


_MARK = "\x00"


class _Template:
    """An expression with holes: ``parts`` alternate literal text and the index of an input
    (or "ans"); ``atomic`` says whether it needs parentheses as an operand."""

    __slots__ = ("atomic", "branchy", "parts")

    def __init__(self, text: str, atomic: bool, branchy: bool = False):
        self.parts = text.split(_MARK)
        self.atomic = atomic
        self.branchy = branchy  # holds a conditional expression: fine on floats, not on arrays

    def render(self, ans: str, names: list) -> str:
        parts = self.parts
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            hole = parts[i]
            out.append(ans if hole == "a" else names[int(hole)])
            out.append(parts[i + 1])
        return "".join(out)


_templates: dict = {}


_MAX_PATHS = 8  # a rule with more branches than this is called at run time


def _symbolic(rule, n: int, with_ans: bool):
    """The rule run on symbols: a list of `_Template`s (one per output), or None when the rule is
    not arithmetic and comparisons on its inputs. Each comparison is explored both ways and the
    outcomes joined into conditional expressions."""
    syms = [_Sym(f"{_MARK}{i}{_MARK}", True) for i in range(n)]
    args = [_Sym(f"{_MARK}a{_MARK}", True), *syms] if with_ans else syms
    runs = [0]

    def explore(path):
        runs[0] += 1
        if runs[0] > _MAX_PATHS:
            raise _NotSymbolic
        _explorer.path, _explorer.asked = path, 0
        try:
            result = rule(*args)
        except _Branch as branch:
            yes, no = explore([*path, True]), explore([*path, False])
            if len(yes) != len(no):
                raise _NotSymbolic from None
            return [
                (f"{a} if {branch.text} else {b}", False, True)
                for (a, _, _), (b, _, _) in zip(
                    [(t if at else f"({t})", at, c) for t, at, c in yes],
                    [(t if at else f"({t})", at, c) for t, at, c in no],
                )
            ]
        results = result if isinstance(result, (tuple, list)) else (result,)
        out = []
        for r in results:
            if type(r) is _Sym:
                out.append((r.text, r.atomic, False))
            elif type(r) is float:
                out.append((_float_text(r), True, False))
            else:
                raise _NotSymbolic
        return out

    try:
        found = explore([])
    except (Exception, _NotSymbolic, _Branch):  # any refusal means: call the rule at run time
        return None
    finally:
        _explorer.path, _explorer.asked = [], 0
    return [_Template(text, atomic, branchy) for text, atomic, branchy in found]


_SAMPLES = (0.75, -1.25, 2.5, 0.0, -0.0, 3.0, -0.5)


def _agrees(rule, templates, n: int, forward, with_ans: bool) -> bool:
    """Whether the templates give the rule's own answers, bit for bit, on a few sample numbers:
    a safety net for a rule that behaves differently on symbols (say, one that catches errors)."""
    names = [f"_a{i}" for i in range(n)]
    for k in range(len(_SAMPLES)):
        xs = [_SAMPLES[(k + i) % len(_SAMPLES)] for i in range(n)]
        try:
            ans = forward(*xs) if with_ans else None
            want = rule(ans, *xs) if with_ans else rule(*xs)
        except Exception:  # noqa: BLE001 - no sample here (eager would take its IEEE path)
            continue
        want = want if isinstance(want, (tuple, list)) else (want,)
        scope = {"total": ops.total, "inf": math.inf, "nan": math.nan, "_ans": ans, **dict(zip(names, xs))}
        for tp, w in zip(templates, want):
            try:
                got = eval(tp.render("_ans", names), scope)  # noqa: S307 - an expression we wrote ourselves
            except Exception:  # noqa: BLE001 - x/0 in the template where the rule did not raise
                return False
            same_number = got == w and math.copysign(1.0, got) == math.copysign(1.0, w)
            if not (type(w) is float and (same_number or (math.isnan(w) and math.isnan(got)))):
                return False
    return True


def _template(prim, n: int, kind: str):
    """The cached symbolic form of ``prim``'s forward ("forward") or derivative ("derivative") rule for n inputs."""
    key = (prim, n, kind)
    if key not in _templates:
        if kind == "forward":
            found = _symbolic(prim.forward, n, with_ans=False)
            ok = found and len(found) == 1 and _agrees(prim.forward, found, n, None, with_ans=False)
            _templates[key] = found[0] if ok else None
        else:
            found = _symbolic(prim.derivative, n, with_ans=True)
            ok = found and len(found) == n and _agrees(prim.derivative, found, n, prim.forward, with_ans=True)
            _templates[key] = found if ok else None
    return _templates[key]


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
        known = set(self.leaves)
        for p in params:
            if p not in known and p not in input_set:
                self.leaves.append(p)
                known.add(p)


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


# ---- writing the code ---------------------------------------------------------------------------
class _Body:
    """Writes the statements of one trace: forward, guards, backward.

    backend "python": plain floats; "numpy": every node an array over the batch (parameters
    broadcast). accumulate: parameters' gradients are running sums (`+=` onto their incoming
    value) rather than fresh variables; seed: the name of the root's gradient, or None for 1.0.
    """

    def __init__(
        self,
        trace: _Trace,
        names: _Names,
        refs: dict,
        globals_: dict,
        backend: str,
        seed,
    ):
        self.t = trace
        self.names = names
        self.refs = refs  # node -> the text that denotes its value (a name or a literal)
        self.globals = globals_
        self.backend = backend
        self.seed = seed
        self.lines: list = []
        self._temp = 0
        self._started: set = set()  # NumPy: running sums given their first term

    # the objects the code calls are bound as globals of the generated module
    def bind(self, obj, base: str) -> str:
        for name, bound in self.globals.items():
            if bound is obj:
                return name
        name = f"_{_identifier(base)}"
        k = 1
        while name in self.globals:
            k += 1
            name = f"_{_identifier(base)}{k}"
        self.globals[name] = obj
        return name

    def temp(self) -> str:
        self._temp += 1
        return f"_d{self._temp}"

    def array_rules(self, prim):
        if self.backend != "numpy" or prim.on_arrays is None:
            return None, None
        return _array_rules(prim, self.globals["_np"])

    def forward(self) -> None:
        refs = self.refs
        for node in self.t.forward_order:
            if node in refs:
                continue
            if not node.parents:  # a constant: its number goes straight into the expressions
                refs[node] = _float_text(node.data)
                continue
            prim = node.primitive
            args = [refs[p] for p in node.parents]
            name = self.names.fresh(_node_base(node))
            array_forward, _ = self.array_rules(prim)
            if array_forward is not None:
                expr = f"{self.bind(array_forward, 'a_' + _OP_WORDS.get(prim.name, prim.name))}({', '.join(args)})"
            elif prim.inline is not None:
                expr = prim.inline(*args)
            else:
                template = _template(prim, len(args), "forward")
                if template is not None and not (template.branchy and self.backend == "numpy"):
                    expr = template.render("", args)
                else:
                    expr = f"{self.bind(prim.forward, 'f_' + _OP_WORDS.get(prim.name, prim.name))}({', '.join(args)})"
            refs[node] = name
            self.lines.append(f"{name} = {expr}  # {prim.name}")

    def guards(self) -> None:
        np_mode = self.backend == "numpy"
        if self.t.guards:
            self.lines.append("# guards: the branches the trace took, checked before any gradient")
        for node, op, other, result in self.t.guards:
            a = self.refs[node]
            if op == "float":  # detach() read the number: the same bits (sign of zero, nan) or trace again
                test = f"{'_differs_np' if np_mode else '_differs'}({a}, {_float_text(result)})"
                self.lines.append(f"if {'_any(' + test + ')' if np_mode else test}: raise _Stale  # read {result!r}")
                continue
            b = self.refs[other] if type(other) is Value else _literal(other)
            test = f"{a} {op} {b}"
            if np_mode:
                check = f"not _all({test})" if result else f"_any({test})"
            else:
                check = f"not ({test})" if result else test
            self.lines.append(f"if {check}: raise _Stale  # the trace had {test} {result}")

    def backward(self, targets: dict) -> dict:
        """The chain rule. ``targets`` maps each node whose gradient is wanted to its kind:
        "fresh" (a variable of its own) or the name of an accumulator to add into."""
        t, refs, lines = self.t, self.refs, self.lines
        order = t.backward_order
        leads = set()
        for node in order:  # parents first: a node leads to a target if it is one or a parent does
            if node in targets or any(p in leads for p in node.parents):
                leads.add(node)
        fan_in: dict = {}
        for node in order:
            if node in leads or node is t.out:
                for p in node.parents:
                    if p in leads:
                        fan_in[p] = fan_in.get(p, 0) + 1
        grad = {t.out: self.seed}  # node -> the name of its gradient; None means exactly 1.0
        lines.append("# backward: the chain rule, from the output back, last node first")
        if t.out in targets and targets[t.out] != "fresh":
            lines.append(self.add_into(targets[t.out], self.seed or "1.0", "", running_sum=True))
        for node in reversed(order):
            if node not in grad or not node.parents:
                continue
            g = grad[node]
            parents = node.parents
            wanted = [i for i, p in enumerate(parents) if p in leads]
            if not wanted:
                continue
            partials = self._partials(node)
            for i in wanted:
                p = parents[i]
                text, atomic = partials[i]
                if text == "1.0":
                    c = g or "1.0"
                elif node.primitive.masks:  # a partial of exactly 0 passes nothing, as in the one chain-rule loop
                    d = self.temp()
                    lines.append(f"{d} = {text}  # {node.op}'s partial; 0 cuts the branch off")
                    term = d if g is None else f"{g} * {d}"
                    if self.backend == "numpy":
                        c = f"_np.where({d} != 0.0, {term}, 0.0)"
                    else:
                        c = f"({term} if {d} != 0.0 else 0.0)"
                elif g is None:
                    c = text
                else:
                    c = f"{g} * {text if atomic else '(' + text + ')'}"
                kind = targets.get(p, "fresh")
                why = f"  # via {refs[node]} ({node.op})"
                if kind != "fresh":  # a parameter: add into its running sum
                    lines.append(self.add_into(kind, c, why, running_sum=True))
                    grad.setdefault(p, kind)
                elif p in grad:
                    lines.append(self.add_into(grad[p], c, why))
                elif fan_in[p] == 1 and p not in targets and (c == "1.0" or _is_name(c)):
                    # its only contribution is exactly 1.0 or an existing variable: nothing to write
                    grad[p] = None if c == "1.0" else c
                else:
                    name = self.names.fresh(f"g_{refs[p]}" if _is_name(refs[p]) else "g")
                    lines.append(f"{name} = {c}{why}")
                    grad[p] = name
        return grad

    def add_into(self, name: str, c: str, why: str, running_sum: bool = False) -> str:
        if self.backend != "numpy":
            return f"{name} += {c}{why}"
        # NumPy: a parameter's running sum starts at 0.0 and is summed over the batch afterwards,
        # so its first term is the sum so far; and an array may be shared by two names (g_a = b),
        # so nothing is added in place
        if running_sum and name not in self._started:
            self._started.add(name)
            return f"{name} = {c}{why}"
        return f"{name} = {name} + {c}{why}"

    def _partials(self, node) -> list:
        """(text, atomic) of ∂node/∂parentᵢ for each parent, from the node's own rule."""
        prim = node.primitive
        args = [self.refs[p] for p in node.parents]
        ans = self.refs[node]
        _, array_derivative = self.array_rules(prim)
        templates = None if array_derivative is not None else _template(prim, len(args), "derivative")
        if templates is not None and not (self.backend == "numpy" and any(tp.branchy for tp in templates)):
            return [(tp.render(ans, args), tp.atomic) for tp in templates]
        rule = array_derivative or prim.derivative
        d = self.temp()
        label = ("a_d_" if array_derivative else "d_") + _OP_WORDS.get(prim.name, prim.name)
        self.lines.append(f"{d} = {self.bind(rule, label)}({', '.join([ans, *args])})  # {prim.name}'s rule")
        if len(args) == 1 and prim.arity == 1:
            return [(d, True)]
        return [(f"{d}[{i}]", True) for i in range(len(args))]


_NAME = re.compile(r"[A-Za-z_]\w*\Z")


def _is_name(text) -> bool:
    return text is not None and bool(_NAME.match(text)) and text not in ("inf", "nan")


_array_cache: dict = {}


def _array_rules(prim, np):
    if prim not in _array_cache:
        _array_cache[prim] = prim.on_arrays(np)
    return _array_cache[prim]


def _wrap(line: str, indent: str, width: int = 100) -> list:
    """A long statement broken after commas (every comma we write sits inside brackets)."""
    if not line:
        return []
    code, hash_, comment = line.partition("  # ")
    if len(indent) + len(code) <= width or ", " not in code or line.startswith("#"):
        return [indent + line]
    pieces = code.split(", ")
    out, current = [], indent + pieces[0]
    for piece in pieces[1:]:
        if len(current) + 2 + len(piece) > width:
            out.append(current + ",")
            current = indent + "    " + piece
        else:
            current += ", " + piece
    out.append(current + (hash_ + comment if hash_ else ""))
    return out


def _unpack(names: list, source: str) -> str:
    return f"({', '.join(names)},) = {source}" if names else ""


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
    pre = [
        _unpack([refs[v] for v in trace.inputs], "_inputs"),
        _unpack(leaf_names, "_leaves"),
        *[f"{acc} = 0.0  # d out / d {refs[v]}, summed below" for v, acc in input_acc.items()],
    ]
    if param_acc:
        pre.append(
            _unpack(
                param_acc,
                "_grads  # running sums of the parameters' gradients, as backward() keeps them",
            )
        )
    aux = ", ".join(refs[v] for v in trace.aux_values)
    ret = f"return ({refs[trace.out]}, ({aux}{',' if aux else ''}), ({', '.join(input_grads)}{',' if input_grads else ''}), ({', '.join(param_acc)}{',' if param_acc else ''}))"
    return _assemble(fname, head, pre, body, ret), g


_CHUNK = 10_000  # statements per separately compiled function, so compile() stays fast and small


def _assemble(fname: str, head, pre, body: _Body, ret) -> list:
    """The function's text, as one or more parts compiled one by one (see `_chunked`).

    Kept ASCII: one non-ASCII character makes CPython's compile() of a large source about 3x
    slower (measured on a 10^5-node graph)."""
    statements = [stmt for stmt in pre if stmt] + ["# forward: one line per node"] + body.lines + [ret]
    if len(statements) > _CHUNK:
        return _chunked(fname, head, statements)
    lines = list(head)
    for stmt in statements:
        lines += _wrap(stmt, "    ")
    return ["\n".join(lines) + "\n"]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TARGETS = re.compile(r"^\(?([A-Za-z0-9_, ]+?),?\)? \+?= ")


def _chunked(fname: str, head, statements: list) -> list:
    """A long function cut into parts of `_CHUNK` statements, each its own function compiled on
    its own (CPython's compile() needs ~75 bytes of memory per source byte at once). Variables
    that cross a cut travel in a list, ``_V``, one slot each."""
    chunks = [statements[i : i + _CHUNK] for i in range(0, len(statements), _CHUNK)]
    defs, uses = [], []  # per chunk: names assigned, names read
    for chunk in chunks:
        d, u = set(), set()
        for stmt in chunk:
            code = stmt.split("  # ", 1)[0]
            if code.startswith("#"):
                continue
            target = _TARGETS.match(code)
            assigned = set(target.group(1).replace(" ", "").split(",")) - {""} if target else set()
            read = set(_IDENT.findall(code[target.end() :] if target else code))
            if target and "+=" in code[: target.end()]:
                read |= assigned
            u |= read - d  # read before this chunk assigns it
            d |= assigned
        defs.append(d)
        uses.append(u)
    slot: dict = {}
    parts, calls = [], []
    args = "_V, _inputs, _leaves, _grads"
    for k, chunk in enumerate(chunks):
        earlier = set().union(*defs[:k]) if k else set()
        later = set().union(*uses[k + 1 :]) if k + 1 < len(chunks) else set()
        live_in = sorted(uses[k] & earlier)
        live_out = sorted(defs[k] & later)
        for name in live_in + live_out:
            slot.setdefault(name, len(slot))
        lines = [f"def _{fname}_part{k + 1}({args}):"]
        if live_in:
            lines += _wrap(f"({', '.join(live_in)},) = ({', '.join(f'_V[{slot[n]}]' for n in live_in)},)", "    ")
        for stmt in chunk:
            lines += _wrap(stmt, "    ")
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
            lines += _wrap(stmt, indent)
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


# ---- the compiled function ----------------------------------------------------------------------
class _Entry:
    """A trace, the function written from it and that function's source."""

    __slots__ = ("fn", "source", "trace")

    def __init__(self, trace, fn, source):
        self.trace = trace
        self.fn = fn
        self.source = source


_MAX_KEYS = 16  # batch mode: distinct static keys (e.g. classes) before a batch runs eagerly


class Compiled:
    """A function compiled by `compile`; call it as you would ``value_and_grad(f, argnums)``.

    ``source``: the generated code of the trace used by the last call (None before the first).
    ``stats``: calls, traces made, and calls that ran eagerly (see `compile` for when).
    """

    def __init__(self, f, argnums, params, has_aux, static_argnums, batch, cache_size):
        if not callable(f):
            raise TypeError(f"compile() needs a function, got {type(f).__name__}")
        if batch not in _BATCH_MODES:
            raise ValueError(f"batch must be None, 'python' or 'numpy', got {batch!r}")
        if params is not None:
            if isinstance(params, Value) or not hasattr(params, "__iter__"):
                raise TypeError(
                    f"params must be an iterable of Values (e.g. model.parameters()), got {type(params).__name__}"
                )
            params = list(params)
            seen = {}
            for i, p in enumerate(params):
                if type(p) is not Value or p.parents:
                    raise TypeError(f"params[{i}] must be a leaf Value, got {p!r}")
                if p in seen:
                    raise ValueError(
                        f"params[{seen[p]}] and params[{i}] are the same Value: list each parameter once "
                        "(a tied parameter already gets the gradients of all its uses)"
                    )
                seen[p] = i
        if argnums is None:
            argnums = () if (params is not None or batch) else 0
        self._single = isinstance(argnums, int) and not isinstance(argnums, bool)
        nums = (argnums,) if self._single else tuple(argnums) if isinstance(argnums, (tuple, list)) else None
        if nums is None or not all(isinstance(i, int) and not isinstance(i, bool) for i in nums):
            raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
        if batch and (nums or params is None):
            raise ValueError("batch mode differentiates params only: pass params=... and no argnums")
        if not nums and params is None:
            raise ValueError("argnums=() differentiates nothing: pass params= (or an argnums)")
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in static_argnums):
            raise TypeError(f"static_argnums must be an int or a tuple of ints, got {static_argnums!r}")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"cache_size must be an int >= 1, got {cache_size!r}")
        if batch == "numpy":
            _numpy()  # fail now, in one line, if NumPy is missing
        self._f = f
        self._nums = nums
        self._params = params or []
        self._has_aux = has_aux
        self._static = tuple(static_argnums)
        self._batch = batch
        self._cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()  # argument structure -> [_Entry], most recent first
        self._batch_keys: dict = {}  # batch mode: static key -> body number
        self._batch_traces: list = []
        self._flatteners: OrderedDict = OrderedDict()  # batch mode: argument structure -> its flattener (LRU)
        self._env = _env_reader(f)
        self._batch_env = None
        self._lock = threading.RLock()  # one call at a time: traces, caches and .grad updates
        self._batch_fns: dict = {}  # backend -> (fn, source) or, for numpy, {body: (fn, source)}
        self._source = None
        self._fname = _identifier(getattr(f, "__name__", "f").replace("<lambda>", "f")) or "f"
        try:
            self._arg_names = [
                p.name
                for p in inspect.signature(f).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            self._arg_names = []
        self.stats = {"calls": 0, "traces": 0, "eager": 0}  # eager: calls that ran without compiled code
        self.__name__ = f"compile({getattr(f, '__name__', 'f')})"

    @property
    def source(self):
        return self._source

    @property
    def params(self) -> list:
        """The parameters whose gradients each call adds into ``.grad`` (a copy of the list given)."""
        return list(self._params)

    def __repr__(self) -> str:
        return f"<{self.__name__}: {self.stats['traces']} trace(s), {self.stats['calls']} call(s)>"

    def __call__(self, *args, **kwargs):
        with self._lock:
            return self._call(args, kwargs)

    def _call(self, args, kwargs):
        self.stats["calls"] += 1
        if self._batch:
            return self._call_batch(args, kwargs)
        nums = self._check_argnums(args)
        try:
            key, flat = self._describe(args, kwargs, nums)
        except _Eager:
            return self._eager(args, kwargs, nums)
        if engine._state.anomaly is not None:  # detect_anomaly(): eager, where every node is checked
            return self._eager(args, kwargs, nums)
        entries = self._cache.get(key)
        if entries:
            self._cache.move_to_end(key)
            for k, entry in enumerate(entries):
                try:
                    result = self._run(entry, flat)
                except _Stale:
                    continue
                except (ArithmeticError, ValueError):
                    return self._eager(args, kwargs, nums)
                if k:
                    entries.insert(0, entries.pop(k))
                self._source = entry.source
                return result
        entry = self._new_entry(args, kwargs, nums, key)
        if entry is None:
            return self._eager(args, kwargs, nums)
        try:
            result = self._run(entry, flat)
        except (_Stale, ArithmeticError, ValueError):
            return self._eager(args, kwargs, nums)
        self._remember(key, entry)
        self._source = entry.source
        return result

    # ---- arguments ----
    def _check_argnums(self, args) -> tuple:
        n = len(args)
        for i in (*self._nums, *self._static):
            if not -n <= i < n:
                raise ValueError(f"argnums {i} is out of range for {n} positional argument(s)")
        return tuple(i % n for i in self._nums)

    def _describe(self, args, kwargs, nums):
        """(the cache key: the arguments' structure and static values, the input numbers in order)."""
        flat: list = []
        static = {i % len(args) for i in self._static}
        desc = []
        batch = self._batch
        for i, a in enumerate(args):
            if i in nums:
                if type(a) is Value:
                    raise _Eager
                flat.append(_number(a, i))
                desc.append("f")
            elif batch and i not in static:
                desc.append(_shape(a, flat))  # an example's numbers: inputs of the batch code
            else:  # not differentiated: f gets it as the caller passed it, a new value traces again
                desc.append(("static", _key(a)))
        key = (tuple(desc), tuple(sorted((k, _key(v)) for k, v in kwargs.items())), self._env())
        return key, flat

    def _arg_name(self, i: int) -> str:
        return self._arg_names[i] if i < len(self._arg_names) else f"arg{i}"

    def _traced_args(self, args, desc):
        inputs, names = [], []

        def build(a, d, name):
            if d == "f":
                v = Value(float(a))
                inputs.append(v)
                names.append(name)
                return v
            if d[0] == "static":
                return a
            items = [build(x, dx, f"{name}_{j}") for j, (x, dx) in enumerate(zip(a, d[1]))]
            return items if d[0] == "list" else tuple(items)

        traced = [build(a, d, self._arg_name(i)) for i, (a, d) in enumerate(zip(args, desc))]
        return traced, inputs, names

    # ---- tracing ----
    def _trace(self, args, kwargs, desc, nums):
        traced, inputs, names = self._traced_args(args, desc)
        position = {}  # argument index -> its input's position (argnums are scalars)
        count = 0
        for i, d in enumerate(desc):
            if i in nums:
                position[i] = count
            count += _count_inputs(d)
        watch = _TraceObserver()
        with gc_paused(), _enable_grad(), observing(watch):  # a first call inside no_grad() still traces
            result = self._f(*traced, **kwargs)
        if watch.refused:  # f entered no_grad, or compared with a number we cannot write exactly
            return None
        out, aux = self._split_aux(result)
        aux_values, aux_shape = _flatten_aux(aux)
        self.stats["traces"] += 1
        trace = _Trace(
            out,
            inputs,
            names,
            [position[i] for i in nums],
            self._params,
            watch.guards,
            aux_values,
            aux_shape,
        )
        if any(v in watch.made for v in trace.leaves):
            return None  # a leaf made inside f (Value(x.data), copy.copy(x)) holds this call's number
        return trace

    def _split_aux(self, result):
        aux = None
        if self._has_aux:
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TypeError("compile(has_aux=True) needs f to return a pair (value, aux)")
            result, aux = result
        if type(result) is not Value:
            if isinstance(result, Value) or not _is_real(result):
                raise TypeError(
                    f"compile() needs f to return a scalar (a Value or a number), got {type(result).__name__}"
                )
            result = constant(result)
        return result, aux

    def _new_entry(self, args, kwargs, nums, key):
        trace = self._trace(args, kwargs, key[0], nums)
        if trace is None:
            return None
        parts, globals_ = _write_single(trace, self._fname)
        return _Entry(trace, _build(parts, globals_, self._fname), "\n".join(parts))

    def _remember(self, key, entry) -> None:
        self._cache.setdefault(key, []).insert(0, entry)
        self._cache.move_to_end(key)
        while sum(len(e) for e in self._cache.values()) > self._cache_size:
            oldest = next(iter(self._cache))
            self._cache[oldest].pop()
            if not self._cache[oldest]:
                del self._cache[oldest]

    # ---- running ----
    def _run(self, entry, flat):
        t = entry.trace
        params = self._params
        value, aux, input_grads, param_grads = entry.fn(flat, [v.data for v in t.leaves], [p.grad for p in params])
        for p, g in zip(params, param_grads):
            p.grad = g
        grads = input_grads[0] if self._single else tuple(input_grads)
        if self._has_aux:
            return (value, _rebuild_aux(t.aux_shape, list(aux))), grads
        return value, grads

    def _eager(self, args, kwargs, nums):
        """The same call without compiled code: `value_and_grad`'s way, with params and aux."""
        self.stats["eager"] += 1
        args = list(args)
        as_values = any(type(args[i]) is Value for i in nums)
        wrt = []
        for i in nums:
            a = args[i]
            args[i] = ops.identity(a) if type(a) is Value else Value(a)
            wrt.append(args[i])
        with _enable_grad():
            out, aux = self._split_aux(self._f(*args, **kwargs))
        with gc_paused():
            grads = gradients(out, wrt + self._params, as_values=as_values)
        for p, g in zip(self._params, grads[len(wrt) :]):
            p.grad += g.data if type(g) is Value else g
        grads = grads[: len(wrt)]
        value = out if as_values else out.data
        grads = grads[0] if self._single else tuple(grads)
        if self._has_aux:
            return (value, _aux_floats(aux)), grads
        return value, grads

    # ---- batches ----
    def _call_batch(self, args, kwargs):
        if not args:
            raise ValueError("a batch call needs at least one argument (a sequence with one entry per example)")
        m = None
        for i, a in enumerate(args):
            if isinstance(a, (str, bytes)) or not hasattr(a, "__len__"):
                raise TypeError(
                    f"batch argument {i} must be a sequence with one entry per example, got {type(a).__name__}"
                )
            if m is None:
                m = len(a)
            elif len(a) != m:
                raise ValueError(f"batch arguments have different lengths: {m} and {len(a)} examples")
        if m == 0:
            raise ValueError("a batch call needs at least one example")
        examples = list(zip(*args))
        if engine._state.anomaly is not None:  # detect_anomaly(): eager, where every node is checked
            return self._eager_batch(examples, kwargs)
        env = self._env()
        if env != self._batch_env:  # a global or closure number f reads has changed: trace again
            self._batch_env = env
            self._batch_keys.clear()
            self._batch_traces.clear()
            self._batch_fns.clear()
            self._flatteners.clear()
        try:
            rows = self._describe_batch(examples, kwargs)
        except _Eager:
            return self._eager_batch(examples, kwargs)
        for k, (key, _) in enumerate(rows):
            if key not in self._batch_keys:
                if len(self._batch_keys) >= _MAX_KEYS:
                    return self._eager_batch(examples, kwargs)
                trace = self._trace(examples[k], kwargs, key[0], ())
                if trace is None:
                    return self._eager_batch(examples, kwargs)
                self._batch_keys[key] = len(self._batch_traces)
                self._batch_traces.append(trace)
                self._batch_fns.clear()
        keyed = [(self._batch_keys[key], flat) for key, flat in rows]
        if self._batch == "numpy":
            try:
                return self._run_numpy(keyed, m)
            except Exception:  # noqa: BLE001 - a guard, or a rule that does not vectorise: run the loop
                self.stats["numpy_fallbacks"] = self.stats.get("numpy_fallbacks", 0) + 1
        try:
            return self._run_loop(keyed, m)
        except (_Stale, ArithmeticError, ValueError):
            return self._eager_batch(examples, kwargs)

    def _describe_batch(self, examples, kwargs) -> list:
        """(key, numbers) of each example; examples shaped like the one before take a fast path."""
        rows = []
        key = flatten = None
        for ex in examples:
            flat = flatten(ex) if flatten is not None else None
            if flat is None:
                key, flat = self._describe(ex, kwargs, ())
                flatten = self._flatteners.get(key)
                if flatten is None:
                    flatten = self._flatteners[key] = _flattener(key[0])
                    while len(self._flatteners) > 4 * _MAX_KEYS:
                        self._flatteners.popitem(last=False)
                else:
                    self._flatteners.move_to_end(key)
            rows.append((key, flat))
        return rows

    def _run_loop(self, keyed, m):
        if "python" not in self._batch_fns:
            source, globals_ = _write_batch(self._batch_traces, self._params, "python", self._fname)
            self._batch_fns["python"] = (_build([source], globals_, self._fname), source)
        fn, source = self._batch_fns["python"]
        leaves = self._leaves_of_batch()
        params = self._params
        values, aux, grads = fn(keyed[::-1], [v.data for v in leaves], [p.grad for p in params], 1.0 / m)
        for p, g in zip(params, grads):
            p.grad = g
        self._source = source
        return self._batch_result(values[::-1], aux[::-1], [body for body, _ in keyed], m)

    def _run_numpy(self, keyed, m):
        np = _numpy()
        groups: dict = {}
        for k in reversed(range(m)):  # last example first, the order backward() adds them in
            body, flat = keyed[k]
            groups.setdefault(body, ([], []))
            groups[body][0].append(k)
            groups[body][1].append(flat)
        total_value, totals = 0.0, [0.0] * len(self._params)
        aux_rows = [None] * m
        with np.errstate(all="ignore"):
            for body, (indices, flats) in groups.items():
                if body not in self._batch_fns:
                    source, globals_ = _write_batch([self._batch_traces[body]], self._params, "numpy", self._fname)
                    self._batch_fns[body] = (
                        _build([source], globals_, self._fname),
                        source,
                    )
                fn, source = self._batch_fns[body]
                n = len(indices)
                data = [v.data for v in _batch_leaves([self._batch_traces[body]])]  # this body's own order
                columns = list(np.array(flats, dtype=float).T) if flats[0] else []
                values, aux, grads = fn((0, columns, n), data, [0.0] * len(self._params), 1.0 / m)
                total_value += _batch_sum(np, values[0], n)
                totals = [t + g for t, g in zip(totals, grads)]
                for j, k in enumerate(indices):
                    aux_rows[k] = tuple(float(a[j]) if isinstance(a, np.ndarray) else float(a) for a in aux[0])
                self._source = source
        for p, g in zip(self._params, totals):
            p.grad += g
        return self._batch_result([total_value], aux_rows, [body for body, _ in keyed], m)

    def _leaves_of_batch(self) -> list:
        if "leaves" not in self._batch_fns:
            self._batch_fns["leaves"] = _batch_leaves(self._batch_traces)
        return self._batch_fns["leaves"]

    def _batch_result(self, values, aux, bodies, m):
        """The mean of the examples' values (and each example's aux, rebuilt in its trace's shape)."""
        value = ops.total(values) / m
        if self._has_aux:
            shapes = [self._batch_traces[body].aux_shape for body in bodies]
            return (value, [_rebuild_aux(s, list(a)) for s, a in zip(shapes, aux)]), ()
        return value, ()

    def _eager_batch(self, examples, kwargs):
        """The batch without compiled code: each example's graph, gradients scaled by 1/m (counted in stats["eager"])."""
        self.stats["eager"] += 1
        m = len(examples)
        values, aux_rows = [None] * m, [None] * m
        for k in reversed(range(m)):
            with _enable_grad():  # the example as the caller passed it: labels stay ints, targets numbers
                out, aux = self._split_aux(self._f(*examples[k], **kwargs))
            with gc_paused():
                grads = gradients(out, self._params)
            for p, g in zip(self._params, grads):
                p.grad += g * (1.0 / m)
            values[k] = out.data
            aux_rows[k] = _aux_floats(aux)
        value = ops.total(values) / m
        return ((value, aux_rows), ()) if self._has_aux else (value, ())


# ---- helpers -------------------------------------------------------------------------------------
def _numpy():
    try:
        import numpy
    except ImportError:
        raise ImportError(
            "compile(batch='numpy') needs NumPy: pip install 'chainrule[notebooks]' (or '[dev]')"
        ) from None
    return numpy


def _batch_sum(np, x, n):
    return float(np.cumsum(x)[-1]) if isinstance(x, np.ndarray) else x * n


def _batch_leaves(traces) -> list:
    """Every trace's outside leaves, each once, in first-seen order (the order `_write_batch` unpacks)."""
    return list({v: None for t in traces for v in t.leaves})


def _is_real(x) -> bool:
    import numbers

    return isinstance(x, numbers.Real)


def _number(a, i) -> float:
    if isinstance(a, bool) or not _is_real(a):
        raise TypeError(f"compile(): argument {i} is differentiated, so it must be a number, got {type(a).__name__}")
    return float(a)


def _shape(a, flat: list):
    """The structure of an argument, its numbers appended to ``flat``: "f" for a number (an
    input of the compiled code), a list/tuple of shapes, or ("static", a) for anything else."""
    if type(a) is float:
        flat.append(a)
        return "f"
    if type(a) is Value:
        raise _Eager
    if isinstance(a, (list, tuple)):
        return (
            "list" if isinstance(a, list) else "tuple",
            tuple(_shape(x, flat) for x in a),
        )
    if _is_real(a) and not isinstance(a, bool):
        flat.append(float(a))
        return "f"
    return ("static", _key(a))


def _flattener(desc):
    """A function that flattens an example of this structure to its numbers, or returns None
    when the example is shaped otherwise (then `_describe` looks at it). Written as code, from
    our own description of the structure, for speed: batches call it once per example."""
    lines, checks, outs, statics = [], [], [], []
    counter = [0]

    def walk(d, expr):
        if d == "f":
            checks.append(f"type({expr}) is float")
            outs.append(expr)
            return
        if d[0] == "static":
            statics.append(d[1])
            checks.append(f"_key({expr}) == _static[{len(statics) - 1}]")
            return
        names = []
        for _ in d[1]:
            counter[0] += 1
            names.append(f"a{counter[0]}")
        checks.append(f"type({expr}) is {d[0]}")
        lines.append(f"    if type({expr}) is not {d[0]} or len({expr}) != {len(names)}: return None")
        if names:
            lines.append(f"    ({', '.join(names)},) = {expr}")
        for child, name in zip(d[1], names):
            walk(child, name)

    walk(("tuple", desc), "ex")
    body = "\n".join(lines)
    test = " and ".join(checks[1:]) or "True"
    source = f"def flatten(ex):\n{body}\n    return ({', '.join(outs)}{',' if outs else ''}) if {test} else None\n"
    namespace = {"_static": statics, "_key": _key}
    exec(builtins.compile(source, "<autograd.compile flattener>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["flatten"]


def _key(a):
    """A cache key for an argument that is exact: floats by their bits (0.0 and -0.0 differ, a nan
    matches itself), ints by value and type (1, 1.0 and True differ), lists and tuples item by item."""
    t = type(a)
    if t is float:
        return (t, struct.pack("<d", a))
    if t is int or t is bool or t is str or a is None:
        return (t, a)
    if t is list or t is tuple:
        return (t, tuple(_key(x) for x in a))
    if t is Value:
        raise _Eager
    if isinstance(a, float):
        return (t, struct.pack("<d", a))
    try:
        hash(a)
    except TypeError:
        raise _Eager from None
    return (t, a)


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


def _count_inputs(d) -> int:
    if d == "f":
        return 1
    if d[0] == "static":
        return 0
    return sum(_count_inputs(x) for x in d[1])


def _flatten_aux(aux):
    """The Values and numbers of an aux output, and its shape to rebuild it from floats."""
    values: list = []

    def shape(a):
        if type(a) is Value:
            values.append(a)
            return "v"
        if isinstance(a, (list, tuple)):
            return (
                "list" if isinstance(a, list) else "tuple",
                tuple(shape(x) for x in a),
            )
        if _is_real(a):
            v = constant(a)
            values.append(v)
            return "v"
        raise TypeError(
            f"compile(has_aux=True): aux must hold Values and numbers (in lists/tuples), got {type(a).__name__}"
        )

    return values, shape(aux) if aux is not None else None


def _rebuild_aux(shape, floats: list):
    if shape is None:
        return None
    it = iter(floats)

    def build(s):
        if s == "v":
            return next(it)
        items = [build(x) for x in s[1]]
        return items if s[0] == "list" else tuple(items)

    return build(shape)


def _aux_floats(aux):
    if type(aux) is Value:
        return aux.data
    if isinstance(aux, (list, tuple)):
        items = [_aux_floats(a) for a in aux]
        return items if isinstance(aux, list) else tuple(items)
    return None if aux is None else float(aux)
