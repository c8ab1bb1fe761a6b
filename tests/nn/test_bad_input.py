"""Bad input is refused in one line that names the real problem (issue 22, item 9): a weight too large
for a float, hyperparameters that would divide by zero or are not finite, probabilities outside
[0, 1], infinite noise, a gradcheck of a list, cross-entropy on one output, an optimiser by name."""

import json
import math

import pytest

import autograd as ag
import nn
from autograd import Value, parameter
from nn import MLP
from nn.optim import SGD, Adam

HUGE = 10**400  # a valid JSON number, and a Python int, that no float holds


# ---- weights too large for a float -------------------------------------------------------------
def test_load_names_the_file_and_the_weight_written_as_a_400_digit_integer(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [2, 1], seed=0).save(path)
    document = json.loads(path.read_text())
    document["state_dict"]["layers.1.neurons.0.b"] = HUGE
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError) as info:
        nn.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: weight 'layers.1.neurons.0.b' is an integer too large for a float")
    assert "\n" not in message


def test_load_state_dict_names_the_key_of_a_weight_too_large_for_a_float():
    model = MLP(2, [2, 1], seed=0)
    state = model.state_dict()
    before = dict(state)
    state["layers.0.neurons.1.w.0"] = HUGE
    with pytest.raises(ValueError, match=r"^state_dict\['layers.0.neurons.1.w.0'\] is too large for a float"):
        model.load_state_dict(state)
    assert model.state_dict() == before


# ---- optimiser hyperparameters ------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: Adam(p, eps=0.0), "eps must be > 0, got 0.0"),
        (lambda p: Adam(p, eps=-1e-8), "eps must be > 0"),
        (lambda p: Adam(p, eps=math.nan), "eps must be a finite number, got nan"),
        (lambda p: Adam(p, eps=math.inf), "eps must be a finite number, got inf"),
        (lambda p: Adam(p, lr=math.nan), "lr must be a finite number, got nan"),
        (lambda p: Adam(p, lr=-0.1), "lr must be >= 0"),
        (lambda p: Adam(p, betas=(math.nan, 0.999)), r"betas\[0\] must be a finite number"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\)"),
        (lambda p: SGD(p, lr=HUGE), "lr must be a finite number, got an integer too large for a float"),
        (lambda p: SGD(p, lr=0.1, momentum=math.nan), "momentum must be a finite number"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), r"momentum must be in \[0, 1\)"),
        (lambda p: SGD(p, lr=0.1, weight_decay=math.inf), "weight_decay must be a finite number"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1.0), "weight_decay must be >= 0"),
    ],
)
def test_bad_hyperparameters_are_refused_when_the_optimiser_is_built(make, message):
    with pytest.raises(ValueError, match=message):
        make([parameter(1.0)])


def test_a_hyperparameter_that_is_not_a_number_is_a_type_error():
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        SGD([parameter(1.0)], lr="0.1")


def test_adam_with_the_smallest_eps_still_steps_a_parameter_whose_gradient_is_zero():
    p = parameter(1.0)
    opt = Adam([p], eps=5e-324)
    opt.step()  # grad 0: m = v = 0, the step is 0 / (0 + eps) = 0, not 0 / 0
    assert p.data == 1.0


# ---- losses and data ----------------------------------------------------------------------------
@pytest.mark.parametrize("p", [1.5, -0.25, math.nan, Value(1.0000001)])
def test_binary_cross_entropy_refuses_a_probability_outside_0_1_as_pytorch_does(p):
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy inputs must be probabilities in \[0, 1\], got .* at entry 1"
    ):
        nn.losses.binary_cross_entropy([0.5, p], [1.0, 1.0])


def test_binary_cross_entropy_accepts_the_ends_of_0_1():
    J = nn.losses.binary_cross_entropy([Value(0.0), Value(1.0)], [0.0, 1.0])
    assert J.data == 0.0


@pytest.mark.parametrize("make", [nn.datasets.moons, nn.datasets.circles, nn.datasets.xor, nn.datasets.spiral])
@pytest.mark.parametrize("noise", [math.inf, math.nan, -0.1, HUGE], ids=["inf", "nan", "negative", "huge-int"])
def test_a_dataset_refuses_noise_that_is_infinite_nan_or_negative(make, noise):
    with pytest.raises(ValueError, match=r"noise must be >= 0 and finite \(a standard deviation\)"):
        make(10, noise=noise)


def test_a_dataset_refuses_noise_that_is_not_a_number():
    with pytest.raises(TypeError, match="noise must be a number"):
        nn.datasets.moons(10, noise="0.1")


# ---- messages that name the real problem ---------------------------------------------------------
def test_gradcheck_of_a_function_returning_a_list_says_so():
    with pytest.raises(
        TypeError, match=r"gradcheck\(\) needs f to return one scalar \(a Value or a number\), got a list of 2"
    ):
        ag.gradcheck(lambda a, b: [a * b, a + b], 1.0, 2.0)


def test_gradcheck_still_accepts_a_plain_number():
    assert ag.gradcheck(lambda a: 3.0, 1.0)


ONE_OUTPUT = r"loss 'cross_entropy' reads one score per class, but MLP\(2 -> 4 relu -> 1 linear\) gives one output"


@pytest.mark.parametrize(
    "call",
    [
        lambda m, X, y: nn.accuracy(m, X, y, loss="cross_entropy"),
        lambda m, X, y: nn.predict(m, X, loss="cross_entropy"),
        lambda m, X, y: nn.train.evaluate(m, X, y, loss="cross_entropy"),
        lambda m, X, y: nn.fit(m, X, y, loss="cross_entropy", epochs=1, progress=False),
    ],
)
def test_cross_entropy_on_a_one_output_model_says_so(call):
    X, y = nn.datasets.moons(8)
    with pytest.raises(ValueError, match=ONE_OUTPUT):
        call(MLP(2, [4, 1], seed=0), X, y)


def test_accuracy_with_cross_entropy_on_a_one_output_function_says_so():
    X, y = nn.datasets.moons(8)
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match="reads one score per class, but the model gives one output"):
        nn.accuracy(lambda x: model(x), X, y, loss="cross_entropy")


@pytest.mark.parametrize("optimizer", ["adam", 0.05, [1.0]])
def test_fit_refuses_an_optimiser_that_is_not_one_before_any_forward_pass(optimizer):
    X, y = nn.datasets.moons(8)
    model = MLP(2, [3, 1], seed=0)
    calls = []

    def counted(x):
        calls.append(x)
        return model(x)

    counted.layers = model.layers  # so "auto" picks the loss as for the model
    with pytest.raises(
        TypeError, match=r"optimizer must be an nn.optim optimiser .*nn.optim.Adam\(model.parameters\(\)"
    ):
        nn.fit(counted, X, y, optimizer=optimizer, epochs=1, progress=False)
    assert calls == []
