"""The mechanism of reverse mode: `Value` nodes, the graph they record, and `backward`.

Nothing here knows any operation by name. Each node holds its parents and the `Primitive` that
made it; a primitive owns its forward rule and its derivative rule (see `ops.py` for the table
and `extend.py` for the door to add one). `backward` visits the graph in reverse topological
order, asks each node's primitive for the local derivatives ∂out/∂inᵢ, and applies the chain
rule: grad(in) += grad(out) · ∂out/∂in.
"""

from __future__ import annotations

import contextvars
import gc
import numbers
import threading
from contextlib import contextmanager

from ._ieee import IEEEFloat

__all__ = [
    "Value",
    "Primitive",
    "backward_pass",
    "no_grad",
    "is_grad_enabled",
    "scope",
    "topological_order",
    "local_grads",
    "parameter",
    "constant",
    "observing",
    "Observer",
    "current_observer",
    "observers",
    "recording_comparisons",
    "is_tracing",
    "gc_paused",
]


class _ThreadState(threading.local):
    no_grad_depth = 0
    observer = None  # see `observing`: who watches this thread (compile's trace, anomaly mode, or both)


_state = _ThreadState()
_special_modes = 0  # >0 while any thread is inside no_grad(), an observer or a scope: the slow path
_modes_lock = threading.Lock()


def _enter_mode() -> None:
    global _special_modes
    with _modes_lock:
        _special_modes += 1


def _leave_mode() -> None:
    global _special_modes
    with _modes_lock:
        _special_modes -= 1


_gc_lock = threading.Lock()
_gc_pausers = 0  # passes under way in any thread; the collector runs again when the last ends
_gc_was_enabled = False


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector: a pass allocates no cycles, yet on a big graph the
    collector's rescans of every node cost more than the pass itself (measured 3-4x on 10⁶ nodes).

    Counted under a lock, so passes in several threads leave the collector as they found it."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


@contextmanager
def no_grad():
    """Inside this block, operations record no parents: their results are leaves (like torch.no_grad)."""
    if _state.observer is not None:  # a compile trace cannot replay what no_grad hides from the graph
        _state.observer.saw("no_grad", None, None, None)
    _state.no_grad_depth += 1
    _enter_mode()
    try:
        yield
    finally:
        _leave_mode()
        _state.no_grad_depth -= 1


class Observer:
    """Whoever watches a thread through `observing`: the engine calls ``saw(what, node, other,
    result)`` for each event and ``check(needed)`` before a backward pass. This base ignores all.

    Events (``what``): "<", "<=", ">", ">=" for a comparison of Values, "!=" for ``bool(v)``
    (``result`` its outcome); "float" when ``detach`` reads a number; "leaf" when a leaf is made
    (``Value(...)``, ``copy.copy``); "no_grad" when ``no_grad`` is entered; "observer" when another
    observer (``other``) starts watching inside; "made" when a node with parents is made; "pass"
    when a checked backward pass starts (result True) or ends (False).
    ``check(needed)`` may return a function ``check(node, partials)`` that the chain-rule loop calls
    before it applies each node's local derivatives; ``needed()`` gives the nodes whose gradients
    can be read. The engine knows no observer: `compile`'s trace and `detect_anomaly` are two."""

    def saw(self, what, node, other, result) -> None:
        pass

    def check(self, needed):
        return None


class _Both(Observer):
    """Two observers at once (anomaly mode inside a trace, or the other way round)."""

    def __init__(self, first, second):
        self.members = (first, second)

    def saw(self, what, node, other, result) -> None:
        for o in self.members:
            o.saw(what, node, other, result)

    def check(self, needed):
        checks = [c for c in (o.check(needed) for o in self.members) if c is not None]
        if len(checks) < 2:
            return checks[0] if checks else None

        def both(node, partials):
            for c in checks:
                c(node, partials)

        return both


@contextmanager
def observing(observer):
    """The one hook: while inside, this thread tells ``observer`` (an `Observer`) what happens;
    several may watch at once. The engine does not know who watches."""
    outer = _state.observer
    if outer is not None:
        outer.saw("observer", None, observer, None)  # e.g. detect_anomaly() entered inside a compile trace
    _state.observer = observer if outer is None else _Both(outer, observer)
    _enter_mode()  # nodes and leaves look for an observer on the slow path only
    try:
        yield observer
    finally:
        _leave_mode()
        _state.observer = outer


def current_observer():
    """What watches this thread (an `Observer`, maybe several as one), or None."""
    return _state.observer if _special_modes else None


def observers() -> tuple:
    """Every observer watching this thread, innermost last."""
    o = current_observer()
    if o is None:
        return ()
    out, todo = [], [o]
    while todo:
        x = todo.pop()
        if type(x) is _Both:
            todo += reversed(x.members)
        else:
            out.append(x)
    return tuple(out)


def _checked_pass(order: list, needed, **kwargs) -> None:
    """`backward_pass`, with the check of whoever watches (anomaly mode), told when it starts and ends."""
    observer = current_observer()
    check = None if observer is None else observer.check(needed)
    if check is None:
        backward_pass(order, **kwargs)
        return
    observer.saw("pass", None, None, True)
    try:
        backward_pass(order, check=check, **kwargs)
    finally:
        observer.saw("pass", None, None, False)


class _GuardList(Observer):
    """An observer keeping comparisons as (node, op, other, result) in a list; None for no_grad."""

    def __init__(self, guards: list):
        self.guards = guards

    def saw(self, what, node, other, result) -> None:
        if what == "no_grad":
            self.guards.append(None)
        elif what not in ("leaf", "made", "pass"):
            self.guards.append((node, what, other, result))


@contextmanager
def recording_comparisons(guards: list):
    """`observing` with an observer that appends guards to ``guards`` (kept for older callers)."""
    with observing(_GuardList(guards)):
        yield guards


def is_tracing() -> bool:
    """True while an observer (`autograd.compile`'s trace) watches this thread."""
    return _state.observer is not None


def is_grad_enabled() -> bool:
    """False inside `no_grad()` in this thread."""
    return _state.no_grad_depth == 0


@contextmanager
def _enable_grad():
    """Record graphs again inside an enclosing `no_grad()`: the function transforms (`grad`,
    `value_and_grad`, `gradcheck`) compute true derivatives whatever the caller's mode."""
    depth = _state.no_grad_depth
    _state.no_grad_depth = 0
    try:
        yield
    finally:
        _state.no_grad_depth = depth


# The current scope (a _Tag), None outside every scope: a context variable, so each thread and each
# asyncio task has its own (a task starts with the scope it was created in, and never sees another's).
_scoping = contextvars.ContextVar("chainrule_scope", default=None)
_current_tag = _scoping.get


class scope:
    """``with scope("layer 1"):`` every node made inside carries ``v.scope == "layer 1"``.

    Scopes nest, joined by dots (``"mlp.layer 1"``); pictures group nodes by them
    (``draw(..., collapse="neuron")``). `nn` names each neuron's nodes this way. A scope object
    can be entered again and again (a neuron enters its own on every call); each thread (and
    each asyncio task) has its own current scope.
    """

    __slots__ = ("name", "_tag")

    def __init__(self, name: str):
        if type(name) is not str:
            raise TypeError(f"scope() needs a str name, got {type(name).__name__}")
        self.name = name
        self._tag = _Tag("", name)  # the tag when no other scope encloses this one

    def __enter__(self):
        _enter_mode()
        outer = _scoping.get()
        _scoping.set(self._tag if outer is None else _nested_tag(outer, self.name))
        return self

    def __exit__(self, exc_type, exc, tb):
        _scoping.set(_scoping.get().outer)
        _leave_mode()

    def tag(self, *nodes) -> None:
        """Name nodes already made as if they had been made inside this scope.

        The same naming as ``with``, for code that makes its nodes first: each `nn` neuron tags
        its two nodes this way on its hot path, which costs a fifth of entering the block."""
        tag = self._tag
        if not _special_modes:  # the hot path: fresh nodes take the scope's shared tag
            for v in nodes:
                label = v._tag
                if label == "":
                    v._tag = tag
                else:
                    v._tag = _Tag(label if type(label) is str else label.label, tag.scope)
            return
        sites = None
        if _special_modes:
            outer = _current_tag()
            if outer is not None:
                tag = _nested_tag(outer, self.name)
            sites = [_note_of(v) for v in nodes]  # an observer's note on a node (anomaly mode: where it was made)
        for v in nodes:
            label = v._tag
            if type(label) is not str:
                label = label.label
            v._tag = _Tag(label, tag.scope) if label else tag
        if sites:
            for v, site in zip(nodes, sites):
                if site is not None:
                    _set_note(v, site)

    def __repr__(self):
        return f"scope({self.name!r})"


# How `_float_pass` treats a primitive's nodes (`Primitive._path`); anything else takes the checked way.
_UNARY, _BINARY, _NARY, _MASKING_UNARY, _OTHER = "unary", "binary", "n-ary", "masking unary", "other"
_DOT = "dot"  # `ops.dot`'s nodes: Σ wᵢxᵢ (+ b), whose partials are its own inputs, read in place


class Primitive:
    """An operation: its name, its forward rule on floats, and its derivative rule.

    ``derivative(ans, *inputs)`` gives the local derivatives ∂ans/∂inputᵢ: one value for a
    unary primitive, a tuple for the others. It is written with plain arithmetic and the
    module-level functions of `autograd`, so the same rule runs on floats (in `backward`)
    and on `Value`s (inside `grad`, to differentiate again).

    Two optional extras serve `autograd.compile` (see `extend.primitive`): ``inline``, the
    forward rule as a Python expression template, and ``on_arrays``, the rules on NumPy arrays.

    ``masks``: a local derivative that is exactly 0 passes nothing to its input, not
    grad·0 (which is nan when grad is inf or nan). For piecewise primitives whose zero is a
    branch cut off, such as relu (PyTorch's ``threshold_backward`` does the same); plain
    arithmetic keeps IEEE's inf·0 = nan, as PyTorch does for ``x * 0``.
    """

    __slots__ = ("name", "forward", "derivative", "arity", "inline", "on_arrays", "masks", "_path")

    def __init__(self, name, forward, derivative, arity, inline=None, on_arrays=None, masks=False):
        self.name = name
        self.forward = forward
        self.derivative = derivative
        self.arity = arity  # 1, 2, ... or None for any number of inputs
        self.inline = inline
        self.on_arrays = on_arrays
        self.masks = bool(masks)
        # which of the float pass's written-out cases its nodes take (see `_float_pass`)
        self._path = {(1, False): _UNARY, (2, False): _BINARY, (1, True): _MASKING_UNARY}.get(
            (arity, self.masks), _OTHER
        )

    def __repr__(self):
        return f"Primitive({self.name!r})"

    def _trust(self) -> None:
        """A built-in op (its rules tested at every edge): n-ary nodes take the float pass's written-out
        case, whose partials are not checked one by one. A user's primitive stays checked."""
        if self._path is _OTHER and not self.masks:
            self._path = _NARY

    def __call__(self, *args):
        """Apply to numbers (a float comes back) or to `Value`s (a node comes back)."""
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{self.name}() takes {self.arity} argument(s), got {len(args)}")
        for a in args:
            if type(a) is Value:
                break
        else:
            return self.forward(*[_as_float(a, self.name) for a in args])
        parents = tuple(a if type(a) is Value else constant(a) for a in args)
        data = self.forward(*[p.data for p in parents])
        if type(data) is not float:
            data = self._checked_forward(data)
        return _node(data, parents, self)

    def _checked_forward(self, data) -> float:
        """A forward rule's result as a float; anything but a real number refused at the call, naming the rule."""
        if isinstance(data, numbers.Real) and not isinstance(data, Value):
            return float(data)
        hint = " (a missing return?)" if data is None else ""
        raise TypeError(f"the forward rule of {self.name!r} returned {type(data).__name__}, not a real number{hint}")

    def local_grads(self, node, *, as_values=False):
        """∂node/∂parentᵢ for each parent: floats, or `Value`s that can be differentiated again."""
        if as_values:
            d = self.derivative(node, *node._parents)
        else:
            xs = [p.data for p in node._parents]
            try:
                d = self.derivative(node.data, *xs)
            except (ArithmeticError, ValueError):  # x/0 or overflow inside the rule: redo it the IEEE way
                d = self.derivative(IEEEFloat(node.data), *map(IEEEFloat, xs))
                d = _plain_floats((d,))[0] if self.arity == 1 else _plain_floats(d)  # IEEEFloat stays in the rule
        return _checked_partials(self, (d,) if self.arity == 1 else d, len(node._parents))


def _plain_floats(partials):
    """The IEEE fallback's partials as plain floats (anything else is left for the check to name)."""
    if not isinstance(partials, (tuple, list)):
        return partials
    return tuple(float(d) if isinstance(d, IEEEFloat) else d for d in partials)


def _is_partial(d) -> bool:
    return type(d) is float or type(d) is Value or isinstance(d, numbers.Real)


def _checked_partials(op, partials, n: int) -> tuple:
    """`partials` as a tuple of n numbers or `Value`s; otherwise a ValueError naming the primitive."""
    if isinstance(partials, (tuple, list)) and len(partials) == n and all(map(_is_partial, partials)):
        return tuple(partials)
    raise ValueError(_partials_message(op, partials, n))


def _partials_message(op, partials, n: int) -> str:
    if op.arity == 1 and not isinstance(partials, (tuple, list)):
        partials = (partials,)
    if op.arity == 1 and len(partials) == 1 and isinstance(partials[0], (tuple, list)):
        partials = partials[0]  # a one-input rule must return the number itself, not a sequence
        if len(partials) == n:
            return f"the derivative rule of {op.name!r} returned a {type(partials).__name__} for its one input; return the number itself"
    if not isinstance(partials, (tuple, list)):
        return f"the derivative rule of {op.name!r} returned {type(partials).__name__}, not a tuple of {n} partials"
    if len(partials) != n:
        return f"the derivative rule of {op.name!r} returned {len(partials)} partial(s) for {n} input(s)"
    bad = next(d for d in partials if not _is_partial(d))
    return f"the derivative rule of {op.name!r} returned a {type(bad).__name__} among its partials, not a number"


# Leaves are of three kinds, told apart by the sentinel in their `_op` slot (the pictures show them apart).
def _no_rule(*_):
    raise AssertionError("a leaf has no derivative rule")


LEAF = Primitive("", None, _no_rule, 0)  # a variable or input made by the user
CONST = Primitive("", None, _no_rule, 0)  # a plain number that entered an operation
PARAM = Primitive("", None, _no_rule, 0)  # a trainable parameter (see `parameter`)
_LEAF_KINDS = {LEAF: "input", CONST: "constant", PARAM: "parameter"}


def _as_float(x, where: str) -> float:
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return float(x)
    raise TypeError(f"{where}() needs a real number, got {type(x).__name__}")


class Value:
    """A scalar that remembers how it was computed, so backward can apply the chain rule.

    `data` is the forward value, `grad` is ∂root/∂self after `root.backward()`. Arithmetic
    (``+ - * / **``, unary ``-``, ``abs``) and the methods ``exp log sqrt tanh sigmoid relu sin
    cos`` are primitives of `autograd.ops`. `label` names a node in pictures; `scope` is the
    `scope(...)` it was made in.
    """

    __slots__ = ("data", "grad", "_parents", "_op", "_tag")  # _tag: a label str ("" for most nodes) or a _Tag
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    def __init__(self, data, label: str = ""):
        if type(data) is not float:
            data = _as_float(data, "Value")
        if type(label) is not str:
            raise TypeError(f"Value() label must be a str, got {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self._parents = ()
        self._op = LEAF
        self._tag = ""
        if _special_modes:
            self._tag = _current_tag() or ""
            if _state.observer is not None:
                _state.observer.saw("leaf", self, None, None)
        if label:
            self.label = label

    # ---- what a node is ------------------------------------------------------------------
    @property
    def parents(self) -> tuple:
        """The nodes this one was computed from (empty for a leaf)."""
        return self._parents

    @property
    def op(self) -> str:
        """The name of the operation that made this node; "" for a leaf."""
        return self._op.name

    @property
    def primitive(self):
        """The `Primitive` that made this node (its forward and derivative rules); None for a leaf."""
        return None if self._op in _LEAF_KINDS else self._op

    @property
    def role(self) -> str | None:
        """ "input", "constant" or "parameter" for a leaf (see `parameter`, `constant`); None for a computed node."""
        return _LEAF_KINDS.get(self._op)

    @property
    def label(self) -> str:
        """The node's name in pictures and reprs ("" when unnamed)."""
        tag = self._tag
        return tag if type(tag) is str else tag.label

    @label.setter
    def label(self, text: str) -> None:
        if type(text) is not str:
            raise TypeError(f"label must be a str, got {type(text).__name__}")
        scope = self.scope
        note = _note_of(self)
        self._tag = text if scope is None and note is None else _Tag(text, scope)
        if note is not None:
            _set_note(self, note)

    @property
    def scope(self) -> str | None:
        """The dotted name of the `scope(...)` this node was made in (e.g. "layers.0.neurons.3"), or None."""
        tag = self._tag
        return None if type(tag) is str else tag.scope

    @property
    def is_leaf(self) -> bool:
        return not self._parents

    def __repr__(self) -> str:
        extra = ""
        if self._op.name:
            extra += f", op={self._op.name!r}"
        if self.label:
            extra += f", label={self.label!r}"
        return f"Value(data={round(self.data, 4)!r}, grad={round(self.grad, 4)!r}{extra})"

    def __float__(self) -> float:
        """Refused while gradients are recorded: ``math.sin(v)``, ``math.exp(v)`` or ``float(v)``
        would compute on a plain number and drop v's gradient without a word (micrograd and JAX
        refuse too). ``v.data`` is the number; inside ``no_grad()`` float(v) gives it."""
        if _state.no_grad_depth:
            return self.data
        raise TypeError(
            "float() of a Value would drop its gradient (math.sin(v) and the like compute on a plain float): "
            "use autograd's functions (ag.sin(v), ag.exp(v), ...) to keep it, v.data for the number, "
            "or no_grad() where no gradient is wanted"
        )

    def __bool__(self) -> bool:
        """The truth of the forward value, as Python's for a float (0.0 and -0.0 are False, nan is True)
        and PyTorch's for a one-element tensor: ``if loss:`` reads the number. A compile trace
        records it as a guard, like a comparison."""
        result = self.data != 0.0
        if _state.observer is not None:
            _state.observer.saw("!=", self, 0.0, result)
        return result

    def __format__(self, spec: str) -> str:
        """``f"{v:.3f}"`` formats the forward value; ``f"{v}"`` is the repr."""
        return format(self.data, spec) if spec else str(self)

    # Ordering compares the forward values; equality and hashing stay by identity (nodes are keys).
    # While `autograd.compile` traces, each comparison is recorded as a guard of the trace.
    def __lt__(self, other):
        result = self.data < _data_of(other)
        if _state.observer is not None:
            _state.observer.saw("<", self, other, result)
        return result

    def __le__(self, other):
        result = self.data <= _data_of(other)
        if _state.observer is not None:
            _state.observer.saw("<=", self, other, result)
        return result

    def __gt__(self, other):
        result = self.data > _data_of(other)
        if _state.observer is not None:
            _state.observer.saw(">", self, other, result)
        return result

    def __ge__(self, other):
        result = self.data >= _data_of(other)
        if _state.observer is not None:
            _state.observer.saw(">=", self, other, result)
        return result

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from this graph."""
        if _state.observer is not None:  # a compile trace bakes this number in: tell it
            _state.observer.saw("float", self, None, self.data)
        return Value(self.data, self.label)

    def __copy__(self) -> Value:
        """A node with the same data, grad, parents, role, label and scope."""
        v = _new(Value)
        for slot in Value.__slots__:
            if hasattr(self, slot):
                setattr(v, slot, getattr(self, slot))
        if _state.observer is not None and not v._parents:
            _state.observer.saw("leaf", v, None, None)
        return v

    def __deepcopy__(self, memo) -> Value:
        """A copy of the whole graph below this node, leaves keeping their roles (a parameter stays one)."""
        import copy

        v = self.__copy__()
        memo[id(self)] = v
        v._parents = tuple(copy.deepcopy(p, memo) for p in self._parents)
        return v

    def __reduce__(self):
        """Pickle a leaf with its data, grad, role, label and scope (a parameter stays one); a
        computed node is refused in one line, as its rules are code, not data."""
        if self._parents:
            raise TypeError(
                f"cannot pickle a computed Value (op {self._op.name!r}): pickle leaves (v.detach()), "
                f"or save a model with nn.save"
            )
        return _unpickle_leaf, (self.data, self.grad, _LEAF_KINDS.get(self._op, "input"), self._tag)

    # ---- reverse mode ----------------------------------------------------------------------
    def backward(self) -> None:
        """Seed ∂self/∂self = 1 and apply the chain rule to every node, in reverse topological order.

        Leaves accumulate across calls (like PyTorch); intermediate nodes are reset, so after a
        pass they hold that pass's gradients.
        """
        with gc_paused():
            order = topological_order(self)
            for node in order:
                if node._parents:
                    node.grad = 0.0
            if self._parents:
                self.grad = 1.0
            else:
                self.grad += 1.0
            if _state.observer is None or not _special_modes:
                backward_pass(order)
            else:
                _checked_pass(order, lambda: _requiring_grad(order))


def backward_pass(order: list, *, as_values: bool = False, check=None, into: dict | None = None) -> None:
    """The chain rule, written once: grad(parent) += grad(node) · ∂node/∂parent for every edge,
    visiting `order` (parents before children) from the end.

    Every caller goes through here: `Value.backward`, `grad`/`value_and_grad`, anomaly mode
    (``check(node, partials)`` sees each node's local derivatives before they are applied).
    With ``as_values`` the local derivatives are `Value`s, so the gradients are graphs that can be
    differentiated again. With ``into`` (a dict, seeded by the caller) gradients are summed there
    instead of in ``.grad``: no node is written, so other threads' passes never see them. A
    primitive that ``masks`` passes nothing through a local derivative of exactly 0. Seeding the
    root's grad and zeroing the others is the caller's part.
    """
    if not as_values and check is None and into is None:
        _float_pass(order)
    else:
        _general_pass(order, as_values, check, into)


def _general_pass(order: list, as_values: bool, check, into: dict | None) -> None:
    """The chain rule as it reads: each node's partials from its primitive, times its gradient,
    added to each parent's."""
    for node in reversed(order):
        parents = node._parents
        if not parents:
            continue
        op = node._op
        g = node.grad if into is None else into.get(node, 0.0)
        partials = op.local_grads(node, as_values=as_values)
        if check is not None:
            check(node, partials)
        for p, d in zip(parents, partials):
            if op.masks and type(d) is not Value and not d:  # exactly 0: a branch cut off, nothing passes
                continue
            if into is None:
                p.grad += g * d
            else:
                into[p] = into.get(p, 0.0) + g * d


def _float_pass(order: list) -> None:
    """`_general_pass` on floats into ``.grad``, with the bookkeeping written out for the nodes most
    graphs are made of (one input, two inputs, a masking one-input node such as relu); any other
    node, and any rule that fails or returns something other than floats, goes through the
    primitive's checked `local_grads`. Tested equal to the general pass, bit for bit."""
    for node in reversed(order):
        parents = node._parents
        if not parents:
            continue
        op = node._op
        g = node.grad
        path = op._path
        try:
            if path is _UNARY:
                p = parents[0]
                d = op.derivative(node.data, p.data)
                if type(d) is float:
                    p.grad += g * d
                    continue
            elif path is _BINARY:
                a, b = parents
                da, db = op.derivative(node.data, a.data, b.data)
                if type(da) is float and type(db) is float:
                    a.grad += g * da
                    b.grad += g * db
                    continue
            elif path is _DOT:  # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1, added in that order (as the rule lists them)
                n = len(parents) // 2
                ws, xs = parents[:n], parents[n : 2 * n]
                for w, x in zip(ws, xs):
                    w.grad += g * x.data
                for w, x in zip(ws, xs):
                    x.grad += g * w.data
                if len(parents) % 2:
                    parents[-1].grad += g * 1.0
                continue
            elif path is _NARY:  # sum, mean, softmax: one rule call gives every partial
                partials = op.derivative(node.data, *[p.data for p in parents])
                if len(partials) == len(parents):
                    for p, d in zip(parents, partials):
                        p.grad += g * d
                    continue
            elif path is _MASKING_UNARY:
                p = parents[0]
                d = op.derivative(node.data, p.data)
                if type(d) is float:
                    if d != 0.0:  # exactly 0: a branch cut off, nothing passes (not inf·0 = nan)
                        p.grad += g * d
                    continue
        except (ArithmeticError, ValueError, TypeError):  # x/0 in the rule, a wrong count: the checked way below
            pass
        partials = op.local_grads(node)  # the IEEE fallback, and a ValueError naming a faulty rule
        for p, d in zip(parents, partials):
            if op.masks and not d:
                continue
            p.grad += g * d


class _Tag:
    """A node's label and scope, kept in one slot since most nodes have neither. The unlabelled tag
    of a `scope` is shared by every node made in it, remembers the scope it was entered from, and
    keeps the tags of the scopes entered inside it (so they live and die with it)."""

    __slots__ = ("label", "scope", "outer", "inner")

    def __init__(self, label: str, scope: str, outer: _Tag | None = None):
        self.label = label
        self.scope = scope
        self.outer = outer
        self.inner = None  # name -> _Tag of the scope of that name entered inside this one


class _NotedTag(_Tag):
    """A tag that also holds an observer's note on the node (anomaly mode: where it was made), so
    the note lives and dies with its node and costs nothing while nobody observes."""

    __slots__ = ("note",)


def _set_note(node, note) -> None:
    tag = getattr(node, "_tag", "")
    new = _NotedTag(tag, None) if type(tag) is str else _NotedTag(tag.label, tag.scope, tag.outer)
    new.note = note
    node._tag = new


def _note_of(node):
    """The note an observer left on `node` (`_set_note`), or None."""
    tag = getattr(node, "_tag", None)
    return tag.note if type(tag) is _NotedTag else None


def _requiring_grad(order: list) -> set:
    """The nodes of `order` (parents first) whose gradient someone can read: every leaf but the
    constants, and every node computed from one (PyTorch's requires_grad)."""
    needed = set()
    for node in order:
        parents = node._parents
        if parents:
            for p in parents:
                if p in needed:
                    needed.add(node)
                    break
        elif node._op is not CONST:
            needed.add(node)
    return needed


def _nested_tag(outer: _Tag, name: str) -> _Tag:
    """The shared tag of scope `name` entered inside `outer`, made once per pair and kept on `outer`:
    no global table, so a fresh outer scope each step leaves nothing behind when it is dropped."""
    inner = outer.inner
    if inner is None:
        inner = outer.inner = {}
    tag = inner.get(name)
    if tag is None:
        path = f"{outer.scope}.{name}" if outer.scope and name else outer.scope or name
        tag = inner[name] = _Tag("", path, outer)
    return tag


def _data_of(x):
    return x.data if type(x) is Value else x


_new = object.__new__


def _node(data, parents, op):
    """A new node with its parents recorded (or a plain leaf under no_grad), in the current scope."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v._tag = ""
    if _special_modes:
        v._tag = _current_tag() or ""
        if _state.no_grad_depth:
            v._parents = ()
            v._op = LEAF
            return v
        observer = _state.observer
        if observer is not None:
            v._parents = parents
            v._op = op
            observer.saw("made", v, None, None)
            return v
    v._parents = parents
    v._op = op
    return v


def _leaf(x, kind, label="") -> Value:
    v = _new(Value)
    v.data = x if type(x) is float else _as_float(x, "Value")
    v.grad = 0.0
    v._parents = ()
    v._op = kind
    v._tag = _current_tag() or "" if _special_modes else ""
    if label:
        v.label = label
    return v


def _unpickle_leaf(data, grad, role, tag) -> Value:
    v = _leaf(data, next(kind for kind, name in _LEAF_KINDS.items() if name == role))
    v.grad, v._tag = grad, tag
    return v


def constant(x) -> Value:
    """A leaf for a plain number that entered an operation (pictures draw it apart, and show no grad)."""
    return _leaf(x, CONST)


def parameter(data, label: str = "") -> Value:
    """A leaf marked as a trainable parameter: the role pictures and `nn` optimisers know it by."""
    return _leaf(data, PARAM, label)


def topological_order(root: Value) -> list:
    """Every node `root` depends on, parents before children, found without recursion."""
    order = []
    visited = {root}
    stack = [(root, iter(root._parents))]
    append, push, pop = order.append, stack.append, stack.pop
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p not in visited:
                visited.add(p)
                push((p, iter(p._parents)))
                break
        else:
            pop()
            append(node)
    return order


def local_grads(node: Value) -> tuple:
    """∂node/∂parentᵢ at the current values, one float per parent (what the pictures put on edges)."""
    if not node._parents:
        return ()
    return node._op.local_grads(node)
