"""nn.optim: each update against the numbers worked out by hand from its formula."""

import math

import pytest

from autograd import Value
from nn.optim import SGD, Adam


def param(data, grad):
    p = Value(data)
    p.grad = grad
    return p


def test_sgd_is_the_plain_gradient_descent_step():
    """W := W − η·dW, η the learning rate."""
    a, b = param(1.0, 0.5), param(-2.0, -4.0)
    SGD([a, b], lr=0.1).step()
    assert (a.data, b.data) == (pytest.approx(0.95), pytest.approx(-1.6))


def test_sgd_momentum_over_two_steps_by_hand():
    p = param(1.0, 0.5)
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()  # v = 0.5;               p = 1 − 0.1·0.5 = 0.95
    assert p.data == pytest.approx(0.95, rel=1e-15)
    p.grad = -0.2
    opt.step()  # v = 0.9·0.5 − 0.2 = 0.25; p = 0.95 − 0.1·0.25 = 0.925
    assert p.data == pytest.approx(0.925, rel=1e-15)


def test_sgd_weight_decay_adds_wd_times_p_to_the_gradient():
    p = param(2.0, 0.5)
    SGD([p], lr=0.1, weight_decay=0.01).step()  # g = 0.5 + 0.01·2 = 0.52; p = 2 − 0.052
    assert p.data == pytest.approx(1.948, rel=1e-15)


def test_sgd_momentum_and_weight_decay_together_by_hand():
    p = param(1.0, 1.0)
    opt = SGD([p], lr=0.5, momentum=0.5, weight_decay=0.1)
    opt.step()  # g = 1.1, v = 1.1, p = 1 − 0.55 = 0.45
    p.grad = 0.0
    opt.step()  # g = 0.045, v = 0.55 + 0.045 = 0.595, p = 0.45 − 0.2975 = 0.1525
    assert p.data == pytest.approx(0.1525, rel=1e-14)


def test_adam_two_steps_by_hand():
    p = param(1.0, 0.5)
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    opt.step()
    # m = 0.1·0.5 = 0.05, v = 0.001·0.25 = 0.00025; m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25
    p1 = 1.0 - 0.1 * 0.5 / (math.sqrt(0.25) + 1e-8)
    assert p.data == pytest.approx(p1, rel=1e-14)
    p.grad = -0.2
    opt.step()
    # m = 0.9·0.05 − 0.02 = 0.025, v = 0.999·0.00025 + 0.001·0.04 = 0.00028975
    # m̂ = 0.025 / (1 − 0.81) ,      v̂ = 0.00028975 / (1 − 0.998001)
    p2 = p1 - 0.1 * (0.025 / 0.19) / (math.sqrt(0.00028975 / 0.001999) + 1e-8)
    assert p.data == pytest.approx(p2, rel=1e-12)
    assert opt.t == 2


@pytest.mark.parametrize("grad", [1e-4, 1.0, 1e4, -3.0])
def test_adams_first_step_moves_about_lr_whatever_the_gradient_scale(grad):
    p = param(0.0, grad)
    Adam([p], lr=0.01).step()
    assert p.data == pytest.approx(-0.01 * math.copysign(1.0, grad), rel=1e-3)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_zero_grad_clears_every_grad_and_params_may_be_a_generator(make):
    ps = [param(1.0, 3.0), param(2.0, -1.0)]
    opt = make(p for p in ps)
    assert opt.params == ps
    opt.zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


def test_the_learning_rate_can_be_changed_between_steps():
    p = param(1.0, 1.0)
    opt = SGD([p], lr=0.1)
    opt.lr = 0.5
    opt.step()
    assert p.data == pytest.approx(0.5)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: SGD([], lr=0.1), ValueError, "empty"),
        (lambda: SGD([1.0], lr=0.1), TypeError, r"params\[0\] must be a Value"),
        (lambda: SGD(Value(1.0), lr=0.1), TypeError, "iterable of Values"),
        (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be >= 0"),
        (lambda: SGD([Value(1.0)], lr=math.nan), ValueError, "lr must be a finite number"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
        (lambda: SGD([Value(1.0)], lr=0.1, weight_decay=-1), ValueError, "weight_decay must be >= 0"),
        (lambda: Adam([Value(1.0)], betas=(0.9,)), TypeError, "pair"),
        (lambda: Adam([Value(1.0)], betas=(0.9, 1.5)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
    ],
)
def test_bad_optimiser_arguments_say_what_is_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()
