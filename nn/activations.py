"""Activation functions g by name: a = g(z), one node on top of a neuron's pre-activation z.

"sigmoid" σ(z) = 1/(1 + e^{−z}), "tanh", "relu" max(z, 0) and "linear" g(z) = z, which adds
no node (a net of linear units is one affine map W̃x + b̃, however deep).
Each is a function on `Value`s; `register` adds more under a name of your choosing.
"""

from __future__ import annotations

from autograd import Value

__all__ = ["get", "register", "names", "linear"]


def linear(z):
    """g(z) = z: the identity, no node added."""
    return z


BUILTIN = {"sigmoid": Value.sigmoid, "tanh": Value.tanh, "relu": Value.relu, "linear": linear}
_REGISTRY = dict(BUILTIN)


def names() -> tuple[str, ...]:
    """Every activation name that `get` knows, built-in ones first."""
    return tuple(_REGISTRY)


def get(name: str):
    """The function registered as ``name``; ValueError listing the valid names otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ValueError(f"unknown activation {name!r}; valid names are {', '.join(_REGISTRY)}") from None


def register(name: str, fn) -> None:
    """Make ``fn`` (a function from a `Value` z to a `Value` a) usable as ``activation=name``.

    Re-registering one of your own names replaces it; the built-in names cannot be replaced.
    Initialisation "auto" treats a registered activation like tanh (Xavier).
    """
    if type(name) is not str or not name:
        raise TypeError(f"activation name must be a non-empty str, got {name!r}")
    if not callable(fn):
        raise TypeError(f"activation {name!r} must be callable, got {type(fn).__name__}")
    if name in BUILTIN:
        raise ValueError(f"{name!r} is a built-in activation and cannot be replaced; choose another name")
    _REGISTRY[name] = fn
