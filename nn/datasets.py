"""Small 2-D classification datasets, in pure Python, for training and plotting; and one real one.

Each generator returns (X, y) as lists: X is a list of [x1, x2] float lists (one row per
example), y holds 0.0/1.0 floats for the binary sets and int class ids for ``spiral``.
All randomness comes from ``random.Random(seed)``, never the global ``random`` state, so
the same seed gives the same data everywhere. Samples are shuffled (as scikit-learn does).
`digits` is real data: scikit-learn's 8x8 handwritten digits, read from the copy its package
ships (no download), returned as the same plain lists.
"""

from __future__ import annotations

import math
import numbers
import random

from autograd.extras import require

__all__ = ["moons", "circles", "xor", "spiral", "digits", "normalize", "train_test_split", "DATASETS"]


def _check_n(n) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")


def _check_noise(noise) -> None:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a number (a standard deviation), got {type(noise).__name__}")
    try:
        spread = float(noise)
    except OverflowError:  # an int beyond the largest float
        spread = math.inf
    if not 0 <= spread < math.inf:  # also rejects NaN: an infinite or NaN spread gives no usable points
        raise ValueError(f"noise must be >= 0 and finite (a standard deviation), got {spread}")


def _linspace(start: float, stop: float, num: int, endpoint: bool = True) -> list[float]:
    """num evenly spaced values from start to stop, like numpy.linspace."""
    if num <= 1:
        return [start] * num
    step = (stop - start) / (num - 1 if endpoint else num)
    return [start + k * step for k in range(num)]


def _finish(points, labels, noise: float, rng: random.Random):
    """Shuffle, then add N(0, noise²) to every coordinate."""
    order = list(range(len(points)))
    rng.shuffle(order)
    X = [[x1 + rng.gauss(0.0, noise), x2 + rng.gauss(0.0, noise)] for x1, x2 in (points[i] for i in order)]
    return X, [labels[i] for i in order]


def moons(n: int = 100, noise: float = 0.1, seed=0):
    """Two interleaving half circles (scikit-learn's make_moons geometry).

    Outer moon (label 0): (cos t, sin t); inner moon (label 1): (1 − cos t, 1/2 − sin t),
    t evenly spaced over [0, π]; n // 2 outer points, the rest inner. Noise-free points lie
    in [−1, 2] × [−0.5, 1].
    """
    _check_n(n)
    _check_noise(noise)
    n_out = n // 2
    n_in = n - n_out
    points = [(math.cos(t), math.sin(t)) for t in _linspace(0.0, math.pi, n_out)]
    points += [(1.0 - math.cos(t), 0.5 - math.sin(t)) for t in _linspace(0.0, math.pi, n_in)]
    return _finish(points, [0.0] * n_out + [1.0] * n_in, noise, random.Random(seed))


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed=0):
    """A circle of radius ``factor`` (label 1) inside one of radius 1 (label 0).

    scikit-learn's make_circles geometry: angles evenly spaced over [0, 2π) without the
    endpoint, n // 2 outer points and the rest inner; 0 <= factor < 1.
    """
    _check_n(n)
    _check_noise(noise)
    if not 0.0 <= factor < 1.0:
        raise ValueError(f"factor must be in [0, 1) (inner radius / outer radius), got {factor}")
    n_out = n // 2
    n_in = n - n_out
    points = [(math.cos(t), math.sin(t)) for t in _linspace(0.0, 2 * math.pi, n_out, endpoint=False)]
    points += [(factor * math.cos(t), factor * math.sin(t)) for t in _linspace(0.0, 2 * math.pi, n_in, endpoint=False)]
    return _finish(points, [0.0] * n_out + [1.0] * n_in, noise, random.Random(seed))


def xor(n: int = 100, noise: float = 0.1, seed=0):
    """The XOR problem: points around the four corners (±1, ±1), label 1 where the signs differ.

    Corners are used in turn, so both classes get n // 2 or n − n // 2 points. No single
    line separates the classes, which is why a hidden layer with a non-linear g is needed
    (a linear network collapses to one matrix).
    """
    _check_n(n)
    _check_noise(noise)
    corners = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)]
    points = [corners[i % 4] for i in range(n)]
    labels = [0.0 if x1 * x2 > 0 else 1.0 for x1, x2 in points]
    return _finish(points, labels, noise, random.Random(seed))


def spiral(n: int = 100, classes: int = 3, noise: float = 0.2, seed=0):
    """``classes`` interleaved spiral arms (the CS231n spiral), n points in total.

    Arm k: radius r evenly spaced over [0, 1], angle θ = 4k + 4r + N(0, noise²), point
    (r sin θ, r cos θ). Arms get n // classes points each, the first n % classes one more.
    Here noise perturbs the angle, not the coordinates.
    """
    _check_n(n)
    _check_noise(noise)
    if isinstance(classes, bool) or not isinstance(classes, int):
        raise TypeError(f"classes must be an int, got {type(classes).__name__}")
    if classes < 2:
        raise ValueError(f"classes must be >= 2, got {classes}")
    if n < classes:
        raise ValueError(f"n must be >= classes so every class has a point, got n={n}, classes={classes}")
    rng = random.Random(seed)
    X, y = [], []
    for k in range(classes):
        for r in _linspace(0.0, 1.0, n // classes + (k < n % classes)):
            theta = 4.0 * k + 4.0 * r + rng.gauss(0.0, noise)
            X.append([r * math.sin(theta), r * math.cos(theta)])
            y.append(k)
    order = list(range(n))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def digits():
    """scikit-learn's handwritten digits: 1,797 images of 8x8 pixels, labels 0-9.

    Returns (X, y): X holds one list of 64 floats per image (row by row, ink from 0 to 16),
    y the int label of each. Kept in scikit-learn's order; `train_test_split` shuffles. Needs
    scikit-learn (the ``data`` extra), which bundles the images, so nothing is downloaded.
    """
    images, labels = require("sklearn.datasets", "nn.datasets.digits").load_digits(return_X_y=True)
    return [[float(v) for v in row] for row in images.tolist()], [int(t) for t in labels.tolist()]


def normalize(X, mean=None, std=None):
    """Xn = (X − mean) / std per feature, so one learning rate suits every feature's weights.

    mean and std are computed from X (population std) unless both are given; pass the
    training set's mean and std to normalize test data the same way. A feature with
    std 0 is centred but left unscaled. Returns (Xn, mean, std).
    """
    X = [list(map(float, row)) for row in X]
    widths = {len(row) for row in X}
    if len(widths) > 1:
        raise ValueError(f"every row of X must have the same length, got lengths {sorted(widths)}")
    if (mean is None) != (std is None):
        raise ValueError("pass both mean and std (from the training data) or neither")
    if mean is None:
        if not X:
            raise ValueError("X is empty: cannot compute mean and std")
        d, m = len(X[0]), len(X)
        mean = [sum(row[j] for row in X) / m for j in range(d)]
        std = [math.sqrt(sum((row[j] - mean[j]) ** 2 for row in X) / m) for j in range(d)]
    else:
        mean, std = [float(v) for v in mean], [float(v) for v in std]
        if len(mean) != len(std):
            raise ValueError(f"mean has {len(mean)} entries but std has {len(std)}")
        if X and len(X[0]) != len(mean):
            raise ValueError(f"X has {len(X[0])} features but mean and std have {len(mean)}")
        if any(s < 0 for s in std):
            raise ValueError("std entries must be >= 0")
    Xn = [[(v - mu) / (s if s > 0 else 1.0) for v, mu, s in zip(row, mean, std)] for row in X]
    return Xn, mean, std


def train_test_split(X, y, test_size: float = 0.25, seed=0):
    """Shuffle with ``random.Random(seed)`` and split off ceil(test_size · n) test examples.

    Returns (X_train, X_test, y_train, y_test); together they are a partition of (X, y).
    """
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    n = len(X)
    if n == 0:
        raise ValueError("X and y are empty: nothing to split")
    n_test = math.ceil(test_size * n - 1e-9)  # the tolerance keeps ceil(0.3 · 10) at 3
    if n_test >= n:
        raise ValueError(f"test_size={test_size} of n={n} examples leaves no training examples")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    rows = [list(row) if isinstance(row, list) else row for row in X]  # no aliasing of X's rows
    return ([rows[i] for i in train], [rows[i] for i in test], [y[i] for i in train], [y[i] for i in test])


DATASETS = {"moons": moons, "circles": circles, "xor": xor, "spiral": spiral}
"""The generated sets, each called as ``make(n=..., noise=..., seed=...)``; `digits` is fixed data, not one of them."""
