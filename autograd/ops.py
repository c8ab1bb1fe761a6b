"""Every built-in operation: its forward rule and, beside it, its local derivative ∂ans/∂input.

One call per primitive, made through the same door users have (`extend.primitive`), which also
lists it in the public table `PUBLIC` (``export=True``: exported by ``autograd``, a function of
``chainrule graph``) and makes it a `Value` method or operator (``method=``): nothing else to edit. Each
derivative is written with arithmetic and these same functions, so it runs on floats in
`backward` and on `Value`s inside `grad` (which is how higher derivatives come out). Each
function accepts floats or `Value`s: ``tanh(0.5)`` is a float, ``tanh(Value(0.5))`` a node.
"""

from __future__ import annotations

from math import fsum as _fsum
from math import inf as _inf
from math import isfinite as _isfinite
from math import log1p as _log1p
from math import nan as _nan
from operator import mul as _mul

from . import _ieee
from .engine import _DOT, Primitive, Value, _as_float, _node, constant
from .extend import PUBLIC, _trust_methods, export, primitive


def _exported(fn):
    """List a function made of primitives (a fused op's front door) in the public table, as ``export=True`` does a primitive."""
    return export(fn.__name__, fn)


__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "power",
    "neg",
    "absolute",
    "identity",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "sin",
    "cos",
    "sum",
    "mean",
    "dot",
    "logsumexp",
    "softmax",
    "log_softmax",
    "PUBLIC",
    "export",
]

# ---- arithmetic ------------------------------------------------------------------------------
# method=: the `Value` operator (and its reflection) or method each becomes; export=: listed in `PUBLIC`
add = primitive("+", derivative=lambda ans, a, b: (1.0, 1.0), method=("__add__", "__radd__"))(lambda a, b: a + b)
sub = primitive("-", derivative=lambda ans, a, b: (1.0, -1.0), method=("__sub__", "__rsub__"))(lambda a, b: a - b)
mul = primitive("*", derivative=lambda ans, a, b: (b, a), method=("__mul__", "__rmul__"))(lambda a, b: a * b)
div = primitive("/", derivative=lambda ans, a, b: (1.0 / b, -ans / b), method=("__truediv__", "__rtruediv__"))(
    _ieee.div
)
neg = primitive("neg", derivative=lambda ans, x: -1.0, method="__neg__")(lambda x: -x)
identity = primitive("id", derivative=lambda ans, x: 1.0)(lambda x: x)


def _sign(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _sign_arrays(np, x):
    return np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))


def _power_derivative(ans, x, y):
    """d/dx x**y = y·x**(y−1), taken as 0 where y = 0 (x**0 is constant, even at x = 0);
    d/dy x**y = x**y · log x, taken as 0 where x = 0 and y ≥ 0 (0**y is 0 or 1 there).
    Both masks are PyTorch's, so 0**0 has gradients (0, 0) rather than nan and -inf. Tested
    with comparisons, not by reading .data, so a compile trace of a higher derivative records them."""
    dx = 0.0 if y >= 0.0 and y <= 0.0 else y * power(x, y - 1.0)
    dy = 0.0 if x >= 0.0 and x <= 0.0 and y >= 0.0 else ans * log(x)
    return dx, dy


def _power_arrays(np):
    def derivative(ans, x, y):
        dx = np.where(y == 0.0, 0.0, y * np.power(x, y - 1.0))
        return dx, np.where((x == 0.0) & (y >= 0.0), 0.0, ans * np.log(x))

    return np.power, derivative


power = primitive("**", derivative=_power_derivative, on_arrays=_power_arrays, method=("__pow__", "__rpow__"))(
    _ieee.pow
)


# ---- elementary functions --------------------------------------------------------------------
# on_arrays: the same rules on NumPy arrays, for `autograd.compile(..., batch="numpy")`; None
# where the float rule is plain arithmetic and so already works elementwise.
def _sigmoid_arrays(np):
    def forward(x):
        e = np.exp(np.minimum(x, 0.0))  # e^x for x < 0, never overflowing
        return np.where(x >= 0.0, 1.0 / (1.0 + np.exp(-np.maximum(x, 0.0))), e / (1.0 + e))

    return forward, None


_BUILTIN = {"export": True}  # and method=<its name>: ``ag.exp(v)``, ``v.exp()``, ``exp(x)`` in `chainrule graph`
exp = primitive("exp", derivative=lambda ans, x: ans, on_arrays=lambda np: (np.exp, None), method="exp", **_BUILTIN)(
    _ieee.exp
)
log = primitive(
    "log", derivative=lambda ans, x: 1.0 / x, on_arrays=lambda np: (np.log, None), method="log", **_BUILTIN
)(_ieee.log)
sqrt = primitive(
    "sqrt", derivative=lambda ans, x: 0.5 / ans, on_arrays=lambda np: (np.sqrt, None), method="sqrt", **_BUILTIN
)(_ieee.sqrt)
tanh = primitive(
    "tanh", derivative=lambda ans, x: 1.0 - ans * ans, on_arrays=lambda np: (np.tanh, None), method="tanh", **_BUILTIN
)(_ieee.tanh)
sigmoid = primitive(
    "sigmoid", derivative=lambda ans, x: ans * (1.0 - ans), on_arrays=_sigmoid_arrays, method="sigmoid", **_BUILTIN
)(_ieee.sigmoid)
# relu(nan) is nan and relu(-0.0) is -0.0 (as PyTorch); for x ≤ 0 its input gets nothing (masks), so
# sqrt(relu(x)) at x = -1 has gradient 0, not inf·0 = nan
relu = primitive(
    "relu",
    derivative=lambda ans, x: 0.0 if x <= 0.0 else 1.0,
    on_arrays=lambda np: (lambda x: np.where(x < 0.0, 0.0, x), lambda ans, x: np.where(x <= 0.0, 0.0, 1.0)),
    masks=True,
    method="relu",
    **_BUILTIN,
)(lambda x: 0.0 if x < 0.0 else x)
sin = primitive(
    "sin",
    derivative=lambda ans, x: cos(x),
    on_arrays=lambda np: (np.sin, lambda ans, x: np.cos(x)),
    method="sin",
    **_BUILTIN,
)(_ieee.sin)
cos = primitive(
    "cos",
    derivative=lambda ans, x: -sin(x),
    on_arrays=lambda np: (np.cos, lambda ans, x: -np.sin(x)),
    method="cos",
    **_BUILTIN,
)(_ieee.cos)
# abs: exported under the builtin's name (it shadows it on `from autograd import *`, taking the same inputs)
absolute = primitive(
    "abs",
    derivative=lambda ans, x: _sign(x),
    on_arrays=lambda np: (None, lambda ans, x: _sign_arrays(np, x)),
    method="__abs__",
    **_BUILTIN,
)(abs)


# ---- fused n-ary nodes: one node however many inputs ----------------------------------------
_builtin_sum = sum


# Σ terms: Python's built-in sum (compensated from Python 3.12 on) is the one summation routine
# of every fused node, and the code `autograd.compile` writes calls it too, so both agree bit for bit.
total = _builtin_sum


def _sum_forward(*xs):
    return total(xs)


def _tuple_text(names) -> str:
    return f"({', '.join(names)},)" if names else "()"


# inline: the forward rule as a Python expression, for `autograd.compile` (a test checks it against the rule)
_sum = primitive("sum", derivative=lambda ans, *xs: (1.0,) * len(xs), inline=lambda *xs: f"total({_tuple_text(xs)})")(
    _sum_forward
)
_mean = primitive(
    "mean",
    derivative=lambda ans, *xs: (1.0 / len(xs),) * len(xs),
    inline=lambda *xs: f"total({_tuple_text(xs)}) / {len(xs)}",
)(lambda *xs: total(xs) / len(xs))


def _dot_forward(*args):
    """Σ wᵢxᵢ (+ b when the inputs are w₁..wₙ, x₁..xₙ, b)."""
    n = len(args) // 2
    products = total(map(_mul, args[:n], args[n : 2 * n]))
    return products + args[-1] if len(args) % 2 else products


def _dot_inline(*args) -> str:
    n = len(args) // 2
    products = f"total({_tuple_text([f'{w} * {x}' for w, x in zip(args[:n], args[n : 2 * n])])})"
    return f"{products} + {args[-1]}" if len(args) % 2 else products


def _dot_derivative(ans, *args):
    """∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1."""
    n = len(args) // 2
    return args[n : 2 * n] + args[:n] + ((1.0,) if len(args) % 2 else ())


_dot = primitive("dot", derivative=_dot_derivative, inline=_dot_inline)(_dot_forward)
_dot._path = _DOT  # the float pass reads its partials (the inputs themselves) in place: no tuple built


def _logsumexp_forward(*xs):
    """log Σ exp xᵢ = m + log1p(Σ_{i ≠ k} exp(xᵢ − m)), m = x_k the max: no term overflows, and
    when the max dominates, the small rest keeps all its digits (log1p, not log of 1 + rest)."""
    m = max(xs)
    if not _isfinite(m):  # ±inf dominates the sum, unless a nan makes it nan (max() may skip a nan)
        return _nan if any(x != x for x in xs) else m
    return m + _log1p(_rest_of_sum(xs, m))


def _rest_of_sum(xs, m) -> float:
    """Σ exp(xᵢ − m) over every i but the (first) max, whose term is exactly 1: the sum is 1 + this."""
    terms = _softmax_terms(xs)
    k = xs.index(m)
    return _fsum(terms[:k] + terms[k + 1 :])


def _logsumexp_arrays(np):
    def forward(*xs):
        """m + log1p(Σ others), the first largest term left out, as the float rule."""
        m, t = _softmax_terms_arrays(np, xs)
        finite = np.isfinite(m)
        nan = np.zeros(np.shape(m), dtype=bool)
        for x in xs:
            nan = nan | (x != x)
        rest = _fsum_arrays(np, _without_first_max(np, xs, m, t))
        return np.where(finite, m + np.log1p(rest), np.where(nan, np.nan, m))

    def derivative(ans, *xs):
        """softmax(x) as exp(x − m)/Σ, as the float rule (exp(x − ans) where ans is ±inf or nan)."""
        _, terms = _softmax_terms_arrays(np, xs)
        whole = _fsum_arrays(np, terms)
        finite = np.isfinite(ans)
        return tuple(np.where(finite, t / whole, np.exp(x - ans)) for t, x in zip(terms, xs))

    return forward, derivative


def _logsumexp_derivative(ans, *xs):
    """∂/∂xᵢ log Σ exp x = softmax(x)ᵢ, from the fused softmax (exact to an ulp, whatever |x|);
    where the result is ±inf or nan, exp(xᵢ − ans) as PyTorch (nan for the inf entries)."""
    if not (ans > -_inf and ans < _inf):  # comparisons, so compile's trace records them
        return tuple(exp(x - ans) for x in xs)
    return tuple(softmax(xs))


_logsumexp = primitive("logsumexp", derivative=_logsumexp_derivative, on_arrays=_logsumexp_arrays)(_logsumexp_forward)


# ---- softmax: n outputs, each one node over all n inputs ---------------------------------------
def _softmax_terms(xs) -> list:
    """exp(xⱼ − m), m = max x, for each j: the largest term is exactly 1, so nothing overflows.

    xⱼ − m is rounded when the two are far apart (by up to eps·|x|, which exp turns into a
    relative error: 500 ulps at |x| ~ 1000); its rounding error e is recovered exactly
    (Knuth's two-sum) and applied as exp(d + e) = exp(d)(1 + e), so the shift costs no digits
    however large |x| is. A nan anywhere makes every term nan."""
    m = max(xs)
    terms = []
    for x in xs:
        d = x - m
        t = _ieee.exp(d)
        if t != 0.0 and _isfinite(d):
            c = d - x
            t += t * ((x - (d - c)) - (m + c))
        terms.append(t)
    return terms


def _softmax_terms_arrays(np, xs):
    """exp(xⱼ − m) over a batch (arrays or numbers), m the largest x (nan everywhere if m is ±inf or
    nan), with the rounding of xⱼ − m recovered as `_softmax_terms` does, so the two agree to an ulp."""
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)
    return m, [_exp_shifted(np, x, m) for x in xs]


def _exp_shifted(np, x, m):
    """exp(x − m) with the rounding error of x − m applied (Knuth's two-sum), elementwise."""
    d = x - m
    t = np.exp(d)
    c = d - x
    fixed = t + t * ((x - (d - c)) - (m + c))
    return np.where((t != 0.0) & np.isfinite(d), fixed, t)


def _fsum_arrays(np, terms):
    """Σ terms elementwise, compensated (Neumaier): within an ulp or so of `math.fsum` on each
    column, where a plain left-to-right sum can be several ulps off."""
    terms = list(terms)
    s = terms[0] + 0.0
    c = 0.0
    for t in terms[1:]:
        big = s + t
        c = c + np.where(np.abs(s) >= np.abs(t), (s - big) + t, (t - big) + s)
        s = big
    finite = np.isfinite(s)
    return np.where(finite, s + np.where(finite, c, 0.0), s)


def _softmax_arrays_at(k: int):
    """Output k of softmax and its partials on NumPy arrays (for compile's batch="numpy")."""

    def on_arrays(np):
        def forward(*xs):
            _, t = _softmax_terms_arrays(np, xs)
            return t[k] / _fsum_arrays(np, t)

        def derivative(ans, *xs):
            _, t = _softmax_terms_arrays(np, xs)
            whole = _fsum_arrays(np, t)
            rest = _fsum_arrays(np, t[:k] + t[k + 1 :]) / whole if len(t) > 1 else 0.0 * whole
            return tuple(ans * rest if j == k else -ans * (t[j] / whole) for j in range(len(xs)))

        return forward, derivative

    return on_arrays


def _without_first_max(np, xs, m, t) -> list:
    """The terms with the first largest one (exactly 1) set to 0: what log1p's argument sums."""
    taken = np.zeros(np.shape(m), dtype=bool)
    rest = []
    for x, term in zip(xs, t):
        first = (x == m) & ~taken
        taken = taken | first
        rest.append(np.where(first, 0.0, term))
    return rest


def _log_softmax_arrays_at(k: int):
    """Output k of log softmax and its partials on NumPy arrays: (xₖ − m) − log1p(Σ others), as the float rule."""

    def on_arrays(np):
        def forward(*xs):
            m, t = _softmax_terms_arrays(np, xs)
            rest = _without_first_max(np, xs, m, t)
            finite = np.isfinite(m)
            plain = (xs[k] - m) - np.log(_fsum_arrays(np, [np.exp(x - m) for x in xs]))
            return np.where(finite, (xs[k] - np.where(finite, m, 0.0)) - np.log1p(_fsum_arrays(np, rest)), plain)

        def derivative(ans, *xs):
            _, t = _softmax_terms_arrays(np, xs)
            whole = _fsum_arrays(np, t)
            others = _fsum_arrays(np, t[:k] + t[k + 1 :]) if len(t) > 1 else 0.0 * whole
            return tuple(others / whole if j == k else -t[j] / whole for j in range(len(xs)))

        return forward, derivative

    return on_arrays


def _softmax_at(i: int) -> Primitive:
    """The primitive for output i of a softmax: sᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m), m = max x.

    Its partials are ∂sᵢ/∂xⱼ = sᵢ(δᵢⱼ − sⱼ), with 1 − sᵢ summed from the other terms instead of
    subtracted from 1, so a saturated softmax (sᵢ near 1) keeps every digit of its gradient."""
    while len(_SOFTMAX_AT) <= i:
        k = len(_SOFTMAX_AT)

        def forward(*xs, k=k):
            t = _softmax_terms(xs)
            return t[k] / _fsum(t)

        def derivative(ans, *xs, k=k):
            if type(ans) is Value:  # differentiating again: the same formula, as a graph
                s = softmax(xs)
                rest = sum([s[j] for j in range(len(xs)) if j != k])
                return tuple(ans * rest if j == k else -ans * s[j] for j in range(len(xs)))
            t = _softmax_terms(xs)
            total = _fsum(t)
            rest = _fsum(t[:k] + t[k + 1 :]) / total  # 1 − sₖ without cancellation
            return tuple(ans * rest if j == k else -ans * (t[j] / total) for j in range(len(xs)))

        _SOFTMAX_AT.append(Primitive("softmax", forward, derivative, None, on_arrays=_softmax_arrays_at(k)))
        _SOFTMAX_AT[-1]._trust()
    return _SOFTMAX_AT[i]


_SOFTMAX_AT: list = []  # output i's primitive, made on first use


@_exported
def sum(values):  # noqa: A001 - the math name, like numpy.sum
    """Σ values as one node (0.0 for no values)."""
    values = _as_sequence(values, "sum")
    return _sum(*values) if values else 0.0


@_exported
def mean(values):
    """(1/n) Σ values as one node."""
    values = _as_sequence(values, "mean")
    if not values:
        raise ValueError("mean() of no values")
    return _mean(*values)


@_exported
def dot(ws, xs, bias=None):
    """Σ wᵢ·xᵢ (+ bias) as one node: a neuron's pre-activation z = wᵀx + b. xs may mix floats and Values."""
    if type(ws) is not list:  # lists skip the call: this is the hot path of every neuron
        ws = _as_sequence(ws, "dot")
    if type(xs) is not list:
        xs = _as_sequence(xs, "dot")
    if len(ws) != len(xs):
        raise ValueError(f"dot() needs equally long inputs, got {len(ws)} weights and {len(xs)} inputs")
    args = (*ws, *xs) if bias is None else (*ws, *xs, bias)
    if not args:
        return 0.0
    for a in args:
        if type(a) is not Value:
            return _dot(*args)  # the general path wraps plain numbers as constants
    return _node(_dot_forward(*[a.data for a in args]), args, _dot)  # all Values: the fast path


@_exported
def logsumexp(values):
    """log Σ exp(values), stable for large inputs, as one node."""
    values = _as_sequence(values, "logsumexp")
    if not values:
        raise ValueError("logsumexp() of no values")
    return _logsumexp(*values)


def _log_softmax_at(i: int) -> Primitive:
    """The primitive for output i of log softmax: xᵢ − logsumexp(x) = (xᵢ − m) − log1p(rest).

    Exact where it matters most, at the largest input: −log1p(Σ others) keeps the digits of a
    loss of 1e-13 that xᵢ − logsumexp(x) would cancel away. Partials δᵢⱼ − sⱼ, with 1 − sᵢ
    summed from the other terms."""
    while len(_LOG_SOFTMAX_AT) <= i:
        k = len(_LOG_SOFTMAX_AT)

        def forward(*xs, k=k):
            m = max(xs)
            if not _isfinite(m):  # an inf or nan input: the plain formula gives PyTorch's nan and -inf
                return (xs[k] - m) - _ieee.log(_fsum(_ieee.exp(x - m) for x in xs))
            return (xs[k] - m) - _log1p(_rest_of_sum(xs, m))

        def derivative(ans, *xs, k=k):
            if type(ans) is Value:  # differentiating again: the same formula, as a graph
                s = softmax(xs)
                return tuple(sum([s[i] for i in range(len(xs)) if i != k]) if j == k else -s[j] for j in range(len(xs)))
            t = _softmax_terms(xs)
            total = _fsum(t)
            return tuple(_fsum(t[:k] + t[k + 1 :]) / total if j == k else -t[j] / total for j in range(len(xs)))

        _LOG_SOFTMAX_AT.append(Primitive("log_softmax", forward, derivative, None, on_arrays=_log_softmax_arrays_at(k)))
        _LOG_SOFTMAX_AT[-1]._trust()  # a built-in, like softmax's: its n-ary nodes take the fast path
    return _LOG_SOFTMAX_AT[i]


_LOG_SOFTMAX_AT: list = []


def _class_of(label, n: int) -> int:
    """The class a label Value (or number) holds: an integral number in [0, n), else one clear line."""
    x = label.data if type(label) is Value else label
    if not (x == x and x - int(x) == 0.0 and 0 <= x < n):  # nan, a fraction, out of range
        raise ValueError(f"log_softmax() label must hold an integer class in [0, {n}), got {x!r}")
    return int(x)


def _labelled_forward(label, *xs):
    """log_softmax(xs)[label], the label an input of the node (so one trace serves every class)."""
    return _log_softmax_at(_class_of(label, len(xs))).forward(*xs)


def _labelled_derivative(ans, label, *xs):
    """0 for the label (a class id, not a quantity), then log_softmax's partials at that class."""
    return (0.0, *_log_softmax_at(_class_of(label, len(xs))).derivative(ans, *xs))


def _column_sums(np, T):
    """Each column's sum, accumulated in extended precision where the platform has it (x86's 80-bit
    long double): then rounded once, as `math.fsum` rounds, for a handful of classes."""
    return T.sum(axis=0, dtype=np.longdouble).astype(float)


def _labelled_arrays(np):
    """The same over a batch: rows xs (one array per class), labels one per column. The finite case
    in a few whole-array steps; where a column holds an inf or nan, the float rule's plain formula."""

    def parts(label, xs):
        if all(type(x) is np.ndarray and x.ndim == 1 and x.shape == xs[0].shape for x in xs):
            Z = np.array(xs, dtype=float)  # (classes, batch): the rows of one layer, the common case
        else:
            Z = np.array(np.broadcast_arrays(*xs), dtype=float)
        n = Z.shape[1]
        label = np.asarray(label, dtype=float)
        k = label.astype(np.intp) if label.shape == (n,) else np.full(n, int(label), dtype=np.intp)
        if not ((k == label).all() and k.min() >= 0 and k.max() < len(xs)):
            raise ValueError(f"log_softmax() label must hold an integer class in [0, {len(xs)})")
        m = Z.max(axis=0)
        return Z, np.arange(n), k, m, _exp_shifted(np, Z, m)  # nan where m is ±inf, as the float rule

    def forward(label, *xs):
        Z, cols, k, m, T = parts(label, xs)
        picked = Z[k, cols]
        finite = np.isfinite(m)
        T[Z.argmax(axis=0), cols] = 0.0  # the first largest term, exactly 1, is the 1 of log1p
        out = (picked - m) - np.log1p(_column_sums(np, T))
        if not finite.all():  # a column with an inf or nan: the plain formula, as the float rule
            plain = (picked - m) - np.log(np.exp(Z - m).sum(axis=0))
            out = np.where(finite, out, plain)
        return out

    def derivative(ans, label, *xs):
        Z, cols, k, m, T = parts(label, xs)
        tk = T[k, cols].copy()
        T[k, cols] = 0.0
        others = _column_sums(np, T)  # 1 − s_k summed from the other terms, as the float rule
        whole = others + tk
        D = T / -whole
        D[k, cols] = others / whole
        return (0.0, *D)

    return forward, derivative


_log_softmax_labelled = Primitive(
    "log_softmax", _labelled_forward, _labelled_derivative, None, on_arrays=_labelled_arrays
)


@_exported
def log_softmax(values, index=None):
    """xᵢ − logsumexp(x) for each i (a list), or for i = ``index`` only (one node): the log of
    softmax without its underflow, exact at the largest input. Cross-entropy is −log_softmax(z)[y].

    ``index`` may be a `Value` holding the class (its gradient is 0): the node then reads the class
    at run time, so `compile` traces one graph for every label."""
    values = _as_sequence(values, "log_softmax")
    if not values:
        raise ValueError("log_softmax() of no values")
    n = len(values)
    if type(index) is Value:  # a label the graph reads (compile traces it as an input: one trace for every class)
        _class_of(index, n)
        return _log_softmax_labelled(index, *values)
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or not -n <= index < n):
        raise ValueError(f"log_softmax() index must be an int in [0, {n}), got {index!r}")
    wanted = range(n) if index is None else [index % n]
    outs = [_log_softmax_at(i)(*values) for i in wanted]
    return outs if index is None else outs[0]


@_exported
def softmax(values) -> list:
    """exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x) for each i: exact to an ulp for any |x|, and a list
    of Values (one node per output, each over every input) when any input is one."""
    values = _as_sequence(values, "softmax")
    if not values:
        raise ValueError("softmax() of no values")
    data = [v.data if type(v) is Value else _as_float(v, "softmax") for v in values]
    terms = _softmax_terms(data)
    total = _fsum(terms)
    outs = [t / total for t in terms]
    if not any(type(v) is Value for v in values):
        return outs
    parents = tuple(v if type(v) is Value else constant(v) for v in values)
    return [_node(s, parents, _softmax_at(i)) for i, s in enumerate(outs)]


def _as_sequence(values, where: str):
    if type(values) is tuple or type(values) is list:  # the common case, checked first
        return values
    if isinstance(values, (Value, str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{where}() needs a sequence of numbers or Values, got {type(values).__name__}")
    return tuple(values)


for _op in [v for v in list(globals().values()) if isinstance(v, Primitive)]:
    _op._trust()  # the built-ins' rules are tested at every edge; a user's primitive stays checked
    _trust_methods(_op)  # so are their forward rules: their operators and methods skip the result check
del _op
