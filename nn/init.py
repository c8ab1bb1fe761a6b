"""Weight initialisations, one neuron's weights at a time.

Weights must not all start equal: with W = 0 every hidden unit computes the same function
and gets the same gradient, so they stay identical (the symmetry is never broken). Random
weights break the symmetry, so biases can and do start at 0.0. To keep each layer's
gain near 1 (so gradients neither vanish nor explode with depth), Var(w) ≈ 1/n:
Xavier for sigmoid/tanh, He for ReLU. Randomness comes only from the ``random.Random``
passed in, never the global ``random`` state.
"""

from __future__ import annotations

import math
import random

__all__ = ["SCHEMES", "resolve", "weights", "rng_for"]

SCHEMES = ("zeros", "uniform", "xavier", "he")


def resolve(scheme: str, activation: str) -> str:
    """The scheme to use: "auto" means "he" for "relu" and "xavier" otherwise."""
    if scheme == "auto":
        return "he" if activation == "relu" else "xavier"
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; valid names are {', '.join(SCHEMES + ('auto',))}")
    return scheme


def weights(scheme: str, fan_in: int, fan_out: int, rng: random.Random) -> list[float]:
    """fan_in weights for one neuron of a layer with fan_in inputs and fan_out neurons.

    zeros: 0 (shows the symmetry problem); uniform: w ~ U(−0.1, 0.1), Var(w) = 0.01/3;
    xavier: w ~ N(0, std = √(2 / (n_l + n_{l−1}))), Var(w) between 1/fan_in and 1/fan_out;
    he: w ~ N(0, std = √(2 / n_{l−1})), the 2 making up for ReLU zeroing half its inputs;
    n_{l−1} = fan_in and n_l = fan_out.
    """
    if scheme not in SCHEMES:
        hint = "; call resolve(scheme, activation) first" if scheme == "auto" else ""
        raise ValueError(f"unknown init scheme {scheme!r}; valid names are {', '.join(SCHEMES)}{hint}")
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if not isinstance(rng, random.Random):
        raise TypeError(f"rng must be a random.Random (see rng_for), got {type(rng).__name__}")
    if scheme == "zeros":
        return [0.0] * fan_in
    if scheme == "uniform":
        return [rng.uniform(-0.1, 0.1) for _ in range(fan_in)]
    std = math.sqrt(2.0 / (fan_in + fan_out)) if scheme == "xavier" else math.sqrt(2.0 / fan_in)
    return [rng.gauss(0.0, std) for _ in range(fan_in)]


def rng_for(seed=None) -> random.Random:
    """A private ``random.Random(seed)``; seed None gives a fresh, nondeterministic one."""
    return random.Random(seed)
