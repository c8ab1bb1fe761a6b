"""Pickle, as a PyTorch user uses it (multiprocessing, caches): a parameter keeps its role, label and
grad; a model round-trips with its weights, names, scopes and ties; a computed node is refused in one
line. Model files stay JSON (`nn.save`): pickle is never used to load them."""

import copy
import pickle

import pytest

import nn
from autograd import Value, constant, parameter, scope
from nn import MLP, Layer, Neuron


@pytest.mark.parametrize("make, role", [(parameter, "parameter"), (constant, "constant"), (Value, "input")])
def test_a_pickled_leaf_keeps_its_role_data_grad_and_label(make, role):
    v = make(2.5)
    v.grad = -1.5
    v.label = "w"
    back = pickle.loads(pickle.dumps(v))
    assert (back.role, back.data, back.grad, back.label) == (role, 2.5, -1.5, "w")
    assert back.is_leaf


def test_a_pickled_leaf_keeps_its_scope():
    with scope("layer.1"):
        p = parameter(1.0, "b")
    back = pickle.loads(pickle.dumps(p))
    assert (back.scope, back.label, back.role) == ("layer.1", "b", "parameter")


def test_pickling_a_computed_node_is_refused_in_one_line():
    x = parameter(2.0)
    with pytest.raises(TypeError, match=r"^cannot pickle a computed Value \(op '\*'\): .*nn.save$") as info:
        pickle.dumps(x * 3.0)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(3, [4, 4, 2], activation=["tanh", "relu"], output_activation="sigmoid", seed=1),
        lambda: Layer(2, 3, "tanh", seed=2),
        lambda: Neuron(2, "linear", seed=3),
    ],
)
def test_a_model_round_trips_through_pickle(make):
    model = make()
    for p in model.parameters():
        p.grad = 0.25
    back = pickle.loads(pickle.dumps(model))
    assert repr(back) == repr(model)
    assert back.state_dict() == model.state_dict()
    assert [p.label for p in back.parameters()] == [p.label for p in model.parameters()]
    assert all(p.role == "parameter" and p.grad == 0.25 for p in back.parameters())
    x = [0.3, -0.7, 1.1][: model.nin]
    out, again = model(x), back(x)
    outs, agains = (out, again) if isinstance(out, list) else ([out], [again])
    assert [o.data for o in agains] == [o.data for o in outs]
    assert [o.scope for o in agains] == [o.scope for o in outs]
    assert not set(map(id, back.parameters())) & set(map(id, model.parameters()))


def test_a_pickled_model_trains_like_the_original():
    X, y = nn.datasets.moons(16, seed=0)
    model = MLP(2, [4, 1], seed=0)
    back = pickle.loads(pickle.dumps(model))
    nn.fit(model, X, y, epochs=3, progress=False)
    nn.fit(back, X, y, epochs=3, progress=False)
    assert back.state_dict() == model.state_dict()


def test_a_tie_survives_pickle_and_deepcopy():
    model = MLP(2, [2, 1], seed=0)
    model.layers[1].neurons[0].w[1] = model.layers[1].neurons[0].w[0]
    for back in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        w = back.layers[1].neurons[0].w
        assert w[0] is w[1] and len(back.parameters()) == len(model.parameters()) == 8


def test_a_model_with_a_registered_activation_pickles_by_the_activation_name():
    nn.activations.register("pickle_test_square", lambda z: z * z)
    model = Layer(2, 2, "pickle_test_square", seed=0)
    back = pickle.loads(pickle.dumps(model))
    assert [o.data for o in back([1.0, 2.0])] == [o.data for o in model([1.0, 2.0])]
