"""Tied parameters (one `Value` held in two places) are one parameter: listed once, stepped once, as
in PyTorch; the cached parameter list follows every change to the modules and lists that hold them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd import Value, parameter
from nn import MLP, Module
from nn.optim import SGD, Adam


def slots(model):
    """Every place a parameter sits in an MLP: (neuron.w, k) for a weight, (neuron, "b") for a bias."""
    found = []
    for layer in model.layers:
        for neuron in layer.neurons:
            found += [(neuron.w, k) for k in range(len(neuron.w))] + [(neuron, "b")]
    return found


def read(slot):
    holder, key = slot
    return holder[key] if isinstance(holder, list) else getattr(holder, key)


def write(slot, value):
    holder, key = slot
    if isinstance(holder, list):
        holder[key] = value  # in place: the model's cached parameter list must notice
    else:
        setattr(holder, key, value)


class Tied(Module):
    """y = v·(w·x) with the weight w used twice (the output weight is the input weight)."""

    def __init__(self):
        self.first = parameter(0.5)
        self.second = self.first
        self.bias = parameter(0.1)

    def __call__(self, x):
        return self.second * (self.first * x[0]) + self.bias


# ---- listed once ------------------------------------------------------------------------------
def test_a_tied_parameter_is_listed_once_under_its_first_name():
    model = Tied()
    assert model.parameters() == [model.first, model.bias]
    assert [name for name, _ in model.named_parameters()] == ["first", "bias"]
    assert [name for name, _ in model.named_parameters(remove_duplicate=False)] == ["first", "second", "bias"]


def test_state_dict_keeps_every_name_of_a_tied_parameter_as_pytorch_does():
    model = Tied()
    assert model.state_dict() == {"first": 0.5, "second": 0.5, "bias": 0.1}
    model.load_state_dict({"first": 2.0, "second": 2.0, "bias": 0.0})
    assert model.first.data == 2.0 and model.second is model.first


def test_load_state_dict_refuses_two_values_for_one_tied_parameter():
    model = Tied()
    with pytest.raises(ValueError, match=r"state_dict\['first'\] and state_dict\['second'\] name one tied parameter"):
        model.load_state_dict({"first": 1.0, "second": 2.0, "bias": 0.0})
    assert model.first.data == 0.5  # all or nothing


def test_save_refuses_a_tie_the_file_cannot_record(tmp_path):
    model = MLP(2, [2, 1], seed=0)
    model.layers[1].neurons[0].w[1] = model.layers[1].neurons[0].w[0]
    with pytest.raises(ValueError, match="are one tied parameter, which a model file cannot record"):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_a_submodule_held_twice_lists_its_parameters_once():
    class Twice(Module):
        def __init__(self):
            self.a = nn.Neuron(2, seed=0)
            self.b = self.a

    model = Twice()
    assert model.parameters() == model.a.parameters()
    assert len(model.state_dict()) == 2 * 3


# ---- stepped once -----------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps, lr=0.1)])
def test_an_optimiser_refuses_a_parameter_listed_twice(make):
    p, q = parameter(1.0, "w"), parameter(2.0)
    with pytest.raises(ValueError, match=r"params\[2\] is params\[0\] again \(w\): list each parameter once"):
        make([p, q, p])


def test_one_sgd_step_moves_a_tied_weight_once_by_its_summed_gradient():
    model = Tied()
    opt = SGD(model.parameters(), lr=0.1)
    y = model([2.0])  # y = w²·x + b, dy/dw = 2wx = 2
    opt.zero_grad()
    y.backward()
    assert model.first.grad == pytest.approx(2.0)
    opt.step()
    assert model.first.data == pytest.approx(0.5 - 0.1 * 2.0)


def test_fit_default_optimiser_steps_a_tied_weight_once():
    X, y = nn.datasets.moons(12, noise=0.1, seed=1)
    tied, untied = MLP(2, [3, 1], seed=4), MLP(2, [3, 1], seed=4)
    shared = tied.layers[0].neurons[0].w[0]
    tied.layers[1].neurons[0].w[2] = shared
    untied.layers[1].neurons[0].w[2].data = shared.data
    nn.fit(tied, X, y, epochs=6, progress=False)  # Adam(model.parameters(), lr=0.05)
    train_untied_by_hand(untied, X, y, [[(0, 0, 0), (1, 0, 2)]], lambda ps: Adam(ps, lr=0.05), epochs=6)
    assert tied.layers[0].neurons[0].w[0].data == pytest.approx(untied.layers[0].neurons[0].w[0].data, abs=1e-9)
    assert list(tied.state_dict().values()) == pytest.approx(list(untied.state_dict().values()), abs=1e-9)


def train_untied_by_hand(model, X, y, groups, make_optimizer, epochs):
    """fit's full-batch loop, with each group of separate parameters given the sum of their
    gradients (what one tied parameter receives); groups of (layer, neuron, k), k = nin for the bias."""

    def at(l, j, k):
        neuron = model.layers[l].neurons[j]
        return neuron.b if k == len(neuron.w) else neuron.w[k]

    opt = make_optimizer(model.parameters())
    loss = nn.losses.get("bce_with_logits")
    for _ in range(epochs):
        J = loss([model(x) for x in X], y)
        opt.zero_grad()
        J.backward()
        for group in groups:
            members = [at(*where) for where in group]
            total = sum(p.grad for p in members)
            for p in members:
                p.grad = total
        opt.step()


@given(
    widths=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    activation=st.sampled_from(["tanh", "relu", "sigmoid"]),
    seed=st.integers(0, 2**16),
    ties=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=4),
    momentum=st.sampled_from([0.0, 0.9]),
)
def test_random_tied_models_train_to_the_weights_of_the_same_model_untied_by_hand(
    widths, activation, seed, ties, momentum
):
    X, y = nn.datasets.moons(10, noise=0.2, seed=seed)
    tied = MLP(2, [*widths, 1], activation=activation, seed=seed)
    untied = MLP(2, [*widths, 1], activation=activation, seed=seed)
    tied.parameters()  # the cached list must notice the ties made below
    places, where = slots(tied), slots(untied)
    holder = list(range(len(places)))  # which original parameter each slot holds
    for a, b in ties:
        source, target = a % len(places), b % len(places)
        write(places[target], read(places[source]))
        holder[target] = holder[source]
    initial = [read(s).data for s in where]
    for s, h in zip(where, holder):
        read(s).data = initial[h]
    groups = {}
    for s, h in enumerate(holder):
        groups.setdefault(h, []).append(s)
    assert len(tied.parameters()) == len(groups)

    nn.fit(tied, X, y, optimizer=SGD(tied.parameters(), lr=0.2, momentum=momentum), epochs=4, progress=False)
    positions = [
        (l, j, k)
        for l, layer in enumerate(untied.layers)
        for j, n in enumerate(layer.neurons)
        for k in range(n.nin + 1)
    ]
    tie_groups = [[positions[s] for s in members] for members in groups.values() if len(members) > 1]
    train_untied_by_hand(untied, X, y, tie_groups, lambda ps: SGD(ps, lr=0.2, momentum=momentum), epochs=4)
    assert [read(s).data for s in places] == pytest.approx([read(s).data for s in where], rel=1e-9, abs=1e-12)


# ---- the cached list follows every change ------------------------------------------------------
def test_parameters_follow_an_attribute_set_on_a_submodule_and_a_list_changed_in_place():
    model = MLP(2, [2, 1], seed=0)
    before = model.parameters()
    neuron = model.layers[0].neurons[0]
    new_bias = parameter(3.0)
    neuron.b = new_bias  # an attribute of a submodule: the outer model's list is stale
    assert new_bias in model.parameters() and len(model.parameters()) == len(before)
    extra = parameter(1.0)
    neuron.w.append(extra)  # a list changed in place
    assert model.parameters()[2] is extra
    neuron.w.pop()
    neuron.w[0] = neuron.w[1]  # tied in place: same length, one parameter fewer
    assert len(model.parameters()) == len(before) - 1
    del model.layers[1]
    assert len(model.parameters()) == 2 * 3 - 1


def test_parameters_returns_a_copy_and_is_not_rebuilt_while_nothing_changes(monkeypatch):
    import nn.module as module

    model = MLP(2, [3, 1], seed=0)
    first = model.parameters()
    first.clear()  # the caller's list is theirs
    walks = []
    real = module._walk
    monkeypatch.setattr(module, "_walk", lambda m, prefix, lists: walks.append(prefix) or real(m, prefix, lists))
    assert len(model.parameters()) == 13 and walks == []
    model.zero_grad()
    assert walks == []
    model.layers[0].neurons[0].w[0] = Value(1.0)  # not a parameter: it leaves the list
    assert len(model.parameters()) == 12 and walks.count("") == 1  # one walk from the top
