"""Neurons, layers and MLPs on `Value`s: z = wᵀx + b as one fused node, then a = g(z).

A `Neuron` holds its weights ``w`` (a list of parameters) and its bias ``b``; a `Layer` holds
``neurons``; an `MLP` holds ``layers``. Layer l of an MLP is the weight matrix W of shape
(n_out, n_in), row j = neuron j's weights, and the bias column b of shape (n_out, 1).
Parameters are named by their dotted path from the outermost module ("layers.0.neurons.3.w.1"):
the keys of `state_dict`, so saved files keep working. Their labels, which pictures and reprs
show, are the names the maths uses: ``W1[3,1]`` (layer l counted from 1, row = neuron, column =
input) and ``b1[3]``, so a picture maps straight onto the closed forms dW1, db1; a bare Layer's
read ``W[j,i]`` and ``b[j]``, a bare Neuron's ``w[i]`` and ``b``. Each neuron makes its nodes
inside ``autograd.scope(path)``, path "layer.1.neuron.3" (the layer first, counted from 1; the
neuron from 0, its row of W1), so pictures can group them by neuron or by layer. Models are saved as plain JSON by `nn.serialize`, never pickle.
"""

from __future__ import annotations

import json
import numbers
import re

from autograd import Value, constant, dot, parameter, scope
from autograd.extras import require

from . import activations as _activations
from . import init as _init
from . import serialize as _serialize

__all__ = ["Module", "Neuron", "Layer", "MLP", "readable_label"]


class Module:
    """A tree of submodules holding parameters, like torch.nn.Module.

    Parameters and submodules are found by walking the public attributes, in the order they
    were assigned: a parameter `Value`, a `Module`, or a list of either (named by index).
    A parameter held in two places (tied weights) is one parameter: `parameters` and
    `named_parameters` list it once, under its first name, as PyTorch does; `state_dict` keeps
    every name. Subclasses define ``__call__``.
    """

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def __setattr__(self, name: str, value) -> None:
        if name[0] != "_":  # a public attribute may hold parameters: every parameter list is stale
            _stale()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name[0] != "_":
            _stale()
        object.__delattr__(self, name)

    def named_parameters(self, *, remove_duplicate: bool = True) -> list:
        """(dotted name, parameter) pairs: attribute by attribute, depth first. A parameter held
        under several names comes once, under the first, unless ``remove_duplicate=False``."""
        named = list(_walk(self, "", []))
        if not remove_duplicate:
            return named
        seen = set()
        return [(name, p) for name, p in named if not (p in seen or seen.add(p))]

    def parameters(self) -> list:
        """Every parameter once, in the order of `named_parameters` (layer by layer, a neuron's weights then its bias)."""
        return list(self._parameter_list())

    def _parameter_list(self) -> list:
        """`parameters()`, kept until a public attribute of any module is set or a list one holds
        changes (checked by comparing the lists with copies, identity by identity, in C)."""
        cache = self.__dict__.get("_parameter_cache")
        if cache is not None and cache[0] == _generation[0] and all(map(list.__eq__, cache[1], cache[2])):
            return cache[3]
        generation, lists = _generation[0], []
        seen = set()
        params = [p for _, p in _walk(self, "", lists) if not (p in seen or seen.add(p))]
        object.__setattr__(self, "_parameter_cache", (generation, lists, [list(x) for x in lists], params))
        return params

    def modules(self) -> list:
        """(dotted name, module) for each submodule below this one, depth first."""
        found = []
        for name, value in _members(self):
            if isinstance(value, Module):
                found.append((name, value))
                found += [(f"{name}.{sub}", m) for sub, m in value.modules()]
        return found

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (backward accumulates into leaves)."""
        for p in self._parameter_list():
            p.grad = 0.0

    def state_dict(self) -> dict:
        """{dotted name: float} for every parameter, in order; a tied parameter under each of its names (as PyTorch)."""
        return {name: p.data for name, p in self.named_parameters(remove_duplicate=False)}

    def load_state_dict(self, state: dict) -> None:
        """Copy the values of ``state`` into the parameters, in place.

        Strict: missing or unexpected names raise KeyError naming them; a value that is not a
        real number raises TypeError; one too large for a float, or two different values for the
        names of one tied parameter, ValueError. Nothing is changed unless every value is accepted.
        """
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict() needs a dict, got {type(state).__name__}")
        named = self.named_parameters(remove_duplicate=False)
        missing, unexpected = _serialize.key_mismatch([n for n, _ in named], state)
        if missing or unexpected:
            raise KeyError(_serialize.describe_mismatch(self, missing, unexpected))
        values, first = [], {}
        for name, p in named:
            value = state[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"state_dict[{name!r}] must be a real number, got {type(value).__name__}")
            try:
                value = float(value)
            except OverflowError:  # an int (or Fraction) beyond the largest float
                raise ValueError(f"state_dict[{name!r}] is too large for a float (beyond ±1.8e308)") from None
            if p in first and first[p][1] != value:
                raise ValueError(
                    f"state_dict[{first[p][0]!r}] and state_dict[{name!r}] name one tied parameter "
                    f"but hold different values ({first[p][1]} and {value})"
                )
            first.setdefault(p, (name, value))
            values.append(value)
        for (_, p), value in zip(named, values):
            p.data = value

    def __getstate__(self) -> dict:
        """What pickle and copy keep: the attributes, less the cached parameter list."""
        state = dict(self.__dict__)
        state.pop("_parameter_cache", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def save(self, path) -> None:
        """Write the architecture and the weights to ``path`` as JSON (read back with `nn.load`)."""
        _serialize.save(self, path)

    def _adopt(self) -> None:
        """Name every parameter below as the maths writes it (`readable_label` of its dotted path
        from this module, the outermost) and give every neuron below its scope."""
        for name, p in self.named_parameters():
            p.label = readable_label(name)
        for name, m in [("", self), *self.modules()]:
            if isinstance(m, Neuron):
                m._scope = scope(_readable_scope(name))

    def _architecture(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} has no architecture to save; save its state_dict() instead")

    @classmethod
    def _parameter_count(cls, arch: dict) -> int:
        """How many parameters a module of this saved architecture holds, worked out without building it."""
        raise NotImplementedError(f"{cls.__name__} cannot be loaded from a file")


# A parameter's dotted path, read from its end: the MLP, bare Layer and bare Neuron patterns.
_PARAMETER_PATHS = (
    (re.compile(r"layers\.(\d+)\.neurons\.(\d+)\.w\.(\d+)$"), lambda l, j, i: f"W{int(l) + 1}[{j},{i}]"),
    (re.compile(r"layers\.(\d+)\.neurons\.(\d+)\.b$"), lambda l, j: f"b{int(l) + 1}[{j}]"),
    (re.compile(r"(?:^|(?<=\.))neurons\.(\d+)\.w\.(\d+)$"), lambda j, i: f"W[{j},{i}]"),
    (re.compile(r"(?:^|(?<=\.))neurons\.(\d+)\.b$"), lambda j: f"b[{j}]"),
    (re.compile(r"(?:^|(?<=\.))w\.(\d+)$"), lambda i: f"w[{i}]"),
)


def readable_label(path: str) -> str:
    """The name the maths uses for the parameter at dotted ``path`` (a `state_dict` key).

    "layers.0.neurons.3.w.1" -> "W1[3,1]" (layer counted from 1, row = neuron, column = input),
    "layers.1.neurons.0.b" -> "b2[0]"; a bare Layer's "neurons.3.w.1" -> "W[3,1]", "neurons.3.b"
    -> "b[3]"; a bare Neuron's "w.1" -> "w[1]". Whatever comes before the pattern (a custom
    module's attribute, "encoder.") is kept; any other path is returned as it is.
    """
    for pattern, name in _PARAMETER_PATHS:
        match = pattern.search(path)
        if match:
            return path[: match.start()] + name(*match.groups())
    return path


def _readable_scope(path: str) -> str:
    """A neuron's scope: "layers.0.neurons.3" -> "layer.1.neuron.3", "neurons.3" -> "neuron.3".

    Still dotted with the layer first, so `autograd.viz` folds by neuron (the whole scope) or by
    layer (its first two parts)."""
    path = re.sub(r"(?:^|(?<=\.))layers\.(\d+)(?=\.|$)", lambda m: f"layer.{int(m[1]) + 1}", path)
    return re.sub(r"(?:^|(?<=\.))neurons\.(\d+)(?=\.|$)", r"neuron.\1", path)


_generation = [0]  # bumped whenever a public attribute of any module is set: cached parameter lists are stale


def _stale() -> None:
    _generation[0] += 1


def _walk(module, prefix: str, lists: list):
    """(dotted name, parameter) for every parameter below `module`, duplicates included; each
    list a public attribute holds is appended to `lists` (to notice a change made in place)."""
    for name, value in vars(module).items():
        if name[0] == "_":
            continue
        if isinstance(value, list):
            lists.append(value)
            items = [(f"{name}.{i}", item) for i, item in enumerate(value)]
        else:
            items = [(name, value)]
        for sub, item in items:
            if isinstance(item, Module):
                yield from _walk(item, f"{prefix}{sub}.", lists)
            elif _is_parameter(item):
                yield f"{prefix}{sub}", item


def _members(module):
    """(name, parameter or submodule) for each one held by a public attribute, lists unrolled."""
    for name, value in vars(module).items():
        if name[0] == "_":
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Module) or _is_parameter(item):
                    yield f"{name}.{i}", item
        elif isinstance(value, Module) or _is_parameter(value):
            yield name, value


def _is_parameter(x) -> bool:
    return type(x) is Value and x.role == "parameter"


@_serialize.register
class Neuron(Module):
    """a = g(wᵀx + b): the pre-activation is one `autograd.dot` node, g one more ("linear": none).

    Weights come from `nn.init` (``init="auto"``: He for relu, Xavier otherwise), the bias
    starts at 0. ``fan_out`` is the width of the layer the neuron belongs to (for Xavier);
    ``rng`` (a ``random.Random``) is shared by a layer's neurons, ``seed`` makes a private one.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        init: str = "auto",
        seed=None,
        *,
        fan_out: int = 1,
        rng=None,
        _inner: bool = False,
    ):
        _check_count("nin", nin)
        fn = _activations.get(activation)
        weights = _init.weights(_init.resolve(init, activation), nin, fan_out, _rng(seed, rng))
        self._activation = activation
        self._act = None if fn is _activations.linear else fn
        self._act_is_one_node = activation in _activations.BUILTIN
        self._one_node_act = self._act if self._act_is_one_node else None  # the hot path's one test
        self.w = [parameter(w) for w in weights]
        self.b = parameter(0.0)
        if not _inner:  # a Layer building its neurons names them once, when it adopts them all
            self._adopt()

    @property
    def nin(self) -> int:
        return len(self.w)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_act", None)  # a function: pickle keeps the activation's name and finds it again
        state.pop("_one_node_act", None)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        fn = _activations.get(self._activation)
        self._act = None if fn is _activations.linear else fn
        self._one_node_act = self._act if self._act_is_one_node else None

    @property
    def activation(self) -> str:
        return self._activation

    def __call__(self, x):
        """a = g(wᵀx + b) for one example x (a list of floats or Values)."""
        if type(x) is not list or len(x) != len(self.w):  # the usual case passes one test
            _check_input(self, x, len(self.w))
        return self._forward(x)

    def _forward(self, x):
        """The neuron on an input its layer has already checked."""
        z = dot(self.w, x, self.b)
        act = self._one_node_act
        if act is not None:  # the hot path: name the two nodes after making them
            a = act(z)
            self._scope.tag(z, a)
            return a
        if self._act is None:
            self._scope.tag(z)
            return z
        self._scope.tag(z)
        with self._scope:  # a registered activation may make many nodes: all are named
            return self._act(z)

    def _architecture(self) -> dict:
        return {"type": "Neuron", "nin": self.nin, "activation": self._activation}

    @classmethod
    def _from_architecture(cls, arch: dict):
        return cls(_field(arch, "nin"), _activation_name(_field(arch, "activation")), "zeros")

    @classmethod
    def _parameter_count(cls, arch: dict) -> int:
        return _count(arch, "nin") + 1

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, {self._activation})"


@_serialize.register
class Layer(Module):
    """nout neurons reading the same inputs: a = g(Wx + b), W of shape (nout, nin), row j = neuron j."""

    def __init__(
        self, nin: int, nout: int, activation: str = "relu", init: str = "auto", seed=None, *, rng=None, _inner=False
    ):
        _check_count("nin", nin)
        _check_count("nout", nout)
        rng = _rng(seed, rng)
        self.neurons = [Neuron(nin, activation, init, fan_out=nout, rng=rng, _inner=True) for _ in range(nout)]
        if not _inner:  # an MLP building its layers names everything once, when it adopts them all
            self._adopt()

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __call__(self, x):
        """The layer's outputs for one example: a Value when nout = 1, else a list."""
        if type(x) is not list or len(x) != len(self.neurons[0].w):  # the usual case passes one test
            _check_input(self, x, self.nin)
        out = self._forward(x)
        return out[0] if len(out) == 1 else out

    def _forward(self, x) -> list:
        """The layer's outputs as a list, on an input already checked."""
        x = [v if type(v) is Value else constant(v) for v in x]  # wrap plain inputs once, not once per neuron
        return [n._forward(x) for n in self.neurons]

    def to_numpy(self, grad: bool = False):
        """(W, b) as NumPy arrays: W (nout, nin), row j = neuron j's weights; b (nout, 1).

        With ``grad=True``, the same layout filled with each parameter's `.grad`: (dW, db), to
        set beside `nn.reference.backward`."""
        np = require("numpy", "to_numpy")

        field = "grad" if grad else "data"
        W = np.array([[getattr(w, field) for w in n.w] for n in self.neurons], dtype=np.float64)
        b = np.array([[getattr(n.b, field)] for n in self.neurons], dtype=np.float64)
        return W, b

    def _architecture(self) -> dict:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    @classmethod
    def _from_architecture(cls, arch: dict):
        return cls(_field(arch, "nin"), _field(arch, "nout"), _activation_name(_field(arch, "activation")), "zeros")

    @classmethod
    def _parameter_count(cls, arch: dict) -> int:
        return _count(arch, "nout") * (_count(arch, "nin") + 1)

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {self.nout} {self.activation})"


@_serialize.register
class MLP(Module):
    """A multilayer perceptron: layer sizes nin -> nouts[0] -> ... -> nouts[-1].

    Hidden layers use ``activation`` (one name, or one per hidden layer), the last layer
    ``output_activation``. ``init`` is an `nn.init` scheme or "auto" (He for relu, Xavier
    otherwise); ``seed`` makes the weights reproducible without touching the global
    ``random`` state. Calling it on one example returns a Value for one output, else a list.
    """

    def __init__(
        self, nin: int, nouts, activation="relu", output_activation: str = "linear", init: str = "auto", seed=None
    ):
        _check_count("nin", nin)
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__iter__"):
            raise TypeError(f"nouts must be a list of layer sizes, got {type(nouts).__name__}")
        nouts = list(nouts)
        if not nouts:
            raise ValueError("nouts is empty: an MLP needs at least one layer")
        for k, n in enumerate(nouts):
            _check_count(f"nouts[{k}]", n)
        if isinstance(activation, str):
            hidden = [activation] * (len(nouts) - 1)
        else:
            hidden = list(activation)
            if len(hidden) != len(nouts) - 1:
                raise ValueError(f"activation lists {len(hidden)} names but there are {len(nouts) - 1} hidden layers")
        rng = _init.rng_for(seed)
        sizes = [nin, *nouts]
        acts = [*hidden, output_activation]
        self.layers = [Layer(sizes[k], sizes[k + 1], acts[k], init, rng=rng, _inner=True) for k in range(len(nouts))]
        self._adopt()

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list:
        return [layer.nout for layer in self.layers]

    def __call__(self, x):
        """Forward one example x (a list of nin floats or Values) through every layer."""
        if type(x) is not list or len(x) != len(self.layers[0].neurons[0].w):
            _check_input(self, x, self.nin)
        for layer in self.layers:  # each layer's width matches the next one's inputs: checked once, here
            x = layer._forward(x)
        return x[0] if len(x) == 1 else x

    def to_numpy(self, grad: bool = False):
        """(Ws, bs) in `nn.reference`'s layout: Ws[l] (n_l, n_{l−1}), bs[l] (n_l, 1); with
        ``grad=True``, (dWs, dbs) from the parameters' `.grad` in the same layout."""
        pairs = [layer.to_numpy(grad) for layer in self.layers]
        return [W for W, _ in pairs], [b for _, b in pairs]

    def to_torch(self):
        """A float64 ``torch.nn.Sequential`` (Linear + activation modules) with this model's weights; see `nn.pytorch`."""
        from . import pytorch

        return pytorch.to_torch(self)

    @classmethod
    def from_torch(cls, module) -> MLP:
        """The MLP a ``torch.nn.Sequential`` of Linear and ReLU/Tanh/Sigmoid modules computes; see `nn.pytorch`."""
        from . import pytorch

        return pytorch.from_torch(module, cls)

    def _architecture(self) -> dict:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": self.nouts,
            "activations": [layer.activation for layer in self.layers],
        }

    @classmethod
    def _from_architecture(cls, arch: dict):
        nouts, acts = _field(arch, "nouts"), _field(arch, "activations")
        if not isinstance(nouts, list) or not isinstance(acts, list):
            raise TypeError("'nouts' and 'activations' must be lists")
        if len(acts) != len(nouts):
            raise ValueError(f"{len(nouts)} layer sizes but {len(acts)} activations")
        if not acts:
            raise ValueError("nouts is empty: an MLP needs at least one layer")
        acts = [_activation_name(a) for a in acts]
        return cls(_field(arch, "nin"), nouts, acts[:-1], acts[-1], "zeros")

    @classmethod
    def _parameter_count(cls, arch: dict) -> int:
        nouts = _field(arch, "nouts")
        if not isinstance(nouts, list):
            raise TypeError("'nouts' must be a list")
        if not nouts:
            raise ValueError("nouts is empty: an MLP needs at least one layer")
        total, fan_in = 0, _count(arch, "nin")
        for i, n in enumerate(nouts):
            _check_count(f"nouts[{i}]", n)
            total += n * (fan_in + 1)
            fan_in = n
        return total

    def __repr__(self) -> str:
        return f"MLP({' -> '.join([str(self.nin)] + [f'{l.nout} {l.activation}' for l in self.layers])})"


# ---- helpers ---------------------------------------------------------------------------------
def _check_count(name: str, n) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")


def _rng(seed, rng):
    if rng is None:
        return _init.rng_for(seed)
    if seed is not None:
        raise ValueError("pass seed or rng, not both")
    return rng


def _check_input(module, x, nin: int) -> None:
    try:
        n = len(x)
    except TypeError:
        raise TypeError(f"{module!r} takes a list of {nin} inputs, got {type(x).__name__}") from None
    if n != nin:
        raise ValueError(f"{module!r} takes {nin} inputs, got {n}")


def _count(arch: dict, key: str) -> int:
    n = _field(arch, key)
    _check_count(key, n)
    return n


def _field(arch: dict, key: str):
    if key not in arch:
        raise KeyError(f"missing field {key!r}")
    return arch[key]


def _activation_name(name):
    if type(name) is not str:
        raise TypeError(f"activation must be a name, got {json.dumps(name)[:40]}")
    _activations.get(name)  # ValueError listing the valid names (register custom ones before loading)
    return name
