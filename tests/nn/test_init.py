"""nn.init: each initialisation has the spread its formula states and is reproducible."""

import math
import random
import statistics

import pytest

from nn.init import SCHEMES, resolve, rng_for, weights

FAN_IN, FAN_OUT = 300, 200  # a 200 x 300 layer: 200 neurons with 300 inputs each


def layer(scheme, seed=0):
    rng = rng_for(seed)
    return [w for _ in range(FAN_OUT) for w in weights(scheme, FAN_IN, FAN_OUT, rng)]


@pytest.mark.parametrize(
    "scheme, expected_std",
    [
        ("xavier", math.sqrt(2 / (FAN_IN + FAN_OUT))),  # Xavier
        ("he", math.sqrt(2 / FAN_IN)),
        ("uniform", 0.2 / math.sqrt(12)),  # U(−0.1, 0.1): width 0.2, std 0.2/√12
    ],
)
def test_std_is_within_5_percent_of_the_formula_on_a_200x300_layer(scheme, expected_std):
    ws = layer(scheme)
    assert len(ws) == FAN_IN * FAN_OUT
    assert statistics.pstdev(ws) == pytest.approx(expected_std, rel=0.05)
    assert abs(statistics.fmean(ws)) < 0.05 * expected_std


def test_xavier_and_he_differ_by_their_fan_out_term():
    """He ignores fan_out; Xavier's std shrinks as fan_out grows."""
    rng = rng_for(1)
    narrow = statistics.pstdev(w for _ in range(50) for w in weights("xavier", 100, 1, rng))
    wide = statistics.pstdev(w for _ in range(50) for w in weights("xavier", 100, 900, rng))
    assert wide < 0.5 * narrow


def test_uniform_stays_within_minus_0_1_and_0_1():
    ws = layer("uniform")
    assert -0.1 <= min(ws) < -0.099 and 0.099 < max(ws) <= 0.1


def test_zeros_are_all_zero_floats():
    assert weights("zeros", 7, 3, rng_for(0)) == [0.0] * 7


@pytest.mark.parametrize("scheme", SCHEMES)
def test_one_neuron_gets_fan_in_floats(scheme):
    ws = weights(scheme, 5, 2, rng_for(0))
    assert len(ws) == 5 and all(type(w) is float for w in ws)


@pytest.mark.parametrize("scheme", ["uniform", "xavier", "he"])
def test_same_seed_reproduces_weights_and_different_seeds_do_not(scheme):
    assert layer(scheme, seed=4) == layer(scheme, seed=4)
    assert layer(scheme, seed=4) != layer(scheme, seed=5)


def test_successive_neurons_from_one_rng_differ():
    """One rng per layer must not give every neuron the same weights: identical neurons stay identical."""
    rng = rng_for(0)
    assert weights("he", 4, 2, rng) != weights("he", 4, 2, rng)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_global_random_state_is_untouched(scheme):
    state = random.getstate()
    weights(scheme, 10, 10, rng_for(3))
    rng_for(None)
    assert random.getstate() == state


def test_rng_for_none_is_fresh_and_seeded_is_deterministic():
    assert rng_for(None).random() != rng_for(None).random()
    assert rng_for(9).random() == rng_for(9).random() == random.Random(9).random()
    assert isinstance(rng_for(None), random.Random)


@pytest.mark.parametrize(
    "activation, expected",
    [
        ("relu", "he"),
        ("tanh", "xavier"),
        ("sigmoid", "xavier"),
        ("linear", "xavier"),
    ],
)
def test_auto_resolves_to_he_for_relu_and_xavier_otherwise(activation, expected):
    assert resolve("auto", activation) == expected


@pytest.mark.parametrize("scheme", SCHEMES)
def test_resolve_keeps_an_explicit_scheme(scheme):
    assert resolve(scheme, "relu") == scheme


def test_unknown_scheme_lists_the_valid_names():
    with pytest.raises(ValueError, match="'glorot'.*zeros, uniform, xavier, he, auto"):
        resolve("glorot", "tanh")
    with pytest.raises(ValueError, match="'glorot'.*zeros, uniform, xavier, he"):
        weights("glorot", 3, 3, rng_for(0))
    with pytest.raises(ValueError, match="resolve"):
        weights("auto", 3, 3, rng_for(0))


def test_bad_fans_and_rng_are_rejected():
    with pytest.raises(ValueError, match="fan_in must be >= 1, got 0"):
        weights("he", 0, 3, rng_for(0))
    with pytest.raises(ValueError, match="fan_out must be >= 1, got -2"):
        weights("xavier", 3, -2, rng_for(0))
    with pytest.raises(TypeError, match="fan_in must be an int"):
        weights("he", 3.0, 3, rng_for(0))
    with pytest.raises(TypeError, match=r"rng must be a random.Random.*int"):
        weights("he", 3, 3, 42)
