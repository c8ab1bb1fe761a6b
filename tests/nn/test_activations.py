"""nn.activations: each built-in g and its derivative against its closed form,
registering new ones, and the error for an unknown name."""

import math

import pytest

import nn
from autograd import Value, exp, log
from autograd.engine import topological_order
from nn import activations


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


CLOSED_FORMS = {  # g(z), g'(z): σ' = σ(1 − σ), tanh' = 1 − tanh², relu' = 1{z > 0}
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "tanh": (math.tanh, lambda z: 1.0 - math.tanh(z) ** 2),
    "relu": (lambda z: max(z, 0.0), lambda z: 1.0 if z > 0 else 0.0),
    "linear": (lambda z: z, lambda z: 1.0),
}


@pytest.mark.parametrize("name", list(CLOSED_FORMS))
@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.7, 4.0])
def test_each_activation_and_its_derivative_match_the_closed_form(name, z):
    g, dg = CLOSED_FORMS[name]
    x = Value(z)
    a = activations.get(name)(x * 1.0)
    a.backward()
    assert a.data == pytest.approx(g(z), rel=1e-14, abs=1e-15)
    assert x.grad == pytest.approx(dg(z), rel=1e-14, abs=1e-15)


def test_builtins_add_exactly_one_node_and_linear_none():
    z = Value(0.3) * 2.0
    for name in ("sigmoid", "tanh", "relu"):
        a = activations.get(name)(z)
        assert a.op == name and a.parents == (z,)
    assert activations.get("linear")(z) is z


def test_names_lists_the_four_builtins_first():
    assert activations.names()[:4] == ("sigmoid", "tanh", "relu", "linear")


@pytest.mark.parametrize("name", ["softmax", "Tanh", "", None, ["relu"]])
def test_an_unknown_name_is_a_value_error_listing_the_valid_names(name):
    with pytest.raises(ValueError, match="valid names are sigmoid, tanh, relu, linear"):
        activations.get(name)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(activations, "_REGISTRY", dict(activations._REGISTRY))


def softplus(z):
    return log(1.0 + exp(z))


def test_a_registered_activation_works_in_a_model_and_tags_all_its_nodes(registry, tmp_path):
    activations.register("softplus", softplus)
    assert "softplus" in activations.names()
    model = nn.MLP(2, [3, 1], activation="softplus", seed=0)
    assert repr(model) == "MLP(2 -> 3 softplus -> 1 linear)"
    neuron = model.layers[0].neurons[1]
    a = neuron([0.5, -0.25])
    z = sum(w.data * x for w, x in zip(neuron.w, [0.5, -0.25])) + neuron.b.data
    assert a.data == pytest.approx(math.log1p(math.exp(z)))
    out = model([0.5, -0.25])
    for node in topological_order(out):
        if node.parents:
            assert node.scope.startswith("layer."), f"{node.op} node is untagged"
    model.save(tmp_path / "m.json")
    assert nn.load(tmp_path / "m.json").state_dict() == model.state_dict()


def test_register_refuses_builtin_names_bad_names_and_non_callables(registry):
    with pytest.raises(ValueError, match="built-in"):
        activations.register("relu", softplus)
    with pytest.raises(TypeError, match="non-empty str"):
        activations.register("", softplus)
    with pytest.raises(TypeError, match="must be callable"):
        activations.register("mine", 3.0)
    assert activations.get("relu") is Value.relu
