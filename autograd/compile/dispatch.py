"""The compiled function: picks a cached trace whose guards hold, traces again, or runs eagerly (counted)."""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict

from .. import ops
from ..anomaly import detecting
from ..engine import Value, _enable_grad, constant, gc_paused, observing
from ..functional import gradients
from .arrays import write_lifted
from .emit import _batch_leaves, _build, _numpy, _write_batch, _write_single
from .ir import program
from .lift import lift
from .names import _identifier
from .pytree import (
    _aux_floats,
    _count_inputs,
    _flatten_aux,
    _flattener,
    _is_real,
    _key,
    _number,
    _rebuild_aux,
    _shape,
)
from .signals import _Eager, _Stale
from .trace import _env_reader, _Trace, _TraceObserver

_BATCH_MODES = (None, "python", "numpy")


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
        self._theta = None  # the params' numbers as an array, during a `batch_arrays` call
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
        if detecting():  # detect_anomaly(): eager, where every node is checked
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
        if detecting():  # detect_anomaly(): eager, where every node is checked
            return self._through_values(lambda: self._eager_batch(examples, kwargs))
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
            return self._through_values(lambda: self._eager_batch(examples, kwargs))
        body_of: dict = {}  # id(key) -> body: examples described alike share one key object, hashed once
        for k, (key, _) in enumerate(rows):
            if id(key) in body_of:
                continue
            if key not in self._batch_keys:
                if len(self._batch_keys) >= _MAX_KEYS:
                    return self._through_values(lambda: self._eager_batch(examples, kwargs))
                self._through_values(lambda: None)  # a trace reads the params' numbers (its guards do)
                trace = self._trace(examples[k], kwargs, key[0], ())
                if trace is None:
                    return self._through_values(lambda: self._eager_batch(examples, kwargs))
                self._batch_keys[key] = len(self._batch_traces)
                self._batch_traces.append(trace)
                self._batch_fns.clear()
            body_of[id(key)] = self._batch_keys[key]
        keyed = [(body_of[id(key)], flat) for key, flat in rows]
        if self._batch == "numpy":
            try:
                return self._run_numpy(keyed, m, self._theta)
            except Exception:  # noqa: BLE001 - a guard, or a rule that does not vectorise: run the loop
                self.stats["numpy_fallbacks"] = self.stats.get("numpy_fallbacks", 0) + 1

        def loop():
            try:
                return self._run_loop(keyed, m)
            except (_Stale, ArithmeticError, ValueError):
                return self._eager_batch(examples, kwargs)

        return self._through_values(loop)

    def batch_arrays(self, theta, *args, **kwargs):
        """A batch call with the params' numbers given as one array ``theta`` (params order):
        returns (value, or (value, aux) with has_aux; the gradient of the batch mean, an array). The params'
        `Value`s are not read, and their ``.grad`` not touched, on the NumPy path; a batch that
        cannot run there runs through them (theta written into ``.data`` first). For `nn.fit`,
        which keeps the parameters in arrays while it trains."""
        if self._batch != "numpy":
            raise ValueError("batch_arrays needs compile(batch='numpy')")
        if len(theta) != len(self._params):
            raise ValueError(f"theta has {len(theta)} numbers for {len(self._params)} params")
        with self._lock:
            self.stats["calls"] += 1
            self._theta = theta
            try:
                (value, _), grad = self._call_batch(args, kwargs)
            finally:
                self._theta = None
        return value, grad

    def _through_values(self, run):
        """``run()`` for a batch that goes through the params' Values (a trace, the loop, eager).
        Under `batch_arrays`: theta's numbers are written into the Values first, and the gradient
        is read back from fresh ``.grad``s, as (result, gradient array)."""
        theta = self._theta
        if theta is None:
            return run()
        for p, x in zip(self._params, theta.tolist()):
            p.data = x
            p.grad = 0.0
        result = run()
        return result, _numpy().array([p.grad for p in self._params], dtype=float)

    def _describe_batch(self, examples, kwargs) -> list:
        """(key, numbers) of each example; examples shaped like the one before take a fast path."""
        rows = []
        key = flatten = None
        kw = tuple(sorted((k, _key(v)) for k, v in kwargs.items()))
        for ex in examples:
            flat = flatten(ex) if flatten is not None else None
            if flat is None:  # another key of this call's keywords? (examples of several classes alternate)
                for other_key, other in reversed(self._flatteners.items()):
                    if other is not flatten and other_key[1] == kw:
                        flat = other(ex)
                        if flat is not None:
                            key, flatten = other_key, other
                            break
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

    def _run_numpy(self, keyed, m, theta=None):
        """The batch as NumPy arrays, one call per body (examples grouped by static key). With
        ``theta`` (the params' numbers as one array) the params' Values are neither read nor
        written: the gradient comes back as an array, params order."""
        np = _numpy()
        groups: dict = {}
        first = keyed[0][0]
        if all(body == first for body, _ in keyed):  # one body (one static key): the common case
            groups[first] = (range(m - 1, -1, -1), [flat for _, flat in reversed(keyed)])
        else:
            for k in reversed(range(m)):  # last example first, the order backward() adds them in
                body, flat = keyed[k]
                groups.setdefault(body, ([], []))
                groups[body][0].append(k)
                groups[body][1].append(flat)
        leaves, param_pos, from_theta = self._union_leaves(np)
        if theta is None:
            L = np.array([v.data for v in leaves], dtype=float)
        elif from_theta[4]:  # the leaves are the params, in order: theta itself
            L = theta
        else:
            L = np.empty(len(leaves))
            L[from_theta[0]] = theta[from_theta[1]]
            if from_theta[2]:
                L[from_theta[2]] = [leaves[j].data for j in from_theta[2]]
        G_all = np.zeros(len(leaves))
        totals = None
        aux_rows = [None] * m
        value_rows = [0.0] * m  # each example's value, in the caller's order: added up as eager adds them
        with np.errstate(all="ignore"):
            for body, (indices, flats) in groups.items():
                if body not in self._batch_fns:
                    self._batch_fns[body] = self._write_numpy(self._batch_traces[body], np)
                fn, source, lifted, idx = self._batch_fns[body]
                n = len(indices)
                if lifted:  # layers as matrices: the inputs as one (inputs, batch) array, parameters in one array
                    X = np.array(flats, dtype=float).T if flats[0] else np.empty((0, n))
                    if idx is None:  # this body reads every leaf, in order
                        value, aux_b, G = fn(X, n, L, 1.0 / m)
                        G_all += G
                    else:
                        value, aux_b, G = fn(X, n, L[idx], 1.0 / m)
                        G_all[idx] += G
                    values, aux = [value], [aux_b]
                else:
                    data = (L if idx is None else L[idx]).tolist()
                    columns = list(np.array(flats, dtype=float).T) if flats[0] else []
                    values, aux, grads = fn((0, columns, n), data, [0.0] * len(self._params), 1.0 / m)
                    totals = grads if totals is None else [t + g for t, g in zip(totals, grads)]
                per_example = np.broadcast_to(values[0], (n,)).tolist()
                for j, k in enumerate(indices):
                    value_rows[k] = per_example[j]
                if self._has_aux:  # each example's aux numbers, as floats, in one conversion
                    if aux[0]:
                        cols = [
                            a if type(a) is np.ndarray and a.shape == (n,) else np.broadcast_to(a, (n,)) for a in aux[0]
                        ]
                        rows = np.array(cols, dtype=float).T.tolist()
                    else:
                        rows = [[] for _ in range(n)]
                    for j, k in enumerate(indices):
                        aux_rows[k] = rows[j]
                self._source = source
        if from_theta[4]:
            grad = G_all
        elif from_theta[3] is None:  # a param f never read: its gradient is 0
            grad = np.array([G_all[j] if j is not None else 0.0 for j in param_pos], dtype=float)
        else:
            grad = G_all[from_theta[3]]
        if totals is not None:
            grad = grad + np.array(totals, dtype=float)
        result = self._batch_result(value_rows, aux_rows, [body for body, _ in keyed], m)
        if theta is not None:
            return result, grad
        for p, g in zip(self._params, grad.tolist()):
            p.grad += g
        return result

    def _union_leaves(self, np):
        """Every body's leaves once; each param's position among them; and how to fill them from
        theta (positions, theta indices, positions of leaves that are not params)."""
        if "union" not in self._batch_fns:
            leaves = self._leaves_of_batch()
            where = {id(v): j for j, v in enumerate(leaves)}
            param_pos = [where.get(id(p)) for p in self._params]
            pairs = [(j, i) for i, j in enumerate(param_pos) if j is not None]
            is_param = {j for j, _ in pairs}
            fill = (
                np.array([j for j, _ in pairs], dtype=np.intp),
                np.array([i for _, i in pairs], dtype=np.intp),
                [j for j in range(len(leaves)) if j not in is_param],
                None if None in param_pos else np.array(param_pos, dtype=np.intp),  # the params among the leaves
                param_pos == list(range(len(leaves))),  # the leaves are exactly the params, in order
            )
            self._batch_fns["union"] = (leaves, param_pos, fill)
        return self._batch_fns["union"]

    def _write_numpy(self, trace, np):
        """(fn, source, lifted, idx) for one body: its layers as matrices where `lift` finds layers,
        else one array per node; idx: the positions of the body's leaves among every body's."""
        leaves = self._union_leaves(np)[0]
        where = {id(v): j for j, v in enumerate(leaves)}
        idx = np.array([where[id(v)] for v in _batch_leaves([trace])], dtype=np.intp)
        if len(idx) == len(leaves) and (idx == np.arange(len(leaves))).all():
            idx = None  # every leaf, in order: no gathering
        prog = program(trace)
        found = lift(prog)
        if found is not None:
            source, globals_ = write_lifted(prog, found, self._params, self._fname, np, trace.input_names)
            return _build([source], globals_, self._fname), source, True, idx
        source, globals_ = _write_batch([trace], self._params, "numpy", self._fname)
        return _build([source], globals_, self._fname), source, False, idx

    def _leaves_of_batch(self) -> list:
        if "leaves" not in self._batch_fns:
            self._batch_fns["leaves"] = _batch_leaves(self._batch_traces)
        return self._batch_fns["leaves"]

    def _batch_result(self, values, aux, bodies, m):
        """The mean of the examples' values (and each example's aux, rebuilt in its trace's shape)."""
        value = ops.total(values) / m
        if self._has_aux:
            flat = {body: _is_flat_list(self._batch_traces[body].aux_shape) for body in set(bodies)}
            rebuilt = [
                a if type(a) is list and flat[body] else _rebuild_aux(self._batch_traces[body].aux_shape, list(a))
                for body, a in zip(bodies, aux)
            ]
            return (value, rebuilt), ()
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


def _is_flat_list(shape) -> bool:
    """An aux that is a list of numbers (a model's outputs): its floats are already that list."""
    return type(shape) is tuple and shape[0] == "list" and all(x == "v" for x in shape[1])
