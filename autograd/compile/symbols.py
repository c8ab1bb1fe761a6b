"""Rules on symbols: an op's rule from ops.py run once on stand-ins for floats, read off as an
expression (mul's rule ``(b, a)`` becomes ``g * b``), or None where the rule must be called at run time."""

from __future__ import annotations

import math
import threading

from .. import ops


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

    def holes(self, ans: str, names: list) -> list:
        """The operands the expression reads (its holes filled), each once."""
        return list(dict.fromkeys(ans if hole == "a" else names[int(hole)] for hole in self.parts[1::2]))

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
    code = compile("(" + "".join(tp.render("_ans", names) + ", " for tp in templates) + ")", "<rule>", "eval")
    for k in range(len(_SAMPLES)):
        xs = [_SAMPLES[(k + i) % len(_SAMPLES)] for i in range(n)]
        try:
            ans = forward(*xs) if with_ans else None
            want = rule(ans, *xs) if with_ans else rule(*xs)
        except Exception:  # noqa: BLE001 - no sample here (eager would take its IEEE path)
            continue
        want = want if isinstance(want, (tuple, list)) else (want,)
        if len(want) != len(templates):
            return False
        scope = {"total": ops.total, "inf": math.inf, "nan": math.nan, "_ans": ans, **dict(zip(names, xs))}
        try:  # every output at once: one expression, compiled once per sample (a dot has thousands)
            gots = eval(code, scope)  # noqa: S307 - an expression we wrote ourselves
        except Exception:  # noqa: BLE001 - x/0 in the template where the rule did not raise
            return False
        for got, w in zip(gots, want):
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
