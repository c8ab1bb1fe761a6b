"""`fit`: the gradient-descent loop: forward the batch, J, backward, W := W − η·dW, repeat.

Full batch (batch_size=None, m = every example) or mini-batches of m examples
(m ∈ [1, #examples]), with a tqdm progress bar showing the running loss and accuracy.
"""

from __future__ import annotations

import math
import numbers

import autograd
from autograd import no_grad
from autograd.engine import gc_paused

from . import losses as _losses
from .init import rng_for
from .optim import Adam

__all__ = ["fit", "accuracy", "predict", "evaluate", "track", "readout", "loss_name", "SHADE_MEANING"]

# What `readout`'s shade means for each loss, for the legends of the pictures that colour by it.
SHADE_MEANING = {
    "bce": "P(class 1)",
    "bce_with_logits": "P(class 1) = σ(output)",
    "mse": "output, clipped to [0, 1]",
    "hinge": "hinge score s, clipped to [−1, 1]",
    "cross_entropy": "softmax probability of the predicted class",
}


_COMPILE_MODES = {False: None, "off": None, True: "python", "python": "python", "numpy": "numpy"}
# targets the compiled step takes as inputs of its one trace (class labels as numbers the graph reads):
# other losses' targets (bce's) are static, one trace per distinct target
_TRACED_TARGETS = ("mse", "hinge", "cross_entropy")


def fit(
    model,
    X,
    y,
    loss="auto",
    optimizer=None,
    epochs: int = 100,
    batch_size=None,
    progress: bool = True,
    seed=None,
    callback=None,
    compile=False,  # noqa: A002 - the option's natural name
):
    """Train ``model`` on (X, y) and return the history {"loss": [...], "accuracy": [...]}, one entry per epoch.

    loss: a name from `nn.losses.LOSSES`, a function ``loss(predictions, targets) -> Value``, or
    "auto": cross_entropy for several outputs, bce for a sigmoid output, bce_with_logits otherwise.
    For "hinge", 0/1 labels are mapped to −1/+1. optimizer: an `nn.optim` optimiser over the
    model's parameters; default ``Adam(model.parameters(), lr=0.05)``, which trains the small
    networks of `nn.datasets` in tens of epochs (pass ``SGD(...)`` for the plain step).
    batch_size: None for full batch, else mini-batches reshuffled every epoch by ``seed``.
    Each epoch's loss and accuracy are averaged over its batches, measured in the forward
    passes that trained it (before each step); accuracy is None where it has no meaning
    (a custom loss, or regression targets).
    callback: a function, or a list of functions, each called as ``callback(model, history)``
    after every epoch, once its loss and accuracy are in ``history`` (the parameters still hold
    the epoch's last gradients). A callback may append to keys of its own, which `fit` returns
    with the rest: `track` records a test set's loss and accuracy that way, `nn.movie.Movie`
    records frames.

    compile: False (or "off") builds the graph at every step. True (or "python") traces one
    example's forward pass and loss once with `autograd.compile` and runs the written-out code
    over each batch; "numpy" runs it over the batch with the model's layers as matrix products
    (Z = W A + b) and keeps the parameters in one array while it trains (written back to the model
    before every callback and when fit returns). The gradients are the same sums in the same order
    as eager backward ("numpy" adds a batch in the matrix product's order: about 1e-16 relative per
    step, which Adam can grow to 1e-10 over epochs). Needs a named loss (each one is a mean over
    examples); the targets of mse, hinge and cross_entropy (class labels) are inputs of the one
    trace, bce's get one trace each.
    """
    callbacks = _callbacks(callback)
    X, y = _examples(X, y, "X is empty: nothing to train on")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
    ):
        raise ValueError(f"batch_size must be None (full batch) or an int >= 1, got {batch_size!r}")
    if compile not in _COMPILE_MODES:
        raise ValueError(f"compile must be False, True, 'off', 'python' or 'numpy', got {compile!r}")
    name, loss_fn = _resolve_loss(model, loss)
    mode = _COMPILE_MODES[compile]
    if mode is not None and name is None:
        raise ValueError(
            "fit(compile=...) needs a named loss (a mean over examples), not a function; use compile=False"
        )
    _check_optimizer(optimizer)
    y = _targets_for(name, y)
    correct = _correct_fn(name, y)
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=0.05)
    step = None
    if mode is not None:
        _check_targets(model, X, loss_fn, name, y)
        step = _compiled_step(model, loss_fn, name, mode)
    rng = rng_for(seed)
    n = len(X)
    size = n if batch_size is None else min(batch_size, n)
    order = list(range(n))
    # the compiled step reads class labels as numbers of its trace (floats, as its inputs are)
    y_step = [float(t) for t in y] if step is not None and name == "cross_entropy" else y
    history = {"loss": [], "accuracy": []}
    if step is not None:
        history["eager_batches"] = []  # per epoch: batches the compiled step ran eagerly (see compile's stats)
    arrays = _ParamArrays.for_step(step, optimizer, mode)
    bar = _progress_bar(epochs, progress)
    try:
        for _ in bar:
            if size < n:
                rng.shuffle(order)
            total_loss, total_correct = 0.0, 0
            eager_before = 0 if step is None else step.stats["eager"]
            for start in range(0, n, size):
                idx = order[start : start + size]
                targets = [y[i] for i in idx]
                if step is None:
                    with gc_paused():  # a graph allocates no cycles: the collector's rescans of it are pure cost
                        preds = [model(X[i]) for i in idx]
                        J = loss_fn(preds, targets)
                        optimizer.zero_grad()
                        J.backward()
                    loss_value = J.data
                elif arrays is not None:  # the parameters stay in one array while the epoch runs
                    xs, ts = [X[i] for i in idx], [y_step[i] for i in idx]
                    (loss_value, preds), arrays.grad = step.batch_arrays(arrays.theta, xs, ts)
                    optimizer.step_arrays(arrays.theta, arrays.grad)
                else:
                    optimizer.zero_grad()
                    (loss_value, preds), _ = step([X[i] for i in idx], [y_step[i] for i in idx])
                if arrays is None:
                    optimizer.step()
                total_loss += loss_value * len(idx)
                if correct is not None:
                    total_correct += sum(correct(p, t) for p, t in zip(preds, targets))
            history["loss"].append(total_loss / n)
            history["accuracy"].append(None if correct is None else total_correct / n)
            if step is not None:
                history["eager_batches"].append(step.stats["eager"] - eager_before)
            if progress:
                postfix = {"loss": f"{history['loss'][-1]:.4f}"}
                if correct is not None:
                    postfix["acc"] = f"{history['accuracy'][-1]:.3f}"
                bar.set_postfix(postfix, refresh=False)
            if callbacks and arrays is not None:
                arrays.write_back()  # a callback sees the current weights and the last batch's gradients
            for call in callbacks:
                call(model, history)
            if step is not None and not _same_values(step.params, model.parameters()):
                step = _compiled_step(model, loss_fn, name, mode)  # a callback replaced a layer: trace again
                arrays = _ParamArrays.for_step(step, optimizer, mode)
            elif callbacks and arrays is not None:
                arrays.read()  # a callback may have changed a weight
    finally:
        if arrays is not None:
            arrays.write_back()  # also when a batch raised or the user interrupted
        if progress:
            bar.close()
    return history


class _ParamArrays:
    """The parameters' numbers (``theta``) and last gradients as arrays while `fit` trains with
    compile="numpy": the optimiser steps the array (``step_arrays``), and the model's `Value`s are
    written at the end of fit and before any callback, so whoever reads them sees current weights."""

    def __init__(self, params):
        import numpy

        self.params = params
        self.theta = numpy.array([p.data for p in params], dtype=float)
        self.grad = numpy.array([p.grad for p in params], dtype=float)

    @classmethod
    def for_step(cls, step, optimizer, mode):
        """Arrays for a NumPy step whose optimiser steps arrays over the very same parameters, else None."""
        if mode != "numpy" or step is None or not hasattr(optimizer, "step_arrays"):
            return None
        if not _same_values(optimizer.params, step.params):
            return None  # the optimiser covers other parameters, or another order: step the Values
        return cls(step.params)

    def read(self) -> None:
        self.theta[:] = [p.data for p in self.params]

    def write_back(self) -> None:
        for p, x, g in zip(self.params, self.theta.tolist(), self.grad.tolist()):
            p.data = x
            p.grad = g


def accuracy(model, X, y, loss="auto") -> float:
    """The fraction of examples the model classifies correctly, read as ``loss`` reads its outputs.

    One output: positive when p > 0.5 (bce, mse) or the logit/score > 0 (bce_with_logits,
    hinge); several outputs: the argmax is the class (cross_entropy).
    """
    X, y = _examples(X, y)
    name, _ = _resolve_loss(model, loss)
    correct = _correct_fn(name, y)
    if correct is None:
        raise ValueError(f"accuracy has no meaning for loss {loss!r} with these targets")
    return sum(correct(model(x), t) for x, t in zip(X, y)) / len(y)


def predict(model, X, loss="auto") -> list:
    """The class the model gives each example, read as ``loss`` reads its outputs (as `accuracy`
    and `readout` do): the argmax for several outputs, else 1 or 0 by the same threshold. No
    graph is kept."""
    name, _ = _resolve_loss(model, loss)
    if name is None:
        raise ValueError(f"predict has no reading of the outputs for loss {loss!r}")
    with no_grad():
        return [readout(name, model(x))[0] for x in X]


def evaluate(model, X, y, loss="auto") -> dict:
    """{"loss": J, "accuracy": fraction correct (None where it has no meaning)} of ``model`` on
    (X, y), with the loss `fit` trains on (hinge maps 0/1 labels to −1/+1 the same way); no
    graph is kept."""
    X, y = _examples(X, y)
    name, loss_fn = _resolve_loss(model, loss)
    y = _targets_for(name, y)
    correct = _correct_fn(name, y)
    with no_grad():
        preds = [model(x) for x in X]
        J = loss_fn(preds, y)
    right = None if correct is None else sum(correct(p, t) for p, t in zip(preds, y)) / len(y)
    return {"loss": _data(J), "accuracy": right}


def track(X, y, name: str = "test", loss="auto"):
    """A `fit` callback that appends the model's loss and accuracy on (X, y) after every epoch to
    ``history[name + "_loss"]`` and ``history[name + "_accuracy"]`` (measured at the epoch's
    end, where the training figures average the epoch's batches)."""
    X, y = list(X), list(y)

    def record(model, history) -> None:
        scores = evaluate(model, X, y, loss)
        history.setdefault(f"{name}_loss", []).append(scores["loss"])
        history.setdefault(f"{name}_accuracy", []).append(scores["accuracy"])

    return record


def loss_name(model, loss="auto") -> str | None:
    """The name of the loss `fit` uses for ``loss`` on ``model`` ("auto" resolved; None for a function)."""
    return _resolve_loss(model, loss)[0]


def readout(name: str, output) -> tuple[int, float]:
    """(predicted class, shade in [0, 1]) of one example's output, read as loss ``name`` reads it.

    One output: the shade is P(class 1) for "bce" (the output) and "bce_with_logits" (σ of
    it), the output clipped to [0, 1] for "mse", and (s + 1)/2 for "hinge" with the score s
    clipped to [−1, 1]; in every case class 1 exactly when the shade passes 0.5, the rule
    `accuracy` uses. Several outputs ("cross_entropy"): the argmax, shaded by its softmax
    probability. Pictures colour the plane by this (see `SHADE_MEANING`).
    """
    if isinstance(output, (list, tuple)):
        scores = [_data(o) for o in output]
        if len(scores) > 1:
            top = max(range(len(scores)), key=scores.__getitem__)
            total = sum(math.exp(z - scores[top]) for z in scores)
            return top, 1.0 / total
        (s,) = scores
    else:
        s = _data(output)
    if name == "bce_with_logits":
        shade = 1.0 / (1.0 + math.exp(-s)) if s >= 0 else math.exp(s) / (1.0 + math.exp(s))
    elif name == "hinge":
        shade = (min(max(s, -1.0), 1.0) + 1.0) / 2.0
    elif name in ("bce", "mse"):
        shade = min(max(s, 0.0), 1.0)
    else:
        raise ValueError(f"readout: no reading of one output for loss {name!r}")
    return int(s > (0.5 if name in ("bce", "mse") else 0.0)), shade


def _compiled_step(model, loss_fn, name, mode):
    """One example's loss (and output, for accuracy) compiled over a batch: a call adds the batch
    mean's gradient into each parameter's .grad, as backward() on the batch loss would."""

    def example_loss(x, target):
        out = model(x)
        return loss_fn([out], [target]), out

    static = () if name in _TRACED_TARGETS else (1,)
    return autograd.compile(example_loss, params=model.parameters(), has_aux=True, static_argnums=static, batch=mode)


def _same_values(a, b) -> bool:
    return len(a) == len(b) and all(p is q for p, q in zip(a, b))


def _check_targets(model, X, loss_fn, name, y) -> None:
    """A compiled step takes mse's, hinge's and cross-entropy's targets as inputs of its trace,
    which the loss cannot check there: check them once here, with the loss itself on zero scores,
    as eager fit would."""
    if name == "cross_entropy" and y:
        classes = _outputs(model) or len(model(X[0]))
        for i, t in enumerate(y):  # the labels, checked as cross_entropy checks them
            _losses._label(t, classes, i)
    elif name in _TRACED_TARGETS and y:
        loss_fn([[0.0] * len(t) if isinstance(t, (list, tuple)) else 0.0 for t in y], y)


def _check_optimizer(optimizer) -> None:
    """Refuse, before any work, what cannot step: a name such as "adam" included."""
    if optimizer is None or (
        callable(getattr(optimizer, "zero_grad", None)) and callable(getattr(optimizer, "step", None))
    ):
        return
    raise TypeError(
        f"optimizer must be an nn.optim optimiser over the model's parameters, e.g. "
        f"nn.optim.Adam(model.parameters(), lr=0.05), got {type(optimizer).__name__} {optimizer!r:.40}"
    )


def _callbacks(callback) -> list:
    if callback is None:
        return []
    calls = list(callback) if isinstance(callback, (list, tuple)) else [callback]
    for call in calls:
        if not callable(call):
            raise TypeError(f"callback must be a function or a list of functions, got {type(call).__name__}")
    return calls


def _targets_for(name, y) -> list:
    """The targets as the loss reads them: hinge takes ±1, so 0/1 labels are mapped."""
    if name == "hinge":
        return [2.0 * t - 1.0 if t in (0, 1) else t for t in y]
    return list(y)


def _examples(X, y, empty: str = "X is empty") -> tuple[list, list]:
    """X and y as lists of equal, non-zero length; a ValueError saying which rule they break."""
    X, y = list(X), list(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
    if not X:
        raise ValueError(empty)
    return X, y


def _resolve_loss(model, loss):
    if callable(loss):
        return None, loss
    if loss == "auto":
        last = model.layers[-1] if hasattr(model, "layers") else model
        if getattr(last, "nout", 1) > 1:
            loss = "cross_entropy"
        else:
            loss = "bce" if getattr(last, "activation", None) == "sigmoid" else "bce_with_logits"
    fn = _losses.get(loss)
    if loss == "cross_entropy" and _outputs(model) == 1:
        raise ValueError(_ONE_OUTPUT.format(model=repr(model)))
    return loss, fn


_ONE_OUTPUT = (
    "loss 'cross_entropy' reads one score per class, but {model} gives one output; for two classes "
    "use loss='bce_with_logits' with 0/1 labels, or give the last layer one neuron per class"
)


def _outputs(model):
    """How many outputs the model says it gives (an MLP or Layer knows), or None."""
    last = model.layers[-1] if hasattr(model, "layers") else model
    n = getattr(last, "nout", None)
    return n if isinstance(n, int) else None


def _data(v) -> float:
    return v.data if hasattr(v, "data") else float(v)


def _is_scalar_output(o) -> bool:
    return not isinstance(o, (list, tuple))


def _correct_fn(name, y):
    """How to tell a correct prediction for this loss, or None when accuracy has no meaning."""
    if name == "cross_entropy":
        return _argmax_is
    if name in ("bce", "bce_with_logits", "hinge", "mse") and all(_is_scalar_output(t) for t in y):
        if name == "mse" and not all(t in (0, 1) for t in y):
            return None
        threshold = 0.5 if name in ("bce", "mse") else 0.0
        label_threshold = 0.0 if name == "hinge" else 0.5  # hinge labels are ±1 (or 0/1)
        return lambda out, t: (_data(out) > threshold) == (t > label_threshold)
    return None


_FLOAT = {float}


def _argmax_is(out, t) -> bool:
    """Whether the largest of one example's class scores is at its label."""
    if not isinstance(out, (list, tuple)):  # a model that does not say how many outputs it gives
        raise ValueError(_ONE_OUTPUT.format(model="the model"))
    if set(map(type, out)) == _FLOAT:  # floats (a compiled step's outputs): the first largest, in C
        return out.index(max(out)) == int(t)
    scores = [_data(s) for s in out]
    return max(range(len(scores)), key=scores.__getitem__) == int(t)  # the first largest


def _progress_bar(epochs: int, progress: bool):
    if not progress:
        return range(epochs)
    from tqdm.auto import tqdm  # a widget in Jupyter (with ipywidgets), text in a terminal

    return tqdm(range(epochs), desc="train", unit="epoch", leave=True)
