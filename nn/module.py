"""Neurons, layers and MLPs on `Value`s: z = wᵀx + b as one fused node, then a = g(z).

A `Neuron` holds its weights ``w`` (a list of parameters) and its bias ``b``; a `Layer` holds
``neurons``; an `MLP` holds ``layers``. Layer l of an MLP is the documents' W⁽ˡ⁾ (row j =
neuron j's weights) and b⁽ˡ⁾ (document 001). Parameters are named by their dotted path from
the outermost module ("layers.0.neurons.3.w.1"), which is also each one's label, and every
node a neuron makes is tagged with that neuron's path (`_scope`) so pictures can group them.
Models are saved as plain JSON (architecture + weights), never pickle.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile

from autograd import Value, dot
from autograd.engine import constant, parameter, scope_tag

from . import activations as _activations
from . import init as _init

__all__ = ["Module", "Neuron", "Layer", "MLP", "load", "FORMAT", "VERSION"]

FORMAT = "chainrule.nn"  # the "format" tag of a saved model
VERSION = 1  # the newest file version this code writes and reads


class Module:
    """A tree of submodules holding parameters, like torch.nn.Module.

    Subclasses define ``__call__``, and ``_children()`` (named submodules) or
    ``_own_parameters()`` (named parameters of their own).
    """

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def _children(self) -> list:
        return []

    def _own_parameters(self) -> list:
        return []

    def parameters(self) -> list:
        """Every parameter, layer by layer, neuron by neuron, a neuron's weights then its bias."""
        params = [p for _, p in self._own_parameters()]
        for _, child in self._children():
            params += child.parameters()
        return params

    def named_parameters(self) -> list:
        """(dotted name, parameter) pairs in the order of `parameters`."""
        named = list(self._own_parameters())
        for name, child in self._children():
            named += [(f"{name}.{sub}", p) for sub, p in child.named_parameters()]
        return named

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0 (backward accumulates into leaves)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict:
        """{dotted name: float} for every parameter, in order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Copy the values of ``state`` into the parameters, in place.

        Strict: missing or unexpected names raise KeyError naming them; a value that is not a
        real number raises TypeError. Nothing is changed unless every value is accepted.
        """
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict() needs a dict, got {type(state).__name__}")
        named = self.named_parameters()
        missing, unexpected = _key_mismatch([n for n, _ in named], state)
        if missing or unexpected:
            raise KeyError(_describe_mismatch(self, missing, unexpected))
        values = []
        for name, _ in named:
            value = state[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"state_dict[{name!r}] must be a real number, got {type(value).__name__}")
            values.append(float(value))
        for (_, p), value in zip(named, values):
            p.data = value

    def _rename(self, prefix: str) -> None:
        """Give every neuron below its dotted path from the outermost module (done once, on adoption)."""
        for name, child in self._children():
            child._rename(f"{prefix}.{name}" if prefix else name)

    def _architecture(self) -> dict:
        raise NotImplementedError(
            f"{type(self).__name__} has no architecture to save; save its state_dict() instead"
        )

    def save(self, path) -> None:
        """Write the architecture and the weights to ``path`` as JSON (read back with `nn.load`)."""
        state = self.state_dict()
        for name, value in state.items():
            if not math.isfinite(value):
                raise ValueError(f"cannot save {self!r}: parameter {name!r} is {value}")
        document = {"format": FORMAT, "version": VERSION, "architecture": self._architecture(), "state_dict": state}
        text = json.dumps(document, indent=1, allow_nan=False)
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".chainrule-", suffix=".json.tmp")
        try:  # write then rename, so a crash never leaves a half-written model behind
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give it a normal file's mode
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


class Neuron(Module):
    """a = g(wᵀx + b): the pre-activation is one `autograd.dot` node, g one more ("linear": none).

    Weights come from `nn.init` (``init="auto"``: He for relu, Xavier otherwise), the bias
    starts at 0. ``fan_out`` is the width of the layer the neuron belongs to (for Xavier);
    ``rng`` (a ``random.Random``) is shared by a layer's neurons, ``seed`` makes a private one.
    """

    def __init__(self, nin: int, activation: str = "relu", init: str = "auto", seed=None, *, fan_out: int = 1, rng=None):
        _check_count("nin", nin)
        fn = _activations.get(activation)
        weights = _init.weights(_init.resolve(init, activation), nin, fan_out, _rng(seed, rng))
        self._activation = activation
        self._act = None if fn is _activations.linear else fn
        self._act_is_one_node = activation in _activations._BUILTIN
        self.w = [parameter(w) for w in weights]
        self.b = parameter(0.0)
        self._rename("")

    @property
    def nin(self) -> int:
        return len(self.w)

    @property
    def activation(self) -> str:
        return self._activation

    def _own_parameters(self) -> list:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def parameters(self) -> list:
        return [*self.w, self.b]

    def _rename(self, prefix: str) -> None:
        self._path = prefix
        self._tag = scope_tag(prefix)  # written straight into each node this neuron makes
        dotted = f"{prefix}." if prefix else ""
        for name, p in self._own_parameters():
            p.label = dotted + name
            p._scope = prefix

    def __call__(self, x):
        """a = g(wᵀx + b) for one example x (a list of floats or Values)."""
        _check_input(self, x, len(self.w))
        return self._forward(x)

    def _forward(self, x):
        z = dot(self.w, x, bias=self.b)
        z._tag = self._tag
        act = self._act
        if act is None:
            return z
        a = act(z)
        if self._act_is_one_node:
            a._tag = self._tag
        else:
            _tag_new_nodes(a, self._path)
        return a

    def _architecture(self) -> dict:
        return {"type": "Neuron", "nin": self.nin, "activation": self._activation}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, {self._activation})"


class Layer(Module):
    """nout neurons reading the same inputs: a = g(Wx + b), W of shape (nout, nin) (document 001)."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", init: str = "auto", seed=None, *, rng=None):
        _check_count("nin", nin)
        _check_count("nout", nout)
        rng = _rng(seed, rng)
        self.neurons = [Neuron(nin, activation, init, fan_out=nout, rng=rng) for _ in range(nout)]
        self._rename("")

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def _children(self) -> list:
        return [(f"neurons.{j}", n) for j, n in enumerate(self.neurons)]

    def parameters(self) -> list:
        return [p for n in self.neurons for p in (*n.w, n.b)]

    def __call__(self, x):
        """The layer's outputs for one example: a Value when nout = 1, else a list."""
        _check_input(self, x, self.nin)
        out = self._forward(x)
        return out[0] if len(out) == 1 else out

    def _forward(self, x) -> list:
        x = [v if type(v) is Value else constant(v) for v in x]  # wrap plain inputs once, not once per neuron
        return [n._forward(x) for n in self.neurons]

    def to_numpy(self, grad: bool = False):
        """(W, b) as NumPy arrays: W (nout, nin), row j = neuron j's weights; b (nout, 1).

        With ``grad=True``, the same layout filled with each parameter's `.grad`: (dW, db), to
        set beside `nn.reference.backward`."""
        import numpy as np

        field = "grad" if grad else "data"
        W = np.array([[getattr(w, field) for w in n.w] for n in self.neurons], dtype=np.float64)
        b = np.array([[getattr(n.b, field)] for n in self.neurons], dtype=np.float64)
        return W, b

    def _architecture(self) -> dict:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {self.nout} {self.activation})"


class MLP(Module):
    """A multilayer perceptron: layer sizes nin -> nouts[0] -> ... -> nouts[-1].

    Hidden layers use ``activation`` (one name, or one per hidden layer), the last layer
    ``output_activation``. ``init`` is an `nn.init` scheme or "auto" (He for relu, Xavier
    otherwise); ``seed`` makes the weights reproducible without touching the global
    ``random`` state. Calling it on one example returns a Value for one output, else a list.
    """

    def __init__(self, nin: int, nouts, activation="relu", output_activation: str = "linear", init: str = "auto", seed=None):
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
                raise ValueError(
                    f"activation lists {len(hidden)} names but there are {len(nouts) - 1} hidden layers"
                )
        rng = _init.rng_for(seed)
        sizes = [nin, *nouts]
        acts = [*hidden, output_activation]
        self.layers = [Layer(sizes[k], sizes[k + 1], acts[k], init, rng=rng) for k in range(len(nouts))]
        self._rename("")

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nouts(self) -> list:
        return [layer.nout for layer in self.layers]

    def _children(self) -> list:
        return [(f"layers.{k}", layer) for k, layer in enumerate(self.layers)]

    def parameters(self) -> list:
        return [p for layer in self.layers for n in layer.neurons for p in (*n.w, n.b)]

    def __call__(self, x):
        """Forward one example x (a list of nin floats or Values) through every layer."""
        _check_input(self, x, self.layers[0].nin)
        for layer in self.layers:
            x = layer._forward(x)
        return x[0] if len(x) == 1 else x

    def to_numpy(self, grad: bool = False):
        """(Ws, bs) in `nn.reference`'s layout: Ws[l] (n_l, n_{l−1}), bs[l] (n_l, 1); with
        ``grad=True``, (dWs, dbs) from the parameters' `.grad` in the same layout."""
        pairs = [layer.to_numpy(grad) for layer in self.layers]
        return [W for W, _ in pairs], [b for _, b in pairs]

    def _architecture(self) -> dict:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": self.nouts,
            "activations": [layer.activation for layer in self.layers],
        }

    def __repr__(self) -> str:
        return f"MLP({' -> '.join([str(self.nin)] + [f'{l.nout} {l.activation}' for l in self.layers])})"


# ---- helpers ---------------------------------------------------------------------------------
def _check_count(name: str, n) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


def _tag_new_nodes(out, path: str) -> None:
    """Tag the untagged nodes a registered activation made (everything above the tagged z)."""
    stack = [out]
    while stack:
        node = stack.pop()
        if not node._parents or node._scope is not None:
            continue
        node._scope = path
        stack.extend(node._parents)


def _key_mismatch(expected: list, given) -> tuple[list, list]:
    expected_set = set(expected)
    return [k for k in expected if k not in given], [k for k in given if k not in expected_set]


def _some(names: list, limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _describe_mismatch(module, missing: list, unexpected: list) -> str:
    parts = []
    if missing:
        parts.append(f"missing {len(missing)} key(s): {_some(missing)}")
    if unexpected:
        parts.append(f"unexpected {len(unexpected)} key(s): {_some(unexpected)}")
    return f"state_dict does not match {module!r}: " + "; ".join(parts)


# ---- loading ---------------------------------------------------------------------------------
def load(path) -> Module:
    """Read a model written by `Module.save`. A file that is not one raises ValueError saying why."""
    where = os.fspath(path)
    try:
        with open(where, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise ValueError(f"{where}: is a directory, not a chainrule model file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not a chainrule model file (not UTF-8 text)") from None
    if not text.strip():
        raise ValueError(f"{where}: not a chainrule model file (it is empty)")
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: not a chainrule model file: malformed or truncated JSON ({e})") from None
    except _NonFinite as e:
        raise ValueError(f"{where}: {e}") from None
    return _from_document(document, where)


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str):
    raise _NonFinite(f"the file holds {name}, which is not a valid weight (and not standard JSON)")


def _from_document(document, where: str) -> Module:
    def bad(msg: str):
        return ValueError(f"{where}: {msg}")

    if not isinstance(document, dict):
        raise bad(f"not a chainrule model file: the top level is a JSON {type(document).__name__}, expected an object")
    if "format" not in document:
        raise bad(f"not a chainrule model file: no 'format' tag (expected {FORMAT!r})")
    if document["format"] != FORMAT:
        raise bad(f"not a chainrule model file: format tag is {document['format']!r}, expected {FORMAT!r}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad(f"'version' must be a positive integer, got {version!r}")
    if version > VERSION:
        raise bad(f"file version {version} is newer than this chainrule reads (version {VERSION}); upgrade chainrule")
    for key in ("architecture", "state_dict"):
        if not isinstance(document.get(key), dict):
            raise bad(f"{key!r} must be a JSON object, got {type(document.get(key)).__name__}")
    try:
        module = _build(document["architecture"])
    except (TypeError, ValueError, KeyError) as e:
        raise bad(f"bad 'architecture': {_message(e)}") from None
    state = document["state_dict"]
    missing, unexpected = _key_mismatch([n for n, _ in module.named_parameters()], state)
    if missing or unexpected:
        raise bad(f"weights do not fit the architecture: {_describe_mismatch(module, missing, unexpected)}")
    for name, value in state.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"weight {name!r} must be a number, got {json.dumps(value)[:40]}")
    module.load_state_dict(state)
    return module


def _message(e: Exception) -> str:
    return e.args[0] if isinstance(e, KeyError) and e.args else str(e)


def _field(arch: dict, key: str):
    if key not in arch:
        raise KeyError(f"missing field {key!r}")
    return arch[key]


def _build(arch: dict) -> Module:
    """An untrained module of the saved architecture (zero weights, soon overwritten)."""
    kind = _field(arch, "type")
    if kind == "Neuron":
        return Neuron(_field(arch, "nin"), _activation_name(_field(arch, "activation")), "zeros")
    if kind == "Layer":
        return Layer(_field(arch, "nin"), _field(arch, "nout"), _activation_name(_field(arch, "activation")), "zeros")
    if kind == "MLP":
        nouts, acts = _field(arch, "nouts"), _field(arch, "activations")
        if not isinstance(nouts, list) or not isinstance(acts, list):
            raise TypeError("'nouts' and 'activations' must be lists")
        if len(acts) != len(nouts):
            raise ValueError(f"{len(nouts)} layer sizes but {len(acts)} activations")
        if not acts:
            raise ValueError("nouts is empty: an MLP needs at least one layer")
        acts = [_activation_name(a) for a in acts]
        return MLP(_field(arch, "nin"), nouts, acts[:-1], acts[-1], "zeros")
    raise ValueError(f"unknown module type {kind!r}; expected 'Neuron', 'Layer' or 'MLP'")


def _activation_name(name):
    if type(name) is not str:
        raise TypeError(f"activation must be a name, got {json.dumps(name)[:40]}")
    _activations.get(name)  # ValueError listing the valid names (register custom ones before loading)
    return name
