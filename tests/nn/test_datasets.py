"""nn.datasets: seeded, balanced, correctly shaped toy data; normalize and train_test_split."""

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn.datasets import DATASETS, circles, moons, normalize, spiral, train_test_split, xor

BINARY = [moons, circles, xor]


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_same_seed_gives_the_same_data(name):
    assert DATASETS[name](n=50, seed=3) == DATASETS[name](n=50, seed=3)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_different_seeds_give_different_data(name):
    assert DATASETS[name](n=50, seed=3)[0] != DATASETS[name](n=50, seed=4)[0]


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_generators_leave_the_global_random_state_alone(name):
    state = random.getstate()
    DATASETS[name](n=20, seed=1)
    assert random.getstate() == state


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 201), seed=st.integers(0, 10**6), which=st.sampled_from(BINARY))
def test_binary_sets_are_balanced_lists_of_float_pairs(n, seed, which):
    X, y = which(n=n, seed=seed)
    assert len(X) == len(y) == n
    assert all(isinstance(row, list) and len(row) == 2 for row in X)
    assert all(isinstance(v, float) for row in X for v in row)
    assert all(label in (0.0, 1.0) and isinstance(label, float) for label in y)
    assert sorted([y.count(0.0), y.count(1.0)]) == [n // 2, n - n // 2]


@settings(max_examples=30, deadline=None)
@given(classes=st.integers(2, 6), extra=st.integers(0, 60), seed=st.integers(0, 10**6))
def test_spiral_has_int_labels_spread_evenly_over_the_classes(classes, extra, seed):
    n = classes + extra
    X, y = spiral(n=n, classes=classes, seed=seed)
    assert len(X) == len(y) == n and all(len(row) == 2 for row in X)
    assert all(type(label) is int for label in y)
    counts = [y.count(k) for k in range(classes)]
    assert sum(counts) == n and max(counts) - min(counts) <= 1


def test_spiral_points_lie_within_the_unit_disc():
    X, _ = spiral(n=300, classes=4, noise=1.0, seed=0)
    assert max(math.hypot(*row) for row in X) <= 1.0 + 1e-12


def test_noise_free_moons_follow_the_half_circles():
    X, y = moons(n=40, noise=0.0, seed=0)
    for (x1, x2), label in zip(X, y):
        centre = (0.0, 0.0) if label == 0.0 else (1.0, 0.5)
        assert math.hypot(x1 - centre[0], x2 - centre[1]) == pytest.approx(1.0)
        assert (x2 >= -1e-12) if label == 0.0 else (x2 <= 0.5 + 1e-12)


def test_moons_lie_in_the_expected_box():
    X, _ = moons(n=500, noise=0.1, seed=0)
    x1, x2 = np.array(X).T
    assert -1.5 < x1.min() < -0.8 and 1.8 < x1.max() < 2.5
    assert -1.0 < x2.min() < -0.3 and 0.8 < x2.max() < 1.5


def test_noise_free_circles_have_radius_1_and_factor():
    X, y = circles(n=41, noise=0.0, factor=0.3, seed=0)
    for row, label in zip(X, y):
        assert math.hypot(*row) == pytest.approx(1.0 if label == 0.0 else 0.3)
    assert y.count(0.0) == 20 and y.count(1.0) == 21  # the inner circle gets the odd point


def test_xor_labels_are_1_exactly_where_the_corner_signs_differ():
    X, y = xor(n=200, noise=0.1, seed=0)
    for (x1, x2), label in zip(X, y):
        assert label == (1.0 if x1 * x2 < 0 else 0.0)  # noise 0.1 never crosses an axis here


def test_noise_is_a_standard_deviation():
    X0, _ = circles(n=2000, noise=0.0, seed=5)
    X1, _ = circles(n=2000, noise=0.2, seed=5)
    residual = np.array(X1) - np.array(X0)  # same shuffle, so same base points
    assert np.std(residual) == pytest.approx(0.2, rel=0.05)


def test_generators_shuffle_the_classes():
    _, y = moons(n=100, seed=0)
    assert y[:50] != [0.0] * 50


# --- normalize ----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 100))
def test_normalize_gives_mean_0_and_std_1_per_feature(seed, n):
    X, _ = moons(n=n, noise=0.3, seed=seed)
    Xn, mean, std = normalize(X)
    arr = np.array(Xn)
    np.testing.assert_allclose(arr.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(arr.std(axis=0), 1.0, rtol=1e-9)
    np.testing.assert_allclose(mean, np.array(X).mean(axis=0))
    np.testing.assert_allclose(std, np.array(X).std(axis=0))


def test_normalize_reuses_the_training_mean_and_std_for_test_data():
    _, mean, std = normalize([[0.0, 10.0], [2.0, 30.0]])
    Xn, mean2, std2 = normalize([[1.0, 50.0]], mean, std)
    assert Xn == [[0.0, 3.0]] and (mean2, std2) == (mean, std)


def test_normalize_leaves_a_constant_feature_unscaled():
    Xn, mean, std = normalize([[5.0, 1.0], [5.0, 3.0]])
    assert std[0] == 0.0 and [row[0] for row in Xn] == [0.0, 0.0]
    assert all(math.isfinite(v) for row in Xn for v in row)


def test_normalize_does_not_modify_its_input():
    X = [[1.0, 2.0], [3.0, 5.0]]
    normalize(X)
    assert X == [[1.0, 2.0], [3.0, 5.0]]


def test_normalize_errors():
    with pytest.raises(ValueError, match="both mean and std"):
        normalize([[1.0]], mean=[0.0])
    with pytest.raises(ValueError, match="same length"):
        normalize([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match="empty"):
        normalize([])
    with pytest.raises(ValueError, match="2 features but mean and std have 3"):
        normalize([[1.0, 2.0]], [0.0] * 3, [1.0] * 3)
    with pytest.raises(ValueError, match="mean has 2 entries but std has 1"):
        normalize([[1.0, 2.0]], [0.0] * 2, [1.0])


# --- train_test_split ---------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 200), test_size=st.floats(0.01, 0.99), seed=st.integers(0, 10**6))
def test_split_is_a_partition_with_the_requested_sizes(n, test_size, seed):
    X = [[float(i), -float(i)] for i in range(n)]
    y = list(range(n))
    n_test = math.ceil(test_size * n - 1e-9)
    if n_test >= n:
        with pytest.raises(ValueError, match="no training examples"):
            train_test_split(X, y, test_size, seed)
        return
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size, seed)
    assert (len(X_test), len(y_test)) == (n_test, n_test)
    assert (len(X_train), len(y_train)) == (n - n_test, n - n_test)
    assert sorted(y_train + y_test) == y
    assert all(row == [float(i), -float(i)] for row, i in zip(X_train + X_test, y_train + y_test))


def test_split_sizes_for_the_default_quarter():
    X, y = moons(n=100)
    X_train, X_test, y_train, y_test = train_test_split(X, y)
    assert (len(X_train), len(X_test), len(y_train), len(y_test)) == (75, 25, 75, 25)
    assert len(train_test_split(list(range(10)), list(range(10)), 0.3)[1]) == 3


def test_split_is_seeded_and_copies_rows():
    X, y = xor(n=40)
    assert train_test_split(X, y, seed=2) == train_test_split(X, y, seed=2)
    assert train_test_split(X, y, seed=2) != train_test_split(X, y, seed=3)
    X_train = train_test_split(X, y)[0]
    X_train[0][0] = 1e9
    assert all(row[0] != 1e9 for row in X)


# --- bad arguments --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_n_below_1_is_rejected(name):
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        DATASETS[name](n=0)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_negative_noise_is_rejected(name):
    with pytest.raises(ValueError, match="noise must be >= 0"):
        DATASETS[name](n=10, noise=-0.1)


def test_non_integer_n_is_a_type_error():
    with pytest.raises(TypeError, match="n must be an int"):
        moons(n=10.0)


def test_spiral_needs_two_classes_and_a_point_per_class():
    with pytest.raises(ValueError, match="classes must be >= 2, got 1"):
        spiral(n=10, classes=1)
    with pytest.raises(ValueError, match="n must be >= classes"):
        spiral(n=2, classes=3)


@pytest.mark.parametrize("factor", [-0.1, 1.0, 2.0])
def test_circles_factor_must_be_in_0_1(factor):
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        circles(n=10, factor=factor)


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.5, 1.5, float("nan")])
def test_split_rejects_test_size_outside_0_1(test_size):
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\)"):
        train_test_split([[0.0]] * 4, [0.0] * 4, test_size)


def test_split_rejects_mismatched_lengths_and_empty_data():
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        train_test_split([[0.0]] * 3, [0.0] * 2)
    with pytest.raises(ValueError, match="empty"):
        train_test_split([], [])
