"""nn.module: parameters and their names, the graph a neuron builds, initialisation through the
MLP, reproducibility, the symmetry of zero init, state dicts, save/load, repr."""

import json
import math
import os
import random
import stat
import time

import pytest

import nn
from autograd import Value, topological_order
from nn import MLP, Layer, Neuron
from nn.module import readable_label


def computed_nodes(root):
    return [v for v in topological_order(root) if v.parents]


# ---- parameters and names ---------------------------------------------------------------------
def test_parameters_go_layer_by_layer_neuron_by_neuron_weights_then_bias():
    model = MLP(3, [4, 2], seed=0)
    expected = [
        f"layers.{l}.neurons.{j}.{p}"
        for l, (nin, nout) in enumerate([(3, 4), (4, 2)])
        for j in range(nout)
        for p in [f"w.{i}" for i in range(nin)] + ["b"]
    ]
    named = model.named_parameters()
    assert [name for name, _ in named] == expected
    assert len(model.parameters()) == 4 * (3 + 1) + 2 * (4 + 1)
    assert all(p is q for p, (_, q) in zip(model.parameters(), named, strict=True))
    assert model.parameters()[3] is model.layers[0].neurons[0].b


def test_each_parameter_is_a_parameter_leaf_labelled_as_the_maths_writes_it():
    model = MLP(2, [3, 1], seed=0)
    for name, p in model.named_parameters():
        assert p.role == "parameter"
        assert p.label == readable_label(name)
    assert model.layers[0].neurons[2].w[1].label == "W1[2,1]"  # layer from 1, row = neuron, column = input
    assert model.layers[0].neurons[2].b.label == "b1[2]"
    assert model.layers[1].neurons[0].w[2].label == "W2[0,2]"
    assert model.layers[1].neurons[0].b.label == "b2[0]"
    assert "label='W2[0,2]'" in repr(model.layers[1].neurons[0].w[2])


def test_readable_labels_are_distinct_and_match_to_numpy_layout():
    np = pytest.importorskip("numpy")
    model = MLP(3, [4, 2, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert len(set(labels)) == len(labels)
    Ws, bs = model.to_numpy()
    for l, (W, b) in enumerate(zip(Ws, bs), start=1):  # W1[j,i] is the entry (j, i) of Ws[0]
        by_label = {p.label: p.data for p in model.layers[l - 1].parameters()}
        for (j, i), w in np.ndenumerate(W):
            assert by_label[f"W{l}[{j},{i}]"] == w
        for j in range(b.shape[0]):
            assert by_label[f"b{l}[{j}]"] == b[j, 0]


def test_readable_label_keeps_a_custom_prefix_and_unknown_paths():
    assert readable_label("layers.11.neurons.12.w.13") == "W12[12,13]"
    assert readable_label("encoder.layers.0.neurons.1.b") == "encoder.b1[1]"
    assert readable_label("head.neurons.2.w.0") == "head.W[2,0]"
    assert readable_label("scale") == "scale"
    assert readable_label("myneurons.0.b") == "myneurons.0.b"  # not a whole path part


def test_standalone_layer_and_neuron_name_from_themselves():
    assert [n for n, _ in Neuron(2).named_parameters()] == ["w.0", "w.1", "b"]
    assert [p.label for p in Neuron(2).parameters()] == ["w[0]", "w[1]", "b"]
    layer = Layer(2, 2)
    assert [n for n, _ in layer.named_parameters()][:4] == [
        "neurons.0.w.0",
        "neurons.0.w.1",
        "neurons.0.b",
        "neurons.1.w.0",
    ]
    assert layer.neurons[1].b.label == "b[1]"
    assert layer.neurons[1].w[0].label == "W[1,0]"


def test_state_dict_keys_stay_dotted_paths():
    model = MLP(2, [3, 1], seed=0)
    assert list(model.state_dict())[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]


def test_zero_grad_clears_every_parameter_grad():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, -2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# ---- the graph a forward pass builds ---------------------------------------------------------
def test_a_neuron_pre_activation_is_one_dot_node_and_the_activation_one_more():
    neuron = Neuron(3, "tanh", seed=0)
    out = neuron([0.5, Value(-1.0), 2.0])
    assert out.op == "tanh"
    (z,) = out.parents
    assert z.op == "dot"
    assert z.parents[:3] == tuple(neuron.w) and z.parents[-1] is neuron.b
    assert len(computed_nodes(out)) == 2
    assert out.data == pytest.approx(math.tanh(sum(w.data * x for w, x in zip(neuron.w, [0.5, -1.0, 2.0]))))


def test_a_linear_neuron_adds_no_activation_node():
    out = Neuron(2, "linear", seed=0)([1.0, 2.0])
    assert out.op == "dot"
    assert len(computed_nodes(out)) == 1


def test_mlp_forward_makes_one_dot_and_one_activation_node_per_neuron_and_nothing_else():
    model = MLP(2, [16, 16, 1], seed=0)
    ops = [v.op for v in computed_nodes(model([0.3, -0.7]))]
    assert sorted(set(ops)) == ["dot", "relu"]
    assert ops.count("dot") == 33 and ops.count("relu") == 32


def test_every_node_a_neuron_makes_carries_that_neurons_scope_layer_first():
    model = MLP(2, [3, 2], activation="tanh", seed=0)
    outs = model([0.1, 0.2])
    for node in {v for out in outs for v in computed_nodes(out)}:
        path = node.scope
        layer, neuron = path.split(".")[1], path.split(".")[3]
        assert path == f"layer.{layer}.neuron.{neuron}"  # layer counted from 1, neuron = row of W
        dot = node if node.op == "dot" else node.parents[0]
        assert dot.parents[0] is model.layers[int(layer) - 1].neurons[int(neuron)].w[0]
    assert [p.label for p in model.layers[1].neurons[0].parameters()] == ["W2[0,0]", "W2[0,1]", "W2[0,2]", "b2[0]"]


def test_a_standalone_neuron_tags_its_nodes_with_the_empty_path_and_a_layer_with_neuron_j():
    assert {v.scope for v in computed_nodes(Neuron(2, "sigmoid")([1.0, 2.0]))} == {""}
    outs = Layer(2, 3, "relu")([1.0, 2.0])
    assert [out.scope for out in outs] == ["neuron.0", "neuron.1", "neuron.2"]


def test_one_output_gives_a_value_and_several_a_list():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    outs = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(outs, list) and len(outs) == 2
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    assert len(Layer(2, 4)([1.0, 2.0])) == 4


def test_a_one_neuron_hidden_layer_still_feeds_the_next_layer():
    model = MLP(2, [1, 3], seed=0)
    assert len(model([1.0, 2.0])) == 3


@pytest.mark.parametrize("module", [MLP(2, [3, 1], seed=0), Layer(2, 3), Neuron(2)], ids=repr)
def test_a_wrong_number_of_inputs_is_a_value_error_naming_both(module):
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        module([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="list of 2 inputs"):
        module(1.0)


def test_forward_equals_the_reference_forward_through_to_numpy():
    np = pytest.importorskip("numpy")
    model = MLP(3, [5, 4, 2], activation=["tanh", "sigmoid"], output_activation="linear", seed=4)
    Ws, bs = model.to_numpy()
    assert [W.shape for W in Ws] == [(5, 3), (4, 5), (2, 4)]
    assert [b.shape for b in bs] == [(5, 1), (4, 1), (2, 1)]
    assert Ws[1][2, 3] == model.layers[1].neurons[2].w[3].data
    X = np.random.default_rng(0).normal(size=(3, 6))
    reference = pytest.importorskip("nn.reference")
    _, As = reference.forward(Ws, bs, ["tanh", "sigmoid", "linear"], X)
    ours = np.array([[v.data for v in model(X[:, j].tolist())] for j in range(6)]).T
    np.testing.assert_allclose(ours, As[-1], rtol=1e-12, atol=1e-14)


# ---- construction ---------------------------------------------------------------------------
def test_reprs_read_like_the_architecture():
    assert repr(MLP(2, [16, 16, 1])) == "MLP(2 -> 16 relu -> 16 relu -> 1 linear)"
    assert repr(MLP(3, [4, 2], activation="tanh", output_activation="sigmoid")) == "MLP(3 -> 4 tanh -> 2 sigmoid)"
    assert repr(MLP(2, [3, 3, 1], activation=["tanh", "relu"])) == "MLP(2 -> 3 tanh -> 3 relu -> 1 linear)"
    assert repr(Layer(2, 16, "tanh")) == "Layer(2 -> 16 tanh)"
    assert repr(Neuron(3, "sigmoid")) == "Neuron(3, sigmoid)"


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: MLP(0, [1]), ValueError, "nin must be >= 1"),
        (lambda: MLP(2, []), ValueError, "at least one layer"),
        (lambda: MLP(2, [3, 0]), ValueError, r"nouts\[1\] must be >= 1"),
        (lambda: MLP(2, "31"), TypeError, "list of layer sizes"),
        (lambda: MLP(2.0, [1]), TypeError, "nin must be an int"),
        (lambda: MLP(2, [3, 1], activation="swish"), ValueError, "valid names are sigmoid, tanh, relu, linear"),
        (lambda: MLP(2, [3, 1], output_activation="soft"), ValueError, "unknown activation 'soft'"),
        (lambda: MLP(2, [3, 1], init="normal"), ValueError, "unknown init scheme 'normal'"),
        (lambda: MLP(2, [3, 3, 1], activation=["tanh"]), ValueError, "2 hidden layers"),
        (lambda: Neuron(2, seed=1, rng=random.Random(1)), ValueError, "seed or rng"),
    ],
)
def test_bad_constructor_arguments_say_what_is_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.needs("numpy")
# ---- initialisation through the MLP ------------------------------------------------------------
@pytest.mark.parametrize(
    "init, activation, expected_std",
    [
        ("xavier", "tanh", math.sqrt(2.0 / (300 + 200))),
        ("he", "relu", math.sqrt(2.0 / 300)),
        ("uniform", "tanh", 0.2 / math.sqrt(12.0)),
        ("auto", "relu", math.sqrt(2.0 / 300)),
        ("auto", "sigmoid", math.sqrt(2.0 / (300 + 200))),
    ],
)
def test_init_std_through_the_mlp_is_within_5_percent_on_a_200x300_layer(init, activation, expected_std):
    model = MLP(300, [200], output_activation=activation, init=init, seed=0)
    (W,), (b,) = model.to_numpy()
    assert W.shape == (200, 300)
    assert abs(W.std() / expected_std - 1.0) < 0.05
    assert abs(W.mean()) < 5 * expected_std / math.sqrt(W.size)
    assert not b.any(), "biases start at 0"


@pytest.mark.needs("numpy")
def test_zeros_init_gives_all_zero_weights():
    (W,), _ = MLP(30, [20], init="zeros").to_numpy()
    assert not W.any()


def test_a_seed_reproduces_the_weights_without_touching_global_random():
    random.seed(123)
    before = random.getstate()
    a = MLP(2, [8, 8, 1], seed=7)
    b = MLP(2, [8, 8, 1], seed=7)
    MLP(2, [8, 1])  # no seed: a private, fresh generator
    Layer(3, 2, seed=1)
    Neuron(3, seed=1)
    assert random.getstate() == before
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != MLP(2, [8, 8, 1], seed=8).state_dict()
    assert Layer(3, 2, seed=1).state_dict() == Layer(3, 2, seed=1).state_dict()


def test_zero_init_keeps_every_hidden_unit_identical_through_training():
    np = pytest.importorskip("numpy")
    """Symmetry: with W = 0 all hidden units compute the same thing and get the same gradient."""
    X, y = nn.datasets.moons(40, noise=0.1, seed=0)
    keep = [i for i in range(40) if y[i] == 1.0 or i % 2]  # unbalanced, so the gradients are not 0 by symmetry too
    X, y = [X[i] for i in keep], [y[i] for i in keep]

    def train(init):
        model = MLP(2, [5, 1], activation="sigmoid", init=init, seed=0)
        nn.fit(
            model,
            X,
            y,
            loss="bce_with_logits",
            optimizer=nn.optim.SGD(model.parameters(), lr=0.5),
            epochs=15,
            progress=False,
        )
        return model.to_numpy()

    (W1, W2), (b1, _) = train("zeros")
    assert np.abs(W1).max() > 1e-3, "the hidden weights did move"
    assert (W1 == W1[0]).all() and (b1 == b1[0]).all(), "every hidden unit is the same unit"
    assert (W2 == W2[0, 0]).all()
    (W1, _), _ = train("xavier")
    assert len({tuple(row) for row in W1}) == 5, "random init breaks the symmetry"


# ---- state dicts ------------------------------------------------------------------------------
def test_state_dict_round_trips_into_a_fresh_model():
    a, b = MLP(2, [4, 1], seed=1), MLP(2, [4, 1], seed=2)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert b([0.3, 0.4]).data == a([0.3, 0.4]).data
    assert list(a.state_dict()) == [n for n, _ in a.named_parameters()]


def test_load_state_dict_is_strict_and_names_missing_and_unexpected_keys():
    model = MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    state = dict(before)
    del state["layers.1.neurons.0.b"]
    state["layers.2.neurons.0.b"] = 1.0
    with pytest.raises(
        KeyError, match=r"missing 1 key\(s\): 'layers.1.neurons.0.b'.*unexpected 1 key\(s\): 'layers.2.neurons.0.b'"
    ):
        model.load_state_dict(state)
    bad = {**before, "layers.0.neurons.0.w.0": "0.5"}
    with pytest.raises(TypeError, match=r"state_dict\['layers.0.neurons.0.w.0'\] must be a real number"):
        model.load_state_dict(bad)
    assert model.state_dict() == before, "a rejected state dict changes nothing"


# ---- save / load ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "module",
    [
        MLP(2, [4, 3, 1], activation=["tanh", "relu"], output_activation="sigmoid", seed=3),
        Layer(3, 2, "tanh", seed=1),
        Neuron(2, "sigmoid", seed=2),
    ],
    ids=repr,
)
def test_save_and_load_round_trip_architecture_and_weights(tmp_path, module):
    path = tmp_path / "model.json"
    module.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == "chainrule.nn" and document["version"] == 1
    loaded = nn.load(path)
    assert type(loaded) is type(module) and repr(loaded) == repr(module)
    assert loaded.state_dict() == module.state_dict()
    x = [0.25, -1.5, 0.75][: module.nin]
    assert _outputs(loaded(x)) == _outputs(module(x))
    assert [p.label for p in loaded.parameters()] == [p.label for p in module.parameters()]


def _outputs(out):
    return [v.data for v in out] if isinstance(out, list) else [out.data]


def test_save_refuses_non_finite_weights(tmp_path):
    model = MLP(2, [1], seed=0)
    model.layers[0].neurons[0].b.data = math.nan
    with pytest.raises(ValueError, match="'layers.0.neurons.0.b' is nan"):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def _good_document():
    model = MLP(2, [2, 1], seed=0)
    return {
        "format": "chainrule.nn",
        "version": 1,
        "architecture": model._architecture(),
        "state_dict": model.state_dict(),
    }


def _with(**changes):
    document = _good_document()
    for key, value in changes.items():
        if key.startswith("arch_") and value is ...:
            del document["architecture"][key[5:]]
        elif key.startswith("arch_"):
            document["architecture"][key[5:]] = value
        elif value is ...:
            del document[key]
        else:
            document[key] = value
    return json.dumps(document)


def _truncated():
    text = json.dumps(_good_document())
    return text[: len(text) // 2]


def _extra_weight():
    document = _good_document()
    document["state_dict"]["layers.0.neurons.0.w.2"] = 0.1
    return json.dumps(document)


def _missing_weight():
    document = _good_document()
    del document["state_dict"]["layers.1.neurons.0.b"]
    return json.dumps(document)


def _weight(value):
    document = _good_document()
    document["state_dict"]["layers.0.neurons.0.b"] = value
    return json.dumps(document)


BAD_FILES = {
    "empty": ("", "empty"),
    "plain text": ("hello, world", "malformed or truncated JSON"),
    "truncated": (_truncated(), "malformed or truncated JSON"),
    "binary": (b"\x80\x04\x95pickle\x00", "not UTF-8"),
    "a JSON list": ("[1, 2, 3]", "top level is a JSON list"),
    "no format tag": (json.dumps({"weights": [1, 2]}), "no 'format' tag"),
    "foreign format": (_with(format="keras"), "format tag is 'keras'"),
    "future version": (_with(version=2), "version 2 is newer"),
    "string version": (_with(version="1"), "'version' must be a positive integer"),
    "no architecture": (_with(architecture=...), "'architecture' must be a JSON object"),
    "no weights": (_with(state_dict=...), "'state_dict' must be a JSON object"),
    "unknown module type": (_with(arch_type="CNN"), "unknown module type 'CNN'"),
    "unknown activation": (_with(arch_activations=["swish", "linear"]), "unknown activation 'swish'"),
    "layer size 0": (_with(arch_nouts=[0, 1]), r"nouts\[0\] must be >= 1"),
    "missing field": (_with(arch_nouts=...), "bad 'architecture': missing field 'nouts'"),
    "nin not a number": (_with(arch_nin=None), "nin must be an int"),
    "sizes and activations disagree": (_with(arch_activations=["relu"]), "2 layer sizes but 1 activations"),
    "extra weight (wrong shape)": (_extra_weight(), "unexpected 1 key.*'layers.0.neurons.0.w.2'"),
    "missing weight (wrong shape)": (_missing_weight(), "missing 1 key.*'layers.1.neurons.0.b'"),
    "string weight": (_weight("0.5"), "weight 'layers.0.neurons.0.b' must be a number"),
    "boolean weight": (_weight(True), "weight 'layers.0.neurons.0.b' must be a number"),
    "NaN weight": (_weight(0.5).replace("0.5", "NaN"), "holds NaN"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_load_rejects_a_bad_file_with_a_value_error_saying_what_is_wrong(tmp_path, name):
    content, message = BAD_FILES[name]
    path = tmp_path / "model.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=message) as refused:
        nn.load(path)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_the_good_document_used_for_bad_files_loads(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(_good_document()))
    assert repr(nn.load(path)) == "MLP(2 -> 2 relu -> 1 linear)"


# ---- load: limits checked before anything is built; every bad file a ValueError naming it ----------
def _write(tmp_path, text, name="model.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "architecture",
    [
        {"type": "MLP", "nin": 2, "nouts": [1_000_000_000, 1], "activations": ["relu", "linear"]},
        {"type": "MLP", "nin": 10**7, "nouts": [1], "activations": ["linear"]},
        {"type": "Layer", "nin": 10**6, "nout": 10**6, "activation": "relu"},
        {"type": "Neuron", "nin": 10**100, "activation": "relu"},
    ],
    ids=["a billion-neuron layer", "ten million inputs", "a trillion-weight layer", "a googol inputs"],
)
def test_an_architecture_over_the_parameter_limit_is_refused_before_anything_is_built(tmp_path, architecture):
    document = {"format": "chainrule.nn", "version": 1, "architecture": architecture, "state_dict": {}}
    path = _write(tmp_path, json.dumps(document))  # a small file that asks for a huge model
    start = time.process_time()
    with pytest.raises(ValueError, match=r"parameters, more than the limit of 1000000") as refused:
        nn.load(path)
    assert str(path) in str(refused.value)
    assert time.process_time() - start < 5, "refused up front, not after building"


def test_the_parameter_limit_is_a_documented_constant_and_overridable(tmp_path):
    from nn import serialize

    assert serialize.MAX_PARAMETERS == 10**6 and serialize.MAX_FILE_BYTES == 64 * 2**20
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)  # 13 parameters
    with pytest.raises(ValueError, match="13 parameters, more than the limit of 12"):
        nn.load(path, max_parameters=12)
    assert len(nn.load(path, max_parameters=13).parameters()) == 13


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    size = path.stat().st_size
    with pytest.raises(ValueError, match=f"the file is {size} bytes, more than the limit of {size - 1}"):
        nn.load(path, max_bytes=size - 1)
    assert nn.load(path, max_bytes=size)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(64 * 2**20 + 1)  # sparse: 64 MiB and a byte of zeros, never written out
    with pytest.raises(ValueError, match="more than the limit of 67108864"):
        nn.load(huge)


def test_a_fifo_or_directory_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=f"{fifo}: is a FIFO, not a chainrule model file"):
        nn.load(fifo)  # opening a FIFO to read would block until someone writes to it
    with pytest.raises(ValueError, match=f"{tmp_path}: is a directory"):
        nn.load(tmp_path)


@pytest.mark.parametrize("text", ["1e999", "-1e999", "1e400"])
def test_a_weight_that_overflows_to_inf_is_a_value_error_naming_its_key(tmp_path, text):
    document = _good_document()
    document["state_dict"]["layers.0.neurons.1.w.0"] = 0.125
    path = _write(tmp_path, json.dumps(document).replace("0.125", text))  # Python's json reads 1e999 as inf
    with pytest.raises(ValueError, match=r"weight 'layers.0.neurons.1.w.0' is -?inf, not a finite number"):
        nn.load(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"format": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
        ('{"format": "chainrule.nn", "version": ' + "9" * 5000 + "}", "not a chainrule model file"),
        (_with(arch_nin=2.0), "nin must be an int"),
        (_with(arch_nin=123456).replace("123456", "1e999"), "nin must be an int"),
        (_with(arch_nouts={"a": 1}), "'nouts' must be a list"),
        (_with(arch_nouts=[2, "1"]), r"nouts\[1\] must be an int"),
        (_with(arch_nouts=[]), "nouts is empty"),
        (_with(arch_type=["MLP"] * 1000), "unknown module type"),
        (_with(architecture=[]), "'architecture' must be a JSON object, got list"),
        (_with(state_dict="weights"), "'state_dict' must be a JSON object, got string"),
        (_with(format={"x": "y" * 10_000}), "format tag is"),
        (_weight([0.5]), "weight 'layers.0.neurons.0.b' must be a number"),
    ],
    ids=[
        "deep list",
        "deep value",
        "5000-digit int",
        "float size",
        "inf size",
        "dict sizes",
        "string size",
        "no layers",
        "list type",
        "list architecture",
        "string weights",
        "huge format tag",
        "list weight",
    ],
)
def test_every_json_problem_is_a_one_line_value_error_naming_the_file(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as refused:
        nn.load(path)
    text = str(refused.value)
    assert text.startswith(f"{path}: ") and "\n" not in text and len(text) < len(str(path)) + 300


def test_weights_that_do_not_match_in_number_say_both_counts(tmp_path):
    path = _write(tmp_path, _extra_weight())
    with pytest.raises(ValueError, match="it has 9 parameters, the file holds 10 weights"):
        nn.load(path)


# ---- save: atomic, the umask untouched, symlinks followed, special files left alone ---------------
def test_save_never_changes_the_process_umask(tmp_path, monkeypatch):
    def no_umask(mask):
        raise AssertionError("save changed the process umask (another thread's files could get its mode)")

    monkeypatch.setattr(os, "umask", no_umask)
    MLP(2, [1], seed=0).save(tmp_path / "m.json")
    assert nn.load(tmp_path / "m.json")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_usual_mode_under_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        MLP(2, [1], seed=0).save(tmp_path / "m.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == mode


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("old")
    path.chmod(0o640)
    MLP(2, [1], seed=0).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and nn.load(path)


def test_save_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "real.json"
    target.write_text("an older model")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    model = MLP(2, [2, 1], seed=4)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert nn.load(target).state_dict() == model.state_dict()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["real.json"]  # no temporary file left


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "new.json")
    MLP(2, [1], seed=0).save(link)
    assert link.is_symlink() and nn.load(tmp_path / "new.json")


def _special(tmp_path, kind):
    path = tmp_path / "special"
    if kind == "directory":
        path.mkdir()
        (path / "inside").write_text("keep me")
    elif kind == "FIFO":
        os.mkfifo(path)
    else:  # a link to a character device: saving must neither replace the link nor write to the device
        path.symlink_to("/dev/null")
    return path


@pytest.mark.parametrize(
    "kind, says", [("directory", "is a directory"), ("FIFO", "is a FIFO"), ("device", "is a character device")]
)
def test_save_refuses_a_directory_fifo_or_device_and_leaves_it_untouched(tmp_path, kind, says):
    path = _special(tmp_path, kind)
    before = os.lstat(path)
    with pytest.raises(ValueError, match=f"{path}: {says}, not a regular file; not saved, and left untouched"):
        MLP(2, [1], seed=0).save(path)
    after = os.lstat(path)
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (before.st_ino, before.st_mode, before.st_mtime_ns)
    if kind == "directory":
        assert [p.name for p in path.iterdir()] == ["inside"]
    if kind == "device":
        assert os.readlink(path) == "/dev/null"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["special"]  # no temporary file left


def test_save_errors_name_the_users_path_not_a_temporary_file(tmp_path):
    path = tmp_path / "no such folder" / "m.json"
    with pytest.raises(FileNotFoundError) as failed:
        MLP(2, [1], seed=0).save(path)
    assert failed.value.filename == str(path) and str(path) in str(failed.value)
    assert ".tmp" not in str(failed.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_save_into_a_read_only_folder_names_the_users_path(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as failed:
            MLP(2, [1], seed=0).save(folder / "m.json")
    finally:
        folder.chmod(0o700)
    assert failed.value.filename == str(folder / "m.json")


def test_to_numpy_with_grad_gives_dW_db_in_the_reference_layout():
    np = pytest.importorskip("numpy")
    model = nn.MLP(3, [4, 2], activation="tanh", seed=1)
    out = model([0.5, -1.0, 2.0])
    (out[0] * 2.0 + out[1]).backward()
    dWs, dbs = model.to_numpy(grad=True)
    assert [W.shape for W in dWs] == [(4, 3), (2, 4)] and [b.shape for b in dbs] == [(4, 1), (2, 1)]
    assert dWs[1][0, 2] == model.layers[1].neurons[0].w[2].grad
    assert dbs[0][3, 0] == model.layers[0].neurons[3].b.grad
    assert np.any(dWs[0] != 0.0)


@pytest.mark.parametrize(
    "make", [lambda: Neuron(3, seed=1), lambda: Layer(3, 2, seed=1), lambda: MLP(2, [4, 3, 1], seed=1)]
)
def test_deepcopy_keeps_parameter_roles_labels_and_scopes(make):
    import copy

    model = make()
    clone = copy.deepcopy(model)
    original, copied = model.named_parameters(), clone.named_parameters()
    assert len(copied) == len(original) > 0
    for (name, p), (name_c, c) in zip(original, copied):
        assert name_c == name and c is not p and c.data == p.data
        assert c.role == "parameter" and c.label == p.label != ""
    x = [0.3, -0.2, 0.5][: model.nin]
    out_c = clone(x)
    outs = out_c if isinstance(out_c, list) else [out_c]
    assert {v.scope for v in outs} == {v.scope for v in (model(x) if isinstance(model(x), list) else [model(x)])}


def test_a_deepcopied_model_trains_independently_of_the_original():
    import copy

    model = MLP(2, [4, 1], seed=2)
    clone = copy.deepcopy(model)
    before = model.state_dict()
    optimiser = nn.optim.SGD(clone.parameters(), lr=0.1)
    for _ in range(3):
        clone.zero_grad()
        loss = nn.losses.mse([clone([0.5, -1.0])], [1.0])
        loss.backward()
        optimiser.step()
    assert model.state_dict() == before  # the original did not move
    assert clone.state_dict() != before  # the copy did
    assert all(p.grad == 0.0 for p in model.parameters())
