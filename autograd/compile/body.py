"""The statements of one trace: forward (one line per node), guards, and backward (the chain rule
unrolled, each partial from the op's own rule), for floats ("python") or arrays over a batch ("numpy")."""

from __future__ import annotations

import re

from .ir import Partials, Stmt, Term, Var, program
from .names import _OP_WORDS, _bind, _Names, _node_base
from .symbols import _float_text, _literal, _template
from .trace import _Trace


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
        self.prog = program(trace)  # the equations and guards every section below is written from
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
        return _bind(self.globals, obj, base)

    def temp(self) -> str:
        self._temp += 1
        return f"_d{self._temp}"

    def array_rules(self, prim):
        if self.backend != "numpy" or prim.on_arrays is None:
            return None, None
        return _array_rules(prim, self.globals["_np"])

    def node(self, atom):
        return self.prog.nodes[atom.n]

    def operand(self, atom) -> str:
        """The text of an equation's input: its variable's name, or the literal's number."""
        return self.refs[self.node(atom)] if type(atom) is Var else _float_text(atom.value)

    def forward(self) -> None:
        """A statement per equation of the trace's program, in order."""
        refs = self.refs
        for node in self.t.forward_order:  # constants (an aux or output f returned as a number): their literal
            if not node.parents and node not in refs:
                refs[node] = _float_text(node.data)
        for eq in self.prog.eqns:
            node, prim = self.node(eq.out), eq.prim
            if node in refs:
                continue
            args = [self.operand(a) for a in eq.inputs]
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
            self.lines.append(Stmt(f"{name} = {expr}  # {prim.name}", (name,), _names(args)))

    def guards(self) -> None:
        """A check per guard of the program: the outcome the trace saw, or `_Stale` (trace again)."""
        np_mode = self.backend == "numpy"
        if self.prog.guards:
            self.lines.append(Stmt("# guards: the branches the trace took, checked before any gradient"))
        for guard in self.prog.guards:
            a, op, result = self.operand(guard.var), guard.op, guard.expected
            if op == "float":  # detach() read the number: the same bits (sign of zero, nan) or trace again
                test = f"{'_differs_np' if np_mode else '_differs'}({a}, {_float_text(result)})"
                self.lines.append(
                    Stmt(f"if {'_any(' + test + ')' if np_mode else test}: raise _Stale  # read {result!r}", (), (a,))
                )
                continue
            other = guard.other
            b = self.operand(other) if type(other) is Var else _literal(other.value)
            test = f"{a} {op} {b}"
            if np_mode:
                check = f"not _all({test})" if result else f"_any({test})"
            else:
                check = f"not ({test})" if result else test
            self.lines.append(Stmt(f"if {check}: raise _Stale  # the trace had {test} {result}", (), _names([a, b])))

    def backward(self, targets: dict) -> dict:
        """The chain rule: the backward equations (`grad_equations`), then a statement for each."""
        equations, grad = self.grad_equations(targets)
        self.lines.append(Stmt("# backward: the chain rule, from the output back, last node first"))
        partials: dict = {}  # forward equation -> the texts of its partials
        for be in equations:
            if type(be) is Partials:
                partials[id(be.eqn)] = self._partials(be)  # by identity: hashing an equation hashes all its inputs
            else:
                self.lines += self._term(be, partials)
        return grad

    def grad_equations(self, targets: dict) -> tuple:
        """The backward program as data: for each equation the output depends on, last first, its
        `Partials` (from its op's rule) and a `Term` per input a target depends on. ``targets``
        maps each node whose gradient is wanted to "fresh" (a variable of its own) or the name of
        an accumulator to add into. Returns (equations, node -> the name of its gradient, None
        meaning exactly 1.0)."""
        refs, prog = self.refs, self.prog
        out = self.node(prog.out) if type(prog.out) is Var else None
        needed = set() if out is None else {prog.out}  # the equations the output depends on, last first
        eqns = []
        for eq in reversed(prog.eqns):
            if eq.out in needed:
                eqns.append(eq)
                needed.update(a for a in eq.inputs if type(a) is Var)
        eqns.reverse()
        leads = {self.node(v) for v in needed if self.node(v) in targets}
        for eq in eqns:  # in order: an equation leads to a target if an input does
            if any(type(a) is Var and self.node(a) in leads for a in eq.inputs):
                leads.add(self.node(eq.out))
        fan_in: dict = {}
        for eq in eqns:
            if self.node(eq.out) in leads or self.node(eq.out) is out:
                for a in eq.inputs:
                    if type(a) is Var and self.node(a) in leads:
                        fan_in[self.node(a)] = fan_in.get(self.node(a), 0) + 1
        grad = {out: self.seed}
        equations: list = []
        if out is not None and out in targets and targets[out] != "fresh":
            equations.append(Term(targets[out], "running", self.seed, None, 0))
        for eq in reversed(eqns):
            node = self.node(eq.out)
            if node not in grad:
                continue
            g = grad[node]
            parents = [self.node(a) if type(a) is Var else None for a in eq.inputs]
            wanted = [i for i, p in enumerate(parents) if p is not None and p in leads]
            if not wanted:
                continue
            forms = self._partial_forms(eq)
            called = forms[0][0] in ("call", "call1")
            partials = Partials(self.temp() if called else "", eq)
            equations.append(partials)
            for i in wanted:
                p = parents[i]
                kind = targets.get(p, "fresh")
                form, text = forms[i]
                if called:
                    form, text = ("name", partials.out) if form == "call1" else ("expr", None)
                if kind != "fresh":  # a parameter: add into its running sum
                    equations.append(Term(kind, "running", g, eq, i))
                    grad.setdefault(p, kind)
                elif p in grad:
                    equations.append(Term(grad[p], "add", g, eq, i))
                elif (
                    fan_in[p] == 1
                    and p not in targets
                    and (
                        (form == "one" and (g is None or _is_name(g)))
                        or (form == "name" and g is None and not eq.prim.masks)
                    )
                ):
                    grad[p] = g if form == "one" else text  # its only term is a name already written: no statement
                else:
                    name = self.names.fresh(f"g_{refs[p]}" if _is_name(refs[p]) else "g")
                    equations.append(Term(name, "new", g, eq, i))
                    grad[p] = name
        return equations, grad

    def _partial_forms(self, eq) -> list:
        """For each input, how its partial reads: ("one", "1.0"), ("name", the name), ("expr", None),
        or ("call"/"call1", None) when the op's rule is called at run time (one or several outputs)."""
        prim = eq.prim
        args = [self.operand(a) for a in eq.inputs]
        templates = self._templates(eq, len(args))
        if templates is None:
            one = len(args) == 1 and prim.arity == 1
            return [("call1" if one else "call", None)] * len(args)
        ans = self.refs[self.node(eq.out)]
        forms = []
        for tp in templates:
            text = tp.render(ans, args)
            forms.append(("one", text) if text == "1.0" else ("name", text) if _is_name(text) else ("expr", None))
        return forms

    def _templates(self, eq, n: int):
        _, array_derivative = self.array_rules(eq.prim)
        templates = None if array_derivative is not None else _template(eq.prim, n, "derivative")
        if templates is None or (self.backend == "numpy" and any(tp.branchy for tp in templates)):
            return None
        return templates

    def _term(self, t: Term, partials: dict) -> list:
        """The statement(s) of one chain-rule term."""
        g = t.grad
        if t.eqn is None:  # the seed into the output's own accumulator
            return [self.add_into(t.target, g or "1.0", "", _names([g]), running_sum=True)]
        text, atomic, reads = partials[id(t.eqn)][t.index]
        lines = []
        if text == "1.0":
            c, reads = g or "1.0", _names([g])
        elif t.eqn.prim.masks:  # a partial of exactly 0 passes nothing, as in the one chain-rule loop
            d = self.temp()
            lines.append(Stmt(f"{d} = {text}  # {t.eqn.prim.name}'s partial; 0 cuts the branch off", (d,), reads))
            term = d if g is None else f"{g} * {d}"
            if self.backend == "numpy":
                c = f"_np.where({d} != 0.0, {term}, 0.0)"
            else:
                c = f"({term} if {d} != 0.0 else 0.0)"
            reads = _names([d, g])
        elif g is None:
            c = text
        else:
            c = f"{g} * {text if atomic else '(' + text + ')'}"
            reads = (*reads, *_names([g]))
        why = f"  # via {self.refs[self.node(t.eqn.out)]} ({t.eqn.prim.name})"
        if t.mode == "running":
            lines.append(self.add_into(t.target, c, why, reads, running_sum=True))
        elif t.mode == "add":
            lines.append(self.add_into(t.target, c, why, reads))
        else:
            lines.append(Stmt(f"{t.target} = {c}{why}", (t.target,), reads))
        return lines

    def add_into(self, name: str, c: str, why: str, reads: tuple, running_sum: bool = False) -> Stmt:
        if self.backend != "numpy":
            return Stmt(f"{name} += {c}{why}", (name,), (name, *reads))
        # NumPy: a parameter's running sum starts at 0.0 and is summed over the batch afterwards,
        # so its first term is the sum so far; and an array may be shared by two names (g_a = b),
        # so nothing is added in place
        if running_sum and name not in self._started:
            self._started.add(name)
            return Stmt(f"{name} = {c}{why}", (name,), reads)
        return Stmt(f"{name} = {name} + {c}{why}", (name,), (name, *reads))

    def _partials(self, p: Partials) -> list:
        """(text, atomic, names read) of ∂out/∂inputᵢ for each input of an equation, from its op's own
        rule: expressions read off on symbols, or a call of the rule assigned to ``p.out``."""
        eq = p.eqn
        prim = eq.prim
        args = [self.operand(a) for a in eq.inputs]
        ans = self.refs[self.node(eq.out)]
        templates = self._templates(eq, len(args))
        if templates is not None:
            return [(tp.render(ans, args), tp.atomic, _names(tp.holes(ans, args))) for tp in templates]
        _, array_derivative = self.array_rules(prim)
        rule = array_derivative or prim.derivative
        d = p.out
        label = ("a_d_" if array_derivative else "d_") + _OP_WORDS.get(prim.name, prim.name)
        call = f"{d} = {self.bind(rule, label)}({', '.join([ans, *args])})  # {prim.name}'s rule"
        self.lines.append(Stmt(call, (d,), _names([ans, *args])))
        if len(args) == 1 and prim.arity == 1:
            return [(d, True, (d,))]
        return [(f"{d}[{i}]", True, (d,)) for i in range(len(args))]


_NAME = re.compile(r"[A-Za-z_]\w*\Z")


def _names(texts) -> tuple:
    """The operands among ``texts`` that are variables (not literals such as 1.0 or inf, not None)."""
    return tuple(t for t in texts if _is_name(t))


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
