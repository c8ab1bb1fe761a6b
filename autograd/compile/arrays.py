"""A lifted program written out for NumPy over a batch: each layer one matrix product, each
elementwise group one array op, with examples along the columns (the closed forms' layout):

    Z1 = W1 @ A0 + b1        dW1 = dZ1 @ A0.T     db1 = dZ1.sum(axis=1)     dA0 = W1.T @ dZ1

The backward pass is the chain rule over the units in reverse: a layer's rule is the three
products above, an elementwise group's partials come from its op's own rule in ops.py (its array
form, or its arithmetic read off on symbols), applied to the whole array. Parameters are read
from one flat array ``_L`` and their gradients summed over the batch into ``_G``, same order.
"""

from __future__ import annotations

from .body import _is_name
from .emit import _base_globals
from .ir import Eqn, Lit, Program, Var
from .lift import Layer, Map, _array_rules
from .names import _OP_WORDS, _RESERVED, _bind, _Names, _node_base
from .symbols import _float_text, _literal, _template


def _rows_fn(np):
    def rows(n, *xs):
        """Rows stacked into a (len(xs), n) array; a number fills its whole row."""
        out = np.empty((len(xs), n))
        for i, x in enumerate(xs):
            out[i] = x
        return out

    return rows


def _bsum_fn(np):
    def bsum(x, n):
        """Σ over the batch: an array sums, a number counts once per example."""
        return float(np.sum(x)) if isinstance(x, np.ndarray) else x * n

    return bsum


class _Writer:
    def __init__(self, prog: Program, lifted, params: list, np, input_names=()):
        self.input_names = list(input_names)  # the arguments' names, for the inputs the code reads by name
        self.prog = prog
        self.order, self.groups, self.row_of, self.batched = lifted
        self.np = np
        self.globals = _base_globals(np)
        self.globals.update({"_stack_rows": _rows_fn(np), "_bsum": _bsum_fn(np)})
        self.names = _Names({*_RESERVED, "W", "b"})
        self.lines: list = []
        self.ref: dict = {}  # Var -> the text of its per-example value
        self.gname: dict = {}  # group number -> its array's name
        self.leaf_index = {v: j for j, v in enumerate(prog.leaves)}
        node_index = {id(prog.nodes[v.n]): v for v in prog.leaves}
        self.targets = {node_index[id(p)] for p in params if id(p) in node_index}
        self.level: dict = {}
        self.layer_count = 0
        self.inputs = {v: i for i, v in enumerate(prog.inputs)}
        self.stacked: dict = {}  # name -> the Vars stacked as its rows
        self.layer_info: dict = {}
        self._temps = 0

    # ---- helpers ----
    def bind(self, obj, base: str) -> str:
        return _bind(self.globals, obj, base)

    def temp(self, base: str) -> str:
        self._temps += 1
        return f"{base}{self._temps}"

    def emit(self, text: str) -> None:
        self.lines.append(text)

    def val(self, a) -> str:
        """The text of an atom's value: a literal, or a variable (a row of a group taken out,
        an input's row of ``_X`` or a parameter read from ``_L`` on first use)."""
        if type(a) is Lit:
            return _float_text(a.value)
        if a in self.ref:
            return self.ref[a]
        base = self.input_names[self.inputs[a]] if a in self.inputs and self.input_names else None
        name = self.names.fresh(base or _node_base(self.prog.nodes[a.n]))
        if a in self.row_of:
            g, i = self.row_of[a]
            self.emit(f"{name} = {self.gname[g]}[{i}]")
        elif a in self.inputs:
            self.emit(f"{name} = _X[{self.inputs[a]}]")
        else:
            self.emit(f"{name} = _L[{self.leaf_index[a]}]")
        self.ref[a] = name
        return name

    def matrix_of(self, xs) -> str:
        """The (len(xs), batch) array whose rows are xs: a group or the inputs as they are, else stacked."""
        for g, name in self.gname.items():
            if self.groups[g].members == xs:
                return name
        name = self.names.fresh(f"A{self.layer_count}")
        inputs = self.prog.inputs
        start = self.inputs.get(xs[0])
        if start is not None and tuple(inputs[start : start + len(xs)]) == xs:  # inputs side by side: a view
            whole = start == 0 and len(xs) == len(inputs)
            self.emit(f"{name} = _X" + ("" if whole else f"[{start}:{start + len(xs)}]") + "  # the inputs")
        else:
            self.emit(f"{name} = _stack_rows(_n, {', '.join(self.val(x) for x in xs)})")
        self.stacked[name] = xs
        return name

    # ---- forward ----
    def forward(self) -> None:
        np = self.np
        for unit in self.order:
            if type(unit) is Layer:
                a = self.matrix_of(unit.xs)
                self.layer_count += 1
                lv = self.layer_count
                w = self.names.fresh(f"W{lv}")
                idx = np.array([[self.leaf_index[v] for v in ws] for ws in unit.weights], dtype=np.intp)
                self.emit(f"{w} = {self.take('_L', idx, f'iW{lv}')}  # {idx.shape[0]} x {idx.shape[1]}")
                expr = f"{w} @ {a}"
                b = None
                if unit.bias is not None:
                    b = self.names.fresh(f"b{lv}")
                    bidx = np.array([self.leaf_index[v] for v in unit.bias], dtype=np.intp)
                    self.emit(f"{b} = {self.take('_L', bidx, f'ib{lv}')}[:, None]")
                    expr += f" + {b}"
                z = self.names.fresh(f"Z{lv}")
                g = self.group_number(unit)
                self.gname[g] = z
                self.level[g] = lv
                self.layer_info[g] = (w, b, a, idx, None if b is None else bidx)
                self.emit(f"{z} = {expr}  # layer {lv}: {len(unit.members)} dots sharing one input vector")
            elif type(unit) is Map:
                g = self.group_number(unit)
                first = next(x for kind, x in unit.inputs if kind == "G")
                self.level[g] = self.level[first]
                args = [self.group_arg(kind, x) for kind, x in unit.inputs]
                name = self.names.fresh(f"A{self.level[g]}")
                self.gname[g] = name
                self.emit(f"{name} = {self.apply(unit.prim, args)}  # {unit.prim.name}, elementwise")
            else:
                name = self.names.fresh(_node_base(self.prog.nodes[unit.out.n]))
                if self.called(unit.prim, len(unit.inputs)):  # a call: a whole group passes as its rows
                    args = self.call_args(unit.inputs)
                else:
                    args = [self.val(a) for a in unit.inputs]
                self.ref[unit.out] = name
                self.emit(f"{name} = {self.apply(unit.prim, args)}  # {unit.prim.name}")

    def called(self, prim, n: int) -> bool:
        """Whether `apply` writes the op's forward as a call (its array form, or its rule itself)
        rather than an expression: then a whole group can pass as ``*G``."""
        if prim.on_arrays is not None and _array_rules(prim)[0] is not None:
            return True
        if prim.inline is not None:
            return False
        tp = _template(prim, n, "forward")
        return tp is None or tp.branchy

    def runs(self, inputs) -> list:
        """The inputs as items: ("G", g, start) for a run that is every row of group g in order,
        else ("a", atom, position)."""
        items, i = [], 0
        while i < len(inputs):
            a = inputs[i]
            if type(a) is Var and a in self.row_of and self.row_of[a][1] == 0:
                g = self.row_of[a][0]
                members = self.groups[g].members
                if tuple(inputs[i : i + len(members)]) == members and len(members) > 1:
                    items.append(("G", g, i))
                    i += len(members)
                    continue
            items.append(("a", a, i))
            i += 1
        return items

    def call_args(self, inputs) -> list:
        return [f"*{self.gname[x]}" if kind == "G" else self.val(x) for kind, x, _ in self.runs(inputs)]

    def group_number(self, unit) -> int:
        return self.row_of[unit.members[0]][0]

    def group_arg(self, kind, x) -> str:
        if kind == "G":
            return self.gname[x]
        if kind == "S":
            return self.val(x)
        return _float_text(x)

    def apply(self, prim, args) -> str:
        forward = _array_rules(prim)[0] if prim.on_arrays is not None else None
        if forward is not None:
            return f"{self.bind(forward, 'a_' + _OP_WORDS.get(prim.name, prim.name))}({', '.join(args)})"
        if prim.inline is not None:
            return prim.inline(*args)
        tp = _template(prim, len(args), "forward")
        if tp is not None and not tp.branchy:
            return tp.render("", args)
        return f"{self.bind(prim.forward, 'f_' + _OP_WORDS.get(prim.name, prim.name))}({', '.join(args)})"

    def guards(self) -> None:
        if self.prog.guards:
            self.emit("# guards: the branches the trace took, checked before any gradient")
        for guard in self.prog.guards:
            a = self.val(guard.var)
            if guard.op == "float":
                self.emit(f"if _any(_differs_np({a}, {_float_text(guard.expected)})): raise _Stale")
                continue
            other = guard.other
            b = self.val(other) if type(other) is Var else _literal(other.value)
            test = f"{a} {guard.op} {b}"
            check = f"not _all({test})" if guard.expected else f"_any({test})"
            self.emit(f"if {check}: raise _Stale  # the trace had {test} {guard.expected}")

    # ---- backward ----
    def partials(self, prim, ans: str, args: list) -> list:
        """The texts of ∂ans/∂argᵢ, from the op's array rule or its arithmetic on symbols."""
        derivative = _array_rules(prim)[1] if prim.on_arrays is not None else None
        if derivative is None:
            tps = _template(prim, len(args), "derivative")
            if tps is not None and not any(tp.branchy for tp in tps):
                return [tp.render(ans, args) if tp.atomic else f"({tp.render(ans, args)})" for tp in tps]
        rule = derivative or prim.derivative
        d = self.temp("_d")
        label = ("a_d_" if derivative else "d_") + _OP_WORDS.get(prim.name, prim.name)
        self.emit(f"{d} = {self.bind(rule, label)}({', '.join([ans, *args])})  # {prim.name}'s rule")
        if len(args) == 1 and prim.arity == 1:
            return [d]
        return [f"{d}[{i}]" for i in range(len(args))]

    def contribution(self, prim, g: str, d: str) -> str:
        if d == "1.0":
            return g
        if prim.masks:  # a partial of exactly 0 passes nothing (0 * inf would be nan)
            t = d
            if not _is_name(d):
                t = self.temp("_m")
                self.emit(f"{t} = {d}")
            return f"_np.where({t} != 0.0, {g} * {t}, 0.0)"
        return f"{g} * {d}"

    def backward(self) -> None:
        prog = self.prog
        leads = set(self.targets)
        for e in prog.eqns:
            if any(type(a) is Var and a in leads for a in e.inputs):
                leads.add(e.out)
        self.leads = leads
        self.contribs: dict = {}
        self.emit("# backward: the chain rule over the units, last first; gradients summed over the batch")
        self.emit("_G = _np.zeros(len(_L))")
        if type(prog.out) is Var and prog.out in leads:
            self.give(prog.out, "_seed", True)  # each example's value weighs 1/m in the batch's mean
        for unit in reversed(self.order):
            if type(unit) is Eqn:
                self.back_eqn(unit)
            elif type(unit) is Map:
                self.back_map(unit)
            else:
                self.back_layer(unit)

    def give(self, target, text: str, from_batched: bool, whole_rows: bool = False) -> None:
        """Add a contribution to ``target``'s gradient (a Var, or ("G", g) for a whole group)."""
        if type(target) is tuple:
            self.contribs.setdefault(target, []).append(("whole", text))
            return
        if whole_rows:  # a (rows, batch) array for one variable: its rows add up
            if target in self.targets or target not in self.batched:
                text, from_batched = f"_np.sum({text})", False
            else:
                text = f"({text}).sum(axis=0)"
        if target in self.targets:
            self.emit(f"_G[{self.leaf_index[target]}] += {f'_bsum({text}, _n)' if from_batched else text}")
            return
        if target in self.row_of:
            g, i = self.row_of[target]
            self.contribs.setdefault(("G", g), []).append(("row", i, text))
            return
        if from_batched and target not in self.batched:
            text = f"_bsum({text}, _n)"
        self.contribs.setdefault(target, []).append(text)

    def grad_of(self, v) -> str | None:
        cs = self.contribs.pop(v, None)
        if not cs:
            return None
        if len(cs) == 1 and _is_name(cs[0]):
            return cs[0]
        name = self.names.fresh(f"g_{self.ref.get(v, 'v')}")
        self.emit(f"{name} = {' + '.join(cs)}")
        return name

    def grad_of_group(self, g: int) -> str | None:
        cs = self.contribs.pop(("G", g), None)
        if not cs:
            return None
        whole = [c[1] for c in cs if c[0] == "whole"]
        rows: dict = {}
        for c in cs:
            if c[0] == "row":
                rows.setdefault(c[1], []).append(c[2])
        if not rows and len(whole) == 1 and _is_name(whole[0]):
            return whole[0]
        terms = list(whole)
        if rows:
            k = len(self.groups[g].members)
            parts = [" + ".join(rows[i]) if i in rows else "0.0" for i in range(k)]
            terms.append(f"_stack_rows(_n, {', '.join(parts)})")
        name = "d" + self.gname[g]
        name = self.names.fresh(name)
        self.emit(f"{name} = {' + '.join(terms)}")
        return name

    def back_eqn(self, e: Eqn) -> None:
        g = self.grad_of(e.out)
        if g is None:
            return
        batched = e.out in self.batched
        derivative = _array_rules(e.prim)[1] if e.prim.on_arrays is not None else None
        if derivative is not None and not e.prim.masks and len(e.inputs) > 1:
            # the rule is called: a group passed whole gets its partials back as one array
            d = self.temp("_d")
            args = self.call_args(e.inputs)
            rule = self.bind(derivative, "a_d_" + _OP_WORDS.get(e.prim.name, e.prim.name))
            self.emit(f"{d} = {rule}({', '.join([self.ref[e.out], *args])})  # {e.prim.name}'s rule")
            for kind, x, i in self.runs(e.inputs):
                if kind == "G":
                    if any(m in self.leads for m in self.groups[x].members):
                        k = len(self.groups[x].members)
                        self.give(("G", x), f"{g} * _np.array({d}[{i}:{i + k}])", batched)
                elif type(x) is Var and x in self.leads:
                    self.give(x, f"{g} * {d}[{i}]", batched)
            return
        args = [self.val(a) for a in e.inputs]
        ds = self.partials(e.prim, self.ref[e.out], args)
        for a, d in zip(e.inputs, ds):
            if type(a) is Var and a in self.leads:
                self.give(a, self.contribution(e.prim, g, d), batched)

    def back_map(self, unit: Map) -> None:
        gnum = self.group_number(unit)
        g = self.grad_of_group(gnum)
        if g is None:
            return
        args = [self.group_arg(kind, x) for kind, x in unit.inputs]
        ds = self.partials(unit.prim, self.gname[gnum], args)
        for (kind, x), d in zip(unit.inputs, ds):
            if kind == "G":
                if any(m in self.leads for m in self.groups[x].members):
                    self.give(("G", x), self.contribution(unit.prim, g, d), True)
            elif kind == "S" and x in self.leads:
                self.give(x, self.contribution(unit.prim, g, d), True, whole_rows=True)

    def back_layer(self, unit: Layer) -> None:
        gnum = self.group_number(unit)
        g = self.grad_of_group(gnum)
        if g is None:
            return
        w, b, a, idx, bidx = self.layer_info[gnum]
        lv = self.level[gnum]
        if any(v in self.targets for ws in unit.weights for v in ws):
            dw = self.names.fresh(f"dW{lv}")
            self.emit(f"{dw} = {g} @ {a}.T")
            self.scatter(dw, idx, f"iW{lv}")
        if b is not None and any(v in self.targets for v in unit.bias):
            db = self.names.fresh(f"db{lv}")
            self.emit(f"{db} = {g}.sum(axis=1)")
            self.scatter(db, bidx, f"ib{lv}")
        if any(x in self.leads for x in unit.xs):
            da = self.names.fresh("d" + a.lstrip("_"))
            self.emit(f"{da} = {w}.T @ {g}")
            source = next((n for n, name in self.gname.items() if name == a), None)
            if source is not None:
                self.give(("G", source), da, True)
            else:
                for j, x in enumerate(unit.xs):
                    if x in self.leads:
                        self.give(x, f"{da}[{j}]", True)

    def take(self, array: str, idx, base: str) -> str:
        """``array`` at the positions ``idx`` (a matrix of weights, a vector of biases): a view when
        they lie at regular strides (nn's neuron-by-neuron layout: weights, then the bias, per row),
        else a gather with the index array bound as a global."""
        total = len(self.prog.leaves)
        if idx.ndim == 2:
            k, d = idx.shape
            start = int(idx[0, 0])
            stride = int(idx[1, 0] - idx[0, 0]) if k > 1 else d
            regular = stride >= d and (idx == start + stride * self.np.arange(k)[:, None] + self.np.arange(d)).all()
            if regular and start + k * stride <= total:
                cut = f"[:, :{d}]" if stride != d else "[:]" if array == "_G" else ""  # "[:]": an assignable view
                return f"{array}[{start}:{start + k * stride}].reshape({k}, {stride}){cut}"
        else:
            k = len(idx)
            start = int(idx[0])
            stride = int(idx[1] - idx[0]) if k > 1 else 1
            if stride >= 1 and (idx == start + stride * self.np.arange(k)).all():
                return f"{array}[{start}:{start + (k - 1) * stride + 1}" + (f":{stride}]" if stride > 1 else "]")
        return f"{array}[{self.bind(idx, base)}]"

    def scatter(self, grad: str, idx, base: str) -> None:
        """Add a layer's parameter gradients into ``_G`` (positions not parameters are left out)."""
        np = self.np
        flat = idx.ravel()
        wanted = np.array([self.prog.leaves[j] in self.targets for j in flat])
        if wanted.all() and len(set(flat.tolist())) == len(flat):
            self.emit(f"{self.take('_G', idx, base)} += {grad}")
            return
        # a tied weight (used twice) adds twice; a non-parameter's gradient is dropped
        name, mask = self.bind(idx, base), self.bind(wanted.reshape(idx.shape), base + "_wanted")
        self.emit(f"_np.add.at(_G, {name}[{mask}], {grad}[{mask}])")


def write_lifted(prog: Program, lifted, params: list, fname: str, np, input_names=()):
    """(source, globals) of ``fname(_X, _n, _L, _seed) -> (values, aux, _G)`` for one lifted trace."""
    w = _Writer(prog, lifted, params, np, input_names)
    w.emit("# forward: examples along the columns")
    w.forward()
    w.guards()
    out = w.val(prog.out)
    aux = w.call_args(prog.aux)  # a model's outputs, a whole group, are returned as its rows
    w.backward()
    lines = [
        f"def {fname}(_X, _n, _L, _seed):",
        f'    """{fname}: the traced per-example function over a batch, its layers as matrices '
        '(written out by autograd.compile)."""',
    ]
    lines += ["    " + line for line in w.lines]
    lines.append(f"    return ({out}, ({', '.join(aux)}{',' if aux else ''}), _G)")
    return "\n".join(lines) + "\n", w.globals
