"""chainrule's neural networks on `autograd.Value`: neurons, layers, MLPs, losses, optimisers, training.

    >>> import nn
    >>> model = nn.MLP(2, [16, 16, 1], seed=0)
    >>> model
    MLP(2 -> 16 relu -> 16 relu -> 1 linear)
    >>> X, y = nn.datasets.moons(100, noise=0.1)
    >>> history = nn.fit(model, X, y, loss="bce_with_logits", epochs=5, progress=False)

`nn.reference` (the closed-form vectorized backprop in NumPy, dW = (1/m) dZ A_prevᵀ and the
rest, the oracle every gradient is checked against) is imported on first use, so NumPy is
needed only there and in ``to_numpy``. `nn.pytorch` (``MLP.to_torch``/``MLP.from_torch``) imports
PyTorch only when called, `nn.plots` matplotlib only when it draws.
"""


def _check_autograd() -> None:
    """Stop with one clear line when the `autograd` that imports is not chainrule's alone (HIPS
    autograd shares its folder, replaced its __init__.py, or comes first on sys.path)."""
    import importlib
    import importlib.util
    import pathlib

    try:
        clash = importlib.import_module("autograd.clash")
    except ModuleNotFoundError as err:  # an `autograd` without our files hides chainrule's: run
        if err.name != "autograd.clash":  # the check from our folder's file, which needs no package
            raise
        path = pathlib.Path(__file__).resolve().parent.parent / "autograd" / "_clash.py"
        spec = importlib.util.spec_from_file_location("_chainrule_clash", path)
        clash = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(clash)
    clash.check()


_check_autograd()
# ruff: noqa: E402 - the imports below come after that check, on purpose

from . import activations, datasets, init, losses, movie, optim, plots, pytorch
from .module import MLP, Layer, Module, Neuron
from .serialize import load
from .train import accuracy, fit, predict

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "load",
    "fit",
    "accuracy",
    "predict",
    "activations",
    "init",
    "losses",
    "optim",
    "datasets",
    "movie",
    "plots",
    "pytorch",
    "reference",
]


def __getattr__(name):
    if name == "reference":  # needs NumPy, which the rest of nn does not
        import importlib

        return importlib.import_module(".reference", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
