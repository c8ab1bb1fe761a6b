"""Optimisers: turn each parameter's grad into an update of its data, as torch.optim does.

`SGD` is gradient descent W := W − η·dW (η the learning rate), with optional momentum
and L2 weight decay; `Adam` rescales each step by running moments of the gradient. Call
``zero_grad()`` before each ``backward()`` (grads accumulate), then ``step()``.
"""

from __future__ import annotations

import math
import numbers

from autograd import Value

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Holds the parameters (a list of `Value` leaves) it updates."""

    def __init__(self, params, lr: float):
        if isinstance(params, Value) or not hasattr(params, "__iter__"):
            raise TypeError(
                f"params must be an iterable of Values (e.g. model.parameters()), got {type(params).__name__}"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty: nothing to optimise")
        first = {}
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__}")
            j = first.setdefault(p, i)
            if j != i:  # stepping it twice per step would be silently wrong (PyTorch warns, and will refuse)
                raise ValueError(
                    f"params[{i}] is params[{j}] again{_named(p)}: list each parameter once "
                    f"(a tied weight is one parameter; model.parameters() lists it once)"
                )
        self.lr = _nonnegative("lr", lr)

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def step_arrays(self, theta, grad) -> None:
        """The same step on NumPy arrays: ``theta`` (the parameters' numbers, in ``params`` order)
        is updated in place from ``grad``, bit for bit as `step` would update the Values. `fit`
        uses it to keep parameters in one array while it trains with compile="numpy"; the state
        (momentum, Adam's moments and step count) is one, whichever of the two steps ran."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr})"


class SGD(Optimizer):
    """Gradient descent: g = grad + weight_decay·p;  v = momentum·v + g;  p := p − lr·v.

    With momentum = 0 this is plain gradient descent W := W − η·dW; the velocity v starts at 0, so the
    first step is the plain one (as torch.optim.SGD).
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = _fraction("momentum", momentum)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)
        self._velocity = [0.0] * len(self.params)

    def step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0.0 and wd == 0.0:
            for p in self.params:
                p.data -= lr * p.grad
            return
        velocity = self._velocity = _as_list(self._velocity)
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data
            v = mu * velocity[i] + g
            velocity[i] = v
            p.data -= lr * v

    def step_arrays(self, theta, grad) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0.0 and wd == 0.0:
            theta -= lr * grad
            return
        self._velocity = v = mu * _as_array(self._velocity) + (grad + wd * theta)
        theta -= lr * v


class Adam(Optimizer):
    """Adam (Kingma & Ba): m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², p := p − lr·m̂/(√v̂ + eps),

    with the bias corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ) at step t = 1, 2, ...
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_fraction("betas[0]", beta1), _fraction("betas[1]", beta2))
        self.eps = _positive("eps", eps)  # eps = 0 divides 0 by 0 for a parameter whose grad is still 0
        self.t = 0
        self._m = [0.0] * len(self.params)
        self._v = [0.0] * len(self.params)

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        c1 = 1.0 - beta1**self.t
        c2 = 1.0 - beta2**self.t
        self._m, self._v = _as_list(self._m), _as_list(self._v)
        lr, eps, ms, vs = self.lr, self.eps, self._m, self._v
        for i, p in enumerate(self.params):
            g = p.grad
            m = ms[i] = beta1 * ms[i] + (1.0 - beta1) * g
            v = vs[i] = beta2 * vs[i] + (1.0 - beta2) * g * g
            p.data -= lr * (m / c1) / (math.sqrt(v / c2) + eps)

    def step_arrays(self, theta, grad) -> None:
        np = _numpy()
        self.t += 1
        beta1, beta2 = self.betas
        c1 = 1.0 - beta1**self.t
        c2 = 1.0 - beta2**self.t
        m = self._m = beta1 * _as_array(self._m) + (1.0 - beta1) * grad
        v = self._v = beta2 * _as_array(self._v) + (1.0 - beta2) * grad * grad
        theta -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def _numpy():
    from autograd.extras import require

    return require("numpy", "Optimizer.step_arrays")


def _as_array(state):
    """Optimiser state as an array (it is a list after `step`)."""
    return state if type(state) is not list else _numpy().array(state, dtype=float)


def _as_list(state) -> list:
    """Optimiser state as a list of floats (it is an array after `step_arrays`)."""
    return state if type(state) is list else state.tolist()


def _named(p) -> str:
    return f" ({p.label})" if p.label else ""


def _number(name: str, x) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    try:
        value = float(x)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {_shown(x)}")
    return value


def _shown(x) -> str:
    return "an integer too large for a float" if isinstance(x, numbers.Integral) else repr(x)


def _positive(name: str, x) -> float:
    x = _number(name, x)
    if not x > 0:
        raise ValueError(f"{name} must be > 0, got {x}")
    return x


def _nonnegative(name: str, x) -> float:
    x = _number(name, x)
    if x < 0:
        raise ValueError(f"{name} must be >= 0, got {x}")
    return x


def _fraction(name: str, x) -> float:
    x = _number(name, x)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {x}")
    return x
