"""Hand an `MLP` to PyTorch and take it back, with the same numbers (the ``torch`` extra).

An MLP's layer l is ``torch.nn.Linear(n_{l−1}, n_l)`` in float64 (weight row j = neuron j's
weights, bias j = its bias), followed by ``ReLU``, ``Tanh`` or ``Sigmoid``, or by nothing for
"linear". Copies are made both ways: the two models never share memory, so training one leaves
the other alone. `MLP.to_torch` and `MLP.from_torch` call these (the MLP side imports this module,
never the reverse); torch is imported on first use.
"""

from __future__ import annotations

from autograd.extras import require

__all__ = ["ACTIVATIONS", "from_torch", "to_torch"]

ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
"""chainrule's activation name -> the torch.nn module that computes it ("linear" has none)."""

_BY_MODULE = {module: name for name, module in ACTIVATIONS.items()}


def _torch(what: str):
    """torch, or one line naming the extra that installs it."""
    return require("torch", what)


def to_torch(model):
    """A ``torch.nn.Sequential`` of float64 Linear and activation modules computing what ``model`` does.

    Raises ValueError for an activation torch has no module for here (one made with
    `nn.activations.register`), naming the layer, and TypeError for anything that is not an MLP
    (a bare `nn.Layer` or `nn.Neuron`, any other module), naming it.
    """
    _check_convertible(model)
    torch = _torch("MLP.to_torch")
    modules = []
    for k, layer in enumerate(model.layers):
        name = layer.activation
        if name != "linear" and name not in ACTIVATIONS:
            raise ValueError(
                f"layer {k} of {model!r} uses the activation {name!r}, which has no PyTorch module here; "
                f"to_torch knows {', '.join(ACTIVATIONS)} and linear"
            )
        linear = torch.nn.utils.skip_init(torch.nn.Linear, layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():  # skip_init leaves the memory unset and draws no random numbers
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if name in ACTIVATIONS:
            modules.append(getattr(torch.nn, ACTIVATIONS[name])())
    return torch.nn.Sequential(*modules)


def _check_convertible(model) -> None:
    """Refuse, in one line naming it, what is not an MLP-like stack of layers of neurons."""
    layers = getattr(model, "layers", None)
    parts = ("nin", "nout", "neurons", "activation")
    if (
        not isinstance(layers, (list, tuple))
        or not layers
        or not all(all(hasattr(l, a) for a in parts) for l in layers)
    ):
        shown = repr(model)
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        raise TypeError(
            f"to_torch converts an nn.MLP (layers of neurons), got {type(model).__name__}: {shown}; "
            f"for a single layer, convert an MLP made of it, e.g. nn.MLP(nin, [nout])"
        )


def from_torch(module, cls):
    """A ``cls`` (`MLP` or a subclass) with the layers and weights of ``module``, a Sequential
    such as `to_torch` makes. The class is passed in, so this module never imports `nn.module`.

    Each ``Linear`` (with a bias) may be followed by one ``ReLU``, ``Tanh`` or ``Sigmoid``;
    anything else is refused with a ValueError (TypeError for a module that is not a
    Sequential) naming the offending layer. Weights of any float dtype become Python floats,
    exactly (float32 and float16 values are all float64 values).
    """
    torch = _torch("MLP.from_torch")
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(
            f"from_torch needs a torch.nn.Sequential of Linear and activation modules, got {type(module).__name__}"
        )
    children = list(module.children())
    if not children:
        raise ValueError("from_torch got an empty Sequential: an MLP needs at least one Linear layer")
    known = "Linear (with a bias), each optionally followed by one of " + ", ".join(_BY_MODULE)
    layers = []  # [Linear, activation name]
    for i, child in enumerate(children):
        kind, shown = type(child).__name__, _one_line(child)
        if type(child) is torch.nn.Linear:
            if child.bias is None:
                raise ValueError(f"layer {i} ({shown}) has no bias, and every chainrule neuron has one")
            if layers and layers[-1][0].out_features != child.in_features:
                raise ValueError(
                    f"layer {i} ({shown}) takes {child.in_features} inputs but the layer before gives "
                    f"{layers[-1][0].out_features}"
                )
            if not child.weight.dtype.is_floating_point:
                raise ValueError(f"layer {i} ({shown}) holds {child.weight.dtype} weights, not floats")
            layers.append([child, "linear"])
        elif kind in _BY_MODULE and type(child) is getattr(torch.nn, kind):
            if not layers:
                raise ValueError(f"layer {i} ({shown}) comes before any Linear layer; from_torch reads {known}")
            if layers[-1][1] != "linear":
                raise ValueError(f"layer {i} ({shown}) follows another activation; from_torch reads {known}")
            layers[-1][1] = _BY_MODULE[kind]
        else:
            raise ValueError(f"from_torch cannot represent layer {i} ({shown}); it reads {known}")
    names = [name for _, name in layers]
    model = cls(
        layers[0][0].in_features,
        [lin.out_features for lin, _ in layers],
        names[:-1],
        names[-1],
        init="zeros",
    )
    state = {}
    for k, (lin, _) in enumerate(layers):
        weight = lin.weight.detach().to(device="cpu", dtype=torch.float64).tolist()
        bias = lin.bias.detach().to(device="cpu", dtype=torch.float64).tolist()
        for j, row in enumerate(weight):
            state.update({f"layers.{k}.neurons.{j}.w.{i}": w for i, w in enumerate(row)})
            state[f"layers.{k}.neurons.{j}.b"] = bias[j]
    model.load_state_dict(state)
    return model


def _one_line(module, limit: int = 80) -> str:
    """A module's repr on one line (a nested container prints over several)."""
    text = " ".join(repr(module).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
